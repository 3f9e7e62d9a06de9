//! Urgings (督办): the events of an urging's stream, its status, and which commands each status allows.
//!
//! `check` says whether a command may happen now (it never changes anything); `UrgingStatus::apply` folds an event
//! that was recorded, so replaying a stream never fails.

use serde::{Deserialize, Serialize};

/// Where an urging stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrgingStatus {
    Open,
    Replied,
    Closed,
}

impl UrgingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UrgingStatus::Open => "open",
            UrgingStatus::Replied => "replied",
            UrgingStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<UrgingStatus> {
        [UrgingStatus::Open, UrgingStatus::Replied, UrgingStatus::Closed].into_iter().find(|x| x.as_str() == s)
    }

    /// The status after a recorded event.
    pub fn apply(self, e: &UrgingEvent) -> UrgingStatus {
        match e {
            UrgingEvent::Issued { .. } => UrgingStatus::Open,
            UrgingEvent::Replied { .. } => UrgingStatus::Replied,
            UrgingEvent::Closed { .. } => UrgingStatus::Closed,
            UrgingEvent::Escalated { .. } => self,
        }
    }

    /// Whether the event may be recorded on an urging in this status: a reply only while open, a close unless
    /// closed already, an escalation only while open.
    pub fn check(self, e: &UrgingEvent) -> Result<(), UrgingError> {
        let allowed = match e {
            UrgingEvent::Issued { .. } => false,
            UrgingEvent::Replied { .. } | UrgingEvent::Escalated { .. } => self == UrgingStatus::Open,
            UrgingEvent::Closed { .. } => self != UrgingStatus::Closed,
        };
        if allowed {
            Ok(())
        } else {
            Err(UrgingError::NotOpen(self))
        }
    }
}

impl std::fmt::Display for UrgingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The events of an urging's stream (`urging-…`); the stored `type` is the tag, the payload the other fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum UrgingEvent {
    #[serde(rename = "urging_issued")]
    Issued {
        case_no: String,
        alert_id: Option<String>,
        department: String,
        person: Option<String>,
        message: String,
        due: String,
    },
    #[serde(rename = "urging_replied")]
    Replied { reply: String },
    #[serde(rename = "urging_closed")]
    Closed { note: String },
    #[serde(rename = "urging_escalated")]
    Escalated { due: String },
}

/// Why a command on an urging was refused. Stable codes for machines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrgingError {
    #[error("the urging is {0}")]
    NotOpen(UrgingStatus),
}

impl UrgingError {
    pub fn code(&self) -> &'static str {
        match self {
            UrgingError::NotOpen(_) => "urging_not_open",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> UrgingEvent {
        UrgingEvent::Replied { reply: "done".into() }
    }

    fn close() -> UrgingEvent {
        UrgingEvent::Closed { note: "ok".into() }
    }

    #[test]
    fn an_urging_is_replied_while_open_and_closed_once() {
        let s = UrgingStatus::Open;
        assert_eq!(s.check(&reply()), Ok(()));
        let s = s.apply(&reply());
        assert_eq!(s, UrgingStatus::Replied);
        assert_eq!(s.check(&reply()), Err(UrgingError::NotOpen(UrgingStatus::Replied)));
        assert_eq!(s.check(&close()), Ok(()));
        let s = s.apply(&close());
        assert_eq!(s, UrgingStatus::Closed);
        let err = s.check(&reply()).unwrap_err();
        assert_eq!((err.code(), err.to_string().as_str()), ("urging_not_open", "the urging is closed"));
        assert_eq!(s.check(&close()), Err(UrgingError::NotOpen(UrgingStatus::Closed)));
        // An urging may be closed without a reply; escalation leaves the status alone and needs an open urging.
        assert_eq!(UrgingStatus::Open.apply(&close()), UrgingStatus::Closed);
        let esc = UrgingEvent::Escalated { due: "2026-03-02".into() };
        assert_eq!(UrgingStatus::Open.apply(&esc), UrgingStatus::Open);
        assert!(UrgingStatus::Replied.check(&esc).is_err());
    }

    #[test]
    fn statuses_read_back() {
        for s in [UrgingStatus::Open, UrgingStatus::Replied, UrgingStatus::Closed] {
            assert_eq!(UrgingStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(UrgingStatus::parse("pending"), None);
    }
}
