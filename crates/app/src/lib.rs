//! Application services: commands in, events appended with their projections in one transaction, queries out.
//! The HTTP layer and the command line both call these; neither touches SQL or the domain rules directly.
//!
//! Architecture invariant: every state change goes through `Store::write` with its events; the wall clock is read
//! only through [`Clock`], so tests run at any date they choose.

pub mod accounts;
pub mod assessments;
pub mod attachments;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod consent;
pub mod dashboard;
pub mod egress;
pub mod error;
pub mod export;
pub mod hall;
pub mod hotline;
pub mod inspections;
pub mod liaison;
pub mod licensing;
pub mod mail;
pub mod parties;
pub mod pd;
pub mod project_alerts;
pub mod projects;
pub mod ratings;
pub mod rebuild;
pub mod sealing;
pub mod shipments;
mod streams;
pub mod subscribers;
pub mod supervision;
pub mod transparency;
pub mod urging;
pub mod videos;
mod views;
pub mod webhooks;

use std::sync::{Arc, RwLock};

pub use error::AppError;
/// The store's row and filter types the edges read and pass (so `web` needs no dependency on the store).
pub mod rows {
    pub use oneseal_store::{
        AlertFilter, AlertRow, ApiTokenRow, ArticleRow, CaseFilter, LiaisonFilter, LicenseRow, OrganisationRow,
        ProjectWatchRow, ShipmentRow, TicketFilter, UrgingRow, WriterStats, BATCH_SIZE_BUCKETS, TX_SECONDS_BUCKETS,
    };
}

/// What `/metrics` reports from the database (shared by every node): the last event, each subscriber's cursor,
/// open alerts by department and kind, webhook deliveries by status.
#[derive(Debug, Clone, Default)]
pub struct LogFacts {
    pub last_seq: i64,
    pub cursors: Vec<(String, i64)>,
    pub open_alerts: Vec<(String, String, i64)>,
    pub deliveries: Vec<(String, i64)>,
}

impl App {
    /// A licence version by its identifier (public; the edge decides what of it to show).
    pub async fn license(
        &self,
        identifier: &oneseal_domain::license::LicenseIdentifier,
    ) -> Result<Option<oneseal_store::LicenseRow>, AppError> {
        let id = identifier.to_string();
        self.store.read(move |db| db.license(&id).map_err(AppError::from)).await
    }

    /// The store's write statistics of this node (group commit).
    pub fn writer_stats(&self) -> oneseal_store::WriterStats {
        self.store.writer_stats()
    }

    /// The database facts `/metrics` reports.
    pub async fn log_facts(&self) -> Result<LogFacts, AppError> {
        self.store
            .read(|db| -> Result<LogFacts, AppError> {
                let last_seq = db.last_seq()?;
                let mut cursors = Vec::new();
                for name in [subscribers::NOTIFICATIONS, supervision::SUPERVISION, liaison::LIAISON] {
                    cursors.push((name.to_string(), db.cursor(name)?));
                }
                Ok(LogFacts {
                    last_seq,
                    cursors,
                    open_alerts: db.alert_counts()?,
                    deliveries: db.webhook_delivery_counts()?,
                })
            })
            .await
    }
}
use oneseal_domain::calendar::Calendar;
use oneseal_seal::pd::{Keyring, MasterKey};
use oneseal_store::Store;
use time::OffsetDateTime;

/// Where time comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that tests move by hand.
pub struct ManualClock(pub RwLock<OffsetDateTime>);

impl ManualClock {
    pub fn new(t: OffsetDateTime) -> ManualClock {
        ManualClock(RwLock::new(t))
    }
    pub fn set(&self, t: OffsetDateTime) {
        if let Ok(mut g) = self.0.write() {
            *g = t;
        }
    }
    pub fn advance(&self, d: time::Duration) {
        if let Ok(mut g) = self.0.write() {
            *g += d;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.0.read().map(|g| *g).unwrap_or_else(|_| OffsetDateTime::now_utc())
    }
}

/// The public address when none is configured (`ONESEAL_PUBLIC_URL`).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The application: the store plus the in-memory views that are cheap to keep (catalog, calendar). A handle:
/// cloning it (once per request, and into every write job) is one reference count, not one per field.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

impl std::ops::Deref for App {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// What an [`App`] handle shares.
pub struct AppInner {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    catalog: Arc<RwLock<Arc<catalog::CatalogView>>>,
    calendar: Arc<RwLock<Arc<Calendar>>>,
    /// The personal-data master key (from configuration) and the unwrapped data keys.
    master: Arc<RwLock<MasterKey>>,
    keyring: Arc<RwLock<Arc<Keyring>>>,
    /// This node's name among the nodes sharing the database (random per process): the holder of its leases.
    node_id: Arc<str>,
    login_limits: Arc<RwLock<auth::LoginLimits>>,
    /// Whether staff with write powers must use a second factor.
    totp_policy: Arc<RwLock<bool>>,
    /// Working days between a licence's issue and its public disclosure.
    disclosure_delay_days: Arc<RwLock<u32>>,
    /// Non-public address blocks outgoing connections may reach anyway (configuration; default none).
    egress_allow: Arc<RwLock<Vec<egress::Cidr>>>,
    /// Argon2 runs on the blocking pool, at most one hash per core at a time.
    hashing: Arc<tokio::sync::Semaphore>,
    /// Registrations allowed per client address per hour (configuration; 0 turns the limit off).
    registrations_per_hour: Arc<RwLock<usize>>,
    upload_settings: Arc<RwLock<attachments::UploadSettings>>,
    /// The file store and the limits of inspection videos.
    video_settings: RwLock<videos::VideoSettings>,
    /// The video uploads a request of this node is writing now.
    video_busy: videos::Busy,
    /// Costly public requests an anonymous address may make per minute (0: no limit).
    anonymous_per_minute: Arc<std::sync::atomic::AtomicU32>,
    /// The address the public reaches this deployment at (printed on licences, in the QR's URL form).
    public_url: Arc<RwLock<String>>,
    /// Licence types (catalog/license-types.toml).
    license_types: Arc<Vec<oneseal_domain::license::LicenseType>>,
    /// The current seal key, once loaded with its passphrase.
    seal: Arc<RwLock<Option<Arc<oneseal_seal::seal::SealKey>>>>,
    /// Blocks of counter values reserved by this node (next, last), for licence serials and status-list slots.
    counter_blocks: Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>>,
    /// Held while a block is reserved, so that concurrent requests wait for one refill instead of each writing.
    counter_refill: Arc<tokio::sync::Mutex<()>>,
    /// Acknowledgement limit and webhook retry schedule.
    liaison: Arc<RwLock<liaison::LiaisonSettings>>,
    /// Ratings' change period and remediation limit.
    ratings: Arc<RwLock<ratings::RatingSettings>>,
    /// The 12345 hotline's dispatch directory in force.
    hotline_directory: Arc<RwLock<Arc<oneseal_domain::hotline::Directory>>>,
    /// The service network in force (points, windows, queue and appointment rules).
    network: Arc<RwLock<Arc<oneseal_domain::hall::Network>>>,
    /// The last hall board built per point on this node (`App::board_shared`).
    boards: std::sync::Mutex<std::collections::HashMap<String, Arc<hall::SharedBoard>>>,
    /// When each point's newest queue change was last read on this node, and its value (`queue_changed_shared`).
    queue_seen: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, i64)>>,
    /// Webhook delivery attempts that failed, per node (for the metrics).
    pub webhook_failures: Arc<std::sync::atomic::AtomicU64>,
    /// The database's views fingerprint this node last loaded ([`App::refresh_views`]).
    views_seen: std::sync::Mutex<Option<String>>,
    /// The seal passphrase this node unlocked the seal with, to load a key another node rotated to.
    seal_passphrase: RwLock<Option<String>>,
    /// The postal carrier results are sent through (the simulated one unless another is plugged in).
    carrier: RwLock<Arc<dyn shipments::Carrier>>,
}

impl App {
    /// Open the application on a store: load the calendar (built-in years plus those added by administrators)
    /// and the published catalog.
    pub fn new(store: Store, clock: Arc<dyn Clock>, master: MasterKey) -> Result<App, AppError> {
        let keyring = pd::load_keyring(&store, &master, ms(clock.now()))?;
        let app = App(Arc::new(AppInner {
            store,
            clock,
            catalog: Arc::new(RwLock::new(Arc::new(catalog::CatalogView::default()))),
            calendar: Arc::new(RwLock::new(Arc::new(Calendar::default()))),
            master: Arc::new(RwLock::new(master)),
            keyring: Arc::new(RwLock::new(Arc::new(keyring))),
            node_id: Arc::from(random_hex(8)?),
            login_limits: Arc::default(),
            totp_policy: Arc::default(),
            seal: Arc::default(),
            public_url: Arc::new(RwLock::new(DEFAULT_PUBLIC_URL.to_string())),
            counter_blocks: Arc::default(),
            counter_refill: Arc::default(),
            liaison: Arc::default(),
            hotline_directory: Arc::default(),
            network: Arc::default(),
            boards: std::sync::Mutex::default(),
            queue_seen: std::sync::Mutex::default(),
            ratings: Arc::default(),
            webhook_failures: Arc::default(),
            disclosure_delay_days: Arc::default(),
            egress_allow: Arc::default(),
            hashing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            )),
            registrations_per_hour: Arc::new(RwLock::new(auth::REGISTRATIONS_PER_ADDRESS_HOUR)),
            upload_settings: Arc::default(),
            video_settings: RwLock::default(),
            video_busy: videos::Busy::default(),
            anonymous_per_minute: Arc::new(std::sync::atomic::AtomicU32::new(ANONYMOUS_PER_MINUTE)),
            license_types: Arc::new(licensing::builtin_license_types()?),
            views_seen: std::sync::Mutex::new(None),
            seal_passphrase: RwLock::new(None),
            carrier: RwLock::new(Arc::new(shipments::SimulatedCarrier)),
        }));
        app.reload_calendar_blocking()?;
        app.reload_catalog_blocking()?;
        app.reload_directory_blocking()?;
        app.reload_network_blocking()?;
        let seen = app.store.read_blocking(|db| db.views_fingerprint().map_err(AppError::from))?;
        if let Ok(mut g) = app.views_seen.lock() {
            *g = Some(seen);
        }
        Ok(app)
    }

    /// The current instant, always in UTC so that stored states are identical however the clock was set
    /// (clocks convert to Beijing time where a date is needed).
    /// Truncated to milliseconds, the precision events store, so a state folded from stored events equals the
    /// live one.
    pub fn now(&self) -> OffsetDateTime {
        from_ms(ms(self.clock.now()))
    }

    /// This node's name among the nodes sharing the database (random per process).
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub fn catalog(&self) -> Arc<catalog::CatalogView> {
        self.catalog.read().map(|g| g.clone()).unwrap_or_default()
    }

    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar.read().map(|g| g.clone()).unwrap_or_default()
    }

    fn set_catalog(&self, v: catalog::CatalogView) {
        if let Ok(mut g) = self.catalog.write() {
            *g = Arc::new(v);
        }
    }

    fn set_calendar(&self, c: Calendar) {
        if let Ok(mut g) = self.calendar.write() {
            *g = Arc::new(c);
        }
    }
}

/// Milliseconds since the Unix epoch.
/// Default: 120 costly public requests per minute per anonymous address, in bursts of up to 120.
pub const ANONYMOUS_PER_MINUTE: u32 = 120;

impl App {
    /// The per-address limit on costly public requests by anonymous callers (`ONESEAL_ANONYMOUS_PER_MINUTE`).
    pub fn anonymous_per_minute(&self) -> u32 {
        self.anonymous_per_minute.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_anonymous_per_minute(&self, n: u32) {
        self.anonymous_per_minute.store(n, std::sync::atomic::Ordering::Relaxed);
    }
}

pub fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The instant of a millisecond timestamp.
pub fn from_ms(v: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Random bytes from the operating system, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(hex(&buf))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of bytes, hex-encoded.
pub fn sha256_bytes_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(b))
}

/// SHA-256 of a string, hex-encoded.
pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(s.as_bytes()))
}
