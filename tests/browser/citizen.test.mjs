// A citizen registers, finds a service by a Chinese search, applies online with an upload (after fixing the
// form errors the page shows), follows the case, sees the result and downloads the licence PDF; progress can
// also be looked up without signing in. Staff steps go through the API here (the workbench has its own tests).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { launch, newPage, axe, screenshot, fitsWidth, api, login, residentId, fillForm, driveToCompletion, BASE, PHONE, root } from './lib.mjs';

let browser;
const username = `wang${Date.now() % 1e8}`;
const password = 'a-long-password-1';
let caseNo;
let queryCode;
const scan = path.join(root, 'target/screenshots/scan.pdf');
const notPdf = path.join(root, 'target/screenshots/virus.exe');

before(async () => {
  browser = await launch();
  writeFileSync(scan, '%PDF-1.7\n% scanned material\n%%EOF\n');
  writeFileSync(notPdf, 'MZ this is not a PDF');
});
after(async () => { await browser?.close(); });

test('register, apply online with uploads, follow the case, download the licence', async () => {
  const page = await newPage(browser);
  // Registration: a wrong ID number is refused next to its field, values kept (but never the password).
  await page.goto(`${BASE}/register`);
  await axe(page, 'register');
  await page.locator('#name').fill('王五');
  await page.locator('#resident_id').fill('640106199003071234');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('form[action="/register"] button[type=submit]').click();
  await page.locator('#resident_id-error').waitFor();
  assert.equal(await page.locator('#name').inputValue(), '王五');
  assert.equal(await page.locator('#password').inputValue(), '');
  await axe(page, 'register (error)');
  await page.locator('#resident_id').fill(residentId());
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForURL(/\/me$/), page.locator('form[action="/register"] button[type=submit]').click()]);
  assert.match(await page.locator('h1').innerText(), /我的办事/);

  // Find the service by a Chinese search.
  await page.goto(`${BASE}/`);
  await screenshot(page, 'home-desktop-zh');
  await axe(page, 'home');
  await page.locator('#q').fill('食品经营');
  await page.locator('form[role=search] button').click();
  await page.waitForURL(/\/services\?q=/);
  await axe(page, 'search results');
  await screenshot(page, 'search-desktop-zh');
  await page.getByRole('link', { name: '食品经营许可', exact: true }).first().click();
  await page.waitForURL(/\/services\/[0-9A-Z]+$/);
  await axe(page, 'guide');
  await screenshot(page, 'guide-desktop-zh');
  assert.match(await page.locator('main').innerText(), /受理条件[\s\S]*申请材料[\s\S]*办理流程/);

  // Apply: step 1 (myself), step 2 (the form: first empty, errors shown next to fields), step 3, step 4.
  await page.getByTestId('apply').click();
  await page.waitForURL(/\/apply\/.+/);
  await axe(page, 'apply step 1');
  await page.getByRole('button', { name: '下一步' }).click();
  await page.waitForURL(/step=2/);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.locator('.error-summary').waitFor();
  assert.ok((await page.locator('.field.invalid').count()) > 0, 'errors next to fields');
  await axe(page, 'apply step 2 (errors)');
  await screenshot(page, 'apply-form-errors-desktop-zh');
  await fillForm(page);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.waitForURL(/step=3/);
  // A file that is not a PDF or image is refused with a clear message.
  const inputs = page.locator('input[type=file]');
  await inputs.first().setInputFiles(notPdf);
  await page.getByRole('button', { name: '上传并下一步' }).click();
  await page.locator('.field.invalid .error').first().waitFor();
  assert.match(await page.locator('.field.invalid .error').first().innerText(), /格式不支持/);
  const n = await inputs.count();
  for (let i = 0; i < n; i++) await inputs.nth(i).setInputFiles(scan);
  await axe(page, 'apply step 3');
  await page.getByRole('button', { name: '上传并下一步' }).click();
  await page.waitForURL(/step=4/);
  await axe(page, 'apply step 4');
  await screenshot(page, 'apply-review-desktop-zh');
  await page.getByTestId('submit').click();
  await page.getByTestId('receipt').waitFor();
  caseNo = (await page.getByTestId('case-no').innerText()).trim();
  queryCode = (await page.getByTestId('query-code').innerText()).trim();
  assert.match(caseNo, /^YC\d{8}\d+$/);
  await axe(page, 'receipt');
  await screenshot(page, 'receipt-desktop-zh');

  // My services lists it; the case page shows the timeline.
  await page.goto(`${BASE}/me`);
  assert.match(await page.locator('main').innerText(), new RegExp(caseNo));
  await page.goto(`${BASE}/me/cases/${caseNo}`);
  assert.equal(await page.getByTestId('case-status').innerText(), '待受理');
  assert.ok((await page.locator('.timeline .ev').count()) >= 1);

  // Staff accept and work the case (API); the citizen sees it completed with the licence to download.
  const clerk = await login('clerk');
  const acc = await api('POST', `/api/v1/cases/${caseNo}/accept`, clerk, {});
  assert.equal(acc.status, 200, acc.text);
  const done = await driveToCompletion(caseNo);
  assert.equal(done.status, 'completed');
  await page.goto(`${BASE}/me/cases/${caseNo}`);
  assert.equal(await page.getByTestId('case-status').innerText(), '已办结');
  const events = await page.locator('.timeline .ev').count();
  assert.ok(events >= 8, `timeline has every step (${events})`);
  await axe(page, 'case page (completed)');
  await screenshot(page, 'case-completed-desktop-zh');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('license-pdf').first().click()]);
  const file = path.join(root, 'target/screenshots/downloaded-licence.pdf');
  await download.saveAs(file);
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(file).subarray(0, 5).toString(), '%PDF-');
  assert.deepEqual(page.errors, []);
});

test('progress lookup without signing in, on a phone', async () => {
  assert.ok(caseNo && queryCode, 'the first test made a case');
  const page = await newPage(browser, { viewport: PHONE });
  await page.goto(`${BASE}/progress`);
  await axe(page, 'progress (phone)');
  await page.locator('#case_no').fill(caseNo);
  await page.locator('#query_code').fill('WRONG1');
  await page.getByRole('button', { name: '查询' }).click();
  await page.locator('#progress-error').waitFor();
  await page.locator('#query_code').fill(queryCode);
  await page.getByRole('button', { name: '查询' }).click();
  await page.getByTestId('progress').waitFor();
  assert.equal(await page.getByTestId('progress-status').innerText(), '已办结');
  await fitsWidth(page, 'progress on a phone');
  await screenshot(page, 'progress-phone-zh');
});

test('the portal on a phone: home, search and a guide fit the screen', async () => {
  const page = await newPage(browser, { viewport: PHONE });
  let guide;
  for (const [p, name] of [['/signin', 'signin'], ['/', 'home'], ['/services?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7', 'search']]) {
    await page.goto(`${BASE}${p}`);
    await fitsWidth(page, name);
    await axe(page, `${name} (phone)`);
    await screenshot(page, `${name}-phone-zh`);
  }
  guide = await page.locator('.card.service a').first().getAttribute('href');
  await page.goto(`${BASE}${guide}`);
  await fitsWidth(page, 'guide');
  await axe(page, 'guide (phone)');
  await screenshot(page, 'guide-phone-zh');
});
