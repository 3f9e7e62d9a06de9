//! A discrete-event simulator of days at one service point (issue 17 §5): Poisson arrivals at a rate per hour that
//! may change by the hour (a morning rush), a mix of items with their mean window minutes, N windows laid out as
//! general windows (综合窗口, every item), split by section (each window serves one section's items, the windows
//! shared out by the sections' offered load) or as the network has them; priority classes from the network's
//! rules ([`Network::classify`]); every call made by [`pick_next`] and every number moved by the queue's own
//! `check`/`apply`. The output is the same [`HallStats`] the hall measures ([`hall_stats`] on the simulated
//! [`QueueState`]s), with each window's utilisation.
//!
//! The day: numbers are taken only while the point is open (its `hours`); windows call only while it is open, so
//! numbers taken before a midday break wait over it; after closing the windows serve every number already taken
//! (the hall's rule: whoever holds a number is served), and that overtime is reported. A service begins when the
//! number is called (no walking time).
//!
//! Arrivals and their service times are drawn per day from the seed alone, before any window is involved, so two
//! runs with the same seed and different windows serve the same people with the same needs (common random numbers:
//! the difference between two layouts is the layouts', not the dice's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, PrimitiveDateTime, Time, Weekday};

use super::stats::{hall_stats, Durations, HallStats, WindowDay};
use super::{pick_next, Arrival, ArrivalSource, HallError, Network, QueueEvent, QueueState, ServicePoint, Window};
use crate::calendar::format_date;
use crate::clock::CHINA;

const MINUTE_MS: i64 = 60_000;

/// A small seeded PRNG: xoshiro256** (Blackman & Vigna), its state filled by SplitMix64 from the seed.
///
/// Written here rather than taken from `rand` (0.10 is in Cargo.lock, pulled in by a dependency, but not a
/// dependency of this crate): the domain crate stays free of it, and — the point — a seed must give the same day
/// forever, so that a run quoted in docs/hall.md can be repeated from its command and commit. `rand` does not
/// promise that its generators and distributions give the same values across versions; these twenty lines do.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        Rng { s: [splitmix64(&mut x), splitmix64(&mut x), splitmix64(&mut x), splitmix64(&mut x)] }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Standard normal (Box–Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (1.0 - self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// How service times spread around an item's mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ServiceDist {
    /// Exponential (coefficient of variation 1: many short services and a long tail).
    Exponential,
    /// Lognormal with this coefficient of variation (standard deviation ÷ mean).
    Lognormal { cv: f64 },
}

impl ServiceDist {
    /// One service time in minutes around `mean` minutes.
    pub fn sample(self, rng: &mut Rng, mean: f64) -> f64 {
        match self {
            ServiceDist::Exponential => rng.exponential(mean),
            ServiceDist::Lognormal { cv } => {
                let s2 = (1.0 + cv * cv).ln();
                let mu = mean.ln() - s2 / 2.0;
                (mu + s2.sqrt() * rng.normal()).exp()
            }
        }
    }
}

/// Arrivals per hour over the day: from each step's minute of the day until the next step, this rate (none before
/// the first step). Arrivals happen only while the point is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrivalProfile {
    /// (minute of the day, arrivals per hour), minutes increasing.
    pub steps: Vec<(u32, f64)>,
}

impl ArrivalProfile {
    pub fn flat(per_hour: f64) -> ArrivalProfile {
        ArrivalProfile { steps: vec![(0, per_hour)] }
    }

    /// `200`, `200/h`, or a profile by hour of day: `9:300,10:250,11:200,13:150` (from 09:00 300 an hour, …; the
    /// last rate holds until closing).
    pub fn parse(s: &str) -> Result<ArrivalProfile, SimError> {
        let bad = || SimError::Arrivals(s.to_string());
        let rate = |r: &str| -> Result<f64, SimError> {
            let r = r.trim();
            let v: f64 = r.strip_suffix("/h").unwrap_or(r).trim().parse().map_err(|_| bad())?;
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(bad())
            }
        };
        if !s.contains(':') {
            return Ok(ArrivalProfile::flat(rate(s)?));
        }
        let mut steps: Vec<(u32, f64)> = Vec::new();
        for part in s.split(',') {
            let (h, r) = part.split_once(':').ok_or_else(bad)?;
            let h: u32 = h.trim().parse().map_err(|_| bad())?;
            if h > 23 || steps.last().is_some_and(|(m, _)| *m >= h * 60) {
                return Err(bad());
            }
            steps.push((h * 60, rate(r)?));
        }
        Ok(ArrivalProfile { steps })
    }

    /// Arrivals per hour at a minute of the day.
    pub fn rate_at(&self, minute: u32) -> f64 {
        self.steps.iter().rev().find(|(m, _)| *m <= minute).map_or(0.0, |(_, r)| *r)
    }
}

/// One item of the mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimItem {
    /// Implementation code.
    pub code: String,
    /// The section whose windows serve it when windows are split by section (e.g. the item's department).
    pub section: String,
    /// Relative share of arrivals.
    pub weight: f64,
    /// Mean window minutes (the catalog's [`crate::catalog::ServiceItem::window_minutes`]).
    pub mean_minutes: f64,
    /// 马上办: the arrival ranks as on-the-spot if the network has that rule.
    pub on_the_spot: bool,
}

/// How the windows are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// N general windows (综合窗口), each serving every item.
    General,
    /// N windows split by section: each section gets windows in proportion to its offered load (arrival share ×
    /// mean minutes; at least one), and each window serves only its section's items.
    Split,
    /// The point's windows as the network has them (N is ignored).
    Point,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::General => "general",
            Layout::Split => "split",
            Layout::Point => "point",
        }
    }

    pub fn parse(s: &str) -> Option<Layout> {
        [Layout::General, Layout::Split, Layout::Point].into_iter().find(|l| l.as_str() == s)
    }
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// The point (its id, hours and the items it handles; its windows with [`Layout::Point`]).
    pub point: String,
    pub windows: usize,
    pub layout: Layout,
    pub arrivals: ArrivalProfile,
    pub items: Vec<SimItem>,
    pub service: ServiceDist,
    /// Every mean multiplied by this (what if a window took longer, or less, per case).
    pub service_scale: f64,
    /// Shortest service, in minutes (no one is served in no time).
    pub min_service_minutes: f64,
    /// Shares of arrivals that are elderly, disabled, or arrive within a booked slot.
    pub elderly_share: f64,
    pub disabled_share: f64,
    pub appointment_share: f64,
    /// Share of served numbers that become a case (the rest: questions, refused intakes).
    pub case_share: f64,
    /// Days simulated: working days (Monday to Friday) from `first_day`.
    pub days: u32,
    pub first_day: Date,
    pub seed: u64,
}

impl SimConfig {
    /// The defaults the CLI starts from (each an assumption, see docs/hall.md).
    pub fn new(point: &str, windows: usize, arrivals: ArrivalProfile, items: Vec<SimItem>) -> SimConfig {
        SimConfig {
            point: point.to_string(),
            windows,
            layout: Layout::General,
            arrivals,
            items,
            service: ServiceDist::Lognormal { cv: 0.5 },
            service_scale: 1.0,
            min_service_minutes: 0.5,
            elderly_share: 0.08,
            disabled_share: 0.01,
            appointment_share: 0.1,
            case_share: 1.0,
            days: 20,
            first_day: time::macros::date!(2026 - 03 - 02),
            seed: 1,
        }
    }
}

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("arrivals {0:?}: give a rate (200 or 200/h) or a profile by hour (9:300,10:250,…)")]
    Arrivals(String),
    #[error("point {0} is not in the network")]
    UnknownPoint(String),
    #[error("point {0} has no opening hours")]
    NoHours(String),
    #[error("the item mix is empty or has no positive weight")]
    NoItems,
    #[error("item {0} is not handled at the point")]
    ItemNotHandled(String),
    #[error("no window serves item {0}")]
    NoWindowFor(String),
    #[error("{windows} windows cannot be split over {sections} sections (one window each at least)")]
    TooFewWindows { windows: usize, sections: usize },
    #[error("{0} is out of range")]
    Parameter(&'static str),
    #[error("the queue refused a step: {0}")]
    Queue(#[from] HallError),
}

/// How one window was used over the days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowUse {
    pub window: String,
    pub section: String,
    pub served: u64,
    pub busy_minutes: f64,
    /// Minutes it was available: opening hours plus each day's overtime.
    pub available_minutes: f64,
    pub utilisation: f64,
}

/// A simulated period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    pub layout: Layout,
    /// The windows simulated.
    pub windows: Vec<Window>,
    pub arrivals: u64,
    /// The hall's numbers, computed by [`hall_stats`] on the simulated queue.
    pub stats: HallStats,
    pub by_window: Vec<WindowUse>,
    /// Busy ÷ available minutes over every window.
    pub utilisation: f64,
    /// Per day, minutes from closing until the last number was served (0 when done by closing).
    pub overtime: Durations,
    /// Every number of every day, as the hall would have recorded it.
    pub queue: Vec<QueueState>,
}

/// The windows of a layout.
pub fn lay_out(point: &ServicePoint, cfg: &SimConfig) -> Result<Vec<Window>, SimError> {
    let n = cfg.windows;
    match cfg.layout {
        Layout::Point => Ok(point.windows.clone()),
        Layout::General => Ok((1..=n)
            .map(|i| Window {
                no: format!("W{i:02}"),
                section: "综合受理".into(),
                items: vec![super::ALL_ITEMS.into()],
            })
            .collect()),
        Layout::Split => {
            let total_weight: f64 = cfg.items.iter().map(|i| i.weight).sum();
            let mut load: BTreeMap<&str, (f64, Vec<String>)> = BTreeMap::new();
            for i in &cfg.items {
                let e = load.entry(i.section.as_str()).or_default();
                e.0 += i.weight / total_weight * i.mean_minutes;
                e.1.push(i.code.clone());
            }
            if n < load.len() {
                return Err(SimError::TooFewWindows { windows: n, sections: load.len() });
            }
            // One each, then the rest by the largest remainder of each section's share of the load.
            let all: f64 = load.values().map(|(l, _)| *l).sum();
            let rest = (n - load.len()) as f64;
            let mut counts: Vec<(usize, f64, &str)> = load
                .iter()
                .map(|(s, (l, _))| {
                    let exact = if all > 0.0 { rest * l / all } else { 0.0 };
                    (1 + exact.floor() as usize, exact - exact.floor(), *s)
                })
                .collect();
            let given: usize = counts.iter().map(|c| c.0).sum();
            let mut order: Vec<usize> = (0..counts.len()).collect();
            order.sort_by(|a, b| counts[*b].1.total_cmp(&counts[*a].1).then(a.cmp(b)));
            for k in order.into_iter().take(n.saturating_sub(given)) {
                counts[k].0 += 1;
            }
            let mut out = Vec::new();
            for (count, _, section) in counts {
                let items = load.get(section).map(|(_, c)| c.clone()).unwrap_or_default();
                for _ in 0..count {
                    out.push(Window {
                        no: format!("W{:02}", out.len() + 1),
                        section: section.to_string(),
                        items: items.clone(),
                    });
                }
            }
            Ok(out)
        }
    }
}

/// One arrival of a day, drawn before any window is involved.
struct Drawn {
    at_ms: i64,
    item: usize,
    arrival: Arrival,
    service_ms: i64,
    case: bool,
}

fn draw_day(cfg: &SimConfig, spans: &[(i64, i64)], day_ms: i64, rng: &mut Rng, total_weight: f64) -> Vec<Drawn> {
    let mut out = Vec::new();
    for &(a, b) in spans {
        // Piecewise constant rate: restart at each step inside the span (the exponential forgets).
        let mut bounds: Vec<i64> = vec![a, b];
        for (m, _) in &cfg.arrivals.steps {
            let t = i64::from(*m) * MINUTE_MS;
            if t > a && t < b {
                bounds.push(t);
            }
        }
        bounds.sort_unstable();
        for w in bounds.windows(2) {
            let (from, to) = (w[0], w[1]);
            let rate = cfg.arrivals.rate_at((from / MINUTE_MS) as u32);
            if rate <= 0.0 {
                continue;
            }
            let mean_gap_ms = 3_600_000.0 / rate;
            let mut t = from as f64;
            loop {
                t += rng.exponential(mean_gap_ms);
                if t >= to as f64 {
                    break;
                }
                let mut pick = rng.uniform() * total_weight;
                let mut item = cfg.items.iter().rposition(|i| i.weight > 0.0).unwrap_or(0);
                for (k, i) in cfg.items.iter().enumerate() {
                    if pick < i.weight {
                        item = k;
                        break;
                    }
                    pick -= i.weight;
                }
                let arrival = Arrival {
                    in_slot_appointment: rng.uniform() < cfg.appointment_share,
                    age: None,
                    declared_elderly: rng.uniform() < cfg.elderly_share,
                    disabled: rng.uniform() < cfg.disabled_share,
                    on_the_spot_item: cfg.items[item].on_the_spot,
                };
                let mean = cfg.items[item].mean_minutes * cfg.service_scale;
                let minutes = cfg.service.sample(rng, mean).max(cfg.min_service_minutes);
                let case = rng.uniform() < cfg.case_share;
                out.push(Drawn {
                    at_ms: day_ms + t as i64,
                    item,
                    arrival,
                    service_ms: (minutes * MINUTE_MS as f64).round() as i64,
                    case,
                });
            }
        }
    }
    out
}

struct WinState {
    free_at: i64,
    busy: Option<(usize, bool)>,
    /// Services of the day: (start, end).
    services: Vec<(i64, i64)>,
    served: u64,
}

/// Simulate `cfg.days` days at a point of the network.
pub fn simulate(network: &Network, cfg: &SimConfig) -> Result<SimResult, SimError> {
    let point = network.point(&cfg.point).ok_or_else(|| SimError::UnknownPoint(cfg.point.clone()))?;
    let positive = |x: f64| x.is_finite() && x > 0.0;
    let share = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
    if !positive(cfg.service_scale) || !cfg.min_service_minutes.is_finite() || cfg.min_service_minutes < 0.0 {
        return Err(SimError::Parameter("service_scale or min_service_minutes"));
    }
    if !(share(cfg.elderly_share) && share(cfg.disabled_share) && share(cfg.appointment_share) && share(cfg.case_share))
    {
        return Err(SimError::Parameter("a share (0–1)"));
    }
    if let ServiceDist::Lognormal { cv } = cfg.service {
        if !positive(cv) {
            return Err(SimError::Parameter("the lognormal's cv"));
        }
    }
    if cfg.layout != Layout::Point && (cfg.windows == 0 || cfg.windows > 10_000) {
        return Err(SimError::Parameter("windows (1–10000)"));
    }
    if cfg.days == 0 || cfg.days > 3660 {
        return Err(SimError::Parameter("days (1–3660)"));
    }
    let total_weight: f64 = cfg.items.iter().map(|i| i.weight).sum();
    if cfg.items.is_empty() || !positive(total_weight) || cfg.items.iter().any(|i| i.weight.is_nan() || i.weight < 0.0)
    {
        return Err(SimError::NoItems);
    }
    for i in &cfg.items {
        if !positive(i.mean_minutes) {
            return Err(SimError::Parameter("an item's mean minutes"));
        }
        if !point.handles(&i.code) {
            return Err(SimError::ItemNotHandled(i.code.clone()));
        }
    }
    let windows = lay_out(point, cfg)?;
    let mut sim_point = point.clone();
    sim_point.windows = windows.clone();
    for i in &cfg.items {
        if i.weight > 0.0 && sim_point.windows_for(&i.code).next().is_none() {
            return Err(SimError::NoWindowFor(i.code.clone()));
        }
    }
    // The network the stats read (sections and hours): the same, with the simulated windows at the point.
    let mut sim_net = network.clone();
    for p in &mut sim_net.points {
        if p.id == sim_point.id {
            p.windows = windows.clone();
        }
    }
    let minute = |t: Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
    let spans: Vec<(i64, i64)> =
        point.spans().into_iter().map(|(a, b)| (minute(a) * MINUTE_MS, minute(b) * MINUTE_MS)).collect();
    let Some(&(_, close)) = spans.last() else {
        return Err(SimError::NoHours(point.id.clone()));
    };
    let open_ms: i64 = spans.iter().map(|(a, b)| b - a).sum();

    let mut queue: Vec<QueueState> = Vec::new();
    let mut staffed: Vec<WindowDay> = Vec::new();
    let mut overtime: Vec<i64> = Vec::new();
    let mut busy_total = vec![0i64; windows.len()];
    let mut served_total = vec![0u64; windows.len()];
    let mut available_ms = 0i64;
    let mut arrivals = 0u64;
    let mut day = cfg.first_day;
    for d in 0..cfg.days {
        while matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            day = day.next_day().ok_or(SimError::Parameter("first_day"))?;
        }
        let date = format_date(day);
        let day_ms = PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(CHINA).unix_timestamp() * 1000;
        let mut rng = Rng::new(cfg.seed ^ u64::from(d).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let drawn = draw_day(cfg, &spans, day_ms, &mut rng, total_weight);
        arrivals += drawn.len() as u64;
        staffed.extend(windows.iter().map(|w| WindowDay {
            point: point.id.clone(),
            window: w.no.clone(),
            date: date.clone(),
        }));

        let (states, last_ms, busy, served) = run_day(cfg, &sim_net, &sim_point, &spans, day_ms, &date, &drawn)?;
        let over = (last_ms - (day_ms + close)).max(0);
        overtime.push(over);
        available_ms += (open_ms + over) * windows.len() as i64;
        for k in 0..windows.len() {
            busy_total[k] += busy[k];
            served_total[k] += served[k];
        }
        queue.extend(states);
        day = day.next_day().ok_or(SimError::Parameter("days"))?;
    }

    let stats = hall_stats(&queue, &[], &sim_net, &staffed);
    let per_window_available = available_ms as f64 / windows.len().max(1) as f64 / MINUTE_MS as f64;
    let by_window = windows
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let busy = busy_total[k] as f64 / MINUTE_MS as f64;
            WindowUse {
                window: w.no.clone(),
                section: w.section.clone(),
                served: served_total[k],
                busy_minutes: busy,
                available_minutes: per_window_available,
                utilisation: if per_window_available > 0.0 { busy / per_window_available } else { 0.0 },
            }
        })
        .collect();
    let busy_all: i64 = busy_total.iter().sum();
    Ok(SimResult {
        layout: cfg.layout,
        windows,
        arrivals,
        stats,
        by_window,
        utilisation: if available_ms > 0 { busy_all as f64 / available_ms as f64 } else { 0.0 },
        overtime: Durations::of_ms(overtime),
        queue,
    })
}

type DayOutcome = (Vec<QueueState>, i64, Vec<i64>, Vec<u64>);

/// One day: take numbers as people arrive, call whenever a window is free and the point open, serve.
fn run_day(
    cfg: &SimConfig,
    network: &Network,
    point: &ServicePoint,
    spans: &[(i64, i64)],
    day_ms: i64,
    date: &str,
    drawn: &[Drawn],
) -> Result<DayOutcome, SimError> {
    let close = spans.last().map_or(0, |s| s.1);
    // Calls are allowed inside a span, and after closing until the queue is empty.
    let may_call = |t: i64| {
        let m = t - day_ms;
        m >= close || spans.iter().any(|(a, b)| m >= *a && m < *b)
    };
    let next_opening = |t: i64| {
        let m = t - day_ms;
        spans.iter().map(|(a, _)| *a).find(|a| *a > m).map_or(day_ms + close, |a| day_ms + a)
    };
    let mut wins: Vec<WinState> = point
        .windows
        .iter()
        .map(|_| WinState { free_at: day_ms, busy: None, services: Vec::new(), served: 0 })
        .collect();
    let mut states: Vec<QueueState> = Vec::with_capacity(drawn.len());
    // Indexes into `states` of the numbers waiting, and their states as pick_next sees them.
    let mut waiting: Vec<QueueState> = Vec::new();
    let mut index_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut seq: BTreeMap<char, u32> = BTreeMap::new();
    let mut next = 0usize;
    let mut last_ms = day_ms;
    loop {
        let t_arrival = drawn.get(next).map(|a| a.at_ms);
        let t_done = wins.iter().filter(|w| w.busy.is_some()).map(|w| w.free_at).min();
        let idle = wins.iter().any(|w| w.busy.is_none());
        // Numbers waiting for a free window while the point is closed (before a span, over the midday break).
        let t_open = (idle && !waiting.is_empty() && !may_call(last_ms)).then(|| next_opening(last_ms));
        let Some(now) = [t_arrival, t_done, t_open].into_iter().flatten().min() else {
            break;
        };
        last_ms = last_ms.max(now);
        // Services ending now.
        for (k, w) in wins.iter_mut().enumerate() {
            if let Some((i, case)) = w.busy.filter(|_| w.free_at <= now) {
                let s = &mut states[i];
                let ev = QueueEvent::Served {
                    window: point.windows[k].no.clone(),
                    case_no: case.then(|| format!("SIM-{date}-{}", s.number)),
                };
                s.check(&ev)?;
                s.apply(&ev, w.free_at);
                w.busy = None;
                w.served += 1;
            }
        }
        // Numbers taken now.
        while let Some(a) = drawn.get(next).filter(|a| a.at_ms <= now) {
            let item = &cfg.items[a.item];
            let (class, rank) = network.classify(&a.arrival);
            let n = seq.entry(class.prefix()).or_insert(0);
            *n += 1;
            let ev = QueueEvent::Taken {
                point: point.id.clone(),
                date: date.to_string(),
                number: format!("{}{:03}", class.prefix(), n),
                item: Some(item.code.clone()),
                section: None,
                source: ArrivalSource::Kiosk,
                class,
                rank,
                appointment: None,
                window: None,
            };
            let Some(s) = QueueState::taken(&ev, a.at_ms) else {
                return Err(SimError::Parameter("a taken number"));
            };
            index_of.insert(s.number.clone(), states.len());
            waiting.push(s.clone());
            states.push(s);
            next += 1;
        }
        // Free windows call, the one free longest first.
        if may_call(now) && !waiting.is_empty() {
            let mut free: Vec<usize> = (0..wins.len()).filter(|k| wins[*k].busy.is_none()).collect();
            free.sort_by_key(|k| (wins[*k].free_at, *k));
            for k in free {
                let window = &point.windows[k];
                let Some(number) = pick_next(&waiting, point, window).map(|q| q.number.clone()) else {
                    continue;
                };
                waiting.retain(|q| q.number != number);
                let Some(&i) = index_of.get(&number) else {
                    return Err(SimError::Parameter("a waiting number"));
                };
                let s = &mut states[i];
                for ev in [
                    QueueEvent::Called { window: window.no.clone() },
                    QueueEvent::Started { window: window.no.clone() },
                ] {
                    s.check(&ev)?;
                    s.apply(&ev, now);
                }
                let service = drawn[i].service_ms;
                let w = &mut wins[k];
                w.busy = Some((i, drawn[i].case));
                w.free_at = now + service;
                w.services.push((now, now + service));
                if waiting.is_empty() {
                    break;
                }
            }
        }
    }
    // Busy time counts within the time the window is available: opening hours, and after closing until the last
    // number is served (a service running into the midday break counts only up to the break).
    let mut available: Vec<(i64, i64)> = spans.iter().map(|(a, b)| (day_ms + a, day_ms + b)).collect();
    available.push((day_ms + close, last_ms.max(day_ms + close)));
    let busy = wins
        .iter()
        .map(|w| {
            let mut ms = 0;
            for (s, e) in &w.services {
                for (a, b) in &available {
                    ms += ((*e).min(*b) - (*s).max(*a)).max(0);
                }
            }
            ms
        })
        .collect();
    Ok((states, last_ms, busy, wins.iter().map(|w| w.served).collect()))
}
