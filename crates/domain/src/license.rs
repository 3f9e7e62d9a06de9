//! Electronic licence identifiers (GB/T 36904-2018): `1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>`,
//! where the check character is ISO/IEC 7064 MOD 37,36 over type ‖ issuer ‖ serial ‖ version without the dots.

use std::fmt;

use crate::ids::{IdError, Uscc};

/// The fixed arc of Chinese electronic licence identifiers.
pub const ARC: &str = "1.2.156.3005.2";

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// ISO/IEC 7064 MOD 37,36 (hybrid system, M = 36): the check character of a string of digits and capital letters.
pub fn mod_37_36(body: &str) -> Result<char, IdError> {
    const M: u32 = 36;
    let mut p = M;
    for (i, c) in body.chars().enumerate() {
        let v =
            ALPHABET.iter().position(|a| char::from(*a) == c).ok_or(IdError::Character { ch: c, pos: i + 1 })? as u32;
        p = (p + v) % M;
        if p == 0 {
            p = M;
        }
        p = (p * 2) % (M + 1);
    }
    let check = (M + 1 - p) % M;
    Ok(char::from(ALPHABET[check as usize]))
}

/// A licence identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LicenseIdentifier {
    /// The defining body's USCC + 3 digits.
    pub type_code: String,
    /// The issuer's USCC.
    pub issuer: String,
    /// The licence's serial within type and issuer.
    pub serial: String,
    /// Version, 3 digits (001 for the first; an amendment makes a new version).
    pub version: u16,
}

impl LicenseIdentifier {
    pub fn new(type_code: &str, issuer: &Uscc, serial: &str, version: u16) -> Result<LicenseIdentifier, IdError> {
        check_type_code(type_code)?;
        if serial.is_empty()
            || serial.len() > 30
            || !serial.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(IdError::Format("serial is 1–30 digits or capital letters"));
        }
        if version == 0 || version > 999 {
            return Err(IdError::Format("version is 001–999"));
        }
        Ok(LicenseIdentifier {
            type_code: type_code.to_string(),
            issuer: issuer.as_str().to_string(),
            serial: serial.to_string(),
            version,
        })
    }

    fn body(&self) -> String {
        format!("{}{}{}{:03}", self.type_code, self.issuer, self.serial, self.version)
    }

    pub fn check_char(&self) -> Result<char, IdError> {
        mod_37_36(&self.body())
    }

    /// Parse and check an identifier string.
    pub fn parse(s: &str) -> Result<LicenseIdentifier, IdError> {
        let s = s.trim();
        let rest = s
            .strip_prefix(ARC)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or(IdError::Format("a licence identifier starts with 1.2.156.3005.2."))?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [type_code, issuer, serial, version, check] = parts.as_slice() else {
            return Err(IdError::Format("a licence identifier has type, issuer, serial, version and check parts"));
        };
        let issuer = Uscc::parse(issuer)?;
        if version.len() != 3 || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Format("the version is 3 digits"));
        }
        let id = LicenseIdentifier::new(type_code, &issuer, serial, version.parse().unwrap_or(0))?;
        let expected = id.check_char()?;
        let got = check.chars().next().unwrap_or(' ');
        if check.len() != 1 || got != expected {
            return Err(IdError::CheckDigit { expected, got });
        }
        Ok(id)
    }
}

fn check_type_code(t: &str) -> Result<(), IdError> {
    if t.len() != 21 || !t.is_ascii() {
        return Err(IdError::Format("a licence type code is the defining body's USCC followed by 3 digits"));
    }
    Uscc::parse(&t[..18])?;
    if !t[18..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdError::Format("a licence type code ends with 3 digits"));
    }
    Ok(())
}

impl fmt::Display for LicenseIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let check = self.check_char().map_err(|_| fmt::Error)?;
        write!(f, "{ARC}.{}.{}.{}.{:03}.{check}", self.type_code, self.issuer, self.serial, self.version)
    }
}

/// Where a licence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    Valid,
    /// Replaced by an amendment (a new version).
    Superseded,
    Revoked,
    Cancelled,
}

impl LicenseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseStatus::Valid => "valid",
            LicenseStatus::Superseded => "superseded",
            LicenseStatus::Revoked => "revoked",
            LicenseStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<LicenseStatus> {
        [LicenseStatus::Valid, LicenseStatus::Superseded, LicenseStatus::Revoked, LicenseStatus::Cancelled]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// Whether a licence in this status may be amended, revoked or cancelled: only a valid one.
    pub fn check_change(self) -> Result<(), LicenseError> {
        if self == LicenseStatus::Valid {
            Ok(())
        } else {
            Err(LicenseError::NotValid(self))
        }
    }
}

impl fmt::Display for LicenseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a change of a licence was refused. Stable codes for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    #[error("the licence is {0}")]
    NotValid(LicenseStatus),
}

impl LicenseError {
    pub fn code(&self) -> &'static str {
        match self {
            LicenseError::NotValid(_) => "license_not_valid",
        }
    }
}

/// A licence as issued: everything its projection row holds but the holder's blind index (which depends on the
/// master key) and its status.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IssuedLicense {
    pub identifier: String,
    pub lineage: String,
    pub version: i64,
    pub number: String,
    pub license_type: String,
    pub holder_name: String,
    pub case_no: Option<String>,
    pub issued: String,
    pub valid_to: Option<String>,
    pub status_index: i64,
    pub body: serde_json::Value,
    pub signed_payload: String,
    pub key_id: String,
    pub signature: String,
    pub qr: String,
}

/// The events of a licence's stream (`license-{lineage}`): issue, amendment, status changes, and the holder's
/// consents (授权用证) with the fetches made under them. The stored `type` is the tag.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type")]
pub enum LicenseEvent {
    #[serde(rename = "license_issued")]
    Issued(IssuedLicense),
    /// A new version replaces `supersedes`.
    #[serde(rename = "license_amended")]
    Amended {
        #[serde(flatten)]
        license: IssuedLicense,
        supersedes: String,
        reason: String,
    },
    #[serde(rename = "license_revoked")]
    Revoked { identifier: String, reason: String },
    #[serde(rename = "license_cancelled")]
    Cancelled { identifier: String, reason: String },
    #[serde(rename = "license_consent_granted")]
    ConsentGranted { identifier: String, consent_id: String, department: String, purpose: String, expires_at_ms: i64 },
    #[serde(rename = "license_consent_revoked")]
    ConsentRevoked { identifier: String, consent_id: String },
    #[serde(rename = "license_accessed")]
    Accessed { identifier: String, consent_id: String, department: String, purpose: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_check_character() {
        let issuer = Uscc::parse("91110000600037341L").unwrap();
        let id = LicenseIdentifier::new("11100000000013338W032", &issuer, "0000001", 1).unwrap();
        let s = id.to_string();
        assert!(s.starts_with("1.2.156.3005.2.11100000000013338W032.91110000600037341L.0000001.001."), "{s}");
        assert_eq!(LicenseIdentifier::parse(&s), Ok(id.clone()));
        let wrong = format!("{}{}", &s[..s.len() - 1], if s.ends_with('0') { '1' } else { '0' });
        assert!(matches!(LicenseIdentifier::parse(&wrong), Err(IdError::CheckDigit { .. })));
        assert!(LicenseIdentifier::new("11100000000013338W03", &issuer, "1", 1).is_err());
        assert!(LicenseIdentifier::new("11100000000013338W032", &issuer, "a-1", 1).is_err());
    }

    #[test]
    fn only_a_valid_licence_changes() {
        assert_eq!(LicenseStatus::Valid.check_change(), Ok(()));
        for s in [LicenseStatus::Superseded, LicenseStatus::Revoked, LicenseStatus::Cancelled] {
            let e = s.check_change().unwrap_err();
            assert_eq!(e.code(), "license_not_valid");
            assert_eq!(e.to_string(), format!("the licence is {}", s.as_str()));
            assert_eq!(LicenseStatus::parse(s.as_str()), Some(s));
        }
    }
}

/// How long a licence of a type is valid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Validity {
    Period {
        #[serde(default)]
        years: u32,
        #[serde(default)]
        months: u32,
    },
    /// `"permanent"`.
    Word(String),
}

/// Where a licence field's value comes from; written in the catalog as `form.<key>`, `applicant.name`,
/// `applicant.id_number`, `case.decided_at`, `case.case_no`, `license.valid_from`, `license.valid_to`,
/// `license.number` or `text:<literal>` (and serialised back the same).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LicenseSource {
    /// A value of the issuing case's form.
    Form(String),
    ApplicantName,
    /// The applicant's 证件号码: stored sealed in the licence body, never a public field.
    ApplicantIdNumber,
    CaseNo,
    DecidedAt,
    ValidFrom,
    ValidTo,
    Number,
    /// 联合验收: each department's checklist results at the case's inspection (what each checked, passed or
    /// failed, by whom and when).
    InspectionChecklist,
    Text(String),
}

impl LicenseSource {
    pub fn parse(s: &str) -> Result<LicenseSource, String> {
        if let Some(key) = s.strip_prefix("form.") {
            return Ok(LicenseSource::Form(key.to_string()));
        }
        if let Some(lit) = s.strip_prefix("text:") {
            return Ok(LicenseSource::Text(lit.to_string()));
        }
        Ok(match s {
            "applicant.name" => LicenseSource::ApplicantName,
            crate::party::ID_NUMBER_FIELD => LicenseSource::ApplicantIdNumber,
            "case.case_no" => LicenseSource::CaseNo,
            "case.decided_at" => LicenseSource::DecidedAt,
            "license.valid_from" => LicenseSource::ValidFrom,
            "license.valid_to" => LicenseSource::ValidTo,
            "license.number" => LicenseSource::Number,
            "case.inspection_checklist" => LicenseSource::InspectionChecklist,
            other => return Err(format!("unknown licence field source {other:?}")),
        })
    }

    /// The form field this source reads, if it reads one.
    pub fn form_key(&self) -> Option<&str> {
        match self {
            LicenseSource::Form(k) => Some(k),
            _ => None,
        }
    }
}

impl TryFrom<String> for LicenseSource {
    type Error = String;
    fn try_from(s: String) -> Result<LicenseSource, String> {
        LicenseSource::parse(&s)
    }
}

impl From<LicenseSource> for String {
    fn from(s: LicenseSource) -> String {
        match s {
            LicenseSource::Form(k) => format!("form.{k}"),
            LicenseSource::Text(t) => format!("text:{t}"),
            LicenseSource::ApplicantName => "applicant.name".into(),
            LicenseSource::ApplicantIdNumber => crate::party::ID_NUMBER_FIELD.into(),
            LicenseSource::CaseNo => "case.case_no".into(),
            LicenseSource::InspectionChecklist => "case.inspection_checklist".into(),
            LicenseSource::DecidedAt => "case.decided_at".into(),
            LicenseSource::ValidFrom => "license.valid_from".into(),
            LicenseSource::ValidTo => "license.valid_to".into(),
            LicenseSource::Number => "license.number".into(),
        }
    }
}

/// One field a licence shows, and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseField {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_en: String,
    pub source: LicenseSource,
}

/// 证照类型: a licence type with its fields, validity and layout data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseType {
    /// The catalog's code (`food_business_license`).
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    /// GB/T 36904 type code: the defining body's USCC + 3 digits.
    pub type_code: String,
    #[serde(default = "either")]
    pub holder_kind: String,
    pub validity: Validity,
    pub fields: Vec<LicenseField>,
    #[serde(default)]
    pub public_fields: Vec<String>,
    #[serde(default)]
    pub number_prefix: Option<String>,
    /// Take the licence number from this source (e.g. `form.uscc` for business licences).
    #[serde(default)]
    pub number_from: Option<LicenseSource>,
    #[serde(default)]
    pub disclosure: bool,
    #[serde(default)]
    pub notes: String,
}

fn either() -> String {
    "either".into()
}

impl LicenseType {
    pub fn validate(&self) -> Result<(), String> {
        check_type_code(&self.type_code).map_err(|e| format!("licence type {}: type_code {e}", self.code))?;
        for p in &self.public_fields {
            let Some(f) = self.fields.iter().find(|f| &f.key == p) else {
                return Err(format!("licence type {}: public field {p} is not a field", self.code));
            };
            if f.source == LicenseSource::ApplicantIdNumber {
                return Err(format!("licence type {}: public field {p} shows the applicant's ID number", self.code));
            }
        }
        if let Validity::Word(w) = &self.validity {
            if w != "permanent" {
                return Err(format!(
                    "licence type {}: validity is {{ years = N }}, {{ months = N }} or \"permanent\"",
                    self.code
                ));
            }
        }
        Ok(())
    }

    /// The last day of validity for a licence valid from `from`, or None when permanent.
    pub fn valid_to(&self, from: time::Date) -> Option<time::Date> {
        match &self.validity {
            Validity::Word(_) => None,
            Validity::Period { years, months } => {
                let total = i64::from(*years) * 12 + i64::from(*months);
                if total == 0 {
                    return None;
                }
                let m0 = i64::from(from.year()) * 12 + i64::from(from.month() as u8) - 1 + total;
                let (y, m) = ((m0 / 12) as i32, (m0 % 12 + 1) as u8);
                let month = time::Month::try_from(m).ok()?;
                let day = from.day().min(month.length(y));
                time::Date::from_calendar_date(y, month, day).ok()?.previous_day()
            }
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LicenseTypesFile {
    license_type: Vec<LicenseType>,
}

/// Parse `catalog/license-types.toml`.
pub fn parse_license_types(text: &str) -> Result<Vec<LicenseType>, String> {
    let f: LicenseTypesFile = toml::from_str(text).map_err(|e| format!("license-types.toml: {e}"))?;
    for t in &f.license_type {
        t.validate()?;
    }
    Ok(f.license_type)
}
