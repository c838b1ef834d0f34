// SPDX-License-Identifier: EUPL-1.2
// upload-test.js - Debian's chromium, driven by playwright-core, through an upload request.
//
// usage: node upload-test.js CONFIG.json   (written by test_upload_browser.py)
// Opens the upload page in Dutch and English and on a phone, chooses two files, sends them
// and watches the progress bar appear, reads the confirmation page; then a file too large for
// another request is caught in the page before anything is sent. Screenshots of each page.
// Any console error or any request that leaves 127.0.0.1 fails the run.
// Prints a JSON report on stdout; exits non-zero on the first failed check.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const report = { screenshots: [], checks: [] };
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
}

async function main() {
  const context = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--lang=nl-NL', '--accept-lang=nl-NL,nl'],
    viewport: DESKTOP,
  });
  const errors = [];
  const outside = [];
  const seen = [];
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.text().startsWith('bd-test:')) seen.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.hostname !== '127.0.0.1') outside.push(r.url());
  });
  try {
    let resp = await page.goto(cfg.link);
    check(resp.status() === 200, 'upload page answers 200');
    check(await page.getAttribute('html', 'lang') === 'nl', 'page language nl');
    check(await page.getByText(cfg.requester).first().isVisible(), 'who asks is shown');
    check(await page.getByText(cfg.note).isVisible(), 'the note is shown');
    await shot(page, 'upload-nl', DESKTOP);
    await shot(page, 'upload-phone', PHONE);
    check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
          'no horizontal scrolling on a phone');
    await page.setViewportSize(DESKTOP);
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForLoadState();
    check(await page.getAttribute('html', 'lang') === 'en', 'language switch to en');
    await shot(page, 'upload-en', DESKTOP);

    // back in Dutch: two files, a name, send; the progress bar must show
    await page.goto(cfg.link);
    await page.fill('#name', 'Piet Huurder');
    await page.setInputFiles('#file', cfg.files);
    await page.evaluate(() => {
      const bar = document.getElementById('progress');
      new MutationObserver(() => {
        if (!bar.hidden) console.log('bd-test: progress shown max=' + bar.max);
      }).observe(bar, { attributes: true });
    });
    await page.getByRole('button', { name: 'Versturen' }).click();
    await page.getByText('Dank u, de bestanden zijn ontvangen').waitFor({ timeout: 60000 });
    check(seen.some((s) => s.startsWith('bd-test: progress shown')), 'progress bar seen');
    for (const f of cfg.files)
      check(await page.getByText(path.basename(f)).isVisible(), 'confirmation lists ' + path.basename(f));
    await shot(page, 'upload-done', DESKTOP);

    // a file too large for the second request: caught in the page, nothing sent
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
    await page.goto(cfg.smallLink);
    await page.setInputFiles('#file', cfg.files);
    const alert = page.locator('#check');
    await alert.waitFor({ state: 'visible' });
    check((await alert.textContent()).includes(path.basename(cfg.files[0])),
          'the too large file is named before sending');
    await page.getByRole('button', { name: 'Versturen' }).click();
    await page.waitForTimeout(500);
    check(posts.length === 0, 'nothing sent while a file is too large');
    await shot(page, 'upload-too-large', DESKTOP);

    check(errors.length === 0, 'no console errors: ' + errors.join(' | '));
    check(outside.length === 0, 'nothing fetched from elsewhere: ' + outside.join(' '));
  } finally {
    await context.close();
  }
  console.log(JSON.stringify(report));
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
