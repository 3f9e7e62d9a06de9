//! The citizen portal's public side: home (search, life events, departments, the bundles menu), the list of
//! services with filters, every standard guide (办事指南) with all its elements, and bundle pages.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use oneseal_app::catalog::{CatalogView, HitKind};
use oneseal_domain::catalog::{Bundle, Limit, ServiceItem};
use serde::Deserialize;

use super::{encode, not_found, page, Ctx};
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/", Access::Public, home)
        .get("/services", Access::Public, services)
        .get("/services/{code}", Access::Public, guide)
        .get("/bundles/{code}", Access::Public, bundle)
        .get("/services/{code}/form.pdf", Access::Public, form_pdf)
        .get("/services/{code}/sample.pdf", Access::Public, sample_pdf)
}

/// The snake_case name of a catalog enum value (its serde form), for message keys and CSS classes.
pub fn snake<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

pub fn limit_text(ctx: &Ctx, l: Limit) -> String {
    match l {
        Limit::WorkingDays(n) => ctx.tn("limit-working-days", n),
        Limit::Minutes(n) => ctx.tn("limit-minutes", n),
    }
}

/// A service in a list.
pub struct Card {
    pub href: String,
    pub name: String,
    pub department: String,
    pub promised: String,
    pub visits: String,
    pub tags: Vec<(String, String)>,
    pub bundle: bool,
}

/// A department's name in the page's language.
pub fn department_name(ctx: &Ctx, view: &CatalogView, id: &str) -> String {
    view.departments
        .iter()
        .find(|d| d.id.as_str() == id)
        .map(|d| ctx.pick(&d.name, &d.name_en).to_string())
        .unwrap_or_else(|| id.to_string())
}

fn item_card(ctx: &Ctx, view: &CatalogView, i: &ServiceItem) -> Card {
    Card {
        href: format!("/services/{}", i.impl_code),
        name: ctx.pick(&i.name, &i.name_en).to_string(),
        department: department_name(ctx, view, i.department.as_str()),
        promised: limit_text(ctx, i.promised_limit),
        visits: if i.visits_required == 0 { ctx.t("visits-zero") } else { ctx.tn("visits-n", i.visits_required) },
        tags: i.tags.iter().map(|t| (snake(t), ctx.t(&format!("tag-{}", snake(t))))).collect(),
        bundle: false,
    }
}

fn bundle_card(ctx: &Ctx, b: &Bundle) -> Card {
    Card {
        href: format!("/bundles/{}", b.code),
        name: ctx.pick(&b.name, &b.name_en).to_string(),
        department: b.description.clone(),
        promised: limit_text(ctx, b.promised_limit),
        visits: String::new(),
        tags: vec![],
        bundle: true,
    }
}

/// A link with a count (topics, departments).
pub struct Facet {
    pub href: String,
    pub label: String,
    pub count: usize,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    topics: Vec<Facet>,
    departments: Vec<Facet>,
    bundles: Vec<Card>,
    popular: Vec<Card>,
}

async fn home(State(s): State<AppState>, ctx: Ctx) -> Response {
    let view = s.app.catalog();
    let mut topics: BTreeMap<String, usize> = BTreeMap::new();
    let mut departments: BTreeMap<String, usize> = BTreeMap::new();
    for versions in view.items.values() {
        if let Some(p) = versions.last() {
            for t in &p.body.topics {
                *topics.entry(t.clone()).or_default() += 1;
            }
            *departments.entry(p.body.department.as_str().to_string()).or_default() += 1;
        }
    }
    let mut topics: Vec<Facet> = topics
        .into_iter()
        .map(|(t, count)| Facet { href: format!("/services?topic={}", encode(&t)), label: t, count })
        .collect();
    topics.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
    let departments = view
        .departments
        .iter()
        .filter_map(|d| {
            departments.get(d.id.as_str()).map(|count| Facet {
                href: format!("/services?department={}", encode(d.id.as_str())),
                label: ctx.pick(&d.name, &d.name_en).to_string(),
                count: *count,
            })
        })
        .collect();
    let bundles = view.bundles.values().filter_map(|v| v.last()).map(|p| bundle_card(&ctx, &p.body)).collect();
    // Frequently used: the on-the-spot and zero-visit services first, a short list.
    let mut popular: Vec<&ServiceItem> = view.items.values().filter_map(|v| v.last()).map(|p| &p.body).collect();
    popular.sort_by_key(|i| (i.visits_required, std::cmp::Reverse(i.tags.len()), i.name.clone()));
    let popular = popular.into_iter().take(6).map(|i| item_card(&ctx, &view, i)).collect();
    let p = HomePage { ctx: ctx.clone(), topics, departments, bundles, popular };
    page(StatusCode::OK, &ctx, &p)
}

#[derive(Deserialize, Default)]
struct ServicesQuery {
    q: Option<String>,
    topic: Option<String>,
    department: Option<String>,
    tag: Option<String>,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    ctx: Ctx,
    q: String,
    filters: Vec<String>,
    cards: Vec<Card>,
}

async fn services(
    State(s): State<AppState>,
    ctx: Ctx,
    q: Result<Query<ServicesQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|q| q.0).unwrap_or_default();
    let view = s.app.catalog();
    let text = q.q.as_deref().map(str::trim).unwrap_or("").chars().take(100).collect::<String>();
    let mut filters = Vec::new();
    if let Some(t) = &q.topic {
        filters.push(ctx.tv("services-filter-topic", t));
    }
    if let Some(d) = &q.department {
        filters.push(ctx.tv("services-filter-department", &view.department_name(d)));
    }
    let tag = q
        .tag
        .as_deref()
        .and_then(|t| serde_json::from_value::<oneseal_domain::catalog::Tag>(serde_json::json!(t)).ok());
    if let Some(t) = tag {
        filters.push(ctx.tv("services-filter-tag", &ctx.t(&format!("tag-{}", snake(&t)))));
    }
    let keep = |i: &ServiceItem| {
        q.topic.as_deref().is_none_or(|t| i.topics.iter().any(|x| x == t))
            && q.department.as_deref().is_none_or(|d| d == i.department.as_str())
            && tag.is_none_or(|t| i.tags.contains(&t))
    };
    let mut cards = Vec::new();
    if text.is_empty() {
        for p in view.items.values().filter_map(|v| v.last()) {
            if keep(&p.body) {
                cards.push(item_card(&ctx, &view, &p.body));
            }
        }
        cards.sort_by(|a, b| a.name.cmp(&b.name));
    } else {
        for (kind, code, _) in view.search(&text) {
            match kind {
                HitKind::Item => {
                    if let Some(p) = view.latest_item(&code).filter(|p| keep(&p.body)) {
                        cards.push(item_card(&ctx, &view, &p.body));
                    }
                }
                HitKind::Bundle => {
                    if let (Some(p), true) = (view.latest_bundle(&code), filters.is_empty()) {
                        cards.push(bundle_card(&ctx, &p.body));
                    }
                }
            }
        }
    }
    let p = ServicesPage { ctx: ctx.clone(), q: text, filters, cards };
    page(StatusCode::OK, &ctx, &p)
}

/// One material as shown in a guide.
pub struct MaterialRow {
    pub name: String,
    pub form: String,
    pub count: u32,
    pub required: bool,
    pub key: bool,
    pub source: String,
    pub notes: String,
    pub substitutes: String,
}

pub struct StepRow {
    pub name: String,
    pub who: String,
    pub days: u32,
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    ctx: Ctx,
    i: ServiceItem,
    version: u32,
    name: String,
    department: String,
    kind: String,
    handling: String,
    promised: String,
    statutory: String,
    handling_forms: Vec<String>,
    materials: Vec<MaterialRow>,
    steps: Vec<StepRow>,
    results: Vec<(String, String)>,
    tags: Vec<(String, String)>,
    visits: String,
    fees: Vec<(String, String, String)>,
}

pub fn material_rows(ctx: &Ctx, s: &AppState, i: &ServiceItem) -> Vec<MaterialRow> {
    i.materials
        .iter()
        .map(|m| MaterialRow {
            name: m.name.clone(),
            form: ctx.t(&format!("mform-{}", snake(&m.form))),
            count: m.count,
            required: m.required,
            key: m.key,
            source: m.source.clone(),
            notes: m.notes.clone(),
            substitutes: m
                .license_substitutes
                .iter()
                .map(|c| s.app.license_type(c).map(|t| ctx.pick(&t.name, &t.name_en).to_string()).unwrap_or(c.clone()))
                .collect::<Vec<_>>()
                .join("、"),
        })
        .collect()
}

async fn guide(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap, Path(code): Path<String>) -> Response {
    let view = s.app.catalog();
    let Some(p) = view.latest_item(&code).cloned() else {
        return not_found(&headers, &format!("/services/{code}"));
    };
    let i = p.body;
    let steps = i
        .process
        .steps
        .iter()
        .map(|st| {
            let who = match (&st.department, st.departments.is_empty()) {
                (_, false) => {
                    st.departments.iter().map(|d| view.department_name(d.as_str())).collect::<Vec<_>>().join("、")
                }
                (Some(d), true) => view.department_name(d.as_str()),
                (None, true) => view.department_name(i.department.as_str()),
            };
            StepRow { name: ctx.pick(&st.name, &st.name_en).to_string(), who, days: st.share_days }
        })
        .collect();
    let g = GuidePage {
        name: ctx.pick(&i.name, &i.name_en).to_string(),
        department: department_name(&ctx, &view, i.department.as_str()),
        kind: ctx.t(&format!("kind-{}", snake(&i.kind))),
        handling: ctx.t(&format!("handling-{}", snake(&i.handling))),
        promised: limit_text(&ctx, i.promised_limit),
        statutory: limit_text(&ctx, i.statutory_limit),
        handling_forms: i.handling_forms.iter().map(|f| ctx.t(&format!("hform-{}", snake(f)))).collect(),
        materials: material_rows(&ctx, &s, &i),
        steps,
        results: i.results.iter().map(|r| (r.name.clone(), ctx.t(&format!("result-{}", snake(&r.kind))))).collect(),
        tags: i.tags.iter().map(|t| (snake(t), ctx.t(&format!("tag-{}", snake(t))))).collect(),
        visits: if i.visits_required == 0 { ctx.t("visits-zero") } else { ctx.tn("visits-n", i.visits_required) },
        fees: i
            .fees
            .iter()
            .map(|f| (f.name.clone(), ctx.tv("guide-fee-amount", &format!("{:.2}", f.amount_yuan)), f.basis.clone()))
            .collect(),
        version: p.version,
        ctx: ctx.clone(),
        i,
    };
    page(StatusCode::OK, &ctx, &g)
}

#[derive(Template)]
#[template(path = "bundle.html")]
struct BundlePage {
    ctx: Ctx,
    b: Bundle,
    name: String,
    promised: String,
    statutory: String,
    items: Vec<Card>,
}

async fn bundle(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap, Path(code): Path<String>) -> Response {
    let view = s.app.catalog();
    let Some(p) = view.latest_bundle(&code).cloned() else {
        return not_found(&headers, &format!("/bundles/{code}"));
    };
    let b = p.body;
    let items =
        b.items.iter().filter_map(|c| view.latest_item(c.as_str())).map(|p| item_card(&ctx, &view, &p.body)).collect();
    let bp = BundlePage {
        name: ctx.pick(&b.name, &b.name_en).to_string(),
        promised: limit_text(&ctx, b.promised_limit),
        statutory: limit_text(&ctx, b.statutory_limit),
        items,
        ctx: ctx.clone(),
        b,
    };
    page(StatusCode::OK, &ctx, &bp)
}

/// An example value for a field of a sample form (示范文本).
pub fn example_value(f: &oneseal_domain::catalog::Field) -> String {
    use oneseal_domain::catalog::FieldType as T;
    let k = f.key.as_str();
    match f.field_type {
        T::Choice => f.options.first().cloned().unwrap_or_default(),
        T::Boolean => "否".into(),
        T::Date => "2026-03-02".into(),
        T::Phone => "138 0000 0000".into(),
        T::Uscc => "91640100MA76XQ2T3B".into(),
        T::ResidentId => "640104200501010010".into(),
        T::RegionCode => "640106".into(),
        T::Number | T::Integer => format!("{}", f.min.unwrap_or(0.0).max(100.0).min(f.max.unwrap_or(1e12))),
        T::Text | T::LongText if k.contains("address") || k.contains("premises") => {
            "宁夏回族自治区银川市金凤区亲水大街 168 号".into()
        }
        T::Text | T::LongText if k.contains("scope") || k.contains("items") => "食品销售；餐饮服务".into(),
        T::Text | T::LongText if k.contains("representative") || k.contains("person") || k.contains("contact") => {
            "李四".into()
        }
        T::Text | T::LongText if k.contains("name") => "银川塞上餐饮有限公司".into(),
        T::LongText => "（按实际情况填写）".into(),
        T::Text => "（示例）".into(),
    }
}

async fn form_pdf(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap, Path(code): Path<String>) -> Response {
    application_form(&s, &ctx, &headers, &code, false).await
}

async fn sample_pdf(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap, Path(code): Path<String>) -> Response {
    application_form(&s, &ctx, &headers, &code, true).await
}

async fn application_form(s: &AppState, ctx: &Ctx, headers: &HeaderMap, code: &str, sample: bool) -> Response {
    use axum::response::IntoResponse;
    use oneseal_domain::catalog::FieldType as T;
    let view = s.app.catalog();
    let Some(p) = view.latest_item(code) else {
        return not_found(headers, &format!("/services/{code}/form.pdf"));
    };
    let i = &p.body;
    let lines = i
        .form
        .fields
        .iter()
        .map(|f| oneseal_pdf::form::FormLine {
            label: f.label.clone(),
            label_en: f.label_en.clone(),
            required: f.required,
            options: match f.field_type {
                T::Choice => f.options.clone(),
                T::Boolean => vec!["是".into(), "否".into()],
                _ => vec![],
            },
            rows: if f.field_type == T::LongText { 3 } else { 1 },
            value: sample.then(|| example_value(f)),
        })
        .collect();
    let key = format!("{code} v{} {sample} {}", p.version, ctx.lang.code());
    let name = format!("{}-{}.pdf", i.impl_code, if sample { "sample" } else { "form" });
    let cached = s.form_pdfs.lock().ok().and_then(|m| m.get(&key).cloned());
    if let Some(bytes) = cached {
        return super::pdf_response(&name, bytes.as_ref().clone(), false, "public, max-age=300");
    }
    let file_id = super::pdf_file_id(&key);
    let sheet = oneseal_pdf::form::FormSheet {
        title: ctx.tv("form-title", &i.name),
        subtitle: format!("{} · {} · v{}", view.department_name(i.department.as_str()), i.impl_code, p.version),
        lines,
        materials: i.materials.iter().filter(|m| m.required).map(|m| m.name.clone()).collect(),
        sample,
        labels: oneseal_pdf::form::FormLabels {
            required_mark: ctx.t("form-required-mark"),
            materials: ctx.t("form-materials"),
            signature: ctx.t("form-signature"),
            date: ctx.t("form-date"),
            watermark: ctx.t("form-watermark"),
        },
        file_id,
    };
    s.metrics.form_renders.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let rendered = tokio::task::spawn_blocking(move || oneseal_pdf::form::render(&sheet)).await;
    match rendered {
        Ok(Ok(bytes)) => {
            if let Ok(mut m) = s.form_pdfs.lock() {
                // Bounded: items × versions × 2 kinds × 2 languages; start over if the catalog churns.
                if m.len() >= 512 {
                    m.clear();
                }
                m.insert(key, std::sync::Arc::new(bytes.clone()));
            }
            super::pdf_response(&name, bytes, false, "public, max-age=300")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, ctx.t("error-internal")).into_response(),
    }
}
