#!/usr/bin/env node
// A hostile Streamable HTTP MCP server (plain node:http, no SDK) for the relay's security
// tests: it behaves for `initialize`, notifications, tools/list and the `echo` tool, and
// misbehaves on request.
//
//   node tests/servers/hostile-mcp-server.mjs [--port N] [--depth N] [--cap BYTES] [--quiet]
//
// POST tools/call, by tool name (DEEP is [[[...]]] nested --depth deep, 100,000 by default):
//   echo                     200 JSON, the normal result {"content":[{"type":"text","text":"ok"}]}
//   deep-id-json             200 JSON response whose id is DEEP
//   deep-id-sse              200 SSE: one event, a response whose id is DEEP; then the stream ends
//   deep-result-sse          200 SSE: the response (right id) with DEEP inside its result; end
//   deep-error-data          (arguments.status, default 500) JSON-RPC error, right id, data DEEP
//   deep-request-id-sse      200 SSE: a server->client request whose id is DEEP, then the answer
//   deep-request-params-sse  200 SSE: a request (id "srv-deep-1") with DEEP params, then the answer
//   deep-notification-sse    200 SSE: a notification with DEEP params, then the answer
//   bad-code-400             400 JSON-RPC error whose code is a string ("-32020")
//   invalid-utf8             200 JSON, the right id, a text field with bytes that are not UTF-8
//   wide-json                200 JSON, the right id, result {"x":[0,0,...]} of arguments.bytes
//                            bytes (default 20 MB): legal, but 8 to 16 times that once parsed
//   endless-json             200 JSON that never ends (one string, up to --cap bytes, then silence)
//   endless-sse-event        200 SSE: data lines that never end the event (up to --cap)
//   resume-endless-event     200 SSE: `id: r-1`, `retry: 20`, a notification, then the stream
//   resume-endless-line        closes without the answer; the GET that resumes it (Last-Event-ID)
//                            gets an endless event (data lines) / one endless line, up to --cap
// GET (the client's event stream), by the server URL's query `get=`:
//   (none)                   405
//   endless-event            200 SSE: data lines without the blank line that ends an event
//   endless-line             200 SSE: one line that never ends
//   deep-id                  200 SSE: a response whose id is DEEP, then an idle stream
//   deep-request             200 SSE: a request (id "srv-get-1") with DEEP params, then idle
// GET /stats: JSON {streams: [{kind, bytes, done, closed}], clientResponses: [...]}: what
// each endless stream sent (done: --cap reached), and the responses the client POSTed.
//
// Endless streams stop at --cap bytes (48 MiB by default) and then stay open, silent, so a
// test is bounded whatever the relay does. Listens on 127.0.0.1 and prints `LISTENING <port>`.

import http from 'node:http';
import { listen, makeLog, parseCommandLine, stopOnSignals, trackSockets } from './common.mjs';

const { opts, port } = parseCommandLine({
  name: 'hostile-mcp-server',
  usage: 'usage: node tests/servers/hostile-mcp-server.mjs [--port N] [--depth N] [--cap BYTES] [--quiet]',
  options: { depth: { type: 'string', default: '100000' }, cap: { type: 'string', default: String(48 << 20) } },
});
const log = makeLog('hostile-mcp', opts.quiet);
const DEPTH = Number(opts.depth);
const CAP = Number(opts.cap);
const DEEP = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
const SESSION = 'hostile-session-1';

const streams = [];
const clientResponses = [];

const sseHead = (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'Mcp-Session-Id': SESSION });
const event = (text) => `event: message\ndata: ${text}\n\n`;
const answer = (id) => JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'ok' }] } });

/**
 * Writes `first`, then `unit` over and over (respecting backpressure) until --cap bytes or
 * the peer goes away; then the response stays open and silent.
 */
function pump(res, kind, first, unit) {
  const stat = { kind, bytes: 0, done: false, closed: false };
  streams.push(stat);
  res.on('close', () => { stat.closed = true; });
  const block = Buffer.from(unit.repeat(Math.max(1, Math.floor(65536 / unit.length))));
  const write = (buf) => { stat.bytes += buf.length; return res.write(buf); };
  write(Buffer.from(first));
  const more = () => {
    while (!res.destroyed && stat.bytes < CAP) {
      if (!write(block)) { res.once('drain', more); return; }
    }
    if (stat.bytes >= CAP) { stat.done = true; log(`${kind}: cap of ${CAP} bytes reached`); }
  };
  more();
}

function onToolCall(msg, res) {
  const { id } = msg;
  const name = msg.params?.name;
  const status = Number(msg.params?.arguments?.status ?? 500);
  const json = (code, text, extra = {}) => {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Mcp-Session-Id': SESSION, ...extra });
    res.end(text);
  };
  switch (name) {
    case 'echo': return json(200, answer(id));
    case 'deep-id-json': return json(200, `{"jsonrpc":"2.0","id":${DEEP},"result":{}}`);
    case 'deep-id-sse':
      sseHead(res);
      return res.end(event(`{"jsonrpc":"2.0","id":${DEEP},"result":{}}`));
    case 'deep-result-sse':
      sseHead(res);
      return res.end(event(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[],"x":${DEEP}}}`));
    case 'deep-error-data':
      return json(status, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":{"code":-32603,"message":"boom","data":${DEEP}}}`);
    case 'deep-request-id-sse':
      sseHead(res);
      res.write(event(`{"jsonrpc":"2.0","id":${DEEP},"method":"sampling/createMessage","params":{}}`));
      return res.end(event(answer(id)));
    case 'deep-request-params-sse':
      sseHead(res);
      res.write(event(`{"jsonrpc":"2.0","id":"srv-deep-1","method":"sampling/createMessage","params":{"x":${DEEP}}}`));
      return res.end(event(answer(id)));
    case 'deep-notification-sse':
      sseHead(res);
      res.write(event(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":${DEEP}}}`));
      return res.end(event(answer(id)));
    case 'bad-code-400':
      return json(400, JSON.stringify({ jsonrpc: '2.0', id, error: { code: '-32020', message: 'headers do not match' } }));
    case 'invalid-utf8':
      res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': SESSION });
      return res.end(Buffer.concat([
        Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"bad `),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('"}]}}'),
      ]));
    case 'wide-json': {
      const n = Math.floor(Number(msg.params?.arguments?.bytes ?? 20e6) / 2);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': SESSION });
      return res.end(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"x":[${'0,'.repeat(n)}0]}}`);
    }
    case 'endless-json':
      res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': SESSION });
      return pump(res, name, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"text":"`, 'a');
    case 'endless-sse-event':
      sseHead(res);
      return pump(res, name, `data: {"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"x":[\n`, 'data: 1,\n');
    case 'resume-endless-event':
    case 'resume-endless-line':
      sseHead(res);
      res.write(`retry: 20\nid: r-1\n${event(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'the stream breaks now' } }))}`);
      return setTimeout(() => res.socket?.destroy(), 30);
    default:
      return json(200, JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32602, message: `unknown tool ${name}` } }));
  }
}

function onPost(body, res) {
  let msg;
  try { msg = JSON.parse(body); } catch {
    res.writeHead(400, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }));
  }
  if (msg.method === undefined) { // the client's response to a request of ours
    clientResponses.push(msg);
    res.writeHead(202, { 'Mcp-Session-Id': SESSION });
    return res.end();
  }
  if (msg.id === undefined) { // a notification
    res.writeHead(202, { 'Mcp-Session-Id': SESSION });
    return res.end();
  }
  log(`POST ${msg.method} ${msg.method === 'tools/call' ? msg.params?.name : ''}`);
  if (msg.method === 'initialize') {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': SESSION });
    return res.end(JSON.stringify({
      jsonrpc: '2.0',
      id: msg.id,
      result: { protocolVersion: msg.params?.protocolVersion ?? '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'hostile-mcp', version: '1.0.0' } },
    }));
  }
  if (msg.method === 'tools/list') {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': SESSION });
    return res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } }));
  }
  if (msg.method === 'tools/call') return onToolCall(msg, res);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': SESSION });
  return res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} }));
}

function onGet(req, url, res) {
  const resumed = req.headers['last-event-id'];
  if (resumed) {
    const kind = `resumed-${req.headers['last-event-id']}`;
    log(`GET resuming after ${resumed}`);
    sseHead(res);
    // Which endless stream: the tool of the POST that broke, remembered below.
    return lastResumable === 'resume-endless-line'
      ? pump(res, `${kind}-line`, 'data: {"jsonrpc":"2.0","result":"', 'x')
      : pump(res, `${kind}-event`, 'data: {"jsonrpc":"2.0",\n', 'data: "x": 1,\n');
  }
  const mode = url.searchParams.get('get');
  log(`GET stream ${mode ?? '(none)'}`);
  switch (mode) {
    case 'endless-event':
      sseHead(res);
      return pump(res, 'get-endless-event', 'data: {"jsonrpc":"2.0","method":"notifications/message","params":[\n', 'data: 1,\n');
    case 'endless-line':
      sseHead(res);
      return pump(res, 'get-endless-line', 'data: {"jsonrpc":"2.0","method":"notifications/message","params":"', 'y');
    case 'deep-id':
      sseHead(res);
      return res.write(event(`{"jsonrpc":"2.0","id":${DEEP},"result":{}}`));
    case 'deep-request':
      sseHead(res);
      return res.write(event(`{"jsonrpc":"2.0","id":"srv-get-1","method":"sampling/createMessage","params":{"x":${DEEP}}}`));
    default:
      res.writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain' });
      return res.end('no event stream here');
  }
}

let lastResumable = null;
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (url.pathname === '/stats') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ streams, clientResponses }));
    }
    if (req.method === 'POST') {
      try {
        const name = JSON.parse(body)?.params?.name;
        if (typeof name === 'string' && name.startsWith('resume-')) lastResumable = name;
      } catch { /* handled by onPost */ }
      return onPost(body, res);
    }
    if (req.method === 'GET') return onGet(req, url, res);
    if (req.method === 'DELETE') { res.writeHead(200); return res.end(); }
    res.writeHead(405);
    return res.end();
  });
});
const sockets = trackSockets(server);
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 60000;

listen(server, port).then((actual) => log(`listening on http://127.0.0.1:${actual}/mcp`));
stopOnSignals(server, { sockets, graceMs: 500 });
