//! Helpers every feature's event streams share: turn a typed event into its stored `type` and payload and back,
//! append one event to a stream, notify recipients in-app of it, and check a required text.

use oneseal_store::{Db, NewEvent, Notification, StoredEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::AppError;

/// A typed event (an enum tagged `type`) as its stored `type` and payload: the payload is the other fields with
/// their keys in order, as `serde_json::json!` wrote them before the events were typed, so the bytes are the same.
pub(crate) fn encode<E: Serialize>(event: &E) -> Result<(String, String), AppError> {
    let Value::Object(mut fields) = serde_json::to_value(event).map_err(|e| AppError::Internal(e.to_string()))?
    else {
        return Err(AppError::Internal("an event is a JSON object".into()));
    };
    let Some(Value::String(kind)) = fields.remove("type") else {
        return Err(AppError::Internal("an event has a type".into()));
    };
    Ok((kind, Value::Object(fields).to_string()))
}

/// The typed event of a stored one.
pub(crate) fn decode<E: DeserializeOwned>(e: &StoredEvent) -> Result<E, AppError> {
    let bad = |x: String| AppError::Internal(format!("{} v{} ({}): {x}", e.stream_id, e.version, e.event_type));
    let mut v: Value = serde_json::from_str(&e.payload).map_err(|x| bad(x.to_string()))?;
    let Value::Object(fields) = &mut v else { return Err(bad("the payload is not an object".into())) };
    fields.insert("type".into(), Value::String(e.event_type.clone()));
    serde_json::from_value(v).map_err(|x| bad(x.to_string()))
}

/// Append a typed event to a stream expected at `version`, and return it as stored (for the stream's projection).
pub(crate) fn record_at<E: Serialize>(
    db: &mut Db,
    stream: &str,
    version: i64,
    event: &E,
    actor: &str,
    at: i64,
) -> Result<StoredEvent, AppError> {
    let (event_type, payload) = encode(event)?;
    record_raw(db, stream, version, event_type, payload, actor, at)
}

/// Append a typed event to a stream at its current version, and return it as stored.
pub(crate) fn record<E: Serialize>(
    db: &mut Db,
    stream: &str,
    event: &E,
    actor: &str,
    at: i64,
) -> Result<StoredEvent, AppError> {
    let v = db.stream_version(stream)?;
    record_at(db, stream, v, event, actor, at)
}

/// Append an event whose payload is already text (the dispatch directory), and return it as stored.
pub(crate) fn record_raw(
    db: &mut Db,
    stream: &str,
    version: i64,
    event_type: String,
    payload: String,
    actor: &str,
    at: i64,
) -> Result<StoredEvent, AppError> {
    let seqs = db.append(
        stream,
        version,
        &[NewEvent {
            event_type: event_type.clone(),
            schema_version: 1,
            actor: actor.into(),
            at_ms: at,
            payload: payload.clone(),
        }],
    )?;
    let seq = seqs.first().copied().ok_or_else(|| AppError::Internal(format!("{stream}: nothing appended")))?;
    Ok(StoredEvent {
        seq,
        stream_id: stream.to_string(),
        version: version + 1,
        event_type,
        schema_version: 1,
        actor: actor.to_string(),
        at_ms: at,
        payload,
    })
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
