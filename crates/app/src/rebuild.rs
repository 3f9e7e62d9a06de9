//! Rebuild every projection from the events (`oneseal rebuild`): empty the projection tables, then replay the log
//! in global order through the same projection functions the live system uses, in one transaction.

use oneseal_domain::case;
use oneseal_store::{CatalogRow, PROJECTION_TABLES};
use serde::Deserialize;

use crate::cases::{project, recorded};
use crate::{App, AppError};

#[derive(Deserialize)]
struct CatalogPayload {
    version: i64,
    reason: String,
    body: serde_json::Value,
}

#[derive(Deserialize)]
struct AccessPayload {
    case_no: String,
    subject_account: Option<String>,
    reason: String,
    fields: Vec<String>,
}

#[derive(Deserialize)]
struct CalendarPayload {
    year: i64,
    data: String,
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RebuildReport {
    pub events: usize,
    pub cases: usize,
}

impl App {
    pub async fn rebuild(&self) -> Result<RebuildReport, AppError> {
        let app = self.clone();
        // The write job reads the log below the safe horizon (PostgreSQL): move it past what is committed.
        self.store.settle().await?;
        let report = self
            .store
            .write(move |db| -> Result<RebuildReport, AppError> {
                db.clear_projections()?;
                let mut rep = RebuildReport::default();
                let mut after = 0;
                loop {
                    let events = db.read_from(after, 5000)?;
                    let Some(last) = events.last().map(|e| e.seq) else {
                        break;
                    };
                    after = last;
                    for e in &events {
                        rep.events += 1;
                        if let Some(no) = e.stream_id.strip_prefix("case-") {
                            let r = recorded(e)?;
                            let st = if e.version == 1 {
                                rep.cases += 1;
                                case::init(&r).ok_or_else(|| {
                                    AppError::Internal(format!("case {no} starts with {}", e.event_type))
                                })?
                            } else {
                                let row = db
                                    .get_case(no)?
                                    .ok_or_else(|| AppError::Internal(format!("case {no}: event before submission")))?;
                                let mut st: case::CaseState = serde_json::from_str(&row.state)
                                    .map_err(|err| AppError::Internal(err.to_string()))?;
                                case::apply(&mut st, &r);
                                st
                            };
                            let (row, tasks) = project(&st, app.applicant_index(&st.applicant));
                            db.put_case(&row, &tasks)?;
                        } else if e.event_type.ends_with("_version_published") {
                            let p: CatalogPayload =
                                serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(err.to_string()))?;
                            let kind = e.event_type.trim_end_matches("_version_published").to_string();
                            let code = match kind.as_str() {
                                "departments" => "all".to_string(),
                                _ => e.stream_id.split_once('-').map(|(_, c)| c.to_string()).unwrap_or_default(),
                            };
                            db.put_catalog_version(&CatalogRow {
                                kind,
                                code,
                                version: p.version,
                                body: p.body.to_string(),
                                published_at_ms: e.at_ms,
                                published_by: e.actor.clone(),
                                reason: p.reason,
                            })?;
                        } else if e.event_type == "license_issued" {
                            db.put_license(&app.license_row_from_event(&e.payload)?)?;
                        } else if e.event_type == "license_amended" {
                            let new = app.license_row_from_event(&e.payload)?;
                            let p: serde_json::Value =
                                serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(err.to_string()))?;
                            if let Some(mut old) = db.license(p["supersedes"].as_str().unwrap_or_default())? {
                                old.status = "superseded".into();
                                old.reason = Some(new.identifier.clone());
                                db.put_license(&old)?;
                            }
                            db.put_license(&new)?;
                        } else if e.event_type == "license_revoked" || e.event_type == "license_cancelled" {
                            let p: serde_json::Value =
                                serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(err.to_string()))?;
                            let id = p["identifier"].as_str().unwrap_or_default().to_string();
                            if let Some(mut row) = db.license(&id)? {
                                row.status = if e.event_type == "license_revoked" {
                                    "revoked".into()
                                } else {
                                    "cancelled".into()
                                };
                                row.reason = p["reason"].as_str().map(str::to_string);
                                db.put_license(&row)?;
                            }
                        } else if e.event_type == "personal_data_read" {
                            let p: AccessPayload =
                                serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(err.to_string()))?;
                            db.put_pd_access(&oneseal_store::PdAccess {
                                event_seq: e.seq,
                                subject_account: p.subject_account,
                                case_no: p.case_no,
                                actor: e.actor.clone(),
                                at_ms: e.at_ms,
                                reason: p.reason,
                                fields: p.fields.join(","),
                            })?;
                        } else if e.event_type == "alert_raised" {
                            let p: serde_json::Value =
                                serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(err.to_string()))?;
                            let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                            db.put_alert(&oneseal_store::AlertRow {
                                id: e.stream_id.clone(),
                                kind: text("kind"),
                                level: text("level"),
                                case_no: text("case_no"),
                                department: text("department"),
                                person: p["person"].as_str().map(str::to_string),
                                title: text("title"),
                                detail: text("detail"),
                                evidence: p["evidence"].to_string(),
                                raised_at_ms: e.at_ms,
                                status: "open".into(),
                                closed_at_ms: None,
                                closed_by: None,
                                note: None,
                            })?;
                        } else if e.event_type == "alert_closed" {
                            let p: serde_json::Value =
                                serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(err.to_string()))?;
                            if let Some(mut a) = db.alert(&e.stream_id)? {
                                a.status = "closed".into();
                                a.closed_at_ms = Some(e.at_ms);
                                a.closed_by = Some(e.actor.clone());
                                a.note = p["note"].as_str().map(str::to_string);
                                db.put_alert(&a)?;
                            }
                        } else if e.event_type.starts_with("urging_") {
                            let p: serde_json::Value =
                                serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(err.to_string()))?;
                            let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                            let opt = |k: &str| p[k].as_str().map(str::to_string);
                            if e.event_type == "urging_issued" {
                                db.put_urging(&oneseal_store::UrgingRow {
                                    id: e.stream_id.clone(),
                                    case_no: text("case_no"),
                                    alert_id: opt("alert_id"),
                                    department: text("department"),
                                    person: opt("person"),
                                    message: text("message"),
                                    due: text("due"),
                                    status: "open".into(),
                                    escalated: false,
                                    issued_by: e.actor.clone(),
                                    issued_at_ms: e.at_ms,
                                    reply: None,
                                    replied_by: None,
                                    replied_at_ms: None,
                                    closed_note: None,
                                })?;
                            } else if let Some(mut u) = db.urging(&e.stream_id)? {
                                match e.event_type.as_str() {
                                    "urging_replied" => {
                                        u.status = "replied".into();
                                        u.reply = opt("reply");
                                        u.replied_by = Some(e.actor.clone());
                                        u.replied_at_ms = Some(e.at_ms);
                                    }
                                    "urging_closed" => {
                                        u.status = "closed".into();
                                        u.closed_note = opt("note");
                                    }
                                    _ => u.escalated = true,
                                }
                                db.put_urging(&u)?;
                            }
                        } else if e.stream_id.starts_with("ticket-") {
                            crate::hotline::replay(db, e)?;
                        } else if e.stream_id.starts_with("rating-") {
                            crate::ratings::replay(db, e)?;
                        } else if matches!(
                            e.event_type.as_str(),
                            "hotline_directory_published" | "kb_article_published"
                        ) {
                            crate::hotline::replay_config(db, e)?;
                        } else if e.event_type.starts_with("liaison_") {
                            crate::liaison::replay_liaison(db, e)?;
                        } else if e.event_type.starts_with("consultation_") {
                            crate::liaison::replay_consultation(db, e)?;
                        } else if e.event_type == "calendar_year_published" {
                            let p: CalendarPayload =
                                serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(err.to_string()))?;
                            db.put_calendar_year(p.year, &p.data, e.at_ms, &e.actor)?;
                        }
                    }
                }
                Ok(rep)
            })
            .await?;
        self.reload_catalog().await?;
        Ok(report)
    }

    /// All projection tables as text rows, for comparing a rebuild with the live projections.
    pub async fn dump_projections(&self) -> Result<Vec<(String, Vec<String>)>, AppError> {
        self.store
            .read(|db| -> Result<Vec<(String, Vec<String>)>, AppError> {
                let mut out = Vec::new();
                for t in PROJECTION_TABLES {
                    out.push((t.to_string(), db.dump_table(t)?));
                }
                Ok(out)
            })
            .await
    }
}
