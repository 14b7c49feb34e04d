// Starts the SDK test server (tests/servers/mcp-server.mjs) with the
// connection counter preloaded, and keeps the counts: connections opened so
// far, open now, and the most open at once since the last window() call.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { sleep, withTimeout } from './util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
export const SERVER_SCRIPT = join(root, 'tests', 'servers', 'mcp-server.mjs');
const COUNTER = join(here, 'count-connections.mjs');

export class TestServer {
  constructor(mode) {
    this.mode = mode;
    this.opened = 0;
    this.open = 0;
    this.maxOpen = 0;
    this.stderrTail = [];
    // Per-client accounting: a connection belongs to whoever was `owner` when it opened.
    this.owner = null;
    this.ownerOf = new Map(); // remote port -> owner
    this.openBy = new Map();
    this.maxOpenBy = new Map();
  }

  /** The most connections `owner`'s were open at once, so far. */
  maxOpenOf(owner) {
    return this.maxOpenBy.get(owner) ?? 0;
  }

  async start() {
    this.proc = spawn(process.execPath, ['--import', COUNTER, SERVER_SCRIPT, '--port', '0', '--mode', this.mode, '--quiet'], {
      stdio: ['pipe', 'pipe', 'pipe'], // stdin: its end stops the server (count-connections.mjs)
    });
    createInterface({ input: this.proc.stderr }).on('line', (line) => {
      if (line.startsWith('BENCH-CONN open ')) {
        this.opened++;
        this.open++;
        this.maxOpen = Math.max(this.maxOpen, this.open);
        const owner = this.owner;
        this.ownerOf.set(line.slice(16), owner);
        const n = (this.openBy.get(owner) ?? 0) + 1;
        this.openBy.set(owner, n);
        if (n > (this.maxOpenBy.get(owner) ?? 0)) this.maxOpenBy.set(owner, n);
      } else if (line.startsWith('BENCH-CONN close ')) {
        this.open--;
        const port = line.slice(17);
        const owner = this.ownerOf.get(port);
        this.ownerOf.delete(port);
        this.openBy.set(owner, (this.openBy.get(owner) ?? 1) - 1);
      } else if (line === 'BENCH-IDLE-CLOSED') {
        this.idleClosed?.();
      } else {
        this.stderrTail.push(line);
        if (this.stderrTail.length > 50) this.stderrTail.shift();
      }
    });
    const listening = new Promise((resolve, reject) => {
      createInterface({ input: this.proc.stdout }).on('line', (line) => {
        const m = /^LISTENING (\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
      });
      this.proc.once('exit', (code) => reject(new Error(`test server exited (${code}) before listening: ${this.stderrTail.join('\n')}`)));
    });
    this.port = await withTimeout(listening, 30_000, 'test server did not print LISTENING');
    this.url = `http://127.0.0.1:${this.port}/mcp`;
    return this;
  }

  /** Starts a counting window: returns a function giving {opened, maxOpen} since then. */
  async window() {
    await sleep(50); // let the counter lines of earlier work arrive
    const openedAtStart = this.opened;
    this.maxOpen = this.open;
    return async () => {
      await sleep(100); // the counter lines travel on another pipe than the replies
      return { opened: this.opened - openedAtStart, maxOpen: this.maxOpen, openNow: this.open };
    };
  }

  /**
   * Closes every idle keep-alive connection (what the server's keep-alive
   * timeout does after a quiet spell), so the next requests find cold
   * connections; resolves once the server did it and the close lines came in.
   */
  async closeIdle() {
    const done = new Promise((resolve) => { this.idleClosed = resolve; });
    this.proc.stdin.write('close-idle\n');
    await withTimeout(done, 5000, 'the test server did not close its idle connections');
    this.idleClosed = null;
    await sleep(100); // the close lines, and the clients seeing the FIN
  }

  /** Waits (bounded) until at most `n` connections are open. */
  async settle(n = 0, ms = 3000) {
    const deadline = Date.now() + ms;
    while (this.open > n && Date.now() < deadline) await sleep(20);
    return this.open;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}
