// Staff work a case entirely through the pages: the window clerk finds it in the intake list and accepts it;
// the section's reviewer claims and approves each step; the chief decides; the section clerk issues the licence
// and delivers. Only the actions the domain allows are offered; a stale form is refused clearly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, axe, screenshot, api, login, BASE, signIn, submissionFor, completedCompanyCase } from './lib.mjs';

let browser;
let caseNo;

before(async () => {
  browser = await launch();
  // The demo company applies through the API (the citizen flow has its own test).
  const company = await login('company');
  const { full, ...body } = await submissionFor('食品经营许可', { kind: 'organisation', name: '银川塞上餐饮有限公司', id_number: '91110000600037341L' });
  const r = await api('POST', '/api/v1/cases', company, body);
  assert.equal(r.status, 201, r.text);
  caseNo = r.body.case_no;
});
after(async () => { await browser?.close(); });

async function act(page, name, fill = async () => {}) {
  const form = page.locator(`form[data-action="${name}"]`).first();
  await form.waitFor();
  await fill(form);
  await Promise.all([page.waitForLoadState('load'), form.getByTestId(`do-${name}`).click()]);
  await page.waitForURL(new RegExp(`/work/cases/${caseNo}(\\?done=${name})?$`));
  const err = await page.getByTestId('action-error').count();
  assert.equal(err, 0, err ? await page.getByTestId('action-error').innerText() : '');
}

async function signOut(page) {
  await page.locator('form[action="/signout"] button').click();
  await page.waitForURL(`${BASE}/`);
}

test('a case goes from intake to delivery through the workbench', async () => {
  const page = await newPage(browser);
  // The window clerk: the intake list has the case; accept it.
  await signIn(page, 'clerk');
  await page.goto(`${BASE}/work`);
  assert.ok(Number(await page.getByTestId('count-intake').innerText()) >= 1);
  await axe(page, 'workbench inbox');
  await screenshot(page, 'work-inbox-desktop-zh');
  await page.getByRole('link', { name: caseNo }).click();
  await page.waitForURL(new RegExp(`/work/cases/${caseNo}$`));
  const text = await page.locator('main').innerText();
  assert.ok(!text.includes('64010420050101001X') && /\*{4}/.test(text), 'personal ID numbers in the form are masked');
  assert.equal(await page.locator('form[data-action="decide"]').count(), 0, 'a clerk is not offered the decision');
  await axe(page, 'workbench case (intake)');
  await screenshot(page, 'work-case-intake-desktop-zh');
  await act(page, 'accept');
  assert.equal(await page.getByTestId('case-status').innerText(), '办理中');
  await signOut(page);

  // The section's reviewer claims and approves the review and the inspection steps.
  const dept = (await api('GET', `/api/v1/cases/${caseNo}`, await login('clerk'))).body.current_step.tasks[0].department;
  await signIn(page, `${dept}-reviewer`);
  for (let i = 0; i < 2; i++) {
    await page.goto(`${BASE}/work/cases/${caseNo}`);
    if (await page.locator('form[data-action="claim"]').count()) await act(page, 'claim');
    await act(page, 'complete', async (f) => f.locator('textarea[name=opinion]').fill('材料齐全，符合要求'));
  }
  await signOut(page);

  // The chief decides; a stale form (an old version) is refused with a clear message and changes nothing.
  await signIn(page, `${dept}-chief`);
  await page.goto(`${BASE}/work/cases/${caseNo}`);
  const decide = page.locator('form[data-action="decide"]');
  await decide.locator('input[name=version]').evaluate((e) => { e.value = '1'; });
  await decide.getByTestId('do-decide').click();
  await page.getByTestId('action-error').waitFor();
  assert.match(await page.getByTestId('action-error').innerText(), /已被他人更新/);
  await page.goto(`${BASE}/work/cases/${caseNo}`);
  await axe(page, 'workbench case (decision)');
  await screenshot(page, 'work-case-decision-desktop-zh');
  await act(page, 'decide');
  await signOut(page);

  // The section clerk issues the licence and delivers.
  await signIn(page, `${dept}-clerk`);
  await page.goto(`${BASE}/work/cases/${caseNo}`);
  await act(page, 'issue-licenses');
  // Delivery belongs to the department the process names for it (the general section's window here).
  const d2 = (await api('GET', `/api/v1/cases/${caseNo}`, await login('clerk'))).body.current_step.tasks[0].department;
  if (d2 !== dept) {
    await signOut(page);
    await signIn(page, `${d2}-clerk`);
    await page.goto(`${BASE}/work/cases/${caseNo}`);
  }
  await act(page, 'deliver');
  assert.equal(await page.getByTestId('case-status').innerText(), '已办结');
  assert.equal(await page.locator('form.action').count(), 0, 'nothing left to do');
  await screenshot(page, 'work-case-completed-desktop-zh');
  assert.deepEqual(page.errors, []);
});

test('citizens cannot open the workbench', async () => {
  const page = await newPage(browser);
  await signIn(page, 'citizen');
  const r = await page.goto(`${BASE}/work`);
  assert.equal(r.status(), 403);
  const anon = await newPage(browser);
  await anon.goto(`${BASE}/work`);
  assert.match(anon.url(), /\/signin\?next=%2Fwork|\/signin\?next=\/work/);
});

test('a walk-in application at a general window, accepted on the spot, with the printed notices', async () => {
  const page = await newPage(browser);
  await signIn(page, 'clerk');
  await page.goto(`${BASE}/window`);
  await axe(page, 'window search');
  await page.locator('#q').fill('食品经营许可');
  await page.locator('form[role=search] button').click();
  await page.getByRole('link', { name: '食品经营许可', exact: true }).first().click();
  await page.waitForURL(/\/window\/apply\//);
  await axe(page, 'window apply');
  // A wrong ID number: refused next to its field, everything else kept.
  await page.locator('#name').fill('赵六');
  await page.locator('#id_number').fill('640106199003071234');
  const { fillForm } = await import('./lib.mjs');
  await fillForm(page);
  const files = page.locator('input[type=file]');
  const { writeFileSync } = await import('node:fs');
  const scanPath = `${process.cwd()}/target/screenshots/window-scan.png`;
  writeFileSync(scanPath, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
  for (let i = 0; i < await files.count(); i++) await files.nth(i).setInputFiles(scanPath);
  await page.getByTestId('window-accept').click();
  await page.locator('#id_number-error').waitFor();
  assert.equal(await page.locator('#name').inputValue(), '赵六');
  assert.ok((await page.locator('.uploaded').count()) > 0, 'scans already uploaded are kept');
  await screenshot(page, 'window-apply-error-desktop-zh');
  await page.locator('#id_number').fill('64010420050101001X');
  await page.getByTestId('window-accept').click();
  await page.waitForURL(/\/work\/cases\/YC\d+$/);
  assert.equal(await page.getByTestId('case-status').innerText(), '办理中', 'accepted on the spot');
  const href = await page.getByTestId('acceptance-pdf').getAttribute('href');
  const r = await page.request.get(`${BASE}${href}`);
  assert.equal(r.status(), 200);
  assert.equal(r.headers()['content-type'], 'application/pdf');
  const body = await r.body();
  assert.equal(body.subarray(0, 5).toString(), '%PDF-');
  await screenshot(page, 'window-accepted-desktop-zh');
});

test('administrators manage staff and publish a revised guide after reviewing the change', async () => {
  const page = await newPage(browser);
  await signIn(page, 'admin');
  await page.goto(`${BASE}/admin/staff`);
  await axe(page, 'admin staff');
  const user = `clerk${Date.now() % 1e6}`;
  const create = async () => {
    await page.locator('#c-username').fill(user);
    await page.locator('#c-display').fill('新窗口');
    await page.locator('#c-password').fill('a-long-initial-password');
    await page.locator('#c-role-window_clerk').check();
    await page.getByTestId('create-staff').click();
  };
  await create();
  await page.getByTestId('admin-done').waitFor();
  assert.match(await page.getByTestId('staff-list').innerText(), new RegExp(user));
  await create(); // the same username again: refused, nothing changed
  await page.getByTestId('admin-error').waitFor();
  await screenshot(page, 'admin-staff-desktop-zh');

  // Revise a guide: change the opening hours, review the diff, publish with a reason.
  const hits = await api('GET', `/api/v1/items?q=${encodeURIComponent('食品经营许可')}`);
  const code = hits.body.items.find((i) => i.name === '食品经营许可').impl_code;
  await page.goto(`${BASE}/admin/items/${code}`);
  await axe(page, 'admin item');
  const body = await page.locator('#body').inputValue();
  const item = JSON.parse(body);
  item.hours = '周一至周六 9:00-17:00（延时服务）';
  await page.locator('#body').fill(JSON.stringify(item, null, 2));
  await page.getByTestId('review').click();
  await page.getByTestId('diff').waitFor();
  assert.match(await page.getByTestId('diff').innerText(), /\+ .*延时服务/);
  await page.getByTestId('publish').click();
  await page.getByTestId('admin-error').waitFor(); // no reason given
  await page.locator('#reason').fill('周六延时服务');
  await page.getByTestId('publish').click();
  await page.waitForURL(new RegExp(`/services/${code}$`));
  assert.match(await page.locator('main').innerText(), /延时服务/);
  const versions = await api('GET', `/api/v1/items/${code}/versions`);
  assert.equal(versions.body.versions.at(-1).reason, '周六延时服务');

  // Revise a construction project type the same way: from the projects page, through review, to a new version.
  await page.goto(`${BASE}/me/projects`);
  await page.locator('[data-code="social-investment-small-low-risk"] [data-testid="revise-type"]').click();
  await page.waitForURL(/\/admin\/project-types\/social-investment-small-low-risk$/);
  await axe(page, 'admin project type');
  const type = JSON.parse(await page.locator('#body').inputValue());
  type.description += '（试行）';
  await page.locator('#body').fill(JSON.stringify(type, null, 2));
  await page.getByTestId('review').click();
  assert.match(await page.getByTestId('diff').innerText(), /\+ .*试行/);
  await page.locator('#reason').fill('试行说明');
  await screenshot(page, 'admin-project-type-desktop-zh');
  await page.getByTestId('publish').click();
  await page.waitForURL(/\/me\/projects$/);
  assert.match(await page.locator('[data-code="social-investment-small-low-risk"]').innerText(), /第 2 版/);
  await screenshot(page, 'projects-types-desktop-zh');
});

test('a one-time correction notice from the workbench, answered by the applicant on the case page; then a withdrawal', async () => {
  const citizen = await login('citizen');
  const { full, ...sub } = await submissionFor('食品经营许可', { kind: 'person', name: '张三', id_number: '64010420050101001X' });
  const r1 = await api('POST', '/api/v1/cases', citizen, sub);
  const r2 = await api('POST', '/api/v1/cases', citizen, sub);
  const no = r1.body.case_no;
  const material = full.materials.find((m) => m.required);

  // The clerk asks for a correction on the workbench.
  const clerkPage = await newPage(browser);
  await signIn(clerkPage, 'clerk');
  await clerkPage.goto(`${BASE}/work/cases/${no}`);
  const f = clerkPage.locator('form[data-action="request-correction"]');
  await f.locator('#subject_0').selectOption(material.id);
  await f.locator('#message_0').fill('复印件不清晰，请重新上传');
  await f.getByTestId('do-request-correction').click();
  await clerkPage.waitForURL(new RegExp(`/work/cases/${no}\\?done=request-correction$`));
  assert.equal(await clerkPage.getByTestId('case-status').innerText(), '待补正');
  assert.equal(await clerkPage.getByTestId('correction-pdf').count(), 1, 'the one-time notice can be printed');
  assert.equal(await clerkPage.locator('form[data-action="request-correction"]').count(), 0, 'never a second notice');

  // The applicant sees what to fix, uploads a new scan and submits.
  const page = await newPage(browser);
  await signIn(page, 'citizen');
  await page.goto(`${BASE}/me/cases/${no}`);
  assert.match(await page.locator('.panel.attention').innerText(), /复印件不清晰/);
  await axe(page, 'case page (correction)');
  await screenshot(page, 'case-correction-desktop-zh');
  const { writeFileSync } = await import('node:fs');
  const scan = `${process.cwd()}/target/screenshots/correction.pdf`;
  writeFileSync(scan, '%PDF-1.7\n% clearer copy\n%%EOF\n');
  await page.locator(`#file_${material.id}`).setInputFiles(scan);
  await page.locator('form[action$="/correct"] button[type=submit]').click();
  await page.waitForURL(new RegExp(`/me/cases/${no}$`));
  assert.equal(await page.getByTestId('case-status').innerText(), '待受理', 'back to intake after the correction');
  assert.match(await page.locator('.timeline').innerText(), /补正材料/);

  // Withdrawing the other application.
  await page.goto(`${BASE}/me/cases/${r2.body.case_no}`);
  await page.locator('details.withdraw summary').click();
  await page.locator('#reason').fill('不再需要');
  await page.locator('form[action$="/withdraw"] button[type=submit]').click();
  await page.waitForURL(new RegExp(`/me/cases/${r2.body.case_no}$`));
  assert.equal(await page.getByTestId('case-status').innerText(), '已撤回');
});

test('supervisors sweep on demand; department staff see the supervision page for their own department', async () => {
  const page = await newPage(browser);
  await signIn(page, 'supervisor');
  await page.goto(`${BASE}/supervision`);
  await page.getByTestId('sweep').click();
  await page.getByTestId('swept').waitFor();
  assert.match(await page.getByTestId('swept').innerText(), /巡检完成/);
  await axe(page, 'supervision');
  await screenshot(page, 'supervision-desktop-zh');
  // An urging on a case of the market-access section, answered on the page by the section's chief.
  const company = await login('company');
  const { full, ...body } = await submissionFor('食品经营许可', { kind: 'organisation', name: '银川塞上餐饮有限公司', id_number: '91110000600037341L' });
  const c = await api('POST', '/api/v1/cases', company, body);
  const u = await api('POST', '/api/v1/urgings', await login('supervisor'), { case_no: c.body.case_no, message: '请今日受理', days: 1 });
  assert.equal(u.status, 201, u.text);
  const dept = u.body.department;
  const staff = await newPage(browser);
  await signIn(staff, `${dept}-chief`);
  await staff.goto(`${BASE}/supervision`);
  assert.equal(await staff.getByTestId('sweep').count(), 0, 'only supervisors sweep');
  await axe(staff, 'supervision (department)');
  const form = staff.locator('form[action="/supervision/urgings/reply"]').first();
  await form.locator('input[name=text]').fill('已受理');
  await form.locator('button').click();
  await staff.waitForURL(/\/supervision$/);
  assert.match(await staff.getByTestId('urgings').innerText(), /已回复[\s\S]*回复：已受理/);
  await screenshot(staff, 'supervision-urging-desktop-zh');
});

test('the regulator acknowledges an approval and answers a consultation on the liaison page; leaders see the dashboard charts', async () => {
  // A food business licence (regulated by the market regulator) completed, and a consultation on another case.
  const done = await completedCompanyCase('食品经营许可');
  const company = await login('company');
  const { full, ...body } = await submissionFor('食品生产许可', { kind: 'organisation', name: '银川塞上餐饮有限公司', id_number: '91110000600037341L' });
  const c = await api('POST', '/api/v1/cases', company, body);
  assert.equal(c.status, 201, c.text);
  const acc = await api('POST', `/api/v1/cases/${c.body.case_no}/accept`, await login('clerk'), {});
  const dept = acc.body.current_step.tasks[0].department;
  // The reviewer asks the market regulator from the workbench case page.
  const reviewer = await newPage(browser);
  await signIn(reviewer, `${dept}-reviewer`);
  await reviewer.goto(`${BASE}/work/cases/${c.body.case_no}`);
  const ask = reviewer.getByTestId('consult-form');
  await ask.locator('select[name=regulator]').selectOption('market');
  await ask.locator('textarea[name=question]').fill('申请人有无监管处罚记录？');
  await ask.getByTestId('do-consult').click();
  await reviewer.getByTestId('case-consultations').waitFor();
  assert.match(await reviewer.getByTestId('case-consultations').innerText(), /申请人有无监管处罚记录/);
  assert.equal((await api('GET', `/api/v1/cases/${c.body.case_no}`, await login(`${dept}-reviewer`))).body.status, 'suspended');
  await axe(reviewer, 'work case with consultation');
  await screenshot(reviewer, 'work-case-consultation-desktop-zh');
  const page = await newPage(browser);
  await signIn(page, 'regulator');
  // The liaison subscriber runs in the server's loop: wait for the message to arrive.
  for (let i = 0; i < 40; i++) {
    await page.goto(`${BASE}/liaison`);
    if ((await page.getByTestId('liaison-messages').innerText()).includes(done.case_no)) break;
    await page.waitForTimeout(250);
  }
  const item = page.getByTestId('liaison-messages').locator('li', { hasText: done.case_no });
  assert.match(await item.innerText(), /审批/);
  await axe(page, 'liaison');
  await screenshot(page, 'liaison-desktop-zh');
  await item.getByTestId('acknowledge').click();
  await page.getByTestId('liaison-message').waitFor();
  assert.equal(await page.getByTestId('liaison-messages').locator('li', { hasText: done.case_no }).count(), 0, 'acknowledged ones leave the inbox');
  const form = page.getByTestId('consultations').locator('li', { hasText: c.body.case_no }).locator('form');
  await form.locator('input[name=answer]').fill('近三年无行政处罚记录');
  await form.getByTestId('answer').click();
  await page.getByTestId('liaison-message').waitFor();
  assert.match(await page.getByTestId('consultations').innerText(), /答复：近三年无行政处罚记录/);
  const after = await api('GET', `/api/v1/cases/${c.body.case_no}`, await login(`${dept}-reviewer`));
  assert.equal(after.body.status, 'in_progress', 'the paused clock runs again');
  await screenshot(page, 'liaison-answered-desktop-zh');
  // The regulator registers its webhook endpoint; the secret is shown once.
  const reg = page.getByTestId('register-webhook');
  await reg.locator('input[name=url]').fill('http://127.0.0.1:9/oneseal-hook');
  await reg.locator('button').click();
  await page.getByTestId('webhook-secret').waitFor();
  assert.match(await page.getByTestId('webhook-secret').innerText(), /whsec_/);
  assert.match(await page.getByTestId('endpoints').innerText(), /127\.0\.0\.1:9\/oneseal-hook/);
  await page.goto(`${BASE}/liaison`);
  assert.equal(await page.getByTestId('webhook-secret').count(), 0, 'shown once');
  await axe(page, 'liaison with webhooks');

  const leader = await newPage(browser);
  await signIn(leader, 'supervisor');
  await leader.goto(`${BASE}/dashboard`);
  await leader.locator('[data-chart="trend"][data-drawn="1"] canvas').first().waitFor();
  assert.equal(await leader.locator('[data-chart][data-drawn="1"]').count(), 4, 'every chart drawn');
  assert.ok(Number(await leader.locator('[data-kpi="month_total"] .kpi-value').innerText()) >= 2);
  await axe(leader, 'dashboard');
  await screenshot(leader, 'dashboard-desktop-zh');
  await leader.goto(`${BASE}/dashboard/screen`);
  await leader.locator('[data-chart="channels"][data-drawn="1"] canvas').first().waitFor();
  await screenshot(leader, 'dashboard-screen-desktop-zh');
  const csv = await leader.request.get(`${BASE}/dashboard/tables/channels.csv`);
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /"channel","name","count"/);
  assert.deepEqual(leader.errors, [], 'no script or CSP errors');
});

test('12345: the operator takes a call and dispatches it, the unit signs and replies, the follow-up closes it; the citizen rates a completed case', async () => {
  const op = await newPage(browser);
  await signIn(op, 'hotline');
  await op.goto(`${BASE}/hotline`);
  const form = op.getByTestId('ticket-form');
  await form.locator('select[name=category]').selectOption('city-appearance');
  await form.locator('input[name=caller_name]').fill('王五');
  await form.locator('input[name=caller_phone]').fill('13912345678');
  await form.locator('textarea[name=content]').fill('北京中路人行道井盖缺失，存在安全隐患');
  await form.locator('input[name=location]').fill('金凤区北京中路');
  await form.getByTestId('ticket-submit').click();
  await op.getByTestId('ticket-created').waitFor();
  const no = (await op.getByTestId('ticket-created').innerText()).match(/RX\d+/)[0];
  await axe(op, 'hotline (operator)');
  await screenshot(op, 'hotline-operator-desktop-zh');
  const item = () => op.locator(`li[data-ticket="${no}"]`);
  assert.match(await item().innerText(), /139\*\*\*\*5678/, 'the caller is masked');
  await item().getByTestId('ticket-dispatch').click();
  await op.getByTestId('hotline-message').waitFor();
  assert.match(await item().innerText(), /待签收/);

  const unit = await newPage(browser);
  await signIn(unit, 'handling-unit');
  await unit.goto(`${BASE}/hotline`);
  const mine = () => unit.locator(`li[data-ticket="${no}"]`);
  await mine().getByTestId('ticket-sign-for').click();
  await unit.getByTestId('hotline-message').waitFor();
  await mine().locator('form[data-action="reply"] input[name=reply]').fill('已补装井盖');
  await mine().getByTestId('ticket-reply').click();
  await unit.getByTestId('hotline-message').waitFor();
  await axe(unit, 'hotline (unit)');
  await screenshot(unit, 'hotline-unit-desktop-zh');

  await op.goto(`${BASE}/hotline`);
  await item().locator('select[name=satisfaction]').selectOption('satisfied');
  await item().getByTestId('ticket-follow-up').click();
  await op.getByTestId('hotline-message').waitFor();
  assert.match(await item().innerText(), /已办结/);

  // A completed case, rated from the citizen's case page (一事一评).
  const done = await completedCompanyCase('食品经营许可');
  const citizen = await newPage(browser);
  await signIn(citizen, 'company');
  await citizen.goto(`${BASE}/me/cases/${done.case_no}`);
  await citizen.getByTestId('rate-link').click();
  await citizen.getByTestId('rate-form').waitFor();
  await citizen.locator('#level-very_satisfied').check();
  await citizen.locator('#comment').fill('办事很快');
  await citizen.getByTestId('rate-submit').click();
  await citizen.getByTestId('rate-done').waitFor();
  await axe(citizen, 'rate');
  await screenshot(citizen, 'rate-desktop-zh');
  await citizen.goto(`${BASE}/satisfaction`);
  assert.match(await citizen.getByTestId('sat-kpis').innerText(), /%/);
  await screenshot(citizen, 'satisfaction-desktop-zh');
  for (const p of [op, unit, citizen]) assert.deepEqual(p.errors, [], 'no script or CSP errors');
});
