// Security limits of the relay against a hostile MCP server (issue 8, findings 7 and 8,
// and the "no uncaught exception" rule): JSON nested 100,000 deep where the relay reads
// or copies it, streams that never end an event or a line, replies that never end, and a
// reply that made the old relay throw. tests/servers/hostile-mcp-server.mjs plays the
// server and misbehaves on request (by tool name, or by the URL's `get=` for the GET
// stream).
//
// Every case: the relay never dies (no signal), the client gets an answer (an error with
// the right id) for the request concerned, nothing the relay refused reaches stdout, and a
// later request still works. The memory cases run with --max-message-bytes 1000000 and
// check the relay's peak RSS (VmHWM in /proc/<pid>/status) against its RSS before the
// attack: at most 4 x the limit more.
//
// Run: MCP_AUTH_BIN=... node --test security_limits.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SERVERS_DIR, relayBinary, spawnRelay, startServer, isolatedEnv, killAll, waitUntil, sleep, freshId,
  toolText, initializeRequest, initializedNotification, legacyHandshake, modernRequest, nonJsonRpcLines,
  assertRpcError, observe,
  sanitizerOf,
} from './lib.mjs';

const bin = relayBinary();
const HOSTILE_MCP_SERVER = join(SERVERS_DIR, 'hostile-mcp-server.mjs');
const LIMIT = 1_000_000;
const CAP = 40 << 20; // what each endless stream sends before it falls silent
// Allowed peak RSS growth during an attack. Memory is asserted only in normal builds: a
// sanitizer's shadow memory, quarantine and padding make RSS meaningless (the hardening
// stages run this suite for the sanitizers' own findings; the main CTest run asserts).
const MEMORY_ASSERTED = bin.skip || !sanitizerOf(bin.path);
const MAX_GROWTH = 4 * LIMIT;

let srv;
const stats = async () => (await fetch(`http://127.0.0.1:${srv.port}/stats`)).json();
const call = (id, name, args = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** A relay on a legacy session with the hostile server (`query` picks the GET stream's misbehaviour). */
async function session({ query = '', args = [] } = {}) {
  const relay = spawnRelay(bin.path, [`${srv.url}${query}`, ...args], { env: isolatedEnv().env, inheritEnv: false });
  await legacyHandshake(relay, 8000);
  return relay;
}

/** The relay is alive, a later request works, and stdout carried only shallow JSON-RPC lines. */
async function assertStillWorks(relay, what, { longLines = 0 } = {}) {
  const id = freshId();
  const reply = await relay.request(call(id, 'echo'), 8000);
  assert.equal(toolText(reply.result), 'ok', `${what}: a later request works (${JSON.stringify(reply).slice(0, 300)})`);
  assert.equal(relay.proc.signalCode, null, `${what}: the relay died of ${relay.proc.signalCode}`);
  assert.deepEqual(nonJsonRpcLines(relay.out.lines), [], `${what}: stdout carries only JSON-RPC`);
  const long = relay.out.lines.filter((l) => l.length > 10000);
  assert.ok(long.length <= longLines, `${what}: a message the relay refused reached the client: ${long.map((l) => l.slice(0, 80))}`);
  relay.closeStdin();
  const end = await relay.exited(8000);
  assert.deepEqual(end, { code: 0, signal: null }, `${what}: a clean exit`);
}

/** Throws at once when the relay has died (so a crash is reported as one, not as a timeout). */
function assertAlive(relay, what) {
  const { exitCode, signalCode } = relay.proc;
  if (exitCode !== null || signalCode !== null) {
    assert.fail(`${what}: the relay ended (exit code ${exitCode}, signal ${signalCode}); stderr: ${relay.stderr().slice(-600)}`);
  }
}

/** Waits for `fn` to be truthy while the relay lives. */
const waitAlive = (relay, fn, ms, what) => waitUntil(async () => { assertAlive(relay, what); return fn(); }, ms, what, 50);

/** An error for request `id` whose message matches `pattern`. */
async function expectError(relay, id, pattern, what) {
  let reply;
  try {
    reply = await relay.reply(id, 10000);
  } catch (err) {
    await relay.exited(2000).catch(() => {});
    assertAlive(relay, what);
    throw err;
  }
  assertRpcError(reply, { id }, what);
  assert.match(reply.error.message, pattern, `${what}: the message says what happened`);
  observe(what, reply.error.message);
  return reply;
}

/** VmHWM (peak resident set) of a live process, in bytes. */
function peakRss(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `VmHWM of ${pid}`);
  return Number(m[1]) * 1024;
}

function assertBoundedGrowth(relay, base, what) {
  assert.equal(relay.proc.signalCode, null, `${what}: the relay died of ${relay.proc.signalCode}`);
  const grown = peakRss(relay.proc.pid) - base;
  observe(`${what} peak RSS growth`, `${(grown / 1e6).toFixed(1)} MB (limit ${LIMIT / 1e6} MB, allowed ${MAX_GROWTH / 1e6} MB)`);
  if (MEMORY_ASSERTED) assert.ok(grown <= MAX_GROWTH, `${what}: peak RSS grew by ${grown} bytes, over ${MAX_GROWTH} (4 x --max-message-bytes)`);
}

/** Waits until the hostile server's endless stream `kind` has sent its cap or was closed; returns its stats. */
async function streamEnded(kind, ms = 20000) {
  return waitUntil(async () => (await stats()).streams.find((s) => s.kind === kind && (s.done || s.closed)), ms, `stream ${kind} to end`, 50);
}

describe('security limits: deeply nested JSON from the server (finding 7)', { skip: bin.skip, concurrency: false }, () => {
  before(async () => { srv = await startServer(HOSTILE_MCP_SERVER, ['--port', '0', '--cap', String(CAP), '--quiet']); });
  after(() => killAll());

  it('a JSON reply whose id nests 100,000 deep: an error for the request, with its id', { timeout: 30000 }, async () => {
    const relay = await session();
    const id = freshId();
    relay.send(call(id, 'deep-id-json'));
    await expectError(relay, id, /deeper than 512 levels/, 'deep id, JSON reply');
    await assertStillWorks(relay, 'deep id, JSON reply');
  });

  it('an SSE reply whose id nests 100,000 deep: an error for the request, with its id', { timeout: 30000 }, async () => {
    const relay = await session();
    const id = freshId();
    relay.send(call(id, 'deep-id-sse'));
    await expectError(relay, id, /closed the event stream before answering.*deeper than 512 levels/, 'deep id, SSE reply');
    await assertStillWorks(relay, 'deep id, SSE reply');
  });

  for (const status of [500, 400]) {
    it(`an HTTP ${status} whose JSON-RPC error.data nests 100,000 deep: an error for the request, with its id`, { timeout: 30000 }, async () => {
      const relay = await session();
      const id = freshId();
      relay.send(call(id, 'deep-error-data', { status }));
      const reply = await expectError(relay, id, new RegExp(`HTTP ${status}`), `deep error.data, HTTP ${status}`);
      assert.equal(reply.error.data?.status, status);
      await assertStillWorks(relay, `deep error.data, HTTP ${status}`);
    });
  }

  it('an SSE event whose result nests 100,000 deep: an error for the request instead of the message', { timeout: 30000 }, async () => {
    const relay = await session();
    const id = freshId();
    relay.send(call(id, 'deep-result-sse'));
    await expectError(relay, id, /reply to tools\/call nests deeper than 512 levels/, 'deep result, SSE');
    await assertStillWorks(relay, 'deep result, SSE');
  });

  it('a server->client request whose id nests 100,000 deep is dropped; the answer that follows arrives', { timeout: 30000 }, async () => {
    const relay = await session();
    const id = freshId();
    relay.send(call(id, 'deep-request-id-sse'));
    const reply = await relay.reply(id, 10000).catch((err) => { assertAlive(relay, 'deep request id'); throw err; });
    assert.equal(toolText(reply.result), 'ok', JSON.stringify(reply).slice(0, 300));
    assert.match(relay.stderr(), /request that nests deeper than 512 levels/);
    await assertStillWorks(relay, 'server request with a deep id');
  });

  it('a server->client request with 100,000-deep params is answered with an error on the client\'s behalf', { timeout: 30000 }, async () => {
    const relay = await session();
    const id = freshId();
    const reply = await relay.request(call(id, 'deep-request-params-sse'), 10000);
    assert.equal(toolText(reply.result), 'ok');
    const answered = await waitAlive(relay, async () => (await stats()).clientResponses.find((r) => r.id === 'srv-deep-1'), 5000, 'the relay\'s answer to srv-deep-1');
    assert.equal(answered.error?.code, -32600, JSON.stringify(answered));
    assert.match(answered.error.message, /deeper than 512 levels/);
    await assertStillWorks(relay, 'server request with deep params');
  });

  it('a notification with 100,000-deep params is dropped, said on stderr; the answer arrives', { timeout: 30000 }, async () => {
    const relay = await session();
    const id = freshId();
    const reply = await relay.request(call(id, 'deep-notification-sse'), 10000);
    assert.equal(toolText(reply.result), 'ok');
    assert.match(relay.stderr(), /notification that nests deeper than 512 levels/);
    await assertStillWorks(relay, 'deep notification');
  });

  it('the GET stream: a response whose id nests 100,000 deep is dropped, the relay goes on', { timeout: 30000 }, async () => {
    const relay = await session({ query: '?get=deep-id' });
    await waitAlive(relay, () => /deeper than 512 levels/.test(relay.stderr()), 8000, 'the drop on stderr');
    await assertStillWorks(relay, 'deep id on the GET stream');
  });

  it('the GET stream: a request with 100,000-deep params is answered with an error on the client\'s behalf', { timeout: 30000 }, async () => {
    const relay = await session({ query: '?get=deep-request' });
    const answered = await waitAlive(relay, async () => (await stats()).clientResponses.find((r) => r.id === 'srv-get-1'), 8000, 'the relay\'s answer to srv-get-1');
    assert.equal(answered.error?.code, -32600, JSON.stringify(answered));
    await assertStillWorks(relay, 'deep request on the GET stream');
  });

  it('a stdin line nested 100,000 deep: -32600 with its id, not sent', { timeout: 30000 }, async () => {
    const relay = await session();
    const id = freshId();
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    relay.send(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"x":${deep}}}}`);
    await expectError(relay, id, /deeper than 512 levels.*not sent/, 'deep stdin line');
    await assertStillWorks(relay, 'deep stdin line');
  });
});

describe('security limits: replies the old relay threw on (no uncaught exception)', { skip: bin.skip, concurrency: false }, () => {
  before(async () => { srv = await startServer(HOSTILE_MCP_SERVER, ['--port', '0', '--cap', String(CAP), '--quiet']); });
  after(() => killAll());

  it('a 2026-07-28 tools/call answered HTTP 400 with a string error code: an error with its id, no abort', { timeout: 30000 }, async () => {
    const relay = spawnRelay(bin.path, [srv.url], { env: isolatedEnv().env, inheritEnv: false });
    const id = freshId();
    relay.send(modernRequest(id, 'tools/call', { name: 'bad-code-400', arguments: {} }));
    const reply = await expectError(relay, id, /HTTP 400/, 'string error code on a 400');
    assert.equal(reply.error.data?.status, 400);
    const next = freshId();
    const ok = await relay.request(modernRequest(next, 'tools/call', { name: 'echo', arguments: {} }), 8000);
    assert.equal(toolText(ok.result), 'ok');
    relay.closeStdin();
    assert.deepEqual(await relay.exited(8000), { code: 0, signal: null });
  });

  it('a reply with bytes that are not UTF-8: an error for the request that says so', { timeout: 30000 }, async () => {
    const relay = await session();
    const id = freshId();
    relay.send(call(id, 'invalid-utf8'));
    await expectError(relay, id, /reply to tools\/call is not valid JSON \(or not UTF-8\)/, 'invalid UTF-8 reply');
    await assertStillWorks(relay, 'invalid UTF-8 reply');
  });
});

describe('security limits: --max-message-bytes on every stream (finding 8)', { skip: bin.skip, concurrency: false }, () => {
  before(async () => { srv = await startServer(HOSTILE_MCP_SERVER, ['--port', '0', '--cap', String(CAP), '--quiet']); });
  after(() => killAll());

  /** Handshake by hand, so the peak RSS is read before the GET stream opens. */
  async function limitedSession(query = '') {
    const relay = spawnRelay(bin.path, [`${srv.url}${query}`, '--max-message-bytes', String(LIMIT)], { env: isolatedEnv().env, inheritEnv: false });
    const init = await relay.request(initializeRequest(freshId()), 8000);
    assert.ok(init.result, JSON.stringify(init));
    const base = peakRss(relay.proc.pid);
    relay.send(initializedNotification());
    return { relay, base };
  }

  for (const kind of ['endless-event', 'endless-line']) {
    it(`the GET stream sends one ${kind.replace('endless-', 'endless ')} (40 MB): memory stays bounded, it is said, requests still work`, { timeout: 40000 }, async () => {
      const { relay, base } = await limitedSession(`?get=${kind}`);
      const stream = await streamEnded(`get-${kind}`);
      await sleep(300); // the relay reads what is still in flight
      observe(`GET ${kind}`, `server sent ${stream.bytes} bytes; stderr: ${relay.stderr()}`);
      assertBoundedGrowth(relay, base, `GET ${kind}`);
      assert.match(relay.stderr(), /over the 1000000 bytes limit \(--max-message-bytes\), on the server's event stream/);
      await assertStillWorks(relay, `GET ${kind}`);
    });
  }

  for (const kind of ['event', 'line']) {
    it(`a resumed stream (GET with Last-Event-ID) sends one endless ${kind}: an error for the request, memory bounded`, { timeout: 40000 }, async () => {
      const { relay, base } = await limitedSession();
      const id = freshId();
      relay.send(call(id, `resume-endless-${kind}`));
      await expectError(relay, id, /reply to tools\/call is over the 1000000 bytes limit \(--max-message-bytes\)/, `resumed endless ${kind}`);
      assertBoundedGrowth(relay, base, `resumed endless ${kind}`);
      await assertStillWorks(relay, `resumed endless ${kind}`);
    });
  }

  it('a legal 20 MB reply that is 8-16 times bigger once parsed ([0,0,...]) passes intact, memory a small multiple of it', { timeout: 40000 }, async () => {
    const relay = spawnRelay(bin.path, [srv.url], { env: isolatedEnv().env, inheritEnv: false }); // default limit: 64 MiB
    await legacyHandshake(relay, 8000);
    const base = peakRss(relay.proc.pid);
    const id = freshId();
    const bytes = 20e6;
    relay.send(call(id, 'wide-json', { bytes }));
    const reply = await relay.reply(id, 20000).catch((err) => { assertAlive(relay, 'wide reply'); throw err; });
    assert.equal(reply.result?.x?.length, bytes / 2 + 1, 'the reply arrived whole');
    const grown = peakRss(relay.proc.pid) - base;
    observe('wide 20 MB reply peak RSS growth', `${(grown / 1e6).toFixed(1)} MB`);
    if (MEMORY_ASSERTED) assert.ok(grown <= 4 * bytes, `peak RSS grew by ${grown} bytes for a ${bytes}-byte reply (a parsed document would be 8-16 times it)`);
    await assertStillWorks(relay, 'wide reply', { longLines: 1 });
  });

  for (const name of ['endless-json', 'endless-sse-event']) {
    it(`a POST reply that never ends (${name}): an error for the request, memory bounded`, { timeout: 40000 }, async () => {
      const { relay, base } = await limitedSession();
      const id = freshId();
      relay.send(call(id, name));
      await expectError(relay, id, /over the 1000000 bytes limit \(--max-message-bytes\)/, name);
      assertBoundedGrowth(relay, base, name);
      await assertStillWorks(relay, name);
    });
  }
});
