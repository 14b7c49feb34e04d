// Shared helpers for the mcp-auth integration tests.
//
// Everything that starts a process registers it here, so a test file can
// call `killAll()` in an `after` hook and nothing outlives the run. Every
// wait takes a timeout: no helper can block forever.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readFileSync, readdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..');
export const SERVERS_DIR = resolve(REPO_ROOT, 'tests', 'servers');
export const MCP_SERVER = join(SERVERS_DIR, 'mcp-server.mjs');
export const FAULT_SERVER = join(SERVERS_DIR, 'fault-server.mjs');
export const AUTH_SERVER = join(SERVERS_DIR, 'auth-server.mjs');
export const PROTECTED_MCP_SERVER = join(SERVERS_DIR, 'protected-mcp-server.mjs');
export const SCRIPTED_BROWSER = join(HERE, 'scripted-browser.mjs');
export const CHROMIUM_BROWSER = join(HERE, 'chromium-browser.mjs');
export const WITH_KEYRING = join(HERE, 'with-keyring.sh');
export const DEFAULT_BIN = resolve(REPO_ROOT, 'build', 'mcp-auth');

// ---------------------------------------------------------------------------
// The binary under test

/**
 * Where the mcp-auth binary is, and whether the suites should run.
 * MCP_AUTH_BIN set but missing is a hard error (someone asked for a binary
 * that is not there); unset and the default build path missing means skip.
 */
export function relayBinary() {
  const fromEnv = process.env.MCP_AUTH_BIN;
  if (fromEnv) {
    const path = resolve(fromEnv);
    if (!existsSync(path)) throw new Error(`MCP_AUTH_BIN=${fromEnv} does not exist`);
    return { path, skip: false };
  }
  if (existsSync(DEFAULT_BIN)) return { path: DEFAULT_BIN, skip: false };
  return { path: DEFAULT_BIN, skip: skipOutsideCI(`mcp-auth binary not found (set MCP_AUTH_BIN or build ${DEFAULT_BIN})`) };
}

// ---------------------------------------------------------------------------
// Small utilities

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with `label` if `promise` has not settled within `ms`. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `fn` until it returns a truthy value or `ms` elapse; returns the value or throws. */
export async function waitUntil(fn, ms, label = 'condition', stepMs = 25) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await sleep(stepMs);
  }
}

/**
 * A suite's `skip` value for a missing prerequisite (`why`, or false when there is none).
 * Outside CI the suite is skipped with the reason. Under CI=true nothing is skipped
 * silently: the file gets a failing test that names what is missing, and the suite itself
 * is skipped (its tests could only fail in obscure ways).
 */
export function skipOutsideCI(why) {
  if (!why) return false;
  if (process.env.CI) {
    it(`prerequisites are installed (CI=true): ${why}`, () => {
      assert.fail(`${why}: under CI=true this suite must run (see packaging/install-deps.sh)`);
    });
  }
  return why;
}

/** Deterministic ASCII payload of exactly `n` bytes, used by the `big` tool and checked by tests. */
export function payloadText(n) {
  const unit = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** A temporary directory removed by `killAll()`. */
const tempDirs = new Set();
export function tempDir(prefix = 'mcp-auth-it-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** The names in `commands` that are not executable files on PATH. */
export function missingCommands(commands) {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return commands.filter((cmd) => !dirs.some((d) => {
    try {
      accessSync(join(d, cmd), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  }));
}

/** A TCP port on 127.0.0.1 with nothing listening on it (bound, then released). */
export function deadPort() {
  return new Promise((resolveP, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolveP(port));
    });
  });
}

// ---------------------------------------------------------------------------
// Process registry

const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Waits for `child` to exit; resolves {code, signal} or throws after `ms`. */
export function waitExit(child, ms = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return withTimeout(
    new Promise((r) => child.once('exit', (code, signal) => r({ code, signal }))),
    ms,
    `exit of pid ${child.pid}`,
  );
}

/** Kills one child we started: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child, graceMs = 2000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  try {
    await waitExit(child, graceMs);
  } catch {
    child.kill('SIGKILL');
    await waitExit(child, 2000).catch(() => {});
  }
}

/** Stops every process this module started and removes temporary directories. */
export async function killAll() {
  await Promise.all([...children].map((c) => stopChild(c)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last resort if a test file dies without running its `after` hooks.
process.once('exit', () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// ---------------------------------------------------------------------------
// Line reading

/**
 * Splits a readable stream into lines (on \n, a trailing \r is kept off) and
 * lets tests wait for them with a timeout. All lines stay in `lines`.
 */
export class LineReader {
  constructor(stream, { keep = true } = {}) {
    this.lines = [];
    this.keep = keep;
    this.ended = false;
    this._buf = Buffer.alloc(0);
    this._queue = [];
    this._waiters = [];
    this._claims = [];
    stream.on('data', (chunk) => this._onData(chunk));
    stream.on('end', () => this._onEnd());
    stream.on('close', () => this._onEnd());
  }

  _onData(chunk) {
    this._buf = this._buf.length ? Buffer.concat([this._buf, chunk]) : chunk;
    let idx;
    while ((idx = this._buf.indexOf(0x0a)) !== -1) {
      let line = this._buf.subarray(0, idx).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this._buf = this._buf.subarray(idx + 1);
      this._push(line);
    }
  }

  _onEnd() {
    if (this.ended) return;
    this.ended = true;
    if (this._buf.length) {
      // A final line without its newline is still reported (tests flag it).
      this.unterminated = this._buf.toString('utf8');
      this._push(this.unterminated);
      this._buf = Buffer.alloc(0);
    }
    for (const w of this._waiters.splice(0)) w.resolve(null);
    for (const c of this._claims.splice(0)) c.reject(new Error('stream ended'));
  }

  _push(line) {
    if (this.keep) this.lines.push(line);
    const c = this._claims.findIndex((claim) => claim.pred(line));
    if (c !== -1) {
      this._claims.splice(c, 1)[0].resolve(line);
      return;
    }
    const w = this._waiters.shift();
    if (w) w.resolve(line);
    else this._queue.push(line);
  }

  /**
   * Takes the first line matching `pred`, whether it is already queued or
   * still to come, without disturbing other lines: those stay for `next()`.
   * Any number of claims may wait at once (e.g. one per request id).
   */
  claim(pred, ms = 5000, label = 'matching line') {
    const i = this._queue.findIndex(pred);
    if (i !== -1) return Promise.resolve(this._queue.splice(i, 1)[0]);
    if (this.ended) return Promise.reject(new Error(`stream ended before ${label}`));
    let entry;
    const p = new Promise((resolveP, reject) => { entry = { pred, resolve: resolveP, reject }; });
    this._claims.push(entry);
    return withTimeout(p, ms, label).catch((err) => {
      const k = this._claims.indexOf(entry);
      if (k !== -1) this._claims.splice(k, 1);
      throw err;
    });
  }

  /** Next unread line, or null at end of stream; throws after `ms`. */
  next(ms = 5000, label = 'a line') {
    if (this._queue.length) return Promise.resolve(this._queue.shift());
    if (this.ended) return Promise.resolve(null);
    let waiter;
    const p = new Promise((resolveP, reject) => { waiter = { resolve: resolveP, reject }; });
    this._waiters.push(waiter);
    return withTimeout(p, ms, label).catch((err) => {
      const i = this._waiters.indexOf(waiter);
      if (i !== -1) this._waiters.splice(i, 1);
      throw err;
    });
  }

  /** Reads lines until `pred(line)` holds; returns that line. Skipped lines are returned in `skipped`. */
  async waitFor(pred, ms = 5000, label = 'matching line') {
    const deadline = Date.now() + ms;
    const skipped = [];
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${label}; skipped: ${JSON.stringify(skipped).slice(0, 500)}`);
      const line = await this.next(left, label);
      if (line === null) throw new Error(`stream ended while waiting for ${label}; skipped: ${JSON.stringify(skipped).slice(0, 500)}`);
      if (pred(line)) return { line, skipped };
      skipped.push(line);
    }
  }
}

// ---------------------------------------------------------------------------
// Test servers

/**
 * Starts one of tests/servers/*.mjs, waits for `LISTENING <port>`, and
 * returns { port, url, proc, stderr(), stop() }.
 */
export async function startServer(script, args = [], { timeoutMs = 10000 } = {}) {
  const proc = track(spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  const out = new LineReader(proc.stdout);
  let line;
  try {
    line = await out.next(timeoutMs, `LISTENING from ${script}`);
  } catch (err) {
    await stopChild(proc);
    throw new Error(`${err.message}\nserver stderr:\n${stderr}`);
  }
  const m = /^LISTENING (\d+)$/.exec(line ?? '');
  if (!m) {
    await stopChild(proc);
    throw new Error(`unexpected first line from ${script}: ${JSON.stringify(line)}\nstderr:\n${stderr}`);
  }
  const port = Number(m[1]);
  return {
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    proc,
    stdout: out,
    stderr: () => stderr,
    stop: () => stopChild(proc),
  };
}

/** Starts the SDK MCP server with a request log in a fresh temp dir. */
export async function startMcpServer({ era = 'legacy', mode, extraArgs = [] } = {}) {
  const logFile = join(tempDir(), 'requests.jsonl');
  const modeArgs = mode ? ['--mode', mode] : []; // default: sse (legacy), auto (modern)
  const srv = await startServer(MCP_SERVER, ['--port', '0', '--era', era, ...modeArgs, '--request-log', logFile, ...extraArgs]);
  return { ...srv, logFile, log: () => readRequestLog(logFile) };
}

/** Starts the raw fault server with the given behaviour. */
export async function startFaultServer(behaviour) {
  const logFile = join(tempDir(), 'fault-requests.jsonl');
  const srv = await startServer(FAULT_SERVER, ['--port', '0', '--behaviour', behaviour, '--request-log', logFile]);
  return { ...srv, logFile, log: () => readRequestLog(logFile) };
}

/** Parses a JSON-lines log (--request-log, --event-log, ...); a missing file is an empty log. */
export function readJsonLines(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
export const readRequestLog = readJsonLines;

// ---------------------------------------------------------------------------
// OAuth test bed: authorization server, protected MCP server, keyring, commands

/**
 * Starts tests/servers/auth-server.mjs (`config` standard|cognito) with an
 * event log and --print-tokens. Returns the server handle plus `issuer`,
 * `events(name?)` (event-log lines, optionally of one kind) and `issued()`
 * (every access and refresh token it handed out, read from its stdout).
 */
export async function startAuthServer({ config = 'standard', resource, accessTokenTtl, tokenPadding, extraArgs = [] } = {}) {
  const eventLog = join(tempDir(), 'as-events.jsonl');
  const args = ['--config', config, '--port', '0', '--event-log', eventLog, '--print-tokens'];
  if (resource) args.push('--resource', resource);
  if (accessTokenTtl) args.push('--access-token-ttl', String(accessTokenTtl));
  if (tokenPadding) args.push('--token-padding', String(tokenPadding));
  const srv = await startServer(AUTH_SERVER, [...args, ...extraArgs]);
  return {
    ...srv,
    issuer: `http://127.0.0.1:${srv.port}`,
    eventLog,
    events: (name) => readJsonLines(eventLog).filter((e) => !name || e.event === name),
    issued: () => srv.stdout.lines
      .filter((l) => l.startsWith('ISSUED '))
      .flatMap((l) => { const t = JSON.parse(l.slice(7)); return [t.access_token, t.refresh_token].filter(Boolean); }),
  };
}

/**
 * Starts tests/servers/protected-mcp-server.mjs for `issuer`, with an audit
 * log and a request log. `port` may be fixed (e.g. from deadPort()) so that
 * the authorization server can be told the resource URL first.
 */
export async function startProtectedMcpServer({ issuer, config = 'standard', port = 0, tokenHeader, extraArgs = [] } = {}) {
  const dir = tempDir();
  const auditLog = join(dir, 'audit.jsonl');
  const requestLog = join(dir, 'requests.jsonl');
  const args = ['--issuer', issuer, '--config', config, '--port', String(port), '--audit-log', auditLog, '--request-log', requestLog];
  if (tokenHeader) args.push('--token-header', tokenHeader);
  const srv = await startServer(PROTECTED_MCP_SERVER, [...args, ...extraArgs]);
  return { ...srv, auditLog, requestLog, audit: () => readJsonLines(auditLog), log: () => readJsonLines(requestLog) };
}

/** An authorization server plus a protected MCP server that trusts it, its resource URL known up front. */
export async function startOAuthPair({ config = 'standard', accessTokenTtl, tokenHeader, tokenPadding } = {}) {
  const mcpPort = await deadPort();
  const as = await startAuthServer({ config, accessTokenTtl, tokenPadding, resource: `http://127.0.0.1:${mcpPort}/mcp` });
  const mcp = await startProtectedMcpServer({ issuer: as.issuer, config, port: mcpPort, tokenHeader });
  return { as, mcp };
}

/**
 * A private D-Bus session with gnome-keyring (tests/integration/with-keyring.sh):
 * mode "unlocked", "locked" or "none" (no Secret Service). Returns {env, mode,
 * home, stop()}: `env` is the full environment to give processes that should
 * use that keyring (fresh HOME and XDG dirs, DBUS_SESSION_BUS_ADDRESS). The
 * session lives until stop() or killAll().
 */
export async function keyringSession(mode = 'unlocked', { timeoutMs = 15000 } = {}) {
  const flags = { unlocked: [], locked: ['--locked'], none: ['--no-keyring'] }[mode];
  if (!flags) throw new Error(`unknown keyring mode ${mode}`);
  // Inside the session: print the environment, then live until stdin closes.
  const printer = 'process.stdout.write(JSON.stringify(process.env) + "\\n"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0));';
  const proc = track(spawn(WITH_KEYRING, [...flags, '--', process.execPath, '-e', printer], { stdio: ['pipe', 'pipe', 'pipe'] }));
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdin.on('error', () => {});
  const out = new LineReader(proc.stdout);
  let line;
  try {
    line = await out.next(timeoutMs, `with-keyring.sh ${flags.join(' ')} environment`);
    if (!line) throw new Error('with-keyring.sh ended before printing the environment');
  } catch (err) {
    await stopChild(proc);
    throw new Error(`${err.message}\nwith-keyring.sh stderr:\n${stderr}`);
  }
  const env = JSON.parse(line);
  return {
    env,
    mode,
    home: env.HOME,
    stop: async () => {
      proc.stdin.end();
      await waitExit(proc, 5000).catch(() => stopChild(proc));
    },
  };
}

/**
 * Runs a command to completion: resolves {code, signal, stdout, stderr,
 * timedOut, ms}. Killed (SIGTERM, then SIGKILL) after `timeoutMs`; never throws
 * for a non-zero exit.
 */
export async function runCommand(cmd, args, { env = process.env, timeoutMs = 30000, input, cwd } = {}) {
  const started = Date.now();
  const proc = track(spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  // 'exit' can come before the last output has been read (a loaded machine): the output
  // is complete once both pipes have ended (bounded: a grandchild may hold them open).
  const drained = Promise.all([proc.stdout, proc.stderr].map((s) => new Promise((r) => s.once('close', r))));
  proc.stdin.on('error', () => {});
  proc.stdin.end(input);
  let timedOut = false;
  let result;
  try {
    result = await waitExit(proc, timeoutMs);
  } catch {
    timedOut = true;
    await stopChild(proc);
    result = { code: proc.exitCode, signal: proc.signalCode };
  }
  await withTimeout(drained, 500, 'output pipes').catch(() => {});
  return { ...result, stdout, stderr, timedOut, ms: Date.now() - started };
}

// ---------------------------------------------------------------------------
// The relay under test, driven with raw lines

/**
 * Spawns mcp-auth with `args` and returns a handle:
 *   send(obj | string | Buffer)  writes one line (adds the newline)
 *   request(obj, ms)             sends and waits for the reply line with the same id
 *   out                          LineReader over stdout (all lines in out.lines)
 *   stderr()                     everything written to stderr so far
 *   closeStdin(), kill(sig), exited(ms)
 */
export function spawnRelay(bin, args, { env = {}, inheritEnv = true } = {}) {
  const proc = track(spawn(bin, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: inheritEnv ? { ...process.env, ...env } : env,
  }));
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdin.on('error', () => { /* EPIPE after the relay exits is reported by the tests themselves */ });
  const out = new LineReader(proc.stdout);
  const handle = {
    proc,
    out,
    stderr: () => stderr,
    send(msg) {
      let buf;
      if (Buffer.isBuffer(msg)) buf = msg;
      else if (typeof msg === 'string') buf = Buffer.from(msg, 'utf8');
      else buf = Buffer.from(JSON.stringify(msg), 'utf8');
      proc.stdin.write(Buffer.concat([buf, Buffer.from('\n')]));
    },
    /** Waits for the response with the given id (other lines stay queued for out.next()). */
    async reply(id, ms = 5000) {
      try {
        const line = await out.claim((l) => {
          try {
            const m = JSON.parse(l);
            return m.id === id && !('method' in m); // a response, not a server request reusing the id
          } catch {
            return false;
          }
        }, ms, `reply with id ${JSON.stringify(id)}`);
        return JSON.parse(line);
      } catch (err) {
        const state = proc.exitCode !== null || proc.signalCode !== null
          ? `mcp-auth exited (code ${proc.exitCode}, signal ${proc.signalCode})`
          : 'mcp-auth still running';
        err.message += `\n${state}; stderr (last 1500 chars):\n${stderr.slice(-1500)}`;
        throw err;
      }
    },
    async request(msg, ms = 5000) {
      handle.send(msg);
      return handle.reply(msg.id, ms);
    },
    closeStdin() { proc.stdin.end(); },
    kill(sig = 'SIGTERM') { proc.kill(sig); },
    exited(ms = 5000) { return waitExit(proc, ms); },
  };
  return handle;
}

/** Asserts-friendly check: every stdout line is one complete JSON-RPC message. Returns the bad lines. */
export function nonJsonRpcLines(lines) {
  return lines.filter((l) => {
    try {
      const m = JSON.parse(l);
      return !(m && typeof m === 'object' && !Array.isArray(m) && m.jsonrpc === '2.0');
    } catch {
      return true;
    }
  });
}

// ---------------------------------------------------------------------------
// Raw message builders

let nextId = 1;
/** A fresh numeric id, unique within the test process. */
export const freshId = () => nextId++;

export const LEGACY_VERSION = '2025-11-25';
export const MODERN_VERSION = '2026-07-28';

export function initializeRequest(id, protocolVersion = LEGACY_VERSION) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion,
      capabilities: {},
      clientInfo: { name: 'raw-stdio-test', version: '0.0.0' },
    },
  };
}

export const initializedNotification = () => ({ jsonrpc: '2.0', method: 'notifications/initialized' });

/** The 2026-07-28 per-request _meta envelope, as the spec's examples show it. */
export function modernMeta(protocolVersion = MODERN_VERSION) {
  return {
    'io.modelcontextprotocol/protocolVersion': protocolVersion,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-stdio-test', version: '0.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
}

/** A 2026-07-28 request: `params` plus the `_meta` envelope. */
export function modernRequest(id, method, params = {}) {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...modernMeta(), ...(params._meta ?? {}) } } };
}

/** Legacy handshake over a raw relay: initialize + initialized; returns the InitializeResult. */
export async function legacyHandshake(relay, ms = 5000) {
  const id = freshId();
  const reply = await relay.request(initializeRequest(id), ms);
  if (!reply.result) throw new Error(`initialize failed: ${JSON.stringify(reply)}`);
  relay.send(initializedNotification());
  return reply.result;
}

/** Text of the first content block of a tools/call result. */
export const toolText = (result) => result?.content?.find((c) => c.type === 'text')?.text;

// ---------------------------------------------------------------------------
// Fault-injection and hostile-input test bed (faults.test.mjs, hostile.test.mjs)

export const SDK_FAULT_SERVER = join(SERVERS_DIR, 'sdk-fault-server.mjs');
export const HOSTILE_AUTH_SERVER = join(SERVERS_DIR, 'hostile-auth-server.mjs');
export const HTTPS_MCP_SERVER = join(SERVERS_DIR, 'https-mcp-server.mjs');
export const CONNECT_PROXY = join(SERVERS_DIR, 'connect-proxy.mjs');
export const HOSTILE_BROWSER = join(HERE, 'hostile-browser.mjs');

/** The first 16 hex digits of a token's SHA-256, as hostile-auth-server.mjs logs it. */
export const tokenFingerprint = (token) => createHash('sha256').update(token).digest('hex').slice(0, 16);

// Variables that change where mcp-auth connects, whom it trusts or what it
// opens: taken out of the environment the fault and hostile tests give it,
// so the machine's own settings cannot change an outcome.
const AMBIENT_VARS = [
  'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'BROWSER', 'MCP_AUTH_BROWSER', 'MCP_AUTH_STORE', 'MCP_AUTH_CLIENT_SECRET',
  'DISPLAY', 'WAYLAND_DISPLAY',
];

/**
 * A clean environment for mcp-auth: process.env without AMBIENT_VARS, a
 * fresh HOME and XDG_STATE_HOME (for `--store file`), plus `extra`.
 * Returns {env, home, stateDir}.
 */
export function isolatedEnv(extra = {}) {
  const home = tempDir('mcp-auth-home-');
  const env = { ...process.env };
  for (const name of AMBIENT_VARS) delete env[name];
  Object.assign(env, { HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CONFIG_HOME: join(home, 'config') }, extra);
  return { env, home, stateDir: env.XDG_STATE_HOME };
}

/**
 * Environment for an OAuth test with the file store: isolatedEnv() plus a
 * browser (`browser`, default the scripted one) that appends one line per
 * opening to its log. Returns {env, home, browserLog, openings()}.
 */
export function oauthEnv({ browser = SCRIPTED_BROWSER, extra = {} } = {}) {
  const dir = tempDir('mcp-auth-browser-');
  const browserLog = join(dir, 'browser.jsonl');
  const { env, home } = isolatedEnv({ MCP_AUTH_BROWSER: browser, TEST_BROWSER_LOG: browserLog, ...extra });
  return { env, home, browserLog, openings: () => readJsonLines(browserLog) };
}

/**
 * oauthEnv() with hostile-browser.mjs in `mode` as the browser; "record-only"
 * logs each opening at once and opens nothing (for "no browser" checks).
 */
export const hostileBrowserEnv = (mode) => oauthEnv({ browser: HOSTILE_BROWSER, extra: { HOSTILE_BROWSER_MODE: mode } });

/**
 * Runs mcp-auth (or any command) to completion like runCommand, but in a
 * fresh working directory with core dumps allowed (`ulimit -c unlimited`
 * where the hard limit permits), and reports the core files left there:
 * resolves {code, signal, stdout, stderr, timedOut, ms, cwd, cores}.
 */
export async function runCrashChecked(cmd, args, { env = process.env, timeoutMs = 30000, input } = {}) {
  const cwd = tempDir('mcp-auth-cwd-');
  const result = await runCommand('/bin/sh', ['-c', 'ulimit -c unlimited 2>/dev/null; exec "$0" "$@"', cmd, ...args],
    { env, timeoutMs, input, cwd });
  const cores = readdirSync(cwd).filter((f) => /^core/.test(f));
  return { ...result, cwd, cores };
}

/**
 * Starts tests/servers/hostile-auth-server.mjs with an event log, a request
 * log and --print-tokens. Returns the server handle plus `issuer` (for roles
 * both and as), `events(name?)`, `requests()` and `issued()` (the token texts
 * it handed out, read from its stdout).
 */
export async function startHostileAuthServer({ role = 'both', port = 0, issuer, keyFile, accessTokenTtl, misbehave = [], redirectTo, otherResource, tokenDelayMs, extraArgs = [] } = {}) {
  const dir = tempDir('hostile-auth-');
  const eventLog = join(dir, 'events.jsonl');
  const requestLog = join(dir, 'requests.jsonl');
  const args = ['--role', role, '--port', String(port), '--event-log', eventLog, '--request-log', requestLog, '--print-tokens'];
  if (issuer) args.push('--issuer', issuer);
  if (keyFile) args.push('--key-file', keyFile);
  if (accessTokenTtl) args.push('--access-token-ttl', String(accessTokenTtl));
  if (misbehave.length) args.push('--misbehave', misbehave.join(','));
  if (redirectTo) args.push('--redirect-to', redirectTo);
  if (otherResource) args.push('--other-resource', otherResource);
  if (tokenDelayMs) args.push('--token-delay-ms', String(tokenDelayMs));
  const srv = await startServer(HOSTILE_AUTH_SERVER, [...args, ...extraArgs]);
  const events = (name) => readJsonLines(eventLog).filter((e) => !name || e.event === name);
  const issuedLines = () => srv.stdout.lines.filter((l) => l.startsWith('ISSUED '));
  return {
    ...srv,
    issuer: role === 'rs' ? issuer : `http://127.0.0.1:${srv.port}`,
    eventLog,
    requestLog,
    events,
    requests: () => readJsonLines(requestLog),
    /**
     * Every token text it handed out. The ISSUED lines come through a pipe and
     * may trail the event log: this waits (up to 3 s) until there is one per
     * token or refresh event.
     */
    issued: async () => {
      const expected = () => events().filter((e) => e.event === 'token' || e.event === 'refresh').length;
      await waitUntil(() => issuedLines().length >= expected(), 3000, 'ISSUED lines for every token event').catch(() => {});
      return issuedLines().flatMap((l) => { const t = JSON.parse(l.slice(7)); return [t.access_token, t.refresh_token].filter(Boolean); });
    },
  };
}

/** Starts tests/servers/sdk-fault-server.mjs; `forgetSessions()` makes it drop every session. */
export async function startSdkFaultServer({ eventStore = false, retryMs, port = 0 } = {}) {
  const logFile = join(tempDir(), 'sdk-fault-requests.jsonl');
  const args = ['--port', String(port), '--request-log', logFile];
  if (eventStore) args.push('--event-store');
  if (retryMs !== undefined) args.push('--retry-ms', String(retryMs));
  const srv = await startServer(SDK_FAULT_SERVER, args);
  return {
    ...srv,
    logFile,
    log: () => readJsonLines(logFile),
    forgetSessions: async () => {
      const r = await fetch(`http://127.0.0.1:${srv.port}/control/forget-sessions`, { method: 'POST', signal: AbortSignal.timeout(5000) });
      return (await r.json()).forgotten;
    },
  };
}

/** Starts tests/servers/https-mcp-server.mjs with `cert`/`key` files; url is https://127.0.0.1:<port>/mcp. */
export async function startHttpsMcpServer({ cert, key }) {
  const logFile = join(tempDir(), 'https-requests.jsonl');
  const srv = await startServer(HTTPS_MCP_SERVER, ['--port', '0', '--cert', cert, '--key', key, '--request-log', logFile]);
  return { ...srv, url: `https://127.0.0.1:${srv.port}/mcp`, logFile, log: () => readJsonLines(logFile) };
}

/**
 * Starts tests/servers/connect-proxy.mjs; proxyUrl is http://127.0.0.1:<port>.
 * `loopbackNames`: host names it serves as 127.0.0.1 (named-hosts.mjs test names).
 */
export async function startConnectProxy({ loopbackNames = [] } = {}) {
  const logFile = join(tempDir(), 'proxy-requests.jsonl');
  const extra = loopbackNames.length ? ['--loopback-name', loopbackNames.join(',')] : [];
  const srv = await startServer(CONNECT_PROXY, ['--port', '0', '--request-log', logFile, ...extra]);
  return { ...srv, proxyUrl: `http://127.0.0.1:${srv.port}`, logFile, log: () => readJsonLines(logFile) };
}

/**
 * A test PKI made with the openssl CLI in a fresh temporary directory: a CA
 * (ca.pem), a server certificate it signed for 127.0.0.1 and localhost
 * (server.pem, server.key), and a self-signed certificate for the same names
 * (self.pem, self.key). P-256 keys, valid for two days. Returns the paths.
 */
export async function makeTestPki() {
  const dir = tempDir('mcp-auth-pki-');
  const p = (name) => join(dir, name);
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
  writeFileSync(p('server.ext'), `${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const steps = [
    ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=mcp-auth test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1'],
    ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-out', p('server.pem'), '-days', '2', '-extfile', p('server.ext')],
    ['req', '-x509', ...ec, '-keyout', p('self.key'), '-out', p('self.pem'), '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', san, '-addext', 'basicConstraints=critical,CA:FALSE'],
  ];
  for (const args of steps) {
    const r = await runCommand('openssl', args, { timeoutMs: 20000 });
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  }
  return { dir, caPem: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), selfCert: p('self.pem'), selfKey: p('self.key') };
}

/**
 * The sanitizer a binary was built with ('asan', 'tsan' or '' for none), from the runtime's
 * symbol names in the file (packaging/hardening.sh runs every suite with such builds).
 */
export function sanitizerOf(binPath) {
  const bytes = readFileSync(binPath);
  if (bytes.includes('__asan_init')) return 'asan';
  if (bytes.includes('__tsan_init')) return 'tsan';
  return '';
}

/** Asserts that `msg` is a JSON-RPC error response (with `id` and `code` when given). */
export function assertRpcError(msg, { id, code } = {}, what = 'error response') {
  assert.equal(msg?.jsonrpc, '2.0', `${what}: jsonrpc field in ${JSON.stringify(msg)?.slice(0, 300)}`);
  assert.ok(msg.error && typeof msg.error === 'object', `${what}: expected an error, got ${JSON.stringify(msg).slice(0, 300)}`);
  assert.equal(msg.result, undefined, `${what}: must not carry a result`);
  if (id !== undefined) assert.deepEqual(msg.id, id, `${what}: id`);
  if (code !== undefined) assert.equal(msg.error.code, code, `${what}: code (message: ${msg.error.message})`);
  assert.equal(typeof msg.error.message, 'string', `${what}: message`);
}

/** Asserts that none of `secrets` (nor the last 40 characters of one) appears in `texts`. */
export function assertNoSecrets(texts, secrets, what = 'output') {
  const all = texts.join('\n');
  for (const secret of secrets.filter(Boolean)) {
    assert.ok(!all.includes(secret), `${what} contains a token (${secret.slice(0, 12)}…)`);
    if (secret.length > 40) assert.ok(!all.includes(secret.slice(-40)), `${what} contains the end of a token`);
  }
}

/**
 * Asserts that a finished command (runCrashChecked) ended on its own, in
 * bounded time, without a crash: no timeout, no signal, exit code < 128, no
 * core file; and, with `failed`, with a non-zero exit code and something on
 * stderr.
 */
export function assertCleanEnd(r, { failed = false, what = 'mcp-auth' } = {}) {
  const tail = `\nstdout: ${r.stdout.slice(-800)}\nstderr: ${r.stderr.slice(-1500)}`;
  assert.ok(!r.timedOut, `${what} did not finish in time (killed after ${r.ms} ms)${tail}`);
  assert.equal(r.signal, null, `${what} died of ${r.signal}${tail}`);
  assert.ok(r.code !== null && r.code < 128, `${what} exit code ${r.code}${tail}`);
  assert.deepEqual(r.cores ?? [], [], `${what} left core files`);
  if (failed) {
    assert.notEqual(r.code, 0, `${what} should fail${tail}`);
    assert.ok(r.stderr.trim().length > 0, `${what} failed without a message on stderr`);
  }
}

/** Prints what a fault or hostile case produced (`OBSERVED <label>: <text>`), for FAULTS.md and bug reports. */
export function observe(label, text) {
  const line = String(text ?? '').trim().split('\n').filter((l) => !/warning: tokens are kept unencrypted/.test(l)).join(' | ');
  console.log(`OBSERVED ${label}: ${line.slice(0, 600)}`);
}
