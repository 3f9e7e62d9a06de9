//! Postal delivery (邮政寄送): a result delivered by post becomes a shipment — its own event stream
//! (`shipment-{case_no}-{attempt}`) of `oneseal_domain::shipment::ShipmentEvent`s, requested in the transaction of
//! the case's `delivered` event, given a waybill by the [`Carrier`], tracked by a worker that polls the carrier and
//! records each new report once, and — when the carrier returns it — back at the window: the window clerks and the
//! applicant are told, and a clerk hands the result over (`collect`) or sends it again (`resend`, a new shipment).
//! `project` writes the shipments projection from each event, for the commands here and for `rebuild` alike.
//!
//! A carrier is reached only outside write transactions (its answers are then recorded in a short write job that
//! claims the work, `Db::claim_work`, so several nodes record each report once). The address and the phone are
//! sealed in every event and row; the carrier is given them in clear, since it must deliver.

use std::sync::Arc;

use oneseal_domain::case::{self, CaseState, Delivery};
use oneseal_domain::hall::{Network, PointLevel};
use oneseal_domain::roles::{Actor, Role};
use oneseal_domain::shipment::{new_reports, Postage, ShipmentEvent, ShipmentStatus, Stage, Tracking};
use oneseal_store::{Db, ShipmentRow, StoredEvent};
use serde::Serialize;
use time::OffsetDateTime;

use crate::streams::{decode, notify, record, text_ok};
use crate::{from_ms, ms, App, AppError};

/// What a carrier is asked to carry.
#[derive(Clone)]
pub struct WaybillRequest {
    /// Our reference (the shipment id): asking twice with the same reference gives the same waybill.
    pub reference: String,
    /// The address and the phone, in clear (the carrier must deliver).
    pub address: String,
    pub phone: Option<String>,
    pub postage: Postage,
}

impl std::fmt::Debug for WaybillRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaybillRequest").field("reference", &self.reference).finish_non_exhaustive()
    }
}

/// Why a carrier did not answer (the work stays in the database and is tried again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierError {
    #[error("the carrier is unavailable: {0}")]
    Unavailable(String),
    #[error("the carrier refused the request: {0}")]
    Refused(String),
}

/// A postal carrier (承运商): the simulated one for the demo and tests; a real carrier plugs in through the same
/// trait (`App::set_carrier`). Calls may block (a real carrier is a network call): the application makes them on
/// the blocking pool, never inside a write transaction.
pub trait Carrier: Send + Sync {
    /// The carrier's name, recorded with each waybill.
    fn name(&self) -> &str;
    /// Issue a waybill (运单号) for a shipment; idempotent on `reference`.
    fn create_waybill(&self, req: &WaybillRequest) -> Result<String, CarrierError>;
    /// Every tracking report of a waybill up to `now`; `shipped_at` is when the waybill was issued.
    fn tracking(
        &self,
        waybill: &str,
        shipped_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Vec<Tracking>, CarrierError>;
}

/// The simulated carrier (`sim`): deterministic, stateless and driven by the application's clock. A waybill is
/// `SIM` + a route digit + the reference's digits; the route is `9` (returned) when the address contains 查无此人,
/// 退回 or `RETURN`, else `0`. After the waybill is issued: picked up at +2 h, in transit at +8 h, out for delivery
/// at +24 h, then delivered at +26 h — or, on the return route, returned at +50 h.
pub struct SimulatedCarrier;

/// How long after the waybill each simulated report comes, in hours.
const SIM_HOURS: [(Stage, i64); 4] =
    [(Stage::PickedUp, 2), (Stage::InTransit, 8), (Stage::OutForDelivery, 24), (Stage::Delivered, 26)];
const SIM_RETURN_HOURS: i64 = 50;

impl Carrier for SimulatedCarrier {
    fn name(&self) -> &str {
        "sim"
    }

    fn create_waybill(&self, req: &WaybillRequest) -> Result<String, CarrierError> {
        let upper = req.address.to_uppercase();
        let route = if ["查无此人", "退回", "RETURN"].iter().any(|p| upper.contains(p)) { '9' } else { '0' };
        let digits: String = req.reference.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(CarrierError::Refused("a reference with digits".into()));
        }
        Ok(format!("SIM{route}{digits}"))
    }

    fn tracking(
        &self,
        waybill: &str,
        shipped_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Vec<Tracking>, CarrierError> {
        let Some(route) = waybill.strip_prefix("SIM").and_then(|r| r.chars().next()) else {
            return Err(CarrierError::Refused(format!("unknown waybill {waybill}")));
        };
        let returns = route == '9';
        let at = |h: i64| ms(shipped_at) + h * 3_600_000;
        let mut out = Vec::new();
        for (stage, h) in SIM_HOURS {
            let (stage, h) = match stage {
                Stage::Delivered if returns => (Stage::Returned, SIM_RETURN_HOURS),
                s => (s, h),
            };
            if at(h) > ms(now) {
                break;
            }
            let (location, note) = match stage {
                Stage::PickedUp => ("银川市审批服务局", "已揽收 picked up"),
                Stage::InTransit => ("银川邮区中心局", "运输中 in transit"),
                Stage::OutForDelivery => ("投递站", "派送中 out for delivery"),
                Stage::Delivered => ("收件地址", "已签收 delivered"),
                Stage::Returned => ("投递站", "收件人地址不详，退回寄件人 undeliverable, returned to sender"),
            };
            out.push(Tracking { stage, at_ms: at(h), location: location.into(), note: note.into() });
        }
        Ok(out)
    }
}

/// The carrier adapters this build has, by the name `ONESEAL_CARRIER` gives: `simulated` (the default). A real
/// carrier's adapter is one more arm here and an implementation of [`Carrier`] (docs/hall.md, "Postal delivery").
pub const CARRIERS: &[&str] = &["simulated"];

/// The carrier adapter of a name (`None`: no such adapter in this build).
pub fn carrier_named(name: &str) -> Option<Arc<dyn Carrier>> {
    match name {
        "simulated" => Some(Arc::new(SimulatedCarrier)),
        _ => None,
    }
}

/// The stream (and id) of a case's `attempt`-th shipment.
pub fn shipment_id(case_no: &str, attempt: u32) -> String {
    format!("shipment-{case_no}-{attempt}")
}

fn status_of(s: &ShipmentRow) -> Result<ShipmentStatus, AppError> {
    ShipmentStatus::parse(&s.status)
        .ok_or_else(|| AppError::Internal(format!("shipment {}: status {}", s.id, s.status)))
}

fn tracking_of(s: &ShipmentRow) -> Result<Vec<Tracking>, AppError> {
    serde_json::from_str(&s.tracking).map_err(|e| AppError::Internal(format!("shipment {}: tracking {e}", s.id)))
}

/// The shipments projection after one event of a shipment's stream (the commands and `rebuild` both call it).
pub(crate) fn project(db: &mut Db, e: &StoredEvent) -> Result<Option<ShipmentRow>, AppError> {
    let ev: ShipmentEvent = decode(e)?;
    let row = match ev {
        ShipmentEvent::Requested { case_no, attempt, department, address, phone, postage, resends } => {
            Some(ShipmentRow {
                id: e.stream_id.clone(),
                case_no,
                attempt: i64::from(attempt),
                department,
                address,
                phone,
                postage: postage.as_str().into(),
                status: ShipmentStatus::Requested.as_str().into(),
                carrier: None,
                waybill: None,
                shipped_at_ms: None,
                tracking: "[]".into(),
                resends,
                next: None,
                collected_window: None,
                requested_by: e.actor.clone(),
                requested_at_ms: e.at_ms,
                updated_at_ms: e.at_ms,
            })
        }
        ev => match db.shipment(&e.stream_id)? {
            None => None,
            Some(mut s) => {
                s.status = status_of(&s)?.apply(&ev).as_str().into();
                s.updated_at_ms = e.at_ms;
                match ev {
                    ShipmentEvent::WaybillIssued { carrier, waybill } => {
                        s.carrier = Some(carrier);
                        s.waybill = Some(waybill);
                        s.shipped_at_ms = Some(e.at_ms);
                    }
                    ShipmentEvent::Tracked { tracking } => {
                        let mut list = tracking_of(&s)?;
                        list.push(tracking);
                        s.tracking = serde_json::to_string(&list).map_err(|err| AppError::Internal(err.to_string()))?;
                    }
                    ShipmentEvent::Collected { window } => s.collected_window = Some(window),
                    ShipmentEvent::Resent { next } => s.next = Some(next),
                    ShipmentEvent::Requested { .. } => {}
                }
                Some(s)
            }
        },
    };
    if let Some(s) = &row {
        db.put_shipment(s)?;
    }
    Ok(row)
}

/// Record an event on a shipment's stream (checked against its status) and project it.
fn record_shipment(
    db: &mut Db,
    id: &str,
    ev: &ShipmentEvent,
    actor: &str,
    at: i64,
) -> Result<(i64, ShipmentRow), AppError> {
    if let Some(s) = db.shipment(id)? {
        status_of(&s)?.check(ev)?;
    }
    let e = record(db, id, ev, actor, at)?;
    let row = project(db, &e)?.ok_or_else(|| AppError::Internal(format!("{id}: no row")))?;
    Ok((e.seq, row))
}

/// Request the shipment of a case's result delivered by post, in the caller's transaction (the case's `delivered`
/// event's): the address comes sealed from the case's delivery, the phone sealed from its applicant.
pub(crate) fn request_in(
    db: &mut Db,
    st: &CaseState,
    resends: Option<&ShipmentRow>,
    address: Option<String>,
    postage: Option<Postage>,
    actor: &str,
    at: i64,
) -> Result<ShipmentRow, AppError> {
    let (case_address, case_postage) = match &st.delivery {
        Some(Delivery::Post { address, postage }) => (Some(address.clone()), *postage),
        _ => (None, Postage::Bureau),
    };
    let address = address
        .or(case_address)
        .ok_or_else(|| AppError::invalid("no_postal_address", "地址 the case has no postal address"))?;
    let attempt = resends.map_or(1, |r| u32::try_from(r.attempt).unwrap_or(1) + 1);
    let id = shipment_id(st.case_no.as_str(), attempt);
    let ev = ShipmentEvent::Requested {
        case_no: st.case_no.as_str().to_string(),
        attempt,
        department: st.department.as_str().to_string(),
        address,
        phone: st.applicant.phone.clone(),
        postage: postage.unwrap_or(case_postage),
        resends: resends.map(|r| r.id.clone()),
    };
    Ok(record_shipment(db, &id, &ev, actor, at)?.1)
}

/// A shipment as people see it: the address and the phone masked, the tracking as a list.
#[derive(Debug, Clone, Serialize)]
pub struct ShipmentView {
    pub id: String,
    pub case_no: String,
    pub attempt: i64,
    pub status: String,
    pub postage: String,
    pub carrier: Option<String>,
    pub waybill: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub tracking: Vec<Tracking>,
    pub resends: Option<String>,
    pub next: Option<String>,
    pub collected_window: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Who sees a case's shipments: its applicant; window clerks; staff of its department; supervisors and
/// administrators. Everyone else is told "not found".
fn may_see(actor: &Actor, st: &CaseState) -> bool {
    actor.sees_as_applicant(st.applicant.account.as_deref(), case::organisation_of(st))
        || actor.has(Role::WindowClerk)
        || actor.has(Role::Supervisor)
        || actor.has(Role::Administrator)
        || (actor.is_staff() && actor.department.as_ref() == Some(&st.department))
}

/// The service point a case's returned results go back to: the point of the network that accepted it, or, for a
/// case that came through no point of the network (online, by API, by the hotline), the city's hall (the first
/// point at the city level), whose address the bureau's post is sent from. `None` when the network has neither.
pub(crate) fn return_point(net: &Network, st: &CaseState) -> Option<String> {
    net.point(&st.service_point)
        .or_else(|| net.points.iter().find(|p| p.level == PointLevel::City))
        .map(|p| p.id.clone())
}

/// A window clerk handles only the returned shipments of the point they are posted to.
fn check_return_point(actor: &Actor, net: &Network, st: &CaseState) -> Result<(), AppError> {
    match return_point(net, st) {
        Some(p) => crate::hall::check_posted(actor, &p),
        None => Err(AppError::Forbidden("the case has no service point to return to 该办件无可退回的服务点".into())),
    }
}

fn case_state(db: &mut Db, case_no: &str) -> Result<CaseState, AppError> {
    let row = db.get_case(case_no)?.ok_or_else(|| AppError::NotFound(format!("case {case_no}")))?;
    serde_json::from_str(&row.state).map_err(|e| AppError::Internal(format!("case state {case_no}: {e}")))
}

/// The longest address accepted.
const MAX_ADDRESS: usize = 200;

impl App {
    /// Plug in the carrier results are sent through (a real carrier's adapter; the simulated one by default).
    pub fn set_carrier(&self, c: Arc<dyn Carrier>) {
        if let Ok(mut g) = self.carrier.write() {
            *g = c;
        }
    }

    fn carrier(&self) -> Arc<dyn Carrier> {
        self.carrier.read().map(|g| g.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// A shipment as shown: personal data masked.
    pub fn shipment_view(&self, s: &ShipmentRow) -> Result<ShipmentView, AppError> {
        Ok(ShipmentView {
            id: s.id.clone(),
            case_no: s.case_no.clone(),
            attempt: s.attempt,
            status: s.status.clone(),
            postage: s.postage.clone(),
            carrier: s.carrier.clone(),
            waybill: s.waybill.clone(),
            address: crate::pd::mask_text(&self.reveal(&s.address).unwrap_or_default()),
            phone: s.phone.as_ref().map(|p| crate::pd::mask_phone(&self.reveal(p).unwrap_or_default())),
            tracking: tracking_of(s)?,
            resends: s.resends.clone(),
            next: s.next.clone(),
            collected_window: s.collected_window.clone(),
            requested_at: from_ms(s.requested_at_ms),
            updated_at: from_ms(s.updated_at_ms),
        })
    }

    /// A case's shipments, for those who may see them (others: "not found").
    pub async fn case_shipments(&self, actor: &Actor, case_no: &str) -> Result<Vec<ShipmentView>, AppError> {
        let (actor, no) = (actor.clone(), case_no.to_string());
        let rows = self
            .store
            .read(move |db| -> Result<Vec<ShipmentRow>, AppError> {
                let st = case_state(db, &no)?;
                if !may_see(&actor, &st) {
                    return Err(AppError::NotFound(format!("case {no}")));
                }
                Ok(db.shipments_of_case(&no)?)
            })
            .await?;
        rows.iter().map(|s| self.shipment_view(s)).collect()
    }

    /// One shipment by its id, for those who may see its case.
    pub async fn shipment(&self, actor: &Actor, id: &str) -> Result<ShipmentView, AppError> {
        let (actor, id) = (actor.clone(), id.to_string());
        let row = self
            .store
            .read(move |db| -> Result<ShipmentRow, AppError> {
                let not_found = || AppError::NotFound(format!("shipment {id}"));
                let s = db.shipment(&id)?.ok_or_else(not_found)?;
                let st = case_state(db, &s.case_no)?;
                if !may_see(&actor, &st) {
                    return Err(not_found());
                }
                Ok(s)
            })
            .await?;
        self.shipment_view(&row)
    }

    /// Shipments back at the window (returned by the carrier), for the window clerks, oldest first.
    pub async fn returned_shipments(&self, actor: &Actor) -> Result<Vec<ShipmentView>, AppError> {
        if !(actor.has(Role::WindowClerk) || actor.has(Role::Supervisor) || actor.has(Role::Administrator)) {
            return Err(AppError::Forbidden("returned shipments are for the window clerks".into()));
        }
        // A window clerk sees those of the point they are posted to; supervisors and administrators all.
        let mine = (!(actor.has(Role::Supervisor) || actor.has(Role::Administrator))).then(|| actor.post.clone());
        let net = self.network();
        let rows = self
            .store
            .read(move |db| -> Result<Vec<ShipmentRow>, AppError> {
                let all = db.shipments_in(&[ShipmentStatus::Returned.as_str()], 500)?;
                let Some(post) = mine else { return Ok(all) };
                let mut out = Vec::new();
                for s in all {
                    let st = case_state(db, &s.case_no)?;
                    if post.is_some() && return_point(&net, &st) == post {
                        out.push(s);
                    }
                }
                Ok(out)
            })
            .await?;
        rows.iter().map(|s| self.shipment_view(s)).collect()
    }

    /// A returned result handed over at a window (a window clerk).
    pub async fn collect_shipment(&self, actor: &Actor, id: &str, window: &str) -> Result<ShipmentView, AppError> {
        if !actor.has(Role::WindowClerk) {
            return Err(AppError::Forbidden("a window clerk hands a returned result over".into()));
        }
        let window = text_ok(window, "窗口 the window", 20)?;
        let (id, actor, at, net) = (id.to_string(), actor.clone(), ms(self.now()), self.network());
        let row = self
            .store
            .write(move |db| -> Result<ShipmentRow, AppError> {
                let old = db.shipment(&id)?.ok_or_else(|| AppError::NotFound(format!("shipment {id}")))?;
                check_return_point(&actor, &net, &case_state(db, &old.case_no)?)?;
                let (seq, s) = record_shipment(db, &id, &ShipmentEvent::Collected { window }, &actor.id, at)?;
                let st = case_state(db, &s.case_no)?;
                if let Some(acct) = &st.applicant.account {
                    notify(
                        db,
                        seq,
                        std::slice::from_ref(acct),
                        &s.case_no,
                        "shipment_collected",
                        "退回的邮件已在窗口领取 the returned result was collected at the window",
                        at,
                    )?;
                }
                Ok(s)
            })
            .await?;
        self.shipment_view(&row)
    }

    /// Send a returned result again (a window clerk): a new shipment, to the same address or a new one, and the
    /// returned one marked as sent again. The waybill is asked for at once.
    pub async fn resend_shipment(
        &self,
        actor: &Actor,
        id: &str,
        address: Option<&str>,
        postage: Option<Postage>,
    ) -> Result<ShipmentView, AppError> {
        if !actor.has(Role::WindowClerk) {
            return Err(AppError::Forbidden("a window clerk sends a returned result again".into()));
        }
        let address = match address.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) if a.chars().count() > MAX_ADDRESS => {
                return Err(AppError::invalid(
                    "invalid_address",
                    format!("邮寄地址过长 the address is at most {MAX_ADDRESS} characters"),
                ))
            }
            Some(a) => Some(self.seal_value(a)?),
            None => None,
        };
        let (id, actor, at, net) = (id.to_string(), actor.clone(), ms(self.now()), self.network());
        let row = self
            .store
            .write(move |db| -> Result<ShipmentRow, AppError> {
                let old = db.shipment(&id)?.ok_or_else(|| AppError::NotFound(format!("shipment {id}")))?;
                let st = case_state(db, &old.case_no)?;
                check_return_point(&actor, &net, &st)?;
                status_of(&old)?.check(&ShipmentEvent::Resent { next: String::new() })?;
                let address = address.or_else(|| Some(old.address.clone()));
                let postage = postage.or_else(|| Postage::parse(&old.postage));
                let new = request_in(db, &st, Some(&old), address, postage, &actor.id, at)?;
                record_shipment(db, &id, &ShipmentEvent::Resent { next: new.id.clone() }, &actor.id, at)?;
                Ok(new)
            })
            .await?;
        let _ = self.dispatch_shipments(100).await;
        let fresh = self.store.read(move |db| db.shipment(&row.id).map_err(AppError::from)).await?;
        self.shipment_view(&fresh.ok_or_else(|| AppError::Internal("resent shipment vanished".into()))?)
    }

    /// Ask the carrier for the waybills of shipments still waiting for one and record them (once across nodes).
    /// Returns how many were issued.
    pub async fn dispatch_shipments(&self, limit: i64) -> Result<usize, AppError> {
        let waiting = self
            .store
            .read(move |db| db.shipments_in(&[ShipmentStatus::Requested.as_str()], limit).map_err(AppError::from))
            .await?;
        if waiting.is_empty() {
            return Ok(0);
        }
        let carrier = self.carrier();
        let mut asks = Vec::new();
        for s in &waiting {
            let postage = Postage::parse(&s.postage).unwrap_or_default();
            let phone = match &s.phone {
                Some(p) => Some(self.reveal(p)?),
                None => None,
            };
            asks.push(WaybillRequest { reference: s.id.clone(), address: self.reveal(&s.address)?, phone, postage });
        }
        let c = carrier.clone();
        let answers = tokio::task::spawn_blocking(move || {
            asks.iter().map(|a| (a.reference.clone(), c.create_waybill(a))).collect::<Vec<_>>()
        })
        .await
        .map_err(|e| AppError::Internal(format!("carrier: {e}")))?;
        let name = carrier.name().to_string();
        let at = ms(self.now());
        self.store
            .write(move |db| -> Result<usize, AppError> {
                db.claim_work("dispatch_shipments")?;
                let mut n = 0;
                for (id, answer) in answers {
                    let Ok(waybill) = answer else { continue };
                    let still = db.shipment(&id)?.is_some_and(|s| s.status == ShipmentStatus::Requested.as_str());
                    if still {
                        let ev = ShipmentEvent::WaybillIssued { carrier: name.clone(), waybill };
                        record_shipment(db, &id, &ev, "post", at)?;
                        n += 1;
                    }
                }
                Ok(n)
            })
            .await
    }

    /// Poll the carrier for the shipments with it and record each new report once (several nodes may run this:
    /// the reports are compared with the recorded ones inside the write job that claims the work). A returned
    /// shipment notifies the window clerks of the point it goes back to and the applicant; a delivered one the applicant. Returns how many
    /// reports were recorded.
    pub async fn track_shipments(&self, limit: i64) -> Result<usize, AppError> {
        let open: Vec<&str> = ShipmentStatus::ALL.iter().filter(|s| s.in_transit()).map(|s| s.as_str()).collect();
        let open: Vec<String> = open.into_iter().map(String::from).collect();
        let rows = self
            .store
            .read(move |db| {
                let names: Vec<&str> = open.iter().map(String::as_str).collect();
                db.shipments_in(&names, limit).map_err(AppError::from)
            })
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let carrier = self.carrier();
        let now = self.now();
        let asks: Vec<(String, String, i64)> =
            rows.iter().filter_map(|s| Some((s.id.clone(), s.waybill.clone()?, s.shipped_at_ms?))).collect();
        let reports = tokio::task::spawn_blocking(move || {
            asks.into_iter()
                .filter_map(|(id, w, at)| carrier.tracking(&w, from_ms(at), now).ok().map(|r| (id, r)))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| AppError::Internal(format!("carrier: {e}")))?;
        let (at, net) = (ms(now), self.network());
        self.store
            .write(move |db| -> Result<usize, AppError> {
                db.claim_work("track_shipments")?;
                let mut n = 0;
                for (id, reported) in reports {
                    let Some(s) = db.shipment(&id)? else { continue };
                    for t in new_reports(&tracking_of(&s)?, &reported) {
                        let Some(s) = db.shipment(&id)? else { break };
                        if !status_of(&s)?.in_transit() {
                            break;
                        }
                        let stage = t.stage;
                        let (seq, s) = record_shipment(db, &id, &ShipmentEvent::Tracked { tracking: t }, "post", at)?;
                        n += 1;
                        let st = case_state(db, &s.case_no)?;
                        let applicant = st.applicant.account.clone();
                        match stage {
                            Stage::Returned => {
                                // Only the clerks of the point the result goes back to are told.
                                let clerks = match return_point(&net, &st) {
                                    Some(p) => db.accounts_posted_at(Role::WindowClerk.as_str(), &p)?,
                                    None => Vec::new(),
                                };
                                let msg = format!(
                                    "邮件被退回，结果已回到窗口（可领取或重新寄送）运单 {} returned: the result is back at the window (collect or send again)",
                                    s.waybill.as_deref().unwrap_or("")
                                );
                                notify(db, seq, &clerks, &s.case_no, "shipment_returned", &msg, at)?;
                                if let Some(a) = &applicant {
                                    notify(db, seq, std::slice::from_ref(a), &s.case_no, "shipment_returned", &msg, at)?;
                                }
                            }
                            Stage::Delivered => {
                                if let Some(a) = &applicant {
                                    let msg = "办理结果已签收 the result was delivered";
                                    notify(db, seq, std::slice::from_ref(a), &s.case_no, "shipment_delivered", msg, at)?;
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Ok(n)
            })
            .await
    }

    /// One round of the postal worker: waybills for new shipments, then tracking.
    pub async fn run_shipments_once(&self) -> Result<(usize, usize), AppError> {
        let issued = self.dispatch_shipments(500).await?;
        let tracked = self.track_shipments(2000).await?;
        Ok((issued, tracked))
    }
}
