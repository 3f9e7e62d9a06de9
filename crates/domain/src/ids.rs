//! Identifiers as newtypes, each parsed once at the edge: USCC (GB 32100), resident ID (GB 11643), item codes,
//! case numbers, department ids.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Why an identifier was refused, precise enough to show a person what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be {expected} characters, got {got}")]
    Length { expected: usize, got: usize },
    #[error("character {ch:?} at position {pos} is not allowed")]
    Character { ch: char, pos: usize },
    #[error("check digit: expected {expected}, got {got}")]
    CheckDigit { expected: char, got: char },
    #[error("birth date {0} is not a real date")]
    BirthDate(String),
    #[error("{0}")]
    Format(&'static str),
}

impl IdError {
    /// A stable short code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            IdError::Length { .. } => "length",
            IdError::Character { .. } => "character",
            IdError::CheckDigit { .. } => "check_digit",
            IdError::BirthDate(_) => "birth_date",
            IdError::Format(_) => "format",
        }
    }
}

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// 统一社会信用代码 (GB 32100-2015).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Uscc(String);

impl Uscc {
    /// The check character for a 17-character body.
    pub fn check_char(body: &str) -> Result<char, IdError> {
        let chars: Vec<char> = body.chars().collect();
        if chars.len() != 17 {
            return Err(IdError::Length { expected: 17, got: chars.len() });
        }
        let mut sum = 0u32;
        for (i, ch) in chars.iter().enumerate() {
            let v = USCC_ALPHABET
                .iter()
                .position(|&a| a as char == *ch)
                .ok_or(IdError::Character { ch: *ch, pos: i + 1 })?;
            sum += v as u32 * USCC_WEIGHTS[i];
        }
        let idx = ((31 - sum % 31) % 31) as usize;
        Ok(USCC_ALPHABET[idx] as char)
    }

    pub fn parse(s: &str) -> Result<Uscc, IdError> {
        let s = s.trim();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(IdError::Length { expected: 18, got: chars.len() });
        }
        let body: String = chars[..17].iter().collect();
        let expected = Self::check_char(&body)?;
        let got = chars[17];
        if !USCC_ALPHABET.contains(&(got as u32 as u8)) || !got.is_ascii() {
            return Err(IdError::Character { ch: got, pos: 18 });
        }
        if expected != got {
            return Err(IdError::CheckDigit { expected, got });
        }
        Ok(Uscc(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const RIC_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// 居民身份证号码 (GB 11643-1999). Debug output is masked: the number is personal data.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ResidentId(String);

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

impl ResidentId {
    /// The check character for a 17-digit body.
    pub fn check_char(body: &str) -> Result<char, IdError> {
        let chars: Vec<char> = body.chars().collect();
        if chars.len() != 17 {
            return Err(IdError::Length { expected: 17, got: chars.len() });
        }
        let mut sum = 0u32;
        for (i, ch) in chars.iter().enumerate() {
            let d = ch.to_digit(10).ok_or(IdError::Character { ch: *ch, pos: i + 1 })?;
            sum += d * RIC_WEIGHTS[i];
        }
        let c = (12 - sum % 11) % 11;
        Ok(if c == 10 { 'X' } else { char::from_digit(c, 10).unwrap_or('0') })
    }

    pub fn parse(s: &str) -> Result<ResidentId, IdError> {
        let s = s.trim().to_ascii_uppercase();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(IdError::Length { expected: 18, got: chars.len() });
        }
        let body: String = chars[..17].iter().collect();
        let expected = Self::check_char(&body)?;
        let birth = &body[6..14];
        let (y, m, d) = (
            birth[0..4].parse::<i32>().unwrap_or(0),
            birth[4..6].parse::<u8>().unwrap_or(0),
            birth[6..8].parse::<u8>().unwrap_or(0),
        );
        let month = time::Month::try_from(m).map_err(|_| IdError::BirthDate(birth.to_string()))?;
        time::Date::from_calendar_date(y, month, d).map_err(|_| IdError::BirthDate(birth.to_string()))?;
        if y < 1900 {
            return Err(IdError::BirthDate(birth.to_string()));
        }
        if chars[17] != expected {
            return Err(IdError::CheckDigit { expected, got: chars[17] });
        }
        Ok(ResidentId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date the number carries (positions 7–14), checked when it was parsed.
    pub fn birth_date(&self) -> Option<time::Date> {
        let b = self.0.get(6..14)?;
        let month = time::Month::try_from(b.get(4..6)?.parse::<u8>().ok()?).ok()?;
        time::Date::from_calendar_date(b.get(0..4)?.parse().ok()?, month, b.get(6..8)?.parse().ok()?).ok()
    }

    /// 640104********1234: region kept, birth date and sequence hidden.
    pub fn masked(&self) -> String {
        let head: String = self.0.chars().take(6).collect();
        let tail: String = self.0.chars().skip(14).collect();
        format!("{head}********{tail}")
    }
}

macro_rules! deserialize_via_parse {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl std::str::FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                <$t>::parse(s)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
deserialize_via_parse!(Uscc);
deserialize_via_parse!(ResidentId);
deserialize_via_parse!(ItemCode);
deserialize_via_parse!(DepartmentId);
deserialize_via_parse!(CaseNo);
deserialize_via_parse!(TicketNo);
deserialize_via_parse!(Username);

/// 实施编码: the implementing body's USCC followed by 13 letters or digits (31 characters in all).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ItemCode(String);

impl ItemCode {
    pub fn parse(s: &str) -> Result<ItemCode, IdError> {
        let s = s.trim();
        let n = s.chars().count();
        if n != 31 {
            return Err(IdError::Length { expected: 31, got: n });
        }
        if let Some((pos, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_alphanumeric()) {
            return Err(IdError::Character { ch, pos: pos + 1 });
        }
        // All ASCII from here on, so byte slicing is character slicing.
        Uscc::parse(&s[..18])?;
        Ok(ItemCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A department or bureau section id, a short lowercase slug such as `market` or `bureau-general`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct DepartmentId(String);

impl DepartmentId {
    pub fn parse(s: &str) -> Result<DepartmentId, IdError> {
        if s.is_empty() || s.len() > 40 {
            return Err(IdError::Format("department id must be 1–40 characters"));
        }
        if let Some((pos, ch)) =
            s.chars().enumerate().find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(IdError::Character { ch, pos: pos + 1 });
        }
        Ok(DepartmentId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 办件编号: `YC` + acceptance-day date + 7-digit daily sequence, e.g. `YC202609260000042`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CaseNo(String);

impl CaseNo {
    pub fn new(date: time::Date, seq: u64) -> CaseNo {
        CaseNo(format!("YC{:04}{:02}{:02}{:07}", date.year(), date.month() as u8, date.day(), seq))
    }

    pub fn parse(s: &str) -> Result<CaseNo, IdError> {
        let s = s.trim();
        if s.len() != 17 || !s.starts_with("YC") || !s[2..].bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Format("case number is YC followed by 15 digits"));
        }
        Ok(CaseNo(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 12345 工单编号: `RX` + the receiving day (`YYYYMMDD`, a real date) + the day's sequence, zero-padded to at least
/// 5 digits (more once a day passes 99,999 tickets), e.g. `RX2026030200001`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TicketNo(String);

impl TicketNo {
    pub fn new(date: time::Date, seq: u64) -> TicketNo {
        TicketNo(format!("RX{:04}{:02}{:02}{seq:05}", date.year(), date.month() as u8, date.day()))
    }

    pub fn parse(s: &str) -> Result<TicketNo, IdError> {
        let s = s.trim();
        let digits =
            s.strip_prefix("RX").filter(|d| d.len() >= 13 && d.len() <= 30 && d.bytes().all(|b| b.is_ascii_digit()));
        let Some(d) = digits else {
            return Err(IdError::Format("ticket number is RX, the day (8 digits) and a sequence of at least 5 digits"));
        };
        let (y, m, day) = (
            d[0..4].parse::<i32>().unwrap_or(0),
            d[4..6].parse::<u8>().unwrap_or(0),
            d[6..8].parse::<u8>().unwrap_or(0),
        );
        let month = time::Month::try_from(m).map_err(|_| IdError::Format("ticket number's day is not a real date"))?;
        time::Date::from_calendar_date(y, month, day)
            .map_err(|_| IdError::Format("ticket number's day is not a real date"))?;
        Ok(TicketNo(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account's name: 2–40 characters, each a–z, 0–9, `-`, `_` or `.` (so it is also safe in a stream id,
/// `account-{username}`). Not trimmed: a name with spaces is not a username.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Username, IdError> {
        let ok = (2..=40).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.');
        if ok {
            Ok(Username(s.to_string()))
        } else {
            Err(IdError::Format("a username is 2–40 characters: a–z, 0–9, '-', '_' or '.'"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_examples() {
        for ok in ["clerk", "market-chief", "bench-applicant", "a.b_c-1", "x1", &"a".repeat(40)] {
            assert_eq!(Username::parse(ok).map(|u| u.to_string()), Ok(ok.to_string()), "{ok}");
        }
        for bad in ["", "a", &"a".repeat(41), "Clerk", " clerk", "clerk ", "张三", "a b", "a/b", "a@b", "a:b"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(serde_json::to_string(&Username::parse("clerk").unwrap()).unwrap(), "\"clerk\"");
        assert!(serde_json::from_str::<Username>("\"Clerk\"").is_err());
    }

    #[test]
    fn uscc_known_examples() {
        assert!(Uscc::parse("91110000600037341L").is_ok());
        assert!(Uscc::parse("Y1110000MA0000000U").is_ok());
        assert_eq!(Uscc::parse("91110000600037341M"), Err(IdError::CheckDigit { expected: 'L', got: 'M' }));
        assert!(matches!(Uscc::parse("9111000060003734IL"), Err(IdError::Character { ch: 'I', pos: 17 })));
        assert!(matches!(Uscc::parse("123"), Err(IdError::Length { expected: 18, got: 3 })));
    }

    #[test]
    fn resident_id_known_examples() {
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert!(ResidentId::parse("11010519491231002x").is_ok());
        assert_eq!(ResidentId::parse("110105194912310021"), Err(IdError::CheckDigit { expected: 'X', got: '1' }));
        // 1949-02-30 does not exist; the check digit is recomputed so only the date is wrong.
        let body = "11010519490230002";
        let id = format!("{body}{}", ResidentId::check_char(body).unwrap());
        assert!(matches!(ResidentId::parse(&id), Err(IdError::BirthDate(_))));
        let r = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(r.masked(), "110105********002X");
        assert!(!format!("{r:?}").contains("19491231"));
    }

    #[test]
    fn item_codes_with_non_ascii_characters_are_refused_not_panicked_on() {
        assert!(matches!(
            ItemCode::parse("12345678901234567中2345678901234"),
            Err(IdError::Character { ch: '中', pos: 18 })
        ));
        assert!(ItemCode::parse("11640100MB960001070100009000001").is_ok());
    }

    #[test]
    fn case_no_round_trips() {
        let d = time::macros::date!(2026 - 09 - 26);
        let n = CaseNo::new(d, 42);
        assert_eq!(n.as_str(), "YC202609260000042");
        assert_eq!(CaseNo::parse(n.as_str()), Ok(n));
        assert!(CaseNo::parse("YC2026").is_err());
    }

    #[test]
    fn ticket_no_examples() {
        let d = time::macros::date!(2026 - 03 - 02);
        let n = TicketNo::new(d, 1);
        assert_eq!(n.as_str(), "RX2026030200001");
        assert_eq!(TicketNo::parse("RX2026030200001"), Ok(n));
        // Past 99,999 tickets a day the sequence grows a digit.
        assert!(TicketNo::parse("RX20260302123456").is_ok());
        assert_eq!(TicketNo::new(d, 123_456).as_str(), "RX20260302123456");
        assert!(TicketNo::parse("RX202603020001").is_err(), "a sequence of 4 digits");
        assert!(TicketNo::parse("rx2026030200001").is_err());
        assert!(TicketNo::parse("YC2026030200001").is_err());
        assert!(TicketNo::parse("RX2026023000001").is_err(), "30 February");
        assert!(TicketNo::parse("RX20260302000a1").is_err());
        assert_eq!(serde_json::to_string(&TicketNo::parse("RX2026030200001").unwrap()).unwrap(), "\"RX2026030200001\"");
        assert!(serde_json::from_str::<TicketNo>("\"RX1\"").is_err());
    }
}
