// 多图联审 comments: the company applies for the joint drawing review with a DWG drawing set; two departments
// comment on sheets of it; the company's agent reads every comment together on the case page on a phone, answers
// each and uploads the revised drawings once; then every department passes and the sealed result is issued.
// axe on the pages, the phone layout checked, screenshots taken.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, axe, screenshot, fitsWidth, api, login, signIn, submissionFor, driveToCompletion, BASE, PHONE } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function upload(token, name, bytes) {
  const r = await fetch(`${BASE}/api/v1/attachments?name=${encodeURIComponent(name)}`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' }, body: bytes,
  });
  assert.equal(r.status, 201, await r.clone().text());
  return r.json();
}

test('departments comment on the drawings; the applicant answers them all at once on a phone', async () => {
  const company = await login('company');
  const dwg = Buffer.concat([Buffer.from('AC1032'), Buffer.alloc(64)]);
  const file = await upload(company, '建筑施工图.dwg', dwg);
  const { full, ...body } = await submissionFor('施工图设计文件联合审查（多图联审）', { kind: 'organisation', name: '银川塞上餐饮有限公司', id_number: '91110000600037341L' });
  for (const m of body.materials) if (m.material_id === 'construction-drawings') m.attachment = file.id;
  const sub = await api('POST', '/api/v1/cases', company, body);
  assert.equal(sub.status, 201, sub.text);
  const no = sub.body.case_no;
  assert.equal((await api('POST', `/api/v1/cases/${no}/accept`, await login('clerk'), {})).status, 200);
  for (const [user, sheet, text] of [['fire-reviewer', '建施-03', '二层疏散楼梯净宽不足 1.1 米'], ['civil-air-defence-reviewer', '人防-01', '防空地下室口部未设防护密闭门']]) {
    const r = await api('POST', `/api/v1/cases/${no}/drawing-comment`, await login(user), { material_id: 'construction-drawings', sheet, text });
    assert.equal(r.status, 200, r.text);
  }

  // The company's agent (the demo citizen) answers on a phone.
  const page = await newPage(browser, { viewport: PHONE });
  await signIn(page, 'citizen');
  await page.goto(`${BASE}/me/cases/${no}`);
  const section = page.getByTestId('drawing-comments');
  assert.equal(await section.getByTestId('drawing-comment').count(), 2);
  await axe(page, 'case page with drawing comments');
  await fitsWidth(page, 'case page with drawing comments');
  await page.locator('#f_answer_c1').fill('疏散楼梯净宽已调整为 1.2 米，见修改版建施-03');
  await page.locator('#f_answer_c2').fill('已增设防护密闭门，见人防-01');
  await page.locator('#file_construction-drawings').setInputFiles({ name: '建筑施工图-修改版.dwg', mimeType: 'application/octet-stream', buffer: Buffer.concat([Buffer.from('AC1032'), Buffer.alloc(64, 1)]) });
  await screenshot(page, 'drawing-comments-phone');
  await Promise.all([page.waitForURL(new RegExp(`/me/cases/${no}$`)), page.getByTestId('answer-drawings').click()]);
  assert.equal(await page.getByTestId('answer-drawings').count(), 0, 'nothing left to answer');
  await axe(page, 'case page after the answers');
  await screenshot(page, 'drawing-comments-answered-phone');
  const c = await api('GET', `/api/v1/cases/${no}`, company);
  assert.ok(c.body.drawing_review.comments.every((x) => typeof x.answer === 'string'), c.text);
  const drawings = c.body.materials.find((m) => m.material_id === 'construction-drawings');
  assert.notEqual(drawings.attachment, file.id, 'the revised set replaced the first');

  const done = await driveToCompletion(no);
  assert.equal(done.status, 'completed');
  assert.ok(done.licenses.length === 1, 'the consolidated result, sealed');
});
