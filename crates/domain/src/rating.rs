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
    pub remediation: Option<Remediation>,
    pub remediation_due: Option<String>,
    /// The notes of each remediation and appeal step (a JSON object).
    pub remediation_notes: serde_json::Value,
    /// pending → upheld | rejected
    pub appeal: Option<Appeal>,
    #[serde(default)]
    pub alerted: bool,
}

/// Where the remediation of a bad rating (差评整改) stands: open → verified → rectified → fed_back. The stored
/// strings are the snake_case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remediation {
    Open,
    Verified,
    Rectified,
    FedBack,
}

/// A step of a remediation, as staff name it: verify, rectify, feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemediationStep {
    Verify,
    Rectify,
    Feedback,
}

/// Where an appeal of a rating (申诉) stands: pending → upheld | rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Appeal {
    Pending,
    Upheld,
    Rejected,
}

impl Remediation {
    pub const ALL: [Remediation; 4] =
        [Remediation::Open, Remediation::Verified, Remediation::Rectified, Remediation::FedBack];

    pub fn as_str(self) -> &'static str {
        match self {
            Remediation::Open => "open",
            Remediation::Verified => "verified",
            Remediation::Rectified => "rectified",
            Remediation::FedBack => "fed_back",
        }
    }

    pub fn parse(s: &str) -> Option<Remediation> {
        Remediation::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a bad rating opens a (new) remediation: none runs (none yet, or the last one was fed back) and no
    /// appeal against it was upheld.
    pub fn may_open(current: Option<Remediation>, appeal: Option<Appeal>) -> bool {
        current.is_none_or(|r| r == Remediation::FedBack) && appeal != Some(Appeal::Upheld)
    }

    /// The remediation after `step`, or None when the step is not the next one (or an appeal is pending).
    pub fn after(current: Option<Remediation>, appeal: Option<Appeal>, step: RemediationStep) -> Option<Remediation> {
        let (from, to) = match step {
            RemediationStep::Verify => (Remediation::Open, Remediation::Verified),
            RemediationStep::Rectify => (Remediation::Verified, Remediation::Rectified),
            RemediationStep::Feedback => (Remediation::Rectified, Remediation::FedBack),
        };
        (current == Some(from) && appeal != Some(Appeal::Pending)).then_some(to)
    }
}

impl RemediationStep {
    pub fn parse(s: &str) -> Option<RemediationStep> {
        match s {
            "verify" => Some(RemediationStep::Verify),
            "rectify" => Some(RemediationStep::Rectify),
            "feedback" => Some(RemediationStep::Feedback),
            _ => None,
        }
    }
}

impl Appeal {
    pub fn as_str(self) -> &'static str {
        match self {
            Appeal::Pending => "pending",
            Appeal::Upheld => "upheld",
            Appeal::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Appeal> {
        [Appeal::Pending, Appeal::Upheld, Appeal::Rejected].into_iter().find(|a| a.as_str() == s)
    }

    /// A rating is appealed once: only when no appeal was made.
    pub fn may_appeal(current: Option<Appeal>) -> bool {
        current.is_none()
    }

    /// The decision on a pending appeal, or None when none is pending.
    pub fn decide(current: Option<Appeal>, uphold: bool) -> Option<Appeal> {
        (current == Some(Appeal::Pending)).then_some(if uphold { Appeal::Upheld } else { Appeal::Rejected })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use RemediationStep::*;

    #[test]
    fn remediation_goes_open_verified_rectified_fed_back() {
        let mut r = Some(Remediation::Open);
        for (step, to) in
            [(Verify, Remediation::Verified), (Rectify, Remediation::Rectified), (Feedback, Remediation::FedBack)]
        {
            assert_eq!(Remediation::after(r, None, step), Some(to));
            assert_eq!(Remediation::after(r, Some(Appeal::Pending), step), None, "paused by a pending appeal");
            assert_eq!(Remediation::after(r, Some(Appeal::Rejected), step), Some(to));
            r = Some(to);
        }
        // Out of order, or without a remediation: refused.
        assert_eq!(Remediation::after(Some(Remediation::Open), None, Rectify), None);
        assert_eq!(Remediation::after(Some(Remediation::FedBack), None, Verify), None);
        assert_eq!(Remediation::after(None, None, Verify), None);
        // A new remediation opens when none runs and no appeal was upheld.
        assert!(Remediation::may_open(None, None));
        assert!(Remediation::may_open(Some(Remediation::FedBack), Some(Appeal::Rejected)));
        assert!(!Remediation::may_open(Some(Remediation::Verified), None));
        assert!(!Remediation::may_open(None, Some(Appeal::Upheld)));
        assert_eq!(RemediationStep::parse("feedback"), Some(Feedback));
        assert_eq!(RemediationStep::parse("fed_back"), None);
    }

    #[test]
    fn appeals_are_made_once_and_decided_once() {
        assert!(Appeal::may_appeal(None));
        for a in [Appeal::Pending, Appeal::Upheld, Appeal::Rejected] {
            assert!(!Appeal::may_appeal(Some(a)));
            assert_eq!(Appeal::parse(a.as_str()), Some(a));
        }
        assert_eq!(Appeal::decide(Some(Appeal::Pending), true), Some(Appeal::Upheld));
        assert_eq!(Appeal::decide(Some(Appeal::Pending), false), Some(Appeal::Rejected));
        assert_eq!(Appeal::decide(Some(Appeal::Rejected), true), None);
        assert_eq!(Appeal::decide(None, false), None);
        assert_eq!(Appeal::parse("Pending"), None);
    }

    #[test]
    fn stored_strings_are_unchanged() {
        for r in Remediation::ALL {
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
            assert_eq!(Remediation::parse(r.as_str()), Some(r));
        }
        assert_eq!(serde_json::to_string(&Remediation::FedBack).unwrap(), "\"fed_back\"");
        assert_eq!(serde_json::to_string(&Appeal::Upheld).unwrap(), "\"upheld\"");
        assert!(serde_json::from_str::<Remediation>("\"closed\"").is_err());
        assert!(Remediation::parse("fedback").is_none());
    }
}
