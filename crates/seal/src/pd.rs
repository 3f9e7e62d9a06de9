//! Personal data at rest (resident ID numbers, phone numbers, addresses).
//!
//! Envelope encryption: each value is sealed with SM4-GCM under a *data key*; data keys are stored wrapped
//! (SM4-GCM) under a key derived from the *master key*, which comes from configuration and never enters the
//! database. Rotating the master key re-wraps the data keys; values written meanwhile keep decrypting. Lookups use a
//! blind index: HMAC-SM3 under a second key derived from the master key, so equal values can be found without
//! storing them in clear.
//!
//! Token format (a string, so it fits JSON and TEXT columns): `sm4gcm:v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`,
//! with the key id as associated data, so a token cannot be moved under another key.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sm3::Sm3;
use sm4::Sm4;

/// SM4 in GCM mode with a 96-bit nonce and a 128-bit tag.
type Sm4Gcm = AesGcm<Sm4, U12>;

/// The prefix of every sealed value: the format `oneseal_domain::personal_data::SEALED_PREFIX` recognises (a test
/// keeps them equal; the domain does not depend on this crate).
pub const PREFIX: &str = "sm4gcm:v1:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdError {
    #[error("the master key must be 64 hexadecimal characters (32 bytes)")]
    BadMasterKey,
    #[error("not a sealed value")]
    NotSealed,
    #[error("unknown data key {0}")]
    UnknownKey(String),
    #[error("the sealed value does not decrypt: wrong key or tampered data")]
    Decrypt,
}

impl PdError {
    pub fn code(&self) -> &'static str {
        match self {
            PdError::BadMasterKey => "pd_bad_master_key",
            PdError::NotSealed => "pd_not_sealed",
            PdError::UnknownKey(_) => "pd_unknown_key",
            PdError::Decrypt => "pd_decrypt",
        }
    }
}

fn hmac_sm3(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of every length, so construction cannot fail; the else branch is never taken.
    let Ok(mut m) = <Hmac<Sm3> as hmac::KeyInit>::new_from_slice(key) else {
        return [0; 32];
    };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// HMAC-SM3, exposed for interoperability tests against OpenSSL (`openssl dgst -sm3 -hmac`).
pub fn hmac_sm3_hex(key: &[u8], data: &[u8]) -> String {
    hex(&hmac_sm3(key, &[data]))
}

/// Raw SM4-GCM encryption (ciphertext ‖ 16-byte tag), exposed for interoperability tests against other
/// implementations (Python `cryptography` on OpenSSL).
pub fn sm4_gcm_encrypt(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, PdError> {
    let cipher = Sm4Gcm::new_from_slice(key).map_err(|_| PdError::Decrypt)?;
    cipher.encrypt(nonce.into(), Payload { msg: plain, aad }).map_err(|_| PdError::Decrypt)
}

/// Raw SM4-GCM decryption of ciphertext ‖ tag.
pub fn sm4_gcm_decrypt(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], ct: &[u8]) -> Result<Vec<u8>, PdError> {
    let cipher = Sm4Gcm::new_from_slice(key).map_err(|_| PdError::Decrypt)?;
    cipher.decrypt(nonce.into(), Payload { msg: ct, aad }).map_err(|_| PdError::Decrypt)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The master key from configuration. Debug output never shows it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_hex(s: &str) -> Result<MasterKey, PdError> {
        let s = s.trim();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PdError::BadMasterKey);
        }
        let mut k = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let h = std::str::from_utf8(chunk).map_err(|_| PdError::BadMasterKey)?;
            k[i] = u8::from_str_radix(h, 16).map_err(|_| PdError::BadMasterKey)?;
        }
        Ok(MasterKey(k))
    }

    pub fn from_bytes(b: [u8; 32]) -> MasterKey {
        MasterKey(b)
    }

    /// A short public fingerprint, to tell which master key wrapped a data key.
    pub fn fingerprint(&self) -> String {
        hex(&hmac_sm3(&self.0, &[b"oneseal master key fingerprint v1"])[..8])
    }

    fn wrap_key(&self) -> [u8; 16] {
        let h = hmac_sm3(&self.0, &[b"oneseal key wrap v1"]);
        let mut k = [0u8; 16];
        k.copy_from_slice(&h[..16]);
        k
    }

    fn index_key(&self) -> [u8; 32] {
        hmac_sm3(&self.0, &[b"oneseal blind index v1"])
    }

    /// Wrap a data key for storage.
    pub fn wrap(&self, key_id: &str, data_key: &[u8; 16], nonce: [u8; 12]) -> Result<String, PdError> {
        seal_raw(&self.wrap_key(), key_id, data_key, nonce)
    }

    /// Unwrap a stored data key.
    pub fn unwrap(&self, key_id: &str, wrapped: &str) -> Result<[u8; 16], PdError> {
        let (kid, body) = parse(wrapped)?;
        if kid != key_id {
            return Err(PdError::Decrypt);
        }
        let plain = open_raw(&self.wrap_key(), kid, body)?;
        let mut k = [0u8; 16];
        if plain.len() != 16 {
            return Err(PdError::Decrypt);
        }
        k.copy_from_slice(&plain);
        Ok(k)
    }
}

fn seal_raw(key: &[u8; 16], key_id: &str, plain: &[u8], nonce: [u8; 12]) -> Result<String, PdError> {
    let cipher = Sm4Gcm::new_from_slice(key).map_err(|_| PdError::Decrypt)?;
    let ct = cipher
        .encrypt((&nonce).into(), Payload { msg: plain, aad: key_id.as_bytes() })
        .map_err(|_| PdError::Decrypt)?;
    let mut out = Vec::with_capacity(12 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(format!("{PREFIX}{key_id}:{}", B64.encode(out)))
}

fn parse(token: &str) -> Result<(&str, &str), PdError> {
    let rest = token.strip_prefix(PREFIX).ok_or(PdError::NotSealed)?;
    rest.split_once(':').ok_or(PdError::NotSealed)
}

fn open_raw(key: &[u8; 16], key_id: &str, body: &str) -> Result<Vec<u8>, PdError> {
    let raw = B64.decode(body).map_err(|_| PdError::Decrypt)?;
    if raw.len() < 12 + 16 {
        return Err(PdError::Decrypt);
    }
    let (nonce, ct) = raw.split_at(12);
    let nonce: &[u8; 12] = nonce.try_into().map_err(|_| PdError::Decrypt)?;
    let cipher = Sm4Gcm::new_from_slice(key).map_err(|_| PdError::Decrypt)?;
    cipher.decrypt(nonce.into(), Payload { msg: ct, aad: key_id.as_bytes() }).map_err(|_| PdError::Decrypt)
}

/// Whether a string is a sealed value.
pub fn is_sealed(s: &str) -> bool {
    s.starts_with(PREFIX)
}

/// The unwrapped data keys and the blind-index key: what the application holds in memory. Debug never shows keys.
#[derive(Clone)]
pub struct Keyring {
    current: String,
    keys: BTreeMap<String, [u8; 16]>,
    index_key: [u8; 32],
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keyring(current {}, {} keys, <redacted>)", self.current, self.keys.len())
    }
}

impl Keyring {
    /// A keyring from unwrapped data keys; `current` seals new values.
    pub fn new(master: &MasterKey, keys: BTreeMap<String, [u8; 16]>, current: &str) -> Result<Keyring, PdError> {
        if !keys.contains_key(current) {
            return Err(PdError::UnknownKey(current.to_string()));
        }
        Ok(Keyring { current: current.to_string(), keys, index_key: master.index_key() })
    }

    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Seal a value under the current data key.
    pub fn seal(&self, plain: &str, nonce: [u8; 12]) -> Result<String, PdError> {
        let key = self.keys.get(&self.current).ok_or_else(|| PdError::UnknownKey(self.current.clone()))?;
        seal_raw(key, &self.current, plain.as_bytes(), nonce)
    }

    /// Open a sealed value (any data key of the ring).
    pub fn open(&self, token: &str) -> Result<String, PdError> {
        let (kid, body) = parse(token)?;
        let key = self.keys.get(kid).ok_or_else(|| PdError::UnknownKey(kid.to_string()))?;
        String::from_utf8(open_raw(key, kid, body)?).map_err(|_| PdError::Decrypt)
    }

    /// Seal bytes (an uploaded file) under the current data key.
    pub fn seal_bytes(&self, plain: &[u8], nonce: [u8; 12]) -> Result<String, PdError> {
        let key = self.keys.get(&self.current).ok_or_else(|| PdError::UnknownKey(self.current.clone()))?;
        seal_raw(key, &self.current, plain, nonce)
    }

    /// Open sealed bytes.
    pub fn open_bytes(&self, token: &str) -> Result<Vec<u8>, PdError> {
        let (kid, body) = parse(token)?;
        let key = self.keys.get(kid).ok_or_else(|| PdError::UnknownKey(kid.to_string()))?;
        open_raw(key, kid, body)
    }

    /// Seal one segment of a large file (a video) under the current data key: returns the key id (stored once in
    /// the file's header) and nonce ‖ ciphertext ‖ tag (28 bytes longer than the segment). `aad` binds the segment
    /// to its file and position, so segments cannot be moved, reordered or cut off unnoticed; the key id is bound
    /// too.
    pub fn seal_segment(&self, aad: &[u8], plain: &[u8], nonce: [u8; 12]) -> Result<(String, Vec<u8>), PdError> {
        let key = self.keys.get(&self.current).ok_or_else(|| PdError::UnknownKey(self.current.clone()))?;
        let cipher = Sm4Gcm::new_from_slice(key).map_err(|_| PdError::Decrypt)?;
        let aad = [self.current.as_bytes(), &[0], aad].concat();
        let ct = cipher.encrypt((&nonce).into(), Payload { msg: plain, aad: &aad }).map_err(|_| PdError::Decrypt)?;
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok((self.current.clone(), out))
    }

    /// Open a segment sealed by [`Keyring::seal_segment`] under the data key `key_id`.
    pub fn open_segment(&self, key_id: &str, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, PdError> {
        let key = self.keys.get(key_id).ok_or_else(|| PdError::UnknownKey(key_id.to_string()))?;
        if sealed.len() < 12 + 16 {
            return Err(PdError::Decrypt);
        }
        let (nonce, ct) = sealed.split_at(12);
        let nonce: &[u8; 12] = nonce.try_into().map_err(|_| PdError::Decrypt)?;
        let cipher = Sm4Gcm::new_from_slice(key).map_err(|_| PdError::Decrypt)?;
        let aad = [key_id.as_bytes(), &[0], aad].concat();
        cipher.decrypt(nonce.into(), Payload { msg: ct, aad: &aad }).map_err(|_| PdError::Decrypt)
    }

    /// The blind index of a value of a kind (`resident_id`, `phone`, …): HMAC-SM3 over kind ‖ 0 ‖ value.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        hex(&hmac_sm3(&self.index_key, &[kind.as_bytes(), &[0], value.trim().to_uppercase().as_bytes()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> (MasterKey, Keyring) {
        let m = MasterKey::from_hex(&"11".repeat(32)).unwrap();
        let keys = BTreeMap::from([("k1".to_string(), [7u8; 16]), ("k2".to_string(), [9u8; 16])]);
        let r = Keyring::new(&m, keys, "k2").unwrap();
        (m, r)
    }

    #[test]
    fn seal_open_and_tamper() {
        let (_, r) = ring();
        let t = r.seal("64010420050101001X", [1; 12]).unwrap();
        assert!(t.starts_with("sm4gcm:v1:k2:") && !t.contains("64010420050101001X"));
        assert_eq!(r.open(&t).unwrap(), "64010420050101001X");
        // Moving the token under another key id fails (the key id is associated data).
        let moved = t.replacen(":k2:", ":k1:", 1);
        assert_eq!(r.open(&moved), Err(PdError::Decrypt));
        let mut bytes = t.into_bytes();
        let n = bytes.len();
        bytes[n - 3] = if bytes[n - 3] == b'A' { b'B' } else { b'A' };
        assert_eq!(r.open(&String::from_utf8(bytes).unwrap()), Err(PdError::Decrypt));
        assert_eq!(r.open("13800000000"), Err(PdError::NotSealed));
        let b = r.seal_bytes(&[0, 255, 1, 2], [3; 12]).unwrap();
        assert_eq!(r.open_bytes(&b).unwrap(), vec![0, 255, 1, 2]);
    }

    #[test]
    fn segments_open_only_at_their_place() {
        let (_, r) = ring();
        let (kid, sealed) = r.seal_segment(b"vid_1/0/0", b"frame bytes", [5; 12]).unwrap();
        assert_eq!(kid, "k2");
        assert_eq!(sealed.len(), 12 + 11 + 16);
        assert_eq!(r.open_segment(&kid, b"vid_1/0/0", &sealed).unwrap(), b"frame bytes");
        assert_eq!(r.open_segment(&kid, b"vid_1/1/0", &sealed), Err(PdError::Decrypt), "moved to another place");
        assert_eq!(r.open_segment("k1", b"vid_1/0/0", &sealed), Err(PdError::Decrypt), "under another key id");
        let mut bad = sealed.clone();
        bad[14] ^= 1;
        assert_eq!(r.open_segment(&kid, b"vid_1/0/0", &bad), Err(PdError::Decrypt));
        assert_eq!(r.open_segment("k9", b"x", &sealed), Err(PdError::UnknownKey("k9".into())));
    }

    #[test]
    fn sealed_values_have_the_format_the_domain_recognises() {
        use oneseal_domain::personal_data::{Sealed, SEALED_PREFIX};
        assert_eq!(PREFIX, SEALED_PREFIX);
        let (_, r) = ring();
        for plain in ["64010420050101001X", "13800000000", ""] {
            let t = r.seal(plain, [4; 12]).unwrap();
            assert!(is_sealed(&t));
            assert_eq!(Sealed::parse(&t).map(|s| s.as_str().to_string()), Some(t.clone()));
        }
        assert_eq!(Sealed::parse("64010420050101001X"), None);
    }

    #[test]
    fn wrap_unwrap_and_blind_index() {
        let (m, r) = ring();
        let w = m.wrap("k3", &[5; 16], [2; 12]).unwrap();
        assert_eq!(m.unwrap("k3", &w).unwrap(), [5; 16]);
        let other = MasterKey::from_hex(&"22".repeat(32)).unwrap();
        assert_eq!(other.unwrap("k3", &w), Err(PdError::Decrypt));
        assert_eq!(r.blind_index("phone", "13800000000"), r.blind_index("phone", " 13800000000 "));
        assert_ne!(r.blind_index("phone", "13800000000"), r.blind_index("resident_id", "13800000000"));
        assert!(format!("{m:?} {r:?}").contains("redacted"));
        assert_eq!(MasterKey::from_hex("abc").unwrap_err(), PdError::BadMasterKey);
    }
}
