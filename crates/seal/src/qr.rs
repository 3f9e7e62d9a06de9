//! The offline-verifiable licence QR, modelled on the EU Digital COVID Certificate: minimal CBOR claims in a
//! COSE_Sign1 (RFC 9052) signed by the seal, Base45 (RFC 9285), prefixed `OS1:` — alphanumeric, so it fits a QR
//! code in alphanumeric mode. COSE registers no SM2 algorithm: OneSeal uses the private-use value
//! [`ALG_SM2_SM3`] (-65537) for SM2 over SM3 with the distinguishing ID `1234567812345678`, with the signature as
//! the 64-byte `r ‖ s` like COSE's ECDSA. The key id (header label 4) is the seal key id's 8 bytes.
//! docs/qr-format.md describes the bytes precisely enough to verify with OpenSSL and a CBOR decoder.

use ciborium::value::{Integer, Value};

use crate::seal::{verify_raw, SealKey};

/// The prefix of the QR text.
pub const PREFIX: &str = "OS1:";
/// COSE algorithm value (private use) for SM2 with SM3.
pub const ALG_SM2_SM3: i64 = -65537;

/// The licence claims carried offline: identifier, type, holder display name, issuer, dates, number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// 1: GB/T 36904 identifier.
    pub identifier: String,
    /// 2: licence type name (e.g. 食品经营许可证).
    pub type_name: String,
    /// 3: holder display name (organisation name, or a person's name).
    pub holder: String,
    /// 4: issuer name.
    pub issuer: String,
    /// 5: issue date, ISO.
    pub issued: String,
    /// 6: valid until, ISO (absent: permanent).
    pub valid_to: Option<String>,
    /// 7: licence number.
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("not a OneSeal QR (it starts with {PREFIX})")]
    Prefix,
    #[error("the QR text is not Base45")]
    Base45,
    #[error("the QR content is not a COSE_Sign1 structure: {0}")]
    Cose(&'static str),
    #[error("unknown signing algorithm")]
    Algorithm,
}

fn int(i: i64) -> Value {
    Value::Integer(Integer::from(i))
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::into_writer(v, &mut out);
    out
}

fn claims_value(c: &Claims) -> Value {
    let mut m = vec![
        (int(1), Value::Text(c.identifier.clone())),
        (int(2), Value::Text(c.type_name.clone())),
        (int(3), Value::Text(c.holder.clone())),
        (int(4), Value::Text(c.issuer.clone())),
        (int(5), Value::Text(c.issued.clone())),
    ];
    if let Some(v) = &c.valid_to {
        m.push((int(6), Value::Text(v.clone())));
    }
    m.push((int(7), Value::Text(c.number.clone())));
    Value::Map(m)
}

fn protected_header() -> Vec<u8> {
    cbor(&Value::Map(vec![(int(1), int(ALG_SM2_SM3))]))
}

/// Sig_structure1 = ["Signature1", protected, external_aad = h'', payload].
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.to_vec()),
    ]))
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).filter_map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// Sign claims with the seal and encode the QR text.
pub fn encode(claims: &Claims, seal: &SealKey) -> String {
    let payload = cbor(&claims_value(claims));
    let protected = protected_header();
    let sig = seal.sign_raw(&sig_structure(&protected, &payload));
    let cose = Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![(int(4), Value::Bytes(unhex(seal.key_id())))]),
            Value::Bytes(payload),
            Value::Bytes(sig.to_vec()),
        ])),
    );
    format!("{PREFIX}{}", base45::encode(cbor(&cose)))
}

/// A decoded QR, before its signature is checked: the claims, the key id, and what was signed.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub claims: Claims,
    pub key_id: String,
    signed: Vec<u8>,
    signature: Vec<u8>,
}

impl Decoded {
    /// Check the signature with a public key (chosen by `key_id` from the published keys).
    pub fn verify(&self, public: &sm2::PublicKey) -> bool {
        verify_raw(public, &self.signed, &self.signature)
    }
}

fn text(m: &[(Value, Value)], k: i64) -> Option<String> {
    m.iter().find(|(key, _)| *key == int(k)).and_then(|(_, v)| v.as_text().map(str::to_string))
}

/// Decode QR text into claims and signature parts.
pub fn decode(qr: &str) -> Result<Decoded, QrError> {
    let b45 = qr.trim().strip_prefix(PREFIX).ok_or(QrError::Prefix)?;
    let raw = base45::decode(b45).map_err(|_| QrError::Base45)?;
    let v: Value = ciborium::from_reader(raw.as_slice()).map_err(|_| QrError::Cose("not CBOR"))?;
    let arr = match v {
        Value::Tag(18, inner) => match *inner {
            Value::Array(a) => a,
            _ => return Err(QrError::Cose("tag 18 without an array")),
        },
        Value::Array(a) => a,
        _ => return Err(QrError::Cose("not a COSE_Sign1 array")),
    };
    let [Value::Bytes(protected), Value::Map(unprotected), Value::Bytes(payload), Value::Bytes(signature)] =
        arr.as_slice()
    else {
        return Err(QrError::Cose("COSE_Sign1 is [protected, unprotected, payload, signature]"));
    };
    let ph: Value = ciborium::from_reader(protected.as_slice()).map_err(|_| QrError::Cose("protected header"))?;
    let alg = ph.as_map().and_then(|m| m.iter().find(|(k, _)| *k == int(1))).map(|(_, v)| v.clone());
    if alg != Some(int(ALG_SM2_SM3)) {
        return Err(QrError::Algorithm);
    }
    let kid = unprotected
        .iter()
        .find(|(k, _)| *k == int(4))
        .and_then(|(_, v)| v.as_bytes().cloned())
        .ok_or(QrError::Cose("no key id"))?;
    let cv: Value = ciborium::from_reader(payload.as_slice()).map_err(|_| QrError::Cose("payload"))?;
    let m = cv.as_map().ok_or(QrError::Cose("payload is not a map"))?;
    let need = |k| text(m, k).ok_or(QrError::Cose("a claim is missing"));
    let claims = Claims {
        identifier: need(1)?,
        type_name: need(2)?,
        holder: need(3)?,
        issuer: need(4)?,
        issued: need(5)?,
        valid_to: text(m, 6),
        number: need(7)?,
    };
    Ok(Decoded {
        claims,
        key_id: kid.iter().map(|b| format!("{b:02x}")).collect(),
        signed: sig_structure(protected, payload),
        signature: signature.clone(),
    })
}

/// The parts of a QR as hex, for third-party verifiers and the format document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Parts {
    pub cose_hex: String,
    pub protected_hex: String,
    pub key_id: String,
    pub payload_hex: String,
    pub sig_structure_hex: String,
    pub signature_raw_hex: String,
    pub signature_der_hex: String,
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decode a QR into its byte parts.
pub fn parts(qr: &str) -> Result<Parts, QrError> {
    let b45 = qr.trim().strip_prefix(PREFIX).ok_or(QrError::Prefix)?;
    let raw = base45::decode(b45).map_err(|_| QrError::Base45)?;
    let d = decode(qr)?;
    let v: Value = ciborium::from_reader(raw.as_slice()).map_err(|_| QrError::Cose("not CBOR"))?;
    let arr = match v {
        Value::Tag(18, inner) => match *inner {
            Value::Array(a) => a,
            _ => return Err(QrError::Cose("tag 18 without an array")),
        },
        Value::Array(a) => a,
        _ => return Err(QrError::Cose("not a COSE_Sign1 array")),
    };
    let (Some(Value::Bytes(protected)), Some(Value::Bytes(payload))) = (arr.first(), arr.get(2)) else {
        return Err(QrError::Cose("COSE_Sign1 is [protected, unprotected, payload, signature]"));
    };
    let (r, s) = d.signature.split_at(d.signature.len().min(32));
    Ok(Parts {
        cose_hex: hexs(&raw),
        protected_hex: hexs(protected),
        key_id: d.key_id.clone(),
        payload_hex: hexs(payload),
        sig_structure_hex: hexs(&d.signed),
        signature_raw_hex: hexs(&d.signature),
        signature_der_hex: hexs(&crate::seal::der_encode(r, s)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            identifier: "1.2.156.3005.2.11100000000013338W032.91110000600037341L.0000001.001.X".into(),
            type_name: "食品经营许可证".into(),
            holder: "银川塞上餐饮有限公司".into(),
            issuer: "银川市审批服务局".into(),
            issued: "2026-03-02".into(),
            valid_to: Some("2031-03-01".into()),
            number: "JY16401040000001".into(),
        }
    }

    #[test]
    fn round_trip_verify_and_tamper() {
        let seal = SealKey::from_random([9u8; 32]).unwrap();
        let qr = encode(&claims(), &seal);
        assert!(
            qr.starts_with("OS1:") && qr.bytes().all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b)),
            "{qr}"
        );
        let d = decode(&qr).unwrap();
        assert_eq!(d.claims, claims());
        assert_eq!(d.key_id, seal.key_id());
        assert!(d.verify(&seal.public_key()));
        let other = SealKey::from_random([8u8; 32]).unwrap();
        assert!(!d.verify(&other.public_key()));
        // Change one claim: re-encode the payload with the old signature; it must fail.
        let mut c = claims();
        c.holder = "别的公司".into();
        let forged = encode(&c, &other);
        let fd = decode(&forged).unwrap();
        assert!(!fd.verify(&seal.public_key()));
        assert_eq!(decode("HC1:xyz").unwrap_err(), QrError::Prefix);
        assert_eq!(decode("OS1:!!a").unwrap_err(), QrError::Base45);
    }
}
