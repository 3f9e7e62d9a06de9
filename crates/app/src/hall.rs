//! The hall and its service network (`oneseal_domain::hall`): the network as a versioned document (stream
//! `network`), appointments (`appt-{code}`) with the places taken per slot, and queue numbers
//! (`queue-{point}-{yyyymmdd}-{number}`). Each stream kind has one projection function here, called by the
//! commands right after they record an event and by `rebuild` for every event of that kind.

use std::sync::Arc;

use oneseal_domain::calendar::{format_date, parse_date};
use oneseal_domain::case::ApplicantKind;
use oneseal_domain::catalog::{Handling, Tag};
use oneseal_domain::clock::{local_date, CHINA};
use oneseal_domain::hall::{
    self, age_on, hhmm, parse_hhmm, AppointmentEvent, AppointmentStatus, Arrival, ArrivalSource, BookingChannel,
    HallError, Network, PriorityClass, QueueEvent, QueueState, QueueStatus,
};
use oneseal_domain::ids::{CaseNo, ResidentId};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{AppointmentRow, Db, QueueRow, StoredEvent};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::streams::{decode, record, record_at};
use crate::{ms, App, AppError};

const NETWORK_STREAM: &str = "network";
const NETWORK_PUBLISHED: &str = "network_published";
/// How many open bookings one person may hold at once.
pub const MAX_OPEN_BOOKINGS: i64 = 3;
/// Minutes after a slot's end before a booking that did not arrive is a no-show.
pub const NO_SHOW_GRACE_MIN: i64 = 30;

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

fn appt_stream(code: &str) -> String {
    format!("appt-{code}")
}

/// The appointments projection (and the slot counts) after one event of an appointment's stream.
pub(crate) fn project_appointment(db: &mut Db, e: &StoredEvent) -> Result<Option<AppointmentRow>, AppError> {
    let ev: AppointmentEvent = decode(e)?;
    let code = e.stream_id.trim_start_matches("appt-").to_string();
    let row = match ev {
        AppointmentEvent::Booked { point, item, date, slot, channel, account, holder_index, name, phone } => {
            db.add_to_slot(&point, &date, &slot, &item, 1)?;
            Some(AppointmentRow {
                code,
                point,
                item,
                date,
                slot,
                status: AppointmentStatus::Booked.as_str().into(),
                channel: channel.as_str().into(),
                account,
                holder_index,
                name,
                phone,
                booked_at_ms: e.at_ms,
                booked_by: e.actor.clone(),
                reminded: false,
                number: None,
                changed_at_ms: e.at_ms,
            })
        }
        ev => match db.appointment(&code)? {
            None => None,
            Some(mut a) => {
                let status = AppointmentStatus::parse(&a.status)
                    .ok_or_else(|| AppError::Internal(format!("appointment {code}: status {}", a.status)))?;
                a.status = status.apply(&ev).as_str().into();
                a.changed_at_ms = e.at_ms;
                match ev {
                    AppointmentEvent::Rebooked { date, slot } => {
                        db.add_to_slot(&a.point, &a.date, &a.slot, &a.item, -1)?;
                        db.add_to_slot(&a.point, &date, &slot, &a.item, 1)?;
                        a.date = date;
                        a.slot = slot;
                    }
                    AppointmentEvent::Cancelled { .. } => db.add_to_slot(&a.point, &a.date, &a.slot, &a.item, -1)?,
                    AppointmentEvent::Reminded {} => a.reminded = true,
                    AppointmentEvent::CheckedIn { number } => a.number = Some(number),
                    AppointmentEvent::NoShow {} | AppointmentEvent::Booked { .. } => {}
                }
                Some(a)
            }
        },
    };
    if let Some(a) = &row {
        db.put_appointment(a)?;
    }
    Ok(row)
}

fn queue_stream(point: &str, date: &str, number: &str) -> String {
    format!("queue-{point}-{}-{number}", date.replace('-', ""))
}

fn state_of(r: &QueueRow) -> Result<QueueState, AppError> {
    serde_json::from_str(&r.state).map_err(|e| AppError::Internal(format!("{}: {e}", r.stream_id)))
}

/// The queue projection after one event of a number's stream.
pub(crate) fn project_number(db: &mut Db, e: &StoredEvent) -> Result<QueueState, AppError> {
    let ev: QueueEvent = decode(e)?;
    let st = match QueueState::taken(&ev, e.at_ms) {
        Some(s) => s,
        None => {
            let row = db
                .queue_number(&e.stream_id)?
                .ok_or_else(|| AppError::Internal(format!("{}: no number taken", e.stream_id)))?;
            let mut s = state_of(&row)?;
            s.apply(&ev, e.at_ms);
            s
        }
    };
    db.put_queue_number(&QueueRow {
        stream_id: e.stream_id.clone(),
        point: st.point.clone(),
        date: st.date.clone(),
        number: st.number.clone(),
        status: st.status.as_str().into(),
        window_no: st.window.clone(),
        changed_at_ms: e.at_ms,
        state: serde_json::to_string(&st).map_err(|x| AppError::Internal(x.to_string()))?,
    })?;
    Ok(st)
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

/// One appointment slot of a day.
#[derive(Debug, Clone, Serialize)]
pub struct SlotView {
    pub slot: String,
    pub capacity: u32,
    pub taken: u32,
    pub left: u32,
}

/// What booking asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookRequest {
    pub point: String,
    pub item: String,
    pub date: String,
    pub slot: String,
    pub channel: BookingChannel,
    pub name: String,
    pub id_number: String,
    pub phone: String,
}

/// An appointment as its holder and staff see it (name and phone masked).
#[derive(Debug, Clone, Serialize)]
pub struct AppointmentView {
    pub code: String,
    pub point: String,
    pub point_name: String,
    pub item: String,
    pub item_name: String,
    pub date: String,
    pub slot: String,
    pub status: String,
    pub channel: String,
    pub name: String,
    pub phone: String,
    pub number: Option<String>,
}

/// What taking a number asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeRequest {
    pub point: String,
    #[serde(default)]
    pub item: Option<String>,
    #[serde(default)]
    pub section: Option<String>,
    pub source: Option<ArrivalSource>,
    /// The booking code, for an appointment's arrival.
    #[serde(default)]
    pub appointment: Option<String>,
    /// Read from the ID card at a kiosk or window, for the age rule only; never stored.
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub elderly: bool,
    #[serde(default)]
    pub disabled: bool,
    /// Taken at a window: which one (首问负责).
    #[serde(default)]
    pub window: Option<String>,
}

/// A queue number as its holder sees it: where it stands and about how long.
#[derive(Debug, Clone, Serialize)]
pub struct NumberView {
    pub point: String,
    pub point_name: String,
    pub date: String,
    pub number: String,
    pub status: QueueStatus,
    pub class: PriorityClass,
    pub window: Option<String>,
    pub ahead: usize,
    pub minutes: u32,
    pub section: Option<String>,
    pub item_name: Option<String>,
}

/// A window's command.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum WindowAction {
    CallNext,
    /// Call a skipped (or waiting) number by its number.
    Call {
        number: String,
    },
    Recall,
    Skip,
    Start,
    Transfer {
        #[serde(default)]
        to_window: Option<String>,
        #[serde(default)]
        to_section: Option<String>,
        #[serde(default)]
        hand_off: bool,
        #[serde(default)]
        note: String,
    },
    /// Served; with the case accepted for the person, if one was.
    Finish {
        #[serde(default)]
        case_no: Option<String>,
    },
}

/// What a window shows its clerk.
#[derive(Debug, Clone, Serialize)]
pub struct WindowView {
    pub point: String,
    pub point_name: String,
    pub window: String,
    pub section: String,
    pub current: Option<QueueState>,
    /// Waiting numbers this window may call.
    pub waiting: usize,
    pub skipped: Vec<String>,
    pub sections: Vec<String>,
    pub windows: Vec<String>,
}

/// A number being called, for the hall screen.
#[derive(Debug, Clone, Serialize)]
pub struct Calling {
    pub number: String,
    pub window: String,
    pub called_ms: i64,
    pub calls: u32,
    /// The text a voice reads out: 请 A001 号到 A03 窗口办理.
    pub announce: String,
}

/// The hall screen's content.
#[derive(Debug, Clone, Serialize)]
pub struct BoardView {
    pub point: String,
    pub point_name: String,
    pub date: String,
    pub calling: Vec<Calling>,
    pub waiting: usize,
    pub waiting_by_section: Vec<(String, usize)>,
    pub changed_ms: i64,
}

fn bad(code: &'static str, msg: &str) -> AppError {
    AppError::invalid(code, msg.to_string())
}

fn full(code: &'static str, msg: &str) -> AppError {
    AppError::Conflict { code, message: msg.to_string(), title_zh: "该时段已约满" }
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

    fn today(&self) -> Date {
        local_date(self.now())
    }

    /// The instant (ms) a slot of a date starts, Beijing time.
    fn slot_start_ms(date: Date, slot: &str) -> Result<i64, AppError> {
        let t = parse_hhmm(slot).ok_or_else(|| bad("invalid_slot", "slot is HH:MM 时段格式应为 HH:MM"))?;
        Ok(ms(PrimitiveDateTime::new(date, t).assume_offset(CHINA)))
    }

    /// Check a point, item, date and slot for booking; the slot's capacity.
    fn bookable(&self, point: &str, item: &str, date: &str, slot: &str) -> Result<(Date, u32), AppError> {
        let net = self.network();
        let p = net.point(point).ok_or_else(|| AppError::NotFound(format!("service point {point}")))?;
        if self.catalog().latest_item(item).is_none() {
            return Err(AppError::NotFound(format!("item {item}")));
        }
        if !p.handles(item) {
            return Err(bad("point_does_not_handle", "this point does not handle the item 该受理点不办理此事项"));
        }
        let cap = p.capacity(item);
        if cap == 0 {
            return Err(bad("not_bookable", "no window here takes appointments for the item 该事项在此受理点不可预约"));
        }
        let d = parse_date(date).map_err(|_| bad("invalid_date", "date is YYYY-MM-DD 日期格式应为 YYYY-MM-DD"))?;
        let today = self.today();
        let last = today + time::Duration::days(i64::from(net.book_days_ahead) - 1);
        if d < today || d > last {
            return Err(bad(
                "date_out_of_range",
                &format!(
                    "appointments are taken from {} to {} 只能预约 {} 至 {}",
                    format_date(today),
                    format_date(last),
                    format_date(today),
                    format_date(last)
                ),
            ));
        }
        let slots = p.slots_on(&self.calendar(), d, net.slot_minutes);
        if !slots.iter().any(|t| hhmm(*t) == slot) {
            return Err(bad("invalid_slot", "the point has no such slot that day 该日无此预约时段"));
        }
        if Self::slot_start_ms(d, slot)? <= ms(self.now()) {
            return Err(bad("slot_passed", "the slot has begun 该时段已开始"));
        }
        Ok((d, cap))
    }

    /// The slots of a day for an item at a point, with the places left.
    pub async fn slots(&self, point: &str, item: &str, date: &str) -> Result<Vec<SlotView>, AppError> {
        let net = self.network();
        let p = net.point(point).ok_or_else(|| AppError::NotFound(format!("service point {point}")))?.clone();
        if !p.handles(item) {
            return Err(bad("point_does_not_handle", "this point does not handle the item 该受理点不办理此事项"));
        }
        let d = parse_date(date).map_err(|_| bad("invalid_date", "date is YYYY-MM-DD 日期格式应为 YYYY-MM-DD"))?;
        let cap = p.capacity(item);
        let now = ms(self.now());
        let starts = p.slots_on(&self.calendar(), d, net.slot_minutes);
        let (pt, dt, it) = (point.to_string(), date.to_string(), item.to_string());
        let taken = self.store.read(move |db| db.slots_taken(&pt, &dt, &it).map_err(AppError::from)).await?;
        let mut out = Vec::new();
        for t in starts {
            let slot = hhmm(t);
            if Self::slot_start_ms(d, &slot)? <= now {
                continue;
            }
            let n = taken.iter().find(|(s, _)| *s == slot).map_or(0, |(_, n)| u32::try_from(*n).unwrap_or(0));
            out.push(SlotView { slot, capacity: cap, taken: n, left: cap.saturating_sub(n) });
        }
        Ok(out)
    }

    /// Who may book through a channel: the hotline for a caller (operators), the window for a visitor (clerks);
    /// the portal, phones and kiosks for anyone.
    fn channel_allowed(actor: Option<&Actor>, ch: BookingChannel) -> Result<(), AppError> {
        let has = |r: Role| actor.is_some_and(|a| a.has(r));
        match ch {
            BookingChannel::Hotline if !has(Role::HotlineOperator) => {
                Err(AppError::Forbidden("bookings by phone call are made by hotline operators".into()))
            }
            BookingChannel::Window if !has(Role::WindowClerk) => {
                Err(AppError::Forbidden("bookings at a window are made by window clerks".into()))
            }
            _ => Ok(()),
        }
    }

    /// Book a slot. Two bookings can never take the last place: the slot's count is read under a lock (one writer
    /// on SQLite, a row lock on PostgreSQL) and checked against the capacity in the transaction that records it.
    pub async fn book(&self, actor: Option<&Actor>, req: BookRequest) -> Result<AppointmentView, AppError> {
        Self::channel_allowed(actor, req.channel)?;
        if matches!(req.channel, BookingChannel::Online | BookingChannel::Mobile) && actor.is_none() {
            return Err(AppError::Unauthenticated);
        }
        let name = req.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(bad("invalid_name", "name is 1–50 characters 姓名为 1–50 个字符"));
        }
        let id = ResidentId::parse(req.id_number.trim().to_uppercase().as_str())
            .map_err(|e| AppError::invalid(e.code(), format!("resident ID number 身份证号码: {e}")))?;
        let phone = req.phone.trim().to_string();
        if phone.len() != 11 || !phone.starts_with('1') || !phone.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "invalid_phone",
                "a mobile number is 11 digits starting with 1 手机号码应为以 1 开头的 11 位数字",
            ));
        }
        let (date, cap) = self.bookable(&req.point, &req.item, &req.date, &req.slot)?;
        let net = self.network();
        let holder_index = self.id_index(ApplicantKind::Person, id.as_str());
        let (sealed_name, sealed_phone) = (self.seal_value(&name)?, self.seal_value(&phone)?);
        let account = actor.filter(|a| a.has(Role::Applicant)).map(|a| a.id.clone());
        let who = actor.map_or_else(|| "anonymous".to_string(), |a| a.id.clone());
        let today = self.today();
        let now = ms(self.now());
        let ev = AppointmentEvent::Booked {
            point: req.point.clone(),
            item: req.item.clone(),
            date: format_date(date),
            slot: req.slot.clone(),
            channel: req.channel,
            account,
            holder_index: holder_index.clone(),
            name: sealed_name,
            phone: sealed_phone,
        };
        let mut last = None;
        for _ in 0..4 {
            let code = format!("{:08}", u64::from_str_radix(&crate::random_hex(4)?, 16).unwrap_or(0) % 100_000_000);
            let (ev, net, holder_index) = (ev.clone(), net.clone(), holder_index.clone());
            let who = who.clone();
            let r = self
                .store
                .write(move |db| -> Result<AppointmentRow, AppError> {
                    let stream = appt_stream(&code);
                    if db.stream_version(&stream)? > 0 {
                        return Err(AppError::Internal("booking code taken".into()));
                    }
                    let (no_shows, open) = db.holder_record(&holder_index)?;
                    let dates: Vec<Date> = no_shows.iter().filter_map(|d| parse_date(d).ok()).collect();
                    if let Some(until) = net.booking_paused_until(&dates, today) {
                        return Err(AppError::Conflict {
                            code: "booking_paused",
                            message: format!(
                                "booking is paused until {} after repeated no-shows 因多次预约未到，{} 前暂停预约",
                                format_date(until),
                                format_date(until)
                            ),
                            title_zh: "暂停预约",
                        });
                    }
                    if open >= MAX_OPEN_BOOKINGS {
                        return Err(AppError::Conflict {
                            code: "too_many_bookings",
                            message: format!("at most {MAX_OPEN_BOOKINGS} open bookings per person 每人最多同时保留 {MAX_OPEN_BOOKINGS} 个预约"),
                            title_zh: "预约数已达上限",
                        });
                    }
                    let AppointmentEvent::Booked { point, item, date, slot, .. } = &ev else {
                        return Err(AppError::Internal("not a booking".into()));
                    };
                    let taken = db.lock_slot(point, date, slot, item)?;
                    if taken >= i64::from(cap) {
                        return Err(full("slot_full", "the slot is fully booked 该时段已约满"));
                    }
                    let e = record_at(db, &stream, 0, &ev, &who, now)?;
                    project_appointment(db, &e)?.ok_or_else(|| AppError::Internal("no appointment row".into()))
                })
                .await;
            match r {
                Ok(row) => return self.appointment_view(&row),
                Err(AppError::Store(e)) if e.is_transient() => last = Some(AppError::Store(e)),
                Err(AppError::Internal(m)) if m == "booking code taken" => last = Some(AppError::Internal(m)),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AppError::Internal("booking failed".into())))
    }

    fn appointment_view(&self, a: &AppointmentRow) -> Result<AppointmentView, AppError> {
        let net = self.network();
        let cat = self.catalog();
        Ok(AppointmentView {
            code: a.code.clone(),
            point: a.point.clone(),
            point_name: net.point(&a.point).map_or_else(|| a.point.clone(), |p| p.name.clone()),
            item: a.item.clone(),
            item_name: cat.latest_item(&a.item).map_or_else(|| a.item.clone(), |i| i.body.name.clone()),
            date: a.date.clone(),
            slot: a.slot.clone(),
            status: a.status.clone(),
            channel: a.channel.clone(),
            name: crate::pd::mask_name(&self.reveal(&a.name)?),
            phone: crate::pd::mask_phone(&self.reveal(&a.phone)?),
            number: a.number.clone(),
        })
    }

    /// An appointment, for its holder's account or hall staff (window clerks, hotline operators, supervisors).
    /// Anyone else is told it does not exist.
    async fn appointment_for(&self, actor: &Actor, code: &str) -> Result<AppointmentRow, AppError> {
        let c = code.to_string();
        let row = self.store.read(move |db| db.appointment(&c).map_err(AppError::from)).await?;
        let staff = actor.has(Role::WindowClerk) || actor.has(Role::HotlineOperator) || actor.has(Role::Supervisor);
        match row {
            Some(a) if staff || a.account.as_deref() == Some(actor.id.as_str()) => Ok(a),
            _ => Err(AppError::NotFound(format!("appointment {code}"))),
        }
    }

    pub async fn appointment(&self, actor: &Actor, code: &str) -> Result<AppointmentView, AppError> {
        let a = self.appointment_for(actor, code).await?;
        self.appointment_view(&a)
    }

    /// The signed-in applicant's appointments from today on.
    pub async fn my_appointments(&self, actor: &Actor) -> Result<Vec<AppointmentView>, AppError> {
        let (id, from) = (actor.id.clone(), format_date(self.today()));
        let rows = self.store.read(move |db| db.appointments_of_account(&id, &from).map_err(AppError::from)).await?;
        rows.iter().map(|a| self.appointment_view(a)).collect()
    }

    /// Cancel a booking (its holder or hall staff).
    pub async fn cancel_appointment(
        &self,
        actor: &Actor,
        code: &str,
        reason: &str,
    ) -> Result<AppointmentView, AppError> {
        let a = self.appointment_for(actor, code).await?;
        let reason: String = reason.trim().chars().take(200).collect();
        let ev = AppointmentEvent::Cancelled { reason };
        self.appointment_event(actor, &a, ev, None).await
    }

    /// Move a booking to another slot of the same item at the same point.
    pub async fn rebook(&self, actor: &Actor, code: &str, date: &str, slot: &str) -> Result<AppointmentView, AppError> {
        let a = self.appointment_for(actor, code).await?;
        let (d, cap) = self.bookable(&a.point, &a.item, date, slot)?;
        let ev = AppointmentEvent::Rebooked { date: format_date(d), slot: slot.to_string() };
        self.appointment_event(actor, &a, ev, Some(cap)).await
    }

    /// Record an event on an appointment at the version read; `cap`: the new slot's capacity, checked under its lock.
    async fn appointment_event(
        &self,
        actor: &Actor,
        a: &AppointmentRow,
        ev: AppointmentEvent,
        cap: Option<u32>,
    ) -> Result<AppointmentView, AppError> {
        let (stream, who, now) = (appt_stream(&a.code), actor.id.clone(), ms(self.now()));
        let code = a.code.clone();
        let mut last = None;
        for _ in 0..4 {
            let (ev, stream, who, code) = (ev.clone(), stream.clone(), who.clone(), code.clone());
            let r = self
                .store
                .write(move |db| -> Result<AppointmentRow, AppError> {
                    let a = db.appointment(&code)?.ok_or_else(|| AppError::NotFound(format!("appointment {code}")))?;
                    let status = AppointmentStatus::parse(&a.status)
                        .ok_or_else(|| AppError::Internal(format!("appointment {code}: {}", a.status)))?;
                    status.check(&ev)?;
                    if let (AppointmentEvent::Rebooked { date, slot }, Some(cap)) = (&ev, cap) {
                        if (date, slot) != (&a.date, &a.slot)
                            && db.lock_slot(&a.point, date, slot, &a.item)? >= i64::from(cap)
                        {
                            return Err(full("slot_full", "the slot is fully booked 该时段已约满"));
                        }
                    }
                    let e = record(db, &stream, &ev, &who, now)?;
                    project_appointment(db, &e)?.ok_or_else(|| AppError::Internal("no appointment row".into()))
                })
                .await;
            match r {
                Ok(row) => return self.appointment_view(&row),
                Err(AppError::Store(e)) if e.is_transient() => last = Some(AppError::Store(e)),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AppError::Internal("appointment change failed".into())))
    }

    /// A point's appointments of today (window clerks), masked.
    pub async fn appointments_today(&self, actor: &Actor, point: &str) -> Result<Vec<AppointmentView>, AppError> {
        if !actor.has(Role::WindowClerk) && !actor.has(Role::Supervisor) {
            return Err(AppError::Forbidden("the day's appointments are for window clerks".into()));
        }
        self.service_point(point)?;
        let (p, d) = (point.to_string(), format_date(self.today()));
        let rows = self.store.read(move |db| db.appointments_at(&p, &d).map_err(AppError::from)).await?;
        rows.iter().map(|a| self.appointment_view(a)).collect()
    }

    /// Take a number on arrival. Kiosks, phones and the reception desk take numbers without signing in; a number
    /// taken at a window needs a window clerk, and that window is first responsible (首问负责).
    pub async fn take_number(&self, actor: Option<&Actor>, req: TakeRequest) -> Result<NumberView, AppError> {
        let net = self.network();
        let p =
            net.point(&req.point).ok_or_else(|| AppError::NotFound(format!("service point {}", req.point)))?.clone();
        if p.windows.is_empty() {
            return Err(bad("no_windows", "this point has no windows to queue for 该点位无服务窗口"));
        }
        let source = req.source.unwrap_or(ArrivalSource::Kiosk);
        if source == ArrivalSource::Window {
            if !actor.is_some_and(|a| a.has(Role::WindowClerk)) {
                return Err(AppError::Forbidden("numbers are taken at a window by its clerk".into()));
            }
            match req.window.as_deref() {
                Some(w) if p.window(w).is_some() => {}
                _ => return Err(bad("unknown_window", "name the window the number is taken at 请指定窗口")),
            }
        } else if req.window.is_some() {
            return Err(bad("unknown_window", "only a number taken at a window names one 仅窗口取号可指定窗口"));
        }
        if let Some(i) = &req.item {
            if self.catalog().latest_item(i).is_none() {
                return Err(bad("unknown_item", "no such item in the catalog 目录中无此事项"));
            }
            if !p.handles(i) {
                return Err(bad("point_does_not_handle", "this point does not handle the item 该受理点不办理此事项"));
            }
        }
        if let Some(s) = &req.section {
            if !p.windows.iter().any(|w| w.section == *s) {
                return Err(bad("unknown_section", "no such section here 该点位无此分区"));
            }
        }
        let today = self.today();
        let now = ms(self.now());
        let age = match req.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => {
                let rid = ResidentId::parse(&id.to_uppercase())
                    .map_err(|e| AppError::invalid(e.code(), format!("resident ID number 身份证号码: {e}")))?;
                rid.birth_date().map(|b| age_on(b, today))
            }
            None => None,
        };
        let cat = self.catalog();
        let mut item = req.item.clone();
        let mut in_slot = false;
        let appointment = match req.appointment.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(code) => {
                let c = code.to_string();
                let a = self
                    .store
                    .read(move |db| db.appointment(&c).map_err(AppError::from))
                    .await?
                    .filter(|a| a.point == p.id)
                    .ok_or_else(|| AppError::NotFound(format!("appointment {code} at this point")))?;
                if a.status != AppointmentStatus::Booked.as_str() || a.date != format_date(today) {
                    return Err(AppError::Conflict {
                        code: "appointment_not_today",
                        message: "the booking is not for today or was used 该预约不是今天的或已使用".into(),
                        title_zh: "预约不可用",
                    });
                }
                in_slot = net.in_slot(Self::slot_start_ms(today, &a.slot)?, now);
                item = Some(a.item.clone());
                Some(a.code)
            }
            None => None,
        };
        let on_the_spot = item
            .as_deref()
            .and_then(|i| cat.latest_item(i))
            .is_some_and(|i| i.body.tags.contains(&Tag::OnTheSpot) || i.body.handling == Handling::Immediate);
        let (class, rank) = net.classify(&Arrival {
            in_slot_appointment: in_slot,
            age,
            declared_elderly: req.elderly,
            disabled: req.disabled,
            on_the_spot_item: on_the_spot,
        });
        let date = format_date(today);
        let who = actor.map_or_else(|| "anonymous".to_string(), |a| a.id.clone());
        let (pid, section, window) = (p.id.clone(), req.section.clone(), req.window.clone());
        let st = self
            .store
            .write(move |db| -> Result<QueueState, AppError> {
                let n = db.next_counter(&format!("queue:{pid}:{date}:{}", class.prefix()))?;
                let number = format!("{}{n:03}", class.prefix());
                let ev = QueueEvent::Taken {
                    point: pid.clone(),
                    date: date.clone(),
                    number: number.clone(),
                    item,
                    section,
                    source,
                    class,
                    rank,
                    appointment: appointment.clone(),
                    window,
                };
                if let Some(code) = &appointment {
                    let a = db.appointment(code)?.ok_or_else(|| AppError::NotFound(format!("appointment {code}")))?;
                    let ci = AppointmentEvent::CheckedIn { number: number.clone() };
                    AppointmentStatus::parse(&a.status).unwrap_or(AppointmentStatus::Cancelled).check(&ci)?;
                    let e = record(db, &appt_stream(code), &ci, &who, now)?;
                    project_appointment(db, &e)?;
                }
                let e = record_at(db, &queue_stream(&pid, &date, &number), 0, &ev, &who, now)?;
                project_number(db, &e)
            })
            .await?;
        self.number_view_of(&st).await
    }

    /// Where a number stands (public: the number shows no one's data).
    pub async fn number_view(&self, point: &str, number: &str) -> Result<NumberView, AppError> {
        let date = format_date(self.today());
        let stream = queue_stream(point, &date, number);
        let row = self.store.read(move |db| db.queue_number(&stream).map_err(AppError::from)).await?;
        let row = row.ok_or_else(|| AppError::NotFound(format!("number {number} today at {point}")))?;
        self.number_view_of(&state_of(&row)?).await
    }

    async fn open_numbers(&self, point: &str, date: &str) -> Result<Vec<QueueState>, AppError> {
        let (p, d) = (point.to_string(), date.to_string());
        let rows = self.store.read(move |db| db.queue_of(&p, &d, false).map_err(AppError::from)).await?;
        rows.iter().map(state_of).collect()
    }

    async fn number_view_of(&self, st: &QueueState) -> Result<NumberView, AppError> {
        let net = self.network();
        let p = net.point(&st.point).ok_or_else(|| AppError::NotFound(format!("service point {}", st.point)))?;
        let open = self.open_numbers(&st.point, &st.date).await?;
        let cat = self.catalog();
        let minutes =
            st.item.as_deref().and_then(|i| cat.latest_item(i)).map_or(15.0, |i| f64::from(i.body.window_minutes()));
        let (ahead, minutes) =
            if st.status == QueueStatus::Waiting { hall::ahead_of(st, &open, p, minutes) } else { (0, 0) };
        Ok(NumberView {
            point: st.point.clone(),
            point_name: p.name.clone(),
            date: st.date.clone(),
            number: st.number.clone(),
            status: st.status,
            class: st.class,
            window: st.window.clone(),
            ahead,
            minutes,
            section: st.section.clone(),
            item_name: st.item.as_deref().and_then(|i| cat.latest_item(i)).map(|i| i.body.name.clone()),
        })
    }

    fn window_of(&self, point: &str, window: &str) -> Result<(hall::ServicePoint, hall::Window), AppError> {
        let net = self.network();
        let p = net.point(point).ok_or_else(|| AppError::NotFound(format!("service point {point}")))?;
        let w = p.window(window).ok_or_else(|| AppError::NotFound(format!("window {window} at {point}")))?;
        Ok((p.clone(), w.clone()))
    }

    /// What a window shows its clerk.
    pub async fn window_view(&self, actor: &Actor, point: &str, window: &str) -> Result<WindowView, AppError> {
        if !actor.has(Role::WindowClerk) {
            return Err(AppError::Forbidden("windows are worked by window clerks".into()));
        }
        let (p, w) = self.window_of(point, window)?;
        let open = self.open_numbers(point, &format_date(self.today())).await?;
        Ok(WindowView {
            point: p.id.clone(),
            point_name: p.name.clone(),
            window: w.no.clone(),
            section: w.section.clone(),
            current: open
                .iter()
                .find(|q| {
                    q.window.as_deref() == Some(window)
                        && matches!(q.status, QueueStatus::Called | QueueStatus::Serving)
                })
                .cloned(),
            waiting: open.iter().filter(|q| q.eligible_for(&p, &w)).count(),
            skipped: open.iter().filter(|q| q.status == QueueStatus::Skipped).map(|q| q.number.clone()).collect(),
            sections: p.sections().into_iter().map(str::to_string).collect(),
            windows: p.windows.iter().map(|x| x.no.clone()).collect(),
        })
    }

    /// A window's command: call next, call a number, recall, skip, start, transfer, finish.
    pub async fn window_action(
        &self,
        actor: &Actor,
        point: &str,
        window: &str,
        action: WindowAction,
    ) -> Result<WindowView, AppError> {
        if !actor.has(Role::WindowClerk) {
            return Err(AppError::Forbidden("windows are worked by window clerks".into()));
        }
        let (p, w) = self.window_of(point, window)?;
        let date = format_date(self.today());
        let case_item = match &action {
            WindowAction::Finish { case_no: Some(c) } => {
                let no = CaseNo::parse(c).map_err(|_| bad("invalid_case_no", "no such case number 办件编号有误"))?;
                let v = self.case_view(actor, &no).await?;
                Some((no.to_string(), v.state.subject.code().to_string()))
            }
            WindowAction::Transfer { to_window, to_section, .. } => {
                if let Some(t) = to_window {
                    if t == window || p.window(t).is_none() {
                        return Err(bad(
                            "unknown_window",
                            "transfer to another window of this point 请转至本点位其他窗口",
                        ));
                    }
                }
                if let Some(s) = to_section {
                    if !p.windows.iter().any(|x| x.section == *s) {
                        return Err(bad("unknown_section", "no such section here 该点位无此分区"));
                    }
                }
                if to_window.is_none() && to_section.is_none() {
                    return Err(bad("transfer_target", "name a window or a section 请指定窗口或分区"));
                }
                None
            }
            _ => None,
        };
        let (who, now) = (actor.id.clone(), ms(self.now()));
        let (pid, wno) = (p.id.clone(), w.no.clone());
        // Nothing to call: answered from a read, without a write job (idle windows look up often).
        if matches!(action, WindowAction::CallNext) {
            let open = self.open_numbers(&pid, &date).await?;
            let busy = open.iter().any(|q| {
                q.window.as_deref() == Some(wno.as_str()) && matches!(q.status, QueueStatus::Called | QueueStatus::Serving)
            });
            if !busy && hall::pick_next(&open, &p, &w).is_none() {
                return Err(AppError::Conflict {
                    code: "queue_empty",
                    message: "no one is waiting for this window 当前无人等候".into(),
                    title_zh: "无人等候",
                });
            }
        }
        let mut last = None;
        for _ in 0..5 {
            let (p, w, action, date, who, pid, wno) =
                (p.clone(), w.clone(), action.clone(), date.clone(), who.clone(), pid.clone(), wno.clone());
            let case_item = case_item.clone();
            let r = self
                .store
                .write(move |db| -> Result<(), AppError> {
                    // One window command at a point at a time across writers and nodes (PostgreSQL: a
                    // transaction-scoped advisory lock; SQLite has one writer): windows calling at once would
                    // otherwise all pick the same head of the queue and all but one start again.
                    db.claim_work(&format!("queue:{pid}"))?;
                    let rows = db.queue_of(&pid, &date, false)?;
                    let open: Vec<(QueueRow, QueueState)> =
                        rows.into_iter().map(|r| state_of(&r).map(|s| (r, s))).collect::<Result<_, _>>()?;
                    let current = open.iter().find(|(_, s)| {
                        s.window.as_deref() == Some(wno.as_str()) && matches!(s.status, QueueStatus::Called | QueueStatus::Serving)
                    });
                    let (target, ev) = match action {
                        WindowAction::CallNext | WindowAction::Call { .. } if current.is_some() => {
                            return Err(AppError::Conflict {
                                code: "window_busy",
                                message: "finish, skip or transfer the current number first 请先办结、过号或转出当前号".into(),
                                title_zh: "窗口正在服务",
                            });
                        }
                        WindowAction::CallNext => {
                            let states: Vec<QueueState> = open.iter().map(|(_, s)| s.clone()).collect();
                            let next = hall::pick_next(&states, &p, &w).ok_or_else(|| AppError::Conflict {
                                code: "queue_empty",
                                message: "no one is waiting for this window 当前无人等候".into(),
                                title_zh: "无人等候",
                            })?;
                            (next.number.clone(), QueueEvent::Called { window: wno.clone() })
                        }
                        WindowAction::Call { number } => (number, QueueEvent::Called { window: wno.clone() }),
                        other => {
                            let (_, s) = current.ok_or_else(|| AppError::Conflict {
                                code: "window_idle",
                                message: "the window has no number called 当前窗口无叫号".into(),
                                title_zh: "窗口空闲",
                            })?;
                            let ev = match other {
                                WindowAction::Recall => QueueEvent::Recalled { window: wno.clone() },
                                WindowAction::Skip => QueueEvent::Skipped { window: wno.clone() },
                                WindowAction::Start => QueueEvent::Started { window: wno.clone() },
                                WindowAction::Transfer { to_window, to_section, hand_off, note } => QueueEvent::Transferred {
                                    window: wno.clone(),
                                    to_window,
                                    to_section,
                                    hand_off,
                                    note: note.trim().chars().take(200).collect(),
                                },
                                WindowAction::Finish { .. } => {
                                    if let (Some((_, item)), Some(i)) = (&case_item, &s.item) {
                                        if item != i && !p.handles(item) {
                                            return Err(bad("point_does_not_handle", "the case is for an item this point does not handle 该办件事项不在本点位办理范围"));
                                        }
                                    }
                                    QueueEvent::Served { window: wno.clone(), case_no: case_item.map(|(c, _)| c) }
                                }
                                WindowAction::CallNext | WindowAction::Call { .. } => {
                                    return Err(AppError::Internal("unreachable window action".into()))
                                }
                            };
                            (s.number.clone(), ev)
                        }
                    };
                    let stream = queue_stream(&pid, &date, &target);
                    let row = db.queue_number(&stream)?.ok_or_else(|| AppError::NotFound(format!("number {target}")))?;
                    let st = state_of(&row)?;
                    st.check(&ev)?;
                    let v = db.stream_version(&stream)?;
                    let e = record_at(db, &stream, v, &ev, &who, now)?;
                    project_number(db, &e)?;
                    Ok(())
                })
                .await;
            match r {
                Ok(()) => return self.window_view(actor, point, window).await,
                Err(AppError::StaleVersion { .. }) => last = Some(AppError::Internal("queue busy".into())),
                Err(AppError::Store(e)) if e.is_transient() => last = Some(AppError::Store(e)),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AppError::Internal("window action failed".into())))
    }

    /// The board, computed once per change of the point's queue on this node however many screens ask (each
    /// screen's feed checks for a change every second; the board is built only when the change is new).
    pub async fn board_shared(&self, point: &str) -> Result<Arc<BoardView>, AppError> {
        let changed = self.queue_changed_shared(point).await?;
        let cached = self.boards.lock().ok().and_then(|m| m.get(point).filter(|b| b.changed_ms == changed).cloned());
        if let Some(b) = cached {
            return Ok(b);
        }
        let b = Arc::new(self.board(point).await?);
        if let Ok(mut m) = self.boards.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(point.to_string(), b.clone());
        }
        Ok(b)
    }

    /// The hall screen: the numbers called most recently with their windows, and how many wait.
    pub async fn board(&self, point: &str) -> Result<BoardView, AppError> {
        let net = self.network();
        let p = net.point(point).ok_or_else(|| AppError::NotFound(format!("service point {point}")))?.clone();
        let date = format_date(self.today());
        let (pt, d) = (point.to_string(), date.clone());
        let (rows, changed) = self
            .store
            .read(move |db| -> Result<(Vec<QueueRow>, i64), AppError> {
                Ok((db.queue_of(&pt, &d, false)?, db.queue_changed(&pt)?))
            })
            .await?;
        let open: Vec<QueueState> = rows.iter().map(state_of).collect::<Result<_, _>>()?;
        let mut calling: Vec<Calling> = open
            .iter()
            .filter(|q| matches!(q.status, QueueStatus::Called | QueueStatus::Serving))
            .filter_map(|q| {
                let w = q.window.clone()?;
                Some(Calling {
                    announce: format!(
                        "请 {} 号到 {} 号窗口办理。Number {}, please go to window {}.",
                        q.number, w, q.number, w
                    ),
                    number: q.number.clone(),
                    window: w,
                    called_ms: q.called_ms.unwrap_or(q.taken_ms),
                    calls: q.calls,
                })
            })
            .collect();
        calling.sort_by(|a, b| b.called_ms.cmp(&a.called_ms));
        calling.truncate(12);
        let waiting: Vec<&QueueState> = open.iter().filter(|q| q.status == QueueStatus::Waiting).collect();
        let waiting_by_section = p
            .sections()
            .into_iter()
            .map(|s| {
                let n = waiting
                    .iter()
                    .filter(|q| p.windows.iter().filter(|w| w.section == s).any(|w| q.eligible_for(&p, w)))
                    .count();
                (s.to_string(), n)
            })
            .collect();
        Ok(BoardView {
            point: p.id.clone(),
            point_name: p.name.clone(),
            date,
            calling,
            waiting: waiting.len(),
            waiting_by_section,
            changed_ms: changed,
        })
    }

    /// [`App::queue_changed`], read from the database at most twice a second per point on this node however many
    /// screens ask (each hall screen's feed asks every second).
    pub async fn queue_changed_shared(&self, point: &str) -> Result<i64, AppError> {
        let fresh = std::time::Duration::from_millis(500);
        let hit = self
            .queue_seen
            .lock()
            .ok()
            .and_then(|m| m.get(point).copied())
            .filter(|(at, _)| at.elapsed() < fresh);
        if let Some((_, v)) = hit {
            return Ok(v);
        }
        let v = self.queue_changed(point).await?;
        if let Ok(mut m) = self.queue_seen.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(point.to_string(), (std::time::Instant::now(), v));
        }
        Ok(v)
    }

    /// The newest change at a point's queue (a screen redraws when it moves).
    pub async fn queue_changed(&self, point: &str) -> Result<i64, AppError> {
        let p = point.to_string();
        self.store.read(move |db| db.queue_changed(&p).map_err(AppError::from)).await
    }

    /// The hall's sweep: bookings whose slot ended more than the grace ago without arrival are no-shows; bookings
    /// of the next open day get one reminder (an in-app notification to the booking account). Returns (no-shows,
    /// reminders).
    pub async fn hall_sweep(&self) -> Result<(usize, usize), AppError> {
        let now = self.now();
        let now_ms = ms(now);
        let today = local_date(now);
        let tomorrow = self.calendar().add_working_days(today, 1).unwrap_or(today + time::Duration::days(1));
        let (t, tm) = (format_date(today), format_date(tomorrow));
        let net = self.network();
        let app = self.clone();
        self.store
            .write(move |db| -> Result<(usize, usize), AppError> {
                db.claim_work("hall-sweep")?;
                let mut no_shows = 0;
                for a in db.booked_appointments(&t, false)? {
                    let Ok(d) = parse_date(&a.date) else { continue };
                    let end = Self::slot_start_ms(d, &a.slot)? + i64::from(net.slot_minutes) * 60_000;
                    if end + NO_SHOW_GRACE_MIN * 60_000 <= now_ms {
                        let e = record(db, &appt_stream(&a.code), &AppointmentEvent::NoShow {}, "system", now_ms)?;
                        project_appointment(db, &e)?;
                        no_shows += 1;
                    }
                }
                let mut reminders = 0;
                for a in db.booked_appointments(&tm, true)? {
                    if a.reminded {
                        continue;
                    }
                    let e = record(db, &appt_stream(&a.code), &AppointmentEvent::Reminded {}, "system", now_ms)?;
                    project_appointment(db, &e)?;
                    if let Some(acc) = &a.account {
                        let name = app.network().point(&a.point).map_or_else(|| a.point.clone(), |p| p.name.clone());
                        crate::streams::notify(
                            db,
                            e.seq,
                            std::slice::from_ref(acc),
                            "",
                            "appointment_reminder",
                            &format!("预约提醒 reminder: {} {} {}，预约码 code {}", a.date, a.slot, name, a.code),
                            now_ms,
                        )?;
                    }
                    reminders += 1;
                }
                Ok((no_shows, reminders))
            })
            .await
    }
}

impl App {
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

/// Today's local date of an instant, for callers outside (the web's phone view).
pub fn today_of(t: OffsetDateTime) -> String {
    format_date(local_date(t))
}
