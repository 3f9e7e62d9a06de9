//! Personal data, the pure part: the format of a sealed value (`Sealed`; the seal crate writes it) and the staff
//! read log's event (`access-{case}` streams).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The prefix of every sealed value: `sm4gcm:v1:<data key id>:<base64 of nonce ‖ ciphertext ‖ tag>`. The seal crate
/// writes this format (`oneseal_seal::pd::PREFIX`, checked equal by its tests).
pub const SEALED_PREFIX: &str = "sm4gcm:v1:";

/// A sealed value as stored, recognised by its format. Only the application's keyring opens it; nothing seals it
/// again. Debug does not print it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl Sealed {
    /// The text as a sealed value, if it has the format of one.
    pub fn parse(s: &str) -> Option<Sealed> {
        s.strip_prefix(SEALED_PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .filter(|(key, body)| !key.is_empty() && !body.is_empty())
            .map(|_| Sealed(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed(<redacted>)")
    }
}

/// The events of a read-log stream; the stored `type` is the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AccessEvent {
    /// A member of staff read the clear personal data of a case, giving a reason.
    #[serde(rename = "personal_data_read")]
    Read {
        case_no: String,
        /// The account of the person whose data was read, when the person has one.
        subject_account: Option<String>,
        reason: String,
        fields: Vec<String>,
    },
}
