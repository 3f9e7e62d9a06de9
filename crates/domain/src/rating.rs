//! Ratings (好差评), the pure part: the events of a rating's stream (`rating-…`). Every event carries the whole
//! rating as it is after the event, so folding a stream is taking its last record.

use serde::{Deserialize, Serialize};

/// A rating as recorded (the API's form of it too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingRecord {
    pub id: String,
    /// case | window | ticket
    pub kind: String,
    pub target: String,
    pub rater: String,
    #[serde(default)]
    pub named: bool,
    pub department: String,
    pub service_point: String,
    pub staff: String,
    pub item_code: String,
    pub channel: String,
    /// A `Satisfaction` level.
    pub level: String,
    pub comment: String,
    /// The chosen tags (a JSON array).
    pub tags: serde_json::Value,
    pub rated_at_ms: i64,
    pub changeable_until_ms: i64,
    #[serde(default = "counted_by_default")]
    pub counted: bool,
    /// open → verified → rectified → fed_back
    pub remediation: Option<String>,
    pub remediation_due: Option<String>,
    /// The notes of each remediation and appeal step (a JSON object).
    pub remediation_notes: serde_json::Value,
    /// pending → upheld | rejected
    pub appeal: Option<String>,
    #[serde(default)]
    pub alerted: bool,
}

fn counted_by_default() -> bool {
    true
}

/// The events of a rating; the stored `type` is the tag, the payload the whole record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RatingEvent {
    #[serde(rename = "rating_given")]
    Given(RatingRecord),
    #[serde(rename = "rating_changed")]
    Changed(RatingRecord),
    #[serde(rename = "rating_remediated")]
    Remediated(RatingRecord),
    #[serde(rename = "rating_appealed")]
    Appealed(RatingRecord),
    #[serde(rename = "rating_appeal_decided")]
    AppealDecided(RatingRecord),
    #[serde(rename = "rating_alerted")]
    Alerted(RatingRecord),
}

impl RatingEvent {
    /// The rating after the event.
    pub fn record(&self) -> &RatingRecord {
        match self {
            RatingEvent::Given(r)
            | RatingEvent::Changed(r)
            | RatingEvent::Remediated(r)
            | RatingEvent::Appealed(r)
            | RatingEvent::AppealDecided(r)
            | RatingEvent::Alerted(r) => r,
        }
    }
}
