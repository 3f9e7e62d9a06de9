//! Staff accounts and role grants, managed by administrators. Every creation, grant, revocation and deactivation
//! is an event on the account's stream (`account-{username}`); password hashes are secrets, not facts, and live
//! only in the accounts table.
//!
//! Separation of duties: an administrator manages accounts and the catalog but does not decide cases, so the
//! administrator role never sits with a case-handling role on one account.

use oneseal_domain::ids::{DepartmentId, Username};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{AccountRow, NewEvent};
use serde_json::json;

use crate::{ms, App, AppError};

/// Roles that work cases; never held together with `administrator`.
const CASE_ROLES: &[Role] = &[Role::WindowClerk, Role::Reviewer, Role::Approver, Role::Inspector];

/// A new account's name, as typed (422 `invalid_username` when it is not a [`Username`]).
pub(crate) fn check_username(u: &str) -> Result<Username, AppError> {
    Username::parse(u).map_err(|e| AppError::invalid("invalid_username", e.to_string()))
}

/// A staff member's service point and window are 1–100 characters each when given; checked before the account is
/// looked up.
pub fn check_staff_post(service_point: Option<&str>, window: Option<&str>) -> Result<(), AppError> {
    for (what, v) in [("service_point", service_point), ("window", window)] {
        if v.is_some_and(|x| x.trim().is_empty() || x.chars().count() > 100) {
            return Err(AppError::invalid("invalid_post", format!("{what} is 1–100 characters")));
        }
    }
    Ok(())
}

fn check_roles(roles: &[Role]) -> Result<(), AppError> {
    if roles.is_empty() {
        return Err(AppError::invalid("invalid_roles", "an account needs at least one role"));
    }
    if roles.contains(&Role::Administrator) && roles.iter().any(|r| CASE_ROLES.contains(r)) {
        return Err(AppError::invalid("separation_of_duties", "an administrator does not also handle cases"));
    }
    if roles.contains(&Role::Applicant) && roles.len() > 1 {
        return Err(AppError::invalid("invalid_roles", "an applicant account holds no staff role"));
    }
    Ok(())
}

fn roles_string(roles: &[Role]) -> String {
    let mut r: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    r.sort_unstable();
    r.dedup();
    r.join(",")
}

/// An account as administrators see it (never the password hash).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountView {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub department: Option<String>,
    pub active: bool,
    /// Where the staff member works (service point and window), if set.
    pub service_point: Option<String>,
    pub window: Option<String>,
}

impl From<&AccountRow> for AccountView {
    fn from(a: &AccountRow) -> AccountView {
        AccountView {
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            roles: a.roles.split(',').filter_map(Role::parse).collect(),
            department: a.department.clone(),
            active: a.active,
            service_point: a.service_point.clone(),
            window: None,
        }
    }
}

/// Whether an administrator may manage an account of `department`: a bureau-wide administrator (no department)
/// manages every account; an administrator of a department manages only accounts of that department, so never a
/// bureau-wide account (an administrator or not) and never one of another department.
pub fn may_manage(admin: &Actor, department: Option<&str>) -> bool {
    admin.has(Role::Administrator)
        && match &admin.department {
            None => true,
            Some(mine) => department == Some(mine.as_str()),
        }
}

fn refuse_scope(admin: &Actor) -> AppError {
    AppError::Forbidden(format!(
        "an administrator of {} manages only that department's accounts",
        admin.department.as_ref().map(|d| d.as_str()).unwrap_or("-")
    ))
}

impl App {
    fn check_department(&self, department: Option<&str>) -> Result<(), AppError> {
        if let Some(d) = department {
            DepartmentId::parse(d).map_err(|e| AppError::invalid("invalid_department", format!("department: {e}")))?;
            if !self.catalog().departments.iter().any(|x| x.id.as_str() == d) {
                return Err(AppError::invalid("unknown_department", format!("no department {d}")));
            }
        }
        Ok(())
    }

    /// Create an account with a password hash; `by` is who did it.
    pub async fn create_account(
        &self,
        by: &str,
        username: &Username,
        display_name: &str,
        password_hash: String,
        roles: &[Role],
        department: Option<&str>,
    ) -> Result<(), AppError> {
        check_roles(roles)?;
        if display_name.trim().is_empty() || display_name.chars().count() > 100 {
            return Err(AppError::invalid("invalid_display_name", "a display name is 1–100 characters"));
        }
        if !self.catalog().departments.is_empty() {
            self.check_department(department)?;
        }
        let row = AccountRow {
            username: username.to_string(),
            display_name: display_name.trim().to_string(),
            password_hash,
            roles: roles_string(roles),
            department: department.map(String::from),
            active: true,
            service_point: None,
        };
        let payload = json!({ "username": row.username, "display_name": row.display_name, "roles": row.roles.split(',').collect::<Vec<_>>(), "department": row.department }).to_string();
        let (by, at) = (by.to_string(), ms(self.now()));
        self.store
            .write(move |db| -> Result<(), AppError> {
                let stream = format!("account-{}", row.username);
                if db.stream_version(&stream)? > 0 || db.get_account(&row.username)?.is_some() {
                    return Err(AppError::Invalid {
                        code: "account_exists",
                        message: format!("the account {} exists", row.username),
                        fields: vec![],
                    });
                }
                db.append(
                    &stream,
                    0,
                    &[NewEvent {
                        event_type: "account_created".into(),
                        schema_version: 1,
                        actor: by,
                        at_ms: at,
                        payload,
                    }],
                )?;
                db.put_account(&row)?;
                Ok(())
            })
            .await
    }

    /// Create a staff account (administrators). The username is the one typed, checked (422 `invalid_username`)
    /// after the password, roles and scope, as it always was.
    pub async fn admin_create_staff(
        &self,
        admin: &Actor,
        username: &str,
        display_name: &str,
        password: &str,
        roles: &[Role],
        department: Option<&str>,
    ) -> Result<AccountView, AppError> {
        if password.chars().count() < 12 || password.len() > 200 {
            return Err(AppError::invalid("weak_password", "a password is 12–200 characters"));
        }
        if roles.contains(&Role::Applicant) {
            return Err(AppError::invalid("invalid_roles", "applicants register themselves; this creates staff"));
        }
        if !may_manage(admin, department) {
            return Err(refuse_scope(admin));
        }
        let hash = self.hash_password_bounded(password).await?;
        let username = check_username(username)?;
        self.create_account(&admin.id, &username, display_name, hash, roles, department).await?;
        self.account(&username).await
    }

    pub async fn account(&self, username: &Username) -> Result<AccountView, AppError> {
        let u = username.to_string();
        let (a, post) =
            self.store.read(move |db| -> Result<_, AppError> { Ok((db.get_account(&u)?, db.staff_post(&u)?)) }).await?;
        let mut v =
            a.as_ref().map(AccountView::from).ok_or_else(|| AppError::NotFound(format!("account {username}")))?;
        (v.service_point, v.window) = post;
        Ok(v)
    }

    /// Post a staff member to a service point and window (administrators); recorded as an event.
    pub async fn set_staff_post(
        &self,
        admin: &Actor,
        username: &Username,
        service_point: Option<&str>,
        window: Option<&str>,
    ) -> Result<AccountView, AppError> {
        check_staff_post(service_point, window)?;
        let (u, by, at) = (username.to_string(), admin.id.clone(), ms(self.now()));
        let (sp, w) = (service_point.map(str::to_string), window.map(str::to_string));
        let admin = admin.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                let a = db.get_account(&u)?.ok_or_else(|| AppError::NotFound(format!("account {u}")))?;
                if !may_manage(&admin, a.department.as_deref()) {
                    return Err(refuse_scope(&admin));
                }
                if !a.roles.split(',').any(|r| r != Role::Applicant.as_str()) {
                    return Err(AppError::invalid("not_staff", "only staff are posted to a service point"));
                }
                let stream = format!("account-{u}");
                let v = db.stream_version(&stream)?;
                let payload = json!({ "username": u, "service_point": sp, "window": w }).to_string();
                db.append(
                    &stream,
                    v,
                    &[NewEvent { event_type: "staff_posted".into(), schema_version: 1, actor: by, at_ms: at, payload }],
                )?;
                db.set_staff_post(&u, sp.as_deref(), w.as_deref())?;
                Ok(())
            })
            .await?;
        self.account(username).await
    }

    /// The accounts an administrator manages (an administrator of a department: that department's).
    pub async fn accounts(&self, admin: &Actor) -> Result<Vec<AccountView>, AppError> {
        let rows = self.store.read(|db| db.list_accounts().map_err(AppError::from)).await?;
        Ok(rows.iter().filter(|a| may_manage(admin, a.department.as_deref())).map(AccountView::from).collect())
    }

    /// Grant or revoke a role (administrators); each is an event. Revoking ends the account's sessions.
    pub async fn change_role(
        &self,
        admin: &Actor,
        username: &Username,
        role: Role,
        grant: bool,
    ) -> Result<AccountView, AppError> {
        let (u, by, at) = (username.to_string(), admin.id.clone(), ms(self.now()));
        if u == admin.id {
            return Err(AppError::invalid("self_grant", "administrators do not change their own roles"));
        }
        let admin = admin.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                let mut a = db.get_account(&u)?.ok_or_else(|| AppError::NotFound(format!("account {u}")))?;
                if !may_manage(&admin, a.department.as_deref()) {
                    return Err(refuse_scope(&admin));
                }
                let mut roles: Vec<Role> =
                    a.roles.split(',').filter_map(|r| Role::ALL.iter().copied().find(|x| x.as_str() == r)).collect();
                let has = roles.contains(&role);
                if grant == has {
                    return Err(AppError::invalid(
                        "role_unchanged",
                        if grant {
                            "the account already holds this role"
                        } else {
                            "the account does not hold this role"
                        },
                    ));
                }
                if grant {
                    roles.push(role);
                } else {
                    roles.retain(|r| *r != role);
                }
                check_roles(&roles)?;
                a.roles = roles_string(&roles);
                let stream = format!("account-{u}");
                let v = db.stream_version(&stream)?;
                let kind = if grant { "role_granted" } else { "role_revoked" };
                db.append(
                    &stream,
                    v,
                    &[NewEvent {
                        event_type: kind.into(),
                        schema_version: 1,
                        actor: by,
                        at_ms: at,
                        payload: json!({ "username": u, "role": role.as_str() }).to_string(),
                    }],
                )?;
                db.put_account(&a)?;
                if !grant {
                    db.delete_sessions_of(&u)?;
                }
                Ok(())
            })
            .await?;
        self.account(username).await
    }

    /// Deactivate an account (administrators): it can no longer sign in, its sessions and tokens stop working.
    pub async fn deactivate_account(&self, admin: &Actor, username: &Username) -> Result<AccountView, AppError> {
        let (u, by, at) = (username.to_string(), admin.id.clone(), ms(self.now()));
        if u == admin.id {
            return Err(AppError::invalid("self_deactivation", "administrators do not deactivate themselves"));
        }
        let admin = admin.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                let mut a = db.get_account(&u)?.ok_or_else(|| AppError::NotFound(format!("account {u}")))?;
                if !may_manage(&admin, a.department.as_deref()) {
                    return Err(refuse_scope(&admin));
                }
                if !a.active {
                    return Err(AppError::invalid("already_inactive", "the account is already deactivated"));
                }
                a.active = false;
                let stream = format!("account-{u}");
                let v = db.stream_version(&stream)?;
                db.append(
                    &stream,
                    v,
                    &[NewEvent {
                        event_type: "account_deactivated".into(),
                        schema_version: 1,
                        actor: by,
                        at_ms: at,
                        payload: json!({ "username": u }).to_string(),
                    }],
                )?;
                db.put_account(&a)?;
                db.delete_sessions_of(&u)?;
                Ok(())
            })
            .await?;
        self.account(username).await
    }
}
