#!/usr/bin/env node
// A proxy that only listens: for mcp-auth's transport security tests (HTTPS_PROXY /
// HTTP_PROXY pointing here must never leak a token in clear, and loopback targets must
// never come here at all).
//
//   node tests/servers/sniffing-proxy.mjs [--port N] [--byte-log FILE] [--quiet]
//
// Records every byte each client sends (--byte-log: one JSON line per chunk,
// {time, conn, data} with data in base64) and NEVER connects anywhere: a CONNECT gets
// "502 Bad Gateway", an absolute-form request gets 502 too, then the connection closes.
// So a test sees exactly what a client would have told a real proxy, and no traffic
// leaves the machine whatever the client asks for.
//
// Listens on 127.0.0.1 and prints exactly one line `LISTENING <port>` on stdout when
// ready; everything else goes to stderr.

import net from 'node:net';
import { appendJsonLine, listen, makeLog, parseCommandLine, stopOnSignals, trackSockets } from './common.mjs';

const { opts, port } = parseCommandLine({
  name: 'sniffing-proxy',
  usage: 'usage: node tests/servers/sniffing-proxy.mjs [--port N] [--byte-log FILE] [--quiet]',
  options: { 'byte-log': { type: 'string' } },
});
const log = makeLog('sniffing-proxy', opts.quiet);

let next = 1;
const server = net.createServer((socket) => {
  const conn = next++;
  let head = '';
  let answered = false;
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    appendJsonLine(opts['byte-log'], { time: Date.now(), conn, data: chunk.toString('base64') });
    if (answered) return;
    head += chunk.toString('latin1');
    if (!head.includes('\r\n\r\n') && head.length < 65536) return;
    answered = true;
    log(`conn ${conn}: ${JSON.stringify(head.split('\r\n')[0])} -> 502`);
    socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 25\r\n' +
      'Connection: close\r\n\r\nthis proxy never connects');
  });
});
const sockets = trackSockets(server);
stopOnSignals(server, { log, sockets });
await listen(server, port);
