// Every main page, on a desktop and on a 375 px phone, in Chinese and in English: axe finds no serious or
// critical violation, nothing is wider than a phone, no script or CSP error; screenshots of each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, axe, screenshot, fitsWidth, api, BASE, PHONE, DESKTOP, signIn } from './lib.mjs';

let browser;
let foodCode;
before(async () => {
  browser = await launch();
  const hits = await api('GET', `/api/v1/items?q=${encodeURIComponent('食品经营许可')}`);
  foodCode = hits.body.items.find((i) => i.name === '食品经营许可').impl_code;
});
after(async () => { await browser?.close(); });

const pages = () => [
  // [who (null: anonymous), path, name]
  [null, '/', 'home'],
  [null, '/services', 'services'],
  [null, `/services/${foodCode}`, 'guide'],
  [null, '/bundles/open-restaurant', 'bundle'],
  [null, '/verify', 'verify'],
  [null, '/progress', 'progress'],
  [null, '/signin', 'signin'],
  [null, '/register', 'register'],
  ['citizen', '/me', 'me'],
  ['citizen', `/apply/${foodCode}?step=1`, 'apply-1'],
  ['citizen', '/apply/open-restaurant?step=2', 'apply-bundle-form'],
  ['citizen', `/apply/${foodCode}?step=3`, 'apply-3'],
  ['clerk', '/work', 'work'],
  ['clerk', '/window', 'window'],
  ['clerk', `/window/apply/${foodCode}`, 'window-apply'],
  ['admin', '/admin/staff', 'admin-staff'],
  ['supervisor', '/supervision', 'supervision'],
  ['supervisor', '/dashboard', 'dashboard'],
  ['supervisor', '/dashboard/screen', 'dashboard-screen'],
  ['regulator', '/liaison', 'liaison'],
  ['hotline', '/hotline', 'hotline-operator'],
  ['admin', '/admin/hotline', 'admin-hotline'],
  ['handling-unit', '/hotline', 'hotline-unit'],
  [null, '/knowledge', 'knowledge'],
  [null, '/satisfaction', 'satisfaction'],
  [null, '/rate?kind=window', 'rate'],
  ['admin', `/admin/items/${foodCode}`, 'admin-item'],
  ['admin', '/admin/project-types/social-investment-general', 'admin-project-type'],
  ['company', '/me/projects', 'projects'],
];

for (const [lang, locale] of [['zh', 'zh-CN'], ['en', 'en-GB']]) {
  for (const [vp, vpName] of [[DESKTOP, 'desktop'], [PHONE, 'phone']]) {
    test(`every main page: ${vpName}, ${lang}`, async () => {
      const list = pages();
      const byUser = new Map();
      for (const [who, path, name] of list) {
        let page = byUser.get(who);
        if (!page) {
          page = await newPage(browser, { viewport: vp, locale });
          if (who) await signIn(page, who);
          byUser.set(who, page);
        }
        const r = await page.goto(`${BASE}${path}`);
        assert.equal(r.status(), 200, `${path}: ${r.status()}`);
        assert.equal(await page.locator('html').getAttribute('lang'), lang === 'zh' ? 'zh-CN' : 'en', path);
        const title = await page.title();
        assert.ok(title.length > 0 && title.length < 120 && !title.includes('<'), `${path}: a short plain title, got ${title}`);
        await axe(page, `${name} (${vpName}, ${lang})`);
        if (vp === PHONE) await fitsWidth(page, `${name} (${lang})`);
        await screenshot(page, `sweep-${name}-${vpName}-${lang}`);
      }
      for (const page of byUser.values()) assert.deepEqual(page.errors, [], 'no script or CSP errors');
    });
  }
}
