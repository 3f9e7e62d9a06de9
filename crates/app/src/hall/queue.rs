//! The queue (取号 / 叫号): taking a number, where it stands, a window's commands, and the hall board.

use std::sync::Arc;

use oneseal_domain::calendar::format_date;
use oneseal_domain::catalog::{Handling, Tag};
use oneseal_domain::clock::CHINA;
use oneseal_domain::hall::{
    self, age_on, AppointmentEvent, AppointmentStatus, Arrival, ArrivalSource, PriorityClass, QueueEvent, QueueState,
    QueueStatus,
};
use oneseal_domain::ids::{CaseNo, ResidentId};
use oneseal_domain::roles::Actor;
use oneseal_store::{Db, QueueRow, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::streams::{decode, record, record_at};
use crate::{ms, App, AppError};

use super::appointments::appt_stream;
use super::appointments::project_appointment;
use super::bad;

fn queue_stream(point: &str, date: &str, number: &str) -> String {
    format!("queue-{point}-{}-{number}", date.replace('-', ""))
}

pub(super) fn state_of(r: &QueueRow) -> Result<QueueState, AppError> {
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
    put_number(db, e, st)
}

fn put_number(db: &mut Db, e: &StoredEvent, st: QueueState) -> Result<QueueState, AppError> {
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

/// The queue projection after an event of a number whose state before it is known (read in the same job, under
/// the lock that guards the number): no second read of the row.
fn project_number_onto(db: &mut Db, e: &StoredEvent, mut st: QueueState) -> Result<QueueState, AppError> {
    let ev: QueueEvent = decode(e)?;
    st.apply(&ev, e.at_ms);
    put_number(db, e, st)
}

/// What a window shows its clerk, from the point's open numbers.
fn window_view_of(p: &hall::ServicePoint, w: &hall::Window, open: &[QueueState]) -> WindowView {
    WindowView {
        point: p.id.clone(),
        point_name: p.name.clone(),
        window: w.no.clone(),
        section: w.section.clone(),
        current: open
            .iter()
            .find(|q| {
                q.window.as_deref() == Some(w.no.as_str())
                    && matches!(q.status, QueueStatus::Called | QueueStatus::Serving)
            })
            .cloned(),
        waiting: open.iter().filter(|q| q.eligible_for(p, w)).count(),
        skipped: open.iter().filter(|q| q.status == QueueStatus::Skipped).map(|q| q.number.clone()).collect(),
        sections: p.sections().into_iter().map(str::to_string).collect(),
        windows: p.windows.iter().map(|x| x.no.clone()).collect(),
    }
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

/// A board as every screen of a node receives it: built and serialized once per change, however many screens
/// follow the point (each connection then writes the same text).
#[derive(Debug, Clone)]
pub struct SharedBoard {
    pub board: BoardView,
    /// The board as compact JSON (one line: one server-sent event's data).
    pub json: String,
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

impl App {
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
            match actor {
                Some(a) => super::check_posted(a, &p.id)?,
                None => {
                    return Err(AppError::Forbidden(
                        "numbers are taken at a window by its clerk 窗口取号须由窗口工作人员操作".into(),
                    ))
                }
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
        // Numbers are taken while the point is open (its hours on its open days); a booking holder arriving in
        // their slot (which may begin before the doors open, by the network's `early_minutes`) is let in.
        if !in_slot {
            let local = self.now().to_offset(CHINA);
            if !p.open_at(&self.calendar(), today, local.time()) {
                let days = match p.opens {
                    hall::Opening::WorkingDays => "working days 工作日",
                    hall::Opening::EveryDay => "every day 每天",
                };
                return Err(AppError::Conflict {
                    code: "point_closed",
                    message: format!(
                        "{} is closed now: numbers are taken during its opening hours, {} on {days} \
                         该服务点现在不在办公时间，请在办公时间内取号",
                        p.name,
                        p.hours.join(", ")
                    ),
                    title_zh: "不在办公时间",
                });
            }
        }
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
        super::check_posted(actor, point)?;
        let (p, w) = self.window_of(point, window)?;
        let open = self.open_numbers(point, &format_date(self.today())).await?;
        Ok(window_view_of(&p, &w, &open))
    }

    /// A window's command: call next, call a number, recall, skip, start, transfer, finish.
    pub async fn window_action(
        &self,
        actor: &Actor,
        point: &str,
        window: &str,
        action: WindowAction,
    ) -> Result<WindowView, AppError> {
        super::check_posted(actor, point)?;
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
                q.window.as_deref() == Some(wno.as_str())
                    && matches!(q.status, QueueStatus::Called | QueueStatus::Serving)
            });
            if !busy && hall::pick_next(&open, &p, &w).is_none() {
                return Err(AppError::Conflict {
                    code: "queue_empty",
                    message: "no one is waiting for this window 当前无人等候".into(),
                    title_zh: "无人等候",
                });
            }
        }
        // Calling picks from the point's waiting numbers: one call at a point at a time across writers and nodes
        // (PostgreSQL: a transaction-scoped advisory lock; SQLite has one writer), or windows calling at once would
        // all pick the same head of the queue and all but one start again. Every other command acts on the
        // window's own current number only, so it holds that window alone and never waits for other windows.
        let calls = matches!(action, WindowAction::CallNext | WindowAction::Call { .. });
        let lock = if calls { format!("queue:{pid}") } else { format!("queue:{pid}:{wno}") };
        let mut last = None;
        for _ in 0..5 {
            let (p, w, action, date, who, pid, wno, lock) = (
                p.clone(),
                w.clone(),
                action.clone(),
                date.clone(),
                who.clone(),
                pid.clone(),
                wno.clone(),
                lock.clone(),
            );
            let case_item = case_item.clone();
            let r = self
                .store
                .write(move |db| -> Result<WindowView, AppError> {
                    db.claim_work(&lock)?;
                    let mut open: Vec<QueueState> =
                        db.queue_of(&pid, &date, false)?.iter().map(state_of).collect::<Result<_, _>>()?;
                    let current = open.iter().find(|s| {
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
                            let next = hall::pick_next(&open, &p, &w).ok_or_else(|| AppError::Conflict {
                                code: "queue_empty",
                                message: "no one is waiting for this window 当前无人等候".into(),
                                title_zh: "无人等候",
                            })?;
                            (next.number.clone(), QueueEvent::Called { window: wno.clone() })
                        }
                        WindowAction::Call { number } => (number, QueueEvent::Called { window: wno.clone() }),
                        other => {
                            let s = current.ok_or_else(|| AppError::Conflict {
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
                    // The number as read above, under the lock that guards it (a number not open: read it).
                    let at = open.iter().position(|s| s.number == target);
                    let st = match at {
                        Some(i) => open[i].clone(),
                        None => state_of(
                            &db.queue_number(&stream)?.ok_or_else(|| AppError::NotFound(format!("number {target}")))?,
                        )?,
                    };
                    st.check(&ev)?;
                    let v = db.stream_version(&stream)?;
                    let e = record_at(db, &stream, v, &ev, &who, now)?;
                    let st = project_number_onto(db, &e, st)?;
                    match at {
                        Some(i) => open[i] = st,
                        None => open.push(st),
                    }
                    open.retain(|s| s.status != QueueStatus::Done);
                    // The window's view from what this job read and wrote: no second read after the commit.
                    Ok(window_view_of(&p, &w, &open))
                })
                .await;
            match r {
                Ok(v) => return Ok(v),
                Err(AppError::StaleVersion { .. }) => last = Some(AppError::Internal("queue busy".into())),
                Err(AppError::Store(e)) if e.is_transient() => last = Some(AppError::Store(e)),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AppError::Internal("window action failed".into())))
    }

    /// The board, computed once per change of the point's queue on this node however many screens ask (each
    /// screen's feed checks for a change every second; the board is built only when the change is new).
    pub async fn board_shared(&self, point: &str) -> Result<Arc<SharedBoard>, AppError> {
        let changed = self.queue_changed_shared(point).await?;
        let cached =
            self.boards.lock().ok().and_then(|m| m.get(point).filter(|b| b.board.changed_ms == changed).cloned());
        if let Some(b) = cached {
            return Ok(b);
        }
        let board = self.board(point).await?;
        let json = serde_json::to_string(&board).map_err(|e| AppError::Internal(format!("board: {e}")))?;
        let b = Arc::new(SharedBoard { board, json });
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
        let hit =
            self.queue_seen.lock().ok().and_then(|m| m.get(point).copied()).filter(|(at, _)| at.elapsed() < fresh);
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
}
