// Small helpers shared by the benchmark files: timing, statistics, payloads.

import { performance } from 'node:perf_hooks';

export const now = () => performance.now();
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile (p in 0..100) of an array of numbers; NaN when empty. */
export function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const median = (values) => percentile(values, 50);

/** Rejects with `message` after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (no answer within ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The text the test server's `big` tool returns for `n` bytes: the 36
 * characters a-z0-9 repeated and cut at n (the server's own definition,
 * written again here so the benchmark can check every byte).
 */
export function patternText(n) {
  const unit = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** A request body of `n` bytes of text that is not the reply pattern (so a mix-up shows). */
export function requestText(n) {
  const unit = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210';
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

export const fmtMs = (ms) => (Number.isFinite(ms) ? (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)) : 'n/a');
export const fmtMiB = (kib) => (Number.isFinite(kib) ? (kib / 1024).toFixed(1) : 'n/a');
