#!/usr/bin/env node
// The benchmark: mcp-auth and mcp-remote side by side, in the same run,
// against the same local MCP server (tests/servers/mcp-server.mjs, SDK v1, in
// JSON and in SSE response modes), with a direct keep-alive Streamable HTTP
// client as the zero-overhead floor. Run it through run.sh, which installs
// what it needs first.
//
//   node bench.mjs [--smoke] [--modes json,sse]
//                  [--clients mcp-auth,mcp-auth-hostenv,mcp-remote,direct,direct-node]
//                  [--scenarios cold,seq,pipe,conc,cconc,large] [--no-update]
//                  [--wrap-mcp-auth "valgrind --tool=callgrind ..."]
//
// Correctness checks (every id answered exactly once, 5 MB intact, ...) are
// counted and decide the exit status; timings never do. The last line is
// `N passed, N failed`.

import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

import { StdioClient } from './lib/stdio-client.mjs';
import { DirectClient } from './lib/direct-client.mjs';
import { RssSampler } from './lib/rss-sampler.mjs';
import { TestServer } from './lib/server.mjs';
import { now, sleep, withTimeout, percentile, median, patternText, requestText, fmtMs } from './lib/util.mjs';
import { buildReport, writePlot, updateResultsDoc } from './lib/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

const { values: opt } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    modes: { type: 'string', default: 'json,sse' },
    clients: { type: 'string', default: 'mcp-auth,mcp-auth-hostenv,mcp-remote,direct,direct-node' },
    scenarios: { type: 'string', default: 'cold,seq,pipe,conc,cconc,large' },
    'no-update': { type: 'boolean', default: false },
    'wrap-mcp-auth': { type: 'string' },
    'direct-impl': { type: 'string', default: 'raw' },
    out: { type: 'string', default: join(here, 'results') },
  },
});

const SMOKE = opt.smoke;
const CFG = SMOKE
  ? { coldRuns: 2, npx: false, idleMs: 300, seqWarmup: 5, seqRounds: 1, seqCallsPerRound: 20, pipeRounds: 1, pipeCalls: 50, concRounds: 1, concCalls: 5, concMs: 200, largeRounds: 1, bigBytes: 5 * 1024 * 1024 }
  : { coldRuns: 20, npx: true, idleMs: 1000, seqWarmup: 200, seqRounds: 4, seqCallsPerRound: 500, pipeRounds: 5, pipeCalls: 5000, concRounds: 3, concCalls: 50, concMs: 200, largeRounds: 3, bigBytes: 5 * 1024 * 1024 };
const MODES = opt.modes.split(',').filter(Boolean);
const CLIENTS = opt.clients.split(',').filter(Boolean);
const SCENARIOS = new Set(opt.scenarios.split(',').filter(Boolean));
const OUT = opt.out;
const LOGS = join(OUT, 'logs');
const AUTH_HEADER = 'Authorization: Bearer x'; // the server ignores it; it turns mcp-auth's OAuth off
const MAX_CONNECTIONS = 64; // mcp-auth's default --max-connections, and the direct client's pool

const MCP_AUTH = process.env.MCP_AUTH_BIN ?? join(root, 'build', 'mcp-auth');
const ALL_SCENARIOS = ['cold', 'seq', 'pipe', 'conc', 'cconc', 'large'];

// The second mcp-auth configuration, "mcp-auth-hostenv": what a new user gets from a
// desktop host on a machine without a Secret Service (headless box, WSL, container).
// Hosts built on the MCP SDK pass only these variables to a stdio server; no
// DBUS_SESSION_BUS_ADDRESS, no XDG_RUNTIME_DIR. No --header: OAuth stays on, and the
// server needs no token, so mcp-auth relays without one while its keychain is unusable.
const HOST_ENV_KEYS = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'];
function hostEnv() {
  const home = join(OUT, 'hostenv-home'); // fresh: no login, no state from earlier runs
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const user = os.userInfo().username;
  const base = { HOME: home, LOGNAME: user, PATH: '/usr/local/bin:/usr/bin:/bin', SHELL: '/bin/sh', TERM: 'dumb', USER: user };
  return Object.fromEntries(HOST_ENV_KEYS.map((k) => [k, k === 'HOME' ? home : process.env[k] ?? base[k]]));
}

/** What a keychain lookup can find on this machine with the host's environment. */
function secretServiceState() {
  const uid = os.userInfo().uid;
  const bus = `/run/user/${uid}/bus`;
  return { busSocket: existsSync(bus) ? bus : null, benchHasDbusAddress: !!process.env.DBUS_SESSION_BUS_ADDRESS };
}

// CPU time (user + system, all threads) a process has used so far, in ms, from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks).
const CLK_TCK = Number(sh('getconf', ['CLK_TCK'])) || 100;
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
const MCP_REMOTE = join(here, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');

// ---------------------------------------------------------------------------
// Correctness checks

const checks = [];
function check(name, ok, detail = '') {
  checks.push({ name, ok: !!ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  return !!ok;
}

const info = (msg) => console.log(`     ${msg}`);

// ---------------------------------------------------------------------------
// The proxies under test

function proxyCommand(name, url, { npx = false } = {}) {
  if (name === 'mcp-auth' || name === 'mcp-auth-hostenv') {
    // The URL goes first: `--header` takes every value that follows it.
    const cmd = name === 'mcp-auth' ? [MCP_AUTH, url, '--header', AUTH_HEADER] : [MCP_AUTH, url];
    const env = name === 'mcp-auth' ? process.env : hostEnv();
    if (opt['wrap-mcp-auth']) {
      const wrap = opt['wrap-mcp-auth'].split(' ').filter(Boolean);
      return { command: wrap[0], args: [...wrap.slice(1), ...cmd], env: { ...env, PATH: process.env.PATH } };
    }
    return { command: cmd[0], args: cmd.slice(1), env };
  }
  const env = { ...process.env, MCP_REMOTE_CONFIG_DIR: join(OUT, 'mcp-remote-config') };
  const args = [url, '--header', AUTH_HEADER, '--allow-http'];
  if (npx) return { command: 'npx', args: ['--no', 'mcp-remote', ...args], env, cwd: here };
  return { command: process.execPath, args: [MCP_REMOTE, ...args], env }; // node directly, not npx
}

const live = new Set();
function newProxy(name, url, label, options) {
  const { command, args, env, cwd } = proxyCommand(name, url, options);
  const c = new StdioClient(command, args, { env, cwd, stderrFile: join(LOGS, `${label}.stderr.log`) });
  live.add(c);
  return c;
}
async function closeProxy(c) {
  const r = await c.close();
  live.delete(c);
  return r;
}

const INIT_PARAMS = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-auth-bench', version: '1' } };

function textOf(msg) {
  return msg?.result?.content?.[0]?.text;
}

// ---------------------------------------------------------------------------
// Cold start: spawn → initialize reply → tools/list reply

async function coldStdio(name, url, label, options) {
  const c = newProxy(name, url, label, options);
  try {
    const t0 = c.start();
    const init = await withTimeout(c.request('initialize', INIT_PARAMS), 30_000, `${label}: initialize`);
    if (!init.msg.result) throw new Error(`initialize: ${JSON.stringify(init.msg.error)}`);
    c.notify('notifications/initialized');
    const list = await withTimeout(c.request('tools/list'), 30_000, `${label}: tools/list`);
    const tools = (list.msg.result?.tools ?? []).map((t) => t.name);
    if (!tools.includes('echo')) throw new Error(`tools/list without echo: ${JSON.stringify(list.msg).slice(0, 200)}`);
    return { initMs: init.at - t0, listMs: list.at - t0 };
  } finally {
    await closeProxy(c);
  }
}

async function coldDirect(url) {
  const d = new DirectClient(url, { headers: { authorization: 'Bearer x' }, impl: opt['direct-impl'] });
  try {
    const t0 = now();
    await d.initialize();
    const tInit = now();
    await d.notify('notifications/initialized');
    const list = await d.request('tools/list');
    if (!(list.msg.result?.tools ?? []).some((t) => t.name === 'echo')) throw new Error('tools/list without echo');
    return { initMs: tInit - t0, listMs: list.at - t0 };
  } finally {
    await d.close();
  }
}

async function coldStart(mode, server) {
  const out = {};
  const runs = {};
  const errors = {};
  const coldClients = CLIENTS.filter((n) => n !== 'direct-node');
  for (const name of coldClients) { runs[name] = []; errors[name] = []; }
  for (let i = 0; i < CFG.coldRuns; i++) {
    // Alternate the order so neither proxy always runs right after the other.
    const order = coldClients.filter((n) => n !== 'direct');
    if (i % 2) order.reverse();
    for (const name of order) {
      try {
        runs[name].push(await coldStdio(name, server.url, `${mode}-${name}-cold-${i}`));
      } catch (err) {
        errors[name].push(err.message);
      }
    }
    if (CLIENTS.includes('direct')) {
      try { runs.direct.push(await coldDirect(server.url)); } catch (err) { errors.direct.push(err.message); }
    }
  }
  for (const name of coldClients) {
    const r = runs[name];
    out[name] = {
      runs: r.length,
      initMs: r.map((x) => x.initMs),
      listMs: r.map((x) => x.listMs),
      initMedian: median(r.map((x) => x.initMs)),
      initP90: percentile(r.map((x) => x.initMs), 90),
      listMedian: median(r.map((x) => x.listMs)),
      listP90: percentile(r.map((x) => x.listMs), 90),
    };
    check(`${mode} ${name}: cold start, ${CFG.coldRuns} runs answered initialize and tools/list`,
      errors[name].length === 0, errors[name][0] ?? '');
    info(`${mode} ${name}: spawn→initialize median ${fmtMs(out[name].initMedian)} ms (p90 ${fmtMs(out[name].initP90)}), →tools/list median ${fmtMs(out[name].listMedian)} ms (p90 ${fmtMs(out[name].listP90)})`);
  }
  if (CFG.npx && CLIENTS.includes('mcp-remote')) {
    try {
      const r = await coldStdio('mcp-remote', server.url, `${mode}-mcp-remote-npx`, { npx: true });
      out['mcp-remote-npx'] = { runs: 1, initMs: [r.initMs], listMs: [r.listMs], initMedian: r.initMs, listMedian: r.listMs };
      info(`${mode} mcp-remote via npx (once): spawn→initialize ${fmtMs(r.initMs)} ms, →tools/list ${fmtMs(r.listMs)} ms`);
    } catch (err) {
      info(`${mode} mcp-remote via npx failed (not counted): ${err.message}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Warm scenarios on one session per client

/** What the scenarios need from a client, the same for a stdio proxy and the direct client. */
class StdioSession {
  constructor(client) { this.c = client; this.kind = 'stdio'; }
  /** The proxy's CPU time so far (ms); under --wrap-mcp-auth, the wrapper's. */
  cpuMs() { return cpuMs(this.c.pid); }
  async init() {
    const init = await withTimeout(this.c.request('initialize', INIT_PARAMS), 30_000, 'initialize');
    if (!init.msg.result) throw new Error(`initialize: ${JSON.stringify(init.msg.error)}`);
    this.c.notify('notifications/initialized');
    const list = await withTimeout(this.c.request('tools/list'), 30_000, 'tools/list');
    return (list.msg.result?.tools ?? []).map((t) => t.name);
  }
  call(name, args, ms = 60_000) {
    return withTimeout(this.c.request('tools/call', { name, arguments: args }), ms, `tools/call ${name}`);
  }
  /** Writes all `n` calls at once; resolves when all are answered or `ms` passed. */
  async burst(calls, ms) {
    const prepared = calls.map(({ name, args }) => this.c.prepare('tools/call', { name, arguments: args }));
    const t = this.c.pipeline(prepared);
    const results = await settleAll(prepared.map((p) => p.promise), ms, t);
    return { results, ids: prepared.map((p) => p.id), answers: this.c.answers, unexpected: this.c.unexpected, abandon: () => this.c.abandon() };
  }
}

class DirectSession {
  constructor(url, impl) {
    this.d = new DirectClient(url, { headers: { authorization: 'Bearer x' }, maxSockets: MAX_CONNECTIONS, impl });
    this.kind = 'direct';
  }
  cpuMs() { return NaN; } // in the benchmark's own process: not separable
  async init() {
    await this.d.initialize();
    await this.d.notify('notifications/initialized');
    const list = await this.d.request('tools/list');
    return (list.msg.result?.tools ?? []).map((t) => t.name);
  }
  call(name, args, ms = 60_000) {
    return withTimeout(this.d.request('tools/call', { name, arguments: args }), ms, `tools/call ${name}`);
  }
  async burst(calls, ms) {
    const t = now();
    const ids = [];
    const promises = calls.map(({ name, args }) => {
      const p = this.d.request('tools/call', { name, arguments: args });
      ids.push(this.d.nextId - 1);
      p.catch(() => {});
      return p;
    });
    const results = await settleAll(promises, ms, t);
    return { results, ids, answers: this.d.answers, unexpected: this.d.unexpected, abandon: () => {} };
  }
  close() { return this.d.close(); }
}

/** Waits for every promise (bounded by `ms`); returns [{ok, value|error, at}] and the wall time from `t`. */
async function settleAll(promises, ms, t) {
  const out = new Array(promises.length);
  let left = promises.length;
  let finish;
  const all = new Promise((resolve) => { finish = resolve; if (!left) resolve(); });
  promises.forEach((p, i) => p.then(
    (value) => { out[i] = { ok: true, value, at: now() }; if (--left === 0) finish(); },
    (error) => { out[i] = { ok: false, error, at: now() }; if (--left === 0) finish(); },
  ));
  await Promise.race([all, sleep(ms)]);
  const last = Math.max(t, ...out.filter(Boolean).map((r) => r.at));
  return { items: out, wallMs: last - t, complete: left === 0 };
}

/**
 * Checks that every id in `burst.ids` was answered exactly once, correctly
 * (`expect(i, msg)`), and that no reply came for an id never sent.
 */
function judgeBurst(burst, expect) {
  const { items } = burst.results;
  let missing = 0;
  let wrong = 0;
  let duplicated = 0;
  let firstProblem = '';
  for (let i = 0; i < burst.ids.length; i++) {
    const r = items[i]; // a hole: never settled
    const id = burst.ids[i];
    const count = burst.answers.get(id) ?? 0;
    if (!r?.ok || count === 0) { missing++; firstProblem ||= `id ${id}: ${r?.error?.message ?? 'no reply'}`; continue; }
    if (count > 1) { duplicated++; firstProblem ||= `id ${id} answered ${count} times`; }
    if (!expect(i, r.value.msg)) { wrong++; firstProblem ||= `id ${id}: unexpected reply ${JSON.stringify(r.value.msg).slice(0, 200)}`; }
  }
  return { missing, wrong, duplicated, unexpected: burst.unexpected.length, firstProblem };
}

/**
 * The warm scenarios. Every client keeps one session open for the whole
 * phase, and the scenarios run in rounds that take turns between the clients
 * (the order rotates every round), so slow drift in the server (JIT, garbage,
 * sessions) does not favour whichever client happens to run first.
 */
async function warmPhase(mode, server) {
  const names = ['direct', 'direct-node', 'mcp-auth', 'mcp-auth-hostenv', 'mcp-remote'].filter((n) => CLIENTS.includes(n));
  if (!SMOKE) await warmUpServer(server);

  const S = {};
  for (const name of names) {
    const label = `${mode}-${name}`;
    const s = { name, label, r: { name, opened: 0, phasePeakKiB: {} }, alive: false };
    S[name] = s;
    const win = await server.window();
    server.owner = name;
    try {
      if (name === 'direct') s.session = new DirectSession(server.url, opt['direct-impl']);
      else if (name === 'direct-node') s.session = new DirectSession(server.url, 'node-http');
      else {
        s.proxy = newProxy(name, server.url, `${label}-warm`);
        s.proxy.start();
        s.session = new StdioSession(s.proxy);
      }
      const tools = await s.session.init();
      s.alive = check(`${label}: initialize and tools/list (echo, slow, big, size listed)`,
        ['echo', 'slow', 'big', 'size'].every((t) => tools.includes(t)), tools.join(','));
      // Sampling starts once the proxy answered (exec is long done, so the
      // pre-exec copy of the benchmark never counts) and runs to the end.
      if (s.proxy) s.sampler = new RssSampler(s.proxy.pid, 10);
    } catch (err) {
      check(`${label}: initialize and tools/list (echo, slow, big, size listed)`, false, err.message);
    }
    s.r.opened += (await win()).opened;
    server.owner = null;
  }

  await sleep(CFG.idleMs);
  for (const s of Object.values(S)) {
    if (!s.sampler) continue;
    const idle = await s.sampler.now();
    s.r.idleRssKiB = idle.kib;
    s.r.idleAnonKiB = idle.anonKiB;
    s.r.idlePids = idle.pids.length;
    await s.sampler.peak(); // the phases' peaks start here
    info(`${s.label}: idle RSS ${(idle.kib / 1024).toFixed(1)} MiB (anonymous ${(idle.anonKiB / 1024).toFixed(1)}) over ${idle.pids.length} process(es)`);
  }

  // mcp-remote's pipelined rounds come after everyone else's: it opens one
  // connection per request and keeps thousands of them open afterwards, which
  // slows the shared server down for whoever comes next. The targets come
  // before that; only the 5 MiB timings run after it.
  const scenarios = [
    ['seq', CFG.seqRounds, seqRound, seqSummary],
    ['conc', CFG.concRounds, concRound, concSummary],
    ['cconc', CFG.concRounds, (s, round) => coldConcRound(server, s, round), cconcSummary],
    ['pipe', CFG.pipeRounds, pipeRound, pipeSummary, ['mcp-remote']],
    ['large', CFG.largeRounds, largeRound, largeSummary],
  ].filter(([key]) => SCENARIOS.has(key));

  for (const [key, rounds, runRound, summarize, last = []] of scenarios) {
    const data = Object.fromEntries(names.map((n) => [n, []]));
    const turns = [];
    const rotating = names.filter((n) => !last.includes(n));
    for (let round = 0; round < rounds; round++) {
      const k = round % rotating.length;
      turns.push(...rotating.slice(k).concat(rotating.slice(0, k)).map((name) => [name, round]));
    }
    for (const name of names.filter((n) => last.includes(n))) {
      for (let round = 0; round < rounds; round++) turns.push([name, round]);
    }
    for (const [name, round] of turns) {
      const s = S[name];
      if (!s.alive) continue;
      const win = await server.window();
      server.owner = name;
      try {
        data[name].push(await runRound(s, round));
      } catch (err) {
        data[name].push({ error: err.message });
      }
      const c = await win();
      server.owner = null;
      data[name].at(-1).opened = c.opened;
      s.r.opened += c.opened;
      await sleep(SMOKE ? 20 : 300); // let the last client's after-work (GC, closing) pass
    }
    for (const name of names) {
      const s = S[name];
      if (!s.alive && !data[name].length) continue;
      s.r[key] = summarize(s.label, data[name]);
      if (s.sampler) {
        const p = await s.sampler.peak();
        s.r.phasePeakKiB[key] = p.peakKiB;
      }
    }
  }

  for (const s of Object.values(S)) {
    if (s.sampler) {
      const st = await s.sampler.stop();
      s.r.peakRssKiB = Math.max(st.peakKiB, st.rootHwmKiB);
      s.r.peakSampledKiB = st.peakKiB;
      s.r.peakAnonKiB = st.peakAnonKiB;
      s.r.rootHwmKiB = st.rootHwmKiB;
      s.r.rssSamples = st.samples;
      const phases = Object.entries(s.r.phasePeakKiB).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}`).join(', ');
      info(`${s.label}: peak RSS ${(s.r.peakRssKiB / 1024).toFixed(1)} MiB (sampled tree ${(st.peakKiB / 1024).toFixed(1)}, root VmHWM ${(st.rootHwmKiB / 1024).toFixed(1)}; per phase: ${phases})`);
    }
    const win = await server.window();
    server.owner = s.name;
    s.r.requests = s.proxy ? s.proxy.nextId - 1 : s.session?.d?.nextId - 1;
    if (s.proxy) s.r.exit = await closeProxy(s.proxy);
    else if (s.session) await s.session.close();
    s.r.opened += (await win()).opened;
    server.owner = null;
    s.r.maxOpen = server.maxOpenOf(s.name);
    info(`${s.label}: TCP connections over the whole session: ${s.r.opened} opened, at most ${s.r.maxOpen} open at once${s.proxy ? `; ended by ${s.r.exit?.how}` : ''}`);
  }
  await server.settle(0, 5000);
  return Object.fromEntries(Object.values(S).map((s) => [s.name, s.r]));
}

/** Not measured: brings the server's JIT and heap to a steady state before anything is timed. */
async function warmUpServer(server) {
  const s = new DirectSession(server.url, 'raw');
  try {
    await s.init();
    for (let i = 0; i < 500; i++) await s.call('echo', { text: `warm-${i}` });
    for (let k = 0; k < 2; k++) {
      await s.burst(Array.from({ length: CFG.pipeCalls }, (_, i) => ({ name: 'echo', args: { text: `w${i}` } })), 120_000);
    }
    await s.call('big', { bytes: CFG.bigBytes });
    await s.call('size', { data: requestText(CFG.bigBytes) });
  } finally {
    await s.close();
  }
  await server.settle(0, 3000);
}

function failures(rounds) {
  return rounds.filter((r) => r.error).map((r) => r.error);
}

async function seqRound(s, round) {
  const warm = round === 0 ? CFG.seqWarmup : 0;
  const lat = [];
  let wrong = 0;
  let cpu0 = NaN;
  for (let i = 0; i < warm + CFG.seqCallsPerRound; i++) {
    if (i === warm) cpu0 = s.session.cpuMs();
    const text = `seq-${round}-${i}`;
    const { msg, ms } = await s.session.call('echo', { text }, 30_000);
    if (textOf(msg) !== text) wrong++;
    if (i >= warm) lat.push(ms);
  }
  return { lat, wrong, cpuMs: s.session.cpuMs() - cpu0 };
}

/** The proxy's CPU per relayed call (request and reply) over the rounds, in ms; NaN for the in-process clients. */
function cpuPerCall(rounds, callsOf) {
  const ok = rounds.filter((r) => Number.isFinite(r.cpuMs));
  if (!ok.length) return NaN;
  return ok.reduce((a, r) => a + r.cpuMs, 0) / ok.reduce((a, r) => a + callsOf(r), 0);
}

function seqSummary(label, rounds) {
  const lat = rounds.flatMap((r) => r.lat ?? []);
  const wrong = rounds.reduce((a, r) => a + (r.wrong ?? 0), 0);
  const errs = failures(rounds);
  const want = CFG.seqRounds * CFG.seqCallsPerRound;
  check(`${label}: sequential, ${want} echo calls one at a time, answered correctly`,
    !errs.length && !wrong && lat.length === want, errs[0] ?? (wrong ? `${wrong} wrong replies` : ''));
  if (!lat.length) return { failed: true };
  const out = { calls: lat.length, p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), mean: lat.reduce((a, b) => a + b, 0) / lat.length,
    cpuPerCallMs: cpuPerCall(rounds, (r) => r.lat?.length ?? 0) };
  info(`${label}: sequential echo p50 ${out.p50.toFixed(3)} ms, p90 ${out.p90.toFixed(3)}, p99 ${out.p99.toFixed(3)} (${out.calls} calls)${Number.isFinite(out.cpuPerCallMs) ? `; proxy CPU ${(out.cpuPerCallMs * 1000).toFixed(0)} µs per call` : ''}`);
  return out;
}

async function pipeRound(s, round) {
  const n = CFG.pipeCalls;
  const calls = Array.from({ length: n }, (_, i) => ({ name: 'echo', args: { text: `pipe-${round}-${i}` } }));
  const cpu0 = s.session.cpuMs();
  const burst = await s.session.burst(calls, SMOKE ? 30_000 : 180_000);
  const cpuMs = s.session.cpuMs() - cpu0;
  const j = judgeBurst(burst, (i, msg) => textOf(msg) === `pipe-${round}-${i}`);
  if (!burst.results.complete) burst.abandon();
  return { wallMs: burst.results.wallMs, cpuMs, calls: n, ...j };
}

function pipeSummary(label, rounds) {
  const n = CFG.pipeCalls;
  const bad = rounds.filter((r) => r.error || r.missing || r.wrong || r.duplicated || r.unexpected);
  const first = bad[0];
  check(`${label}: pipelined, ${rounds.length} × ${n} calls written at once, every id answered exactly once`, !bad.length,
    first ? (first.error ?? `missing ${first.missing}, wrong ${first.wrong}, duplicated ${first.duplicated}, unknown ids ${first.unexpected}; ${first.firstProblem}`) : '');
  const walls = rounds.filter((r) => !r.error).map((r) => r.wallMs);
  const opened = rounds.map((r) => r.opened ?? 0);
  const out = {
    calls: n, rounds: rounds.length, walls, wallMs: median(walls), throughput: n / (median(walls) / 1000),
    connectionsPerRound: opened, connectionsOpened: Math.max(0, ...opened),
    cpuPerCallMs: cpuPerCall(rounds.filter((r) => !r.error), (r) => r.calls),
  };
  info(`${label}: pipelined ${n} calls: ${walls.map((w) => w.toFixed(0)).join(', ')} ms → median ${out.throughput.toFixed(0)} calls/s; TCP connections opened per round: ${opened.join(', ')}`);
  return out;
}

/** The concurrency burst on cold connections: the server first closes every idle keep-alive connection. */
async function coldConcRound(server, s, round) {
  await server.closeIdle();
  return concRound(s, round);
}

async function concRound(s, round) {
  const n = CFG.concCalls;
  const calls = Array.from({ length: n }, () => ({ name: 'slow', args: { ms: CFG.concMs } }));
  const burst = await s.session.burst(calls, 60_000);
  const j = judgeBurst(burst, (_, msg) => textOf(msg) === `slept ${CFG.concMs} ms`);
  if (!burst.results.complete) burst.abandon();
  return { wallMs: burst.results.wallMs, ...j };
}

function concSummary(label, rounds, what = 'warm') {
  const bad = rounds.filter((r) => r.error || r.missing || r.wrong || r.duplicated || r.unexpected);
  const first = bad[0];
  check(`${label}: ${CFG.concCalls} concurrent ${CFG.concMs} ms slow calls on ${what} connections (× ${rounds.length}), each answered once`, !bad.length,
    first ? (first.error ?? `missing ${first.missing}, wrong ${first.wrong}, duplicated ${first.duplicated}; ${first.firstProblem}`) : '');
  const walls = rounds.filter((r) => !r.error).map((r) => r.wallMs);
  const opened = rounds.map((r) => r.opened ?? 0);
  const out = { calls: CFG.concCalls, ms: CFG.concMs, reps: walls.length, walls, wallMs: median(walls), connectionsPerRound: opened };
  info(`${label}: ${CFG.concCalls} × slow ${CFG.concMs} ms on ${what} connections: wall ${fmtMs(out.wallMs)} ms (median of ${walls.map((w) => w.toFixed(0)).join(', ')}); TCP connections opened per round: ${opened.join(', ')}`);
  return out;
}

function cconcSummary(label, rounds) {
  return concSummary(label, rounds, 'cold');
}

async function largeRound(s) {
  const n = CFG.bigBytes;
  const out = { bigOk: false, sizeOk: false };
  try {
    const { msg, ms } = await s.session.call('big', { bytes: n }, 120_000);
    const text = textOf(msg);
    out.bigOk = text === patternText(n);
    if (!out.bigOk) out.bigProblem = typeof text === 'string' ? `got ${text.length} bytes, not the ${n} expected` : JSON.stringify(msg).slice(0, 200);
    out.bigMs = ms;
  } catch (err) { out.bigProblem = err.message; }
  try {
    const { msg, ms } = await s.session.call('size', { data: requestText(n) }, 120_000);
    out.sizeOk = textOf(msg) === String(n);
    if (!out.sizeOk) out.sizeProblem = `server counted ${JSON.stringify(textOf(msg) ?? msg).slice(0, 200)}`;
    out.sizeMs = ms;
  } catch (err) { out.sizeProblem = err.message; }
  return out;
}

function largeSummary(label, rounds) {
  const n = CFG.bigBytes;
  const mib = (n / 1048576).toFixed(0);
  const bigBad = rounds.find((r) => !r.bigOk);
  const sizeBad = rounds.find((r) => !r.sizeOk);
  check(`${label}: ${mib} MiB reply (big) intact, × ${rounds.length}`, !bigBad, bigBad ? (bigBad.error ?? bigBad.bigProblem) : '');
  check(`${label}: ${mib} MiB request (size) intact, × ${rounds.length}`, !sizeBad, sizeBad ? (sizeBad.error ?? sizeBad.sizeProblem) : '');
  const big = rounds.map((r) => r.bigMs).filter(Number.isFinite);
  const size = rounds.map((r) => r.sizeMs).filter(Number.isFinite);
  const out = { bytes: n, bigOk: !bigBad, sizeOk: !sizeBad, bigMs: median(big), sizeMs: median(size), bigRuns: big, sizeRuns: size };
  info(`${label}: ${mib} MiB reply ${fmtMs(out.bigMs)} ms, ${mib} MiB request ${fmtMs(out.sizeMs)} ms (medians of ${rounds.length})`);
  return out;
}

// ---------------------------------------------------------------------------
// The machine and the versions, for the results document

function sh(cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return 'n/a'; }
}
function readJson(path) {
  try { return JSON.parse(readFileSync(path, 'utf8')); } catch { return {}; }
}
function builtAt(file) {
  try { return statSync(file).mtime.toISOString().replace(/\.\d+Z$/, 'Z'); } catch { return 'n/a'; }
}
function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'n/a';
  const virtual = /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo);
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1];
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  const gitDirty = sh('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no', '--', 'src', 'include', 'CMakeLists.txt']);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: `${model}${mhz ? ` (${Math.round(Number(mhz))} MHz)` : ''}${virtual ? ', virtual machine' : ''}`,
    cores: os.cpus().length,
    ramGiB: +(memKiB / 1048576).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    os: /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(osRelease)?.[1] ?? 'n/a',
    node: process.version,
    npm: sh('npm', ['--version']),
    mcpAuth: `${sh(MCP_AUTH, ['--version'])} (${MCP_AUTH.startsWith(root) ? MCP_AUTH.slice(root.length + 1) : MCP_AUTH} built ${builtAt(MCP_AUTH)}; work tree at commit ${sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD'])}${gitDirty && gitDirty !== 'n/a' ? ', with uncommitted source changes' : ''})`,
    mcpRemote: readJson(join(here, 'node_modules', 'mcp-remote', 'package.json')).version ?? 'n/a',
    sdk: readJson(join(root, 'tests', 'integration', 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json')).version ?? 'n/a',
    gnuplot: sh('gnuplot', ['--version']),
    secretService: secretServiceState(),
    hostEnvKeys: HOST_ENV_KEYS,
  };
}

// ---------------------------------------------------------------------------
// Main

async function main() {
  if (SMOKE) rmSync(LOGS, { recursive: true, force: true });
  mkdirSync(LOGS, { recursive: true });
  if ((CLIENTS.includes('mcp-auth') || CLIENTS.includes('mcp-auth-hostenv')) && !existsSync(MCP_AUTH)) throw new Error(`no mcp-auth binary at ${MCP_AUTH} (run.sh builds it)`);
  if (CLIENTS.includes('mcp-remote') && !existsSync(MCP_REMOTE)) throw new Error(`mcp-remote is not installed (npm ci in ${here})`);

  const meta = machine();
  console.log(`mcp-auth benchmark${SMOKE ? ' (smoke: correctness only, no timing claims)' : ''}: ${meta.cpu}, ${meta.cores} cores, node ${meta.node}, mcp-auth ${meta.mcpAuth}, mcp-remote ${meta.mcpRemote}`);
  const results = { meta, smoke: SMOKE, config: { ...CFG, maxConnections: MAX_CONNECTIONS }, modes: {} };

  for (const mode of MODES) {
    console.log(`\n== ${mode.toUpperCase()} response mode`);
    const server = new TestServer(mode);
    servers.add(server);
    await server.start();
    info(`test server (SDK ${meta.sdk}, --mode ${mode}) at ${server.url}`);
    const m = { cold: null, warm: {} };
    try {
      if (SCENARIOS.has('cold')) m.cold = await coldStart(mode, server);
      m.warm = await warmPhase(mode, server);
    } finally {
      await server.stop();
      servers.delete(server);
    }
    results.modes[mode] = m;
  }

  const passed = checks.filter((c) => c.ok).length;
  const failed = checks.length - passed;
  results.checks = checks;

  const file = join(OUT, SMOKE ? 'smoke.json' : 'results.json');
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  if (!SMOKE) {
    const report = buildReport(results);
    writeFileSync(join(OUT, 'report.md'), report.markdown);
    console.log(`\n${report.markdown}`);
    const png = writePlot(results, OUT);
    console.log(png.ok ? `plot: ${png.file}` : `plot not drawn: ${png.error}`);
    const complete = ['mcp-auth', 'mcp-auth-hostenv', 'mcp-remote', 'direct'].every((n) => CLIENTS.includes(n)) && ALL_SCENARIOS.every((k) => SCENARIOS.has(k)) && MODES.length === 2;
    if (!opt['no-update'] && complete && opt['direct-impl'] === 'raw' && !opt['wrap-mcp-auth']) {
      updateResultsDoc(join(here, 'RESULTS.md'), report.markdown);
      console.log(`updated ${join(here, 'RESULTS.md')} (the generated part)`);
    }
  }
  console.log(`raw results: ${file}; proxy stderr logs: ${LOGS}`);
  for (const c of checks.filter((x) => !x.ok)) console.log(`failed: ${c.name}${c.detail ? ` — ${c.detail}` : ''}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}

const servers = new Set();
async function cleanup() {
  await Promise.all([...live].map((c) => c.close(500).catch(() => {})));
  await Promise.all([...servers].map((s) => s.stop().catch(() => {})));
}
// A reader that went away (`run.sh | head`): stop cleanly instead of dying on EPIPE.
process.stdout.on('error', async () => { await cleanup(); process.exit(1); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => { await cleanup(); process.exit(130); });
}

main().then(
  async (failed) => { await cleanup(); process.exit(failed ? 1 : 0); },
  async (err) => {
    console.error(`bench: ${err.stack ?? err}`);
    await cleanup();
    const passed = checks.filter((c) => c.ok).length;
    console.log(`${passed} passed, ${checks.length - passed + 1} failed`);
    process.exit(1);
  },
);
