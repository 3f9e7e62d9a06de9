//! Webhooks to regulators' systems, following Standard Webhooks: each message is signed (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<HMAC-SHA256>`), retried with backoff (honouring `Retry-After`),
//! an endpoint answering 410 is disabled, and a delivery whose retries ran out is a dead letter that its owner can
//! see and send again.
//!
//! The outbox row is written in the same transaction as the message, so no acknowledged message is lost; the
//! worker claims due rows with a lease (so two nodes do not send the same row at once) and records each outcome.
//! The `webhook-id` stays the same across retries, so receivers de-duplicate.

use std::sync::atomic::Ordering;
use std::time::Duration;

use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{WebhookDelivery, WebhookEndpoint};
use serde_json::json;

use crate::egress::Cidr;
use crate::{ms, App, AppError};

/// How long a claimed delivery is left to its worker before another may try it, by default
/// (`ONESEAL_WEBHOOK_LEASE_SECONDS`).
pub const LEASE_MS: i64 = 120_000;
/// Longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER_SECS: u64 = 86_400;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// An HTTP answer: its status and `Retry-After` seconds, if any.
    Answered { status: u16, retry_after: Option<u64> },
    /// No answer (refused, timed out, TLS …).
    Failed(String),
}

/// The next state of a delivery after an attempt (pure: time and schedule as parameters). Returns the delivery
/// and whether its endpoint must be disabled (410 Gone).
pub fn after_attempt(
    mut d: WebhookDelivery,
    a: &Attempt,
    now_ms: i64,
    retry_seconds: &[u64],
) -> (WebhookDelivery, bool) {
    d.attempts += 1;
    let (status, retry_after, error) = match a {
        Attempt::Answered { status, retry_after } => (Some(i64::from(*status)), *retry_after, None),
        Attempt::Failed(e) => (None, None, Some(e.clone())),
    };
    d.last_status = status;
    d.last_error = error.or_else(|| status.filter(|s| !(200..300).contains(s)).map(|s| format!("HTTP {s}")));
    match status {
        Some(s) if (200..300).contains(&s) => {
            d.status = "delivered".into();
            d.finished_at_ms = Some(now_ms);
            d.last_error = None;
            (d, false)
        }
        Some(410) => {
            d.status = "dead".into();
            d.finished_at_ms = Some(now_ms);
            (d, true)
        }
        _ => {
            let done = usize::try_from(d.attempts - 1).unwrap_or(usize::MAX);
            match retry_seconds.get(done) {
                Some(wait) => {
                    let wait = (*wait).max(retry_after.unwrap_or(0).min(MAX_RETRY_AFTER_SECS));
                    d.next_attempt_ms = now_ms + i64::try_from(wait).unwrap_or(i64::MAX / 2) * 1000;
                }
                None => {
                    d.status = "dead".into();
                    d.finished_at_ms = Some(now_ms);
                }
            }
            (d, false)
        }
    }
}

impl App {
    /// Allow outgoing connections to these non-public blocks (configuration `ONESEAL_EGRESS_ALLOW`).
    pub fn set_egress_allow(&self, allow: Vec<Cidr>) {
        if let Ok(mut g) = self.egress_allow.write() {
            *g = allow;
        }
    }

    pub fn egress_allow(&self) -> Vec<Cidr> {
        self.egress_allow.read().map(|g| g.clone()).unwrap_or_default()
    }
}

fn url_ok(url: &str) -> Result<String, AppError> {
    let u = url.trim();
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
    if host.is_empty() || u.chars().any(|c| c.is_whitespace() || c.is_control()) || u.len() > 2000 {
        return Err(AppError::invalid("invalid_url", "a webhook URL is http(s)://host[:port]/path"));
    }
    Ok(u.to_string())
}

/// Whether the actor manages the endpoints of `department`: administrators all; a regulator its own.
fn manages(actor: &Actor, department: &str) -> bool {
    actor.has(Role::Administrator)
        || (actor.has(Role::Regulator) && actor.department.as_ref().is_some_and(|d| d.as_str() == department))
}

/// An endpoint as shown (never the secret).
pub fn endpoint_json(e: &WebhookEndpoint) -> serde_json::Value {
    json!({ "id": e.id, "department": e.department, "url": e.url, "enabled": e.enabled,
        "disabled_reason": e.disabled_reason, "created_by": e.created_by, "created_at_ms": e.created_at_ms })
}

/// A delivery as shown.
pub fn delivery_json(d: &WebhookDelivery) -> serde_json::Value {
    json!({ "id": d.id, "endpoint_id": d.endpoint_id, "message_id": d.message_id, "event_type": d.event_type,
        "status": d.status, "attempts": d.attempts, "next_attempt_ms": d.next_attempt_ms, "last_status": d.last_status,
        "last_error": d.last_error, "created_at_ms": d.created_at_ms, "finished_at_ms": d.finished_at_ms })
}

impl App {
    /// Register an endpoint for a department; returns it with its secret (shown once; stored sealed).
    pub async fn register_webhook(
        &self,
        actor: &Actor,
        department: &str,
        url: &str,
    ) -> Result<(WebhookEndpoint, String), AppError> {
        if !manages(actor, department) {
            return Err(AppError::Forbidden(
                "webhooks are registered by administrators or the department's regulators".into(),
            ));
        }
        if !self.catalog().departments.iter().any(|d| d.id.as_str() == department) {
            return Err(AppError::invalid("unknown_department", format!("unknown department {department}")));
        }
        let url = url_ok(url)?;
        // Only public addresses, unless allow-listed (names are resolved off the async threads).
        let (u2, allow) = (url.clone(), self.egress_allow());
        tokio::task::spawn_blocking(move || crate::egress::check_url_host(&u2, &allow))
            .await
            .map_err(|e| AppError::Internal(format!("resolver: {e}")))??;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| AppError::Internal(format!("random: {e}")))?;
        let secret = oneseal_seal::webhook::secret_from(&random).map_err(|e| AppError::Internal(e.to_string()))?;
        let ep = WebhookEndpoint {
            id: format!("ep_{}", crate::random_hex(8)?),
            department: department.to_string(),
            url,
            secret_sealed: self.seal_value(&secret)?,
            enabled: true,
            disabled_reason: None,
            created_by: actor.id.clone(),
            created_at_ms: ms(self.now()),
        };
        let e2 = ep.clone();
        self.store.write(move |db| db.put_webhook_endpoint(&e2).map_err(AppError::from)).await?;
        Ok((ep, secret))
    }

    /// Endpoints the actor manages.
    pub async fn webhook_endpoints(&self, actor: &Actor) -> Result<Vec<WebhookEndpoint>, AppError> {
        let dept = self.webhook_scope(actor)?;
        self.store.read(move |db| db.webhook_endpoints(dept.as_deref()).map_err(AppError::from)).await
    }

    /// None for administrators (all departments), the regulator's department otherwise.
    fn webhook_scope(&self, actor: &Actor) -> Result<Option<String>, AppError> {
        if actor.has(Role::Administrator) {
            Ok(None)
        } else if let (true, Some(d)) = (actor.has(Role::Regulator), actor.department.as_ref()) {
            Ok(Some(d.as_str().to_string()))
        } else {
            Err(AppError::Forbidden("webhooks are managed by administrators and regulators".into()))
        }
    }

    /// Turn an endpoint on or off.
    pub async fn set_webhook_enabled(
        &self,
        actor: &Actor,
        id: &str,
        enabled: bool,
    ) -> Result<WebhookEndpoint, AppError> {
        let (actor, id) = (actor.clone(), id.to_string());
        self.store
            .write(move |db| -> Result<WebhookEndpoint, AppError> {
                let mut ep = db
                    .webhook_endpoint(&id)?
                    .filter(|e| manages(&actor, &e.department))
                    .ok_or_else(|| AppError::NotFound(format!("webhook endpoint {id}")))?;
                ep.enabled = enabled;
                ep.disabled_reason = if enabled { None } else { Some(format!("disabled by {}", actor.id)) };
                db.put_webhook_endpoint(&ep)?;
                Ok(ep)
            })
            .await
    }

    /// Deliveries of the endpoints the actor manages, optionally one status (`dead`: the dead letters).
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, AppError> {
        if let Some(s) = status {
            if !matches!(s, "pending" | "delivered" | "dead") {
                return Err(AppError::invalid("invalid_status", "status is pending, delivered or dead"));
            }
        }
        let dept = self.webhook_scope(actor)?;
        let status = status.map(str::to_string);
        let limit = limit.clamp(1, 500);
        self.store
            .read(move |db| -> Result<Vec<WebhookDelivery>, AppError> {
                let eps: Option<Vec<String>> = match &dept {
                    Some(d) => Some(db.webhook_endpoints(Some(d))?.into_iter().map(|e| e.id).collect()),
                    None => None,
                };
                Ok(db.webhook_deliveries(eps.as_deref(), status.as_deref(), limit)?)
            })
            .await
    }

    /// Send a dead letter again (its endpoint must be enabled).
    pub async fn resend_delivery(&self, actor: &Actor, id: &str) -> Result<WebhookDelivery, AppError> {
        let now = ms(self.now());
        let (actor, id) = (actor.clone(), id.to_string());
        self.store
            .write(move |db| -> Result<WebhookDelivery, AppError> {
                let mut d = db.webhook_delivery(&id)?.ok_or_else(|| AppError::NotFound(format!("delivery {id}")))?;
                let ep = db
                    .webhook_endpoint(&d.endpoint_id)?
                    .filter(|e| manages(&actor, &e.department))
                    .ok_or_else(|| AppError::NotFound(format!("delivery {id}")))?;
                if d.status != "dead" {
                    return Err(AppError::invalid("not_dead", "only a dead letter is sent again"));
                }
                if !ep.enabled {
                    return Err(AppError::invalid("endpoint_disabled", "enable the endpoint before sending again"));
                }
                d.status = "pending".into();
                d.attempts = 0;
                d.next_attempt_ms = now;
                d.finished_at_ms = None;
                db.put_webhook_delivery(&d)?;
                Ok(d)
            })
            .await
    }

    /// Claim up to `limit` due deliveries, send each, and record the outcomes; returns how many were attempted.
    ///
    /// Across nodes: a claim is a lease (`next_attempt_ms` moved to now + the lease, `ONESEAL_WEBHOOK_LEASE_SECONDS`)
    /// taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never hold the same delivery. An outcome is
    /// recorded only under the lease it was attempted with. A worker that dies (or stalls past its lease) between
    /// sending and recording leaves the delivery pending; it is due again when the lease expires and sent again,
    /// with the same `webhook-id`. So: every delivery is sent until it is recorded delivered or dead (at least
    /// once); a receiver sees it twice only when the sender died or lost its lease after sending — it de-duplicates
    /// on `webhook-id`, as Standard Webhooks asks.
    pub async fn run_webhooks_once(&self, limit: i64) -> Result<usize, AppError> {
        let now = ms(self.now());
        let settings = self.liaison_settings();
        let lease = now + i64::try_from(settings.lease_seconds).unwrap_or(LEASE_MS / 1000).saturating_mul(1000);
        let claimed = self
            .store
            .write(move |db| -> Result<Vec<(WebhookDelivery, Option<WebhookEndpoint>)>, AppError> {
                let mut out = Vec::new();
                for d in db.claim_webhook_deliveries(now, lease, limit)? {
                    let ep = db.webhook_endpoint(&d.endpoint_id)?;
                    out.push((d, ep));
                }
                Ok(out)
            })
            .await?;
        let n = claimed.len();
        let schedule = settings.retry_seconds;
        for (d, ep) in claimed {
            let (next, disable) = match ep.as_ref().filter(|e| e.enabled) {
                None => {
                    let mut d = d;
                    d.status = "dead".into();
                    d.last_error = Some("endpoint disabled".into());
                    d.finished_at_ms = Some(ms(self.now()));
                    (d, false)
                }
                Some(ep) => {
                    let secret = self.reveal(&ep.secret_sealed)?;
                    let attempt = send(
                        ep.url.clone(),
                        secret,
                        d.id.clone(),
                        d.payload.clone(),
                        self.now().unix_timestamp(),
                        self.egress_allow(),
                    )
                    .await;
                    if !matches!(attempt, Attempt::Answered { status: 200..=299, .. }) {
                        self.webhook_failures.fetch_add(1, Ordering::Relaxed);
                    }
                    after_attempt(d, &attempt, ms(self.now()), &schedule)
                }
            };
            let ep_id = next.endpoint_id.clone();
            let recorded = self
                .store
                .write(move |db| -> Result<bool, AppError> {
                    if !db.finish_webhook_delivery(&next, lease)? {
                        return Ok(false);
                    }
                    if disable {
                        if let Some(mut ep) = db.webhook_endpoint(&ep_id)? {
                            ep.enabled = false;
                            ep.disabled_reason = Some("the endpoint answered 410 Gone".into());
                            db.put_webhook_endpoint(&ep)?;
                        }
                    }
                    Ok(true)
                })
                .await?;
            if !recorded {
                eprintln!(
                    "webhooks: a delivery's lease ran out before its outcome was recorded; another attempt owns it"
                );
            }
        }
        Ok(n)
    }
}

/// One signed POST (blocking HTTP on the blocking pool).
async fn send(url: String, secret: String, id: String, body: String, timestamp: i64, allow: Vec<Cidr>) -> Attempt {
    let signature = match oneseal_seal::webhook::sign(&secret, &id, timestamp, body.as_bytes()) {
        Ok(s) => s,
        Err(e) => return Attempt::Failed(e.to_string()),
    };
    let job = tokio::task::spawn_blocking(move || {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .max_redirects(0)
            .build();
        // The address check again, at connect time, on what DNS answers now.
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            crate::egress::GuardedResolver { allow },
        );
        match agent
            .post(&url)
            .header("webhook-id", &id)
            .header("webhook-timestamp", &timestamp.to_string())
            .header("webhook-signature", &signature)
            .content_type("application/json")
            .send(body.as_bytes())
        {
            Ok(r) => Attempt::Answered {
                status: r.status().as_u16(),
                retry_after: r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok()),
            },
            Err(e) => Attempt::Failed(e.to_string()),
        }
    });
    job.await.unwrap_or_else(|e| Attempt::Failed(format!("worker: {e}")))
}
