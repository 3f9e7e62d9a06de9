//! The hall's numbers (`hall::stats`) against a brute-force recount: random queues and appointments from a PRNG
//! seeded here, every row and every hour recounted by loops over the raw states (its own membership rules, its own
//! percentile by counting, its own opening minutes minute by minute, its own clock hour through `time`).

use std::collections::BTreeSet;

use oneseal_domain::hall::stats::*;
use oneseal_domain::hall::*;
use time::{OffsetDateTime, UtcOffset};

/// SplitMix64: the test's own dice, seeded here, the same on every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn pick<'a>(&mut self, v: &'a [&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}

const NETWORK: &str = r#"
[[point]]
id = "p1"
name = "一号大厅"
level = "city"
region = "640106"
address = "某街 1 号"
lat = 38.47
lon = 106.24
hours = ["09:00-12:00", "13:30-17:30"]
items = ["*"]
windows = [
  { no = "A01", section = "综合受理" },
  { no = "A02", section = "综合受理" },
  { no = "B01", section = "企业开办", items = ["X1", "X2"] },
]

[[point]]
id = "p2"
name = "二号中心"
level = "district"
region = "640104"
address = "某街 2 号"
lat = 38.46
lon = 106.28
hours = ["08:30-11:45"]
items = ["*"]
windows = [{ no = "1", section = "a,\"quoted\" section" }]
"#;

const DATES: [&str; 3] = ["2026-03-02", "2026-03-03", "2026-03-05"];
const ITEMS: [&str; 4] = ["X1", "X2", "X3", "X4"];

fn network() -> Network {
    match Network::parse(NETWORK) {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    }
}

/// Milliseconds since the epoch of a local (UTC+8) date and minute of the day.
fn at(date: &str, minute: i64) -> i64 {
    let d = match oneseal_domain::calendar::parse_date(date) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let midnight = d.midnight().assume_offset(UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC));
    midnight.unix_timestamp() * 1000 + minute * 60_000
}

fn random_queue(dice: &mut Dice, n: usize) -> Vec<QueueState> {
    let mut out = Vec::new();
    for k in 0..n {
        let point = dice.pick(&["p1", "p1", "p2", "p3"]).to_string();
        let date = dice.pick(&DATES).to_string();
        let windows: &[&str] = match point.as_str() {
            "p1" => &["A01", "A02", "B01", "Z9"],
            "p2" => &["1"],
            _ => &["W1", "W2"],
        };
        // Taken between 07:00 and 18:00 local, to the millisecond.
        let taken = at(&date, 7 * 60) + dice.below(11 * 3_600_000) as i64;
        let mut s = QueueState {
            point,
            date,
            number: format!("A{k:04}"),
            item: (!dice.chance(10)).then(|| dice.pick(&ITEMS).to_string()),
            section: dice.chance(30).then(|| dice.pick(&["综合受理", "企业开办", "own"]).to_string()),
            source: ArrivalSource::Kiosk,
            class: PriorityClass::Normal,
            rank: 5,
            appointment: None,
            status: QueueStatus::Waiting,
            window: None,
            to_window: None,
            responsible: None,
            handed_off: false,
            taken_ms: taken,
            called_ms: None,
            started_ms: None,
            served_ms: None,
            calls: 0,
            case_no: None,
        };
        let stage = dice.below(10);
        if stage >= 2 {
            // Called (a few with a clock a little behind: called before taken).
            let wait = if dice.chance(3) { -(dice.below(60_000) as i64) } else { dice.below(5_400_000) as i64 };
            s.called_ms = Some(taken + wait);
            s.window = Some(dice.pick(windows).to_string());
            s.status = QueueStatus::Called;
            s.calls = 1;
        }
        if stage == 2 {
            s.status = QueueStatus::Skipped;
            s.window = None;
        }
        if stage >= 4 {
            let start = s.called_ms.unwrap_or(taken) + dice.below(120_000) as i64;
            s.started_ms = Some(start);
            s.status = QueueStatus::Serving;
        }
        if stage >= 5 {
            let start = s.started_ms.unwrap_or(taken);
            s.served_ms = Some(start + dice.below(3_600_000) as i64);
            s.status = QueueStatus::Done;
            if dice.chance(70) {
                s.case_no = Some(format!("C{k}"));
            }
        }
        out.push(s);
    }
    out
}

fn random_appointments(dice: &mut Dice, n: usize) -> Vec<AppointmentFact> {
    let statuses = [
        AppointmentStatus::Booked,
        AppointmentStatus::CheckedIn,
        AppointmentStatus::NoShow,
        AppointmentStatus::Cancelled,
    ];
    (0..n)
        .map(|_| AppointmentFact {
            point: dice.pick(&["p1", "p2", "p3"]).to_string(),
            item: dice.pick(&ITEMS).to_string(),
            date: dice.pick(&DATES).to_string(),
            status: statuses[dice.below(4) as usize],
        })
        .collect()
}

fn random_staffed(dice: &mut Dice) -> Vec<WindowDay> {
    let mut out = Vec::new();
    for (p, ws) in [("p1", &["A01", "A02", "B01", "C7"][..]), ("p2", &["1"][..])] {
        for w in ws {
            for d in DATES {
                if dice.chance(60) {
                    out.push(WindowDay { point: p.into(), window: w.to_string(), date: d.into() });
                }
            }
        }
    }
    out
}

// ---- the recount ----

/// The section of a window by reading the network's points and windows by hand.
fn section_of_window(net: &Network, point: &str, window: &str) -> Option<String> {
    for p in &net.points {
        if p.id == point {
            for w in &p.windows {
                if w.no == window {
                    return Some(w.section.clone());
                }
            }
        }
    }
    None
}

fn belongs(net: &Network, q: &QueueState, dim: Dimension, point: &str, key: &str) -> bool {
    if dim == Dimension::All {
        return true;
    }
    if q.point != point {
        return false;
    }
    match dim {
        Dimension::All | Dimension::Point => true,
        Dimension::Window => q.window.as_deref() == Some(key),
        Dimension::Section => {
            let from_window = q.window.as_deref().and_then(|w| section_of_window(net, point, w));
            from_window.or(q.section.clone()).as_deref() == Some(key)
        }
        Dimension::Item => q.item.as_deref() == Some(key),
    }
}

/// Minutes of the day the point is open (minute by minute over "HH:MM-HH:MM" parsed by hand).
fn open_minutes(net: &Network, point: &str) -> Option<Vec<bool>> {
    let p = net.points.iter().find(|p| p.id == point)?;
    let mut open = vec![false; 24 * 60];
    for h in &p.hours {
        let b = h.as_bytes();
        let num = |i: usize| i64::from(b[i] - b'0') * 10 + i64::from(b[i + 1] - b'0');
        let (from, to) = (num(0) * 60 + num(3), num(6) * 60 + num(9));
        for m in from..to {
            open[m as usize] = true;
        }
    }
    Some(open)
}

fn local_hour(ms: i64) -> u8 {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.to_offset(UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC)).hour()
}

/// Mean, nearest-rank p50 and p90 (the smallest value with at least p % of values at or below it), max — by counting.
fn recount_durations(values: &[i64]) -> Durations {
    if values.is_empty() {
        return Durations::default();
    }
    let n = values.len();
    let pct = |p: usize| {
        let mut best: Option<i64> = None;
        for v in values {
            let at_or_below = values.iter().filter(|x| *x <= v).count();
            if at_or_below * 100 >= p * n && best.is_none_or(|b| *v < b) {
                best = Some(*v);
            }
        }
        best.map(|b| b as f64 / 60_000.0)
    };
    let mut total = 0i64;
    let mut max = i64::MIN;
    for v in values {
        total += v;
        max = max.max(*v);
    }
    Durations {
        n: n as u64,
        mean_min: Some(total as f64 / n as f64 / 60_000.0),
        p50_min: pct(50),
        p90_min: pct(90),
        max_min: Some(max as f64 / 60_000.0),
    }
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (None, None) => {}
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9 * (1.0 + y.abs()), "{what}: {x} ≠ {y}"),
        _ => panic!("{what}: {a:?} ≠ {b:?}"),
    }
}

fn same_durations(a: &Durations, b: &Durations, what: &str) {
    assert_eq!(a.n, b.n, "{what}: n");
    close(a.mean_min, b.mean_min, &format!("{what} mean"));
    close(a.p50_min, b.p50_min, &format!("{what} p50"));
    close(a.p90_min, b.p90_min, &format!("{what} p90"));
    close(a.max_min, b.max_min, &format!("{what} max"));
}

fn recount_row(net: &Network, queue: &[QueueState], appts: &[AppointmentFact], staffed: &[WindowDay], r: &HallRow) {
    let what = format!("{:?} {} {}", r.dimension, r.point, r.key);
    let (dim, point, key) = (r.dimension, r.point.as_str(), r.key.as_str());
    let (mut taken, mut called, mut served, mut cases) = (0u64, 0u64, 0u64, 0u64);
    let (mut waits, mut services) = (Vec::new(), Vec::new());
    for q in queue.iter().filter(|q| belongs(net, q, dim, point, key)) {
        taken += 1;
        if let Some(c) = q.called_ms {
            called += 1;
            waits.push(if c > q.taken_ms { c - q.taken_ms } else { 0 });
        }
        if let (Some(s), Some(e)) = (q.started_ms, q.served_ms) {
            services.push(if e > s { e - s } else { 0 });
        }
        if q.served_ms.is_some() {
            served += 1;
            if q.case_no.is_some() {
                cases += 1;
            }
        }
    }
    assert_eq!((r.taken, r.called, r.served, r.cases), (taken, called, served, cases), "{what}: counts");
    same_durations(&r.waiting, &recount_durations(&waits), &format!("{what} waiting"));
    same_durations(&r.service, &recount_durations(&services), &format!("{what} service"));

    // Window-days.
    let mut wd: BTreeSet<(String, String, String)> = BTreeSet::new();
    let window_in_group = |p: &str, w: &str| match dim {
        Dimension::All => true,
        Dimension::Point => p == point,
        Dimension::Window => p == point && w == key,
        Dimension::Section => p == point && section_of_window(net, p, w).as_deref() == Some(key),
        Dimension::Item => false,
    };
    for s in staffed {
        if window_in_group(&s.point, &s.window) {
            wd.insert((s.point.clone(), s.window.clone(), s.date.clone()));
        }
    }
    for q in queue {
        let (Some(w), Some(_)) = (&q.window, q.served_ms) else { continue };
        let counts = if dim == Dimension::Item {
            q.point == point && q.item.as_deref() == Some(key)
        } else {
            window_in_group(&q.point, w)
        };
        if counts {
            wd.insert((q.point.clone(), w.clone(), q.date.clone()));
        }
    }
    assert_eq!(r.window_days, wd.len() as u64, "{what}: window-days");
    let mut hours = Some(0.0);
    for (p, _, _) in &wd {
        hours = match (hours, open_minutes(net, p)) {
            (Some(h), Some(open)) => Some(h + open.iter().filter(|o| **o).count() as f64 / 60.0),
            _ => None,
        };
    }
    close(r.window_hours, hours, &format!("{what} window-hours"));
    let per = |a: u64, b: f64| (b > 0.0).then(|| a as f64 / b);
    close(r.served_per_window_day, per(served, wd.len() as f64), &format!("{what} served/window-day"));
    close(r.cases_per_window_day, per(cases, wd.len() as f64), &format!("{what} cases/window-day"));
    close(r.cases_per_window_hour, hours.and_then(|h| per(cases, h)), &format!("{what} cases/window-hour"));

    // Appointments: all, by point, by item at a point; none for windows and sections.
    let mut counts = [0u64; 4];
    for a in appts {
        let mine = match dim {
            Dimension::All => true,
            Dimension::Point => a.point == point,
            Dimension::Item => a.point == point && a.item == key,
            Dimension::Window | Dimension::Section => false,
        };
        if mine {
            let slot = ["booked", "checked_in", "no_show", "cancelled"]
                .iter()
                .position(|s| *s == a.status.as_str())
                .unwrap_or(0);
            counts[slot] += 1;
        }
    }
    assert_eq!([r.booked, r.checked_in, r.no_show, r.cancelled], counts, "{what}: appointments");
    close(r.no_show_rate, per(counts[2], (counts[1] + counts[2]) as f64), &format!("{what} no-show rate"));
}

fn check_all(net: &Network, queue: &[QueueState], appts: &[AppointmentFact], staffed: &[WindowDay]) -> HallStats {
    let st = hall_stats(queue, appts, net, staffed);

    // Every group that exists has exactly one row.
    let mut want: BTreeSet<(Dimension, String, String)> = BTreeSet::new();
    for q in queue {
        want.insert((Dimension::Point, q.point.clone(), String::new()));
        if let Some(w) = &q.window {
            want.insert((Dimension::Window, q.point.clone(), w.clone()));
        }
        let sec = q.window.as_deref().and_then(|w| section_of_window(net, &q.point, w)).or(q.section.clone());
        if let Some(s) = sec {
            want.insert((Dimension::Section, q.point.clone(), s));
        }
        if let Some(i) = &q.item {
            want.insert((Dimension::Item, q.point.clone(), i.clone()));
        }
    }
    for a in appts {
        want.insert((Dimension::Point, a.point.clone(), String::new()));
        want.insert((Dimension::Item, a.point.clone(), a.item.clone()));
    }
    for s in staffed {
        want.insert((Dimension::Point, s.point.clone(), String::new()));
        want.insert((Dimension::Window, s.point.clone(), s.window.clone()));
        if let Some(sec) = section_of_window(net, &s.point, &s.window) {
            want.insert((Dimension::Section, s.point.clone(), sec));
        }
    }
    let got: Vec<(Dimension, String, String)> =
        st.rows().skip(1).map(|r| (r.dimension, r.point.clone(), r.key.clone())).collect();
    assert_eq!(got.len(), want.len(), "one row per group");
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(st.total.dimension, Dimension::All);
    for (rows, dim) in [
        (&st.by_point, Dimension::Point),
        (&st.by_window, Dimension::Window),
        (&st.by_section, Dimension::Section),
        (&st.by_item, Dimension::Item),
    ] {
        assert!(rows.iter().all(|r| r.dimension == dim));
    }
    for r in st.rows() {
        recount_row(net, queue, appts, staffed, r);
    }

    // Days.
    let mut days: BTreeSet<&str> = queue.iter().map(|q| q.date.as_str()).collect();
    days.extend(appts.iter().map(|a| a.date.as_str()));
    assert_eq!(st.days, days.len() as u64);
    assert_eq!(st.from.as_deref(), days.first().copied());
    assert_eq!(st.to.as_deref(), days.last().copied());

    // Hours of day, per point.
    let mut hour_keys: BTreeSet<(String, u8)> = BTreeSet::new();
    for q in queue {
        hour_keys.insert((q.point.clone(), local_hour(q.taken_ms)));
        if let Some(s) = q.served_ms {
            hour_keys.insert((q.point.clone(), local_hour(s)));
        }
    }
    let mut all_wd: BTreeSet<(String, String, String)> =
        staffed.iter().map(|s| (s.point.clone(), s.window.clone(), s.date.clone())).collect();
    for q in queue {
        if let (Some(w), Some(_)) = (&q.window, q.served_ms) {
            all_wd.insert((q.point.clone(), w.clone(), q.date.clone()));
        }
    }
    for (p, _, _) in &all_wd {
        if let Some(open) = open_minutes(net, p) {
            for h in 0..24u8 {
                if open[usize::from(h) * 60..usize::from(h) * 60 + 60].iter().any(|o| *o) {
                    hour_keys.insert((p.clone(), h));
                }
            }
        }
    }
    let got: Vec<(String, u8)> = st.by_hour.iter().map(|h| (h.point.clone(), h.hour)).collect();
    assert_eq!(got, hour_keys.into_iter().collect::<Vec<_>>(), "one row per point and hour");
    for h in &st.by_hour {
        let what = format!("{} {}h", h.point, h.hour);
        let mut waits = Vec::new();
        let (mut taken, mut served, mut cases) = (0u64, 0u64, 0u64);
        for q in queue.iter().filter(|q| q.point == h.point) {
            if local_hour(q.taken_ms) == h.hour {
                taken += 1;
                if let Some(c) = q.called_ms {
                    waits.push((c - q.taken_ms).max(0));
                }
            }
            if q.served_ms.is_some_and(|s| local_hour(s) == h.hour) {
                served += 1;
                cases += u64::from(q.case_no.is_some());
            }
        }
        assert_eq!((h.taken, h.served, h.cases), (taken, served, cases), "{what}");
        same_durations(&h.waiting, &recount_durations(&waits), &format!("{what} waiting"));
        let n_wd = all_wd.iter().filter(|(p, _, _)| *p == h.point).count() as f64;
        let wh = open_minutes(net, &h.point).map(|open| {
            let from = usize::from(h.hour) * 60;
            open[from..from + 60].iter().filter(|o| **o).count() as f64 / 60.0 * n_wd
        });
        close(h.window_hours, wh, &format!("{what} window-hours"));
        let per = |a: u64| wh.filter(|x| *x > 0.0).map(|x| a as f64 / x);
        close(h.served_per_window_hour, per(served), &format!("{what} served/window-hour"));
        close(h.cases_per_window_hour, per(cases), &format!("{what} cases/window-hour"));
    }
    st
}

#[test]
fn every_number_matches_a_brute_force_recount() {
    let net = network();
    for seed in 1..=40u64 {
        let mut dice = Dice(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let n = dice.below(300) as usize;
        let queue = random_queue(&mut dice, n);
        let k = dice.below(60) as usize;
        let appts = random_appointments(&mut dice, k);
        let staffed = random_staffed(&mut dice);
        let st = check_all(&net, &queue, &appts, &staffed);
        // The CSV has one line per row and as many fields on each as in the header; a section with a comma and
        // quotes is quoted.
        let csv = st.csv();
        assert_eq!(csv.lines().count(), st.rows().count() + 1);
        assert!(csv.starts_with(CSV_HEADER));
        assert_eq!(st.hours_csv().lines().count(), st.by_hour.len() + 1);
        if st.by_section.iter().any(|r| r.key.contains('"')) {
            assert!(csv.contains(",\"a,\"\"quoted\"\" section\","), "{csv}");
        }
        // And the whole thing goes through JSON and back unchanged.
        // (serde_json parses floats to within an ulp, so compare the counts and the shape.)
        let json = serde_json::to_string(&st).unwrap_or_default();
        let back: HallStats = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        let counts = |s: &HallStats| {
            s.rows()
                .map(|r| (r.dimension, r.key.clone(), r.taken, r.served, r.cases, r.window_days))
                .collect::<Vec<_>>()
        };
        assert_eq!((counts(&back), back.by_hour.len()), (counts(&st), st.by_hour.len()));
    }
}

#[test]
fn nothing_measured_is_all_zero_and_empty() {
    let net = network();
    let st = check_all(&net, &[], &[], &[]);
    assert_eq!((st.total.taken, st.days, st.by_point.len(), st.by_hour.len()), (0, 0, 0, 0));
    assert_eq!(st.total.waiting, Durations::default());
    assert_eq!(st.total.cases_per_window_day, None);
}

#[test]
fn a_small_day_by_hand() {
    // Three numbers at p1 on one day: waits 10, 20 and 60 minutes; services 5, 15 and 40 minutes; two cases. A01 and
    // A02 staffed, B01 not (it served nobody).
    let net = network();
    let d = "2026-03-02";
    let mk = |no: &str, taken: i64, wait: i64, service: i64, window: &str, case: bool| QueueState {
        point: "p1".into(),
        date: d.into(),
        number: no.into(),
        item: Some("X1".into()),
        section: None,
        source: ArrivalSource::Kiosk,
        class: PriorityClass::Normal,
        rank: 5,
        appointment: None,
        status: QueueStatus::Done,
        window: Some(window.into()),
        to_window: None,
        responsible: Some(window.into()),
        handed_off: false,
        taken_ms: at(d, taken),
        called_ms: Some(at(d, taken + wait)),
        started_ms: Some(at(d, taken + wait)),
        served_ms: Some(at(d, taken + wait + service)),
        calls: 1,
        case_no: case.then(|| format!("C-{no}")),
    };
    let q = vec![
        mk("A001", 9 * 60, 10, 5, "A01", true),
        mk("A002", 9 * 60 + 5, 20, 15, "A02", true),
        mk("A003", 10 * 60, 60, 40, "A01", false),
    ];
    let staffed: Vec<WindowDay> = ["A01", "A02"]
        .iter()
        .map(|w| WindowDay { point: "p1".into(), window: w.to_string(), date: d.into() })
        .collect();
    let appts = vec![
        AppointmentFact { point: "p1".into(), item: "X1".into(), date: d.into(), status: AppointmentStatus::NoShow },
        AppointmentFact { point: "p1".into(), item: "X1".into(), date: d.into(), status: AppointmentStatus::CheckedIn },
        AppointmentFact { point: "p1".into(), item: "X1".into(), date: d.into(), status: AppointmentStatus::CheckedIn },
        AppointmentFact { point: "p1".into(), item: "X1".into(), date: d.into(), status: AppointmentStatus::Cancelled },
    ];
    let st = check_all(&net, &q, &appts, &staffed);
    let t = &st.total;
    assert_eq!((t.taken, t.served, t.cases, t.window_days), (3, 3, 2, 2));
    assert_eq!((t.waiting.mean_min, t.waiting.p50_min, t.waiting.p90_min), (Some(30.0), Some(20.0), Some(60.0)));
    assert_eq!((t.service.mean_min, t.service.p50_min, t.service.max_min), (Some(20.0), Some(15.0), Some(40.0)));
    assert_eq!(t.cases_per_window_day, Some(1.0));
    // p1 is open 7 hours: 2 cases over 14 window-hours.
    assert_eq!(t.window_hours, Some(14.0));
    close(t.cases_per_window_hour, Some(2.0 / 14.0), "cases per window-hour");
    assert_eq!(t.no_show_rate, Some(1.0 / 3.0));
    let a01 = st.by_window.iter().find(|r| r.key == "A01").map(|r| (r.served, r.cases, r.window_days));
    assert_eq!(a01, Some((2, 1, 1)));
    // 10:00–11:00: A002 ended at 09:40, A001 at 09:15; A003 (taken at 10:00) was called at 11:00 and ended 11:40.
    let h = |hour: u8| st.by_hour.iter().find(|r| r.hour == hour).map(|r| (r.taken, r.served));
    assert_eq!((h(9), h(10), h(11)), (Some((2, 2)), Some((1, 0)), Some((0, 1))));
    // 13:00–14:00 is open half an hour: two windows × ½ hour.
    assert_eq!(st.by_hour.iter().find(|r| r.hour == 13).and_then(|r| r.window_hours), Some(1.0));
    assert_eq!(hour_of_day(at(d, 23 * 60 + 59)), 23);
    assert_eq!(hour_of_day(at(d, 0)), 0);
}
