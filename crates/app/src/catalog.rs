//! The published catalog: versions of items, bundles, the department list and the construction project types, kept
//! as events and projected into `catalog_versions`; an in-memory view with the Chinese search index serves reads.

use std::collections::BTreeMap;

use oneseal_domain::case::{CaseDefinition, Subject};
use oneseal_domain::catalog::{Bundle, CatalogEvent, CatalogSet, Department, ServiceItem, VersionPublished};
use oneseal_domain::ids::ItemCode;
use oneseal_domain::project::ProjectType;
use oneseal_domain::search::Index;
use oneseal_store::{CatalogRow, Db, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::{ms, App, AppError};

include!(concat!(env!("OUT_DIR"), "/demo_catalog.rs"));

/// One published version with who, when and why.
#[derive(Debug, Clone, Serialize)]
pub struct Published<T> {
    pub version: u32,
    pub published_at_ms: i64,
    pub published_by: String,
    pub reason: String,
    #[serde(flatten)]
    pub body: T,
}

impl<T> Published<T> {
    /// A stored version with its entry read from it.
    fn of(r: &CatalogRow, body: T) -> Published<T> {
        Published {
            version: r.version as u32,
            published_at_ms: r.published_at_ms,
            published_by: r.published_by.clone(),
            reason: r.reason.clone(),
            body,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DepartmentList {
    pub departments: Vec<Department>,
}

/// What a search hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    Item,
    Bundle,
}

/// The catalog as the application reads it.
#[derive(Debug, Default)]
pub struct CatalogView {
    pub departments: Vec<Department>,
    pub departments_version: u32,
    pub items: BTreeMap<String, Vec<Published<ServiceItem>>>,
    pub bundles: BTreeMap<String, Vec<Published<Bundle>>>,
    /// Construction project types; each version's `version` is its published version.
    pub project_types: BTreeMap<String, Vec<Published<ProjectType>>>,
    index: Index,
    docs: Vec<(HitKind, String)>,
    /// Case definitions built once per published version (commands read them on the writer thread).
    defs: BTreeMap<(HitKind, String, u32), std::sync::Arc<CaseDefinition>>,
}

impl CatalogView {
    fn build(rows: Vec<CatalogRow>) -> Result<CatalogView, AppError> {
        let mut v = CatalogView::default();
        for r in rows {
            let bad = |e: serde_json::Error| {
                AppError::Internal(format!("stored catalog {} {} v{}: {e}", r.kind, r.code, r.version))
            };
            match r.kind.as_str() {
                "item" => {
                    let p = Published::of(&r, serde_json::from_str(&r.body).map_err(bad)?);
                    v.items.entry(r.code.clone()).or_default().push(p)
                }
                "bundle" => {
                    let p = Published::of(&r, serde_json::from_str(&r.body).map_err(bad)?);
                    v.bundles.entry(r.code.clone()).or_default().push(p)
                }
                "project_type" => {
                    let t: ProjectType = serde_json::from_str(&r.body).map_err(bad)?;
                    let p = Published::of(&r, ProjectType { version: r.version as u32, ..t });
                    v.project_types.entry(r.code.clone()).or_default().push(p)
                }
                "departments" => {
                    let d: DepartmentList = serde_json::from_str(&r.body).map_err(bad)?;
                    v.departments = d.departments;
                    v.departments_version = r.version as u32;
                }
                _ => {}
            }
        }
        for (code, versions) in &v.items {
            if let Some(p) = versions.last() {
                let i = &p.body;
                let kw = i.keywords.join(" ");
                let topics = i.topics.join(" ");
                let results: String = i.results.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(" ");
                let dept = v.department_name(i.department.as_str());
                v.index.add(
                    &i.name,
                    &[
                        (&i.name, 10),
                        (&kw, 6),
                        (&results, 5),
                        (&topics, 3),
                        (&i.name_en, 4),
                        (&dept, 2),
                        (&i.conditions.join(" "), 1),
                    ],
                );
                v.docs.push((HitKind::Item, code.clone()));
            }
        }
        let mut defs = BTreeMap::new();
        for (code, versions) in &v.items {
            for p in versions {
                defs.insert(
                    (HitKind::Item, code.clone(), p.version),
                    std::sync::Arc::new(CaseDefinition::for_item(&p.body, p.version)),
                );
            }
        }
        v.defs = defs;
        let mut bundle_defs = Vec::new();
        for (code, versions) in &v.bundles {
            for p in versions {
                if let Ok(d) = v.build_definition(&Subject::Bundle { code: code.clone(), version: p.version }) {
                    bundle_defs.push(((HitKind::Bundle, code.clone(), p.version), std::sync::Arc::new(d)));
                }
            }
        }
        v.defs.extend(bundle_defs);
        for (code, versions) in &v.bundles {
            if let Some(p) = versions.last() {
                let b = &p.body;
                v.index.add(&b.name, &[(&b.name, 10), (&b.topics.join(" "), 6), (&b.description, 2), (&b.name_en, 4)]);
                v.docs.push((HitKind::Bundle, code.clone()));
            }
        }
        Ok(v)
    }

    pub fn department_name(&self, id: &str) -> String {
        self.departments.iter().find(|d| d.id.as_str() == id).map(|d| d.name.clone()).unwrap_or_else(|| id.to_string())
    }

    pub fn latest_item(&self, code: &str) -> Option<&Published<ServiceItem>> {
        self.items.get(code)?.last()
    }

    pub fn item_version(&self, code: &str, version: u32) -> Option<&Published<ServiceItem>> {
        self.items.get(code)?.iter().find(|p| p.version == version)
    }

    pub fn latest_bundle(&self, code: &str) -> Option<&Published<Bundle>> {
        self.bundles.get(code)?.last()
    }

    pub fn latest_project_type(&self, code: &str) -> Option<&Published<ProjectType>> {
        self.project_types.get(code)?.last()
    }

    /// Ranked search hits over items and bundles.
    pub fn search(&self, q: &str) -> Vec<(HitKind, String, u32)> {
        self.index
            .search(q)
            .into_iter()
            .filter_map(|(doc, score)| self.docs.get(doc).map(|(k, c)| (*k, c.clone(), score)))
            .collect()
    }

    /// The case definition for a subject at the version the case started with (built once, shared).
    pub fn definition(&self, subject: &Subject) -> Result<std::sync::Arc<CaseDefinition>, AppError> {
        let key = match subject {
            Subject::Item { code, version } => (HitKind::Item, code.clone(), *version),
            Subject::Bundle { code, version } => (HitKind::Bundle, code.clone(), *version),
        };
        match self.defs.get(&key) {
            Some(d) => Ok(d.clone()),
            None => self.build_definition(subject).map(std::sync::Arc::new),
        }
    }

    fn build_definition(&self, subject: &Subject) -> Result<CaseDefinition, AppError> {
        match subject {
            Subject::Item { code, version } => {
                let p = self
                    .item_version(code, *version)
                    .ok_or_else(|| AppError::NotFound(format!("item {code} version {version}")))?;
                Ok(CaseDefinition::for_item(&p.body, p.version))
            }
            Subject::Bundle { code, version } => {
                let p = self
                    .bundles
                    .get(code)
                    .and_then(|v| v.iter().find(|p| p.version == *version))
                    .ok_or_else(|| AppError::NotFound(format!("bundle {code} version {version}")))?;
                // A bundle uses the item versions current when it was published… the latest published is the
                // practical choice here, recorded in the case's events through the merged form it validated.
                let items: Vec<&ServiceItem> =
                    p.body.items.iter().filter_map(|c| self.latest_item(c.as_str()).map(|x| &x.body)).collect();
                Ok(CaseDefinition::for_bundle(&p.body, p.version, &items))
            }
        }
    }

    /// The catalog as a validated set (latest versions), for checking a change against the rest.
    pub fn as_set(&self) -> CatalogSet {
        CatalogSet {
            departments: self.departments.clone(),
            items: latest_of(&self.items, |i| i.impl_code.clone()),
            bundles: latest_of(&self.bundles, |b| b.code.clone()),
            project_types: latest_of(&self.project_types, |t| t.code.clone()),
        }
    }
}

/// The latest published version of each entry, keyed by `key`.
fn latest_of<T: Clone, K: Ord>(entries: &BTreeMap<String, Vec<Published<T>>>, key: impl Fn(&T) -> K) -> BTreeMap<K, T> {
    entries.values().filter_map(|v| v.last()).map(|p| (key(&p.body), p.body.clone())).collect()
}

/// Parse a catalog from (path, contents) pairs laid out like catalog/: departments.toml, items/*.toml, bundles/*.toml,
/// project-types/*.toml.
pub fn parse_catalog_files(files: &[(String, String)]) -> Result<CatalogSet, AppError> {
    let mut set = CatalogSet::default();
    for (path, text) in files {
        if path.ends_with("departments.toml") {
            set.departments = CatalogSet::parse_departments(text)?;
        } else if path.contains("items/") {
            let item = CatalogSet::parse_item(path, text)?;
            if set.items.insert(item.impl_code.clone(), item).is_some() {
                return Err(AppError::invalid("catalog_duplicate", format!("{path}: item code appears twice")));
            }
        } else if path.contains("bundles/") {
            let b = CatalogSet::parse_bundle(path, text)?;
            if set.bundles.insert(b.code.clone(), b).is_some() {
                return Err(AppError::invalid("catalog_duplicate", format!("{path}: bundle code appears twice")));
            }
        } else if path.contains("project-types/") {
            let t =
                ProjectType::parse(text).map_err(|e| AppError::invalid("catalog_invalid", format!("{path}: {e}")))?;
            if set.project_types.insert(t.code.clone(), t).is_some() {
                return Err(AppError::invalid("catalog_duplicate", format!("{path}: project type code appears twice")));
            }
        }
    }
    if set.departments.is_empty() {
        return Err(AppError::invalid("catalog_invalid", "the catalog has no departments.toml"));
    }
    set.validate()?;
    crate::assessments::builtin_assessments()?.check_catalog(&set)?;
    Ok(set)
}

/// The demo catalog compiled into the binary.
pub fn demo_catalog() -> Result<CatalogSet, AppError> {
    let files: Vec<(String, String)> = DEMO_CATALOG.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
    parse_catalog_files(&files)
}

/// What an import changed.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    pub published: Vec<String>,
    pub unchanged: usize,
}

struct Change {
    stream: String,
    expected: i64,
    kind: &'static str,
    code: String,
    body: String,
}

impl App {
    pub fn reload_catalog_blocking(&self) -> Result<(), AppError> {
        let rows = self.store.read_blocking(|db| db.catalog_versions())?;
        self.set_catalog(CatalogView::build(rows)?);
        Ok(())
    }

    pub async fn reload_catalog(&self) -> Result<(), AppError> {
        let rows = self.store.read(|db| db.catalog_versions().map_err(AppError::from)).await?;
        self.set_catalog(CatalogView::build(rows)?);
        Ok(())
    }

    /// Publish every department list, item and bundle of `set` that differs from its latest published version,
    /// as new versions with who and why. A published version is never changed.
    pub async fn import_catalog(&self, set: CatalogSet, actor: &str, reason: &str) -> Result<ImportReport, AppError> {
        set.validate()?;
        crate::assessments::builtin_assessments()?.check_catalog(&set)?;
        if reason.trim().is_empty() {
            return Err(AppError::invalid("reason_required", "a catalog change needs a reason"));
        }
        let view = self.catalog();
        let mut changes = Vec::new();
        let mut report = ImportReport::default();
        let deps = serde_json::to_value(DepartmentList { departments: set.departments.clone() })
            .map_err(|e| AppError::Internal(e.to_string()))?
            .to_string();
        if set.departments != view.departments {
            changes.push(Change {
                stream: "departments".into(),
                expected: i64::from(view.departments_version),
                kind: "departments",
                code: "all".into(),
                body: deps,
            });
        } else {
            report.unchanged += 1;
        }
        for (code, item) in &set.items {
            let latest = view.latest_item(code.as_str());
            if latest.map(|p| &p.body) == Some(item) {
                report.unchanged += 1;
                continue;
            }
            let body = serde_json::to_value(item).map_err(|e| AppError::Internal(e.to_string()))?.to_string();
            changes.push(Change {
                stream: format!("item-{code}"),
                expected: latest.map_or(0, |p| i64::from(p.version)),
                kind: "item",
                code: code.to_string(),
                body,
            });
        }
        for (code, t) in &set.project_types {
            let latest = view.latest_project_type(code);
            if latest.is_some_and(|p| same_project_type(&p.body, t)) {
                report.unchanged += 1;
                continue;
            }
            let body = serde_json::to_value(ProjectType { version: 0, ..t.clone() })
                .map_err(|e| AppError::Internal(e.to_string()))?
                .to_string();
            changes.push(Change {
                stream: format!("projecttype-{code}"),
                expected: latest.map_or(0, |p| i64::from(p.version)),
                kind: "project_type",
                code: code.clone(),
                body,
            });
        }
        for (code, b) in &set.bundles {
            let latest = view.latest_bundle(code);
            if latest.map(|p| &p.body) == Some(b) {
                report.unchanged += 1;
                continue;
            }
            let body = serde_json::to_value(b).map_err(|e| AppError::Internal(e.to_string()))?.to_string();
            changes.push(Change {
                stream: format!("bundle-{code}"),
                expected: latest.map_or(0, |p| i64::from(p.version)),
                kind: "bundle",
                code: code.clone(),
                body,
            });
        }
        report.published = changes.iter().map(|c| format!("{} {} v{}", c.kind, c.code, c.expected + 1)).collect();
        let now = ms(self.now());
        let (actor, reason) = (actor.to_string(), reason.to_string());
        self.store
            .write(move |db| -> Result<(), AppError> {
                for c in changes {
                    publish_version(db, &c.stream, c.expected, c.kind, &c.body, &reason, &actor, now)?;
                }
                Ok(())
            })
            .await?;
        self.reload_catalog().await?;
        Ok(report)
    }

    /// Publish a new version of the department list (administrators). The whole catalog is checked against it,
    /// so a department that items or bundles still use cannot be removed.
    pub async fn publish_departments(
        &self,
        departments: Vec<Department>,
        actor: &str,
        reason: &str,
    ) -> Result<u32, AppError> {
        let view = self.catalog();
        if view.departments == departments {
            return Err(AppError::invalid(
                "catalog_unchanged",
                "the department list is identical to the published one",
            ));
        }
        let mut set = view.as_set();
        set.departments = departments;
        self.import_catalog(set, actor, reason).await?;
        Ok(self.catalog().departments_version)
    }

    /// Publish a new version of one item (an administrator's edit through the API). The whole catalog is
    /// validated with the new version in place, so bundles that use the item stay sound.
    /// Whether an administrator may revise an item: administrators of a department (an account with a
    /// department) revise that department's items; administrators without one revise all.
    pub fn may_edit_item(actor: &oneseal_domain::roles::Actor, department: &str) -> bool {
        actor.has(oneseal_domain::roles::Role::Administrator)
            && actor.department.as_ref().is_none_or(|d| d.as_str() == department)
    }

    pub async fn publish_item(&self, item: ServiceItem, actor: &str, reason: &str) -> Result<u32, AppError> {
        let view = self.catalog();
        let code: ItemCode = item.impl_code.clone();
        if view.latest_item(code.as_str()).map(|p| &p.body) == Some(&item) {
            return Err(AppError::invalid("catalog_unchanged", "the new version is identical to the published one"));
        }
        let mut set = view.as_set();
        set.items.insert(code.clone(), item.clone());
        set.validate()?;
        crate::assessments::builtin_assessments()?.check_catalog(&set)?;
        self.import_subset(BTreeMap::from([(code.clone(), item)]), actor, reason).await?;
        Ok(self.catalog().latest_item(code.as_str()).map_or(0, |p| p.version))
    }

    /// Publish a new version of a construction project type (bureau administrators: a type spans departments).
    /// The catalog is validated with it in place (its stages fit its limits, its items exist). Projects registered
    /// before keep the version they copied when they were registered; new registrations take the new one.
    pub async fn publish_project_type(&self, t: ProjectType, actor: &str, reason: &str) -> Result<u32, AppError> {
        let view = self.catalog();
        let code = t.code.clone();
        if view.latest_project_type(&code).is_some_and(|p| same_project_type(&p.body, &t)) {
            return Err(AppError::invalid("catalog_unchanged", "the new version is identical to the published one"));
        }
        let mut set = view.as_set();
        set.project_types = BTreeMap::from([(code.clone(), t)]);
        self.import_catalog(set, actor, reason).await?;
        Ok(self.catalog().latest_project_type(&code).map_or(0, |p| p.version))
    }

    async fn import_subset(
        &self,
        items: BTreeMap<ItemCode, ServiceItem>,
        actor: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        if reason.trim().is_empty() {
            return Err(AppError::invalid("reason_required", "a catalog change needs a reason"));
        }
        let view = self.catalog();
        let now = ms(self.now());
        let mut changes = Vec::new();
        for (code, item) in items {
            let expected = view.latest_item(code.as_str()).map_or(0, |p| i64::from(p.version));
            let body = serde_json::to_value(&item).map_err(|e| AppError::Internal(e.to_string()))?.to_string();
            changes.push((code.to_string(), expected, body));
        }
        let (actor, reason) = (actor.to_string(), reason.to_string());
        self.store
            .write(move |db| -> Result<(), AppError> {
                for (code, expected, body) in changes {
                    publish_version(db, &format!("item-{code}"), expected, "item", &body, &reason, &actor, now)?;
                }
                Ok(())
            })
            .await?;
        self.reload_catalog().await
    }
}

/// Whether two project types are the same but for their version.
fn same_project_type(a: &ProjectType, b: &ProjectType) -> bool {
    ProjectType { version: 0, ..a.clone() } == ProjectType { version: 0, ..b.clone() }
}

/// Record the next version of a catalog entry (its stream at `expected`) and project it.
#[allow(clippy::too_many_arguments)]
fn publish_version(
    db: &mut Db,
    stream: &str,
    expected: i64,
    kind: &str,
    body: &str,
    reason: &str,
    actor: &str,
    at: i64,
) -> Result<(), AppError> {
    let v = VersionPublished {
        version: expected + 1,
        reason: reason.to_string(),
        body: serde_json::from_str(body).unwrap_or_default(),
    };
    let ev = CatalogEvent::published(kind, v).ok_or_else(|| AppError::Internal(format!("catalog kind {kind}")))?;
    let e = crate::streams::record_at(db, stream, expected, &ev, actor, at)?;
    project(db, &e)
}

/// The catalog versions projection after a published version (publishing and `rebuild` both call it). The
/// departments' one list has the code `all`; an item's or bundle's code is its stream's name after `item-` or
/// `bundle-`.
pub(crate) fn project(db: &mut Db, e: &StoredEvent) -> Result<(), AppError> {
    let ev: CatalogEvent = crate::streams::decode(e)?;
    let (kind, v) = ev.parts();
    let code = match &ev {
        CatalogEvent::Departments(_) => "all".to_string(),
        _ => e.stream_id.split_once('-').map(|(_, c)| c.to_string()).unwrap_or_default(),
    };
    Ok(db.put_catalog_version(&CatalogRow {
        kind: kind.into(),
        code,
        version: v.version,
        body: v.body.to_string(),
        published_at_ms: e.at_ms,
        published_by: e.actor.clone(),
        reason: v.reason.clone(),
    })?)
}
