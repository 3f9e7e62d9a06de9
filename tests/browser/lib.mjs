// Shared helpers of the browser tests: the API client used to set up data, a browser launched from Debian's
// Chromium, axe-core checks, and screenshots under target/screenshots.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const BASE = process.env.ONESEAL_BASE_URL;
if (!BASE) throw new Error('ONESEAL_BASE_URL is not set: run tests/browser/run.sh');
export const shots = path.join(root, 'target/screenshots');
mkdirSync(shots, { recursive: true });
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1280, height: 900 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** A fresh context (no cookies): Chinese unless asked, at a viewport. axe is injected by the tests, so CSP is
 *  bypassed for the injection only; the pages' own CSP is checked separately through console errors. */
export async function newPage(browser, { viewport = DESKTOP, locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({ viewport, locale, bypassCSP: true, isMobile: viewport.width < 500, hasTouch: viewport.width < 500 });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  // Console errors count (script errors, CSP violations), except the browser's note that a form answer was a
  // 4xx: the tests post bad input on purpose and the pages answer 422/404 with the error in the page.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      page.errors.push(m.text());
    }
  });
  return page;
}

/** Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page: no serious or critical violation. */
export async function axe(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    [],
    `axe on ${name}`,
  );
  assert.ok(result.passes.length > 10, `axe ran its rules on ${name}`);
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/** Nothing overflows a phone screen sideways. */
export async function fitsWidth(page, name) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${name} is ${overflow}px wider than the viewport`);
}

// ---------------------------------------------------------------------- API --
export async function api(method, p, token, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(BASE + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: json, text };
}

export async function login(username, password = 'oneseal-demo') {
  const r = await api('POST', '/api/v1/sessions', null, { username, password });
  assert.equal(r.status, 201, `sign in ${username}: ${r.text}`);
  return r.body.token;
}

/** A complete API submission for the named service: every form field filled for its type, every required
 *  material named. */
export async function submissionFor(itemName, applicant, channel = 'online') {
  const hits = await api('GET', `/api/v1/items?q=${encodeURIComponent(itemName)}`);
  const item = hits.body.items.find((i) => i.name === itemName) || hits.body.items[0];
  const full = await api('GET', `/api/v1/items/${item.impl_code}`);
  const materials = full.body.materials.filter((m) => m.required).map((m) => ({ material_id: m.id, file_name: `${m.id}.pdf` }));
  return { item_code: item.impl_code, channel, applicant, form: fill(full.body.form), materials, full: full.body };
}

function fill(schema) {
  const form = {};
  for (const f of schema.fields) {
    form[f.key] = ({
      text: '银川塞上食品', long_text: '食品销售', number: Math.min(Math.max(f.min ?? 0, 120), f.max ?? 1e12),
      integer: Math.min(Math.max(f.min ?? 0, 120), f.max ?? 1e12), date: '2026-03-01', boolean: false,
      choice: (f.options || [])[0], phone: '13800000000', uscc: '91110000600037341L',
      resident_id: '64010420050101001X', region_code: '640104',
    })[f.type];
  }
  return form;
}

/** Apply for an item as the demo company, accept it at the window, and work every step with the demo staff of
 *  each step's department until the case completes. Returns the completed case. */
export async function completedCompanyCase(itemName) {
  const company = await login('company');
  const { full, ...body } = await submissionFor(itemName, { kind: 'organisation', name: '银川塞上餐饮有限公司', id_number: '91110000600037341L' });
  const sub = await api('POST', '/api/v1/cases', company, body);
  assert.equal(sub.status, 201, sub.text);
  const no = sub.body.case_no;
  const acc = await api('POST', `/api/v1/cases/${no}/accept`, await login('clerk'), {});
  assert.equal(acc.status, 200, acc.text);
  const c = { body: await driveToCompletion(no) };
  assert.equal(c.body.status, 'completed');
  return c.body;
}

/** A valid 18-character resident ID number (GB 11643 check character) for a birth date and a sequence. */
export function residentId(birth = '19900307', seq = Math.floor(Math.random() * 900) + 100) {
  const body = `640106${birth}${seq}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((a, c, i) => a + Number(c) * w[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** Fill every field of the apply wizard's form with a valid value for its type. */
export async function fillForm(page) {
  const fields = await page.locator('[data-type]').all();
  for (const f of fields) {
    const type = await f.getAttribute('data-type');
    const tag = await f.evaluate((e) => e.tagName.toLowerCase());
    if (type === 'boolean') continue;
    if (tag === 'select') {
      const opts = await f.locator('option').all();
      await f.selectOption({ index: opts.length > 1 ? 1 : 0 });
      continue;
    }
    const value = {
      text: '银川塞上食品', long_text: '食品销售', number: '120', integer: '120', date: '2026-03-01',
      phone: '13800000000', uscc: '91110000600037341L', resident_id: '64010420050101001X', region_code: '640104',
    }[type] ?? '测试';
    await f.fill(value);
  }
}

/** Sign in through the page (cookie session). */
export async function signIn(page, username, password = 'oneseal-demo') {
  await page.goto(`${BASE}/signin`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/signin')), page.locator('form[action="/signin"] button[type=submit]').click()]);
}

/** Work every step of an accepted case with the demo staff of each step's department until it completes. */
export async function driveToCompletion(no) {
  let c = await api('GET', `/api/v1/cases/${no}`, await login('clerk'));
  for (let i = 0; i < 20 && c.body.status !== 'completed'; i++) {
    const step = c.body.current_step;
    const task = step.tasks.find((t) => t.status === 'open');
    const d = task.department;
    const [user, action, body] = {
      review: [`${d}-reviewer`, 'complete', { task_id: task.task_id, opinion: '同意' }],
      joint_review: [`${d}-reviewer`, 'complete', { task_id: task.task_id, opinion: '同意' }],
      inspection: [`${d}-reviewer`, 'complete', { task_id: task.task_id, opinion: '现场符合要求' }],
      decision: [`${d}-chief`, 'decide', { outcome: 'grant' }],
      license_issuance: [`${d}-clerk`, 'issue-licenses', {}],
      delivery: [`${d}-clerk`, 'deliver', { delivery: { method: 'electronic' } }],
    }[step.kind];
    c = await api('POST', `/api/v1/cases/${no}/${action}`, await login(user), body);
    assert.equal(c.status, 200, `${action} as ${user}: ${c.text}`);
  }
  return c.body;
}
