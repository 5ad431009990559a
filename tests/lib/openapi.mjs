// Reads docs/openapi.yaml for tests/integration/test_openapi.sh: lists its operations, compares them with
// the route table in handlers/routes.c, and checks recorded responses against what the document promises.
//
//   node tests/lib/openapi.mjs ops                  "METHOD /template" per operation, HEAD included
//   node tests/lib/openapi.mjs routes ROUTES_C      ok/FAIL lines: routes.c and the document name the same routes
//   node tests/lib/openapi.mjs check LOG UNPROVOKED ok/FAIL lines: each recorded response (LOG is TSV:
//        name, METHOD, template, status, headers file, body file) is documented, with its headers, content
//        type and body; then each documented status was seen, except those in UNPROVOKED ("408,500").
//
// The YAML parser and the JSON Schema validator are the ones pinned in docs/package.json.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(repo, 'docs', 'package.json'));
const yaml = require('js-yaml');
const Ajv2020 = require('ajv/dist/2020').default;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const doc = yaml.load(readFileSync(join(repo, 'docs', 'openapi.yaml'), 'utf8'));

// The whole document is one schema resource, so a pointer into it can be compiled and its own
// "#/components/..." references resolve inside it. OpenAPI's own keywords are unknown to JSON Schema;
// formats are checked by patterns where the document cares.
const DOC_ID = 'https://hop.invalid/openapi';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ ...doc, $id: DOC_ID });

const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function at(pointer) {
  let node = doc;
  for (const part of pointer.replace(/^#\//, '').split('/')) {
    node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  if (node === undefined) throw new Error(`openapi.yaml: nothing at ${pointer}`);
  return node;
}

// Follows local $refs; returns the object and the pointer where it really lives.
function deref(node, pointer) {
  while (node && typeof node.$ref === 'string') {
    pointer = node.$ref;
    node = at(pointer);
  }
  return { node, pointer };
}

const compiled = new Map();
function validator(pointer) {
  if (!compiled.has(pointer)) compiled.set(pointer, ajv.compile({ $ref: DOC_ID + pointer }));
  return compiled.get(pointer);
}

function operations() {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      if (item[m]) ops.push({ method: m.toUpperCase(), path, pointer: `#/paths/${esc(path)}/${m}` });
    }
  }
  return ops;
}

let passed = 0;
const say = (good, name, why) => {
  if (good) passed++;
  console.log(good ? `ok ${name}` : `FAIL ${name}\t${why}`);
};

function cmdRoutes(routesC) {
  const text = readFileSync(routesC, 'utf8');
  const table = text.slice(text.indexOf('routes[] = {'), text.indexOf('};', text.indexOf('routes[] = {')));
  const routes = [...table.matchAll(/\{\s*"([A-Z]+)",\s*"([^"]+)",/g)].map((m) => ({
    method: m[1],
    path: m[2].replace(/:([A-Za-z_]+)/g, '{$1}'),
  }));
  say(routes.length > 0, 'routes.c: the route table was found', `no routes parsed from ${routesC}`);
  const documented = new Set(operations().map((o) => `${o.method} ${o.path}`));
  const served = new Set();
  for (const r of routes) {
    served.add(`${r.method} ${r.path}`);
    // the router serves HEAD with every GET handler
    if (r.method === 'GET') served.add(`HEAD ${r.path}`);
  }
  for (const s of served) say(documented.has(s), `routes.c ${s} is in openapi.yaml`, 'not documented');
  for (const d of documented) say(served.has(d), `openapi.yaml ${d} is in routes.c`, 'no such route');
}

function headerMap(file) {
  const h = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('HTTP/')) {
      const name = line.slice(0, i).trim().toLowerCase();
      if (!h.has(name)) h.set(name, line.slice(i + 1).trim());
    }
  }
  return h;
}

const fmtErrors = (v) => (v.errors || []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');

// Problems with one recorded response, as a list of strings (empty: it matches the document).
function checkOne(method, template, status, headersFile, bodyFile) {
  const opPointer = `#/paths/${esc(template)}/${method.toLowerCase()}`;
  let op;
  try {
    op = at(opPointer);
  } catch {
    return [`${method} ${template} is not in the document`];
  }
  if (!op.responses[status]) {
    return [`status ${status} is not documented (documented: ${Object.keys(op.responses).join(' ')})`];
  }
  const { node: resp, pointer: respPointer } = deref(op.responses[status], `${opPointer}/responses/${status}`);
  const problems = [];
  const headers = headerMap(headersFile);
  for (const [name, h0] of Object.entries(resp.headers || {})) {
    const { node: h, pointer: hp } = deref(h0, `${respPointer}/headers/${esc(name)}`);
    const value = headers.get(name.toLowerCase());
    if (value === undefined) {
      if (h.required) problems.push(`header ${name} is missing`);
      continue;
    }
    const v = validator(`${hp}/schema`);
    if (!v(value)) problems.push(`header ${name}: ${JSON.stringify(value)}: ${fmtErrors(v)}`);
  }
  if (method === 'HEAD') return problems;
  const body = readFileSync(bodyFile, 'utf8');
  const ctype = (headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
  const content = resp.content || {};
  if (Object.keys(content).length === 0) {
    if (body.length || ctype) problems.push(`a body (${ctype || 'no type'}) where the document has none`);
    return problems;
  }
  if (!content[ctype]) {
    problems.push(`content type "${ctype}" is not documented (documented: ${Object.keys(content).join(' ')})`);
    return problems;
  }
  let value = body;
  // text (the HTML pages, robots.txt) and images (QR codes) are checked as strings; everything else is JSON
  if (!ctype.startsWith('text/') && !ctype.startsWith('image/')) try {
    value = JSON.parse(body);
  } catch {
    problems.push(`the body is not JSON: ${body.slice(0, 200)}`);
    return problems;
  }
  const v = validator(`${respPointer}/content/${esc(ctype)}/schema`);
  if (!v(value)) problems.push(`body does not match its schema: ${fmtErrors(v)}; body ${body.slice(0, 300)}`);
  return problems;
}

function cmdCheck(log, unprovoked) {
  const seen = new Set();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line) continue;
    const [name, method, template, status, headersFile, bodyFile] = line.split('\t');
    seen.add(`${method} ${template} ${status}`);
    const problems = checkOne(method, template, status, headersFile, bodyFile);
    say(problems.length === 0, `${name}: ${method} ${template} ${status} as documented`, problems.join(' | '));
  }
  const skip = new Set(unprovoked.split(',').filter(Boolean));
  for (const op of operations()) {
    for (const status of Object.keys(at(op.pointer).responses)) {
      if (skip.has(status)) continue;
      const key = `${op.method} ${op.path} ${status}`;
      say(seen.has(key), `documented ${key} was seen`, 'no request in the suite got this answer');
    }
  }
  if (skip.size) console.log(`note documented but not provoked through Caddy: ${[...skip].join(', ')}`);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'ops') {
  for (const o of operations()) console.log(`${o.method} ${o.path}`);
} else if (cmd === 'routes' && args.length === 1) {
  cmdRoutes(args[0]);
} else if (cmd === 'check' && args.length >= 1) {
  cmdCheck(args[0], args[1] || '');
} else {
  console.error('usage: openapi.mjs ops | routes ROUTES_C | check LOG [UNPROVOKED]');
  process.exit(2);
}
