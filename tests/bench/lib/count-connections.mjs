// Preloaded into the MCP test server (`node --import`) by the benchmark: it
// reports every TCP connection the server accepts and every one that closes,
// as lines on stderr:
//
//   BENCH-CONN open <remote port>
//   BENCH-CONN close <remote port>
//
// so the benchmark can count the connections each client opened without
// changing the server. It also ends the server when its stdin closes: the
// benchmark holds the other end, so a benchmark that dies (killed, broken
// pipe) leaves no server behind. A line `close-idle` on stdin closes every
// idle keep-alive connection, as a server's keep-alive timeout would (the
// cold-connection scenario), and answers `BENCH-IDLE-CLOSED` on stderr.
// Plain node, no packages.

import http from 'node:http';

const servers = [];
const createServer = http.createServer;
http.createServer = function benchCreateServer(...args) {
  const server = createServer.apply(this, args);
  servers.push(server);
  server.on('connection', (socket) => {
    const port = socket.remotePort;
    process.stderr.write(`BENCH-CONN open ${port}\n`);
    socket.once('close', () => process.stderr.write(`BENCH-CONN close ${port}\n`));
  });
  return server;
};

let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (line === 'close-idle') {
      for (const server of servers) server.closeIdleConnections();
      process.stderr.write('BENCH-IDLE-CLOSED\n');
    }
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
