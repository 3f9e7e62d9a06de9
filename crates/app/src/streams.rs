//! Helpers every feature's event streams share: append one event to a stream, notify recipients in-app of it,
//! and check a required text. (They lived in `urging.rs`, the first feature that needed them.)

use oneseal_store::{Db, NewEvent, Notification};

use crate::AppError;

/// Append one event to a stream of its own kind (urgings, liaison messages, consultations).
pub(crate) fn append(
    db: &mut Db,
    id: &str,
    kind: &str,
    actor: &str,
    at: i64,
    payload: serde_json::Value,
) -> Result<i64, AppError> {
    let v = db.stream_version(id)?;
    let seqs = db.append(
        id,
        v,
        &[NewEvent {
            event_type: kind.into(),
            schema_version: 1,
            actor: actor.into(),
            at_ms: at,
            payload: payload.to_string(),
        }],
    )?;
    Ok(seqs.first().copied().unwrap_or_default())
}

/// Notify each recipient in-app of an event.
pub(crate) fn notify(
    db: &mut Db,
    seq: i64,
    recipients: &[String],
    case_no: &str,
    kind: &str,
    message: &str,
    at: i64,
) -> Result<(), AppError> {
    for r in recipients {
        db.put_notification(&Notification {
            event_seq: seq,
            recipient: r.clone(),
            case_no: case_no.to_string(),
            kind: kind.to_string(),
            message: message.to_string(),
            created_at_ms: at,
        })?;
    }
    Ok(())
}

/// A required text of 1–`max` characters, trimmed (`text_required` otherwise).
pub(crate) fn text_ok(t: &str, what: &str, max: usize) -> Result<String, AppError> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(AppError::invalid("text_required", format!("{what} is 1–{max} characters")));
    }
    Ok(t.to_string())
}
