// The per-user OAuth story (shared/seeds/001): an MCP client starts
// mcp-auth in front of an OAuth-protected MCP server; the first call gets a
// 401, mcp-auth discovers the authorization server, registers, opens the
// browser, and the call goes through as dev@example.com; extract needs a
// scope dev cannot have, and is refused with an error that names it.
//
// Everything is real: an oidc-provider authorization server
// (tests/servers/auth-server.mjs, "standard" and Cognito-like configs), an
// SDK v1 resource server that verifies JWTs (protected-mcp-server.mjs), a
// private gnome-keyring per scenario (with-keyring.sh, started by the tests
// themselves), and a scripted browser (scripted-browser.mjs) or headless
// Chromium (chromium-browser.mjs) as $MCP_AUTH_BROWSER.
//
// Each capability is its own test, so a binary that has only some of them
// fails only those. Run: MCP_AUTH_BIN=... node --test auth_story.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  relayBinary, skipOutsideCI, missingCommands, startOAuthPair, keyringSession, runCommand, tempDir, readJsonLines, killAll,
  withTimeout, waitUntil, sleep, toolText, SCRIPTED_BROWSER, CHROMIUM_BROWSER,
} from './lib.mjs';

const bin = relayBinary();
// The keyring sessions need these (Debian: dbus-user-session gnome-keyring libsecret-tools).
const missingTools = missingCommands(['dbus-run-session', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool']);
const skip = skipOutsideCI(bin.skip || (missingTools.length > 0 && `not installed: ${missingTools.join(', ')}`));
const CALL = { timeout: 60000 }; // SDK request options: a call may include a browser login
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const KEYCHAIN_WORDS = /keychain|keyring|secret service/i;

// ---------------------------------------------------------------------------
// Helpers

/**
 * The environment for mcp-auth: the keyring session's (HOME, XDG dirs, bus),
 * a browser that logs each opening, and its user. BROWSER is removed so only
 * MCP_AUTH_BROWSER can be what mcp-auth opens.
 */
function relayEnv(keyring, { user = 'dev@example.com', password, browser = SCRIPTED_BROWSER, extra = {} } = {}) {
  const browserLog = join(tempDir(), 'browser.jsonl');
  const env = {
    ...keyring.env,
    MCP_AUTH_BROWSER: browser,
    TEST_BROWSER_LOG: browserLog,
    TEST_BROWSER_USER: user,
    TEST_BROWSER_PASSWORD: password ?? (user === 'admin@example.com' ? 'admin-password' : 'dev-password'),
    ...extra,
  };
  delete env.BROWSER;
  return { env, browserLog, openings: () => readJsonLines(browserLog) };
}

/** SDK v1 Client over stdio to `mcp-auth <args>`; returns {client, stderr(), close()}. */
async function connectRelay(args, env, label = 'mcp-auth') {
  const transport = new StdioClientTransport({ command: bin.path, args, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'mcp-auth-auth-story-test', version: '1.0.0' });
  const close = async () => {
    await client.close().catch(() => {});
    const pid = transport.pid;
    if (pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } }
  };
  try {
    await withTimeout(client.connect(transport), 60000, `${label}: initialize through mcp-auth (401, login, retry)`);
  } catch (err) {
    await close();
    err.message += `\nmcp-auth stderr (last 2000 chars):\n${stderr.slice(-2000)}`;
    throw err;
  }
  return { client, stderr: () => stderr, close };
}

/** Calls a tool and returns its text parsed as JSON. */
async function callJson(client, name, args) {
  const result = await client.callTool({ name, arguments: args }, undefined, CALL);
  assert.ok(!result.isError, `${name} returned an error result: ${JSON.stringify(result)}`);
  return JSON.parse(toolText(result));
}

/** Expects a JSON-RPC error (not a result) whose message names `scope`. */
async function expectScopeError(client, name, args, scope) {
  let result;
  try {
    result = await client.callTool({ name, arguments: args }, undefined, CALL);
  } catch (err) {
    assert.ok(err.message.includes(scope), `the error should name the missing scope "${scope}": ${err.message}`);
    return err;
  }
  assert.fail(`${name} should fail with a JSON-RPC error naming "${scope}", got a result: ${JSON.stringify(result)}`);
}

async function statusJson(env, url) {
  const args = url ? ['status', url, '--json'] : ['status', '--json'];
  const r = await runCommand(bin.path, args, { env, timeoutMs: 20000 });
  let parsed;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    parsed = undefined;
  }
  return { ...r, json: parsed };
}

/** Waits until the browser log has `n` lines, then a little more to catch extra openings. */
async function settleOpenings(browser, n, ms = 15000) {
  await waitUntil(() => browser.openings().length >= n, ms, `${n} browser opening(s)`);
  await sleep(500);
  return browser.openings();
}

const lastAudit = (mcp, tool) => mcp.audit().filter((a) => a.tool === tool).at(-1);

/** An SDK client that talks straight to the MCP server with a given bearer token. */
async function directClient(url, token, header = 'Authorization') {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { [header]: `Bearer ${token}` } } });
  const client = new Client({ name: 'direct-bearer-test', version: '1.0.0' });
  await withTimeout(client.connect(transport), 10000, 'direct connect with the printed token');
  return client;
}

// ---------------------------------------------------------------------------
// Standard config: PRM discovery, dynamic registration, dev@example.com

describe('OAuth story, standard AS (PRM discovery, dynamic registration)', { skip, concurrency: false }, () => {
  let keyring;
  let as;
  let mcp;
  let browser;
  let relay;

  before(async () => {
    keyring = await keyringSession('unlocked');
    ({ as, mcp } = await startOAuthPair({ config: 'standard' }));
    browser = relayEnv(keyring);
  });

  after(async () => {
    if (process.env.SHOW_RELAY_STDERR && relay) console.log(`mcp-auth stderr:\n${relay.stderr()}`);
    await relay?.close();
    await killAll();
  });

  it('first call: 401, one browser login, then search works as dev@example.com', { timeout: 90000 }, async () => {
    relay = await connectRelay([mcp.url, '--verbose'], browser.env, 'first login');
    const out = await callJson(relay.client, 'search', { query: 'what is the model context protocol' });
    assert.equal(out.caller, 'dev@example.com');
    const audit = lastAudit(mcp, 'search');
    assert.equal(audit?.caller, 'dev@example.com', `audit: ${JSON.stringify(audit)}`);
    assert.equal(audit.allowed, true);
    const openings = await settleOpenings(browser, 1);
    assert.equal(openings.length, 1, `exactly one browser opening: ${JSON.stringify(openings)}`);
    assert.equal(openings[0].final_status, 200, `the callback page answered: ${JSON.stringify(openings[0])}`);
    assert.equal(as.events('registration').length, 1, 'exactly one dynamic registration');
    assert.equal(as.events('token').length, 1, 'exactly one code exchange');
    const first = mcp.log().find((r) => r.path === '/mcp');
    assert.equal(first.status, 401, 'the first MCP request went out without a token');
  });

  it('the authorization request: PKCE S256, state, loopback /callback, resource, registered client', { timeout: 10000 }, () => {
    const [opening] = browser.openings();
    assert.ok(opening, 'a browser opening was logged');
    const url = new URL(opening.url);
    const p = url.searchParams;
    assert.equal(`${url.origin}${url.pathname}`, `${as.issuer}/auth`);
    assert.equal(p.get('response_type'), 'code');
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.match(p.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((p.get('state') ?? '').length >= 16, 'a state of at least 16 characters');
    assert.match(p.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.equal(p.get('resource'), mcp.url, 'RFC 8707 resource = the MCP server URL');
    assert.equal(p.get('client_id'), as.events('registration')[0]?.client_id, 'the client id from the registration');
    assert.ok((p.get('scope') ?? '').split(' ').includes('search'), `scope asks for search: ${p.get('scope')}`);
    const [registration] = as.events('registration');
    assert.equal(registration.application_type, 'native');
    assert.equal(registration.token_endpoint_auth_method, 'none');
  });

  it('extract is refused for dev@example.com and the error names the missing scope', { timeout: 90000 }, async () => {
    const before = browser.openings().length;
    await expectScopeError(relay.client, 'extract', { url: 'https://example.com/what-is-mcp' }, 'extract');
    const denied = lastAudit(mcp, 'extract');
    assert.equal(denied?.caller, 'dev@example.com');
    assert.equal(denied?.allowed, false);
    await sleep(1000);
    const stepUps = browser.openings().length - before;
    assert.ok(stepUps >= 0 && stepUps <= 2, `step-up re-authorizes at most twice, saw ${stepUps} browser openings`);
    for (const opening of browser.openings().slice(before)) {
      const scopes = new URL(opening.url).searchParams.get('scope')?.split(' ') ?? [];
      assert.ok(scopes.includes('search') && scopes.includes('extract'), `a step-up asks for the union of scopes: ${scopes}`);
    }
    console.log(`STEP-UP dev@example.com: ${stepUps} re-authorization(s) before the error`);
    // The session goes on: search still works.
    const out = await callJson(relay.client, 'search', { query: 'after the refusal' });
    assert.equal(out.caller, 'dev@example.com');
  });

  it('--verbose stderr never contains an access or refresh token', { timeout: 10000 }, () => {
    const tokens = as.issued();
    assert.ok(tokens.length >= 2, 'the AS issued an access and a refresh token');
    const stderr = relay.stderr();
    assert.ok(stderr.length > 0, 'verbose mode wrote something');
    for (const token of tokens) assert.ok(!stderr.includes(token), 'a token appeared in mcp-auth stderr');
    for (const token of tokens) assert.ok(!stderr.includes(token.slice(-40)), 'the end of a token appeared in mcp-auth stderr');
  });

  it('tokens are in the keychain, and no file in HOME or /tmp holds them', { timeout: 90000 }, async () => {
    const search = await runCommand('secret-tool', ['search', '--all', 'application', 'mcp-auth'], { env: keyring.env, timeoutMs: 10000 });
    assert.equal(search.code, 0, `secret-tool search application mcp-auth: ${search.stderr}`);
    assert.match(search.stderr + search.stdout, /attribute\.application = mcp-auth/, 'at least one mcp-auth item');
    // A canary (not a token) proves the search itself finds what it looks for.
    const canary = `canary-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const canaryFile = join(tempDir(), 'canary.txt');
    writeFileSync(canaryFile, `before ${canary} after\n`);
    const patterns = [canary, ...as.issued()].flatMap((t) => ['-e', t]);
    const grep = await runCommand('grep', ['-rlsF', '-D', 'skip', ...patterns, keyring.home, '/tmp'], { timeoutMs: 60000 });
    assert.ok(!grep.timedOut, 'grep finished');
    const hits = grep.stdout.split('\n').filter(Boolean);
    assert.ok(hits.includes(canaryFile), `the search finds the canary file (${grep.stderr})`);
    assert.deepEqual(hits.filter((f) => f !== canaryFile), [], 'files holding a token');
  });

  it('status --json describes the login', { timeout: 30000 }, async () => {
    const r = await statusJson(browser.env, mcp.url);
    assert.equal(r.code, 0, `status exit code (stderr: ${r.stderr})`);
    assert.ok(Array.isArray(r.json) && r.json.length === 1, `one login in ${r.stdout}`);
    const [s] = r.json;
    assert.equal(s.server, mcp.url);
    assert.equal(s.issuer, as.issuer);
    assert.equal(s.identity, 'dev@example.com');
    assert.ok(s.scopes.includes('search'), `scopes ${s.scopes}`);
    assert.ok(!s.scopes.includes('extract'), `scopes ${s.scopes}`);
    assert.equal(typeof s.expires_at, 'number');
    assert.ok(s.expires_at > Date.now() / 1000 && s.expires_at < Date.now() / 1000 + 400, `expires_at ${s.expires_at}`);
    assert.equal(s.refresh_token, true);
    assert.equal(s.client_id, as.events('registration')[0]?.client_id);
    assert.equal(s.storage, 'keychain');
    assert.equal(s.valid, true);
    for (const token of as.issued()) assert.ok(!r.stdout.includes(token), 'status prints no token');
    const all = await statusJson(browser.env);
    assert.equal(all.code, 0, `status --json without a URL (stderr: ${all.stderr})`);
    assert.ok(all.json?.some((x) => x.server === mcp.url), `status --json lists ${mcp.url}: ${all.stdout}`);
  });

  it('token prints an access token the MCP server accepts, without a browser', { timeout: 30000 }, async () => {
    const before = browser.openings().length;
    const r = await runCommand(bin.path, ['token', mcp.url], { env: browser.env, timeoutMs: 20000 });
    assert.equal(r.code, 0, `token exit code (stderr: ${r.stderr})`);
    const token = r.stdout.trim();
    assert.match(token, /^[A-Za-z0-9._~+/-]+=*$/, 'one token on stdout');
    const direct = await directClient(mcp.url, token);
    try {
      const who = JSON.parse(toolText(await direct.callTool({ name: 'whoami', arguments: {} })));
      assert.equal(who.email, 'dev@example.com');
      assert.equal(who.aud, mcp.url);
    } finally {
      await direct.close().catch(() => {});
    }
    assert.equal(browser.openings().length, before, 'no browser opening');
  });

  it('logout revokes at the AS, and status then exits 4', { timeout: 30000 }, async () => {
    await relay?.close();
    relay = undefined;
    const r = await runCommand(bin.path, ['logout', mcp.url], { env: browser.env, timeoutMs: 20000 });
    assert.equal(r.code, 0, `logout exit code (stderr: ${r.stderr})`);
    await waitUntil(() => as.events('revocation').some((e) => e.ok), 5000, 'a successful revocation in the AS event log');
    const s = await statusJson(browser.env, mcp.url);
    assert.equal(s.code, 4, `status after logout exits 4 (stdout ${s.stdout}, stderr ${s.stderr})`);
  });
});

// ---------------------------------------------------------------------------
// Step-up for a user who may have the scope

describe('step-up as admin@example.com', { skip, concurrency: false }, () => {
  let as;
  let mcp;
  let browser;
  let relay;

  before(async () => {
    const keyring = await keyringSession('unlocked');
    ({ as, mcp } = await startOAuthPair({ config: 'standard' }));
    browser = relayEnv(keyring, { user: 'admin@example.com' });
  });

  after(async () => {
    await relay?.close();
    await killAll();
  });

  it('extract works after a second browser login with the union of scopes', { timeout: 120000 }, async () => {
    relay = await connectRelay([mcp.url], browser.env, 'admin login');
    assert.equal((await callJson(relay.client, 'search', { query: 'mcp' })).caller, 'admin@example.com');
    await settleOpenings(browser, 1);
    const out = await callJson(relay.client, 'extract', { url: 'https://example.com/what-is-mcp' });
    assert.equal(out.caller, 'admin@example.com');
    const audit = mcp.audit().filter((a) => a.tool === 'extract');
    assert.equal(audit.at(-1).allowed, true, `audit: ${JSON.stringify(audit)}`);
    const openings = await settleOpenings(browser, 2);
    assert.equal(openings.length, 2, 'one more browser login for the step-up');
    const scopes = new URL(openings[1].url).searchParams.get('scope')?.split(' ') ?? [];
    assert.ok(scopes.includes('search') && scopes.includes('extract'), `step-up asks for the union of scopes: ${scopes}`);
    console.log(`STEP-UP registrations: ${as.events('registration').length}, authorizations: ${as.events('authorization').length}`);
  });
});

// ---------------------------------------------------------------------------
// Refresh: 5-second access tokens

describe('refresh with 5-second access tokens', { skip, concurrency: false }, () => {
  let as;
  let mcp;
  let browser;
  let relay;

  before(async () => {
    const keyring = await keyringSession('unlocked');
    ({ as, mcp } = await startOAuthPair({ config: 'standard', accessTokenTtl: 5 }));
    browser = relayEnv(keyring);
  });

  after(async () => {
    await relay?.close();
    await killAll();
  });

  it('a session keeps working across at least 3 refreshes with no second login', { timeout: 120000 }, async () => {
    relay = await connectRelay([mcp.url], browser.env, 'refresh session');
    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 40000 && (as.events('refresh').length < 3 || Date.now() - started < 20000)) {
      const out = await callJson(relay.client, 'search', { query: `call ${calls}` });
      assert.equal(out.caller, 'dev@example.com');
      calls++;
      await sleep(1000);
    }
    const refreshes = as.events('refresh');
    console.log(`REFRESH ${refreshes.length} refreshes over ${calls} calls in ${Date.now() - started} ms`);
    assert.ok(refreshes.length >= 3, `at least 3 refreshes, saw ${refreshes.length}`);
    assert.equal(browser.openings().length, 1, 'no second browser opening');
    assert.equal(as.events('token').length, 1, 'no second code exchange');
  });
});

// ---------------------------------------------------------------------------
// Machine login: client credentials

describe('client credentials (machine-agent)', { skip, concurrency: false }, () => {
  let as;
  let mcp;
  let browser;
  let relay;

  before(async () => {
    const keyring = await keyringSession('unlocked');
    ({ as, mcp } = await startOAuthPair({ config: 'standard' }));
    browser = relayEnv(keyring, { extra: { MCP_AUTH_CLIENT_SECRET: 'machine-secret' } });
  });

  after(async () => {
    await relay?.close();
    await killAll();
  });

  it('search works as machine-agent with no browser and no registration', { timeout: 60000 }, async () => {
    relay = await connectRelay([mcp.url, '--client-credentials', '--client-id', 'machine-agent'], browser.env, 'client credentials');
    assert.equal((await callJson(relay.client, 'search', { query: 'mcp' })).caller, 'machine-agent');
    assert.equal(lastAudit(mcp, 'search').caller, 'machine-agent');
    assert.ok(as.events('client_credentials').length >= 1, 'a client_credentials grant');
    assert.equal(as.events('registration').length, 0, 'no dynamic registration');
    await sleep(500);
    assert.equal(browser.openings().length, 0, 'no browser');
    assert.ok(!relay.stderr().includes('machine-secret'), 'the client secret is not logged');
  });
});

// ---------------------------------------------------------------------------
// Gateway header: X-Authorization

describe('--auth-header X-Authorization', { skip, concurrency: false }, () => {
  let mcp;
  let browser;
  let relay;

  before(async () => {
    const keyring = await keyringSession('unlocked');
    ({ mcp } = await startOAuthPair({ config: 'standard', tokenHeader: 'X-Authorization' }));
    browser = relayEnv(keyring);
  });

  after(async () => {
    await relay?.close();
    await killAll();
  });

  it('the token goes in X-Authorization, and never in Authorization', { timeout: 90000 }, async () => {
    relay = await connectRelay([mcp.url, '--auth-header', 'X-Authorization'], browser.env, 'X-Authorization');
    assert.equal((await callJson(relay.client, 'search', { query: 'mcp' })).caller, 'dev@example.com');
    const log = mcp.log().filter((r) => r.path === '/mcp');
    assert.ok(log.some((r) => r.auth === 'valid' && r.tokenHeader), 'requests carried a valid X-Authorization token');
    assert.deepEqual(log.filter((r) => r.authorization), [], 'no request carried Authorization');
  });
});

// ---------------------------------------------------------------------------
// Keychain unavailable: clear, bounded failures

describe('keychain unavailable', { skip, concurrency: false }, () => {
  let mcp;

  before(async () => {
    ({ mcp } = await startOAuthPair({ config: 'standard' }));
  });

  after(killAll);

  for (const [mode, label] of [['locked', 'a locked keyring'], ['none', 'no Secret Service at all']]) {
    it(`${label}: login fails with a keychain error, in bounded time`, { timeout: 60000 }, async () => {
      const keyring = await keyringSession(mode);
      const { env } = relayEnv(keyring);
      const r = await runCommand(bin.path, ['login', mcp.url, '--login-timeout', '20'], { env, timeoutMs: 40000 });
      await keyring.stop();
      assert.ok(!r.timedOut, `mcp-auth login did not finish within 40 s (stderr: ${r.stderr.slice(-1000)})`);
      assert.notEqual(r.code, 0, 'non-zero exit');
      assert.match(r.stderr, KEYCHAIN_WORDS, `the message mentions the keychain: ${r.stderr.slice(-1000)}`);
      console.log(`KEYCHAIN ${mode}: exit ${r.code} after ${r.ms} ms: ${r.stderr.trim().split('\n').at(-1)}`);
    });
  }
});

// ---------------------------------------------------------------------------
// Cognito-like AS: pre-registered public client, OIDC discovery only, no PRM

describe('OAuth story, Cognito-like AS (--client-id, --issuer, --scope)', { skip, concurrency: false }, () => {
  let as;
  let mcp;
  let browser;
  let relay;
  const scope = 'openid email tavily-mcp/search';

  before(async () => {
    const keyring = await keyringSession('unlocked');
    ({ as, mcp } = await startOAuthPair({ config: 'cognito' }));
    browser = relayEnv(keyring);
  });

  after(async () => {
    await relay?.close();
    await killAll();
  });

  it('search works as dev@example.com after one browser login, without registration', { timeout: 90000 }, async () => {
    relay = await connectRelay([mcp.url, '--client-id', 'cognito-public-client', '--issuer', as.issuer, '--scope', scope], browser.env, 'cognito login');
    assert.equal((await callJson(relay.client, 'search', { query: 'what is the model context protocol' })).caller, 'dev@example.com');
    assert.equal(lastAudit(mcp, 'search').caller, 'dev@example.com');
    const openings = await settleOpenings(browser, 1);
    assert.equal(openings.length, 1);
    const p = new URL(openings[0].url).searchParams;
    assert.equal(p.get('client_id'), 'cognito-public-client');
    assert.equal(p.get('code_challenge_method'), 'S256', 'PKCE even though the metadata does not advertise it');
    assert.equal(as.events('registration').length, 0);
    assert.equal(as.events('token').length, 1);
  });

  it('extract is refused and the error names tavily-mcp/extract', { timeout: 90000 }, async () => {
    await expectScopeError(relay.client, 'extract', { url: 'https://example.com/what-is-mcp' }, 'tavily-mcp/extract');
    assert.equal(lastAudit(mcp, 'extract')?.allowed, false);
  });

  it('status --json shows the pre-registered client and the Cognito scopes', { timeout: 30000 }, async () => {
    const r = await statusJson(browser.env, mcp.url);
    assert.equal(r.code, 0, `status exit code (stderr: ${r.stderr})`);
    const [s] = r.json ?? [];
    assert.equal(s?.client_id, 'cognito-public-client');
    assert.equal(s?.issuer, as.issuer);
    assert.equal(s?.identity, 'dev@example.com');
    assert.ok(s?.scopes?.includes('tavily-mcp/search'), `scopes ${s?.scopes}`);
    assert.ok(!s?.scopes?.includes('tavily-mcp/extract'), `scopes ${s?.scopes}`);
  });
});

// ---------------------------------------------------------------------------
// A real browser: headless Chromium through the login and consent pages

describe('login with headless Chromium', { skip: skip || skipOutsideCI(!existsSync(CHROMIUM) && `${CHROMIUM} not installed`), concurrency: false }, () => {
  let mcp;
  let browser;

  before(async () => {
    const keyring = await keyringSession('unlocked');
    ({ mcp } = await startOAuthPair({ config: 'standard' }));
    browser = relayEnv(keyring, { browser: CHROMIUM_BROWSER });
  });

  after(killAll);

  it('mcp-auth login: Chromium signs in, and the final page says the login succeeded', { timeout: 120000 }, async () => {
    const r = await runCommand(bin.path, ['login', mcp.url, '--login-timeout', '60'], { env: browser.env, timeoutMs: 90000 });
    assert.ok(!r.timedOut, `login finished (stderr: ${r.stderr.slice(-1000)})`);
    assert.equal(r.code, 0, `login exit code (stderr: ${r.stderr.slice(-1000)})`);
    assert.match(r.stderr, /dev@example\.com/, 'login names who is logged in');
    assert.match(r.stderr, /\bsearch\b/, 'login names the scopes');
    const [opening] = await settleOpenings(browser, 1, 30000);
    assert.ok(!opening.error, `the browser finished: ${opening.error}`);
    assert.match(opening.final_url, /^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    assert.equal(opening.final_status, 200);
    console.log(`CHROMIUM final page: ${opening.final_text}`);
    assert.match(opening.final_text, /success|succeeded|complete|logged in|signed in|authenticated|authorized/i);
    assert.doesNotMatch(opening.final_text, /\b(error|failed)\b/i);
  });
});
