//! TOTP (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1, 30-second steps, 6 digits): the second factor of staff accounts,
//! as every authenticator app speaks it. Time comes in as a parameter.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP: u64 = 30;
pub const DIGITS: u32 = 6;

/// HOTP value of a counter (RFC 4226 §5.3), `digits` long.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as hmac::KeyInit>::new_from_slice(secret) else {
        // HMAC takes keys of every length; never taken.
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The 6-digit code at a Unix time.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    format!("{:06}", hotp(secret, unix_secs / STEP, DIGITS))
}

/// Check a code at a Unix time, allowing one step of clock drift either way, and refusing a step at or before
/// `last_used_step` (no replay). Returns the step that matched.
pub fn verify(secret: &[u8], code: &str, unix_secs: u64, last_used_step: Option<u64>) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix_secs / STEP;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .filter(|s| last_used_step.is_none_or(|l| *s > l))
        .find(|s| constant_eq(format!("{:06}", hotp(secret, *s, DIGITS)).as_bytes(), code.as_bytes()))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps take secrets.
pub fn base32(data: &[u8]) -> String {
    let mut out = String::new();
    let mut buf: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(B32[((buf >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(B32[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decode RFC 4648 base32 (padding and case ignored).
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf: u32 = 0;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = B32.iter().position(|x| *x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push(((buf >> (bits - 8)) & 0xff) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The `otpauth://` URI an authenticator app scans.
pub fn uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        // Secret "12345678901234567890"; the RFC lists 8-digit values.
        let secret = b"12345678901234567890";
        let table = [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ];
        for (t, want) in table {
            assert_eq!(hotp(secret, t / STEP, 8), want, "T = {t}");
        }
        assert_eq!(code_at(secret, 59), "287082");
    }

    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        let want = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (c, w) in want.iter().enumerate() {
            assert_eq!(hotp(b"12345678901234567890", c as u64, 6), *w);
        }
    }

    #[test]
    fn verify_allows_one_step_of_drift_and_no_replay() {
        let s = b"12345678901234567890";
        let code = code_at(s, 1_000_000);
        assert_eq!(verify(s, &code, 1_000_000, None), Some(1_000_000 / 30));
        assert!(verify(s, &code, 1_000_000 + 30, None).is_some());
        assert!(verify(s, &code, 1_000_000 + 90, None).is_none());
        assert!(verify(s, &code, 1_000_000, Some(1_000_000 / 30)).is_none(), "a used code is refused");
        assert!(verify(s, "12345", 1_000_000, None).is_none());
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(base32(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(), b"12345678901234567890");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(from_base32("MY======").unwrap(), b"f");
    }
}
