//! The part file of an upload in progress, sealed as it arrives: nothing of a recording is ever in clear on disk.
//!
//! The clear bytes are cut into records of [`SEGMENT`] bytes, the size of the finished file's segments. A writer
//! keeps the record it is filling in memory (at most one segment) and seals each full one with SM4-GCM under the
//! current data key as it completes; when a request ends (also after a broken connection) the part of a record
//! it holds is sealed as a short record at the end of the file, synced, and only then is the offset stored. The
//! next request opens that short record, keeps its bytes up to the stored offset in memory and cuts it off the
//! file, so offsets stay exact: record `k` always sits at `k × RECORD` and holds the bytes from `k × SEGMENT`.
//!
//! A record: clear length (u32 BE) ‖ data key id length (u8) ‖ data key id (padded to 43 bytes) ‖ nonce ‖
//! ciphertext ‖ tag, with `part`, the upload's id, the record's index and its clear length as associated data (a
//! record cannot be moved, swapped with another upload's, or pass for a longer one).

use std::io::{Seek, SeekFrom};
use std::path::Path;

use oneseal_seal::pd::Keyring;

use super::{io, read_full, SEGMENT};
use crate::AppError;

const KID_MAX: usize = 43;
const HEAD: usize = 4 + 1 + KID_MAX;
/// Bytes a full record takes in the part file.
pub const RECORD: u64 = (HEAD + 12 + SEGMENT + 16) as u64;

fn aad(id: &str, index: u64, len: u32) -> Vec<u8> {
    let mut a = b"part\0".to_vec();
    a.extend_from_slice(id.as_bytes());
    a.push(0);
    a.extend_from_slice(&index.to_be_bytes());
    a.extend_from_slice(&len.to_be_bytes());
    a
}

/// Seal the clear bytes of record `index` (at most a segment).
pub fn seal(keyring: &Keyring, id: &str, index: u64, plain: &[u8]) -> Result<Vec<u8>, AppError> {
    let len = u32::try_from(plain.len()).ok().filter(|n| *n as usize <= SEGMENT);
    let len = len.ok_or_else(|| AppError::Internal("a part record holds at most one segment".into()))?;
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    let (kid, sealed) =
        keyring.seal_segment(&aad(id, index, len), plain, nonce).map_err(|e| AppError::Internal(e.to_string()))?;
    if kid.len() > KID_MAX {
        return Err(AppError::Internal("data key id too long for a part record".into()));
    }
    let mut rec = Vec::with_capacity(HEAD + sealed.len());
    rec.extend_from_slice(&len.to_be_bytes());
    rec.push(kid.len() as u8);
    rec.extend_from_slice(kid.as_bytes());
    rec.resize(HEAD, 0);
    rec.extend_from_slice(&sealed);
    Ok(rec)
}

/// The clear bytes of record `index`, or `None` when the file has no whole record there (never written, or torn
/// by a crash before the offset that would count it was stored).
pub fn open(f: &mut std::fs::File, keyring: &Keyring, id: &str, index: u64) -> Result<Option<Vec<u8>>, AppError> {
    f.seek(SeekFrom::Start(index * RECORD)).map_err(|e| io("seek the part file", e))?;
    let mut head = [0u8; HEAD];
    if read_full(f, &mut head).map_err(|e| io("read the part file", e))? < HEAD {
        return Ok(None);
    }
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let kl = usize::from(head[4]);
    if len as usize > SEGMENT || kl > KID_MAX {
        return Ok(None);
    }
    let kid = String::from_utf8_lossy(&head[5..5 + kl]).into_owned();
    let mut body = vec![0u8; 12 + len as usize + 16];
    if read_full(f, &mut body).map_err(|e| io("read the part file", e))? < body.len() {
        return Ok(None);
    }
    Ok(keyring.open_segment(&kid, &aad(id, index, len), &body).ok())
}

/// Where a request resumes an upload at `offset`: the bytes of the record being filled (in memory), with the file
/// cut to the whole records before it.
pub fn resume(f: &mut std::fs::File, keyring: &Keyring, id: &str, offset: u64) -> Result<(u64, Vec<u8>), AppError> {
    let index = offset / SEGMENT as u64;
    let need = (offset % SEGMENT as u64) as usize;
    let mut held = Vec::with_capacity(SEGMENT);
    if need > 0 {
        let rec = open(f, keyring, id, index)?.filter(|r| r.len() >= need).ok_or_else(|| {
            AppError::Internal(format!("upload {id}: the sealed bytes up to offset {offset} are missing"))
        })?;
        held.extend_from_slice(&rec[..need]);
    }
    f.set_len(index * RECORD).map_err(|e| io("truncate the part file", e))?;
    f.seek(SeekFrom::End(0)).map_err(|e| io("seek the part file", e))?;
    Ok((index, held))
}

/// Every clear byte of a complete part file of `len` bytes, a record at a time, to `each`.
pub fn read_all(
    path: &Path,
    keyring: &Keyring,
    id: &str,
    len: u64,
    mut each: impl FnMut(&[u8]) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let mut f = std::fs::File::open(path).map_err(|e| io("open the part file", e))?;
    let records = len.div_ceil(SEGMENT as u64);
    for i in 0..records {
        let want = (len - i * SEGMENT as u64).min(SEGMENT as u64) as usize;
        let rec = open(&mut f, keyring, id, i)?
            .filter(|r| r.len() == want)
            .ok_or_else(|| AppError::Internal(format!("upload {id}: sealed record {i} is missing or short")))?;
        each(&rec)?;
    }
    Ok(())
}

/// The first `n` clear bytes of a part file (its first record's).
pub fn head(path: &Path, keyring: &Keyring, id: &str, n: usize) -> Result<Vec<u8>, AppError> {
    let mut f = std::fs::File::open(path).map_err(|e| io("open the part file", e))?;
    let mut rec = open(&mut f, keyring, id, 0)?.unwrap_or_default();
    rec.truncate(n);
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn append(f: &mut std::fs::File, rec: &[u8]) -> Result<(), AppError> {
        f.write_all(rec).map_err(|e| io("write the part file", e))
    }

    fn keyring() -> Keyring {
        let m = oneseal_seal::pd::MasterKey::from_hex(&"11".repeat(32)).unwrap();
        Keyring::new(&m, [("k1".to_string(), [3u8; 16])].into_iter().collect(), "k1").unwrap()
    }

    #[test]
    fn records_resume_exactly_and_hold_no_clear_bytes() {
        let k = keyring();
        let dir = std::env::temp_dir().join(format!("oneseal-part-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.part");
        let clear: Vec<u8> = (0..(SEGMENT * 2 + 1000)).map(|i| (i % 251) as u8).collect();
        let mut f = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
        // One full record, then a request ends 300 bytes into the second.
        append(&mut f, &seal(&k, "vid_a", 0, &clear[..SEGMENT]).unwrap()).unwrap();
        append(&mut f, &seal(&k, "vid_a", 1, &clear[SEGMENT..SEGMENT + 300]).unwrap()).unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        let runs: std::collections::HashSet<&[u8]> = clear.chunks_exact(32).collect();
        assert!(!on_disk.windows(32).any(|w| runs.contains(w)), "no clear run on disk");
        // A stored offset of SEGMENT + 200 resumes with those 200 bytes in memory.
        let (index, held) = resume(&mut f, &k, "vid_a", (SEGMENT + 200) as u64).unwrap();
        assert_eq!((index, held.as_slice()), (1, &clear[SEGMENT..SEGMENT + 200]));
        assert_eq!(f.metadata().unwrap().len(), RECORD);
        // Another upload's record, or a record at another place, does not open.
        let mut g = std::fs::File::open(&path).unwrap();
        assert!(open(&mut g, &k, "vid_b", 0).unwrap().is_none());
        let mut rest = held;
        rest.extend_from_slice(&clear[SEGMENT + 200..SEGMENT * 2]);
        append(&mut f, &seal(&k, "vid_a", 1, &rest).unwrap()).unwrap();
        append(&mut f, &seal(&k, "vid_a", 2, &clear[SEGMENT * 2..]).unwrap()).unwrap();
        let mut back = Vec::new();
        read_all(&path, &k, "vid_a", clear.len() as u64, |b| {
            back.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        assert_eq!(back, clear);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
