"""OneSeal's tus 1.0 server checked with the real clients: PyPI tuspy (here) and npm tus-js-client (tus_js.mjs,
run with node). A case of 公共场所卫生许可 is brought to its inspection step through the API; test videos are made
with ffmpeg; uploads go through a TCP proxy that cuts the connection halfway through the body once, and each
client resumes (tuspy: a new uploader on the same URL asks the offset with HEAD; tus-js-client: its own retries,
and abort + start). Then the recording on the case must carry the SHA-256 of the file as sent.

Usage: ONESEAL_BASE_URL=http://127.0.0.1:PORT .venv/bin/python tests/tus/tus_clients.py   (tests/tus/run.sh)
Exit status: 0 all passed, 1 a check failed.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BASE = os.environ.get("ONESEAL_BASE_URL", "http://127.0.0.1:8080")
HERE = os.path.dirname(os.path.abspath(__file__))
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def call(method, path, token=None, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as r:
            text = r.read().decode()
            return r.status, dict(r.headers), (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, dict(e.headers), json.loads(text)
        except ValueError:
            return e.code, dict(e.headers), text


def login(user):
    st, _, body = call("POST", "/api/v1/sessions", body={"username": user, "password": "oneseal-demo"})
    assert st == 201, (user, st, body)
    return body["token"]


def fill(fields):
    values = {
        "text": "银川测试内容", "long_text": "银川测试内容", "date": "2026-03-01", "boolean": False,
        "phone": "13800000000", "uscc": "91110000600037341L", "resident_id": "64010420050101001X",
        "region_code": "640104",
    }
    form = {}
    for f in fields:
        t = f["type"]
        if t in ("number", "integer"):
            form[f["key"]] = min(max(f.get("min") or 0, 120), f.get("max") or 1e12)
        elif t == "choice":
            form[f["key"]] = f["options"][0]
        else:
            form[f["key"]] = values[t]
    return form


def inspection_case(citizen):
    """A new case of 公共场所卫生许可 at its inspection step (an area over 300 m² needs one)."""
    st, _, hits = call("GET", "/api/v1/items?q=" + urllib.parse.quote("公共场所卫生许可"))
    code = next(i["impl_code"] for i in hits["items"] if "公共场所卫生许可" in i["name"])
    st, _, item = call("GET", "/api/v1/items/" + code)
    form = fill(item["form"]["fields"])
    form["business_area"] = 800
    materials = [{"material_id": m["id"], "file_name": m["id"] + ".pdf"} for m in item["materials"] if m["required"]]
    sub = {"item_code": code, "channel": "online", "service_point": "市民大厅",
           "applicant": {"kind": "person", "name": "张三", "id_number": "64010420050101001X", "phone": "13800000000"},
           "form": form, "materials": materials}
    st, _, receipt = call("POST", "/api/v1/cases", citizen, sub)
    assert st == 201, (st, receipt)
    no = receipt["case_no"]
    st, _, case = call("POST", f"/api/v1/cases/{no}/accept", login("clerk"), {})
    assert st == 200, (st, case)
    for _ in range(5):
        step = case["current_step"]
        if step["kind"] == "inspection":
            return no
        task = next(t for t in step["tasks"] if t["status"] == "open")
        st, _, case = call("POST", f"/api/v1/cases/{no}/complete", login(task["department"] + "-reviewer"),
                           {"task_id": task["task_id"], "opinion": "同意"})
        assert st == 200, (st, case)
    raise AssertionError("no inspection step")


class CutProxy:
    """A TCP proxy to the server that, when armed, closes both sides after `cut_after` bytes from the client
    (a phone losing its connection halfway through an upload); afterwards it passes everything through."""

    def __init__(self, target):
        host, port = target.replace("http://", "").split(":")
        self.target = (host, int(port))
        self.cut_after = None
        self.cuts = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def arm(self, n):
        with self.lock:
            self.cut_after = n

    def serve(self):
        while True:
            client, _ = self.sock.accept()
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self.pump_up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client), daemon=True).start()

    def pump(self, src, dst):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def pump_up(self, src, dst):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                with self.lock:
                    if self.cut_after is not None:
                        if len(b) >= self.cut_after:
                            dst.sendall(b[: self.cut_after])
                            self.cut_after = None
                            self.cuts += 1
                            raise OSError("cut")
                        self.cut_after -= len(b)
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass


def make_video(path, secs, size="640x480", total=3 * 1024 * 1024):
    """A test video by ffmpeg, grown to `total` bytes with a trailing `free` box (valid MP4) so that the uploads
    take several chunks."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=duration={secs}:size={size}:rate=25",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-movflags", "+faststart", path],
                   check=True)
    with open(path, "rb") as f:
        data = f.read()
    pad = total - len(data)
    data += pad.to_bytes(4, "big") + b"free" + os.urandom(pad - 8)
    with open(path, "wb") as f:
        f.write(data)
    return data


def recorded(no, token, sha):
    st, _, body = call("GET", f"/api/v1/cases/{no}/videos", token)
    return st == 200 and any(v["sha256"] == sha for v in body["videos"]), body


def head_offset(url, token):
    path = url.replace(BASE, "") if url.startswith(BASE) else "/" + url.split("/", 3)[3]
    st, h, _ = call("HEAD", path, token, headers={"Tus-Resumable": "1.0.0"})
    return st, int(h.get("Upload-Offset", h.get("upload-offset", "-1")))


def tuspy_cut_and_resume(proxy, no, citizen, video, path):
    from tusclient import client as tus_client
    from tusclient.exceptions import TusCommunicationError, TusUploadFailed
    sha = hashlib.sha256(video).hexdigest()
    c = tus_client.TusClient(proxy.url + f"/api/v1/cases/{no}/video-uploads",
                             headers={"Authorization": "Bearer " + citizen})
    chunk = 512 * 1024
    uploader = c.uploader(path, chunk_size=chunk, metadata={"filename": "tuspy.mp4"})
    # Cut inside the third chunk's body (after two whole PATCHes and their headers).
    proxy.arm(2 * chunk + chunk // 2 + 2000)
    failed = False
    try:
        uploader.upload()
    except (TusCommunicationError, TusUploadFailed, OSError) as e:
        failed = True
        print("     tuspy: the connection was cut:", type(e).__name__)
    check(failed and proxy.cuts == 1, "tuspy: the proxy cut the upload halfway")
    # The server notices the cut when its side of the connection closes; then the bytes that arrived count.
    offset = -1
    for _ in range(100):
        st, offset = head_offset(uploader.url, citizen)
        if offset > 2 * chunk:
            break
        time.sleep(0.02)
    check(st == 200 and 2 * chunk < offset < 3 * chunk,
          f"tuspy: the server kept what arrived before the cut, part of a chunk (offset {offset} of {len(video)})")
    # A new uploader on the same URL (as after an app restart) asks the offset and goes on from there.
    again = c.uploader(path, chunk_size=chunk, url=uploader.url, retries=3, retry_delay=1)
    check(again.offset == offset, f"tuspy: the resumed uploader starts at the server's offset ({again.offset})")
    again.upload()
    ok, body = recorded(no, citizen, sha)
    check(ok, "tuspy: the recording on the case carries the SHA-256 of the file as sent")
    # Termination through the client's URL of a recorded video is refused; a fresh one is deleted.
    u = c.uploader(path, chunk_size=chunk, metadata={"filename": "gone.mp4"})
    u.upload_chunk()
    st, _, _ = call("DELETE", "/" + u.url.split("/", 3)[3], citizen, headers={"Tus-Resumable": "1.0.0"})
    check(st == 204, f"tuspy: an unfinished upload is terminated (DELETE {st})")
    st, _ = head_offset(u.url, citizen)
    check(st == 404, f"tuspy: and is gone ({st})")


def tus_js(proxy, no, citizen, path, video, mode):
    sha = hashlib.sha256(video).hexdigest()
    if mode == "retry":
        proxy.arm(256 * 1024 + 100_000)
    r = subprocess.run(["node", os.path.join(HERE, "tus_js.mjs"), proxy.url + f"/api/v1/cases/{no}/video-uploads",
                        citizen, path, mode], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        check(False, f"tus-js-client ({mode}) ran: {r.stderr[-1500:]}")
        return
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if mode == "retry":
        check(out["retries"] >= 1, f"tus-js-client: the cut connection was retried ({out['retries']} retries)")
    else:
        check(out["resumedAt"] is not None and 0 < out["resumedAt"] < len(video),
              f"tus-js-client: after abort it resumed at the server's offset {out['resumedAt']}")
    ok, body = recorded(no, citizen, sha)
    check(ok, f"tus-js-client ({mode}): the recording on the case carries the SHA-256 of the file as sent")


def main():
    citizen = login("citizen")
    proxy = CutProxy(BASE)
    with tempfile.TemporaryDirectory() as d:
        no = inspection_case(citizen)
        print("case", no, "at its inspection step")
        a = os.path.join(d, "kitchen.mp4")
        video = make_video(a, 8)
        print(f"video {len(video)} bytes")
        tuspy_cut_and_resume(proxy, no, citizen, video, a)
        b = os.path.join(d, "storage.mp4")
        video_b = make_video(b, 6, "480x360", 2 * 1024 * 1024 + 777)
        tus_js(proxy, no, citizen, b, video_b, "retry")
        c = os.path.join(d, "toilets.mp4")
        video_c = make_video(c, 5, "320x240", 1024 * 1024 + 4321)
        tus_js(proxy, no, citizen, c, video_c, "abort")
        st, _, body = call("GET", f"/api/v1/cases/{no}/videos", citizen)
        check(st == 200 and len(body["videos"]) == 3, f"three recordings on the case ({len(body['videos'])})")
    if FAILURES:
        print(f"tus clients: {len(FAILURES)} FAILED")
        return 1
    print("tus clients: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
