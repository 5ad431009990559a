// The web page in a real browser: Debian's Chromium driven by puppeteer-core (which downloads nothing)
// against the running stack over HTTPS. Prints "ok NAME" and "FAIL NAME<TAB>WHY" lines for
// tests/integration/test_browser.sh, which started the stack and counts them.
// Env: BASE (https://localhost:PORT), CACERT (Caddy's local CA), KEY (an API key of OWNER), OWNER, HOP_BIN and
// HOP_DB (to revoke the key at the end), OUT (screenshots and downloads), CHROMIUM (default /usr/bin/chromium).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const { BASE, CACERT, KEY, OWNER, HOP_BIN, OUT } = process.env;
const APP = `${BASE}/_hop/app/`;
const FIRST_LOAD_MAX = 100 * 1024;
// a phone's width (isMobile would make Puppeteer reload the page, losing what the screenshot is of)
const PHONE = { width: 390, height: 844, deviceScaleFactor: 1 };
const DESKTOP = { width: 1280, height: 860, deviceScaleFactor: 1 };
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

let failed = 0;
const ok = (name) => console.log(`ok ${name}`);
const fail = (name, why) => {
  failed++;
  console.log(`FAIL ${name}\t${String(why).replace(/\s+/g, ' ').slice(0, 600)}`);
};
const check = (name, cond, why) => (cond ? ok(name) : fail(name, why));

// One step: a failure (a timeout, an exception) is recorded and the suite goes on where it can.
let current = '';
async function step(name, fn) {
  current = name;
  try {
    await fn();
  } catch (err) {
    fail(name, err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err);
  }
}

// Chromium trusts Caddy's local CA as a person would: added to the NSS store of a HOME of its own (certutil
// from libnss3-tools). No --ignore-certificate-errors.
function trustingHome(pemFile) {
  const home = join(OUT, 'chromium-home');
  const db = join(home, '.pki', 'nssdb');
  rmSync(home, { recursive: true, force: true });
  mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
  execFileSync('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'hop test CA', '-i', pemFile]);
  return home;
}

mkdirSync(OUT, { recursive: true });
const downloads = join(OUT, 'downloads');
rmSync(downloads, { recursive: true, force: true });
mkdirSync(downloads, { recursive: true });

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  env: { ...process.env, HOME: trustingHome(CACERT) },
  args: ['--no-sandbox',
    // nothing may leave the machine: any host but localhost fails to resolve
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost', '--no-first-run', '--disable-extensions'],
});
const context = browser.defaultBrowserContext();
await context.overridePermissions(BASE, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
const page = await browser.newPage();
await page.setViewport(DESKTOP);
const cdp = await page.createCDPSession();
await cdp.send('Network.enable');
await (await browser.target().createCDPSession()).send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });

// Everything the page does, to judge at the end: console errors, failed requests, answers >= 400, other origins.
const consoleErrors = [];
const failedRequests = [];
const badAnswers = [];
const foreign = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
page.on('requestfailed', (r) => {
  // a download hands the response to the download manager: Chromium reports that as net::ERR_ABORTED
  // and an answer without a body (204) as net::ERR_ABORTED after the page has it (the fetch resolves)
  const st = r.response() ? r.response().status() : 0;
  if (r.failure()?.errorText === 'net::ERR_ABORTED' && (r.url().includes('/qr?') || st === 204)) return;
  failedRequests.push(`${r.method()} ${r.url()} ${r.failure()?.errorText} status ${st} (in: ${current})`);
});
page.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('data:')) foreign.push(r.url()); });
page.on('response', (r) => { if (r.status() >= 400) badAnswers.push(`${r.status()} ${r.request().method()} ${r.url().slice(BASE.length)}`); });
// The answers >= 400 the scenario provokes on purpose; each must be seen, and no other.
const expectedBad = [];
const expectBad = (status, method, pathPrefix) => expectedBad.push({ status, method, pathPrefix });

// a fresh load of the page at hash (a goto that changes only the hash would not reload it)
async function open(hash) {
  // leave only once the page's own requests are done: leaving earlier would abort them (a failed request)
  await page.waitForNetworkIdle({ idleTime: 300, timeout: 10000 });
  await page.goto('about:blank');
  await page.goto(`${APP}${hash}`, { waitUntil: 'load' });
}
// empties an input the way a person would: select all, delete
async function clear(sel) {
  await page.focus(sel);
  await page.$eval(sel, (e) => e.select());
  await page.keyboard.press('Backspace');
}
const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());
const value = (sel) => page.$eval(sel, (e) => e.value);
const waitText = (sel, re, timeout = 10000) =>
  page.waitForFunction((s, src) => { const e = document.querySelector(s); return e && new RegExp(src).test(e.textContent); }, { timeout }, sel, re.source);

async function shots(name) {
  await page.screenshot({ path: join(OUT, `${name}-desktop.png`), fullPage: true });
  await page.setViewport(PHONE);
  await new Promise((r) => setTimeout(r, 300));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(`${name}: nothing wider than a phone screen`, overflow <= 0, `the page is ${overflow} px wider than 390`);
  await page.screenshot({ path: join(OUT, `${name}-phone.png`), fullPage: true });
  await page.setViewport(DESKTOP);
  await new Promise((r) => setTimeout(r, 200));
}

const axeSource = readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
async function axe(name) {
  // evaluated through the DevTools protocol, which the page's CSP (no inline script) does not govern
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(`${name}: axe-core finds no serious or critical violation`, bad.length === 0, JSON.stringify(bad));
  const minor = res.filter((v) => !bad.includes(v));
  if (minor.length) console.log(`note ${name}: axe-core, minor: ${JSON.stringify(minor)}`);
}

// fetch from Node (trusting Caddy's CA through NODE_EXTRA_CA_CERTS), never following redirects
const raw = (path, init = {}) => fetch(BASE + path, { redirect: 'manual', ...init });
const apiKey = (path, init = {}) => raw(`/api${path}`, { ...init, headers: { Authorization: `Bearer ${KEY}`, ...(init.headers || {}) } });

// ---- first load, signed out ----------------------------------------------------------------------------
await step('first load', async () => {
  let bytes = 0;
  const count = (e) => { bytes += e.encodedDataLength; };
  cdp.on('Network.loadingFinished', count);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.goto(APP, { waitUntil: 'load' });
  await page.waitForSelector('#signin');
  await new Promise((r) => setTimeout(r, 500));
  cdp.off('Network.loadingFinished', count);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  check(`first load transfers at most 100 KB (${bytes} bytes)`, bytes > 0 && bytes <= FIRST_LOAD_MAX, `${bytes} bytes`);
  console.log(`note first load: ${bytes} bytes transferred`);
  check('signed out: the sign-in form', await page.$('#signin') !== null, 'no #signin');
  const res = await raw('/_hop/app/');
  const csp = res.headers.get('content-security-policy') || '';
  check('the page has a strict CSP without inline script', /script-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp) && /default-src 'none'/.test(csp), csp);
  check('the page is compressed', (await raw('/_hop/app/app.js', { headers: { 'Accept-Encoding': 'gzip' } })).headers.get('content-encoding') === 'gzip', 'no gzip');
  await shots('signin');
  await axe('sign-in');
});

// ---- sign in -------------------------------------------------------------------------------------------
await step('a wrong key', async () => {
  expectBad(401, 'POST', '/api/session');
  await page.type('#f-key', 'hop_00000000000000000000000000000000');
  await page.keyboard.press('Enter');
  await waitText('#f-key-error', /unknown or revoked/);
  check('a wrong key: the error is shown at the key field', await page.$eval('#f-key', (e) => e.getAttribute('aria-invalid')) === 'true', 'key field not marked invalid');
});

await step('sign in from the keyboard', async () => {
  await clear('#f-key');
  await page.keyboard.type(KEY);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#shorten', { timeout: 10000 });
  ok('sign in: the links page opens');
  const cookies = await browser.cookies();
  const c = cookies.find((x) => x.name === 'hop_session');
  check('the session cookie is HttpOnly, Secure, SameSite=Strict', c && c.httpOnly && c.secure && c.sameSite === 'Strict', JSON.stringify(c));
  check('the key is not kept in the browser', !(await page.evaluate((k) => JSON.stringify({ ...localStorage }).includes(k) || JSON.stringify({ ...sessionStorage }).includes(k) || document.cookie.includes(k), KEY)), 'found in storage');
});

// ---- shorten -------------------------------------------------------------------------------------------
async function shorten(url, opts = {}) {
  await open('#/');
  await page.waitForSelector('#shorten');
  await page.waitForSelector('#f-title'); // the options are built once the domains and tags are read
  await page.type('#f-url', url);
  if (Object.keys(opts).length) {
    await page.click('details summary');
    for (const [k, v] of Object.entries(opts)) await page.type(`#f-${k.replace('.', '-')}`, v);
  }
  await page.click('#shorten button[type=submit]');
}

let shortOne = '';
await step('shorten', async () => {
  await shorten('https://example.com/browser/one', { slug: 'br-one', title: 'Browser one', tags: 'docs, spring' });
  await page.waitForSelector('#result:not([hidden])', { timeout: 10000 });
  shortOne = await value('#short');
  check('shorten: the short URL is the answer', shortOne === `${BASE}/br-one`, shortOne);
  await page.click('#copy');
  await waitText('#status', /Copied/);
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  check('copy: the clipboard holds the short URL', clip === shortOne, clip);
  await shots('shorten');
});

await step('API errors at their fields', async () => {
  expectBad(422, 'POST', '/api/links');
  await shorten('example.com/no-scheme');
  await waitText('#f-url-error', /absolute http or https URL/);
  check('a bad url: the API error is shown at the url field', await page.$eval('#f-url', (e) => e.getAttribute('aria-invalid')) === 'true', 'not marked');
  await shots('error');
  expectBad(422, 'POST', '/api/links');
  await shorten('https://example.com/x', { tags: 'Bad Tag!' });
  await waitText('#f-tags-error', /tag/);
  check('a bad tag: the API error is shown at the tags field, its options opened', await page.$eval('details', (d) => d.open), 'options closed');
  expectBad(409, 'POST', '/api/links');
  await shorten('https://example.com/x', { slug: 'br-one' });
  await waitText('#f--error', /already taken/);
  ok('a taken slug: the conflict is shown with the form');
});

await step('more links', async () => {
  for (const [url, slug, tags] of [['https://example.org/two', 'br-two', 'other'], ['https://example.net/three', 'br-three', ''], ['https://example.com/del', 'br-del', '']]) {
    const opts = { slug };
    if (tags) opts.tags = tags;
    await shorten(url, opts);
    await page.waitForSelector('#result:not([hidden])', { timeout: 10000 });
  }
  ok('three more links made');
});

// ---- find ----------------------------------------------------------------------------------------------
const rows = () => page.$$eval('#links tbody tr td:first-child a', (as) => as.map((a) => a.textContent));
await step('find', async () => {
  await open('#/');
  await page.waitForSelector('#links tbody tr');
  const all = await rows();
  check('the list: newest first, each with its short URL', all[0].endsWith('/br-del') && all.some((r) => r.endsWith('/br-one')), all.join(' '));
  const row = await page.$$eval('#links tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
  const one = row.find((r) => r[0].endsWith('/br-one'));
  check('a row shows target, visits and state', one && one[1].includes('https://example.com/browser/one') && one[2] === '0' && one[3] === 'live', JSON.stringify(one));
  await page.type('#f-q', 'browser/one');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#links tbody tr').length === 1);
  check('search finds the one link', (await rows())[0].endsWith('/br-one'), (await rows()).join(' '));
  await clear('#f-q');
  await page.select('#f-tag', 'other');
  await page.waitForFunction(() => document.querySelectorAll('#links tbody tr').length === 1 && document.querySelector('#links tbody a').textContent.endsWith('/br-two'));
  ok('the tag filter finds the one tagged link');
  expectBad(400, 'GET', '/api/links?');
  await page.select('#f-tag', '');
  await page.type('#f-q', 'x');
  await page.keyboard.press('Enter');
  await waitText('#f-q-error', /q must/);
  ok('a 1-character search: the API error is shown at the search field');
  await clear('#f-q');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#links tbody tr').length === 4);
  await shots('links');
  await axe('links');
});

// ---- the keyboard alone -------------------------------------------------------------------------------
await step('keyboard', async () => {
  await open('#/');
  await page.waitForSelector('#links tbody tr');
  // Tab through the page: every control is reached, in reading order
  const seen = [];
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => { const e = document.activeElement; return e.id || e.tagName.toLowerCase() + ':' + e.textContent.trim().slice(0, 30); }));
  }
  const want = ['f-url', 'summary:More options', 'f-q', 'f-tag', 'signout'];
  check('Tab reaches every control of the links page', want.every((w) => seen.includes(w)) && seen.some((x) => x.includes('/br-one')), seen.join(' '));
  // a link of the list, opened with Enter
  for (let i = 0; i < 60; i++) {
    if ((await page.evaluate(() => document.activeElement.textContent)).endsWith('/br-three')) break;
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#f-url') && document.querySelector('#f-url').value === 'https://example.net/three');
  ok('Enter on a link of the list opens it');
  // the delete dialog: Escape keeps the link
  await page.focus('#delete');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#confirm[open]');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#confirm:not([open])');
  check('Escape closes the delete dialog and keeps the link', (await apiKey('/links/br-three')).status === 200, 'gone');
});

// ---- one link: edit, disable, QR -----------------------------------------------------------------------
await step('edit', async () => {
  await open('#/');
  await page.waitForSelector('#links tbody tr');
  await Promise.all([page.waitForSelector('#edit'), page.evaluate(() => [...document.querySelectorAll('#links tbody a')].find((a) => a.textContent.endsWith('/br-one')).click())]);
  await page.waitForFunction(() => document.querySelector('#f-url') && document.querySelector('#f-url').value !== '');
  check('the link page shows its fields', await value('#f-title') === 'Browser one' && await value('#f-tags') === 'docs, spring', await value('#f-title'));
  await clear('#f-title');
  await page.type('#f-title', 'Browser one, edited');
  await page.type('#f-max_visits', '100');
  await page.click('#edit button[type=submit]');
  await waitText('#status', /Saved/);
  const l = await (await apiKey('/links/br-one')).json();
  check('edit: the API has the new title and limit', l.title === 'Browser one, edited' && l.max_visits === 100, JSON.stringify(l));
  await page.waitForFunction(() => document.querySelector('img.qr').complete && document.querySelector('img.qr').naturalWidth > 0);
  ok('the QR code shows');
  await shots('link');
  await axe('link');
});

await step('QR download', async () => {
  await page.click('#qr-png');
  const file = join(downloads, 'br-one.png');
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  check('the PNG is downloaded as br-one.png', existsSync(file), 'no file');
  const decoded = execFileSync('zbarimg', ['--raw', '-q', file]).toString().trim();
  check('zbarimg decodes the PNG to the short URL', decoded === `${BASE}/br-one`, decoded);
  await page.click('#qr-svg');
  const svg = join(downloads, 'br-one.svg');
  for (let i = 0; i < 100 && !existsSync(svg); i++) await new Promise((r) => setTimeout(r, 100));
  check('the SVG is downloaded as br-one.svg', existsSync(svg) && readFileSync(svg, 'utf8').startsWith('<svg'), 'no svg');
});

await step('disable', async () => {
  check('before: the link redirects', (await raw('/br-one')).status === 302, 'not 302');
  await page.click('#f-disabled');
  await page.click('#edit button[type=submit]');
  await waitText('#status', /Saved/);
  await waitText('.meta', /disabled/);
  const res = await raw('/br-one');
  check('disabled: the short link answers 410', res.status === 410, res.status);
});

await step('delete', async () => {
  await open('#/link/br-del');
  await page.waitForSelector('#delete');
  await page.click('#delete');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm button[value=delete]');
  await page.waitForSelector('#shorten', { timeout: 10000 });
  check('delete: the API no longer has it', (await apiKey('/links/br-del')).status === 404, 'still there');
});

// ---- stats ---------------------------------------------------------------------------------------------
await step('stats', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await raw('/br-two', { headers: { 'User-Agent': BROWSER_UA, Referer: 'https://news.example.org/today' } });
    if (res.status !== 302) throw new Error(`visit ${i}: ${res.status}`);
  }
  await new Promise((r) => setTimeout(r, 2500)); // visits show within 2 s
  await open('#/stats/br-two');
  await page.waitForFunction(() => window.hop && window.hop.chart && window.hop.chart.data, { timeout: 10000 });
  const data = await page.evaluate(() => window.hop.chart.data.map((s) => Array.from(s)));
  const sum = (a) => a.reduce((n, x) => n + (x || 0), 0);
  check("stats: the chart's data holds the 3 visits, all by people", sum(data[1]) === 3 && sum(data[2]) === 0 && data[0].length === 30, JSON.stringify(data.map((s) => s.slice(-3))));
  check("stats: today's point is the last", data[1][data[1].length - 1] === 3, JSON.stringify(data[1].slice(-2)));
  await waitText('.totals', /^3 visits by people, 0 by bots/);
  ok('stats: the totals say 3 by people and 0 by bots');
  await waitText('.tops', /news\.example\.org/);
  ok('stats: the top referrers list the Referer host');
  await shots('stats');
  await axe('stats');
});

// ---- sign out ------------------------------------------------------------------------------------------
await step('sign out', async () => {
  const old = (await browser.cookies()).find((c) => c.name === 'hop_session');
  await open('#/');
  await page.click('#signout');
  await page.waitForSelector('#signin');
  ok('sign out: the sign-in form');
  const res = await raw('/api/links', { headers: { Cookie: `hop_session=${old.value}` } });
  check('the API refuses the old cookie', res.status === 401, res.status);
  check('the browser dropped the cookie', !(await browser.cookies()).some((c) => c.name === 'hop_session'), 'still there');
});

await step('revoking the key ends the session', async () => {
  await page.type('#f-key', KEY);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#shorten');
  execFileSync(HOP_BIN, ['keys', 'revoke', OWNER]);
  expectBad(401, 'GET', '/api/session');
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('#signin');
  ok('after hop keys revoke, the page asks to sign in again');
});

// ---- what the browser saw ------------------------------------------------------------------------------
// Each provoked answer explains one answer >= 400 and its console line ("Failed to load resource").
const unexplained = [...badAnswers];
for (const e of expectedBad) {
  const i = unexplained.findIndex((a) => a.startsWith(`${e.status} ${e.method} ${e.pathPrefix}`));
  if (i >= 0) unexplained.splice(i, 1);
  else fail(`the provoked ${e.status} of ${e.method} ${e.pathPrefix} was seen`, badAnswers.join(', '));
}
check('no answer >= 400 but the provoked ones', unexplained.length === 0, unexplained.join(', '));
const resourceLines = consoleErrors.filter((m) => /^Failed to load resource: the server responded with a status of (400|401|409|422)/.test(m));
const otherErrors = consoleErrors.filter((m) => !resourceLines.includes(m));
check('no console error (but the provoked answers\' own lines)', otherErrors.length === 0 && resourceLines.length <= expectedBad.length, otherErrors.join(' | '));
check('no failed request', failedRequests.length === 0, failedRequests.join(', '));
check('no request to another origin', foreign.length === 0, foreign.join(', '));

await browser.close();
process.exit(failed ? 1 : 0);
