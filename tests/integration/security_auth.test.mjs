// Security of the OAuth client against a hostile MCP server, a hostile authorization
// server and other mcp-auth processes (issue 8): each case performs the attack against the
// real binary and asserts that nothing reached where it must not.
//
//   1. a remote server (https://mcp.test, named-hosts.mjs) naming loopback URLs: refused,
//      the loopback port sees no connection; stored endpoints altered to loopback are not
//      used at refresh nor at logout
//   2. a pre-registered client's secret is pinned to its first authorization server
//   3. a 401's resource_metadata naming a link-local address (through a recording proxy,
//      so no binary ever reaches the network) or, from a remote server, loopback
//   4. `logout` is final: a running relay does not write the login back
//   5. a token endpoint that drips a byte a second: the refresh ends in bounded time, and a
//      second instance waits for the refresh lock instead of refreshing alongside
//   6. a token endpoint answering 503 on refresh: no browser, a clear error, login kept
//
// Run: MCP_AUTH_BIN=... CI=true node --test security_auth.test.mjs

import { describe, it, before, beforeEach, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import http from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  relayBinary, spawnRelay, startHostileAuthServer, oauthEnv, runCommand, killAll, sleep, waitUntil, freshId,
  assertRpcError, assertNoSecrets, observe, HOSTILE_BROWSER, tempDir, initializeRequest, missingCommands,
} from './lib.mjs';
import { namedHosts, prerequisite } from './named-hosts.mjs';

const bin = relayBinary();
const CI = process.env.CI === 'true';

// ---------------------------------------------------------------------------
// Watchers: where nothing may arrive

/** A TCP listener on 127.0.0.1 that records every connection (and what it sent) and answers nothing. */
async function startWatcher() {
  const seen = [];
  const sockets = new Set();
  const server = createNetServer((socket) => {
    const entry = { time: Date.now(), data: '' };
    seen.push(entry);
    sockets.add(socket);
    socket.on('data', (d) => { entry.data += d.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    setTimeout(() => socket.destroy(), 2000);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    stop: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r); }),
  };
}

/** An HTTP proxy on loopback that records every request and CONNECT and never connects anywhere. */
async function startRecordingProxy() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url });
    res.writeHead(502, { 'Content-Type': 'text/plain' }).end('recording proxy: not forwarded\n');
  });
  server.on('connect', (req, socket) => {
    seen.push({ method: 'CONNECT', url: req.url });
    socket.on('error', () => {});
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

// ---------------------------------------------------------------------------
// The store (file store in the test's XDG_STATE_HOME)

const storeFile = (env) => join(env.XDG_STATE_HOME, 'mcp-auth', 'credentials.json');

/** The token records in the file store (the item secrets that are token records). */
function storedLogins(env) {
  const file = storeFile(env);
  if (!existsSync(file)) return [];
  const out = [];
  const walk = (v) => {
    if (typeof v === 'string') {
      try {
        const r = JSON.parse(v);
        if (r && typeof r === 'object' && 'access_token' in r && 'server' in r) out.push(r);
      } catch { /* not a record */ }
    } else if (v && typeof v === 'object') {
      Object.values(v).forEach(walk);
    }
  };
  walk(JSON.parse(readFileSync(file, 'utf8')));
  return out;
}

/** Rewrites every stored token record with `change(record)` (what a tampering process or an older version could leave). */
function alterLogins(env, change) {
  const file = storeFile(env);
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    if (typeof v === 'string') {
      try {
        const r = JSON.parse(v);
        if (r && typeof r === 'object' && 'access_token' in r && 'server' in r) return JSON.stringify(change(r));
      } catch { /* not a record */ }
    }
    return v;
  };
  writeFileSync(file, JSON.stringify(walk(doc)), { mode: 0o600 });
}

/** `mcp-auth login` with the scripted browser (a real browser login against the hostile AS). */
async function browserLogin(url, env, { run = runCommand, extraArgs = [] } = {}) {
  const r = await run(bin.path, ['login', url, '--store', 'file', '--login-timeout', '20', ...extraArgs], { env, timeoutMs: 40000 });
  assert.equal(r.code, 0, `login: ${r.stderr}`);
  return r;
}

const withoutBrowser = (env) => {
  const e = { ...env };
  delete e.MCP_AUTH_BROWSER;
  return e;
};

const toolsCall = (id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: {} } });

// ---------------------------------------------------------------------------
// 1 and 3 (remote): a server that is not on loopback by name

describe('security: what a remote server may name (https://mcp.test)', { skip: bin.skip, concurrency: false }, () => {
  let bed;
  let skipWhy = '';
  before(async () => {
    skipWhy = await prerequisite();
    if (skipWhy && CI) throw new Error(`CI=true and named hosts are unavailable: ${skipWhy}`);
  });
  // A fresh bed per test: killAll() removes the temporary directories (the PKI among them).
  beforeEach(async () => { if (!skipWhy) bed = await namedHosts(['mcp.test', 'as.test']); });
  afterEach(() => killAll());
  after(() => killAll());

  const tlsArgs = () => ['--tls-cert', bed.pki.serverCert, '--tls-key', bed.pki.serverKey, '--host', 'mcp.test'];
  const remote = (srv) => `https://mcp.test:${srv.port}/mcp`;

  /** `mcp-auth login` of the remote server in the named-hosts namespace, with a browser that only records. */
  async function refusedLogin(srv, watcher) {
    const browserLog = join(tempDir(), 'browser.jsonl');
    const { env } = oauthEnv({ browser: HOSTILE_BROWSER, extra: { HOSTILE_BROWSER_MODE: 'record-only', TEST_BROWSER_LOG: browserLog } });
    const r = await bed.run(bin.path, ['login', remote(srv), '--store', 'file', '--ca-file', bed.pki.caPem, '--login-timeout', '5'], { env, timeoutMs: 30000 });
    observe('remote login', `exit ${r.code}: ${r.stderr}`);
    await sleep(300);
    assert.equal(watcher.seen.length, 0, `nothing may reach the loopback port: ${JSON.stringify(watcher.seen).slice(0, 300)}`);
    assert.notEqual(r.code, 0, `the login must fail: ${r.stderr}`);
    assert.ok(!existsSync(browserLog) || readFileSync(browserLog, 'utf8').trim() === '', 'no browser may open');
    return r;
  }

  it('1. a remote server whose PRM names http://127.0.0.1:<port> as its authorization server: refused, the port sees nothing', { timeout: 40000 }, async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    const watcher = await startWatcher();
    const srv = await startHostileAuthServer({ misbehave: ['prm-as-target'], extraArgs: [...tlsArgs(), '--target', watcher.url] });
    const r = await refusedLogin(srv, watcher);
    assert.match(r.stderr, /authorization server[^\n]*refused[^\n]*not on this machine/i);
    await watcher.stop();
  });

  for (const [misbehave, what] of [['token-endpoint-target', 'token endpoint'], ['registration-endpoint-target', 'registration endpoint'], ['revocation-endpoint-target', 'revocation endpoint']]) {
    it(`1. a remote server's AS metadata naming a loopback ${what}: refused before any browser, the port sees nothing`, { timeout: 40000 }, async (t) => {
      if (skipWhy) return t.skip(skipWhy);
      const watcher = await startWatcher();
      const srv = await startHostileAuthServer({ misbehave: [misbehave], extraArgs: [...tlsArgs(), '--target', `${watcher.url}/x`] });
      const r = await refusedLogin(srv, watcher);
      assert.match(r.stderr, new RegExp(`${what}[^\\n]*refused`, 'i'));
      assert.ok(!srv.requests().some((q) => q.path === '/register' || q.path === '/token'), 'no registration, no token request');
      await watcher.stop();
    });
  }

  it('3. a remote server whose 401 names a loopback (or plain http) resource_metadata: refused, the port sees nothing', { timeout: 40000 }, async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    const watcher = await startWatcher();
    const srv = await startHostileAuthServer({ misbehave: ['resource-metadata-target'], extraArgs: [...tlsArgs(), '--target', `${watcher.url}/.well-known/oauth-protected-resource`] });
    const { env } = oauthEnv();
    const relay = bed.spawnRelay(bin.path, [remote(srv), '--store', 'file', '--ca-file', bed.pki.caPem], { env: withoutBrowser(env), inheritEnv: false });
    const id = freshId();
    const reply = await relay.request(initializeRequest(id), 20000);
    observe('remote 401 resource_metadata', `${JSON.stringify(reply.error)} | ${relay.stderr()}`);
    await sleep(200);
    assert.equal(watcher.seen.length, 0, `nothing may reach the loopback port: ${JSON.stringify(watcher.seen).slice(0, 300)}`);
    assertRpcError(reply, { id });
    assert.match(`${reply.error.message} ${relay.stderr()}`, /resource_metadata[^\n]*refused/i);
    await watcher.stop();
  });

  it('1. a stored login whose token_endpoint was changed to http://127.0.0.1:<port>: the refresh token is not sent there; logout does not revoke at a loopback revocation_endpoint', { timeout: 60000 }, async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    const watcher = await startWatcher();
    const srv = await startHostileAuthServer({ accessTokenTtl: 600, extraArgs: tlsArgs() });
    const { env } = oauthEnv();
    const nsEnv = bed.env(env);
    await browserLogin(remote(srv), nsEnv, { run: bed.run, extraArgs: ['--ca-file', bed.pki.caPem] });
    const [before] = storedLogins(env);
    assert.ok(before?.refresh_token, 'logged in with a refresh token');
    alterLogins(env, (r) => ({ ...r, token_endpoint: `${watcher.url}/token`, revocation_endpoint: `${watcher.url}/revoke`, expires_at: 1 }));

    const token = await bed.run(bin.path, ['token', remote(srv), '--store', 'file', '--ca-file', bed.pki.caPem], { env: withoutBrowser(env), timeoutMs: 20000 });
    observe('tampered token_endpoint', `exit ${token.code}: ${token.stderr}`);
    await sleep(300);
    assert.equal(watcher.seen.length, 0, `the refresh token went to the loopback port: ${JSON.stringify(watcher.seen).slice(0, 200)}`);
    assert.notEqual(token.code, 0, 'no token');
    assert.match(token.stderr, /token endpoint[^\n]*refused/i);
    assertNoSecrets([token.stdout, token.stderr], [before.refresh_token, before.access_token], 'mcp-auth token');

    const logout = await bed.run(bin.path, ['logout', remote(srv), '--store', 'file', '--ca-file', bed.pki.caPem], { env: withoutBrowser(env), timeoutMs: 20000 });
    observe('tampered revocation_endpoint', `exit ${logout.code}: ${logout.stderr}`);
    await sleep(300);
    assert.equal(watcher.seen.length, 0, `logout sent the token to the loopback port: ${JSON.stringify(watcher.seen).slice(0, 200)}`);
    assert.match(logout.stderr, /not revoking[^\n]*revocation endpoint[^\n]*refused/i);
    assert.deepEqual(storedLogins(env), [], 'the login is deleted locally all the same');
    await watcher.stop();
  });
});

// ---------------------------------------------------------------------------
// 3 (loopback server): a link-local resource_metadata, through a recording proxy

describe('security: a 401 naming a link-local resource_metadata', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  it('3. resource_metadata="http://169.254.169.254/latest/meta-data/": refused; the proxy (standing in for the network) sees nothing', { timeout: 30000 }, async () => {
    const proxy = await startRecordingProxy();
    const srv = await startHostileAuthServer({ misbehave: ['resource-metadata-target'], extraArgs: ['--target', 'http://169.254.169.254/latest/meta-data/'] });
    const { env } = oauthEnv({ extra: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, http_proxy: proxy.url, https_proxy: proxy.url, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' } });
    const relay = spawnRelay(bin.path, [srv.url, '--store', 'file'], { env: withoutBrowser(env), inheritEnv: false });
    const id = freshId();
    const reply = await relay.request(initializeRequest(id), 20000);
    observe('link-local resource_metadata', `${JSON.stringify(reply.error)} | ${relay.stderr()}`);
    await sleep(200);
    assert.deepEqual(proxy.seen, [], 'no request for the metadata address left mcp-auth');
    assertRpcError(reply, { id });
    assert.match(`${reply.error.message} ${relay.stderr()}`, /resource_metadata[^\n]*link-local/i);
    await proxy.stop();
  });
});

// ---------------------------------------------------------------------------
// 2: a pre-registered client's secret is pinned to its authorization server

describe('security: a client secret goes to its own authorization server only', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  it('2. logged in with a client secret at AS A; the server then names AS B: refused, naming both, and B never sees the secret', { timeout: 40000 }, async () => {
    const client = ['--client', 'pre-registered:s3cret-of-A-4b1d'];
    const asA = await startHostileAuthServer({ role: 'as', extraArgs: client });
    const asB = await startHostileAuthServer({ role: 'as', extraArgs: client });
    const rs = await startHostileAuthServer({ role: 'rs', issuer: asA.issuer });
    const { env } = oauthEnv({ extra: { MCP_AUTH_CLIENT_SECRET: 's3cret-of-A-4b1d' } });
    const args = ['--store', 'file', '--client-credentials', '--client-id', 'pre-registered'];
    const first = await runCommand(bin.path, ['login', rs.url, ...args], { env, timeoutMs: 20000 });
    assert.equal(first.code, 0, `login at A: ${first.stderr}`);
    assert.ok(asA.events('token_request').some((e) => e.secret), 'A got the secret');

    // The server now names B (restarted on the same port with another issuer).
    const port = rs.port;
    await rs.stop();
    const rsB = await startHostileAuthServer({ role: 'rs', port, issuer: asB.issuer });
    const again = await runCommand(bin.path, ['login', rsB.url, ...args, '--force'], { env, timeoutMs: 20000 });
    observe('issuer pin', `exit ${again.code}: ${again.stderr}`);
    assert.notEqual(again.code, 0, 'the login at B must be refused');
    assert.deepEqual(asB.events('token_request'), [], 'B received no token request (and so no secret)');
    assert.ok(again.stderr.includes(asA.issuer) && again.stderr.includes(asB.issuer), `the message names both issuers: ${again.stderr}`);
    assertNoSecrets([again.stdout, again.stderr], ['s3cret-of-A-4b1d'], 'mcp-auth output');
  });
});

// ---------------------------------------------------------------------------
// 4, 5, 6: refresh behaviour of running relays

describe('security: refresh, logout and the refresh lock', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  it('4. logout is final: a relay still running does not write the login back at its next refresh', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ accessTokenTtl: 3 });
    const { env } = oauthEnv();
    await browserLogin(srv.url, env);
    const relay = spawnRelay(bin.path, [srv.url, '--store', 'file'], { env: withoutBrowser(env), inheritEnv: false });
    const first = await relay.request(toolsCall(freshId()), 10000);
    assert.ok(first.result, `the relay works while logged in: ${JSON.stringify(first).slice(0, 300)}`);

    const out = await runCommand(bin.path, ['logout', srv.url, '--store', 'file'], { env, timeoutMs: 15000 });
    assert.equal(out.code, 0, `logout: ${out.stderr}`);
    await sleep(3200); // the relay's token expires: its next request refreshes
    const refreshesBefore = srv.events('refresh').length;
    const id = freshId();
    const after = await relay.request(toolsCall(id), 15000);
    observe('after logout', `${JSON.stringify(after.error ?? after.result).slice(0, 300)} | ${relay.stderr()}`);
    assert.deepEqual(storedLogins(env), [], 'the store has no login');
    const status = await runCommand(bin.path, ['status', srv.url, '--json', '--store', 'file'], { env, timeoutMs: 15000 });
    assert.deepEqual(JSON.parse(status.stdout), [], `status: not logged in (${status.stdout})`);
    assert.equal(srv.events('refresh').length, refreshesBefore, 'no refresh was sent with the logged-out refresh token');
    assertRpcError(after, { id });
  });

  it('5. a token endpoint that drips a byte a second: the refresh fails in bounded time; a second instance never refreshes while the first holds the lock', { timeout: 50000 }, async () => {
    const srv = await startHostileAuthServer({ accessTokenTtl: 2, misbehave: ['refresh-drip'] });
    const { env } = oauthEnv();
    await browserLogin(srv.url, env);
    await sleep(2200);
    const args = [srv.url, '--store', 'file', '--timeout', '4', '--connect-timeout', '2'];
    const one = spawnRelay(bin.path, args, { env: withoutBrowser(env), inheritEnv: false });
    const two = spawnRelay(bin.path, args, { env: withoutBrowser(env), inheritEnv: false });
    const started = Date.now();
    const id1 = freshId();
    one.send(toolsCall(id1));
    await waitUntil(() => srv.events('token_request').some((e) => e.grant_type === 'refresh_token'), 8000, 'the first refresh');
    const id2 = freshId();
    two.send(toolsCall(id2));
    const r1 = await one.reply(id1, 20000);
    const ms1 = Date.now() - started;
    observe('drip: first instance', `${ms1} ms: ${JSON.stringify(r1.error)}`);
    assertRpcError(r1, { id: id1 });
    assert.ok(ms1 < 15000, `the first refresh ended by its deadline (${ms1} ms)`);
    assert.match(`${r1.error.message} ${one.stderr()}`, /token endpoint|authorization server/i);
    const r2 = await two.reply(id2, 25000);
    observe('drip: second instance', `${Date.now() - started} ms: ${JSON.stringify(r2.error)}`);
    assertRpcError(r2, { id: id2 });
    const refreshes = srv.events('token_request').filter((e) => e.grant_type === 'refresh_token');
    assert.ok(refreshes.length >= 1);
    assert.deepEqual(refreshes.map((e) => e.inflight), refreshes.map(() => 1), `never two refreshes at once: ${JSON.stringify(refreshes)}`);
  });

  it('6. a token endpoint answering 503 on refresh: tried again, then a clear error; no browser, and the login is kept', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer({ accessTokenTtl: 2, misbehave: ['refresh-503'] });
    const { env } = oauthEnv();
    await browserLogin(srv.url, env);
    const [before] = storedLogins(env);
    await sleep(2200);
    const browserLog = join(tempDir(), 'browser.jsonl');
    const relayEnv = { ...env, MCP_AUTH_BROWSER: HOSTILE_BROWSER, HOSTILE_BROWSER_MODE: 'record-only', TEST_BROWSER_LOG: browserLog };
    const relay = spawnRelay(bin.path, [srv.url, '--store', 'file'], { env: relayEnv, inheritEnv: false });
    const id = freshId();
    const reply = await relay.request(toolsCall(id), 20000);
    observe('503 on refresh', `${JSON.stringify(reply.error)} | ${relay.stderr()}`);
    await sleep(500);
    assert.ok(!existsSync(browserLog) || readFileSync(browserLog, 'utf8').trim() === '', `no browser may open: ${existsSync(browserLog) ? readFileSync(browserLog, 'utf8') : ''}`);
    assertRpcError(reply, { id });
    assert.match(reply.error.message, /unavailable[^\n]*kept/i);
    const tries = srv.events('token_request').filter((e) => e.grant_type === 'refresh_token').length;
    assert.ok(tries >= 2 && tries <= 3, `retried a bounded number of times (${tries})`);
    const [afterLogin] = storedLogins(env);
    assert.equal(afterLogin?.refresh_token, before.refresh_token, 'the stored login (and its refresh token) is kept');
  });
});

// ---------------------------------------------------------------------------
// 7: a rotated refresh token the store cannot keep yet

describe('security: a refresh the store cannot save', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  it('7. the store cannot save at a refresh: the new access token is used, the rotated refresh token stays in memory and is saved once the store works again', { timeout: 40000 }, async (t) => {
    // The relay runs in a mount namespace of its own, where the store file is then covered
    // by a bind mount of itself: it reads as before, but the atomic rename that replaces it
    // fails (EBUSY), so every save fails until it is unmounted (as root, a chmod would not
    // stop a write).
    const missing = (await prerequisite()) || (missingCommands(['nsenter']).length ? 'needs nsenter' : '');
    if (missing && CI) throw new Error(`CI=true and mount namespaces are unavailable: ${missing}`);
    if (missing) return t.skip(missing);
    const srv = await startHostileAuthServer({ accessTokenTtl: 3 });
    const { env } = oauthEnv();
    await browserLogin(srv.url, env);
    const [before] = storedLogins(env);
    const file = storeFile(env);
    const relay = spawnRelay('unshare', ['-m', bin.path, srv.url, '--store', 'file'], { env: withoutBrowser(env), inheritEnv: false });
    const first = await relay.request(toolsCall(freshId()), 10000);
    assert.ok(first.result, `logged in: ${JSON.stringify(first).slice(0, 300)}`);
    const inRelayNs = async (...args) => {
      const r = await runCommand('nsenter', ['-t', String(relay.proc.pid), '-m', ...args], { timeoutMs: 10000 });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    };
    await inRelayNs('mount', '--bind', file, file);
    await sleep(3200); // expired: the next request refreshes, and the save fails
    const during = await relay.request(toolsCall(freshId()), 15000);
    observe('read-only store at refresh', `${JSON.stringify(during.error ?? during.result).slice(0, 200)} | ${relay.stderr()}`);
    assert.ok(during.result, `the refreshed access token is used: ${JSON.stringify(during).slice(0, 300)}`);
    assert.equal(srv.events('refresh').length, 1, 'one refresh');
    assert.equal(storedLogins(env)[0]?.refresh_token, before.refresh_token, 'the store still holds the old login');
    const issued = await srv.issued();
    const rotated = issued[issued.length - 1];
    await inRelayNs('umount', file);
    const later = await relay.request(toolsCall(freshId()), 15000);
    assert.ok(later.result, `still working: ${JSON.stringify(later).slice(0, 300)}`);
    assert.equal(srv.events('refresh').length, 1, 'no refresh was sent with the unsaved refresh token');
    await waitUntil(() => storedLogins(env)[0]?.refresh_token === rotated, 5000, 'the rotated refresh token to be saved').catch(() => {});
    assert.equal(storedLogins(env)[0]?.refresh_token, rotated, 'the rotated refresh token is saved once the store works');
  });
});

// ---------------------------------------------------------------------------
// 9: a credential in the server URL's query string

describe('security: a credential in the server URL query', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  for (const viaIssuer of [false, true]) {
    it(`9. login to <url>?key=SECRET${viaIssuer ? ' with --issuer' : ''}: the query is never logged, nor sent to the authorization server as the resource`, { timeout: 40000 }, async () => {
      const srv = await startHostileAuthServer({});
      const { env } = oauthEnv();
      const secret = 'QUERY-SECRET-5e2a';
      const extra = viaIssuer ? ['--issuer', srv.issuer] : [];
      const r = await runCommand(bin.path, ['login', `${srv.url}?key=${secret}`, '--store', 'file', '-v', ...extra], { env, timeoutMs: 30000 });
      assert.equal(r.code, 0, `login: ${r.stderr}`);
      assert.ok(!r.stderr.includes(secret), `the query appears in the log: ${r.stderr.split('\n').filter((l) => l.includes(secret)).join(' | ')}`);
      const sent = srv.events().filter((e) => e.resource !== undefined).map((e) => e.resource);
      assert.ok(sent.length > 0, 'a resource was sent');
      assert.deepEqual(sent.filter((x) => String(x).includes(secret)), [], `the resource sent carries the query: ${JSON.stringify(sent)}`);
    });
  }
});
