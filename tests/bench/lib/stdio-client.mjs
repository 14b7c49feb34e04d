// An MCP host as far as a stdio proxy can tell: spawns the proxy, writes
// JSON-RPC lines to its stdin and reads newline-delimited replies from its
// stdout. Keeps, for every id it sent, how many replies carried that id, so a
// scenario can check that each id was answered exactly once.

import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { now, sleep } from './util.mjs';

const NL = 0x0a;

export class StdioClient {
  /**
   * @param {string} command
   * @param {string[]} args
   * @param {{env?: object, cwd?: string, stderrFile?: string}} options
   */
  constructor(command, args, { env, cwd, stderrFile } = {}) {
    this.command = command;
    this.args = args;
    this.env = env;
    this.cwd = cwd;
    this.stderrFile = stderrFile;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, sentAt}
    this.answers = new Map(); // id -> number of replies seen
    this.unexpected = []; // replies whose id was never sent
    this.parseErrors = 0;
    this.serverRequests = 0;
    this.chunks = [];
    this.exit = null;
  }

  /** Spawns the proxy; returns the time (performance.now) just before the spawn. */
  start() {
    const errFd = this.stderrFile ? openSync(this.stderrFile, 'a') : 'ignore';
    const t0 = now();
    this.proc = spawn(this.command, this.args, {
      stdio: ['pipe', 'pipe', errFd],
      env: this.env ?? process.env,
      cwd: this.cwd,
    });
    if (typeof errFd === 'number') closeSync(errFd);
    this.pid = this.proc.pid;
    this.proc.stdout.on('data', (chunk) => this.onData(chunk));
    this.proc.stdin.on('error', () => {}); // a proxy that died shows up as missing replies
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const p of this.pending.values()) p.reject?.(new Error(`proxy exited (${code ?? signal})`));
        this.pending.clear();
        resolve(this.exit);
      });
    });
    this.proc.once('error', (err) => { this.spawnError = err; });
    return t0;
  }

  onData(chunk) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) break;
      let line;
      if (this.chunks.length) {
        this.chunks.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.chunks);
        this.chunks = [];
      } else {
        line = chunk.subarray(start, nl);
      }
      start = nl + 1;
      if (line.length) this.onLine(line);
    }
    if (start < chunk.length) this.chunks.push(chunk.subarray(start));
  }

  onLine(line) {
    const at = now();
    let msg;
    try {
      msg = JSON.parse(line.toString('utf8'));
    } catch {
      this.parseErrors++;
      return;
    }
    if (typeof msg?.method === 'string') {
      if ('id' in msg) {
        // A server→client request (ping, roots, ...): answer it so the server never waits.
        this.serverRequests++;
        this.write({ jsonrpc: '2.0', id: msg.id, result: {} });
      }
      return;
    }
    const id = msg?.id;
    if (!this.answers.has(id)) {
      this.unexpected.push(id);
      return;
    }
    this.answers.set(id, this.answers.get(id) + 1);
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      p.resolve({ msg, at, sentAt: p.sentAt, ms: at - p.sentAt });
    }
  }

  write(obj) {
    this.proc.stdin.write(JSON.stringify(obj) + '\n');
  }

  /** Builds a request with a fresh id and registers it; returns {id, line, promise}. */
  prepare(method, params) {
    const id = this.nextId++;
    const line = JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }) + '\n';
    this.answers.set(id, 0);
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    promise.catch(() => {}); // a scenario that stopped waiting must not crash the run
    const entry = { resolve, reject, sentAt: NaN };
    this.pending.set(id, entry);
    return { id, line, promise, entry };
  }

  /** Sends one request; resolves {msg, at, sentAt, ms} when its reply arrives. */
  request(method, params) {
    const r = this.prepare(method, params);
    r.entry.sentAt = now();
    this.proc.stdin.write(r.line);
    return r.promise;
  }

  /** Writes many prepared requests in one write; every entry's sentAt is the write time. */
  pipeline(prepared) {
    const data = prepared.map((r) => r.line).join('');
    const t = now();
    for (const r of prepared) r.entry.sentAt = t;
    this.proc.stdin.write(data);
    return t;
  }

  notify(method, params) {
    this.write({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Closes stdin (the end of the session for a stdio server), then TERM, then KILL. */
  async close(graceMs = 3000) {
    if (!this.proc) return null;
    if (this.exit) return { ...this.exit, how: 'already exited' };
    this.proc.stdin.end();
    let how = 'stdin EOF';
    await Promise.race([this.exited, sleep(graceMs)]);
    if (!this.exit) {
      how = 'SIGTERM';
      this.proc.kill('SIGTERM');
      await Promise.race([this.exited, sleep(graceMs)]);
    }
    if (!this.exit) {
      how = 'SIGKILL';
      this.proc.kill('SIGKILL');
      await this.exited;
    }
    return { ...this.exit, how };
  }

  /** Forgets the pending entries (after a timeout) so later answers count as late, not lost. */
  abandon() {
    for (const p of this.pending.values()) p.reject?.(new Error('abandoned'));
    this.pending.clear();
  }
}
