//! Staff accounts, role grants, posts and sign-in ceilings (administrators).

use super::*;

pub(super) async fn list_staff(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    admin(&actor)?;
    Ok(Json(json!({ "accounts": s.app.accounts(&actor).await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StaffBody {
    pub(super) username: String,
    pub(super) display_name: String,
    pub(super) password: String,
    pub(super) roles: Vec<Role>,
    #[serde(default)]
    pub(super) department: Option<String>,
}

/// Create a staff account (administrators); the creation is an event.
pub(super) async fn create_staff(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<StaffBody>,
) -> Res {
    admin(&actor)?;
    let v = s
        .app
        .admin_create_staff(&actor, &b.username, &b.display_name, &b.password, &b.roles, b.department.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GrantBody {
    pub(super) role: Role,
}

pub(super) async fn grant_role(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(username): ApiPath<String>,
    ApiJson(b): ApiJson<GrantBody>,
) -> Res {
    admin(&actor)?;
    let username = crate::extract::parse_username(&username)?;
    Ok(Json(s.app.change_role(&actor, &username, b.role, true).await?).into_response())
}

pub(super) async fn revoke_role(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((username, role)): ApiPath<(String, String)>,
) -> Res {
    admin(&actor)?;
    let role = Role::ALL
        .iter()
        .copied()
        .find(|r| r.as_str() == role)
        .ok_or_else(|| Problem::not_found(format!("no role {role}")))?;
    let username = crate::extract::parse_username(&username)?;
    Ok(Json(s.app.change_role(&actor, &username, role, false).await?).into_response())
}

pub(super) async fn deactivate(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(username): ApiPath<String>,
) -> Res {
    admin(&actor)?;
    let username = crate::extract::parse_username(&username)?;
    Ok(Json(s.app.deactivate_account(&actor, &username).await?).into_response())
}

pub(super) async fn lift_login_ceiling(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(username): ApiPath<String>,
) -> Res {
    admin(&actor)?;
    let username = crate::extract::parse_username(&username)?;
    s.app.lift_login_ceiling(&actor, &username).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PostBody {
    #[serde(default)]
    pub(super) service_point: Option<String>,
    #[serde(default)]
    pub(super) window: Option<String>,
}

/// Post a staff member to a service point and window (administrators).
pub(super) async fn set_post(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(username): ApiPath<String>,
    ApiJson(b): ApiJson<PostBody>,
) -> Res {
    admin(&actor)?;
    let (sp, w) = (b.service_point.as_deref(), b.window.as_deref());
    // A malformed username is an unknown account, answered after the post is checked, as before.
    let username = crate::extract::parse_username(&username)
        .or_else(|e| oneseal_app::accounts::check_staff_post(sp, w).and(Err(e)))?;
    Ok(Json(s.app.set_staff_post(&actor, &username, sp, w).await?).into_response())
}
