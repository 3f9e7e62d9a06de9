//! Checking a licence: from its sealed QR text, its identifier or its printed number, or from its PDF; what the public may see of it (双公示).

use super::*;

pub(super) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// What anyone may see of a licence (双公示): an organisation's licence as signed; a natural person's licence
/// with the name masked and the licence's own fields (address, practice details, …) withheld — looking a licence
/// up by its identifier must not tell strangers who holds it or where they live.
pub fn disclosed(public: &Value) -> Value {
    if public["holder_code_type"] == "001" {
        return public.clone();
    }
    let mut v = public.clone();
    if let Some(h) = v["holder"].as_str() {
        v["holder"] = json!(crate::pd::mask_name(h));
    }
    v["fields"] = json!({});
    v["personal_details_withheld"] = json!(true);
    v
}

/// Whether a licence's public record is a natural person's.
pub fn held_by_person(public: &Value) -> bool {
    public["holder_code_type"] != "001"
}

/// The sealed QR text a licence PDF made by OneSeal carries (its Info dictionary holds the same text as the
/// printed QR code).
pub fn qr_text_of_pdf(pdf: &[u8]) -> Result<String, AppError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(AppError::invalid("not_a_pdf", "the file is not a PDF"));
    }
    let Some(text) = oneseal_pdf::info_entry(pdf, oneseal_pdf::license::QR_INFO_KEY) else {
        return Err(AppError::invalid(
            "pdf_without_license",
            "the PDF carries no OneSeal licence payload: upload the PDF downloaded from OneSeal, or scan its QR code",
        ));
    };
    if !text.starts_with(qr::PREFIX) || text.len() > 4000 {
        return Err(AppError::invalid("pdf_without_license", "the PDF's licence payload is malformed"));
    }
    Ok(text)
}

impl App {
    /// Verify a licence from its QR text (signature, then status), its identifier (status), or the licence
    /// number printed on it (the current version with that number, then as by identifier).
    pub async fn verify_license(&self, input: &str) -> Result<Verification, AppError> {
        let input = input.trim();
        // Whoever holds the sealed QR text holds what it says; a bare identifier gets the public disclosure only.
        let from_qr = input.starts_with(qr::PREFIX);
        let identifier = if from_qr {
            let Ok(d) = qr::decode(input) else {
                return Ok(Verification {
                    status: "bad_signature",
                    identifier: None,
                    public: None,
                    superseded_by: None,
                });
            };
            let keys = self.published_keys().await?;
            let ok = keys
                .iter()
                .find(|k| k.key_id == d.key_id)
                .and_then(|k| public_from_pem(&k.public_pem).ok())
                .is_some_and(|p| d.verify(&p));
            if !ok {
                return Ok(Verification {
                    status: "bad_signature",
                    identifier: Some(d.claims.identifier),
                    public: None,
                    superseded_by: None,
                });
            }
            d.claims.identifier
        } else if LicenseIdentifier::parse(input).is_ok() {
            input.to_string()
        } else if Self::looks_like_license_number(input) {
            // The number printed on the licence (letters as printed, in capitals): its newest version that is not
            // superseded.
            let number = input.to_string();
            let rows = self
                .store
                .read(move |db| {
                    let rows = db.licenses_by_number(&number)?;
                    let upper = number.to_uppercase();
                    if rows.is_empty() && upper != number {
                        return db.licenses_by_number(&upper).map_err(AppError::from);
                    }
                    Ok(rows)
                })
                .await?;
            let current = rows
                .into_iter()
                .filter(|r| r.status != "superseded")
                .max_by(|a, b| (a.issued.as_str(), a.version).cmp(&(b.issued.as_str(), b.version)));
            match current {
                Some(row) => row.identifier,
                None => {
                    return Ok(Verification { status: "unknown", identifier: None, public: None, superseded_by: None })
                }
            }
        } else {
            return Err(AppError::invalid(
                "invalid_license_identifier",
                "give the QR text (OS1:…), a licence identifier (1.2.156.3005.2.…) with a valid check character, \
                 or the licence number printed on the licence",
            ));
        };
        let id = identifier.clone();
        let row = self.store.read(move |db| db.license(&id).map_err(AppError::from)).await?;
        let Some(row) = row else {
            return Ok(Verification {
                status: "unknown",
                identifier: Some(identifier),
                public: None,
                superseded_by: None,
            });
        };
        // The stored signature must still verify over the stored payload.
        let sig = hex_decode(&row.signature).unwrap_or_default();
        if !self.verify_seal(&row.key_id, row.signed_payload.as_bytes(), &sig).await? {
            return Ok(Verification {
                status: "bad_signature",
                identifier: Some(identifier),
                public: None,
                superseded_by: None,
            });
        }
        let today = format_date(local_date(self.now()));
        let status = match row.status.as_str() {
            "revoked" => "revoked",
            "cancelled" => "cancelled",
            "superseded" => "amended",
            _ if row.valid_to.as_deref().is_some_and(|v| v < today.as_str()) => "expired",
            _ => "valid",
        };
        let superseded_by = if status == "amended" { row.reason.clone() } else { None };
        let public: Value = serde_json::from_str(&row.signed_payload).unwrap_or_default();
        let public = if from_qr { public } else { disclosed(&public) };
        Ok(Verification { status, identifier: Some(identifier), public: Some(public), superseded_by })
    }

    /// Whether verification input may be a licence number as printed (letters, digits, Chinese characters, e.g.
    /// JY6401000000001, 宁交运管许可银字640100000001 or a USCC): 4 to 64 characters with a digit and no spaces or
    /// punctuation other than a few that printed numbers use (never the dots of an identifier).
    pub(super) fn looks_like_license_number(input: &str) -> bool {
        let n = input.chars().count();
        (4..=64).contains(&n)
            && input.chars().any(|c| c.is_ascii_digit())
            && input.chars().all(|c| c.is_alphanumeric() || "-（）()〔〕[]【】第号".contains(c))
    }

    /// Verify a printed licence from its PDF: the sealed QR payload the PDF carries (the same text as its QR
    /// code), then the status. The answer shows the signed public fields to compare with the paper.
    pub async fn verify_license_pdf(&self, pdf: &[u8]) -> Result<Verification, AppError> {
        let text = qr_text_of_pdf(pdf)?;
        self.verify_license(&text).await
    }
}
