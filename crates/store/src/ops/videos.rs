//! Resumable uploads of inspection videos (tus) and the videos they became.

use super::*;

/// A resumable upload of an inspection recording, and once complete the record of its sealed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoUploadRow {
    pub id: String,
    pub case_no: String,
    pub task_id: String,
    /// The account that created the upload: the only one that may continue, read or end it.
    pub owner: String,
    pub file_name: String,
    /// The declared length (`Upload-Length`).
    pub length: i64,
    /// Bytes received and stored (`Upload-Offset`).
    pub offset: i64,
    /// `open` while bytes are coming, `complete` once recorded on the case.
    pub status: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    /// The recorded video (JSON of the domain's `VideoRef`), once complete.
    pub video: Option<String>,
}

const VIDEO_UPLOAD_COLS: &str =
    "id, case_no, task_id, owner, file_name, length, upload_offset, status, created_at_ms, expires_at_ms, video";

fn video_upload_from(r: &Row) -> Result<VideoUploadRow, StoreError> {
    Ok(VideoUploadRow {
        id: r.text(0)?,
        case_no: r.text(1)?,
        task_id: r.text(2)?,
        owner: r.text(3)?,
        file_name: r.text(4)?,
        length: r.int(5)?,
        offset: r.int(6)?,
        status: r.text(7)?,
        created_at_ms: r.int(8)?,
        expires_at_ms: r.int(9)?,
        video: r.opt_text(10)?,
    })
}

impl Db {
    pub fn put_video_upload(&mut self, u: &VideoUploadRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO video_uploads ({VIDEO_UPLOAD_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ),
            &[
                u.id.as_str().into(),
                u.case_no.as_str().into(),
                u.task_id.as_str().into(),
                u.owner.as_str().into(),
                u.file_name.as_str().into(),
                Val::Int(u.length),
                Val::Int(u.offset),
                u.status.as_str().into(),
                Val::Int(u.created_at_ms),
                Val::Int(u.expires_at_ms),
                u.video.clone().into(),
            ],
        )?;
        Ok(())
    }

    pub fn video_upload(&mut self, id: &str) -> Result<Option<VideoUploadRow>, StoreError> {
        let rows =
            self.sql.query(&format!("SELECT {VIDEO_UPLOAD_COLS} FROM video_uploads WHERE id = $1"), &[id.into()])?;
        rows.first().map(video_upload_from).transpose()
    }

    /// Move an open upload's offset from `from` to `to` and its expiry on; false when the offset was no longer
    /// `from` (another request wrote meanwhile) or the upload is not open.
    pub fn advance_video_upload(
        &mut self,
        id: &str,
        from: i64,
        to: i64,
        expires_at_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.sql.exec(
            "UPDATE video_uploads SET upload_offset = $1, expires_at_ms = $2 WHERE id = $3 AND upload_offset = $4 AND status = 'open'",
            &[Val::Int(to), Val::Int(expires_at_ms), id.into(), Val::Int(from)],
        )?;
        Ok(n == 1)
    }

    /// Mark a fully received upload complete with its video; false when it was not open and full.
    pub fn complete_video_upload(&mut self, id: &str, video: &str) -> Result<bool, StoreError> {
        let n = self.sql.exec(
            "UPDATE video_uploads SET status = 'complete', video = $1 WHERE id = $2 AND status = 'open' AND upload_offset = length",
            &[video.into(), id.into()],
        )?;
        Ok(n == 1)
    }

    /// Delete an open upload (termination, expiry); false when there was none.
    pub fn delete_video_upload(&mut self, id: &str) -> Result<bool, StoreError> {
        let n = self.sql.exec("DELETE FROM video_uploads WHERE id = $1 AND status = 'open'", &[id.into()])?;
        Ok(n == 1)
    }

    /// Open uploads whose expiry passed before `now_ms`, oldest first.
    pub fn expired_video_uploads(&mut self, now_ms: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT id FROM video_uploads WHERE status = 'open' AND expires_at_ms < $1 ORDER BY expires_at_ms LIMIT $2",
            &[Val::Int(now_ms), Val::Int(limit)],
        )?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// Every case's inspection with a result (the dashboard's days from request to result): item, requested and
    /// resulted (RFC 3339), by video. Reads the `inspection_facts` projection, never the cases' states.
    pub fn inspection_facts(&mut self) -> Result<Vec<(String, String, String, bool)>, StoreError> {
        let rows = self
            .sql
            .query("SELECT item, requested_at, resulted_at, by_video FROM inspection_facts ORDER BY case_no", &[])?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?, r.int(3)? != 0))).collect()
    }

    /// A case's inspection fact: written when its inspection has a result, removed when it has none (a new
    /// inspection step started). Called with the case's row, only for cases that have an inspection record.
    pub fn put_inspection_fact(
        &mut self,
        case_no: &str,
        fact: Option<(&str, &str, &str, bool)>,
    ) -> Result<(), StoreError> {
        match fact {
            Some((item, requested, resulted, video)) => self.sql.exec(
                "INSERT INTO inspection_facts (case_no, item, requested_at, resulted_at, by_video) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_no) DO UPDATE SET item = excluded.item, \
                 requested_at = excluded.requested_at, resulted_at = excluded.resulted_at, by_video = excluded.by_video",
                &[case_no.into(), item.into(), requested.into(), resulted.into(), Val::Int(i64::from(video))],
            )?,
            None => self.sql.exec("DELETE FROM inspection_facts WHERE case_no = $1", &[case_no.into()])?,
        };
        Ok(())
    }

    /// A case's uploads (open and complete), oldest first.
    pub fn video_uploads_of_case(&mut self, case_no: &str) -> Result<Vec<VideoUploadRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {VIDEO_UPLOAD_COLS} FROM video_uploads WHERE case_no = $1 ORDER BY created_at_ms, id"),
            &[case_no.into()],
        )?;
        rows.iter().map(video_upload_from).collect()
    }
}
