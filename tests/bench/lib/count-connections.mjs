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
// pipe) leaves no server behind. Plain node, no packages.

import http from 'node:http';

const createServer = http.createServer;
http.createServer = function benchCreateServer(...args) {
  const server = createServer.apply(this, args);
  server.on('connection', (socket) => {
    const port = socket.remotePort;
    process.stderr.write(`BENCH-CONN open ${port}\n`);
    socket.once('close', () => process.stderr.write(`BENCH-CONN close ${port}\n`));
  });
  return server;
};

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
