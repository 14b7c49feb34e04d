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
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { answerMcp, describeJsonRpc, onResponseHead, readBody } from './mini-mcp.mjs';

const USAGE = 'usage: node tests/servers/https-mcp-server.mjs --cert FILE --key FILE [--port N] [--request-log FILE] [--quiet]';

function usage(msg, code = 2) {
  if (msg) process.stderr.write(`https-mcp-server: ${msg}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(code);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      cert: { type: 'string' },
      key: { type: 'string' },
      port: { type: 'string', default: '0' },
      'request-log': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  usage(err.message);
}
if (opts.help) usage(undefined, 0);
if (!opts.cert || !opts.key) usage('--cert and --key are required');
const port = Number(opts.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad --port ${opts.port}`);

const log = (msg) => { if (!opts.quiet) process.stderr.write(`[https-mcp-server] ${msg}\n`); };
const appendLog = (entry) => { if (opts['request-log']) appendFileSync(opts['request-log'], JSON.stringify(entry) + '\n'); };

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

server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  process.stdout.write(`LISTENING ${actual}\n`);
  log(`https://127.0.0.1:${actual}/mcp`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
