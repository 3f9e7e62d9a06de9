//! E-mail for supervision (when configured): every red alert and every escalated urging is mailed to the
//! supervision office's mailboxes over SMTP. A subscriber with its own cursor: the cursor moves only after the
//! relay accepted the messages, so a relay outage delays mail and loses none (at least once).
//!
//! Configuration: `ONESEAL_SMTP_URL=smtp://relay.example:25` (a relay on the government network; plain SMTP),
//! `ONESEAL_MAIL_FROM`, `ONESEAL_ALERT_MAIL_TO` (comma-separated).

use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport, Transport};
use serde_json::Value;

use crate::{ms, App, AppError};

/// The mail subscriber's cursor name (and its lease's).
pub const MAIL: &str = "mail";
/// How long the node running the mail subscriber holds it (renewed every round).
pub const MAIL_LEASE_MS: i64 = 300_000;

/// Where mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub to: Vec<String>,
}

impl MailConfig {
    /// From `smtp://host[:port]`, a sender and recipients; errors name the setting.
    pub fn new(url: &str, from: &str, to: &str) -> Result<MailConfig, String> {
        let rest = url.strip_prefix("smtp://").ok_or("ONESEAL_SMTP_URL must be smtp://host[:port]")?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse::<u16>().map_err(|_| format!("ONESEAL_SMTP_URL: bad port {p}"))?),
            None => (rest.to_string(), 25),
        };
        if host.is_empty() {
            return Err("ONESEAL_SMTP_URL has no host".into());
        }
        from.parse::<lettre::message::Mailbox>().map_err(|e| format!("ONESEAL_MAIL_FROM: {e}"))?;
        let to: Vec<String> = to.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect();
        if to.is_empty() {
            return Err("ONESEAL_ALERT_MAIL_TO names no mailbox".into());
        }
        for t in &to {
            t.parse::<lettre::message::Mailbox>().map_err(|e| format!("ONESEAL_ALERT_MAIL_TO {t}: {e}"))?;
        }
        Ok(MailConfig { host, port, from: from.to_string(), to })
    }
}

/// The message for an event, if it is one that is mailed.
fn message_of(event_type: &str, payload: &str) -> Option<(String, String)> {
    let p: Value = serde_json::from_str(payload).ok()?;
    let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
    match event_type {
        // A project's alert names the project (its code) where a case's names the case.
        "alert_raised" if p["level"] == "red" => {
            let (label, subject) = if p["project_code"].is_string() {
                ("项目 Project", s("project_code"))
            } else {
                ("办件 Case", s("case_no"))
            };
            Some((
                format!("【电子监察】红灯预警 {subject} {}", s("title")),
                format!(
                    "{label}: {subject}\n事项 Service: {}\n部门 Department: {}\n类型 Kind: {}\n说明 Detail: {}\n\nOneSeal 电子监察 electronic supervision",
                    s("title"),
                    s("department"),
                    s("kind"),
                    s("detail")
                ),
            ))
        }
        "urging_escalated" => Some((
            "【电子监察】督办逾期未回复 urging overdue".to_string(),
            format!(
                "督办到期 The urging was due {} and is not answered.\n\nOneSeal 电子监察 electronic supervision",
                s("due")
            ),
        )),
        _ => None,
    }
}

impl App {
    /// Mail the red alerts and escalations after the mail cursor (up to `limit` events). Returns how many events
    /// were read; an SMTP error leaves the cursor where it was.
    ///
    /// Several nodes: the mail subscriber runs on one node at a time, the holder of the `mail` lease (taken or
    /// renewed before each round, held for [`MAIL_LEASE_MS`]); the others return 0. If the holder dies after the
    /// relay accepted a round and before its cursor moved, the next holder mails that round again (at least once;
    /// duplicates only from a node that died or stalled past its lease mid-round).
    pub async fn run_mail_once(&self, cfg: &MailConfig, limit: i64) -> Result<usize, AppError> {
        let now = ms(self.now());
        let holder = self.node_id().to_string();
        let held = self
            .store
            .write(move |db| db.take_lease(MAIL, &holder, now + MAIL_LEASE_MS, now).map_err(AppError::from))
            .await?;
        if !held {
            return Ok(0);
        }
        let events = self
            .store
            .read(move |db| -> Result<Vec<oneseal_store::StoredEvent>, AppError> {
                let c = db.cursor(MAIL)?;
                Ok(db.read_from(c, limit)?)
            })
            .await?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(0) };
        let mut messages = Vec::new();
        for e in &events {
            if let Some((subject, body)) = message_of(&e.event_type, &e.payload) {
                for to in &cfg.to {
                    let m = Message::builder()
                        .from(cfg.from.parse().map_err(|e| AppError::Internal(format!("mail from: {e}")))?)
                        .to(to.parse().map_err(|e| AppError::Internal(format!("mail to: {e}")))?)
                        .subject(subject.clone())
                        .header(ContentType::TEXT_PLAIN)
                        .body(body.clone())
                        .map_err(|e| AppError::Internal(format!("mail: {e}")))?;
                    messages.push(m);
                }
            }
        }
        if !messages.is_empty() {
            let (host, port) = (cfg.host.clone(), cfg.port);
            tokio::task::spawn_blocking(move || -> Result<(), AppError> {
                let t = SmtpTransport::builder_dangerous(host).port(port).build();
                for m in &messages {
                    t.send(m).map_err(|e| AppError::Internal(format!("smtp: {e}")))?;
                }
                Ok(())
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        }
        self.store.write(move |db| db.set_cursor(MAIL, last).map_err(AppError::from)).await?;
        Ok(events.len())
    }
}
