//! Approval–regulation liaison (审管互动), the pure part: the events of a message's stream (`liaison-…`) and of a
//! consultation's (`consult-…`), a consultation's status, and which commands each state allows.

use serde::{Deserialize, Serialize};

/// The events of a message to a regulator; the stored `type` is the tag. (One is built at a time, so the size of
/// the first does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum LiaisonEvent {
    /// The message is sent (审后告知).
    #[serde(rename = "liaison_pushed")]
    Pushed {
        regulator: String,
        /// approval | filing | amendment | cancellation | revocation
        kind: String,
        case_no: Option<String>,
        license_identifier: Option<String>,
        item_code: String,
        title: String,
        summary: serde_json::Value,
        /// The global sequence number of the event the message reports.
        event_seq: i64,
        ack_due: String,
    },
    /// The regulator acknowledged it (认领), `late` after its last day.
    #[serde(rename = "liaison_acknowledged")]
    Acknowledged { late: bool },
    /// The late-acknowledgement alert was raised.
    #[serde(rename = "liaison_alerted")]
    Alerted,
}

/// Whether a message may be acknowledged: once.
pub fn check_acknowledge(acknowledged: bool) -> Result<(), LiaisonError> {
    if acknowledged {
        Err(LiaisonError::AlreadyAcknowledged)
    } else {
        Ok(())
    }
}

/// Where a consultation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationStatus {
    Open,
    Answered,
}

impl ConsultationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationStatus::Open => "open",
            ConsultationStatus::Answered => "answered",
        }
    }

    pub fn parse(s: &str) -> Option<ConsultationStatus> {
        [ConsultationStatus::Open, ConsultationStatus::Answered].into_iter().find(|x| x.as_str() == s)
    }

    /// The status after a recorded event.
    pub fn apply(self, e: &ConsultationEvent) -> ConsultationStatus {
        match e {
            ConsultationEvent::Requested { .. } => ConsultationStatus::Open,
            ConsultationEvent::Answered { .. } => ConsultationStatus::Answered,
        }
    }

    /// Whether a consultation in this status may be answered: once.
    pub fn check_answer(self) -> Result<(), LiaisonError> {
        match self {
            ConsultationStatus::Open => Ok(()),
            ConsultationStatus::Answered => Err(LiaisonError::Answered),
        }
    }
}

/// What a regulator is asked for: 事前征询 an opinion before the decision, or 事中参与 joining an inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationKind {
    Consult,
    Join,
}

impl ConsultationKind {
    pub fn parse(s: &str) -> Option<ConsultationKind> {
        match s {
            "consult" => Some(ConsultationKind::Consult),
            "join" => Some(ConsultationKind::Join),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationKind::Consult => "consult",
            ConsultationKind::Join => "join",
        }
    }
}

/// The events of a consultation (事前征询 consult / 事中参与 join); the stored `type` is the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ConsultationEvent {
    #[serde(rename = "consultation_requested")]
    Requested {
        case_no: String,
        kind: ConsultationKind,
        regulator: String,
        step_id: String,
        question: String,
        due: String,
        pauses_clock: bool,
    },
    #[serde(rename = "consultation_answered")]
    Answered { answer: String },
}

/// Why a liaison command was refused. Stable codes for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LiaisonError {
    #[error("this message was acknowledged already")]
    AlreadyAcknowledged,
    #[error("this consultation was answered already")]
    Answered,
}

impl LiaisonError {
    pub fn code(&self) -> &'static str {
        match self {
            LiaisonError::AlreadyAcknowledged => "already_acknowledged",
            LiaisonError::Answered => "consultation_closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consultation_kinds_parse_and_store_as_before() {
        for (text, kind) in [("consult", ConsultationKind::Consult), ("join", ConsultationKind::Join)] {
            assert_eq!(ConsultationKind::parse(text), Some(kind));
            assert_eq!(kind.as_str(), text);
            assert_eq!(serde_json::to_string(&kind).ok(), Some(format!("\"{text}\"")));
        }
        for bad in ["", "Consult", "join ", "inspect"] {
            assert_eq!(ConsultationKind::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_message_is_acknowledged_once_and_a_consultation_answered_once() {
        assert_eq!(check_acknowledge(false), Ok(()));
        assert_eq!(check_acknowledge(true).map_err(|e| e.code()), Err("already_acknowledged"));
        let s = ConsultationStatus::Open;
        assert_eq!(s.check_answer(), Ok(()));
        let s = s.apply(&ConsultationEvent::Answered { answer: "no objection".into() });
        assert_eq!(s, ConsultationStatus::Answered);
        let e = s.check_answer().unwrap_err();
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            ("consultation_closed", "this consultation was answered already")
        );
        assert_eq!(ConsultationStatus::parse("answered"), Some(ConsultationStatus::Answered));
    }
}
