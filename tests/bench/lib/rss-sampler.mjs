// Resident memory of a process tree, sampled in a worker thread (so a busy
// benchmark loop does not delay the samples): every `intervalMs` it finds the
// root's descendants through /proc/<pid>/task/<tid>/children and adds up
// VmRSS from each one's /proc/<pid>/status.
//
// Main thread side: `const s = new RssSampler(pid); await s.now(); await s.stop()`.

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { readFileSync, readdirSync } from 'node:fs';

function statusKiB(pid, field) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone between listing and reading
  }
}

function childrenOf(pid) {
  const out = [];
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) for (const c of text.split(/\s+/)) out.push(Number(c));
    } catch { /* thread ended */ }
  }
  return out;
}

/** The pids of `root` and all its descendants that are alive now. */
export function processTree(root) {
  const seen = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    if (seen.includes(pid)) continue;
    seen.push(pid);
    stack.push(...childrenOf(pid));
  }
  return seen;
}

/** Sums over the tree (KiB): VmRSS, and RssAnon (heap and stacks, no mapped files); the pids counted. */
export function treeRss(root) {
  const pids = processTree(root);
  let kib = 0;
  let anonKiB = 0;
  for (const pid of pids) {
    kib += statusKiB(pid, 'VmRSS');
    anonKiB += statusKiB(pid, 'RssAnon');
  }
  return { kib, anonKiB, pids };
}

export class RssSampler {
  constructor(pid, intervalMs = 10) {
    this.pid = pid;
    this.worker = new Worker(new URL(import.meta.url), { workerData: { pid, intervalMs } });
    this.worker.unref();
    this.waiters = [];
    this.worker.on('message', (m) => this.waiters.shift()?.(m));
  }

  ask(cmd) {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.worker.postMessage(cmd);
    });
  }

  /** A fresh sample: {kib, pids}. */
  now() { return this.ask('now'); }

  /** Peak since the last reset ({peakKiB, samples, peakPids}), and resets it. */
  peak() { return this.ask('peak'); }

  /** Final statistics, then the worker ends: {peakKiB, peakAnonKiB, samples, rootHwmKiB}. */
  async stop() {
    const r = await this.ask('stop');
    await this.worker.terminate();
    return r;
  }
}

if (!isMainThread && workerData?.pid) {
  const { pid, intervalMs } = workerData;
  let peakKiB = 0;
  let peakPids = [];
  let samples = 0;
  let totalPeak = 0;
  let peakAnonKiB = 0;
  let totalSamples = 0;
  let rootHwmKiB = 0;
  const sample = () => {
    const s = treeRss(pid);
    samples++;
    totalSamples++;
    if (s.kib > peakKiB) { peakKiB = s.kib; peakPids = s.pids; }
    if (s.kib > totalPeak) totalPeak = s.kib;
    if (s.anonKiB > peakAnonKiB) peakAnonKiB = s.anonKiB;
    // The root's own high-water mark: a peak no sample can miss (for the root alone).
    const hwm = statusKiB(pid, 'VmHWM');
    if (hwm > rootHwmKiB) rootHwmKiB = hwm;
    return s;
  };
  const timer = setInterval(sample, intervalMs);
  parentPort.on('message', (cmd) => {
    if (cmd === 'now') {
      parentPort.postMessage(sample());
    } else if (cmd === 'peak') {
      sample();
      parentPort.postMessage({ peakKiB, samples, peakPids });
      peakKiB = 0;
      samples = 0;
    } else if (cmd === 'stop') {
      sample();
      clearInterval(timer);
      parentPort.postMessage({ peakKiB: totalPeak, peakAnonKiB, samples: totalSamples, rootHwmKiB });
    }
  });
}
