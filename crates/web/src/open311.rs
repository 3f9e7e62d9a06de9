//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>) over the 12345 hotline: the categories of the
//! dispatch directory are the services; a service request is a ticket. JSON and XML. Errors are the spec's
//! `[{code, description}]` / `<errors>`. Requests are created with an `api_key`: an API token of a hotline
//! operator's account. Public answers never carry the caller's name or phone.
//!
//! The XML is written here by hand: five flat element shapes with escaped text, not worth an XML crate.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use oneseal_app::hotline::TicketView;
use oneseal_app::rows::TicketFilter;
use oneseal_domain::hotline::Intake;
use oneseal_domain::roles::Role;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;

use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::other()
        .get("/open311/v2/{file}", Access::Public, top)
        .post("/open311/v2/{file}", Access::Public, post_request)
        .get("/open311/v2/services/{file}", Access::Public, service_definition)
        .get("/open311/v2/requests/{file}", Access::Public, one_request)
        .get("/open311/v2/tokens/{file}", Access::Public, token)
}

#[derive(Clone, Copy, PartialEq)]
enum Fmt {
    Json,
    Xml,
}

/// `name.json` / `name.xml` → (name, format).
fn split(file: &str) -> Option<(&str, Fmt)> {
    if let Some(n) = file.strip_suffix(".json") {
        Some((n, Fmt::Json))
    } else {
        file.strip_suffix(".xml").map(|n| (n, Fmt::Xml))
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn xml_value(name: &str, v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            let inner = match name {
                "attributes" => "attribute",
                "values" => "value",
                _ => "item",
            };
            for i in items {
                xml_value(inner, i, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in m {
                xml_value(k, v, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", esc(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// A list of records: JSON array, or XML `<root><item>…</item>…</root>`.
fn answer(fmt: Fmt, status: StatusCode, root: &str, item: &str, records: Vec<Value>) -> Response {
    match fmt {
        Fmt::Json => (status, axum::Json(Value::Array(records))).into_response(),
        Fmt::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            out.push_str(&format!("<{root}>"));
            for r in &records {
                xml_value(item, r, &mut out);
            }
            out.push_str(&format!("</{root}>"));
            let mut r = (status, out).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"));
            r
        }
    }
}

/// One record that is not a list (a service definition): JSON object or XML `<root>…</root>`.
fn answer_one(fmt: Fmt, root: &str, record: Value) -> Response {
    match fmt {
        Fmt::Json => axum::Json(record).into_response(),
        Fmt::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            xml_value(root, &record, &mut out);
            let mut r = out.into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"));
            r
        }
    }
}

fn error(fmt: Fmt, code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    answer(fmt, status, "errors", "error", vec![json!({ "code": code, "description": description })])
}

fn not_found() -> Response {
    error(Fmt::Json, 404, "not found: use services.json|xml, requests.json|xml, services/{code}.json …")
}

fn rfc(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn service_json(s: &AppState, c: &oneseal_domain::hotline::TicketCategory) -> Value {
    let view = s.app.catalog();
    json!({
        "service_code": c.id, "service_name": c.name, "description": c.name_en, "metadata": true, "type": "realtime",
        "keywords": c.name_en.to_lowercase().replace(' ', ","), "group": view.department_name(&c.lead_unit),
    })
}

/// Hide runs of 7 or more digits (a phone or ID number typed into a request) in what Open311 publishes.
fn hide_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && (chars[j].is_ascii_digit() || (j > i && matches!(chars[j], 'X' | 'x'))) {
            j += 1;
        }
        if j - i >= 7 {
            out.extend(std::iter::repeat_n('*', j - i));
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// How many requests one call may name (GeoReport v2 leaves it to the server).
const MAX_IDS: usize = 50;

fn request_json(t: &TicketView) -> Value {
    let st = &t.state;
    let open = !matches!(st.status.as_str(), "closed" | "merged");
    let updated = [Some(st.received_at), st.signed_at, st.replied_at, st.closed_at].into_iter().flatten().max();
    json!({
        "service_request_id": st.ticket_no, "status": if open { "open" } else { "closed" },
        "status_notes": hide_numbers(st.reply.as_deref().unwrap_or_default()), "service_name": t.category_name,
        "service_code": st.intake.category, "description": hide_numbers(&st.intake.content),
        "agency_responsible": t.lead_unit_name.clone().unwrap_or_default(),
        "service_notice": "12345 政务服务便民热线", "requested_datetime": rfc(st.received_at),
        "updated_datetime": updated.map(rfc).unwrap_or_default(),
        "expected_datetime": st.reply_due.map(rfc).unwrap_or_default(),
        "address": hide_numbers(&st.intake.location), "address_id": "", "zipcode": "", "lat": Value::Null, "long": Value::Null,
        "media_url": "",
    })
}

/// `GET /open311/v2/{discovery|services|requests}.{json|xml}`
async fn top(State(s): State<AppState>, Path(file): Path<String>, Query(q): Query<Map<String, Value>>) -> Response {
    let Some((name, fmt)) = split(&file) else { return not_found() };
    match name {
        "discovery" => {
            let base = s.app.public_url();
            let d = json!({
                "changeset": "2026-11-27T00:00:00Z", "contact": "12345 政务服务便民热线",
                "key_service": "API keys are API tokens of hotline operators' accounts (POST /api/v1/tokens)",
                "endpoints": [{ "specification": "http://wiki.open311.org/GeoReport_v2", "url": format!("{base}/open311/v2"),
                    "changeset": "2026-11-27T00:00:00Z", "type": "production", "formats": ["application/json", "text/xml"] }],
            });
            answer_one(fmt, "discovery", d)
        }
        "services" => {
            let dir = s.app.hotline_directory();
            answer(
                fmt,
                StatusCode::OK,
                "services",
                "service",
                dir.category.iter().map(|c| service_json(&s, c)).collect(),
            )
        }
        "requests" => list_requests(&s, fmt, &q).await,
        _ => not_found(),
    }
}

/// The reader Open311's public answers use: every ticket, shown as `request_json` shows it (no caller details).
fn reader() -> oneseal_domain::roles::Actor {
    oneseal_domain::roles::Actor::system("open311", Role::Supervisor, None)
}

fn param(q: &Map<String, Value>, k: &str) -> Option<String> {
    q.get(k).and_then(|v| v.as_str()).map(str::to_string).filter(|v| !v.trim().is_empty())
}

async fn list_requests(s: &AppState, fmt: Fmt, q: &Map<String, Value>) -> Response {
    let system = reader();
    let parse = |k: &str| -> Result<Option<i64>, String> {
        match param(q, k) {
            None => Ok(None),
            Some(v) => time::OffsetDateTime::parse(&v, &Rfc3339)
                .map(|t| Some(oneseal_app::ms(t)))
                .map_err(|_| format!("{k} is a W3C datetime such as 2026-03-01T00:00:00Z")),
        }
    };
    let (start, end) = match (parse("start_date"), parse("end_date")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return error(fmt, 400, &e),
    };
    let now = oneseal_app::ms(s.app.now());
    let end = end.unwrap_or(now + 1);
    let start = start.unwrap_or(end - 90 * 86_400_000);
    if end < start || end - start > 90 * 86_400_000 + 1 {
        return error(fmt, 400, "the range is at most 90 days and ends after it starts");
    }
    let ids: Option<Vec<String>> =
        param(q, "service_request_id").map(|v| v.split(',').map(|x| x.trim().to_string()).collect());
    let codes: Option<Vec<String>> =
        param(q, "service_code").map(|v| v.split(',').map(|x| x.trim().to_string()).collect());
    let statuses: Option<Vec<String>> =
        param(q, "status").map(|v| v.split(',').map(|x| x.trim().to_string()).collect());
    if statuses.as_ref().is_some_and(|v| v.iter().any(|x| x != "open" && x != "closed")) {
        return error(fmt, 400, "status is open or closed");
    }
    if ids.as_ref().is_some_and(|v| v.len() > MAX_IDS) {
        return error(fmt, 400, &format!("at most {MAX_IDS} service_request_id values at once"));
    }
    let mut out = Vec::new();
    if let Some(ids) = ids {
        // service_request_id overrides every other filter.
        for id in &ids {
            let Some(id) = crate::extract::exact(id) else { continue };
            if let Ok(t) = s.app.ticket(&system, &id).await {
                out.push(request_json(&t));
            }
        }
    } else {
        let f = TicketFilter { from_ms: Some(start), to_ms: Some(end), limit: 1000, ..Default::default() };
        match s.app.tickets(&system, f).await {
            Ok((rows, _)) => {
                for t in rows {
                    let r = request_json(&t);
                    let code_ok = codes.as_ref().is_none_or(|c| c.iter().any(|x| x == &t.state.intake.category));
                    let status_ok = statuses.as_ref().is_none_or(|v| v.iter().any(|x| r["status"] == x.as_str()));
                    if code_ok && status_ok {
                        out.push(r);
                    }
                }
            }
            Err(_) => return error(fmt, 500, "the service requests cannot be read now"),
        }
    }
    answer(fmt, StatusCode::OK, "service_requests", "request", out)
}

/// `GET /open311/v2/services/{code}.{fmt}`: the one attribute a request may carry, its urgency.
async fn service_definition(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((code, fmt)) = split(&file) else { return not_found() };
    if s.app.hotline_directory().get(code).is_none() {
        return error(fmt, 404, "no service with this code");
    }
    let d = json!({
        "service_code": code,
        "attributes": [{
            "variable": true, "code": "urgent", "datatype": "singlevaluelist", "required": false,
            "datatype_description": "紧急程度 urgency", "order": 1, "description": "紧急程度 Urgency",
            "values": [{ "key": "false", "name": "一般 ordinary" }, { "key": "true", "name": "紧急 urgent" }],
        }],
    });
    answer_one(fmt, "service_definition", d)
}

/// `GET /open311/v2/requests/{id}.{fmt}`
async fn one_request(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((id, fmt)) = split(&file) else { return not_found() };
    let Ok(id) = crate::extract::parse_ticket_no(id) else { return error(fmt, 404, "no service request with this id") };
    match s.app.ticket(&reader(), &id).await {
        Ok(t) => answer(fmt, StatusCode::OK, "service_requests", "request", vec![request_json(&t)]),
        Err(_) => error(fmt, 404, "no service request with this id"),
    }
}

/// `GET /open311/v2/tokens/{token}.{fmt}`: requests are created synchronously, so the token is the id.
async fn token(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((tok, fmt)) = split(&file) else { return not_found() };
    let system = reader();
    let found = match crate::extract::parse_ticket_no(tok) {
        Ok(n) => s.app.ticket(&system, &n).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(_) => answer(
            fmt,
            StatusCode::OK,
            "service_requests",
            "request",
            vec![json!({ "service_request_id": tok, "token": tok })],
        ),
        Err(_) => error(fmt, 404, "no request with this token"),
    }
}

/// `POST /open311/v2/requests.{fmt}` (form-encoded): a new ticket, with an operator's API token as `api_key`.
async fn post_request(
    State(s): State<AppState>,
    Path(file): Path<String>,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some(("requests", fmt)) = split(&file) else { return not_found() };
    let Ok(Form(pairs)) = form else { return error(fmt, 400, "the body is application/x-www-form-urlencoded") };
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let Some(key) = get("api_key") else { return error(fmt, 403, "api_key is required") };
    let actor = match s.app.authenticate_any(&key).await {
        Ok((a, scopes, false))
            if a.has(Role::HotlineOperator) && scopes.as_ref().is_none_or(|v| v.iter().any(|x| x == "write")) =>
        {
            a
        }
        _ => return error(fmt, 403, "api_key is not valid for creating requests"),
    };
    let Some(code) = get("service_code") else { return error(fmt, 400, "service_code is required") };
    let location = match (get("lat"), get("long"), get("address_string"), get("address_id")) {
        (_, _, Some(a), _) => a,
        (Some(lat), Some(long), None, _) => {
            if lat.parse::<f64>().is_err() || long.parse::<f64>().is_err() {
                return error(fmt, 400, "lat and long are decimal degrees");
            }
            format!("{lat},{long}")
        }
        (_, _, None, Some(id)) => id,
        _ => return error(fmt, 400, "a location is required: lat and long, address_string or address_id"),
    };
    let Some(description) = get("description") else { return error(fmt, 400, "description is required") };
    let name = [get("last_name"), get("first_name")].into_iter().flatten().collect::<Vec<_>>().join("");
    let intake = Intake {
        category: code,
        urgent: get("attribute[urgent]").as_deref() == Some("true"),
        channel: "open311".into(),
        caller_name: if name.is_empty() { "Open311".into() } else { name },
        caller_phone: get("phone").unwrap_or_else(|| "-".into()),
        caller_account: None,
        content: description,
        location,
    };
    match s.app.receive_ticket(&actor, intake).await {
        Ok((t, _)) => answer(
            fmt,
            StatusCode::CREATED,
            "service_requests",
            "request",
            vec![
                json!({ "service_request_id": t.state.ticket_no, "service_notice": "12345 政务服务便民热线已受理", "account_id": Value::Null }),
            ],
        ),
        Err(oneseal_app::AppError::Invalid { message, .. }) => error(fmt, 400, &message),
        Err(_) => error(fmt, 500, "the request cannot be created now"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_digit_runs_are_hidden_short_ones_kept() {
        assert_eq!(super::hide_numbers("电话13912345678，3号楼"), "电话***********，3号楼");
        assert_eq!(super::hide_numbers("身份证64010420050101001X"), "身份证******************");
        assert_eq!(super::hide_numbers("北京路88号 2026年"), "北京路88号 2026年");
    }
}
