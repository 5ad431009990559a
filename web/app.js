// hop's web page: sign in (a key traded for a session cookie), shorten, find, edit, delete, QR codes and
// statistics, all through hop's JSON API on this origin. No framework; views are <template>s of index.html.
'use strict';

const API = '/api';
const $ = (sel, root = document) => root.querySelector(sel);
const main = $('#main');
const hop = (window.hop = { chart: null }); // what the browser tests read (the chart and its data)

// ---- the API -------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `the server answered ${status}`);
    this.status = status;
    this.errors = (problem && problem.errors) || [];
  }
}

// One request to hop's API. With the session cookie, a change must carry X-Hop-CSRF (a form on another site
// cannot send it). A 401 means the session has ended: back to the sign-in form.
async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-Hop-CSRF'] = '1';
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(API + path, init);
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401 && !headers.Authorization) showSignin('Your session has ended; sign in again.');
    throw new ApiError(res.status, data);
  }
  return data;
}

const linkPath = (slug, domain, tail = '') =>
  `/links/${encodeURIComponent(slug)}${tail}${domain ? `?domain=${encodeURIComponent(domain)}` : ''}`;

// ---- small helpers -------------------------------------------------------------------------------------

function view(id) {
  const node = $(`#${id}`).content.cloneNode(true);
  main.replaceChildren(node);
  return main;
}

function say(text) {
  const s = $('#status');
  s.textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => (s.textContent = ''), 4000);
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

const fieldId = (name) => `f-${name.replace(/\./g, '-')}`;

function clearErrors(form) {
  for (const p of form.querySelectorAll('.error')) p.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

// An API error next to the field it names (422 and 400 list them in errors); anything else at the form's end.
function showErrors(form, err) {
  clearErrors(form);
  let first = null;
  for (const e of err.errors.length ? err.errors : [{ field: '', detail: err.message }]) {
    const input = e.field && form.querySelector(`#${fieldId(e.field)}`);
    const out = form.querySelector(`#${input ? fieldId(e.field) : 'f-'}-error`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      if (input.closest('details')) input.closest('details').open = true;
      first = first || input;
    }
    if (out) out.textContent = out.textContent ? `${out.textContent} ${e.detail}` : e.detail;
  }
  (first || form.querySelector('button[type=submit]')).focus();
}

async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    input.select();
    document.execCommand('copy');
  }
  say(`Copied ${text}`);
}

function linkState(l) {
  if (l.disabled) return ['disabled', 'off'];
  if (l.expires_at && Date.parse(l.expires_at) <= Date.now()) return ['expired', 'off'];
  if (l.visits_left === 0) return ['used up', 'off'];
  return [l.password_protected ? 'live, password' : 'live', 'live'];
}

// ---- the link's fields, for create and edit ------------------------------------------------------------

// name, label, input type, where it shows, a hint.
const FIELDS = [
  { name: 'url', label: 'Long URL', type: 'url', on: ['edit'] },
  { name: 'slug', label: 'Custom slug', type: 'text', on: ['create'], hint: 'Letters, digits, - and _. Empty: hop picks one.' },
  { name: 'domain', label: 'Domain', type: 'select', on: ['create'] },
  { name: 'title', label: 'Title', type: 'text', on: ['create', 'edit'] },
  { name: 'tags', label: 'Tags', type: 'text', on: ['create', 'edit'], hint: 'Separated by commas: a-z, 0-9, - and _.' },
  { name: 'expires_at', label: 'Expires', type: 'datetime-local', on: ['create', 'edit'], hint: 'Your local time.' },
  { name: 'redirect', label: 'Redirect status', type: 'select', on: ['create', 'edit'],
    options: [['302', '302 Found (temporary)'], ['301', '301 Moved Permanently'], ['307', '307 Temporary Redirect'], ['308', '308 Permanent Redirect']] },
  { name: 'password', label: 'Password', type: 'password', on: ['create', 'edit'], hint: '8 to 128 characters; visitors must type it.' },
  { name: 'max_visits', label: 'Visit limit', type: 'number', on: ['create', 'edit'], hint: 'After this many visits the link answers “gone”.' },
  { name: 'targets.ios', label: 'iPhone and iPad URL', type: 'url', on: ['create', 'edit'] },
  { name: 'targets.android', label: 'Android URL', type: 'url', on: ['create', 'edit'] },
  { name: 'expired_url', label: 'When it is gone, send visitors to', type: 'url', on: ['create', 'edit'] },
  { name: 'forward_query', label: 'Pass the visitor’s query string on', type: 'checkbox', on: ['create', 'edit'] },
  { name: 'reuse', label: 'Reuse my existing link to the same URL', type: 'checkbox', on: ['create'] },
  { name: 'remove_password', label: 'Remove the password', type: 'checkbox', on: ['edit'] },
  { name: 'disabled', label: 'Disabled (visitors get “gone”)', type: 'checkbox', on: ['edit'] },
];

function buildFields(container, where, domains) {
  for (const f of FIELDS) {
    if (!f.on.includes(where)) continue;
    if (f.name === 'domain' && domains.length < 2) continue;
    const id = fieldId(f.name);
    const err = el('p', { class: 'error', id: `${id}-error` });
    const hint = f.hint ? el('p', { class: 'hint', id: `${id}-hint` }, f.hint) : '';
    const described = [f.hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
    let input;
    if (f.type === 'select') {
      const opts = f.name === 'domain' ? domains.map((d) => [d.name, d.name + (d.default ? ' (default)' : '')]) : f.options;
      input = el('select', { id, name: f.name, 'aria-describedby': described },
        ...opts.map(([v, t]) => el('option', { value: v }, t)));
      if (f.name === 'domain') input.value = (domains.find((d) => d.default) || domains[0]).name;
    } else {
      input = el('input', { id, name: f.name, type: f.type, 'aria-describedby': described });
      if (f.type === 'number') input.min = '1';
      if (f.type === 'password') input.autocomplete = 'new-password';
      if (f.type === 'url' || f.type === 'text') input.autocomplete = 'off';
    }
    const label = el('label', { htmlFor: id }, f.label);
    container.append(f.type === 'checkbox'
      ? el('div', { class: 'field check' }, input, label, err)
      : el('div', { class: 'field' }, label, input, hint, err));
  }
}

const val = (form, name) => {
  const i = form.querySelector(`#${fieldId(name)}`);
  if (!i) return undefined;
  return i.type === 'checkbox' ? i.checked : i.value.trim();
};

const tagsOf = (s) => s.split(/[\s,]+/).filter(Boolean);

// datetime-local is the browser's local time without a zone; the API wants RFC 3339.
const toRfc3339 = (local) => new Date(local).toISOString().replace(/\.\d{3}Z$/, 'Z');
function toLocalInput(rfc) {
  if (!rfc) return '';
  const d = new Date(rfc);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// The create body: only what was filled in.
function createBody(form) {
  const b = { url: val(form, 'url') };
  for (const k of ['slug', 'domain', 'title', 'password', 'expired_url']) if (val(form, k)) b[k] = val(form, k);
  if (val(form, 'tags')) b.tags = tagsOf(val(form, 'tags'));
  if (val(form, 'expires_at')) b.expires_at = toRfc3339(val(form, 'expires_at'));
  if (val(form, 'redirect') !== '302') b.redirect = Number(val(form, 'redirect'));
  if (val(form, 'max_visits')) b.max_visits = Number(val(form, 'max_visits'));
  const t = {};
  if (val(form, 'targets.ios')) t.ios = val(form, 'targets.ios');
  if (val(form, 'targets.android')) t.android = val(form, 'targets.android');
  if (Object.keys(t).length) b.targets = t;
  if (val(form, 'forward_query')) b.forward_query = true;
  if (val(form, 'reuse')) b.reuse = true;
  return b;
}

// The PATCH body: every editable field as the form shows it (empty clears it); a password only when typed.
function patchBody(form, link) {
  const b = {
    url: val(form, 'url'),
    title: val(form, 'title') || null,
    tags: tagsOf(val(form, 'tags')),
    redirect: Number(val(form, 'redirect')),
    expired_url: val(form, 'expired_url') || null,
    forward_query: val(form, 'forward_query'),
    disabled: val(form, 'disabled'),
    max_visits: val(form, 'max_visits') ? Number(val(form, 'max_visits')) : null,
  };
  const exp = val(form, 'expires_at');
  // unchanged to the minute: keep the stored second
  b.expires_at = !exp ? null : exp === toLocalInput(link.expires_at) ? link.expires_at : toRfc3339(exp);
  const t = {};
  if (val(form, 'targets.ios')) t.ios = val(form, 'targets.ios');
  if (val(form, 'targets.android')) t.android = val(form, 'targets.android');
  b.targets = t;
  if (val(form, 'password')) b.password = val(form, 'password');
  else if (val(form, 'remove_password')) b.password = null;
  return b;
}

function fillEdit(form, l) {
  const set = (name, v) => {
    const i = form.querySelector(`#${fieldId(name)}`);
    if (!i) return;
    if (i.type === 'checkbox') i.checked = !!v;
    else i.value = v == null ? '' : String(v);
  };
  set('url', l.url);
  set('title', l.title);
  set('tags', l.tags.join(', '));
  set('expires_at', toLocalInput(l.expires_at));
  set('redirect', l.redirect);
  set('password', '');
  set('max_visits', l.max_visits);
  set('targets.ios', l.targets.ios);
  set('targets.android', l.targets.android);
  set('expired_url', l.expired_url);
  set('forward_query', l.forward_query);
  set('disabled', l.disabled);
  set('remove_password', false);
  const rm = form.querySelector('#f-remove_password');
  rm.closest('.field').hidden = !l.password_protected;
  form.querySelector('#f-password-hint').textContent = l.password_protected
    ? 'Protected. Type a new password to change it.' : '8 to 128 characters; visitors must type it.';
}

// ---- views ---------------------------------------------------------------------------------------------

function showSignin(message) {
  $('#nav').hidden = true;
  document.cookie = 'hop_signed_in=; Max-Age=0; Path=/_hop/app/; Secure; SameSite=Strict';
  document.title = 'Sign in · hop';
  view('t-signin');
  const form = $('#signin');
  if (message) $('#f-key-error').textContent = message;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const key = $('#f-key').value.trim();
    if (!key) {
      showErrors(form, new ApiError(0, { errors: [{ field: 'key', detail: 'Paste your API key here.' }] }));
      return;
    }
    try {
      await api('POST', '/session', undefined, { Authorization: `Bearer ${key}` });
      $('#f-key').value = '';
      $('#nav').hidden = false;
      say('Signed in');
      route();
    } catch (err) {
      showErrors(form, new ApiError(err.status, { errors: [{ field: 'key', detail: err.message }] }));
    }
  });
  $('#f-key').focus();
}

const listState = { q: '', tag: '', cursor: null };

async function showHome() {
  document.title = 'Links · hop';
  view('t-home');
  const [domains, tags] = await Promise.all([
    api('GET', '/domains').then((d) => d.domains || []).catch(() => []),
    api('GET', '/tags').then((t) => t.tags).catch(() => []),
  ]);
  const form = $('#shorten');
  buildFields($('[data-fields=create]', form), 'create', domains);
  const tagSel = $('#f-tag');
  for (const t of tags) tagSel.append(el('option', { value: t.tag }, `${t.tag} (${t.links})`));
  $('#f-q').value = listState.q;
  tagSel.value = listState.tag;

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const link = await api('POST', '/links', createBody(form));
      const short = $('#short');
      short.value = link.short_url;
      $('#result-open').href = `#/link/${encodeURIComponent(link.slug)}${link.domain ? `@${encodeURIComponent(link.domain)}` : ''}`;
      $('#result').hidden = false;
      form.reset();
      short.focus();
      short.select();
      say(`Made ${link.short_url}`);
      loadLinks(true);
    } catch (err) {
      if (err.status !== 401) showErrors(form, err);
    }
  });
  $('#copy').addEventListener('click', () => copy($('#short').value, $('#short')));
  $('#filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    listState.q = $('#f-q').value.trim();
    listState.tag = tagSel.value;
    loadLinks(true);
  });
  tagSel.addEventListener('change', () => $('#filter').requestSubmit());
  $('#more').addEventListener('click', () => loadLinks(false));
  await loadLinks(true);
}

async function loadLinks(fresh) {
  const filter = $('#filter');
  if (!filter) return; // another view meanwhile
  clearErrors(filter);
  const p = new URLSearchParams({ limit: '20' });
  if (listState.q) p.set('q', listState.q);
  if (listState.tag) p.append('tag', listState.tag);
  if (!fresh && listState.cursor) p.set('cursor', listState.cursor);
  let page;
  try {
    page = await api('GET', `/links?${p}`);
  } catch (err) {
    if (err.status !== 401) showErrors(filter, err);
    return;
  }
  const body = $('#links tbody');
  if (!body) return;
  if (fresh) body.replaceChildren();
  for (const l of page.links) {
    const [state, cls] = linkState(l);
    const href = `#/link/${encodeURIComponent(l.slug)}${l.domain ? `@${encodeURIComponent(l.domain)}` : ''}`;
    body.append(el('tr', {},
      el('td', {}, el('a', { href }, l.short_url.replace(/^https:\/\//, ''))),
      el('td', { class: 'target' }, l.title ? `${l.title} — ${l.url}` : l.url),
      el('td', { class: 'num' }, String(l.visits)),
      el('td', {}, el('span', { class: `state ${cls}` }, state))));
  }
  listState.cursor = page.next_cursor;
  $('#more').hidden = !page.next_cursor;
  $('#empty').hidden = body.children.length > 0;
  $('#empty').textContent = listState.q || listState.tag ? 'No link matches.' : 'No links here yet.';
}

async function showLink(slug, domain) {
  view('t-link');
  document.title = `${slug} · hop`;
  let link;
  try {
    link = await api('GET', linkPath(slug, domain));
  } catch (err) {
    if (err.status !== 401) main.replaceChildren(el('p', { class: 'card' }, err.message, ' ', el('a', { href: '#/' }, 'Back to your links')));
    return;
  }
  const form = $('#edit');
  buildFields($('[data-fields=edit]', form), 'edit', []);
  const render = (l) => {
    for (const s of main.querySelectorAll('.slug')) s.textContent = l.slug;
    $('#short').value = l.short_url;
    const [state] = linkState(l);
    $('.meta').textContent = `${state} · ${l.visits} visits · made ${new Date(l.created_at).toLocaleString()}`;
    fillEdit(form, l);
  };
  render(link);
  const hash = `${encodeURIComponent(slug)}${domain ? `@${encodeURIComponent(domain)}` : ''}`;
  $('.stats-link').href = `#/stats/${hash}`;
  const qr = (fmt, extra = '') => `${API}${linkPath(slug, domain, '/qr')}${domain ? '&' : '?'}format=${fmt}${extra}`;
  const img = $('img.qr');
  img.src = qr('svg');
  img.alt = `QR code of ${link.short_url}`;
  $('#qr-png').href = qr('png', '&size=10');
  $('#qr-png').setAttribute('download', `${slug}.png`);
  $('#qr-svg').href = qr('svg');
  $('#qr-svg').setAttribute('download', `${slug}.svg`);
  $('#copy').addEventListener('click', () => copy($('#short').value, $('#short')));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      link = await api('PATCH', linkPath(slug, domain), patchBody(form, link));
      render(link);
      say('Saved');
    } catch (err) {
      if (err.status !== 401) showErrors(form, err);
    }
  });
  const dialog = $('#confirm');
  $('#delete').addEventListener('click', () => dialog.showModal());
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'delete') return;
    try {
      await api('DELETE', linkPath(slug, domain));
      say(`Deleted ${link.short_url}`);
      location.hash = '#/';
    } catch (err) {
      if (err.status !== 401) showErrors(form, err);
    }
  });
}

// uPlot is loaded only when a chart is drawn: the first page stays small.
function loadChartLibrary() {
  if (window.uPlot) return Promise.resolve();
  return (loadChartLibrary.p ||= new Promise((resolve, reject) => {
    document.head.append(el('link', { rel: 'stylesheet', href: 'vendor/uPlot.min.css' }));
    const s = el('script', { src: 'vendor/uPlot.iife.min.js' });
    s.onload = resolve;
    s.onerror = reject;
    document.head.append(s);
  }));
}

// The stats series as chart rows: one per day, people and bots apart.
function seriesOf(st) {
  return st.series.map((b) => ({ label: b.start.slice(0, 10), t: Date.parse(b.start) / 1000, humans: b.humans, bots: b.bots }));
}

function topsOf(st) {
  const lists = [['Referrers', 'referrers'], ['Countries', 'countries'], ['Devices', 'devices'],
    ['Browsers', 'browsers'], ['Operating systems', 'operating_systems']];
  return lists.map(([title, k]) => [title, st.top[k] || []]);
}

async function showStats(slug, domain) {
  view('t-stats');
  document.title = `Visits of ${slug} · hop`;
  const a = $('a.slug');
  a.textContent = slug;
  a.href = `#/link/${encodeURIComponent(slug)}${domain ? `@${encodeURIComponent(domain)}` : ''}`;
  const days = $('#f-days');
  const draw = async () => {
    let st;
    try {
      [st] = await Promise.all([api('GET', `${linkPath(slug, domain, '/stats')}${domain ? '&' : '?'}days=${days.value}`), loadChartLibrary()]);
    } catch (err) {
      if (err.status !== 401) $('.totals').textContent = err.message;
      return;
    }
    const rows = seriesOf(st);
    const humans = rows.reduce((n, r) => n + r.humans, 0);
    const bots = rows.reduce((n, r) => n + r.bots, 0);
    $('.totals').textContent = `${humans} visits by people, ${bots} by bots, in the last ${days.value} days.`;
    const chart = $('#chart');
    chart.setAttribute('aria-label', `Chart of visits per day: ${humans} by people and ${bots} by bots in all; the numbers are in the table below.`);
    chart.replaceChildren();
    const data = [rows.map((r) => r.t), rows.map((r) => r.humans), rows.map((r) => r.bots)];
    const css = getComputedStyle(document.documentElement);
    hop.chart = new window.uPlot({
      width: Math.max(280, chart.clientWidth),
      height: 260,
      series: [{}, { label: 'People', stroke: css.getPropertyValue('--humans').trim(), width: 2 },
        { label: 'Bots', stroke: css.getPropertyValue('--bots').trim(), width: 2, dash: [6, 4] }],
      axes: [{ stroke: css.getPropertyValue('--muted').trim() }, { stroke: css.getPropertyValue('--muted').trim() }],
      scales: { y: { range: (u, min, max) => [0, Math.max(4, max)] } },
    }, data, chart);
    const tbody = $('#series tbody');
    tbody.replaceChildren(...rows.map((r) => el('tr', {}, el('td', {}, r.label),
      el('td', { class: 'num' }, String(r.humans)), el('td', { class: 'num' }, String(r.bots)))));
    const tops = $('.tops');
    tops.replaceChildren(...topsOf(st).map(([title, list]) => el('section', { class: 'card' },
      el('h2', {}, title),
      list.length === 0 ? el('p', { class: 'note' }, 'No visits in this window.')
        : el('ol', {}, ...list.map((e) => el('li', {}, el('span', {}, e.value || '(none)'), el('span', { class: 'num' }, String(e.visits))))))));
  };
  days.addEventListener('change', draw);
  await draw();
}

// The chart follows its box (a phone turned, a window resized).
function fitChart() {
  const box = $('#chart');
  if (hop.chart && box && box.contains(hop.chart.root)) hop.chart.setSize({ width: Math.max(280, box.clientWidth), height: 260 });
}

// ---- routing -------------------------------------------------------------------------------------------

// #/ the links; #/link/SLUG[@DOMAIN] one link; #/stats/SLUG[@DOMAIN] its visits.
async function route() {
  const m = location.hash.match(/^#\/(link|stats)\/([^@/]+)(?:@([^/]+))?$/);
  const focusMain = () => main.focus({ preventScroll: true });
  if (m) {
    const slug = decodeURIComponent(m[2]);
    const domain = m[3] ? decodeURIComponent(m[3]) : '';
    await (m[1] === 'link' ? showLink(slug, domain) : showStats(slug, domain));
  } else {
    await showHome();
  }
  if (!document.activeElement || document.activeElement === document.body) focusMain();
}

async function start() {
  $('#signout').addEventListener('click', async () => {
    await api('DELETE', '/session').catch(() => null);
    hop.chart = null;
    showSignin();
    say('Signed out');
  });
  window.addEventListener('hashchange', () => $('#nav').hidden || route());
  window.addEventListener('resize', fitChart);
  // Am I signed in? The session cookie is HttpOnly; its companion hop_signed_in (no secret) says whether
  // asking the server is worth a request. Without it, the form at once.
  if (!document.cookie.split('; ').includes('hop_signed_in=1')) {
    showSignin();
    return;
  }
  const res = await fetch(`${API}/session`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (res.ok) {
    $('#nav').hidden = false;
    route();
  } else {
    showSignin();
  }
}

start();
