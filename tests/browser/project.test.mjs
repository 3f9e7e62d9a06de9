// 工程建设项目: the owner registers a social-investment project, fills the first stage's one form on a phone
// (both cases start in parallel), authorises the bureau's assistant (代办员), who fills in and submits the next
// stage's form page for the owner; the departments work the cases; the owner's project page shows the four
// stages, the clocks and the timeline with its critical path, on a phone and a desktop, with axe on every page; a
// supervisor follows the page's link to the project's supervision alerts.
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
  // On the stage's one form page, signed in as themself: the stage is started on behalf of the owner.
  const assistant = await newPage(browser);
  await signIn(assistant, 'bureau-general-clerk');
  await assistant.goto(`${BASE}/me/projects/${code}`);
  await Promise.all([assistant.waitForURL(/stages\/engineering$/), assistant.locator('[data-stage="engineering"] [data-testid="start-stage"]').click()]);
  await axe(assistant, 'stage form (assistant)');
  const fill = { project_address: '银川市金凤区阅海湾', region_code: '640106', construction_area: '12000', building_height: '24', contact_phone: '13900000000' };
  for (const input of await assistant.locator('input[id^="f-"], textarea[id^="f-"]').all()) {
    const key = (await input.getAttribute('id')).slice(2);
    await input.fill(fill[key] ?? '测试');
  }
  for (const m of await assistant.locator('input[id^="m-"]').all()) await m.fill('材料.pdf');
  await screenshot(assistant, 'project-stage-form-assistant-desktop');
  await Promise.all([assistant.waitForURL(new RegExp(`/me/projects/${code}$`)), assistant.locator('[data-testid="submit-stage"]').click()]);
  p = await api('GET', `/api/v1/projects/${code}`, owner);
  const engCases = p.body.stages[1].cases.map((c) => c.case_no);
  assert.equal(engCases.length, 1, 'the engineering stage started');
  const trail = (await api('GET', `/api/v1/cases/${engCases[0]}/events`, owner)).body.events;
  assert.equal(trail[0].type, 'submitted');
  assert.equal(trail[0].actor, 'bureau-general-clerk', 'the assistant submitted the case, for the owner');
  await work(engCases[0]);

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
