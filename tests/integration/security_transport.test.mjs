// Transport security (issue 8): what a hostile MCP server or authorization server can make
// mcp-auth send, and to whom. Each test performs the attack against the real binary:
//   1. request smuggling through a URL from metadata (CR/LF in an authorization server or
//      endpoint URL) against a victim service on loopback (tests/servers/raw-http-server.mjs
//      --mode record);
//   3. https:// to an IPv6 literal with hex letters going out as plain http: the token
//      must reach the proxy (tests/servers/sniffing-proxy.mjs, which never connects
//      anywhere) only inside a CONNECT tunnel;
//   8. endless response headers: the relay fails the request and its memory stays small;
//   9. a metadata host that drips one byte at a time: discovery fails in bounded time;
//   low: loopback never through HTTP(S)_PROXY; SOCKS or https:// proxies are an error,
//      not a direct connection; NO_PROXY=host:99999999999 does not crash.
// Traffic only ever goes to loopback: every non-loopback target is reached through the
// sniffing proxy, which records and answers 502.
//
// Run: MCP_AUTH_BIN=... node --test security_transport.test.mjs

import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  relayBinary, spawnRelay, startServer, startMcpServer, isolatedEnv, hostileBrowserEnv, killAll, sleep, tempDir,
  freshId, initializeRequest, legacyHandshake, assertRpcError, observe, readJsonLines, SERVERS_DIR,
  runCrashChecked, assertCleanEnd, sanitizerOf,
} from './lib.mjs';
import { namedHosts } from './named-hosts.mjs';

const bin = relayBinary();
const SNIFFING_PROXY = join(SERVERS_DIR, 'sniffing-proxy.mjs');
const RAW_HTTP_SERVER = join(SERVERS_DIR, 'raw-http-server.mjs');
const SECRET = 'TRANSPORT-SECRET-TOKEN-9c41e7';

/** Everything a byte-logging server received, per connection, as latin1 text. */
function bytesByConn(logFile) {
  const out = new Map();
  for (const { conn, data } of readJsonLines(logFile)) out.set(conn, (out.get(conn) ?? '') + Buffer.from(data, 'base64').toString('latin1'));
  return out;
}

async function startSniffingProxy() {
  const byteLog = join(tempDir('sniff-'), 'bytes.jsonl');
  const srv = await startServer(SNIFFING_PROXY, ['--byte-log', byteLog]);
  const all = () => [...bytesByConn(byteLog).values()].join('\n');
  return { ...srv, proxyUrl: `http://127.0.0.1:${srv.port}`, byteLog, all, conns: () => bytesByConn(byteLog).size };
}

async function startRaw(mode, extra = []) {
  const byteLog = join(tempDir('raw-'), 'bytes.jsonl');
  const srv = await startServer(RAW_HTTP_SERVER, ['--mode', mode, '--byte-log', byteLog, ...extra]);
  return { ...srv, byteLog, all: () => [...bytesByConn(byteLog).values()].join('\n'), conns: () => bytesByConn(byteLog).size };
}

/**
 * A hostile MCP server on loopback (in this process): every POST gets a 401 whose
 * resource_metadata points at `prmUrl(port)`; GET `path` answers `routes[path](port)`.
 */
async function startHostileMcp({ prmPath = '/.well-known/oauth-protected-resource', routes = {} }) {
  const server = http.createServer((req, res) => {
    const port = server.address().port;
    if (req.method === 'POST') {
      req.resume();
      res.writeHead(401, {
        'WWW-Authenticate': `Bearer resource_metadata="http://127.0.0.1:${port}${prmPath}"`,
        'Content-Type': 'application/json',
      }).end('{"error":"unauthorized"}');
      return;
    }
    const route = routes[req.url.split('?')[0]];
    if (!route) return res.writeHead(404).end();
    const body = route(port);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return { port, url: `http://127.0.0.1:${port}/mcp`, close: () => { server.closeAllConnections(); server.close(); } };
}

const cleanups = [];
async function cleanup() {
  while (cleanups.length) cleanups.pop()();
  await killAll();
}

/** The smuggling payload: the rest of a request line, then a second, complete request. */
const smuggled = (victimPort) => `http://127.0.0.1:${victimPort}/ HTTP/1.1\r\nHost: x\r\n\r\n` +
  `POST /api/pwn HTTP/1.1\r\nHost: 127.0.0.1:${victimPort}\r\nContent-Length: 0\r\n\r\nGET /tail`;

/** Starts the relay on `url`, sends initialize, and returns {relay, reply, ms}. */
async function initializeThrough(url, { env, args = [], ms = 20000, spawn = spawnRelay } = {}) {
  const relay = spawn(bin.path, [url, '--store', 'file', ...args], { env, inheritEnv: false });
  const id = freshId();
  const started = Date.now();
  const reply = await relay.request(initializeRequest(id), ms);
  return { relay, reply, id, ms: Date.now() - started };
}

describe('transport: a 30 kB host name (finding 7: std::regex in cpp-httplib recursed)', { skip: bin.skip, concurrency: false }, () => {
  afterEach(cleanup);
  const longHost = `${'a'.repeat(30000)}.example`;

  it('named by a server\'s metadata as its authorization server: refused, no crash', { timeout: 40000 }, async () => {
    // The proxy stands in for the network: a binary that went on would reach it, not DNS.
    const proxy = await startSniffingProxy();
    const mcp = await startHostileMcp({
      routes: {
        '/.well-known/oauth-protected-resource': (port) => ({
          resource: `http://127.0.0.1:${port}/mcp`,
          authorization_servers: [`https://${longHost}`],
        }),
      },
    });
    cleanups.push(mcp.close);
    const { env } = hostileBrowserEnv('record-only');
    env.HTTPS_PROXY = proxy.proxyUrl;
    const { relay, reply, id } = await initializeThrough(mcp.url, { env });
    observe('30 kB AS host', reply.error?.message?.slice(0, 300));
    assertRpcError(reply, { id }, 'initialize with a 30 kB authorization server host');
    assert.match(reply.error.message, /longer than/);
    assert.equal(relay.proc.exitCode, null, 'mcp-auth is still running');
    assert.equal(proxy.conns(), 0, 'nothing was sent anywhere');
    relay.kill();
  });

  it('as the server URL on the command line: a usage error, no crash', { timeout: 40000 }, async () => {
    const proxy = await startSniffingProxy();
    const { env } = isolatedEnv({ HTTPS_PROXY: proxy.proxyUrl });
    const r = await runCrashChecked(bin.path, [`https://${longHost}/mcp`], { env, input: `${JSON.stringify(initializeRequest(freshId()))}\n` });
    observe('30 kB server host', r.stderr.slice(0, 300));
    assertCleanEnd(r, { failed: true });
    assert.equal(r.code, 2, `exit 2 (usage): ${r.stderr.slice(0, 300)}`);
    assert.match(r.stderr, /longer than/);
    assert.equal(proxy.conns(), 0, 'nothing was sent anywhere');
  });
});

describe('transport: request smuggling through URLs from metadata (finding 1)', { skip: bin.skip, concurrency: false }, () => {
  afterEach(cleanup);

  it('an authorization_servers entry with CRLF never reaches the victim as a second request', { timeout: 40000 }, async () => {
    const victim = await startRaw('record');
    const mcp = await startHostileMcp({
      routes: {
        '/.well-known/oauth-protected-resource': (port) => ({
          resource: `http://127.0.0.1:${port}/mcp`,
          authorization_servers: [smuggled(victim.port)],
        }),
      },
    });
    cleanups.push(mcp.close);
    const { env } = hostileBrowserEnv('record-only');
    const { relay, reply, id } = await initializeThrough(mcp.url, { env });
    observe('smuggle via authorization_servers', `${JSON.stringify(reply.error)} | victim got: ${JSON.stringify(victim.all().slice(0, 300))}`);
    await sleep(300);
    assert.ok(!victim.all().includes('/api/pwn'), `the victim received the smuggled request:\n${victim.all().slice(0, 600)}`);
    assert.ok(!/\r\n\r\nPOST /.test(victim.all()), 'no second request on any victim connection');
    assertRpcError(reply, { id }, 'initialize with a smuggling metadata document');
    assert.match(reply.error.message + JSON.stringify(reply.error.data ?? ''), /URL|carriage|space|RFC 3986|authorization server/i);
    relay.kill();
  });

  it('an AS metadata endpoint with CRLF (registration) never reaches the victim as a second request', { timeout: 40000 }, async () => {
    const victim = await startRaw('record');
    const mcp = await startHostileMcp({
      routes: {
        '/.well-known/oauth-protected-resource': (port) => ({
          resource: `http://127.0.0.1:${port}/mcp`,
          authorization_servers: [`http://127.0.0.1:${port}`],
        }),
        '/.well-known/oauth-authorization-server': (port) => ({
          issuer: `http://127.0.0.1:${port}`,
          authorization_endpoint: `http://127.0.0.1:${port}/authorize`,
          token_endpoint: smuggled(victim.port),
          registration_endpoint: smuggled(victim.port),
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_methods_supported: ['none'],
        }),
      },
    });
    cleanups.push(mcp.close);
    const { env, openings } = hostileBrowserEnv('record-only');
    const { relay, reply, id } = await initializeThrough(mcp.url, { env, args: ['--login-timeout', '5'] });
    observe('smuggle via registration_endpoint', `${JSON.stringify(reply.error)} | victim got: ${JSON.stringify(victim.all().slice(0, 300))}`);
    await sleep(300);
    assert.ok(!victim.all().includes('/api/pwn'), `the victim received the smuggled request:\n${victim.all().slice(0, 600)}`);
    assertRpcError(reply, { id }, 'initialize with a smuggling endpoint');
    assert.deepEqual(openings(), [], 'no browser opened for a server whose metadata is refused');
    relay.kill();
  });
});

describe('transport: https to an IPv6 literal stays TLS (finding 3)', { skip: bin.skip, concurrency: false }, () => {
  afterEach(cleanup);

  for (const host of ['[fd00::abcd]', '[2001:db8::1]']) {
    it(`https://${host} with a Bearer token: the proxy sees a CONNECT and never the token`, { timeout: 30000 }, async () => {
      const proxy = await startSniffingProxy();
      const { env } = isolatedEnv({ HTTPS_PROXY: proxy.proxyUrl, HTTP_PROXY: proxy.proxyUrl });
      const url = `https://${host}:8443/mcp`;
      const { relay, reply, id } = await initializeThrough(url, { env, args: ['--header', `Authorization: Bearer ${SECRET}`] });
      await sleep(200);
      const seen = proxy.all();
      observe(`proxy saw for ${host}`, JSON.stringify(seen.slice(0, 300)));
      assert.ok(!seen.includes(SECRET) && !/Bearer/i.test(seen), `the token crossed the proxy in clear:\n${seen.slice(0, 600)}`);
      assert.match(seen, new RegExp(`^CONNECT ${host.replace(/[[\]]/g, '\\$&')}:8443 HTTP/1\\.1\\r\\n`), 'a CONNECT tunnel to the IPv6 host');
      assertRpcError(reply, { id }, 'initialize through a proxy that refuses the tunnel');
      relay.kill();
    });
  }
});

/** VmRSS / VmHWM of a process, in KiB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') || 0 };  // 0 once it has exited
}

describe('transport: bounded replies (findings 8 and 9)', { skip: bin.skip, concurrency: false }, () => {
  afterEach(cleanup);

  it('a server that sends headers for ever: a JSON-RPC error soon, and the relay stays small', { timeout: 40000 }, async () => {
    const raw = await startRaw('endless-headers');
    const { env } = isolatedEnv();
    const relay = spawnRelay(bin.path, [`http://127.0.0.1:${raw.port}/mcp`, '--timeout', '20'], { env, inheritEnv: false });
    const id = freshId();
    const started = Date.now();
    relay.send(initializeRequest(id));
    // Watch the memory while waiting: a vulnerable relay grows at wire speed; stop it
    // at 150 MiB rather than let it take the machine.
    let peak = 0;
    let reply;
    const claim = relay.reply(id, 25000).then((r) => { reply = r; }, (e) => { reply = e; });
    while (reply === undefined) {
      try { peak = Math.max(peak, memoryOf(relay.proc.pid).hwm); } catch { break; }
      if (peak > 150 * 1024) { relay.kill('SIGKILL'); break; }
      await sleep(50);
    }
    await claim.catch(() => {});
    const ms = Date.now() - started;
    try { peak = Math.max(peak, memoryOf(relay.proc.pid).hwm); } catch { /* it exited */ }
    observe('endless headers', `after ${ms} ms, peak ${Math.round(peak / 1024)} MiB: ${JSON.stringify(reply?.error ?? String(reply)).slice(0, 300)}`);
    // Memory is asserted in normal builds only (a sanitizer's shadow memory inflates RSS).
    if (!sanitizerOf(bin.path)) assert.ok(peak < 40 * 1024, `the relay grew to ${Math.round(peak / 1024)} MiB on endless headers`);
    assert.ok(!(reply instanceof Error), `no reply: ${reply?.message?.slice(0, 400)}`);
    assertRpcError(reply, { id }, 'initialize against endless headers');
    assert.match(reply.error.message + JSON.stringify(reply.error.data ?? ''), /head|header/i);
    assert.ok(ms < 10000, `the error took ${ms} ms`);
    relay.kill();
  });

  // Expects the auth layer to give every AS/metadata exchange a total deadline derived from
  // --timeout (app/auth/authenticator.cpp: total_timeout = read_timeout unless set): here 3 s.
  it('a resource-metadata host that drips one byte every 500 ms: discovery fails in bounded time', { timeout: 40000 }, async () => {
    const drip = await startRaw('drip', ['--interval-ms', '500']);
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': `Bearer resource_metadata="http://127.0.0.1:${drip.port}/prm"` }).end();
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => { server.closeAllConnections(); server.close(); });
    const { env } = hostileBrowserEnv('record-only');
    const url = `http://127.0.0.1:${server.address().port}/mcp`;
    const relay = spawnRelay(bin.path, [url, '--store', 'file', '--timeout', '3'], { env, inheritEnv: false });
    const id = freshId();
    const started = Date.now();
    let reply;
    try {
      reply = await relay.request(initializeRequest(id), 25000);
    } catch (err) {
      assert.fail(`no answer within 25 s while the metadata host drips (the response takes ~50 s): ${err.message.slice(0, 300)}`);
    }
    const ms = Date.now() - started;
    observe('drip', `after ${ms} ms: ${JSON.stringify(reply.error).slice(0, 300)}`);
    assertRpcError(reply, { id }, 'initialize while the metadata host drips');
    assert.ok(ms < 15000, `discovery took ${ms} ms against a 3 s deadline`);
    assert.match(JSON.stringify(reply.error), /did not finish within|timed out|no reply/i);
    relay.kill();
  });
});

describe('transport: proxies (low findings)', { skip: bin.skip, concurrency: false }, () => {
  afterEach(cleanup);

  it('a loopback server is reached directly, never through HTTP_PROXY / HTTPS_PROXY', { timeout: 30000 }, async () => {
    const proxy = await startSniffingProxy();
    const srv = await startMcpServer({ era: 'legacy', mode: 'json' });
    const { env } = isolatedEnv({ HTTP_PROXY: proxy.proxyUrl, http_proxy: proxy.proxyUrl, HTTPS_PROXY: proxy.proxyUrl });
    const relay = spawnRelay(bin.path, [srv.url, '--header', `Authorization: Bearer ${SECRET}`], { env, inheritEnv: false });
    const init = await legacyHandshake(relay, 10000).catch((e) => e);
    await sleep(200);
    observe('loopback with HTTP_PROXY', `proxy connections: ${proxy.conns()}; ${JSON.stringify(proxy.all().slice(0, 200))}`);
    assert.equal(proxy.conns(), 0, `the proxy saw a connection for a loopback server:\n${proxy.all().slice(0, 400)}`);
    assert.ok(!(init instanceof Error), `the handshake failed: ${init?.message?.slice(0, 400)}`);
    relay.closeStdin();
    assert.equal((await relay.exited(5000)).code, 0);
  });

  for (const value of ['socks5://127.0.0.1:PORT', 'socks5h://127.0.0.1:PORT', 'https://127.0.0.1:PORT']) {
    it(`HTTPS_PROXY=${value.replace(':PORT', '')}: a clear error, never a direct connection`, { timeout: 30000 }, async () => {
      // A server remote by name (loopback servers never use a proxy), on this machine in fact.
      const bed = await namedHosts(['mcp.test']);
      const direct = await startRaw('record');  // where a direct connection would land
      const proxy = await startSniffingProxy();
      const { env } = isolatedEnv({ HTTPS_PROXY: value.replace('PORT', String(proxy.port)) });
      const url = `https://mcp.test:${direct.port}/mcp`;
      const { relay, reply, id } = await initializeThrough(url, { env, args: ['--header', `Authorization: Bearer ${SECRET}`], spawn: bed.spawnRelay });
      await sleep(200);
      observe(`proxy ${value}`, `${JSON.stringify(reply.error).slice(0, 300)}; direct connections: ${direct.conns()}`);
      assert.equal(direct.conns(), 0, 'mcp-auth connected directly, bypassing the proxy the user set');
      assertRpcError(reply, { id }, 'initialize with an unusable proxy');
      assert.match(JSON.stringify(reply.error), /HTTPS_PROXY/);
      assert.ok(!JSON.stringify(reply.error).includes(SECRET));
      relay.kill();
    });
  }

  it('NO_PROXY=host:99999999999 does not crash the relay (loopback, and through a proxy)', { timeout: 30000 }, async () => {
    const srv = await startMcpServer({ era: 'legacy', mode: 'json' });
    const proxy = await startSniffingProxy();
    const noProxy = 'other.example:99999999999,x:1e9,:,[::1]:99999999999999999999';
    const local = spawnRelay(bin.path, [srv.url], { env: isolatedEnv({ NO_PROXY: noProxy }).env, inheritEnv: false });
    const init = await legacyHandshake(local, 10000).catch((e) => e);
    assert.ok(!(init instanceof Error), `the relay did not answer: ${init?.message?.slice(0, 500)}`);
    local.closeStdin();
    assert.equal((await local.exited(5000)).code, 0);

    const { env } = isolatedEnv({ NO_PROXY: noProxy, HTTPS_PROXY: proxy.proxyUrl });
    const { relay, reply, id } = await initializeThrough('https://[fd00::abcd]:8443/mcp', { env });
    assertRpcError(reply, { id }, 'initialize through the refusing proxy');
    assert.match(proxy.all(), /^CONNECT \[fd00::abcd\]:8443 /, 'the proxy was used');
    relay.kill();
  });
});
