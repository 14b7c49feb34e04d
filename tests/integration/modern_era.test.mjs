// The 2026-07-28 ("modern") era through mcp-auth, against the SDK v2 server.
//  1. The SDK v2 client, pinned to 2026-07-28, over its stdio transport
//     spawning mcp-auth (server/discover, tools, progress, MRTR elicitation,
//     x-mcp-header mirroring).
//  2. Raw 2026-07-28 JSON-RPC lines (with the _meta envelope exactly as the
//     spec's examples show) written to mcp-auth's stdin.
//  3. A 2025 initialize through mcp-auth to the same (dual-era) server.
// Both check in the server's request log which headers mcp-auth sent.
// Run: MCP_AUTH_BIN=... node --test modern_era.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import {
  relayBinary, startMcpServer, spawnRelay, killAll, withTimeout, modernRequest, nonJsonRpcLines,
  toolText, freshId, initializeRequest, initializedNotification, MODERN_VERSION,
} from './lib.mjs';

const bin = relayBinary();
const CALL = { timeout: 20000 };

const SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;
const decodeSentinel = (v) => Buffer.from(SENTINEL.exec(v)[1], 'base64').toString('utf8');

// Header values that must travel base64-wrapped (spec "Value Encoding"), and plain ones.
const ENCODED_CASES = [
  ['non-ASCII', 'Zürich 世界'],
  ['leading/trailing spaces', ' padded '],
  ['looks like the sentinel', '=?base64?literal?='],
];
const PLAIN_CASE = 'us-west1';

/** Header checks every 2026-07-28 POST must pass; returns the POST entries. */
function checkModernLog(log) {
  const posts = log.filter((e) => e.method === 'POST');
  assert.ok(posts.length > 0, 'no POSTs logged');
  for (const e of posts) {
    const what = `POST ${e.jsonrpcMethod ?? e.jsonrpcKind} (id ${JSON.stringify(e.jsonrpcId)})`;
    assert.equal(e.headers['mcp-protocol-version'], MODERN_VERSION, `${what}: mcp-protocol-version`);
    assert.equal(e.headers['mcp-method'], e.jsonrpcMethod, `${what}: mcp-method`);
    if (['tools/call', 'resources/read', 'prompts/get'].includes(e.jsonrpcMethod)) {
      const raw = e.headers['mcp-name'];
      assert.equal(raw !== undefined && SENTINEL.test(raw) ? decodeSentinel(raw) : raw, e.jsonrpcName, `${what}: mcp-name`);
    }
    assert.equal(e.headers['mcp-session-id'], undefined, `${what}: no session id in the modern era`);
    assert.match(e.headers.accept ?? '', /application\/json/, `${what}: accept`);
    assert.match(e.headers.accept ?? '', /text\/event-stream/, `${what}: accept`);
    assert.notEqual(e.status, 400, `${what}: the server rejected the request (header/body mismatch?)`);
  }
  const others = log.filter((e) => e.method !== 'POST');
  assert.deepEqual(others.map((e) => `${e.method} -> ${e.status}`), [], 'no GET stream or DELETE in the modern era');
  return posts;
}

/** The region_query calls in the log, keyed by the region argument the server echoed. */
function regionCallsFrom(results) {
  return results.map((r) => JSON.parse(toolText(r)));
}

describe('SDK v2 client (2026-07-28) → mcp-auth → SDK v2 server', { skip: bin.skip, concurrency: false }, () => {
  let srv;
  let client;
  let transport;
  let relayPid;
  let relayStderr = '';
  const elicitations = [];

  before(async () => {
    srv = await startMcpServer({ era: 'modern' });
    transport = new StdioClientTransport({ command: bin.path, args: [srv.url], env: { ...process.env }, stderr: 'pipe' });
    transport.stderr?.on('data', (d) => { relayStderr += d; });
    client = new Client(
      { name: 'mcp-auth-modern-test', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: MODERN_VERSION } } },
    );
    client.setRequestHandler('elicitation/create', async (req) => {
      elicitations.push(req.params);
      return { action: 'accept', content: { answer: `yes to "${req.params.message}"` } };
    });
    await withTimeout(client.connect(transport, { timeout: 15000 }), 20000, 'v2 client connect (pinned 2026-07-28) through mcp-auth');
    relayPid = transport.pid;
  });

  after(async () => {
    if (process.env.SHOW_RELAY_STDERR) console.log(`mcp-auth stderr (modern):\n${relayStderr}`);
    await client?.close().catch(() => {});
    if (relayPid) { try { process.kill(relayPid, 'SIGKILL'); } catch { /* already gone */ } }
    await killAll();
  });

  it('negotiates 2026-07-28', () => {
    const version = client.getNegotiatedProtocolVersion();
    console.log(`NEGOTIATED modern (v2 client via mcp-auth): ${version}, era ${client.getProtocolEra()}, server supports ${client.getDiscoverResult()?.supportedVersions?.join(', ')}`);
    assert.equal(version, MODERN_VERSION);
    assert.equal(client.getProtocolEra(), 'modern');
  });

  it('tools/list shows region_query with its x-mcp-header annotation', { timeout: 20000 }, async () => {
    const { tools } = await client.listTools(undefined, CALL);
    const rq = tools.find((t) => t.name === 'region_query');
    assert.ok(rq, `tools: ${tools.map((t) => t.name).join(', ')}`);
    assert.equal(rq.inputSchema.properties.region['x-mcp-header'], 'Region');
  });

  it('echo', { timeout: 20000 }, async () => {
    const res = await client.callTool({ name: 'echo', arguments: { text: 'modern hello ✓' } }, CALL);
    assert.equal(toolText(res), 'modern hello ✓');
  });

  it('progress notifications arrive before the result', { timeout: 20000 }, async () => {
    const seen = [];
    let atResult = -1;
    const res = await client.callTool({ name: 'progress', arguments: { steps: 3, ms: 100 } }, { ...CALL, onprogress: (p) => seen.push(p) })
      .then((r) => { atResult = seen.length; return r; });
    assert.match(toolText(res), /progress done: 3 steps/);
    assert.ok(atResult >= 2, `${atResult} progress notification(s) before the result`);
  });

  it('elicitation by MRTR (input_required, then a retry with inputResponses)', { timeout: 20000 }, async () => {
    const res = await client.callTool({ name: 'elicit', arguments: { message: 'proceed?' } }, CALL);
    assert.equal(elicitations.length, 1, 'the elicitation handler ran once');
    assert.equal(toolText(res), 'elicited answer: yes to "proceed?"');
  });

  it('x-mcp-header: Mcp-Param-Region mirrors the region argument', { timeout: 20000 }, async () => {
    const plain = await client.callTool({ name: 'region_query', arguments: { region: PLAIN_CASE, query: 'q' } }, CALL);
    const got = JSON.parse(toolText(plain));
    assert.equal(got.header, PLAIN_CASE, 'plain ASCII value sent as is');

    for (const [why, value] of ENCODED_CASES) {
      const res = await client.callTool({ name: 'region_query', arguments: { region: value } }, CALL);
      const { header, region } = JSON.parse(toolText(res));
      assert.equal(region, value);
      assert.match(header ?? '(absent)', SENTINEL, `${why}: header must be base64-sentinel-encoded, got ${header}`);
      assert.equal(decodeSentinel(header), value, `${why}: decodes back to the argument`);
    }
  });

  it('x-mcp-header on integer, boolean and nested properties (v2 client)', { timeout: 20000 }, async () => {
    const res = await client.callTool({ name: 'headers_probe', arguments: { priority: 3, dry_run: true, options: { zone: 'z1' } } }, CALL);
    assert.deepEqual(JSON.parse(toolText(res)), { 'mcp-param-priority': '3', 'mcp-param-dry-run': 'true', 'mcp-param-zone': 'z1' });
  });

  it('every POST carried MCP-Protocol-Version, Mcp-Method, Mcp-Name; no sessions', () => {
    const posts = checkModernLog(srv.log());
    const calls = posts.filter((e) => e.jsonrpcMethod === 'tools/call');
    assert.ok(calls.length >= 6, 'tools/call requests logged');
    const regionHeaders = posts.filter((e) => e.jsonrpcName === 'region_query').map((e) => e.headers['mcp-param-region']);
    assert.ok(regionHeaders.includes(PLAIN_CASE), `Mcp-Param-Region in the log: ${JSON.stringify(regionHeaders)}`);
    console.log(`REQUESTS modern (v2 client): ${srv.log().length} HTTP requests: ${posts.map((e) => e.jsonrpcMethod).join(', ')}`);
  });
});

describe('raw 2026-07-28 lines → mcp-auth → SDK v2 server', { skip: bin.skip, concurrency: false }, () => {
  let srv;
  let relay;

  before(async () => {
    srv = await startMcpServer({ era: 'modern' });
    relay = spawnRelay(bin.path, [srv.url]);
  });
  after(() => killAll());

  it('server/discover lists 2026-07-28', { timeout: 20000 }, async () => {
    const reply = await relay.request(modernRequest(freshId(), 'server/discover'), 10000);
    assert.ok(reply.result, `discover failed: ${JSON.stringify(reply).slice(0, 400)}`);
    console.log(`NEGOTIATED modern (raw lines): request version ${MODERN_VERSION}; server supportedVersions ${reply.result.supportedVersions?.join(', ')}`);
    assert.ok(reply.result.supportedVersions.includes(MODERN_VERSION));
  });

  it('tools/list, then region_query with plain and encoded Mcp-Param-Region', { timeout: 20000 }, async () => {
    const list = await relay.request(modernRequest(freshId(), 'tools/list'));
    assert.ok(list.result?.tools?.some((t) => t.name === 'region_query'), JSON.stringify(list).slice(0, 300));

    const results = [];
    for (const region of [PLAIN_CASE, ...ENCODED_CASES.map(([, v]) => v)]) {
      const id = freshId();
      const reply = await relay.request(modernRequest(id, 'tools/call', { name: 'region_query', arguments: { region, query: 'select 1' } }));
      assert.ok(reply.result, `region ${JSON.stringify(region)}: ${JSON.stringify(reply).slice(0, 400)}`);
      results.push(reply.result);
    }
    const seen = regionCallsFrom(results);
    assert.equal(seen[0].header, PLAIN_CASE);
    for (const [i, [why, value]] of ENCODED_CASES.entries()) {
      assert.match(seen[i + 1].header ?? '(absent)', SENTINEL, `${why}: ${seen[i + 1].header}`);
      assert.equal(decodeSentinel(seen[i + 1].header), value, `${why}: decoded value`);
    }

    // The argument absent: the header is omitted, the call still succeeds.
    const noRegion = await relay.request(modernRequest(freshId(), 'tools/call', { name: 'region_query', arguments: {} }));
    assert.ok(noRegion.error || noRegion.result, 'answered');
    const last = srv.log().filter((e) => e.jsonrpcName === 'region_query').at(-1);
    assert.equal(last.headers['mcp-param-region'], undefined, 'no Mcp-Param-Region when the argument is absent');
  });

  it('progress over an SSE reply: notifications are forwarded before the result', { timeout: 20000 }, async () => {
    const id = freshId();
    const before = relay.out.lines.length;
    relay.send(modernRequest(id, 'tools/call', { name: 'progress', arguments: { steps: 3, ms: 50 }, _meta: { progressToken: `tok-${id}` } }));
    const reply = await relay.reply(id);
    assert.equal(toolText(reply.result), 'progress done: 3 steps');
    const mine = relay.out.lines.slice(before).map((l) => JSON.parse(l));
    const progress = mine.filter((m) => m.method === 'notifications/progress' && m.params.progressToken === `tok-${id}`);
    assert.equal(progress.length, 3, 'all three notifications forwarded');
    const resultIndex = mine.findIndex((m) => m.id === id);
    assert.ok(mine.indexOf(progress.at(-1)) < resultIndex, 'notifications precede the result');
  });

  it('x-mcp-header on integer, boolean and nested properties', { timeout: 20000 }, async () => {
    const cases = [
      [{ priority: 42, dry_run: true, options: { zone: 'b' } }, { 'mcp-param-priority': '42', 'mcp-param-dry-run': 'true', 'mcp-param-zone': 'b' }],
      [{ priority: -7, dry_run: false }, { 'mcp-param-priority': '-7', 'mcp-param-dry-run': 'false' }],
      [{ options: {} }, {}],
    ];
    for (const [args, expected] of cases) {
      const reply = await relay.request(modernRequest(freshId(), 'tools/call', { name: 'headers_probe', arguments: args }));
      assert.ok(reply.result, `${JSON.stringify(args)}: ${JSON.stringify(reply).slice(0, 400)}`);
      assert.deepEqual(JSON.parse(toolText(reply.result)), expected, `headers for ${JSON.stringify(args)}`);
    }
  });

  it('Mcp-Name is base64-sentinel-encoded for a non-ASCII tool name', { timeout: 20000 }, async () => {
    const name = 'wëird_tööl';
    const reply = await relay.request(modernRequest(freshId(), 'tools/call', { name, arguments: {} }));
    assert.ok(reply.error || reply.result?.isError, 'the server has no such tool');
    const entry = srv.log().filter((e) => e.jsonrpcName === name).at(-1);
    assert.ok(entry, 'the call reached the server');
    assert.notEqual(entry.status, 400, `the server rejected the Mcp-Name header: ${JSON.stringify(reply)}`);
    assert.match(entry.headers['mcp-name'] ?? '(absent)', SENTINEL);
    assert.equal(decodeSentinel(entry.headers['mcp-name']), name);
  });

  it('a tool whose x-mcp-header annotation is invalid is dropped from tools/list', { timeout: 20000 }, async () => {
    // Spec 2026-07-28 streamable-http "Schema Extension": clients using
    // Streamable HTTP MUST exclude such tools from the tools/list result.
    const reply = await relay.request(modernRequest(freshId(), 'tools/list'));
    const names = reply.result.tools.map((t) => t.name);
    assert.ok(names.includes('region_query'), 'valid annotated tools stay');
    assert.ok(!names.includes('bad_header'), `bad_header (x-mcp-header on a number) was passed through: ${names.join(', ')}`);
  });

  it('a modern error reply keeps its code and gets our id', { timeout: 20000 }, async () => {
    // ping does not exist in 2026-07-28: the server answers 404 + -32601.
    const id = freshId();
    const reply = await relay.request(modernRequest(id, 'ping'));
    assert.equal(reply.id, id);
    assert.equal(reply.error?.code, -32601, JSON.stringify(reply));
  });

  it('request log: version, method and name headers on every POST; stdout clean', () => {
    checkModernLog(srv.log());
    assert.deepEqual(nonJsonRpcLines(relay.out.lines), []);
  });

  it('calling an annotated tool before any tools/list: HeaderMismatch → tools listed again → retried', { timeout: 20000 }, async () => {
    // A fresh relay has not seen the x-mcp-header annotation yet, so its first
    // call lacks Mcp-Param-Region and the server answers HeaderMismatch
    // (-32020). The 2026-07-28 transport says the client SHOULD list the tools
    // again and retry: the client gets the tool's answer, with the header.
    const fresh = spawnRelay(bin.path, [srv.url]);
    const id = freshId();
    const reply = await fresh.request(modernRequest(id, 'tools/call', { name: 'region_query', arguments: { region: 'ap-south-1' } }), 10000);
    assert.equal(reply.id, id);
    assert.ok(reply.result, `the call was retried with the header: ${JSON.stringify(reply)}`);
    assert.equal(JSON.parse(toolText(reply.result)).header, 'ap-south-1');
    assert.deepEqual(nonJsonRpcLines(fresh.out.lines), []);
    assert.ok(!fresh.out.lines.some((l) => l.includes('mcp-auth-tools-list')), 'the relay\'s own tools/list never reaches the client');
    fresh.closeStdin();
    assert.equal((await fresh.exited(3000)).code, 0);
  });
});

describe('a 2025 client through mcp-auth to the dual-era SDK v2 server', { skip: bin.skip, concurrency: false }, () => {
  after(() => killAll());

  it('initialize is served statelessly; no session means no DELETE; a refused GET stream (405) is fine', { timeout: 20000 }, async () => {
    const srv = await startMcpServer({ era: 'modern' });
    const relay = spawnRelay(bin.path, [srv.url]);
    const init = await relay.request(initializeRequest(freshId()));
    assert.ok(init.result, JSON.stringify(init));
    console.log(`NEGOTIATED dual-era server, legacy initialize: ${init.result.protocolVersion}`);
    relay.send(initializedNotification());
    const echoed = await relay.request({ jsonrpc: '2.0', id: freshId(), method: 'tools/call', params: { name: 'echo', arguments: { text: 'legacy via v2' } } });
    assert.equal(toolText(echoed.result), 'legacy via v2');
    relay.closeStdin();
    assert.equal((await relay.exited(3000)).code, 0);
    const log = srv.log();
    assert.equal(log.filter((e) => e.method === 'DELETE').length, 0, 'DELETE without a session id');
    assert.ok(log.filter((e) => e.method === 'GET').length <= 1, 'GET retried after 405');
    for (const e of log.filter((x) => x.method === 'POST').slice(1)) {
      assert.equal(e.headers['mcp-protocol-version'], init.result.protocolVersion, `${e.jsonrpcMethod}: mcp-protocol-version`);
      assert.equal(e.headers['mcp-session-id'], undefined, `${e.jsonrpcMethod}: no session id was issued`);
    }
    assert.deepEqual(nonJsonRpcLines(relay.out.lines), []);
  });
});
