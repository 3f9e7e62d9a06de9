// 联合验收 on the workbench: on a demo server of its own whose clock starts on a working morning
// (`serve --demo --clock-start`, so the joint visit's slot can begin while the test runs), the lead department
// schedules one live video session a few seconds ahead; once it has begun, the fire department's inspector opens
// the case on a phone in large type, sees its own checklist entry only, records it on the workbench form (a
// failed entry first refused without a note), and the results table shows it. axe on each page, screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let server;
let dir;
let lib;
let browser;

before(async () => {
  assert.ok(process.env.ONESEAL_BIN, 'run.sh exports ONESEAL_BIN');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oneseal-acceptance-'));
  server = spawn(process.env.ONESEAL_BIN, [
    'serve', '--demo', '--database', `sqlite://${dir}/oneseal.db`, '--listen', '127.0.0.1:0',
    '--clock-start', '2026-03-02T09:55:00+08:00',
  ], {
    env: {
      ...process.env, ONESEAL_LOGIN_LIMIT_PER_ADDRESS: '0', ONESEAL_LOGIN_LIMIT_PER_ACCOUNT: '0', ONESEAL_ANONYMOUS_PER_MINUTE: '0',
      ONESEAL_VIDEO_MEETING_URL: 'https://meet.bureau.example/{room}',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${out}`)), 120000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/OneSeal listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited (${code}): ${out}`)); });
  });
  process.env.ONESEAL_BASE_URL = base;
  lib = await import('./lib.mjs');
  browser = await lib.launch();
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the fire department records its own checklist entry of the joint acceptance on the workbench', async () => {
  const { api, login, submissionFor, newPage, signIn, axe, screenshot, fitsWidth, BASE, PHONE } = lib;
  const company = await login('company');
  const { full, ...body } = await submissionFor('建设工程竣工联合验收', { kind: 'organisation', name: '银川塞上餐饮有限公司', id_number: '91110000600037341L' });
  const sub = await api('POST', '/api/v1/cases', company, body);
  assert.equal(sub.status, 201, sub.text);
  const no = sub.body.case_no;
  assert.equal((await api('POST', `/api/v1/cases/${no}/accept`, await login('clerk'), {})).status, 200);
  // The joint review (four departments), then the inspection step: one task per department of the checklist.
  let c = await api('GET', `/api/v1/cases/${no}`, company);
  for (const t of c.body.current_step.tasks) {
    const r = await api('POST', `/api/v1/cases/${no}/complete`, await login(`${t.department}-reviewer`), { task_id: t.task_id, opinion: '同意' });
    assert.equal(r.status, 200, r.text);
  }
  c = await api('GET', `/api/v1/cases/${no}`, company);
  assert.equal(c.body.current_step.kind, 'inspection', c.text);
  assert.equal(c.body.current_step.tasks.length, 5);

  // The lead schedules a live video session a few seconds ahead of the server's clock.
  const now = Date.parse(c.body.current_step.started_at);
  const start = new Date(Math.ceil((now + 8000) / 1000) * 1000);
  const sch = await api('POST', `/api/v1/cases/${no}/inspection/schedule`, await login('bureau-construction-reviewer'), { visit: 'live_video', start: start.toISOString(), minutes: 60 });
  assert.equal(sch.status, 201, sch.text);
  await new Promise((r) => setTimeout(r, 10000));

  const page = await newPage(browser, { viewport: PHONE });
  await signIn(page, 'fire-reviewer');
  await page.goto(`${BASE}/prefs?large=1&back=${encodeURIComponent(`/work/cases/${no}`)}`);
  await page.waitForURL(new RegExp(`/work/cases/${no}$`));
  const form = page.getByTestId('checklist-form');
  assert.equal(await form.count(), 1, 'the checklist form is offered');
  assert.equal(await page.getByTestId('entry-fire').count(), 1);
  for (const other of ['archives', 'planning', 'quality', 'civil-defence']) {
    assert.equal(await page.getByTestId(`entry-${other}`).count(), 0, `${other} is another department's`);
  }
  await axe(page, 'workbench checklist form');
  await fitsWidth(page, 'workbench checklist form');
  await screenshot(page, 'joint-acceptance-checklist-phone');
  // A failed entry needs a note: refused, nothing recorded, the reason shown.
  await page.locator('label[for="r-fire-failed"]').click();
  await page.locator('#cf-text').fill('消防设施现场查验');
  await Promise.all([page.waitForLoadState('load'), form.locator('button[type=submit]').click()]);
  assert.match(await page.locator('main').innerText(), /不合格的清单项须填写说明/);
  await axe(page, 'workbench checklist refused');
  // Now with the note.
  await page.locator('label[for="r-fire-failed"]').click();
  await page.locator('#n-fire').fill('三层疏散指示标志缺失两处');
  await page.locator('#cf-text').fill('消防设施现场查验：消火栓试水正常，喷淋正常');
  await screenshot(page, 'joint-acceptance-checklist-filled-phone');
  await page.getByTestId('inspection-review').screenshot({ path: path.join(lib.shots, 'joint-acceptance-checklist-form-section.png') });
  await Promise.all([page.waitForURL(/done=checklist/), page.getByTestId('checklist-form').locator('button[type=submit]').click()]);
  const table = page.getByTestId('checklist-results');
  assert.match(await table.innerText(), /三层疏散指示标志缺失两处/);
  assert.equal(await page.getByTestId('checklist-form').count(), 0, 'recorded once');
  await axe(page, 'workbench checklist recorded');
  await fitsWidth(page, 'workbench checklist recorded');
  await screenshot(page, 'joint-acceptance-checklist-recorded-phone');
  await page.getByTestId('checklist-results').screenshot({ path: path.join(lib.shots, 'joint-acceptance-checklist-results-section.png') });
  const insp = await api('GET', `/api/v1/cases/${no}/inspection`, company);
  const rec = insp.body.record.findings.find((f) => f.department === 'fire');
  assert.deepEqual(rec.checklist, [{ item: 'fire', passed: false, note: '三层疏散指示标志缺失两处' }]);
  assert.equal(page.errors.length, 0, page.errors.join('\n'));
});
