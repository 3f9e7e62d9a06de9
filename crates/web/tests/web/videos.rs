//! 视频勘验: tus 1.0 uploads of inspection recordings (core, creation, termination, expiration) through a real
//! server on both backends, with videos made by ffmpeg at test time; the recording sealed at rest and recorded on
//! the case with its SHA-256 (checked here) and SM3 (checked against `openssl dgst -sm3`).

use std::io::{Read, Write};

use serde_json::{json, Value};

use super::*;

/// A test video made by ffmpeg: `secs` seconds of the test pattern, in `ext`'s container.
pub(crate) fn make_video(secs: u32, ext: &str) -> Vec<u8> {
    let dir = test_files_dir();
    let out = dir.join(format!("test.{ext}"));
    let src = format!("testsrc=duration={secs}:size=320x240:rate=15");
    let mut args: Vec<&str> = vec!["-v", "error", "-y", "-f", "lavfi", "-i", &src, "-pix_fmt", "yuv420p"];
    match ext {
        "webm" => args.extend(["-c:v", "libvpx", "-b:v", "200k"]),
        _ => args.extend(["-c:v", "libx264", "-movflags", "+faststart"]),
    }
    let out_s = out.to_str().unwrap().to_string();
    args.push(&out_s);
    let st = std::process::Command::new("ffmpeg")
        .args(&args)
        .status()
        .expect("ffmpeg (apt-get install ffmpeg; .ci/run installs it)");
    assert!(st.success(), "ffmpeg failed");
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

/// An MP4 grown to `total` bytes by a trailing `free` box (valid ISO BMFF: players and ffprobe skip it), written
/// to `path` a megabyte at a time (so making it does not raise this process's peak memory).
pub(crate) fn padded_mp4(path: &std::path::Path, total: usize) {
    let v = make_video(1, "mp4");
    let pad = total - v.len();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&v).unwrap();
    f.write_all(&(pad as u32).to_be_bytes()).unwrap();
    f.write_all(b"free").unwrap();
    let block = vec![0x5a; 1 << 20];
    let mut left = pad - 8;
    while left > 0 {
        let n = left.min(block.len());
        f.write_all(&block[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
}

/// A case of 公共场所卫生许可 (inspection = either; an area over 300 m² needs it) at its inspection step, and the
/// applicant's token.
pub(crate) fn inspection_case(t: &TestApp) -> (String, String) {
    let citizen = t.login("citizen");
    let code = t.item_code("公共场所卫生许可");
    let mut sub = submission(t, &code, "online");
    sub["form"]["business_area"] = json!(800);
    let r = t.post("/api/v1/cases", Some(&citizen), &sub);
    assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
    let no = r.body["case_no"].as_str().unwrap().to_string();
    let clerk = t.login("clerk");
    assert_eq!(t.act(&clerk, &no, "accept", json!({})).status, 200);
    let c = drive_until(t, &no, Some("inspection"));
    assert_eq!(c["current_step"]["kind"], "inspection");
    (no, citizen)
}

/// A tus request: `headers` beside `Tus-Resumable: 1.0.0` (unless given) and the bearer token.
pub(crate) fn tus(t: &TestApp, method: &str, path: &str, token: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let url = if path.starts_with("http") { path.to_string() } else { format!("{}{}", t.base, path) };
    macro_rules! go {
        ($r:expr, $send:ident $(, $b:expr)?) => {{
            let mut r = $r.header("Authorization", &format!("Bearer {token}"));
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("tus-resumable")) {
                r = r.header("Tus-Resumable", "1.0.0");
            }
            for (k, v) in headers {
                if !v.is_empty() {
                    r = r.header(*k, *v);
                }
            }
            r.$send($($b)?)
        }};
    }
    let resp = match method {
        "POST" => go!(t.agent.post(&url), send, body),
        "PATCH" => go!(t.agent.patch(&url), send, body),
        "HEAD" => go!(t.agent.head(&url), call),
        "DELETE" => go!(t.agent.delete(&url), call),
        "OPTIONS" => go!(t.agent.options(&url), call),
        m => panic!("{m}"),
    };
    let mut resp = resp.expect("request");
    let headers = resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    Resp { status: resp.status().as_u16(), body: serde_json::from_str(&text).unwrap_or(Value::String(text)), headers }
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Create an upload of `len` bytes; its path.
pub(crate) fn create(t: &TestApp, no: &str, token: &str, len: usize, name: &str) -> String {
    let meta = format!("filename {}", b64(name));
    let len = len.to_string();
    let r = tus(
        t,
        "POST",
        &format!("/api/v1/cases/{no}/video-uploads"),
        token,
        &[("Upload-Length", &len), ("Upload-Metadata", &meta)],
        b"",
    );
    assert_eq!(r.status, 201, "{}: create: {:?}", t.backend, r.body);
    r.header("location").unwrap().to_string()
}

pub(crate) fn patch(t: &TestApp, path: &str, token: &str, offset: usize, bytes: &[u8]) -> Resp {
    let off = offset.to_string();
    tus(t, "PATCH", path, token, &[("Upload-Offset", &off), ("Content-Type", "application/offset+octet-stream")], bytes)
}

fn sha256_hex(b: &[u8]) -> String {
    oneseal_app::sha256_bytes_hex(b)
}

fn sm3_by_openssl(b: &[u8]) -> String {
    let f = test_files_dir().join("sm3-input");
    std::fs::write(&f, b).unwrap();
    let out = run_tool("openssl", &["dgst".as_ref(), "-sm3".as_ref(), f.as_os_str()]);
    let _ = std::fs::remove_dir_all(f.parent().unwrap());
    out.trim().rsplit(' ').next().unwrap().to_string()
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for sub in ["uploads", "videos"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            out.extend(rd.map(|e| e.unwrap().path()));
        }
    }
    out.sort();
    out
}

#[test]
fn tus_upload_in_two_parts_records_a_sealed_video_with_its_hashes() {
    each_backend(|t| {
        let (no, citizen) = inspection_case(t);
        let video = make_video(2, "mp4");
        let base = format!("/api/v1/cases/{no}/video-uploads");

        // Discovery.
        let r = tus(t, "OPTIONS", &base, &citizen, &[], b"");
        assert_eq!(r.status, 204);
        assert_eq!(r.header("tus-version"), Some("1.0.0"));
        assert_eq!(r.header("tus-extension"), Some("creation,termination,expiration"));
        assert_eq!(r.header("tus-max-size"), Some(&*(500 * 1024 * 1024).to_string()));

        // Creation refusals, nothing created.
        let len = video.len().to_string();
        let r = tus(t, "POST", &base, &citizen, &[("Tus-Resumable", "0.2.2"), ("Upload-Length", &len)], b"");
        assert_eq!((r.status, r.header("tus-version")), (412, Some("1.0.0")), "{:?}", r.body);
        let r = tus(t, "POST", &base, &citizen, &[], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (400, Some("upload_length")));
        let huge = (600u64 * 1024 * 1024).to_string();
        let r = tus(t, "POST", &base, &citizen, &[("Upload-Length", &huge)], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (413, Some("video_too_large")));
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert!(r.body["title_zh"].as_str().is_some_and(|s| !s.is_empty()));
        let r = tus(t, "POST", &base, &citizen, &[("Upload-Length", &len), ("Upload-Metadata", "filename ***")], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (400, Some("upload_metadata")));
        let company = t.login("company");
        let r = tus(t, "POST", &base, &company, &[("Upload-Length", &len)], b"");
        assert_eq!(r.status, 404, "another applicant does not see the case: {:?}", r.body);
        let reviewer = t.login("bureau-social-reviewer");
        let r = tus(t, "POST", &base, &reviewer, &[("Upload-Length", &len)], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (403, Some("forbidden")), "staff do not film: {:?}", r.body);
        let r = t.call("POST", &base, None, None, &[("Tus-Resumable", "1.0.0"), ("Upload-Length", &len)]);
        assert_eq!(r.status, 401);

        let path = create(t, &no, &citizen, video.len(), "厨房.mp4");
        assert!(path.starts_with(&format!("{base}/vid_")), "{path}");
        let r = tus(t, "HEAD", &path, &citizen, &[], b"");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("upload-offset"), Some("0"));
        assert_eq!(r.header("upload-length"), Some(&*len));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("tus-resumable"), Some("1.0.0"));
        // 2026-03-02 10:00 +08:00 plus 24 hours.
        assert_eq!(r.header("upload-expires"), Some("Tue, 03 Mar 2026 02:00:00 GMT"));
        // Only the owner reaches the upload.
        assert_eq!(tus(t, "HEAD", &path, &company, &[], b"").status, 404);
        assert_eq!(tus(t, "HEAD", &path, &reviewer, &[], b"").status, 404);
        assert_eq!(patch(t, &path, &company, 0, &video[..10]).status, 404);
        assert_eq!(tus(t, "DELETE", &path, &company, &[], b"").status, 404);

        // PATCH refusals: type, offset, missing offset.
        let half = video.len() / 2;
        let r = tus(t, "PATCH", &path, &citizen, &[("Upload-Offset", "0"), ("Content-Type", "video/mp4")], &video);
        assert_eq!((r.status, r.body["code"].as_str()), (415, Some("upload_content_type")));
        let r = patch(t, &path, &citizen, 5, &video[5..half]);
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("upload_offset_mismatch")));
        let r = tus(t, "PATCH", &path, &citizen, &[("Content-Type", "application/offset+octet-stream")], &video);
        assert_eq!((r.status, r.body["code"].as_str()), (400, Some("upload_offset")));
        let mut too_much = video.clone();
        too_much.push(0);
        let r = patch(t, &path, &citizen, 0, &too_much);
        assert_eq!((r.status, r.body["code"].as_str()), (413, Some("upload_exceeds_length")));
        assert_eq!(tus(t, "HEAD", &path, &citizen, &[], b"").header("upload-offset"), Some("0"), "nothing stored");

        let events_before = t.events();
        let r = patch(t, &path, &citizen, 0, &video[..half]);
        assert_eq!((r.status, r.header("upload-offset")), (204, Some(&*half.to_string())), "{:?}", r.body);
        assert_eq!(t.events(), events_before, "no event until the recording is whole");
        let r = patch(t, &path, &citizen, half, &video[half..]);
        assert_eq!(r.status, 204, "{}: {:?}", t.backend, r.body);
        assert_eq!(r.header("upload-offset"), Some(&*len));

        // Recorded on the case with what ffprobe found and the hashes of the bytes as sent.
        let r = t.get(&format!("/api/v1/cases/{no}/videos"), Some(&citizen));
        assert_eq!(r.status, 200);
        let v = &r.body["videos"][0];
        assert_eq!(v["container"], "mp4");
        assert_eq!(v["codec"], "h264");
        assert_eq!((v["width"].as_i64(), v["height"].as_i64()), (Some(320), Some(240)));
        assert!((1900..=2100).contains(&v["duration_ms"].as_i64().unwrap()), "{v}");
        assert_eq!(v["size"].as_u64(), Some(video.len() as u64));
        assert_eq!(v["sha256"].as_str(), Some(&*sha256_hex(&video)));
        assert_eq!(v["sm3"].as_str(), Some(&*sm3_by_openssl(&video)));
        assert_eq!(v["file_name"], "厨房.mp4");
        let events = t.get(&format!("/api/v1/cases/{no}/events"), Some(&citizen));
        let rec = events.body["events"].as_array().unwrap().iter().find(|e| e["type"] == "video_recorded").cloned();
        let rec = rec.unwrap_or_else(|| panic!("no video_recorded event: {:?}", events.body));
        assert_eq!(rec["video"]["sha256"], v["sha256"]);
        assert_eq!(t.get(&format!("/api/v1/cases/{no}/videos"), Some(&reviewer)).body["videos"][0]["id"], v["id"]);
        assert_eq!(t.get(&format!("/api/v1/cases/{no}/videos"), Some(&company)).status, 404);

        // At rest: only the sealed file remains, and no stretch of the clear bytes is in it.
        let dir = t.app.video_settings().dir;
        let files = files_under(&dir);
        assert_eq!(files.len(), 1, "{files:?}");
        let sealed = std::fs::read(&files[0]).unwrap();
        assert!(sealed.starts_with(b"OSVIDEO1"));
        let probe = &video[video.len() / 3..video.len() / 3 + 32];
        assert!(!sealed.windows(32).any(|w| w == probe), "clear bytes in the sealed file");

        // A recorded video is part of the case file: it cannot be terminated; a complete upload takes no bytes.
        let r = tus(t, "DELETE", &path, &citizen, &[], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("video_recorded")));
        let r = patch(t, &path, &citizen, video.len(), b"x");
        assert_eq!(r.status, 409);
        assert_rebuild_identical(t);
    });
}

#[test]
fn tus_refuses_what_is_not_a_video_too_long_or_not_wanted_and_terminates_and_expires() {
    each_backend(|t| {
        let (no, citizen) = inspection_case(t);
        let dir = t.app.video_settings().dir;
        let events = t.events();

        // Not a video by its bytes: 415 on the last PATCH and the upload is dropped.
        let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".repeat(20);
        let path = create(t, &no, &citizen, pdf.len(), "x.mp4");
        let r = patch(t, &path, &citizen, 0, &pdf);
        assert_eq!((r.status, r.body["code"].as_str()), (415, Some("video_type")), "{:?}", r.body);
        assert_eq!(tus(t, "HEAD", &path, &citizen, &[], b"").status, 404);
        // Looks like an MP4 but is not one: ffprobe refuses it.
        let mut fake = vec![0, 0, 0, 0x18];
        fake.extend_from_slice(b"ftypisom");
        fake.resize(4000, 7);
        let path = create(t, &no, &citizen, fake.len(), "fake.mp4");
        let r = patch(t, &path, &citizen, 0, &fake);
        assert_eq!(r.status, 415, "{:?}", r.body);

        // Longer than allowed: 422, dropped.
        let mut s = t.app.video_settings();
        s.max_seconds = 1;
        t.app.set_video_settings(s.clone());
        let long = make_video(3, "webm");
        let path = create(t, &no, &citizen, long.len(), "long.webm");
        let r = patch(t, &path, &citizen, 0, &long);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("video_too_long")), "{:?}", r.body);
        s.max_seconds = 600;
        t.app.set_video_settings(s);
        assert_eq!(t.events(), events, "nothing recorded");
        assert!(files_under(&dir).is_empty(), "{:?}", files_under(&dir));

        // Termination.
        let path = create(t, &no, &citizen, 1000, "a.webm");
        assert_eq!(patch(t, &path, &citizen, 0, &long[..400]).status, 204);
        assert_eq!(files_under(&dir).len(), 1);
        let r = tus(t, "DELETE", &path, &citizen, &[], b"");
        assert_eq!(r.status, 204, "{:?}", r.body);
        assert_eq!(tus(t, "HEAD", &path, &citizen, &[], b"").status, 404);
        assert!(files_under(&dir).is_empty());

        // Expiration: 24 hours after the last byte the upload is gone (410), and the sweep deletes it.
        let path = create(t, &no, &citizen, 1000, "b.webm");
        assert_eq!(patch(t, &path, &citizen, 0, &long[..100]).status, 204);
        t.clock.advance(time::Duration::hours(23));
        let citizen = t.login("citizen");
        assert_eq!(patch(t, &path, &citizen, 100, &long[100..200]).status, 204, "a PATCH renews the expiry");
        t.clock.advance(time::Duration::hours(23));
        let citizen = t.login("citizen");
        assert_eq!(tus(t, "HEAD", &path, &citizen, &[], b"").header("upload-offset"), Some("200"));
        t.clock.advance(time::Duration::hours(2));
        let citizen = t.login("citizen");
        let r = tus(t, "HEAD", &path, &citizen, &[], b"");
        assert_eq!(r.status, 410);
        assert_eq!(patch(t, &path, &citizen, 200, &long[200..300]).status, 410);
        let rt = tokio::runtime::Runtime::new().unwrap();
        assert_eq!(rt.block_on(t.app.sweep_video_uploads()).unwrap(), 1);
        assert_eq!(tus(t, "HEAD", &path, &citizen, &[], b"").status, 404);
        assert!(files_under(&dir).is_empty());

        // A case not at an inspection step takes no recording.
        let other =
            submitted_and_accepted(t, &t.item_code("公共场所卫生许可"))["case_no"].as_str().unwrap().to_string();
        let r =
            tus(t, "POST", &format!("/api/v1/cases/{other}/video-uploads"), &citizen, &[("Upload-Length", "10")], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("wrong_step")), "{:?}", r.body);
        // An inspection on site only (食品生产许可: inspection = on_site) takes no recording.
        let onsite = submitted_and_accepted(t, &t.item_code("食品生产许可"))["case_no"].as_str().unwrap().to_string();
        assert_eq!(drive_until(t, &onsite, Some("inspection"))["current_step"]["kind"], "inspection");
        let r =
            tus(t, "POST", &format!("/api/v1/cases/{onsite}/video-uploads"), &citizen, &[("Upload-Length", "10")], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("video_not_allowed")), "{:?}", r.body);
        // A malformed case number is no case.
        let r = tus(t, "POST", "/api/v1/cases/not-a-case/video-uploads", &citizen, &[("Upload-Length", "10")], b"");
        assert_eq!(r.status, 404);
    });
}

/// A connection cut halfway through a PATCH: the bytes that arrived are kept, a second writer is refused while the
/// first still streams, and the client resumes from the offset HEAD tells it.
#[test]
fn a_cut_connection_keeps_what_arrived_and_the_upload_resumes() {
    each_backend(|t| {
        let (no, citizen) = inspection_case(t);
        let video = make_video(2, "mp4");
        let path = create(t, &no, &citizen, video.len(), "cut.mp4");
        let half = video.len() / 2;
        let addr = t.base.trim_start_matches("http://").to_string();
        let head = format!(
            "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {citizen}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
            video.len()
        );
        // While the first request streams, nobody else writes the upload. (A probe is an empty PATCH: it changes
        // nothing, but it holds the upload for an instant — should the first request arrive in that instant, it
        // is the one refused, so the whole attempt is made again.)
        let mut busy = None;
        let mut s = None;
        for _ in 0..10 {
            let mut conn = std::net::TcpStream::connect(&addr).unwrap();
            conn.write_all(head.as_bytes()).unwrap();
            conn.write_all(&video[..half]).unwrap();
            conn.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            let r = patch(t, &path, &citizen, 0, b"");
            if r.body["code"] == "upload_busy" {
                busy = Some(r.status);
                s = Some(conn);
                break;
            }
            let _ = conn.shutdown(std::net::Shutdown::Both);
            // Wait for what the refused or cut attempt stored, then start again from the offset (none, or half).
            std::thread::sleep(std::time::Duration::from_millis(200));
            assert_eq!(
                tus(t, "HEAD", &path, &citizen, &[], b"").header("upload-offset"),
                Some("0"),
                "nothing is kept before the probe said busy"
            );
        }
        assert_eq!(busy, Some(409));
        let mut s = s.unwrap();
        s.shutdown(std::net::Shutdown::Both).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        drop(s);
        let mut offset = String::new();
        for _ in 0..100 {
            offset = tus(t, "HEAD", &path, &citizen, &[], b"").header("upload-offset").unwrap_or("").to_string();
            if offset == half.to_string() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(offset, half.to_string(), "{}: what arrived before the cut is kept", t.backend);
        let r = patch(t, &path, &citizen, half, &video[half..]);
        assert_eq!(r.status, 204, "{:?}", r.body);
        let v = t.get(&format!("/api/v1/cases/{no}/videos"), Some(&citizen)).body;
        assert_eq!(v["videos"][0]["sha256"].as_str(), Some(&*sha256_hex(&video)));
    });
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// 160 MiB through one PATCH (streamed from the client too) and sealed: the server's peak memory (this test
/// process, which is the server) grows far less than the file.
#[test]
fn a_large_upload_streams_to_disk_without_memory_growing_with_its_size() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let (no, citizen) = inspection_case(&t);
    let total = 160 * 1024 * 1024;
    let scratch = test_files_dir();
    let file = scratch.join("big.mp4");
    padded_mp4(&file, total);
    let path = create(&t, &no, &citizen, total, "big.mp4");
    let before = peak_rss_kib();
    let url = format!("{}{path}", t.base);
    let started = std::time::Instant::now();
    let mut f = std::fs::File::open(&file).unwrap();
    let r = t
        .agent
        .patch(&url)
        .header("Authorization", &format!("Bearer {citizen}"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Content-Length", &total.to_string())
        .send(ureq::SendBody::from_reader(&mut f))
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let grown = peak_rss_kib().saturating_sub(before);
    eprintln!("160 MiB upload + seal: {:?}, peak RSS grew {} KiB", started.elapsed(), grown);
    assert!(grown < 48 * 1024, "peak memory grew {grown} KiB for a 160 MiB upload");
    let v = t.get(&format!("/api/v1/cases/{no}/videos"), Some(&citizen)).body;
    assert_eq!(v["videos"][0]["size"].as_u64(), Some(total as u64));
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// Upload a whole recording in one PATCH; its video id.
pub(crate) fn upload_video(t: &TestApp, no: &str, token: &str, video: &[u8], name: &str) -> String {
    let path = create(t, no, token, video.len(), name);
    let r = patch(t, &path, token, 0, video);
    assert_eq!(r.status, 204, "{}: {:?}", t.backend, r.body);
    path.rsplit('/').next().unwrap().to_string()
}

fn get_bytes(t: &TestApp, path: &str, token: &str, range: Option<&str>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut r = t.agent.get(&format!("{}{path}", t.base)).header("Authorization", &format!("Bearer {token}"));
    if let Some(range) = range {
        r = r.header("Range", range);
    }
    let mut resp = r.call().unwrap();
    let headers = resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let mut body = Vec::new();
    resp.body_mut().as_reader().read_to_end(&mut body).unwrap();
    (resp.status().as_u16(), headers, body)
}

#[test]
fn reviewers_play_with_ranges_note_capture_stills_ask_to_rectify_and_pass() {
    each_backend(|t| {
        let (no, citizen) = inspection_case(t);
        let reviewer = t.login("bureau-social-reviewer");
        let company = t.login("company");
        let base = format!("/api/v1/cases/{no}/inspection");

        // What is asked: the method (video first where either is allowed) and the step's checklist.
        let r = t.get(&base, Some(&citizen));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!((r.body["method"].as_str(), r.body["allowed"].as_str()), (Some("video"), Some("either")));
        let items: Vec<&str> =
            r.body["checklist"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(items, ["venue", "disinfection", "ventilation", "toilets"]);

        // Choosing: the applicant may go on site and back; the inspector overrules only with a reason, and then the
        // applicant no longer chooses.
        let m = format!("{base}/method");
        let r = t.post(&m, Some(&citizen), &json!({"method": "on_site"}));
        assert_eq!((r.status, r.body["method"].as_str()), (200, Some("on_site")), "{:?}", r.body);
        let r = tus(t, "POST", &format!("/api/v1/cases/{no}/video-uploads"), &citizen, &[("Upload-Length", "10")], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("video_not_allowed")));
        assert_eq!(t.post(&m, Some(&citizen), &json!({"method": "video"})).body["method"], "video");
        let r = t.post(&m, Some(&reviewer), &json!({"method": "on_site"}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("empty")), "overruling needs a reason");
        let r = t.post(&m, Some(&reviewer), &json!({"method": "on_site", "reason": "面积较大，需现场核查"}));
        assert_eq!(r.status, 200);
        assert_eq!(r.body["record"]["method_reason"], "面积较大，需现场核查");
        let r = t.post(&m, Some(&citizen), &json!({"method": "video"}));
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("inspection_method_fixed")));
        assert_eq!(t.post(&m, Some(&company), &json!({"method": "video"})).status, 404);
        let r = t.post(&m, Some(&reviewer), &json!({"method": "video", "reason": "申请人可补拍视频"}));
        assert_eq!(r.body["method"], "video");
        let r = t.post(&m, Some(&reviewer), &json!({"method": "drone"}));
        assert_eq!(r.status, 422, "an unknown method is refused as invalid JSON content: {:?}", r.body);

        // The pages: the applicant's case page offers the resumable upload, the reviewer's workbench the review.
        let (st, html) = page_get(t, &format!("/me/cases/{no}"), Some(&page_login(t, "citizen")));
        assert_eq!(st, 200);
        assert!(html.contains(&format!("data-tus-endpoint=\"/api/v1/cases/{no}/video-uploads\"")), "{html}");
        assert!(html.contains("公共用品用具消毒间") && html.contains("/assets/vendor/tus/tus.min.js"));
        let (st, js) = page_get(t, "/assets/vendor/tus/tus.min.js", None);
        assert!(st == 200 && js.len() > 80_000);
        // A recording of 3 MiB (the test pattern and padding), so a range crosses sealed segments.
        let dir = test_files_dir();
        padded_mp4(&dir.join("rec.mp4"), 3 * 1024 * 1024 + 12345);
        let video = std::fs::read(dir.join("rec.mp4")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let id = upload_video(t, &no, &citizen, &video, "消毒间.mp4");

        // Playback with ranges, for the applicant and the handling department only.
        let play = format!("/api/v1/cases/{no}/videos/{id}");
        let started = std::time::Instant::now();
        let (st, h, body) = get_bytes(t, &play, &reviewer, Some("bytes=1048000-1049999"));
        let first = started.elapsed();
        assert_eq!(st, 206);
        assert_eq!(header_of(&h, "content-range"), format!("bytes 1048000-1049999/{}", video.len()));
        assert_eq!(header_of(&h, "accept-ranges"), "bytes");
        assert_eq!(header_of(&h, "content-type"), "video/mp4");
        assert_eq!(body, &video[1048000..1050000], "a range across two sealed segments");
        let (st, _, body) = get_bytes(t, &play, &reviewer, Some("bytes=-100"));
        assert_eq!((st, body.as_slice()), (206, &video[video.len() - 100..]));
        let (st, h, _) = get_bytes(t, &play, &reviewer, Some(&format!("bytes={}-", video.len())));
        assert_eq!((st, header_of(&h, "content-range")), (416, &*format!("bytes */{}", video.len())));
        let (st, _, body) = get_bytes(t, &play, &citizen, None);
        assert_eq!(st, 200);
        assert!(body == video, "the whole recording, as uploaded");
        for other in [&company, &t.login("fire-reviewer"), &t.login("supervisor")] {
            assert_eq!(get_bytes(t, &play, other, Some("bytes=0-9")).0, 404);
        }
        eprintln!("{}: range playback, first range answered in {first:?}", t.backend);
        assert!(first < std::time::Duration::from_millis(200), "range start {first:?}");

        let (st, html) = page_get(t, &format!("/work/cases/{no}"), Some(&page_login(t, "bureau-social-reviewer")));
        assert_eq!(st, 200);
        assert!(
            html.contains("data-testid=\"inspection-review\"") && html.contains(&format!("id=\"video-{id}\"")),
            "{html}"
        );
        // Notes at a moment, tied to a checklist item.
        let notes = format!("{base}/notes");
        let note = json!({"video_id": id, "at_ms": 500, "checklist_item": "disinfection", "text": "消毒间未见保洁柜"});
        let r = t.post(&notes, Some(&reviewer), &note);
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["record"]["notes"][0]["by"], "bureau-social-reviewer");
        let events = t.events();
        for (bad, code) in [
            (json!({"video_id": id, "at_ms": 500, "checklist_item": "roof", "text": "x"}), "unknown_checklist_item"),
            (json!({"video_id": id, "at_ms": 60_000, "text": "x"}), "bad_timestamp"),
            (json!({"video_id": "vid_nope", "at_ms": 1, "text": "x"}), "unknown_video"),
            (json!({"video_id": id, "at_ms": 1, "text": "  "}), "empty"),
        ] {
            let r = t.post(&notes, Some(&reviewer), &bad);
            assert_eq!((r.status, r.body["code"].as_str()), (422, Some(code)), "{bad}: {:?}", r.body);
        }
        assert_eq!(t.post(&notes, Some(&citizen), &note).status, 403);
        assert_eq!(t.post(&notes, Some(&t.login("fire-reviewer")), &note).status, 404);
        assert_eq!(t.events(), events, "nothing written by refusals");

        // A still into the case file: a sealed JPEG the applicant and the reviewer read.
        let r = t.post(&format!("{play}/stills"), Some(&reviewer), &json!({"at_ms": 400}));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let still = r.body["record"]["stills"][0].clone();
        let att = format!("/api/v1/attachments/{}?case_no={no}", still["attachment"].as_str().unwrap());
        for who in [&citizen, &reviewer] {
            let (st, h, jpeg) = get_bytes(t, &att, who, None);
            assert_eq!((st, header_of(&h, "content-type")), (200, "image/jpeg"));
            assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
            assert_eq!(still["sha256"].as_str(), Some(&*oneseal_app::sha256_bytes_hex(&jpeg)));
        }
        assert_eq!(get_bytes(t, &att, &company, None).0, 404);
        let r = t.post(&format!("{play}/stills"), Some(&reviewer), &json!({"at_ms": 99_000}));
        assert_eq!(r.body["code"], "bad_timestamp");

        // Rectify: the points go to the applicant, who answers with a new recording; then pass.
        let c = format!("{base}/conclusion");
        let r = t.post(&c, Some(&reviewer), &json!({"conclusion": "rectify", "points": [], "opinion": "需整改"}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("empty")));
        let r = t.post(
            &c,
            Some(&reviewer),
            &json!({"conclusion": "rectify", "points": ["补拍保洁柜"], "opinion": "需整改"}),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["record"]["open_points"], json!(["补拍保洁柜"]));
        let r = t.post(&c, Some(&reviewer), &json!({"conclusion": "pass", "opinion": "符合"}));
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("recording_awaited")));
        assert_eq!(t.post(&c, Some(&citizen), &json!({"conclusion": "pass", "opinion": "符合"})).status, 403);
        let again = make_video(2, "webm");
        upload_video(t, &no, &citizen, &again, "补拍.webm");
        let seen = t.get(&base, Some(&citizen)).body;
        assert_eq!(seen["record"]["open_points"], Value::Null, "answered");
        assert_eq!(seen["videos"].as_array().unwrap().len(), 2);
        let r = t.post(&c, Some(&reviewer), &json!({"conclusion": "pass", "opinion": "视频勘验符合要求"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let case = t.get(&format!("/api/v1/cases/{no}"), Some(&citizen)).body;
        assert_eq!(case["current_step"]["kind"], "decision", "the inspection task completed through the case engine");
        let trail = t.get(&format!("/api/v1/cases/{no}/events"), Some(&citizen)).body;
        let types: Vec<&str> =
            trail["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
        let at = types.iter().rposition(|x| *x == "inspection_concluded").unwrap();
        assert_eq!(&types[at..at + 3], ["inspection_concluded", "task_claimed", "task_completed"]);

        // The applicant sees every note and outcome.
        let seen = t.get(&base, Some(&citizen)).body;
        assert_eq!(seen["record"]["notes"][0]["text"], "消毒间未见保洁柜");
        assert_eq!(seen["record"]["notes"][0]["checklist_item"], "disinfection");
        let outcomes: Vec<&str> = seen["record"]["conclusions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["conclusion"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["rectify", "pass"]);
        assert_eq!(seen["method"], Value::Null, "no longer at the inspection step");
        // …and on the case page.
        let (st, html) = page_get(t, &format!("/me/cases/{no}"), Some(&page_login(t, "citizen")));
        assert_eq!(st, 200);
        for text in [
            "00:00 【公共用品用具消毒间】消毒间未见保洁柜",
            "补拍保洁柜",
            "视频勘验符合要求",
            "data-testid=\"inspection-conclusions\"",
        ] {
            assert!(html.contains(text), "{text} on the applicant's case page");
        }
        assert_rebuild_identical(t);
    });
}

#[test]
fn a_reviewer_may_send_the_inspection_on_site() {
    each_backend(|t| {
        let (no, citizen) = inspection_case(t);
        let reviewer = t.login("bureau-social-reviewer");
        let video = make_video(1, "mp4");
        upload_video(t, &no, &citizen, &video, "a.mp4");
        let c = format!("/api/v1/cases/{no}/inspection/conclusion");
        let r =
            t.post(&c, Some(&reviewer), &json!({"conclusion": "on_site_needed", "opinion": "视频无法看清排水设施"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(
            (r.body["method"].as_str(), r.body["record"]["method_reason"].as_str()),
            (Some("on_site"), Some("视频无法看清排水设施"))
        );
        let r = tus(t, "POST", &format!("/api/v1/cases/{no}/video-uploads"), &citizen, &[("Upload-Length", "10")], b"");
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("video_not_allowed")));
        let r = t.post(&c, Some(&reviewer), &json!({"conclusion": "rectify", "points": ["x"], "opinion": "x"}));
        assert_eq!(r.body["code"], "video_not_allowed");
        // On site, the inspector concludes as before.
        let r = t.post(&c, Some(&reviewer), &json!({"conclusion": "pass", "opinion": "现场核查符合要求"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(t.get(&format!("/api/v1/cases/{no}"), Some(&citizen)).body["current_step"]["kind"], "decision");
    });
}

/// §6 measured: working days from an inspection's request (its step starting) to its result (the step completing),
/// video against on site, per item — the dashboard's numbers against a count made here day by day from the
/// cases' own events.
#[test]
fn the_dashboard_counts_working_days_from_inspection_request_to_result_video_against_on_site() {
    each_backend(|t| {
        let video = make_video(1, "mp4");
        let mut cases = Vec::new();
        // Days waited between the request and the result (the clock starts on Monday 2 March 2026).
        for (by_video, wait) in [(true, 1), (false, 6), (true, 3), (false, 4), (true, 0), (false, 9)] {
            let (no, citizen) = inspection_case(t);
            if by_video {
                upload_video(t, &no, &citizen, &video, "v.mp4");
            }
            t.clock.advance(time::Duration::days(wait));
            let reviewer = t.login("bureau-social-reviewer");
            if !by_video {
                let r = t.post(
                    &format!("/api/v1/cases/{no}/inspection/method"),
                    Some(&reviewer),
                    &json!({"method": "on_site", "reason": "现场核查"}),
                );
                assert_eq!(r.status, 200, "{:?}", r.body);
            }
            let r = t.post(
                &format!("/api/v1/cases/{no}/inspection/conclusion"),
                Some(&reviewer),
                &json!({"conclusion": "pass", "opinion": "符合"}),
            );
            assert_eq!(r.status, 200, "{:?}", r.body);
            cases.push((no, by_video));
        }
        // Brute force: from each case's events, count the working days after the request up to the result.
        let cal = t.app.calendar();
        let supervisor = t.login("supervisor");
        let (mut video_days, mut on_site_days) = (0u32, 0u32);
        for (no, by_video) in &cases {
            let trail = t.get(&format!("/api/v1/cases/{no}/events"), Some(&supervisor)).body;
            let evs = trail["events"].as_array().unwrap();
            let at = |e: &Value| {
                oneseal_domain::clock::local_date(
                    time::OffsetDateTime::parse(
                        e["at"].as_str().unwrap(),
                        &time::format_description::well_known::Rfc3339,
                    )
                    .unwrap(),
                )
            };
            let requested = at(evs.iter().find(|e| e["type"] == "step_started" && e["kind"] == "inspection").unwrap());
            let resulted = at(evs.iter().find(|e| e["type"] == "step_completed" && e["step_id"] == "inspect").unwrap());
            let mut d = requested;
            let mut n = 0;
            while d < resulted {
                d = d.next_day().unwrap();
                if cal.is_workday(d).unwrap() {
                    n += 1;
                }
            }
            if *by_video {
                video_days += n;
            } else {
                on_site_days += n;
            }
        }
        let dash = t.get("/api/v1/dashboard", Some(&supervisor)).body;
        let code = t.item_code("公共场所卫生许可");
        let row = dash["inspection_days"].as_array().unwrap().iter().find(|r| r["item"] == code).cloned();
        let row = row.unwrap_or_else(|| panic!("{}: no row for {code}: {:?}", t.backend, dash["inspection_days"]));
        assert_eq!((row["video_cases"].as_u64(), row["on_site_cases"].as_u64()), (Some(3), Some(3)));
        assert_eq!(row["video_days"].as_u64(), Some(u64::from(video_days)), "{row}");
        assert_eq!(row["on_site_days"].as_u64(), Some(u64::from(on_site_days)), "{row}");
        let (v, o) = (f64::from(video_days) / 3.0, f64::from(on_site_days) / 3.0);
        assert_eq!(row["video_mean"].as_f64(), Some((v * 10.0).round() / 10.0));
        assert_eq!(row["days_saved"].as_f64(), Some(((o - v) * 3.0 * 10.0).round() / 10.0));
        assert!(on_site_days > video_days, "the waits chosen make on site slower: {video_days} vs {on_site_days}");
        // And on the dashboard page.
        let (st, html) = page_get(t, "/dashboard", Some(&page_login(t, "supervisor")));
        assert!(html.contains(&row["days_saved"].as_f64().map(|x| format!("{x:.1}")).unwrap()), "the days saved shown");
        assert_eq!(st, 200);
        assert!(html.contains("data-testid=\"table-inspection\"") && html.contains("公共场所卫生许可"), "{html}");
        assert_rebuild_identical(t);
    });
}

/// A browser session's cookie for `user`.
pub(crate) fn page_login(t: &TestApp, user: &str) -> String {
    let r = t.post("/api/v1/sessions", None, &json!({"username": user, "password": "oneseal-demo"}));
    r.header("set-cookie").unwrap().split(';').next().unwrap().to_string()
}

/// An upload in progress is sealed as it arrives: the part file of a half-finished upload (two whole records and
/// a short one) holds no 32-byte run of the recording, and resuming at odd offsets inside a record gives back
/// exactly the bytes sent (the hashes of the recorded video are those of the source).
#[test]
fn a_half_finished_upload_is_sealed_on_disk_and_resumes_exactly() {
    each_backend(|t| {
        let (no, citizen) = inspection_case(t);
        let src = test_files_dir().join("src.mp4");
        padded_mp4(&src, 1024 * 1024 + 4321);
        let video = std::fs::read(&src).unwrap();
        let _ = std::fs::remove_dir_all(src.parent().unwrap());
        let path = create(t, &no, &citizen, video.len(), "厨房.mp4");
        let first = 600_001; // two records of 256 KiB and 75,713 bytes of a third
        assert_eq!(patch(t, &path, &citizen, 0, &video[..first]).status, 204);
        let parts: Vec<_> = files_under(&t.app.video_settings().dir)
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".part"))
            .collect();
        assert_eq!(parts.len(), 1, "{parts:?}");
        let on_disk = std::fs::read(&parts[0]).unwrap();
        assert!(on_disk.len() > first, "the sealed part holds every byte that arrived");
        // The real video (its first bytes: the ftyp and moov boxes) and the padding: no run of either in clear.
        let runs: Vec<&[u8]> = video[..first].chunks(32).filter(|c| c.len() == 32).collect();
        let set: std::collections::HashSet<&[u8]> = runs.into_iter().collect();
        assert!(!on_disk.windows(32).any(|w| set.contains(w)), "a clear run of the recording is on disk");
        // Resumed twice inside records (the short record's bytes come back from disk, sealed).
        let second = 800_003;
        assert_eq!(patch(t, &path, &citizen, first, &video[first..second]).status, 204);
        let r = tus(t, "HEAD", &path, &citizen, &[], b"");
        assert_eq!(r.header("upload-offset"), Some("800003"));
        let r = patch(t, &path, &citizen, second, &video[second..]);
        assert_eq!(r.status, 204, "{}: {:?}", t.backend, r.body);
        let v = &t.get(&format!("/api/v1/cases/{no}/videos"), Some(&citizen)).body["videos"][0];
        assert_eq!(v["sha256"].as_str(), Some(&*sha256_hex(&video)), "exactly the bytes sent: {v}");
        assert_eq!(v["codec"], "h264", "ffprobe read the recording from the pipe");
        let files = files_under(&t.app.video_settings().dir);
        assert!(files.iter().all(|p| !p.to_string_lossy().ends_with(".part")), "the part is gone: {files:?}");
    });
}
