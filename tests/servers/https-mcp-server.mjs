#!/usr/bin/env node
// An HTTPS MCP endpoint for mcp-auth's TLS, CA and proxy tests.
//
//   node tests/servers/https-mcp-server.mjs --cert FILE --key FILE [--port N]
//        [--request-log FILE] [--quiet]
//
// --cert/--key: PEM files (the tests make them with the openssl CLI: a
// self-signed certificate, or one signed by a test CA; the certificate chain
// may follow the leaf in --cert). Serves a minimal stateless MCP endpoint at
// /mcp (tests/servers/mini-mcp.mjs; tools: echo {text}).
//
// --request-log FILE: one JSON line per HTTP request
//   {time, method, path, authorization, jsonrpcMethod, jsonrpcId, status}
// (authorization: whether the header was present, never its value), and one
//   {time, event: "tls-error", message}
// per failed TLS handshake (e.g. the client refused the certificate).
//
// Listens on 127.0.0.1 and prints exactly one line `LISTENING <port>` on
// stdout when ready; everything else goes to stderr.

import https from 'node:https';
import { readFileSync } from 'node:fs';
import { answerMcp, describeJsonRpc, readBody } from './mini-mcp.mjs';
import { appendJsonLine, listen, makeLog, onResponseHead, parseCommandLine, stopOnSignals } from './common.mjs';

const { opts, port } = parseCommandLine({
  name: 'https-mcp-server',
  usage: 'usage: node tests/servers/https-mcp-server.mjs --cert FILE --key FILE [--port N] [--request-log FILE] [--quiet]',
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    'request-log': { type: 'string' },
  },
  check: (o, fail) => {
    if (!o.cert || !o.key) fail('--cert and --key are required');
  },
});

const log = makeLog('https-mcp-server', opts.quiet);
const appendLog = (entry) => appendJsonLine(opts['request-log'], entry);

const tools = { echo: async (args) => String(args.text ?? '') };

const server = https.createServer({ cert: readFileSync(opts.cert), key: readFileSync(opts.key) }, async (req, res) => {
  const record = { time: Date.now(), method: req.method, path: new URL(req.url ?? '/', 'https://x').pathname, authorization: req.headers.authorization !== undefined, status: null };
  onResponseHead(res, (status) => {
    record.status = status;
    appendLog(record);
    log(`${record.method} ${record.path} ${record.jsonrpcMethod ?? ''} -> ${status}`);
  });
  try {
    const body = await readBody(req);
    Object.assign(record, describeJsonRpc(body));
    if (record.path !== '/mcp') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    await answerMcp(req, res, body, tools);
  } catch (err) {
    log(`handler error: ${err.stack ?? err}`);
    if (!res.headersSent) res.writeHead(500).end();
  }
});
server.on('tlsClientError', (err) => {
  appendLog({ time: Date.now(), event: 'tls-error', message: err.message });
  log(`TLS handshake failed: ${err.message}`);
});
server.keepAliveTimeout = 60_000;

listen(server, port).then((actual) => log(`https://127.0.0.1:${actual}/mcp`));
stopOnSignals(server, { graceMs: 500 });
