//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): the secret is `whsec_` + base64 of random
//! bytes; the signature header is `v1,` + base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`
//! keyed with the decoded secret. Randomness comes in as a parameter; no IO.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Why a secret or signature is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("a webhook secret is whsec_ followed by base64 of 24–64 bytes")]
    BadSecret,
}

/// A new secret from 24–64 random bytes.
pub fn secret_from(random: &[u8]) -> Result<String, WebhookError> {
    if !(24..=64).contains(&random.len()) {
        return Err(WebhookError::BadSecret);
    }
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(random)))
}

fn key_of(secret: &str) -> Result<Vec<u8>, WebhookError> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).ok_or(WebhookError::BadSecret)?;
    let key = STANDARD.decode(b64).map_err(|_| WebhookError::BadSecret)?;
    if !(24..=64).contains(&key.len()) {
        return Err(WebhookError::BadSecret);
    }
    Ok(key)
}

/// The `webhook-signature` header value for one message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, WebhookError> {
    let key = key_of(secret)?;
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&key).map_err(|_| WebhookError::BadSecret)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_secrets() {
        assert_eq!(secret_from(&[0u8; 10]), Err(WebhookError::BadSecret));
        assert_eq!(sign("nope", "m", 1, b"x"), Err(WebhookError::BadSecret));
        assert_eq!(sign("whsec_!!!", "m", 1, b"x"), Err(WebhookError::BadSecret));
        assert_eq!(sign("whsec_AAAA", "m", 1, b"x"), Err(WebhookError::BadSecret));
    }

    #[test]
    fn signature_changes_with_every_signed_part() {
        let s = secret_from(&[7u8; 32]).unwrap_or_default();
        let base = sign(&s, "msg_1", 1_700_000_000, b"{}").unwrap_or_default();
        assert!(base.starts_with("v1,"));
        assert_ne!(base, sign(&s, "msg_2", 1_700_000_000, b"{}").unwrap_or_default());
        assert_ne!(base, sign(&s, "msg_1", 1_700_000_001, b"{}").unwrap_or_default());
        assert_ne!(base, sign(&s, "msg_1", 1_700_000_000, b"{ }").unwrap_or_default());
    }
}
