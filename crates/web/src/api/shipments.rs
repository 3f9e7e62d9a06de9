//! Postal delivery (邮政寄送): a case's shipments with their tracking, the shipments back at the window, and the
//! window's two answers to a returned one — hand the result over, or send it again.

use super::*;

use oneseal_domain::shipment::Postage;

/// A shipment id as it appears in a path (`shipment-YC…-1`); anything else is an unknown shipment.
fn shipment_id(id: &str) -> Result<String, ApiError> {
    let ok =
        id.len() <= 60 && id.starts_with("shipment-") && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(id.to_string())
    } else {
        Err(AppError::NotFound(format!("shipment {id}")).into())
    }
}

pub(super) async fn case_shipments(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
) -> Res {
    let list = s.app.case_shipments(&actor, case_no(&no)?.as_str()).await?;
    Ok(Json(json!({ "shipments": list })).into_response())
}

pub(super) async fn returned_shipments(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.returned_shipments(&actor).await?;
    Ok(Json(json!({ "shipments": list })).into_response())
}

pub(super) async fn get_shipment(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
) -> Res {
    Ok(Json(s.app.shipment(&actor, &shipment_id(&id)?).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CollectBody {
    pub(super) window: String,
}

pub(super) async fn collect_shipment(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CollectBody>,
) -> Res {
    Ok(Json(s.app.collect_shipment(&actor, &shipment_id(&id)?, &b.window).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResendBody {
    /// A new address; absent: the same one.
    #[serde(default)]
    pub(super) address: Option<String>,
    #[serde(default)]
    pub(super) postage: Option<Postage>,
}

pub(super) async fn resend_shipment(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ResendBody>,
) -> Res {
    let v = s.app.resend_shipment(&actor, &shipment_id(&id)?, b.address.as_deref(), b.postage).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}
