//! Every read and write the application makes, written once in portable SQL over [`Sql`].

use crate::sql::{Row, Sql, Val};
use crate::{Backend, StoreError};

/// A connection handed to read and write jobs.
pub struct Db {
    pub(crate) sql: Box<dyn Sql>,
    /// PostgreSQL writers: a second connection on which counters commit on their own (see [`Db::next_counter`]).
    pub(crate) side: Option<Box<dyn Sql>>,
    /// The safe horizon of the log, shared by the store's connections (PostgreSQL; see `horizon.rs`).
    pub(crate) horizon: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// Whether this is a writer's connection (its jobs run inside a transaction).
    pub(crate) writer: bool,
}

const MIGRATIONS_SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite_0001_init.sql")),
    (2, include_str!("../migrations/sqlite_0002_personal_data.sql")),
    (3, include_str!("../migrations/sqlite_0003_api_tokens.sql")),
    (4, include_str!("../migrations/sqlite_0004_totp.sql")),
    (5, include_str!("../migrations/sqlite_0005_parties.sql")),
    (6, include_str!("../migrations/sqlite_0006_staff_posts.sql")),
    (7, include_str!("../migrations/sqlite_0007_seal_keys.sql")),
    (8, include_str!("../migrations/sqlite_0008_licenses.sql")),
    (9, include_str!("../migrations/sqlite_0009_transparency.sql")),
    (10, include_str!("../migrations/sqlite_0010_attachments_drafts.sql")),
    (11, include_str!("../migrations/sqlite_0011_task_order.sql")),
    (12, include_str!("../migrations/sqlite_0012_supervision.sql")),
    (13, include_str!("../migrations/sqlite_0013_urgings.sql")),
    (14, include_str!("../migrations/sqlite_0014_liaison.sql")),
    (15, include_str!("../migrations/sqlite_0015_dashboard.sql")),
    (16, include_str!("../migrations/sqlite_0016_hotline_ratings.sql")),
    (17, include_str!("../migrations/sqlite_0017_organisation_verification.sql")),
    (18, include_str!("../migrations/sqlite_0018_attachment_binding.sql")),
    (19, include_str!("../migrations/sqlite_0019_account_identities.sql")),
    (20, include_str!("../migrations/sqlite_0020_license_holder_type.sql")),
    (21, include_str!("../migrations/sqlite_0021_concurrent_writers.sql")),
    (22, include_str!("../migrations/sqlite_0022_several_nodes.sql")),
    (23, include_str!("../migrations/sqlite_0023_hall.sql")),
    (24, include_str!("../migrations/sqlite_0024_shipments.sql")),
    (25, include_str!("../migrations/sqlite_0025_liaison_unacknowledged.sql")),
    (27, include_str!("../migrations/sqlite_0027_video_uploads.sql")),
    (28, include_str!("../migrations/sqlite_0028_inspection_facts.sql")),
    (30, include_str!("../migrations/sqlite_0030_projects.sql")),
    (32, include_str!("../migrations/sqlite_0032_project_assessment_parts.sql")),
    (33, include_str!("../migrations/sqlite_0033_project_alerts.sql")),
];
const MIGRATIONS_PG: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres_0001_init.sql")),
    (2, include_str!("../migrations/postgres_0002_personal_data.sql")),
    (3, include_str!("../migrations/postgres_0003_api_tokens.sql")),
    (4, include_str!("../migrations/postgres_0004_totp.sql")),
    (5, include_str!("../migrations/postgres_0005_parties.sql")),
    (6, include_str!("../migrations/postgres_0006_staff_posts.sql")),
    (7, include_str!("../migrations/postgres_0007_seal_keys.sql")),
    (8, include_str!("../migrations/postgres_0008_licenses.sql")),
    (9, include_str!("../migrations/postgres_0009_transparency.sql")),
    (10, include_str!("../migrations/postgres_0010_attachments_drafts.sql")),
    (11, include_str!("../migrations/postgres_0011_task_order.sql")),
    (12, include_str!("../migrations/postgres_0012_supervision.sql")),
    (13, include_str!("../migrations/postgres_0013_urgings.sql")),
    (14, include_str!("../migrations/postgres_0014_liaison.sql")),
    (15, include_str!("../migrations/postgres_0015_dashboard.sql")),
    (16, include_str!("../migrations/postgres_0016_hotline_ratings.sql")),
    (17, include_str!("../migrations/postgres_0017_organisation_verification.sql")),
    (18, include_str!("../migrations/postgres_0018_attachment_binding.sql")),
    (19, include_str!("../migrations/postgres_0019_account_identities.sql")),
    (20, include_str!("../migrations/postgres_0020_license_holder_type.sql")),
    (21, include_str!("../migrations/postgres_0021_concurrent_writers.sql")),
    (22, include_str!("../migrations/postgres_0022_several_nodes.sql")),
    (23, include_str!("../migrations/postgres_0023_hall.sql")),
    (24, include_str!("../migrations/postgres_0024_shipments.sql")),
    (25, include_str!("../migrations/postgres_0025_liaison_unacknowledged.sql")),
    (27, include_str!("../migrations/postgres_0027_video_uploads.sql")),
    (28, include_str!("../migrations/postgres_0028_inspection_facts.sql")),
    (30, include_str!("../migrations/postgres_0030_projects.sql")),
    (32, include_str!("../migrations/postgres_0032_project_assessment_parts.sql")),
    (33, include_str!("../migrations/postgres_0033_project_alerts.sql")),
];

/// Apply the migrations not yet applied, each in its own transaction.
pub(crate) fn migrate(sql: &mut dyn Sql) -> Result<Vec<i64>, StoreError> {
    let list = match sql.backend() {
        Backend::Sqlite => MIGRATIONS_SQLITE,
        Backend::Postgres => MIGRATIONS_PG,
    };
    sql.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)",
    )?;
    let mut applied = Vec::new();
    for (v, text) in list {
        if sql.backend() == Backend::Postgres {
            // Two nodes starting together must not both migrate.
            sql.batch("BEGIN; SELECT pg_advisory_xact_lock(7240020)")?;
        } else {
            sql.batch("BEGIN IMMEDIATE")?;
        }
        let done = !sql.query("SELECT version FROM schema_migrations WHERE version = $1", &[Val::Int(*v)])?.is_empty();
        if done {
            sql.batch("COMMIT")?;
            continue;
        }
        if let Err(e) = sql.batch(text) {
            let _ = sql.batch("ROLLBACK");
            return Err(e);
        }
        sql.exec(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
            &[Val::Int(*v), Val::Int(0)],
        )?;
        sql.batch("COMMIT")?;
        applied.push(*v);
    }
    Ok(applied)
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: i64,
    pub actor: String,
    pub at_ms: i64,
    pub payload: String,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i64,
    pub actor: String,
    pub at_ms: i64,
    pub payload: String,
}

const EVENT_COLS: &str = "seq, stream_id, version, type, schema_version, actor, at_ms, payload";

fn event_from(r: &Row) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        seq: r.int(0)?,
        stream_id: r.text(1)?,
        version: r.int(2)?,
        event_type: r.text(3)?,
        schema_version: r.int(4)?,
        actor: r.text(5)?,
        at_ms: r.int(6)?,
        payload: r.text(7)?,
    })
}

/// The case-list projection row.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    pub case_no: String,
    pub subject_kind: String,
    pub subject_code: String,
    pub subject_version: i64,
    pub title: String,
    pub department: String,
    pub channel: String,
    pub service_point: String,
    pub status: String,
    pub applicant_account: Option<String>,
    pub submitted_at_ms: i64,
    pub accepted_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub deadline: Option<String>,
    pub version: i64,
    /// The folded case state as JSON: commands start from it without replaying the stream.
    pub state: String,
    /// HMAC-SM3 blind index of the applicant's ID number, to find a person's cases without storing the number.
    pub applicant_index: Option<String>,
}

const CASE_COLS: &str = "case_no, subject_kind, subject_code, subject_version, title, department, channel, service_point, status, applicant_account, submitted_at_ms, accepted_at_ms, finished_at_ms, deadline, version, state, applicant_index";

fn case_from(r: &Row) -> Result<CaseRow, StoreError> {
    Ok(CaseRow {
        case_no: r.text(0)?,
        subject_kind: r.text(1)?,
        subject_code: r.text(2)?,
        subject_version: r.int(3)?,
        title: r.text(4)?,
        department: r.text(5)?,
        channel: r.text(6)?,
        service_point: r.text(7)?,
        status: r.text(8)?,
        applicant_account: r.opt_text(9)?,
        submitted_at_ms: r.int(10)?,
        accepted_at_ms: r.opt_int(11)?,
        finished_at_ms: r.opt_int(12)?,
        deadline: r.opt_text(13)?,
        version: r.int(14)?,
        state: r.text(15)?,
        applicant_index: r.opt_text(16)?,
    })
}

/// An open task in a work queue.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub case_no: String,
    pub task_id: String,
    pub step_id: String,
    pub step_name: String,
    pub title: String,
    pub role: String,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub due: Option<String>,
    pub created_at_ms: i64,
}

const TASK_COLS: &str = "case_no, task_id, step_id, step_name, title, role, department, assignee, due, created_at_ms";

fn task_from(r: &Row) -> Result<TaskRow, StoreError> {
    Ok(TaskRow {
        case_no: r.text(0)?,
        task_id: r.text(1)?,
        step_id: r.text(2)?,
        step_name: r.text(3)?,
        title: r.text(4)?,
        role: r.text(5)?,
        department: r.opt_text(6)?,
        assignee: r.opt_text(7)?,
        due: r.opt_text(8)?,
        created_at_ms: r.int(9)?,
    })
}

/// Filters of the case list; every filter uses an index.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<String>,
    pub subject_code: Option<String>,
    pub department: Option<String>,
    pub channel: Option<String>,
    pub applicant_account: Option<String>,
    /// Cases of the applicant with this blind index.
    pub applicant_index: Option<String>,
    /// With `applicant_account`: also the cases of these applicants (blind indexes), e.g. the organisations an
    /// agent acts for.
    pub or_applicant_indexes: Vec<String>,
    /// Open cases whose deadline is on or before this date (ISO).
    pub due_by: Option<String>,
    /// Open cases whose deadline is before this date (ISO).
    pub overdue_on: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Filters of a work queue.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub roles: Vec<String>,
    pub department: Option<String>,
    /// `Some(id)`: tasks claimed by id; `None` with `unclaimed`: tasks nobody claimed.
    pub assignee: Option<String>,
    pub unclaimed: bool,
    pub due_by: Option<String>,
    pub overdue_on: Option<String>,
    pub limit: i64,
    pub offset: i64,
    /// Count at most this many (an inbox shows "1000+"); `None` counts them all.
    pub count_limit: Option<i64>,
}

/// A published catalog version (item or bundle).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogRow {
    pub kind: String,
    pub code: String,
    pub version: i64,
    pub body: String,
    pub published_at_ms: i64,
    pub published_by: String,
    pub reason: String,
}

/// An account. Debug output never shows the password hash.
#[derive(Clone, PartialEq)]
pub struct AccountRow {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    /// Comma-separated role names.
    pub roles: String,
    pub department: Option<String>,
    pub active: bool,
    /// The service point a staff member is posted to (written by `set_staff_post`; not part of a new account).
    pub service_point: Option<String>,
}

impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("username", &self.username)
            .field("roles", &self.roles)
            .field("department", &self.department)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub event_seq: i64,
    pub recipient: String,
    pub case_no: String,
    pub kind: String,
    pub message: String,
    pub created_at_ms: i64,
}

/// A natural person's profile: the ID number and phone sealed, the ID found by its blind index.
#[derive(Clone, PartialEq)]
pub struct PersonRow {
    pub username: String,
    pub name: String,
    pub id_sealed: String,
    pub id_index: String,
    pub phone_sealed: Option<String>,
    pub created_at_ms: i64,
}

impl std::fmt::Debug for PersonRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonRow").field("username", &self.username).field("name", &self.name).finish_non_exhaustive()
    }
}

fn person_from(r: &Row) -> Result<PersonRow, StoreError> {
    Ok(PersonRow {
        username: r.text(0)?,
        name: r.text(1)?,
        id_sealed: r.text(2)?,
        id_index: r.text(3)?,
        phone_sealed: r.opt_text(4)?,
        created_at_ms: r.int(5)?,
    })
}

/// An organisation: its name and the account that claims to be its legal representative. `status` is
/// `verified` (by `verified_by`: `license:<identifier>` or a window clerk's username) or `pending`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrganisationRow {
    pub uscc: String,
    pub name: String,
    pub legal_representative: String,
    pub status: String,
    pub verified_by: Option<String>,
}

fn organisation_from(r: &Row) -> Result<OrganisationRow, StoreError> {
    Ok(OrganisationRow {
        uscc: r.text(0)?,
        name: r.text(1)?,
        legal_representative: r.text(2)?,
        status: r.text(3)?,
        verified_by: r.opt_text(4)?,
    })
}

/// One version of an electronic licence.
#[derive(Debug, Clone, PartialEq)]
pub struct LicenseRow {
    pub identifier: String,
    pub lineage: String,
    pub version: i64,
    pub number: String,
    pub license_type: String,
    pub holder_name: String,
    pub holder_index: Option<String>,
    pub case_no: Option<String>,
    /// valid | superseded | cancelled | revoked
    pub status: String,
    pub issued: String,
    pub valid_to: Option<String>,
    pub status_index: i64,
    /// The licence as JSON (personal values sealed).
    pub body: String,
    /// The exact bytes the seal signed (public content, canonical JSON).
    pub signed_payload: String,
    pub key_id: String,
    /// Hex DER SM2 signature over `signed_payload`.
    pub signature: String,
    pub qr: String,
    pub reason: Option<String>,
}

const LICENSE_COLS: &str = "identifier, lineage, version, number, license_type, holder_name, holder_index, case_no, status, issued, valid_to, status_index, body, signed_payload, key_id, signature, qr, reason";

fn license_from(r: &Row) -> Result<LicenseRow, StoreError> {
    Ok(LicenseRow {
        identifier: r.text(0)?,
        lineage: r.text(1)?,
        version: r.int(2)?,
        number: r.text(3)?,
        license_type: r.text(4)?,
        holder_name: r.text(5)?,
        holder_index: r.opt_text(6)?,
        case_no: r.opt_text(7)?,
        status: r.text(8)?,
        issued: r.text(9)?,
        valid_to: r.opt_text(10)?,
        status_index: r.int(11)?,
        body: r.text(12)?,
        signed_payload: r.text(13)?,
        key_id: r.text(14)?,
        signature: r.text(15)?,
        qr: r.text(16)?,
        reason: r.opt_text(17)?,
    })
}

/// An uploaded file: its metadata and its sealed bytes.
#[derive(Clone, PartialEq)]
pub struct AttachmentRow {
    pub id: String,
    pub owner: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// The bytes, sealed with SM4-GCM (base64 inside the sealed token).
    pub sealed: String,
    pub created_at_ms: i64,
}

impl std::fmt::Debug for AttachmentRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AttachmentRow({} {} bytes, {})", self.id, self.size, self.content_type)
    }
}

const ATTACHMENT_COLS: &str = "id, owner, file_name, content_type, size, sha256, sealed, created_at_ms";

fn attachment_from(r: &Row) -> Result<AttachmentRow, StoreError> {
    Ok(AttachmentRow {
        id: r.text(0)?,
        owner: r.text(1)?,
        file_name: r.text(2)?,
        content_type: r.text(3)?,
        size: r.int(4)?,
        sha256: r.text(5)?,
        sealed: r.text(6)?,
        created_at_ms: r.int(7)?,
    })
}

/// A case as electronic supervision watches it: the dates its alerts fall due (`None`: nothing to watch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchRow {
    pub case_no: String,
    pub department: String,
    pub title: String,
    pub step_name: Option<String>,
    pub assignee: Option<String>,
    pub deadline: Option<String>,
    pub yellow_on: Option<String>,
    pub red_on: Option<String>,
    pub stall_on: Option<String>,
    pub pledge_due: Option<String>,
}

const WATCH_COLS: &str =
    "case_no, department, title, step_name, assignee, deadline, yellow_on, red_on, stall_on, pledge_due";

fn watch_from(r: &Row) -> Result<WatchRow, StoreError> {
    Ok(WatchRow {
        case_no: r.text(0)?,
        department: r.text(1)?,
        title: r.text(2)?,
        step_name: r.opt_text(3)?,
        assignee: r.opt_text(4)?,
        deadline: r.opt_text(5)?,
        yellow_on: r.opt_text(6)?,
        red_on: r.opt_text(7)?,
        stall_on: r.opt_text(8)?,
        pledge_due: r.opt_text(9)?,
    })
}

/// A supervision alert (projection of its stream).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub id: String,
    pub kind: String,
    pub level: String,
    /// The case the alert is about (absent for a project's alert).
    pub case_no: Option<String>,
    pub department: String,
    pub person: Option<String>,
    pub title: String,
    pub detail: String,
    /// JSON array of the evidence events' global sequence numbers.
    pub evidence: String,
    pub raised_at_ms: i64,
    pub status: String,
    pub closed_at_ms: Option<i64>,
    pub closed_by: Option<String>,
    pub note: Option<String>,
    /// The construction project the alert is about (its yellow and red stage and span alerts).
    pub project_code: Option<String>,
}

const ALERT_COLS: &str = "id, kind, level, case_no, department, person, title, detail, evidence, raised_at_ms, \
                          status, closed_at_ms, closed_by, note, project_code";

fn alert_from(r: &Row) -> Result<AlertRow, StoreError> {
    Ok(AlertRow {
        id: r.text(0)?,
        kind: r.text(1)?,
        level: r.text(2)?,
        case_no: r.opt_text(3)?,
        department: r.text(4)?,
        person: r.opt_text(5)?,
        title: r.text(6)?,
        detail: r.text(7)?,
        evidence: r.text(8)?,
        raised_at_ms: r.int(9)?,
        status: r.text(10)?,
        closed_at_ms: r.opt_int(11)?,
        closed_by: r.opt_text(12)?,
        note: r.opt_text(13)?,
        project_code: r.opt_text(14)?,
    })
}

/// An alert's values in `ALERT_COLS` order.
fn alert_params(a: &AlertRow) -> [Val; ALERT_WIDTH] {
    [
        a.id.as_str().into(),
        a.kind.as_str().into(),
        a.level.as_str().into(),
        a.case_no.clone().into(),
        a.department.as_str().into(),
        a.person.clone().into(),
        a.title.as_str().into(),
        a.detail.as_str().into(),
        a.evidence.as_str().into(),
        Val::Int(a.raised_at_ms),
        a.status.as_str().into(),
        a.closed_at_ms.into(),
        a.closed_by.clone().into(),
        a.note.clone().into(),
        a.project_code.clone().into(),
    ]
}

/// The number of `ALERT_COLS`.
const ALERT_WIDTH: usize = 15;

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub department: Option<String>,
    pub kind: Option<String>,
    pub case_no: Option<String>,
    pub project_code: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// An urging notice (督办), projected from its stream.
#[derive(Debug, Clone, PartialEq)]
pub struct UrgingRow {
    pub id: String,
    pub case_no: String,
    pub alert_id: Option<String>,
    pub department: String,
    pub person: Option<String>,
    pub message: String,
    pub due: String,
    /// open | replied | closed
    pub status: String,
    pub escalated: bool,
    pub issued_by: String,
    pub issued_at_ms: i64,
    pub reply: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at_ms: Option<i64>,
    pub closed_note: Option<String>,
}

const URGING_COLS: &str = "id, case_no, alert_id, department, person, message, due, status, escalated, issued_by, issued_at_ms, reply, replied_by, replied_at_ms, closed_note";

fn urging_from(r: &Row) -> Result<UrgingRow, StoreError> {
    Ok(UrgingRow {
        id: r.text(0)?,
        case_no: r.text(1)?,
        alert_id: r.opt_text(2)?,
        department: r.text(3)?,
        person: r.opt_text(4)?,
        message: r.text(5)?,
        due: r.text(6)?,
        status: r.text(7)?,
        escalated: r.int(8)? != 0,
        issued_by: r.text(9)?,
        issued_at_ms: r.int(10)?,
        reply: r.opt_text(11)?,
        replied_by: r.opt_text(12)?,
        replied_at_ms: r.opt_int(13)?,
        closed_note: r.opt_text(14)?,
    })
}

/// A seal key: public PEM, private key sealed under the passphrase.
#[derive(Clone, PartialEq)]
pub struct SealKeyRow {
    pub key_id: String,
    pub public_pem: String,
    pub private_sealed: String,
    pub salt: String,
    pub valid_from_ms: i64,
    pub valid_to_ms: Option<i64>,
    pub current: bool,
}

impl std::fmt::Debug for SealKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKeyRow")
            .field("key_id", &self.key_id)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

/// An API token (only its hash is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiTokenRow {
    pub id: String,
    pub token_hash: String,
    pub owner: String,
    pub name: String,
    /// Comma-separated scopes.
    pub scopes: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

const TOKEN_COLS: &str = "id, token_hash, owner, name, scopes, created_at_ms, expires_at_ms, revoked_at_ms";

fn token_from(r: &Row) -> Result<ApiTokenRow, StoreError> {
    Ok(ApiTokenRow {
        id: r.text(0)?,
        token_hash: r.text(1)?,
        owner: r.text(2)?,
        name: r.text(3)?,
        scopes: r.text(4)?,
        created_at_ms: r.int(5)?,
        expires_at_ms: r.int(6)?,
        revoked_at_ms: r.opt_int(7)?,
    })
}

/// A wrapped data key for personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct DataKeyRow {
    pub id: String,
    pub wrapped: String,
    pub master_fingerprint: String,
    pub created_at_ms: i64,
    pub current: bool,
}

/// One recorded read of a person's data by staff.
#[derive(Debug, Clone, PartialEq)]
pub struct PdAccess {
    pub event_seq: i64,
    pub subject_account: Option<String>,
    pub case_no: String,
    pub actor: String,
    pub at_ms: i64,
    pub reason: String,
    /// Comma-separated field names, `masked` for a masked view.
    pub fields: String,
}

/// A projection table (rebuilt from the events by `rebuild`) and the columns that order its rows: a feature
/// registers its tables here, once.
#[derive(Debug, Clone, Copy)]
pub struct Projection {
    pub table: &'static str,
    /// The key columns, in order: how `rebuild --check` lists the rows to compare.
    pub key: &'static str,
}

/// Every projection table.
pub const PROJECTIONS: &[Projection] = &[
    Projection { table: "cases", key: "case_no" },
    Projection { table: "tasks", key: "case_no, task_id" },
    Projection { table: "catalog_versions", key: "kind, code, version" },
    Projection { table: "calendar_years", key: "year" },
    Projection { table: "pd_access", key: "event_seq" },
    Projection { table: "licenses", key: "identifier" },
    Projection { table: "alerts", key: "id" },
    Projection { table: "urgings", key: "id" },
    Projection { table: "liaison_messages", key: "id" },
    Projection { table: "consultations", key: "id" },
    Projection { table: "tickets", key: "ticket_no" },
    Projection { table: "ratings", key: "id" },
    Projection { table: "hotline_directory", key: "version" },
    Projection { table: "kb_articles", key: "id, version" },
    Projection { table: "service_network", key: "version" },
    Projection { table: "appointments", key: "code" },
    Projection { table: "appointment_slots", key: "point, date, slot, item" },
    Projection { table: "queue_numbers", key: "stream_id" },
    Projection { table: "shipments", key: "id" },
    Projection { table: "inspection_facts", key: "case_no" },
    Projection { table: "projects", key: "code" },
    Projection { table: "project_assistants", key: "code, assistant" },
    Projection { table: "project_assessment_parts", key: "code, kind" },
    Projection { table: "project_cases", key: "case_no" },
];

mod accounts;
mod attachments;

mod cases;
mod events;
mod licences;
mod nodes;
mod parties;
mod personal_data;
mod rebuild;
mod supervision;
mod transparency;
mod videos;
pub use videos::VideoUploadRow;

impl Db {
    pub fn backend(&self) -> Backend {
        self.sql.backend()
    }
}
