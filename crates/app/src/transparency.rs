//! 全程留痕: the transparency log over every event. The store makes each event a Merkle leaf in the same
//! transaction; here the seal signs checkpoints (C2SP tlog-checkpoint), never two inconsistent ones; proofs are
//! served; and `audit` recomputes every leaf, the tree and the checkpoint signatures and names the first divergence.

use oneseal_seal::merkle::{self, Hash, MemStore};
use oneseal_seal::seal::public_from_pem;
use oneseal_store::leaf_bytes;
use serde::Serialize;

use crate::{hex, ms, App, AppError};

/// The log's origin line (and the signing key's name).
pub const ORIGIN: &str = "yinchuan.oneseal/transparency-log/sm3";

fn b64(h: &Hash) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h)
}

/// An inclusion proof of one event.
#[derive(Debug, Clone, Serialize)]
pub struct Inclusion {
    pub seq: i64,
    pub leaf_index: u64,
    pub leaf_hash: String,
    pub tree_size: u64,
    pub root: String,
    pub proof: Vec<String>,
}

/// What an audit found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub events: u64,
    pub tree_size: u64,
    pub checkpoints: usize,
    /// Empty when everything agrees; else the problems, the first divergence first.
    pub problems: Vec<String>,
}

impl App {
    /// Sign a checkpoint of the log as it is now (none if nothing changed since the last one).
    pub async fn sign_checkpoint(&self) -> Result<Option<String>, AppError> {
        let seal = self.current_seal()?;
        let key_id = merkle::sm2_note_key_id(ORIGIN, &seal.public_key());
        let now = ms(self.now());
        self.store.settle().await?;
        self.store
            .write(move |db| -> Result<Option<String>, AppError> {
                // Once across nodes: another node signing now waits, then finds this checkpoint at the same size.
                db.claim_work("checkpoint")?;
                db.sync_tree()?;
                let (size, kind) = db.log_head()?;
                let last = db.checkpoints()?.pop();
                if last.as_ref().is_some_and(|(s, _, _)| *s == size) || size == 0 {
                    return Ok(None);
                }
                let root = db.log_root(size)?;
                // Never sign two inconsistent checkpoints: the new tree must extend the last signed one.
                if let Some((old, old_root, _)) = &last {
                    let proof = db.consistency_proof(*old, size)?;
                    let old_root = unhex(old_root)?;
                    if !merkle::verify_consistency(kind, *old, size, &old_root, &root, &proof) {
                        return Err(AppError::Internal(format!(
                            "the log at {size} does not extend checkpoint {old}: refusing to sign"
                        )));
                    }
                }
                let note = merkle::sign_checkpoint(ORIGIN, size, &root, ORIGIN, key_id, |m| seal.sign(m))
                    .map_err(|e| AppError::Internal(format!("{e:?}")))?;
                db.put_checkpoint(size, &hex(&root), &note, now)?;
                Ok(Some(note))
            })
            .await
    }

    pub async fn latest_checkpoint(&self) -> Result<Option<String>, AppError> {
        Ok(self.store.read(|db| db.checkpoints().map_err(AppError::from)).await?.pop().map(|(_, _, n)| n))
    }

    /// Fold at most `max` new leaves into the tree (the serve loop calls this every second).
    pub async fn fold_tree(&self, max: u64) -> Result<u64, AppError> {
        // PostgreSQL: leaves are written for the events below the safe horizon; move it past what is committed.
        self.store.settle().await?;
        self.store.write(move |db| db.fold_tree(max).map_err(AppError::from)).await
    }

    /// Fold new leaves into the tree (before proofs).
    pub async fn sync_tree(&self) -> Result<u64, AppError> {
        self.store.settle().await?;
        self.store.write(|db| db.sync_tree().map_err(AppError::from)).await
    }

    /// The inclusion proof of an event in the tree of `size` leaves (default: the latest checkpoint).
    pub async fn inclusion(&self, seq: i64, size: Option<u64>) -> Result<Inclusion, AppError> {
        // A read: the tree is folded in the background; only a proof about leaves not folded yet folds them
        // first (a write bounded by the new events, never one per call).
        let behind = self
            .store
            .read(move |db| -> Result<bool, AppError> {
                let (head, _) = db.log_head()?;
                let last = db.last_seq()?;
                let unfolded = db.event_leaf(seq)?.is_none() && seq <= last;
                Ok(unfolded || size.is_some_and(|s| s > head && s <= last.max(0) as u64))
            })
            .await?;
        if behind {
            self.sync_tree().await?;
        }
        self.store
            .read(move |db| -> Result<Inclusion, AppError> {
                let (index, leaf) = db.event_leaf(seq)?.ok_or_else(|| AppError::NotFound(format!("event {seq}")))?;
                let size = match size {
                    Some(s) => s,
                    None => db
                        .checkpoints()?
                        .pop()
                        .map(|c| c.0)
                        .ok_or_else(|| AppError::NotFound("no checkpoint yet".into()))?,
                };
                let (head, _) = db.log_head()?;
                if size > head || index >= size {
                    return Err(AppError::invalid(
                        "proof_out_of_range",
                        format!("event {seq} is leaf {index}; the tree size must be above it and at most {head}"),
                    ));
                }
                let proof = db.inclusion_proof(index, size)?;
                let root = db.log_root(size)?;
                Ok(Inclusion {
                    seq,
                    leaf_index: index,
                    leaf_hash: b64(&leaf),
                    tree_size: size,
                    root: b64(&root),
                    proof: proof.iter().map(b64).collect(),
                })
            })
            .await
    }

    /// The consistency proof between two tree sizes.
    pub async fn consistency(&self, old: u64, new: u64) -> Result<Vec<String>, AppError> {
        let behind = self
            .store
            .read(move |db| Ok::<_, AppError>(new > db.log_head()?.0 && new <= db.last_seq()?.max(0) as u64))
            .await?;
        if behind {
            self.sync_tree().await?;
        }
        self.store
            .read(move |db| -> Result<Vec<String>, AppError> {
                let (head, _) = db.log_head()?;
                if old == 0 || old > new || new > head {
                    return Err(AppError::invalid("proof_out_of_range", format!("need 0 < old ≤ new ≤ {head}")));
                }
                Ok(db.consistency_proof(old, new)?.iter().map(b64).collect())
            })
            .await
    }

    /// Recompute every leaf from the events, the tree and the checkpoint signatures; report the first divergence.
    pub async fn audit(&self) -> Result<AuditReport, AppError> {
        let keys = self.published_keys().await?;
        // Fold what is there; a tree that cannot be completed (a leaf is missing) is itself a finding below.
        let _ = self.sync_tree().await;
        let backend = self.store.backend();
        self.store
            .read(move |db| -> Result<AuditReport, AppError> {
                let (size, kind) = db.log_head()?;
                let mut problems = Vec::new();
                let mut mem = MemStore::new();
                let mut n: u64 = 0;
                let mut after = -1i64;
                let mut expected_index = 0u64;
                let mut last_leaf_seq = 0i64;
                loop {
                    let leaves = db.event_leaves_from(after, 5000)?;
                    let Some(last) = leaves.last().map(|l| l.1 as i64) else { break };
                    after = last;
                    for (seq, index, stored) in leaves {
                        last_leaf_seq = last_leaf_seq.max(seq);
                        if index != expected_index {
                            problems.push(format!("leaf {expected_index} is missing (the next leaf, {index}, is event seq {seq})"));
                            expected_index = index;
                        }
                        expected_index += 1;
                        match db.event_at(seq)? {
                            None => problems.push(format!("leaf {index}: event seq {seq} was deleted")),
                            Some(e) => {
                                let leaf = kind.leaf(&leaf_bytes(e.seq, &e.stream_id, e.version, &e.event_type, e.schema_version, &e.actor, e.at_ms, &e.payload));
                                if leaf != stored {
                                    problems.push(format!("leaf {index}: event seq {seq} (stream {}, version {}, {}) was altered: its content no longer hashes to its leaf", e.stream_id, e.version, e.event_type));
                                }
                            }
                        }
                        merkle::append(&mut mem, kind, n, stored).map_err(|e| AppError::Internal(format!("{e:?}")))?;
                        n += 1;
                    }
                }
                // PostgreSQL folds leaves after the fact, below the safe horizon: the events to compare with are
                // those up to the last leaf (later ones were committed after the fold and get theirs next).
                let events = match backend {
                    oneseal_store::Backend::Sqlite => db.count_events()? as u64,
                    oneseal_store::Backend::Postgres => db.count_events_upto(last_leaf_seq)? as u64,
                };
                if events != n {
                    problems.push(format!("{events} events but {n} leaves: an event has no leaf"));
                }
                if n != size {
                    problems.push(format!("the log head says {size} leaves, {n} are stored"));
                }
                if n > 0 {
                    let stored_root = db.log_root(n.min(size))?;
                    let recomputed = merkle::root(&mut mem, kind, n.min(size)).map_err(|e| AppError::Internal(format!("{e:?}")))?;
                    if stored_root != recomputed {
                        problems.push("the stored tree nodes disagree with the leaves".into());
                    }
                }
                let cps = db.checkpoints()?;
                for (cp_size, root_hex, note) in &cps {
                    let ok_sig = keys.iter().any(|k| {
                        public_from_pem(&k.public_pem).is_ok_and(|p| {
                            let id = merkle::sm2_note_key_id(ORIGIN, &p);
                            merkle::verify_checkpoint(note, ORIGIN, id, |m, s| oneseal_seal::seal::verify(&p, m, s)).is_ok()
                        })
                    });
                    if !ok_sig {
                        problems.push(format!("checkpoint {cp_size}: the signature does not verify with any published seal key"));
                    }
                    if *cp_size <= n {
                        let r = merkle::root(&mut mem, kind, *cp_size).map_err(|e| AppError::Internal(format!("{e:?}")))?;
                        if hex(&r) != *root_hex {
                            problems.push(format!("checkpoint {cp_size}: its root differs from the tree recomputed from the events"));
                        }
                    }
                }
                Ok(AuditReport { events, tree_size: size, checkpoints: cps.len(), problems })
            })
            .await
    }
}

fn unhex(s: &str) -> Result<Hash, AppError> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return Err(AppError::Internal("stored root".into()));
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).map_err(|_| AppError::Internal("stored root".into()))?;
    }
    Ok(out)
}
