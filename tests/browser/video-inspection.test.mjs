// Issue 18, 视频勘验 in a real browser: the applicant uploads a recording (made by ffmpeg) from the case page on a
// phone while the connection drops once (the upload resumes by itself), the reviewer plays it on a desktop, notes a
// checklist item at a moment and asks to rectify, the applicant films again, and the reviewer passes the inspection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, newPage, axe, screenshot, api, login, BASE, signIn, submissionFor, PHONE, DESKTOP, fitsWidth } from './lib.mjs';

let browser;
let dir;
before(async () => { browser = await launch(); dir = mkdtempSync(path.join(tmpdir(), 'oneseal-video-')); });
after(async () => { await browser?.close(); rmSync(dir, { recursive: true, force: true }); });

/** A test-pattern MP4 by ffmpeg, grown to `total` bytes with a trailing `free` box (a valid MP4). */
function makeVideo(name, total) {
  const file = path.join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=15',
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-movflags', '+faststart', file]);
  const v = readFileSync(file);
  const pad = Buffer.alloc(total - v.length, 0x5a);
  pad.writeUInt32BE(pad.length, 0);
  pad.write('free', 4, 'latin1');
  const all = Buffer.concat([v, pad]);
  writeFileSync(file, all);
  return { file, sha256: createHash('sha256').update(all).digest('hex') };
}

/** A case of 公共场所卫生许可 by the demo citizen, at its inspection step (an area over 300 m²). */
async function inspectionCase() {
  const citizen = await login('citizen');
  const { full, ...body } = await submissionFor('公共场所卫生许可', { kind: 'person', name: '张三', id_number: '64010420050101001X', phone: '13800000000' });
  body.form.business_area = 800;
  const sub = await api('POST', '/api/v1/cases', citizen, body);
  assert.equal(sub.status, 201, sub.text);
  const no = sub.body.case_no;
  let c = await api('POST', `/api/v1/cases/${no}/accept`, await login('clerk'), {});
  assert.equal(c.status, 200, c.text);
  while (c.body.current_step.kind !== 'inspection') {
    const task = c.body.current_step.tasks.find((t) => t.status === 'open');
    c = await api('POST', `/api/v1/cases/${no}/complete`, await login(`${task.department}-reviewer`), { task_id: task.task_id, opinion: '同意' });
    assert.equal(c.status, 200, c.text);
  }
  return { no, citizen };
}

async function uploadOnPhone(page, no, video, dropOnce) {
  let dropped = 0;
  let patches = 0;
  if (dropOnce) {
    // The second PATCH's connection is reset: the phone lost its network halfway through the upload.
    await page.route('**/api/v1/cases/*/video-uploads/*', async (route) => {
      if (route.request().method() === 'PATCH' && ++patches === 2) {
        dropped += 1;
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
  }
  await page.goto(`${BASE}/me/cases/${no}`);
  await page.locator('#video-file').setInputFiles(video.file);
  await Promise.all([
    page.waitForEvent('load', { timeout: 60_000 }),
    page.locator('[data-testid=video-upload] button[type=submit]').click(),
  ]);
  if (dropOnce) {
    assert.equal(dropped, 1, 'one PATCH was cut');
    assert.ok(patches >= 4, `the upload went on after the cut (${patches} PATCHes)`);
    await page.unroute('**/api/v1/cases/*/video-uploads/*');
  }
}

test('video inspection: phone upload with a dropped connection, review with notes on a desktop, rectify, pass', async () => {
  const { no, citizen } = await inspectionCase();
  const first = makeVideo('kitchen.mp4', 3 * 1024 * 1024 + 999);

  // The applicant on a phone: what to film, and the upload, which survives a dropped connection.
  const phone = await newPage(browser, { viewport: PHONE });
  await signIn(phone, 'citizen');
  await phone.goto(`${BASE}/me/cases/${no}`);
  assert.match(await phone.locator('[data-testid=inspection]').innerText(), /公共用品用具消毒间/);
  await fitsWidth(phone, 'case page with the inspection (phone)');
  await axe(phone, 'case page with the inspection upload');
  await uploadOnPhone(phone, no, first, true);
  let videos = (await api('GET', `/api/v1/cases/${no}/videos`, citizen)).body.videos;
  assert.equal(videos.length, 1);
  assert.equal(videos[0].sha256, first.sha256, 'the server has the file as filmed');
  await screenshot(phone, 'video-inspection-uploaded-phone');

  // The reviewer on a desktop plays it, notes a checklist item at a moment, and asks to rectify.
  const desk = await newPage(browser, { viewport: DESKTOP });
  await signIn(desk, 'bureau-social-reviewer');
  await desk.goto(`${BASE}/work/cases/${no}`);
  const player = desk.locator(`#video-${videos[0].id}`);
  await player.waitFor();
  const duration = await player.evaluate((v) => new Promise((ok) => {
    if (v.readyState >= 1) ok(v.duration); else v.addEventListener('loadedmetadata', () => ok(v.duration));
  }));
  assert.ok(duration > 1.5 && duration < 2.5, `the browser plays the recording through range requests (${duration} s)`);
  await player.evaluate((v) => { v.currentTime = 1.2; });
  const note = desk.locator('[data-testid=note-form]').first();
  await note.locator('select').selectOption('disinfection');
  await note.locator('input[name=text]').fill('消毒间未见保洁柜');
  await Promise.all([desk.waitForEvent('load'), note.locator('button[type=submit]').click()]);
  assert.match(await desk.locator('[data-testid=review-notes]').innerText(), /消毒间未见保洁柜/);
  await axe(desk, 'workbench with the video review');
  const form = desk.locator('[data-testid=conclusion-form]');
  await form.locator('select').selectOption('rectify');
  await form.locator('textarea').fill('补拍保洁柜');
  await form.locator('input[name=opinion]').fill('需整改');
  await Promise.all([desk.waitForEvent('load'), form.locator('button[type=submit]').click()]);
  await screenshot(desk, 'video-inspection-review-desktop');

  // The applicant sees the note and the point, and films again.
  await phone.goto(`${BASE}/me/cases/${no}`);
  const seen = await phone.locator('[data-testid=inspection]').innerText();
  assert.match(seen, /00:01 【公共用品用具消毒间】消毒间未见保洁柜/);
  assert.match(await phone.locator('[data-testid=inspection-points]').innerText(), /补拍保洁柜/);
  const second = makeVideo('again.mp4', 1024 * 1024 + 77);
  await uploadOnPhone(phone, no, second, false);
  videos = (await api('GET', `/api/v1/cases/${no}/videos`, citizen)).body.videos;
  assert.deepEqual(videos.map((v) => v.sha256), [first.sha256, second.sha256]);

  // The reviewer passes it: the case moves on, and the applicant sees the outcome.
  await desk.goto(`${BASE}/work/cases/${no}`);
  await form.locator('select').selectOption('pass');
  await form.locator('input[name=opinion]').fill('视频勘验符合要求');
  await Promise.all([desk.waitForEvent('load'), form.locator('button[type=submit]').click()]);
  const c = await api('GET', `/api/v1/cases/${no}`, citizen);
  assert.equal(c.body.current_step.kind, 'decision', 'the inspection task completed through the case engine');
  await phone.goto(`${BASE}/me/cases/${no}`);
  assert.match(await phone.locator('[data-testid=inspection-conclusions]').innerText(), /视频勘验符合要求/);
  await screenshot(phone, 'video-inspection-passed-phone');
  // The one console error on the phone is the connection this test reset.
  assert.deepEqual(phone.errors.filter((e) => !/ERR_CONNECTION_RESET/.test(e)), [], 'no script error on the phone');
  assert.deepEqual(desk.errors, [], 'no script error on the desktop');
});
