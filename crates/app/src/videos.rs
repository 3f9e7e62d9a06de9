//! 视频勘验: inspection recordings, uploaded resumably (tus 1.0: creation, offsets, termination, expiration),
//! then checked, probed, hashed, sealed at rest and recorded on the case.
//!
//! While an upload is open its bytes are sealed as they arrive (SM4-GCM records of a segment, [`part`]) and
//! appended to a part file in the file store (`{dir}/uploads/{id}.part`): memory does not grow with the file, and
//! nothing of it is in clear on disk. One request writes an upload at a time (a
//! second one is refused, 409), and the stored offset moves only by compare-and-set, so a stale offset never
//! overwrites bytes. When the last byte is in, the file must be MP4, MOV or WebM by its first bytes and by ffprobe
//! (duration, size, codec; limits from configuration; ffprobe reads the clear bytes from a pipe); in the same pass
//! it is hashed (SHA-256 and SM3) and sealed with SM4-GCM in segments of [`SEGMENT`] bytes into `{dir}/videos/{id}.osv` (each segment bound to the video and its place,
//! so a byte range can be opened without the rest), the part file is deleted, and the case records
//! `video_recorded` with the hashes — through `case::decide`, so only the applicant at an inspection step that
//! allows video can. Open uploads expire ([`VideoSettings::expiry_hours`] after their last byte); a worker deletes
//! them with their part files.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use oneseal_domain::case::{self, CaseCommand, CaseState, Ctx, TaskStatus};
use oneseal_domain::catalog::StepKind;
use oneseal_domain::ids::CaseNo;
use oneseal_domain::inspection::{self, Probed, VideoContainer, VideoLimits, VideoRef};
use oneseal_domain::roles::Actor;
use oneseal_store::VideoUploadRow;
use serde::Serialize;

use crate::{ms, App, AppError};

mod part;

/// Bytes of clear video per sealed segment.
pub const SEGMENT: usize = 256 * 1024;
/// The sealed file's header: magic, clear length, segment size, data key id.
const HEADER: usize = 64;
const MAGIC: &[u8; 8] = b"OSVIDEO1";

/// Where files go and the limits of recordings (configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoSettings {
    /// The file store: `uploads/` (parts in progress) and `videos/` (sealed recordings) below it.
    pub dir: PathBuf,
    /// Largest recording, bytes (`Tus-Max-Size`).
    pub max_bytes: i64,
    /// Longest recording, seconds.
    pub max_seconds: i64,
    /// Hours an unfinished upload is kept after its last byte.
    pub expiry_hours: i64,
    /// The video-meeting service's room address with `{room}` where the room's name goes (Jitsi, LiveKit …), for
    /// live video inspections; `None`: live sessions cannot be scheduled.
    pub meeting_url: Option<String>,
}

impl Default for VideoSettings {
    fn default() -> Self {
        VideoSettings {
            dir: std::env::temp_dir().join("oneseal-files"),
            max_bytes: 500 * 1024 * 1024,
            max_seconds: 600,
            expiry_hours: 24,
            meeting_url: None,
        }
    }
}

/// The uploads a request of this node is writing now (one writer per upload).
#[derive(Debug, Default)]
pub struct Busy(Mutex<HashSet<String>>);

/// What callers see of an upload.
#[derive(Debug, Clone, Serialize)]
pub struct UploadView {
    pub id: String,
    pub case_no: String,
    pub task_id: String,
    pub file_name: String,
    pub length: i64,
    pub offset: i64,
    pub status: String,
    pub expires_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoRef>,
}

impl UploadView {
    fn of(r: &VideoUploadRow) -> UploadView {
        UploadView {
            id: r.id.clone(),
            case_no: r.case_no.clone(),
            task_id: r.task_id.clone(),
            file_name: r.file_name.clone(),
            length: r.length,
            offset: r.offset,
            status: r.status.clone(),
            expires_at_ms: r.expires_at_ms,
            video: r.video.as_deref().and_then(|v| serde_json::from_str(v).ok()),
        }
    }
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("upload {id}"))
}

fn io(what: &str, e: std::io::Error) -> AppError {
    AppError::Internal(format!("file store: {what}: {e}"))
}

/// An upload id as this server makes them (`vid_` and 32 hex digits); anything else is not found.
fn valid_id(id: &str) -> bool {
    id.len() == 36 && id.starts_with("vid_") && id[4..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl App {
    pub fn video_settings(&self) -> VideoSettings {
        self.video_settings.read().map(|g| g.clone()).unwrap_or_default()
    }

    pub fn set_video_settings(&self, s: VideoSettings) {
        if let Ok(mut g) = self.video_settings.write() {
            *g = s;
        }
    }

    fn part_path(&self, id: &str) -> PathBuf {
        self.video_settings().dir.join("uploads").join(format!("{id}.part"))
    }

    pub(crate) fn sealed_video_path(&self, id: &str) -> PathBuf {
        self.video_settings().dir.join("videos").join(format!("{id}.osv"))
    }

    /// The case and its definition, for the applicant who may add a recording now (a dry run of the command).
    async fn check_may_record(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        task_id: Option<&str>,
    ) -> Result<String, AppError> {
        let no = case_no.clone();
        let (st, _) = self.store.read(move |db| crate::cases::load_state(db, &no)).await?;
        if !crate::cases::may_see(actor, &st) {
            return Err(AppError::NotFound(format!("case {case_no}")));
        }
        // Without a task named, the open task of the inspection step (none: `decide` says why not).
        let task_id = task_id.map(str::to_string).or_else(|| default_task(&st)).unwrap_or_default();
        let def = self.catalog().definition(&st.subject)?;
        let cal = self.calendar();
        let ctx = Ctx { now: self.now(), actor, calendar: &cal, def: &def };
        let probe = VideoRef {
            id: String::new(),
            file_name: String::new(),
            container: VideoContainer::Mp4,
            size: 0,
            sha256: String::new(),
            sm3: String::new(),
            duration_ms: 0,
            width: 0,
            height: 0,
            codec: String::new(),
        };
        case::decide(&st, CaseCommand::RecordVideo { task_id: task_id.clone(), video: probe }, &ctx)?;
        Ok(task_id)
    }

    /// tus creation: a new upload of `length` bytes for the case's inspection task (`task_id`, or the open task of
    /// the inspection step), by its applicant.
    pub async fn create_video_upload(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        length: i64,
        file_name: &str,
        task_id: Option<&str>,
    ) -> Result<UploadView, AppError> {
        let settings = self.video_settings();
        if length <= 0 {
            return Err(AppError::invalid("upload_length", "Upload-Length must be a positive number of bytes"));
        }
        if length > settings.max_bytes {
            return Err(AppError::TooLarge {
                code: "video_too_large",
                message: format!("the recording has {length} bytes; at most {} are accepted", settings.max_bytes),
            });
        }
        let task_id = self.check_may_record(actor, case_no, task_id).await?;
        let now = ms(self.now());
        let row = VideoUploadRow {
            id: format!("vid_{}", crate::random_hex(16)?),
            case_no: case_no.to_string(),
            task_id,
            owner: actor.id.clone(),
            file_name: crate::attachments::clean_file_name(file_name),
            length,
            offset: 0,
            status: "open".into(),
            created_at_ms: now,
            expires_at_ms: now + settings.expiry_hours * 3_600_000,
            video: None,
        };
        let part = self.part_path(&row.id);
        let dir = part.parent().map(Path::to_path_buf).unwrap_or_default();
        tokio::task::spawn_blocking(move || -> Result<(), AppError> {
            std::fs::create_dir_all(&dir).map_err(|e| io("create the uploads directory", e))?;
            std::fs::File::create(&part).map_err(|e| io("create the part file", e))?;
            Ok(())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        let view = UploadView::of(&row);
        self.store.write(move |db| db.put_video_upload(&row).map_err(AppError::from)).await?;
        Ok(view)
    }

    /// An upload of the case, for its owner only (anyone else: not found); an open one past its expiry is gone.
    pub async fn video_upload(&self, actor: &Actor, case_no: &CaseNo, id: &str) -> Result<UploadView, AppError> {
        self.own_upload(actor, case_no, id).await.map(|r| UploadView::of(&r))
    }

    async fn own_upload(&self, actor: &Actor, case_no: &CaseNo, id: &str) -> Result<VideoUploadRow, AppError> {
        if !valid_id(id) {
            return Err(not_found(id));
        }
        let key = id.to_string();
        let row = self.store.read(move |db| db.video_upload(&key).map_err(AppError::from)).await?;
        let row = row.filter(|r| r.owner == actor.id && r.case_no == case_no.as_str()).ok_or_else(|| not_found(id))?;
        if row.status == "open" && row.expires_at_ms < ms(self.now()) {
            return Err(AppError::Gone(format!("upload {id} (expired)")));
        }
        Ok(row)
    }

    /// tus PATCH: start writing an open upload at `offset` (which must be its offset now: 409 otherwise). The
    /// returned writer takes the body's chunks and must be finished, also after a broken connection, so that what
    /// arrived counts.
    pub async fn begin_video_write(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        id: &str,
        offset: i64,
        content_length: Option<i64>,
    ) -> Result<VideoWrite, AppError> {
        let row = self.own_upload(actor, case_no, id).await?;
        if row.status != "open" {
            return Err(AppError::Conflict {
                code: "upload_complete",
                message: format!("upload {id} is complete"),
                title_zh: "上传已完成",
            });
        }
        if offset != row.offset {
            return Err(AppError::Conflict {
                code: "upload_offset_mismatch",
                message: format!("Upload-Offset {offset} is not the upload's offset {}", row.offset),
                title_zh: "上传偏移量不一致，请先查询当前偏移量",
            });
        }
        if let Some(n) = content_length {
            if n < 0 || offset + n > row.length {
                return Err(AppError::TooLarge {
                    code: "upload_exceeds_length",
                    message: format!("{n} bytes at offset {offset} go past Upload-Length {}", row.length),
                });
            }
        }
        let claimed = self.video_busy.0.lock().map(|mut g| g.insert(id.to_string())).unwrap_or(false);
        if !claimed {
            return Err(AppError::Conflict {
                code: "upload_busy",
                message: format!("another request is writing upload {id}; retry after it ends"),
                title_zh: "该上传正在由另一请求写入",
            });
        }
        let guard = BusyGuard { app: self.clone(), id: id.to_string() };
        let part = self.part_path(id);
        let keyring = self.keyring();
        let (k, vid) = (keyring.clone(), id.to_string());
        let (file, index, held) =
            tokio::task::spawn_blocking(move || -> Result<(std::fs::File, u64, Vec<u8>), AppError> {
                let mut f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&part)
                    .map_err(|e| io("open the part file", e))?;
                // The record being filled comes back into memory; bytes past the recorded offset (a write that
                // broke before its offset was stored) are dropped.
                let (index, held) = part::resume(&mut f, &k, &vid, offset as u64)?;
                Ok((f, index, held))
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        Ok(VideoWrite {
            app: self.clone(),
            actor: actor.clone(),
            row,
            file: Some(tokio::fs::File::from_std(file)),
            keyring,
            index,
            held,
            written: 0,
            overflow: false,
            _guard: guard,
        })
    }

    /// tus termination: delete an open upload and its bytes. A recorded video is part of the case file: 409.
    pub async fn terminate_video_upload(&self, actor: &Actor, case_no: &CaseNo, id: &str) -> Result<(), AppError> {
        let row = match self.own_upload(actor, case_no, id).await {
            Err(AppError::Gone(_)) => None,
            other => Some(other?),
        };
        if row.as_ref().is_some_and(|r| r.status != "open") {
            return Err(AppError::Conflict {
                code: "video_recorded",
                message: format!("video {id} is recorded on the case and cannot be deleted"),
                title_zh: "视频已记入办件，不能删除",
            });
        }
        self.delete_upload(id).await
    }

    async fn delete_upload(&self, id: &str) -> Result<(), AppError> {
        let key = id.to_string();
        self.store.write(move |db| db.delete_video_upload(&key).map_err(AppError::from)).await?;
        let part = self.part_path(id);
        tokio::task::spawn_blocking(move || match std::fs::remove_file(&part) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("delete the part file", e)),
            _ => Ok(()),
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// tus expiration: delete open uploads past their expiry with their part files. Returns how many went.
    pub async fn sweep_video_uploads(&self) -> Result<usize, AppError> {
        let now = ms(self.now());
        let ids = self.store.read(move |db| db.expired_video_uploads(now, 1000).map_err(AppError::from)).await?;
        for id in &ids {
            self.delete_upload(id).await?;
        }
        Ok(ids.len())
    }

    /// A case's recordings, for those who may see the case.
    pub async fn case_videos(&self, actor: &Actor, case_no: &CaseNo) -> Result<Vec<VideoRef>, AppError> {
        Ok(self.case_view_unrecorded(actor, case_no).await?.state.videos)
    }

    /// The last bytes are in: check, probe, hash, seal and record the video on the case.
    async fn complete_upload(&self, actor: &Actor, row: VideoUploadRow) -> Result<UploadView, AppError> {
        let id = row.id.clone();
        let result = self.seal_and_record(actor, &row).await;
        if let Err(e) = &result {
            // A finished upload that is not a usable recording (or no longer wanted by the case) is dropped whole.
            if !matches!(e, AppError::Internal(_) | AppError::Store(_)) {
                let sealed = self.sealed_video_path(&id);
                let _ = tokio::fs::remove_file(&sealed).await;
                self.delete_upload(&id).await?;
            }
        }
        result
    }

    async fn seal_and_record(&self, actor: &Actor, row: &VideoUploadRow) -> Result<UploadView, AppError> {
        let part = self.part_path(&row.id);
        let settings = self.video_settings();
        let keyring = self.keyring();
        let (head_path, k, vid) = (part.clone(), keyring.clone(), row.id.clone());
        let head = tokio::task::spawn_blocking(move || part::head(&head_path, &k, &vid, 64))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        let container = VideoContainer::sniff(&head).ok_or_else(|| AppError::UnsupportedType {
            code: "video_type",
            message: "the file is not an MP4, MOV or WebM video (by its first bytes)".into(),
        })?;
        // One pass over the sealed part: each record opened, hashed, sealed into the video's segments and fed to
        // ffprobe through a pipe — the clear bytes never touch the disk.
        let sealed = self.sealed_video_path(&row.id);
        let (vid, from, to, len) = (row.id.clone(), part.clone(), sealed.clone(), row.length as u64);
        let (sha256, sm3, probed) = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
            let mut prober = Prober::start()?;
            let (sha, sm3) = seal_file(&keyring, &vid, &from, &to, len, |b| prober.feed(b))?;
            Ok((sha, sm3, prober.finish()?))
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        let limits = VideoLimits { max_bytes: settings.max_bytes, max_duration_ms: settings.max_seconds * 1000 };
        let (duration_ms, width, height, codec) = inspection::check_probed(&probed, limits).map_err(|e| match e {
            inspection::VideoError::NotAVideo | inspection::VideoError::NoVideoStream => {
                AppError::UnsupportedType { code: e.code(), message: e.to_string() }
            }
            _ => AppError::invalid(e.code(), e.to_string()),
        })?;
        let video = VideoRef {
            id: row.id.clone(),
            file_name: row.file_name.clone(),
            container,
            size: row.length,
            sha256,
            sm3,
            duration_ms,
            width,
            height,
            codec,
        };
        let json = serde_json::to_string(&video).map_err(|e| AppError::Internal(e.to_string()))?;
        let case_no: CaseNo =
            row.case_no.parse().map_err(|_| AppError::Internal(format!("stored case number {}", row.case_no)))?;
        let (app, who, id, task_id, v) = (self.clone(), actor.clone(), row.id.clone(), row.task_id.clone(), video);
        let now = self.now();
        self.store
            .write(move |db| -> Result<(), AppError> {
                if !db.complete_video_upload(&id, &json)? {
                    return Err(AppError::Conflict {
                        code: "upload_complete",
                        message: format!("upload {id} was completed by another request"),
                        title_zh: "上传已完成",
                    });
                }
                crate::cases::command_in(
                    &app,
                    db,
                    &who,
                    &case_no,
                    CaseCommand::RecordVideo { task_id, video: v },
                    None,
                    now,
                )?;
                Ok(())
            })
            .await?;
        let _ = tokio::fs::remove_file(&part).await;
        let key = row.id.clone();
        let done = self.store.read(move |db| db.video_upload(&key).map_err(AppError::from)).await?;
        done.map(|r| UploadView::of(&r)).ok_or_else(|| not_found(&row.id))
    }
}

/// Who may play a case's recordings: its applicant, and staff of the handling department (the case's, or a
/// department with a task at the current step). Everyone else: not found.
fn may_play(actor: &Actor, st: &CaseState) -> bool {
    if actor.sees_as_applicant(st.applicant.account.as_deref(), case::organisation_of(st)) {
        return true;
    }
    let Some(dept) = actor.department.as_ref().filter(|_| actor.is_staff()) else {
        return false;
    };
    dept == &st.department
        || st.current_step.as_ref().is_some_and(|s| s.tasks.iter().any(|t| t.department.as_ref() == Some(dept)))
}

/// The inspection as the applicant and the reviewers see it: the method in force, the step's checklist, the
/// recordings, notes, stills and conclusions.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionView {
    pub case_no: String,
    /// The method in force at the current inspection step (`None`: not at an inspection step).
    pub method: Option<inspection::Method>,
    /// What the catalog allows at the current inspection step (`on_site`, `video`, `either`).
    pub allowed: Option<oneseal_domain::catalog::InspectionMode>,
    pub checklist: Vec<oneseal_domain::catalog::ChecklistItem>,
    pub videos: Vec<VideoRef>,
    pub record: inspection::InspectionRecord,
}

impl App {
    async fn state_of(&self, case_no: &CaseNo) -> Result<CaseState, AppError> {
        let no = case_no.clone();
        Ok(self.store.read(move |db| crate::cases::load_state(db, &no)).await?.0)
    }

    /// The open task of the case's inspection step (for a conclusion that names none).
    pub async fn inspection_task(&self, actor: &Actor, case_no: &CaseNo) -> Result<String, AppError> {
        let st = self.state_of(case_no).await?;
        if !crate::cases::may_see(actor, &st) {
            return Err(AppError::NotFound(format!("case {case_no}")));
        }
        Ok(default_task(&st).unwrap_or_default())
    }

    /// The inspection of a case, for those who may see it.
    pub async fn inspection_view(&self, actor: &Actor, case_no: &CaseNo) -> Result<InspectionView, AppError> {
        let st = self.state_of(case_no).await?;
        if !crate::cases::may_see(actor, &st) {
            return Err(AppError::NotFound(format!("case {case_no}")));
        }
        let def = self.catalog().definition(&st.subject)?;
        Ok(InspectionView {
            case_no: st.case_no.to_string(),
            method: inspection::method_now(&st, &def),
            allowed: inspection::step_mode(&st, &def),
            checklist: inspection::checklist(&st, &def).to_vec(),
            videos: st.videos.clone(),
            record: st.inspection.clone().unwrap_or_default(),
        })
    }

    /// A recording opened for playback (its clear bytes read a segment at a time), for the applicant and staff of
    /// the handling department.
    pub async fn open_video(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        id: &str,
    ) -> Result<(VideoRef, SealedVideo, std::sync::Arc<oneseal_seal::pd::Keyring>), AppError> {
        let st = self.state_of(case_no).await?;
        if !may_play(actor, &st) {
            return Err(AppError::NotFound(format!("video {id}")));
        }
        let v =
            st.videos.iter().find(|v| v.id == id).cloned().ok_or_else(|| AppError::NotFound(format!("video {id}")))?;
        let path = self.sealed_video_path(id);
        let vid = id.to_string();
        let file = tokio::task::spawn_blocking(move || SealedVideo::open(&path, &vid))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        Ok((v, file, self.keyring()))
    }

    /// A still from a recording at `at_ms` into the case file: the frame (ffmpeg, JPEG) is sealed as an attachment
    /// of the case and recorded as `still_captured` with its SHA-256. The recording is opened into a private
    /// temporary file for ffmpeg and deleted at once.
    pub async fn capture_still(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        video_id: &str,
        at_ms: i64,
    ) -> Result<CaseState, AppError> {
        // The same checks as the command, before any work: an inspector of the case, a moment of a recording.
        let st = self.state_of(case_no).await?;
        if !crate::cases::may_see(actor, &st) {
            return Err(AppError::NotFound(format!("case {case_no}")));
        }
        let def = self.catalog().definition(&st.subject)?;
        let cal = self.calendar();
        let ctx = Ctx { now: self.now(), actor, calendar: &cal, def: &def };
        let probe =
            inspection::Still { video_id: video_id.into(), at_ms, attachment: "-".into(), sha256: String::new() };
        case::decide(&st, CaseCommand::RecordStill { still: probe }, &ctx)?;
        let (v, mut sealed, keyring) = self.open_video(actor, case_no, video_id).await?;
        let tmp_dir = self.video_settings().dir.join("tmp");
        let tmp = tmp_dir.join(format!(
            "{}.{}",
            crate::random_hex(16)?,
            match v.container {
                VideoContainer::Mp4 => "mp4",
                VideoContainer::Mov => "mov",
                VideoContainer::Webm => "webm",
            }
        ));
        let clear = tmp.clone();
        tokio::task::spawn_blocking(move || -> Result<(), AppError> {
            std::fs::create_dir_all(&tmp_dir).map_err(|e| io("create the temporary directory", e))?;
            let mut out = std::io::BufWriter::new(std::fs::File::create(&clear).map_err(|e| io("temporary file", e))?);
            let mut i = 0;
            loop {
                let seg = sealed.segment(&keyring, i)?;
                if seg.is_empty() {
                    break;
                }
                out.write_all(&seg).map_err(|e| io("temporary file", e))?;
                i += 1;
            }
            out.flush().map_err(|e| io("temporary file", e))?;
            Ok(())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        let frame = frame_at(&tmp, at_ms).await;
        let _ = tokio::fs::remove_file(&tmp).await;
        let jpeg = frame?;
        let sha256 = crate::sha256_bytes_hex(&jpeg);
        let row = oneseal_store::AttachmentRow {
            id: format!("att_{}", crate::random_hex(16)?),
            owner: actor.id.clone(),
            file_name: format!("{video_id}-{at_ms}ms.jpg"),
            content_type: "image/jpeg".into(),
            size: jpeg.len() as i64,
            sha256: sha256.clone(),
            sealed: self.seal_bytes(&jpeg)?,
            created_at_ms: ms(self.now()),
        };
        let still = inspection::Still { video_id: video_id.into(), at_ms, attachment: row.id.clone(), sha256 };
        let (app, who, no, now) = (self.clone(), actor.clone(), case_no.clone(), self.now());
        self.store
            .write(move |db| -> Result<CaseState, AppError> {
                db.put_attachment(&row)?;
                db.bind_attachment(&row.id, no.as_str())?;
                crate::cases::command_in(&app, db, &who, &no, CaseCommand::RecordStill { still }, None, now)
            })
            .await
    }
}

/// One frame of a video at `at_ms` as JPEG (ffmpeg from Debian's ffmpeg).
async fn frame_at(path: &Path, at_ms: i64) -> Result<Vec<u8>, AppError> {
    let at = format!("{}.{:03}", at_ms / 1000, at_ms % 1000);
    let mut cmd = tokio::process::Command::new("ffmpeg");
    cmd.args(["-v", "error", "-ss", &at, "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "-q:v", "3", "pipe:1"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .map_err(|_| AppError::Internal("ffmpeg took longer than 60 s".into()))?
        .map_err(|e| AppError::Internal(format!("ffmpeg could not run (install ffmpeg): {e}")))?;
    if !out.status.success() || !out.stdout.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(AppError::invalid("still_failed", "no frame could be taken at that moment"));
    }
    Ok(out.stdout)
}

/// The open task of the case's inspection step (the first, when several departments inspect).
fn default_task(st: &CaseState) -> Option<String> {
    let step = st.current_step.as_ref().filter(|s| s.kind == StepKind::Inspection)?;
    step.tasks.iter().find(|t| t.status == TaskStatus::Open).map(|t| t.task_id.clone())
}

struct BusyGuard {
    app: App,
    id: String,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if let Ok(mut g) = self.app.video_busy.0.lock() {
            g.remove(&self.id);
        }
    }
}

/// One PATCH writing an upload: chunks are appended as they arrive; [`VideoWrite::finish`] stores the offset
/// reached (also after a broken connection) and completes the upload when its last byte is in.
pub struct VideoWrite {
    app: App,
    actor: Actor,
    row: VideoUploadRow,
    file: Option<tokio::fs::File>,
    keyring: std::sync::Arc<oneseal_seal::pd::Keyring>,
    /// The record being filled: its index, and its clear bytes so far (never more than a segment, in memory).
    index: u64,
    held: Vec<u8>,
    written: i64,
    overflow: bool,
    _guard: BusyGuard,
}

impl VideoWrite {
    /// Append a chunk of the body. Bytes past the declared length are refused (413 when finished).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        use tokio::io::AsyncWriteExt;
        let room = self.row.length - self.row.offset - self.written;
        let take = chunk.len().min(room.max(0) as usize);
        if take < chunk.len() {
            self.overflow = true;
        }
        let mut rest = &chunk[..take];
        while !rest.is_empty() {
            let n = rest.len().min(SEGMENT - self.held.len());
            self.held.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.held.len() == SEGMENT {
                let rec = self.seal_held().await?;
                if let Some(f) = self.file.as_mut() {
                    f.write_all(&rec).await.map_err(|e| io("write the part file", e))?;
                }
                self.held.clear();
                self.index += 1;
            }
        }
        self.written += take as i64;
        Ok(())
    }

    /// The record being filled, sealed (off the runtime's threads: SM4 takes milliseconds a segment).
    async fn seal_held(&self) -> Result<Vec<u8>, AppError> {
        let (k, id, index, plain) = (self.keyring.clone(), self.row.id.clone(), self.index, self.held.clone());
        tokio::task::spawn_blocking(move || part::seal(&k, &id, index, &plain))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
    }

    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Make what arrived durable and record the new offset; complete the upload when it is whole.
    pub async fn finish(mut self) -> Result<UploadView, AppError> {
        use tokio::io::AsyncWriteExt;
        if let Some(mut f) = self.file.take() {
            if !self.held.is_empty() {
                // The part of a record this request holds goes to disk sealed, as a short record the next request
                // opens again.
                let rec = self.seal_held().await?;
                f.write_all(&rec).await.map_err(|e| io("write the part file", e))?;
            }
            f.flush().await.map_err(|e| io("flush the part file", e))?;
            f.sync_data().await.map_err(|e| io("sync the part file", e))?;
        }
        let (id, from, to) = (self.row.id.clone(), self.row.offset, self.row.offset + self.written);
        let expires = ms(self.app.now()) + self.app.video_settings().expiry_hours * 3_600_000;
        if self.written > 0 {
            let key = id.clone();
            let moved = self
                .app
                .store
                .write(move |db| db.advance_video_upload(&key, from, to, expires).map_err(AppError::from))
                .await?;
            if !moved {
                return Err(AppError::Conflict {
                    code: "upload_offset_mismatch",
                    message: format!("upload {id} moved meanwhile; ask for its offset (HEAD) and resume"),
                    title_zh: "上传偏移量不一致，请先查询当前偏移量",
                });
            }
        }
        if self.overflow {
            return Err(AppError::TooLarge {
                code: "upload_exceeds_length",
                message: format!("the body goes past Upload-Length {}; {to} bytes are stored", self.row.length),
            });
        }
        let mut row = self.row.clone();
        row.offset = to;
        row.expires_at_ms = expires;
        if to == row.length {
            let app = self.app.clone();
            let actor = self.actor.clone();
            // Completion runs while this request still holds the upload.
            let view = app.complete_upload(&actor, row).await;
            drop(self);
            return view;
        }
        Ok(UploadView::of(&row))
    }
}

fn read_full(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn segment_aad(id: &str, index: u64, last: bool) -> Vec<u8> {
    let mut aad = id.as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(&index.to_be_bytes());
    aad.push(u8::from(last));
    aad
}

/// Hash (SHA-256, SM3) and seal a complete sealed part file of `len` clear bytes into the video's sealed format,
/// segment by segment, handing each segment's clear bytes to `also` too; the sealed file appears under its name
/// only once complete and synced.
fn seal_file(
    keyring: &oneseal_seal::pd::Keyring,
    id: &str,
    from: &Path,
    to: &Path,
    len: u64,
    mut also: impl FnMut(&[u8]),
) -> Result<(String, String), AppError> {
    use sha2::Digest;
    let dir = to.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&dir).map_err(|e| io("create the videos directory", e))?;
    let tmp = to.with_extension("osv.tmp");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| io("create the sealed file", e))?);
    let kid = keyring.current_key_id().to_string();
    if kid.len() > HEADER - 21 {
        return Err(AppError::Internal("data key id too long for the video header".into()));
    }
    let mut header = [0u8; HEADER];
    header[..8].copy_from_slice(MAGIC);
    header[8..16].copy_from_slice(&len.to_be_bytes());
    header[16..20].copy_from_slice(&(SEGMENT as u32).to_be_bytes());
    header[20] = kid.len() as u8;
    header[21..21 + kid.len()].copy_from_slice(kid.as_bytes());
    out.write_all(&header).map_err(|e| io("write the sealed file", e))?;
    let (mut sha, mut sm3) = (sha2::Sha256::new(), sm3::Sm3::new());
    let segments = len.div_ceil(SEGMENT as u64).max(1);
    let mut i = 0;
    part::read_all(from, keyring, id, len, |plain| {
        sha2::Digest::update(&mut sha, plain);
        sm3::Digest::update(&mut sm3, plain);
        also(plain);
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| AppError::Internal(format!("random: {e}")))?;
        let (_, sealed) = keyring
            .seal_segment(&segment_aad(id, i, i + 1 == segments), plain, nonce)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        out.write_all(&sealed).map_err(|e| io("write the sealed file", e))?;
        i += 1;
        Ok(())
    })?;
    let file = out.into_inner().map_err(|e| io("write the sealed file", e.into_error()))?;
    file.sync_all().map_err(|e| io("sync the sealed file", e))?;
    std::fs::rename(&tmp, to).map_err(|e| io("name the sealed file", e))?;
    Ok((crate::hex(&sha.finalize()), crate::hex(&sm3.finalize())))
}

/// A sealed video opened for reading clear byte ranges, a segment at a time.
pub struct SealedVideo {
    file: std::fs::File,
    id: String,
    key_id: String,
    pub len: u64,
    segment: u64,
}

impl SealedVideo {
    pub fn open(path: &Path, id: &str) -> Result<SealedVideo, AppError> {
        let mut file = std::fs::File::open(path).map_err(|e| io("open the sealed video", e))?;
        let mut header = [0u8; HEADER];
        file.read_exact(&mut header).map_err(|e| io("read the sealed video", e))?;
        if &header[..8] != MAGIC {
            return Err(AppError::Internal(format!("{id}: not a sealed video")));
        }
        let len = u64::from_be_bytes(header[8..16].try_into().map_err(|_| AppError::Internal("header".into()))?);
        let segment =
            u64::from(u32::from_be_bytes(header[16..20].try_into().map_err(|_| AppError::Internal("header".into()))?));
        let kl = usize::from(header[20]).min(HEADER - 21);
        let key_id = String::from_utf8_lossy(&header[21..21 + kl]).into_owned();
        if segment == 0 {
            return Err(AppError::Internal(format!("{id}: segment size 0")));
        }
        Ok(SealedVideo { file, id: id.to_string(), key_id, len, segment })
    }

    fn segments(&self) -> u64 {
        self.len.div_ceil(self.segment).max(1)
    }

    /// The clear bytes of segment `i`.
    pub fn segment(&mut self, keyring: &oneseal_seal::pd::Keyring, i: u64) -> Result<Vec<u8>, AppError> {
        let n = self.segments();
        if i >= n {
            return Ok(vec![]);
        }
        let clear = if i + 1 == n { self.len - i * self.segment } else { self.segment };
        let at = HEADER as u64 + i * (self.segment + 28);
        self.file.seek(SeekFrom::Start(at)).map_err(|e| io("seek the sealed video", e))?;
        let mut buf = vec![0u8; (clear + 28) as usize];
        self.file.read_exact(&mut buf).map_err(|e| io("read the sealed video", e))?;
        keyring
            .open_segment(&self.key_id, &segment_aad(&self.id, i, i + 1 == n), &buf)
            .map_err(|e| AppError::Internal(format!("video {}: {e}", self.id)))
    }

    /// The clear bytes `start..=end` (within one or more segments).
    pub fn range(&mut self, keyring: &oneseal_seal::pd::Keyring, start: u64, end: u64) -> Result<Vec<u8>, AppError> {
        let mut out = Vec::with_capacity((end + 1 - start) as usize);
        let mut i = start / self.segment;
        while i * self.segment <= end && i < self.segments() {
            let seg = self.segment(keyring, i)?;
            let base = i * self.segment;
            let from = start.saturating_sub(base) as usize;
            let to = ((end + 1 - base) as usize).min(seg.len());
            if from < to {
                out.extend_from_slice(&seg[from..to]);
            }
            i += 1;
        }
        Ok(out)
    }
}

/// ffprobe (Debian's ffmpeg) reading a recording's clear bytes from a pipe: duration, and the first video stream's
/// size and codec. It may stop reading once it knows enough (the rest is not fed); a watchdog ends it when it has
/// taken no bytes for 60 s (stuck) or runs 60 s after its input ended.
struct Prober {
    child: std::sync::Arc<Mutex<std::process::Child>>,
    stdin: Option<std::process::ChildStdin>,
    out: std::thread::JoinHandle<Vec<u8>>,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    killed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// When ffprobe last took bytes (or its input ended), ms since `started`.
    progress: std::sync::Arc<std::sync::atomic::AtomicU64>,
    started: std::time::Instant,
}

impl Prober {
    fn start() -> Result<Prober, AppError> {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let mut child = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-i", "pipe:0"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| AppError::Internal(format!("ffprobe could not run (install ffmpeg): {e}")))?;
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().ok_or_else(|| AppError::Internal("ffprobe without stdout".into()))?;
        let out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stdout.read_to_end(&mut v);
            v
        });
        let child = Arc::new(Mutex::new(child));
        let (done, killed) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let progress = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let started = std::time::Instant::now();
        let (c, d, k, p) = (child.clone(), done.clone(), killed.clone(), progress.clone());
        std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                let idle = (started.elapsed().as_millis() as u64).saturating_sub(p.load(Ordering::Relaxed));
                if idle >= 60_000 {
                    if let Ok(mut c) = c.lock() {
                        // An ffprobe that already ended is not stuck.
                        if matches!(c.try_wait(), Ok(None)) {
                            k.store(true, Ordering::Relaxed);
                            let _ = c.kill();
                        }
                    }
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        });
        Ok(Prober { child, stdin, out, done, killed, progress, started })
    }

    /// Hand ffprobe the next clear bytes (once it closed its input, the rest is not needed).
    fn feed(&mut self, bytes: &[u8]) {
        if let Some(s) = self.stdin.as_mut() {
            if s.write_all(bytes).is_err() {
                self.stdin = None;
            }
            self.mark();
        }
    }

    fn mark(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.progress.store(now, std::sync::atomic::Ordering::Relaxed);
    }

    fn finish(mut self) -> Result<Probed, AppError> {
        use std::sync::atomic::Ordering;
        self.stdin = None;
        self.mark();
        let out = self.out.join().map_err(|_| AppError::Internal("ffprobe's output reader failed".into()))?;
        let status = loop {
            let polled = self.child.lock().map_err(|_| AppError::Internal("ffprobe lock".into()))?.try_wait();
            match polled.map_err(|e| AppError::Internal(format!("ffprobe: {e}")))? {
                Some(st) => break st,
                None => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        };
        self.done.store(true, Ordering::Relaxed);
        if self.killed.load(Ordering::Relaxed) {
            return Err(AppError::Internal("ffprobe took longer than 60 s".into()));
        }
        if !status.success() {
            return Err(AppError::UnsupportedType {
                code: "video_unreadable",
                message: "the video could not be read (ffprobe refused it)".into(),
            });
        }
        let v: serde_json::Value =
            serde_json::from_slice(&out).map_err(|e| AppError::Internal(format!("ffprobe output: {e}")))?;
        Ok(parse_probe(&v))
    }
}

/// The facts the case records from ffprobe's JSON (`-show_format -show_streams`).
pub fn parse_probe(v: &serde_json::Value) -> Probed {
    let video = v["streams"].as_array().and_then(|s| s.iter().find(|x| x["codec_type"] == "video"));
    let duration = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse::<f64>().ok())
        .or_else(|| video.and_then(|s| s["duration"].as_str()).and_then(|d| d.parse::<f64>().ok()));
    Probed {
        duration_ms: duration.map(|d| (d * 1000.0).round() as i64),
        width: video.and_then(|s| s["width"].as_i64()),
        height: video.and_then(|s| s["height"].as_i64()),
        codec: video.and_then(|s| s["codec_name"].as_str()).map(str::to_string),
    }
}
