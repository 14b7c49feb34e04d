// What the test servers in tests/servers/ share: the command line (--port,
// --quiet and --help on top of each server's own options), the stderr log,
// JSON-lines log files and the request-log hooks, the `LISTENING <port>`
// start-up line, and stopping on SIGTERM / SIGINT. Plain node: no npm
// packages, so every server can load it.

import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

// ---------------------------------------------------------------------------
// Command line

/**
 * Parses the command line: `options` (node:util parseArgs options) plus
 * --port N (default 0), --quiet and --help / -h.
 *
 * `name` and `usage` make the messages: a bad command line writes
 * `<name>: <message>` and `usage` to stderr and exits 2; --help writes `usage`
 * and exits 0. `check(opts, fail)` runs the server's own checks that come
 * before the --port check (so a command line with several mistakes is told
 * about the same one as always); checks after it are the caller's, with the
 * returned `fail`.
 *
 * Returns {opts, port, fail}: the parsed values, the port as a number, and
 * fail(message) for later checks.
 */
export function parseCommandLine({ name, usage, options = {}, check }) {
  const fail = (msg, code = 2) => {
    if (msg) process.stderr.write(`${name}: ${msg}\n`);
    process.stderr.write(`${usage}\n`);
    process.exit(code);
  };
  let opts;
  try {
    ({ values: opts } = parseArgs({
      options: {
        ...options,
        port: { type: 'string', default: '0' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    fail(err.message);
  }
  if (opts.help) fail(undefined, 0);
  check?.(opts, fail);
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${opts.port}`);
  return { opts, port, fail };
}

/** log(message): `[tag] message` on stderr, unless `quiet`. */
export function makeLog(tag, quiet) {
  return (msg) => { if (!quiet) process.stderr.write(`[${tag}] ${msg}\n`); };
}

// ---------------------------------------------------------------------------
// Logs and the request log

/** Appends `obj` as one JSON line to `file`; no file (option not given), nothing written. */
export function appendJsonLine(file, obj) {
  if (file) appendFileSync(file, JSON.stringify(obj) + '\n');
}

/** Request headers for a log: names lower-cased, Authorization and Proxy-Authorization values "<redacted>". */
export function redactHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    out[lower] = lower === 'authorization' || lower === 'proxy-authorization' ? '<redacted>' : value;
  }
  return out;
}

/**
 * Calls `write(status, writeHeadArgs)` once, when the response head goes out
 * (before the client can have the reply, so a test that got the reply finds
 * the log line; the arguments of res.writeHead after the status come along),
 * or write(null, []) when the connection closes without one.
 */
export function onResponseHead(res, write) {
  let done = false;
  const once = (status, args) => {
    if (done) return;
    done = true;
    write(status, args);
  };
  const original = res.writeHead;
  res.writeHead = function writeHead(status, ...rest) {
    once(status, rest);
    return original.call(this, status, ...rest);
  };
  res.on('close', () => once(res.headersSent ? res.statusCode : null, []));
}

/**
 * Calls `write(status)` once, when the whole response has been sent or the
 * connection closes first; status null when no response head went out.
 */
export function onResponseEnd(res, write) {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    write(res.headersSent ? res.statusCode : null);
  };
  res.on('finish', once);
  res.on('close', once);
}

/** The Mcp-Session-Id a response is about to carry: set on `res`, or in the headers passed to writeHead. */
export function sessionIdOf(res, writeHeadArgs) {
  const fromRes = res.getHeader('mcp-session-id');
  if (fromRes !== undefined) return String(fromRes);
  const headers = writeHeadArgs.find((a) => a && typeof a === 'object');
  if (Array.isArray(headers)) {
    // Flat [name, value, name, value, ...] form.
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === 'mcp-session-id') return String(headers[i + 1]);
    }
  } else if (headers) {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'mcp-session-id') return String(v);
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Requests and replies

/** Reads a request body as UTF-8; above `limit` bytes the rest is dropped (the handler then sees broken JSON). */
export function readText(req, limit = Infinity) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A JSON reply, unless a response head went out already. */
export function sendJson(res, status, body, headers = {}) {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A JSON-RPC error message. */
export const rpcError = (code, message, id = null) => ({ jsonrpc: '2.0', id, error: { code, message } });

// ---------------------------------------------------------------------------
// Start and stop

/**
 * server.listen(port) on 127.0.0.1; once listening, awaits `prepare(port)`
 * (what must be ready before anyone is told the port), then prints the one
 * stdout line `LISTENING <port>` the tests wait for. Resolves the port after
 * that line.
 */
export function listen(server, port, prepare) {
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', async () => {
      const actual = server.address().port;
      if (prepare) await prepare(actual);
      process.stdout.write(`LISTENING ${actual}\n`);
      resolve(actual);
    });
  });
}

/** The sockets `server` has accepted and that are still open (for a shutdown that cuts them all, hung and upgraded ones included). */
export function trackSockets(server) {
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return sockets;
}

/**
 * On SIGTERM or SIGINT: stop accepting, cut the open connections (each of
 * `sockets` when given, else the server's HTTP connections), run `cleanup`,
 * and exit 0 once the server has closed, or after `graceMs` at the latest.
 * `log`, when given, gets "<SIGNAL>: shutting down". A second signal while
 * stopping does nothing more.
 */
export function stopOnSignals(server, { log, sockets, cleanup, graceMs = 1000 } = {}) {
  let stopping = false;
  const shutdown = (signal) => {
    if (stopping) return;
    stopping = true;
    log?.(`${signal}: shutting down`);
    server.close(() => process.exit(0));
    if (sockets) for (const s of sockets) s.destroy();
    else server.closeAllConnections();
    cleanup?.();
    setTimeout(() => process.exit(0), graceMs).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
