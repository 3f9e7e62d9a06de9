//! The service catalog (事项库): items, their standard guides, materials, form schemas, process definitions and bundles.
//!
//! Everything here is plain data, deserialised from the reviewed files under `catalog/` and from catalog events.
//! `validate` checks the rules a published version must keep (promised ≤ statutory, depth IV ⇒ zero visits, a
//! process that starts with intake, form fields with unique shared keys, …) so that a bad catalog file is refused
//! with the name of what is wrong instead of producing cases that cannot be handled.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{DepartmentId, ItemCode, Uscc};
use crate::roles::Role;

/// 事项类型: the kind of government power or service an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// 行政许可
    Licensing,
    /// 行政确认
    Confirmation,
    /// 行政给付
    Benefit,
    /// 行政裁决
    Adjudication,
    /// 行政奖励
    Award,
    /// 行政备案: file and start, no approval (审批改备案).
    Filing,
    /// 其他行政权力
    OtherPower,
    /// 公共服务
    PublicService,
}

/// 即办件 / 承诺件.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handling {
    /// Done on the spot; its limit is counted in minutes.
    Immediate,
    /// Done within a promised limit counted in working days.
    Promised,
}

/// 服务承诺标签 shown on guides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    /// 马上办
    OnTheSpot,
    /// 网上办
    Online,
    /// 就近办
    Nearby,
    /// 一次办
    OneVisit,
    /// 掌上办
    Mobile,
}

/// 办理形式: how an application may be handed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlingForm {
    Window,
    Online,
    Post,
}

pub use crate::clock::Limit;

/// 申请材料: a document an application needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Stable id inside the item, e.g. `articles-of-association`.
    pub id: String,
    pub name: String,
    /// 原件 / 复印件 / 原件及复印件.
    pub form: MaterialForm,
    #[serde(default = "one")]
    pub count: u32,
    /// Mandatory unless a condition on the form makes it so.
    #[serde(default = "yes")]
    pub required: bool,
    /// A key material cannot be pledged (容缺): the case may not be accepted without it.
    #[serde(default)]
    pub key: bool,
    /// Where the applicant gets it (申请人自备, 政府部门核发, …).
    #[serde(default)]
    pub source: String,
    /// Path of the blank form under `catalog/files/`, if the bureau provides one.
    #[serde(default)]
    pub blank_form: Option<String>,
    /// Path of the filled-in sample under `catalog/files/`.
    #[serde(default)]
    pub sample: Option<String>,
    /// Licence type codes of the applicant's own licences that can stand for this material (免提交).
    #[serde(default)]
    pub license_substitutes: Vec<String>,
    /// The assessment this material is the report of (多评合一: an id of `catalog/assessments.toml`, e.g. `eia`):
    /// a project's combined evaluation, once every part passed, stands for it (免提交).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<String>,
    #[serde(default)]
    pub notes: String,
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialForm {
    Original,
    Copy,
    OriginalAndCopy,
    Electronic,
}

/// Typed form field (一表通). `key` is shared across items: two items asking for `enterprise_name` ask once in a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_en: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    /// Choices for `choice` fields.
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub max_len: Option<u32>,
    /// The field holds personal data (an address, say): sealed at rest and masked on screen. Resident ID and phone
    /// fields always are.
    #[serde(default)]
    pub personal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Number,
    Integer,
    Date,
    Boolean,
    Choice,
    Phone,
    Uscc,
    ResidentId,
    RegionCode,
}

/// The form of an item or bundle: an ordered list of fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSchema {
    #[serde(default)]
    pub fields: Vec<Field>,
}

impl FormSchema {
    /// 一表通: merge several forms into one, asking each shared key once (the first definition wins).
    pub fn merge<'a>(forms: impl IntoIterator<Item = &'a FormSchema>) -> FormSchema {
        let mut seen = BTreeSet::new();
        let mut fields = Vec::new();
        for form in forms {
            for f in &form.fields {
                if seen.insert(f.key.clone()) {
                    fields.push(f.clone());
                }
            }
        }
        FormSchema { fields }
    }
}

/// 办理流程: the steps of a case, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessDefinition {
    pub steps: Vec<StepDef>,
}

/// The kinds of step on the assembly line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// 受理: intake at a window (any general window may accept any item).
    Accept,
    /// 审查 / 审核: examination by one role.
    Review,
    /// 会签 / 并联审批 / 多图联审: parallel review by several departments.
    JointReview,
    /// 勘验: on-site or video inspection.
    Inspection,
    /// 决定: grant or deny.
    Decision,
    /// 制证 / 发证.
    LicenseIssuance,
    /// 送达.
    Delivery,
}

/// All must sign (会签) or any one suffices (或签).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JointMode {
    All,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionMode {
    OnSite,
    Video,
    /// The applicant chooses; video by default (视频勘验).
    Either,
}

/// One point of an inspection's checklist (勘验清单), e.g. the processing area or the toilets' distance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Stable id inside the step, e.g. `processing-area`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    /// What to film or show, for the applicant.
    #[serde(default)]
    pub hint: String,
    /// 联合验收: the department that checks this entry (one of the step's departments); every entry of a step names
    /// one or none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentId>,
}

/// A condition on form data: the step runs only when it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    #[serde(default)]
    pub greater_than: Option<f64>,
    #[serde(default)]
    pub is_true: Option<bool>,
}

impl Condition {
    /// Whether the condition holds for the given form data; a missing field never satisfies it.
    pub fn holds(&self, form: &serde_json::Map<String, serde_json::Value>) -> bool {
        let Some(v) = form.get(&self.field) else {
            return false;
        };
        if let Some(eq) = &self.equals {
            if v != eq {
                return false;
            }
        }
        if let Some(gt) = self.greater_than {
            match v.as_f64() {
                Some(x) if x > gt => {}
                _ => return false,
            }
        }
        if let Some(t) = self.is_true {
            if v.as_bool() != Some(t) {
                return false;
            }
        }
        true
    }
}

/// One step of a process definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Stable id inside the process, e.g. `accept`, `review`, `decide`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub kind: StepKind,
    /// Who works the step.
    pub role: Role,
    /// The department (or bureau section) whose staff work the step; for a joint review, see `departments`.
    #[serde(default)]
    pub department: Option<DepartmentId>,
    /// Joint review: the departments that review in parallel.
    #[serde(default)]
    pub departments: Vec<DepartmentId>,
    #[serde(default)]
    pub joint_mode: Option<JointMode>,
    #[serde(default)]
    pub inspection: Option<InspectionMode>,
    /// 勘验清单: what an inspection looks at — what the applicant films, what notes are tied to (inspection steps).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<ChecklistItem>,
    /// This step's share of the promised limit, in working days (0 for steps done at once).
    #[serde(default)]
    pub share_days: u32,
    #[serde(default)]
    pub condition: Option<Condition>,
    /// §45 excluded time (expert review, testing, hearing …): the clock stops while this step runs and restarts
    /// when it completes; the applicant is told in writing.
    #[serde(default)]
    pub excluded_time: Option<crate::clock::SuspensionKind>,
    /// 联合踏勘: this inspection may be held in one visit (or one live video session) with the inspections of the
    /// applicant's other cases at such steps; each department records its own findings, one joint result moves
    /// every case on. An inspection step with `departments` inspects jointly within its case (one task each).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub joint_inspection: bool,
}

/// Fees (收费): amount in yuan and legal basis, or free.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub name: String,
    pub amount_yuan: f64,
    pub basis: String,
}

/// 办理结果.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultDoc {
    pub name: String,
    /// 证照 / 批文 / 备案回执 / 其他.
    pub kind: ResultKind,
    /// The licence type code it produces, for the licence issue.
    #[serde(default)]
    pub license_type: Option<String>,
    #[serde(default)]
    pub sample: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    License,
    Approval,
    FilingReceipt,
    Other,
}

/// 政务服务事项 with its standard guide (办事指南): one published version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceItem {
    /// Implementation code (实施编码): issuer USCC + 13 chars.
    pub impl_code: ItemCode,
    /// National basic code (基本编码), 12 chars.
    pub base_code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub kind: ItemKind,
    /// 权力来源 (法定本级行使 / 上级下放 / …).
    pub power_source: String,
    /// 行使层级 (市级 / 县级 …).
    pub level: String,
    /// 实施主体: the department that holds the power (its staff or the bureau section handle the steps).
    pub department: DepartmentId,
    /// 实施主体编码: the implementing body's USCC.
    pub department_uscc: Uscc,
    /// 设定依据.
    pub legal_basis: Vec<String>,
    /// 受理条件.
    pub conditions: Vec<String>,
    pub materials: Vec<Material>,
    pub handling: Handling,
    pub statutory_limit: Limit,
    pub promised_limit: Limit,
    #[serde(default)]
    pub limit_notes: String,
    /// Maximum extension (延期) in working days; §42 allows 10 (15 for joint handling).
    #[serde(default = "ten")]
    pub max_extension_days: u32,
    pub handling_forms: Vec<HandlingForm>,
    /// 办理地点 and 办理时间.
    pub place: String,
    pub hours: String,
    pub visits_required: u8,
    /// 网上办理深度 I–IV as 1–4.
    pub online_depth: u8,
    #[serde(default)]
    pub online_url: String,
    #[serde(default)]
    pub delivery_by_post: bool,
    #[serde(default)]
    pub appointment: bool,
    #[serde(default)]
    pub fees: Vec<Fee>,
    pub consultation: String,
    pub complaint: String,
    pub results: Vec<ResultDoc>,
    #[serde(default)]
    pub tags: BTreeSet<Tag>,
    /// Life events and topics for browsing (开办企业, 餐饮, 住房 …).
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub form: FormSchema,
    pub process: ProcessDefinition,
    /// Departments that regulate what this item approves (事中事后监管): each receives every approval, filing,
    /// amendment, cancellation and revocation of it (审管互动, `liaison`).
    #[serde(default)]
    pub regulators: Vec<DepartmentId>,
    /// Whether asking a regulator's opinion before deciding (事前征询) pauses the case clock.
    #[serde(default)]
    pub consult_pauses_clock: bool,
    /// Mean minutes a window spends on one application of this item (the hall simulator's service time). Absent:
    /// derived from `handling` ([`ServiceItem::window_minutes`]). Never serialised when absent, so a version
    /// published before the field existed keeps its stored shape and compares equal when parsed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u16>,
}

/// Window minutes of an on-the-spot (即办) item without its own figure. An assumption: below the source's promise
/// that a 马上办 item is finished at the window within 15 minutes, licence handed over (the demo items' limit).
pub const DEFAULT_WINDOW_MINUTES_IMMEDIATE: u16 = 10;
/// Window minutes of a promised (承诺) item without its own figure: intake only (materials checked, the
/// application accepted, a receipt printed), the review happening in the back office. An assumption, not a
/// measured figure.
pub const DEFAULT_WINDOW_MINUTES_PROMISED: u16 = 20;

fn ten() -> u32 {
    10
}

/// 多证联办 / 一件事: several items applied for together with one form, one process, several results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Stable code, e.g. `open-restaurant`.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub description: String,
    /// Implementation codes of the items it combines.
    pub items: Vec<ItemCode>,
    /// The department that coordinates the bundle (usually the bureau's general section).
    pub department: DepartmentId,
    pub promised_limit: Limit,
    pub statutory_limit: Limit,
    #[serde(default = "fifteen")]
    pub max_extension_days: u32,
    /// One process for the whole bundle: one intake, joint review, one inspection, decision, several licences.
    pub process: ProcessDefinition,
    #[serde(default)]
    pub tags: BTreeSet<Tag>,
    #[serde(default)]
    pub topics: Vec<String>,
}

fn fifteen() -> u32 {
    15
}

/// A problem with catalog data, naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{subject}: {problem}")]
pub struct CatalogError {
    pub subject: String,
    pub problem: String,
}

fn err(subject: &str, problem: impl Into<String>) -> CatalogError {
    CatalogError { subject: subject.to_string(), problem: problem.into() }
}

impl ServiceItem {
    /// Mean minutes a window spends on one application: the item's own `window_minutes`, else
    /// [`DEFAULT_WINDOW_MINUTES_IMMEDIATE`] or [`DEFAULT_WINDOW_MINUTES_PROMISED`] by its handling.
    pub fn window_minutes(&self) -> u16 {
        self.window_minutes.unwrap_or(match self.handling {
            Handling::Immediate => DEFAULT_WINDOW_MINUTES_IMMEDIATE,
            Handling::Promised => DEFAULT_WINDOW_MINUTES_PROMISED,
        })
    }

    /// Check the rules every published item version keeps.
    pub fn validate(&self, departments: &BTreeSet<DepartmentId>) -> Result<(), CatalogError> {
        let s = self.impl_code.as_str();
        if self.name.trim().is_empty() {
            return Err(err(s, "name is empty"));
        }
        if self.base_code.chars().count() != 12 || !self.base_code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(err(s, format!("base_code {:?} must be 12 letters or digits", self.base_code)));
        }
        if !departments.contains(&self.department) {
            return Err(err(s, format!("unknown department {}", self.department)));
        }
        for r in &self.regulators {
            if !departments.contains(r) {
                return Err(err(s, format!("unknown regulator {r}")));
            }
        }
        if self.regulators.iter().collect::<BTreeSet<_>>().len() != self.regulators.len() {
            return Err(err(s, "a regulator appears twice"));
        }
        if !self.impl_code.as_str().starts_with(self.department_uscc.as_str()) {
            return Err(err(s, "impl_code must start with the implementing body's USCC"));
        }
        if self.promised_limit.comparable().0 != self.statutory_limit.comparable().0 {
            return Err(err(s, "promised and statutory limits must use the same unit"));
        }
        if self.promised_limit.comparable() > self.statutory_limit.comparable() {
            return Err(err(s, "promised limit is longer than the statutory limit"));
        }
        match (self.handling, self.promised_limit) {
            (Handling::Immediate, Limit::Minutes(_)) | (Handling::Promised, Limit::WorkingDays(_)) => {}
            (Handling::Immediate, _) => return Err(err(s, "an on-the-spot (即办) item counts its limit in minutes")),
            (Handling::Promised, _) => return Err(err(s, "a promised (承诺) item counts its limit in working days")),
        }
        if self.tags.contains(&Tag::OnTheSpot) && self.handling != Handling::Immediate {
            return Err(err(s, "tag on_the_spot (马上办) needs handling = immediate"));
        }
        if !(1..=4).contains(&self.online_depth) {
            return Err(err(s, "online_depth must be 1–4 (I–IV)"));
        }
        if self.online_depth == 4 && self.visits_required != 0 {
            return Err(err(s, "online depth IV means zero visits"));
        }
        if self.visits_required > 2 {
            return Err(err(s, "visits_required must be 0, 1 or 2"));
        }
        if self.results.is_empty() {
            return Err(err(s, "an item must name its result"));
        }
        let mut ids = BTreeSet::new();
        for m in &self.materials {
            if !ids.insert(m.id.as_str()) {
                return Err(err(s, format!("material id {} appears twice", m.id)));
            }
        }
        if self.window_minutes.is_some_and(|m| !(1..=480).contains(&m)) {
            return Err(err(s, "window_minutes must be 1–480"));
        }
        validate_form(s, &self.form)?;
        let limit_days = match self.promised_limit {
            Limit::WorkingDays(d) => d,
            Limit::Minutes(_) => 0,
        };
        validate_process(s, &self.process, departments, limit_days, self.kind == ItemKind::Filing, self.handling)
    }
}

impl Bundle {
    /// Check the bundle against the catalog: its items exist and its process is sound.
    pub fn validate(
        &self,
        departments: &BTreeSet<DepartmentId>,
        items: &BTreeMap<ItemCode, ServiceItem>,
    ) -> Result<(), CatalogError> {
        let s = self.code.as_str();
        if self.items.len() < 2 {
            return Err(err(s, "a bundle combines at least two items"));
        }
        for code in &self.items {
            if !items.contains_key(code) {
                return Err(err(s, format!("unknown item {code}")));
            }
        }
        if !departments.contains(&self.department) {
            return Err(err(s, format!("unknown department {}", self.department)));
        }
        if self.promised_limit.comparable() > self.statutory_limit.comparable() {
            return Err(err(s, "promised limit is longer than the statutory limit"));
        }
        let limit_days = match self.promised_limit {
            Limit::WorkingDays(d) => d,
            Limit::Minutes(_) => return Err(err(s, "a bundle counts its limit in working days")),
        };
        validate_process(s, &self.process, departments, limit_days, false, Handling::Promised)
    }
}

fn validate_form(s: &str, form: &FormSchema) -> Result<(), CatalogError> {
    let mut keys = BTreeSet::new();
    for f in &form.fields {
        if !keys.insert(f.key.as_str()) {
            return Err(err(s, format!("form field {} appears twice", f.key)));
        }
        if f.field_type == FieldType::Choice && f.options.is_empty() {
            return Err(err(s, format!("choice field {} has no options", f.key)));
        }
    }
    Ok(())
}

fn validate_process(
    s: &str,
    p: &ProcessDefinition,
    departments: &BTreeSet<DepartmentId>,
    limit_days: u32,
    filing: bool,
    handling: Handling,
) -> Result<(), CatalogError> {
    let Some(first) = p.steps.first() else {
        return Err(err(s, "process has no steps"));
    };
    if first.kind != StepKind::Accept {
        return Err(err(s, "process must start with an accept (受理) step"));
    }
    let mut ids = BTreeSet::new();
    let mut share = 0;
    for st in &p.steps {
        if !ids.insert(st.id.as_str()) {
            return Err(err(s, format!("step id {} appears twice", st.id)));
        }
        share += st.share_days;
        if st.kind == StepKind::Inspection && !st.departments.is_empty() {
            if st.departments.len() < 2 || !st.joint_inspection {
                return Err(err(s, format!("inspection {}: departments are for a joint inspection (joint_inspection = true) of at least two", st.id)));
            }
            if let Some(d) = st.departments.iter().find(|d| !departments.contains(*d)) {
                return Err(err(s, format!("step {}: unknown department {d}", st.id)));
            }
        } else if st.kind != StepKind::JointReview && !st.departments.is_empty() {
            return Err(err(s, format!("step {}: only a joint review or joint inspection lists departments", st.id)));
        }
        if st.joint_inspection && st.kind != StepKind::Inspection {
            return Err(err(s, format!("step {}: only an inspection step is a joint inspection", st.id)));
        }
        if st.kind == StepKind::JointReview {
            if st.departments.len() < 2 {
                return Err(err(s, format!("joint review {} needs at least two departments", st.id)));
            }
            if st.joint_mode.is_none() {
                return Err(err(s, format!("joint review {} needs joint_mode all or any", st.id)));
            }
            for d in &st.departments {
                if !departments.contains(d) {
                    return Err(err(s, format!("step {}: unknown department {d}", st.id)));
                }
            }
        } else {
            match &st.department {
                Some(d) if !departments.contains(d) => {
                    return Err(err(s, format!("step {}: unknown department {d}", st.id)));
                }
                None if st.kind != StepKind::Accept => {
                    return Err(err(s, format!("step {} needs a department", st.id)));
                }
                _ => {}
            }
        }
        if st.kind == StepKind::Inspection && st.inspection.is_none() {
            return Err(err(s, format!("inspection step {} needs inspection = on_site, video or either", st.id)));
        }
        if !st.checklist.is_empty() && st.kind != StepKind::Inspection {
            return Err(err(s, format!("step {}: only an inspection step has a checklist", st.id)));
        }
        let mut ids = std::collections::BTreeSet::new();
        for c in &st.checklist {
            if c.id.trim().is_empty() || c.name.trim().is_empty() || !ids.insert(c.id.as_str()) {
                return Err(err(s, format!("step {}: checklist items need a unique id and a name", st.id)));
            }
        }
        validate_checklist_departments(s, st)?;
    }
    if share > limit_days {
        return Err(err(s, format!("step shares add up to {share} working days, more than the promised {limit_days}")));
    }
    let has_decision = p.steps.iter().any(|st| st.kind == StepKind::Decision);
    if !filing && handling == Handling::Promised && !has_decision {
        return Err(err(s, "process needs a decision (决定) step"));
    }
    Ok(())
}

/// 联合验收: when a checklist entry names its department, every entry does, the step is a joint inspection and
/// each entry's department is one of the step's, and each of the step's departments checks at least one entry (so
/// every task has something to record).
fn validate_checklist_departments(s: &str, st: &StepDef) -> Result<(), CatalogError> {
    let named = st.checklist.iter().filter(|c| c.department.is_some()).count();
    if named == 0 {
        return Ok(());
    }
    if named != st.checklist.len() {
        return Err(err(s, format!("step {}: every checklist entry names its department, or none does", st.id)));
    }
    if st.departments.is_empty() {
        return Err(err(s, format!("step {}: checklist departments need the step's departments list", st.id)));
    }
    for c in &st.checklist {
        if let Some(d) = c.department.as_ref().filter(|d| !st.departments.contains(d)) {
            return Err(err(
                s,
                format!("step {}: checklist entry {} names {d}, not one of the step's departments", st.id, c.id),
            ));
        }
    }
    if let Some(d) = st.departments.iter().find(|d| !st.checklist.iter().any(|c| c.department.as_ref() == Some(*d))) {
        return Err(err(s, format!("step {}: department {d} has no checklist entry", st.id)));
    }
    Ok(())
}

/// A department or bureau section of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub uscc: Uscc,
    /// True for the bureau's own business sections (科室); false for other departments and regulators.
    #[serde(default)]
    pub bureau_section: bool,
}

/// A whole catalog as read from the data files: departments, items and bundles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogSet {
    pub departments: Vec<Department>,
    pub items: BTreeMap<ItemCode, ServiceItem>,
    pub bundles: BTreeMap<String, Bundle>,
    /// Construction project types (工程建设项目类型), by code.
    pub project_types: BTreeMap<String, crate::project::ProjectType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentsFile {
    department: Vec<Department>,
}

impl CatalogSet {
    /// Parse `departments.toml`.
    pub fn parse_departments(text: &str) -> Result<Vec<Department>, CatalogError> {
        let f: DepartmentsFile = toml::from_str(text).map_err(|e| err("departments.toml", e.to_string()))?;
        Ok(f.department)
    }

    pub fn parse_item(name: &str, text: &str) -> Result<ServiceItem, CatalogError> {
        toml::from_str(text).map_err(|e| err(name, e.to_string()))
    }

    pub fn parse_bundle(name: &str, text: &str) -> Result<Bundle, CatalogError> {
        toml::from_str(text).map_err(|e| err(name, e.to_string()))
    }

    pub fn department_ids(&self) -> BTreeSet<DepartmentId> {
        self.departments.iter().map(|d| d.id.clone()).collect()
    }

    /// Check every item and bundle, and that ids are unique.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let ids = self.department_ids();
        if ids.len() != self.departments.len() {
            return Err(err("departments.toml", "a department id appears twice"));
        }
        for item in self.items.values() {
            item.validate(&ids)?;
        }
        for b in self.bundles.values() {
            b.validate(&ids, &self.items)?;
        }
        for t in self.project_types.values() {
            t.validate().map_err(|m| err(&format!("project-types/{}", t.code), m))?;
            if let Some(i) = t.items().find(|i| !self.items.keys().any(|k| k.as_str() == *i)) {
                return Err(err(&format!("project-types/{}", t.code), format!("item {i} is not in the catalog")));
            }
        }
        Ok(())
    }
}

/// One published version of a catalog entry: the payload of every `*_version_published` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionPublished {
    pub version: i64,
    pub reason: String,
    /// The entry (a `ServiceItem`, a `Bundle`, or the list of departments) as JSON.
    pub body: serde_json::Value,
}

/// The events of the catalog's streams (`item-{code}`, `bundle-{code}`, `departments`, `projecttype-{code}`); the
/// stored `type` is the tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CatalogEvent {
    #[serde(rename = "item_version_published")]
    Item(VersionPublished),
    #[serde(rename = "bundle_version_published")]
    Bundle(VersionPublished),
    #[serde(rename = "departments_version_published")]
    Departments(VersionPublished),
    /// A version of a construction project type (`projecttype-{code}`; the body is a `project::ProjectType`).
    #[serde(rename = "project_type_version_published")]
    ProjectType(VersionPublished),
}

impl CatalogEvent {
    /// The event of a new version of an entry of `kind` (item, bundle or departments).
    pub fn published(kind: &str, v: VersionPublished) -> Option<CatalogEvent> {
        match kind {
            "item" => Some(CatalogEvent::Item(v)),
            "bundle" => Some(CatalogEvent::Bundle(v)),
            "departments" => Some(CatalogEvent::Departments(v)),
            "project_type" => Some(CatalogEvent::ProjectType(v)),
            _ => None,
        }
    }

    /// The kind of entry and the version.
    pub fn parts(&self) -> (&'static str, &VersionPublished) {
        match self {
            CatalogEvent::Item(v) => ("item", v),
            CatalogEvent::Bundle(v) => ("bundle", v),
            CatalogEvent::Departments(v) => ("departments", v),
            CatalogEvent::ProjectType(v) => ("project_type", v),
        }
    }
}
