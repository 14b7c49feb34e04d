#!/usr/bin/env node
// The same job as scripted-browser.mjs, done by a real browser: Debian's
// headless `chromium` driven by playwright-core (which never downloads a
// browser here: it is pointed at /usr/bin/chromium, or $CHROMIUM_PATH).
//
//   chromium-browser.mjs <url>
//
// Returns at once and works in a detached copy of itself, like
// scripted-browser.mjs: opens the URL in a fresh profile (a new temporary
// --user-data-dir, removed afterwards), fills the login form with
// $TEST_BROWSER_USER / $TEST_BROWSER_PASSWORD (defaults dev@example.com /
// dev-password), clicks the first button of the consent page, and waits for
// the browser to come back to the origin it started at (mcp-auth's loopback
// listener: <url> is its one-time /start page, which redirects to the
// authorization server and sets the cookie the callback must carry; Chromium
// keeps it like any cookie).
// It appends the same JSON line to $TEST_BROWSER_LOG (url: the authorization
// request the start page redirected to; start_url: <url>), with final_text the
// final page's visible text (document.body.innerText). Deadline 30 s.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserUser, detachAndRun, isStartPage } from './scripted-browser.mjs';

const EXECUTABLE = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function browse(startUrl, budgetMs) {
  const { chromium } = await import('playwright-core');
  const { user, password } = browserUser();
  const listenerOrigin = new URL(startUrl).origin;
  const profile = mkdtempSync(join(tmpdir(), 'mcp-auth-chromium-'));
  const deadline = Date.now() + budgetMs;
  const left = () => Math.max(1000, deadline - Date.now());
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: EXECUTABLE,
      headless: true,
      args: FLAGS,
      timeout: left(),
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(left());
    let finalStatus = null;
    let authorizationUrl = startUrl;
    page.on('response', (r) => {
      if (!r.request().isNavigationRequest() || r.frame() !== page.mainFrame()) return;
      finalStatus = r.status();
      const location = r.headers().location;
      if (isStartPage(new URL(r.url())) && location && authorizationUrl === startUrl) authorizationUrl = new URL(location, r.url()).href;
    });

    await page.goto(startUrl, { waitUntil: 'load' });
    let pages = 1;
    // Submit pages of the authorization server until the browser is back on the listener.
    while (new URL(page.url()).origin !== listenerOrigin && pages < 10) {
      const password_ = page.locator('input[type=password]');
      const form = page.locator('form').first();
      if ((await form.count()) === 0) break;
      if (await password_.count()) {
        await page.locator('input[type=email], input[name=email], input[name=username]').first().fill(user);
        await password_.first().fill(password);
      }
      const before = page.url();
      await Promise.all([
        page.waitForURL((u) => u.href !== before, { waitUntil: 'load', timeout: left() }),
        form.locator('button[type=submit], input[type=submit]').first().click(),
      ]);
      pages++;
    }
    await page.waitForLoadState('load');
    return {
      url: authorizationUrl,
      start_url: startUrl,
      final_url: page.url(),
      final_status: finalStatus,
      final_text: (await page.evaluate(() => document.body?.innerText ?? '')).replace(/\s+/g, ' ').trim(),
      pages,
      user,
      browser: `chromium ${context.browser()?.version() ?? ''}`.trim(),
    };
  } finally {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  detachAndRun(import.meta.url, browse);
}
