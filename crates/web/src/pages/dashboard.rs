//! The leaders' dashboard (`/dashboard`) and the operations centre's big screen (`/dashboard/screen`): every
//! number as a table (with its CSV) and, where JavaScript runs, as an Apache ECharts chart drawn from the same
//! numbers (embedded as JSON; the tables stay for screen readers and without JavaScript).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oneseal_app::dashboard::DashboardView;
use serde_json::json;

use super::{asset, forbidden, page, Ctx, Signed};
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    use oneseal_domain::roles::Role;
    crate::routes::Routes::pages()
        .get("/dashboard", Access::Roles(&[Role::Supervisor, Role::Administrator]), show)
        .get("/dashboard/screen", Access::Roles(&[Role::Supervisor, Role::Administrator]), screen)
        .get("/dashboard/tables/{table}", Access::Roles(&[Role::Supervisor, Role::Administrator]), table_csv)
        .get("/assets/dashboard.js", Access::Public, || async { asset("text/javascript; charset=utf-8", JS) })
        .get("/assets/vendor/echarts/echarts.simple.min.js", Access::Public, || async {
            asset("text/javascript; charset=utf-8", ECHARTS)
        })
}

const JS: &[u8] = include_bytes!("../../../../assets/web/dashboard.js");
const ECHARTS: &[u8] = include_bytes!("../../../../assets/vendor/echarts/echarts.simple.min.js");

/// One row of a count table: key, label, count.
pub struct Line {
    pub key: String,
    pub label: String,
    pub count: i64,
}

pub struct TargetLine {
    pub name: String,
    pub max: String,
    pub completed: i64,
    pub average: String,
    pub met: String,
    pub met_key: String,
}

pub struct Kpi {
    pub key: String,
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: Ctx,
    screen: bool,
    today: String,
    month: String,
    kpis: Vec<Kpi>,
    targets: Vec<TargetLine>,
    /// (table id, caption, key header, rows)
    tables: Vec<(String, String, String, Vec<Line>)>,
    alerts: Vec<(String, i64, i64)>,
    liaison: Vec<(String, i64, i64, i64, i64)>,
    trend: Vec<(String, i64, i64)>,
    data: String,
    calendar_reminder: Option<String>,
    /// 视频勘验: per item, (name, video cases, video mean days, on-site cases, on-site mean days, days saved).
    inspection: Vec<(String, u32, String, u32, String, String)>,
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".into())
}

fn days(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())
}

fn build(ctx: &Ctx, v: &DashboardView, screen: bool) -> DashboardPage {
    let d = &v.numbers;
    let name = |k: &str| v.names.get(k).cloned().unwrap_or_else(|| k.to_string());
    let lines = |m: &std::collections::BTreeMap<String, i64>, label: &dyn Fn(&str) -> String| -> Vec<Line> {
        let mut l: Vec<Line> = m.iter().map(|(k, n)| Line { key: k.clone(), label: label(k), count: *n }).collect();
        l.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
        l
    };
    let channel = |k: &str| ctx.t(&format!("channel-{k}"));
    let plain = |k: &str| k.to_string();
    let kpis = vec![
        ("today_total", d.today_total.to_string()),
        ("month_total", d.month_total.to_string()),
        ("online_share", pct(d.online_share)),
        ("window_share", pct(d.window_share)),
        ("on_time_rate", pct(d.on_time_rate)),
        ("on_the_spot_share", pct(d.on_the_spot_share)),
        ("average_working_days", days(d.average_working_days)),
        ("month_completed", d.month_completed.to_string()),
        ("satisfaction_share", pct(v.satisfaction_share)),
        ("free_postage_month", v.free_postage_month.to_string()),
    ]
    .into_iter()
    .map(|(k, val)| Kpi { key: k.to_string(), label: ctx.t(&format!("dash-{}", k.replace('_', "-"))), value: val })
    .collect();
    let targets = d
        .targets
        .iter()
        .map(|t| TargetLine {
            name: if ctx.lang == super::i18n::Lang::En && !t.name_en.is_empty() {
                t.name_en.clone()
            } else {
                t.name.clone()
            },
            max: format!("{}", t.max_working_days),
            completed: t.completed,
            average: days(t.average_working_days),
            met: match t.met {
                Some(true) => ctx.t("dash-met"),
                Some(false) => ctx.t("dash-missed"),
                None => "—".into(),
            },
            met_key: match t.met {
                Some(true) => "good".into(),
                Some(false) => "bad".into(),
                None => String::new(),
            },
        })
        .collect();
    let hours: std::collections::BTreeMap<String, i64> =
        d.today_by_hour.iter().map(|(h, n)| (format!("{h:02}:00"), *n)).collect();
    let tables = vec![
        ("channels", "dash-by-channel", "dash-channel", lines(&d.month_by_channel, &channel)),
        ("departments", "dash-by-department", "dash-department", lines(&d.month_by_department, &name)),
        ("items", "dash-by-item", "dash-item", lines(&d.month_by_item, &name)),
        ("windows", "dash-by-window", "dash-window", lines(&d.today_by_window, &plain)),
        ("hours", "dash-by-hour", "dash-hour", {
            let mut l = lines(&hours, &plain);
            l.sort_by(|a, b| a.key.cmp(&b.key));
            l
        }),
        ("overdue", "dash-overdue", "dash-department", lines(&d.overdue_by_department, &name)),
    ]
    .into_iter()
    .map(|(id, cap, head, rows)| (id.to_string(), ctx.t(cap), ctx.t(head), rows))
    .collect();
    let data = json!({
        "channels": d.month_by_channel.iter().map(|(k, n)| json!([channel(k), n])).collect::<Vec<_>>(),
        "departments": d.month_by_department.iter().map(|(k, n)| json!([name(k), n])).collect::<Vec<_>>(),
        "hours": (0..24u8).map(|h| json!([format!("{h:02}"), d.today_by_hour.get(&h).copied().unwrap_or(0)])).collect::<Vec<_>>(),
        "trend": d.trend.iter().map(|(day, a, c)| json!([day, a, c])).collect::<Vec<_>>(),
        "labels": { "applications": ctx.t("dash-applications"), "completions": ctx.t("dash-completions") },
    });
    let one = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into());
    let inspection = v
        .inspection_days
        .iter()
        .map(|r| {
            (name(&r.item), r.video_cases, one(r.video_mean), r.on_site_cases, one(r.on_site_mean), one(r.days_saved))
        })
        .collect();
    DashboardPage {
        inspection,
        calendar_reminder: v.calendar_reminder.map(|y| ctx.tv("calendar-reminder", &y.to_string())),
        ctx: ctx.clone(),
        screen,
        today: d.today.clone(),
        month: d.month.clone(),
        kpis,
        targets,
        tables,
        alerts: v.alerts_by_department.iter().map(|(k, y, r)| (name(k), *y, *r)).collect(),
        liaison: v
            .liaison
            .iter()
            .map(|c| (name(&c.regulator), c.pushed, c.acknowledged, c.acknowledged_late, c.overdue))
            .collect(),
        trend: d.trend.iter().rev().take(14).cloned().collect(),
        // `<` escaped so the JSON can never close its script element.
        data: data.to_string().replace('<', "\\u003c"),
    }
}

async fn render(s: AppState, ctx: Ctx, p: crate::policy::Principal, headers: HeaderMap, screen: bool) -> Response {
    if !oneseal_app::dashboard::may_see_dashboard(&p.actor) {
        return forbidden(&headers, "/dashboard");
    }
    match s.app.dashboard(&p.actor).await {
        Ok(v) => page(StatusCode::OK, &ctx, &build(&ctx, &v, screen)),
        Err(_) => super::unavailable(&ctx),
    }
}

async fn show(State(s): State<AppState>, ctx: Ctx, Signed(p): Signed, headers: HeaderMap) -> Response {
    render(s, ctx, p, headers, false).await
}

async fn screen(State(s): State<AppState>, ctx: Ctx, Signed(p): Signed, headers: HeaderMap) -> Response {
    render(s, ctx, p, headers, true).await
}

/// One table of the dashboard as CSV.
async fn table_csv(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(table): Path<String>,
) -> Response {
    if !oneseal_app::dashboard::may_see_dashboard(&p.actor) {
        return forbidden(&headers, "/dashboard");
    }
    let table = table.trim_end_matches(".csv").to_string();
    if !oneseal_app::dashboard::TABLES.contains(&table.as_str()) {
        return (StatusCode::NOT_FOUND, "no such table").into_response();
    }
    match s.app.dashboard(&p.actor).await.and_then(|v| v.csv(&table)) {
        Ok(text) => {
            let disposition = format!("attachment; filename=\"oneseal-dashboard-{table}.csv\"");
            let mut r = (StatusCode::OK, format!("\u{feff}{text}")).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response(),
    }
}
