// Upload a file with the reference JavaScript tus client (npm tus-js-client) in Node: the way a phone's browser
// uploads an inspection video. Run by tests/tus/tus_clients.py, which prepares the case, cuts the connection
// through its proxy and checks what the server recorded.
//
//   node tests/tus/tus_js.mjs ENDPOINT TOKEN FILE MODE
//     MODE retry:  one start; a connection cut by the proxy is survived by the client's own retries (HEAD, then
//                  PATCH from the server's offset)
//     abort:       abort after the first chunk, then start again: the client resumes from the server's offset
// Prints one JSON line: {"url": …, "bytes": …, "retries": …, "resumedAt": …}.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import * as tus from "tus-js-client";

const [endpoint, token, file, mode] = process.argv.slice(2);
const data = readFileSync(file);
let retries = 0;
let resumedAt = null;

function run(upload) {
  return new Promise((resolve, reject) => {
    upload.options.onSuccess = () => resolve();
    upload.options.onError = (e) => reject(e);
    upload.start();
  });
}

const options = {
  endpoint,
  headers: { Authorization: `Bearer ${token}` },
  metadata: { filename: basename(file) },
  chunkSize: 256 * 1024,
  retryDelays: [0, 200, 500, 1000, 2000],
  onShouldRetry: (err, attempt, opts) => {
    retries += 1;
    return tus.defaultOptions.onShouldRetry ? tus.defaultOptions.onShouldRetry(err, attempt, opts) : true;
  },
};

if (mode === "retry") {
  const upload = new tus.Upload(data, options);
  await run(upload);
  console.log(JSON.stringify({ url: upload.url, bytes: data.length, retries, resumedAt }));
} else if (mode === "abort") {
  let aborted = false;
  const upload = new tus.Upload(data, {
    ...options,
    onChunkComplete: (chunk, sent) => {
      if (!aborted && sent >= 256 * 1024) {
        aborted = true;
        upload.abort().then(() => {
          // Ask the server where to go on, as a fresh page would (HEAD), then start again from there.
          fetch(upload.url.startsWith("http") ? upload.url : new URL(upload.url, endpoint).href, {
            method: "HEAD",
            headers: { Authorization: `Bearer ${token}`, "Tus-Resumable": "1.0.0" },
          }).then((r) => {
            resumedAt = Number(r.headers.get("upload-offset"));
            upload.start();
          });
        });
      }
    },
  });
  await new Promise((resolve, reject) => {
    upload.options.onSuccess = () => resolve();
    upload.options.onError = (e) => reject(e);
    upload.start();
  });
  console.log(JSON.stringify({ url: upload.url, bytes: data.length, retries, resumedAt }));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
