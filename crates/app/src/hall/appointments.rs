//! Appointments (预约): slots with the places left, bookings whose last place goes to one booking only, cancel and
//! rebook, the day's bookings at a point, and the sweep that marks no-shows and sends reminders.

use oneseal_domain::calendar::{format_date, parse_date};
use oneseal_domain::case::ApplicantKind;
use oneseal_domain::clock::local_date;
use oneseal_domain::hall::{hhmm, AppointmentEvent, AppointmentStatus, BookingChannel};
use oneseal_domain::ids::ResidentId;
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{AppointmentRow, Db, StoredEvent};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::streams::{decode, record, record_at};
use crate::{ms, App, AppError};

use super::{bad, full};

/// How many open bookings one person may hold at once.
pub const MAX_OPEN_BOOKINGS: i64 = 3;

/// Minutes after a slot's end before a booking that did not arrive is a no-show.
pub const NO_SHOW_GRACE_MIN: i64 = 30;

pub(super) fn appt_stream(code: &str) -> String {
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

impl App {
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
    /// the portal, phones and kiosks for anyone signed in.
    fn channel_allowed(actor: &Actor, ch: BookingChannel) -> Result<(), AppError> {
        let has = |r: Role| actor.has(r);
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

    /// Book a slot. Every booking is made by someone signed in (the person, an operator or a clerk): an anonymous
    /// caller could otherwise fill a point's slots with made-up ID numbers. Two bookings can never take the last
    /// place: the slot's count is read under a lock (one writer on SQLite, a row lock on PostgreSQL) and checked
    /// against the capacity in the transaction that records it.
    pub async fn book(&self, actor: &Actor, req: BookRequest) -> Result<AppointmentView, AppError> {
        Self::channel_allowed(actor, req.channel)?;
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
        let account = actor.has(Role::Applicant).then(|| actor.id.clone());
        let who = actor.id.clone();
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
        if !actor.has(Role::Supervisor) {
            super::check_posted(actor, point)?;
        }
        self.service_point(point)?;
        let (p, d) = (point.to_string(), format_date(self.today()));
        let rows = self.store.read(move |db| db.appointments_at(&p, &d).map_err(AppError::from)).await?;
        rows.iter().map(|a| self.appointment_view(a)).collect()
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
