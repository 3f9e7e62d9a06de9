//! Every read and write the application makes, written once in portable SQL over [`Sql`].

use crate::sql::{Row, Sql, Val};
use crate::{Backend, StoreError};

/// A connection handed to read and write jobs.
pub struct Db {
    pub(crate) sql: Box<dyn Sql>,
}

const MIGRATIONS_SQLITE: &[(i64, &str)] = &[
    (1, include_str!("migrations/sqlite_0001_init.sql")),
    (2, include_str!("migrations/sqlite_0002_personal_data.sql")),
    (3, include_str!("migrations/sqlite_0003_api_tokens.sql")),
    (4, include_str!("migrations/sqlite_0004_totp.sql")),
    (5, include_str!("migrations/sqlite_0005_parties.sql")),
    (6, include_str!("migrations/sqlite_0006_staff_posts.sql")),
    (7, include_str!("migrations/sqlite_0007_seal_keys.sql")),
    (8, include_str!("migrations/sqlite_0008_licenses.sql")),
    (9, include_str!("migrations/sqlite_0009_transparency.sql")),
    (10, include_str!("migrations/sqlite_0010_attachments_drafts.sql")),
    (11, include_str!("migrations/sqlite_0011_task_order.sql")),
    (12, include_str!("migrations/sqlite_0012_supervision.sql")),
    (13, include_str!("migrations/sqlite_0013_urgings.sql")),
    (14, include_str!("migrations/sqlite_0014_liaison.sql")),
    (15, include_str!("migrations/sqlite_0015_dashboard.sql")),
    (16, include_str!("migrations/sqlite_0016_hotline_ratings.sql")),
    (17, include_str!("migrations/sqlite_0017_organisation_verification.sql")),
    (18, include_str!("migrations/sqlite_0018_attachment_binding.sql")),
    (19, include_str!("migrations/sqlite_0019_account_identities.sql")),
    (20, include_str!("migrations/sqlite_0020_license_holder_type.sql")),
];
const MIGRATIONS_PG: &[(i64, &str)] = &[
    (1, include_str!("migrations/postgres_0001_init.sql")),
    (2, include_str!("migrations/postgres_0002_personal_data.sql")),
    (3, include_str!("migrations/postgres_0003_api_tokens.sql")),
    (4, include_str!("migrations/postgres_0004_totp.sql")),
    (5, include_str!("migrations/postgres_0005_parties.sql")),
    (6, include_str!("migrations/postgres_0006_staff_posts.sql")),
    (7, include_str!("migrations/postgres_0007_seal_keys.sql")),
    (8, include_str!("migrations/postgres_0008_licenses.sql")),
    (9, include_str!("migrations/postgres_0009_transparency.sql")),
    (10, include_str!("migrations/postgres_0010_attachments_drafts.sql")),
    (11, include_str!("migrations/postgres_0011_task_order.sql")),
    (12, include_str!("migrations/postgres_0012_supervision.sql")),
    (13, include_str!("migrations/postgres_0013_urgings.sql")),
    (14, include_str!("migrations/postgres_0014_liaison.sql")),
    (15, include_str!("migrations/postgres_0015_dashboard.sql")),
    (16, include_str!("migrations/postgres_0016_hotline_ratings.sql")),
    (17, include_str!("migrations/postgres_0017_organisation_verification.sql")),
    (18, include_str!("migrations/postgres_0018_attachment_binding.sql")),
    (19, include_str!("migrations/postgres_0019_account_identities.sql")),
    (20, include_str!("migrations/postgres_0020_license_holder_type.sql")),
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
    pub case_no: String,
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
}

const ALERT_COLS: &str =
    "id, kind, level, case_no, department, person, title, detail, evidence, raised_at_ms, status, closed_at_ms, closed_by, note";

fn alert_from(r: &Row) -> Result<AlertRow, StoreError> {
    Ok(AlertRow {
        id: r.text(0)?,
        kind: r.text(1)?,
        level: r.text(2)?,
        case_no: r.text(3)?,
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
    })
}

/// An alert's values in `ALERT_COLS` order.
fn alert_params(a: &AlertRow) -> [Val; 14] {
    [
        a.id.as_str().into(),
        a.kind.as_str().into(),
        a.level.as_str().into(),
        a.case_no.as_str().into(),
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
    ]
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub department: Option<String>,
    pub kind: Option<String>,
    pub case_no: Option<String>,
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

/// Projection tables that `rebuild` empties and refills from the events.
pub const PROJECTION_TABLES: &[&str] = &[
    "cases",
    "tasks",
    "catalog_versions",
    "calendar_years",
    "pd_access",
    "licenses",
    "alerts",
    "urgings",
    "liaison_messages",
    "consultations",
    "tickets",
    "ratings",
    "hotline_directory",
    "kb_articles",
];

impl Db {
    pub fn backend(&self) -> Backend {
        self.sql.backend()
    }

    // ---- events ----

    /// The current version of a stream (0 when it has no events).
    pub fn stream_version(&mut self, stream: &str) -> Result<i64, StoreError> {
        let rows = self.sql.query("SELECT MAX(version) FROM events WHERE stream_id = $1", &[stream.into()])?;
        Ok(rows.first().map(|r| r.opt_int(0)).transpose()?.flatten().unwrap_or(0))
    }

    /// Append events to a stream that must be at `expected` version; refused whole otherwise.
    pub fn append(&mut self, stream: &str, expected: i64, events: &[NewEvent]) -> Result<Vec<i64>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        if self.backend() == Backend::Sqlite {
            return self.append_row_by_row(stream, expected, events);
        }
        // One statement: the rows go in only if the stream is still at `expected` (one round trip on PostgreSQL,
        // where round trips dominate; on SQLite, in-process, plain statements are cheaper).
        let mut params: Vec<Val> = vec![stream.into()];
        let mut rows = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let n = params.len();
            params.extend([
                Val::Int(expected + 1 + i as i64),
                e.event_type.as_str().into(),
                Val::Int(e.schema_version),
                e.actor.as_str().into(),
                Val::Int(e.at_ms),
                e.payload.as_str().into(),
            ]);
            rows.push(format!(
                "($1, CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT))",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            ));
        }
        params.push(Val::Int(expected));
        let sql = format!(
            "INSERT INTO events (stream_id, version, type, schema_version, actor, at_ms, payload) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7 FROM (VALUES {}) AS v \
             WHERE (SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $1) = ${} RETURNING seq",
            rows.join(", "),
            params.len()
        );
        let inserted = self.sql.query(&sql, &params).map_err(|err| match err {
            StoreError::Constraint(_) => {
                StoreError::Conflict { stream: stream.to_string(), expected, actual: expected + 1 }
            }
            other => other,
        })?;
        if inserted.is_empty() {
            let actual = self.stream_version(stream)?;
            return Err(StoreError::Conflict { stream: stream.to_string(), expected, actual });
        }
        let mut seqs = inserted.iter().map(|r| r.int(0)).collect::<Result<Vec<_>, _>>()?;
        seqs.sort_unstable();
        let items: Vec<(i64, i64, &NewEvent)> =
            seqs.iter().zip(events).enumerate().map(|(i, (seq, e))| (*seq, expected + 1 + i as i64, e)).collect();
        self.add_leaves(stream, &items)?;
        Ok(seqs)
    }

    /// Start each stream of `items` with its event, skipping streams that exist already; returns the streams
    /// created with their event's sequence. Idempotent by stream id — the way alerts are raised once — and, on
    /// PostgreSQL, a few round trips per thousand streams instead of several per stream.
    pub fn create_streams(&mut self, items: &[(String, NewEvent)]) -> Result<Vec<(String, i64)>, StoreError> {
        let mut created: Vec<(String, i64)> = Vec::new();
        if self.backend() == Backend::Sqlite {
            for (stream, e) in items {
                if self.stream_version(stream)? == 0 && !created.iter().any(|(s, _)| s == stream) {
                    let seqs = self.append(stream, 0, std::slice::from_ref(e))?;
                    created.push((stream.clone(), seqs.first().copied().unwrap_or_default()));
                }
            }
            return Ok(created);
        }
        for chunk in items.chunks(1000) {
            let mut params: Vec<Val> = Vec::with_capacity(chunk.len() * 6);
            let mut rows = Vec::with_capacity(chunk.len());
            for (stream, e) in chunk {
                let n = params.len();
                params.extend([
                    stream.as_str().into(),
                    e.event_type.as_str().into(),
                    Val::Int(e.schema_version),
                    e.actor.as_str().into(),
                    Val::Int(e.at_ms),
                    e.payload.as_str().into(),
                ]);
                rows.push(format!(
                    "(CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT))",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6
                ));
            }
            let sql = format!(
                "INSERT INTO events (stream_id, version, type, schema_version, actor, at_ms, payload) \
                 SELECT DISTINCT ON (v.column1) v.column1, 1, v.column2, v.column3, v.column4, v.column5, v.column6 FROM (VALUES {}) AS v \
                 WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = v.column1) ORDER BY v.column1 RETURNING seq, stream_id",
                rows.join(", ")
            );
            let inserted = self.sql.query(&sql, &params)?;
            let mut got =
                inserted.iter().map(|r| Ok((r.int(0)?, r.text(1)?))).collect::<Result<Vec<_>, StoreError>>()?;
            got.sort_unstable();
            let leaves: Vec<(i64, &str, i64, &NewEvent)> = got
                .iter()
                .filter_map(|(seq, stream)| {
                    chunk.iter().find(|(s, _)| s == stream).map(|(s, e)| (*seq, s.as_str(), 1, e))
                })
                .collect();
            self.add_leaves_of(&leaves)?;
            created.extend(got.into_iter().map(|(seq, stream)| (stream, seq)));
        }
        Ok(created)
    }

    fn append_row_by_row(&mut self, stream: &str, expected: i64, events: &[NewEvent]) -> Result<Vec<i64>, StoreError> {
        let actual = self.stream_version(stream)?;
        if actual != expected {
            return Err(StoreError::Conflict { stream: stream.to_string(), expected, actual });
        }
        let mut seqs = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let rows = self
                .sql
                .query(
                    "INSERT INTO events (stream_id, version, type, schema_version, actor, at_ms, payload) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
                    &[
                        stream.into(),
                        Val::Int(expected + 1 + i as i64),
                        e.event_type.as_str().into(),
                        Val::Int(e.schema_version),
                        e.actor.as_str().into(),
                        Val::Int(e.at_ms),
                        e.payload.as_str().into(),
                    ],
                )
                .map_err(|err| match err {
                    StoreError::Constraint(_) => StoreError::Conflict { stream: stream.to_string(), expected, actual: expected + 1 },
                    other => other,
                })?;
            let seq = rows.first().ok_or_else(|| StoreError::Decode("no seq returned".into()))?.int(0)?;
            seqs.push(seq);
        }
        let items: Vec<(i64, i64, &NewEvent)> =
            seqs.iter().zip(events).enumerate().map(|(i, (seq, e))| (*seq, expected + 1 + i as i64, e)).collect();
        self.add_leaves(stream, &items)?;
        Ok(seqs)
    }

    /// Make each event a leaf of the transparency log, in the same transaction (no event without a leaf). The
    /// tree's inner nodes are folded in later by [`Db::sync_tree`], off the hot path.
    fn add_leaves(&mut self, stream: &str, items: &[(i64, i64, &NewEvent)]) -> Result<(), StoreError> {
        let all: Vec<(i64, &str, i64, &NewEvent)> = items.iter().map(|(seq, v, e)| (*seq, stream, *v, *e)).collect();
        self.add_leaves_of(&all)
    }

    /// The leaves of events of several streams, given in sequence order.
    fn add_leaves_of(&mut self, items: &[(i64, &str, i64, &NewEvent)]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        // Two statements whatever the number of events (each is a round trip on PostgreSQL): take the leaf indexes
        // by moving the head, then insert every leaf at once. A rolled-back job takes both back.
        let n = items.len() as i64;
        let head =
            self.sql.query("UPDATE log_head SET size = size + $1 WHERE id = 1 RETURNING size, hash", &[Val::Int(n)])?;
        let head = head.first().ok_or_else(|| StoreError::Decode("no log head".into()))?;
        let (first, kind) = (head.int(0)? - n, crate::merkle::kind(&head.text(1)?)?);
        let mut params = Vec::with_capacity(items.len() * 3);
        let mut rows = Vec::with_capacity(items.len());
        for (i, (seq, stream, version, e)) in items.iter().enumerate() {
            let leaf = kind.leaf(&crate::merkle::leaf_bytes(
                *seq,
                stream,
                *version,
                &e.event_type,
                e.schema_version,
                &e.actor,
                e.at_ms,
                &e.payload,
            ));
            rows.push(format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
            params.extend([Val::Int(*seq), Val::Int(first + i as i64), crate::merkle::hex(&leaf).into()]);
        }
        let sql = format!("INSERT INTO event_leaves (seq, leaf_index, leaf_hash) VALUES {}", rows.join(", "));
        self.sql.exec(&sql, &params)?;
        Ok(())
    }

    /// Fold the leaves written since the last call into the Merkle node table (O(log n) per leaf). Run in a write
    /// job before checkpoints and proofs; returns the tree size.
    pub fn sync_tree(&mut self) -> Result<u64, StoreError> {
        self.fold_tree(u64::MAX)
    }

    /// Fold at most `max` new leaves into the tree (keeps each write transaction short); returns the tree size.
    pub fn fold_tree(&mut self, max: u64) -> Result<u64, StoreError> {
        let rows = self.sql.query("SELECT size, tree_size, hash FROM log_head WHERE id = 1", &[])?;
        let r = rows.first().ok_or_else(|| StoreError::Decode("no log head".into()))?;
        let (size, mut tree, kind) = (r.int(0)?, r.int(1)? as u64, crate::merkle::kind(&r.text(2)?)?);
        let size = size.min(tree.saturating_add(max).min(i64::MAX as u64) as i64);
        let before = tree;
        while (tree as i64) < size {
            let leaves = self.event_leaves_from(tree as i64 - 1, (size - tree as i64).min(5000))?;
            if leaves.is_empty() {
                break;
            }
            for (_, index, hash) in leaves {
                if index != tree {
                    return Err(StoreError::Decode(format!("transparency log: leaf {tree} is missing")));
                }
                tree = oneseal_seal::merkle::append(&mut crate::merkle::SqlNodes(self), kind, tree, hash)
                    .map_err(|e| StoreError::Db(format!("transparency log: {e:?}")))?;
            }
        }
        if tree != before {
            // Only when something was folded: an idle server's once-a-second fold writes nothing.
            self.sql.exec("UPDATE log_head SET tree_size = $1 WHERE id = 1", &[Val::Int(tree as i64)])?;
        }
        Ok(tree)
    }

    pub fn read_stream(&mut self, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE stream_id = $1 ORDER BY version");
        self.sql.query(&sql, &[stream.into()])?.iter().map(event_from).collect()
    }

    /// Events after a global sequence number, in order.
    pub fn read_from(&mut self, after_seq: i64, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2");
        self.sql.query(&sql, &[Val::Int(after_seq), Val::Int(limit)])?.iter().map(event_from).collect()
    }

    pub fn last_seq(&mut self) -> Result<i64, StoreError> {
        let rows = self.sql.query("SELECT MAX(seq) FROM events", &[])?;
        Ok(rows.first().map(|r| r.opt_int(0)).transpose()?.flatten().unwrap_or(0))
    }

    pub fn count_events(&mut self) -> Result<i64, StoreError> {
        self.sql.query("SELECT COUNT(*) FROM events", &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    // ---- cases and tasks ----

    /// Write the projection of one case: its row and its open tasks.
    pub fn put_case(&mut self, row: &CaseRow, tasks: &[TaskRow]) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO cases ({CASE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (case_no) DO UPDATE SET status = excluded.status, accepted_at_ms = excluded.accepted_at_ms, \
             finished_at_ms = excluded.finished_at_ms, deadline = excluded.deadline, version = excluded.version, state = excluded.state, \
             applicant_index = excluded.applicant_index"
        );
        self.sql.exec(
            &sql,
            &[
                row.case_no.as_str().into(),
                row.subject_kind.as_str().into(),
                row.subject_code.as_str().into(),
                Val::Int(row.subject_version),
                row.title.as_str().into(),
                row.department.as_str().into(),
                row.channel.as_str().into(),
                row.service_point.as_str().into(),
                row.status.as_str().into(),
                row.applicant_account.clone().into(),
                Val::Int(row.submitted_at_ms),
                row.accepted_at_ms.into(),
                row.finished_at_ms.into(),
                row.deadline.clone().into(),
                Val::Int(row.version),
                row.state.as_str().into(),
                row.applicant_index.clone().into(),
            ],
        )?;
        if self.backend() == Backend::Sqlite {
            return self.put_tasks_diff(&row.case_no, tasks);
        }
        // PostgreSQL: replace the case's open tasks in two statements whatever changed.
        self.sql.exec("DELETE FROM tasks WHERE case_no = $1", &[row.case_no.as_str().into()])?;
        if tasks.is_empty() {
            return Ok(());
        }
        let mut params: Vec<Val> = Vec::with_capacity(tasks.len() * 10);
        let mut values = Vec::with_capacity(tasks.len());
        for t in tasks {
            let n = params.len();
            values.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7,
                n + 8,
                n + 9,
                n + 10
            ));
            params.extend([
                t.case_no.as_str().into(),
                t.task_id.as_str().into(),
                t.step_id.as_str().into(),
                t.step_name.as_str().into(),
                t.title.as_str().into(),
                t.role.as_str().into(),
                t.department.clone().into(),
                t.assignee.clone().into(),
                t.due.clone().into(),
                Val::Int(t.created_at_ms),
            ]);
        }
        self.sql.exec(&format!("INSERT INTO tasks ({TASK_COLS}) VALUES {}", values.join(", ")), &params)?;
        Ok(())
    }

    /// SQLite: touch only the tasks that changed (statements are in-process and cheap; index churn is not).
    fn put_tasks_diff(&mut self, case_no: &str, tasks: &[TaskRow]) -> Result<(), StoreError> {
        let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE case_no = $1");
        let existing: Vec<TaskRow> =
            self.sql.query(&sql, &[case_no.into()])?.iter().map(task_from).collect::<Result<_, _>>()?;
        for old in &existing {
            if !tasks.iter().any(|t| t.task_id == old.task_id) {
                self.sql.exec(
                    "DELETE FROM tasks WHERE case_no = $1 AND task_id = $2",
                    &[case_no.into(), old.task_id.as_str().into()],
                )?;
            }
        }
        for t in tasks {
            if existing.iter().any(|o| o == t) {
                continue;
            }
            let sql = format!(
                "INSERT INTO tasks ({TASK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (case_no, task_id) DO UPDATE SET assignee = excluded.assignee, due = excluded.due"
            );
            self.sql.exec(
                &sql,
                &[
                    t.case_no.as_str().into(),
                    t.task_id.as_str().into(),
                    t.step_id.as_str().into(),
                    t.step_name.as_str().into(),
                    t.title.as_str().into(),
                    t.role.as_str().into(),
                    t.department.clone().into(),
                    t.assignee.clone().into(),
                    t.due.clone().into(),
                    Val::Int(t.created_at_ms),
                ],
            )?;
        }
        Ok(())
    }

    pub fn get_case(&mut self, case_no: &str) -> Result<Option<CaseRow>, StoreError> {
        let sql = format!("SELECT {CASE_COLS} FROM cases WHERE case_no = $1");
        self.sql.query(&sql, &[case_no.into()])?.first().map(case_from).transpose()
    }

    /// A page of cases (newest first) and the total matching.
    pub fn list_cases(&mut self, f: &CaseFilter) -> Result<(Vec<CaseRow>, i64), StoreError> {
        let mut wh: Vec<String> = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        // Push a value and get its placeholder.
        fn ph(params: &mut Vec<Val>, v: Val) -> String {
            params.push(v);
            format!("${}", params.len())
        }
        for (col, v) in [
            ("status", &f.status),
            ("subject_code", &f.subject_code),
            ("department", &f.department),
            ("channel", &f.channel),
            ("applicant_index", &f.applicant_index),
        ] {
            if let Some(v) = v {
                let p = ph(&mut params, v.into());
                wh.push(format!("{col} = {p}"));
            }
        }
        if let Some(s) = &f.applicant_account {
            let mut ors = vec![format!("applicant_account = {}", ph(&mut params, s.into()))];
            for ix in &f.or_applicant_indexes {
                ors.push(format!("applicant_index = {}", ph(&mut params, ix.into())));
            }
            wh.push(format!("({})", ors.join(" OR ")));
        }
        if let Some(d) = &f.due_by {
            let p = ph(&mut params, d.into());
            wh.push(format!("deadline <= {p}"));
        }
        if let Some(d) = &f.overdue_on {
            let p = ph(&mut params, d.into());
            wh.push(format!("deadline < {p}"));
        }
        if f.due_by.is_some() || f.overdue_on.is_some() {
            wh.push("status IN ('in_progress', 'suspended')".into());
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        let total = self
            .sql
            .query(&format!("SELECT COUNT(*) FROM cases{where_sql}"), &params)?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let n = params.len();
        params.push(Val::Int(f.limit));
        params.push(Val::Int(f.offset));
        let sql = format!(
            "SELECT {CASE_COLS} FROM cases{where_sql} ORDER BY submitted_at_ms DESC, case_no DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = self.sql.query(&sql, &params)?.iter().map(case_from).collect::<Result<_, _>>()?;
        Ok((rows, total))
    }

    pub fn count_cases(&mut self) -> Result<i64, StoreError> {
        self.sql.query("SELECT COUNT(*) FROM cases", &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    /// Open tasks of a work queue, most urgent first, and the total matching.
    pub fn work_queue(&mut self, f: &TaskFilter) -> Result<(Vec<TaskRow>, i64), StoreError> {
        let mut wh = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        if !f.roles.is_empty() {
            let mut ph = Vec::new();
            for r in &f.roles {
                params.push(r.into());
                ph.push(format!("${}", params.len()));
            }
            wh.push(format!("role IN ({})", ph.join(", ")));
        }
        if let Some(d) = &f.department {
            params.push(d.into());
            wh.push(format!("(department = ${} OR department IS NULL)", params.len()));
        }
        if let Some(a) = &f.assignee {
            params.push(a.into());
            wh.push(format!("assignee = ${}", params.len()));
        } else if f.unclaimed {
            wh.push("assignee IS NULL".into());
        }
        if let Some(d) = &f.due_by {
            params.push(d.into());
            wh.push(format!("due <= ${}", params.len()));
        }
        if let Some(d) = &f.overdue_on {
            params.push(d.into());
            wh.push(format!("due < ${}", params.len()));
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        let count_sql = match f.count_limit {
            Some(cap) => format!("SELECT COUNT(*) FROM (SELECT 1 FROM tasks{where_sql} LIMIT {}) capped", cap.max(0)),
            None => format!("SELECT COUNT(*) FROM tasks{where_sql}"),
        };
        let total = self.sql.query(&count_sql, &params)?.first().map_or(Ok(0), |r| r.int(0))?;
        // The list, most urgent first (no due date last). A section's queue is read as a top-k merge: one ordered
        // walk of the tasks_pick index per (role, department-or-none) pair, each stopping after limit + offset
        // rows, then the few candidates sorted; so neither a big queue (100,000 open tasks) nor a small one in a
        // big table costs a sort of everything. One person's claimed tasks come by their own index.
        const ORDER: &str = "COALESCE(due, '9999-12-31'), created_at_ms, case_no, task_id";
        let sql = match (&f.department, f.assignee.is_none() && !f.roles.is_empty()) {
            (Some(dept), true) => {
                // Placeholders are numbered in the order they appear in the text: SQLite numbers `$N` names by
                // first appearance, so each part binds its own copies.
                let mut p2: Vec<Val> = Vec::new();
                let k = f.limit.max(0) + f.offset.max(0);
                let mut parts = Vec::new();
                for r in &f.roles {
                    for with_dept in [true, false] {
                        p2.push(r.into());
                        let mut conds = vec![format!("role = ${}", p2.len())];
                        if with_dept {
                            p2.push(dept.into());
                            conds.push(format!("department = ${}", p2.len()));
                        } else {
                            conds.push("department IS NULL".into());
                        }
                        if f.unclaimed {
                            conds.push("assignee IS NULL".into());
                        }
                        if let Some(d) = &f.due_by {
                            p2.push(d.into());
                            conds.push(format!("due <= ${}", p2.len()));
                        }
                        if let Some(d) = &f.overdue_on {
                            p2.push(d.into());
                            conds.push(format!("due < ${}", p2.len()));
                        }
                        parts.push(format!(
                            "SELECT * FROM (SELECT {TASK_COLS} FROM tasks WHERE {} ORDER BY {ORDER} LIMIT {k}) q{}",
                            conds.join(" AND "),
                            parts.len()
                        ));
                    }
                }
                p2.push(Val::Int(f.limit));
                p2.push(Val::Int(f.offset));
                let n = p2.len();
                params = p2;
                format!(
                    "SELECT {TASK_COLS} FROM ({}) merged ORDER BY {ORDER} LIMIT ${} OFFSET ${}",
                    parts.join(" UNION ALL "),
                    n - 1,
                    n
                )
            }
            _ => {
                let n = params.len();
                params.push(Val::Int(f.limit));
                params.push(Val::Int(f.offset));
                format!(
                    "SELECT {TASK_COLS} FROM tasks{where_sql} ORDER BY {order} LIMIT ${} OFFSET ${}",
                    n + 1,
                    n + 2,
                    order = if f.assignee.is_some() {
                        "CASE WHEN due IS NULL THEN 1 ELSE 0 END, due, created_at_ms, case_no, task_id"
                    } else {
                        ORDER
                    }
                )
            }
        };
        let rows = self.sql.query(&sql, &params)?.iter().map(task_from).collect::<Result<_, _>>()?;
        Ok((rows, total))
    }

    // ---- bookkeeping ----

    /// Increment and return a named counter (e.g. the daily case-number sequence).
    pub fn next_counter(&mut self, name: &str) -> Result<i64, StoreError> {
        let rows = self.sql.query(
            "INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
            &[name.into()],
        )?;
        rows.first().ok_or_else(|| StoreError::Decode("no counter value".into()))?.int(0)
    }

    /// Reserve `n` consecutive values of a counter at once; returns the last (the block is `last - n + 1 ..= last`).
    pub fn reserve_counter(&mut self, name: &str, n: i64) -> Result<i64, StoreError> {
        if n < 1 {
            return Err(StoreError::Decode(format!("counter {name}: a block of {n} values")));
        }
        let rows = self.sql.query(
            "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = counters.value + $2 RETURNING value",
            &[name.into(), Val::Int(n)],
        )?;
        rows.first().ok_or_else(|| StoreError::Decode("no counter value".into()))?.int(0)
    }

    pub fn idempotency_get(&mut self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        let rows = self
            .sql
            .query("SELECT result FROM idempotency WHERE scope = $1 AND key = $2", &[scope.into(), key.into()])?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    pub fn idempotency_put(&mut self, scope: &str, key: &str, result: &str, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO idempotency (scope, key, result, created_at_ms) VALUES ($1, $2, $3, $4)",
            &[scope.into(), key.into(), result.into(), Val::Int(at_ms)],
        )?;
        Ok(())
    }

    pub fn cursor(&mut self, name: &str) -> Result<i64, StoreError> {
        let rows = self.sql.query("SELECT seq FROM cursors WHERE name = $1", &[name.into()])?;
        Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0))
    }

    pub fn set_cursor(&mut self, name: &str, seq: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
            &[name.into(), Val::Int(seq)],
        )?;
        Ok(())
    }

    // ---- catalog and calendar projections ----

    pub fn put_catalog_version(&mut self, r: &CatalogRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO catalog_versions (kind, code, version, body, published_at_ms, published_by, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                r.kind.as_str().into(),
                r.code.as_str().into(),
                Val::Int(r.version),
                r.body.as_str().into(),
                Val::Int(r.published_at_ms),
                r.published_by.as_str().into(),
                r.reason.as_str().into(),
            ],
        )?;
        Ok(())
    }

    pub fn catalog_versions(&mut self) -> Result<Vec<CatalogRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT kind, code, version, body, published_at_ms, published_by, reason FROM catalog_versions ORDER BY kind, code, version",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(CatalogRow {
                    kind: r.text(0)?,
                    code: r.text(1)?,
                    version: r.int(2)?,
                    body: r.text(3)?,
                    published_at_ms: r.int(4)?,
                    published_by: r.text(5)?,
                    reason: r.text(6)?,
                })
            })
            .collect()
    }

    pub fn put_calendar_year(&mut self, year: i64, body: &str, at_ms: i64, by: &str) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO calendar_years (year, body, updated_at_ms, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (year) DO UPDATE SET body = excluded.body, updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by",
            &[Val::Int(year), body.into(), Val::Int(at_ms), by.into()],
        )?;
        Ok(())
    }

    /// Case numbers of running cases (in progress or suspended): those whose dates a calendar publication may move.
    pub fn running_cases(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .sql
            .query("SELECT case_no FROM cases WHERE status IN ('in_progress', 'suspended') ORDER BY case_no", &[])?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    pub fn calendar_years(&mut self) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = self.sql.query("SELECT year, body FROM calendar_years ORDER BY year", &[])?;
        rows.iter().map(|r| Ok((r.int(0)?, r.text(1)?))).collect()
    }

    // ---- accounts and sessions ----

    pub fn put_account(&mut self, a: &AccountRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO accounts (username, display_name, password_hash, roles, department, active) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash, \
             roles = excluded.roles, department = excluded.department, active = excluded.active",
            &[
                a.username.as_str().into(),
                a.display_name.as_str().into(),
                a.password_hash.as_str().into(),
                a.roles.as_str().into(),
                a.department.clone().into(),
                Val::Int(i64::from(a.active)),
            ],
        )?;
        Ok(())
    }

    pub fn get_account(&mut self, username: &str) -> Result<Option<AccountRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, display_name, password_hash, roles, department, active FROM accounts WHERE username = $1",
            &[username.into()],
        )?;
        rows.first()
            .map(|r| {
                Ok(AccountRow {
                    username: r.text(0)?,
                    display_name: r.text(1)?,
                    password_hash: r.text(2)?,
                    roles: r.text(3)?,
                    department: r.opt_text(4)?,
                    active: r.int(5)? != 0,
                })
            })
            .transpose()
    }

    pub fn list_accounts(&mut self) -> Result<Vec<AccountRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, display_name, password_hash, roles, department, active FROM accounts ORDER BY username",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AccountRow {
                    username: r.text(0)?,
                    display_name: r.text(1)?,
                    password_hash: r.text(2)?,
                    roles: r.text(3)?,
                    department: r.opt_text(4)?,
                    active: r.int(5)? != 0,
                })
            })
            .collect()
    }

    /// End every session of an account (deactivation, password change).
    pub fn delete_sessions_of(&mut self, username: &str) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM sessions WHERE username = $1", &[username.into()])?;
        Ok(())
    }

    pub fn count_accounts(&mut self) -> Result<i64, StoreError> {
        self.sql.query("SELECT COUNT(*) FROM accounts", &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    pub fn put_session(&mut self, token_hash: &str, username: &str, expires_at_ms: i64) -> Result<(), StoreError> {
        self.put_session_limited(token_hash, username, expires_at_ms, false)
    }

    /// A session; `limited` sessions may only enrol a second factor.
    pub fn put_session_limited(
        &mut self,
        token_hash: &str,
        username: &str,
        expires_at_ms: i64,
        limited: bool,
    ) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO sessions (token_hash, username, expires_at_ms, limited) VALUES ($1, $2, $3, $4)",
            &[token_hash.into(), username.into(), Val::Int(expires_at_ms), Val::Int(i64::from(limited))],
        )?;
        Ok(())
    }

    /// The username of a live session.
    pub fn session_user(&mut self, token_hash: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        Ok(self.session(token_hash, now_ms)?.map(|(u, _)| u))
    }

    /// The username of a live session and whether it is limited.
    pub fn session(&mut self, token_hash: &str, now_ms: i64) -> Result<Option<(String, bool)>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, limited FROM sessions WHERE token_hash = $1 AND expires_at_ms > $2",
            &[token_hash.into(), Val::Int(now_ms)],
        )?;
        rows.first().map(|r| Ok((r.text(0)?, r.int(1)? != 0))).transpose()
    }

    /// (sealed secret, enabled, last used step) of an account's TOTP.
    pub fn account_totp(&mut self, username: &str) -> Result<Option<(Option<String>, bool, Option<i64>)>, StoreError> {
        let rows = self.sql.query(
            "SELECT totp_secret, totp_enabled, totp_last_step FROM accounts WHERE username = $1",
            &[username.into()],
        )?;
        rows.first().map(|r| Ok((r.opt_text(0)?, r.int(1)? != 0, r.opt_int(2)?))).transpose()
    }

    pub fn set_account_totp(
        &mut self,
        username: &str,
        sealed_secret: Option<&str>,
        enabled: bool,
        last_step: Option<i64>,
    ) -> Result<(), StoreError> {
        self.sql.exec(
            "UPDATE accounts SET totp_secret = $1, totp_enabled = $2, totp_last_step = $3 WHERE username = $4",
            &[sealed_secret.map(String::from).into(), Val::Int(i64::from(enabled)), last_step.into(), username.into()],
        )?;
        Ok(())
    }

    pub fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM sessions WHERE token_hash = $1", &[token_hash.into()])?;
        Ok(())
    }

    // ---- identities at an external provider ----

    /// The account linked to a provider's subject.
    pub fn identity_account(&mut self, issuer: &str, subject: &str) -> Result<Option<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT username FROM account_identities WHERE issuer = $1 AND subject = $2",
            &[issuer.into(), subject.into()],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    /// The subject an account is linked to at a provider.
    pub fn account_identity(&mut self, issuer: &str, username: &str) -> Result<Option<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT subject FROM account_identities WHERE issuer = $1 AND username = $2",
            &[issuer.into(), username.into()],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    pub fn link_identity(&mut self, issuer: &str, subject: &str, username: &str, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO account_identities (issuer, subject, username, linked_at_ms) VALUES ($1, $2, $3, $4)",
            &[issuer.into(), subject.into(), username.into(), Val::Int(at_ms)],
        )?;
        Ok(())
    }

    // ---- applicants: persons, organisations, agents ----

    pub fn put_person(&mut self, p: &PersonRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO persons (username, name, id_sealed, id_index, phone_sealed, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            &[p.username.as_str().into(), p.name.as_str().into(), p.id_sealed.as_str().into(), p.id_index.as_str().into(), p.phone_sealed.clone().into(), Val::Int(p.created_at_ms)],
        )?;
        Ok(())
    }

    pub fn person(&mut self, username: &str) -> Result<Option<PersonRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, name, id_sealed, id_index, phone_sealed, created_at_ms FROM persons WHERE username = $1",
            &[username.into()],
        )?;
        rows.first().map(person_from).transpose()
    }

    pub fn person_by_index(&mut self, id_index: &str) -> Result<Option<PersonRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, name, id_sealed, id_index, phone_sealed, created_at_ms FROM persons WHERE id_index = $1",
            &[id_index.into()],
        )?;
        rows.first().map(person_from).transpose()
    }

    /// Record a claim on an organisation (status `pending` or `verified`); a pending claim is replaced.
    pub fn put_organisation(&mut self, o: &OrganisationRow, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO organisations (uscc, name, legal_representative, created_at_ms, status, verified_by, verified_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, \
             legal_representative = excluded.legal_representative, created_at_ms = excluded.created_at_ms, \
             status = excluded.status, verified_by = excluded.verified_by, verified_at_ms = excluded.verified_at_ms",
            &[
                o.uscc.as_str().into(),
                o.name.as_str().into(),
                o.legal_representative.as_str().into(),
                Val::Int(at_ms),
                o.status.as_str().into(),
                o.verified_by.as_deref().into(),
                o.verified_by.as_ref().map(|_| Val::Int(at_ms)).unwrap_or(Val::Null),
            ],
        )?;
        Ok(())
    }

    /// An organisation and the claim on it.
    pub fn organisation(&mut self, uscc: &str) -> Result<Option<OrganisationRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT uscc, name, legal_representative, status, verified_by FROM organisations WHERE uscc = $1",
            &[uscc.into()],
        )?;
        rows.first().map(organisation_from).transpose()
    }

    /// Claims waiting for a window clerk, oldest first.
    pub fn pending_organisations(&mut self, limit: i64) -> Result<Vec<OrganisationRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT uscc, name, legal_representative, status, verified_by FROM organisations \
             WHERE status = 'pending' ORDER BY created_at_ms, uscc LIMIT $1",
            &[Val::Int(limit)],
        )?;
        rows.iter().map(organisation_from).collect()
    }

    pub fn put_agent(&mut self, uscc: &str, username: &str, scope: &str, expires_at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO org_agents (uscc, username, scope, expires_at_ms, revoked_at_ms) VALUES ($1, $2, $3, $4, NULL) \
             ON CONFLICT (uscc, username) DO UPDATE SET scope = excluded.scope, expires_at_ms = excluded.expires_at_ms, revoked_at_ms = NULL",
            &[uscc.into(), username.into(), scope.into(), Val::Int(expires_at_ms)],
        )?;
        Ok(())
    }

    pub fn revoke_agent(&mut self, uscc: &str, username: &str, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.sql.exec(
            "UPDATE org_agents SET revoked_at_ms = $1 WHERE uscc = $2 AND username = $3 AND revoked_at_ms IS NULL",
            &[Val::Int(at_ms), uscc.into(), username.into()],
        )?;
        Ok(n > 0)
    }

    /// The verified organisations an account acts for now, with the scope: `representative` for the legal
    /// representative, else the unexpired, unrevoked agent's scope (e.g. `apply,follow`).
    pub fn acts_for(&mut self, username: &str, now_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.sql.query(
            "SELECT uscc, 'representative' FROM organisations WHERE legal_representative = $1 AND status = 'verified' \
             UNION SELECT a.uscc, a.scope FROM org_agents a JOIN organisations o ON o.uscc = a.uscc AND o.status = 'verified' \
             WHERE a.username = $1 AND a.revoked_at_ms IS NULL AND a.expires_at_ms > $2 ORDER BY 1",
            &[username.into(), Val::Int(now_ms)],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect()
    }

    /// Revoke every agent of an organisation (its legal representative changed).
    pub fn revoke_all_agents(&mut self, uscc: &str, at_ms: i64) -> Result<u64, StoreError> {
        self.sql.exec(
            "UPDATE org_agents SET revoked_at_ms = $1 WHERE uscc = $2 AND revoked_at_ms IS NULL",
            &[Val::Int(at_ms), uscc.into()],
        )
    }

    /// The scope of an agent's current authorisation for an organisation (None if none).
    pub fn agent_scope(&mut self, uscc: &str, username: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT scope FROM org_agents WHERE uscc = $1 AND username = $2 AND revoked_at_ms IS NULL AND expires_at_ms > $3",
            &[uscc.into(), username.into(), Val::Int(now_ms)],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    /// A staff member's post: (service point, window).
    pub fn staff_post(&mut self, username: &str) -> Result<(Option<String>, Option<String>), StoreError> {
        let rows =
            self.sql.query("SELECT service_point, window_no FROM accounts WHERE username = $1", &[username.into()])?;
        Ok(rows
            .first()
            .map(|r| Ok::<_, StoreError>((r.opt_text(0)?, r.opt_text(1)?)))
            .transpose()?
            .unwrap_or((None, None)))
    }

    pub fn set_staff_post(
        &mut self,
        username: &str,
        service_point: Option<&str>,
        window: Option<&str>,
    ) -> Result<(), StoreError> {
        self.sql.exec(
            "UPDATE accounts SET service_point = $1, window_no = $2 WHERE username = $3",
            &[service_point.map(String::from).into(), window.map(String::from).into(), username.into()],
        )?;
        Ok(())
    }

    // ---- the seal's keys ----

    pub fn seal_keys(&mut self) -> Result<Vec<SealKeyRow>, StoreError> {
        let rows = self.sql.query("SELECT key_id, public_pem, private_sealed, salt, valid_from_ms, valid_to_ms, current FROM seal_keys ORDER BY valid_from_ms, key_id", &[])?;
        rows.iter()
            .map(|r| {
                Ok(SealKeyRow {
                    key_id: r.text(0)?,
                    public_pem: r.text(1)?,
                    private_sealed: r.text(2)?,
                    salt: r.text(3)?,
                    valid_from_ms: r.int(4)?,
                    valid_to_ms: r.opt_int(5)?,
                    current: r.int(6)? != 0,
                })
            })
            .collect()
    }

    /// Add a key; a current key ends the validity of the previous current one at its start.
    pub fn put_seal_key(&mut self, k: &SealKeyRow) -> Result<(), StoreError> {
        if k.current {
            self.sql.exec(
                "UPDATE seal_keys SET current = 0, valid_to_ms = $1 WHERE current = 1",
                &[Val::Int(k.valid_from_ms)],
            )?;
        }
        self.sql.exec(
            "INSERT INTO seal_keys (key_id, public_pem, private_sealed, salt, valid_from_ms, valid_to_ms, current) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                k.key_id.as_str().into(),
                k.public_pem.as_str().into(),
                k.private_sealed.as_str().into(),
                k.salt.as_str().into(),
                Val::Int(k.valid_from_ms),
                k.valid_to_ms.into(),
                Val::Int(i64::from(k.current)),
            ],
        )?;
        Ok(())
    }

    // ---- licences ----

    pub fn put_license(&mut self, l: &LicenseRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO licenses ({LICENSE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT (identifier) DO UPDATE SET status = excluded.status, reason = excluded.reason"
        );
        self.sql.exec(
            &sql,
            &[
                l.identifier.as_str().into(),
                l.lineage.as_str().into(),
                Val::Int(l.version),
                l.number.as_str().into(),
                l.license_type.as_str().into(),
                l.holder_name.as_str().into(),
                l.holder_index.clone().into(),
                l.case_no.clone().into(),
                l.status.as_str().into(),
                l.issued.as_str().into(),
                l.valid_to.clone().into(),
                Val::Int(l.status_index),
                l.body.as_str().into(),
                l.signed_payload.as_str().into(),
                l.key_id.as_str().into(),
                l.signature.as_str().into(),
                l.qr.as_str().into(),
                l.reason.clone().into(),
            ],
        )?;
        Ok(())
    }

    /// Insert or replace a case's watch row.
    pub fn put_watch(&mut self, w: &WatchRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO supervision_watch ({WATCH_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (case_no) DO UPDATE SET department = excluded.department, title = excluded.title, \
                 step_name = excluded.step_name, assignee = excluded.assignee, deadline = excluded.deadline, \
                 yellow_on = excluded.yellow_on, red_on = excluded.red_on, stall_on = excluded.stall_on, \
                 pledge_due = excluded.pledge_due"
            ),
            &[
                w.case_no.as_str().into(),
                w.department.as_str().into(),
                w.title.as_str().into(),
                w.step_name.clone().into(),
                w.assignee.clone().into(),
                w.deadline.clone().into(),
                w.yellow_on.clone().into(),
                w.red_on.clone().into(),
                w.stall_on.clone().into(),
                w.pledge_due.clone().into(),
            ],
        )?;
        Ok(())
    }

    pub fn watch(&mut self, case_no: &str) -> Result<Option<WatchRow>, StoreError> {
        let rows = self
            .sql
            .query(&format!("SELECT {WATCH_COLS} FROM supervision_watch WHERE case_no = $1"), &[case_no.into()])?;
        rows.first().map(watch_from).transpose()
    }

    /// Watch rows whose `column` date (yellow_on, red_on, stall_on or pledge_due) is on or before `day`, oldest
    /// first, through that column's index.
    pub fn watch_due(&mut self, column: &str, day: &str, limit: i64) -> Result<Vec<WatchRow>, StoreError> {
        if !["yellow_on", "red_on", "stall_on", "pledge_due"].contains(&column) {
            return Err(StoreError::Constraint(format!("no watch column {column}")));
        }
        let rows = self.sql.query(
            &format!(
                "SELECT {WATCH_COLS} FROM supervision_watch WHERE {column} <= $1 ORDER BY {column}, case_no LIMIT $2"
            ),
            &[day.into(), Val::Int(limit)],
        )?;
        rows.iter().map(watch_from).collect()
    }

    /// Clear a watch date once its alert is raised.
    pub fn clear_watch(&mut self, case_no: &str, column: &str) -> Result<(), StoreError> {
        if !["yellow_on", "red_on", "stall_on", "pledge_due"].contains(&column) {
            return Err(StoreError::Constraint(format!("no watch column {column}")));
        }
        self.sql
            .exec(&format!("UPDATE supervision_watch SET {column} = NULL WHERE case_no = $1"), &[case_no.into()])?;
        Ok(())
    }

    pub fn put_alert(&mut self, a: &AlertRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO alerts ({ALERT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, closed_at_ms = excluded.closed_at_ms, \
                 closed_by = excluded.closed_by, note = excluded.note"
            ),
            &alert_params(a),
        )?;
        Ok(())
    }

    /// Write many new alerts (multi-row statements).
    pub fn put_alerts(&mut self, alerts: &[AlertRow]) -> Result<(), StoreError> {
        if self.backend() == Backend::Sqlite {
            for a in alerts {
                self.put_alert(a)?;
            }
            return Ok(());
        }
        for chunk in alerts.chunks(1000) {
            let mut params: Vec<Val> = Vec::with_capacity(chunk.len() * 14);
            let mut rows = Vec::with_capacity(chunk.len());
            for a in chunk {
                let n = params.len();
                rows.push(format!("({})", (1..=14).map(|i| format!("${}", n + i)).collect::<Vec<_>>().join(", ")));
                params.extend(alert_params(a));
            }
            self.sql.exec(
                &format!("INSERT INTO alerts ({ALERT_COLS}) VALUES {} ON CONFLICT (id) DO NOTHING", rows.join(", ")),
                &params,
            )?;
        }
        Ok(())
    }

    /// Clear one watch date of many cases.
    pub fn clear_watch_many(&mut self, case_nos: &[String], column: &str) -> Result<(), StoreError> {
        if !["yellow_on", "red_on", "stall_on", "pledge_due"].contains(&column) {
            return Err(StoreError::Constraint(format!("no watch column {column}")));
        }
        for chunk in case_nos.chunks(1000) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let params: Vec<Val> = chunk.iter().map(|c| c.as_str().into()).collect();
            self.sql.exec(
                &format!("UPDATE supervision_watch SET {column} = NULL WHERE case_no IN ({})", marks.join(", ")),
                &params,
            )?;
        }
        Ok(())
    }

    pub fn alert(&mut self, id: &str) -> Result<Option<AlertRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1"), &[id.into()])?;
        rows.first().map(alert_from).transpose()
    }

    /// Alerts, newest first, and how many match.
    pub fn alerts(&mut self, f: &AlertFilter) -> Result<(Vec<AlertRow>, i64), StoreError> {
        let mut wh = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        for (col, v) in
            [("status", &f.status), ("department", &f.department), ("kind", &f.kind), ("case_no", &f.case_no)]
        {
            if let Some(v) = v {
                params.push(v.into());
                wh.push(format!("{col} = ${}", params.len()));
            }
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        let total = self
            .sql
            .query(&format!("SELECT COUNT(*) FROM alerts{where_sql}"), &params)?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let n = params.len();
        params.push(Val::Int(f.limit));
        params.push(Val::Int(f.offset));
        let rows = self.sql.query(
            &format!(
                "SELECT {ALERT_COLS} FROM alerts{where_sql} ORDER BY raised_at_ms DESC, id LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &params,
        )?;
        Ok((rows.iter().map(alert_from).collect::<Result<_, _>>()?, total))
    }

    /// Open alerts per department and kind: (department, kind, count).
    pub fn alert_counts(&mut self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = self.sql.query(
            "SELECT department, kind, COUNT(*) FROM alerts WHERE status = 'open' GROUP BY department, kind ORDER BY department, kind",
            &[],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?, r.int(2)?))).collect()
    }

    pub fn put_urging(&mut self, u: &UrgingRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO urgings ({URGING_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, escalated = excluded.escalated, reply = excluded.reply, \
                 replied_by = excluded.replied_by, replied_at_ms = excluded.replied_at_ms, closed_note = excluded.closed_note"
            ),
            &[
                u.id.as_str().into(),
                u.case_no.as_str().into(),
                u.alert_id.clone().into(),
                u.department.as_str().into(),
                u.person.clone().into(),
                u.message.as_str().into(),
                u.due.as_str().into(),
                u.status.as_str().into(),
                Val::Int(i64::from(u.escalated)),
                u.issued_by.as_str().into(),
                Val::Int(u.issued_at_ms),
                u.reply.clone().into(),
                u.replied_by.clone().into(),
                u.replied_at_ms.into(),
                u.closed_note.clone().into(),
            ],
        )?;
        Ok(())
    }

    pub fn urging(&mut self, id: &str) -> Result<Option<UrgingRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {URGING_COLS} FROM urgings WHERE id = $1"), &[id.into()])?;
        rows.first().map(urging_from).transpose()
    }

    /// Urgings, newest first: all, or one department's.
    pub fn urgings(&mut self, department: Option<&str>, limit: i64) -> Result<Vec<UrgingRow>, StoreError> {
        let rows = match department {
            Some(d) => self.sql.query(
                &format!(
                    "SELECT {URGING_COLS} FROM urgings WHERE department = $1 ORDER BY issued_at_ms DESC, id LIMIT $2"
                ),
                &[d.into(), Val::Int(limit)],
            )?,
            None => self.sql.query(
                &format!("SELECT {URGING_COLS} FROM urgings ORDER BY issued_at_ms DESC, id LIMIT $1"),
                &[Val::Int(limit)],
            )?,
        };
        rows.iter().map(urging_from).collect()
    }

    /// Open urgings past their date that have not been escalated yet (through the status/due index).
    pub fn urgings_overdue(&mut self, today: &str, limit: i64) -> Result<Vec<UrgingRow>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {URGING_COLS} FROM urgings WHERE status = 'open' AND escalated = 0 AND due < $1 ORDER BY due, id LIMIT $2"
            ),
            &[today.into(), Val::Int(limit)],
        )?;
        rows.iter().map(urging_from).collect()
    }

    /// Active accounts with a role (and, if given, of a department).
    pub fn accounts_with_role(&mut self, role: &str, department: Option<&str>) -> Result<Vec<String>, StoreError> {
        let rows = self
            .sql
            .query("SELECT username, roles, department FROM accounts WHERE active <> 0 ORDER BY username", &[])?;
        let mut out = Vec::new();
        for r in &rows {
            let (u, roles, d) = (r.text(0)?, r.text(1)?, r.opt_text(2)?);
            if roles.split(',').any(|x| x == role) && department.is_none_or(|want| d.as_deref() == Some(want)) {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Refresh the query planner's statistics (sampled, so it stays quick on big databases). `serve` runs it at
    /// start and hourly; PostgreSQL's autovacuum does the same on its own, this only makes it timely.
    pub fn refresh_statistics(&mut self) -> Result<(), StoreError> {
        match self.sql.backend() {
            Backend::Sqlite => self.sql.batch("PRAGMA analysis_limit = 1000; ANALYZE"),
            Backend::Postgres => self.sql.batch("ANALYZE tasks; ANALYZE cases"),
        }
    }

    pub fn put_attachment(&mut self, a: &AttachmentRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!("INSERT INTO attachments ({ATTACHMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            &[
                a.id.as_str().into(),
                a.owner.as_str().into(),
                a.file_name.as_str().into(),
                a.content_type.as_str().into(),
                Val::Int(a.size),
                a.sha256.as_str().into(),
                a.sealed.as_str().into(),
                Val::Int(a.created_at_ms),
            ],
        )?;
        Ok(())
    }

    /// An account's files not yet part of any case: (count, bytes).
    pub fn pending_attachments(&mut self, owner: &str) -> Result<(i64, i64), StoreError> {
        let rows = self.sql.query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM attachments WHERE owner = $1 AND bound_case IS NULL",
            &[owner.into()],
        )?;
        Ok(rows.first().map(|r| Ok::<_, StoreError>((r.int(0)?, r.int(1)?))).transpose()?.unwrap_or((0, 0)))
    }

    /// Bind a file to the case that references it (the first case keeps it).
    pub fn bind_attachment(&mut self, id: &str, case_no: &str) -> Result<(), StoreError> {
        self.sql.exec(
            // (SQLite numbers `$n` parameters in order of appearance: keep them in order.)
            "UPDATE attachments SET bound_case = $1 WHERE id = $2 AND bound_case IS NULL",
            &[case_no.into(), id.into()],
        )?;
        Ok(())
    }

    /// Files never bound to a case, uploaded before `before_ms`, oldest first.
    pub fn orphan_attachments(&mut self, before_ms: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT id FROM attachments WHERE bound_case IS NULL AND created_at_ms < $1 ORDER BY created_at_ms LIMIT $2",
            &[Val::Int(before_ms), Val::Int(limit)],
        )?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// The first case whose state mentions a file id (files uploaded before binding was recorded).
    pub fn case_mentioning(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        let pattern = format!("%\"{id}\"%");
        let rows = self.sql.query("SELECT case_no FROM cases WHERE state LIKE $1 LIMIT 1", &[pattern.into()])?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    pub fn delete_attachment(&mut self, id: &str) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM attachments WHERE id = $1 AND bound_case IS NULL", &[id.into()])?;
        Ok(())
    }

    pub fn attachment(&mut self, id: &str) -> Result<Option<AttachmentRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {ATTACHMENT_COLS} FROM attachments WHERE id = $1"), &[id.into()])?;
        rows.first().map(attachment_from).transpose()
    }

    /// Save (insert or replace) an account's draft for a service.
    pub fn put_draft(&mut self, account: &str, subject: &str, body: &str, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO drafts (account, subject_code, body, updated_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account, subject_code) DO UPDATE SET body = excluded.body, updated_at_ms = excluded.updated_at_ms",
            &[account.into(), subject.into(), body.into(), Val::Int(at_ms)],
        )?;
        Ok(())
    }

    /// An account's draft for a service: (body, updated at).
    pub fn draft(&mut self, account: &str, subject: &str) -> Result<Option<(String, i64)>, StoreError> {
        let rows = self.sql.query(
            "SELECT body, updated_at_ms FROM drafts WHERE account = $1 AND subject_code = $2",
            &[account.into(), subject.into()],
        )?;
        rows.first().map(|r| Ok((r.text(0)?, r.int(1)?))).transpose()
    }

    /// An account's drafts: (service code, updated at), newest first.
    pub fn drafts_of(&mut self, account: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self.sql.query(
            "SELECT subject_code, updated_at_ms FROM drafts WHERE account = $1 ORDER BY updated_at_ms DESC",
            &[account.into()],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
    }

    pub fn delete_draft(&mut self, account: &str, subject: &str) -> Result<(), StoreError> {
        self.sql
            .exec("DELETE FROM drafts WHERE account = $1 AND subject_code = $2", &[account.into(), subject.into()])?;
        Ok(())
    }

    pub fn license(&mut self, identifier: &str) -> Result<Option<LicenseRow>, StoreError> {
        let rows = self
            .sql
            .query(&format!("SELECT {LICENSE_COLS} FROM licenses WHERE identifier = $1"), &[identifier.into()])?;
        rows.first().map(license_from).transpose()
    }

    pub fn licenses_of_case(&mut self, case_no: &str) -> Result<Vec<LicenseRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {LICENSE_COLS} FROM licenses WHERE case_no = $1 ORDER BY identifier"),
            &[case_no.into()],
        )?;
        rows.iter().map(license_from).collect()
    }

    /// Licences by their printed number (a business licence's number is the organisation's USCC).
    pub fn licenses_by_number(&mut self, number: &str) -> Result<Vec<LicenseRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {LICENSE_COLS} FROM licenses WHERE number = $1 ORDER BY issued DESC, identifier"),
            &[number.into()],
        )?;
        rows.iter().map(license_from).collect()
    }

    /// A holder's newest valid licence of one type (an index walk, however many the holder has).
    pub fn newest_valid_license_of(
        &mut self,
        holder_index: &str,
        license_type: &str,
    ) -> Result<Option<LicenseRow>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {LICENSE_COLS} FROM licenses WHERE holder_index = $1 AND license_type = $2 AND status = 'valid' \
                 ORDER BY issued DESC, identifier DESC LIMIT 1"
            ),
            &[holder_index.into(), license_type.into()],
        )?;
        rows.first().map(license_from).transpose()
    }

    pub fn licenses_of_holder(&mut self, holder_index: &str) -> Result<Vec<LicenseRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {LICENSE_COLS} FROM licenses WHERE holder_index = $1 ORDER BY issued DESC, identifier"),
            &[holder_index.into()],
        )?;
        rows.iter().map(license_from).collect()
    }

    /// Licences of the given types issued on or before a date, newest first, optionally filtered by holder name.
    pub fn disclosed_licenses(
        &mut self,
        types: &[String],
        issued_by: &str,
        holder_contains: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<LicenseRow>, i64), StoreError> {
        if types.is_empty() {
            return Ok((vec![], 0));
        }
        let mut params: Vec<Val> = vec![issued_by.into()];
        let mut ph = Vec::new();
        for t in types {
            params.push(t.into());
            ph.push(format!("${}", params.len()));
        }
        let mut wh = format!("issued <= $1 AND license_type IN ({})", ph.join(", "));
        if let Some(h) = holder_contains {
            // Not a hot path: the public disclosure search over names.
            params.push(format!("%{}%", h.replace('%', "").replace('_', "")).into());
            wh.push_str(&format!(" AND holder_name LIKE ${}", params.len()));
        }
        let total = self
            .sql
            .query(&format!("SELECT COUNT(*) FROM licenses WHERE {wh}"), &params)?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let n = params.len();
        params.push(Val::Int(limit));
        params.push(Val::Int(offset));
        let rows = self.sql.query(
            &format!(
                "SELECT {LICENSE_COLS} FROM licenses WHERE {wh} ORDER BY issued DESC, identifier LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &params,
        )?;
        Ok((rows.iter().map(license_from).collect::<Result<_, _>>()?, total))
    }

    /// Status-list indexes of licences no longer valid (revoked or cancelled).
    pub fn revoked_status_indexes(&mut self) -> Result<Vec<i64>, StoreError> {
        let rows = self.sql.query(
            "SELECT status_index FROM licenses WHERE status IN ('revoked', 'cancelled') ORDER BY status_index",
            &[],
        )?;
        rows.iter().map(|r| r.int(0)).collect()
    }

    // ---- the transparency log ----

    /// (tree size folded into nodes, hash kind) of the log; call [`Db::sync_tree`] in a write job first.
    pub fn log_head(&mut self) -> Result<(u64, oneseal_seal::merkle::TreeHash), StoreError> {
        let rows = self.sql.query("SELECT tree_size, hash FROM log_head WHERE id = 1", &[])?;
        let r = rows.first().ok_or_else(|| StoreError::Decode("no log head".into()))?;
        Ok((r.int(0)? as u64, crate::merkle::kind(&r.text(1)?)?))
    }

    pub fn log_root(&mut self, size: u64) -> Result<oneseal_seal::merkle::Hash, StoreError> {
        let (_, kind) = self.log_head()?;
        oneseal_seal::merkle::root(&mut crate::merkle::SqlNodes(self), kind, size)
            .map_err(|e| StoreError::Db(format!("transparency log: {e:?}")))
    }

    /// (leaf index, leaf hash) of an event.
    pub fn event_leaf(&mut self, seq: i64) -> Result<Option<(u64, oneseal_seal::merkle::Hash)>, StoreError> {
        let rows = self.sql.query("SELECT leaf_index, leaf_hash FROM event_leaves WHERE seq = $1", &[Val::Int(seq)])?;
        rows.first().map(|r| Ok((r.int(0)? as u64, crate::merkle::unhex32(&r.text(1)?)?))).transpose()
    }

    /// Every (seq, leaf index, leaf hash) in leaf order, a page at a time.
    pub fn event_leaves_from(
        &mut self,
        after_index: i64,
        limit: i64,
    ) -> Result<Vec<(i64, u64, oneseal_seal::merkle::Hash)>, StoreError> {
        let rows = self.sql.query(
            "SELECT seq, leaf_index, leaf_hash FROM event_leaves WHERE leaf_index > $1 ORDER BY leaf_index LIMIT $2",
            &[Val::Int(after_index), Val::Int(limit)],
        )?;
        rows.iter().map(|r| Ok((r.int(0)?, r.int(1)? as u64, crate::merkle::unhex32(&r.text(2)?)?))).collect()
    }

    pub fn inclusion_proof(&mut self, index: u64, size: u64) -> Result<Vec<oneseal_seal::merkle::Hash>, StoreError> {
        let (_, kind) = self.log_head()?;
        oneseal_seal::merkle::inclusion_proof(&mut crate::merkle::SqlNodes(self), kind, index, size)
            .map_err(|e| StoreError::Db(format!("transparency log: {e:?}")))
    }

    pub fn consistency_proof(&mut self, old: u64, new: u64) -> Result<Vec<oneseal_seal::merkle::Hash>, StoreError> {
        let (_, kind) = self.log_head()?;
        oneseal_seal::merkle::consistency_proof(&mut crate::merkle::SqlNodes(self), kind, old, new)
            .map_err(|e| StoreError::Db(format!("transparency log: {e:?}")))
    }

    pub fn put_checkpoint(&mut self, size: u64, root: &str, note: &str, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO checkpoints (size, root, note, created_at_ms) VALUES ($1, $2, $3, $4)",
            &[Val::Int(size as i64), root.into(), note.into(), Val::Int(at_ms)],
        )?;
        Ok(())
    }

    /// Signed checkpoints (size, root hex, note), newest last.
    pub fn checkpoints(&mut self) -> Result<Vec<(u64, String, String)>, StoreError> {
        let rows = self.sql.query("SELECT size, root, note FROM checkpoints ORDER BY size", &[])?;
        rows.iter().map(|r| Ok((r.int(0)? as u64, r.text(1)?, r.text(2)?))).collect()
    }

    /// The event at a sequence number (for audits).
    pub fn event_at(&mut self, seq: i64) -> Result<Option<StoredEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE seq = $1");
        self.sql.query(&sql, &[Val::Int(seq)])?.first().map(event_from).transpose()
    }

    /// Remove the append-only guard (tests of tamper detection simulate an attacker with database access).
    pub fn testing_drop_append_only_guard(&mut self) -> Result<(), StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                self.sql.batch("DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete")
            }
            Backend::Postgres => self.sql.batch(
                "DROP TRIGGER events_append_only_update ON events; DROP TRIGGER events_append_only_truncate ON events",
            ),
        }
    }

    // ---- API tokens ----

    pub fn put_api_token(&mut self, t: &ApiTokenRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO api_tokens (id, token_hash, owner, name, scopes, created_at_ms, expires_at_ms, revoked_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                t.id.as_str().into(),
                t.token_hash.as_str().into(),
                t.owner.as_str().into(),
                t.name.as_str().into(),
                t.scopes.as_str().into(),
                Val::Int(t.created_at_ms),
                Val::Int(t.expires_at_ms),
                t.revoked_at_ms.into(),
            ],
        )?;
        Ok(())
    }

    /// A live token by its hash.
    pub fn api_token_by_hash(&mut self, hash: &str, now_ms: i64) -> Result<Option<ApiTokenRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at_ms IS NULL AND expires_at_ms > $2"),
            &[hash.into(), Val::Int(now_ms)],
        )?;
        rows.first().map(token_from).transpose()
    }

    pub fn api_tokens_of(&mut self, owner: &str) -> Result<Vec<ApiTokenRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE owner = $1 ORDER BY created_at_ms, id"),
            &[owner.into()],
        )?;
        rows.iter().map(token_from).collect()
    }

    pub fn api_token(&mut self, id: &str) -> Result<Option<ApiTokenRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"), &[id.into()])?;
        rows.first().map(token_from).transpose()
    }

    pub fn revoke_api_token(&mut self, id: &str, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.sql.exec(
            "UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
            &[Val::Int(at_ms), id.into()],
        )?;
        Ok(n > 0)
    }

    // ---- notifications (an example subscriber's effect) ----

    pub fn put_notification(&mut self, n: &Notification) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO notifications (event_seq, recipient, case_no, kind, message, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Val::Int(n.event_seq),
                n.recipient.as_str().into(),
                n.case_no.as_str().into(),
                n.kind.as_str().into(),
                n.message.as_str().into(),
                Val::Int(n.created_at_ms),
            ],
        )?;
        Ok(())
    }

    pub fn notifications(&mut self, recipient: &str, limit: i64) -> Result<Vec<Notification>, StoreError> {
        let rows = self.sql.query(
            "SELECT event_seq, recipient, case_no, kind, message, created_at_ms FROM notifications WHERE recipient = $1 ORDER BY event_seq DESC LIMIT $2",
            &[recipient.into(), Val::Int(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    event_seq: r.int(0)?,
                    recipient: r.text(1)?,
                    case_no: r.text(2)?,
                    kind: r.text(3)?,
                    message: r.text(4)?,
                    created_at_ms: r.int(5)?,
                })
            })
            .collect()
    }

    pub fn count_notifications(&mut self) -> Result<i64, StoreError> {
        self.sql.query("SELECT COUNT(*) FROM notifications", &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    // ---- personal data: data keys and the access log ----

    /// Wrapped data keys: (id, wrapped, master fingerprint, current).
    pub fn data_keys(&mut self) -> Result<Vec<DataKeyRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT id, wrapped, master_fingerprint, created_at_ms, current FROM data_keys ORDER BY created_at_ms, id",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(DataKeyRow {
                    id: r.text(0)?,
                    wrapped: r.text(1)?,
                    master_fingerprint: r.text(2)?,
                    created_at_ms: r.int(3)?,
                    current: r.int(4)? != 0,
                })
            })
            .collect()
    }

    /// Insert or re-wrap a data key; a current key makes every other key not current.
    pub fn put_data_key(&mut self, k: &DataKeyRow) -> Result<(), StoreError> {
        if k.current {
            self.sql.exec("UPDATE data_keys SET current = 0 WHERE id <> $1", &[k.id.as_str().into()])?;
        }
        self.sql.exec(
            "INSERT INTO data_keys (id, wrapped, master_fingerprint, created_at_ms, current) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET wrapped = excluded.wrapped, master_fingerprint = excluded.master_fingerprint, current = excluded.current",
            &[k.id.as_str().into(), k.wrapped.as_str().into(), k.master_fingerprint.as_str().into(), Val::Int(k.created_at_ms), Val::Int(i64::from(k.current))],
        )?;
        Ok(())
    }

    pub fn put_pd_access(&mut self, a: &PdAccess) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO pd_access (event_seq, subject_account, case_no, actor, at_ms, reason, fields) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[Val::Int(a.event_seq), a.subject_account.clone().into(), a.case_no.as_str().into(), a.actor.as_str().into(), Val::Int(a.at_ms), a.reason.as_str().into(), a.fields.as_str().into()],
        )?;
        Ok(())
    }

    /// Who read a person's data, newest first.
    pub fn pd_access_of(&mut self, subject_account: &str, limit: i64) -> Result<Vec<PdAccess>, StoreError> {
        let rows = self.sql.query(
            "SELECT event_seq, subject_account, case_no, actor, at_ms, reason, fields FROM pd_access WHERE subject_account = $1 ORDER BY at_ms DESC, event_seq DESC LIMIT $2",
            &[subject_account.into(), Val::Int(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(PdAccess {
                    event_seq: r.int(0)?,
                    subject_account: r.opt_text(1)?,
                    case_no: r.text(2)?,
                    actor: r.text(3)?,
                    at_ms: r.int(4)?,
                    reason: r.text(5)?,
                    fields: r.text(6)?,
                })
            })
            .collect()
    }

    /// Every case row, for recomputing blind indexes after a master-key rotation.
    pub fn all_case_rows(&mut self, after: &str, limit: i64) -> Result<Vec<CaseRow>, StoreError> {
        let sql = format!("SELECT {CASE_COLS} FROM cases WHERE case_no > $1 ORDER BY case_no LIMIT $2");
        self.sql.query(&sql, &[after.into(), Val::Int(limit)])?.iter().map(case_from).collect()
    }

    /// Persons after `after` (username order), for recomputing blind indexes after a master-key rotation.
    pub fn persons_page(&mut self, after: &str, limit: i64) -> Result<Vec<PersonRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, name, id_sealed, id_index, phone_sealed, created_at_ms FROM persons \
             WHERE username > $1 ORDER BY username LIMIT $2",
            &[after.into(), Val::Int(limit)],
        )?;
        rows.iter().map(person_from).collect()
    }

    pub fn set_person_index(&mut self, username: &str, index: &str) -> Result<(), StoreError> {
        self.sql.exec("UPDATE persons SET id_index = $1 WHERE username = $2", &[index.into(), username.into()])?;
        Ok(())
    }

    /// Licences after `after` (identifier order): (identifier, body), for recomputing holder indexes.
    pub fn license_bodies_page(&mut self, after: &str, limit: i64) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.sql.query(
            "SELECT identifier, body FROM licenses WHERE identifier > $1 ORDER BY identifier LIMIT $2",
            &[after.into(), Val::Int(limit)],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect()
    }

    pub fn set_license_holder_index(&mut self, identifier: &str, index: Option<&str>) -> Result<(), StoreError> {
        self.sql.exec(
            "UPDATE licenses SET holder_index = $1 WHERE identifier = $2",
            &[index.map(String::from).into(), identifier.into()],
        )?;
        Ok(())
    }

    pub fn set_applicant_index(&mut self, case_no: &str, index: Option<&str>) -> Result<(), StoreError> {
        self.sql.exec(
            "UPDATE cases SET applicant_index = $1 WHERE case_no = $2",
            &[index.map(String::from).into(), case_no.into()],
        )?;
        Ok(())
    }

    // ---- rebuild support ----

    /// Empty every projection table (events stay).
    pub fn clear_projections(&mut self) -> Result<(), StoreError> {
        for t in PROJECTION_TABLES {
            self.sql.exec(&format!("DELETE FROM {t}"), &[])?;
        }
        Ok(())
    }

    /// Every row of a projection table as text, in a stable order: for comparing a rebuild with the original.
    pub fn dump_table(&mut self, table: &str) -> Result<Vec<String>, StoreError> {
        if !PROJECTION_TABLES.contains(&table) {
            return Err(StoreError::Config(format!("{table} is not a projection table")));
        }
        let order = match table {
            "cases" => "case_no",
            "tasks" => "case_no, task_id",
            "catalog_versions" => "kind, code, version",
            "pd_access" => "event_seq",
            "licenses" => "identifier",
            "alerts" | "urgings" | "liaison_messages" | "consultations" | "ratings" => "id",
            "tickets" => "ticket_no",
            "hotline_directory" => "version",
            "kb_articles" => "id, version",
            _ => "year",
        };
        let rows = self.sql.query(&format!("SELECT * FROM {table} ORDER BY {order}"), &[])?;
        Ok(rows.iter().map(|r| format!("{:?}", r.0)).collect())
    }

    /// Try to change an event; used by tests to prove the log refuses it.
    pub fn try_tamper(&mut self, seq: i64) -> Result<(), StoreError> {
        self.sql.exec("UPDATE events SET payload = '{}' WHERE seq = $1", &[Val::Int(seq)])?;
        self.sql.exec("DELETE FROM events WHERE seq = $1", &[Val::Int(seq)])?;
        Ok(())
    }

    /// The single integer a raw query answers (`SELECT COUNT(*) …`); for benchmarks' reference timings.
    pub fn exec_count(&mut self, sql: &str) -> Result<i64, StoreError> {
        self.sql.query(sql, &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    /// Execute raw statements; for bulk loading in benchmarks.
    pub fn exec_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.sql.batch(sql)
    }
}
