//! Reads and writes of the approval–regulation liaison (审管互动): messages to regulators, consultations, and the
//! webhook endpoints and delivery outbox that push messages to regulators' systems.

use crate::ops::Db;
use crate::sql::{Row, Val};
use crate::{Backend, StoreError};

/// A message to a regulator, projected from its stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LiaisonRow {
    pub id: String,
    pub regulator: String,
    /// approval | filing | amendment | cancellation | revocation
    pub kind: String,
    pub case_no: Option<String>,
    pub license_identifier: Option<String>,
    pub item_code: String,
    pub title: String,
    /// JSON: what the regulator needs (holder, decision, licence number …), without personal identifiers.
    pub summary: String,
    pub event_seq: i64,
    pub pushed_at_ms: i64,
    /// The last day to acknowledge (认领), inclusive.
    pub ack_due: String,
    pub acknowledged_at_ms: Option<i64>,
    pub acknowledged_by: Option<String>,
    /// Whether the late-acknowledgement alert was raised.
    pub alerted: bool,
}

const LIAISON_COLS: &str = "id, regulator, kind, case_no, license_identifier, item_code, title, summary, event_seq, pushed_at_ms, ack_due, acknowledged_at_ms, acknowledged_by, alerted";

fn liaison_from(r: &Row) -> Result<LiaisonRow, StoreError> {
    Ok(LiaisonRow {
        id: r.text(0)?,
        regulator: r.text(1)?,
        kind: r.text(2)?,
        case_no: r.opt_text(3)?,
        license_identifier: r.opt_text(4)?,
        item_code: r.text(5)?,
        title: r.text(6)?,
        summary: r.text(7)?,
        event_seq: r.int(8)?,
        pushed_at_ms: r.int(9)?,
        ack_due: r.text(10)?,
        acknowledged_at_ms: r.opt_int(11)?,
        acknowledged_by: r.opt_text(12)?,
        alerted: r.int(13)? != 0,
    })
}

/// Which messages to list.
#[derive(Debug, Clone, Default)]
pub struct LiaisonFilter {
    pub regulator: Option<String>,
    /// Only those not yet acknowledged.
    pub unacknowledged: bool,
    pub case_no: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Per regulator: messages pushed, acknowledged, acknowledged late, and overdue (unacknowledged after the due day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiaisonCounter {
    pub regulator: String,
    pub pushed: i64,
    pub acknowledged: i64,
    pub acknowledged_late: i64,
    pub overdue: i64,
}

/// A consultation (事前征询) or an invitation to take part in an inspection (事中参与).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsultationRow {
    pub id: String,
    pub case_no: String,
    /// consult | join
    pub kind: String,
    pub regulator: String,
    pub step_id: String,
    pub question: String,
    pub asked_by: String,
    pub asked_at_ms: i64,
    pub due: String,
    pub pauses_clock: bool,
    /// open | answered | withdrawn
    pub status: String,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at_ms: Option<i64>,
}

const CONSULT_COLS: &str = "id, case_no, kind, regulator, step_id, question, asked_by, asked_at_ms, due, pauses_clock, status, answer, answered_by, answered_at_ms";

fn consult_from(r: &Row) -> Result<ConsultationRow, StoreError> {
    Ok(ConsultationRow {
        id: r.text(0)?,
        case_no: r.text(1)?,
        kind: r.text(2)?,
        regulator: r.text(3)?,
        step_id: r.text(4)?,
        question: r.text(5)?,
        asked_by: r.text(6)?,
        asked_at_ms: r.int(7)?,
        due: r.text(8)?,
        pauses_clock: r.int(9)? != 0,
        status: r.text(10)?,
        answer: r.opt_text(11)?,
        answered_by: r.opt_text(12)?,
        answered_at_ms: r.opt_int(13)?,
    })
}

/// A webhook endpoint of a department.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub department: String,
    pub url: String,
    /// The `whsec_…` secret, sealed.
    pub secret_sealed: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_by: String,
    pub created_at_ms: i64,
}

const ENDPOINT_COLS: &str = "id, department, url, secret_sealed, enabled, disabled_reason, created_by, created_at_ms";

fn endpoint_from(r: &Row) -> Result<WebhookEndpoint, StoreError> {
    Ok(WebhookEndpoint {
        id: r.text(0)?,
        department: r.text(1)?,
        url: r.text(2)?,
        secret_sealed: r.text(3)?,
        enabled: r.int(4)? != 0,
        disabled_reason: r.opt_text(5)?,
        created_by: r.text(6)?,
        created_at_ms: r.int(7)?,
    })
}

/// One message to one endpoint: the outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// The `webhook-id` header: stable across retries so receivers de-duplicate.
    pub id: String,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_type: String,
    pub payload: String,
    /// pending | delivered | dead
    pub status: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

const DELIVERY_COLS: &str = "id, endpoint_id, message_id, event_type, payload, status, attempts, next_attempt_ms, last_status, last_error, created_at_ms, finished_at_ms";

fn delivery_from(r: &Row) -> Result<WebhookDelivery, StoreError> {
    Ok(WebhookDelivery {
        id: r.text(0)?,
        endpoint_id: r.text(1)?,
        message_id: r.text(2)?,
        event_type: r.text(3)?,
        payload: r.text(4)?,
        status: r.text(5)?,
        attempts: r.int(6)?,
        next_attempt_ms: r.int(7)?,
        last_status: r.opt_int(8)?,
        last_error: r.opt_text(9)?,
        created_at_ms: r.int(10)?,
        finished_at_ms: r.opt_int(11)?,
    })
}

impl Db {
    pub fn put_liaison(&mut self, m: &LiaisonRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO liaison_messages ({LIAISON_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (id) DO UPDATE SET acknowledged_at_ms = excluded.acknowledged_at_ms, \
                 acknowledged_by = excluded.acknowledged_by, alerted = excluded.alerted"
            ),
            &[
                m.id.as_str().into(),
                m.regulator.as_str().into(),
                m.kind.as_str().into(),
                m.case_no.clone().into(),
                m.license_identifier.clone().into(),
                m.item_code.as_str().into(),
                m.title.as_str().into(),
                m.summary.as_str().into(),
                Val::Int(m.event_seq),
                Val::Int(m.pushed_at_ms),
                m.ack_due.as_str().into(),
                m.acknowledged_at_ms.into(),
                m.acknowledged_by.clone().into(),
                Val::Int(i64::from(m.alerted)),
            ],
        )?;
        Ok(())
    }

    pub fn liaison(&mut self, id: &str) -> Result<Option<LiaisonRow>, StoreError> {
        let rows =
            self.sql.query(&format!("SELECT {LIAISON_COLS} FROM liaison_messages WHERE id = $1"), &[id.into()])?;
        rows.first().map(liaison_from).transpose()
    }

    /// Messages, newest first, with the total matching.
    pub fn liaisons(&mut self, f: &LiaisonFilter) -> Result<(Vec<LiaisonRow>, i64), StoreError> {
        let mut wh = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        if let Some(r) = &f.regulator {
            params.push(r.into());
            wh.push(format!("regulator = ${}", params.len()));
        }
        if let Some(c) = &f.case_no {
            params.push(c.into());
            wh.push(format!("case_no = ${}", params.len()));
        }
        if f.unacknowledged {
            wh.push("acknowledged_at_ms IS NULL".to_string());
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        let total = self
            .sql
            .query(&format!("SELECT COUNT(*) FROM liaison_messages{where_sql}"), &params)?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let n = params.len();
        params.push(Val::Int(f.limit));
        params.push(Val::Int(f.offset));
        let rows = self.sql.query(
            &format!(
                "SELECT {LIAISON_COLS} FROM liaison_messages{where_sql} ORDER BY pushed_at_ms DESC, id LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &params,
        )?;
        Ok((rows.iter().map(liaison_from).collect::<Result<_, _>>()?, total))
    }

    /// Unacknowledged messages whose last day is before `today` and not alerted yet (through the partial index).
    pub fn liaisons_overdue(&mut self, today: &str, limit: i64) -> Result<Vec<LiaisonRow>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {LIAISON_COLS} FROM liaison_messages WHERE acknowledged_at_ms IS NULL AND alerted = 0 \
                 AND ack_due < $1 ORDER BY ack_due, id LIMIT $2"
            ),
            &[today.into(), Val::Int(limit)],
        )?;
        rows.iter().map(liaison_from).collect()
    }

    /// Counters per regulator as of `today`: a message is overdue while unacknowledged after its last day; it was
    /// acknowledged late when it carries the late-acknowledgement alert (raised by the sweep, or at the late
    /// acknowledgement itself).
    pub fn liaison_counters(&mut self, today: &str) -> Result<Vec<LiaisonCounter>, StoreError> {
        let rows = self.sql.query(
            "SELECT regulator, COUNT(*), \
             SUM(CASE WHEN acknowledged_at_ms IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN alerted = 1 AND acknowledged_at_ms IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN acknowledged_at_ms IS NULL AND ack_due < $1 THEN 1 ELSE 0 END) \
             FROM liaison_messages GROUP BY regulator ORDER BY regulator",
            &[today.into()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(LiaisonCounter {
                    regulator: r.text(0)?,
                    pushed: r.int(1)?,
                    acknowledged: r.int(2)?,
                    acknowledged_late: r.int(3)?,
                    overdue: r.int(4)?,
                })
            })
            .collect()
    }

    pub fn put_consultation(&mut self, c: &ConsultationRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO consultations ({CONSULT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, answer = excluded.answer, \
                 answered_by = excluded.answered_by, answered_at_ms = excluded.answered_at_ms"
            ),
            &[
                c.id.as_str().into(),
                c.case_no.as_str().into(),
                c.kind.as_str().into(),
                c.regulator.as_str().into(),
                c.step_id.as_str().into(),
                c.question.as_str().into(),
                c.asked_by.as_str().into(),
                Val::Int(c.asked_at_ms),
                c.due.as_str().into(),
                Val::Int(i64::from(c.pauses_clock)),
                c.status.as_str().into(),
                c.answer.clone().into(),
                c.answered_by.clone().into(),
                c.answered_at_ms.into(),
            ],
        )?;
        Ok(())
    }

    pub fn consultation(&mut self, id: &str) -> Result<Option<ConsultationRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {CONSULT_COLS} FROM consultations WHERE id = $1"), &[id.into()])?;
        rows.first().map(consult_from).transpose()
    }

    /// A case's consultations, oldest first.
    pub fn consultations_of_case(&mut self, case_no: &str) -> Result<Vec<ConsultationRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {CONSULT_COLS} FROM consultations WHERE case_no = $1 ORDER BY asked_at_ms, id"),
            &[case_no.into()],
        )?;
        rows.iter().map(consult_from).collect()
    }

    /// A regulator's consultations, newest first (open ones first).
    pub fn consultations_of_regulator(
        &mut self,
        regulator: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ConsultationRow>, StoreError> {
        let rows = match regulator {
            Some(r) => self.sql.query(
                &format!(
                    "SELECT {CONSULT_COLS} FROM consultations WHERE regulator = $1 \
                     ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, asked_at_ms DESC, id LIMIT $2"
                ),
                &[r.into(), Val::Int(limit)],
            )?,
            None => self.sql.query(
                &format!(
                    "SELECT {CONSULT_COLS} FROM consultations \
                     ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, asked_at_ms DESC, id LIMIT $1"
                ),
                &[Val::Int(limit)],
            )?,
        };
        rows.iter().map(consult_from).collect()
    }

    pub fn put_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO webhook_endpoints ({ENDPOINT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, enabled = excluded.enabled, \
                 disabled_reason = excluded.disabled_reason"
            ),
            &[
                e.id.as_str().into(),
                e.department.as_str().into(),
                e.url.as_str().into(),
                e.secret_sealed.as_str().into(),
                Val::Int(i64::from(e.enabled)),
                e.disabled_reason.clone().into(),
                e.created_by.as_str().into(),
                Val::Int(e.created_at_ms),
            ],
        )?;
        Ok(())
    }

    pub fn webhook_endpoint(&mut self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        let rows =
            self.sql.query(&format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE id = $1"), &[id.into()])?;
        rows.first().map(endpoint_from).transpose()
    }

    /// Endpoints of one department, or all.
    pub fn webhook_endpoints(&mut self, department: Option<&str>) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows = match department {
            Some(d) => self.sql.query(
                &format!(
                    "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE department = $1 ORDER BY created_at_ms, id"
                ),
                &[d.into()],
            )?,
            None => self
                .sql
                .query(&format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints ORDER BY created_at_ms, id"), &[])?,
        };
        rows.iter().map(endpoint_from).collect()
    }

    pub fn put_webhook_delivery(&mut self, d: &WebhookDelivery) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO webhook_deliveries ({DELIVERY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, \
                 next_attempt_ms = excluded.next_attempt_ms, last_status = excluded.last_status, \
                 last_error = excluded.last_error, finished_at_ms = excluded.finished_at_ms"
            ),
            &[
                d.id.as_str().into(),
                d.endpoint_id.as_str().into(),
                d.message_id.as_str().into(),
                d.event_type.as_str().into(),
                d.payload.as_str().into(),
                d.status.as_str().into(),
                Val::Int(d.attempts),
                Val::Int(d.next_attempt_ms),
                d.last_status.into(),
                d.last_error.clone().into(),
                Val::Int(d.created_at_ms),
                d.finished_at_ms.into(),
            ],
        )?;
        Ok(())
    }

    pub fn webhook_delivery(&mut self, id: &str) -> Result<Option<WebhookDelivery>, StoreError> {
        let rows =
            self.sql.query(&format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = $1"), &[id.into()])?;
        rows.first().map(delivery_from).transpose()
    }

    /// Pending deliveries whose attempt time has come, oldest first (through the status/next-attempt index).
    pub fn webhook_deliveries_due(&mut self, now_ms: i64, limit: i64) -> Result<Vec<WebhookDelivery>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_ms <= $1 \
                 ORDER BY next_attempt_ms, id LIMIT $2"
            ),
            &[Val::Int(now_ms), Val::Int(limit)],
        )?;
        rows.iter().map(delivery_from).collect()
    }

    /// Claim up to `limit` due deliveries for one attempt: each gets `next_attempt_ms = lease_until_ms` (its lease;
    /// not due again before then) and is returned as it was. On PostgreSQL the due rows are locked with
    /// `FOR UPDATE SKIP LOCKED`, so writers of other threads or nodes claiming at the same moment take other rows
    /// (and, once this transaction commits, see these as not due); SQLite's single writer claims one batch at a time.
    pub fn claim_webhook_deliveries(
        &mut self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let rows = self.sql.query(
            &format!(
                "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_ms <= $1 \
                 ORDER BY next_attempt_ms, id LIMIT $2{lock}"
            ),
            &[Val::Int(now_ms), Val::Int(limit)],
        )?;
        let due = rows.iter().map(delivery_from).collect::<Result<Vec<_>, _>>()?;
        for d in &due {
            self.sql.exec(
                "UPDATE webhook_deliveries SET next_attempt_ms = $1 WHERE id = $2",
                &[Val::Int(lease_until_ms), d.id.as_str().into()],
            )?;
        }
        Ok(due)
    }

    /// Record the outcome of an attempt made under the lease `lease_until_ms` (from
    /// [`Db::claim_webhook_deliveries`]): only if the delivery is still pending under that lease. False when the
    /// lease was lost meanwhile (it expired and another worker claimed the delivery, or it was changed by hand):
    /// then this outcome is not recorded and the other claim's is.
    pub fn finish_webhook_delivery(&mut self, d: &WebhookDelivery, lease_until_ms: i64) -> Result<bool, StoreError> {
        let n = self.sql.exec(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_ms = $3, last_status = $4, \
             last_error = $5, finished_at_ms = $6 WHERE id = $7 AND status = 'pending' AND next_attempt_ms = $8",
            &[
                d.status.as_str().into(),
                Val::Int(d.attempts),
                Val::Int(d.next_attempt_ms),
                d.last_status.into(),
                d.last_error.clone().into(),
                d.finished_at_ms.into(),
                d.id.as_str().into(),
                Val::Int(lease_until_ms),
            ],
        )?;
        Ok(n == 1)
    }

    /// Deliveries of some endpoints (all when `endpoints` is `None`), optionally of one status, newest first.
    pub fn webhook_deliveries(
        &mut self,
        endpoints: Option<&[String]>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut wh = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        if let Some(st) = status {
            params.push(st.into());
            wh.push(format!("status = ${}", params.len()));
        }
        if let Some(eps) = endpoints {
            if eps.is_empty() {
                return Ok(Vec::new());
            }
            let mut marks = Vec::new();
            for e in eps {
                params.push(e.into());
                marks.push(format!("${}", params.len()));
            }
            wh.push(format!("endpoint_id IN ({})", marks.join(", ")));
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        params.push(Val::Int(limit));
        let rows = self.sql.query(
            &format!(
                "SELECT {DELIVERY_COLS} FROM webhook_deliveries{where_sql} ORDER BY created_at_ms DESC, id LIMIT ${}",
                params.len()
            ),
            &params,
        )?;
        rows.iter().map(delivery_from).collect()
    }

    /// Delivery counts by status: (status, count), for the metrics.
    pub fn webhook_delivery_counts(&mut self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows =
            self.sql.query("SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status ORDER BY status", &[])?;
        rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
    }
}
