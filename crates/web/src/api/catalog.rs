//! The service catalog (items, versions, bundles, flowcharts), the departments, and the working-day calendar.

use super::*;

// ---- catalog ----

pub(super) async fn departments(State(s): State<AppState>) -> Res {
    Ok(Json(json!({ "departments": s.app.catalog().departments })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItemQuery {
    pub(super) q: Option<String>,
    pub(super) department: Option<String>,
    pub(super) tag: Option<Tag>,
    pub(super) kind: Option<ItemKind>,
    pub(super) topic: Option<String>,
    pub(super) page: Option<u32>,
    pub(super) per_page: Option<u32>,
}

pub(super) fn item_summary(s: &AppState, i: &ServiceItem, version: u32) -> Value {
    json!({
        "impl_code": i.impl_code, "name": i.name, "name_en": i.name_en, "kind": i.kind, "department": i.department,
        "department_name": s.app.catalog().department_name(i.department.as_str()), "handling": i.handling,
        "promised_limit": i.promised_limit, "statutory_limit": i.statutory_limit, "tags": i.tags, "topics": i.topics,
        "online_depth": i.online_depth, "visits_required": i.visits_required, "version": version,
    })
}

pub(crate) fn paging(page: Option<u32>, per_page: Option<u32>) -> Result<(usize, usize), ApiError> {
    let page = page.unwrap_or(1);
    let per = per_page.unwrap_or(20);
    if page == 0 || per == 0 || per > 200 {
        return Err(Problem::bad_request("invalid_paging", "page starts at 1; per_page is 1–200").into());
    }
    Ok(((page - 1) as usize * per as usize, per as usize))
}

pub(super) async fn list_items(State(s): State<AppState>, ApiQuery(q): ApiQuery<ItemQuery>) -> Res {
    let view = s.app.catalog();
    let (offset, limit) = paging(q.page, q.per_page)?;
    let codes: Vec<(String, Option<u32>)> = match q.q.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        Some(text) => {
            if text.chars().count() > 100 {
                return Err(Problem::bad_request("query_too_long", "search text is longer than 100 characters").into());
            }
            view.search(text)
                .into_iter()
                .filter(|(k, _, _)| *k == HitKind::Item)
                .map(|(_, c, sc)| (c, Some(sc)))
                .collect()
        }
        None => view.items.keys().map(|c| (c.clone(), None)).collect(),
    };
    let mut out = Vec::new();
    for (code, score) in codes {
        let Some(p) = view.latest_item(&code) else {
            continue;
        };
        let i = &p.body;
        if q.department.as_deref().is_some_and(|d| d != i.department.as_str())
            || q.tag.is_some_and(|t| !i.tags.contains(&t))
            || q.kind.is_some_and(|k| k != i.kind)
            || q.topic.as_deref().is_some_and(|t| !i.topics.iter().any(|x| x == t))
        {
            continue;
        }
        let mut v = item_summary(&s, i, p.version);
        if let Some(sc) = score {
            v["score"] = json!(sc);
        }
        out.push(v);
    }
    let total = out.len();
    let page: Vec<Value> = out.into_iter().skip(offset).take(limit).collect();
    Ok(Json(json!({ "total": total, "items": page })).into_response())
}

pub(super) fn find_item(s: &AppState, code: &str) -> Result<oneseal_app::catalog::Published<ServiceItem>, ApiError> {
    ItemCode::parse(code).map_err(|e| Problem::not_found(format!("item {code}: {e}")))?;
    s.app.catalog().latest_item(code).cloned().ok_or_else(|| Problem::not_found(format!("item {code}")).into())
}

pub(super) fn guide(s: &AppState, p: &oneseal_app::catalog::Published<ServiceItem>) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or_default();
    v["department_name"] = json!(s.app.catalog().department_name(p.body.department.as_str()));
    v["flowchart"] = json!(format!("/api/v1/items/{}/flowchart.svg", p.body.impl_code));
    v
}

pub(super) async fn get_item(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Res {
    let p = find_item(&s, &code)?;
    Ok(Json(guide(&s, &p)).into_response())
}

pub(super) async fn item_versions(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Res {
    find_item(&s, &code)?;
    let view = s.app.catalog();
    let versions: Vec<Value> = view.items.get(&code).map(|v| {
        v.iter().map(|p| json!({ "version": p.version, "published_at_ms": p.published_at_ms, "published_by": p.published_by, "reason": p.reason })).collect()
    }).unwrap_or_default();
    Ok(Json(json!({ "impl_code": code, "versions": versions })).into_response())
}

pub(super) async fn item_version(
    State(s): State<AppState>,
    ApiPath((code, version)): ApiPath<(String, String)>,
) -> Res {
    let v: u32 = version
        .parse()
        .map_err(|_| Problem::bad_request("invalid_version", "version must be a positive whole number"))?;
    let p = s
        .app
        .catalog()
        .item_version(&code, v)
        .cloned()
        .ok_or_else(|| Problem::not_found(format!("item {code} version {v}")))?;
    Ok(Json(guide(&s, &p)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PublishBody {
    pub(super) item: ServiceItem,
    pub(super) reason: String,
}

pub(super) async fn publish_item(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<PublishBody>,
) -> Res {
    admin(&actor)?;
    let current = find_item(&s, &code)?;
    if !oneseal_app::App::may_edit_item(&actor, current.body.department.as_str())
        || !oneseal_app::App::may_edit_item(&actor, b.item.department.as_str())
    {
        return Err(AppError::Forbidden("a department's administrator revises that department's items".into()).into());
    }
    if b.item.impl_code.as_str() != code {
        return Err(Problem::unprocessable("code_mismatch", "the item's impl_code differs from the address").into());
    }
    let v = s.app.publish_item(b.item, &actor.id, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(json!({ "impl_code": code, "version": v }))).into_response())
}

pub(super) async fn flowchart_svg(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Res {
    let code = code.trim_end_matches(".svg").to_string();
    let p = find_item(&s, &code)?;
    let view = s.app.catalog();
    let svg = flowchart::render(&p.body.process, &|d| view.department_name(d));
    let mut r = svg.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    Ok(r)
}

pub(super) async fn list_bundles(State(s): State<AppState>) -> Res {
    let view = s.app.catalog();
    let list: Vec<Value> = view
        .bundles
        .values()
        .filter_map(|v| v.last())
        .map(|p| json!({ "code": p.body.code, "name": p.body.name, "name_en": p.body.name_en, "description": p.body.description, "items": p.body.items, "promised_limit": p.body.promised_limit, "tags": p.body.tags, "topics": p.body.topics, "version": p.version }))
        .collect();
    Ok(Json(json!({ "bundles": list })).into_response())
}

pub(super) async fn get_bundle(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Res {
    let view = s.app.catalog();
    let p = view.latest_bundle(&code).ok_or_else(|| Problem::not_found(format!("bundle {code}")))?;
    let def = view.definition(&oneseal_domain::case::Subject::Bundle { code: code.clone(), version: p.version })?;
    let form: &FormSchema = &def.form;
    let mut v = serde_json::to_value(p).unwrap_or_default();
    v["form"] = json!(form);
    v["materials"] = json!(def.materials);
    v["results"] = json!(def.results);
    Ok(Json(v).into_response())
}

// ---- calendar ----

pub(super) async fn calendar_years(State(s): State<AppState>) -> Res {
    let cal = s.app.calendar();
    let years: Vec<i32> = cal.years().map(|y| y.year).collect();
    let today = oneseal_domain::clock::local_date(s.app.now());
    Ok(Json(json!({
        "years": years,
        "provisional_from": cal.first_provisional_year(today.year()),
        "reminder": s.app.provisional_reminder(),
    }))
    .into_response())
}

pub(super) fn parse_year(y: &str) -> Result<i32, ApiError> {
    y.parse::<i32>()
        .ok()
        .filter(|y| (1949..=2200).contains(y))
        .ok_or_else(|| Problem::bad_request("invalid_year", format!("{y:?} is not a year")).into())
}

pub(super) async fn calendar_year(State(s): State<AppState>, ApiPath(year): ApiPath<String>) -> Res {
    let y = parse_year(&year)?;
    let cal = s.app.calendar();
    let (d, provisional) = match (cal.year(y), cal.provisional_year(y)) {
        (Some(d), _) => (d, false),
        (None, Some(d)) => (d, true),
        (None, None) => return Err(Problem::not_found(format!("no calendar data for {y}")).into()),
    };
    let mut v = serde_json::to_value(d).map_err(|e| AppError::Internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("provisional".into(), json!(provisional));
    }
    Ok(Json(v).into_response())
}

pub(super) async fn put_calendar_year(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(year): ApiPath<String>,
    ApiJson(b): ApiJson<YearData>,
) -> Res {
    admin(&actor)?;
    let y = parse_year(&year)?;
    let saved = s.app.publish_calendar_year(&actor.id, &b.to_toml(), Some(y)).await?;
    Ok(Json(saved).into_response())
}

pub(super) fn parse_iso(d: &str) -> Result<time::Date, ApiError> {
    parse_date(d).map_err(|e| Problem::bad_request("invalid_date", e).into())
}

pub(super) async fn is_workday(State(s): State<AppState>, ApiPath(date): ApiPath<String>) -> Res {
    let d = parse_iso(&date)?;
    let cal = s.app.calendar();
    let w = cal.is_workday(d).map_err(AppError::from)?;
    Ok(Json(json!({ "date": format_date(d), "workday": w, "provisional": cal.is_provisional(d.year()) }))
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeadlineQuery {
    pub(super) start: String,
    pub(super) days: u32,
}

pub(super) async fn deadline(State(s): State<AppState>, ApiQuery(q): ApiQuery<DeadlineQuery>) -> Res {
    let d = parse_iso(&q.start)?;
    if q.days > 1000 {
        return Err(Problem::bad_request("invalid_days", "days must be 0–1000").into());
    }
    let cal = s.app.calendar();
    let dl = cal.add_working_days(d, q.days).map_err(AppError::from)?;
    Ok(Json(json!({
        "start": format_date(d),
        "days": q.days,
        "deadline": format_date(dl),
        "provisional": cal.provisional_between(d, dl),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DepartmentsBody {
    pub(super) departments: Vec<oneseal_domain::catalog::Department>,
    pub(super) reason: String,
}

/// Publish a new version of the departments and bureau sections (administrators).
pub(super) async fn publish_departments(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<DepartmentsBody>,
) -> Res {
    admin(&actor)?;
    let v = s.app.publish_departments(b.departments, &actor.id, &b.reason).await?;
    Ok(Json(json!({ "version": v, "departments": s.app.catalog().departments })).into_response())
}
