//! Every setting of a deployment in one place: its environment variable, its default and a line of
//! documentation ([`SETTINGS`], from which the README's settings table is generated — a test keeps them equal),
//! and [`Config`], read once at start with every error reported together, then handed to the application and the
//! web edge. Nothing else reads `ONESEAL_*` variables except the secrets' own readers in `main.rs` (the
//! personal-data key and the seal passphrase, which depend on the database) and clap's `--database`/`--listen`/
//! `--public-url` flags.

use oneseal_app::App;

/// One setting: the environment variable, its default (as text, for people) and what it does.
pub struct Setting {
    pub name: &'static str,
    pub default: &'static str,
    pub doc: &'static str,
}

/// Every `ONESEAL_*` variable a deployment may set.
pub const SETTINGS: &[Setting] = &[
    Setting { name: "ONESEAL_DATABASE", default: crate::DEFAULT_DB, doc: "the database: `sqlite://path` or `postgres://user:password@host:5432/db` (also `--database`)" },
    Setting { name: "ONESEAL_PG_WRITERS", default: "4", doc: "writer connections per node on PostgreSQL (1–64; they commit concurrently, decision 0015); SQLite always has one writer" },
    Setting { name: "ONESEAL_LISTEN", default: "127.0.0.1:8080", doc: "the address `oneseal serve` listens on (also `--listen`)" },
    Setting { name: "ONESEAL_PUBLIC_URL", default: "the listening address", doc: "the public address printed on licences (the QR's URL form `…/v/{identifier}`; also `--public-url`)" },
    Setting { name: "ONESEAL_PD_KEY", default: "—", doc: "the personal-data master key (64 hex characters); with SQLite and neither this nor `ONESEAL_PD_KEY_FILE`, `pd.key` beside the database file is created (mode 0600) — back it up; PostgreSQL needs one of them. Rotate with `oneseal pd rotate --new-key-file F`" },
    Setting { name: "ONESEAL_PD_KEY_FILE", default: "—", doc: "a file holding the personal-data master key" },
    Setting { name: "ONESEAL_SEAL_PASSPHRASE", default: "—", doc: "the passphrase that encrypts the seal's private key at rest (Argon2id + SM4-GCM); with SQLite and neither this nor `ONESEAL_SEAL_PASSPHRASE_FILE`, `seal.pass` beside the database file is created (mode 0600) — back it up" },
    Setting { name: "ONESEAL_SEAL_PASSPHRASE_FILE", default: "—", doc: "a file holding the seal passphrase" },
    Setting { name: "ONESEAL_REQUIRE_TOTP", default: "off", doc: "`staff`: staff with write powers must use an authenticator app (TOTP)" },
    Setting { name: "ONESEAL_LOGIN_LIMIT_PER_ACCOUNT", default: "100", doc: "failed sign-ins per 15 minutes for one account over all addresses, past which only an authenticator code or an administrator lets it in (one account and address back off after 3 failures: 1 s, 2 s, 4 s …); 0 turns it off" },
    Setting { name: "ONESEAL_LOGIN_LIMIT_PER_ADDRESS", default: "50", doc: "failed sign-ins per 15 minutes from one address; 0 turns it off" },
    Setting { name: "ONESEAL_REGISTRATIONS_PER_HOUR", default: "10", doc: "registrations per client address per hour; 0 turns it off" },
    Setting { name: "ONESEAL_ANONYMOUS_PER_MINUTE", default: "120", doc: "requests an anonymous address may make per minute to the costly public routes (PDF forms, verification, proofs, lookups, Open311; list in `crates/web/src/limits.rs`); 0 turns it off" },
    Setting { name: "ONESEAL_UPLOAD_QUOTA_MB", default: "200", doc: "MiB of uploaded files an account may hold that are not yet part of an application" },
    Setting { name: "ONESEAL_UPLOAD_QUOTA_FILES", default: "200", doc: "uploaded files an account may hold that are not yet part of an application" },
    Setting { name: "ONESEAL_ORPHAN_GRACE_DAYS", default: "30", doc: "days after which a file no application took up is deleted" },
    Setting { name: "ONESEAL_FILES_DIR", default: "`files/` beside the SQLite database; `oneseal-data/files` with PostgreSQL", doc: "the file store: inspection videos (sealed with SM4-GCM) and unfinished uploads; nodes sharing a database share this directory" },
    Setting { name: "ONESEAL_VIDEO_MAX_MB", default: "500", doc: "MiB an inspection video may have (tus `Tus-Max-Size`)" },
    Setting { name: "ONESEAL_VIDEO_MAX_SECONDS", default: "600", doc: "seconds an inspection video may last (read with ffprobe when the upload completes)" },
    Setting { name: "ONESEAL_VIDEO_MEETING_URL", default: "none", doc: "the video-meeting service (Jitsi, LiveKit …) for live video inspections: a room address with `{room}` where a fresh unguessable room name goes, e.g. `https://meet.bureau.example/{room}`; the applicant and inspectors open the link, the server fetches nothing from it. Unset: live inspections cannot be scheduled" },
    Setting { name: "ONESEAL_VIDEO_UPLOAD_HOURS", default: "24", doc: "hours an unfinished video upload is kept after its last byte (tus `Upload-Expires`); a worker deletes it then" },
    Setting { name: "ONESEAL_EGRESS_ALLOW", default: "none", doc: "comma-separated CIDR blocks webhooks may reach although they are not public (loopback, private, link-local …), e.g. a regulator's receiver on the bureau's network" },
    Setting { name: "ONESEAL_SECURE_COOKIES", default: "0", doc: "`1`: mark the session cookie `Secure` (behind TLS)" },
    Setting { name: "ONESEAL_KIOSK_IDLE_SECONDS", default: "90", doc: "seconds without touch (2–3600) before a kiosk returns to its start page" },
    Setting { name: "ONESEAL_HALL_EVENTS_PER_ADDRESS", default: "20", doc: "connections to a hall's live feed (`/hall/{point}/events`: hall screens, window screens, a person's number page) one client address may hold open on a node; more are refused with 429 and `Retry-After`; 0 turns the cap off" },
    Setting { name: "ONESEAL_HALL_DEVICES", default: "none", doc: "comma-separated CIDR blocks of the hall's own devices (kiosks, hall and window screens, on the hall's network): not capped by `ONESEAL_HALL_EVENTS_PER_ADDRESS`, and taking a number from them does not spend from the anonymous bucket (`ONESEAL_ANONYMOUS_PER_MINUTE`), so a busy kiosk never stops the hall" },
    Setting { name: "ONESEAL_CARRIER", default: "simulated", doc: "the postal carrier adapter results sent by post go through (邮政寄送); this build has `simulated` only (deterministic, for the demo and tests; docs/hall.md says what a real carrier's adapter implements). An unknown name stops the server at start" },
    Setting { name: "ONESEAL_SMTP_URL", default: "none", doc: "mail red supervision alerts and escalated urgings through this SMTP relay (`smtp://relay:25`)" },
    Setting { name: "ONESEAL_MAIL_FROM", default: "OneSeal <noreply@oneseal.invalid>", doc: "the sender of those mails" },
    Setting { name: "ONESEAL_ALERT_MAIL_TO", default: "—", doc: "comma-separated mailboxes that receive them (needed with `ONESEAL_SMTP_URL`)" },
    Setting { name: "ONESEAL_LIAISON_ACK_DAYS", default: "5", doc: "working days a regulator has to acknowledge a message" },
    Setting { name: "ONESEAL_WEBHOOK_RETRY_SECONDS", default: "5,300,1800,7200,18000,36000,50400,72000,86400", doc: "comma-separated waits before each webhook retry (the Standard Webhooks schedule)" },
    Setting { name: "ONESEAL_WEBHOOK_LEASE_SECONDS", default: "120", doc: "seconds a node holds a webhook delivery it claimed; if it dies before recording the outcome, another node sends the delivery again after this (same `webhook-id`; 20–86400)" },
    Setting { name: "ONESEAL_RATING_CHANGE_DAYS", default: "7", doc: "days a rating may be changed" },
    Setting { name: "ONESEAL_REMEDIATION_DAYS", default: "5", doc: "working days to remediate a bad rating" },
    Setting { name: "ONESEAL_OIDC_ISSUER", default: "none", doc: "staff single sign-on through OpenID Connect (`/api/v1/oidc/login`): the provider; then the next three are needed too" },
    Setting { name: "ONESEAL_OIDC_CLIENT_ID", default: "—", doc: "OpenID Connect client id" },
    Setting { name: "ONESEAL_OIDC_CLIENT_SECRET", default: "—", doc: "OpenID Connect client secret" },
    Setting { name: "ONESEAL_OIDC_REDIRECT_URL", default: "—", doc: "OpenID Connect redirect URL (`…/api/v1/oidc/callback`)" },
    Setting { name: "ONESEAL_OIDC_USERNAME_CLAIM", default: "preferred_username", doc: "the ID-token claim that links a staff account at its first sign-in (later sign-ins follow the provider's `sub`)" },
];

/// The settings table of README.md (between `<!-- settings:begin -->` and `<!-- settings:end -->`).
pub fn markdown_table() -> String {
    let mut out = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for s in SETTINGS {
        out.push_str(&format!("| `{}` | {} | {} |\n", s.name, s.default, s.doc));
    }
    out
}

/// The deployment's settings, parsed.
#[derive(Debug, Clone)]
pub struct Config {
    pub login_limits: oneseal_app::auth::LoginLimits,
    pub registrations_per_hour: usize,
    pub anonymous_per_minute: u32,
    pub uploads: oneseal_app::attachments::UploadSettings,
    pub egress_allow: Vec<oneseal_app::egress::Cidr>,
    pub require_totp: bool,
    pub liaison: oneseal_app::liaison::LiaisonSettings,
    pub ratings: oneseal_app::ratings::RatingSettings,
    pub mail: Option<oneseal_app::mail::MailConfig>,
    pub web: oneseal_web::WebSettings,
    /// Writer connections per node on PostgreSQL.
    pub pg_writers: usize,
    /// The postal carrier adapter's name (`ONESEAL_CARRIER`), one of `oneseal_app::shipments::CARRIERS`.
    pub carrier: String,
    /// The file store (`None`: beside the database, see [`Config::video_settings`]) and the video limits.
    pub files_dir: Option<std::path::PathBuf>,
    pub video: oneseal_app::videos::VideoSettings,
}

impl Config {
    /// From the process environment.
    pub fn from_env() -> Result<Config, String> {
        Config::read(&|k| std::env::var(k).ok())
    }

    /// From any lookup (tests pass a map). Every problem is reported, one per line.
    pub fn read(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
        let mut errors: Vec<String> = Vec::new();
        let mut num = |name: &str, what: &str| -> Option<u64> {
            let v = lookup(name)?;
            match v.trim().parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(format!("{name} must be {what}, not {v:?}"));
                    None
                }
            }
        };
        let mut login_limits = oneseal_app::auth::LoginLimits::default();
        if let Some(n) = num("ONESEAL_LOGIN_LIMIT_PER_ACCOUNT", "a whole number (0 turns the limit off)") {
            login_limits.per_account = n as usize;
        }
        if let Some(n) = num("ONESEAL_LOGIN_LIMIT_PER_ADDRESS", "a whole number (0 turns the limit off)") {
            login_limits.per_address = n as usize;
        }
        let registrations_per_hour = num("ONESEAL_REGISTRATIONS_PER_HOUR", "a whole number of registrations")
            .map_or(oneseal_app::auth::REGISTRATIONS_PER_ADDRESS_HOUR, |n| n as usize);
        let anonymous_per_minute = num("ONESEAL_ANONYMOUS_PER_MINUTE", "a whole number of requests")
            .map_or(oneseal_app::ANONYMOUS_PER_MINUTE, |n| n.min(u64::from(u32::MAX)) as u32);
        let hall_events_per_address = num("ONESEAL_HALL_EVENTS_PER_ADDRESS", "a whole number of connections")
            .map_or(oneseal_web::HALL_EVENTS_PER_ADDRESS, |n| n.min(u64::from(u32::MAX)) as u32);
        let mut uploads = oneseal_app::attachments::UploadSettings::default();
        if let Some(mb) = num("ONESEAL_UPLOAD_QUOTA_MB", "a whole number of MiB") {
            uploads.quota_bytes = (mb as i64).saturating_mul(1024 * 1024);
        }
        if let Some(n) = num("ONESEAL_UPLOAD_QUOTA_FILES", "a whole number of files") {
            uploads.quota_files = n as i64;
        }
        if let Some(n) = num("ONESEAL_ORPHAN_GRACE_DAYS", "a whole number of days") {
            uploads.orphan_grace_days = n.min(u64::from(u32::MAX)) as u32;
        }
        let mut liaison = oneseal_app::liaison::LiaisonSettings::default();
        if let Some(n) = num("ONESEAL_LIAISON_ACK_DAYS", "a whole number of working days") {
            liaison.ack_days = n.min(u64::from(u32::MAX)) as u32;
        }
        if let Some(n) = num("ONESEAL_WEBHOOK_LEASE_SECONDS", "a whole number of seconds (20–86400)") {
            liaison.lease_seconds = n;
        }
        let mut ratings = oneseal_app::ratings::RatingSettings::default();
        if let Some(n) = num("ONESEAL_RATING_CHANGE_DAYS", "a whole number of days") {
            ratings.change_days = n as i64;
        }
        if let Some(n) = num("ONESEAL_REMEDIATION_DAYS", "a whole number of working days") {
            ratings.remediation_days = n.min(u64::from(u32::MAX)) as u32;
        }
        let video_mb = num("ONESEAL_VIDEO_MAX_MB", "a whole number of MiB (1 or more)");
        let video_secs = num("ONESEAL_VIDEO_MAX_SECONDS", "a whole number of seconds (1 or more)");
        let video_hours = num("ONESEAL_VIDEO_UPLOAD_HOURS", "a whole number of hours (1 or more)");
        let files_dir = lookup("ONESEAL_FILES_DIR").filter(|d| !d.trim().is_empty()).map(std::path::PathBuf::from);
        let kiosk = num("ONESEAL_KIOSK_IDLE_SECONDS", "a number of seconds");
        let pg_writers = match num("ONESEAL_PG_WRITERS", "a whole number from 1 to 64") {
            Some(n @ 1..=64) => n as usize,
            Some(n) => {
                errors.push(format!("ONESEAL_PG_WRITERS must be from 1 to 64, not {n}"));
                4
            }
            None => 4,
        };
        let mut video = oneseal_app::videos::VideoSettings::default();
        for (name, value) in [
            ("ONESEAL_VIDEO_MAX_MB", video_mb),
            ("ONESEAL_VIDEO_MAX_SECONDS", video_secs),
            ("ONESEAL_VIDEO_UPLOAD_HOURS", video_hours),
        ] {
            match value {
                Some(0) => errors.push(format!("{name} must be 1 or more")),
                Some(n) => match name {
                    "ONESEAL_VIDEO_MAX_MB" => video.max_bytes = (n.min(1 << 30) as i64).saturating_mul(1024 * 1024),
                    "ONESEAL_VIDEO_MAX_SECONDS" => video.max_seconds = n.min(1 << 30) as i64,
                    _ => video.expiry_hours = n.min(1 << 20) as i64,
                },
                None => {}
            }
        }
        if let Some(t) = lookup("ONESEAL_VIDEO_MEETING_URL").filter(|t| !t.trim().is_empty()) {
            if oneseal_app::inspections::valid_meeting_template(t.trim()) {
                video.meeting_url = Some(t.trim().to_string());
            } else {
                errors
                    .push(format!("ONESEAL_VIDEO_MEETING_URL must be an http(s) address with one {{room}}, not {t:?}"));
            }
        }
        if let Some(v) = lookup("ONESEAL_WEBHOOK_RETRY_SECONDS") {
            match v.split(',').map(|x| x.trim().parse::<u64>()).collect::<Result<Vec<_>, _>>() {
                Ok(list) => liaison.retry_seconds = list,
                Err(_) => {
                    errors.push(format!("ONESEAL_WEBHOOK_RETRY_SECONDS must be comma-separated seconds, not {v:?}"))
                }
            }
        }
        let egress_allow = match lookup("ONESEAL_EGRESS_ALLOW") {
            Some(list) => oneseal_app::egress::Cidr::parse_list(&list).unwrap_or_else(|e| {
                errors.push(format!("ONESEAL_EGRESS_ALLOW: {e}"));
                vec![]
            }),
            None => vec![],
        };
        let require_totp = match lookup("ONESEAL_REQUIRE_TOTP").as_deref() {
            Some("staff") => true,
            Some("off") | None => false,
            Some(other) => {
                errors.push(format!("ONESEAL_REQUIRE_TOTP is `staff` or `off`, not {other:?}"));
                false
            }
        };
        let secure_cookies = match lookup("ONESEAL_SECURE_COOKIES").as_deref() {
            Some("1") => true,
            Some("0") | None => false,
            Some(other) => {
                errors.push(format!("ONESEAL_SECURE_COOKIES is 1 or 0, not {other:?}"));
                false
            }
        };
        let kiosk_idle_secs = match kiosk {
            Some(n) if (2..=3600).contains(&n) => n,
            Some(n) => {
                errors.push(format!("ONESEAL_KIOSK_IDLE_SECONDS must be 2–3600, not {n}"));
                90
            }
            None => 90,
        };
        let mail = match lookup("ONESEAL_SMTP_URL") {
            Some(url) => {
                let from = lookup("ONESEAL_MAIL_FROM").unwrap_or_else(|| "OneSeal <noreply@oneseal.invalid>".into());
                let to = lookup("ONESEAL_ALERT_MAIL_TO").unwrap_or_default();
                oneseal_app::mail::MailConfig::new(&url, &from, &to).map_err(|e| errors.push(e)).ok()
            }
            None => None,
        };
        let oidc = match lookup("ONESEAL_OIDC_ISSUER") {
            Some(issuer) => {
                let mut need = |k: &str| {
                    lookup(k).unwrap_or_else(|| {
                        errors.push(format!("ONESEAL_OIDC_ISSUER is set, so {k} is needed too"));
                        String::new()
                    })
                };
                Some(oneseal_web::oidc::OidcConfig {
                    issuer: issuer.trim_end_matches('/').to_string(),
                    client_id: need("ONESEAL_OIDC_CLIENT_ID"),
                    client_secret: need("ONESEAL_OIDC_CLIENT_SECRET"),
                    redirect_url: need("ONESEAL_OIDC_REDIRECT_URL"),
                    username_claim: lookup("ONESEAL_OIDC_USERNAME_CLAIM")
                        .unwrap_or_else(|| "preferred_username".into()),
                })
            }
            None => None,
        };
        let hall_devices = match lookup("ONESEAL_HALL_DEVICES") {
            Some(list) => oneseal_app::egress::Cidr::parse_list(&list).unwrap_or_else(|e| {
                errors.push(format!("ONESEAL_HALL_DEVICES: {e}"));
                vec![]
            }),
            None => vec![],
        };
        let carrier = lookup("ONESEAL_CARRIER").map(|c| c.trim().to_string()).unwrap_or_else(|| "simulated".into());
        if oneseal_app::shipments::carrier_named(&carrier).is_none() {
            errors.push(format!(
                "ONESEAL_CARRIER must name a carrier adapter of this build ({}), not {carrier:?}",
                oneseal_app::shipments::CARRIERS.join(", ")
            ));
        }
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        Ok(Config {
            login_limits,
            registrations_per_hour,
            anonymous_per_minute,
            uploads,
            egress_allow,
            require_totp,
            liaison,
            ratings,
            mail,
            web: oneseal_web::WebSettings {
                secure_cookies,
                kiosk_idle_secs,
                oidc,
                hall_events_per_address,
                hall_devices,
            },
            pg_writers,
            carrier,
            files_dir,
            video,
        })
    }

    /// The video settings for a database: the file store is `ONESEAL_FILES_DIR`, else `files/` beside a SQLite
    /// database file, else `oneseal-data/files`.
    pub fn video_settings(&self, database: &str) -> oneseal_app::videos::VideoSettings {
        let dir = self.files_dir.clone().unwrap_or_else(|| {
            database
                .strip_prefix("sqlite://")
                .and_then(|p| std::path::Path::new(p).parent().map(|d| d.join("files")))
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or_else(|| std::path::PathBuf::from("oneseal-data/files"))
        });
        oneseal_app::videos::VideoSettings { dir, ..self.video.clone() }
    }

    /// Hand the application its settings.
    pub fn apply(&self, app: &App) -> Result<(), String> {
        app.set_login_limits(self.login_limits);
        app.set_registrations_per_hour(self.registrations_per_hour);
        app.set_anonymous_per_minute(self.anonymous_per_minute);
        app.set_upload_settings(self.uploads);
        app.set_egress_allow(self.egress_allow.clone());
        app.set_totp_policy(self.require_totp);
        app.set_liaison_settings(self.liaison.clone()).map_err(|e| format!("liaison settings: {e}"))?;
        app.set_rating_settings(self.ratings.clone()).map_err(|e| format!("rating settings: {e}"))?;
        let carrier = oneseal_app::shipments::carrier_named(&self.carrier)
            .ok_or_else(|| format!("ONESEAL_CARRIER: no carrier adapter {:?}", self.carrier))?;
        app.set_carrier(carrier);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::read(&|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_every_error_at_once() {
        let c = read(&[]).unwrap();
        assert_eq!(c.login_limits.per_account, 100);
        assert_eq!(c.anonymous_per_minute, 120);
        assert_eq!(c.web.kiosk_idle_secs, 90);
        assert!(c.mail.is_none() && c.web.oidc.is_none() && !c.require_totp);
        assert_eq!(c.carrier, "simulated");
        assert_eq!((c.web.hall_events_per_address, c.web.hall_devices.len()), (20, 0));
        let c = read(&[("ONESEAL_HALL_EVENTS_PER_ADDRESS", "0"), ("ONESEAL_HALL_DEVICES", "10.8.0.0/16, 10.9.1.7/32")])
            .unwrap();
        assert_eq!(c.web.hall_events_per_address, 0);
        assert!(c.web.hall_devices[1].contains("10.9.1.7".parse().unwrap()));
        assert_eq!(read(&[("ONESEAL_CARRIER", " simulated ")]).unwrap().carrier, "simulated");
        let e = read(&[
            ("ONESEAL_CARRIER", "china-post"),
            ("ONESEAL_HALL_EVENTS_PER_ADDRESS", "many"),
            ("ONESEAL_HALL_DEVICES", "kiosks"),
            ("ONESEAL_LOGIN_LIMIT_PER_ACCOUNT", "lots"),
            ("ONESEAL_REQUIRE_TOTP", "yes"),
            ("ONESEAL_EGRESS_ALLOW", "10.0.0.0/40"),
            ("ONESEAL_OIDC_ISSUER", "https://sso.example"),
            ("ONESEAL_KIOSK_IDLE_SECONDS", "1"),
        ])
        .unwrap_err();
        for needle in [
            "ONESEAL_LOGIN_LIMIT_PER_ACCOUNT",
            "ONESEAL_REQUIRE_TOTP",
            "ONESEAL_EGRESS_ALLOW",
            "ONESEAL_OIDC_CLIENT_ID",
            "ONESEAL_OIDC_REDIRECT_URL",
            "ONESEAL_KIOSK_IDLE_SECONDS",
            "ONESEAL_HALL_EVENTS_PER_ADDRESS",
            "ONESEAL_HALL_DEVICES",
            "ONESEAL_CARRIER must name a carrier adapter of this build (simulated), not \"china-post\"",
        ] {
            assert!(e.contains(needle), "{needle} in {e}");
        }
        let e = read(&[("ONESEAL_VIDEO_MEETING_URL", "https://meet.example/fixed")]).unwrap_err();
        assert!(e.contains("ONESEAL_VIDEO_MEETING_URL"), "{e}");
        let c = read(&[("ONESEAL_VIDEO_MEETING_URL", "https://meet.example/{room}")]).unwrap();
        assert_eq!(c.video.meeting_url.as_deref(), Some("https://meet.example/{room}"));
        let e = read(&[("ONESEAL_VIDEO_MAX_MB", "0"), ("ONESEAL_VIDEO_UPLOAD_HOURS", "x")]).unwrap_err();
        assert!(e.contains("ONESEAL_VIDEO_MAX_MB") && e.contains("ONESEAL_VIDEO_UPLOAD_HOURS"), "{e}");
        let c = read(&[("ONESEAL_VIDEO_MAX_MB", "2"), ("ONESEAL_VIDEO_MAX_SECONDS", "30")]).unwrap();
        let v = c.video_settings("sqlite:///srv/oneseal/oneseal.db");
        assert_eq!((v.max_bytes, v.max_seconds, v.expiry_hours), (2 * 1024 * 1024, 30, 24));
        assert_eq!(v.dir, std::path::PathBuf::from("/srv/oneseal/files"));
        assert_eq!(c.video_settings("postgres://u@h/db").dir, std::path::PathBuf::from("oneseal-data/files"));
        let c = read(&[("ONESEAL_FILES_DIR", "/mnt/shared")]).unwrap();
        assert_eq!(c.video_settings("sqlite://x.db").dir, std::path::PathBuf::from("/mnt/shared"));
        let c = read(&[("ONESEAL_UPLOAD_QUOTA_MB", "1"), ("ONESEAL_WEBHOOK_RETRY_SECONDS", "1, 2")]).unwrap();
        assert_eq!((c.uploads.quota_bytes, c.liaison.retry_seconds.clone()), (1024 * 1024, vec![1, 2]));
    }
}
