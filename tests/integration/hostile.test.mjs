// Hostile input: a 10 MB+ stdin line, and authorization servers, resource
// metadata and login callbacks that lie, tamper or try to redirect tokens.
//
// The OAuth cases use tests/servers/hostile-auth-server.mjs (a hand-made AS +
// MCP resource server told to misbehave per case), `mcp-auth login` with the
// file store in a fresh XDG_STATE_HOME, and a browser that logs each opening
// (scripted-browser.mjs, or hostile-browser.mjs for tampered callbacks).
// Every case must end in a clear error: on its own and in bounded time, exit
// code < 128 and no core file (runCrashChecked), a message on stderr, and no
// token the AS issued in stdout or stderr. See FAULTS.md for the table.
//
// Run: MCP_AUTH_BIN=... node --test hostile.test.mjs

import { describe, it, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  relayBinary, spawnRelay, startMcpServer, startHostileAuthServer, oauthEnv, isolatedEnv, runCrashChecked, runCommand,
  killAll, sleep, waitUntil, tempDir, freshId, toolText, legacyHandshake, nonJsonRpcLines, assertRpcError,
  assertNoSecrets, assertCleanEnd, tokenFingerprint, observe, hostileBrowserEnv,
} from './lib.mjs';

const bin = relayBinary();
const ATTACKER_TEXT = 'ATTACKER-CONTROLLED-TEXT-7f3a'; // hostile-auth-server.mjs, callback-error-iss-mismatch
const SUCCESS_WORDS = /success|succeeded|logged in|signed in/i;

// ---------------------------------------------------------------------------
// a. stdin: 10 MB+ lines (the smaller malformed cases are in raw_stdio.test.mjs)

describe('hostile stdin: 10 MB+ lines', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  const sizeCall = (id, data) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'size', arguments: { data } } });

  it('a. a 10.5 MB line passes intact with the default limits (the size tool counts every character)', { timeout: 60000 }, async () => {
    const srv = await startMcpServer({ era: 'legacy', mode: 'sse' });
    const relay = spawnRelay(bin.path, [srv.url], { env: isolatedEnv().env, inheritEnv: false });
    await legacyHandshake(relay, 8000);
    const n = 10_500_000 + 7;
    const id = freshId();
    relay.send(sizeCall(id, 'ü'.repeat(3) + 'x'.repeat(n - 3)));
    const reply = await relay.reply(id, 30000);
    assert.equal(toolText(reply.result), String(n), `the tool got all ${n} characters: ${JSON.stringify(reply).slice(0, 300)}`);
    const echoId = freshId();
    const echo = await relay.request({ jsonrpc: '2.0', id: echoId, method: 'tools/call', params: { name: 'echo', arguments: { text: 'after' } } }, 8000);
    assert.equal(toolText(echo.result), 'after');
    assert.deepEqual(nonJsonRpcLines(relay.out.lines), []);
    relay.closeStdin();
    assert.equal((await relay.exited(5000)).code, 0);
  });

  it('a. a 12 MB line over --max-message-bytes 10485760: -32600 with its id, then the relay goes on', { timeout: 60000 }, async () => {
    const srv = await startMcpServer({ era: 'legacy', mode: 'sse' });
    const relay = spawnRelay(bin.path, [srv.url, '--max-message-bytes', '10485760'], { env: isolatedEnv().env, inheritEnv: false });
    await legacyHandshake(relay, 8000);
    const id = freshId();
    relay.send(sizeCall(id, 'y'.repeat(12_000_000)));
    assertRpcError(await relay.reply(id, 30000), { id, code: -32600 }, '12 MB line');
    assert.ok(!srv.log().some((e) => e.jsonrpcId === id), 'the oversized message was not sent');
    const next = await relay.request(sizeCall(freshId(), 'z'.repeat(9_000_000)), 30000);
    assert.equal(toolText(next.result), '9000000', 'a 9 MB line under the limit still passes');
    assert.deepEqual(nonJsonRpcLines(relay.out.lines), []);
    relay.closeStdin();
    assert.equal((await relay.exited(5000)).code, 0);
  });
});

// ---------------------------------------------------------------------------
// b. OAuth: metadata, callbacks, endpoints, audience

/** `mcp-auth login <srv.url> --store file` with a browser that logs its openings. */
async function login(srv, { browser = oauthEnv(), loginTimeout = 20, timeoutMs = 40000, extraArgs = [] } = {}) {
  const r = await runCrashChecked(bin.path, ['login', srv.url, '--store', 'file', '--login-timeout', String(loginTimeout), ...extraArgs], { env: browser.env, timeoutMs });
  return { r, browser };
}

/** A login refused before any browser opened: clean failure, nothing sent to /authorize or /token. */
async function assertRefusedBeforeBrowser(srv, { r, browser }, message) {
  observe('refused', `exit ${r.code} after ${r.ms} ms: ${r.stderr}`);
  assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
  assert.ok(r.ms < 15000, `refused after ${r.ms} ms`);
  await sleep(300); // a browser would have logged its opening by now
  assert.equal(browser.openings().length, 0, `no browser may open: ${JSON.stringify(browser.openings()).slice(0, 300)}`);
  const reached = srv.requests().filter((q) => q.path === '/authorize' || q.path === '/token');
  assert.deepEqual(reached, [], 'nothing reached /authorize or /token');
  assertNoSecrets([r.stdout, r.stderr], await srv.issued(), 'mcp-auth output');
  assert.equal(r.stdout.trim(), '', 'nothing on stdout');
  assert.match(r.stderr, message, `the message says why: ${r.stderr}`);
}

/** Waits for the single opening of the hostile browser and returns it. */
async function hostileOpening(browser) {
  await waitUntil(() => browser.openings().length >= 1, 20000, 'the hostile browser to finish');
  const [opening] = browser.openings();
  assert.ok(!opening.error, `the hostile browser: ${opening.error}`);
  return opening;
}

async function statusJson(browser, url) {
  const r = await runCommand(bin.path, ['status', url, '--json', '--store', 'file'], { env: browser.env, timeoutMs: 15000 });
  try {
    return { ...r, json: JSON.parse(r.stdout) };
  } catch {
    return { ...r, json: undefined };
  }
}

describe('hostile OAuth: metadata', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());
  after(() => killAll());

  it('b. protected resource metadata that is not JSON: refused with a clear error, no browser', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ misbehave: ['prm-not-json'] });
    await assertRefusedBeforeBrowser(srv, await login(srv, { browser: hostileBrowserEnv('record-only') }), /resource metadata[\s\S]*JSON|JSON[\s\S]*resource metadata/i);
  });

  it('b. authorization server metadata with wrong types (endpoints as number, array, boolean): refused, no browser', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ misbehave: ['as-wrong-types'] });
    await assertRefusedBeforeBrowser(srv, await login(srv, { browser: hostileBrowserEnv('record-only') }), /metadata|endpoint/i);
  });

  it('b. authorization server metadata naming another issuer: refused, no browser', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ misbehave: ['as-issuer-mismatch'] });
    await assertRefusedBeforeBrowser(srv, await login(srv, { browser: hostileBrowserEnv('record-only') }), /issuer/i);
  });

  it('b. authorization server metadata whose issuer differs by a trailing slash: refused (exact comparison), no browser', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ misbehave: ['as-issuer-slash'] });
    await assertRefusedBeforeBrowser(srv, await login(srv, { browser: hostileBrowserEnv('record-only') }), /issuer/i);
  });

  for (const [misbehave, what] of [['as-no-s256', 'lists only "plain"'], ['as-no-pkce-field', 'has no code_challenge_methods_supported']]) {
    it(`b. discovered authorization server metadata that ${what}: refused, the message names S256/PKCE, no browser`, { timeout: 40000 }, async () => {
      const srv = await startHostileAuthServer({ misbehave: [misbehave] });
      await assertRefusedBeforeBrowser(srv, await login(srv, { browser: hostileBrowserEnv('record-only') }), /S256|PKCE/);
    });
  }

  for (const [misbehave, scheme] of [['auth-endpoint-javascript', 'javascript:'], ['auth-endpoint-file', 'file:'], ['auth-endpoint-data', 'data:']]) {
    it(`b. an authorization endpoint with a ${scheme} URL: refused before any browser opens`, { timeout: 40000 }, async () => {
      const srv = await startHostileAuthServer({ misbehave: [misbehave] });
      await assertRefusedBeforeBrowser(srv, await login(srv, { browser: hostileBrowserEnv('record-only') }), /authorization endpoint/i);
    });
  }

  it('b. protected resource metadata naming another server: refused, no browser', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ misbehave: ['prm-other-resource'], otherResource: 'http://127.0.0.1:9/mcp' });
    await assertRefusedBeforeBrowser(srv, await login(srv, { browser: hostileBrowserEnv('record-only') }), /resource/i);
  });
});

describe('hostile OAuth: the login callback', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());
  after(() => killAll());

  it('b. callback whose iss is not the issuer: refused, the code is never exchanged', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ misbehave: ['callback-iss-mismatch'] });
    const { r, browser } = await login(srv);
    observe('callback', `exit ${r.code} after ${r.ms} ms: ${r.stderr.trim().split('\n').at(-1)}`);
    assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
    assert.ok(r.ms < 15000, `failed after ${r.ms} ms`);
    assert.equal(srv.events('authorization').length, 1, 'the AS issued a code (with the wrong iss)');
    assert.deepEqual(srv.requests().filter((q) => q.path === '/token'), [], 'the code was not sent to the token endpoint');
    const [opening] = await waitUntil(() => browser.openings().length && browser.openings(), 10000, 'the browser opening');
    assert.ok(opening.final_status >= 400 && !SUCCESS_WORDS.test(opening.final_text ?? ''), `the callback page reports a failure: ${opening.final_status} ${opening.final_text}`);
    assertNoSecrets([r.stdout, r.stderr], await srv.issued(), 'mcp-auth output');
    assert.match(r.stderr, /\biss\b|issuer/i, `the message names the issuer check: ${r.stderr}`);
  });

  it('b. error callback with a wrong iss: refused, and its error_description is shown nowhere', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ misbehave: ['callback-error-iss-mismatch'] });
    const { r, browser } = await login(srv);
    observe('callback', `exit ${r.code} after ${r.ms} ms: ${r.stderr.trim().split('\n').at(-1)}`);
    assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
    assert.ok(r.ms < 15000, `failed after ${r.ms} ms`);
    const [opening] = await waitUntil(() => browser.openings().length && browser.openings(), 10000, 'the browser opening');
    assert.ok(!r.stderr.includes(ATTACKER_TEXT) && !r.stdout.includes(ATTACKER_TEXT), `the attacker's error_description reached mcp-auth's output: ${r.stderr}`);
    assert.ok(!(opening.final_text ?? '').includes(ATTACKER_TEXT), `the attacker's error_description is on the callback page: ${opening.final_text}`);
    assert.match(r.stderr, /\biss\b|issuer/i, `the message names the issuer check: ${r.stderr}`);
  });

  it('b. a callback with a tampered state: ignored, mcp-auth keeps waiting and times out with --login-timeout 3', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const { r, browser } = await login(srv, { browser: hostileBrowserEnv('tamper-state'), loginTimeout: 3 });
    observe('tampered state', `exit ${r.code} after ${r.ms} ms: ${r.stderr.trim().split('\n').at(-1)}`);
    assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
    assert.ok(r.ms >= 2900, `mcp-auth stopped waiting after ${r.ms} ms, before --login-timeout 3`);
    assert.ok(r.ms < 10000, `mcp-auth took ${r.ms} ms with --login-timeout 3`);
    const opening = await hostileOpening(browser);
    assert.ok(opening.pages[1].status >= 400, `the tampered callback is answered with an error page: ${JSON.stringify(opening.pages[1])}`);
    assert.deepEqual(srv.requests().filter((q) => q.path === '/token'), [], 'no code exchange');
    assertNoSecrets([r.stdout, r.stderr], await srv.issued(), 'mcp-auth output');
    assert.match(r.stderr, /time|within|no login/i, `the message says the login timed out: ${r.stderr}`);
  });

  it('b. a tampered-state callback followed by the real one: the login completes', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const { r, browser } = await login(srv, { browser: hostileBrowserEnv('tamper-then-real') });
    assertCleanEnd(r, { what: 'mcp-auth login' });
    assert.equal(r.code, 0, `login: ${r.stderr}`);
    const opening = await hostileOpening(browser);
    assert.ok(opening.pages[1].status >= 400, `tampered callback: ${JSON.stringify(opening.pages[1])}`);
    assert.equal(opening.pages[2].status, 200, `real callback: ${JSON.stringify(opening.pages[2])}`);
    assert.equal(srv.events('token').length, 1, 'one code exchange');
    assert.match(r.stderr, /alice@example\.test/);
    assertNoSecrets([r.stdout, r.stderr], await srv.issued(), 'mcp-auth output');
  });

  it('b. a second callback after the first: a page saying the link was used, the login result unchanged', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ tokenDelayMs: 1500 }); // the login is still running when the second callback comes
    const { r, browser } = await login(srv, { browser: hostileBrowserEnv('double-callback') });
    assertCleanEnd(r, { what: 'mcp-auth login' });
    assert.equal(r.code, 0, `login: ${r.stderr}`);
    const opening = await hostileOpening(browser);
    const [, first, second] = opening.pages;
    observe('second callback', JSON.stringify(second));
    assert.equal(first.status, 200, `first callback: ${JSON.stringify(first)}`);
    assert.equal(srv.events('token').length, 1, 'exactly one code exchange');
    assert.deepEqual(srv.events('token_error'), [], 'the second code was never sent to the AS');
    const status = await statusJson(browser, srv.url);
    assert.equal(status.json?.[0]?.identity, 'alice@example.test', `the login stands: ${status.stdout} ${status.stderr}`);
    assertNoSecrets([r.stdout, r.stderr, status.stdout, status.stderr], await srv.issued(), 'mcp-auth output');
    assert.ok(second.status !== null, `the second callback got no page at all (${second.error}): the listener was already closed`);
    assert.ok(second.status >= 400 && /already|used|expired/i.test(second.text), `the second callback gets a page saying the link was used: ${JSON.stringify(second)}`);
  });
});

describe('hostile OAuth: token audience', { skip: bin.skip, concurrency: false }, () => {
  after(() => killAll());

  it('b. a token issued for server A is never sent to server B (same AS, two ports)', { timeout: 60000 }, async () => {
    const keyFile = join(tempDir('hostile-key-'), 'as.key');
    const as = await startHostileAuthServer({ role: 'as', keyFile });
    const a = await startHostileAuthServer({ role: 'rs', issuer: as.issuer, keyFile });
    const b = await startHostileAuthServer({ role: 'rs', issuer: as.issuer, keyFile });
    const browser = oauthEnv();
    const first = await login(a, { browser });
    assertCleanEnd(first.r, { what: 'mcp-auth login A' });
    assert.equal(first.r.code, 0, `login to A: ${first.r.stderr}`);
    const tokensForA = await as.issued();
    assert.ok(tokensForA.length >= 1, 'the AS issued A its tokens');

    const relay = spawnRelay(bin.path, [b.url, '--store', 'file'], { env: browser.env, inheritEnv: false });
    try {
      // B answers 401 until mcp-auth logs in to B itself; whatever happens, A's
      // token must never reach B, so that is checked first.
      let who;
      let failure;
      try {
        await legacyHandshake(relay, 30000);
        who = await relay.request({ jsonrpc: '2.0', id: freshId(), method: 'tools/call', params: { name: 'whoami', arguments: {} } }, 30000);
      } catch (err) {
        failure = err;
      }
      const fingerprintsA = new Set(tokensForA.map(tokenFingerprint));
      assert.ok(b.requests().some((q) => q.path === '/mcp'), 'B was asked');
      assert.deepEqual(b.requests().filter((q) => fingerprintsA.has(q.bearer)), [], "B's request log shows A's token");
      assertNoSecrets([relay.stderr(), ...relay.out.lines, first.r.stdout, first.r.stderr], await as.issued(), 'mcp-auth output');
      if (failure) throw failure;
      assert.ok(who.result, `whoami on B after B's own login: ${JSON.stringify(who).slice(0, 400)}`);
      assert.equal(JSON.parse(toolText(who.result)).aud, b.url, 'B got a token for B');
      assert.ok(b.requests().some((q) => q.auth === 'valid'), 'B saw its own valid token');
    } finally {
      relay.closeStdin();
      await relay.exited(5000).catch(() => relay.kill('SIGKILL'));
    }
  });
});
