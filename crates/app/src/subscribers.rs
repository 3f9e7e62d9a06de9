//! Subscribers read the event log by global sequence and store their cursor in the same transaction as their
//! effect, so each effect happens exactly once even after a crash. `run_once` processes one batch, so tests drain
//! a subscriber deterministically and the server runs it in a loop.

use oneseal_store::Notification;

use oneseal_domain::calendar::format_date;
use oneseal_domain::case::CaseEvent;
use oneseal_domain::ids::CaseNo;

use crate::cases::recorded;
use crate::{App, AppError};

/// The notifications subscriber: tells an applicant when their case moves.
pub const NOTIFICATIONS: &str = "notifications";

fn message(kind: &str, title: &str, case_no: &CaseNo) -> Option<String> {
    if kind == "completed" {
        // The link to rate the service (一事一评) comes with the news of completion.
        return Some(format!("{title}: 已办结 completed — 请评价 rate the service: /rate?case_no={case_no}"));
    }
    let m = match kind {
        "accepted" => "已受理 accepted",
        "refused" => "不予受理 refused",
        "correction_requested" => "请一次性补正材料 please correct your application",
        "suspended" => "办理时限暂停计算 the clock is paused",
        "resumed" => "恢复计时 the clock runs again",
        "extended" => "办理时限已延长 the limit was extended",
        "decided" => "已作出决定 a decision was made",
        "licenses_issued" => "证照已制发 licence issued",
        "terminated" => "已终止 terminated",
        "inspection_scheduled" => "已预约勘验，请查看时间与方式 an inspection was scheduled",
        "joint_result_recorded" => {
            "联合勘验（验收）结果已登记；如有不合格项，请整改后在办件页报告 the joint result is recorded: correct any failed entry and report it on the case page"
        }
        _ => return None,
    };
    Some(format!("{title}: {m}"))
}

/// The news of a promised date moved by the official holiday notice; none when the promised date stayed.
fn moved_message(title: &str, old: Option<time::Date>, new: Option<time::Date>) -> Option<String> {
    let (Some(old), Some(new)) = (old, new) else { return None };
    (old != new).then(|| {
        format!(
            "{title}: 承诺办结日期按国务院放假通知调整为 {} （原 {}） the promised date moved with the official holiday notice: {} → {}",
            format_date(new),
            format_date(old),
            format_date(old),
            format_date(new)
        )
    })
}

impl App {
    /// Process up to `limit` events for the notifications subscriber; returns how many events it read.
    pub async fn run_notifications_once(&self, limit: i64) -> Result<usize, AppError> {
        // The write job reads below the safe horizon (PostgreSQL); move it past what is committed.
        self.store.settle().await?;
        self.store
            .write(move |db| -> Result<usize, AppError> {
                let cursor = db.cursor(NOTIFICATIONS)?;
                let events = db.read_from(cursor, limit)?;
                let Some(last) = events.last().map(|e| e.seq) else {
                    return Ok(0);
                };
                // The batch's case rows in one read and its notifications in one write (on PostgreSQL each
                // statement is a round trip: per event, the subscriber fell behind the write path).
                let mut nos: Vec<&str> = events.iter().filter_map(|e| e.stream_id.strip_prefix("case-")).collect();
                nos.sort_unstable();
                nos.dedup();
                let rows = db.get_cases(&nos)?;
                let mut out = Vec::new();
                for e in &events {
                    let Some(case_no) = e.stream_id.strip_prefix("case-").and_then(|c| CaseNo::parse(c).ok()) else {
                        continue;
                    };
                    let Some(row) = rows.get(case_no.as_str()) else {
                        continue;
                    };
                    // Decode to be sure the event is a case event of a known schema.
                    let r = recorded(e)?;
                    let text = match &r.event {
                        CaseEvent::DatesRecomputed { deadline, previous, .. } => {
                            moved_message(&row.title, previous.deadline, *deadline)
                        }
                        _ => message(&e.event_type, &row.title, &case_no),
                    };
                    let (Some(recipient), Some(text)) = (row.applicant_account.clone(), text) else {
                        continue;
                    };
                    out.push(Notification {
                        event_seq: e.seq,
                        recipient,
                        case_no: case_no.to_string(),
                        kind: e.event_type.clone(),
                        message: text,
                        created_at_ms: e.at_ms,
                    });
                }
                db.put_notifications(&out)?;
                db.set_cursor(NOTIFICATIONS, last)?;
                Ok(events.len())
            })
            .await
    }

    /// Run every subscriber until it has nothing left.
    pub async fn drain_subscribers(&self) -> Result<usize, AppError> {
        let mut total = 0;
        loop {
            let n = self.run_notifications_once(1000).await?
                + self.run_supervision_once(1000).await?
                + self.run_liaison_once(1000).await?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }

    pub async fn notifications(&self, recipient: &str, limit: i64) -> Result<Vec<Notification>, AppError> {
        let r = recipient.to_string();
        self.store.read(move |db| db.notifications(&r, limit).map_err(AppError::from)).await
    }
}
