//! The queue (取号 / 叫号): the events of a queue number's stream, its state, and which number a window calls.

use serde::{Deserialize, Serialize};

use super::{AppointmentStatus, PriorityClass, ServicePoint, Window};

/// Where a number was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalSource {
    Kiosk,
    Window,
    /// A phone, with the booking code.
    Phone,
    /// At the reception desk (导服台), for someone without a phone or booking.
    WalkIn,
}

impl ArrivalSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ArrivalSource::Kiosk => "kiosk",
            ArrivalSource::Window => "window",
            ArrivalSource::Phone => "phone",
            ArrivalSource::WalkIn => "walk_in",
        }
    }

    pub fn parse(s: &str) -> Option<ArrivalSource> {
        [ArrivalSource::Kiosk, ArrivalSource::Window, ArrivalSource::Phone, ArrivalSource::WalkIn]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Where a queue number stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    Waiting,
    Called,
    Serving,
    /// Called and did not come; may be called again by number.
    Skipped,
    Done,
}

impl QueueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Waiting => "waiting",
            QueueStatus::Called => "called",
            QueueStatus::Serving => "serving",
            QueueStatus::Skipped => "skipped",
            QueueStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<QueueStatus> {
        [QueueStatus::Waiting, QueueStatus::Called, QueueStatus::Serving, QueueStatus::Skipped, QueueStatus::Done]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The events of a queue number's stream (`queue-{point}-{yyyymmdd}-{number}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum QueueEvent {
    #[serde(rename = "number_taken")]
    Taken {
        point: String,
        date: String,
        number: String,
        item: Option<String>,
        section: Option<String>,
        source: ArrivalSource,
        class: PriorityClass,
        rank: u8,
        appointment: Option<String>,
        /// Taken at a window: that window received the person first (首问负责).
        window: Option<String>,
    },
    #[serde(rename = "number_called")]
    Called { window: String },
    #[serde(rename = "number_recalled")]
    Recalled { window: String },
    #[serde(rename = "number_skipped")]
    Skipped { window: String },
    /// Sent to another window or section; keeps its place (its time of taking). With `hand_off`, the first
    /// window's responsibility passes to whoever serves next.
    #[serde(rename = "number_transferred")]
    Transferred { window: String, to_window: Option<String>, to_section: Option<String>, hand_off: bool, note: String },
    #[serde(rename = "number_service_started")]
    Started { window: String },
    /// Served: with the case the application became, if one was accepted.
    #[serde(rename = "number_served")]
    Served { window: String, case_no: Option<String> },
}

/// A queue number as the hall sees it (the projection row's content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueState {
    pub point: String,
    pub date: String,
    pub number: String,
    pub item: Option<String>,
    pub section: Option<String>,
    pub source: ArrivalSource,
    pub class: PriorityClass,
    pub rank: u8,
    pub appointment: Option<String>,
    pub status: QueueStatus,
    /// The window now calling or serving.
    pub window: Option<String>,
    /// Transferred to this window only.
    pub to_window: Option<String>,
    /// 首问负责: the first window that received the person, until a hand-off.
    pub responsible: Option<String>,
    pub handed_off: bool,
    pub taken_ms: i64,
    pub called_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub served_ms: Option<i64>,
    pub calls: u32,
    pub case_no: Option<String>,
}

/// Why a hall command was refused. Stable codes for machines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HallError {
    #[error("the appointment is {}", .0.as_str())]
    AppointmentNotBooked(AppointmentStatus),
    #[error("the number is {}", .0.as_str())]
    WrongStatus(QueueStatus),
    #[error("the number is called at window {0}")]
    OtherWindow(String),
}

impl HallError {
    pub fn code(&self) -> &'static str {
        match self {
            HallError::AppointmentNotBooked(_) => "appointment_not_booked",
            HallError::WrongStatus(_) => "number_wrong_status",
            HallError::OtherWindow(_) => "number_at_other_window",
        }
    }
}

impl QueueState {
    /// The state after the first event (`Taken`) of a stream.
    pub fn taken(e: &QueueEvent, at_ms: i64) -> Option<QueueState> {
        let QueueEvent::Taken { point, date, number, item, section, source, class, rank, appointment, window } = e
        else {
            return None;
        };
        Some(QueueState {
            point: point.clone(),
            date: date.clone(),
            number: number.clone(),
            item: item.clone(),
            section: section.clone(),
            source: *source,
            class: *class,
            rank: *rank,
            appointment: appointment.clone(),
            status: QueueStatus::Waiting,
            window: None,
            to_window: window.clone(),
            responsible: window.clone(),
            handed_off: false,
            taken_ms: at_ms,
            called_ms: None,
            started_ms: None,
            served_ms: None,
            calls: 0,
            case_no: None,
        })
    }

    /// Whether the event may happen now (never changes anything).
    pub fn check(&self, e: &QueueEvent) -> Result<(), HallError> {
        let at_this = |w: &str| match &self.window {
            Some(x) if x != w => Err(HallError::OtherWindow(x.clone())),
            _ => Ok(()),
        };
        let need = |ok: &[QueueStatus]| {
            if ok.contains(&self.status) {
                Ok(())
            } else {
                Err(HallError::WrongStatus(self.status))
            }
        };
        match e {
            QueueEvent::Taken { .. } => Err(HallError::WrongStatus(self.status)),
            QueueEvent::Called { .. } => need(&[QueueStatus::Waiting, QueueStatus::Skipped]),
            QueueEvent::Recalled { window } | QueueEvent::Skipped { window } | QueueEvent::Started { window } => {
                need(&[QueueStatus::Called])?;
                at_this(window)
            }
            QueueEvent::Transferred { window, .. } => {
                need(&[QueueStatus::Called, QueueStatus::Serving])?;
                at_this(window)
            }
            QueueEvent::Served { window, .. } => {
                need(&[QueueStatus::Serving])?;
                at_this(window)
            }
        }
    }

    /// Fold a recorded event.
    pub fn apply(&mut self, e: &QueueEvent, at_ms: i64) {
        match e {
            QueueEvent::Taken { .. } => {}
            QueueEvent::Called { window } => {
                self.status = QueueStatus::Called;
                self.window = Some(window.clone());
                self.called_ms.get_or_insert(at_ms);
                self.calls += 1;
                if self.responsible.is_none() {
                    self.responsible = Some(window.clone());
                }
            }
            QueueEvent::Recalled { .. } => self.calls += 1,
            QueueEvent::Skipped { .. } => {
                self.status = QueueStatus::Skipped;
                self.window = None;
            }
            QueueEvent::Transferred { to_window, to_section, hand_off, .. } => {
                self.status = QueueStatus::Waiting;
                self.window = None;
                self.to_window = to_window.clone();
                if let Some(s) = to_section {
                    self.section = Some(s.clone());
                }
                if *hand_off {
                    self.handed_off = true;
                    self.responsible = to_window.clone();
                }
            }
            QueueEvent::Started { window } => {
                self.status = QueueStatus::Serving;
                self.window = Some(window.clone());
                self.started_ms = Some(at_ms);
                if self.responsible.is_none() {
                    self.responsible = Some(window.clone());
                }
            }
            QueueEvent::Served { case_no, .. } => {
                self.status = QueueStatus::Done;
                self.served_ms = Some(at_ms);
                self.case_no = case_no.clone();
            }
        }
    }

    /// Whether a window may call this waiting number: a transfer to one window binds it there; otherwise the
    /// window must belong to the number's section, or serve its item (a number with neither goes to any window).
    pub fn eligible_for(&self, point: &ServicePoint, window: &Window) -> bool {
        if self.status != QueueStatus::Waiting {
            return false;
        }
        if let Some(w) = &self.to_window {
            return *w == window.no;
        }
        if let Some(s) = &self.section {
            return *s == window.section;
        }
        match &self.item {
            Some(i) => point.handles(i) && window.serves(i),
            None => true,
        }
    }
}

/// The number a window calls next: among the waiting numbers it may serve, the best rank, then the earliest
/// taken, then the lowest number.
pub fn pick_next<'a>(waiting: &'a [QueueState], point: &ServicePoint, window: &Window) -> Option<&'a QueueState> {
    waiting
        .iter()
        .filter(|q| q.eligible_for(point, window))
        .min_by(|a, b| (a.rank, a.taken_ms, &a.number).cmp(&(b.rank, b.taken_ms, &b.number)))
}

/// How many waiting numbers are ahead of `me` for the windows that may call it, and an estimate of the wait:
/// those ahead × the mean service minutes ÷ the windows that may serve it.
pub fn ahead_of(me: &QueueState, waiting: &[QueueState], point: &ServicePoint, mean_service_min: f64) -> (usize, u32) {
    let windows: Vec<&Window> = point.windows.iter().filter(|w| me.eligible_for(point, w)).collect();
    let ahead = waiting
        .iter()
        .filter(|q| q.number != me.number && q.status == QueueStatus::Waiting)
        .filter(|q| windows.iter().any(|w| q.eligible_for(point, w)))
        .filter(|q| (q.rank, q.taken_ms, &q.number) < (me.rank, me.taken_ms, &me.number))
        .count();
    let n = windows.len().max(1) as f64;
    let minutes = ((ahead as f64 + 0.5) * mean_service_min / n).ceil();
    (ahead, if minutes.is_finite() && minutes > 0.0 { minutes as u32 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hall::tests::point;

    fn waiting(no: &str, rank: u8, taken: i64) -> QueueState {
        let ev = QueueEvent::Taken {
            point: "yc-hall".into(),
            date: "2026-03-02".into(),
            number: no.into(),
            item: Some("Y".into()),
            section: None,
            source: ArrivalSource::Kiosk,
            class: PriorityClass::Normal,
            rank,
            appointment: None,
            window: None,
        };
        match QueueState::taken(&ev, taken) {
            Some(s) => s,
            None => unreachable!("a Taken event starts a state"),
        }
    }

    #[test]
    fn the_best_rank_is_called_first_then_the_earliest() {
        let p = point();
        let a01 = p.window("A01").cloned();
        let Some(a01) = a01 else { panic!("A01") };
        let q = vec![waiting("A002", 5, 2_000), waiting("A001", 5, 1_000), waiting("Y001", 1, 3_000)];
        assert_eq!(pick_next(&q, &p, &a01).map(|s| s.number.as_str()), Some("Y001"));
        let q = vec![waiting("A002", 5, 2_000), waiting("A001", 5, 1_000)];
        assert_eq!(pick_next(&q, &p, &a01).map(|s| s.number.as_str()), Some("A001"));
        // B01 serves only item X: it may not call these.
        let Some(b01) = p.window("B01").cloned() else { panic!("B01") };
        assert_eq!(pick_next(&q, &p, &b01), None);
    }

    #[test]
    fn a_number_moves_through_call_serve_and_transfer() {
        let mut s = waiting("A001", 5, 1_000);
        let call = QueueEvent::Called { window: "A01".into() };
        assert_eq!(s.check(&call), Ok(()));
        s.apply(&call, 2_000);
        assert_eq!((s.status, s.responsible.as_deref()), (QueueStatus::Called, Some("A01")));
        // Another window may not start serving a number called at A01.
        let err = s.check(&QueueEvent::Started { window: "B01".into() });
        assert_eq!(err.map_err(|e| e.code()), Err("number_at_other_window"));
        let t = QueueEvent::Transferred {
            window: "A01".into(),
            to_window: Some("B01".into()),
            to_section: None,
            hand_off: false,
            note: String::new(),
        };
        assert_eq!(s.check(&t), Ok(()));
        s.apply(&t, 3_000);
        assert_eq!(
            (s.status, s.responsible.as_deref(), s.to_window.as_deref()),
            (QueueStatus::Waiting, Some("A01"), Some("B01"))
        );
        s.apply(&QueueEvent::Called { window: "B01".into() }, 4_000);
        s.apply(&QueueEvent::Started { window: "B01".into() }, 5_000);
        // 首问负责: A01 stays responsible without a hand-off.
        assert_eq!(s.responsible.as_deref(), Some("A01"));
        assert_eq!(s.called_ms, Some(2_000));
        let served = QueueEvent::Served { window: "B01".into(), case_no: Some("YC202603020000001".into()) };
        assert_eq!(s.check(&served), Ok(()));
        s.apply(&served, 9_000);
        assert_eq!(s.status, QueueStatus::Done);
        assert_eq!(s.check(&call).map_err(|e| e.code()), Err("number_wrong_status"));
    }
}
