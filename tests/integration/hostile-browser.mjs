#!/usr/bin/env node
// A "browser" that tampers with the login callback, used as $MCP_AUTH_BROWSER
// by hostile.test.mjs against tests/servers/hostile-auth-server.mjs (whose
// /authorize approves at once with a 302 to the loopback callback):
//
//   hostile-browser.mjs <url>          (mode from $HOSTILE_BROWSER_MODE)
//
// It returns at once; a detached copy (scripted-browser.mjs's detachAndRun)
// loads <url> without following the redirect, takes the callback URL from the
// Location header, and then, by mode:
//   tamper-state      loads the callback with `state` replaced by another value
//   tamper-then-real  the tampered callback, then (300 ms later) the real one
//   double-callback   the real callback, then at once a second one with the
//                     same state and the code replaced by "attacker-code-…"
//   record-only       nothing: the opening is logged at once, before this
//                     process exits (for tests that expect no browser at all,
//                     so a late log line cannot hide an opening)
// Each load is recorded as {url, status, text} (text: the page's visible text,
// or `error` when the connection failed) in `pages`, and one JSON line
// {url, mode, callback_url, pages, error, time} is appended to $TEST_BROWSER_LOG.

import { detachAndRun, pageText, recordOutcome } from './scripted-browser.mjs';

const MODES = ['tamper-state', 'tamper-then-real', 'double-callback'];
const RECORD_ONLY = 'record-only';

async function load(url, signal) {
  try {
    const res = await fetch(url, { redirect: 'manual', signal, headers: { 'User-Agent': 'mcp-auth-hostile-browser' } });
    const text = await res.text();
    return { url, status: res.status, location: res.headers.get('location'), text: pageText(text) };
  } catch (err) {
    return { url, status: null, error: String(err?.cause?.code ?? err?.message ?? err) };
  }
}

async function browse(startUrl, budgetMs) {
  const mode = process.env.HOSTILE_BROWSER_MODE;
  if (!MODES.includes(mode)) return { mode, error: `unknown HOSTILE_BROWSER_MODE ${mode}` };
  const signal = AbortSignal.timeout(budgetMs);
  const first = await load(startUrl, signal);
  if (!first.location) return { mode, pages: [first], error: 'the authorization endpoint did not redirect' };
  const real = new URL(first.location, startUrl);
  const pages = [first];
  const tampered = new URL(real);
  tampered.searchParams.set('state', `tampered-${Math.random().toString(36).slice(2)}`);
  const second = new URL(real);
  second.searchParams.set('code', `attacker-code-${Math.random().toString(36).slice(2)}`);
  if (mode === 'tamper-state') {
    pages.push(await load(tampered.href, signal));
  } else if (mode === 'tamper-then-real') {
    pages.push(await load(tampered.href, signal));
    await new Promise((r) => setTimeout(r, 300));
    pages.push(await load(real.href, signal));
  } else {
    pages.push(await load(real.href, signal));
    pages.push(await load(second.href, signal));
  }
  return { mode, callback_url: real.href, pages };
}

if (process.env.HOSTILE_BROWSER_MODE === RECORD_ONLY && process.argv[2] && !process.argv[2].startsWith('-')) {
  recordOutcome({ url: process.argv[2], mode: RECORD_ONLY });
} else {
  detachAndRun(import.meta.url, browse);
}
