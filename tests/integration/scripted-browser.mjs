#!/usr/bin/env node
// A scripted "browser" for mcp-auth's login tests, used as $MCP_AUTH_BROWSER
// (or $BROWSER):
//
//   scripted-browser.mjs <url>
//
// It returns at once (mcp-auth does not wait for its browser): the work is
// done by a detached copy of itself with no stdio, so nothing it does can
// reach mcp-auth's stdout. That copy follows redirects with its own cookie
// jar (<url> is mcp-auth's one-time /start page, which redirects to the
// authorization server and sets the cookie, Path=/callback, that the callback
// must carry), submits the first form of each page it lands on, filling the login
// form with $TEST_BROWSER_USER / $TEST_BROWSER_PASSWORD (defaults
// dev@example.com / dev-password) and confirming consent, until a page has no
// form left to submit: normally mcp-auth's loopback callback page. It gives
// up after 30 s in all and after 25 page loads, and never submits the same
// form twice (a login form shown again means the password was refused).
//
// With $TEST_BROWSER_LOG set it appends one JSON line when done:
//   {"url", "start_url", "final_url", "final_status", "final_text", "pages",
//    "user", "error", "time"}
// url is the authorization request: where the /start page it was given
// redirected to (the URL itself when it was not such a page); start_url is the
// URL it was given.
// final_text is the final page's visible text (tags dropped, whitespace
// collapsed). Tests count browser openings with these lines.

import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DEADLINE_MS = 30_000;
const MAX_PAGES = 25;
const RUN_FLAG = '--run-detached';

// ---------------------------------------------------------------------------
// Shared with chromium-browser.mjs: the log line and the page text

/** Appends the outcome to $TEST_BROWSER_LOG, if set. */
export function recordOutcome(outcome) {
  const file = process.env.TEST_BROWSER_LOG;
  if (!file) return;
  appendFileSync(file, JSON.stringify({ ...outcome, time: new Date().toISOString() }) + '\n');
}

export const browserUser = () => ({
  user: process.env.TEST_BROWSER_USER || 'dev@example.com',
  password: process.env.TEST_BROWSER_PASSWORD || 'dev-password',
});

/**
 * Runs `main(url)` in a detached copy of the calling script and exits: the
 * parent process returns at once, the copy has no stdio and dies at the
 * deadline whatever happens.
 */
export function detachAndRun(scriptUrl, main) {
  const [flag, url] = process.argv.slice(2);
  if (flag !== RUN_FLAG) {
    if (!url && flag && !flag.startsWith('-')) {
      const child = spawn(process.execPath, [fileURLToPath(scriptUrl), RUN_FLAG, flag], {
        detached: true,
        stdio: 'ignore',
        env: process.env,
      });
      child.unref();
      process.exit(0);
    }
    process.stderr.write(`usage: ${fileURLToPath(scriptUrl)} <url>\n`);
    process.exit(2);
  }
  const deadline = setTimeout(() => {
    recordOutcome({ url, error: `deadline of ${DEADLINE_MS} ms passed` });
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  main(url, DEADLINE_MS - 2000).then(
    (outcome) => { recordOutcome({ url, ...outcome }); process.exit(0); },
    (err) => { recordOutcome({ url, error: String(err?.stack ?? err) }); process.exit(1); },
  );
}

// ---------------------------------------------------------------------------
// HTML: just enough to read our own forms and show a page's text

const decodeEntities = (s) => s
  .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
  .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
  .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, ' ')
  .replace(/&amp;/g, '&');

function attributes(tag) {
  const attrs = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][\w:.-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/** The forms of a page: [{action, method, fields: [{name, type, value}]}]. */
function parseForms(html) {
  const forms = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1]);
    const fields = [];
    for (const f of m[2].matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const a = attributes(f[2]);
      if (!a.name) continue;
      fields.push({ name: a.name, type: (a.type || (f[1].toLowerCase() === 'button' ? 'submit' : 'text')).toLowerCase(), value: a.value ?? '' });
    }
    forms.push({ action: attrs.action ?? '', method: (attrs.method || 'get').toLowerCase(), fields });
  }
  return forms;
}

/** The visible text of a page. */
export function pageText(html) {
  return decodeEntities(html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

// ---------------------------------------------------------------------------
// Cookies: name + path, per host (ports share cookies, as in browsers)

class CookieJar {
  constructor() { this.cookies = new Map(); }

  store(url, response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=').map((x) => x.trim());
        if (k.toLowerCase() === 'path' && v) path = v;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const key = `${url.hostname} ${path} ${name}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { host: url.hostname, path, name, value });
    }
  }

  header(url) {
    const pairs = [...this.cookies.values()]
      .filter((c) => c.host === url.hostname && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`);
    return pairs.length ? pairs.join('; ') : undefined;
  }
}

// ---------------------------------------------------------------------------
// The browsing loop

/** mcp-auth's one-time loopback start page (it redirects to the authorization URL). */
export const isStartPage = (url) => url.protocol === 'http:' && url.hostname === '127.0.0.1' && url.pathname === '/start';

async function browse(startUrl, budgetMs) {
  const { user, password } = browserUser();
  const jar = new CookieJar();
  const submitted = new Set();
  const signal = AbortSignal.timeout(budgetMs);
  let request = { url: new URL(startUrl), method: 'GET', body: undefined };
  let last;
  let authorizationUrl = startUrl;
  for (let pages = 1; pages <= MAX_PAGES; pages++) {
    const headers = { 'User-Agent': 'mcp-auth-scripted-browser', Accept: 'text/html,*/*' };
    const cookie = jar.header(request.url);
    if (cookie) headers.Cookie = cookie;
    if (request.body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(request.url, { method: request.method, headers, body: request.body, redirect: 'manual', signal });
    jar.store(request.url, response);
    const text = await response.text();
    const location = response.headers.get('location');
    if (pages === 1 && isStartPage(request.url) && location) authorizationUrl = new URL(location, request.url).href;
    last = { url: authorizationUrl, start_url: startUrl, final_url: request.url.href, final_status: response.status, final_text: pageText(text), pages, user };

    if (response.status >= 300 && response.status < 400 && location) {
      request = { url: new URL(location, request.url), method: 'GET', body: undefined };
      continue;
    }
    const form = parseForms(text).find((f) => f.method === 'post');
    if (!form) return last;
    const action = new URL(form.action || request.url.href, request.url);
    if (submitted.has(action.href)) return { ...last, error: 'the same form came back after it was submitted' };
    submitted.add(action.href);
    const body = new URLSearchParams();
    let submitUsed = false;
    for (const field of form.fields) {
      if (field.type === 'submit') {
        if (!submitUsed) body.append(field.name, field.value);
        submitUsed = true;
      } else if (field.type === 'password') body.append(field.name, password);
      else if (field.type === 'email' || ['email', 'username', 'login'].includes(field.name)) body.append(field.name, user);
      else body.append(field.name, field.value);
    }
    request = { url: action, method: 'POST', body: body.toString() };
  }
  return { ...last, error: `gave up after ${MAX_PAGES} pages` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  detachAndRun(import.meta.url, browse);
}
