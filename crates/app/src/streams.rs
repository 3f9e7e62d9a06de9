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
    let Value::Object(mut fields) = serde_json::to_value(event).map_err(|e| AppError::Internal(e.to_string()))? else {
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

/// Notify each recipient in-app of an event about `reference` (a case number, or a ticket's).
pub(crate) fn notify(
    db: &mut Db,
    seq: i64,
    recipients: &[String],
    reference: &str,
    kind: &str,
    message: &str,
    at: i64,
) -> Result<(), AppError> {
    for r in recipients {
        db.put_notification(&Notification {
            event_seq: seq,
            recipient: r.clone(),
            case_no: reference.to_string(),
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

#[cfg(test)]
mod tests {
    //! The typed events store the very bytes the `json!` payloads of before did, and read back to themselves.

    use oneseal_domain::calendar::CalendarEvent;
    use oneseal_domain::catalog::{CatalogEvent, VersionPublished};
    use oneseal_domain::hotline::ArticleEvent;
    use oneseal_domain::liaison::{ConsultationEvent, LiaisonEvent};
    use oneseal_domain::license::{IssuedLicense, LicenseEvent};
    use oneseal_domain::personal_data::AccessEvent;
    use oneseal_domain::rating::{RatingEvent, RatingRecord};
    use oneseal_domain::supervision::AlertEvent;
    use oneseal_domain::urging::UrgingEvent;
    use oneseal_store::StoredEvent;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use serde_json::{json, Value};

    use super::{decode, encode};

    fn same<E: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(typed: E, kind: &str, before: Value) {
        let (t, payload) = encode(&typed).unwrap();
        assert_eq!((t.as_str(), payload.as_str()), (kind, before.to_string().as_str()));
        let stored = StoredEvent {
            seq: 1,
            stream_id: "s-1".into(),
            version: 1,
            event_type: t,
            schema_version: 1,
            actor: "a".into(),
            at_ms: 0,
            payload,
        };
        assert_eq!(decode::<E>(&stored).unwrap(), typed);
    }

    fn issued() -> IssuedLicense {
        IssuedLicense {
            identifier: "1.2.156.3005.2.X.002.Y".into(),
            lineage: "X-Y".into(),
            version: 2,
            number: "JY1640100".into(),
            license_type: "food".into(),
            holder_name: "银川塞上餐饮有限公司".into(),
            case_no: Some("YC1".into()),
            issued: "2026-03-02".into(),
            valid_to: None,
            status_index: 7,
            body: json!({"public": {"holder": "银川塞上餐饮有限公司"}, "fields": {"b": 1, "a": 2}}),
            signed_payload: "{}".into(),
            key_id: "k1".into(),
            signature: "ab".into(),
            qr: "OS1:..".into(),
        }
    }

    #[test]
    fn typed_events_store_the_payloads_json_wrote() {
        same(
            UrgingEvent::Issued {
                case_no: "YC1".into(),
                alert_id: None,
                department: "market".into(),
                person: None,
                message: "请立即办理".into(),
                due: "2026-03-03".into(),
            },
            "urging_issued",
            json!({ "case_no": "YC1", "alert_id": null, "department": "market", "person": null,
                    "message": "请立即办理", "due": "2026-03-03" }),
        );
        same(UrgingEvent::Replied { reply: "已办".into() }, "urging_replied", json!({ "reply": "已办" }));
        same(UrgingEvent::Closed { note: "ok".into() }, "urging_closed", json!({ "note": "ok" }));
        same(UrgingEvent::Escalated { due: "d".into() }, "urging_escalated", json!({ "due": "d" }));
        same(
            AlertEvent::Raised {
                kind: "red".into(),
                level: "red".into(),
                case_no: Some("YC1".into()),
                project_code: None,
                department: "market".into(),
                person: Some("market-reviewer".into()),
                title: "t".into(),
                detail: "d".into(),
                evidence: vec![3, 9],
            },
            "alert_raised",
            json!({ "kind": "red", "level": "red", "case_no": "YC1", "department": "market",
                    "person": "market-reviewer", "title": "t", "detail": "d", "evidence": [3, 9] }),
        );
        // A project's alert names the project and no case.
        same(
            AlertEvent::Raised {
                kind: "project_red".into(),
                level: "red".into(),
                case_no: None,
                project_code: Some("2026-640100-47-03-000123".into()),
                department: "natural-resources".into(),
                person: None,
                title: "t".into(),
                detail: "d".into(),
                evidence: vec![4],
            },
            "alert_raised",
            json!({ "kind": "project_red", "level": "red", "project_code": "2026-640100-47-03-000123",
                    "department": "natural-resources", "person": null, "title": "t", "detail": "d", "evidence": [4] }),
        );
        same(AlertEvent::Closed { note: "n".into() }, "alert_closed", json!({ "note": "n" }));
        let summary = json!({ "holder": "张*", "department": "market", "decided_at_ms": 5, "licenses": ["L"] });
        same(
            LiaisonEvent::Pushed {
                regulator: "health".into(),
                kind: "approval".into(),
                case_no: Some("YC1".into()),
                license_identifier: None,
                item_code: "I1".into(),
                title: "t".into(),
                summary: summary.clone(),
                event_seq: 42,
                ack_due: "2026-03-09".into(),
            },
            "liaison_pushed",
            json!({ "regulator": "health", "kind": "approval", "case_no": "YC1", "license_identifier": null,
                    "item_code": "I1", "title": "t", "summary": summary, "event_seq": 42, "ack_due": "2026-03-09" }),
        );
        same(LiaisonEvent::Acknowledged { late: true }, "liaison_acknowledged", json!({ "late": true }));
        same(LiaisonEvent::Alerted, "liaison_alerted", json!({}));
        same(
            ConsultationEvent::Requested {
                case_no: "YC1".into(),
                kind: oneseal_domain::liaison::ConsultationKind::Consult,
                regulator: "health".into(),
                step_id: "review".into(),
                question: "q".into(),
                due: "d".into(),
                pauses_clock: true,
            },
            "consultation_requested",
            json!({ "case_no": "YC1", "kind": "consult", "regulator": "health", "step_id": "review",
                    "question": "q", "due": "d", "pauses_clock": true }),
        );
        same(ConsultationEvent::Answered { answer: "a".into() }, "consultation_answered", json!({ "answer": "a" }));
        let l = issued();
        let before = json!({
            "identifier": l.identifier, "lineage": l.lineage, "version": l.version, "number": l.number,
            "license_type": l.license_type, "holder_name": l.holder_name, "case_no": l.case_no, "issued": l.issued,
            "valid_to": l.valid_to, "status_index": l.status_index, "body": l.body, "signed_payload": l.signed_payload,
            "key_id": l.key_id, "signature": l.signature, "qr": l.qr,
        });
        same(LicenseEvent::Issued(l.clone()), "license_issued", before.clone());
        let mut amended = before;
        amended["supersedes"] = json!("old");
        amended["reason"] = json!("变更");
        same(
            LicenseEvent::Amended { license: l, supersedes: "old".into(), reason: "变更".into() },
            "license_amended",
            amended,
        );
        same(
            LicenseEvent::Revoked { identifier: "i".into(), reason: "r".into() },
            "license_revoked",
            json!({ "identifier": "i", "reason": "r" }),
        );
        same(
            LicenseEvent::ConsentGranted {
                identifier: "i".into(),
                consent_id: "c-1".into(),
                department: "market".into(),
                purpose: "p".into(),
                expires_at_ms: 9,
            },
            "license_consent_granted",
            json!({ "identifier": "i", "consent_id": "c-1", "department": "market", "purpose": "p",
                    "expires_at_ms": 9 }),
        );
        let record = RatingRecord {
            id: "case-YC1".into(),
            kind: "case".into(),
            target: "YC1".into(),
            rater: "citizen".into(),
            named: true,
            department: "market".into(),
            service_point: "hall".into(),
            staff: "clerk".into(),
            item_code: "I1".into(),
            channel: "online".into(),
            level: "dissatisfied".into(),
            comment: "慢".into(),
            tags: json!(["slow"]),
            rated_at_ms: 1,
            changeable_until_ms: 2,
            counted: true,
            remediation: Some(oneseal_domain::rating::Remediation::Open),
            remediation_due: Some("d".into()),
            remediation_notes: json!({}),
            appeal: None,
            alerted: false,
        };
        same(
            RatingEvent::Given(record.clone()),
            "rating_given",
            json!({ "id": "case-YC1", "kind": "case", "target": "YC1", "rater": "citizen", "named": true,
                    "department": "market", "service_point": "hall", "staff": "clerk", "item_code": "I1",
                    "channel": "online", "level": "dissatisfied", "comment": "慢", "tags": ["slow"],
                    "rated_at_ms": 1, "changeable_until_ms": 2, "counted": true, "remediation": "open",
                    "remediation_due": "d", "remediation_notes": {}, "appeal": null, "alerted": false }),
        );
        same(
            CatalogEvent::Item(VersionPublished { version: 3, reason: "r".into(), body: json!({"name": "n"}) }),
            "item_version_published",
            json!({ "version": 3, "reason": "r", "body": {"name": "n"} }),
        );
        same(
            CalendarEvent::YearPublished { year: 2027, data: "year = 2027".into() },
            "calendar_year_published",
            json!({ "year": 2027, "data": "year = 2027" }),
        );
        same(
            AccessEvent::Read {
                case_no: "YC1".into(),
                subject_account: None,
                reason: "核对".into(),
                fields: vec!["a".into()],
            },
            "personal_data_read",
            json!({ "case_no": "YC1", "subject_account": null, "reason": "核对", "fields": ["a"] }),
        );
        same(
            ArticleEvent::Published {
                id: "kb-1".into(),
                version: 1,
                category: "c".into(),
                title: "t".into(),
                body: "b".into(),
            },
            "kb_article_published",
            json!({ "id": "kb-1", "version": 1, "category": "c", "title": "t", "body": "b" }),
        );
    }
}
