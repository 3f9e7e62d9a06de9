// Issue 14, what a newcomer stumbled on in the apply wizard, the receipt, the progress page and the workbench:
// key materials before submitting, phone and range checks, an error summary that links to its fields,
// POST/redirect/GET receipts, step names in public progress, and workbench actions that confirm, follow the
// task's holder, speak the step's words and have accessible names. On a phone and a desktop, in Chinese and
// English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, axe, screenshot, api, login, BASE, signIn, submissionFor, PHONE, DESKTOP, residentId, fillForm } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** A new person with an account (so each run starts with no drafts and no cases). */
async function newPerson(page, lang) {
  const username = `ux${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const r = await api('POST', '/api/v1/register', null, { username, password: 'a-long-password', name: '赵敏', resident_id: residentId('19880512') });
  assert.equal(r.status, 201, r.text);
  await signIn(page, username, 'a-long-password');
  if (lang === 'en') await page.goto(`${BASE}/prefs?lang=en&back=/me`);
  return { username, token: await login(username, 'a-long-password') };
}

async function itemCode(name) {
  const hits = await api('GET', `/api/v1/items?q=${encodeURIComponent(name)}`);
  return (hits.body.items.find((i) => i.name === name) || hits.body.items[0]).impl_code;
}

for (const [viewport, vname, lang] of [[PHONE, 'phone', 'zh'], [DESKTOP, 'desktop', 'en']]) {
  test(`apply: key materials, typed fields and the error summary; receipts at their own address (${vname}, ${lang})`, async () => {
    const page = await newPage(browser, { viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
    const me = await newPerson(page, lang);
    const code = await itemCode('食品经营许可');
    const item = (await api('GET', `/api/v1/items/${code}`)).body;
    const keyMaterials = item.materials.filter((m) => m.required && m.key);
    assert.ok(keyMaterials.length > 0, 'the item has key materials');

    // The form: a 7-digit "phone" and a number out of its range are refused next to the field, and the summary
    // lists each problem as a link that moves focus to the field.
    await page.goto(`${BASE}/apply/${code}?step=2`);
    await fillForm(page);
    const phone = item.form.fields.find((f) => f.type === 'phone');
    await page.locator(`#f_${phone.key}`).fill('1391234');
    const ranged = item.form.fields.find((f) => (f.type === 'number' || f.type === 'integer') && f.min !== null && f.min !== undefined);
    if (ranged) await page.locator(`#f_${ranged.key}`).fill(String(ranged.min - 1));
    await page.locator('button[name=go][value="3"]').click();
    await page.getByTestId('error-summary').waitFor();
    const links = page.getByTestId('error-summary').locator('a');
    assert.equal(await links.count(), ranged ? 2 : 1, await page.getByTestId('error-summary').innerText());
    const summary = await page.getByTestId('error-summary').innerText();
    const phoneLabel = lang === 'en' ? phone.label_en : phone.label;
    assert.ok(summary.includes(phoneLabel), `the summary names the field: ${summary}`);
    assert.match(await page.locator(`#f_${phone.key}-error`).innerText(), lang === 'en' ? /11-digit mobile/ : /11 位手机号码/);
    if (ranged) {
      const min = Number.isInteger(ranged.min) ? String(ranged.min) : String(ranged.min);
      assert.ok((await page.locator(`#f_${ranged.key}-error`).innerText()).includes(min), 'the error states the range');
    }
    await page.getByTestId('error-summary').locator(`a[href="#f_${phone.key}"]`).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), `f_${phone.key}`, 'the link moves focus to the field');
    await axe(page, `apply errors ${vname} ${lang}`);
    await screenshot(page, `apply-error-summary-${vname}-${lang}`);
    await page.locator(`#f_${phone.key}`).fill('0951-6012345');
    if (ranged) await page.locator(`#f_${ranged.key}`).fill(String(ranged.min));
    await page.locator('button[name=go][value="3"]').click();
    await page.waitForURL(/step=3/);

    // Jumping to the review through the step bar with no files: the review names the missing key materials, and
    // submitting is refused with each one linked to its file input; no case is made.
    await page.goto(`${BASE}/apply/${code}?step=4`);
    const warn = page.getByTestId('missing-key-materials');
    await warn.waitFor();
    for (const m of keyMaterials) assert.ok((await warn.innerText()).includes(m.name), `names ${m.name}`);
    await screenshot(page, `apply-review-missing-${vname}-${lang}`);
    await page.getByTestId('submit').click();
    await page.getByTestId('error-summary').waitFor();
    assert.match(page.url(), new RegExp(`/apply/${code}`));
    const hrefs = await page.getByTestId('error-summary').locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const m of keyMaterials) assert.ok(hrefs.includes(`#file_${m.id}`), `${m.id} is linked: ${hrefs}`);
    assert.equal((await api('GET', '/api/v1/cases', me.token)).body.total, 0, 'nothing was submitted');
    await axe(page, `apply key materials ${vname} ${lang}`);

    // Upload every material, submit: the receipt has its own address; reloading it shows the same receipt and
    // makes no second case.
    await page.goto(`${BASE}/apply/${code}?step=3`);
    const inputs = page.locator('input[type=file]');
    const scan = { name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% scan\n%%EOF') };
    for (let i = 0; i < await inputs.count(); i++) await inputs.nth(i).setInputFiles(scan);
    await page.locator('form[enctype="multipart/form-data"] button[value="4"]').click();
    await page.waitForURL(/step=4/);
    assert.equal(await page.getByTestId('missing-key-materials').count(), 0);
    await page.getByTestId('submit').click();
    await page.waitForURL(new RegExp(`/apply/${code}/receipt/[0-9a-f]+$`));
    const caseNo = (await page.getByTestId('case-no').innerText()).trim();
    const queryCode = (await page.getByTestId('query-code').innerText()).trim();
    assert.match(queryCode, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    await page.reload();
    assert.equal((await page.getByTestId('case-no').innerText()).trim(), caseNo);
    await page.goBack().catch(() => {});
    assert.equal((await api('GET', '/api/v1/cases', me.token)).body.total, 1, 'one case, however often the page is shown');
    await screenshot(page, `receipt-own-url-${vname}-${lang}`);

  });
}

test('API: an application without its key materials is refused and names them', async () => {
  const citizen = await login('citizen');
  const { full, ...body } = await submissionFor('食品经营许可', { kind: 'person', name: '张三', id_number: '64010420050101001X' });
  const keys = full.materials.filter((m) => m.required && m.key);
  const r = await api('POST', '/api/v1/cases', citizen, { ...body, materials: body.materials.filter((m) => !keys.some((k) => k.id === m.material_id)) });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.body.code, 'key_materials_missing');
  for (const k of keys) assert.ok(r.body.errors.some((e) => e.field === `materials.${k.id}`), `${k.id} named: ${r.text}`);
  const p = await api('POST', '/api/v1/cases', citizen, { ...body, form: { ...body.form, contact_phone: '1391234' } });
  if (full.form.fields.some((f) => f.key === 'contact_phone')) assert.equal(p.status, 422, 'the API refuses the 7-digit phone too');
});

for (const [viewport, vname, lang] of [[DESKTOP, 'desktop', 'zh'], [PHONE, 'phone', 'en']]) {
  test(`workbench: actions confirm, follow the task's holder and speak the step's words; progress shows step names (${vname}, ${lang})`, async () => {
    const company = await login('company');
    const { full, ...body } = await submissionFor('食品经营许可', { kind: 'organisation', name: '银川塞上餐饮有限公司', id_number: '91110000600037341L' });
    const sub = await api('POST', '/api/v1/cases', company, body);
    assert.equal(sub.status, 201, sub.text);
    const no = sub.body.case_no;
    let page = await newPage(browser, { viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
    await signIn(page, 'clerk');
    if (lang === 'en') await page.goto(`${BASE}/prefs?lang=en&back=/work`);
    await page.goto(`${BASE}/work/cases/${no}`);
    // Every action form has an accessible name, and no two fields on the page share a label.
    const forms = page.locator('form.action');
    for (let i = 0; i < await forms.count(); i++) {
      const id = await forms.nth(i).getAttribute('aria-labelledby');
      assert.ok(id && (await page.locator(`#${id}`).count()) === 1, `form ${i} is named`);
    }
    const labels = await page.locator('aside.actions-panel label').allInnerTexts();
    const reasons = labels.filter((l) => /原因|Reason/.test(l));
    assert.equal(new Set(reasons).size, reasons.length, `distinct reason labels: ${reasons}`);
    await Promise.all([page.waitForURL(/done=accept/), page.locator('form[data-action="accept"]').getByTestId('do-accept').click()]);
    assert.match(await page.getByTestId('action-done').innerText(), lang === 'en' ? /Accepted/ : /已受理/);
    assert.equal(await page.getByTestId('action-done').getAttribute('role'), 'status');
    await screenshot(page, `work-accepted-${vname}-${lang}`);

    const dept = (await api('GET', `/api/v1/cases/${no}`, await login('clerk'))).body.current_step.tasks[0].department;
    page = await newPage(browser, { viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
    await signIn(page, `${dept}-reviewer`);
    if (lang === 'en') await page.goto(`${BASE}/prefs?lang=en&back=/work`);
    await page.goto(`${BASE}/work/cases/${no}`);
    // Before claiming: the task is unclaimed and only 认领 is offered, not 审查通过.
    assert.match(await page.getByTestId('task-holders').innerText(), lang === 'en' ? /not claimed/ : /待认领/);
    assert.equal(await page.locator('form[data-action="complete"]').count(), 0, 'no approval before claiming');
    await Promise.all([page.waitForURL(/done=claim/), page.locator('form[data-action="claim"]').getByTestId('do-claim').click()]);
    assert.match(await page.getByTestId('action-done').innerText(), lang === 'en' ? /Claimed/ : /已认领/);
    assert.equal(await page.locator('form[data-action="claim"]').count(), 0, 'claim is not offered again');
    assert.match(await page.getByTestId('task-holders').innerText(), new RegExp(`${dept}-reviewer`));
    const review = page.locator('form[data-action="complete"]');
    assert.match(await review.locator('h3').innerText(), lang === 'en' ? /Approve the review/ : /审查通过/);
    await review.locator('textarea[name=opinion]').fill('材料齐全');
    await Promise.all([page.waitForURL(/done=complete/), review.getByTestId('do-complete').click()]);
    // The inspection step speaks its own words.
    await page.locator('form[data-action="claim"]').getByTestId('do-claim').click();
    await page.waitForURL(/done=claim/);
    const inspect = page.locator('form[data-action="complete"]');
    assert.match(await inspect.locator('h3').innerText(), lang === 'en' ? /Approve the inspection/ : /核查通过/);
    assert.match(await inspect.locator('label').first().innerText(), lang === 'en' ? /Inspection findings/ : /核查意见/);
    await axe(page, `workbench inspection ${vname} ${lang}`);
    await screenshot(page, `work-inspection-${vname}-${lang}`);

    // Public progress names the steps done in the reader's language, never their ids.
    const anon = await newPage(browser, { viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
    if (lang === 'en') await anon.goto(`${BASE}/prefs?lang=en&back=/progress`);
    await anon.goto(`${BASE}/progress`);
    await anon.locator('#case_no').fill(no);
    await anon.locator('#query_code').fill(sub.body.query_code);
    await anon.locator('form[action="/progress"] button[type=submit]').click();
    const steps = (await api('GET', `/api/v1/items/${full.impl_code}`)).body.process.steps;
    const passed = await anon.getByTestId('progress-passed').innerText();
    const names = steps.slice(0, 2).map((st) => (lang === 'en' ? st.name_en : st.name));
    assert.equal(passed.trim(), names.join(' → '), 'steps by name');
    for (const st of steps) assert.ok(!passed.split(' → ').includes(st.id), `no step id ${st.id}`);
    await screenshot(anon, `progress-step-names-${vname}-${lang}`);
  });
}
