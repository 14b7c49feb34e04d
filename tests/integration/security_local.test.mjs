// Attacks by another local user, and local-input hardening (issue 8: finding 4 and
// the local-user low findings). Each test performs the attack against the real binary.
//
// - The login: the browser's command line and mcp-auth's stderr carry only the
//   one-time loopback /start URL (no state, no PKCE challenge); a callback without
//   the cookie /start set never ends the login; N bad callbacks end it; a second
//   /start visit ends it; the callback port is never shared (SO_REUSEPORT).
// - The authorization URL is validated before it reaches a browser.
// - Children (browser, login agent): no secrets in the browser's environment, no
//   blocked signals, the agent started by the path the user ran (package upgrade).
// - --allow-http on login/token and the agent; no core files, non-dumpable process;
//   no control characters from servers on the terminal.
//
// The OAuth side is tests/servers/hostile-auth-server.mjs, or a small inline
// authorization server (below) where a test needs an answer that server cannot give.
//
// Run: MCP_AUTH_BIN=... node --test security_local.test.mjs

import { describe, it, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  relayBinary, spawnRelay, startHostileAuthServer, startMcpServer, oauthEnv, hostileBrowserEnv, isolatedEnv, runCrashChecked, runCommand,
  killAll, sleep, waitUntil, tempDir, legacyHandshake, assertCleanEnd, assertNoSecrets, observe,
  SCRIPTED_BROWSER, HOSTILE_BROWSER,
} from './lib.mjs';

const bin = relayBinary();
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

// ---------------------------------------------------------------------------
// Helpers

/** `mcp-auth login <url> --store file` in a fresh cwd with core dumps on. */
function login(url, env, { loginTimeout = 15, extraArgs = [], timeoutMs = 40000 } = {}) {
  return runCrashChecked(bin.path, ['login', url, '--store', 'file', '--login-timeout', String(loginTimeout), ...extraArgs], { env, timeoutMs });
}

/**
 * A "browser" that records what another process could see of it: its pid, its
 * parent's pid and command line, its argv (one per line) and its environment, then
 * waits for a "go" file (up to 5 s: the test plays the attacker meanwhile) and execs
 * the scripted browser (`forward`) or `sleep 60` (a browser that stays open).
 */
function spyBrowser({ forward = true } = {}) {
  const dir = tempDir('mcp-auth-spy-');
  const script = join(dir, 'browser.sh');
  writeFileSync(script, [
    '#!/bin/sh',
    `D='${dir}'`,
    'printf "%s\\n" "$@" > "$D/argv"',
    'env > "$D/env"',
    'echo $PPID > "$D/ppid"',
    'tr "\\000" " " < /proc/$PPID/cmdline > "$D/parent-cmdline"',
    'echo $$ > "$D/pid.tmp" && mv "$D/pid.tmp" "$D/pid"',
    'i=0; while [ ! -e "$D/go" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
    forward ? `exec "${process.execPath}" '${SCRIPTED_BROWSER}' "$@"` : 'exec sleep 60',
    '',
  ].join('\n'));
  chmodSync(script, 0o755);
  const read = (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined);
  return {
    script,
    dir,
    read,
    pid: () => Number(read('pid')),
    go: () => writeFileSync(join(dir, 'go'), ''),
    opened: () => existsSync(join(dir, 'pid')),
  };
}

/** Reads /proc/<pid>/<file> as user nobody when we are root (another user), else as us. */
async function readAsOtherUser(pid, file) {
  const asNobody = process.getuid() === 0;
  const [cmd, args] = asNobody
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', `/proc/${pid}/${file}`]]
    : ['cat', [`/proc/${pid}/${file}`]];
  const r = await runCommand(cmd, args, { timeoutMs: 5000 });
  return { ...r, asNobody };
}

const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
};

/** Kills a pid we know (a browser or agent a test started), ignoring one already gone. */
const killPid = (pid) => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } };

const hostileOpening = async (browser) => {
  await waitUntil(() => browser.openings().length > 0, 15000, 'the hostile browser to log its opening');
  return browser.openings()[0];
};

/**
 * A small authorization server + MCP resource on one port, for answers the hostile
 * server cannot give: `authorizationEndpoint` (base => any string at all),
 * `identity` (the email claim of its tokens) and `callbackError` ({error,
 * error_description} sent back instead of a code). The MCP endpoint only answers 401.
 */
async function startInlineAuthServer({ authorizationEndpoint, identity = 'alice@example.test', callbackError } = {}) {
  const requests = [];
  let base;
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const token = () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: base, sub: 'u1', email: identity, aud: `${base}/mcp`, exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, base);
    requests.push({ method: req.method, path: url.pathname });
    let body = '';
    for await (const chunk of req) body += chunk;
    const json = (status, obj) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
    if (url.pathname === '/mcp') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"` });
      return res.end();
    }
    if (url.pathname.startsWith('/.well-known/oauth-protected-resource')) return json(200, { resource: `${base}/mcp`, authorization_servers: [base] });
    if (url.pathname.startsWith('/.well-known/oauth-authorization-server') || url.pathname.startsWith('/.well-known/openid-configuration')) {
      return json(200, {
        issuer: base,
        authorization_endpoint: authorizationEndpoint ? authorizationEndpoint(base) : `${base}/authorize`,
        token_endpoint: `${base}/token`,
        registration_endpoint: `${base}/register`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
      });
    }
    if (url.pathname === '/register') return json(201, { client_id: 'inline-client', token_endpoint_auth_method: 'none', redirect_uris: JSON.parse(body || '{}').redirect_uris });
    if (url.pathname === '/authorize') {
      const target = new URL(url.searchParams.get('redirect_uri'));
      if (callbackError) for (const [k, v] of Object.entries(callbackError)) target.searchParams.set(k, v);
      else target.searchParams.set('code', 'inline-code');
      target.searchParams.set('state', url.searchParams.get('state') ?? '');
      target.searchParams.set('iss', base);
      res.writeHead(302, { Location: target.href });
      return res.end();
    }
    if (url.pathname === '/token') return json(200, { access_token: token(), id_token: token(), token_type: 'Bearer', expires_in: 3600, refresh_token: 'inline-refresh', scope: 'read' });
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  return { url: `${base}/mcp`, issuer: base, requests, close: () => new Promise((r) => server.close(r)) };
}

/** A relay against `srv` that logs in through the agent on its first request. */
function startRelay(srv, env, { path = bin.path, extraArgs = [], cwd } = {}) {
  if (!cwd) return spawnRelay(path, [srv.url, '--store', 'file', ...extraArgs], { env, inheritEnv: false });
  return spawnRelay('/bin/sh', ['-c', `cd '${cwd}' && ulimit -c unlimited 2>/dev/null; exec "$0" "$@"`, path, srv.url, '--store', 'file', ...extraArgs], { env, inheritEnv: false });
}

async function stopRelay(relay) {
  relay.closeStdin();
  await relay.exited(5000).catch(() => relay.kill('SIGKILL'));
}

// ---------------------------------------------------------------------------
// 1. The login cannot be hijacked by another local user (finding 4)

describe('another local user and the login callback', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  it('a. the browser command line (readable by any user in /proc) and stderr carry no state and no PKCE challenge, and the login works', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const spy = spyBrowser();
    const browser = oauthEnv({ browser: spy.script });
    const running = login(srv.url, browser.env);
    await waitUntil(spy.opened, 15000, 'the browser to open');
    const seen = await readAsOtherUser(spy.pid(), 'cmdline');
    spy.go();
    const r = await running;
    const cmdline = seen.stdout.split('\0').join(' ');
    observe('browser argv seen by another user', `${seen.asNobody ? '(as nobody) ' : ''}${cmdline}`);
    assert.equal(seen.code, 0, `another user can read a browser's command line (the premise): ${seen.stderr}`);
    assert.match(cmdline, /http:\/\/127\.0\.0\.1:\d+\/start\?n=/, 'the browser was given the loopback start page');
    for (const text of [cmdline, spy.read('argv'), r.stderr]) {
      assert.doesNotMatch(text, /state=|code_challenge|\/authorize/, `no authorization URL in: ${text}`);
    }
    assertCleanEnd(r, { what: 'mcp-auth login' });
    assert.equal(r.code, 0, `the login completes: ${r.stderr}`);
    assert.match(r.stderr, /if the browser does not open, visit:/);
    assert.match(r.stderr, /\n\S*mcp-auth:\s+http:\/\/127\.0\.0\.1:\d+\/start\?n=/, 'the start URL is shown on a line of its own');
  });

  it('b. an attacker with the state but no cookie: its callbacks (its own code, access_denied, even the real code) never end the login; the user\'s completes', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const browser = hostileBrowserEnv('no-cookie-first');
    const r = await login(srv.url, browser.env);
    const opening = await hostileOpening(browser);
    observe('no-cookie callbacks', JSON.stringify(opening.pages.slice(1).map((p) => [p.status, p.text?.slice(0, 90)])));
    assertCleanEnd(r, { what: 'mcp-auth login' });
    assert.equal(r.code, 0, `the user's login completes: ${r.stderr}`);
    const [, attackerCode, denied, realNoCookie, realWithCookie] = opening.pages;
    for (const p of [attackerCode, denied, realNoCookie]) {
      assert.equal(p.status, 400, `a callback without the cookie is refused: ${JSON.stringify(p)}`);
      assert.match(p.text, /did not come from the browser that started the login/i, 'the page says why, in plain words');
    }
    assert.equal(realWithCookie.status, 200, `the callback with the cookie: ${JSON.stringify(realWithCookie)}`);
    assert.equal(srv.events('token').length, 1, 'one code exchange');
    assert.deepEqual(srv.events('token_error'), [], 'the attacker\'s code was never sent to the AS');
    assertNoSecrets([r.stdout, r.stderr], await srv.issued(), 'mcp-auth output');
  });

  it(`c. after ${5} refused callbacks the listener closes and the login fails at once with a clear error`, { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const browser = hostileBrowserEnv('bad-callbacks');
    const r = await login(srv.url, browser.env, { loginTimeout: 20 });
    const opening = await hostileOpening(browser);
    observe('bad callbacks', `exit ${r.code} after ${r.ms} ms: ${r.stderr.trim().split('\n').at(-1)}`);
    assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
    assert.ok(r.ms < 15000, `the login ended at the bound, not at --login-timeout (${r.ms} ms)`);
    assert.match(r.stderr, /stopped after 5 login responses[^\n]*take over the login[^\n]*Run the login again/);
    const last = opening.pages.at(-1);
    assert.ok(last.status === null || last.status >= 400, `the real callback after the bound does not log in: ${JSON.stringify(last)}`);
    assert.deepEqual(srv.requests().filter((q) => q.path === '/token'), [], 'no code exchange');
  });

  it('c. the start page opened twice (someone else used the link): the login is stopped with a clear error', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const browser = hostileBrowserEnv('start-twice');
    const r = await login(srv.url, browser.env, { loginTimeout: 20 });
    const opening = await hostileOpening(browser);
    const [, second, callback] = opening.pages;
    observe('start twice', `exit ${r.code}: ${r.stderr.trim().split('\n').at(-1)}; second /start: ${second?.status} ${second?.text}`);
    assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
    assert.ok(r.ms < 15000, `ended at once (${r.ms} ms)`);
    assert.match(r.stderr, /opened twice[^\n]*stopped[^\n]*Run the login again/);
    assert.equal(second.status, 409);
    assert.match(second.text, /already opened once/);
    assert.ok(callback.status === null || callback.status >= 400, `no login after that: ${JSON.stringify(callback)}`);
    assert.deepEqual(srv.requests().filter((q) => q.path === '/token'), [], 'no code exchange');
  });

  it('2. a --callback-port held by a listener with SO_REUSEPORT: "in use", no browser', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const holder = spawn('python3', ['-c', [
      'import socket, sys, time',
      's = socket.socket()',
      's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
      's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)',
      's.bind(("127.0.0.1", 0)); s.listen(8)',
      'print(s.getsockname()[1], flush=True)',
      'time.sleep(60)',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise((resolve, reject) => {
        holder.stdout.once('data', (d) => resolve(Number(String(d).trim())));
        holder.once('exit', (code) => reject(new Error(`python3 exited ${code}`)));
      });
      const browser = hostileBrowserEnv('record-only');
      const r = await login(srv.url, browser.env, { extraArgs: ['--callback-port', String(port)], loginTimeout: 5 });
      observe('busy port', `exit ${r.code}: ${r.stderr.trim()}`);
      assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is in use`));
      assert.deepEqual(browser.openings(), [], 'no browser was opened');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

// ---------------------------------------------------------------------------
// 3, 10. What an authorization server sends never reaches a browser or a terminal raw

describe('hostile authorization server text', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  for (const [label, endpoint] of [
    ['spaces and quotes', (base) => `${base}/authorize?x="a b" --new-window file:///etc/passwd`],
    ['a newline', (base) => `${base}/authorize\n--help`],
    ['an option, not a URL', () => '--help'],
  ]) {
    it(`3. an authorization_endpoint with ${label}: refused before any browser opens`, { timeout: 30000 }, async () => {
      const srv = await startInlineAuthServer({ authorizationEndpoint: endpoint });
      const browser = hostileBrowserEnv('record-only');
      const r = await login(srv.url, browser.env, { loginTimeout: 5 });
      await srv.close();
      observe(`endpoint with ${label}`, `exit ${r.code}: ${r.stderr.trim()}`);
      assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
      assert.match(r.stderr, /authoriz/i, 'the message names the authorization endpoint');
      assert.deepEqual(browser.openings(), [], 'no browser was opened');
      assert.doesNotMatch(r.stderr, CONTROL, 'no raw control characters on stderr');
    });
  }

  it('10. an identity with a newline and an escape sequence: stderr and `status` show it escaped, on one line', { timeout: 30000 }, async () => {
    const evil = 'alice\n\x1b[31mmcp-auth: Logged in as admin\u202e';
    const srv = await startInlineAuthServer({ identity: evil });
    const browser = oauthEnv();
    const r = await login(srv.url, browser.env);
    const status = await runCommand(bin.path, ['status', '--store', 'file'], { env: browser.env });
    await srv.close();
    observe('escaped identity', `${r.stderr.trim().split('\n').at(-1)} | status: ${status.stdout.split('\n')[1]}`);
    assert.equal(r.code, 0, `login: ${r.stderr}`);
    for (const [what, text] of [['login stderr', r.stderr], ['status stdout', status.stdout], ['status stderr', status.stderr]]) {
      assert.doesNotMatch(text, CONTROL, `${what} has no raw control characters: ${JSON.stringify(text)}`);
      assert.doesNotMatch(text, /^(mcp-auth: )?\S*Logged in as admin/m, `${what}: no forged line`);
    }
    assert.match(r.stderr, /as alice\\n\\x1b\[31mmcp-auth: Logged in as admin\\u202e/, 'the identity is shown escaped');
  });

  it('10. an error_description with newlines and escapes: one escaped line', { timeout: 30000 }, async () => {
    const srv = await startInlineAuthServer({ callbackError: { error: 'access_denied', error_description: 'no\r\n\x1b[2Jmcp-auth: Logged in as admin\x07' } });
    const browser = oauthEnv();
    const r = await login(srv.url, browser.env);
    await srv.close();
    observe('escaped error_description', r.stderr.trim().split('\n').at(-1));
    assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
    assert.match(r.stderr, /access_denied/);
    assert.doesNotMatch(r.stderr, CONTROL, `no raw control characters: ${JSON.stringify(r.stderr)}`);
    assert.doesNotMatch(r.stderr, /^(mcp-auth: )?\S*Logged in as admin/m, 'no forged line');
  });
});

// ---------------------------------------------------------------------------
// 9. A credential in the server URL's query

describe('a server URL with a query', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  it('9. is never logged, and the user is warned once that it is sent to the server', { timeout: 30000 }, async () => {
    const srv = await startMcpServer({ era: 'legacy', mode: 'json' });
    const secret = 'query-api-key-5e7d';
    const relay = spawnRelay(bin.path, [`${srv.url}?api_key=${secret}`, '--verbose', '--header', 'Authorization: Bearer static'], { env: isolatedEnv().env, inheritEnv: false });
    try {
      await legacyHandshake(relay, 10000);
    } finally {
      await stopRelay(relay);
    }
    observe('query warning', relay.stderr().split('\n').find((l) => /query/.test(l)));
    assert.ok(!relay.stderr().includes(secret), `the query's value is on stderr: ${relay.stderr()}`);
    const warnings = relay.stderr().split('\n').filter((l) => /has a query string[^\n]*credential[^\n]*--header/.test(l));
    assert.equal(warnings.length, 1, `one warning: ${relay.stderr()}`);
  });
});

// ---------------------------------------------------------------------------
// 4-7. The children: environment, signals, the path they are started by, options

describe('the browser and the login agent', { skip: bin.skip, concurrency: false }, () => {
  const strays = [];
  afterEach(async () => {
    for (const pid of strays.splice(0)) killPid(pid);
    await killAll();
  });

  /**
   * The relay's handshake, through the login its agent runs: waits for the spy browser to
   * open, notes the agent (its parent) for cleanup, lets the browser go on, and waits.
   */
  async function loginThroughAgent(relay, spy) {
    const handshake = legacyHandshake(relay, 30000);
    await waitUntil(spy.opened, 20000, 'the browser to open');
    strays.push(Number(spy.read('ppid')));
    spy.go();
    await handshake;
  }

  it('4. the browser gets none of the secrets (client secret, IdP token, --header variables); the agent logs in', { timeout: 45000 }, async () => {
    const srv = await startHostileAuthServer();
    const spy = spyBrowser();
    const secrets = { MCP_AUTH_CLIENT_SECRET: 'client-secret-4c1e', MCP_AUTH_IDP_ID_TOKEN: 'idp-token-9b2f', MY_API_KEY: 'api-key-77d0' };
    const browser = oauthEnv({ browser: spy.script, extra: secrets });
    const relay = startRelay(srv, browser.env, { extraArgs: ['--header', 'X-Api-Key: ${MY_API_KEY}'] });
    try {
      await loginThroughAgent(relay, spy);
      const env = spy.read('env');
      observe('browser environment', env.split('\n').filter((l) => /^MCP_AUTH|API_KEY/.test(l)).join(' '));
      assert.match(env, /^MCP_AUTH_BROWSER=/m, 'the environment was recorded');
      for (const [name, value] of Object.entries(secrets)) {
        assert.ok(!env.includes(value), `the browser's environment holds ${name}`);
      }
    } finally {
      await stopRelay(relay);
    }
  });

  it('5. the login agent and its browser can be stopped with SIGTERM (no signal blocked or ignored)', { timeout: 45000 }, async () => {
    const srv = await startHostileAuthServer();
    const spy = spyBrowser({ forward: false });
    const browser = oauthEnv({ browser: spy.script });
    const relay = startRelay(srv, browser.env);
    try {
      legacyHandshake(relay, 30000).catch(() => {});
      await waitUntil(spy.opened, 20000, 'the browser to open');
      spy.go();
      const browserPid = spy.pid();
      const agentPid = Number(spy.read('ppid'));
      strays.push(browserPid, agentPid);
      assert.match(spy.read('parent-cmdline'), /login .*--agent-lock-fd 3/, 'the browser was started by the login agent');
      await sleep(300); // the browser is in `sleep 60` now
      const masks = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').filter((l) => /^Sig(Blk|Ign)/.test(l)).join(' ');
      observe('signal masks', `browser ${masks(browserPid)}; agent ${masks(agentPid)}`);
      process.kill(browserPid, 'SIGTERM');
      await waitUntil(() => !alive(browserPid), 3000, 'the browser to die of SIGTERM');
      process.kill(agentPid, 'SIGTERM');
      await waitUntil(() => !alive(agentPid), 3000, 'the login agent to die of SIGTERM');
    } finally {
      await stopRelay(relay);
    }
  });

  it('6. a package upgrade replaced the binary under a running relay: the agent starts (the new binary) and logs in', { timeout: 45000 }, async () => {
    const srv = await startHostileAuthServer();
    const dir = tempDir('mcp-auth-upgrade-');
    const installed = join(dir, 'mcp-auth');
    copyFileSync(bin.path, installed);
    chmodSync(installed, 0o755);
    const browser = oauthEnv();
    const relay = startRelay(srv, browser.env, { path: installed });
    try {
      await sleep(300);
      // What dpkg does: the new file beside the old, renamed over it.
      copyFileSync(bin.path, `${installed}.dpkg-new`);
      chmodSync(`${installed}.dpkg-new`, 0o755);
      renameSync(`${installed}.dpkg-new`, installed);
      observe('upgrade', `the relay's image is now ${readlinkSync(`/proc/${relay.proc.pid}/exe`)}`);
      await legacyHandshake(relay, 30000);
      assert.match(relay.stderr(), /logging in to \S+ in the browser/, 'the relay started its login agent');
      assert.doesNotMatch(relay.stderr(), /could not start/);
    } finally {
      await stopRelay(relay);
    }
  });

  it('7. --allow-http: accepted by login, and passed to the login agent a relay with it starts', { timeout: 45000 }, async () => {
    const srv = await startHostileAuthServer();
    const first = oauthEnv();
    const r = await login(srv.url, first.env, { extraArgs: ['--allow-http'] });
    assert.equal(r.code, 0, `mcp-auth login --allow-http: ${r.stderr}`);
    const token = await runCommand(bin.path, ['token', srv.url, '--store', 'file', '--allow-http'], { env: first.env });
    assert.equal(token.code, 0, `mcp-auth token --allow-http: ${token.stderr}`);

    const spy = spyBrowser();
    const browser = oauthEnv({ browser: spy.script });
    const relay = startRelay(srv, browser.env, { extraArgs: ['--allow-http'] });
    try {
      await loginThroughAgent(relay, spy);
      observe('agent command line', spy.read('parent-cmdline'));
      assert.match(spy.read('parent-cmdline'), /login .*--allow-http/, 'the agent got --allow-http');
    } finally {
      await stopRelay(relay);
    }
  });
});

// ---------------------------------------------------------------------------
// 8. A process that holds tokens: no core file, nothing for a same-user reader

describe('core dumps and /proc', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  // Signals whose default action dumps core. Not SIGSEGV: a sanitizer build catches it to
  // print a report (packaging/hardening.sh runs this suite under ASan).
  for (const signal of ['SIGQUIT', 'SIGABRT']) {
    it(`8. a relay killed by ${signal} with ulimit -c unlimited leaves no core file`, { timeout: 30000 }, async () => {
      const srv = await startHostileAuthServer();
      const cwd = tempDir('mcp-auth-core-');
      const relay = startRelay(srv, oauthEnv({ browser: HOSTILE_BROWSER, extra: { HOSTILE_BROWSER_MODE: 'record-only' } }).env, { cwd });
      await sleep(500);
      const child = readFileSync(`/proc/${relay.proc.pid}/cmdline`, 'utf8');
      assert.match(child, /mcp-auth/, 'the relay is running (the shell exec\'d it)');
      relay.kill(signal);
      const end = await relay.exited(10000);
      await sleep(300);
      const cores = readdirSync(cwd).filter((f) => /^core/.test(f));
      observe(signal, `ended by ${end.signal}; files in cwd: ${readdirSync(cwd).join(', ') || '(none)'}`);
      assert.equal(end.signal, signal);
      assert.deepEqual(cores, [], 'no core file');
    });
  }

  it('8. another process of the same user cannot read the relay\'s environment (non-dumpable)', { timeout: 30000 }, async () => {
    const srv = await startHostileAuthServer();
    const { env } = oauthEnv({ browser: HOSTILE_BROWSER, extra: { HOSTILE_BROWSER_MODE: 'record-only', MCP_AUTH_CLIENT_SECRET: 'env-secret-31a' } });
    // As root, run both the relay and the reader as nobody: "the same user" without root's bypass.
    const asNobody = process.getuid() === 0;
    const relay = asNobody
      ? spawnRelay('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', bin.path, srv.url, '--store', 'file'], { env, inheritEnv: false })
      : startRelay(srv, env);
    try {
      await sleep(500);
      const r = await readAsOtherUser(relay.proc.pid, 'environ');
      observe('environ', `exit ${r.code}: ${r.stderr.trim()}`);
      assert.ok(!r.stdout.includes('env-secret-31a'), 'the environment (and its secret) was readable');
      assert.match(r.stderr, /Permission denied/);
    } finally {
      await stopRelay(relay);
    }
  });
});

after(() => killAll());
