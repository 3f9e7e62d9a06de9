//! The staff read log of personal data, the pure part: the event of a read (`access-{case}` streams).

use serde::{Deserialize, Serialize};

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
