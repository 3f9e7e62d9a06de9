//! Administration pages: staff (create, grant and revoke roles, set a post, deactivate — every change an event)
//! and catalog editing (draft a new version of an item or a construction project type, review the change as a line
//! diff, publish it with a reason; a published version never changes, cases and projects keep theirs).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::AppError;
use oneseal_domain::catalog::ServiceItem;
use oneseal_domain::project::ProjectType;
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
        .get("/admin/project-types/{code}", Access::BureauAdmin, edit_project_type)
        .post("/admin/project-types/{code}", Access::BureauAdmin, review_or_publish_project_type)
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

/// What the edit page revises: a service item's guide (per department) or a construction project type (bureau-wide).
#[derive(Clone, Copy)]
enum Entry {
    Item,
    ProjectType,
}

impl Entry {
    fn path(self, code: &str) -> String {
        match self {
            Entry::Item => format!("/admin/items/{code}"),
            Entry::ProjectType => format!("/admin/project-types/{code}"),
        }
    }

    /// Where the entry is read by the public (the crumb and where publishing leads).
    fn shown_at(self, code: &str) -> String {
        match self {
            Entry::Item => format!("/services/{code}"),
            Entry::ProjectType => "/me/projects".to_string(),
        }
    }

    /// The message keys of the page's title, lead, the error for a changed code and the text box's label.
    fn keys(self) -> [&'static str; 4] {
        match self {
            Entry::Item => ["admin-edit-item", "admin-item-lead", "admin-item-code", "admin-item-body"],
            Entry::ProjectType => [
                "admin-edit-project-type",
                "admin-project-type-lead",
                "admin-project-type-code",
                "admin-project-type-body",
            ],
        }
    }
}

#[derive(Template)]
#[template(path = "admin-item.html")]
struct ItemPage {
    ctx: Ctx,
    code: String,
    name: String,
    /// The form's address, the page's crumb and its title and lead.
    action: String,
    back: String,
    title: String,
    lead: String,
    body_label: String,
    body: String,
    reason: String,
    error: Option<String>,
    /// Changed lines with a little context; empty until reviewed.
    changes: Vec<DiffLine>,
    reviewed: bool,
}

impl ItemPage {
    fn new(ctx: &Ctx, entry: Entry, code: &str, name: &str, version: u32, body: String) -> ItemPage {
        let [title, lead, _, body_label] = entry.keys();
        ItemPage {
            ctx: ctx.clone(),
            code: code.to_string(),
            name: name.to_string(),
            action: entry.path(code),
            back: entry.shown_at(code),
            title: ctx.t(title),
            lead: ctx.tn(lead, version),
            body_label: ctx.t(body_label),
            body,
            reason: String::new(),
            error: None,
            changes: vec![],
            reviewed: false,
        }
    }
}

fn pretty<T: serde::Serialize>(entry: &T) -> String {
    serde_json::to_string_pretty(entry).unwrap_or_default()
}

async fn edit_item(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    if !p.actor.has(Role::Administrator) {
        return forbidden(&headers, &Entry::Item.path(&code));
    }
    let Some(pub_) = s.app.catalog().latest_item(&code).cloned() else {
        return not_found(&headers, &Entry::Item.path(&code));
    };
    if !oneseal_app::App::may_edit_item(&p.actor, pub_.body.department.as_str()) {
        return forbidden(&headers, &Entry::Item.path(&code));
    }
    let page_ = ItemPage::new(&ctx, Entry::Item, &code, &pub_.body.name, pub_.version, pretty(&pub_.body));
    page(StatusCode::OK, &ctx, &page_)
}

/// A project type spans departments: only an administrator without a department revises it.
fn bureau_admin(actor: &oneseal_domain::roles::Actor) -> bool {
    actor.has(Role::Administrator) && actor.department.is_none()
}

async fn edit_project_type(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    if !bureau_admin(&p.actor) {
        return forbidden(&headers, &Entry::ProjectType.path(&code));
    }
    let Some(pub_) = s.app.catalog().latest_project_type(&code).cloned() else {
        return not_found(&headers, &Entry::ProjectType.path(&code));
    };
    let body = pretty(&ProjectType { version: 0, ..pub_.body.clone() });
    let page_ = ItemPage::new(&ctx, Entry::ProjectType, &code, &pub_.body.name, pub_.version, body);
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

/// The form posted, its CSRF token checked (`None`: answer forbidden).
fn posted(
    p: &crate::policy::Principal,
    form: Result<Form<ItemForm>, axum::extract::rejection::FormRejection>,
) -> Option<ItemForm> {
    let Ok(Form(f)) = form else { return None };
    csrf_ok(p, &f.csrf).then_some(f)
}

/// Review a revised entry as a line diff against the published one, then publish it with a reason. `code_of` reads
/// the revised entry's code (it cannot change), `allowed` whether this administrator may publish it.
#[allow(clippy::too_many_arguments)]
async fn review_entry<T, Fut>(
    ctx: &Ctx,
    mut page_: ItemPage,
    entry: Entry,
    current: &T,
    f: ItemForm,
    code_of: impl Fn(&T) -> &str,
    allowed: impl Fn(&T) -> bool,
    publish: impl FnOnce(T, String) -> Fut,
    headers: &HeaderMap,
) -> Response
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    Fut: std::future::Future<Output = Result<u32, AppError>>,
{
    let code = page_.code.clone();
    page_.body = f.body.clone();
    page_.reason = f.reason.chars().take(500).collect();
    let new: T = match serde_json::from_str(&f.body) {
        Ok(i) => i,
        Err(e) => {
            page_.error = Some(ctx.tv("admin-item-json", &e.to_string()));
            return page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &page_);
        }
    };
    if !allowed(&new) {
        return forbidden(headers, &entry.path(&code));
    }
    if code_of(&new) != code {
        page_.error = Some(ctx.t(entry.keys()[2]));
        return page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &page_);
    }
    let new_text = pretty(&new);
    let all = diff(&pretty(current), &new_text);
    // Show changed lines with two lines of context.
    let keep: Vec<bool> =
        (0..all.len()).map(|i| all[i.saturating_sub(2)..(i + 3).min(all.len())].iter().any(|d| d.op != ' ')).collect();
    page_.changes = all.into_iter().zip(keep).filter(|(_, k)| *k).map(|(d, _)| d).collect();
    page_.body = new_text;
    if page_.changes.is_empty() {
        page_.error = Some(ctx.t("admin-item-unchanged"));
        return page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &page_);
    }
    if f.op != "publish" {
        page_.reviewed = true;
        return page(StatusCode::OK, ctx, &page_);
    }
    if f.reason.trim().is_empty() {
        page_.reviewed = true;
        page_.error = Some(ctx.t("admin-item-reason"));
        return page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &page_);
    }
    match publish(new, f.reason.trim().to_string()).await {
        Ok(_) => Redirect::to(&entry.shown_at(&code)).into_response(),
        Err(e) => {
            page_.reviewed = true;
            page_.error = Some(err_text(&e));
            page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &page_)
        }
    }
}

async fn review_or_publish(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    form: Result<Form<ItemForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let path = Entry::Item.path(&code);
    if !p.actor.has(Role::Administrator) {
        return forbidden(&headers, &path);
    }
    let Some(f) = posted(&p, form) else { return forbidden(&headers, &path) };
    let Some(current) = s.app.catalog().latest_item(&code).cloned() else {
        return not_found(&headers, &path);
    };
    if !oneseal_app::App::may_edit_item(&p.actor, current.body.department.as_str()) {
        return forbidden(&headers, &path);
    }
    let page_ = ItemPage::new(&ctx, Entry::Item, &code, &current.body.name, current.version, String::new());
    let actor = p.actor.clone();
    review_entry(
        &ctx,
        page_,
        Entry::Item,
        &current.body,
        f,
        |i: &ServiceItem| i.impl_code.as_str(),
        |i: &ServiceItem| oneseal_app::App::may_edit_item(&actor, i.department.as_str()),
        |i, reason| async move { s.app.publish_item(i, &p.actor.id, &reason).await },
        &headers,
    )
    .await
}

async fn review_or_publish_project_type(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    form: Result<Form<ItemForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let path = Entry::ProjectType.path(&code);
    if !bureau_admin(&p.actor) {
        return forbidden(&headers, &path);
    }
    let Some(f) = posted(&p, form) else { return forbidden(&headers, &path) };
    let Some(current) = s.app.catalog().latest_project_type(&code).cloned() else {
        return not_found(&headers, &path);
    };
    let page_ = ItemPage::new(&ctx, Entry::ProjectType, &code, &current.body.name, current.version, String::new());
    let published = ProjectType { version: 0, ..current.body };
    review_entry(
        &ctx,
        page_,
        Entry::ProjectType,
        &published,
        f,
        |t: &ProjectType| t.code.as_str(),
        |_| true,
        |t, reason| async move { s.app.publish_project_type(t, &p.actor.id, &reason).await },
        &headers,
    )
    .await
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
