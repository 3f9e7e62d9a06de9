// Issue 14 (usability review of the portal), points 3, 6, 7, 9 and 13, in a real browser, on a phone and a
// desktop, in Chinese and English:
//  3  /verify lists exactly the licence's public fields as printed (the licence type's labels and order);
//  9  我的证照 shows each licence's identifier with a copy button and its /v/ link, and /verify also takes the
//     printed licence number (page and API), with an error that says what is accepted;
//  6  signed in on a phone in large type, the header's actions fold into a menu and no control wraps;
//  7  the large-type switch is a toggle button (aria-pressed) whose name says its state;
//  13 axe: no heading-order on /services, no landmark-unique on /me.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  launch, newPage, axe, screenshot, fitsWidth, api, login, signIn, submissionFor, driveToCompletion,
  completedCompanyCase, BASE, PHONE, DESKTOP, root,
} from './lib.mjs';

let browser;
let company; // { identifier, number, public }
let person; // { identifier, number }

/** The licence type of a type code from catalog/license-types.toml: its fields (key, label, label_en) in order
 *  and its public field keys. */
function licenceType(typeCode) {
  const toml = readFileSync(path.join(root, 'catalog/license-types.toml'), 'utf8');
  const block = toml.split('[[license_type]]').find((b) => b.includes(`type_code = "${typeCode}"`));
  assert.ok(block, `licence type ${typeCode} in the catalog`);
  const fields = [...block.matchAll(/\{ key = "([^"]+)", label = "([^"]+)", label_en = "([^"]+)"/g)]
    .map(([, key, label, labelEn]) => ({ key, label, labelEn }));
  const pub = JSON.parse(block.match(/^public_fields = (\[.*\])$/m)[1]);
  return { fields, pub };
}

/** What /verify must list for a licence: its type's public fields, in order, with the printed labels. */
function expectedRows(pub, lang) {
  const lt = licenceType(pub.license_type_code);
  return lt.fields
    .filter((f) => lt.pub.includes(f.key) && f.key in pub.fields)
    .map((f) => [lang === 'en' ? f.labelEn : f.label, pub.fields[f.key]]);
}

const T = {
  zh: {
    locale: 'zh-CN', input: '二维码内容或电子证照标识', submit: '核验', copy: '复制标识', copied: '已复制电子证照标识。',
    largeOn: '大字号：开', largeOff: '大字号：关', menu: '菜单', name: '食品经营许可证',
    unrecognised: /OS1:.*1\.2\.156\.3005\.2\..*证照编号/, unknownNumber: /没有签发过该编号/, withheld: /隐私/,
  },
  en: {
    locale: 'en-GB', input: 'QR text or licence identifier', submit: 'Verify', copy: 'Copy identifier',
    copied: 'Licence identifier copied.', largeOn: 'Large text: on', largeOff: 'Large text: off', menu: 'Menu',
    name: 'Food business licence (食品经营许可证)',
    unrecognised: /OS1:.*1\.2\.156\.3005\.2\..*licence number/, unknownNumber: /no licence with this number/, withheld: /privacy/,
  },
};

before(async () => {
  browser = await launch();
  const done = await completedCompanyCase('食品经营许可');
  const identifier = done.licenses[0];
  const lic = await api('GET', `/api/v1/licenses/${identifier}`);
  assert.equal(lic.status, 200, lic.text);
  company = { identifier, number: lic.body.public.number, public: lic.body.public };
  assert.ok(Object.keys(company.public.fields).length > 5, 'the public record carries the licence fields');
  // 张三 runs a food stall as a natural person: looked up by identifier or number, the record is masked.
  const citizen = await login('citizen');
  const { full, ...body } = await submissionFor('食品经营许可', { kind: 'person', name: '张三', id_number: '64010420050101001X', phone: '13800000000' });
  const sub = await api('POST', '/api/v1/cases', citizen, body);
  assert.equal(sub.status, 201, sub.text);
  const acc = await api('POST', `/api/v1/cases/${sub.body.case_no}/accept`, await login('clerk'), {});
  assert.equal(acc.status, 200, acc.text);
  const c = await driveToCompletion(sub.body.case_no);
  const p = await api('GET', `/api/v1/licenses/${c.licenses[0]}`);
  assert.equal(p.body.public.holder, '张*', 'a person\'s licence is masked by identifier');
  person = { identifier: c.licenses[0], number: p.body.public.number };
});
after(async () => { await browser?.close(); });

/** The verdict's record as [label, value] rows of the licence's own fields. */
async function fieldRows(page) {
  return page.locator('[data-testid="verify-record"] [data-field]').evaluateAll((rows) =>
    rows.map((r) => [r.querySelector('dt').textContent.trim(), r.querySelector('dd').textContent.trim()]));
}

async function verify(page, t, input) {
  await page.goto(`${BASE}/verify`);
  await page.getByLabel(t.input).fill(input);
  await page.getByRole('button', { name: t.submit, exact: true }).click();
  await page.locator('.verdict, #input-error').first().waitFor();
}

/** Run only the named axe rules (axe is already in the page): no violation of moderate impact or worse. */
async function axeRules(page, rules, name) {
  const result = await page.evaluate(async (values) =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { runOnly: { type: 'rule', values } }), rules);
  const bad = result.violations.filter((v) => ['moderate', 'serious', 'critical'].includes(v.impact));
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `${rules} on ${name}`);
}

for (const lang of ['zh', 'en']) {
  const t = T[lang];
  for (const [vp, vpName] of [[PHONE, 'phone'], [DESKTOP, 'desktop']]) {
    const tag = `${vpName}-${lang}`;

    test(`我的证照 shows the identifier to copy and verify; /verify lists the printed public fields (${tag})`, async () => {
      const page = await newPage(browser, { viewport: vp, locale: t.locale });
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
      await signIn(page, 'company');
      await page.goto(`${BASE}/me`);
      await page.locator('#h-licenses').scrollIntoViewIfNeeded();
      const cards = page.getByTestId('license-card');
      const values = await cards.getByTestId('license-identifier').evaluateAll((els) => els.map((e) => e.value));
      const at = values.indexOf(company.identifier);
      assert.ok(at >= 0, `the licence has a card: ${values}`);
      const card = cards.nth(at);
      const field = card.getByTestId('license-identifier');
      const identifier = await field.inputValue();
      assert.equal(identifier, company.identifier);
      assert.equal(await field.getAttribute('readonly'), '');
      assert.ok(await field.evaluate((e) => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1), 'the whole identifier is in view');
      assert.equal(await card.getByLabel(lang === 'zh' ? '电子证照标识' : 'Licence identifier').inputValue(), identifier, 'the field is labelled');
      assert.equal(await card.getByTestId('license-number').innerText(), company.number);
      // The field selects itself; the copy button (shown by /assets/copy.js) copies and says so.
      await field.focus();
      assert.equal(await field.evaluate((e) => e.value.slice(e.selectionStart, e.selectionEnd)), identifier, 'focus selects the identifier');
      const copy = card.getByTestId('copy-identifier');
      assert.ok(await copy.isVisible(), 'the copy button is shown');
      assert.match(await copy.innerText(), new RegExp(`^${t.copy}`));
      await copy.click();
      await card.getByRole('status').filter({ hasText: t.copied }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), identifier, 'the identifier is on the clipboard');
      const link = card.getByTestId('license-verify');
      assert.equal(await link.getAttribute('href'), `/v/${identifier}`);
      await fitsWidth(page, `me (${tag})`);
      await axe(page, `me (${tag})`);
      await axeRules(page, ['landmark-unique', 'heading-order'], `/me (${tag})`);
      await screenshot(page, `ux-me-licences-${tag}`);

      // The /v/ link opens the check on the identifier.
      const want = expectedRows(company.public, lang);
      await Promise.all([page.waitForURL(/\/verify\?id=/), link.click()]);
      assert.equal(await page.locator('.verdict').getAttribute('data-status'), 'valid');
      assert.deepEqual(await fieldRows(page), want, 'by identifier: the public fields as printed, in order');
      assert.equal(await page.getByTestId('verify-license-name').innerText(), t.name);
      assert.equal(await page.getByTestId('verify-identifier').innerText(), identifier);
      await fitsWidth(page, `verify (${tag})`);
      await axe(page, `verify by identifier (${tag})`);
      await screenshot(page, `ux-verify-identifier-${tag}`);

      // Typed into the form: the identifier, then the printed number.
      await verify(page, t, identifier);
      assert.deepEqual(await fieldRows(page), want);
      await verify(page, t, company.number);
      assert.equal(await page.locator('.verdict').getAttribute('data-status'), 'valid');
      assert.deepEqual(await fieldRows(page), want, 'by licence number: the same fields');
      assert.equal(await page.getByTestId('verify-identifier').innerText(), identifier, 'the number finds the licence');
      await axe(page, `verify by number (${tag})`);
      await screenshot(page, `ux-verify-number-${tag}`);

      // Garbage says what is accepted; an unknown number says it is not found.
      await verify(page, t, '这不是证照 !!');
      assert.match(await page.locator('#input-error').innerText(), t.unrecognised);
      assert.equal(await page.getByLabel(t.input).getAttribute('aria-invalid'), 'true');
      await screenshot(page, `ux-verify-unrecognised-${tag}`);
      await verify(page, t, 'JY6401009999999');
      assert.equal(await page.locator('.verdict').getAttribute('data-status'), 'unknown');
      assert.match(await page.locator('.verdict').innerText(), t.unknownNumber);
      assert.deepEqual(page.errors, [], 'no script or CSP errors');
    });

    test(`large type: the header folds into a menu on a phone, the switch is a pressed toggle (${tag})`, async () => {
      const page = await newPage(browser, { viewport: vp, locale: t.locale });
      await signIn(page, 'company');
      await page.goto(`${BASE}/prefs?large=1&back=/me`);
      await page.waitForURL(/\/me$/);
      assert.equal(await page.locator('html').getAttribute('class'), 'large');
      const header = page.locator('header.site .bar');
      const height = (await header.boundingBox()).height;
      const sw = page.getByTestId('switch-large');
      assert.equal(await sw.getAttribute('aria-pressed'), 'true');
      assert.equal((await sw.textContent()).trim(), t.largeOn, 'the name says the state (read while the menu is closed)');
      const summary = page.getByTestId('header-menu-button');
      const controls = page.locator('header.site .prefs a, header.site .prefs button, header.site .prefs summary');
      const heights = async () => (await controls.evaluateAll((els) => els
        .filter((e) => e.getClientRects().length > 0)
        .map((e) => [e.textContent.trim(), e.getBoundingClientRect().height])));
      if (vp === PHONE) {
        assert.ok(height < 120, `the header bar is ${height}px tall`);
        assert.ok(await summary.isVisible(), 'the menu button is shown');
        assert.equal((await summary.innerText()).trim(), t.menu);
        assert.equal(await page.getByTestId('nav-me').isVisible(), false, 'the actions are folded');
        await screenshot(page, `ux-header-large-closed-${tag}`);
        await summary.click();
        assert.equal(await page.getByTestId('header-menu').getAttribute('open'), '');
        assert.ok(await page.getByTestId('nav-me').isVisible(), 'the menu opens');
        await fitsWidth(page, `open menu (${tag})`);
        await axe(page, `open menu (${tag})`);
        await screenshot(page, `ux-header-large-open-${tag}`);
      } else {
        assert.equal(await summary.isVisible(), false, 'no menu button on a desktop');
        assert.ok(await page.getByTestId('nav-me').isVisible(), 'the actions stand in a row');
        assert.ok(height < 120, `the header bar is ${height}px tall`);
        await screenshot(page, `ux-header-large-${tag}`);
      }
      const shown = await heights();
      assert.ok(shown.length >= (vp === PHONE ? 6 : 5), `header controls shown: ${JSON.stringify(shown)}`);
      for (const [text, h] of shown) assert.ok(h < 60, `"${text}" is ${h}px tall: its text wraps`);
      // Switch it off: the name and the pressed state follow.
      await Promise.all([page.waitForURL(/\/me$/), sw.click()]);
      assert.equal(await page.locator('html').getAttribute('class'), null);
      assert.equal(await page.getByTestId('switch-large').getAttribute('aria-pressed'), 'false');
      assert.equal((await page.getByTestId('switch-large').textContent()).trim(), t.largeOff);
      const name = await page.getByRole('button', { name: t.largeOff, exact: true, includeHidden: true }).count();
      assert.equal(name, 1, 'the accessible name is the state');
      await screenshot(page, `ux-header-standard-${tag}`);
      assert.deepEqual(page.errors, [], 'no script or CSP errors');
    });

    test(`axe: heading order on /services, unique landmarks on /me (${tag})`, async () => {
      const page = await newPage(browser, { viewport: vp, locale: t.locale });
      for (const p of ['/services', '/services?q=%E9%A3%9F%E5%93%81']) {
        await page.goto(`${BASE}${p}`);
        await axe(page, `${p} (${tag})`);
        await axeRules(page, ['heading-order', 'landmark-unique'], `${p} (${tag})`);
      }
      await screenshot(page, `ux-services-${tag}`);
      await signIn(page, 'company');
      await page.goto(`${BASE}/me`);
      await axe(page, `/me (${tag})`);
      await axeRules(page, ['heading-order', 'landmark-unique'], `/me (${tag})`);
      await page.goto(`${BASE}/prefs?large=1&back=/services`);
      await axe(page, `/services large (${tag})`);
      await axeRules(page, ['heading-order', 'landmark-unique'], `/services large (${tag})`);
      await screenshot(page, `ux-services-large-signed-in-${tag}`);
    });
  }

  test(`a person's licence by identifier or number: masked, details withheld for privacy (${lang})`, async () => {
    const page = await newPage(browser, { viewport: PHONE, locale: t.locale });
    for (const input of [person.identifier, person.number]) {
      await verify(page, t, input);
      assert.equal(await page.locator('.verdict').getAttribute('data-status'), 'valid');
      assert.deepEqual(await fieldRows(page), [], 'no licence fields');
      const record = await page.getByTestId('verify-record').innerText();
      assert.match(record, /张\*/);
      assert.doesNotMatch(record, /张三|64010420050101001X/);
      assert.match(await page.getByTestId('verify-withheld').innerText(), t.withheld);
      assert.equal(await page.getByTestId('verify-identifier').innerText(), person.identifier);
    }
    await axe(page, `verify a person's licence (${lang})`);
    await screenshot(page, `ux-verify-person-phone-${lang}`);
  });
}

test('POST /api/v1/verify takes the printed licence number; garbage says what is accepted', async () => {
  const byNumber = await api('POST', '/api/v1/verify', null, { input: company.number });
  assert.equal(byNumber.status, 200, byNumber.text);
  assert.equal(byNumber.body.status, 'valid');
  assert.equal(byNumber.body.identifier, company.identifier);
  assert.deepEqual(byNumber.body.public.fields, company.public.fields);
  const lower = await api('POST', '/api/v1/verify', null, { input: company.number.toLowerCase() });
  assert.equal(lower.body.identifier, company.identifier, 'letters in either case');
  const unknown = await api('POST', '/api/v1/verify', null, { input: 'JY6401009999999' });
  assert.equal(unknown.status, 200);
  assert.equal(unknown.body.status, 'unknown');
  const garbage = await api('POST', '/api/v1/verify', null, { input: 'hello world' });
  assert.equal(garbage.status, 422);
  assert.equal(garbage.body.code, 'invalid_license_identifier');
  assert.match(garbage.body.detail, /QR text.*identifier.*licence number/);
  const badCheck = await api('POST', '/api/v1/verify', null, { input: `${company.identifier.slice(0, -1)}${company.identifier.endsWith('Z') ? 'Y' : 'Z'}` });
  assert.equal(badCheck.status, 422, 'an identifier with a wrong check character is not a number');
  const masked = await api('POST', '/api/v1/verify', null, { input: person.number });
  assert.equal(masked.body.public.holder, '张*');
  assert.deepEqual(masked.body.public.fields, {});
  // The description in the OpenAPI document says so.
  const doc = await api('GET', '/api/v1/openapi.json');
  const op = doc.body?.paths?.['/api/v1/verify']?.post;
  assert.ok(op, 'the operation is documented');
  assert.match(JSON.stringify(op), /licence number/);
});
