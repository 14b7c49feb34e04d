#!/usr/bin/env node
// A small HTTP proxy for mcp-auth's HTTPS_PROXY / HTTP_PROXY / NO_PROXY tests.
//
//   node tests/servers/connect-proxy.mjs [--port N] [--request-log FILE]
//        [--loopback-name NAME[,NAME...]] [--quiet]
//
// - CONNECT host:port (what a client sends for an https:// target): answers
//   "200 Connection Established" and pipes bytes both ways.
// - An absolute-form request (GET http://host:port/path ..., what a client
//   sends for an http:// target): forwarded to the target with the same
//   method, headers (minus Proxy-*) and body; the reply is piped back.
// Only loopback targets (127.0.0.0/8, localhost, ::1) are served: anything
// else gets 403, so a test can never send traffic off this machine.
// --loopback-name: host names served as 127.0.0.1 (the names a test gives mcp-auth
// through a private /etc/hosts, tests/integration/named-hosts.mjs: remote by name, local
// in fact).
//
// --request-log FILE: one JSON line per proxied request
//   {time, kind: "connect" | "forward", target, method, status}
// target: "host:port" for CONNECT, the absolute URL for a forward.
//
// Listens on 127.0.0.1 and prints exactly one line `LISTENING <port>` on
// stdout when ready; everything else goes to stderr.

import http from 'node:http';
import net from 'node:net';
import { appendJsonLine, listen, makeLog, parseCommandLine, stopOnSignals, trackSockets } from './common.mjs';

const { opts, port } = parseCommandLine({
  name: 'connect-proxy',
  usage: 'usage: node tests/servers/connect-proxy.mjs [--port N] [--request-log FILE] [--loopback-name NAME[,NAME...]] [--quiet]',
  options: {
    'request-log': { type: 'string' },
    'loopback-name': { type: 'string' },
  },
});

const log = makeLog('connect-proxy', opts.quiet);
const record = (entry) => {
  appendJsonLine(opts['request-log'], { time: Date.now(), ...entry });
  log(`${entry.kind} ${entry.method ?? ''} ${entry.target} -> ${entry.status}`);
};

const isLoopback = (host) => host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
const loopbackNames = new Set((opts['loopback-name'] ?? '').split(',').filter(Boolean));
const isServed = (host) => isLoopback(host) || loopbackNames.has(host);
// Where to connect for a served host: a test name stands for 127.0.0.1.
const address = (host) => (loopbackNames.has(host) ? '127.0.0.1' : host);

const server = http.createServer((req, res) => {
  let target;
  try {
    target = new URL(req.url);
  } catch {
    record({ kind: 'forward', method: req.method, target: req.url, status: 400 });
    res.writeHead(400, { 'Content-Type': 'text/plain' }).end('this is a proxy: absolute-form requests only');
    return;
  }
  if (target.protocol !== 'http:' || !isServed(target.hostname)) {
    record({ kind: 'forward', method: req.method, target: target.href, status: 403 });
    res.writeHead(403, { 'Content-Type': 'text/plain' }).end('only http:// loopback targets');
    return;
  }
  const headers = { ...req.headers };
  for (const name of Object.keys(headers)) if (name.startsWith('proxy-')) delete headers[name];
  const upstream = http.request({ host: address(target.hostname), port: target.port || 80, path: target.pathname + target.search, method: req.method, headers }, (up) => {
    record({ kind: 'forward', method: req.method, target: target.href, status: up.statusCode });
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (err) => {
    record({ kind: 'forward', method: req.method, target: target.href, status: 502 });
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`upstream failed: ${err.message}`);
    else res.destroy();
  });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
});
// The server's own connections and, below, each CONNECT tunnel's upstream socket: all cut at shutdown.
const sockets = trackSockets(server);

server.on('connect', (req, client, head) => {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
  const host = m?.[1].replace(/^\[|\]$/g, '');
  if (!m || !isServed(host)) {
    record({ kind: 'connect', method: 'CONNECT', target: req.url, status: 403 });
    client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  let connected = false;
  const upstream = net.connect(Number(m[2]), address(host), () => {
    connected = true;
    record({ kind: 'connect', method: 'CONNECT', target: req.url, status: 200 });
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head?.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  sockets.add(upstream);
  upstream.on('close', () => sockets.delete(upstream));
  upstream.on('error', () => {
    if (!connected && !client.destroyed) {
      record({ kind: 'connect', method: 'CONNECT', target: req.url, status: 502 });
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    }
    client.destroy();
  });
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
});

listen(server, port).then((actual) => log(`proxy on http://127.0.0.1:${actual}`));
stopOnSignals(server, { sockets, graceMs: 500 });
