//! Rebuild every projection from the events (`oneseal rebuild`): empty the projection tables, then replay the log
//! in global order, in one transaction, each event through its stream's projection function — the same function
//! the commands call when they record it. This file only looks the function up; it updates no row itself.

use oneseal_store::{Db, StoredEvent, PROJECTIONS};

use crate::{App, AppError};

/// How one event reaches the projections of its stream.
type Replay = fn(&App, &mut Db, &StoredEvent) -> Result<(), AppError>;

/// The projection function of a stream, by the stream's kind (its id up to the first `-`). `None` for the streams
/// whose rows are not projections (accounts, persons, organisations, the seal: see ARCHITECTURE.md).
fn replay_of(stream_id: &str) -> Option<Replay> {
    let kind = stream_id.split_once('-').map_or(stream_id, |(k, _)| k);
    let f: Replay = match kind {
        "case" => crate::cases::replay,
        "item" | "bundle" | "departments" | "projecttype" => |_, db, e| crate::catalog::project(db, e),
        "calendar" => |_, db, e| crate::calendar::project(db, e),
        "access" => |_, db, e| crate::pd::project(db, e),
        "license" => crate::licensing::project,
        "alert" => |_, db, e| crate::supervision::project(db, e),
        "urging" => |_, db, e| crate::urging::project(db, e).map(drop),
        "liaison" => |_, db, e| crate::liaison::project_message(db, e).map(drop),
        "consult" => |_, db, e| crate::liaison::project_consultation(db, e).map(drop),
        "ticket" => |_, db, e| crate::hotline::replay(db, e),
        "rating" => |_, db, e| crate::ratings::project(db, e).map(drop),
        "hotline" => |_, db, e| crate::hotline::project_directory(db, e),
        "kb" => |_, db, e| crate::hotline::project_article(db, e).map(drop),
        "network" => |_, db, e| crate::hall::project_network(db, e),
        "appt" => |_, db, e| crate::hall::project_appointment(db, e).map(drop),
        "queue" => |_, db, e| crate::hall::project_number(db, e).map(drop),
        "shipment" => |_, db, e| crate::shipments::project(db, e).map(drop),
        "project" => |_, db, e| crate::projects::project(db, e).map(drop),
        _ => return None,
    };
    Some(f)
}

/// How far a rebuild is: events replayed so far, of how many, and since when (for a rate and an ETA).
#[derive(Debug, Clone, Copy)]
pub struct RebuildProgress {
    pub done: usize,
    pub total: usize,
    pub elapsed: std::time::Duration,
}

impl RebuildProgress {
    /// Events per second so far.
    pub fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Seconds left at the rate so far (`None` before the first batch).
    pub fn eta_secs(&self) -> Option<f64> {
        (self.done > 0).then(|| self.total.saturating_sub(self.done) as f64 / self.rate())
    }
}

/// Called after each batch of a rebuild (on the writer thread: keep it quick).
pub type ProgressFn = Box<dyn Fn(RebuildProgress) + Send>;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RebuildReport {
    pub events: usize,
    pub cases: usize,
}

impl App {
    pub async fn rebuild(&self) -> Result<RebuildReport, AppError> {
        self.rebuild_with_progress(None).await
    }

    /// [`App::rebuild`], reporting its progress after each batch of 5,000 events.
    pub async fn rebuild_with_progress(&self, progress: Option<ProgressFn>) -> Result<RebuildReport, AppError> {
        let app = self.clone();
        // The write job reads the log below the safe horizon (PostgreSQL): move it past what is committed.
        self.store.settle().await?;
        let report = self
            .store
            .write(move |db| -> Result<RebuildReport, AppError> {
                let total = usize::try_from(db.count_events()?).unwrap_or(0);
                let started = std::time::Instant::now();
                db.clear_projections()?;
                let mut rep = RebuildReport::default();
                let mut after = 0;
                let mut batches = 0u64;
                loop {
                    let events = db.read_from(after, 5000)?;
                    let Some(last) = events.last().map(|e| e.seq) else {
                        break;
                    };
                    after = last;
                    for e in &events {
                        rep.events += 1;
                        if e.version == 1 && e.stream_id.starts_with("case-") {
                            rep.cases += 1;
                        }
                        if let Some(replay) = replay_of(&e.stream_id) {
                            replay(&app, db, e)?;
                        }
                    }
                    batches += 1;
                    db.rebuild_batch_done(batches)?;
                    if let Some(p) = &progress {
                        p(RebuildProgress { done: rep.events, total, elapsed: started.elapsed() });
                    }
                }
                // Electronic supervision's project watch rows derive from several streams (the project, its cases,
                // its alerts) and the calendar: computed again from the final state by the subscriber's function.
                db.clear_project_watches()?;
                for row in db.projects_since(i64::MIN)? {
                    crate::project_alerts::watch_project(&app, db, &row.code)?;
                }
                Ok(rep)
            })
            .await?;
        self.reload_catalog().await?;
        Ok(report)
    }

    /// All projection tables as text rows, for comparing a rebuild with the live projections.
    pub async fn dump_projections(&self) -> Result<Vec<(String, Vec<String>)>, AppError> {
        self.store
            .read(|db| -> Result<Vec<(String, Vec<String>)>, AppError> {
                let mut out = Vec::new();
                for p in PROJECTIONS {
                    out.push((p.table.to_string(), db.dump_table(p.table)?));
                }
                Ok(out)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::replay_of;

    #[test]
    fn every_projected_stream_kind_has_its_replay_and_the_others_none() {
        for s in [
            "case-YC20260301000001",
            "item-11640100MB0000001",
            "bundle-open-restaurant",
            "projecttype-social-investment-general",
            "project-2026-640104-47-03-000001",
            "departments",
            "calendar",
            "access-YC20260301000001",
            "license-1.2.156",
            "alert-red-YC1-2026-03-02",
            "urging-0a1b",
            "liaison-approval-YC1-dept",
            "consult-0a1b",
            "ticket-H20260301001",
            "rating-case-YC1",
            "hotline-directory",
            "kb-0a1b",
            "shipment-YC20260301000001-1",
            "project-2026-640100-47-03-000123",
            "alert-project_red-2026-640100-47-03-000123-land-planning",
        ] {
            assert!(replay_of(s).is_some(), "{s}");
        }
        for s in ["account-clerk", "person-zhang", "org-91640100", "seal"] {
            assert!(replay_of(s).is_none(), "{s}");
        }
    }
}
