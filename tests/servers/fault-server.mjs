#!/usr/bin/env node
// A misbehaving HTTP endpoint for mcp-auth fault tests (plain node:http, no SDK).
//
//   node tests/servers/fault-server.mjs --behaviour B [--port N] [--request-log FILE] [--quiet]
//
// Behaviours (applied to every POST; GET and DELETE get 405):
//   status500     500 text/plain "boom"
//   status502     502 text/html, a gateway's error page (as nginx writes it)
//   status503     503 application/json {"error":"overloaded"} with Retry-After: 1
//   jsonrpc-error 400 application/json {"jsonrpc":"2.0","id":null,"error":{"code":-32600,...}}
//   hang          reads the request, never answers (the socket stays open)
//   reset-sse     200 text/event-stream, one event (a notifications/message),
//                 then the socket is destroyed mid-stream
//   sse-tricky    200 text/event-stream that is legal but awkward: a comment
//                 block, CRLF line endings, id:/retry: fields, a JSON message
//                 spread over several data: lines, `data:` without a space,
//                 an event (and a UTF-8 character) split across writes 50 ms
//                 apart; then the result {"content":[{"type":"text","text":"tricky ü done"}]}
//
// Listens on 127.0.0.1 and prints exactly one line `LISTENING <port>` on
// stdout when ready; everything else goes to stderr. The request log has the
// same shape as mcp-server.mjs's (authorization values redacted).

import http from 'node:http';
import {
  appendJsonLine, listen, makeLog, parseCommandLine, redactHeaders, stopOnSignals, trackSockets,
} from './common.mjs';

const BEHAVIOURS = ['status500', 'status502', 'status503', 'jsonrpc-error', 'hang', 'reset-sse', 'sse-tricky'];

const { opts, port } = parseCommandLine({
  name: 'fault-server',
  usage: `usage: node tests/servers/fault-server.mjs --behaviour ${BEHAVIOURS.join('|')} [--port N] [--request-log FILE] [--quiet]`,
  options: {
    behaviour: { type: 'string' },
    behavior: { type: 'string' },
    'request-log': { type: 'string' },
  },
  check: (o, fail) => {
    const b = o.behaviour ?? o.behavior;
    if (!BEHAVIOURS.includes(b)) fail(`unknown or missing --behaviour ${b ?? ''}`);
  },
});
const behaviour = opts.behaviour ?? opts.behavior;
const log = makeLog(`fault-server ${behaviour}`, opts.quiet);

function record(req, body, status) {
  let jsonrpcMethod;
  let jsonrpcId;
  try {
    const msg = JSON.parse(body);
    jsonrpcMethod = msg?.method;
    jsonrpcId = msg?.id;
  } catch { /* not JSON: logged without the JSON-RPC fields */ }
  const entry = { time: Date.now(), method: req.method, path: new URL(req.url ?? '/', 'http://x').pathname, headers: redactHeaders(req.headers), jsonrpcMethod, jsonrpcId, status };
  appendJsonLine(opts['request-log'], entry);
  log(`${req.method} ${entry.path} ${jsonrpcMethod ?? ''} -> ${status ?? 'never answered'}`);
}

/** Writes the `sse-tricky` reply: each element of `parts` is one write, 50 ms apart. */
function trickySse(res, id) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  const note1 = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'multi-line' } }, null, 1);
  const note2 = Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'split ü here' } }));
  const result = JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'tricky ü done' }] } });
  const cut = note2.indexOf(Buffer.from('ü')) + 1; // inside the two-byte ü
  const parts = [
    ': keep-alive comment\r\n\r\n',
    `retry: 1000\r\nid: ev-1\r\nevent: message\r\n${note1.split('\n').map((l) => `data: ${l}`).join('\r\n')}\r\n\r\n`,
    Buffer.concat([Buffer.from('event: message\ndata:'), note2.subarray(0, cut)]),
    Buffer.concat([note2.subarray(cut), Buffer.from('\n\n')]),
    `:\n\nid: ev-3\ndata: ${result}\n\n`,
  ];
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === parts.length) { res.end(); return; }
    res.write(parts[i++]);
    setTimeout(next, 50);
  };
  next();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST') {
      record(req, body, 405);
      res.writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain' });
      res.end('method not allowed');
      return;
    }
    switch (behaviour) {
      case 'status500':
        record(req, body, 500);
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('boom');
        break;
      case 'status502':
        record(req, body, 502);
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.end('<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n');
        break;
      case 'status503':
        record(req, body, 503);
        res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
        res.end(JSON.stringify({ error: 'overloaded', message: 'try again later' }));
        break;
      case 'jsonrpc-error':
        record(req, body, 400);
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: { code: -32600, message: 'Invalid Request: fault-server rejects everything' },
        }));
        break;
      case 'hang':
        record(req, body, null);
        // Never answer; the socket is destroyed at shutdown.
        break;
      case 'reset-sse': {
        record(req, body, 200);
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        const note = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'fault-server: stream will reset' } };
        res.write(`event: message\ndata: ${JSON.stringify(note)}\n\n`);
        setTimeout(() => req.socket.destroy(), 50);
        break;
      }
      case 'sse-tricky': {
        record(req, body, 200);
        let id = null;
        try { id = JSON.parse(body).id ?? null; } catch { /* answered with id null */ }
        trickySse(res, id);
        break;
      }
    }
  });
});
const sockets = trackSockets(server);
server.requestTimeout = 0;
server.headersTimeout = 0;

listen(server, port).then((actual) => log(`listening on http://127.0.0.1:${actual}/mcp`));
stopOnSignals(server, { sockets, graceMs: 500 });
