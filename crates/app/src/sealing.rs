//! The bureau's one seal in the running system: SM2 keys stored with the private key sealed under a key derived
//! (Argon2id) from a passphrase that comes from the environment or a file, never from the database; rotation keeps
//! old public keys valid for what they signed, with their validity windows; the public keys are published.

use std::sync::Arc;

use argon2::Argon2;
use oneseal_seal::pd::{sm4_gcm_decrypt, sm4_gcm_encrypt};
use oneseal_seal::seal::{public_from_pem, verify, SealKey, DIST_ID};
use oneseal_store::{NewEvent, SealKeyRow};
use serde::Serialize;
use serde_json::json;

use crate::{hex, ms, App, AppError};

/// A published seal key.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PublishedKey {
    pub key_id: String,
    pub algorithm: &'static str,
    pub distinguishing_id: &'static str,
    pub public_pem: String,
    pub valid_from_ms: i64,
    pub valid_to_ms: Option<i64>,
    pub current: bool,
}

fn random<const N: usize>() -> Result<[u8; N], AppError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(b)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// The key that seals the private key: Argon2id over the passphrase and a per-key salt.
fn passphrase_key(passphrase: &str, salt: &[u8]) -> Result<[u8; 16], AppError> {
    if passphrase.chars().count() < 12 {
        return Err(AppError::invalid("weak_passphrase", "the seal passphrase is at least 12 characters"));
    }
    let mut out = [0u8; 16];
    Argon2::default()
        .hash_password_into(passphrase.as_bytes(), salt, &mut out)
        .map_err(|e| AppError::Internal(format!("passphrase: {e}")))?;
    Ok(out)
}

fn seal_private(key: &SealKey, passphrase: &str) -> Result<(String, String), AppError> {
    let salt = random::<16>()?;
    let nonce = random::<12>()?;
    let k = passphrase_key(passphrase, &salt)?;
    let pem = key.to_pkcs8_pem().map_err(|e| AppError::Internal(e.to_string()))?;
    let ct = sm4_gcm_encrypt(&k, &nonce, key.key_id().as_bytes(), pem.as_bytes())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((format!("{}{}", hex(&nonce), hex(&ct)), hex(&salt)))
}

fn open_private(row: &SealKeyRow, passphrase: &str) -> Result<SealKey, AppError> {
    let bad = || {
        AppError::Internal(format!(
            "the seal passphrase does not open seal key {} (ONESEAL_SEAL_PASSPHRASE?)",
            row.key_id
        ))
    };
    let salt = unhex(&row.salt).ok_or_else(bad)?;
    let raw = unhex(&row.private_sealed).ok_or_else(bad)?;
    if raw.len() < 12 {
        return Err(bad());
    }
    let (nonce, ct) = raw.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| bad())?;
    let k = passphrase_key(passphrase, &salt)?;
    let pem = sm4_gcm_decrypt(&k, &nonce, row.key_id.as_bytes(), ct).map_err(|_| bad())?;
    SealKey::from_pkcs8_pem(&String::from_utf8(pem).map_err(|_| bad())?).map_err(|_| bad())
}

impl App {
    /// Load the current seal key with the passphrase (if a seal exists).
    pub async fn load_seal(&self, passphrase: &str) -> Result<Option<String>, AppError> {
        let rows = self.store.read(|db| db.seal_keys().map_err(AppError::from)).await?;
        let Some(cur) = rows.iter().find(|r| r.current) else { return Ok(None) };
        let key = open_private(cur, passphrase)?;
        let id = key.key_id().to_string();
        if let Ok(mut g) = self.seal.write() {
            *g = Some(Arc::new(key));
        }
        if let Ok(mut g) = self.seal_passphrase.write() {
            *g = Some(passphrase.to_string());
        }
        Ok(Some(id))
    }

    /// Create the seal, or take over an imported PKCS#8 PEM key (from `openssl genpkey -algorithm SM2`), as the
    /// new current key; a previous key stays valid for what it signed until now.
    pub async fn install_seal(
        &self,
        actor: &str,
        passphrase: &str,
        import_pem: Option<&str>,
    ) -> Result<String, AppError> {
        let key = match import_pem {
            Some(pem) => SealKey::from_pkcs8_pem(pem).map_err(|e| AppError::invalid("bad_seal_key", e.to_string()))?,
            None => loop {
                if let Ok(k) = SealKey::from_random(random::<32>()?) {
                    break k;
                }
            },
        };
        let (private_sealed, salt) = seal_private(&key, passphrase)?;
        let now = ms(self.now());
        let row = SealKeyRow {
            key_id: key.key_id().to_string(),
            public_pem: key.public_pem().map_err(|e| AppError::Internal(e.to_string()))?,
            private_sealed,
            salt,
            valid_from_ms: now,
            valid_to_ms: None,
            current: true,
        };
        let payload = json!({ "key_id": row.key_id, "public_pem": row.public_pem, "valid_from_ms": now }).to_string();
        let (r, who) = (row.clone(), actor.to_string());
        self.store
            .write(move |db| -> Result<(), AppError> {
                if db.seal_keys()?.iter().any(|k| k.key_id == r.key_id) {
                    return Err(AppError::invalid("seal_key_exists", "this key is already installed"));
                }
                let v = db.stream_version("seal")?;
                let kind = if v == 0 { "seal_created" } else { "seal_rotated" };
                db.append(
                    "seal",
                    v,
                    &[NewEvent {
                        event_type: kind.into(),
                        schema_version: 1,
                        actor: who,
                        at_ms: r.valid_from_ms,
                        payload,
                    }],
                )?;
                db.put_seal_key(&r)?;
                Ok(())
            })
            .await?;
        let id = key.key_id().to_string();
        if let Ok(mut g) = self.seal.write() {
            *g = Some(Arc::new(key));
        }
        Ok(id)
    }

    /// The current seal, or an error saying how to create one.
    pub fn current_seal(&self) -> Result<Arc<SealKey>, AppError> {
        self.seal.read().ok().and_then(|g| g.clone()).ok_or_else(|| {
            AppError::invalid("no_seal", "the bureau has no seal yet: run `oneseal seal init` (or start with --demo)")
        })
    }

    /// Every seal key ever used, with its validity window.
    pub async fn published_keys(&self) -> Result<Vec<PublishedKey>, AppError> {
        let rows = self.store.read(|db| db.seal_keys().map_err(AppError::from)).await?;
        Ok(rows
            .into_iter()
            .map(|r| PublishedKey {
                key_id: r.key_id,
                algorithm: "SM2-with-SM3",
                distinguishing_id: DIST_ID,
                public_pem: r.public_pem,
                valid_from_ms: r.valid_from_ms,
                valid_to_ms: r.valid_to_ms,
                current: r.current,
            })
            .collect())
    }

    /// Verify a signature made by a published seal key.
    pub async fn verify_seal(&self, key_id: &str, msg: &[u8], sig: &[u8]) -> Result<bool, AppError> {
        let keys = self.published_keys().await?;
        let Some(k) = keys.iter().find(|k| k.key_id == key_id) else { return Ok(false) };
        let public = public_from_pem(&k.public_pem).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(verify(&public, msg, sig))
    }
}
