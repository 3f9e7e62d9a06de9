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
}
