//! The transparency log's storage: the canonical bytes of an event leaf, and the Merkle node table as a
//! `NodeStore` for the tree algorithms of `oneseal_seal::merkle`.

use oneseal_seal::merkle::{Hash, NodeStore, TreeHash};

use crate::sql::Val;
use crate::{Db, StoreError};

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn unhex32(s: &str) -> Result<Hash, StoreError> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return Err(StoreError::Decode(format!("hash {s:?}")));
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).map_err(|_| StoreError::Decode(format!("hash {s:?}")))?;
    }
    Ok(out)
}

pub(crate) fn kind(name: &str) -> Result<TreeHash, StoreError> {
    TreeHash::from_name(name).ok_or_else(|| StoreError::Decode(format!("unknown tree hash {name}")))
}

/// The canonical, permanent bytes of an event leaf: a version tag, then every field length-prefixed (u32 BE).
#[allow(clippy::too_many_arguments)]
pub fn leaf_bytes(
    seq: i64,
    stream: &str,
    version: i64,
    event_type: &str,
    schema: i64,
    actor: &str,
    at_ms: i64,
    payload: &str,
) -> Vec<u8> {
    let mut out = b"oneseal-event-v1".to_vec();
    for f in [
        seq.to_string().as_str(),
        stream,
        version.to_string().as_str(),
        event_type,
        schema.to_string().as_str(),
        actor,
        at_ms.to_string().as_str(),
        payload,
    ] {
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// The node table seen by the tree algorithms. Nodes are write-once: a second put of a node fails.
pub(crate) struct SqlNodes<'a>(pub &'a mut Db);

impl NodeStore for SqlNodes<'_> {
    type Error = StoreError;

    fn get(&mut self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        let rows = self.0.sql.query(
            "SELECT hash FROM merkle_nodes WHERE level = $1 AND idx = $2",
            &[Val::Int(i64::from(level)), Val::Int(index as i64)],
        )?;
        rows.first().map(|r| unhex32(&r.text(0)?)).transpose()
    }

    fn put(&mut self, level: u8, index: u64, hash: Hash) -> Result<(), StoreError> {
        self.0.sql.exec(
            "INSERT INTO merkle_nodes (level, idx, hash) VALUES ($1, $2, $3)",
            &[Val::Int(i64::from(level)), Val::Int(index as i64), hex(&hash).into()],
        )?;
        Ok(())
    }
}
