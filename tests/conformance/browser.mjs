#!/usr/bin/env node
// The "browser" mcp-auth opens during the conformance runs ($MCP_AUTH_BROWSER):
//
//   node browser.mjs <URL>   (mcp-auth's one-time /start page)
//
// The conformance suite's authorization servers approve GET /authorize at once
// with a 302 to redirect_uri?code=...&state=..., so logging in only needs the
// redirects followed until mcp-auth's loopback callback has answered. This
// script does that with fetch, hop by hop, and nothing else: no forms, and
// cookies only as far as mcp-auth needs them (the URL it opens is its one-time
// /start page, which sets a cookie, Path=/callback, that the callback must
// carry: kept per host name and sent to paths under the cookie's path). It only talks to loopback hosts (every conformance server is
// http://localhost:<port>), stops after MAX_HOPS redirects, and gives up at
// its own deadline, so it can never outlive a run by long.
//
// mcp-auth sends the browser's stdout and stderr to its own stderr, which the
// driver pipes; one line per hop is written there for the diagnosis.

const MAX_HOPS = 10;
const DEADLINE_MS = Number(process.env.CONFORMANCE_BROWSER_DEADLINE_MS || 15000);

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function log(message) {
  process.stderr.write(`conformance-browser: ${message}\n`);
}

function isLoopback(url) {
  return (url.protocol === 'http:' || url.protocol === 'https:')
    && (LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname));
}

/** Cookies by host name (browsers share them across ports): [{host, path, name, value}]. */
const jar = [];

function storeCookies(url, response) {
  for (const header of response.headers.getSetCookie()) {
    const [pair, ...attrs] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    const pathAttr = attrs.map((a) => a.trim()).find((a) => /^path=/i.test(a));
    const path = pathAttr ? pathAttr.slice(5) : '/';
    const i = jar.findIndex((c) => c.host === url.hostname && c.path === path && c.name === name);
    if (i >= 0) jar.splice(i, 1);
    jar.push({ host: url.hostname, path, name, value: pair.slice(eq + 1).trim() });
  }
}

function cookieHeader(url) {
  const under = (c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`);
  const pairs = jar.filter((c) => c.host === url.hostname && under(c)).map((c) => `${c.name}=${c.value}`);
  return pairs.length ? pairs.join('; ') : undefined;
}

async function follow(start) {
  const signal = AbortSignal.timeout(DEADLINE_MS);
  let url = new URL(start);
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    if (!isLoopback(url)) throw new Error(`refusing to visit a non-loopback URL: ${url.origin}${url.pathname}`);
    const headers = { Accept: 'text/html,*/*' };
    const cookie = cookieHeader(url);
    if (cookie) headers.Cookie = cookie;
    const response = await fetch(url, { redirect: 'manual', signal, headers });
    storeCookies(url, response);
    const body = await response.text();
    const location = response.headers.get('location');
    // Query strings carry codes and states: log the path only.
    log(`GET ${url.origin}${url.pathname} -> ${response.status}`);
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url);
      continue;
    }
    const text = body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
    if (text) log(`final page: ${text}`);
    return response.status;
  }
  throw new Error(`more than ${MAX_HOPS} redirects`);
}

const target = process.argv[2];
if (!target) {
  log('usage: browser.mjs <url>');
  process.exit(2);
}
const killer = setTimeout(() => {
  log(`deadline of ${DEADLINE_MS} ms passed`);
  process.exit(1);
}, DEADLINE_MS + 1000);
killer.unref();
follow(target).then(
  (status) => process.exit(status < 400 ? 0 : 1),
  (err) => {
    log(`failed: ${err?.message ?? err}`);
    process.exit(1);
  },
);
