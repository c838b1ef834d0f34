// SPDX-License-Identifier: EUPL-1.2
// recipients-test.js - Debian's chromium, driven by playwright-core, through what a recipient
// who must prove who they are sees, and what the sender sees on the management link.
//
// usage: node recipients-test.js CONFIG.json   (written by tests/e2e/test_recipients.py)
// mode "verify": the link asks for an address; a wrong one, then the right one; the code the
// test harness found at smtp-sink (it writes cfg.codeFile) unlocks the download; the sender's
// management link shows who downloaded, and Revoke makes the link say "withdrawn".
// mode "access": the link asks for the sender's code; a wrong one is refused, the right one
// downloads. Screenshots of every new page, nl and en, desktop and phone.
// Prints a JSON report on stdout; exits non-zero on the first failed check.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const report = { downloads: {}, screenshots: [], checks: [] };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
  report.checks.push(what);
}

async function shot(page, name, viewport) {
  await page.setViewportSize(viewport);
  const file = path.join(cfg.screenshotDir, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  report.screenshots.push(file);
  await page.setViewportSize(DESKTOP);
}

// The page at URL in both languages and on a phone, screenshots NAME-nl, NAME-en, NAME-phone.
async function shots(page, url, name) {
  const sep = url.includes('?') ? '&' : '?';
  for (const lang of ['en', 'nl']) {
    await page.goto(url + sep + 'lang=' + lang);
    await shot(page, name + '-' + lang, DESKTOP);
  }
  await shot(page, name + '-nl-phone', PHONE);
}

async function download(page, selector, saveAs) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }),
    page.click(selector)]);
  check((await dl.failure()) === null, 'download completed');
  const file = path.join(cfg.downloadDir, saveAs);
  await dl.saveAs(file);
  return file;
}

async function waitFile(file, seconds) {
  for (let i = 0; i < seconds * 10; i++) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '')
      return fs.readFileSync(file, 'utf8').trim();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no ' + file + ' after ' + seconds + ' s');
}

async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), page.click(button)]);
}

async function verifyFlow(page) {
  // the link asks for the address first: the page has no download link
  const first = await page.goto(cfg.link + '?lang=en');
  check(first.status() === 200, 'the link answers');
  check(await page.locator('input#address').count() === 1, 'the link asks for an address');
  check(await page.locator('a[download]').count() === 0, 'no download before verifying');
  await shots(page, cfg.link, 'verify-address');
  // a wrong address gets the same answer as a right one (no mail: the harness checks)
  await page.goto(cfg.link + '?lang=en');
  await page.fill('input#address', cfg.wrongAddress);
  await submit(page, 'button[type=submit]');
  check(await page.locator('input#code').count() === 1, 'a wrong address: asked for a code all the same');
  const wrongAnswer = await page.locator('main').innerText();
  // the same step in Dutch, for its screenshot (an unknown address: still no mail)
  await page.goto(cfg.link + '?lang=nl');
  await page.fill('input#address', cfg.wrongAddress);
  await submit(page, 'button[type=submit]');
  check(await page.locator('input#code').count() === 1, 'in Dutch: asked for a code');
  check(await page.locator('html').getAttribute('lang') === 'nl', 'the code form in Dutch');
  await shot(page, 'verify-code-nl', DESKTOP);
  // the right address
  await page.goto(cfg.link + '?lang=en');
  await page.fill('input#address', cfg.rightAddress);
  await submit(page, 'button[type=submit]');
  check(await page.locator('input#code').count() === 1, 'the right address: asked for the code');
  check((await page.locator('main').innerText()).replace(cfg.rightAddress, cfg.wrongAddress) === wrongAnswer,
    'the same answer for a wrong and a right address');
  await shot(page, 'verify-code-en', DESKTOP);
  await shot(page, 'verify-code-en-phone', PHONE);
  fs.writeFileSync(cfg.requestedFile, 'yes');
  const code = await waitFile(cfg.codeFile, 60);
  check(/^\d{6}$/.test(code), 'a six-digit code arrived at smtp-sink');
  await page.fill('input#code', code);
  await submit(page, 'button[type=submit]');
  check(await page.locator('a[download]').count() >= 1, 'the code opens the files');
  report.downloads['1'] = await download(page, 'a[href$="/1"]', 'verified-1');
  // the sender's management link shows the download
  let shown = false;
  for (let i = 0; i < 50 && !shown; i++) {
    await page.goto(cfg.manageLink + '?lang=en');
    shown = (await page.locator('main').innerText()).includes('Downloaded by ' + cfg.rightAddress);
    if (!shown) await new Promise((r) => setTimeout(r, 200));
  }
  check(shown, 'the management page shows who downloaded');
  await shots(page, cfg.manageLink, 'manage');
  fs.writeFileSync(cfg.downloadedFile, 'yes');
  await waitFile(cfg.receiptFile, 60);
  // revoke: one POST from the page itself
  await page.goto(cfg.manageLink + '?lang=en');
  await submit(page, 'button.danger');
  check((await page.locator('h1').innerText()).includes('revoked'), 'revoked');
  await shot(page, 'manage-revoked-en', DESKTOP);
  // the recipient's link now says the sender withdrew the files
  const gone = await page.goto(cfg.link + '?lang=en');
  check(gone.status() === 410, 'the link answers 410 after the revocation');
  check((await page.locator('h1').innerText()).includes('withdrawn'), 'the withdrawn page');
  await shots(page, cfg.link, 'withdrawn');
}

async function accessFlow(page) {
  const first = await page.goto(cfg.link + '?lang=en');
  check(first.status() === 200, 'the link answers');
  check(await page.locator('input#code').count() === 1, 'the link asks for the sender\'s code');
  check(await page.locator('input#address').count() === 0, 'no address asked');
  await shots(page, cfg.link, 'verify-access');
  await page.goto(cfg.link + '?lang=en');
  await page.fill('input#code', cfg.wrongCode);
  const [wrong] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  check(wrong.status() === 403, 'a wrong code is refused (403)');
  check(await page.locator('a[download]').count() === 0, 'no download after a wrong code');
  await page.goto(cfg.link + '?lang=en');
  await page.fill('input#code', cfg.accessCode);
  await submit(page, 'button[type=submit]');
  check(await page.locator('a[download]').count() >= 1, 'the sender\'s code opens the files');
  report.downloads['1'] = await download(page, 'a[href$="/1"]', 'access-1');
}

(async () => {
  const context = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--lang=nl-NL', '--accept-lang=nl-NL,nl'],
    acceptDownloads: true,
    viewport: DESKTOP,
  });
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
  });
  try {
    if (cfg.mode === 'verify') await verifyFlow(page);
    else await accessFlow(page);
    check(errors.length === 0, 'no console errors: ' + errors.join('; '));
  } catch (e) {
    console.error(e.stack || String(e));
    await context.close();
    process.exit(1);
  }
  await context.close();
  console.log(JSON.stringify(report));
})();
