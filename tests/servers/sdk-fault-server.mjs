#!/usr/bin/env node
// A real SDK v1 MCP server (legacy era, SSE replies, sessions) that breaks in
// the ways mcp-auth must survive, for tests/integration/faults.test.mjs.
//
//   node tests/servers/sdk-fault-server.mjs [--port N] [--event-store] [--retry-ms N]
//        [--request-log FILE] [--quiet]
//
// --event-store   resumability: every SSE event carries an `id` (an event store
//                 written here, with a monotonic counter), POST streams start
//                 with the SDK's priming event, and a GET with Last-Event-ID
//                 replays what came after that event, the final result included.
// --retry-ms N    the `retry` field of the priming event (SDK `retryInterval`).
//
// Tools:
//   echo {text}
//   interrupted {before, after, gap_ms, how}: sends `before` progress
//     notifications (to the request's progressToken), then breaks the POST's
//     SSE stream -- how "reset": the TCP connection is reset (RST), how
//     "close": the SDK's closeSSEStream() ends the response cleanly (the
//     2025-11-25 polling pattern) -- waits gap_ms, sends `after` more
//     progress notifications and answers "interrupted done: N steps". Without
//     --event-store what follows the break is lost.
//
// Control (not MCP; mcp-auth never calls it):
//   POST /control/forget-sessions   closes every session and forgets it, as a
//     server that lost its state would: requests with the old Mcp-Session-Id
//     then get 404 (as the SDK's examples answer).
//
// --request-log FILE: one JSON line per HTTP request when its response head is
// written (or its connection closes first):
//   {time, method, path, headers, jsonrpcMethod, jsonrpcId, status, responseSessionId}
// headers lower-cased, authorization values "<redacted>"; plus one line
//   {time, event: "stream-broken", how, requestId}
// when `interrupted` breaks its stream.
//
// Listens on 127.0.0.1 and prints exactly one line `LISTENING <port>` on
// stdout when ready; everything else goes to stderr.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { loadLegacySdk } from '../integration/server-deps.mjs';
import {
  appendJsonLine, listen, makeLog, onResponseHead, parseCommandLine, readText, redactHeaders, rpcError, sendJson,
  sessionIdOf, stopOnSignals,
} from './common.mjs';

const { opts, port, fail } = parseCommandLine({
  name: 'sdk-fault-server',
  usage: 'usage: node tests/servers/sdk-fault-server.mjs [--port N] [--event-store] [--retry-ms N] [--request-log FILE] [--quiet]',
  options: {
    'event-store': { type: 'boolean', default: false },
    'retry-ms': { type: 'string' },
    'request-log': { type: 'string' },
  },
});
const retryMs = opts['retry-ms'] === undefined ? undefined : Number(opts['retry-ms']);
if (retryMs !== undefined && (!Number.isInteger(retryMs) || retryMs < 0)) fail(`bad --retry-ms ${opts['retry-ms']}`);

const log = makeLog('sdk-fault-server', opts.quiet);
const appendLog = (entry) => appendJsonLine(opts['request-log'], entry);

const sdk = await loadLegacySdk();
const { z } = sdk;

// ---------------------------------------------------------------------------
// Event store: ids "<stream id>.<counter>" (counter zero-padded, so they sort
// in the order they were stored; the SDK's example store orders by time and a
// random suffix).

class OrderedEventStore {
  constructor() {
    this.events = []; // {eventId, streamId, message}
    this.counter = 0;
  }

  async storeEvent(streamId, message) {
    const eventId = `${streamId}.${String(++this.counter).padStart(8, '0')}`;
    this.events.push({ eventId, streamId, message });
    return eventId;
  }

  async getStreamIdForEventId(eventId) {
    return this.events.find((e) => e.eventId === eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId, { send }) {
    const i = this.events.findIndex((e) => e.eventId === lastEventId);
    if (i === -1) return '';
    const { streamId } = this.events[i];
    for (const e of this.events.slice(i + 1)) {
      // The priming event stores an empty message: nothing to replay for it.
      if (e.streamId === streamId && e.message && Object.keys(e.message).length) await send(e.eventId, e.message);
    }
    return streamId;
  }
}

// ---------------------------------------------------------------------------
// MCP sessions

const sessions = new Map(); // session id -> {transport, server}
const postSockets = new Map(); // `${session id} ${JSON id}` -> socket of the POST carrying that request

const textResult = (text) => ({ content: [{ type: 'text', text }] });

function buildServer() {
  const server = new sdk.McpServer({ name: 'mcp-auth-sdk-fault-server', version: '1.0.0' }, { capabilities: { logging: {} } });

  server.registerTool('echo', {
    description: 'Returns the text it was given.',
    inputSchema: { text: z.string() },
  }, async ({ text }) => textResult(text));

  server.registerTool('interrupted', {
    description: 'Sends progress, breaks its own SSE stream, sends more progress, then answers.',
    inputSchema: {
      before: z.number().int().min(0),
      after: z.number().int().min(0),
      gap_ms: z.number().int().min(0),
      how: z.enum(['reset', 'close']),
    },
  }, async ({ before, after, gap_ms: gapMs, how }, extra) => {
    const token = extra._meta?.progressToken;
    const total = before + after;
    const progress = async (i) => {
      if (token === undefined) return;
      await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total, message: `step ${i}/${total}` } });
    };
    for (let i = 1; i <= before; i++) {
      await progress(i);
      await delay(20);
    }
    await delay(100); // let the last event reach the client before the break
    if (how === 'close') {
      extra.closeSSEStream?.();
    } else {
      const socket = postSockets.get(`${extra.sessionId} ${JSON.stringify(extra.requestId)}`);
      if (socket) socket.resetAndDestroy();
    }
    appendLog({ time: Date.now(), event: 'stream-broken', how, requestId: extra.requestId, closeSSEStream: Boolean(extra.closeSSEStream) });
    log(`interrupted: broke the stream of request ${JSON.stringify(extra.requestId)} (${how})`);
    await delay(gapMs);
    for (let i = before + 1; i <= total; i++) {
      await progress(i);
      await delay(20);
    }
    return textResult(`interrupted done: ${total} steps`);
  });

  return server;
}

async function newSession(req, res, body) {
  const transport = new sdk.StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: opts['event-store'] ? new OrderedEventStore() : undefined,
    retryInterval: retryMs,
    onsessioninitialized: (id) => { sessions.set(id, { transport, server }); },
    onsessionclosed: (id) => { sessions.delete(id); },
  });
  transport.onerror = (err) => log(`transport: ${err.message}`);
  const server = buildServer();
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

async function forgetSessions() {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.all(all.map(({ transport }) => transport.close().catch(() => {})));
  return all.length;
}

// ---------------------------------------------------------------------------
// HTTP

/** Logs the request when its response head goes out (or the connection closes first). */
function instrument(req, res) {
  const headers = redactHeaders(req.headers);
  const record = { time: Date.now(), method: req.method, path: new URL(req.url ?? '/', 'http://x').pathname, headers, jsonrpcMethod: undefined, jsonrpcId: undefined, status: null, responseSessionId: undefined };
  onResponseHead(res, (status, writeHeadArgs) => {
    if (status !== null) {
      record.status = status;
      record.responseSessionId = sessionIdOf(res, writeHeadArgs);
    }
    appendLog(record);
    log(`${record.method} ${record.path} ${record.jsonrpcMethod ?? ''}${headers['last-event-id'] ? ` Last-Event-ID ${headers['last-event-id']}` : ''} -> ${record.status ?? 'no response'}`);
  });
  return record;
}

async function handle(req, res, record) {
  if (record.path === '/control/forget-sessions' && req.method === 'POST') {
    const n = await forgetSessions();
    log(`forgot ${n} session(s)`);
    return sendJson(res, 200, { forgotten: n });
  }
  if (record.path !== '/mcp') return sendJson(res, 404, rpcError(-32601, `no MCP endpoint at ${record.path}`));
  const sid = req.headers['mcp-session-id'];
  const session = typeof sid === 'string' ? sessions.get(sid) : undefined;

  if (req.method === 'POST') {
    let body;
    try {
      body = JSON.parse(await readText(req));
    } catch {
      return sendJson(res, 400, rpcError(-32700, 'Parse error'));
    }
    record.jsonrpcMethod = body?.method;
    record.jsonrpcId = body?.id;
    if (session) {
      if (body && typeof body === 'object' && 'id' in body && typeof body.method === 'string') {
        const key = `${sid} ${JSON.stringify(body.id)}`;
        postSockets.set(key, req.socket);
        res.on('close', () => { if (postSockets.get(key) === req.socket) postSockets.delete(key); });
      }
      return session.transport.handleRequest(req, res, body);
    }
    if (sid) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
    if (sdk.isInitializeRequest(body)) return newSession(req, res, body);
    return sendJson(res, 400, rpcError(-32000, 'Bad Request: no valid session ID provided'));
  }
  if (req.method === 'GET' || req.method === 'DELETE') {
    if (!sid) return sendJson(res, 400, rpcError(-32000, 'Bad Request: Mcp-Session-Id header required'));
    if (!session) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
    return session.transport.handleRequest(req, res);
  }
  return sendJson(res, 405, rpcError(-32000, 'Method not allowed'));
}

const httpServer = http.createServer((req, res) => {
  const record = instrument(req, res);
  handle(req, res, record).catch((err) => {
    log(`handler error: ${err.stack ?? err}`);
    if (!res.headersSent) sendJson(res, 500, rpcError(-32603, `internal error: ${err.message}`));
    else res.destroy();
  });
});
httpServer.keepAliveTimeout = 60_000;
httpServer.requestTimeout = 0;

listen(httpServer, port).then((actual) => {
  log(`http://127.0.0.1:${actual}/mcp; event store ${opts['event-store'] ? 'on' : 'off'}; retry ${retryMs ?? '(none)'} ms`);
});
stopOnSignals(httpServer, { log });
