//! The numbers leaders steer by (领导驾驶舱), computed from one row per case: volumes by channel, department,
//! item and window; shares online, at the general windows and on the spot; the on-time rate; average working time
//! against the "1230" targets; trends. Pure: the rows, the instant "now" and the calendar come in as parameters.
//!
//! Working time counts the bureau's hours (`crate::worktime`), so "half a working day" is measurable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::calendar::{Calendar, CalendarError};
use crate::clock::CHINA;
pub use crate::worktime::{working_minutes, WORKING_DAY_MINUTES};

/// One case as the dashboard needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFact {
    pub case_no: String,
    pub item_code: String,
    pub department: String,
    pub channel: String,
    pub service_point: String,
    pub status: String,
    pub submitted_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// The promised deadline's day (for on-the-spot items, the day their minutes run out).
    pub deadline: Option<Date>,
    /// The item is handled on the spot (即办).
    pub immediate: bool,
    /// When the case's last licence was issued (a bundle's end to end is application to last licence).
    pub last_license_at: Option<OffsetDateTime>,
}

/// A construction project as the "1230" figures measure it: from its filing (registration) to the end of its
/// 施工许可 stage (the construction permit) and of its 竣工验收 stage (completion acceptance).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectFact {
    pub code: String,
    pub registered_at: OffsetDateTime,
    pub permit_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
}

/// What a target measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Each case of the target's items from application to completion, and each case of its bundles from
    /// application to its last licence (the bundle end to end, 一件事).
    #[default]
    Cases,
    /// Each project from its filing to its construction permit (立项到施工许可).
    ProjectPermit,
    /// Each project from its filing to completion acceptance (全流程).
    ProjectWhole,
}

/// A "1230" target: a group of items and the longest average working time allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    /// Longest average, in working days (0.5 = half a working day).
    pub max_working_days: f64,
    /// Item codes (implementation codes) in the group, each case measured on its own.
    #[serde(default)]
    pub items: Vec<String>,
    /// Bundle codes in the group, each case measured end to end (application to its last licence).
    #[serde(default)]
    pub bundles: Vec<String>,
    #[serde(default)]
    pub measure: Measure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    target: Vec<Target>,
}

/// Parse `targets.toml`.
pub fn parse_targets(text: &str) -> Result<Vec<Target>, String> {
    let f: TargetsFile = toml::from_str(text).map_err(|e| format!("targets.toml: {e}"))?;
    for t in &f.target {
        let measured = match t.measure {
            Measure::Cases => !(t.items.is_empty() && t.bundles.is_empty()),
            Measure::ProjectPermit | Measure::ProjectWhole => t.items.is_empty() && t.bundles.is_empty(),
        };
        if t.max_working_days.is_nan() || t.max_working_days <= 0.0 || !measured {
            return Err(format!(
                "targets.toml: target {} needs max_working_days > 0, and items or bundles (cases) or neither (projects)",
                t.id
            ));
        }
    }
    Ok(f.target)
}

/// How one target is doing over the completed cases of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetResult {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub max_working_days: f64,
    pub measure: Measure,
    pub completed: i64,
    /// Average working days from submission to completion (None without completed cases).
    pub average_working_days: Option<f64>,
    pub met: Option<bool>,
}

/// Every number of the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Dashboard {
    pub today: String,
    pub month: String,
    pub today_total: i64,
    pub today_by_channel: BTreeMap<String, i64>,
    pub month_total: i64,
    pub month_by_channel: BTreeMap<String, i64>,
    pub month_by_department: BTreeMap<String, i64>,
    pub month_by_item: BTreeMap<String, i64>,
    /// Each channel's share of this month's applications, 0–1 (the channels above, over `month_total`).
    pub month_channel_shares: BTreeMap<String, f64>,
    /// Share of this month's applications made online (web and mobile), 0–1.
    pub online_share: Option<f64>,
    /// Share of this month's applications taken at general windows and bank branches.
    pub window_share: Option<f64>,
    /// Cases completed this month.
    pub month_completed: i64,
    /// Of those with a deadline, completed on or before its day.
    pub month_on_time: i64,
    pub month_with_deadline: i64,
    pub on_time_rate: Option<f64>,
    /// Share of completed cases handled on the spot (即办).
    pub on_the_spot_share: Option<f64>,
    pub average_working_days: Option<f64>,
    pub targets: Vec<TargetResult>,
    /// Today's window applications per service point, and per hour of the day (0–23).
    pub today_by_window: BTreeMap<String, i64>,
    pub today_by_hour: BTreeMap<u8, i64>,
    /// Open cases past their deadline, per department (counted by the store over every open case; `compute`
    /// leaves it empty).
    pub overdue_by_department: BTreeMap<String, i64>,
    /// The last 30 days: applications and completions per day.
    pub trend: Vec<(String, i64, i64)>,
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Compute the dashboard at `now` over the given cases (those submitted or finished in the last 31 days are
/// enough).
pub fn compute(
    facts: &[CaseFact],
    projects: &[ProjectFact],
    targets: &[Target],
    now: OffsetDateTime,
    cal: &Calendar,
) -> Result<Dashboard, CalendarError> {
    let local = now.to_offset(CHINA);
    let today = local.date();
    let month_start = today.replace_day(1).unwrap_or(today);
    let mut d = Dashboard {
        today: crate::calendar::format_date(today),
        month: format!("{:04}-{:02}", today.year(), u8::from(today.month())),
        ..Dashboard::default()
    };
    let mut working = Vec::new();
    let trend_from = today - Duration::days(29);
    let mut trend: BTreeMap<Date, (i64, i64)> = BTreeMap::new();
    let mut day = trend_from;
    while day <= today {
        trend.insert(day, (0, 0));
        day = match day.next_day() {
            Some(x) => x,
            None => break,
        };
    }
    for f in facts {
        let sub = f.submitted_at.to_offset(CHINA);
        let sub_day = sub.date();
        let at_window = matches!(f.channel.as_str(), "window" | "bank");
        if sub_day == today {
            d.today_total += 1;
            *d.today_by_channel.entry(f.channel.clone()).or_default() += 1;
            if at_window {
                *d.today_by_window.entry(f.service_point.clone()).or_default() += 1;
                *d.today_by_hour.entry(sub.hour()).or_default() += 1;
            }
        }
        if sub_day >= month_start && sub_day <= today {
            d.month_total += 1;
            *d.month_by_channel.entry(f.channel.clone()).or_default() += 1;
            *d.month_by_department.entry(f.department.clone()).or_default() += 1;
            *d.month_by_item.entry(f.item_code.clone()).or_default() += 1;
        }
        if let Some(t) = trend.get_mut(&sub_day) {
            t.0 += 1;
        }
        let Some(fin) = f.finished_at.filter(|_| f.status == "completed") else { continue };
        let fin_day = fin.to_offset(CHINA).date();
        if let Some(t) = trend.get_mut(&fin_day) {
            t.1 += 1;
        }
        if fin_day < month_start || fin_day > today {
            continue;
        }
        d.month_completed += 1;
        if let Some(dl) = f.deadline {
            d.month_with_deadline += 1;
            if fin_day <= dl {
                d.month_on_time += 1;
            }
        }
        let days = working_minutes(cal, f.submitted_at, fin)? as f64 / WORKING_DAY_MINUTES as f64;
        let end = f.last_license_at.unwrap_or(fin);
        let end_to_end = working_minutes(cal, f.submitted_at, end)? as f64 / WORKING_DAY_MINUTES as f64;
        working.push((f.item_code.as_str(), days, f.immediate, end_to_end));
    }
    let in_month = |t: OffsetDateTime| {
        let d = t.to_offset(CHINA).date();
        d >= month_start && d <= today
    };
    let mut permits = Vec::new();
    let mut wholes = Vec::new();
    for p in projects {
        if let Some(at) = p.permit_at.filter(|t| in_month(*t)) {
            permits.push(working_minutes(cal, p.registered_at, at)? as f64 / WORKING_DAY_MINUTES as f64);
        }
        if let Some(at) = p.completed_at.filter(|t| in_month(*t)) {
            wholes.push(working_minutes(cal, p.registered_at, at)? as f64 / WORKING_DAY_MINUTES as f64);
        }
    }
    let online: i64 = ["online", "mobile"].iter().map(|c| d.month_by_channel.get(*c).copied().unwrap_or(0)).sum();
    let windows: i64 = ["window", "bank"].iter().map(|c| d.month_by_channel.get(*c).copied().unwrap_or(0)).sum();
    d.month_channel_shares =
        d.month_by_channel.iter().filter_map(|(c, n)| share(*n, d.month_total).map(|x| (c.clone(), x))).collect();
    d.online_share = share(online, d.month_total);
    d.window_share = share(windows, d.month_total);
    d.on_time_rate = share(d.month_on_time, d.month_with_deadline);
    d.on_the_spot_share = share(working.iter().filter(|w| w.2).count() as i64, d.month_completed);
    d.average_working_days =
        (!working.is_empty()).then(|| working.iter().map(|w| w.1).sum::<f64>() / working.len() as f64);
    for t in targets {
        let xs: Vec<f64> = match t.measure {
            Measure::Cases => working
                .iter()
                .filter_map(|w| {
                    if t.bundles.iter().any(|b| b == w.0) {
                        Some(w.3)
                    } else {
                        t.items.iter().any(|i| i == w.0).then_some(w.1)
                    }
                })
                .collect(),
            Measure::ProjectPermit => permits.clone(),
            Measure::ProjectWhole => wholes.clone(),
        };
        let avg = (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
        d.targets.push(TargetResult {
            id: t.id.clone(),
            name: t.name.clone(),
            name_en: t.name_en.clone(),
            max_working_days: t.max_working_days,
            measure: t.measure,
            completed: xs.len() as i64,
            average_working_days: avg,
            met: avg.map(|a| a <= t.max_working_days),
        });
    }
    d.trend = trend.into_iter().map(|(day, (a, c))| (crate::calendar::format_date(day), a, c)).collect();
    Ok(d)
}
