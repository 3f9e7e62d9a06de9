//! `oneseal simulate hall`: days of Poisson arrivals at a service point with the catalog's window minutes, served
//! by N windows (general, split by section, or as the network has them), measured with the hall's own numbers —
//! so opening or merging windows can be tried before a reorganisation (the source's 47 → 19 question; docs/hall.md).
//! Several `--windows` values are run on the same arrivals and printed side by side.

use std::path::PathBuf;

use clap::Subcommand;
use oneseal_domain::catalog::{CatalogSet, HandlingForm, ServiceItem, Tag};
use oneseal_domain::hall::sim::{simulate, ArrivalProfile, Layout, ServiceDist, SimConfig, SimItem, SimResult};
use oneseal_domain::hall::{hhmm, Network, ServicePoint};
use serde_json::json;

#[derive(Subcommand)]
pub enum SimulateCmd {
    /// Days at one service point: arrivals, the queue's priority rules, N windows; prints waiting and service times,
    /// cases per window per day and per hour, utilisation, and a comparison when given several window counts.
    Hall(HallArgs),
}

#[derive(clap::Args)]
pub struct HallArgs {
    /// Windows, or several to compare on the same arrivals: `19`, `47,19`. Each may carry its layout and a factor
    /// on the window minutes (instead of --service-scale): `47:split@2.4,19:general`.
    #[arg(long, default_value = "19")]
    windows: String,
    /// Layout of counts given without one: `general` (every window serves every item), `split` (windows shared
    /// out over the sections by offered load, each serving its section's items only) or `point` (the point's
    /// windows in the network, the count ignored).
    #[arg(long, default_value = "general")]
    layout: String,
    /// Sections of a split: `department` (the item's department in the catalog) or `item` (one section per item).
    #[arg(long, default_value = "department")]
    split_by: String,
    /// Arrivals per hour while the point is open: `200/h`, or by hour of day `9:300,10:250,11:200,13:150,…` (from
    /// that hour until the next one given; the last until closing).
    #[arg(long, default_value = "200/h")]
    arrivals: String,
    /// The item mix: `all` (every item the point handles at a window, equally often), `section:NAME` (the items
    /// the point's windows of that section serve), or `CODE-or-NAME[:weight],…` (a name may be any unique part).
    #[arg(long, default_value = "all")]
    items: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value = "yc-hall")]
    point: String,
    /// Working days simulated (Monday to Friday from 2026-03-02; each day starts with an empty hall).
    #[arg(long, default_value_t = 20)]
    days: u32,
    /// Spread of service times around an item's window minutes: `lognormal:CV` or `exp`.
    #[arg(long, default_value = "lognormal:0.5")]
    service: String,
    /// Multiply every item's window minutes (what if a window took longer or less per case).
    #[arg(long, default_value_t = 1.0)]
    service_scale: f64,
    /// Share of served numbers that become a case.
    #[arg(long, default_value_t = 1.0)]
    case_share: f64,
    /// Shares of arrivals that are elderly, disabled, or within a booked slot (priority classes, if the network
    /// ranks them).
    #[arg(long, default_value_t = 0.08)]
    elderly_share: f64,
    #[arg(long, default_value_t = 0.01)]
    disabled_share: f64,
    #[arg(long, default_value_t = 0.1)]
    appointment_share: f64,
    /// A catalog directory laid out like catalog/ (departments.toml, items/, network.toml); default the demo
    /// catalog built into the binary.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Print every number of every run as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run(c: SimulateCmd) -> Result<(), String> {
    match c {
        SimulateCmd::Hall(a) => hall(a),
    }
}

fn load(dir: Option<&PathBuf>) -> Result<(CatalogSet, Network), String> {
    let files: Vec<(String, String)> = match dir {
        Some(d) => crate::read_catalog_dir(d)?,
        None => oneseal_app::catalog::DEMO_CATALOG.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect(),
    };
    let set = oneseal_app::catalog::parse_catalog_files(&files).map_err(|e| e.to_string())?;
    let text = files
        .iter()
        .find(|(p, _)| p.ends_with("network.toml"))
        .map(|(_, t)| t.as_str())
        .ok_or("the catalog has no network.toml")?;
    let net = Network::parse(text).map_err(|e| e.to_string())?;
    Ok((set, net))
}

fn sim_item(i: &ServiceItem, weight: f64, split_by_item: bool) -> SimItem {
    SimItem {
        code: i.impl_code.as_str().to_string(),
        section: if split_by_item { i.name.clone() } else { i.department.as_str().to_string() },
        weight,
        mean_minutes: f64::from(i.window_minutes()),
        on_the_spot: i.tags.contains(&Tag::OnTheSpot),
    }
}

fn mix(spec: &str, set: &CatalogSet, point: &ServicePoint, split_by_item: bool) -> Result<Vec<SimItem>, String> {
    let at_window =
        |i: &&ServiceItem| point.handles(i.impl_code.as_str()) && i.handling_forms.contains(&HandlingForm::Window);
    if spec == "all" {
        return Ok(set.items.values().filter(at_window).map(|i| sim_item(i, 1.0, split_by_item)).collect());
    }
    if let Some(section) = spec.strip_prefix("section:") {
        let windows: Vec<_> = point.windows.iter().filter(|w| w.section == section).collect();
        if windows.is_empty() {
            return Err(format!("point {} has no window in section {section}", point.id));
        }
        return Ok(set
            .items
            .values()
            .filter(at_window)
            .filter(|i| windows.iter().any(|w| w.serves(i.impl_code.as_str())))
            .map(|i| sim_item(i, 1.0, split_by_item))
            .collect());
    }
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (what, weight) = match part.rsplit_once(':') {
            Some((w, n)) => (w, n.parse::<f64>().map_err(|_| format!("--items {part}: the weight is not a number"))?),
            None => (part, 1.0),
        };
        let found: Vec<&ServiceItem> = set
            .items
            .values()
            .filter(|i| i.impl_code.as_str() == what || i.name.contains(what) || i.name_en.eq_ignore_ascii_case(what))
            .collect();
        match found.as_slice() {
            [one] => out.push(sim_item(one, weight, split_by_item)),
            [] => return Err(format!("--items {what}: no catalog item has that code or name")),
            many => {
                // An exact name wins over the items that merely contain it.
                match many.iter().find(|i| i.name == what) {
                    Some(i) => out.push(sim_item(i, weight, split_by_item)),
                    None => {
                        let names: Vec<&str> = many.iter().map(|i| i.name.as_str()).collect();
                        return Err(format!("--items {what}: several items match: {}", names.join("、")));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// One run: windows, layout, and a factor on every item's window minutes.
struct Scenario {
    windows: usize,
    layout: Layout,
    scale: Option<f64>,
}

fn scenarios(spec: &str, default: Layout) -> Result<Vec<Scenario>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (rest, scale) = match part.split_once('@') {
            Some((r, x)) => {
                let x: f64 = x.parse().map_err(|_| format!("--windows {part}: @ takes a factor, e.g. 47:split@2.4"))?;
                (r, Some(x))
            }
            None => (part, None),
        };
        let (n, layout) = match rest.split_once(':') {
            Some((n, l)) => {
                (n, Layout::parse(l).ok_or_else(|| format!("--windows {part}: layout general, split or point"))?)
            }
            None => (rest, default),
        };
        let windows: usize = n.parse().map_err(|_| format!("--windows {part}: not a number of windows"))?;
        out.push(Scenario { windows, layout, scale });
    }
    if out.is_empty() {
        return Err("--windows: give at least one count".into());
    }
    Ok(out)
}

fn service(spec: &str) -> Result<ServiceDist, String> {
    match spec.split_once(':') {
        None if spec == "exp" => Ok(ServiceDist::Exponential),
        Some(("lognormal", cv)) => {
            Ok(ServiceDist::Lognormal { cv: cv.parse().map_err(|_| format!("--service {spec}: cv is not a number"))? })
        }
        _ => Err(format!("--service {spec}: lognormal:CV or exp")),
    }
}

fn lay_out_count(net: &Network, c: &SimConfig) -> usize {
    net.point(&c.point).map_or(0, |p| p.windows.len())
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.decimals$}"))
}

fn hall(a: HallArgs) -> Result<(), String> {
    let (set, net) = load(a.catalog.as_ref())?;
    let point = net.point(&a.point).ok_or_else(|| format!("point {} is not in the network", a.point))?;
    let default = Layout::parse(&a.layout).ok_or("--layout: general, split or point")?;
    let split_by_item = match a.split_by.as_str() {
        "department" => false,
        "item" => true,
        _ => return Err("--split-by: department or item".into()),
    };
    let items = mix(&a.items, &set, point, split_by_item)?;
    if items.is_empty() {
        return Err(format!("--items {}: no item of the catalog is handled at a window of {}", a.items, a.point));
    }
    let arrivals = ArrivalProfile::parse(&a.arrivals).map_err(|e| e.to_string())?;
    let runs = scenarios(&a.windows, default)?;
    let mut cfg = SimConfig::new(&a.point, 0, arrivals, items);
    cfg.service = service(&a.service)?;
    cfg.service_scale = a.service_scale;
    cfg.case_share = a.case_share;
    cfg.elderly_share = a.elderly_share;
    cfg.disabled_share = a.disabled_share;
    cfg.appointment_share = a.appointment_share;
    cfg.days = a.days;
    cfg.seed = a.seed;
    let mut results: Vec<(String, SimResult)> = Vec::new();
    for sc in &runs {
        let mut c = cfg.clone();
        c.windows = sc.windows;
        c.layout = sc.layout;
        if let Some(x) = sc.scale {
            c.service_scale = x;
        }
        let mut label = match sc.layout {
            Layout::Point => format!("{} point", lay_out_count(&net, &c)),
            _ => format!("{} {}", sc.windows, sc.layout.as_str()),
        };
        if let Some(x) = sc.scale {
            label.push_str(&format!(" @{x}"));
        }
        let r = simulate(&net, &c).map_err(|e| format!("{label}: {e}"))?;
        results.push((label, r));
    }

    if a.json {
        let runs: Vec<_> = results
            .iter()
            .map(|(label, r)| {
                json!({
                    "label": label,
                    "windows": r.windows.len(),
                    "layout": r.layout,
                    "arrivals": r.arrivals,
                    "utilisation": r.utilisation,
                    "overtime": r.overtime,
                    "by_window": r.by_window,
                    "stats": r.stats,
                })
            })
            .collect();
        let out = json!({ "point": a.point, "days": a.days, "seed": a.seed, "arrivals": a.arrivals, "items": cfg.items, "runs": runs });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
        return Ok(());
    }

    let hours: Vec<String> = point.spans().iter().map(|(x, y)| format!("{}-{}", hhmm(*x), hhmm(*y))).collect();
    let open_h: f64 = point.spans().iter().map(|(x, y)| (*y - *x).whole_minutes() as f64 / 60.0).sum();
    println!(
        "simulate hall: {} {}, open {} ({open_h:.1} h), {} working days from 2026-03-02, seed {}",
        point.id,
        point.name,
        hours.join(" "),
        a.days,
        a.seed
    );
    println!(
        "arrivals per hour while open: {}; service times: {} around each item's window minutes × {}",
        a.arrivals, a.service, a.service_scale
    );
    let total_w: f64 = cfg.items.iter().map(|i| i.weight).sum();
    let mean: f64 = cfg.items.iter().map(|i| i.weight / total_w * i.mean_minutes).sum::<f64>() * a.service_scale;
    println!("items: {} (mean {mean:.1} window minutes per number):", cfg.items.len());
    for i in &cfg.items {
        let name = set.items.values().find(|x| x.impl_code.as_str() == i.code).map_or("", |x| x.name.as_str());
        println!(
            "  {:>5.1} %  {:>4.0} min  {}{}  [{}]",
            100.0 * i.weight / total_w,
            i.mean_minutes,
            name,
            if i.on_the_spot { " (马上办)" } else { "" },
            i.section
        );
    }
    println!();
    let width = results.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(8).max(10) + 2;
    let row = |name: &str, f: &dyn Fn(&SimResult) -> String| {
        let mut line = format!("{name:<28}");
        for (_, r) in &results {
            line.push_str(&format!("{:>width$}", f(r)));
        }
        println!("{line}");
    };
    let days = f64::from(a.days.max(1));
    let mut head = format!("{:<28}", "windows");
    for (l, _) in &results {
        head.push_str(&format!("{l:>width$}"));
    }
    println!("{head}");
    row("arrivals per day", &|r| format!("{:.1}", r.arrivals as f64 / days));
    row("served per day", &|r| format!("{:.1}", r.stats.total.served as f64 / days));
    row("cases per day", &|r| format!("{:.1}", r.stats.total.cases as f64 / days));
    row("wait mean (min)", &|r| opt(r.stats.total.waiting.mean_min, 1));
    row("wait p50 (min)", &|r| opt(r.stats.total.waiting.p50_min, 1));
    row("wait p90 (min)", &|r| opt(r.stats.total.waiting.p90_min, 1));
    row("wait max (min)", &|r| opt(r.stats.total.waiting.max_min, 1));
    row("service mean (min)", &|r| opt(r.stats.total.service.mean_min, 1));
    row("service p90 (min)", &|r| opt(r.stats.total.service.p90_min, 1));
    row("cases per window per day", &|r| opt(r.stats.total.cases_per_window_day, 1));
    row("cases per window-hour", &|r| opt(r.stats.total.cases_per_window_hour, 2));
    row("utilisation", &|r| format!("{:.0} %", 100.0 * r.utilisation));
    row("overtime mean (min/day)", &|r| opt(r.overtime.mean_min, 1));
    row("overtime max (min/day)", &|r| opt(r.overtime.max_min, 1));
    // Split layouts: the wait of each section, where the difference hides.
    for (label, r) in &results {
        if r.layout == Layout::Split {
            println!();
            println!("{label}: by section");
            for s in &r.stats.by_section {
                println!(
                    "  {:<24} {:>3} windows  {:>6.1} served/day  wait mean {:>6} p90 {:>6} min  utilisation {:>3.0} %",
                    s.key,
                    r.windows.iter().filter(|w| w.section == s.key).count(),
                    s.served as f64 / days,
                    opt(s.waiting.mean_min, 1),
                    opt(s.waiting.p90_min, 1),
                    100.0 * r.by_window.iter().filter(|w| w.section == s.key).map(|w| w.busy_minutes).sum::<f64>()
                        / r.by_window
                            .iter()
                            .filter(|w| w.section == s.key)
                            .map(|w| w.available_minutes)
                            .sum::<f64>()
                            .max(1.0)
                );
            }
        }
    }
    Ok(())
}
