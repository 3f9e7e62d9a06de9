//! The background work of a running server, in one place: `serve` starts it, and so can a test. Each worker is a
//! loop over one of the application's `run_*_once` / sweep methods, with its own pace; a failure is logged and the
//! loop goes on (the work is in the database, so nothing is lost when a round fails).

use oneseal_app::mail::MailConfig;
use oneseal_app::App;

use crate::app_err;

/// The workers of one node.
pub struct Workers;

impl Workers {
    /// Start every worker on the current Tokio runtime: the transparency checkpoint (every minute) and tree folding
    /// (every second), planner statistics and upload clean-up (hourly), mail of red alerts (when configured),
    /// electronic supervision with its sweeps, postal tracking, liaison and webhooks, and notifications.
    pub fn start(app: &App, mail: Option<MailConfig>) {
        let signer = app.clone();
        tokio::spawn(async move {
            // Sign a checkpoint of the transparency log every minute when there is something new.
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                if signer.current_seal().is_ok() {
                    if let Err(e) = signer.sign_checkpoint().await {
                        eprintln!("checkpoint: {}", app_err(e));
                    }
                }
            }
        });
        let analyst = app.clone();
        tokio::spawn(async move {
            // Keep the query planner's statistics current (sampled; quick), at start and hourly.
            loop {
                if let Err(e) = analyst.store.write(|db| db.refresh_statistics()).await {
                    eprintln!("statistics: {e}");
                }
                // Throttle counts past their window and abandoned single sign-on sign-ins (shared by the nodes).
                if let Err(e) = analyst.prune_throttles().await {
                    eprintln!("throttles: {}", app_err(e));
                }
                // Uploaded files no application took up, past their grace period.
                match analyst.clean_orphan_attachments().await {
                    Ok(0) => {}
                    Ok(n) => eprintln!("uploads: deleted {n} files no application referenced"),
                    Err(e) => eprintln!("uploads: {}", app_err(e)),
                }
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
        });
        let sweeper = app.clone();
        tokio::spawn(async move {
            // tus expiration: unfinished video uploads past their expiry, with their bytes.
            loop {
                match sweeper.sweep_video_uploads().await {
                    Ok(0) => {}
                    Ok(n) => eprintln!("videos: deleted {n} expired unfinished uploads"),
                    Err(e) => eprintln!("videos: {}", app_err(e)),
                }
                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            }
        });
        let viewer = app.clone();
        tokio::spawn(async move {
            // Follow what other nodes publish or rotate (catalog, calendar, directory, seal and data keys).
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                if let Err(e) = viewer.refresh_views().await {
                    eprintln!("views: {}", app_err(e));
                }
            }
        });
        let folder = app.clone();
        tokio::spawn(async move {
            // Fold new transparency-log leaves into the Merkle tree in short write transactions, off the hot path.
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                if let Err(e) = folder.fold_tree(10_000).await {
                    eprintln!("transparency log: {}", app_err(e));
                }
            }
        });
        if let Some(cfg) = mail {
            let mailer = app.clone();
            tokio::spawn(async move {
                // Red alerts and escalations to the supervision office; a relay outage delays, never loses, mail.
                loop {
                    match mailer.run_mail_once(&cfg, 500).await {
                        Ok(0) => tokio::time::sleep(std::time::Duration::from_secs(5)).await,
                        Ok(_) => {}
                        Err(e) => {
                            eprintln!("mail: {}", app_err(e));
                            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                        }
                    }
                }
            });
        }
        let supervisor = app.clone();
        tokio::spawn(async move {
            // Electronic supervision: keep the watch rows current, and sweep for due alerts every minute.
            let mut last_sweep = std::time::Instant::now() - std::time::Duration::from_secs(3600);
            loop {
                let n = match supervisor.run_supervision_once(1000).await {
                    Ok(n) => n,
                    Err(e) => {
                        eprintln!("supervision subscriber: {}", app_err(e));
                        0
                    }
                };
                if last_sweep.elapsed() >= std::time::Duration::from_secs(60) {
                    last_sweep = std::time::Instant::now();
                    if let Err(e) = supervisor.sweep_supervision(5000).await {
                        eprintln!("supervision sweep: {}", app_err(e));
                    }
                    if let Err(e) = supervisor.escalate_urgings(5000).await {
                        eprintln!("urgings: {}", app_err(e));
                    }
                    if let Err(e) = supervisor.sweep_liaison(5000).await {
                        eprintln!("liaison sweep: {}", app_err(e));
                    }
                    if let Err(e) = supervisor.sweep_hotline(5000).await {
                        eprintln!("hotline sweep: {}", app_err(e));
                    }
                    if let Err(e) = supervisor.sweep_ratings(5000).await {
                        eprintln!("ratings sweep: {}", app_err(e));
                    }
                    // The hall: no-shows after their slot, reminders the day before.
                    if let Err(e) = supervisor.hall_sweep().await {
                        eprintln!("hall sweep: {}", app_err(e));
                    }
                }
                if n == 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
        });
        let post = app.clone();
        tokio::spawn(async move {
            // Postal delivery: waybills for new shipments, then the carrier's tracking, every 30 seconds (several
            // nodes may poll: each report is recorded once).
            loop {
                if let Err(e) = post.run_shipments_once().await {
                    eprintln!("post: {}", app_err(e));
                }
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            }
        });
        let liaison = app.clone();
        tokio::spawn(async move {
            // Approval–regulation liaison: messages to regulators (with their webhook outbox rows), then delivery.
            loop {
                let pushed = match liaison.run_liaison_once(1000).await {
                    Ok(n) => n,
                    Err(e) => {
                        eprintln!("liaison subscriber: {}", app_err(e));
                        0
                    }
                };
                let sent = match liaison.run_webhooks_once(50).await {
                    Ok(n) => n,
                    Err(e) => {
                        eprintln!("webhooks: {}", app_err(e));
                        0
                    }
                };
                if pushed == 0 && sent == 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
        });
        let worker = app.clone();
        tokio::spawn(async move {
            loop {
                match worker.run_notifications_once(1000).await {
                    Ok(0) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("notifications subscriber: {}", app_err(e));
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
    }
}
