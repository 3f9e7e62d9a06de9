//! Accounts, passwords (Argon2id) and bearer sessions, and the demo accounts of `serve --demo`.
//!
//! Session tokens are random 256-bit values; only their SHA-256 is stored, so a leaked database holds no usable token.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use oneseal_domain::ids::{DepartmentId, Username};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{AccountRow, ApiTokenRow, NewEvent};

use crate::{ms, random_hex, sha256_hex, App, AppError};

/// The prefix of API tokens, so they are told apart from session tokens (and found by secret scanners).
pub const API_TOKEN_PREFIX: &str = "ost_";
/// API token scopes: `read` allows GET requests, `write` the others.
pub const SCOPES: &[&str] = &["read", "write"];

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

pub fn hash_password(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

/// Registrations per client address per hour (default; 0 turns the limit off).
pub const REGISTRATIONS_PER_ADDRESS_HOUR: usize = 10;
const HOUR_MS: i64 = 3_600_000;

impl App {
    /// Hash a password with Argon2 on the blocking pool, at most one hash per core at a time, so a burst of
    /// registrations or sign-ins queues instead of stalling the async threads.
    pub(crate) async fn hash_password_bounded(&self, password: &str) -> Result<String, AppError> {
        let _permit = self.hashing.acquire().await.map_err(|e| AppError::Internal(format!("hashing: {e}")))?;
        let pw = password.to_string();
        tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(|e| AppError::Internal(format!("password hashing: {e}")))?
    }

    async fn verify_password_bounded(&self, password: &str, hash: String) -> Result<bool, AppError> {
        let _permit = self.hashing.acquire().await.map_err(|e| AppError::Internal(format!("hashing: {e}")))?;
        let pw = password.to_string();
        tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
            .await
            .map_err(|e| AppError::Internal(format!("password check: {e}")))
    }

    /// Count a registration from `addr`; refuse once the address has made its hourly allowance.
    pub(crate) async fn registration_allowed(&self, addr: Option<&str>) -> Result<(), AppError> {
        let limit = self.registrations_per_hour.read().map(|g| *g).unwrap_or(REGISTRATIONS_PER_ADDRESS_HOUR);
        let (Some(addr), true) = (addr, limit > 0) else { return Ok(()) };
        let key = format!("r:{addr}");
        if let Some(retry_after_secs) = self.window_wait(&key, HOUR_MS, limit).await? {
            return Err(AppError::RateLimited {
                code: "registration_rate_limited",
                message: format!("this address has registered {limit} accounts within the hour"),
                retry_after_secs,
            });
        }
        self.window_record(&key).await
    }

    /// A counter of recent events under `key`, shared by every node (the `throttle_hits` table): the seconds until
    /// it drops below `limit` within `window_ms`, or None when it is below already.
    pub(crate) async fn window_wait(&self, key: &str, window_ms: i64, limit: usize) -> Result<Option<u64>, AppError> {
        let now = ms(self.now());
        let map = self.throttle_snapshot(vec![key.to_string()], now - window_ms).await?;
        let Some(recent) = map.get(key) else { return Ok(None) };
        Ok((recent.len() >= limit).then(|| {
            let oldest = recent.iter().copied().min().unwrap_or(now);
            ((oldest + window_ms - now) / 1000).max(1) as u64
        }))
    }

    /// Count one event under `key` (hits older than the longest window are pruned by the hourly worker).
    pub(crate) async fn window_record(&self, key: &str) -> Result<(), AppError> {
        let (now, keys) = (ms(self.now()), vec![key.to_string()]);
        self.store.write(move |db| db.throttle_add(&keys, now).map_err(AppError::from)).await
    }

    /// The hits under `keys` after `since_ms`, per key, as every node recorded them.
    async fn throttle_snapshot(&self, keys: Vec<String>, since_ms: i64) -> Result<Throttle, AppError> {
        let rows = self.store.read(move |db| db.throttle_hits(&keys, since_ms).map_err(AppError::from)).await?;
        let mut map = Throttle::new();
        for (k, at) in rows {
            map.entry(k).or_default().push(at);
        }
        Ok(map)
    }

    /// Forget throttle hits past the longest window and pending sign-ins past their life (the hourly worker).
    pub async fn prune_throttles(&self) -> Result<u64, AppError> {
        let now = ms(self.now());
        let (before, pending_before) = (now - HOUR_MS.max(THROTTLE_WINDOW_MS), now - OIDC_PENDING_MS);
        self.store.write(move |db| db.prune_node_state(before, pending_before).map_err(AppError::from)).await
    }

    /// Keep a pending single sign-on sign-in under its `state` in the database, so the browser may come back to
    /// any node. `Ok(false)`: `max` sign-ins are already in flight (expired ones are forgotten first).
    pub async fn oidc_pending_put(&self, state: String, body: String, max: i64) -> Result<bool, AppError> {
        let now = ms(self.now());
        self.store
            .write(move |db| -> Result<bool, AppError> {
                db.oidc_pending_expire(now - OIDC_PENDING_MS)?;
                if db.oidc_pending_count()? >= max {
                    return Ok(false);
                }
                db.oidc_pending_put(&state, &body, now)?;
                Ok(true)
            })
            .await
    }

    /// Take a pending sign-in (once, on whichever node): its body and when it started.
    pub async fn oidc_pending_take(&self, state: String) -> Result<Option<(String, i64)>, AppError> {
        self.store.write(move |db| db.oidc_pending_take(&state).map_err(AppError::from)).await
    }

    /// Change the hourly registration allowance per address (configuration).
    pub fn set_registrations_per_hour(&self, n: usize) {
        if let Ok(mut g) = self.registrations_per_hour.write() {
            *g = n;
        }
    }
}

fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(h) => Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

pub(crate) fn parse_roles(s: &str) -> Vec<Role> {
    s.split(',').filter_map(|r| Role::ALL.iter().copied().find(|x| x.as_str() == r.trim())).collect()
}

fn actor_of(a: &AccountRow) -> Actor {
    Actor {
        id: a.username.clone(),
        display_name: a.display_name.clone(),
        roles: parse_roles(&a.roles),
        department: a.department.as_deref().and_then(|d| DepartmentId::parse(d).ok()),
        acts_for: vec![],
        follows: vec![],
        post: a.service_point.clone(),
    }
}

/// The actor of an account with the organisations it acts for now.
fn actor_in(db: &mut oneseal_store::Db, a: &AccountRow, now_ms: i64) -> Result<Actor, AppError> {
    let mut actor = actor_of(a);
    if actor.has(Role::Applicant) {
        for (uscc, scope) in db.acts_for(&a.username, now_ms)? {
            if scope == "representative" || scope.split(',').any(|x| x == "apply") {
                actor.acts_for.push(uscc);
            } else {
                actor.follows.push(uscc);
            }
        }
    }
    Ok(actor)
}

/// A successful sign-in.
pub struct Session {
    pub token: String,
    pub actor: Actor,
    pub expires_at_ms: i64,
    /// The session may only enrol a second factor (the policy requires one and none is enrolled yet).
    pub limited: bool,
}

impl App {
    /// Create or replace an account.
    /// Create an account (an event `account_created` on the account's stream, and the accounts row). Refuses an
    /// existing username.
    pub async fn put_account(
        &self,
        username: &Username,
        display_name: &str,
        password: &str,
        roles: &[Role],
        department: Option<&str>,
    ) -> Result<(), AppError> {
        let hash = self.hash_password_bounded(password).await?;
        self.create_account("system", username, display_name, hash, roles, department).await
    }

    /// Check a password and open a session. The error never says whether the account exists. Failed attempts
    /// are throttled per account name and per client address (`addr`).
    ///
    /// `username` is what was typed, not a [`Username`]: a name that is not one is an unknown account — the same
    /// answer, the same time spent on a password hash and the same throttling as a wrong password, so sign-in does
    /// not tell which names are well-formed, let alone which exist.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        totp: Option<&str>,
        addr: Option<&str>,
    ) -> Result<Session, AppError> {
        let now = ms(self.now());
        let limits = self.login_limits.read().map(|g| *g).unwrap_or_default();
        let keys = throttle_keys(username, addr, limits);
        // The counters are shared by every node (the `throttle_hits` table), so three nodes do not triple them.
        let seen =
            self.throttle_snapshot(keys.iter().map(|(k, _)| k.clone()).collect(), now - THROTTLE_WINDOW_MS).await?;
        // Backoff per (account, address) and a ceiling per address: a stranger slows only their own address.
        if let Some(wait) = throttle_wait(&seen, &keys, now) {
            return Err(AppError::Throttled { retry_after_secs: wait });
        }
        // The account's ceiling, over all addresses: past it, only a second-factor code (or an administrator
        // lifting it) lets the account in, so a distributed guesser cannot keep trying passwords.
        let ceiling = account_ceiling_reached(&seen, username, limits, now);
        let acct = match Username::parse(username) {
            Ok(u) => self.store.read(move |db| db.get_account(u.as_str()).map_err(AppError::from)).await?,
            Err(_) => None,
        };
        let (hash, active) = match &acct {
            Some(a) => (a.password_hash.clone(), a.active),
            // Spend the same time as a real check so timing does not reveal unknown accounts.
            None => (dummy_hash().to_string(), false),
        };
        let verified = self.verify_password_bounded(password, hash).await?;
        let Some(acct) = acct.filter(|_| verified && active) else {
            self.throttle_fail(&keys, now).await?;
            if ceiling {
                return Err(AppError::Throttled { retry_after_secs: (THROTTLE_WINDOW_MS / 1000) as u64 });
            }
            return Err(AppError::Unauthenticated);
        };
        // The second factor: required once enrolled; staff with write powers must enrol when the policy says so.
        let name = acct.username.clone();
        let (sealed, enabled, last_step) = self
            .store
            .read(move |db| db.account_totp(&name).map_err(AppError::from))
            .await?
            .unwrap_or((None, false, None));
        let a2 = acct.clone();
        let actor = self.store.read(move |db| actor_in(db, &a2, now)).await?;
        let mut limited = false;
        if enabled {
            // Past the ceiling the answer is the same whether or not the password was right.
            let refuse = || {
                if ceiling {
                    AppError::Throttled { retry_after_secs: (THROTTLE_WINDOW_MS / 1000) as u64 }
                } else {
                    AppError::TotpRequired
                }
            };
            let Some(code) = totp.map(str::trim).filter(|c| !c.is_empty()) else {
                return Err(refuse());
            };
            let secret = self.reveal(sealed.as_deref().unwrap_or_default())?;
            let secret = oneseal_seal::totp::from_base32(&secret)
                .ok_or_else(|| AppError::Internal("stored TOTP secret".into()))?;
            let unix = (now / 1000).max(0) as u64;
            let Some(step) = oneseal_seal::totp::verify(&secret, code, unix, last_step.map(|s| s.max(0) as u64)) else {
                self.throttle_fail(&keys, now).await?;
                return Err(refuse());
            };
            let name = acct.username.clone();
            let sealed = sealed.clone();
            self.store
                .write(move |db| {
                    db.set_account_totp(&name, sealed.as_deref(), true, Some(step as i64)).map_err(AppError::from)
                })
                .await?;
        } else if ceiling {
            // Without a second factor only an administrator lifts the ceiling.
            return Err(AppError::Throttled { retry_after_secs: (THROTTLE_WINDOW_MS / 1000) as u64 });
        } else if self.totp_required_for(&actor) {
            limited = true;
        }
        self.throttle_clear(&keys).await?;
        let token = random_hex(32)?;
        let expires = now + SESSION_HOURS * 3600 * 1000;
        let (h, name) = (sha256_hex(&token), acct.username.clone());
        self.store.write(move |db| db.put_session_limited(&h, &name, expires, limited).map_err(AppError::from)).await?;
        Ok(Session { token, actor, expires_at_ms: expires, limited })
    }

    /// Open a session for a staff account an external identity provider vouched for (single sign-on). Applicants
    /// and inactive or unknown accounts are refused; the provider is responsible for its own second factor.
    /// Open a session for a staff member an identity provider vouched for. The account is the one linked to the
    /// provider's subject (`issuer`, `subject`); at the first sign-in, the account the name claim (`name_hint`)
    /// names is linked — unless it is linked to another subject already — and the link is an event.
    pub async fn login_external(&self, issuer: &str, subject: &str, name_hint: &str) -> Result<Session, AppError> {
        let now = ms(self.now());
        let (iss, sub, hint) = (issuer.to_string(), subject.to_string(), name_hint.to_string());
        let acct = self
            .store
            .write(move |db| -> Result<Option<AccountRow>, AppError> {
                if let Some(u) = db.identity_account(&iss, &sub)? {
                    return Ok(db.get_account(&u)?);
                }
                let Some(a) = db.get_account(&hint)? else { return Ok(None) };
                if db.account_identity(&iss, &a.username)?.is_some() {
                    // The name now points at an account another subject owns: a renamed or reused name.
                    return Ok(None);
                }
                if !a.active || !parse_roles(&a.roles).iter().any(|r| *r != Role::Applicant) {
                    return Ok(None);
                }
                db.link_identity(&iss, &sub, &a.username, now)?;
                let stream = format!("account-{}", a.username);
                let v = db.stream_version(&stream)?;
                db.append(
                    &stream,
                    v,
                    &[NewEvent {
                        event_type: "identity_linked".into(),
                        schema_version: 1,
                        actor: "sso".into(),
                        at_ms: now,
                        payload: serde_json::json!({ "username": a.username, "issuer": iss, "subject": sub })
                            .to_string(),
                    }],
                )?;
                Ok(Some(a))
            })
            .await?;
        let acct = acct.filter(|a| a.active).ok_or(AppError::Unauthenticated)?;
        let actor = actor_of(&acct);
        if !actor.is_staff() {
            return Err(AppError::Unauthenticated);
        }
        let token = random_hex(32)?;
        let expires = now + SESSION_HOURS * 3600 * 1000;
        let (h, name) = (sha256_hex(&token), acct.username.clone());
        self.store.write(move |db| db.put_session(&h, &name, expires).map_err(AppError::from)).await?;
        Ok(Session { token, actor, expires_at_ms: expires, limited: false })
    }

    /// Whether the second-factor policy applies to an account: staff with write powers (every staff role but the
    /// read-only supervisor), when the policy is on.
    pub fn totp_required_for(&self, actor: &Actor) -> bool {
        let on = self.totp_policy.read().map(|g| *g).unwrap_or(false);
        on && actor.roles.iter().any(|r| !matches!(r, Role::Applicant | Role::Supervisor))
    }

    /// Turn the second-factor policy for staff with write powers on or off (configuration).
    pub fn set_totp_policy(&self, required_for_staff: bool) {
        if let Ok(mut g) = self.totp_policy.write() {
            *g = required_for_staff;
        }
    }

    /// Start enrolling a TOTP authenticator: a new secret, sealed at rest, shown once as base32 and an otpauth URI.
    /// It takes effect when confirmed with a code.
    pub async fn enrol_totp(&self, actor: &Actor) -> Result<(String, String), AppError> {
        let mut secret = [0u8; 20];
        getrandom::fill(&mut secret).map_err(|e| AppError::Internal(format!("random: {e}")))?;
        let b32 = oneseal_seal::totp::base32(&secret);
        let uri = oneseal_seal::totp::uri("OneSeal", &actor.id, &secret);
        let sealed = self.seal_value(&b32)?;
        let name = actor.id.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                let (_, enabled, _) =
                    db.account_totp(&name)?.ok_or_else(|| AppError::NotFound(format!("account {name}")))?;
                if enabled {
                    return Err(AppError::invalid("totp_already_enabled", "a second factor is already enrolled"));
                }
                db.set_account_totp(&name, Some(&sealed), false, None)?;
                Ok(())
            })
            .await?;
        Ok((b32, uri))
    }

    /// Confirm the enrolment with a current code; afterwards every sign-in needs a code.
    pub async fn confirm_totp(&self, actor: &Actor, code: &str) -> Result<(), AppError> {
        let name = actor.id.clone();
        let (sealed, enabled, _) = self
            .store
            .read(move |db| db.account_totp(&name).map_err(AppError::from))
            .await?
            .unwrap_or((None, false, None));
        if enabled {
            return Err(AppError::invalid("totp_already_enabled", "a second factor is already enrolled"));
        }
        let sealed = sealed.ok_or_else(|| AppError::invalid("totp_not_started", "start the enrolment first"))?;
        let secret = oneseal_seal::totp::from_base32(&self.reveal(&sealed)?)
            .ok_or_else(|| AppError::Internal("stored TOTP secret".into()))?;
        let unix = (ms(self.now()) / 1000).max(0) as u64;
        let step = oneseal_seal::totp::verify(&secret, code, unix, None).ok_or_else(|| {
            AppError::invalid("totp_wrong_code", "the code does not match; check the authenticator's clock")
        })?;
        let name = actor.id.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                db.set_account_totp(&name, Some(&sealed), true, Some(step as i64))?;
                // Sessions opened before the second factor (limited ones included) end: sign in again with a code.
                db.delete_sessions_of(&name)?;
                Ok(())
            })
            .await
    }

    async fn throttle_fail(&self, keys: &[(String, usize)], now: i64) -> Result<(), AppError> {
        let keys: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
        self.store.write(move |db| db.throttle_add(&keys, now).map_err(AppError::from)).await
    }

    async fn throttle_clear(&self, keys: &[(String, usize)]) -> Result<(), AppError> {
        // A success clears the account's failures and this address's backoff for it, not the address's count.
        let keys: Vec<String> =
            keys.iter().filter(|(k, _)| k.starts_with("u:") || k.starts_with("p:")).map(|(k, _)| k.clone()).collect();
        self.store.write(move |db| db.throttle_clear(&keys, None).map_err(AppError::from)).await
    }

    /// An administrator lifts an account's sign-in ceiling (after checking with its owner); recorded as an event.
    pub async fn lift_login_ceiling(&self, admin: &Actor, username: &Username) -> Result<(), AppError> {
        let u = username.to_string();
        let a = self.store.read(move |db| db.get_account(&u).map_err(AppError::from)).await?;
        let a = a.ok_or_else(|| AppError::NotFound(format!("account {username}")))?;
        if !crate::accounts::may_manage(admin, a.department.as_deref()) {
            return Err(AppError::Forbidden("an administrator of a department lifts only its own accounts".into()));
        }
        let (account, pair_prefix) =
            (account_key(username.as_str()), format!("p:{}|", username.as_str().trim().to_lowercase()));
        self.store.write(move |db| db.throttle_clear(&[account], Some(&pair_prefix)).map_err(AppError::from)).await?;
        let (by, at, u) = (admin.id.clone(), ms(self.now()), a.username.clone());
        self.store
            .write(move |db| -> Result<(), AppError> {
                let stream = format!("account-{u}");
                let v = db.stream_version(&stream)?;
                db.append(
                    &stream,
                    v,
                    &[NewEvent {
                        event_type: "login_ceiling_lifted".into(),
                        schema_version: 1,
                        actor: by,
                        at_ms: at,
                        payload: serde_json::json!({ "username": u }).to_string(),
                    }],
                )?;
                Ok(())
            })
            .await
    }

    /// Change the sign-in throttling limits (configuration).
    pub fn set_login_limits(&self, limits: LoginLimits) {
        if let Ok(mut g) = self.login_limits.write() {
            *g = limits;
        }
    }

    /// The actor behind a bearer credential: a session token, or an API token (`ost_…`) with its scopes.
    pub async fn authenticate_any(&self, token: &str) -> Result<(Actor, Option<Vec<String>>, bool), AppError> {
        if !token.starts_with(API_TOKEN_PREFIX) {
            let (actor, limited) = self.authenticate_session(token).await?;
            return Ok((actor, None, limited));
        }
        let h = sha256_hex(token);
        let now = ms(self.now());
        self.store
            .read(move |db| -> Result<(Actor, Option<Vec<String>>, bool), AppError> {
                let t = db.api_token_by_hash(&h, now)?.ok_or(AppError::Unauthenticated)?;
                let acct = db.get_account(&t.owner)?.filter(|a| a.active).ok_or(AppError::Unauthenticated)?;
                Ok((actor_in(db, &acct, now)?, Some(t.scopes.split(',').map(String::from).collect()), false))
            })
            .await
    }

    /// Issue an API token for the signed-in account: scoped (`read`, `write`), expiring after `days` (1–365).
    /// The token is shown once; only its SHA-256 is stored.
    pub async fn issue_api_token(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &[String],
        days: u32,
    ) -> Result<(String, ApiTokenRow), AppError> {
        if name.trim().is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid("invalid_token_name", "a token needs a name of 1–100 characters"));
        }
        if scopes.is_empty() || scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
            return Err(AppError::invalid("invalid_scopes", format!("scopes are one or more of {SCOPES:?}")));
        }
        if !(1..=365).contains(&days) {
            return Err(AppError::invalid("invalid_expiry", "a token expires after 1–365 days"));
        }
        let token = format!("{API_TOKEN_PREFIX}{}", random_hex(32)?);
        let now = ms(self.now());
        let mut sc: Vec<String> = scopes.to_vec();
        sc.sort();
        sc.dedup();
        let row = ApiTokenRow {
            id: format!("tok-{}", random_hex(6)?),
            token_hash: sha256_hex(&token),
            owner: actor.id.clone(),
            name: name.trim().to_string(),
            scopes: sc.join(","),
            created_at_ms: now,
            expires_at_ms: now + i64::from(days) * 86_400_000,
            revoked_at_ms: None,
        };
        let r = row.clone();
        self.store.write(move |db| db.put_api_token(&r).map_err(AppError::from)).await?;
        Ok((token, row))
    }

    pub async fn api_tokens(&self, actor: &Actor) -> Result<Vec<ApiTokenRow>, AppError> {
        let me = actor.id.clone();
        self.store.read(move |db| db.api_tokens_of(&me).map_err(AppError::from)).await
    }

    /// Revoke a token: its owner or an administrator. Someone else's token id is "not found".
    pub async fn revoke_api_token(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let (id, actor) = (id.to_string(), actor.clone());
        let now = ms(self.now());
        self.store
            .write(move |db| -> Result<(), AppError> {
                let t = db.api_token(&id)?.filter(|t| t.owner == actor.id || actor.has(Role::Administrator));
                let t = t.ok_or_else(|| AppError::NotFound(format!("token {id}")))?;
                db.revoke_api_token(&t.id, now)?;
                Ok(())
            })
            .await
    }

    /// The actor behind a bearer token.
    pub async fn authenticate(&self, token: &str) -> Result<Actor, AppError> {
        match self.authenticate_session(token).await? {
            (actor, false) => Ok(actor),
            (_, true) => Err(AppError::TotpEnrolmentRequired),
        }
    }

    /// The actor of a session, and whether the session is limited to enrolling a second factor.
    pub async fn authenticate_session(&self, token: &str) -> Result<(Actor, bool), AppError> {
        let h = sha256_hex(token);
        let now = ms(self.now());
        self.store
            .read(move |db| -> Result<(Actor, bool), AppError> {
                let (user, limited) = db.session(&h, now)?.ok_or(AppError::Unauthenticated)?;
                let acct = db.get_account(&user)?.filter(|a| a.active).ok_or(AppError::Unauthenticated)?;
                Ok((actor_in(db, &acct, now)?, limited))
            })
            .await
    }

    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        let h = sha256_hex(token);
        self.store.write(move |db| db.delete_session(&h).map_err(AppError::from)).await
    }

    /// The account behind a staff id, for reassignment.
    pub async fn staff(&self, username: &Username) -> Result<Actor, AppError> {
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
        // Demo accounts share one password: hash it once (real accounts each get their own salt).
        let h = hash_password(DEMO_PASSWORD)?;
        for (user, name, roles, dept) in DEMO_ACCOUNTS {
            self.create_account("demo", &crate::accounts::check_username(user)?, name, h.clone(), roles, *dept).await?;
        }
        for d in self.catalog().departments.clone() {
            let id = d.id.as_str();
            self.create_account(
                "demo",
                &crate::accounts::check_username(&format!("{id}-reviewer"))?,
                &format!("{} 审查员", d.name),
                h.clone(),
                &[Role::Reviewer, Role::Inspector],
                Some(id),
            )
            .await?;
            self.create_account(
                "demo",
                &crate::accounts::check_username(&format!("{id}-chief"))?,
                &format!("{} 负责人", d.name),
                h.clone(),
                &[Role::Approver, Role::Reviewer],
                Some(id),
            )
            .await?;
            self.create_account(
                "demo",
                &crate::accounts::check_username(&format!("{id}-clerk"))?,
                &format!("{} 窗口", d.name),
                h.clone(),
                &[Role::WindowClerk],
                Some(id),
            )
            .await?;
        }
        // Window clerks are posted to the point they work at (the hall's, the bank branch's).
        let admin = Actor::system("demo", Role::Administrator, None);
        for (user, point) in DEMO_POSTS {
            self.set_staff_post(&admin, &crate::accounts::check_username(user)?, Some(point), None).await?;
        }
        for d in self.catalog().departments.clone() {
            let clerk = crate::accounts::check_username(&format!("{}-clerk", d.id.as_str()))?;
            self.set_staff_post(&admin, &clerk, Some("yc-hall"), None).await?;
        }
        self.ensure_demo_parties().await?;
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
    ("regulator", "蒋监管 (市场监督管理局)", &[Role::Regulator], Some("market")),
    ("hotline", "沈话务 (12345 热线)", &[Role::HotlineOperator], None),
    ("handling-unit", "韩承办 (城市管理局)", &[Role::HandlingUnit], Some("urban-management")),
    ("admin", "卫管理员", &[Role::Administrator], None),
];

/// Where the fixed demo window clerks are posted (service points of `catalog/network.toml`); every
/// `{dept}-clerk` is posted to the citizen hall.
pub const DEMO_POSTS: &[(&str, &str)] = &[("clerk", "yc-hall"), ("bank-clerk", "nxbank-jf")];

/// A real Argon2id hash made once, to spend the same time on unknown accounts as on known ones.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// Recent hits per throttle key.
type Throttle = std::collections::HashMap<String, Vec<i64>>;

/// How long to wait before the next try: backoff per (account, address) — free tries, then 1 s, 2 s, 4 s, … up to
/// the window — and the per-address ceiling within the window.
fn throttle_wait(map: &Throttle, keys: &[(String, usize)], now: i64) -> Option<u64> {
    keys.iter()
        .filter_map(|(k, limit)| {
            let fails = map.get(k)?;
            let recent: Vec<i64> = fails.iter().copied().filter(|t| now - *t < THROTTLE_WINDOW_MS).collect();
            if k.starts_with("p:") {
                let n = recent.len();
                if n < *limit {
                    return None;
                }
                let delay = (1000i64 << (n - limit).min(20)).min(THROTTLE_WINDOW_MS);
                let last = recent.iter().copied().max()?;
                let wait = last + delay - now;
                (wait > 0).then(|| ((wait + 999) / 1000) as u64)
            } else if k.starts_with("a:") && recent.len() >= *limit {
                let oldest = recent.iter().copied().min()?;
                Some(((oldest + THROTTLE_WINDOW_MS - now) / 1000).max(1) as u64)
            } else {
                None
            }
        })
        .max()
}

fn account_ceiling_reached(map: &Throttle, username: &str, limits: LoginLimits, now: i64) -> bool {
    if limits.per_account == 0 {
        return false;
    }
    map.get(&account_key(username))
        .is_some_and(|v| v.iter().filter(|t| now - **t < THROTTLE_WINDOW_MS).count() >= limits.per_account)
}

/// How long a pending single sign-on sign-in is kept (the browser has this long to come back).
pub const OIDC_PENDING_MS: i64 = 600_000;

/// Failed sign-ins counted over this window.
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// The account's ceiling: failures for one account name from all addresses within the window, past which only a
/// second-factor code or an administrator lets the account in (0 turns it off).
pub const THROTTLE_PER_ACCOUNT: usize = 100;
/// Failures per client address within the window, over all names (0 turns it off). Generous, because a bank
/// branch or an office shares one address.
pub const THROTTLE_PER_ADDRESS: usize = 50;
/// Free failures per (account, address) before the backoff starts doubling from one second.
pub const THROTTLE_FREE_TRIES: usize = 3;

/// Sign-in throttling limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_account: usize,
    pub per_address: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits { per_account: THROTTLE_PER_ACCOUNT, per_address: THROTTLE_PER_ADDRESS }
    }
}

fn account_key(username: &str) -> String {
    format!("u:{}", username.trim().to_lowercase())
}

/// The counters a sign-in attempt touches: the account (its ceiling), the (account, address) pair (backoff) and
/// the address (its ceiling). Without an address the pair is the account's own.
fn throttle_keys(username: &str, addr: Option<&str>, limits: LoginLimits) -> Vec<(String, usize)> {
    let mut v = Vec::new();
    if limits.per_account > 0 {
        v.push((account_key(username), limits.per_account));
        v.push((format!("p:{}|{}", username.trim().to_lowercase(), addr.unwrap_or("-")), THROTTLE_FREE_TRIES));
    }
    if let (Some(a), true) = (addr, limits.per_address > 0) {
        v.push((format!("a:{a}"), limits.per_address));
    }
    v
}
