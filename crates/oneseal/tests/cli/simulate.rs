//! `oneseal simulate hall` as users run it: a fixed seed gives the same output twice; with more windows on the same
//! arrivals nobody waits longer; the totals add up (every arrival served, windows' numbers sum to the whole,
//! cases per window-day × window-days = cases); the table shows every run side by side.

use serde_json::Value;

use super::run;

const ARGS: [&str; 12] = [
    "simulate",
    "hall",
    "--arrivals",
    "9:140,10:130,11:110,13:80,14:90,15:80,16:60",
    "--items",
    "section:企业开办",
    "--seed",
    "1",
    "--days",
    "3",
    "--windows",
    "6,10,19,47:split",
];

fn runs() -> Vec<Value> {
    let mut args = ARGS.to_vec();
    args.push("--json");
    let (ok, out, err) = run(&args);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["runs"].as_array().cloned().unwrap_or_default()
}

#[test]
fn simulate_hall_is_repeatable_and_consistent() {
    let runs = runs();
    assert_eq!(runs.len(), 4);
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let u = |v: &Value| v.as_u64().unwrap_or(u64::MAX);
    let arrivals = u(&runs[0]["arrivals"]);
    assert!(arrivals > 1500, "three days of about 650 arrivals: {arrivals}");
    for r in &runs {
        let t = &r["stats"]["total"];
        // The same people come whatever the windows, and every number taken is served.
        assert_eq!(u(&r["arrivals"]), arrivals);
        assert_eq!((u(&t["taken"]), u(&t["served"]), u(&t["cases"])), (arrivals, arrivals, arrivals));
        let by_window: u64 = r["by_window"].as_array().map_or(0, |w| w.iter().map(|w| u(&w["served"])).sum());
        assert_eq!(by_window, arrivals);
        let sections: u64 = r["stats"]["by_section"].as_array().map_or(0, |s| s.iter().map(|s| u(&s["served"])).sum());
        assert_eq!(sections, arrivals);
        let items: u64 = r["stats"]["by_item"].as_array().map_or(0, |s| s.iter().map(|s| u(&s["taken"])).sum());
        assert_eq!(items, arrivals);
        // Every window is staffed every day.
        assert_eq!(u(&t["window_days"]), u(&r["windows"]) * 3);
        let per_day = f(&t["cases_per_window_day"]);
        assert!((per_day * u(&t["window_days"]) as f64 - arrivals as f64).abs() < 1e-6);
        // The yc-hall is open 7 hours: per window-hour = per window-day ÷ 7.
        assert!((f(&t["cases_per_window_hour"]) * 7.0 - per_day).abs() < 1e-9);
        let util = f(&r["utilisation"]);
        assert!(util > 0.0 && util <= 1.0, "{util}");
    }
    // More general windows on the same arrivals: the wait is not longer, the utilisation lower.
    let wait = |r: &Value| f(&r["stats"]["total"]["waiting"]["mean_min"]);
    let general: Vec<&Value> = runs.iter().filter(|r| r["layout"] == "general").collect();
    for pair in general.windows(2) {
        assert!(wait(pair[1]) <= wait(pair[0]), "{} > {}", wait(pair[1]), wait(pair[0]));
        assert!(f(&pair[1]["utilisation"]) < f(&pair[0]["utilisation"]));
    }
    assert!(wait(general[0]) > wait(general[2]), "6 windows for ~650 a day must queue");
    // The same seed, the same numbers.
    assert_eq!(runs, self::runs());
}

#[test]
fn simulate_hall_prints_the_runs_side_by_side() {
    let (ok, out, err) = run(&ARGS);
    assert!(ok, "{err}");
    let head = out.lines().find(|l| l.starts_with("windows")).unwrap_or_default();
    for label in ["6 general", "10 general", "19 general", "47 split"] {
        assert!(head.contains(label), "{head}");
    }
    for row in ["wait mean (min)", "wait p90 (min)", "service mean (min)", "cases per window per day", "utilisation"] {
        assert!(out.lines().any(|l| l.starts_with(row)), "{row}: {out}");
    }
    assert!(out.contains("47 split: by section"), "{out}");
    // Bad input is an error that names it, never a panic.
    let (ok, _, err) = run(&["simulate", "hall", "--arrivals", "lots"]);
    assert!(!ok && err.contains("lots"), "{err}");
    let (ok, _, err) = run(&["simulate", "hall", "--windows", "2:split", "--items", "all"]);
    assert!(!ok && err.contains("sections"), "{err}");
}
