// /verify in a real browser: a citizen checks a licence by pasting its QR text, by the short URL printed on the
// PDF, by typing a wrong identifier (error next to the field, value kept), and by uploading the PDF; in Chinese
// and English, on a phone and a desktop, in large-type mode; axe on every state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { launch, newPage, axe, screenshot, fitsWidth, api, login, completedCompanyCase, BASE, PHONE, root } from './lib.mjs';

let browser;
let licence; // { identifier, qr, public }
let pdfPath;

before(async () => {
  browser = await launch();
  const done = await completedCompanyCase('食品经营许可');
  const identifier = done.licenses[0];
  const lic = await api('GET', `/api/v1/licenses/${identifier}`);
  assert.equal(lic.status, 200, lic.text);
  licence = { identifier, qr: lic.body.qr, public: lic.body.public };
  const company = await login('company');
  const r = await fetch(`${BASE}/api/v1/me/licenses/${identifier}/pdf`, { headers: { Authorization: `Bearer ${company}` } });
  assert.equal(r.status, 200);
  pdfPath = path.join(root, 'target/screenshots/licence.pdf');
  writeFileSync(pdfPath, Buffer.from(await r.arrayBuffer()));
});
after(async () => { await browser?.close(); });

test('pasting the QR text shows a valid licence with its public fields', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/verify`);
  await axe(page, 'verify (empty)');
  await screenshot(page, 'verify-desktop-zh');
  await page.getByLabel('二维码内容或电子证照标识').fill(licence.qr);
  await page.getByRole('button', { name: '核验', exact: true }).click();
  const verdict = page.locator('.verdict');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-status'), 'valid');
  assert.match(await verdict.innerText(), /有效/);
  const record = await page.locator('dl.record').innerText();
  assert.match(record, /食品经营许可证/);
  // Exactly what the licence prints: 经营者名称 and the USCC from the licence's own fields.
  assert.ok(record.includes(licence.public.fields.holder), `${record} has ${licence.public.fields.holder}`);
  assert.ok(record.includes(licence.public.fields.holder_code), 'the USCC as printed');
  assert.ok(record.includes(licence.identifier));
  assert.doesNotMatch(record, /64010420050101001X/, 'no personal ID number on the public page');
  await axe(page, 'verify (valid)');
  await screenshot(page, 'verify-valid-desktop-zh');
  assert.deepEqual(page.errors, [], 'no script or CSP errors');
});

test('the short URL on the licence opens the check, on a phone, in English', async () => {
  const page = await newPage(browser, { viewport: PHONE, locale: 'en-GB' });
  await page.goto(`${BASE}/v/${licence.identifier}`);
  assert.equal(new URL(page.url()).pathname, '/verify');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.equal(await page.locator('.verdict').getAttribute('data-status'), 'valid');
  assert.match(await page.locator('.verdict').innerText(), /Valid/);
  assert.match(await page.locator('dl.record').innerText(), /Food business licence|食品经营许可证/);
  await fitsWidth(page, 'verify on a phone');
  await axe(page, 'verify (phone, English)');
  await screenshot(page, 'verify-valid-phone-en');
});

test('a malformed identifier is refused next to the field, the value kept, nothing else', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/verify`);
  const bad = '1.2.156.3005.2.11100000000013338W010.11640100MB96000107.0000001.001.Z';
  await page.getByLabel('二维码内容或电子证照标识').fill(bad);
  await page.getByRole('button', { name: '核验', exact: true }).click();
  const err = page.locator('#input-error');
  await err.waitFor();
  assert.match(await err.innerText(), /校验码/);
  assert.equal(await page.getByLabel('二维码内容或电子证照标识').inputValue(), bad, 'the entered value is kept');
  assert.equal(await page.getByLabel('二维码内容或电子证照标识').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('.verdict').count(), 0);
  await axe(page, 'verify (error)');
  await screenshot(page, 'verify-error-desktop-zh');
  // Without JavaScript the same form answers 422 with the error in the page.
  const r = await fetch(`${BASE}/verify`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `input=${encodeURIComponent(bad)}` });
  assert.equal(r.status, 422);
  assert.match(await r.text(), /校验码不符/);
});

test('uploading the licence PDF verifies it; a non-PDF is refused clearly', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/verify`);
  await page.getByLabel('证照 PDF 文件（不超过 256 KB）').setInputFiles(pdfPath);
  await page.getByRole('button', { name: '上传并核验' }).click();
  await page.locator('.verdict').waitFor();
  assert.equal(await page.locator('.verdict').getAttribute('data-status'), 'valid');
  await page.getByLabel('证照 PDF 文件（不超过 256 KB）').setInputFiles({ name: 'note.pdf', mimeType: 'application/pdf', buffer: Buffer.from('hello') });
  await page.getByRole('button', { name: '上传并核验' }).click();
  await page.locator('#pdf-error').waitFor();
  assert.match(await page.locator('#pdf-error').innerText(), /不是 PDF/);
  await axe(page, 'verify (pdf error)');
});

test('English switch and large-type mode persist across pages', async () => {
  const page = await newPage(browser, { viewport: PHONE });
  await page.goto(`${BASE}/verify`);
  await page.getByTestId('switch-language').click();
  await page.waitForURL(/\/verify$/);
  assert.equal(await page.locator('h1').innerText(), 'Verify a licence');
  await page.getByTestId('switch-large').click();
  await page.waitForURL(/\/verify$/);
  assert.equal(await page.locator('html').getAttribute('class'), 'large');
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  assert.ok(size >= 20, `large type: body font ${size}px`);
  await page.goto(`${BASE}/`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'the language choice persists');
  assert.equal(await page.locator('html').getAttribute('class'), 'large', 'large type persists');
  await fitsWidth(page, 'home in large type on a phone');
  await axe(page, 'home (large, English, phone)');
  await screenshot(page, 'home-large-phone-en');
  await page.goto(`${BASE}/verify`);
  await axe(page, 'verify (large)');
  await screenshot(page, 'verify-large-phone-en');
});

test('unknown pages answer a translated 404 page, the API keeps problem+json', async () => {
  const page = await newPage(browser);
  const r = await page.goto(`${BASE}/no-such-page`);
  assert.equal(r.status(), 404);
  assert.match(await page.locator('h1').innerText(), /页面不存在/);
  await axe(page, '404');
  const api404 = await api('GET', '/api/v1/no-such');
  assert.equal(api404.body.code, 'no_route');
});

test('the web app manifest installs: name, start URL, standalone, PNG icons that load', async () => {
  const r = await fetch(`${BASE}/manifest.webmanifest`);
  assert.equal(r.status, 200);
  const m = await r.json();
  assert.equal(m.start_url, '/');
  assert.equal(m.display, 'standalone');
  for (const size of ['192x192', '512x512']) {
    const icon = m.icons.find((i) => i.sizes === size && i.type === 'image/png');
    assert.ok(icon, `a ${size} PNG icon`);
    const img = await fetch(`${BASE}${icon.src}`);
    assert.equal(img.status, 200);
    const bytes = Buffer.from(await img.arrayBuffer());
    assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
    assert.equal(bytes.readUInt32BE(16), Number(size.split('x')[0]), 'the PNG is as wide as it says');
  }
});
