// SPDX-License-Identifier: EUPL-1.2
// browser-test.js - Debian's chromium, driven by playwright-core, through the gateway's pages.
//
// usage: node browser-test.js CONFIG.json   (written by test_browser.py)
// Opens the link from a rewritten message as a person would: reads the page in Dutch and
// English, switches language, downloads a file by clicking and one by keyboard only, takes the
// zip, opens an expired link; screenshots of each page on a desktop and a phone viewport.
// Then the rewritten HTML mails (Dutch and English notice) as a mail reader shows them: the
// HTML part in a sandboxed frame at a reader's width and a phone's, the notice checked there.
// Any console error (a CSP refusal, say) or any request that leaves 127.0.0.1 fails the run.
// Prints a JSON report on stdout; exits non-zero on the first failed check.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const report = { downloads: {}, screenshots: [], checks: [] };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const READER = { width: 800, height: 900 };
const NOTICE = {
  nl: { link: 'Download de bijlagen', until: /beschikbaar tot \d{1,2} [a-z]+ \d{4}/ },
  en: { link: 'Download the attachments', until: /available until \d{1,2} [A-Z][a-z]+ \d{4}/ },
};

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

async function download(page, action, saveAs) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), action()]);
  const failure = await dl.failure();
  check(failure === null, 'download completed: ' + failure);
  const file = path.join(cfg.downloadDir, saveAs);
  await dl.saveAs(file);
  return { file, suggested: dl.suggestedFilename() };
}

// The frame as tall as the mail in it, so that a screenshot of the page shows all of it.
async function fitFrame(page) {
  const frame = page.frames().find((f) => f !== page.mainFrame());
  await page.evaluate(() => { document.querySelector('iframe').style.height = '0'; });
  const height = await frame.evaluate(() => {
    const style = getComputedStyle(document.body);
    return document.body.scrollHeight + parseFloat(style.marginTop) + parseFloat(style.marginBottom);
  });
  await page.evaluate((h) => { document.querySelector('iframe').style.height = h + 'px'; }, height);
  return frame;
}

// A screenshot of the mail as far as it goes (the reader's window below it is empty).
async function mailShot(page, file) {
  const height = await page.evaluate(() => document.body.scrollHeight);
  const viewport = page.viewportSize();
  const full = path.join(cfg.screenshotDir, file + '.png');
  if (height + 16 < viewport.height) {
    await page.screenshot({ path: full, clip: { x: 0, y: 0, width: viewport.width, height: height + 16 } });
  } else {
    await page.screenshot({ path: full, fullPage: true });
  }
  report.screenshots.push(full);
}

// One rewritten mail (m.name: nl, en, or both): each notice is there, visible, in its
// language, after the text and in that order; each link is the one in the text part (the
// gateway's); the expiry date is there; nothing sticks out on a phone.
async function mail(page, m) {
  const langs = m.name === 'both' ? ['nl', 'en'] : [m.name];
  const what = 'mail ' + m.name + ': ';
  await page.setViewportSize(READER);
  await page.goto('about:blank'); // not under the gateway's Content-Security-Policy
  await page.setContent(m.page);
  let frame = await fitFrame(page);
  const text = await frame.evaluate(() => document.body.innerText);
  let after = text.indexOf(m.greeting);
  check(after >= 0, what + 'the text is there');
  for (const lang of langs) {
    const words = NOTICE[lang];
    const link = frame.getByRole('link', { name: words.link });
    check(await link.count() === 1, what + 'one notice link "' + words.link + '"');
    check(await link.isVisible(), what + 'the ' + lang + ' link is visible');
    const href = await link.getAttribute('href');
    check(href.startsWith(cfg.gatewayUrl + '/d/') && href === m.link, what + 'the link goes to the gateway: ' + href);
    const box = await link.boundingBox();
    check(box !== null && box.x >= 0 && box.x + box.width <= READER.width, what + 'link within the width');
    check(words.until.test(text), what + 'expiry date in ' + lang);
    check(text.indexOf(words.link) > after, what + 'the ' + lang + ' notice in its place (after the text, Dutch first)');
    after = text.indexOf(words.link);
  }
  for (const name of cfg.files.slice(0, 2).map((f) => f.name)) {
    check(text.includes(name), what + 'file listed: ' + name);
  }
  const others = Object.keys(NOTICE).filter((l) => !langs.includes(l));
  for (const lang of others) {
    check(!text.includes(NOTICE[lang].link), what + 'no ' + lang + ' notice');
  }
  await mailShot(page, 'mail-' + m.name);
  await page.setViewportSize(PHONE);
  frame = await fitFrame(page);
  check(await frame.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
        what + 'no horizontal scrolling on a phone');
  check(await frame.getByRole('link', { name: NOTICE[langs[0]].link }).isVisible(), what + 'link visible on a phone');
  await mailShot(page, 'mail-' + m.name + '-phone');
}

async function main() {
  const context = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--lang=nl-NL', '--accept-lang=nl-NL,nl'], // a Dutch browser, downloads included
    acceptDownloads: true,
    viewport: DESKTOP,
  });
  const errors = [];
  const outside = [];
  const page = context.pages()[0] || await context.newPage();
  // The 410 and 404 pages are logged as failed loads; anything else (a CSP refusal) is a fault.
  const expected = /^Failed to load resource: the server responded with a status of 4(04|10) /;
  page.on('console', (m) => { if (m.type() === 'error' && !expected.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.hostname !== '127.0.0.1') outside.push(r.url());
  });
  try {
    // The landing page, in Dutch (the browser asks for nl-NL).
    let resp = await page.goto(cfg.link);
    check(resp.status() === 200, 'landing answers 200');
    check(await page.getAttribute('html', 'lang') === 'nl', 'page language nl');
    check((await page.textContent('h1')).trim() === 'U hebt bestanden ontvangen', 'Dutch heading');
    const until = await page.textContent('.until');
    check(/^Beschikbaar tot \d{1,2} [a-z]+ \d{4}$/.test(until.trim()), 'expiry date in Dutch: ' + until);
    for (const name of cfg.files.map((f) => f.name)) {
      check(await page.getByRole('heading', { name, exact: true }).count() === 1, 'file listed: ' + name);
    }
    const logo = page.locator('header img');
    check(await logo.count() === 1 && (await logo.getAttribute('alt')).length > 0, 'logo with alt text');
    check(await logo.evaluate((img) => img.complete && img.naturalWidth > 0), 'logo loaded');
    await shot(page, 'landing-nl', DESKTOP);
    await shot(page, 'landing-nl-phone', PHONE);
    // On a phone nothing sticks out sideways.
    check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
          'no horizontal scrolling on a phone');
    await page.setViewportSize(DESKTOP);

    // Click "Downloaden" for the first file.
    const first = cfg.files[0];
    let got = await download(page, () => page.getByRole('link', { name: 'Downloaden ' + first.name }).first().click(),
                             'clicked-' + first.index);
    check(got.suggested === first.name, 'saved under its own name: ' + got.suggested);
    report.downloads[first.index] = got.file;

    // Keyboard only: Tab to the second file's button, Enter.
    const second = cfg.files[1];
    await page.goto(cfg.link);
    let focused = '';
    for (let i = 0; i < 20 && !focused.includes(second.name); i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement ? document.activeElement.textContent : '');
    }
    check(focused.includes(second.name), 'Tab reaches the button of ' + second.name);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(outline !== 'none', 'the focused button shows a focus outline');
    got = await download(page, () => page.keyboard.press('Enter'), 'keyboard-' + second.index);
    check(got.suggested === second.name, 'keyboard download saved under its own name');
    report.downloads[second.index] = got.file;

    // Everything as one zip.
    got = await download(page, () => page.getByRole('link', { name: /Alles downloaden/ }).click(), 'all.zip');
    check(got.suggested === 'bijlagen.zip', 'zip name: ' + got.suggested);
    report.downloads.all = got.file;

    // The visible language switch.
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForLoadState();
    check(page.url().endsWith('?lang=en'), 'switch goes to ?lang=en');
    check((await page.textContent('h1')).trim() === 'You have received files', 'English after the switch');

    // English by Accept-Language.
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'en-GB,en;q=0.9' });
    resp = await page.goto(cfg.link);
    check(await page.getAttribute('html', 'lang') === 'en', 'English by Accept-Language');
    check(/^Available until \d{1,2} [A-Z][a-z]+ \d{4}$/.test((await page.textContent('.until')).trim()),
          'expiry date in English');
    await shot(page, 'landing-en', DESKTOP);
    await shot(page, 'landing-en-phone', PHONE);

    // The expired link, both languages.
    for (const lang of ['nl', 'en']) {
      await page.setExtraHTTPHeaders({ 'Accept-Language': lang });
      resp = await page.goto(cfg.expiredLink);
      check(resp.status() === 410, 'expired answers 410 (' + lang + ')');
      const h1 = (await page.textContent('h1')).trim();
      check(h1 === (lang === 'nl' ? 'Deze link is verlopen' : 'This link has expired'), 'expired heading ' + lang);
      await shot(page, 'expired-' + lang, DESKTOP);
      await shot(page, 'expired-' + lang + '-phone', PHONE);
    }
    // Not found: looked at, not committed.
    await page.setExtraHTTPHeaders({});
    resp = await page.goto(cfg.link.slice(0, -4) + 'AAAA');
    check(resp.status() === 404, 'a damaged link answers 404');
    await shot(page, 'not-found-nl', DESKTOP);

    // The rewritten HTML mails as a mail reader shows them.
    for (const m of cfg.mails) await mail(page, m);

    check(errors.length === 0, 'no console errors: ' + errors.join(' | '));
    check(outside.length === 0, 'nothing fetched from elsewhere: ' + outside.join(' '));
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write((e && e.stack) || String(e));
  process.stderr.write('\n');
  process.exit(1);
});
