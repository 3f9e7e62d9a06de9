//! `oneseal bench hall`: the hall of the source at peak on this machine. One point with `windows` general windows
//! is added to the network; `arrivals` numbers are taken by a few threads as fast as the server answers (a morning
//! rush compressed), while `clients` threads work the windows in turn — call next, start, finish — and `screens`
//! hall screens hold the live feed (`/hall/{point}/events`) open and count the boards they receive. Reported:
//! take-a-number and call-next latency (p50, p99), numbers served per second, boards delivered, CPU per number.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oneseal_domain::hall::{Opening, PointLevel, ServicePoint, Window};
use oneseal_domain::roles::{Actor, Role};
use serde_json::json;

use crate::bench::{bench_database, percentile, process_cpu_ms, start_server_with, Client};

const POINT: &str = "bench-hall";

pub fn run(
    windows: usize,
    arrivals: usize,
    screens: usize,
    clients: usize,
    per_hour: u64,
    database: Option<String>,
    dir: &std::path::Path,
) -> Result<(), String> {
    let db = bench_database(database, dir, "hall")?;
    let app = crate::open_app(&db)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    println!("OneSeal hall benchmark");
    println!(
        "  database: {} ({:?}); machine: {} cores",
        oneseal_store::DatabaseUrl::parse(&db).map_err(|e| e.to_string())?.redacted(),
        app.store.backend(),
        std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1)
    );
    println!("  one point, {windows} general windows; {arrivals} numbers; {screens} screens; {clients} window clients");
    match per_hour {
        0 => println!("  arrivals: as fast as the server answers (closed loop: saturation)"),
        r => println!("  arrivals: {r} per hour, paced (open loop)"),
    }
    // With a pace, the k-th number is due at k × gap after the start (four takers share the schedule).
    let gap = (per_hour > 0).then(|| Duration::from_secs_f64(3600.0 / per_hour as f64));
    rt.block_on(async {
        crate::load_demo(&app, &db).await?;
        let name = oneseal_domain::ids::Username::parse("bench-clerk").map_err(|e| e.to_string())?;
        app.put_account(&name, "bench", "bench-password", &[Role::WindowClerk], Some("bureau-general"))
            .await
            .map_err(|e| e.to_string())?;
        let mut net = app.network().as_ref().clone();
        net.points.retain(|p| p.id != POINT);
        net.points.push(ServicePoint {
            id: POINT.into(),
            name: "基准测试大厅".into(),
            name_en: "Benchmark hall".into(),
            level: PointLevel::City,
            region: "640100".into(),
            address: "bench".into(),
            address_en: String::new(),
            lat: 38.47,
            lon: 106.24,
            opens: Opening::EveryDay,
            hours: vec!["00:00-23:59".into()],
            acts_for: "银川市审批服务局".into(),
            items: vec!["*".into()],
            windows: (1..=windows)
                .map(|i| Window { no: format!("W{i}"), section: "综合受理".into(), items: vec!["*".into()] })
                .collect(),
            bookings_per_window: 2,
            phone: String::new(),
        });
        let admin = Actor::system("bench", Role::Administrator, None);
        app.publish_network(&admin, net).await.map_err(|e| e.to_string())?;
        // The clerk works this point's windows: posted to it.
        app.set_staff_post(&admin, &name, Some(POINT), None).await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    })?;
    // The screens and the takers are the hall's own devices, all on this machine's loopback address.
    let devices = oneseal_app::egress::Cidr::parse_list("127.0.0.0/8").map_err(|e| e.to_string())?;
    let settings = oneseal_web::WebSettings { hall_devices: devices, ..Default::default() };
    let addr = start_server_with(&rt, &app, settings)?;
    let base = format!("http://{addr}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(clients * 2 + 8)
        .build()
        .into();
    let client = Arc::new(Client::new(agent, base.clone()));
    let (s, v) = client.call(
        "POST",
        "/api/v1/sessions",
        None,
        Some(&json!({"username": "bench-clerk", "password": "bench-password"})),
    )?;
    if s != 201 {
        return Err(format!("login: {s} {v}"));
    }
    let token = Arc::new(v["token"].as_str().unwrap_or_default().to_string());

    // Screens: each holds the feed open and counts the boards it receives.
    let stop = Arc::new(AtomicBool::new(false));
    let boards = Arc::new(AtomicUsize::new(0));
    let connected = Arc::new(AtomicUsize::new(0));
    let mut screen_threads = Vec::new();
    for _ in 0..screens {
        let (stop, boards, connected, url) =
            (stop.clone(), boards.clone(), connected.clone(), format!("{base}/hall/{POINT}/events"));
        screen_threads.push(
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    let agent: ureq::Agent =
                        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(3600))).build().into();
                    let Ok(mut resp) = agent.get(&url).call() else { return };
                    connected.fetch_add(1, Ordering::Relaxed);
                    let mut reader = std::io::BufReader::new(resp.body_mut().as_reader());
                    let mut line = String::new();
                    while !stop.load(Ordering::Relaxed) {
                        line.clear();
                        match std::io::BufRead::read_line(&mut reader, &mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if line.starts_with("event: board") => drop(boards.fetch_add(1, Ordering::Relaxed)),
                            Ok(_) => {}
                        }
                    }
                })
                .map_err(|e| e.to_string())?,
        );
    }
    let wait_from = Instant::now();
    while connected.load(Ordering::Relaxed) < screens && wait_from.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("  screens connected: {}", connected.load(Ordering::Relaxed));
    let boards_before = boards.load(Ordering::Relaxed);

    let cpu_before = process_cpu_ms();
    let started = Instant::now();
    let taken = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    // Arrivals: four threads take numbers until `arrivals` are taken.
    let mut takers = Vec::new();
    for _ in 0..4 {
        let (client, token, taken) = (client.clone(), token.clone(), taken.clone());
        takers.push(std::thread::spawn(move || -> Result<Vec<Duration>, String> {
            let mut lat = Vec::new();
            loop {
                let k = taken.fetch_add(1, Ordering::Relaxed);
                if k >= arrivals {
                    break;
                }
                if let Some(g) = gap {
                    let due = started + g * u32::try_from(k).unwrap_or(u32::MAX);
                    if let Some(d) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(d);
                    }
                }
                let t = Instant::now();
                let (s, v) = client.call(
                    "POST",
                    &format!("/api/v1/service-points/{POINT}/numbers"),
                    Some(&token),
                    Some(&json!({"source": "walk_in"})),
                )?;
                if s != 201 {
                    return Err(format!("take: {s} {v}"));
                }
                lat.push(t.elapsed());
            }
            Ok(lat)
        }));
    }
    // Windows: each client works its windows in turn until every number is served.
    let mut workers = Vec::new();
    for c in 0..clients {
        let (client, token, served, gap) = (client.clone(), token.clone(), served.clone(), gap);
        let mine: Vec<String> = (1..=windows).filter(|w| (w - 1) % clients == c).map(|w| format!("W{w}")).collect();
        workers.push(std::thread::spawn(move || -> Result<(Vec<Duration>, usize), String> {
            let mut lat = Vec::new();
            let mut empty = 0;
            let mut i = 0;
            while served.load(Ordering::Relaxed) < arrivals {
                let Some(w) = mine.get(i % mine.len().max(1)) else { break };
                i += 1;
                let path = format!("/api/v1/service-points/{POINT}/windows/{w}");
                let t = Instant::now();
                let (s, v) = client.call("POST", &path, Some(&token), Some(&json!({"action": "call_next"})))?;
                match (s, v["code"].as_str()) {
                    (200, _) => lat.push(t.elapsed()),
                    (409, Some("queue_empty")) => {
                        empty += 1;
                        // A clerk with no one waiting looks up again a moment later.
                        std::thread::sleep(Duration::from_millis(if gap.is_some() { 200 } else { 2 }));
                        continue;
                    }
                    _ => return Err(format!("call_next at {w}: {s} {v}")),
                }
                for a in [json!({"action": "start"}), json!({"action": "finish"})] {
                    let (s, v) = client.call("POST", &path, Some(&token), Some(&a))?;
                    if s != 200 {
                        return Err(format!("{a} at {w}: {s} {v}"));
                    }
                }
                served.fetch_add(1, Ordering::Relaxed);
            }
            Ok((lat, empty))
        }));
    }
    let mut take_lat = Vec::new();
    for t in takers {
        take_lat.extend(t.join().map_err(|_| "a taker panicked".to_string())??);
    }
    let mut call_lat = Vec::new();
    let mut empties = 0;
    for w in workers {
        let (l, e) = w.join().map_err(|_| "a window client panicked".to_string())??;
        call_lat.extend(l);
        empties += e;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = process_cpu_ms().zip(cpu_before).map(|(a, b)| (a - b) / arrivals as f64);
    // Let the screens see the last board, then stop them.
    std::thread::sleep(Duration::from_millis(1500));
    let boards_during = boards.load(Ordering::Relaxed) - boards_before;
    stop.store(true, Ordering::Relaxed);
    take_lat.sort();
    call_lat.sort();
    println!("results");
    println!(
        "  numbers served: {} in {secs:.2} s ({:.0}/s; 4 requests each)",
        served.load(Ordering::Relaxed),
        served.load(Ordering::Relaxed) as f64 / secs
    );
    println!("  take a number ms: p50 {:.2}  p99 {:.2}", percentile(&take_lat, 0.5), percentile(&take_lat, 0.99));
    println!(
        "  call next ms:     p50 {:.2}  p99 {:.2}  ({} calls; {empties} found the queue empty)",
        percentile(&call_lat, 0.5),
        percentile(&call_lat, 0.99),
        call_lat.len()
    );
    println!(
        "  boards delivered to screens during the run: {boards_during} ({:.1} per screen)",
        boards_during as f64 / screens.max(1) as f64
    );
    if let Some(c) = cpu {
        println!("  CPU per number: {c:.2} ms (this process: server, clients and screens)");
    }
    // The screens' threads end when the process does (their connections stay open until then).
    drop(screen_threads);
    Ok(())
}
