"""Benchmark of the tus video uploads (issue 18): N concurrent uploads of M MB each through tus against a running
`oneseal serve --demo`, sampling the server's resident memory (/proc/PID/status) to show it does not grow with the
file's size (bytes are streamed to the sealed part file), then the time to the first byte of range requests on a
sealed recording. Every client streams from one source file; each recording's sealed file is deleted as soon as its
upload completes, and a client waits to start while the disk has less than 8 GB + its size free.

Usage: bench/videos.sh [N] [MB]   (starts the server; see there)
Prints one JSON line with the numbers.
"""
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tus"))
import tus_clients as tc  # noqa: E402  (call, login, inspection_case against ONESEAL_BASE_URL)

BASE = os.environ["ONESEAL_BASE_URL"]
PID = int(os.environ["ONESEAL_PID"])
FILES = os.environ["ONESEAL_FILES"]
N = int(sys.argv[1]) if len(sys.argv) > 1 else 50
MB = int(sys.argv[2]) if len(sys.argv) > 2 else 200
CHUNK = 16 * 1024 * 1024
DISK_FLOOR = 8 * 1024**3


def rss_kib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def make_source(path, total):
    """A 2-second video (faststart MP4) grown to `total` bytes by a trailing `free` box, written a MiB at a time."""
    small = path + ".small.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=2:size=640x480:rate=25",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-movflags", "+faststart", small], check=True)
    with open(small, "rb") as f:
        head = f.read()
    os.remove(small)
    pad = total - len(head)
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as f:
        f.write(head + pad.to_bytes(4, "big") + b"free")
        left = pad - 8
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n


def conn():
    u = urllib.parse.urlparse(BASE)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=600)


def upload(no, token, src, size, results, i):
    while shutil.disk_usage("/").free < DISK_FLOOR + 2 * size:
        time.sleep(0.5)
    t0 = time.monotonic()
    st, h, body = tc.call("POST", f"/api/v1/cases/{no}/video-uploads", token,
                          headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(size),
                                   "Upload-Metadata": "filename YmVuY2gubXA0"})
    assert st == 201, (st, body)
    loc = h.get("Location") or h.get("location")
    path = urllib.parse.urlparse(loc).path if loc.startswith("http") else loc
    vid = path.rsplit("/", 1)[1]
    offset = 0
    with open(src, "rb") as f:
        while offset < size:
            n = min(CHUNK, size - offset)
            c = conn()
            c.putrequest("PATCH", path)
            for k, v in {"Authorization": "Bearer " + token, "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                         "Content-Type": "application/offset+octet-stream", "Content-Length": str(n)}.items():
                c.putheader(k, v)
            c.endheaders()
            left = n
            while left:
                b = f.read(min(left, 1024 * 1024))
                c.send(b)
                left -= len(b)
            r = c.getresponse()
            r.read()
            assert r.status == 204, (r.status, offset)
            offset = int(r.getheader("Upload-Offset"))
            c.close()
    results[i] = time.monotonic() - t0
    return vid


def main():
    size = MB * 1024 * 1024
    src = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"oneseal-bench-{os.getpid()}.mp4")
    make_source(src, size)
    try:
        citizen = tc.login("citizen")
        no = tc.inspection_case(citizen)
        peak = [rss_kib()]
        base_rss = peak[0]
        stop = threading.Event()
        min_free = [shutil.disk_usage("/").free]

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib())
                min_free[0] = min(min_free[0], shutil.disk_usage("/").free)
                time.sleep(0.05)

        threading.Thread(target=sample, daemon=True).start()
        results = [None] * N
        vids = [None] * N

        def one(i):
            vids[i] = upload(no, citizen, src, size, results, i)
            # The recording is sealed and recorded; its sealed file goes at once (disk).
            try:
                os.remove(os.path.join(FILES, "videos", vids[i] + ".osv"))
            except FileNotFoundError:
                pass

        t0 = time.monotonic()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        stop.set()
        after_rss = rss_kib()
        assert all(r is not None for r in results), "an upload failed"
        # Range playback: one recording kept, 64 KiB ranges at random places, time to the first byte.
        keep = upload(no, citizen, src, size, [None], 0)
        ttfb = []
        for _ in range(30):
            start = random.randrange(0, size - 65536)
            c = conn()
            t1 = time.monotonic()
            c.request("GET", f"/api/v1/cases/{no}/videos/{keep}",
                      headers={"Authorization": "Bearer " + citizen, "Range": f"bytes={start}-{start + 65535}"})
            r = c.getresponse()
            r.read(1)
            ttfb.append((time.monotonic() - t1) * 1000)
            assert r.status == 206, r.status
            r.read()
            c.close()
        os.remove(os.path.join(FILES, "videos", keep + ".osv"))
        print(json.dumps({
            "uploads": N, "mb_each": MB, "wall_s": round(wall, 1),
            "throughput_mb_s": round(N * MB / wall, 1),
            "upload_s_median": round(statistics.median(results), 1), "upload_s_max": round(max(results), 1),
            "rss_before_mib": round(base_rss / 1024, 1), "rss_peak_mib": round(peak[0] / 1024, 1),
            "rss_after_mib": round(after_rss / 1024, 1),
            "disk_free_min_gb": round(min_free[0] / 1024**3, 1),
            "range_ttfb_ms": {"min": round(min(ttfb), 1), "median": round(statistics.median(ttfb), 1),
                              "max": round(max(ttfb), 1)},
        }))
    finally:
        os.remove(src)


if __name__ == "__main__":
    main()
