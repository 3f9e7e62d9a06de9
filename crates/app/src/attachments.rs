//! Uploaded materials (附件) and application drafts (草稿).
//!
//! Files are checked by their first bytes (PDF, JPEG, PNG, and the drawings of 多图联审: AutoCAD DWG and DXF — the
//! name and the browser's claimed type are not trusted), limited in size, sealed with SM4-GCM and stored once under a random id. A case references a file by
//! id and the application writes the file's SHA-256 into the event, so the transparency log covers what was
//! submitted. Only the uploader, or staff who may see a case that references the file, can read it.

use oneseal_domain::case::MaterialRef;
use oneseal_domain::roles::Actor;
use oneseal_store::{AttachmentRow, Db};
use serde::Serialize;
use serde_json::Value;

use crate::{ms, App, AppError};

/// Largest accepted file: 10 MiB (a scanned multi-page PDF).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// Limits on uploads (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadSettings {
    /// Bytes an account may hold in files not yet part of any case.
    pub quota_bytes: i64,
    /// Files an account may hold not yet part of any case.
    pub quota_files: i64,
    /// Days after which a file never bound to a case is deleted.
    pub orphan_grace_days: u32,
}

impl Default for UploadSettings {
    fn default() -> Self {
        UploadSettings { quota_bytes: 200 * 1024 * 1024, quota_files: 200, orphan_grace_days: 30 }
    }
}

/// What callers see of a file.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

impl From<&AttachmentRow> for AttachmentView {
    fn from(r: &AttachmentRow) -> AttachmentView {
        AttachmentView {
            id: r.id.clone(),
            file_name: r.file_name.clone(),
            content_type: r.content_type.clone(),
            size: r.size,
            sha256: r.sha256.clone(),
        }
    }
}

/// The type of a file from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.len() >= 6 && bytes.starts_with(b"AC10") && bytes[4..6].iter().all(u8::is_ascii_digit) {
        // DWG: the version string AC1012 (R13) … AC1032 (2018+).
        Some(DWG)
    } else if is_dxf(bytes) {
        Some(DXF)
    } else {
        None
    }
}

/// An AutoCAD drawing (DWG).
pub const DWG: &str = "image/vnd.dwg";
/// A drawing exchange file (DXF).
pub const DXF: &str = "image/vnd.dxf";

/// A drawing is downloaded, never shown in the browser.
pub fn is_drawing(content_type: &str) -> bool {
    content_type == DWG || content_type == DXF
}

/// DXF: binary (its sentinel) or ASCII — group code 0 then `SECTION` on the first lines, after any `999` comments.
fn is_dxf(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"AutoCAD Binary DXF\r\n\x1a\x00") {
        return true;
    }
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head));
    let mut lines = text.lines().map(str::trim);
    loop {
        match (lines.next(), lines.next()) {
            (Some("999"), Some(_)) => continue,
            (Some("0"), Some("SECTION")) => return true,
            _ => return false,
        }
    }
}

/// A safe display name: the last path component, no control characters, at most 120 characters.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(120).collect();
    let clean = clean.trim().to_string();
    if clean.is_empty() || clean == "." || clean == ".." {
        "file".into()
    } else {
        clean
    }
}

impl App {
    /// Store an uploaded file for `actor`.
    pub async fn upload_attachment(
        &self,
        actor: &Actor,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentView, AppError> {
        if bytes.is_empty() {
            return Err(AppError::invalid("attachment_empty", "the file is empty"));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(AppError::invalid(
                "attachment_too_large",
                format!("the file has {} bytes; at most {MAX_ATTACHMENT_BYTES} are accepted", bytes.len()),
            ));
        }
        let Some(content_type) = sniff(bytes) else {
            return Err(AppError::invalid("attachment_type", "only PDF, JPEG, PNG, DWG and DXF files are accepted"));
        };
        let row = AttachmentRow {
            id: format!("att_{}", crate::random_hex(16)?),
            owner: actor.id.clone(),
            file_name: clean_file_name(file_name),
            content_type: content_type.to_string(),
            size: bytes.len() as i64,
            sha256: crate::sha256_bytes_hex(bytes),
            sealed: self.seal_bytes(bytes)?,
            created_at_ms: ms(self.now()),
        };
        let view = AttachmentView::from(&row);
        let limits = self.upload_settings();
        self.store
            .write(move |db| -> Result<(), AppError> {
                // The quota counts files not yet part of a case; a case's files are its record, not a quota.
                let (files, bytes) = db.pending_attachments(&row.owner)?;
                if files + 1 > limits.quota_files || bytes + row.size > limits.quota_bytes {
                    return Err(AppError::invalid(
                        "upload_quota_exceeded",
                        format!(
                            "you hold {files} uploaded files ({bytes} bytes) not yet part of an application; the limit is {} files and {} bytes — submit or wait for unused files to expire after {} days",
                            limits.quota_files, limits.quota_bytes, limits.orphan_grace_days
                        ),
                    ));
                }
                db.put_attachment(&row)?;
                Ok(())
            })
            .await?;
        Ok(view)
    }

    pub fn upload_settings(&self) -> UploadSettings {
        self.upload_settings.read().map(|g| *g).unwrap_or_default()
    }

    pub fn set_upload_settings(&self, s: UploadSettings) {
        if let Ok(mut g) = self.upload_settings.write() {
            *g = s;
        }
    }

    /// Delete files that no case references once they are older than the grace period. Returns how many went.
    pub async fn clean_orphan_attachments(&self) -> Result<usize, AppError> {
        let grace = i64::from(self.upload_settings().orphan_grace_days) * 86_400_000;
        let before = ms(self.now()) - grace;
        self.store
            .write(move |db| -> Result<usize, AppError> {
                let mut deleted = 0;
                for id in db.orphan_attachments(before, 1000)? {
                    // A file uploaded before binding was recorded may still be referenced: bind it instead.
                    match db.case_mentioning(&id)? {
                        Some(case_no) => db.bind_attachment(&id, &case_no)?,
                        None => {
                            db.delete_attachment(&id)?;
                            deleted += 1;
                        }
                    }
                }
                Ok(deleted)
            })
            .await
    }

    /// A file and its bytes: for its uploader, or for staff who may see `case_no` when that case references it.
    /// Anything else is "not found".
    pub async fn attachment(
        &self,
        actor: &Actor,
        id: &str,
        case_no: Option<&oneseal_domain::ids::CaseNo>,
    ) -> Result<(AttachmentView, Vec<u8>), AppError> {
        let nf = || AppError::NotFound(format!("attachment {id}"));
        if id.len() > 100 {
            return Err(nf());
        }
        let key = id.to_string();
        let row = self.store.read(move |db| db.attachment(&key).map_err(AppError::from)).await?.ok_or_else(nf)?;
        let allowed = if row.owner == actor.id {
            true
        } else if let Some(no) = case_no {
            // Staff who see the case read its materials; its inspection stills (视频勘验) the applicant too.
            match self.case_view_unrecorded(actor, no).await {
                Ok(v) => {
                    (actor.is_staff() && v.state.materials.iter().any(|m| m.attachment.as_deref() == Some(id)))
                        || v.state.inspection.as_ref().is_some_and(|r| r.stills.iter().any(|s| s.attachment == id))
                }
                Err(_) => false,
            }
        } else {
            false
        };
        if !allowed {
            return Err(nf());
        }
        let bytes = self.open_bytes(&row.sealed)?;
        Ok((AttachmentView::from(&row), bytes))
    }

    /// Save the apply wizard's working data (sealed as a whole: it holds personal data).
    pub async fn save_draft(&self, actor: &Actor, subject: &str, body: &Value) -> Result<(), AppError> {
        let text = serde_json::to_string(body).map_err(|e| AppError::Internal(e.to_string()))?;
        if text.len() > 256 * 1024 {
            return Err(AppError::invalid("draft_too_large", "the draft is larger than 256 KiB"));
        }
        let sealed = self.seal_value(&text)?;
        let (me, code, at) = (actor.id.clone(), subject.to_string(), ms(self.now()));
        self.store.write(move |db| db.put_draft(&me, &code, &sealed, at).map_err(AppError::from)).await
    }

    pub async fn draft(&self, actor: &Actor, subject: &str) -> Result<Option<Value>, AppError> {
        let (me, code) = (actor.id.clone(), subject.to_string());
        let Some((sealed, _)) = self.store.read(move |db| db.draft(&me, &code).map_err(AppError::from)).await? else {
            return Ok(None);
        };
        let text = self.reveal(&sealed)?;
        Ok(Some(serde_json::from_str(&text).map_err(|e| AppError::Internal(e.to_string()))?))
    }

    pub async fn discard_draft(&self, actor: &Actor, subject: &str) -> Result<(), AppError> {
        let (me, code) = (actor.id.clone(), subject.to_string());
        self.store.write(move |db| db.delete_draft(&me, &code).map_err(AppError::from)).await
    }
}

/// Check the files a submission or correction references: each must exist and have been uploaded by `owner`
/// (the applicant, or the window clerk who scanned it); its digest is taken from the stored file, and the file is
/// bound to the case (it no longer counts against the quota and is never cleaned up).
pub(crate) fn bind_attachments(
    db: &mut Db,
    owner: &str,
    case_no: &oneseal_domain::ids::CaseNo,
    materials: &mut [MaterialRef],
) -> Result<(), AppError> {
    for m in materials.iter_mut() {
        m.digest = None;
        let Some(id) = m.attachment.clone() else { continue };
        let row = db.attachment(&id)?.filter(|r| r.owner == owner).ok_or_else(|| {
            AppError::invalid(
                "unknown_attachment",
                format!("material {}: no uploaded file {id} of yours", m.material_id),
            )
        })?;
        m.digest = Some(row.sha256.clone());
        db.bind_attachment(&id, case_no.as_str())?;
        if m.file_name.trim().is_empty() {
            m.file_name = row.file_name.clone();
        }
    }
    Ok(())
}
