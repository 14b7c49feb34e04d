#!/usr/bin/env node
// A real MCP server for testing mcp-auth, built with the official TypeScript SDKs.
//
//   node tests/servers/mcp-server.mjs [--port N] [--mode json|sse|auto]
//        [--era legacy|modern] [--request-log FILE] [--quiet]
//
// Listens on 127.0.0.1 (port 0 = chosen by the OS), serves MCP at /mcp, and
// prints exactly one line `LISTENING <port>` on stdout when ready; everything
// else goes to stderr. Needs `npm ci` in tests/integration first.
//
// --era legacy (default): SDK v1 (@modelcontextprotocol/sdk), protocol
//   2025-11-25 / 2025-06-18, stateful sessions (Mcp-Session-Id), GET stream,
//   DELETE. --mode sse (default) answers POSTs with SSE streams, --mode json
//   with plain JSON; in json mode the tools that need to talk to the client
//   mid-call (progress, elicit) do it on the GET stream, since a JSON reply
//   cannot carry anything but the result.
// --era modern: SDK v2 (@modelcontextprotocol/server + /node), protocol
//   2026-07-28 (per-request _meta, no sessions), with the SDK's stateless
//   fallback for 2025-era clients. --mode auto (default) answers JSON unless
//   the handler sends something before its result; sse always streams; json
//   never streams (progress notifications are then dropped by the SDK).
//
// Tools: echo {text}, slow {ms}, progress {steps, ms}, elicit {message},
//   big {bytes}, size {data}; modern era also region_query {region?, query?}
//   whose `region` carries "x-mcp-header": "Region", headers_probe (x-mcp-header
//   on an integer, a boolean and a nested property; returns the Mcp-Param-*
//   headers it got) and bad_header (an invalid annotation clients must drop).
//
// --request-log FILE appends one JSON line per HTTP request:
//   {time, method, path, headers, jsonrpcMethod, jsonrpcId, jsonrpcKind,
//    jsonrpcName, status, responseSessionId}
// with lower-case header names and authorization values replaced by "<redacted>".

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { loadLegacySdk, loadModernSdk } from '../integration/server-deps.mjs';
import { payloadText } from '../integration/lib.mjs';
import {
  appendJsonLine, listen, makeLog, onResponseHead, parseCommandLine, redactHeaders, rpcError, sendJson,
  sessionIdOf, stopOnSignals,
} from './common.mjs';

const MAX_BODY_BYTES = 80 * 1024 * 1024; // above mcp-auth's 64 MiB default
const SERVER_INFO = { name: 'mcp-auth-test-server', version: '1.0.0' };

// ---------------------------------------------------------------------------
// Command line

const modeOf = (o) => o.mode ?? (o.era === 'legacy' ? 'sse' : 'auto');

const { opts, port } = parseCommandLine({
  name: 'mcp-server',
  usage: 'usage: node tests/servers/mcp-server.mjs [--port N] [--mode json|sse|auto] [--era legacy|modern] [--request-log FILE] [--quiet]',
  options: {
    mode: { type: 'string' },
    era: { type: 'string', default: 'legacy' },
    'request-log': { type: 'string' },
  },
  check: (o, fail) => {
    if (!['legacy', 'modern'].includes(o.era)) fail(`unknown --era ${o.era}`);
    const allowedModes = o.era === 'legacy' ? ['json', 'sse'] : ['json', 'sse', 'auto'];
    if (!allowedModes.includes(modeOf(o))) fail(`--mode ${modeOf(o)} is not valid for the ${o.era} era`);
  },
});
const era = opts.era;
const mode = modeOf(opts);
const requestLog = opts['request-log'];

const log = makeLog(`mcp-server ${era}/${mode}`, opts.quiet);

// ---------------------------------------------------------------------------
// HTTP plumbing shared by both eras: body reading and the request log

/** Reads the whole body (bounded). Resolves a Buffer, or null if it was too large. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Wraps one request: records it in the request log when the response head is
 * written (or when the connection closes without one), and returns the
 * per-request record so handlers can add the JSON-RPC fields and listen for
 * the status (`onHead`).
 */
function instrument(req, res) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const record = {
    time: Date.now(),
    method: req.method,
    path: url.pathname,
    headers: redactHeaders(req.headers),
    jsonrpcMethod: undefined,
    jsonrpcId: undefined,
    jsonrpcKind: undefined,
    jsonrpcName: undefined,
    status: null,
    responseSessionId: undefined,
  };
  const headListeners = [];
  onResponseHead(res, (status, writeHeadArgs) => {
    if (status !== null) {
      record.status = status;
      record.responseSessionId = sessionIdOf(res, writeHeadArgs);
    }
    appendJsonLine(requestLog, record);
    log(`${record.method} ${record.path}${record.jsonrpcMethod ? ` ${record.jsonrpcMethod}` : ''}${record.jsonrpcKind === 'response' ? ' (response)' : ''} -> ${record.status ?? 'no response'}`);
    if (status !== null) for (const fn of headListeners) fn(status);
  });
  return { record, onHead: (fn) => headListeners.push(fn) };
}

/** Describes a parsed JSON-RPC body for the log. */
function describe(record, body) {
  if (Array.isArray(body)) {
    record.jsonrpcKind = 'batch';
    record.jsonrpcMethod = body.map((m) => m?.method ?? '(response)').join(',');
    return;
  }
  if (!body || typeof body !== 'object') return;
  record.jsonrpcId = body.id;
  if (typeof body.method === 'string') {
    record.jsonrpcMethod = body.method;
    const name = body.params?.name ?? body.params?.uri;
    if (typeof name === 'string') record.jsonrpcName = name;
    record.jsonrpcKind = 'id' in body ? 'request' : 'notification';
  } else if ('result' in body || 'error' in body) {
    record.jsonrpcKind = 'response';
  }
}

/** Reads and parses a POST body; answers the error itself and returns undefined on failure. */
async function parsePost(req, res, record) {
  const raw = await readBody(req);
  if (raw === null) {
    sendJson(res, 413, rpcError(-32600, `request body larger than ${MAX_BODY_BYTES} bytes`));
    return undefined;
  }
  try {
    const body = JSON.parse(raw.toString('utf8'));
    describe(record, body);
    return body;
  } catch {
    sendJson(res, 400, rpcError(-32700, 'Parse error: body is not valid JSON'));
    return undefined;
  }
}

function textResult(text) {
  return { content: [{ type: 'text', text }] };
}

// The elicitation form every era asks the user to fill in.
const ELICIT_SCHEMA = {
  type: 'object',
  properties: { answer: { type: 'string', description: 'Your answer' } },
  required: ['answer'],
};

function elicitOutcome(result) {
  if (result?.action === 'accept') return textResult(`elicited answer: ${result.content?.answer}`);
  return textResult(`elicitation ${result?.action ?? 'failed'}`);
}

// ---------------------------------------------------------------------------
// Legacy era: SDK v1, stateful Streamable HTTP

async function legacyEra() {
  const sdk = await loadLegacySdk();
  const { z } = sdk;
  const sessions = new Map(); // session id -> { transport, server, getOpen, getWaiters }

  /** Resolves true once the session's GET stream is open (false after `ms`). */
  function waitGetStream(session, ms = 3000) {
    if (session.getOpen) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { session.getWaiters.delete(done); resolve(false); }, ms);
      const done = () => { clearTimeout(timer); resolve(true); };
      session.getWaiters.add(done);
    });
  }

  function buildServer(session) {
    const server = new sdk.McpServer(SERVER_INFO, { capabilities: { logging: {} } });

    server.registerTool('echo', {
      description: 'Returns the text it was given.',
      inputSchema: { text: z.string() },
    }, async ({ text }) => textResult(text));

    server.registerTool('slow', {
      description: 'Sleeps for `ms` milliseconds, then answers.',
      inputSchema: { ms: z.number().int().min(0) },
    }, async ({ ms }, extra) => {
      await delay(ms, undefined, { signal: extra.signal }).catch(() => {});
      return textResult(`slept ${ms} ms`);
    });

    server.registerTool('progress', {
      description: 'Sends `steps` progress notifications `ms` apart (to the request\'s progressToken), then answers.',
      inputSchema: { steps: z.number().int().min(0), ms: z.number().int().min(0) },
    }, async ({ steps, ms }, extra) => {
      const token = extra._meta?.progressToken;
      let channel = 'response stream';
      let send = (n) => extra.sendNotification(n);
      if (mode === 'json') {
        // A JSON reply carries only the result: use the GET stream instead.
        channel = (await waitGetStream(session)) ? 'GET stream' : 'GET stream (NOT OPEN: notifications dropped)';
        send = (n) => server.server.notification(n);
      }
      for (let i = 1; i <= steps; i++) {
        await delay(ms);
        if (token !== undefined) {
          await send({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps, message: `step ${i}/${steps}` },
          });
        }
      }
      // Give the last notification a head start over the result: in json mode
      // they travel on different connections, and in sse mode an SDK v1
      // client that reads both in one chunk handles the notification after
      // the result (and drops it as "unknown token").
      if (token !== undefined && steps > 0) await delay(Math.min(ms, 50));
      return textResult(`progress done: ${steps} steps via ${token === undefined ? 'nothing (no progressToken)' : channel}`);
    });

    server.registerTool('elicit', {
      description: 'Asks the user (elicitation/create) and returns the answer.',
      inputSchema: { message: z.string() },
    }, async ({ message }, extra) => {
      const params = { mode: 'form', message, requestedSchema: ELICIT_SCHEMA };
      if (mode === 'json') {
        if (!(await waitGetStream(session))) {
          return { ...textResult('elicit needs the GET stream in json mode, and none is open'), isError: true };
        }
        return elicitOutcome(await server.server.elicitInput(params));
      }
      return elicitOutcome(await extra.sendRequest({ method: 'elicitation/create', params }, sdk.ElicitResultSchema));
    });

    server.registerTool('big', {
      description: 'Returns a text of exactly `bytes` ASCII bytes.',
      inputSchema: { bytes: z.number().int().min(0) },
    }, async ({ bytes }) => textResult(payloadText(bytes)));

    server.registerTool('size', {
      description: 'Returns the length of the string it received.',
      inputSchema: { data: z.string() },
    }, async ({ data }) => textResult(String(data.length)));

    return server;
  }

  async function newSession(req, res, body) {
    const session = { getOpen: false, getWaiters: new Set() };
    const transport = new sdk.StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: mode === 'json',
      onsessioninitialized: (id) => { sessions.set(id, session); },
      onsessionclosed: (id) => { sessions.delete(id); },
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    session.transport = transport;
    session.server = buildServer(session);
    await session.server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  return async function handle(req, res, { record, onHead }) {
    const sid = req.headers['mcp-session-id'];
    const session = typeof sid === 'string' ? sessions.get(sid) : undefined;

    if (req.method === 'POST') {
      const body = await parsePost(req, res, record);
      if (body === undefined) return;
      if (session) return session.transport.handleRequest(req, res, body);
      if (sid) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
      if (sdk.isInitializeRequest(body)) return newSession(req, res, body);
      return sendJson(res, 400, rpcError(-32000, 'Bad Request: no valid session ID provided'));
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!sid) return sendJson(res, 400, rpcError(-32000, 'Bad Request: Mcp-Session-Id header required'));
      if (!session) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
      if (req.method === 'GET') {
        onHead((status) => {
          if (status !== 200) return;
          session.getOpen = true;
          for (const w of session.getWaiters) w();
          session.getWaiters.clear();
        });
        res.on('close', () => { session.getOpen = false; });
      }
      return session.transport.handleRequest(req, res);
    }
    return sendJson(res, 405, rpcError(-32000, 'Method not allowed'), { Allow: 'GET, POST, DELETE' });
  };
}

// ---------------------------------------------------------------------------
// Modern era: SDK v2, 2026-07-28 per-request serving (plus stateless 2025 fallback)

async function modernEra() {
  const sdk = await loadModernSdk();
  const { z } = sdk;

  function buildServer(ctx) {
    const server = new sdk.McpServer(SERVER_INFO, { capabilities: { tools: {} } });

    server.registerTool('echo', {
      description: 'Returns the text it was given.',
      inputSchema: z.object({ text: z.string() }),
    }, async ({ text }) => textResult(text));

    server.registerTool('slow', {
      description: 'Sleeps for `ms` milliseconds, then answers.',
      inputSchema: z.object({ ms: z.number().int().min(0) }),
    }, async ({ ms }, c) => {
      await delay(ms, undefined, { signal: c.mcpReq.signal }).catch(() => {});
      return textResult(`slept ${ms} ms`);
    });

    server.registerTool('progress', {
      description: 'Sends `steps` progress notifications `ms` apart, then answers.',
      inputSchema: z.object({ steps: z.number().int().min(0), ms: z.number().int().min(0) }),
    }, async ({ steps, ms }, c) => {
      const token = c.mcpReq._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        await delay(ms);
        if (token !== undefined) {
          await c.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps, message: `step ${i}/${steps}` },
          });
        }
      }
      if (token !== undefined && steps > 0) await delay(Math.min(ms, 50)); // see the legacy tool
      return textResult(`progress done: ${steps} steps`);
    });

    server.registerTool('elicit', {
      description: 'Asks the user and returns the answer (MRTR input_required on 2026-07-28).',
      inputSchema: z.object({ message: z.string() }),
    }, async ({ message }, c) => {
      if (ctx.era === 'modern') {
        const answer = sdk.acceptedContent(c.mcpReq.inputResponses, 'answer');
        if (answer === undefined) {
          return sdk.inputRequired({
            inputRequests: { answer: sdk.inputRequired.elicit({ message, requestedSchema: ELICIT_SCHEMA }) },
          });
        }
        return elicitOutcome({ action: 'accept', content: answer });
      }
      return elicitOutcome(await c.mcpReq.elicitInput({ mode: 'form', message, requestedSchema: ELICIT_SCHEMA }));
    });

    server.registerTool('big', {
      description: 'Returns a text of exactly `bytes` ASCII bytes.',
      inputSchema: z.object({ bytes: z.number().int().min(0) }),
    }, async ({ bytes }) => textResult(payloadText(bytes)));

    server.registerTool('size', {
      description: 'Returns the length of the string it received.',
      inputSchema: z.object({ data: z.string() }),
    }, async ({ data }) => textResult(String(data.length)));

    server.registerTool('region_query', {
      description: 'Returns the Mcp-Param-Region header it received (mirrored from `region` by x-mcp-header).',
      inputSchema: sdk.fromJsonSchema({
        type: 'object',
        properties: {
          region: { type: 'string', description: 'Region to run in', 'x-mcp-header': 'Region' },
          query: { type: 'string', description: 'Anything' },
        },
      }),
    }, async (args, c) => {
      const header = c.http?.req?.headers.get('mcp-param-region') ?? null;
      return textResult(JSON.stringify({ region: args.region ?? null, header }));
    });

    // x-mcp-header on an integer, a boolean and a nested string property.
    server.registerTool('headers_probe', {
      description: 'Returns every Mcp-Param-* header it received.',
      inputSchema: sdk.fromJsonSchema({
        type: 'object',
        properties: {
          priority: { type: 'integer', 'x-mcp-header': 'Priority' },
          dry_run: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
          options: {
            type: 'object',
            properties: { zone: { type: 'string', 'x-mcp-header': 'Zone' } },
          },
        },
      }),
    }, async (_args, c) => {
      const mirrored = {};
      for (const [name, value] of c.http?.req?.headers ?? []) {
        if (name.startsWith('mcp-param-')) mirrored[name] = value;
      }
      return textResult(JSON.stringify(mirrored));
    });

    // An invalid annotation (x-mcp-header on a `number`): a 2026-07-28 HTTP
    // client must drop this tool from tools/list.
    server.registerTool('bad_header', {
      description: 'Carries an invalid x-mcp-header annotation; clients must not list it.',
      inputSchema: sdk.fromJsonSchema({
        type: 'object',
        properties: { amount: { type: 'number', 'x-mcp-header': 'Amount' } },
      }),
    }, async () => textResult('bad_header was called'));

    return server;
  }

  const handler = sdk.createMcpHandler(buildServer, {
    legacy: 'stateless',
    responseMode: mode,
    maxRequestBodySize: MAX_BODY_BYTES,
    onerror: (err) => log(`sdk: ${err.message}`),
  });
  const nodeHandler = sdk.toNodeHandler(handler, { maxRequestBodySize: MAX_BODY_BYTES });
  modernEra.close = () => handler.close();
  modernEra.versions = sdk.SUPPORTED_PROTOCOL_VERSIONS;

  return async function handle(req, res, { record }) {
    if (req.method === 'POST') {
      const body = await parsePost(req, res, record);
      if (body === undefined) return;
      return nodeHandler(req, res, body);
    }
    return nodeHandler(req, res);
  };
}

// ---------------------------------------------------------------------------
// Main

const handle = era === 'legacy' ? await legacyEra() : await modernEra();

const httpServer = http.createServer((req, res) => {
  const ctx = instrument(req, res);
  if (ctx.record.path !== '/mcp') {
    sendJson(res, 404, rpcError(-32601, `no MCP endpoint at ${ctx.record.path}; use /mcp`));
    return;
  }
  Promise.resolve(handle(req, res, ctx)).catch((err) => {
    log(`handler error: ${err.stack ?? err}`);
    if (!res.headersSent) sendJson(res, 500, rpcError(-32603, `internal error: ${err.message}`));
    else res.destroy();
  });
});
httpServer.keepAliveTimeout = 60_000;
httpServer.headersTimeout = 65_000;
httpServer.requestTimeout = 0; // long SSE streams and slow calls are the point

listen(httpServer, port).then((actual) => {
  const versions = era === 'legacy' ? '2025-11-25, 2025-06-18 (SDK v1)' : `${(modernEra.versions ?? []).join(', ')} (SDK v2)`;
  if (!opts.quiet) {
    process.stderr.write(`MCP test server (${era} era, ${mode} responses; protocol ${versions})\n`);
    process.stderr.write(`  endpoint: http://127.0.0.1:${actual}/mcp\n`);
    process.stderr.write(`  tools: echo, slow, progress, elicit, big, size${era === 'modern' ? ', region_query, headers_probe, bad_header' : ''}\n`);
  }
});
stopOnSignals(httpServer, { log, cleanup: () => { Promise.resolve(modernEra.close?.()).catch(() => {}); } });
