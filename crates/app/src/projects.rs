//! 工程建设项目 (construction projects): registration by the owner (建设单位), the stages of its type (compiled
//! from `catalog/project-types/`, copied into the project when it is registered), one form per stage whose one
//! submission starts every case of the stage that can start now — in one transaction, so either all start or
//! none — materials given once and carried to every later case, licences of earlier stages reused (免提交), the
//! assistants (代办员) the owner authorises, the green channel, and the project's clocks and timeline.
//!
//! A project is the stream `project-{code}`; `project` is its projection function (commands and `rebuild`).

use std::collections::BTreeMap;

use oneseal_domain::case::{ApplicantKind, CaseEvent, CaseState, Channel, MaterialRef, Subject};
use oneseal_domain::catalog::{FormSchema, Material};
use oneseal_domain::clock::SuspensionKind;
use oneseal_domain::party::ClearId;
use oneseal_domain::project::{
    self, CaseTimes, ProjectClock, ProjectCode, ProjectEvent, ProjectState, ProjectType, Stage, StageCase,
};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{Db, ProjectRow, StoredEvent};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cases::{ApplicantInput, Receipt, SubmitRequest};
use crate::streams::{decode, record_at, text_ok};
use crate::{from_ms, ms, App, AppError};

/// The stream id of a project.
pub fn stream_of(code: &ProjectCode) -> String {
    format!("project-{code}")
}

/// A project code from a path or a body: a malformed one is 422 with its reason.
pub fn parse_code(s: &str) -> Result<ProjectCode, AppError> {
    Ok(ProjectCode::parse(s)?)
}

/// A project's state as its row holds it.
pub(crate) fn state_of(row: &ProjectRow) -> Result<ProjectState, AppError> {
    serde_json::from_str(&row.state).map_err(|e| AppError::Internal(format!("project {}: {e}", row.code)))
}

/// Fold one stored event of a project into its row (commands and `rebuild`).
pub(crate) fn project(db: &mut Db, e: &StoredEvent) -> Result<ProjectState, AppError> {
    let ev: ProjectEvent = decode(e)?;
    let code = e.stream_id.trim_start_matches("project-");
    let before = db.project(code)?.map(|row| state_of(&row)).transpose()?;
    let st = project::apply(before, &ev, from_ms(e.at_ms))
        .ok_or_else(|| AppError::Internal(format!("{}: an event before the project's registration", e.stream_id)))?;
    let row = ProjectRow {
        code: st.code.to_string(),
        name: st.name.clone(),
        project_type: st.project_type.code.clone(),
        owner_account: st.owner_account.clone(),
        owner_uscc: st.owner_uscc.clone(),
        registered_at_ms: ms(st.registered_at),
        version: st.version as i64,
        state: serde_json::to_string(&st).map_err(|x| AppError::Internal(x.to_string()))?,
        updated_at_ms: e.at_ms,
    };
    db.put_project(&row, &st.assistants)?;
    let parts: Vec<(String, String, String)> = st
        .evaluation
        .iter()
        .flat_map(|e| e.parts.iter())
        .map(|p| (p.part.kind.clone(), p.part.department.as_str().to_string(), p.status.as_str().to_string()))
        .collect();
    db.put_project_parts(&row.code, &parts, e.at_ms)?;
    if let ProjectEvent::StageStarted { cases, .. } = &ev {
        db.put_project_cases(code, &cases.iter().map(|c| c.case_no.as_str()).collect::<Vec<_>>())?;
    }
    Ok(st)
}

/// What the owner gives to register a project.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterProject {
    pub code: String,
    pub name: String,
    pub project_type: String,
    /// The owner organisation (建设单位): its USCC, which the caller must act for.
    pub owner_uscc: String,
    pub owner_name: String,
    pub location: String,
    pub floor_area_m2: f64,
    pub investment_wan: f64,
}

/// One submission of a stage's form (一阶段一表).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSubmission {
    #[serde(default)]
    pub form: Map<String, Value>,
    #[serde(default)]
    pub materials: Vec<MaterialRef>,
    /// The owner's contact phone for the cases.
    #[serde(default)]
    pub phone: Option<String>,
}

/// An item of a stage as the owner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct StageItemView {
    pub item: String,
    pub name: String,
    pub department: String,
    pub after: Vec<String>,
    pub case_no: Option<String>,
    pub status: Option<String>,
}

/// A stage: its items with their cases, whether a submission would start something now, and its form.
#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    pub stage: Stage,
    pub name: String,
    pub name_en: String,
    pub limit_days: u32,
    pub items: Vec<StageItemView>,
    /// The items a submission starts now (empty: nothing can start).
    pub startable: Vec<String>,
    /// Why nothing can start, when nothing can.
    pub waiting: Option<String>,
}

/// A project as its owner, its assistants and supervisors see it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectView {
    #[serde(flatten)]
    pub state: ProjectState,
    pub type_name: String,
    pub stage_views: Vec<StageView>,
    pub clock: ProjectClock,
}

/// A project in a list.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectSummary {
    pub code: String,
    pub name: String,
    pub project_type: String,
    pub owner_uscc: String,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: time::OffsetDateTime,
    /// 多评合一: for a reviewing department's staff, how many parts of the project's combined evaluation wait for
    /// their department's review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews_waiting: Option<i64>,
}

/// The answer to a stage's submission: a receipt per case started.
#[derive(Debug, Clone, Serialize)]
pub struct StageReceipt {
    pub stage: Stage,
    pub receipts: Vec<Receipt>,
}

/// Who may see a project: the owner's representatives and agents (also those who only follow), its assistants,
/// the staff of the departments reviewing a part of its combined evaluation (多评合一), supervisors and
/// administrators. Everyone else gets "not found".
pub fn may_see(actor: &Actor, st: &ProjectState) -> bool {
    actor.sees_as_applicant(Some(&st.owner_account), Some(&st.owner_uscc))
        || st.assistants.iter().any(|a| a == &actor.id)
        || crate::assessments::reviews_part(actor, st)
        || actor.has(Role::Supervisor)
        || actor.has(Role::Administrator)
}

/// Who may act for a project: those who act for the owner, and its assistants (recorded as on behalf of it).
pub fn may_act(actor: &Actor, st: &ProjectState) -> bool {
    actor.acts_for.iter().any(|u| u == &st.owner_uscc) || st.assistants.iter().any(|a| a == &actor.id)
}

pub(crate) fn owner_acts(actor: &Actor, st: &ProjectState) -> bool {
    actor.acts_for.iter().any(|u| u == &st.owner_uscc)
}

/// The working days not counted in a case (§45), by kind, from its events: each suspension's kind and the days
/// its resumption counted.
fn excluded_of(events: &[StoredEvent]) -> Result<BTreeMap<String, u32>, AppError> {
    let mut out = BTreeMap::new();
    let mut kind: Option<SuspensionKind> = None;
    for e in events {
        match crate::cases::recorded(e)?.event {
            CaseEvent::Suspended { kind: k, .. } => kind = Some(k),
            CaseEvent::Resumed { suspended_days, .. } => {
                let k = kind.take().map_or("other", project::excluded_kind);
                *out.entry(k.to_string()).or_insert(0) += suspended_days;
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A project's state and the state of each of its cases, read together.
pub(crate) type Loaded = (ProjectState, i64, Vec<(CaseState, BTreeMap<String, u32>)>);

pub(crate) fn load(db: &mut Db, code: &ProjectCode) -> Result<Loaded, AppError> {
    let row = db.project(code.as_str())?.ok_or_else(|| AppError::NotFound(format!("project {code}")))?;
    let st = state_of(&row)?;
    let mut cases = Vec::new();
    for c in st.cases() {
        let no = crate::cases::stored_case_no(&c.case_no)?;
        let (cs, _) = crate::cases::load_state(db, &no)?;
        let events = db.read_stream(&crate::cases::stream_of(&no))?;
        cases.push((cs, excluded_of(&events)?));
    }
    Ok((st, row.version, cases))
}

/// The cases as the project's clocks need them.
pub(crate) fn times_of(cases: &[(CaseState, BTreeMap<String, u32>)]) -> Vec<CaseTimes> {
    cases
        .iter()
        .map(|(c, excluded)| CaseTimes {
            case_no: c.case_no.as_str().to_string(),
            item: c.subject.code().to_string(),
            title: c.title.clone(),
            status: c.status.as_str().to_string(),
            submitted_at: c.submitted_at,
            finished_at: c.finished_at,
            excluded: excluded.clone(),
        })
        .collect()
}

fn statuses(cases: &[(CaseState, BTreeMap<String, u32>)]) -> BTreeMap<String, String> {
    cases.iter().map(|(c, _)| (c.case_no.as_str().to_string(), c.status.as_str().to_string())).collect()
}

impl App {
    /// The latest published version of a project type (the catalog checked its items when it was published).
    fn project_type(&self, code: &str) -> Result<ProjectType, AppError> {
        self.catalog()
            .latest_project_type(code)
            .map(|p| p.body.clone())
            .ok_or_else(|| AppError::invalid("unknown_project_type", format!("no project type {code}")))
    }

    /// The project types as published (latest versions), for the registration form.
    pub fn project_types(&self) -> Vec<ProjectType> {
        self.catalog().project_types.values().filter_map(|v| v.last()).map(|p| p.body.clone()).collect()
    }

    /// Register a project (项目登记) for an organisation the caller acts for; the code is unique.
    pub async fn register_project(&self, actor: &Actor, req: RegisterProject) -> Result<ProjectState, AppError> {
        let code = parse_code(req.code.trim())?;
        if !actor.has(Role::Applicant) || !actor.acts_for.iter().any(|u| u == req.owner_uscc.trim()) {
            return Err(AppError::Forbidden(
                "a project is registered by its owner's legal representative or an agent authorised to apply".into(),
            ));
        }
        let uscc = ClearId::parse(ApplicantKind::Organisation, req.owner_uscc.trim())
            .map_err(|e| AppError::invalid(e.code(), format!("owner_uscc: {e}")))?;
        let ok = |x: f64| x.is_finite() && x > 0.0 && x < 1e9;
        if !ok(req.floor_area_m2) || !ok(req.investment_wan) {
            return Err(AppError::invalid("invalid_size", "floor_area_m2 and investment_wan are positive numbers"));
        }
        let event = ProjectEvent::ProjectRegistered {
            name: text_ok(&req.name, "name", 200)?,
            project_type: Box::new(self.project_type(req.project_type.trim())?),
            owner_account: actor.id.clone(),
            owner_uscc: uscc.as_str().to_string(),
            owner_name: text_ok(&req.owner_name, "owner_name", 100)?,
            location: text_ok(&req.location, "location", 200)?,
            floor_area_m2: req.floor_area_m2,
            investment_wan: req.investment_wan,
            code: code.clone(),
        };
        let (me, at) = (actor.id.clone(), ms(self.now()));
        self.store
            .write(move |db| -> Result<ProjectState, AppError> {
                let stream = stream_of(&code);
                if db.stream_version(&stream)? > 0 {
                    return Err(AppError::Conflict {
                        code: "project_exists",
                        message: format!("project {code} is registered already"),
                        title_zh: "项目已登记",
                    });
                }
                let e = record_at(db, &stream, 0, &event, &me, at)?;
                project(db, &e)
            })
            .await
    }

    /// The projects the actor may see: their organisations' and those they assist; for a reviewing department's
    /// staff, the projects whose combined evaluation has a part of their department's (those waiting first).
    pub async fn projects(&self, actor: &Actor) -> Result<Vec<ProjectSummary>, AppError> {
        let owners: Vec<String> = actor.acts_for.iter().chain(actor.follows.iter()).cloned().collect();
        let me = actor.id.clone();
        let department = actor.department.as_ref().filter(|_| actor.is_staff()).map(|d| d.as_str().to_string());
        let (rows, reviewed) = self
            .store
            .read(move |db| -> Result<_, AppError> {
                let reviewed = match department {
                    Some(d) => db.projects_reviewed_by(&d, 200)?,
                    None => Vec::new(),
                };
                Ok((db.projects_of(&owners, &me, 200)?, reviewed))
            })
            .await?;
        let summary = |r: ProjectRow, reviews_waiting: Option<i64>| ProjectSummary {
            code: r.code,
            name: r.name,
            project_type: r.project_type,
            owner_uscc: r.owner_uscc,
            registered_at: from_ms(r.registered_at_ms),
            reviews_waiting,
        };
        let mut out: Vec<ProjectSummary> = reviewed.into_iter().map(|(r, w)| summary(r, Some(w))).collect();
        for r in rows {
            if !out.iter().any(|x| x.code == r.code) {
                out.push(summary(r, None));
            }
        }
        Ok(out)
    }

    /// A project with its stages, cases and clocks.
    pub async fn project_view(&self, actor: &Actor, code: &str) -> Result<ProjectView, AppError> {
        let code = parse_code(code)?;
        let (st, _, cases) = self.store.read(move |db| load(db, &code)).await?;
        if !may_see(actor, &st) {
            return Err(AppError::NotFound(format!("project {}", st.code)));
        }
        let status = statuses(&cases);
        let view = self.catalog();
        let mut stage_views = Vec::new();
        for def in &st.project_type.stages {
            let items = def
                .items
                .iter()
                .map(|i| {
                    let case = st.cases().filter(|c| c.item == i.item).last();
                    let p = view.latest_item(&i.item);
                    StageItemView {
                        item: i.item.clone(),
                        name: p.map(|p| p.body.name.clone()).unwrap_or_default(),
                        department: p.map(|p| view.department_name(p.body.department.as_str())).unwrap_or_default(),
                        after: i.after.clone(),
                        case_no: case.map(|c| c.case_no.clone()),
                        status: case.and_then(|c| status.get(&c.case_no).cloned()),
                    }
                })
                .collect();
            let (startable, waiting) = match project::items_to_start(&st, def.stage, &status) {
                Ok(x) => (x, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            stage_views.push(StageView {
                stage: def.stage,
                name: def.name.clone(),
                name_en: def.name_en.clone(),
                limit_days: project::stage_limit(&st, def),
                items,
                startable,
                waiting,
            });
        }
        let clock = project::clock(&st, &times_of(&cases), self.now(), &self.calendar())?;
        Ok(ProjectView { type_name: st.project_type.name.clone(), state: st, stage_views, clock })
    }

    /// The one form of a stage (一表通): the items' forms merged, without what the project already knows; and the
    /// materials the stage's items ask for, less those the project already has.
    pub async fn stage_form(
        &self,
        actor: &Actor,
        code: &str,
        stage: &str,
    ) -> Result<(FormSchema, Vec<Material>), AppError> {
        let stage = Stage::parse(stage).ok_or_else(|| AppError::NotFound(format!("stage {stage}")))?;
        let code = parse_code(code)?;
        let (st, _, cases) = self.store.read(move |db| load(db, &code)).await?;
        if !may_see(actor, &st) {
            return Err(AppError::NotFound(format!("project {}", st.code)));
        }
        let view = self.catalog();
        // Licences the project's completed cases issued stand for the materials they replace (免提交).
        let issued: Vec<String> = cases
            .iter()
            .filter(|(c, _)| c.status.as_str() == "completed")
            .filter_map(|(c, _)| view.latest_item(c.subject.code()))
            .flat_map(|p| p.body.results.iter().filter_map(|r| r.license_type.clone()))
            .collect();
        let def =
            st.project_type.stage(stage).ok_or_else(|| AppError::NotFound(format!("stage {}", stage.as_str())))?;
        let items: Vec<_> = def.items.iter().filter_map(|i| view.latest_item(&i.item)).collect();
        let mut form = FormSchema::merge(items.iter().map(|p| &p.body.form));
        form.fields.retain(|f| !PROJECT_FIELDS.contains(&f.key.as_str()));
        let mut materials: Vec<Material> = Vec::new();
        for p in &items {
            for m in &p.body.materials {
                let known = st.materials.iter().any(|x| x.material_id == m.id)
                    || evaluation_stands_for(&st, m).is_some()
                    || m.id == APPLICATION_FORM
                    || m.license_substitutes.iter().any(|l| issued.contains(l));
                if !known && !materials.iter().any(|x| x.id == m.id) {
                    materials.push(m.clone());
                }
            }
        }
        Ok((form, materials))
    }

    /// Submit a stage's form once: every item of the stage that can start now starts a case, in one transaction.
    /// The project's own data fills the shared fields; materials given before are carried; licences of earlier
    /// stages stand for the materials they replace (免提交).
    pub async fn start_stage(
        &self,
        actor: &Actor,
        code: &str,
        stage: &str,
        sub: StageSubmission,
    ) -> Result<StageReceipt, AppError> {
        let stage = Stage::parse(stage).ok_or_else(|| AppError::NotFound(format!("stage {stage}")))?;
        let code = parse_code(code)?;
        let (st, version, cases) = {
            let code = code.clone();
            self.store.read(move |db| load(db, &code)).await?
        };
        if !may_see(actor, &st) {
            return Err(AppError::NotFound(format!("project {code}")));
        }
        if !may_act(actor, &st) {
            return Err(AppError::Forbidden("only the owner or an assistant it authorised acts for a project".into()));
        }
        let items = project::items_to_start(&st, stage, &statuses(&cases))?;
        // The owner applies; an assistant applies for the owner (recorded as on behalf of it).
        let assisted = !owner_acts(actor, &st);
        let applicant = Actor {
            id: actor.id.clone(),
            display_name: actor.display_name.clone(),
            roles: vec![Role::Applicant],
            department: None,
            acts_for: vec![st.owner_uscc.clone()],
            follows: vec![],
            post: None,
        };
        let mut given = sub.materials;
        for m in &mut given {
            m.digest = None;
        }
        let view = self.catalog();
        let mut prepared = Vec::new();
        for item in &items {
            let p = view.latest_item(item).ok_or_else(|| AppError::NotFound(format!("item {item}")))?;
            let def = view.definition(&Subject::Item { code: item.clone(), version: p.version })?;
            let mut form: Map<String, Value> = sub
                .form
                .iter()
                .filter(|(k, _)| def.form.fields.iter().any(|f| &f.key == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (k, v) in [
                ("enterprise_name", st.owner_name.clone()),
                ("uscc", st.owner_uscc.clone()),
                ("project_name", st.name.clone()),
                ("project_code", st.code.to_string()),
            ] {
                if def.form.fields.iter().any(|f| f.key == k) {
                    form.insert(k.to_string(), Value::String(v));
                }
            }
            let wanted = |m: &MaterialRef| def.materials.iter().any(|x| x.id == m.material_id);
            let mut materials: Vec<MaterialRef> = given.iter().filter(|m| wanted(m)).cloned().collect();
            // The stage's one form is each item's application form (一表通在线填写生成).
            if def.materials.iter().any(|m| m.id == APPLICATION_FORM)
                && !materials.iter().any(|m| m.material_id == APPLICATION_FORM)
            {
                materials.push(MaterialRef {
                    material_id: APPLICATION_FORM.into(),
                    file_name: format!("一表通 {} {}", st.code, stage.as_str()),
                    license: None,
                    attachment: None,
                    digest: None,
                });
            }
            // 多评合一: the passed combined report stands for its assessments' materials; then what the project
            // was given before.
            let mut carried: Vec<MaterialRef> = def
                .materials
                .iter()
                .filter(|m| !materials.iter().any(|x| x.material_id == m.id))
                .filter_map(|m| evaluation_stands_for(&st, m))
                .collect();
            for m in &st.materials {
                let given = |x: &MaterialRef| x.material_id == m.material_id;
                if wanted(m) && !materials.iter().any(given) && !carried.iter().any(given) {
                    carried.push(m.clone());
                }
            }
            let req = SubmitRequest {
                item_code: Some(item.clone()),
                bundle_code: None,
                channel: Some(Channel::Online),
                service_point: None,
                applicant: ApplicantInput {
                    kind: ApplicantKind::Organisation,
                    name: st.owner_name.clone(),
                    id_number: st.owner_uscc.clone(),
                    phone: sub.phone.clone(),
                    account: None,
                },
                form,
                materials,
            };
            let id = ClearId::parse(ApplicantKind::Organisation, &st.owner_uscc)
                .map_err(|e| AppError::Internal(format!("stored owner USCC: {e}")))?;
            let mut p = self
                .prepare_submission(&applicant, def, req, Channel::Online, Some(st.owner_account.clone()), id)
                .await?;
            p.carried = carried;
            prepared.push(p);
        }
        let query_codes = prepared.iter().map(|_| crate::cases::new_query_code()).collect::<Result<Vec<_>, _>>()?;
        let (app, now, me) = (self.clone(), self.now(), actor.id.clone());
        let on_behalf_of = assisted.then(|| st.owner_account.clone());
        self.store
            .write(move |db| -> Result<StageReceipt, AppError> {
                let mut receipts = Vec::new();
                let mut started = Vec::new();
                let mut kept: Vec<MaterialRef> = Vec::new();
                for (p, q) in prepared.into_iter().zip(query_codes) {
                    let item = p.def.subject.code().to_string();
                    let r = crate::cases::submit_in(&app, db, p, &applicant, &me, q, now)?;
                    let (cs, _) = crate::cases::load_state(db, &r.case_no)?;
                    for m in cs.materials.iter().filter(|m| m.license.is_none() && m.material_id != APPLICATION_FORM) {
                        kept.retain(|x| x.material_id != m.material_id);
                        kept.push(m.clone());
                    }
                    started.push(StageCase { item, case_no: r.case_no.as_str().to_string() });
                    receipts.push(r);
                }
                let event = ProjectEvent::StageStarted { stage, cases: started, materials: kept, on_behalf_of };
                let e = record_at(db, &stream_of(&st.code), version, &event, &me, ms(now))?;
                project(db, &e)?;
                Ok(StageReceipt { stage, receipts })
            })
            .await
    }

    /// The owner authorises (or revokes) a bureau assistant (代办员) for the project: a staff account.
    pub async fn set_assistant(
        &self,
        actor: &Actor,
        code: &str,
        assistant: &str,
        on: bool,
    ) -> Result<ProjectState, AppError> {
        let assistant = assistant.trim().to_string();
        let account = {
            let a = assistant.clone();
            self.store.read(move |db| db.get_account(&a).map_err(AppError::from)).await?
        };
        let staff = account.is_some_and(|a| a.active && a.roles.split(',').any(|r| !r.is_empty() && r != "applicant"));
        if !staff {
            return Err(AppError::invalid(
                "unknown_assistant",
                format!("{assistant} is not a staff account of the bureau"),
            ));
        }
        self.project_command(actor, code, move |_, actor, st| {
            if !owner_acts(actor, st) {
                return Err(AppError::Forbidden("only the owner authorises assistants".into()));
            }
            Ok(if on {
                ProjectEvent::AssistantAuthorised { assistant }
            } else {
                ProjectEvent::AssistantRevoked { assistant }
            })
        })
        .await
    }

    /// One command on a project: in one write job, the project as it is now (404 for whom may not see it), the
    /// event `decide` makes of it (or its refusal, writing nothing), appended at the version it was decided on and
    /// folded into the row.
    pub(crate) async fn project_command(
        &self,
        actor: &Actor,
        code: &str,
        decide: impl FnOnce(&mut Db, &Actor, &ProjectState) -> Result<ProjectEvent, AppError> + Send + 'static,
    ) -> Result<ProjectState, AppError> {
        let code = parse_code(code)?;
        let (actor, at) = (actor.clone(), ms(self.now()));
        self.store
            .write(move |db| -> Result<ProjectState, AppError> {
                let row = db.project(code.as_str())?.ok_or_else(|| AppError::NotFound(format!("project {code}")))?;
                let st = state_of(&row)?;
                if !may_see(&actor, &st) {
                    return Err(AppError::NotFound(format!("project {code}")));
                }
                let event = decide(db, &actor, &st)?;
                let e = record_at(db, &stream_of(&code), row.version, &event, &actor.id, at)?;
                project(db, &e)
            })
            .await
    }

    /// 绿色通道: an administrator puts a project on (or off) the green channel, with a reason.
    pub async fn set_green_channel(
        &self,
        actor: &Actor,
        code: &str,
        on: bool,
        reason: &str,
    ) -> Result<ProjectState, AppError> {
        if !actor.has(Role::Administrator) {
            return Err(AppError::Forbidden("the green channel is set by the bureau's administrators".into()));
        }
        let code = parse_code(code)?;
        let reason = text_ok(reason, "reason", 500)?;
        let (me, at) = (actor.id.clone(), ms(self.now()));
        self.store
            .write(move |db| -> Result<ProjectState, AppError> {
                let row = db.project(code.as_str())?.ok_or_else(|| AppError::NotFound(format!("project {code}")))?;
                let e = record_at(
                    db,
                    &stream_of(&code),
                    row.version,
                    &ProjectEvent::GreenChannelSet { on, reason },
                    &me,
                    at,
                )?;
                project(db, &e)
            })
            .await
    }
}

/// The construction projects registered since `since_ms` as the "1230" figures measure them: the end of the
/// 施工许可 stage (the construction permit) and of the 竣工验收 stage — the last completion among each stage's
/// items, once every item of the stage has a completed case.
pub(crate) fn project_facts(
    db: &mut Db,
    since_ms: i64,
) -> Result<Vec<oneseal_domain::dashboard::ProjectFact>, AppError> {
    let mut out = Vec::new();
    for row in db.projects_since(since_ms)? {
        let st = state_of(&row)?;
        let nos: Vec<&str> = st.cases().map(|c| c.case_no.as_str()).collect();
        let cases = db.get_cases(&nos)?;
        let end = |stage: Stage| -> Option<time::OffsetDateTime> {
            let def = st.project_type.stage(stage)?;
            let mut last = None;
            for i in &def.items {
                let done = st
                    .cases()
                    .filter(|c| c.item == i.item)
                    .filter_map(|c| cases.get(&c.case_no))
                    .filter(|r| r.status == "completed")
                    .filter_map(|r| r.finished_at_ms)
                    .max()?;
                last = last.max(Some(done));
            }
            last.map(from_ms)
        };
        out.push(oneseal_domain::dashboard::ProjectFact {
            permit_at: end(Stage::Construction),
            completed_at: end(Stage::Completion),
            code: row.code,
            registered_at: from_ms(row.registered_at_ms),
        });
    }
    Ok(out)
}

/// The passed combined evaluation's report as a material of `m` when `m` is the report of one of its assessments
/// (免提交): the report's file and its SHA-256, as the server set it.
fn evaluation_stands_for(st: &ProjectState, m: &Material) -> Option<MaterialRef> {
    let kind = m.assessment.as_deref()?;
    let r = st.evaluation.as_ref()?.stands_for(kind)?;
    Some(MaterialRef {
        material_id: m.id.clone(),
        file_name: r.file.file_name.clone(),
        license: None,
        attachment: Some(r.file.attachment.clone()),
        digest: Some(r.file.sha256.clone()),
    })
}

/// The material every item's one form stands for.
const APPLICATION_FORM: &str = "application-form";

/// Form fields the project fills in itself.
const PROJECT_FIELDS: &[&str] = &["enterprise_name", "uscc", "project_name", "project_code"];
