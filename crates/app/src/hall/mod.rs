//! The hall and its service network (`oneseal_domain::hall`): the network as a versioned document (stream
//! `network`), appointments (`appt-{code}`) with the places taken per slot, and queue numbers
//! (`queue-{point}-{yyyymmdd}-{number}`). Each stream kind has one projection function here, called by the
//! commands right after they record an event and by `rebuild` for every event of that kind.
//!
//! `mod.rs` holds the network and the hall's numbers; `appointments.rs` slots and bookings; `queue.rs` numbers,
//! windows and the board.

mod appointments;
mod queue;

pub(crate) use appointments::project_appointment;
pub use appointments::{AppointmentView, BookRequest, SlotView, MAX_OPEN_BOOKINGS, NO_SHOW_GRACE_MIN};
pub(crate) use queue::project_number;
use queue::state_of;
pub use queue::{BoardView, Calling, NumberView, SharedBoard, TakeRequest, WindowAction, WindowView};

use std::sync::Arc;

use oneseal_domain::calendar::{format_date, parse_date};
use oneseal_domain::clock::{local_date, CHINA};
use oneseal_domain::hall::{self, parse_hhmm, AppointmentStatus, HallError, Network, QueueState};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{AppointmentRow, Db, QueueRow, StoredEvent};
use serde::Serialize;
use time::{Date, PrimitiveDateTime};

use crate::{ms, App, AppError};

const NETWORK_STREAM: &str = "network";

const NETWORK_PUBLISHED: &str = "network_published";

impl From<HallError> for AppError {
    fn from(e: HallError) -> AppError {
        AppError::Conflict { code: e.code(), message: e.to_string(), title_zh: "当前状态下不能进行此操作" }
    }
}

/// The built-in network (catalog/network.toml).
pub fn builtin_network() -> Result<Network, AppError> {
    match crate::catalog::DEMO_CATALOG.iter().find(|(p, _)| p.ends_with("network.toml")) {
        Some((_, text)) => Network::parse(text).map_err(|e| AppError::invalid("network_invalid", e.to_string())),
        None => Ok(Network::default()),
    }
}

/// The network projection after a published version (the command and `rebuild` both call it).
pub(crate) fn project_network(db: &mut Db, e: &StoredEvent) -> Result<(), AppError> {
    if e.event_type != NETWORK_PUBLISHED {
        return Err(AppError::Internal(format!("{}: unknown event {}", e.stream_id, e.event_type)));
    }
    Ok(db.put_network(e.version, &e.payload, e.at_ms, &e.actor)?)
}

/// A service point as the public sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PointView {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub level: &'static str,
    pub address: String,
    pub acts_for: String,
    pub hours: Vec<String>,
    pub opens: &'static str,
    pub windows: usize,
    pub phone: String,
    /// Whether appointments can be booked for the item asked about (some window serves it).
    pub bookable: bool,
    pub distance_km: Option<f64>,
}

impl App {
    /// The network in force.
    pub fn network(&self) -> Arc<Network> {
        self.network.read().map(|g| g.clone()).unwrap_or_default()
    }

    /// Load the newest published network, or the built-in one if none was published.
    pub fn reload_network_blocking(&self) -> Result<(), AppError> {
        let stored = self.store.read_blocking(|db| db.network().map_err(AppError::from))?;
        let net = match stored {
            Some((_, body)) => serde_json::from_str(&body).map_err(|e| AppError::Internal(format!("network: {e}")))?,
            None => builtin_network()?,
        };
        if let Ok(mut g) = self.network.write() {
            *g = Arc::new(net);
        }
        Ok(())
    }

    fn item_codes(&self) -> std::collections::BTreeSet<String> {
        self.catalog().items.keys().cloned().collect()
    }

    /// Publish a new version of the network (administrators).
    pub async fn publish_network(&self, actor: &Actor, net: Network) -> Result<i64, AppError> {
        if !actor.has(Role::Administrator) {
            return Err(AppError::Forbidden("the service network is managed by administrators".into()));
        }
        net.validate(&self.item_codes()).map_err(|e| bad("invalid_network", &e.0))?;
        let body = serde_json::to_string(&net).map_err(|e| AppError::Internal(e.to_string()))?;
        let (now, who) = (ms(self.now()), actor.id.clone());
        let v = self
            .store
            .write(move |db| -> Result<i64, AppError> {
                let v = db.stream_version(NETWORK_STREAM)?;
                let e = crate::streams::record_raw(db, NETWORK_STREAM, v, NETWORK_PUBLISHED.into(), body, &who, now)?;
                project_network(db, &e)?;
                Ok(v + 1)
            })
            .await?;
        if let Ok(mut g) = self.network.write() {
            *g = Arc::new(net);
        }
        Ok(v)
    }

    fn point_view(&self, p: &hall::ServicePoint, item: Option<&str>, near: Option<(f64, f64)>) -> PointView {
        PointView {
            id: p.id.clone(),
            name: p.name.clone(),
            name_en: p.name_en.clone(),
            level: p.level.as_str(),
            address: p.address.clone(),
            acts_for: p.acts_for.clone(),
            hours: p.hours.clone(),
            opens: match p.opens {
                hall::Opening::WorkingDays => "working_days",
                hall::Opening::EveryDay => "every_day",
            },
            windows: p.windows.len(),
            phone: p.phone.clone(),
            bookable: item.is_some_and(|i| p.capacity(i) > 0),
            distance_km: near.map(|(la, lo)| (p.distance_km(la, lo) * 10.0).round() / 10.0),
        }
    }

    /// Every point, or those that handle an item, nearest first when a place is given.
    pub fn service_points(&self, item: Option<&str>, near: Option<(f64, f64)>) -> Vec<PointView> {
        let net = self.network();
        match item {
            Some(i) => net.points_for(i, near).into_iter().map(|p| self.point_view(p, Some(i), near)).collect(),
            None => net.points.iter().map(|p| self.point_view(p, None, near)).collect(),
        }
    }

    pub fn service_point(&self, id: &str) -> Result<PointView, AppError> {
        let net = self.network();
        let p = net.point(id).ok_or_else(|| AppError::NotFound(format!("service point {id}")))?;
        Ok(self.point_view(p, None, None))
    }

    pub(super) fn today(&self) -> Date {
        local_date(self.now())
    }

    /// The instant (ms) a slot of a date starts, Beijing time.
    pub(super) fn slot_start_ms(date: Date, slot: &str) -> Result<i64, AppError> {
        let t = parse_hhmm(slot).ok_or_else(|| bad("invalid_slot", "slot is HH:MM 时段格式应为 HH:MM"))?;
        Ok(ms(PrimitiveDateTime::new(date, t).assume_offset(CHINA)))
    }

    /// The hall's numbers over a period (both dates included, at most 366 days): waiting and service times, cases
    /// per window per day and hour, no-show rates, by point, window, section and item (`hall::stats`). For
    /// supervisors and administrators, like the dashboard.
    pub async fn hall_stats(&self, actor: &Actor, from: &str, to: &str) -> Result<hall::stats::HallStats, AppError> {
        if !crate::dashboard::may_see_dashboard(actor) {
            return Err(AppError::Forbidden("the hall's numbers are for leaders and supervisors".into()));
        }
        let f = parse_date(from).map_err(|_| bad("invalid_date", "from is YYYY-MM-DD 开始日期格式应为 YYYY-MM-DD"))?;
        let t = parse_date(to).map_err(|_| bad("invalid_date", "to is YYYY-MM-DD 结束日期格式应为 YYYY-MM-DD"))?;
        if f > t || (t - f).whole_days() > 365 {
            return Err(bad(
                "invalid_period",
                "from ≤ to, at most 366 days 开始日期不得晚于结束日期，跨度不超过 366 天",
            ));
        }
        let (fs, ts) = (format_date(f), format_date(t));
        let (rows, appts) = self
            .store
            .read(move |db| -> Result<(Vec<QueueRow>, Vec<AppointmentRow>), AppError> {
                Ok((db.queue_between(&fs, &ts)?, db.appointments_between(&fs, &ts)?))
            })
            .await?;
        let queue: Vec<QueueState> = rows.iter().map(state_of).collect::<Result<_, _>>()?;
        let facts: Vec<hall::stats::AppointmentFact> = appts
            .into_iter()
            .filter_map(|a| {
                Some(hall::stats::AppointmentFact {
                    status: AppointmentStatus::parse(&a.status)?,
                    point: a.point,
                    item: a.item,
                    date: a.date,
                })
            })
            .collect();
        let mut out = hall::stats::hall_stats(&queue, &facts, &self.network(), &[]);
        out.from = Some(from.to_string());
        out.to = Some(to.to_string());
        Ok(out)
    }
}

/// A window clerk works the windows, the queue and the returned shipments of the point they are posted to
/// (`staff_posted`, set by administrators), and of no other: 403 otherwise, before anything is read or written.
pub(crate) fn check_posted(actor: &Actor, point: &str) -> Result<(), AppError> {
    if !actor.has(Role::WindowClerk) {
        return Err(AppError::Forbidden("windows are worked by window clerks 窗口由窗口工作人员办理".into()));
    }
    if actor.post.as_deref() != Some(point) {
        return Err(AppError::Forbidden(format!(
            "a window clerk works only at the service point they are posted to, and you are not posted to {point} \
             窗口工作人员只能在派驻的服务点办理，您未派驻到该服务点"
        )));
    }
    Ok(())
}

/// Bad input: 422 with a stable code (the message in English and Chinese).
pub(super) fn bad(code: &'static str, msg: &str) -> AppError {
    AppError::invalid(code, msg.to_string())
}

/// A full slot: 409.
pub(super) fn full(code: &'static str, msg: &str) -> AppError {
    AppError::Conflict { code, message: msg.to_string(), title_zh: "该时段已约满" }
}
