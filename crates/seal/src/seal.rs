//! The bureau's one seal (审批专用章): an SM2 key pair signing with SM3 and the distinguishing ID
//! `1234567812345678` passed explicitly (GM/T 0009; Debian's OpenSSL 3.0 uses an empty ID unless told). Keys are
//! PKCS#8 / SPKI PEM as OpenSSL writes them; signatures are DER `SEQUENCE { r, s }` as `openssl pkeyutl` writes
//! them. The key id is the first 8 bytes of SM3 over the uncompressed public point.

use std::fmt;

use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use sm2::{PublicKey, SecretKey};
use sm3::{Digest, Sm3};

/// The distinguishing ID of every OneSeal signature.
pub const DIST_ID: &str = "1234567812345678";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("not an SM2 private key (PKCS#8 PEM)")]
    BadPrivateKey,
    #[error("not an SM2 public key (SPKI PEM or SEC1 point)")]
    BadPublicKey,
    #[error("the random bytes do not make a valid key; draw again")]
    BadRandom,
    #[error("malformed signature")]
    BadSignature,
}

/// The seal's signing key. Debug output never shows it.
#[derive(Clone)]
pub struct SealKey {
    signing: SigningKey,
    public: PublicKey,
    key_id: String,
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealKey({}, <redacted>)", self.key_id)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The key id of a public key: SM3 over the uncompressed point, first 8 bytes, hex.
pub fn key_id(public: &PublicKey) -> String {
    let point = public.to_sec1_point(false);
    hex(&Sm3::digest(point.as_bytes())[..8])
}

impl SealKey {
    /// A key from 32 random bytes (the caller draws them; about one draw in 2^128 is out of range).
    pub fn from_random(bytes: [u8; 32]) -> Result<SealKey, SealError> {
        let sk = SecretKey::from_slice(&bytes).map_err(|_| SealError::BadRandom)?;
        Self::from_secret(&sk)
    }

    fn from_secret(sk: &SecretKey) -> Result<SealKey, SealError> {
        let signing = SigningKey::new(DIST_ID, sk).map_err(|_| SealError::BadPrivateKey)?;
        let public = sk.public_key();
        Ok(SealKey { signing, key_id: key_id(&public), public })
    }

    /// Import a PKCS#8 PEM private key (e.g. from `openssl genpkey -algorithm SM2`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<SealKey, SealError> {
        let sk = SecretKey::from_pkcs8_pem(pem).map_err(|_| SealError::BadPrivateKey)?;
        Self::from_secret(&sk)
    }

    /// The private key as PKCS#8 PEM (for sealing at rest or export to OpenSSL).
    pub fn to_pkcs8_pem(&self) -> Result<String, SealError> {
        let sk = SecretKey::from_slice(&self.signing.to_bytes()).map_err(|_| SealError::BadPrivateKey)?;
        sk.to_pkcs8_pem(LineEnding::LF).map(|z| z.to_string()).map_err(|_| SealError::BadPrivateKey)
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The public key as SPKI PEM (what `openssl pkey -pubout` writes).
    pub fn public_pem(&self) -> Result<String, SealError> {
        self.public_key().to_public_key_pem(LineEnding::LF).map_err(|_| SealError::BadPublicKey)
    }

    /// Sign a message: SM2 over SM3(Z ‖ M) with the distinguishing ID; DER-encoded.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: Signature = self.signing.sign(msg);
        der_encode(&sig.r_bytes(), &sig.s_bytes())
    }
}

impl SealKey {
    /// Sign a message with the raw 64-byte `r ‖ s` encoding (COSE uses it instead of DER).
    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        let sig: Signature = self.signing.sign(msg);
        sig.to_bytes().into()
    }
}

/// Verify a raw `r ‖ s` signature.
pub fn verify_raw(public: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    let Ok(vk) = VerifyingKey::new(DIST_ID, *public) else { return false };
    let Ok(sig) = Signature::from_slice(sig) else { return false };
    vk.verify(msg, &sig).is_ok()
}

/// Parse an SPKI PEM public key.
pub fn public_from_pem(pem: &str) -> Result<PublicKey, SealError> {
    PublicKey::from_public_key_pem(pem).map_err(|_| SealError::BadPublicKey)
}

/// Verify a DER signature of a message under a public key (with the distinguishing ID).
pub fn verify(public: &PublicKey, msg: &[u8], der: &[u8]) -> bool {
    let Ok(vk) = VerifyingKey::new(DIST_ID, *public) else { return false };
    let Some((r, s)) = der_decode(der) else { return false };
    let Ok(sig) = Signature::from_scalars(r, s) else { return false };
    vk.verify(msg, &sig).is_ok()
}

fn der_int(v: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = v.iter().copied().skip_while(|x| *x == 0).collect();
    if b.is_empty() {
        b.push(0);
    }
    if b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    let mut out = vec![0x02, b.len() as u8];
    out.extend(b);
    out
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` (both under 33 bytes, so short-form lengths).
pub fn der_encode(r: &[u8], s: &[u8]) -> Vec<u8> {
    let body = [der_int(r), der_int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

fn der_read_int(b: &[u8]) -> Option<([u8; 32], &[u8])> {
    if b.len() < 2 || b[0] != 0x02 {
        return None;
    }
    let len = usize::from(b[1]);
    if len == 0 || len > 33 || b.len() < 2 + len {
        return None;
    }
    let mut v = &b[2..2 + len];
    if v.len() == 33 {
        if v[0] != 0 {
            return None;
        }
        v = &v[1..];
    }
    let mut out = [0u8; 32];
    out[32 - v.len()..].copy_from_slice(v);
    Some((out, &b[2 + len..]))
}

/// Parse a DER SM2 signature into (r, s).
pub fn der_decode(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    if der.len() < 2 || der[0] != 0x30 || usize::from(der[1]) != der.len() - 2 {
        return None;
    }
    let (r, rest) = der_read_int(&der[2..])?;
    let (s, rest) = der_read_int(rest)?;
    rest.is_empty().then_some((r, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_tamper() {
        let k = SealKey::from_random([7u8; 32]).unwrap();
        let sig = k.sign(b"licence payload");
        assert!(verify(&k.public_key(), b"licence payload", &sig));
        assert!(!verify(&k.public_key(), b"licence payload!", &sig));
        let pem = k.to_pkcs8_pem().unwrap();
        let again = SealKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(again.key_id(), k.key_id());
        assert_eq!(k.key_id().len(), 16);
        assert!(!format!("{k:?}").contains("PRIVATE"));
        assert_eq!(der_decode(&der_encode(&[0x80; 32], &[1; 32])), Some(([0x80; 32], [1; 32])));
        assert_eq!(der_decode(b"\\x30\\x00"), None);
    }
}
