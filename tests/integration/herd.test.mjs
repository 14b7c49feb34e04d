// Many mcp-auth instances at once ("the herd"): an MCP host starts several
// `mcp-auth <url>` processes for the same server at the same moment, none of
// them logged in, or all of them holding the same expired token. The user must
// see one browser tab, the authorization server one registration and one code
// exchange (or one refresh), and every instance must get its answer.
//
// How mcp-auth coordinates (src/app/auth/login_coordinator.h, src/platform/process_lock.h): the
// instance that takes the per-server login lock starts a detached login agent
// (`mcp-auth login <url> --force --agent-lock-fd 3`, own session) that inherits
// the lock and does the browser login; every instance waits for the lock to
// come free, re-reads the store and retries. Refreshes take a per-server
// refresh lock and re-read the store, so one refresh serves everyone.
//
// Everything is real: oidc-provider AS (auth-server.mjs --event-log), the
// JWT-checking MCP server (protected-mcp-server.mjs), a private gnome-keyring
// (with-keyring.sh via keyringSession), the scripted browser behind a tiny
// wrapper that records each opening the moment it happens.
//
// Run: MCP_AUTH_BIN=... node --test herd.test.mjs
// Lines worth reading: `HERD …`, `HERD-KILL …`, `HERD-REFRESH …`.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  relayBinary, skipOutsideCI, missingCommands, startOAuthPair, keyringSession, runCommand, spawnRelay, tempDir, readJsonLines,
  killAll, withTimeout, waitUntil, sleep, toolText, freshId, initializeRequest, initializedNotification, SCRIPTED_BROWSER,
} from './lib.mjs';

const bin = relayBinary();
const missingTools = missingCommands(['dbus-run-session', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool']);
const skip = skipOutsideCI(bin.skip || (missingTools.length > 0 && `not installed: ${missingTools.join(', ')}`));

const HERD = 5;
const REPETITIONS = 5;
const ANSWER_MS = 30000; // one instance's search answer, browser login included
const STARTER_LINE = /logging in to \S+ in the browser; waiting for the login to finish/;
const WAITER_LINE = /a login to \S+ is in progress in another mcp-auth process; waiting for it/;

// ---------------------------------------------------------------------------
// Helpers

/**
 * A browser for mcp-auth: a shell script that appends the URL to `opened.log`
 * the moment it is run (so openings are counted exactly, and a test can act
 * while the login is still in progress), optionally sleeps, then execs the
 * scripted browser (which logs its outcome to TEST_BROWSER_LOG).
 */
function browserWrapper({ delaySeconds = 0 } = {}) {
  const dir = tempDir('mcp-auth-herd-browser-');
  const openedLog = join(dir, 'opened.log');
  const browserLog = join(dir, 'browser.jsonl');
  const script = join(dir, 'browser.sh');
  writeFileSync(script, [
    '#!/bin/sh',
    `printf '%s\\n' "$1" >> '${openedLog}'`,
    delaySeconds ? `sleep ${delaySeconds}` : '',
    `exec '${process.execPath}' '${SCRIPTED_BROWSER}' "$@"`,
    '',
  ].join('\n'));
  chmodSync(script, 0o755);
  const readLines = (f) => { try { return readFileSync(f, 'utf8').split('\n').filter(Boolean); } catch { return []; } };
  return {
    script,
    openedLog,
    browserLog,
    opened: () => readLines(openedLog),
    outcomes: () => readJsonLines(browserLog),
  };
}

/** The environment of every mcp-auth in a scenario: the keyring session's, plus the browser. */
function herdEnv(keyring, browser) {
  const env = {
    ...keyring.env,
    MCP_AUTH_BROWSER: browser.script,
    TEST_BROWSER_LOG: browser.browserLog,
    TEST_BROWSER_USER: 'dev@example.com',
    TEST_BROWSER_PASSWORD: 'dev-password',
  };
  for (const name of ['BROWSER', 'MCP_AUTH_STORE', 'DISPLAY', 'WAYLAND_DISPLAY']) delete env[name];
  return env;
}

/**
 * Starts `n` instances of `mcp-auth <url> --verbose` back to back, then writes
 * to each one: initialize, notifications/initialized, tools/call search (the
 * later lines wait inside mcp-auth for the initialize, so all go at once).
 * Returns [{index, relay, searchId, answer: Promise<{ok, caller, detail, ms}>}].
 */
function startHerd(n, url, env, { label = 'herd' } = {}) {
  const members = [];
  for (let index = 0; index < n; index++) {
    const relay = spawnRelay(bin.path, [url, '--verbose', '--login-timeout', '60'], { env, inheritEnv: false });
    members.push({ index, relay, initId: freshId(), searchId: freshId() });
  }
  const started = Date.now();
  for (const m of members) {
    m.relay.send(initializeRequest(m.initId));
    m.relay.send(initializedNotification());
    m.relay.send({ jsonrpc: '2.0', id: m.searchId, method: 'tools/call', params: { name: 'search', arguments: { query: `${label} instance ${m.index}` } } });
  }
  for (const m of members) {
    m.answer = m.relay.reply(m.searchId, ANSWER_MS).then(
      (reply) => {
        const ms = Date.now() - started;
        if (reply.error) return { ok: false, ms, detail: `JSON-RPC error ${JSON.stringify(reply.error).slice(0, 400)}` };
        if (reply.result?.isError) return { ok: false, ms, detail: `error result ${JSON.stringify(reply.result).slice(0, 400)}` };
        let caller;
        try { caller = JSON.parse(toolText(reply.result)).caller; } catch { /* checked below */ }
        return caller === 'dev@example.com'
          ? { ok: true, ms, caller }
          : { ok: false, ms, detail: `unexpected result ${JSON.stringify(reply.result).slice(0, 400)}` };
      },
      (err) => ({ ok: false, ms: Date.now() - started, detail: err.message.slice(0, 2200) }),
    );
  }
  return members;
}

/** Ends the instances still running: stdin EOF (clean exit), SIGKILL after 3 s. */
async function stopHerd(members) {
  await Promise.all(members.map(async ({ relay }) => {
    if (relay.proc.exitCode !== null || relay.proc.signalCode !== null) return;
    relay.closeStdin();
    try {
      await relay.exited(3000);
    } catch {
      relay.kill('SIGKILL');
      await relay.exited(2000).catch(() => {});
    }
  }));
}

/** Command lines of running processes: [{pid, argv}] (Linux /proc). */
function processes() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length) out.push({ pid: Number(name), argv });
    } catch { /* gone */ }
  }
  return out;
}

/** Login agents (`mcp-auth login <url> ... --agent-lock-fd`) for this server still running. */
const loginAgents = (url) => processes().filter(({ argv }) => argv.includes('--agent-lock-fd') && argv.includes(url) && argv.includes('login'));

/**
 * Processes our instances started outside our process tree (login agents in
 * their own session, detached scripted browsers), found by the server URL or
 * the issuer in their command line; killed one by one by pid.
 */
function killStrays(url, issuer) {
  const mine = processes().filter(({ argv }) =>
    (argv.includes('--agent-lock-fd') && argv.includes(url))
    || (argv.includes('--run-detached') && argv.some((a) => a.startsWith(`${issuer}/`))));
  for (const { pid } of mine) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  return mine.length;
}

async function statusJson(env, url) {
  const r = await runCommand(bin.path, ['status', url, '--json'], { env, timeoutMs: 20000 });
  let json;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  return { ...r, entry: Array.isArray(json) ? json.find((s) => s.server === url) : undefined };
}

/** Polls `status --json` until the stored access token has expired (expires_in <= 0). */
async function waitForExpiry(env, url, ms) {
  let last;
  try {
    await waitUntil(async () => {
      last = await statusJson(env, url);
      return typeof last.entry?.expires_in === 'number' && last.entry.expires_in <= 0;
    }, ms, 'the access token to expire', 250);
  } catch (err) {
    err.message += ` (last status: exit ${last?.code}, ${last?.stdout?.trim()} ${last?.stderr?.trim()})`;
    throw err;
  }
  return last.entry;
}

/** One line per instance that failed, with its stderr, for the report. */
function failureReport(members, answers) {
  return members
    .map((m, i) => (answers[i].ok ? '' : `\n--- instance ${m.index} (pid ${m.relay.proc.pid}): ${answers[i].detail}\n    stderr: ${m.relay.stderr().slice(-1500).replace(/\n/g, '\n            ')}`))
    .join('');
}

const roleOf = (relay) => (STARTER_LINE.test(relay.stderr()) ? 'starter' : WAITER_LINE.test(relay.stderr()) ? 'waiter' : 'other');

// ---------------------------------------------------------------------------

describe('herd: many instances, one login', { skip, concurrency: false }, () => {
  after(killAll);

  it(`cold start: ${HERD} instances at once, ${REPETITIONS} times: one browser tab, one registration, one code exchange, all answered`, { timeout: 170000 }, async () => {
    const results = [];
    for (let rep = 1; rep <= REPETITIONS; rep++) {
      const t0 = Date.now();
      const [keyring, { as, mcp }] = await Promise.all([keyringSession('unlocked'), startOAuthPair({ config: 'standard' })]);
      const browser = browserWrapper();
      const env = herdEnv(keyring, browser);
      const setupMs = Date.now() - t0;
      const t1 = Date.now();
      const members = startHerd(HERD, mcp.url, env, { label: `rep ${rep}` });
      const answers = await Promise.all(members.map((m) => m.answer));
      const herdMs = Date.now() - t1;
      // The scripted browser logs its outcome when it is done; then a moment for any extra tab.
      await waitUntil(() => browser.outcomes().length >= 1, 10000, 'the browser outcome').catch(() => {});
      await sleep(500);
      const agentsLeft = await waitUntil(() => loginAgents(mcp.url).length === 0, 5000, 'the login agent to exit').then(() => 0, () => loginAgents(mcp.url).length);
      const roles = members.map((m) => roleOf(m.relay));
      const r = {
        rep,
        opened: browser.opened().length,
        outcomes: browser.outcomes(),
        registrations: as.events('registration').length,
        exchanges: as.events('token').length,
        answered: answers.filter((a) => a.ok).length,
        starters: roles.filter((x) => x === 'starter').length,
        waiters: roles.filter((x) => x === 'waiter').length,
        agentsLeft,
        report: failureReport(members, answers),
      };
      results.push(r);
      console.log(`HERD rep ${rep}/${REPETITIONS}: browser openings ${r.opened} (outcomes ${r.outcomes.length}), registrations ${r.registrations}, code exchanges ${r.exchanges}, answered ${r.answered}/${HERD}, starters ${r.starters}, waiters ${r.waiters}, agents left ${agentsLeft}, answers in ${answers.map((a) => a.ms).join('/')} ms (herd ${herdMs} ms, setup ${setupMs} ms)`);
      if (r.report) console.log(`HERD rep ${rep} failures:${r.report}`);
      await stopHerd(members);
      killStrays(mcp.url, as.issuer);
      await killAll();
    }
    for (const r of results) {
      const what = `repetition ${r.rep}`;
      assert.equal(r.answered, HERD, `${what}: ${r.answered} of ${HERD} instances answered the search call${r.report}`);
      assert.equal(r.opened, 1, `${what}: exactly one browser opening, saw ${r.opened}`);
      assert.equal(r.outcomes.length, 1, `${what}: exactly one browser outcome: ${JSON.stringify(r.outcomes)}`);
      assert.equal(r.outcomes[0].final_status, 200, `${what}: the callback page answered 200: ${JSON.stringify(r.outcomes[0])}`);
      assert.equal(r.registrations, 1, `${what}: exactly one dynamic registration, saw ${r.registrations}`);
      assert.equal(r.exchanges, 1, `${what}: exactly one code exchange, saw ${r.exchanges}`);
      assert.equal(r.starters, 1, `${what}: exactly one instance started the login, saw ${r.starters}`);
      assert.equal(r.agentsLeft, 0, `${what}: the login agent exits after the login`);
    }
  });

  it(`kill variant: the instance that started the login is SIGKILLed; the login still completes and the other ${HERD - 1} answer`, { timeout: 90000 }, async () => {
    const [keyring, { as, mcp }] = await Promise.all([keyringSession('unlocked'), startOAuthPair({ config: 'standard' })]);
    // The browser waits a second before it fills in the login page, so the
    // starter is killed while the login is still in progress.
    const browser = browserWrapper({ delaySeconds: 1 });
    const env = herdEnv(keyring, browser);
    const members = startHerd(HERD, mcp.url, env, { label: 'kill' });
    try {
      await waitUntil(() => browser.opened().length >= 1, 20000, 'the browser to be opened')
        .catch((err) => { throw new Error(`${err.message}${failureReport(members, members.map(() => ({ ok: false, detail: 'no browser yet' })))}`); });
      const starters = members.filter((m) => STARTER_LINE.test(m.relay.stderr()));
      assert.equal(starters.length, 1, `exactly one instance says it started the login; stderr:${members.map((m) => `\n--- ${m.index}: ${m.relay.stderr().slice(-600)}`).join('')}`);
      const [starter] = starters;
      assert.equal(browser.outcomes().length, 0, 'the login is still in progress when the starter is killed');
      starter.relay.kill('SIGKILL');
      const killed = await starter.relay.exited(5000);
      assert.equal(killed.signal, 'SIGKILL');
      const survivors = members.filter((m) => m !== starter);
      const answers = await Promise.all(survivors.map((m) => m.answer));
      await waitUntil(() => browser.outcomes().length >= 1, 10000, 'the browser outcome').catch(() => {});
      await sleep(500);
      const outcomes = browser.outcomes();
      const answered = answers.filter((a) => a.ok).length;
      const agentsLeft = await waitUntil(() => loginAgents(mcp.url).length === 0, 5000, 'the login agent to exit').then(() => 0, () => loginAgents(mcp.url).length);
      console.log(`HERD-KILL killed instance ${starter.index} (pid ${starter.relay.proc.pid}); browser openings ${browser.opened().length} (outcomes ${outcomes.length}, final status ${outcomes[0]?.final_status}), registrations ${as.events('registration').length}, code exchanges ${as.events('token').length}, survivors answered ${answered}/${survivors.length} in ${answers.map((a) => a.ms).join('/')} ms, agents left ${agentsLeft}`);
      const report = failureReport(survivors, answers);
      if (report) console.log(`HERD-KILL failures:${report}`);
      assert.equal(answered, survivors.length, `${answered} of ${survivors.length} surviving instances answered${report}`);
      assert.equal(browser.opened().length, 1, 'exactly one browser opening');
      assert.equal(outcomes.length, 1, `exactly one browser outcome: ${JSON.stringify(outcomes)}`);
      assert.equal(outcomes[0].final_status, 200, `the callback page answered 200 (the login agent outlived its starter): ${JSON.stringify(outcomes[0])}`);
      assert.equal(as.events('registration').length, 1, 'exactly one dynamic registration');
      assert.equal(as.events('token').length, 1, 'exactly one code exchange');
      assert.equal(agentsLeft, 0, 'the login agent exits after the login');

      // A new instance afterwards: the saved login, no browser.
      const [late] = startHerd(1, mcp.url, env, { label: 'late' });
      const lateAnswer = await late.answer;
      await stopHerd([late]);
      console.log(`HERD-KILL late instance: ${lateAnswer.ok ? `answered as ${lateAnswer.caller} in ${lateAnswer.ms} ms` : lateAnswer.detail}; browser openings ${browser.opened().length}`);
      assert.ok(lateAnswer.ok, `the instance started afterwards answered: ${lateAnswer.detail}\nstderr: ${late.relay.stderr().slice(-1500)}`);
      assert.equal(browser.opened().length, 1, 'no browser for the instance started afterwards');
      assert.equal(as.events('token').length, 1, 'no further code exchange');
    } finally {
      await stopHerd(members);
      killStrays(mcp.url, as.issuer);
      await killAll();
    }
  });

  it(`refresh herd: ${HERD} instances with one expired token send one refresh, and the chain stays intact`, { timeout: 90000 }, async () => {
    // 8-second access tokens: mcp-auth refreshes at half the lifetime for
    // short tokens, so a refreshed token stays fresh ~4 s for the rest of the herd.
    const TTL = 8;
    const [keyring, { as, mcp }] = await Promise.all([keyringSession('unlocked'), startOAuthPair({ config: 'standard', accessTokenTtl: TTL })]);
    const browser = browserWrapper();
    const env = herdEnv(keyring, browser);
    let members = [];
    try {
      const login = await runCommand(bin.path, ['login', mcp.url, '--login-timeout', '30'], { env, timeoutMs: 40000 });
      assert.equal(login.code, 0, `mcp-auth login (stderr: ${login.stderr.slice(-1500)})`);
      const expired = await waitForExpiry(env, mcp.url, (TTL + 5) * 1000);
      assert.equal(as.events('refresh').length, 0, 'nothing refreshed before the herd');

      const asStderrBefore = as.stderr().length;
      members = startHerd(HERD, mcp.url, env, { label: 'refresh' });
      const answers = await Promise.all(members.map((m) => m.answer));
      await sleep(500);
      const refreshes = as.events('refresh');
      // Refused grants (a rotated refresh token used twice) are not events: the AS logs them on stderr.
      const grantErrors = as.stderr().slice(asStderrBefore).split('\n').filter((l) => /grant\.error/.test(l));
      const answered = answers.filter((a) => a.ok).length;
      const status = await statusJson(env, mcp.url);
      console.log(`HERD-REFRESH expired token (expires_in ${expired.expires_in}); ${HERD} instances: refreshes ${refreshes.length}, refused grants ${grantErrors.length}, answered ${answered}/${HERD} in ${answers.map((a) => a.ms).join('/')} ms, code exchanges ${as.events('token').length}, browser openings ${browser.opened().length}, status valid ${status.entry?.valid} (exit ${status.code})`);
      const report = failureReport(members, answers);
      if (report) console.log(`HERD-REFRESH failures:${report}`);
      await stopHerd(members);
      assert.equal(answered, HERD, `${answered} of ${HERD} instances answered${report}`);
      assert.equal(refreshes.length, 1, `exactly one refresh for the whole herd, saw ${refreshes.length}: ${JSON.stringify(refreshes)}`);
      assert.deepEqual(grantErrors, [], 'no refused refresh (no refresh token sent twice) at the AS');
      assert.equal(as.events('token').length, 1, 'no new code exchange (nobody logged in again)');
      assert.equal(browser.opened().length, 1, 'no browser opening after the first login');
      assert.equal(status.code, 0, `status exit code (stdout ${status.stdout}, stderr ${status.stderr})`);
      assert.equal(status.entry?.valid, true, `the login is still valid: ${status.stdout}`);
      assert.equal(status.entry?.refresh_token, true, 'a refresh token is still stored');

      // The chain: after another expiry, `mcp-auth token` refreshes with the rotated refresh token.
      await waitForExpiry(env, mcp.url, (TTL + 5) * 1000);
      const token = await runCommand(bin.path, ['token', mcp.url], { env, timeoutMs: 20000 });
      const refreshes2 = as.events('refresh');
      console.log(`HERD-REFRESH chain: token exit ${token.code}, refreshes ${refreshes2.length}${token.code ? `, stderr: ${token.stderr.trim().slice(-600)}` : ''}`);
      assert.equal(token.code, 0, `mcp-auth token after the next expiry (stderr: ${token.stderr.slice(-1500)})`);
      assert.equal(refreshes2.length, 2, `a second refresh, with the rotated refresh token: ${JSON.stringify(refreshes2)}`);
      const printed = token.stdout.trim();
      const lastIssued = await waitUntil(() => {
        const lines = as.stdout.lines.filter((l) => l.startsWith('ISSUED '));
        return lines.length >= 3 && JSON.parse(lines.at(-1).slice(7)).access_token;
      }, 3000, 'the ISSUED line of the second refresh');
      assert.equal(printed, lastIssued, 'mcp-auth token printed the access token of the second refresh');
      const direct = new Client({ name: 'herd-direct', version: '1.0.0' });
      await withTimeout(direct.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { requestInit: { headers: { Authorization: `Bearer ${printed}` } } })), 10000, 'direct connect with the refreshed token');
      try {
        const who = JSON.parse(toolText(await direct.callTool({ name: 'whoami', arguments: {} })));
        assert.equal(who.email, 'dev@example.com', 'the refreshed token is accepted by the MCP server');
      } finally {
        await direct.close().catch(() => {});
      }
      assert.equal(as.events('token').length, 1, 'still one code exchange');
    } finally {
      await stopHerd(members);
      killStrays(mcp.url, as.issuer);
      await killAll();
    }
  });
});
