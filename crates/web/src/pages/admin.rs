//! Administration pages: staff (create, grant and revoke roles, set a post, deactivate — every change an event)
//! and catalog editing (draft a new version of an item, review the change as a line diff, publish it with a
//! reason; a published version never changes, cases keep theirs).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::AppError;
use oneseal_domain::catalog::ServiceItem;
use oneseal_domain::roles::Role;
use serde::Deserialize;

use super::{csrf_ok, forbidden, not_found, page, Ctx, Signed};
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/admin/staff", Access::Admin, staff)
        .post("/admin/staff", Access::Admin, staff_change)
        .get("/admin/items/{code}", Access::Admin, edit_item)
        .post("/admin/items/{code}", Access::Admin, review_or_publish)
}

fn err_text(e: &AppError) -> String {
    match e {
        AppError::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

#[derive(Template)]
#[template(path = "admin-staff.html")]
struct StaffPage {
    ctx: Ctx,
    accounts: Vec<oneseal_app::accounts::AccountView>,
    roles: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    error: Option<String>,
    done: Option<String>,
    calendar_reminder: Option<String>,
}

fn role_options(ctx: &Ctx) -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .filter(|r| **r != Role::Applicant)
        .map(|r| (r.as_str().to_string(), ctx.t(&format!("role-{}", r.as_str()))))
        .collect()
}

async fn staff_page(
    s: &AppState,
    ctx: &Ctx,
    admin: &oneseal_domain::roles::Actor,
    error: Option<String>,
    done: Option<String>,
    status: StatusCode,
) -> Response {
    let accounts = s
        .app
        .accounts(admin)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.roles.iter().any(|r| *r != Role::Applicant))
        .collect();
    let view = s.app.catalog();
    let departments = view
        .departments
        .iter()
        .map(|d| (d.id.as_str().to_string(), ctx.pick(&d.name, &d.name_en).to_string()))
        .collect();
    let calendar_reminder = s.app.provisional_reminder().map(|y| ctx.tv("calendar-reminder", &y.to_string()));
    let p =
        StaffPage { ctx: ctx.clone(), accounts, roles: role_options(ctx), departments, error, done, calendar_reminder };
    page(status, ctx, &p)
}

async fn staff(State(s): State<AppState>, ctx: Ctx, Signed(p): Signed, headers: HeaderMap) -> Response {
    if !p.actor.has(Role::Administrator) {
        return forbidden(&headers, "/admin/staff");
    }
    staff_page(&s, &ctx, &p.actor, None, None, StatusCode::OK).await
}

async fn staff_change(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<std::collections::BTreeMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    if !p.actor.has(Role::Administrator) {
        return forbidden(&headers, "/admin/staff");
    }
    let f = form.map(|f| f.0).unwrap_or_default();
    if !csrf_ok(&p, f.get("_csrf").map(String::as_str).unwrap_or("")) {
        return forbidden(&headers, "/admin/staff");
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let role = |k: &str| Role::ALL.iter().copied().find(|r| r.as_str() == get(k));
    let username = get("username");
    let account = || crate::extract::parse_username(&username);
    let result = match get("op").as_str() {
        "create" => {
            let roles: Vec<Role> =
                Role::ALL.iter().copied().filter(|r| f.contains_key(&format!("role_{}", r.as_str()))).collect();
            let dept = Some(get("department")).filter(|d| !d.is_empty());
            s.app
                .admin_create_staff(
                    &p.actor,
                    &username,
                    &get("display_name"),
                    &get("password"),
                    &roles,
                    dept.as_deref(),
                )
                .await
        }
        "grant" | "revoke" => match role("role") {
            Some(r) => match account() {
                Ok(u) => s.app.change_role(&p.actor, &u, r, get("op") == "grant").await,
                Err(e) => Err(e),
            },
            None => Err(AppError::invalid("invalid_role", "choose a role")),
        },
        "post" => {
            let (sp, w) = (get("service_point"), get("window"));
            let (sp, w) = (Some(sp.as_str()).filter(|x| !x.is_empty()), Some(w.as_str()).filter(|x| !x.is_empty()));
            match account() {
                Ok(u) => s.app.set_staff_post(&p.actor, &u, sp, w).await,
                Err(e) => oneseal_app::accounts::check_staff_post(sp, w).and(Err(e)),
            }
        }
        "deactivate" => match account() {
            Ok(u) => s.app.deactivate_account(&p.actor, &u).await,
            Err(e) => Err(e),
        },
        _ => Err(AppError::invalid("invalid_operation", "unknown operation")),
    };
    match result {
        Ok(a) => staff_page(&s, &ctx, &p.actor, None, Some(ctx.tv("admin-done", &a.username)), StatusCode::OK).await,
        Err(e) => staff_page(&s, &ctx, &p.actor, Some(err_text(&e)), None, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

/// One line of a diff: ' ', '-' or '+', and the text.
pub struct DiffLine {
    pub op: char,
    pub text: String,
}

/// A line diff (longest common subsequence): what a reviewer reads before publishing.
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut l = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if a[i] == b[j] { l[i + 1][j + 1] + 1 } else { l[i + 1][j].max(l[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(DiffLine { op: ' ', text: a[i].to_string() });
            i += 1;
            j += 1;
        } else if j < m && (i == n || l[i][j + 1] >= l[i + 1][j]) {
            out.push(DiffLine { op: '+', text: b[j].to_string() });
            j += 1;
        } else {
            out.push(DiffLine { op: '-', text: a[i].to_string() });
            i += 1;
        }
    }
    out
}

#[derive(Template)]
#[template(path = "admin-item.html")]
struct ItemPage {
    ctx: Ctx,
    code: String,
    name: String,
    version: u32,
    body: String,
    reason: String,
    error: Option<String>,
    /// Changed lines with a little context; empty until reviewed.
    changes: Vec<DiffLine>,
    reviewed: bool,
}

fn pretty(item: &ServiceItem) -> String {
    serde_json::to_string_pretty(item).unwrap_or_default()
}

async fn edit_item(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    if !p.actor.has(Role::Administrator) {
        return forbidden(&headers, &format!("/admin/items/{code}"));
    }
    let Some(pub_) = s.app.catalog().latest_item(&code).cloned() else {
        return not_found(&headers, &format!("/admin/items/{code}"));
    };
    if !oneseal_app::App::may_edit_item(&p.actor, pub_.body.department.as_str()) {
        return forbidden(&headers, &format!("/admin/items/{code}"));
    }
    let page_ = ItemPage {
        ctx: ctx.clone(),
        name: pub_.body.name.clone(),
        version: pub_.version,
        body: pretty(&pub_.body),
        code,
        reason: String::new(),
        error: None,
        changes: vec![],
        reviewed: false,
    };
    page(StatusCode::OK, &ctx, &page_)
}

#[derive(Deserialize)]
struct ItemForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    op: String,
}

async fn review_or_publish(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    form: Result<Form<ItemForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if !p.actor.has(Role::Administrator) {
        return forbidden(&headers, &format!("/admin/items/{code}"));
    }
    let Ok(Form(f)) = form else { return forbidden(&headers, &format!("/admin/items/{code}")) };
    if !csrf_ok(&p, &f.csrf) {
        return forbidden(&headers, &format!("/admin/items/{code}"));
    }
    let Some(current) = s.app.catalog().latest_item(&code).cloned() else {
        return not_found(&headers, &format!("/admin/items/{code}"));
    };
    let mut page_ = ItemPage {
        ctx: ctx.clone(),
        name: current.body.name.clone(),
        version: current.version,
        body: f.body.clone(),
        code: code.clone(),
        reason: f.reason.chars().take(500).collect(),
        error: None,
        changes: vec![],
        reviewed: false,
    };
    let item: ServiceItem = match serde_json::from_str(&f.body) {
        Ok(i) => i,
        Err(e) => {
            page_.error = Some(ctx.tv("admin-item-json", &e.to_string()));
            return page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &page_);
        }
    };
    if !oneseal_app::App::may_edit_item(&p.actor, current.body.department.as_str())
        || !oneseal_app::App::may_edit_item(&p.actor, item.department.as_str())
    {
        return forbidden(&headers, &format!("/admin/items/{code}"));
    }
    if item.impl_code.as_str() != code {
        page_.error = Some(ctx.t("admin-item-code"));
        return page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &page_);
    }
    let new_text = pretty(&item);
    let all = diff(&pretty(&current.body), &new_text);
    // Show changed lines with two lines of context.
    let keep: Vec<bool> =
        (0..all.len()).map(|i| all[i.saturating_sub(2)..(i + 3).min(all.len())].iter().any(|d| d.op != ' ')).collect();
    page_.changes = all.into_iter().zip(keep).filter(|(_, k)| *k).map(|(d, _)| d).collect();
    page_.body = new_text;
    if page_.changes.is_empty() {
        page_.error = Some(ctx.t("admin-item-unchanged"));
        return page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &page_);
    }
    if f.op != "publish" {
        page_.reviewed = true;
        return page(StatusCode::OK, &ctx, &page_);
    }
    if f.reason.trim().is_empty() {
        page_.reviewed = true;
        page_.error = Some(ctx.t("admin-item-reason"));
        return page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &page_);
    }
    match s.app.publish_item(item, &p.actor.id, f.reason.trim()).await {
        Ok(_) => Redirect::to(&format!("/services/{code}")).into_response(),
        Err(e) => {
            page_.reviewed = true;
            page_.error = Some(err_text(&e));
            page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &page_)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn line_diff_keeps_common_lines_and_marks_changes() {
        let d: Vec<String> = diff("a\nb\nc\nd", "a\nc\nx\nd").iter().map(|l| format!("{}{}", l.op, l.text)).collect();
        assert_eq!(d, vec![" a", "-b", " c", "+x", " d"]);
        assert!(diff("same", "same").iter().all(|l| l.op == ' '));
        assert_eq!(diff("", "new").len(), 1);
    }
}
