//! 工程建设项目 (construction projects): the project types, registering a project, the owner's and assistant's
//! projects, a project with its stages and clocks, a stage's one form, one submission per stage, the assistants
//! the owner authorises, the green channel, and the combined evaluation (多评合一): commissioning it, its report,
//! each department's review of its part.

use super::*;

use oneseal_app::assessments::CommissionRequest;
use oneseal_app::projects::{RegisterProject, StageSubmission};

pub(super) async fn project_types(State(s): State<AppState>, Authed(_actor, _): Authed) -> Res {
    Ok(Json(json!({ "project_types": s.app.project_types() })).into_response())
}

/// Every published version of a project type, oldest first, with who published it, when and why.
pub(super) async fn project_type_versions(
    State(s): State<AppState>,
    Authed(_actor, _): Authed,
    ApiPath(code): ApiPath<String>,
) -> Res {
    let view = s.app.catalog();
    let versions = view.project_types.get(&code).ok_or_else(|| AppError::NotFound(format!("project type {code}")))?;
    Ok(Json(json!({ "code": code, "versions": versions })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PublishProjectType {
    project_type: oneseal_domain::project::ProjectType,
    reason: String,
}

/// Publish a new version of a project type (bureau administrators); projects already registered keep theirs.
pub(super) async fn publish_project_type(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<PublishProjectType>,
) -> Res {
    if b.project_type.code != code {
        return Err(Problem::unprocessable("code_mismatch", "the project type's code differs from the address").into());
    }
    let v = s.app.publish_project_type(b.project_type, &actor.id, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(json!({ "code": code, "version": v }))).into_response())
}

pub(super) async fn list_projects(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    Ok(Json(json!({ "projects": s.app.projects(&actor).await? })).into_response())
}

pub(super) async fn register_project(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<RegisterProject>,
) -> Res {
    let st = s.app.register_project(&actor, b).await?;
    Ok((StatusCode::CREATED, Json(st)).into_response())
}

pub(super) async fn get_project(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
) -> Res {
    Ok(Json(s.app.project_view(&actor, &code).await?).into_response())
}

pub(super) async fn stage_form(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((code, stage)): ApiPath<(String, String)>,
) -> Res {
    let (form, materials) = s.app.stage_form(&actor, &code, &stage).await?;
    Ok(Json(json!({ "form": form, "materials": materials })).into_response())
}

pub(super) async fn start_stage(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((code, stage)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<StageSubmission>,
) -> Res {
    let r = s.app.start_stage(&actor, &code, &stage, b).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssistantBody {
    assistant: String,
    #[serde(default = "yes")]
    authorised: bool,
}

fn yes() -> bool {
    true
}

pub(super) async fn set_assistant(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<AssistantBody>,
) -> Res {
    Ok(Json(s.app.set_assistant(&actor, &code, &b.assistant, b.authorised).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GreenBody {
    on: bool,
    reason: String,
}

pub(super) async fn set_green_channel(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<GreenBody>,
) -> Res {
    Ok(Json(s.app.set_green_channel(&actor, &code, b.on, &b.reason).await?).into_response())
}

pub(super) async fn get_evaluation(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
) -> Res {
    Ok(Json(s.app.evaluation_view(&actor, &code).await?).into_response())
}

pub(super) async fn commission_evaluation(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<CommissionRequest>,
) -> Res {
    s.app.commission_evaluation(&actor, &code, b).await?;
    Ok((StatusCode::CREATED, Json(s.app.evaluation_view(&actor, &code).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportBody {
    /// An uploaded file's id (`POST /api/v1/attachments`): the report, a PDF.
    attachment: String,
}

pub(super) async fn submit_evaluation_report(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<ReportBody>,
) -> Res {
    s.app.submit_evaluation_report(&actor, &code, &b.attachment).await?;
    Ok(Json(s.app.evaluation_view(&actor, &code).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportQuery {
    round: Option<u32>,
}

pub(super) async fn get_evaluation_report(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Res {
    let (meta, bytes) = s.app.evaluation_report(&actor, &code, q.round).await?;
    Ok(file_response(&meta, bytes))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewBody {
    /// `passed` or `returned`.
    outcome: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn review_assessment(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((code, kind)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Res {
    s.app.review_assessment(&actor, &code, &kind, &b.outcome, &b.reason).await?;
    Ok(Json(s.app.evaluation_view(&actor, &code).await?).into_response())
}
