// mcp-auth driven with raw stdin lines: framing errors, HTTP failures,
// shutdown, command-line checks. Run: MCP_AUTH_BIN=... node --test raw_stdio.test.mjs

import { describe, it, afterEach, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  relayBinary, spawnRelay, startMcpServer, startFaultServer, deadPort, killAll, waitUntil,
  legacyHandshake, freshId, nonJsonRpcLines, toolText, sleep, initializeRequest, initializedNotification,
} from './lib.mjs';

const bin = relayBinary();

// Checks that every stdout line of the relay so far is one JSON-RPC message.
function assertCleanStdout(relay) {
  const bad = nonJsonRpcLines(relay.out.lines);
  assert.deepEqual(bad, [], `stdout lines that are not JSON-RPC messages: ${JSON.stringify(bad).slice(0, 500)}`);
  assert.equal(relay.out.unterminated, undefined, 'stdout ended with a line that has no newline');
}

function assertRpcError(msg, { id, code }, what = 'error response') {
  assert.equal(msg.jsonrpc, '2.0', `${what}: jsonrpc field`);
  assert.ok(msg.error && typeof msg.error === 'object', `${what}: expected an error, got ${JSON.stringify(msg).slice(0, 300)}`);
  assert.equal(msg.result, undefined, `${what}: must not carry a result`);
  if (id !== undefined) assert.deepEqual(msg.id, id, `${what}: id`);
  if (code !== undefined) assert.equal(msg.error.code, code, `${what}: code (message: ${msg.error.message})`);
  assert.equal(typeof msg.error.message, 'string', `${what}: message`);
}

const ping = (id) => ({ jsonrpc: '2.0', id, method: 'ping' });
const echoCall = (id, text) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

/** A legacy server plus a relay that has completed the handshake with it. */
async function legacySession({ mode = 'sse', relayArgs = [], env } = {}) {
  const srv = await startMcpServer({ era: 'legacy', mode });
  const relay = spawnRelay(bin.path, [srv.url, ...relayArgs], { env });
  await legacyHandshake(relay);
  return { srv, relay };
}

/** Waits for the relay to exit; returns {code, signal, ms} measured from `t0`. */
async function exitWithin(relay, t0, ms) {
  const { code, signal } = await relay.exited(ms + 2000);
  return { code, signal, ms: Date.now() - t0 };
}

describe('mcp-auth raw stdio', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());
  after(() => killAll());

  describe('framing', () => {
    it('a malformed line gives -32700 with the recovered id, and the relay keeps going', { timeout: 20000 }, async () => {
      const { relay } = await legacySession();

      relay.send('{"jsonrpc":"2.0","id":7,"method":');
      assertRpcError(await relay.reply(7), { id: 7, code: -32700 }, 'numeric id recovered');

      relay.send('{"jsonrpc":"2.0","id":"abc-8","method":"tools/list","params":{');
      assertRpcError(await relay.reply('abc-8'), { id: 'abc-8', code: -32700 }, 'string id recovered');

      relay.send('this is not json at all');
      const { line } = await relay.out.waitFor((l) => { try { return JSON.parse(l).error?.code === -32700; } catch { return false; } }, 5000, '-32700 for plain text');
      assertRpcError(JSON.parse(line), { id: null, code: -32700 }, 'no id to recover');

      // An "id" inside params is not the message's id.
      relay.send('{"jsonrpc":"2.0","method":"tools/call","params":{"id":5,"name":');
      const nested = await relay.out.next(5000, 'reply to the nested-id line');
      assertRpcError(JSON.parse(nested), { id: null, code: -32700 }, 'id nested in params is not recovered');

      const id = freshId();
      const pong = await relay.request(ping(id));
      assert.deepEqual(pong.result, {}, 'ping after the malformed lines is answered');
      assertCleanStdout(relay);
    });

    it('CRLF line endings on stdin are accepted', { timeout: 20000 }, async () => {
      const { relay } = await legacySession();
      relay.send(Buffer.from(`${JSON.stringify(ping(901))}\r`)); // send() adds the \n
      assert.deepEqual((await relay.reply(901)).result, {});
      assertCleanStdout(relay);
    });

    it('request ids keep their exact type and value', { timeout: 20000 }, async () => {
      const { relay } = await legacySession();
      const ids = [0, '0', -5, 9007199254740991, 'ü-id ☃', '', 'a"quote\\back'];
      for (const id of ids) {
        const reply = await relay.request(ping(id));
        assert.ok(reply.result, `ping ${JSON.stringify(id)}: ${JSON.stringify(reply)}`);
      }
      // Compare the raw text too: 9007199254740991 must not come back as 9.007199254740991e15.
      const texts = relay.out.lines.slice(1).map((l) => /"id":(-?\d+|"(?:[^"\\]|\\.)*")/.exec(l)?.[1]);
      assert.deepEqual(texts.map((t) => JSON.parse(t)), ids);
      assert.ok(texts.includes('9007199254740991'), `large id text: ${texts}`);
      assertCleanStdout(relay);
    });

    it('valid JSON that is not JSON-RPC gives -32600', { timeout: 20000 }, async () => {
      const { relay } = await legacySession();
      const cases = ['[1,2]', '{"foo":1}', '42', '"a string"', 'null'];
      for (const text of cases) {
        relay.send(text);
        const line = await relay.out.next(5000, `reply to ${text}`);
        assert.ok(line !== null, `relay closed stdout after ${text}`);
        assertRpcError(JSON.parse(line), { id: null, code: -32600 }, `reply to ${text}`);
      }
      // An id that is present is kept.
      relay.send('{"jsonrpc":"2.0","id":9,"foo":1}');
      assertRpcError(await relay.reply(9), { id: 9, code: -32600 }, 'invalid message with an id');

      const pong = await relay.request(ping(freshId()));
      assert.deepEqual(pong.result, {});
      assertCleanStdout(relay);
    });

    it('a line over --max-message-bytes gives -32600 with its id, then the next line is answered', { timeout: 20000 }, async () => {
      // 1024 is the smallest limit mcp-auth's command line accepts.
      const { relay } = await legacySession({ relayArgs: ['--max-message-bytes', '1024'] });
      relay.send(echoCall(77, 'x'.repeat(5000)));
      assertRpcError(await relay.reply(77), { id: 77, code: -32600 }, 'oversized line');

      const next = await relay.request(echoCall(78, 'small'));
      assert.equal(toolText(next.result), 'small', `line after the oversized one: ${JSON.stringify(next).slice(0, 300)}`);

      // A much larger line (several read buffers) must not wedge the reader either.
      relay.send(echoCall(79, 'y'.repeat(3 * 1024 * 1024)));
      assertRpcError(await relay.reply(79, 10000), { id: 79, code: -32600 }, '3 MiB line');
      const after3 = await relay.request(echoCall(80, 'still here'));
      assert.equal(toolText(after3.result), 'still here');
      assertCleanStdout(relay);
    });

    it('a line with invalid UTF-8 gives an error response and the relay continues', { timeout: 20000 }, async () => {
      const { relay } = await legacySession();
      const bad = Buffer.concat([
        Buffer.from('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"'),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
        Buffer.from('"}}}'),
      ]);
      relay.send(bad);
      const line = await relay.out.next(5000, 'reply to the non-UTF-8 line');
      assert.ok(line !== null, 'relay closed stdout');
      const msg = JSON.parse(line);
      assertRpcError(msg, {}, 'non-UTF-8 line');
      assert.ok(msg.id === 5 || msg.id === null, `id should be 5 or null, got ${JSON.stringify(msg.id)}`);

      const next = await relay.request(echoCall(freshId(), 'après ✓'));
      assert.equal(toolText(next.result), 'après ✓', 'valid UTF-8 round-trips after the bad line');
      assertCleanStdout(relay);
    });

    it('the events of one SSE reply keep their order: progress, then the result', { timeout: 20000 }, async () => {
      const { relay } = await legacySession({ mode: 'sse' });
      for (const ms of [0, 20, 50]) {
        const id = freshId();
        const before = relay.out.lines.length;
        relay.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'progress', arguments: { steps: 4, ms }, _meta: { progressToken: `tok-${id}` } } });
        await relay.reply(id);
        const seq = relay.out.lines.slice(before).map((l) => JSON.parse(l)).map((m) => (m.method ? `p${m.params.progress}` : `R`));
        assert.deepEqual(seq, ['p1', 'p2', 'p3', 'p4', 'R'], `stdout order with ${ms} ms spacing`);
      }
      assertCleanStdout(relay);
    });

    it('an awkward but legal SSE reply (comments, CRLF, multi-line data, split UTF-8) is relayed line by line', { timeout: 20000 }, async () => {
      const srv = await startFaultServer('sse-tricky');
      const relay = spawnRelay(bin.path, [srv.url]);
      const reply = await relay.request({ jsonrpc: '2.0', id: 'tricky-1', method: 'tools/call', params: { name: 'x', arguments: {} } }, 8000);
      assert.equal(toolText(reply.result), 'tricky ü done', JSON.stringify(reply));
      const msgs = relay.out.lines.map((l) => JSON.parse(l));
      assert.deepEqual(msgs.map((m) => m.params?.data ?? m.id), ['multi-line', 'split ü here', 'tricky-1'], 'both events then the result, in order');
      assertCleanStdout(relay);
    });

    it('a reply larger than --max-message-bytes becomes an error for that request', { timeout: 20000 }, async () => {
      for (const mode of ['json', 'sse']) {
        const { relay } = await legacySession({ mode, relayArgs: ['--max-message-bytes', '1024'] });
        const id = freshId();
        const reply = await relay.request({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'big', arguments: { bytes: 4096 } } }, 8000);
        assertRpcError(reply, { id }, `${mode}: oversized reply`);
        const next = await relay.request(echoCall(freshId(), 'after the big one'));
        assert.equal(toolText(next.result), 'after the big one', `${mode}: relay continues`);
        assert.ok(relay.out.lines.every((l) => Buffer.byteLength(l) <= 1024), `${mode}: a line over the limit reached stdout`);
        assertCleanStdout(relay);
      }
    });

    it('200 concurrent calls with mixed reply sizes: every reply arrives, lines never interleave', { timeout: 30000 }, async () => {
      const { relay } = await legacySession({ mode: 'sse' });
      const ids = [];
      const t0 = Date.now();
      for (let i = 0; i < 200; i++) {
        const id = freshId();
        ids.push(id);
        const params = i % 4 === 0
          ? { name: 'big', arguments: { bytes: 200_000 + i } }
          : { name: 'slow', arguments: { ms: 100 } };
        relay.send({ jsonrpc: '2.0', id, method: 'tools/call', params });
      }
      const replies = await Promise.all(ids.map((id) => relay.reply(id, 20000)));
      const ms = Date.now() - t0;
      console.log(`CONCURRENCY 200 mixed calls (50 x ~200 KB replies): ${ms} ms`);
      replies.forEach((r, i) => {
        assert.ok(r.result, `call ${i}: ${JSON.stringify(r).slice(0, 200)}`);
        if (i % 4 === 0) assert.equal(toolText(r.result).length, 200_000 + i, `call ${i}: reply size`);
      });
      assertCleanStdout(relay);
    });

    it('notifications and 202 replies produce nothing on stdout', { timeout: 20000 }, async () => {
      const { relay } = await legacySession();
      relay.send({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
      const id = freshId();
      await relay.request(ping(id));
      await sleep(200);
      // initialize reply + ping reply, nothing for the two notifications.
      assert.equal(relay.out.lines.length, 2, `unexpected stdout: ${JSON.stringify(relay.out.lines)}`);
      assertCleanStdout(relay);
    });
  });

  describe('HTTP failures become JSON-RPC errors', () => {
    it('connection refused: -32000 with the request id and host:port in the message', { timeout: 20000 }, async () => {
      const port = await deadPort();
      const relay = spawnRelay(bin.path, [`http://127.0.0.1:${port}/mcp`]);
      const t0 = Date.now();
      relay.send({ jsonrpc: '2.0', id: 101, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
      const msg = await relay.reply(101, 10000);
      assertRpcError(msg, { id: 101, code: -32000 }, 'refused');
      assert.match(msg.error.message, new RegExp(`127\\.0\\.0\\.1:${port}`), `message should name host:port: ${msg.error.message}`);
      assert.ok(Date.now() - t0 < 5000, 'refusal should be reported quickly');
      assert.ok(msg.error.data === undefined || (typeof msg.error.data === 'object' && msg.error.data.status === undefined),
        `no HTTP status on a refused connection: ${JSON.stringify(msg.error.data)}`);
      relay.send(ping(102));
      assertRpcError(await relay.reply(102, 10000), { id: 102, code: -32000 }, 'second request also fails cleanly');
      assertCleanStdout(relay);
    });

    it('HTTP 500 text/plain: -32000 naming the status and host, data.status = 500', { timeout: 20000 }, async () => {
      const srv = await startFaultServer('status500');
      const relay = spawnRelay(bin.path, [srv.url]);
      // A failing notification produces nothing...
      relay.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      // ...a failing request produces exactly its error.
      const msg = await relay.request(ping(201));
      assertRpcError(msg, { id: 201, code: -32000 }, 'HTTP 500');
      assert.match(msg.error.message, /500/, `message should name the status: ${msg.error.message}`);
      assert.match(msg.error.message, /127\.0\.0\.1/, `message should name the host: ${msg.error.message}`);
      assert.equal(typeof msg.error.data, 'object', 'error.data should be an object');
      assert.equal(msg.error.data?.status, 500, 'error.data.status');
      await sleep(200);
      assert.equal(relay.out.lines.length, 1, `the failed notification must print nothing: ${JSON.stringify(relay.out.lines)}`);
      await waitUntil(() => srv.log().length >= 2, 3000, 'both POSTs in the fault server log');
      assertCleanStdout(relay);
    });

    it('HTTP 400 with a JSON-RPC error body: the server code and message, with our id', { timeout: 20000 }, async () => {
      const srv = await startFaultServer('jsonrpc-error');
      const relay = spawnRelay(bin.path, [srv.url]);
      const msg = await relay.request({ jsonrpc: '2.0', id: 'req-301', method: 'tools/list' });
      assertRpcError(msg, { id: 'req-301', code: -32600 }, 'JSON-RPC error body');
      assert.equal(msg.error.message, 'Invalid Request: fault-server rejects everything', 'server message kept');
      assert.equal(msg.error.data?.status, 400, `error.data.status should be 400: ${JSON.stringify(msg.error.data)}`);
      assertCleanStdout(relay);
    });

    it('a server that never answers: --timeout 1 gives -32001 with the id in bounded time', { timeout: 20000 }, async () => {
      const srv = await startFaultServer('hang');
      const relay = spawnRelay(bin.path, [srv.url, '--timeout', '1']);
      const t0 = Date.now();
      const msg = await relay.request(ping(401), 8000);
      const ms = Date.now() - t0;
      assertRpcError(msg, { id: 401, code: -32001 }, 'idle timeout');
      assert.ok(ms >= 900, `timed out too early: ${ms} ms`);
      assert.ok(ms < 3000, `timeout took ${ms} ms for --timeout 1`);
      // The relay is still usable and still bounded.
      const again = await relay.request(ping(402), 8000);
      assertRpcError(again, { id: 402, code: -32001 }, 'second idle timeout');
      assertCleanStdout(relay);
    });

    it('an SSE reply cut mid-stream: the event is forwarded, then an error for the request', { timeout: 20000 }, async () => {
      const srv = await startFaultServer('reset-sse');
      const relay = spawnRelay(bin.path, [srv.url, '--timeout', '5']);
      relay.send({ jsonrpc: '2.0', id: 501, method: 'tools/call', params: { name: 'anything', arguments: {} } });
      const msg = await relay.reply(501, 8000);
      assertRpcError(msg, { id: 501 }, 'reset stream');
      const notes = relay.out.lines.map((l) => JSON.parse(l)).filter((m) => m.method === 'notifications/message');
      assert.equal(notes.length, 1, 'the event sent before the reset is forwarded once');
      assertCleanStdout(relay);
    });
  });

  describe('session and timeouts', () => {
    it('the version the server picks (2025-06-18) is the MCP-Protocol-Version sent afterwards', { timeout: 20000 }, async () => {
      const srv = await startMcpServer({ era: 'legacy', mode: 'json' });
      const relay = spawnRelay(bin.path, [srv.url]);
      const init = await relay.request({ ...initializeRequest(freshId(), '2025-06-18') });
      assert.equal(init.result?.protocolVersion, '2025-06-18');
      relay.send(initializedNotification());
      await relay.request(ping(freshId()));
      relay.closeStdin();
      await relay.exited(3000);
      const later = srv.log().slice(1);
      assert.ok(later.length >= 3, 'initialized, ping, DELETE (and GET) logged');
      for (const e of later) {
        assert.equal(e.headers['mcp-protocol-version'], '2025-06-18', `${e.method} ${e.jsonrpcMethod ?? ''}`);
      }
      assertCleanStdout(relay);
    });

    it('--timeout is an idle timeout: a stream that keeps talking outlives it, a silent call does not', { timeout: 20000 }, async () => {
      const { srv, relay } = await legacySession({ mode: 'sse', relayArgs: ['--timeout', '1'] });
      const talking = await relay.request({ jsonrpc: '2.0', id: 1001, method: 'tools/call', params: { name: 'progress', arguments: { steps: 4, ms: 600 }, _meta: { progressToken: 'idle' } } }, 8000);
      assert.ok(talking.result, `a 2.4 s call with progress every 0.6 s must not hit --timeout 1: ${JSON.stringify(talking)}`);
      const silent = await relay.request({ jsonrpc: '2.0', id: 1002, method: 'tools/call', params: { name: 'slow', arguments: { ms: 2500 } } }, 8000);
      assertRpcError(silent, { id: 1002, code: -32001 }, 'silent 2.5 s call');
      const gets = srv.log().filter((e) => e.method === 'GET');
      assert.ok(gets.length <= 1, `the idle GET stream was reopened ${gets.length - 1} time(s) in ~5 s under --timeout 1`);
      assertCleanStdout(relay);
    });
  });

  describe('shutdown', () => {
    it('stdin EOF: exit 0 within 1 s and DELETE with the session id', { timeout: 20000 }, async () => {
      const { srv, relay } = await legacySession({ mode: 'json' });
      const echoed = await relay.request(echoCall(freshId(), 'bye'));
      assert.equal(toolText(echoed.result), 'bye');
      const sid = srv.log()[0]?.responseSessionId;
      assert.ok(sid, 'the server issued a session id');

      const t0 = Date.now();
      relay.closeStdin();
      const { code, signal, ms } = await exitWithin(relay, t0, 1000);
      assert.equal(signal, null, `killed by ${signal}`);
      assert.equal(code, 0, `exit code; stderr:\n${relay.stderr().slice(-2000)}`);
      assert.ok(ms < 1000, `exit took ${ms} ms after stdin EOF`);
      const del = await waitUntil(() => srv.log().find((e) => e.method === 'DELETE'), 1000, 'DELETE in the request log').catch(() => null);
      assert.ok(del, 'no DELETE reached the server');
      assert.equal(del.headers['mcp-session-id'], sid, 'DELETE carries the session id');
      assertCleanStdout(relay);
    });

    it('stdin EOF with a slow call in flight: exits within 1 s anyway', { timeout: 20000 }, async () => {
      const { srv, relay } = await legacySession();
      relay.send({ jsonrpc: '2.0', id: 601, method: 'tools/call', params: { name: 'slow', arguments: { ms: 5000 } } });
      await waitUntil(() => srv.log().some((e) => e.jsonrpcId === 601), 3000, 'slow call reached the server');
      const t0 = Date.now();
      relay.closeStdin();
      const { code, ms } = await exitWithin(relay, t0, 1000);
      assert.equal(code, 0, 'exit code');
      assert.ok(ms < 1000, `exit took ${ms} ms with a 5 s call in flight`);
      assert.ok(await waitUntil(() => srv.log().some((e) => e.method === 'DELETE'), 1000, 'DELETE').catch(() => false), 'DELETE sent');
      assertCleanStdout(relay);
    });

    // Windows has no SIGTERM (under Wine it kills the process outright): hosts there close
    // stdin, which the EOF tests above cover, or end the process.
    const windows = process.env.MCP_AUTH_EXE ? 'Windows has no SIGTERM: the stdin EOF tests cover how hosts end it there' : false;
    it('SIGTERM: exit 0 within 1 s and DELETE with the session id', { timeout: 20000, skip: windows }, async () => {
      const { srv, relay } = await legacySession();
      const sid = srv.log()[0]?.responseSessionId;
      relay.send({ jsonrpc: '2.0', id: 701, method: 'tools/call', params: { name: 'slow', arguments: { ms: 5000 } } });
      await waitUntil(() => srv.log().some((e) => e.jsonrpcId === 701), 3000, 'slow call reached the server');
      const t0 = Date.now();
      relay.kill('SIGTERM');
      const { code, signal, ms } = await exitWithin(relay, t0, 1000);
      assert.equal(signal, null, `died of ${signal} instead of exiting`);
      assert.equal(code, 0, `exit code; stderr:\n${relay.stderr().slice(-2000)}`);
      assert.ok(ms < 1000, `exit took ${ms} ms after SIGTERM`);
      const del = await waitUntil(() => srv.log().find((e) => e.method === 'DELETE'), 1000, 'DELETE').catch(() => null);
      assert.ok(del, 'no DELETE reached the server');
      assert.equal(del.headers['mcp-session-id'], sid, 'DELETE carries the session id');
      assertCleanStdout(relay);
    });
  });

  describe('command line', () => {
    it('http:// to a non-loopback host without --allow-http: exit 2 and a message on stderr', { timeout: 20000 }, async () => {
      // .invalid never resolves (RFC 2606); refusal must happen before any lookup anyway.
      const relay = spawnRelay(bin.path, ['http://mcp-auth-test.invalid/mcp']);
      const { code } = await relay.exited(3000);
      assert.equal(code, 2, 'exit code');
      assert.ok(relay.stderr().trim().length > 0, 'stderr explains the refusal');
      assert.equal(relay.out.lines.length, 0, 'nothing on stdout');

      const proxy = spawnRelay(bin.path, ['proxy', 'http://mcp-auth-test.invalid/mcp']);
      assert.equal((await proxy.exited(3000)).code, 2, '`mcp-auth proxy <url>` refuses too');
    });

    it('http:// is accepted with --allow-http, and for loopback hosts without it', { timeout: 20000 }, async () => {
      const urls = [
        ['http://mcp-auth-test.invalid/mcp', '--allow-http'],
        ['http://localhost:9/mcp'],
        ['http://127.0.0.1:9/mcp'],
        ['http://127.45.6.7:9/mcp'],
        ['http://[::1]:9/mcp'],
      ];
      for (const args of urls) {
        const relay = spawnRelay(bin.path, args);
        await sleep(300);
        assert.equal(relay.proc.exitCode, null, `${args.join(' ')} exited at start-up (${relay.proc.exitCode}): ${relay.stderr()}`);
        relay.closeStdin();
        const { code } = await relay.exited(3000);
        assert.equal(code, 0, `${args.join(' ')}: exit code after EOF; stderr: ${relay.stderr()}`);
      }
    });

    it('--header with ${VAR} reaches the server expanded; an unset variable is exit 2', { timeout: 20000 }, async () => {
      const { srv, relay } = await legacySession({
        relayArgs: ['--header', 'X-Test: ${SOME_VAR}', '--header', 'X-Plain: plain-value'],
        env: { SOME_VAR: 'expanded-value-123' },
      });
      await relay.request(ping(freshId()));
      relay.closeStdin();
      await relay.exited(3000);
      const log = srv.log();
      assert.ok(log.length >= 3, 'requests logged');
      for (const e of log) {
        assert.equal(e.headers['x-test'], 'expanded-value-123', `${e.method} ${e.jsonrpcMethod ?? ''}: X-Test`);
        assert.equal(e.headers['x-plain'], 'plain-value', `${e.method} ${e.jsonrpcMethod ?? ''}: X-Plain`);
      }

      const env = { ...process.env };
      delete env.MCP_AUTH_UNSET_VAR_FOR_TEST;
      const bad = spawnRelay(bin.path, [srv.url, '--header', 'X-Test: ${MCP_AUTH_UNSET_VAR_FOR_TEST}'], { env, inheritEnv: false });
      const { code } = await bad.exited(3000);
      assert.equal(code, 2, 'unset variable: exit code');
      assert.match(bad.stderr(), /MCP_AUTH_UNSET_VAR_FOR_TEST/, 'stderr names the unset variable');
    });

    it('--verbose never prints the Authorization header value', { timeout: 20000 }, async () => {
      const { srv, relay } = await legacySession({ relayArgs: ['--verbose', '--header', 'Authorization: Bearer s3cr3t'] });
      await relay.request(echoCall(freshId(), 'hello'));
      relay.send('{"jsonrpc":"2.0","id":99,"method":'); // error paths log too
      await relay.reply(99);
      relay.closeStdin();
      await relay.exited(3000);
      assert.ok(relay.stderr().length > 0, '--verbose should log something');
      assert.ok(!relay.stderr().includes('s3cr3t'), 'the token appears on stderr');
      assert.ok(!relay.out.lines.join('\n').includes('s3cr3t'), 'the token appears on stdout');
      assert.ok(srv.log().every((e) => e.headers.authorization === '<redacted>'), 'every request carried an Authorization header');
      assertCleanStdout(relay);
    });
  });
});
