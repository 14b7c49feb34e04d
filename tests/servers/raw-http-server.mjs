#!/usr/bin/env node
// A raw TCP "HTTP server" for mcp-auth's transport security tests: it plays a victim
// service on loopback, or a server whose reply never ends.
//
//   node tests/servers/raw-http-server.mjs --mode MODE [--byte-log FILE] [--port N]
//        [--interval-ms N] [--max-bytes N] [--quiet]
//
// --mode record: a local service (kubectl proxy, Docker, Redis...) that a smuggled
//   request would reach. Records every byte received (--byte-log: one JSON line per
//   chunk, {time, conn, data} in base64) and answers each request head with a 404.
// --mode endless-headers: answers "HTTP/1.1 200 OK" and then header lines for ever (up
//   to --max-bytes, default 512 MiB, so a vulnerable client can be watched growing
//   without taking the machine down), honouring back-pressure.
// --mode drip: answers a valid JSON response one byte every --interval-ms (default 500):
//   each read succeeds quickly, so only an overall deadline ends the exchange.
//
// Listens on 127.0.0.1 and prints exactly one line `LISTENING <port>` on stdout when
// ready; everything else goes to stderr.

import net from 'node:net';
import { appendJsonLine, listen, makeLog, parseCommandLine, stopOnSignals, trackSockets } from './common.mjs';

const MODES = ['record', 'endless-headers', 'drip'];
const { opts, port } = parseCommandLine({
  name: 'raw-http-server',
  usage: 'usage: node tests/servers/raw-http-server.mjs --mode record|endless-headers|drip [--byte-log FILE] [--port N] [--interval-ms N] [--max-bytes N] [--quiet]',
  options: {
    mode: { type: 'string' },
    'byte-log': { type: 'string' },
    'interval-ms': { type: 'string', default: '500' },
    'max-bytes': { type: 'string', default: String(512 * 1024 * 1024) },
  },
  check: (o, fail) => { if (!MODES.includes(o.mode)) fail(`--mode must be one of ${MODES.join(', ')}`); },
});
const log = makeLog('raw-http-server', opts.quiet);
const intervalMs = Number(opts['interval-ms']);
const maxBytes = Number(opts['max-bytes']);

function endlessHeaders(socket) {
  let sent = 0;
  let n = 0;
  const pad = 'x'.repeat(1000);
  const pump = () => {
    while (sent < maxBytes && !socket.destroyed) {
      const line = n === 0 ? 'HTTP/1.1 200 OK\r\n' : `X-Pad-${n}: ${pad}\r\n`;
      n++;
      sent += line.length;
      if (!socket.write(line)) return socket.once('drain', pump);
    }
  };
  pump();
}

function drip(socket) {
  const body = '{"resource":"never finished"}';
  const text = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= text.length) return clearInterval(timer);
    socket.write(text[at++]);
  }, intervalMs);
  socket.on('close', () => clearInterval(timer));
}

let next = 1;
const server = net.createServer((socket) => {
  const conn = next++;
  let head = '';
  let started = false;
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    appendJsonLine(opts['byte-log'], { time: Date.now(), conn, data: chunk.toString('base64') });
    head += chunk.toString('latin1');
    if (opts.mode === 'record') {
      // One 404 per request head seen (a smuggled second request gets its own).
      let end;
      while ((end = head.indexOf('\r\n\r\n')) >= 0) {
        log(`conn ${conn}: ${JSON.stringify(head.slice(0, end).split('\r\n')[0])}`);
        head = head.slice(end + 4);
        socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      }
      return;
    }
    if (started || !head.includes('\r\n\r\n')) return;
    started = true;
    log(`conn ${conn}: ${opts.mode}`);
    if (opts.mode === 'endless-headers') endlessHeaders(socket);
    else drip(socket);
  });
});
const sockets = trackSockets(server);
stopOnSignals(server, { log, sockets });
await listen(server, port);
