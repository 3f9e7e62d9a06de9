//! Views every node keeps in memory (catalog, calendar, hotline directory, seal key, personal-data keyring) follow
//! what other nodes publish or rotate: [`App::refresh_views`] compares the database's fingerprint of those tables
//! with the one this node loaded, and reloads when it moved. The node's workers call it every two seconds.

use std::sync::Arc;

use crate::{App, AppError};

impl App {
    /// Reload the in-memory views if another node changed what they are built from. `Ok(true)`: reloaded.
    pub async fn refresh_views(&self) -> Result<bool, AppError> {
        let now = self.store.read(|db| db.views_fingerprint().map_err(AppError::from)).await?;
        let seen = self.views_seen.lock().ok().and_then(|g| g.clone());
        if seen.as_deref() == Some(now.as_str()) {
            return Ok(false);
        }
        self.reload_catalog().await?;
        let app = self.clone();
        tokio::task::spawn_blocking(move || -> Result<(), AppError> {
            app.reload_calendar_blocking()?;
            app.reload_directory_blocking()?;
            app.reload_network_blocking()?;
            let rows = app.store.read_blocking(|db| db.data_keys().map_err(AppError::from))?;
            let master =
                app.master.read().map(|m| m.clone()).map_err(|_| AppError::Internal("master key lock".into()))?;
            let ring = crate::pd::keyring_of(&master, &rows)?;
            if let Ok(mut g) = app.keyring.write() {
                *g = Arc::new(ring);
            }
            Ok(())
        })
        .await
        .map_err(|e| AppError::Internal(format!("reloading views: {e}")))??;
        let pass = self.seal_passphrase.read().ok().and_then(|g| g.clone());
        if let Some(pass) = pass {
            self.load_seal(&pass).await?;
        }
        if let Ok(mut g) = self.views_seen.lock() {
            *g = Some(now);
        }
        Ok(true)
    }
}
