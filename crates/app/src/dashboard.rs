//! The leaders' and supervisors' dashboard (`/dashboard`, `/dashboard/screen`, `GET /api/v1/dashboard`): the
//! numbers of `oneseal_domain::dashboard` over the case projection, with the open alerts by department and the
//! liaison counters, and each table as CSV.

use oneseal_domain::catalog::Handling;
use oneseal_domain::dashboard::{self, CaseFact, Dashboard, Target};
use oneseal_domain::roles::{Actor, Role};
use serde::Serialize;

use crate::{from_ms, ms, App, AppError};

/// The "1230" targets compiled in from catalog/targets.toml (none when the file is absent).
pub fn builtin_targets() -> Result<Vec<Target>, AppError> {
    match crate::catalog::DEMO_CATALOG.iter().find(|(p, _)| p.ends_with("targets.toml")) {
        Some((_, text)) => dashboard::parse_targets(text).map_err(|e| AppError::invalid("catalog_invalid", e)),
        None => Ok(Vec::new()),
    }
}

/// The dashboard with the names to show and the supervision facts.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardView {
    #[serde(flatten)]
    pub numbers: Dashboard,
    /// Open alerts per department: (department, yellow, red and rule alerts).
    pub alerts_by_department: Vec<(String, i64, i64)>,
    #[serde(serialize_with = "counters")]
    pub liaison: Vec<oneseal_store::LiaisonCounter>,
    /// Ratings (好差评) given this month and the share satisfied (counted ratings).
    pub ratings_month: i64,
    pub satisfaction_share: Option<f64>,
    /// Display names of departments and items appearing above.
    pub names: std::collections::BTreeMap<String, String>,
    /// Shipments whose postage the bureau paid (免费寄递): requested this month, and in all.
    pub free_postage_month: i64,
    pub free_postage_total: i64,
    /// From 1 November: next year, while its official holiday notice is missing (its deadlines are planned dates).
    pub calendar_reminder: Option<i32>,
    /// 视频勘验: working days from the inspection's request to its result, video against on site, per item.
    pub inspection_days: Vec<oneseal_domain::inspection::InspectionDays>,
}

impl serde::Serialize for WrapCounter<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("LiaisonCounter", 5)?;
        st.serialize_field("regulator", &self.0.regulator)?;
        st.serialize_field("pushed", &self.0.pushed)?;
        st.serialize_field("acknowledged", &self.0.acknowledged)?;
        st.serialize_field("acknowledged_late", &self.0.acknowledged_late)?;
        st.serialize_field("overdue", &self.0.overdue)?;
        st.end()
    }
}

struct WrapCounter<'a>(&'a oneseal_store::LiaisonCounter);

/// Serialize the liaison counters (a store type) as objects.
fn counters<S: serde::Serializer>(v: &[oneseal_store::LiaisonCounter], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for c in v {
        seq.serialize_element(&WrapCounter(c))?;
    }
    seq.end()
}

/// Who sees the dashboard: supervisors and administrators (leaders hold one of these roles).
pub fn may_see_dashboard(actor: &Actor) -> bool {
    actor.has(Role::Supervisor) || actor.has(Role::Administrator)
}

/// The tables of the dashboard, each downloadable as CSV.
pub const TABLES: &[&str] =
    &["channels", "departments", "items", "targets", "windows", "hours", "overdue", "alerts", "liaison", "trend"];

use crate::export::csv_cell;

fn ratio(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.4}")).unwrap_or_default()
}

impl DashboardView {
    fn name(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    /// One table as CSV (header row first).
    pub fn csv(&self, table: &str) -> Result<String, AppError> {
        let d = &self.numbers;
        let mut rows: Vec<Vec<String>> = Vec::new();
        let counts = |head: &str, m: &std::collections::BTreeMap<String, i64>, named: bool| {
            let mut v = vec![vec![head.to_string(), "name".into(), "count".into()]];
            for (k, n) in m {
                v.push(vec![k.clone(), if named { self.name(k) } else { k.clone() }, n.to_string()]);
            }
            v
        };
        match table {
            "channels" => rows = counts("channel", &d.month_by_channel, false),
            "departments" => rows = counts("department", &d.month_by_department, true),
            "items" => rows = counts("item_code", &d.month_by_item, true),
            "windows" => rows = counts("service_point", &d.today_by_window, false),
            "overdue" => rows = counts("department", &d.overdue_by_department, true),
            "hours" => {
                rows.push(vec!["hour".into(), "count".into()]);
                for (h, n) in &d.today_by_hour {
                    rows.push(vec![h.to_string(), n.to_string()]);
                }
            }
            "targets" => {
                rows.push(
                    ["target", "name", "max_working_days", "completed", "average_working_days", "met"]
                        .map(String::from)
                        .to_vec(),
                );
                for t in &d.targets {
                    rows.push(vec![
                        t.id.clone(),
                        t.name.clone(),
                        t.max_working_days.to_string(),
                        t.completed.to_string(),
                        ratio(t.average_working_days),
                        t.met.map(|m| m.to_string()).unwrap_or_default(),
                    ]);
                }
            }
            "alerts" => {
                rows.push(["department", "name", "yellow", "red"].map(String::from).to_vec());
                for (dep, y, r) in &self.alerts_by_department {
                    rows.push(vec![dep.clone(), self.name(dep), y.to_string(), r.to_string()]);
                }
            }
            "liaison" => {
                rows.push(
                    ["regulator", "name", "pushed", "acknowledged", "acknowledged_late", "overdue"]
                        .map(String::from)
                        .to_vec(),
                );
                for c in &self.liaison {
                    rows.push(vec![
                        c.regulator.clone(),
                        self.name(&c.regulator),
                        c.pushed.to_string(),
                        c.acknowledged.to_string(),
                        c.acknowledged_late.to_string(),
                        c.overdue.to_string(),
                    ]);
                }
            }
            "trend" => {
                rows.push(["date", "applications", "completions"].map(String::from).to_vec());
                for (day, a, c) in &d.trend {
                    rows.push(vec![day.clone(), a.to_string(), c.to_string()]);
                }
            }
            other => return Err(AppError::NotFound(format!("dashboard table {other}"))),
        }
        let mut out = String::new();
        for r in rows {
            out.push_str(&r.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        Ok(out)
    }
}

impl App {
    /// The dashboard now.
    pub async fn dashboard(&self, actor: &Actor) -> Result<DashboardView, AppError> {
        if !may_see_dashboard(actor) {
            return Err(AppError::Forbidden("the dashboard is for leaders and supervisors".into()));
        }
        let now = self.now();
        // From the first day of last month's 31-day window: enough for the month and the 30-day trend.
        let since = ms(now) - 32 * 86_400_000;
        let today = oneseal_domain::calendar::format_date(oneseal_domain::clock::local_date(now));
        let targets = builtin_targets()?;
        let bundles: Vec<String> = targets.iter().flat_map(|t| t.bundles.iter().cloned()).collect();
        // Projects run for months: those registered in the last two years.
        let projects_since = ms(now) - 730 * 86_400_000;
        let (rows, overdue, alerts, liaison, last_licences, projects) = self
            .store
            .read(move |db| -> Result<_, AppError> {
                let rows = db.dashboard_rows(since)?;
                // A bundle's end to end: when its last licence was issued (from the case's events).
                let mut last = std::collections::BTreeMap::new();
                for r in rows.iter().filter(|r| r.status == "completed" && bundles.contains(&r.subject_code)) {
                    let events = db.read_stream(&format!("case-{}", r.case_no))?;
                    if let Some(e) = events.iter().rev().find(|e| e.event_type == "licenses_issued") {
                        last.insert(r.case_no.clone(), from_ms(e.at_ms));
                    }
                }
                Ok((
                    rows,
                    db.overdue_by_department(&today)?,
                    db.alert_counts()?,
                    db.liaison_counters(&today)?,
                    last,
                    crate::projects::project_facts(db, projects_since)?,
                ))
            })
            .await?;
        let view = self.catalog();
        let facts: Vec<CaseFact> = rows
            .into_iter()
            .map(|r| CaseFact {
                immediate: view.latest_item(&r.subject_code).is_some_and(|p| p.body.handling == Handling::Immediate),
                item_code: r.subject_code,
                department: r.department,
                channel: r.channel,
                service_point: r.service_point,
                status: r.status,
                submitted_at: from_ms(r.submitted_at_ms),
                finished_at: r.finished_at_ms.map(from_ms),
                deadline: r.deadline.and_then(|d| oneseal_domain::calendar::parse_date(&d).ok()),
                last_license_at: last_licences.get(&r.case_no).copied(),
                case_no: r.case_no,
            })
            .collect();
        let mut numbers = dashboard::compute(&facts, &projects, &targets, now, &self.calendar())?;
        numbers.overdue_by_department = overdue.into_iter().collect();
        let mut by_dept: std::collections::BTreeMap<String, (i64, i64)> = std::collections::BTreeMap::new();
        for (dept, kind, n) in alerts {
            let e = by_dept.entry(dept).or_default();
            if crate::supervision::level_of(&kind) == "yellow" {
                e.0 += n;
            } else {
                e.1 += n;
            }
        }
        let mut names = std::collections::BTreeMap::new();
        for d in &view.departments {
            names.insert(d.id.as_str().to_string(), d.name.clone());
        }
        for code in numbers.month_by_item.keys() {
            if let Some(p) = view.latest_item(code) {
                names.insert(code.clone(), p.body.name.clone());
            } else if let Some(b) = view.latest_bundle(code) {
                names.insert(code.clone(), b.body.name.clone());
            }
        }
        let month_start = oneseal_domain::calendar::parse_date(&format!("{}-01", numbers.month))
            .map(|d| ms(d.midnight().assume_offset(oneseal_domain::clock::CHINA)))
            .unwrap_or(since);
        let inspection_days = self.inspection_days().await?;
        for d in &inspection_days {
            if let Some(p) = view.latest_item(&d.item) {
                names.insert(d.item.clone(), p.body.name.clone());
            } else if let Some(b) = view.latest_bundle(&d.item) {
                names.insert(d.item.clone(), b.body.name.clone());
            }
        }
        let sat = self.satisfaction(month_start).await?;
        let (free_postage_month, free_postage_total) =
            self.store.read(move |db| db.free_postage_counts(month_start).map_err(AppError::from)).await?;
        Ok(DashboardView {
            ratings_month: sat.total,
            free_postage_month,
            free_postage_total,
            satisfaction_share: sat.share,
            numbers,
            alerts_by_department: by_dept.into_iter().map(|(d, (y, r))| (d, y, r)).collect(),
            liaison,
            names,
            calendar_reminder: self.provisional_reminder(),
            inspection_days,
        })
    }

    /// Working days from request to result of every finished inspection, video against on site, per item.
    pub async fn inspection_days(&self) -> Result<Vec<oneseal_domain::inspection::InspectionDays>, AppError> {
        let rows = self.store.read(|db| db.inspection_facts().map_err(AppError::from)).await?;
        let parse = |t: &str| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|e| AppError::Internal(format!("inspection fact time {t}: {e}")))
        };
        let mut facts = Vec::with_capacity(rows.len());
        for (item, requested, resulted, video) in rows {
            facts.push(oneseal_domain::inspection::InspectionFact {
                item,
                requested: parse(&requested)?,
                resulted: parse(&resulted)?,
                video,
            });
        }
        Ok(oneseal_domain::inspection::inspection_days(&facts, &self.calendar())?)
    }
}
