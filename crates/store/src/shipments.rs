//! Reads and writes of postal delivery (邮政寄送): the shipments projection — one row per shipment, with its
//! tracking as recorded — the shipments with the carrier (for the tracking worker), those waiting for a waybill,
//! and the count of shipments whose postage the bureau paid (免费寄递).

use crate::ops::Db;
use crate::sql::{Row, Val};
use crate::StoreError;

/// A shipment, projected from its stream. `address` and `phone` are sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentRow {
    /// The stream id, `shipment-{case_no}-{attempt}`.
    pub id: String,
    pub case_no: String,
    pub attempt: i64,
    pub department: String,
    pub address: String,
    pub phone: Option<String>,
    /// bureau | recipient
    pub postage: String,
    /// requested | created | picked_up | in_transit | out_for_delivery | delivered | returned | collected | resent
    pub status: String,
    pub carrier: Option<String>,
    pub waybill: Option<String>,
    /// When the waybill was issued.
    pub shipped_at_ms: Option<i64>,
    /// JSON array of the carrier's reports as recorded.
    pub tracking: String,
    /// The shipment this one sends again.
    pub resends: Option<String>,
    /// The shipment that sent this one again.
    pub next: Option<String>,
    pub collected_window: Option<String>,
    pub requested_by: String,
    pub requested_at_ms: i64,
    pub updated_at_ms: i64,
}

const COLS: &str =
    "id, case_no, attempt, department, address, phone, postage, status, carrier, waybill, shipped_at_ms, tracking, \
                    resends, next, collected_window, requested_by, requested_at_ms, updated_at_ms";

fn from_row(r: &Row) -> Result<ShipmentRow, StoreError> {
    Ok(ShipmentRow {
        id: r.text(0)?,
        case_no: r.text(1)?,
        attempt: r.int(2)?,
        department: r.text(3)?,
        address: r.text(4)?,
        phone: r.opt_text(5)?,
        postage: r.text(6)?,
        status: r.text(7)?,
        carrier: r.opt_text(8)?,
        waybill: r.opt_text(9)?,
        shipped_at_ms: r.opt_int(10)?,
        tracking: r.text(11)?,
        resends: r.opt_text(12)?,
        next: r.opt_text(13)?,
        collected_window: r.opt_text(14)?,
        requested_by: r.text(15)?,
        requested_at_ms: r.int(16)?,
        updated_at_ms: r.int(17)?,
    })
}

impl Db {
    /// Insert or replace a shipment's row.
    pub fn put_shipment(&mut self, s: &ShipmentRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO shipments ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, carrier = excluded.carrier, \
                 waybill = excluded.waybill, shipped_at_ms = excluded.shipped_at_ms, tracking = excluded.tracking, next = excluded.next, \
                 collected_window = excluded.collected_window, updated_at_ms = excluded.updated_at_ms"
            ),
            &[
                s.id.as_str().into(),
                s.case_no.as_str().into(),
                Val::Int(s.attempt),
                s.department.as_str().into(),
                s.address.as_str().into(),
                s.phone.clone().into(),
                s.postage.as_str().into(),
                s.status.as_str().into(),
                s.carrier.clone().into(),
                s.waybill.clone().into(),
                s.shipped_at_ms.into(),
                s.tracking.as_str().into(),
                s.resends.clone().into(),
                s.next.clone().into(),
                s.collected_window.clone().into(),
                s.requested_by.as_str().into(),
                Val::Int(s.requested_at_ms),
                Val::Int(s.updated_at_ms),
            ],
        )?;
        Ok(())
    }

    pub fn shipment(&mut self, id: &str) -> Result<Option<ShipmentRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {COLS} FROM shipments WHERE id = $1"), &[id.into()])?;
        rows.first().map(from_row).transpose()
    }

    /// A case's shipments, first sent first.
    pub fn shipments_of_case(&mut self, case_no: &str) -> Result<Vec<ShipmentRow>, StoreError> {
        let rows = self
            .sql
            .query(&format!("SELECT {COLS} FROM shipments WHERE case_no = $1 ORDER BY attempt"), &[case_no.into()])?;
        rows.iter().map(from_row).collect()
    }

    /// Shipments in one of `statuses`, least recently changed first (the workers' and the window's lists).
    pub fn shipments_in(&mut self, statuses: &[&str], limit: i64) -> Result<Vec<ShipmentRow>, StoreError> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let mut params: Vec<Val> = Vec::new();
        let mut marks = Vec::new();
        for s in statuses {
            params.push((*s).into());
            marks.push(format!("${}", params.len()));
        }
        params.push(Val::Int(limit));
        let rows = self.sql.query(
            &format!(
                "SELECT {COLS} FROM shipments WHERE status IN ({}) ORDER BY updated_at_ms, id LIMIT ${}",
                marks.join(", "),
                params.len()
            ),
            &params,
        )?;
        rows.iter().map(from_row).collect()
    }

    /// Shipments whose postage the bureau paid (免费寄递) requested since `since_ms`, and in all.
    pub fn free_postage_counts(&mut self, since_ms: i64) -> Result<(i64, i64), StoreError> {
        let rows = self.sql.query(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN requested_at_ms >= $1 THEN 1 ELSE 0 END), 0) FROM shipments WHERE postage = 'bureau'",
            &[Val::Int(since_ms)],
        )?;
        match rows.first() {
            Some(r) => Ok((r.int(1)?, r.int(0)?)),
            None => Ok((0, 0)),
        }
    }
}
