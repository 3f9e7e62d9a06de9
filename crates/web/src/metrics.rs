//! `/metrics` in the Prometheus text format: HTTP request latency by route pattern (never by concrete path, so
//! no identifier or personal data becomes a label), the store's write transactions (duration and group-commit
//! batch sizes), each subscriber's lag behind the event log, and the open supervision alerts.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds of the request-latency histogram (seconds).
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
struct Hist {
    counts: [u64; 12],
    sum: f64,
}

/// Request metrics of this node.
#[derive(Default)]
pub struct Metrics {
    /// (method, route pattern, status class) → latency histogram.
    requests: Mutex<BTreeMap<(String, String, &'static str), Hist>>,
    /// Application forms rendered (a cached form is not rendered again).
    pub form_renders: std::sync::atomic::AtomicU64,
    /// Requests refused by the anonymous limit of the costly public routes.
    pub anonymous_refusals: std::sync::atomic::AtomicU64,
}

fn class(s: StatusCode) -> &'static str {
    match s.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Middleware: time every routed request under its route pattern.
pub async fn record(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let pattern = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    if let Some(pattern) = pattern {
        let secs = started.elapsed().as_secs_f64();
        if let Ok(mut m) = s.metrics.requests.lock() {
            let h = m.entry((method, pattern, class(resp.status()))).or_default();
            let i = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
            h.counts[i] += 1;
            h.sum += secs;
        }
    }
    resp
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The exposition.
pub async fn metrics(State(s): State<AppState>) -> Response {
    let mut out = String::new();
    let _ = writeln!(out, "# HELP oneseal_http_request_duration_seconds HTTP request latency by route pattern.");
    let _ = writeln!(out, "# TYPE oneseal_http_request_duration_seconds histogram");
    if let Ok(m) = s.metrics.requests.lock() {
        for ((method, route, status), h) in m.iter() {
            let labels = format!("method=\"{}\",route=\"{}\",status=\"{status}\"", esc(method), esc(route));
            let mut cum = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cum += h.counts[i];
                let _ = writeln!(out, "oneseal_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {cum}");
            }
            cum += h.counts[BUCKETS.len()];
            let _ = writeln!(out, "oneseal_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cum}");
            let _ = writeln!(out, "oneseal_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "oneseal_http_request_duration_seconds_count{{{labels}}} {cum}");
        }
    }
    let w = s.app.writer_stats();
    let _ =
        writeln!(out, "# HELP oneseal_store_transaction_seconds Write transactions (one per group-committed batch).");
    let _ = writeln!(out, "# TYPE oneseal_store_transaction_seconds histogram");
    let mut cum = 0;
    for (i, b) in oneseal_app::rows::TX_SECONDS_BUCKETS.iter().enumerate() {
        cum += w.tx_seconds_buckets[i];
        let _ = writeln!(out, "oneseal_store_transaction_seconds_bucket{{le=\"{b}\"}} {cum}");
    }
    cum += w.tx_seconds_buckets[oneseal_app::rows::TX_SECONDS_BUCKETS.len()];
    let _ = writeln!(out, "oneseal_store_transaction_seconds_bucket{{le=\"+Inf\"}} {cum}");
    let _ = writeln!(out, "oneseal_store_transaction_seconds_sum {}", w.tx_seconds_sum);
    let _ = writeln!(out, "oneseal_store_transaction_seconds_count {cum}");
    let _ = writeln!(out, "# HELP oneseal_store_batch_jobs Jobs per write transaction (group commit).");
    let _ = writeln!(out, "# TYPE oneseal_store_batch_jobs histogram");
    let mut cum = 0;
    for (i, b) in oneseal_app::rows::BATCH_SIZE_BUCKETS.iter().enumerate() {
        cum += w.batch_size_buckets[i];
        let _ = writeln!(out, "oneseal_store_batch_jobs_bucket{{le=\"{b}\"}} {cum}");
    }
    cum += w.batch_size_buckets[oneseal_app::rows::BATCH_SIZE_BUCKETS.len()];
    let _ = writeln!(out, "oneseal_store_batch_jobs_bucket{{le=\"+Inf\"}} {cum}");
    let _ = writeln!(out, "oneseal_store_batch_jobs_sum {}", w.jobs);
    let _ = writeln!(out, "oneseal_store_batch_jobs_count {cum}");
    let _ = writeln!(out, "# HELP oneseal_store_failed_batches_total Write transactions that failed as a whole.");
    let _ = writeln!(out, "# TYPE oneseal_store_failed_batches_total counter");
    let _ = writeln!(out, "oneseal_store_failed_batches_total {}", w.failed_batches);
    // Subscriber lag and open alerts come from the database (shared by every node).
    let facts = s.app.log_facts().await.map(|f| (f.last_seq, f.cursors, f.open_alerts, f.deliveries));
    let _ =
        writeln!(out, "# HELP oneseal_form_renders_total Application forms rendered as PDF (this node; cached after).");
    let _ = writeln!(out, "# TYPE oneseal_form_renders_total counter");
    let _ = writeln!(
        out,
        "oneseal_form_renders_total {}",
        s.metrics.form_renders.load(std::sync::atomic::Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP oneseal_anonymous_refusals_total Anonymous requests to costly public routes refused by the per-address limit."
    );
    let _ = writeln!(out, "# TYPE oneseal_anonymous_refusals_total counter");
    let _ = writeln!(
        out,
        "oneseal_anonymous_refusals_total {}",
        s.metrics.anonymous_refusals.load(std::sync::atomic::Ordering::Relaxed)
    );
    let _ = writeln!(out, "# HELP oneseal_webhook_failures_total Webhook delivery attempts that failed (this node).");
    let _ = writeln!(out, "# TYPE oneseal_webhook_failures_total counter");
    let _ = writeln!(
        out,
        "oneseal_webhook_failures_total {}",
        s.app.webhook_failures.load(std::sync::atomic::Ordering::Relaxed)
    );
    if let Ok((last, cursors, alerts, deliveries)) = facts {
        let _ = writeln!(out, "# HELP oneseal_webhook_deliveries Webhook deliveries by status (dead: dead letters).");
        let _ = writeln!(out, "# TYPE oneseal_webhook_deliveries gauge");
        for (status, n) in deliveries {
            let _ = writeln!(out, "oneseal_webhook_deliveries{{status=\"{}\"}} {n}", esc(&status));
        }
        let _ =
            writeln!(out, "# HELP oneseal_subscriber_lag_events Events of the log a subscriber has not processed yet.");
        let _ = writeln!(out, "# TYPE oneseal_subscriber_lag_events gauge");
        for (name, c) in cursors {
            let _ =
                writeln!(out, "oneseal_subscriber_lag_events{{subscriber=\"{}\"}} {}", esc(&name), (last - c).max(0));
        }
        let _ = writeln!(out, "# HELP oneseal_open_alerts Open supervision alerts.");
        let _ = writeln!(out, "# TYPE oneseal_open_alerts gauge");
        for (dept, kind, n) in alerts {
            let _ = writeln!(out, "oneseal_open_alerts{{department=\"{}\",kind=\"{}\"}} {n}", esc(&dept), esc(&kind));
        }
    }
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
