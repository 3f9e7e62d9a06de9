// 多评合一 on the project page: the owner, on a phone, commissions one combined evaluation covering the
// environmental impact assessment and the traffic impact assessment, and uploads the report (a PDF); the ecology
// department's reviewer, on a desktop, sees its own part with a review form and passes it; the planning
// department returns its part with a reason; the owner's page shows both reviews. axe on every page, the phone
// layout checked, large-font mode too, screenshots taken.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, axe, screenshot, fitsWidth, api, login, signIn, BASE, PHONE } from './lib.mjs';

let browser;
const serial = String((Date.now() + 500000) % 1e6).padStart(6, '0').replace(/^0+$/, '000002');
const code = `2026-640100-47-03-${serial}`;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the owner commissions a combined evaluation on a phone; each department reviews its part', async () => {
  const owner = await login('company');
  const reg = await api('POST', '/api/v1/projects', owner, {
    code, name: '银川塞上餐饮物流园项目', project_type: 'social-investment-general', owner_uscc: '91110000600037341L',
    owner_name: '银川塞上餐饮有限公司', location: '银川市兴庆区', floor_area_m2: 30000, investment_wan: 20000,
  });
  assert.equal(reg.status, 201, reg.text);

  const page = await newPage(browser, { viewport: PHONE });
  await signIn(page, 'company');
  await page.goto(`${BASE}/me/projects/${code}`);
  const section = page.getByTestId('evaluation');
  assert.equal(await section.getByTestId('assessment-option').count(), 6);
  await axe(page, 'project page: commission form');
  await fitsWidth(page, 'project page: commission form');
  await section.locator('input[value="eia"]').check();
  await section.locator('input[value="traffic"]').check();
  await page.locator('#intermediary-name').fill('宁夏绿源工程咨询有限公司');
  // A wrong check character is refused with the problem named, and nothing is commissioned.
  await page.locator('#intermediary-uscc').fill('91640100MA76A8KQ30');
  await page.getByTestId('commission-submit').click();
  assert.match(await page.getByTestId('evaluation-error').innerText(), /中介机构统一社会信用代码有误/);
  await axe(page, 'project page: commission refused');
  assert.equal((await api('GET', `/api/v1/projects/${code}/assessments`, owner)).body.evaluation, null);
  const uscc = await validUscc('91640100MA76A8KQ3');
  await page.getByTestId('evaluation').locator('input[value="eia"]').check();
  await page.getByTestId('evaluation').locator('input[value="traffic"]').check();
  await page.locator('#intermediary-name').fill('宁夏绿源工程咨询有限公司');
  await page.locator('#intermediary-uscc').fill(uscc);
  await screenshot(page, 'evaluation-commission-phone');
  await Promise.all([page.waitForURL(/#evaluation$/), page.getByTestId('commission-submit').click()]);
  assert.equal(await page.getByTestId('evaluation-part').count(), 2);

  // The report, uploaded once from the phone.
  const pdf = Buffer.from('%PDF-1.7\n% 多评合一评估报告\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
  await page.locator('#eval-report-file').setInputFiles({ name: '多评合一评估报告.pdf', mimeType: 'application/pdf', buffer: pdf });
  await Promise.all([page.waitForURL(/#evaluation$/), page.getByTestId('report-submit').click()]);
  assert.equal(await page.locator('[data-testid="evaluation-part"][data-status="under_review"]').count(), 2);
  assert.ok(await page.getByTestId('report-link').isVisible());
  await axe(page, 'project page: report under review');
  await fitsWidth(page, 'project page: report under review');

  // The ecology department's reviewer sees its part with a form, and passes it.
  const eco = await newPage(browser);
  await signIn(eco, 'ecology-reviewer');
  await eco.goto(`${BASE}/me/projects/${code}#evaluation`);
  const forms = eco.getByTestId('review-form');
  assert.equal(await forms.count(), 1, 'only its own part');
  await axe(eco, 'project page: department review form');
  await screenshot(eco, 'evaluation-review-desktop');
  await Promise.all([eco.waitForURL(/#evaluation$/), forms.getByTestId('review-submit').click()]);
  assert.equal(await eco.locator('[data-kind="eia"][data-status="passed"]').count(), 1);
  assert.equal(await eco.getByTestId('review-form').count(), 0);

  // The planning department returns the traffic part, on a phone in large-font mode, with its reason.
  const planning = await newPage(browser, { viewport: PHONE });
  await signIn(planning, 'natural-resources-reviewer');
  await planning.goto(`${BASE}/prefs?large=1&back=${encodeURIComponent(`/me/projects/${code}`)}`);
  await planning.waitForURL(new RegExp(`/me/projects/${code}$`));
  const f = planning.getByTestId('review-form');
  await f.locator('input[value="returned"]').check();
  await f.locator('textarea').fill('交通组织方案未分析高峰小时出入口排队长度');
  await axe(planning, 'project page: review form, large font');
  await fitsWidth(planning, 'project page: review form, large font');
  await Promise.all([planning.waitForURL(/#evaluation$/), f.getByTestId('review-submit').click()]);

  await page.goto(`${BASE}/me/projects/${code}`);
  assert.equal(await page.locator('[data-kind="traffic"][data-status="returned"]').count(), 1);
  assert.match(await page.getByTestId('evaluation').innerText(), /交通组织方案未分析高峰小时出入口排队长度/);
  assert.ok(await page.getByTestId('report-form').isVisible(), 'the owner uploads the revision');
  await page.getByTestId('evaluation').scrollIntoViewIfNeeded();
  await axe(page, 'project page: a part returned');
  await screenshot(page, 'evaluation-returned-phone');
});

/// A USCC with its GB 32100 check character.
async function validUscc(body) {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += alphabet.indexOf(body[i]) * weights[i];
  return body + alphabet[(31 - (sum % 31)) % 31];
}
