//! The two secrets a deployment keeps outside the database: the personal-data master key and the seal's
//! passphrase, from the environment, a file, or (SQLite only) a file created beside the database with mode 0600.

use crate::*;

/// `ONESEAL_PD_KEY_FILE`, or — for a SQLite database only — `pd.key` beside the database file, created with mode
/// 0600 on first use. PostgreSQL deployments must configure the key explicitly.
pub fn master_key(database: &str) -> Result<MasterKey, String> {
    if let Ok(hex) = std::env::var("ONESEAL_PD_KEY") {
        return MasterKey::from_hex(&hex).map_err(|e| format!("ONESEAL_PD_KEY: {e}"));
    }
    let file = match std::env::var("ONESEAL_PD_KEY_FILE") {
        Ok(f) => PathBuf::from(f),
        Err(_) => match DatabaseUrl::parse(database).map_err(err)? {
            DatabaseUrl::Sqlite(p) => p.parent().map(|d| d.join("pd.key")).unwrap_or_else(|| PathBuf::from("pd.key")),
            DatabaseUrl::Postgres(_) => {
                return Err("a PostgreSQL deployment needs the personal-data master key: set ONESEAL_PD_KEY (64 hex characters) or ONESEAL_PD_KEY_FILE".into())
            }
        },
    };
    if !file.exists() {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let mut key = [0u8; 32];
        getrandom_fill(&mut key)?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        write_private(&file, &hex)?;
        eprintln!("created the personal-data master key {} (mode 0600); back it up: without it the personal data cannot be read", file.display());
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    MasterKey::from_hex(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// The seal passphrase: `ONESEAL_SEAL_PASSPHRASE`, the file named by `ONESEAL_SEAL_PASSPHRASE_FILE`, or — for a
/// SQLite database — `seal.pass` beside the database file (created, mode 0600, when `create` is set).
pub fn seal_passphrase(database: &str, create: bool) -> Result<Option<String>, String> {
    if let Ok(p) = std::env::var("ONESEAL_SEAL_PASSPHRASE") {
        return Ok(Some(p));
    }
    let file = match std::env::var("ONESEAL_SEAL_PASSPHRASE_FILE") {
        Ok(f) => PathBuf::from(f),
        Err(_) => match DatabaseUrl::parse(database).map_err(err)? {
            DatabaseUrl::Sqlite(p) => {
                p.parent().map(|d| d.join("seal.pass")).unwrap_or_else(|| PathBuf::from("seal.pass"))
            }
            DatabaseUrl::Postgres(_) => return Ok(None),
        },
    };
    if !file.exists() {
        if !create {
            return Ok(None);
        }
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        write_private(&file, &oneseal_app::random_hex(24).map_err(app_err)?)?;
        eprintln!(
            "created the seal passphrase {} (mode 0600); back it up: without it the seal cannot sign",
            file.display()
        );
    }
    Ok(Some(std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?.trim().to_string()))
}

pub(crate) fn getrandom_fill(buf: &mut [u8]) -> Result<(), String> {
    let hex = oneseal_app::random_hex(buf.len()).map_err(app_err)?;
    for (i, b) in buf.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(err)?;
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))
}
