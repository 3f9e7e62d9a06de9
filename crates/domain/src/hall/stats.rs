//! The hall's numbers, measured like the source measures them (issue 17 §5): waiting time (taken → first called),
//! service time (started → served), numbers served and cases (served with a `case_no`) per window per day and per
//! window-hour, and the no-show rate of appointments (no-shows ÷ (checked in + no-shows)), for the whole period and
//! by point, window, section and item, with the same counts by hour of day. Pure: the queue numbers and appointment
//! facts of the period, the network (sections of windows, opening hours) and the staffed window-days come in as
//! parameters.
//!
//! Definitions (the test `tests/domain/hall_stats.rs` recounts each from the raw states):
//!
//! - A **day** is the queue number's `date` (the hall's local day); an **hour of day** is the clock hour of an
//!   instant in Beijing time (UTC+8, no daylight saving). Working time is plain clock time here, not bureau hours.
//! - **Waiting**: `called_ms - taken_ms` of every number that was called (a number never called has no waiting
//!   time yet); **service**: `served_ms - started_ms` of every number served. Negative spans (clock skew) count as 0.
//!   Durations are summarised in minutes: count, mean, nearest-rank p50 and p90, maximum.
//! - A number belongs to the **window** that served it (or is calling or serving it), and to that window's
//!   **section** in the network; a number without a known window belongs to its own section, if it has one.
//! - **Window-days**: the windows given as staffed on a day, plus every window that served a number on a day. A
//!   window's section is the one the network gives it. For an item, the window-days are those on which a window
//!   served that item. **Window-hours**: each window-day × the point's opening hours (the point's `hours` in the
//!   network; a point the network does not know has none, and its per-hour rates are empty). By hour of day, each
//!   window-day counts the part of that hour the point is open.
//! - Rates: numbers served and cases ÷ window-days, cases ÷ window-hours; the no-show rate of the appointments of
//!   the point (or item).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::{AppointmentStatus, Network, QueueState};

/// An hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// Beijing time's offset from UTC in milliseconds.
const CHINA_MS: i64 = 8 * HOUR_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// One appointment as the hall's numbers need it: where, for what, on which day, and its status now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentFact {
    pub point: String,
    pub item: String,
    /// `YYYY-MM-DD`, the day booked.
    pub date: String,
    pub status: AppointmentStatus,
}

/// A window staffed at a point on a day: it counts in the per-window rates even if it served nobody.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WindowDay {
    pub point: String,
    pub window: String,
    pub date: String,
}

/// What a row of [`HallStats`] groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Every number of the period.
    All,
    Point,
    Window,
    Section,
    Item,
}

impl Dimension {
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::All => "all",
            Dimension::Point => "point",
            Dimension::Window => "window",
            Dimension::Section => "section",
            Dimension::Item => "item",
        }
    }
}

/// A distribution of durations, in minutes (`None` without any).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Durations {
    pub n: u64,
    pub mean_min: Option<f64>,
    /// Nearest-rank percentiles: the smallest value at least half (nine tenths) of the values are at or below.
    pub p50_min: Option<f64>,
    pub p90_min: Option<f64>,
    pub max_min: Option<f64>,
}

impl Durations {
    /// Summarise spans given in milliseconds.
    pub fn of_ms(mut ms: Vec<i64>) -> Durations {
        if ms.is_empty() {
            return Durations::default();
        }
        ms.sort_unstable();
        let n = ms.len();
        let sum: i64 = ms.iter().sum();
        let min = |v: i64| v as f64 / 60_000.0;
        let rank = |pct: usize| ms[(pct * n).div_ceil(100).clamp(1, n) - 1];
        Durations {
            n: n as u64,
            mean_min: Some(sum as f64 / n as f64 / 60_000.0),
            p50_min: Some(min(rank(50))),
            p90_min: Some(min(rank(90))),
            max_min: Some(min(ms[n - 1])),
        }
    }
}

/// The numbers of one group: the whole period, a point, a window, a section or an item at a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallRow {
    pub dimension: Dimension,
    /// The point (empty for `all`).
    pub point: String,
    /// The window number, section name or item code (empty for `all` and `point`).
    pub key: String,
    /// Numbers taken, called (at least once), served; cases (served with a case number).
    pub taken: u64,
    pub called: u64,
    pub served: u64,
    pub cases: u64,
    /// Taken → first called.
    pub waiting: Durations,
    /// Started → served.
    pub service: Durations,
    pub window_days: u64,
    /// Window-days × the point's opening hours (`None` when a point's hours are unknown).
    pub window_hours: Option<f64>,
    pub served_per_window_day: Option<f64>,
    pub cases_per_window_day: Option<f64>,
    pub cases_per_window_hour: Option<f64>,
    /// Appointments by status (points and items only; windows and sections take no appointments).
    pub booked: u64,
    pub checked_in: u64,
    pub no_show: u64,
    pub cancelled: u64,
    /// no_show ÷ (checked_in + no_show).
    pub no_show_rate: Option<f64>,
}

/// The numbers of one clock hour of the day at a point, over every day of the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourRow {
    pub point: String,
    /// 0–23, Beijing time.
    pub hour: u8,
    /// Numbers taken in this hour, and their waiting times.
    pub taken: u64,
    pub waiting: Durations,
    /// Numbers served (and cases) that ended in this hour.
    pub served: u64,
    pub cases: u64,
    /// Window-days × the part of this hour the point is open.
    pub window_hours: Option<f64>,
    pub served_per_window_hour: Option<f64>,
    pub cases_per_window_hour: Option<f64>,
}

/// Every number of the hall for a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallStats {
    /// The first and last day seen, and how many distinct days.
    pub from: Option<String>,
    pub to: Option<String>,
    pub days: u64,
    pub total: HallRow,
    pub by_point: Vec<HallRow>,
    pub by_window: Vec<HallRow>,
    pub by_section: Vec<HallRow>,
    pub by_item: Vec<HallRow>,
    /// Per point, every hour of day in which a number was taken or served or a window was open.
    pub by_hour: Vec<HourRow>,
}

/// The header of [`HallStats::csv`].
pub const CSV_HEADER: &str = "dimension,point,key,taken,called,served,cases,\
wait_n,wait_mean_min,wait_p50_min,wait_p90_min,wait_max_min,\
service_n,service_mean_min,service_p50_min,service_p90_min,service_max_min,\
window_days,window_hours,served_per_window_day,cases_per_window_day,cases_per_window_hour,\
booked,checked_in,no_show,cancelled,no_show_rate";

/// The header of [`HallStats::hours_csv`].
pub const HOURS_CSV_HEADER: &str = "point,hour,taken,wait_n,wait_mean_min,wait_p50_min,wait_p90_min,wait_max_min,\
served,cases,window_hours,served_per_window_hour,cases_per_window_hour";

/// The clock hour (0–23, Beijing time) of an instant in milliseconds since the epoch.
pub fn hour_of_day(ms: i64) -> u8 {
    ((ms + CHINA_MS).rem_euclid(DAY_MS) / HOUR_MS) as u8
}

/// Hours a point is open on an open day (`None` if the network does not know the point).
pub fn open_hours(network: &Network, point: &str) -> Option<f64> {
    let p = network.point(point)?;
    Some(p.spans().iter().map(|(a, b)| (*b - *a).whole_minutes() as f64 / 60.0).sum())
}

/// The part of clock hour `hour` a point is open, in hours (0–1).
pub fn open_part_of_hour(network: &Network, point: &str, hour: u8) -> Option<f64> {
    let p = network.point(point)?;
    let (h0, h1) = (i64::from(hour) * 60, i64::from(hour) * 60 + 60);
    let mut minutes = 0;
    for (a, b) in p.spans() {
        let a = i64::from(a.hour()) * 60 + i64::from(a.minute());
        let b = i64::from(b.hour()) * 60 + i64::from(b.minute());
        minutes += (b.min(h1) - a.max(h0)).max(0);
    }
    Some(minutes as f64 / 60.0)
}

fn span(from: i64, to: Option<i64>) -> Option<i64> {
    to.map(|t| (t - from).max(0))
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn ratio_f(a: u64, b: Option<f64>) -> Option<f64> {
    b.filter(|b| *b > 0.0).map(|b| a as f64 / b)
}

type Key = (Dimension, String, String);

#[derive(Default)]
struct Acc {
    taken: u64,
    called: u64,
    served: u64,
    cases: u64,
    waits: Vec<i64>,
    services: Vec<i64>,
    window_days: BTreeSet<(String, String, String)>,
    appts: [u64; 4],
}

#[derive(Default)]
struct HourAcc {
    taken: u64,
    waits: Vec<i64>,
    served: u64,
    cases: u64,
}

/// The hall's numbers for a period: `queue` holds one state per queue number of the period, `appointments` one fact
/// per appointment, `staffed` the windows open on each day (windows that served someone count without it).
pub fn hall_stats(
    queue: &[QueueState],
    appointments: &[AppointmentFact],
    network: &Network,
    staffed: &[WindowDay],
) -> HallStats {
    let window_section = |point: &str, window: &str| -> Option<String> {
        network.point(point).and_then(|p| p.window(window)).map(|w| w.section.clone())
    };
    let mut acc: BTreeMap<Key, Acc> = BTreeMap::new();
    let mut hours: BTreeMap<(String, u8), HourAcc> = BTreeMap::new();
    let mut days: BTreeSet<&str> = BTreeSet::new();
    let mut window_days: BTreeSet<(String, String, String)> =
        staffed.iter().map(|w| (w.point.clone(), w.window.clone(), w.date.clone())).collect();
    acc.entry((Dimension::All, String::new(), String::new())).or_default();

    for q in queue {
        days.insert(&q.date);
        let section = match &q.window {
            Some(w) => window_section(&q.point, w).or_else(|| q.section.clone()),
            None => q.section.clone(),
        };
        let mut keys: Vec<Key> =
            vec![(Dimension::All, String::new(), String::new()), (Dimension::Point, q.point.clone(), String::new())];
        if let Some(w) = &q.window {
            keys.push((Dimension::Window, q.point.clone(), w.clone()));
        }
        if let Some(s) = &section {
            keys.push((Dimension::Section, q.point.clone(), s.clone()));
        }
        if let Some(i) = &q.item {
            keys.push((Dimension::Item, q.point.clone(), i.clone()));
        }
        let wait = span(q.taken_ms, q.called_ms);
        let service = q.started_ms.and_then(|s| span(s, q.served_ms));
        let served = q.served_ms.is_some();
        let case = served && q.case_no.is_some();
        let active = match (&q.window, served) {
            (Some(w), true) => Some((q.point.clone(), w.clone(), q.date.clone())),
            _ => None,
        };
        if let Some(wd) = &active {
            window_days.insert(wd.clone());
        }
        for k in keys {
            let a = acc.entry(k.clone()).or_default();
            a.taken += 1;
            a.called += u64::from(wait.is_some());
            a.served += u64::from(served);
            a.cases += u64::from(case);
            a.waits.extend(wait);
            a.services.extend(service);
            if k.0 == Dimension::Item {
                a.window_days.extend(active.clone());
            }
        }
        let h = hours.entry((q.point.clone(), hour_of_day(q.taken_ms))).or_default();
        h.taken += 1;
        h.waits.extend(wait);
        if let Some(s) = q.served_ms {
            let h = hours.entry((q.point.clone(), hour_of_day(s))).or_default();
            h.served += 1;
            h.cases += u64::from(case);
        }
    }

    for a in appointments {
        days.insert(&a.date);
        let slot = match a.status {
            AppointmentStatus::Booked => 0,
            AppointmentStatus::CheckedIn => 1,
            AppointmentStatus::NoShow => 2,
            AppointmentStatus::Cancelled => 3,
        };
        for k in [
            (Dimension::All, String::new(), String::new()),
            (Dimension::Point, a.point.clone(), String::new()),
            (Dimension::Item, a.point.clone(), a.item.clone()),
        ] {
            acc.entry(k).or_default().appts[slot] += 1;
        }
    }

    // Window-days of every group but items (whose window-days are those that served the item).
    for (p, w, d) in &window_days {
        let wd = (p.clone(), w.clone(), d.clone());
        let mut keys = vec![
            (Dimension::All, String::new(), String::new()),
            (Dimension::Point, p.clone(), String::new()),
            (Dimension::Window, p.clone(), w.clone()),
        ];
        if let Some(s) = window_section(p, w) {
            keys.push((Dimension::Section, p.clone(), s));
        }
        for k in keys {
            acc.entry(k).or_default().window_days.insert(wd.clone());
        }
    }

    let row = |(dim, point, key): Key, a: Acc| -> HallRow {
        let mut wh = Some(0.0);
        for (p, _, _) in &a.window_days {
            wh = match (wh, open_hours(network, p)) {
                (Some(x), Some(y)) => Some(x + y),
                _ => None,
            };
        }
        let wd = a.window_days.len() as u64;
        let [booked, checked_in, no_show, cancelled] = a.appts;
        HallRow {
            dimension: dim,
            point,
            key,
            taken: a.taken,
            called: a.called,
            served: a.served,
            cases: a.cases,
            waiting: Durations::of_ms(a.waits),
            service: Durations::of_ms(a.services),
            window_days: wd,
            window_hours: wh,
            served_per_window_day: ratio(a.served, wd),
            cases_per_window_day: ratio(a.cases, wd),
            cases_per_window_hour: ratio_f(a.cases, wh),
            booked,
            checked_in,
            no_show,
            cancelled,
            no_show_rate: ratio(no_show, checked_in + no_show),
        }
    };

    // Hours in which a point is open count too, even if nothing happened in them.
    let mut point_window_days: BTreeMap<&str, u64> = BTreeMap::new();
    for (p, _, _) in &window_days {
        *point_window_days.entry(p.as_str()).or_default() += 1;
    }
    for p in point_window_days.keys() {
        for hour in 0..24u8 {
            if open_part_of_hour(network, p, hour).is_some_and(|x| x > 0.0) {
                hours.entry((p.to_string(), hour)).or_default();
            }
        }
    }
    let by_hour = hours
        .into_iter()
        .map(|((point, hour), h)| {
            let n = point_window_days.get(point.as_str()).copied().unwrap_or(0);
            let wh = open_part_of_hour(network, &point, hour).map(|x| x * n as f64);
            HourRow {
                hour,
                taken: h.taken,
                waiting: Durations::of_ms(h.waits),
                served: h.served,
                cases: h.cases,
                window_hours: wh,
                served_per_window_hour: ratio_f(h.served, wh),
                cases_per_window_hour: ratio_f(h.cases, wh),
                point,
            }
        })
        .collect();

    let mut total = None;
    let (mut by_point, mut by_window, mut by_section, mut by_item) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, a) in acc {
        let r = row(k, a);
        match r.dimension {
            Dimension::All => total = Some(r),
            Dimension::Point => by_point.push(r),
            Dimension::Window => by_window.push(r),
            Dimension::Section => by_section.push(r),
            Dimension::Item => by_item.push(r),
        }
    }
    let total = total.unwrap_or_else(|| row((Dimension::All, String::new(), String::new()), Acc::default()));
    HallStats {
        from: days.first().map(|d| d.to_string()),
        to: days.last().map(|d| d.to_string()),
        days: days.len() as u64,
        total,
        by_point,
        by_window,
        by_section,
        by_item,
        by_hour,
    }
}

fn num(out: &mut String, v: Option<f64>) {
    out.push(',');
    if let Some(v) = v {
        let _ = write!(out, "{v:.3}");
    }
}

fn quoted(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        let _ = write!(out, "\"{}\"", s.replace('"', "\"\""));
    } else {
        out.push_str(s);
    }
}

fn text(out: &mut String, s: &str) {
    out.push(',');
    quoted(out, s);
}

fn durations(out: &mut String, d: &Durations) {
    let _ = write!(out, ",{}", d.n);
    for v in [d.mean_min, d.p50_min, d.p90_min, d.max_min] {
        num(out, v);
    }
}

impl HallStats {
    /// Every row: the total, then by point, window, section and item.
    pub fn rows(&self) -> impl Iterator<Item = &HallRow> {
        std::iter::once(&self.total)
            .chain(&self.by_point)
            .chain(&self.by_window)
            .chain(&self.by_section)
            .chain(&self.by_item)
    }

    /// The rows as CSV (RFC 4180, `\n` line ends, numbers with three decimals, empty for none), with
    /// [`CSV_HEADER`].
    pub fn csv(&self) -> String {
        let mut out = format!("{CSV_HEADER}\n");
        for r in self.rows() {
            out.push_str(r.dimension.as_str());
            text(&mut out, &r.point);
            text(&mut out, &r.key);
            let _ = write!(out, ",{},{},{},{}", r.taken, r.called, r.served, r.cases);
            durations(&mut out, &r.waiting);
            durations(&mut out, &r.service);
            let _ = write!(out, ",{}", r.window_days);
            for v in [r.window_hours, r.served_per_window_day, r.cases_per_window_day, r.cases_per_window_hour] {
                num(&mut out, v);
            }
            let _ = write!(out, ",{},{},{},{}", r.booked, r.checked_in, r.no_show, r.cancelled);
            num(&mut out, r.no_show_rate);
            out.push('\n');
        }
        out
    }

    /// The hours of day as CSV, with [`HOURS_CSV_HEADER`].
    pub fn hours_csv(&self) -> String {
        let mut out = format!("{HOURS_CSV_HEADER}\n");
        for h in &self.by_hour {
            quoted(&mut out, &h.point);
            let _ = write!(out, ",{},{}", h.hour, h.taken);
            durations(&mut out, &h.waiting);
            let _ = write!(out, ",{},{}", h.served, h.cases);
            for v in [h.window_hours, h.served_per_window_hour, h.cases_per_window_hour] {
                num(&mut out, v);
            }
            out.push('\n');
        }
        out
    }
}
