// 工程建设项目: the owner registers a social-investment project, fills the first stage's one form on a phone
// (both cases start in parallel), authorises the bureau's assistant (代办员), who submits the next stage for the
// owner; the departments work the cases; the owner's project page shows the four stages, the clocks and the
// timeline with its critical path, on a phone and a desktop, with axe on every page; a supervisor follows the
// page's link to the project's supervision alerts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, axe, screenshot, fitsWidth, api, login, signIn, driveToCompletion, BASE, PHONE } from './lib.mjs';

let browser;
const serial = String(Date.now() % 1e6).padStart(6, '0').replace(/^0+$/, '000001');
const code = `2026-640100-47-03-${serial}`;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function work(no) {
  const c = await api('GET', `/api/v1/cases/${no}`, await login('clerk'));
  if (c.body.status === 'completed') return;
  const acc = await api('POST', `/api/v1/cases/${no}/accept`, await login('clerk'), {});
  assert.equal(acc.status, 200, acc.text);
  const done = await driveToCompletion(no);
  assert.equal(done.status, 'completed');
}

test('a construction project: the owner on a phone, the assistant, the departments', async () => {
  const owner = await login('company');
  const reg = await api('POST', '/api/v1/projects', owner, {
    code, name: '银川塞上餐饮中央厨房项目', project_type: 'social-investment-general', owner_uscc: '91110000600037341L',
    owner_name: '银川塞上餐饮有限公司', location: '银川市金凤区阅海湾中央商务区', floor_area_m2: 12000, investment_wan: 8000,
  });
  assert.equal(reg.status, 201, reg.text);

  const page = await newPage(browser, { viewport: PHONE });
  await signIn(page, 'company');
  await page.goto(`${BASE}/me/projects`);
  await axe(page, 'my projects');
  await Promise.all([page.waitForURL(/\/me\/projects\/2026-/), page.locator(`a[href="/me/projects/${code}"]`).click()]);
  await axe(page, 'project (registered)');
  await screenshot(page, 'project-registered-phone');
  // Stage 1: one form for both items.
  await Promise.all([page.waitForURL(/stages\/land-planning$/), page.locator('[data-stage="land-planning"] [data-testid="start-stage"]').click()]);
  await axe(page, 'stage form');
  await fitsWidth(page, 'stage form');
  await page.locator('#f-project_address').fill('银川市金凤区阅海湾');
  await page.locator('#f-region_code').fill('640106');
  await page.locator('#f-contact_phone').fill('13900000000');
  await page.locator('#f-land_area').fill('8000');
  for (const m of await page.locator('input[id^="m-"]').all()) await m.fill('材料.pdf');
  await screenshot(page, 'project-stage-form-phone');
  await Promise.all([page.waitForURL(new RegExp(`/me/projects/${code}$`)), page.locator('[data-testid="submit-stage"]').click()]);
  let p = await api('GET', `/api/v1/projects/${code}`, owner);
  const land = p.body.stages[0].cases.map((c) => c.case_no);
  assert.equal(land.length, 2, 'both land items started in parallel');
  for (const no of land) await work(no);

  // The assistant (代办员) submits stage 2 for the owner.
  const auth = await api('POST', `/api/v1/projects/${code}/assistants`, owner, { assistant: 'bureau-general-clerk' });
  assert.equal(auth.status, 200, auth.text);
  const helper = await login('bureau-general-clerk');
  const form = await api('GET', `/api/v1/projects/${code}/stages/engineering/form`, helper);
  const values = {};
  for (const f of form.body.form.fields) {
    values[f.key] = ({ text: '测试', number: 24, region_code: '640106', phone: '13900000000', boolean: false })[f.type] ?? '测试';
  }
  const materials = form.body.materials.map((m) => ({ material_id: m.id, file_name: `${m.id}.pdf` }));
  const eng = await api('POST', `/api/v1/projects/${code}/stages/engineering`, helper, { form: values, materials });
  assert.equal(eng.status, 201, eng.text);
  await work(eng.body.receipts[0].case_no);

  await page.goto(`${BASE}/me/projects/${code}`);
  await axe(page, 'project (two stages done)');
  await fitsWidth(page, 'project page');
  assert.equal(await page.locator('[data-testid="stage"]').count(), 4);
  assert.equal(await page.locator('[data-testid="bar"]').count(), 3);
  assert.ok(await page.locator('[data-testid="whole-clock"]').isVisible());
  await screenshot(page, 'project-phone');
  const desk = await newPage(browser);
  await signIn(desk, 'company');
  await desk.goto(`${BASE}/me/projects/${code}`);
  await axe(desk, 'project desktop');
  await screenshot(desk, 'project-desktop');
  const en = await newPage(browser, { locale: 'en' });
  await signIn(en, 'company');
  await en.goto(`${BASE}/me/projects/${code}`);
  assert.match(await en.locator('#h-clock').innerText(), /Project clock/);
  await axe(en, 'project en');

  // Electronic supervision: staff reach the project's alerts from its page (the owner has no such link); the
  // supervision list is filtered to the project.
  assert.equal(await desk.locator('[data-testid="project-alerts"]').count(), 0, 'the owner sees no supervision link');
  const sup = await newPage(browser, { viewport: PHONE });
  await signIn(sup, 'supervisor');
  await sup.goto(`${BASE}/me/projects/${code}`);
  await Promise.all([sup.waitForURL(/\/supervision\?project=/), sup.locator('[data-testid="project-alerts"]').click()]);
  assert.equal(await sup.locator('[data-testid="project-filter"]').inputValue(), code);
  await axe(sup, 'supervision filtered by project');
  await fitsWidth(sup, 'supervision filtered by project');
  await screenshot(sup, 'supervision-project-phone');
});
