//! The hall simulator (`hall::sim`) against the queue's rules and queueing theory: same seed same days; every
//! number taken is served; no window serves two people at once or calls while the point is closed (before closing);
//! each call takes the best-ranked, earliest eligible number; a free window never leaves someone waiting; more
//! windows never wait longer; an M/M/1 day-and-night point waits what the formula says.

use oneseal_domain::hall::sim::*;
use oneseal_domain::hall::stats::hall_stats;
use oneseal_domain::hall::*;

const NETWORK: &str = r#"
[[priority]]
class = "appointment"
rank = 1
[[priority]]
class = "elderly"
rank = 2
[[priority]]
class = "on_the_spot"
rank = 3
[[priority]]
class = "normal"
rank = 5

[[point]]
id = "hall"
name = "大厅"
level = "city"
region = "640106"
address = "某街 1 号"
lat = 38.47
lon = 106.24
hours = ["09:00-12:00", "13:30-17:30"]
items = ["*"]
windows = [{ no = "A01", section = "综合受理" }, { no = "B01", section = "企业开办", items = ["M1", "M2"] }]

[[point]]
id = "allday"
name = "全天"
level = "kiosk"
region = "640106"
address = "某街 2 号"
lat = 38.47
lon = 106.24
opens = "every_day"
hours = ["00:00-23:59"]
items = ["*"]
"#;

fn network() -> Network {
    Network::parse(NETWORK).unwrap_or_else(|e| panic!("{e}"))
}

fn items() -> Vec<SimItem> {
    let it = |code: &str, section: &str, weight: f64, mean: f64, spot: bool| SimItem {
        code: code.into(),
        section: section.into(),
        weight,
        mean_minutes: mean,
        on_the_spot: spot,
    };
    vec![
        it("M1", "market", 3.0, 12.0, false),
        it("M2", "market", 2.0, 12.0, false),
        it("S1", "police", 1.0, 8.0, true),
        it("T1", "tax", 1.0, 10.0, true),
    ]
}

fn config(windows: usize, layout: Layout) -> SimConfig {
    let mut c = SimConfig::new(
        "hall",
        windows,
        ArrivalProfile::parse("9:60,10:50,11:40,13:30,14:40,15:30,16:20").unwrap_or_else(|e| panic!("{e}")),
        items(),
    );
    c.layout = layout;
    c.days = 5;
    c.seed = 7;
    c
}

fn run(c: &SimConfig) -> SimResult {
    simulate(&network(), c).unwrap_or_else(|e| panic!("{e}"))
}

/// The minute of the day (local) of an instant.
fn minute_of_day(ms: i64) -> i64 {
    ((ms / 60_000) + 8 * 60).rem_euclid(24 * 60)
}

fn check_day_rules(r: &SimResult, c: &SimConfig) {
    let point = network().point(&c.point).cloned().unwrap_or_else(|| panic!("point"));
    let mut point = point;
    point.windows = r.windows.clone();
    let spans = [(9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60 + 30)];
    for q in &r.queue {
        let (Some(called), Some(started), Some(served)) = (q.called_ms, q.started_ms, q.served_ms) else {
            panic!("{} not served", q.number);
        };
        assert_eq!(q.status, QueueStatus::Done);
        assert!(q.taken_ms <= called && called == started && started < served, "{q:?}");
        // Numbers are taken while open; calls happen while open, or after closing.
        let t = minute_of_day(q.taken_ms);
        assert!(spans.iter().any(|(a, b)| t >= *a && t < *b), "taken at minute {t}");
        // Minutes since the local midnight the number was taken after (an overloaded day runs past midnight).
        let midnight = q.taken_ms - minute_of_day(q.taken_ms) * 60_000 - q.taken_ms.rem_euclid(60_000);
        let m = (called - midnight) / 60_000;
        assert!(m >= 17 * 60 + 30 || spans.iter().any(|(a, b)| m >= *a && m < *b), "called at minute {m}");
        let w = q.window.as_deref().unwrap_or_default();
        let window = point.window(w).unwrap_or_else(|| panic!("window {w}"));
        assert!(window.serves(q.item.as_deref().unwrap_or_default()), "{w} served an item it does not serve");
    }
    for w in &r.windows {
        // Per day: each day is simulated on its own (an overloaded day's overtime may run into the next morning).
        let mut mine: Vec<&QueueState> = r.queue.iter().filter(|q| q.window.as_deref() == Some(&w.no)).collect();
        mine.sort_by_key(|q| (q.date.clone(), q.started_ms));
        for pair in mine.windows(2).filter(|p| p[0].date == p[1].date) {
            assert!(pair[0].served_ms <= pair[1].started_ms, "{} serves two at once", w.no);
        }
    }
    // Each call: no eligible number waiting at that moment ranked better (rank, then taken, then number).
    for q in &r.queue {
        let (Some(called), Some(w)) = (q.called_ms, q.window.as_deref()) else { continue };
        let Some(window) = point.window(w) else { continue };
        for o in &r.queue {
            let waiting_then = o.date == q.date && o.taken_ms <= called && o.called_ms.is_some_and(|c| c > called);
            let eligible = window.serves(o.item.as_deref().unwrap_or_default());
            if waiting_then && eligible {
                assert!(
                    (o.rank, o.taken_ms, &o.number) > (q.rank, q.taken_ms, &q.number),
                    "{w} called {} while {} waited ahead of it",
                    q.number,
                    o.number
                );
            }
        }
    }
    // A number taken while open and not called at once found every window that serves its item busy.
    for q in &r.queue {
        if q.called_ms == Some(q.taken_ms) {
            continue;
        }
        for w in r.windows.iter().filter(|w| w.serves(q.item.as_deref().unwrap_or_default())) {
            let busy = r.queue.iter().any(|o| {
                o.window.as_deref() == Some(&w.no)
                    && o.started_ms.is_some_and(|s| s <= q.taken_ms)
                    && o.served_ms.is_some_and(|e| e > q.taken_ms)
            });
            // Or it had just become free at that very instant and called someone else ranked before.
            let called_now =
                r.queue.iter().any(|o| o.window.as_deref() == Some(&w.no) && o.called_ms == Some(q.taken_ms));
            assert!(busy || called_now, "{} waited while {} was free", q.number, w.no);
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_days() {
    let c = config(3, Layout::General);
    assert_eq!(run(&c), run(&c));
    let mut other = c.clone();
    other.seed = 8;
    assert_ne!(run(&c).queue, run(&other).queue);
}

#[test]
fn the_days_keep_the_rules_of_the_queue() {
    for (n, layout) in [(1, Layout::General), (3, Layout::General), (5, Layout::Split), (0, Layout::Point)] {
        let c = config(n, layout);
        let r = run(&c);
        check_day_rules(&r, &c);
        // The totals add up, and the stats are the hall's own numbers on the simulated queue.
        let t = &r.stats.total;
        assert_eq!((t.taken, t.served), (r.arrivals, r.arrivals));
        assert_eq!(t.cases, t.served, "case_share 1: every served number is a case");
        assert_eq!(r.by_window.iter().map(|w| w.served).sum::<u64>(), t.served);
        assert_eq!(r.stats.by_window.iter().map(|w| w.served).sum::<u64>(), t.served);
        assert_eq!(t.window_days, r.windows.len() as u64 * 5);
        assert!(r.utilisation > 0.0 && r.utilisation <= 1.0, "{}", r.utilisation);
        let mut net = network();
        for p in &mut net.points {
            if p.id == "hall" {
                p.windows = r.windows.clone();
            }
        }
        let staffed: Vec<_> = r
            .stats
            .by_window
            .iter()
            .flat_map(|w| {
                let dates: std::collections::BTreeSet<&str> = r.queue.iter().map(|q| q.date.as_str()).collect();
                dates
                    .into_iter()
                    .map(|d| stats::WindowDay { point: "hall".into(), window: w.key.clone(), date: d.into() })
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(hall_stats(&r.queue, &[], &net, &staffed), r.stats);
    }
}

#[test]
fn arrivals_do_not_depend_on_the_windows_and_more_windows_wait_less() {
    let few = run(&config(3, Layout::General));
    let many = run(&config(6, Layout::General));
    assert_eq!(few.arrivals, many.arrivals, "common random numbers: the same people come");
    let taken = |r: &SimResult| r.queue.iter().map(|q| (q.number.clone(), q.taken_ms)).collect::<Vec<_>>();
    assert_eq!(taken(&few), taken(&many));
    let (wf, wm) = (few.stats.total.waiting.mean_min, many.stats.total.waiting.mean_min);
    assert!(wm <= wf, "{wm:?} > {wf:?}");
    assert!(many.utilisation < few.utilisation);
    // Split windows (by section) never wait less than as many general windows with the same people.
    let split = run(&config(6, Layout::Split));
    assert!(split.stats.total.waiting.mean_min >= wm, "{:?} < {wm:?}", split.stats.total.waiting.mean_min);
}

#[test]
fn a_split_shares_the_windows_by_offered_load() {
    let net = network();
    let Some(point) = net.point("hall") else { panic!("hall") };
    let w = lay_out(point, &config(47, Layout::Split)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.len(), 47);
    let count = |s: &str| w.iter().filter(|x| x.section == s).count();
    // Offered load: market 5/7 × 12 = 8.57, police 1/7 × 8 = 1.14, tax 1/7 × 10 = 1.43 (of 11.14): 44 windows after
    // one each → 33.85, 4.51, 5.64 → 33 + 4 + 5 = 42, the two left to the largest remainders (.85, .64).
    assert_eq!((count("market"), count("police"), count("tax")), (35, 5, 7));
    assert!(w.iter().filter(|x| x.section == "police").all(|x| x.items == vec!["S1".to_string()]));
    let err = lay_out(point, &config(2, Layout::Split)).map(|_| ());
    assert_eq!(err, Err(SimError::TooFewWindows { windows: 2, sections: 3 }));
}

#[test]
fn an_m_m_1_point_waits_what_the_formula_says() {
    // One window open day and night, Poisson arrivals 3 an hour, exponential service of 10 minutes: ρ = 0.5 and the
    // mean wait in queue is ρ / (μ − λ) = 0.5 / 3 h = 10 minutes. 60 days ≈ 4,300 people.
    let one =
        vec![SimItem { code: "X".into(), section: "s".into(), weight: 1.0, mean_minutes: 10.0, on_the_spot: false }];
    let mut c = SimConfig::new("allday", 1, ArrivalProfile::flat(3.0), one);
    c.service = ServiceDist::Exponential;
    c.min_service_minutes = 0.0;
    c.elderly_share = 0.0;
    c.disabled_share = 0.0;
    c.appointment_share = 0.0;
    c.days = 60;
    let mut net = network();
    net.priority.clear();
    let r = simulate(&net, &c).unwrap_or_else(|e| panic!("{e}"));
    let wait = r.stats.total.waiting.mean_min.unwrap_or_default();
    let service = r.stats.total.service.mean_min.unwrap_or_default();
    assert!((8.5..11.5).contains(&wait), "mean wait {wait} min, theory 10");
    assert!((9.5..10.5).contains(&service), "mean service {service} min");
    assert!((0.45..0.55).contains(&r.utilisation), "utilisation {}", r.utilisation);
}

#[test]
fn profiles_and_errors() {
    let p = ArrivalProfile::parse("9:300,10:250,13:150").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (p.rate_at(8 * 60), p.rate_at(9 * 60), p.rate_at(12 * 60 + 59), p.rate_at(14 * 60)),
        (0.0, 300.0, 250.0, 150.0)
    );
    assert_eq!(ArrivalProfile::parse("200/h"), Ok(ArrivalProfile::flat(200.0)));
    assert_eq!(ArrivalProfile::parse("200"), Ok(ArrivalProfile::flat(200.0)));
    for bad in ["", "x/h", "-5", "10:1,9:2", "25:10", "9:"] {
        assert!(ArrivalProfile::parse(bad).is_err(), "{bad}");
    }
    let mut c = config(2, Layout::General);
    c.items[0].code = "NOT-HERE".into();
    // The hall handles "*": any code is handled there; at a point with a list it is refused.
    assert!(simulate(&network(), &c).is_ok());
    let mut c = config(2, Layout::General);
    c.point = "nowhere".into();
    assert_eq!(simulate(&network(), &c).map(|_| ()), Err(SimError::UnknownPoint("nowhere".into())));
    let mut c = config(0, Layout::General);
    c.days = 1;
    assert!(matches!(simulate(&network(), &c), Err(SimError::Parameter(_))));
}
