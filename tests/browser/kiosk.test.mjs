// The kiosk: a full-screen touch layout with big targets; progress lookup; back to the start after inactivity
// (the test server sets ONESEAL_KIOSK_IDLE_SECONDS=4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, screenshot, api, login, BASE, submissionFor } from './lib.mjs';

let browser;
let receipt;

before(async () => {
  browser = await launch();
  const citizen = await login('citizen');
  const { full, ...body } = await submissionFor('食品经营许可', { kind: 'person', name: '张三', id_number: '64010420050101001X' }, 'kiosk');
  const r = await api('POST', '/api/v1/cases', citizen, body);
  assert.equal(r.status, 201, r.text);
  receipt = r.body;
});
after(async () => { await browser?.close(); });

test('kiosk: big targets, progress lookup, and a reset after inactivity', async () => {
  const context = await browser.newContext({ viewport: { width: 1080, height: 1920 }, hasTouch: true, locale: 'zh-CN', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${BASE}/kiosk`);
  assert.equal(await page.locator('body').getAttribute('class'), 'kiosk');
  const tile = await page.getByTestId('kiosk-progress').boundingBox();
  assert.ok(tile.height >= 100 && tile.width >= 300, `big touch targets (${tile.width}x${tile.height})`);
  await axe(page, 'kiosk start');
  await screenshot(page, 'kiosk-start');
  await page.getByTestId('kiosk-progress').tap();
  await page.waitForURL(/\/progress$/);
  assert.equal(await page.locator('body').getAttribute('class'), 'kiosk', 'kiosk layout on every page');
  await page.locator('#case_no').fill(receipt.case_no);
  await page.locator('#query_code').fill(receipt.query_code);
  await page.getByRole('button', { name: '查询' }).tap();
  await page.getByTestId('progress').waitFor();
  assert.equal(await page.getByTestId('progress-status').innerText(), '待受理');
  await axe(page, 'kiosk progress');
  await screenshot(page, 'kiosk-progress');
  // Left alone, the kiosk goes back to its start page.
  await page.waitForURL(/\/kiosk$/, { timeout: 15000 });
  await context.close();
});
