//! Accounts, passwords (Argon2id) and bearer sessions, and the demo accounts of `serve --demo`.
//!
//! Session tokens are random 256-bit values; only their SHA-256 is stored, so a leaked database holds no usable token.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use oneseal_domain::ids::DepartmentId;
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::AccountRow;

use crate::{ms, random_hex, sha256_hex, App, AppError};

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

pub fn hash_password(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(h) => Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

fn parse_roles(s: &str) -> Vec<Role> {
    s.split(',').filter_map(|r| Role::ALL.iter().copied().find(|x| x.as_str() == r.trim())).collect()
}

fn actor_of(a: &AccountRow) -> Actor {
    Actor {
        id: a.username.clone(),
        display_name: a.display_name.clone(),
        roles: parse_roles(&a.roles),
        department: a.department.as_deref().and_then(|d| DepartmentId::parse(d).ok()),
    }
}

/// A successful sign-in.
pub struct Session {
    pub token: String,
    pub actor: Actor,
    pub expires_at_ms: i64,
}

impl App {
    /// Create or replace an account.
    pub async fn put_account(
        &self,
        username: &str,
        display_name: &str,
        password: &str,
        roles: &[Role],
        department: Option<&str>,
    ) -> Result<(), AppError> {
        let row = AccountRow {
            username: username.to_string(),
            display_name: display_name.to_string(),
            password_hash: hash_password(password)?,
            roles: roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","),
            department: department.map(String::from),
            active: true,
        };
        self.store.write(move |db| db.put_account(&row).map_err(AppError::from)).await
    }

    /// Check a password and open a session. The error never says whether the account exists.
    pub async fn login(&self, username: &str, password: &str) -> Result<Session, AppError> {
        let u = username.to_string();
        let acct = self.store.read(move |db| db.get_account(&u).map_err(AppError::from)).await?;
        let ok = match &acct {
            Some(a) if a.active => verify_password(password, &a.password_hash),
            _ => {
                // Spend the same time as a real check so timing does not reveal unknown accounts.
                let _ = verify_password(password, DUMMY_HASH);
                false
            }
        };
        let Some(acct) = acct.filter(|_| ok) else {
            return Err(AppError::Unauthenticated);
        };
        let token = random_hex(32)?;
        let expires = ms(self.now()) + SESSION_HOURS * 3600 * 1000;
        let (h, name) = (sha256_hex(&token), acct.username.clone());
        self.store.write(move |db| db.put_session(&h, &name, expires).map_err(AppError::from)).await?;
        Ok(Session { token, actor: actor_of(&acct), expires_at_ms: expires })
    }

    /// The actor behind a bearer token.
    pub async fn authenticate(&self, token: &str) -> Result<Actor, AppError> {
        let h = sha256_hex(token);
        let now = ms(self.now());
        self.store
            .read(move |db| -> Result<Actor, AppError> {
                let user = db.session_user(&h, now)?.ok_or(AppError::Unauthenticated)?;
                let acct = db.get_account(&user)?.filter(|a| a.active).ok_or(AppError::Unauthenticated)?;
                Ok(actor_of(&acct))
            })
            .await
    }

    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        let h = sha256_hex(token);
        self.store.write(move |db| db.delete_session(&h).map_err(AppError::from)).await
    }

    /// The account behind a staff id, for reassignment.
    pub async fn staff(&self, username: &str) -> Result<Actor, AppError> {
        let u = username.to_string();
        let acct = self.store.read(move |db| db.get_account(&u).map_err(AppError::from)).await?;
        acct.filter(|a| a.active).map(|a| actor_of(&a)).ok_or_else(|| AppError::NotFound(format!("staff {username}")))
    }

    /// Create the demo accounts listed in README.md when the database has none: the fixed accounts below, and
    /// for every department of the catalog `{dept}-reviewer` (reviewer, inspector), `{dept}-chief` (approver,
    /// reviewer) and `{dept}-clerk` (the section's window clerk, who issues and delivers results).
    pub async fn ensure_demo_accounts(&self) -> Result<bool, AppError> {
        if self.store.read(|db| db.count_accounts().map_err(AppError::from)).await? > 0 {
            return Ok(false);
        }
        for (user, name, roles, dept) in DEMO_ACCOUNTS {
            self.put_account(user, name, DEMO_PASSWORD, roles, *dept).await?;
        }
        for d in self.catalog().departments.clone() {
            let id = d.id.as_str();
            self.put_account(
                &format!("{id}-reviewer"),
                &format!("{} 审查员", d.name),
                DEMO_PASSWORD,
                &[Role::Reviewer, Role::Inspector],
                Some(id),
            )
            .await?;
            self.put_account(
                &format!("{id}-chief"),
                &format!("{} 负责人", d.name),
                DEMO_PASSWORD,
                &[Role::Approver, Role::Reviewer],
                Some(id),
            )
            .await?;
            self.put_account(
                &format!("{id}-clerk"),
                &format!("{} 窗口", d.name),
                DEMO_PASSWORD,
                &[Role::WindowClerk],
                Some(id),
            )
            .await?;
        }
        Ok(true)
    }
}

/// The password of every demo account (README.md lists them). Demo data only.
pub const DEMO_PASSWORD: &str = "oneseal-demo";

/// Fixed demo accounts: username, display name, roles, department.
pub const DEMO_ACCOUNTS: &[(&str, &str, &[Role], Option<&str>)] = &[
    ("citizen", "张三 (市民)", &[Role::Applicant], None),
    ("company", "银川塞上餐饮有限公司 (企业)", &[Role::Applicant], None),
    ("clerk", "李窗口 (综合窗口)", &[Role::WindowClerk], Some("bureau-general")),
    ("bank-clerk", "王银行 (银行网点)", &[Role::WindowClerk], Some("bureau-general")),
    ("supervisor", "褚监察 (电子监察)", &[Role::Supervisor], None),
    ("admin", "卫管理员", &[Role::Administrator], None),
];

/// A valid Argon2id hash of a random string, to spend equal time on unknown accounts.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Jm2ZyUDpIEHgUjyg4ZMBgV0FJvKk5Pg3Xw0m4C9Cvk";
