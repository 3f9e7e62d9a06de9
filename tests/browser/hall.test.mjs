// A morning at a service point: a citizen books on a phone, a visitor takes a number at a kiosk (1080×1920), the
// hall screen shows the call live (server-sent events) when the clerk calls next on the window PC, the visitor's
// phone shows the window, and the number is served into an accepted case. axe on every page; screenshots.
// Nothing here depends on today's date or the time of day: the booking takes the first day that has slots, and the
// district centre is published open around the clock (numbers are taken only while a point is open); the window
// clerk is posted there first (a clerk works only the windows of their post).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, axe, screenshot, fitsWidth, api, login, BASE, signIn, submissionFor, PHONE, DESKTOP } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const POINT = 'xq-centre';

test('hall: book on a phone, take a number at a kiosk, the screen and the window', async () => {
  const admin = await login('admin');
  const net = (await api('GET', '/api/v1/service-network')).body;
  const point = net.point.find((p) => p.id === POINT);
  Object.assign(point, { opens: 'every_day', hours: ['00:00-23:59'] });
  assert.equal((await api('PUT', '/api/v1/service-network', admin, net)).status, 200);
  const posted = await api('PUT', '/api/v1/staff/clerk/post', admin, { service_point: POINT, window: '1' });
  assert.equal(posted.status, 200, posted.text);
  // Where can I do it? The network page for company establishment, on a phone.
  const phone = await newPage(browser, { viewport: PHONE });
  await signIn(phone, 'citizen');
  // 公司设立登记 (catalog/items/company-establishment.toml).
  const code = '11640100MB960001070100001000001';
  assert.equal((await api('GET', `/api/v1/items/${code}`)).body.name, '公司设立登记');
  await phone.goto(`${BASE}/hall?item=${code}&near=38.4680,106.2880`);
  const first = await phone.locator('[data-testid=hall-points] h2 a').first().getAttribute('href');
  assert.equal(first, `/hall/${POINT}`, 'the district centre is nearest to its own address');
  await axe(phone, 'hall network (phone)');
  await fitsWidth(phone, 'hall network');
  await screenshot(phone, 'hall-network-phone-zh');

  // Book the first day with slots.
  await phone.goto(`${BASE}/hall/${POINT}/book?item=${code}`);
  const dates = await phone.locator('#q-date option').evaluateAll((os) => os.map((o) => o.value));
  let booked = false;
  for (const d of dates) {
    await phone.goto(`${BASE}/hall/${POINT}/book?item=${code}&date=${d}`);
    if (await phone.getByTestId('no-slots').count()) continue;
    await phone.locator('input[name=slot]:not([disabled])').first().check();
    await phone.locator('#name').fill('王小明');
    await phone.locator('#id_number').fill('64010419800101003X');
    await phone.locator('#phone').fill('13912345678');
    await axe(phone, 'hall booking (phone)');
    await Promise.all([phone.waitForLoadState('load'), phone.getByTestId('book-submit').click()]);
    booked = true;
    break;
  }
  assert.ok(booked, 'a day with slots within the booking window');
  const bookingCode = (await phone.getByTestId('booking-code').innerText()).trim();
  assert.match(bookingCode, /^\d{8}$/);
  await screenshot(phone, 'hall-booked-phone-zh');
  const mine = await api('GET', `/api/v1/appointments/${bookingCode}`, await login('citizen'));
  assert.equal(mine.body.status, 'booked');
  assert.equal(mine.body.phone, '139****5678', 'masked');

  // The hall screen is open before anyone is called.
  const screenCtx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN', bypassCSP: true });
  const screen = await screenCtx.newPage();
  const screenErrors = [];
  screen.on('pageerror', (e) => screenErrors.push(String(e)));
  await screen.goto(`${BASE}/hall/${POINT}/screen`);
  await screen.waitForFunction(() => document.body.getAttribute('data-live') === '1');
  await axe(screen, 'hall screen');

  // A walk-in takes a number at the kiosk.
  const kioskCtx = await browser.newContext({ viewport: { width: 1080, height: 1920 }, hasTouch: true, locale: 'zh-CN', bypassCSP: true });
  const kiosk = await kioskCtx.newPage();
  await kiosk.goto(`${BASE}/hall/${POINT}`);
  await axe(kiosk, 'hall point (kiosk)');
  await kiosk.locator('#item').selectOption(code);
  await kiosk.getByTestId('take-number').tap();
  await kiosk.getByTestId('my-number').waitFor();
  const number = (await kiosk.getByTestId('my-number').innerText()).trim();
  assert.match(number, /^[AMP]\d{3}$/);
  await axe(kiosk, 'my number (kiosk)');
  await screenshot(kiosk, 'hall-number-kiosk-zh');

  // The clerk calls next on the window PC; the screen shows it without a reload.
  const pc = await newPage(browser, { viewport: DESKTOP });
  await signIn(pc, 'clerk');
  await pc.goto(`${BASE}/hall/${POINT}/window/1`);
  await axe(pc, 'window console');
  await pc.getByTestId('call-next').click();
  await pc.getByTestId('window-current').waitFor();
  assert.equal((await pc.getByTestId('window-current').innerText()).trim(), number);
  await screen.locator('#calling tr', { hasText: number }).waitFor({ timeout: 10000 });
  assert.match(await screen.locator('#calling tr').first().getAttribute('data-announce'), new RegExp(`请 ${number} 号到 1 号窗口办理`));
  await screenshot(screen, 'hall-screen-1080p-zh');
  assert.deepEqual(screenErrors, []);

  // The visitor's page now says which window.
  await kiosk.reload();
  assert.equal((await kiosk.getByTestId('my-window').innerText()).trim(), '1');

  // Served: the application accepted at the window becomes a case linked to the number.
  const { full, ...body } = await submissionFor('公司设立登记', { kind: 'person', name: '王小明', id_number: '64010419800101003X' }, 'window');
  const clerk = await login('clerk');
  const c = await api('POST', '/api/v1/cases', clerk, body);
  assert.equal(c.status, 201, c.text);
  await pc.locator('form', { has: pc.locator('input[value=start]') }).getByRole('button').click();
  await pc.locator('#case_no').fill(c.body.case_no);
  await pc.getByTestId('window-finish').click();
  await pc.getByTestId('window-message').waitFor();
  await screenshot(pc, 'hall-window-desktop-zh');
  const n = await api('GET', `/api/v1/service-points/${POINT}/numbers/${number}`);
  assert.equal(n.body.status, 'done');
  assert.deepEqual(pc.errors, []);
  assert.deepEqual(phone.errors, []);
  await screenCtx.close();
  await kioskCtx.close();
});
