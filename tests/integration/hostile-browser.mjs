#!/usr/bin/env node
// A "browser" that tampers with the login callback, used as $MCP_AUTH_BROWSER
// by hostile.test.mjs against tests/servers/hostile-auth-server.mjs (whose
// /authorize approves at once with a 302 to the loopback callback):
//
//   hostile-browser.mjs <url>          (mode from $HOSTILE_BROWSER_MODE)
//
// It returns at once; a detached copy (scripted-browser.mjs's detachAndRun)
// loads <url> (mcp-auth's one-time /start page) and follows its redirect to
// the authorization endpoint with the cookie /start set, takes the callback URL
// from the authorization endpoint's Location header without following it, and
// then, by mode:
//   tamper-state      loads the callback with `state` replaced by another value
//   tamper-then-real  the tampered callback, then (300 ms later) the real one
//   double-callback   the real callback, then at once a second one with the
//                     same state and the code replaced by "attacker-code-…"
// and, playing another local user who learnt `state` (but has no cookie: it
// was set in the user's browser only):
//   no-cookie-first   without the cookie: a callback with the real state and an
//                     "attacker-code-…", one with the real state and
//                     error=access_denied, and the real callback itself; then
//                     (the user's browser) the real callback with the cookie
//   bad-callbacks     $HOSTILE_BROWSER_BAD_COUNT (default 6) callbacks without
//                     the cookie and with guessed states, then the real one with it
//   start-twice       loads <url> a second time before the callback (someone
//                     else opened the link too), then the real callback
// Except for the cookie, the callback loads of tamper-* and double-callback
// carry the cookie (the user's own browser, tampered with).
//   record-only       nothing: the opening is logged at once, before this
//                     process exits (for tests that expect no browser at all,
//                     so a late log line cannot hide an opening)
// Each load is recorded as {url, status, text} (text: the page's visible text,
// or `error` when the connection failed): the /start hop as `start`, the rest
// in `pages` (the authorization endpoint first), and one JSON line
// {url, mode, start, callback_url, pages, error, time} is appended to
// $TEST_BROWSER_LOG.

import { detachAndRun, pageText, recordOutcome } from './scripted-browser.mjs';

const MODES = ['tamper-state', 'tamper-then-real', 'double-callback', 'no-cookie-first', 'bad-callbacks', 'start-twice'];
const RECORD_ONLY = 'record-only';

async function load(url, signal, cookie) {
  try {
    const headers = { 'User-Agent': 'mcp-auth-hostile-browser' };
    if (cookie) headers.Cookie = cookie;
    const res = await fetch(url, { redirect: 'manual', signal, headers });
    const text = await res.text();
    const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0].trim());
    return { url, status: res.status, location: res.headers.get('location'), cookies, text: pageText(text) };
  } catch (err) {
    return { url, status: null, error: String(err?.cause?.code ?? err?.message ?? err) };
  }
}

const random = () => Math.random().toString(36).slice(2);

async function browse(startUrl, budgetMs) {
  const mode = process.env.HOSTILE_BROWSER_MODE;
  if (!MODES.includes(mode)) return { mode, error: `unknown HOSTILE_BROWSER_MODE ${mode}` };
  const signal = AbortSignal.timeout(budgetMs);
  // /start: 302 to the authorization endpoint, with the login cookie.
  const start = await load(startUrl, signal);
  if (!start.location) return { mode, start, pages: [], error: 'the start page did not redirect' };
  const cookie = start.cookies?.join('; ') || undefined;
  const first = await load(new URL(start.location, startUrl).href, signal);
  const pages = [first];
  if (!first.location) return { mode, start, pages, error: 'the authorization endpoint did not redirect' };
  const real = new URL(first.location, start.location);
  const withParam = (name, value) => { const u = new URL(real); u.searchParams.set(name, value); return u.href; };
  if (mode === 'tamper-state') {
    pages.push(await load(withParam('state', `tampered-${random()}`), signal, cookie));
  } else if (mode === 'tamper-then-real') {
    pages.push(await load(withParam('state', `tampered-${random()}`), signal, cookie));
    await new Promise((r) => setTimeout(r, 300));
    pages.push(await load(real.href, signal, cookie));
  } else if (mode === 'double-callback') {
    pages.push(await load(real.href, signal, cookie));
    pages.push(await load(withParam('code', `attacker-code-${random()}`), signal, cookie));
  } else if (mode === 'no-cookie-first') {
    pages.push(await load(withParam('code', `attacker-code-${random()}`), signal));
    const denied = new URL(real.origin + real.pathname);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('state', real.searchParams.get('state'));
    pages.push(await load(denied.href, signal));
    pages.push(await load(real.href, signal));
    pages.push(await load(real.href, signal, cookie));
  } else if (mode === 'bad-callbacks') {
    const count = Number(process.env.HOSTILE_BROWSER_BAD_COUNT || 6);
    for (let i = 0; i < count; i++) pages.push(await load(withParam('state', `guess-${random()}`), signal));
    pages.push(await load(real.href, signal, cookie));
  } else {
    pages.push(await load(startUrl, signal));
    pages.push(await load(real.href, signal, cookie));
  }
  return { mode, start, callback_url: real.href, pages };
}

if (process.env.HOSTILE_BROWSER_MODE === RECORD_ONLY && process.argv[2] && !process.argv[2].startsWith('-')) {
  recordOutcome({ url: process.argv[2], mode: RECORD_ONLY });
} else {
  detachAndRun(import.meta.url, browse);
}
