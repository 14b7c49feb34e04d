#!/usr/bin/env node
// An OAuth-protected MCP resource server for testing mcp-auth's login flows,
// built with the official TypeScript SDK v1 (legacy era, stateful Streamable
// HTTP sessions, SSE replies) and `jose`.
//
//   node tests/servers/protected-mcp-server.mjs --issuer URL [--jwks-url URL]
//        [--port 0] [--config standard|cognito] [--token-header NAME]
//        [--challenge-scope SCOPES] [--audit-log FILE] [--request-log FILE] [--quiet]
//
// Listens on 127.0.0.1 (port 0 = chosen by the OS), serves MCP at /mcp, and
// prints exactly one line `LISTENING <port>` on stdout when ready (after the
// JWKS location is known); everything else goes to stderr.
//
// Every request to /mcp (POST, GET, DELETE) needs a bearer JWT in the
// Authorization header (or in --token-header NAME, e.g. X-Authorization,
// "NAME: Bearer <token>"), verified against the AS's JWKS (--jwks-url, or
// `jwks_uri` from the issuer's metadata) with `iss` = --issuer and, in the
// standard config, `aud` = http://127.0.0.1:<port>/mcp (cognito: no aud
// check, but token_use must be "access"). Without a valid token: 401 with
//   standard: WWW-Authenticate: Bearer resource_metadata="http://127.0.0.1:<port>/.well-known/oauth-protected-resource/mcp", scope="search"
//   cognito:  WWW-Authenticate: Bearer realm="mcp"
// (plus error="invalid_token" when a token was sent but is not valid). The
// scope in the standard challenge is what the first call needs, so a client
// following the spec's scope selection logs in with "search" only and steps
// up later; --challenge-scope SCOPES changes it ("" leaves it out, and then
// clients fall back to the PRM's scopes_supported).
//
// The standard config serves protected resource metadata (RFC 9728) at
// /.well-known/oauth-protected-resource/mcp and /.well-known/oauth-protected-resource:
//   {resource: <mcp url>, authorization_servers: [issuer], scopes_supported: [search, extract]}
// The cognito config serves none.
//
// Tools: search {query} needs scope "search", extract {url} needs "extract"
// (cognito: "tavily-mcp/search", "tavily-mcp/extract"); whoami returns the
// token's sub, email, username, client_id and scopes. A tools/call without
// the needed scope is answered before the JSON-RPC layer: HTTP 403 with
//   WWW-Authenticate: Bearer error="insufficient_scope", scope="<needed>"[, resource_metadata="..."]
// and a JSON body {error: "forbidden", message, required_scope, user_scopes, status: 403}.
//
// --audit-log FILE: one JSON line per tools/call: {time, tool, caller, scopes, allowed}
//   caller = email, else username, else sub, else client_id.
// --request-log FILE: one JSON line per HTTP request: {time, method, path,
//   jsonrpcMethod, jsonrpcName, status, authorization, tokenHeader, auth}
//   authorization / tokenHeader: whether that header was present; auth:
//   "none", "valid", or "invalid: <reason>". Header values are never logged.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { loadProtectedServerDeps } from '../integration/server-deps.mjs';
import {
  appendJsonLine, listen, makeLog, onResponseEnd, parseCommandLine, readText, rpcError, sendJson, stopOnSignals,
} from './common.mjs';

// ---------------------------------------------------------------------------
// Command line

const { opts, port } = parseCommandLine({
  name: 'protected-mcp-server',
  usage: 'usage: node tests/servers/protected-mcp-server.mjs --issuer URL [--jwks-url URL] [--port N] [--config standard|cognito] [--token-header NAME] [--challenge-scope SCOPES] [--audit-log FILE] [--request-log FILE] [--quiet]',
  options: {
    issuer: { type: 'string' },
    'jwks-url': { type: 'string' },
    config: { type: 'string', default: 'standard' },
    'token-header': { type: 'string', default: 'Authorization' },
    'challenge-scope': { type: 'string' },
    'audit-log': { type: 'string' },
    'request-log': { type: 'string' },
  },
  check: (o, fail) => {
    if (!o.issuer || !URL.canParse(o.issuer)) fail('--issuer URL is required');
    if (!['standard', 'cognito'].includes(o.config)) fail(`unknown --config ${o.config}`);
  },
});
const config = opts.config;
const issuer = opts.issuer;
const tokenHeader = opts['token-header'].toLowerCase();

const log = makeLog(`protected-mcp ${config}`, opts.quiet);

const TOOL_SCOPES = config === 'cognito'
  ? { search: 'tavily-mcp/search', extract: 'tavily-mcp/extract' }
  : { search: 'search', extract: 'extract' };
const challengeScope = opts['challenge-scope'] ?? (config === 'standard' ? TOOL_SCOPES.search : '');

const { McpServer, StreamableHTTPServerTransport, isInitializeRequest, z, jose } = await loadProtectedServerDeps();

// Set once listening: the resource URL depends on the port.
let mcpUrl;
let prmUrl;
let jwks;

// ---------------------------------------------------------------------------
// Bearer tokens

const callerOf = (claims) => claims.email ?? claims.username ?? claims.sub ?? claims.client_id;
const scopesOf = (claims) => (typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []);

function challenge(extra = {}) {
  const params = config === 'standard' ? { ...extra, resource_metadata: prmUrl } : { realm: 'mcp', ...extra };
  return `Bearer ${Object.entries(params).map(([k, v]) => `${k}="${String(v).replace(/["\\]/g, '')}"`).join(', ')}`;
}

/** Verifies the request's bearer token: {claims} or {error} (undefined error message = no token). */
async function authenticate(req) {
  const header = req.headers[tokenHeader];
  if (header === undefined) return { error: undefined };
  const m = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(String(header));
  if (!m) return { error: `malformed ${opts['token-header']} header` };
  try {
    const { payload } = await jose.jwtVerify(m[1], jwks, {
      issuer,
      algorithms: ['RS256'],
      clockTolerance: 0,
      ...(config === 'standard' ? { audience: mcpUrl } : {}),
    });
    if (config === 'cognito' && payload.token_use !== 'access') return { error: 'not an access token' };
    return { claims: payload, token: m[1] };
  } catch (err) {
    return { error: `${err.code ?? 'invalid'}: ${err.message}` };
  }
}

// ---------------------------------------------------------------------------
// MCP: one McpServer + transport per session

const textResult = (obj) => ({ content: [{ type: 'text', text: typeof obj === 'string' ? obj : JSON.stringify(obj) }] });

function buildServer() {
  const server = new McpServer({ name: 'protected-mcp-test-server', version: '1.0.0' });
  const claimsOf = (extra) => extra.authInfo?.extra?.claims ?? {};

  server.registerTool('search', {
    description: `Web search (needs scope ${TOOL_SCOPES.search}).`,
    inputSchema: { query: z.string() },
  }, async ({ query }, extra) => textResult({
    query,
    answer: 'The Model Context Protocol (MCP) is an open standard that lets AI models connect to external tools and data sources through a uniform interface.',
    results: [{ title: 'What is the Model Context Protocol?', url: 'https://example.com/what-is-mcp' }],
    caller: callerOf(claimsOf(extra)),
  }));

  server.registerTool('extract', {
    description: `Full text of a page (needs scope ${TOOL_SCOPES.extract}).`,
    inputSchema: { url: z.string() },
  }, async ({ url }, extra) => textResult({
    url,
    content: `Full text of ${url}: MCP standardises how applications give context to language models.`,
    caller: callerOf(claimsOf(extra)),
  }));

  server.registerTool('whoami', {
    description: 'Who the bearer token belongs to.',
    inputSchema: {},
  }, async (_args, extra) => {
    const c = claimsOf(extra);
    return textResult({ sub: c.sub, email: c.email, username: c.username, client_id: c.client_id, scopes: scopesOf(c), aud: c.aud ?? null, exp: c.exp });
  });

  return server;
}

const sessions = new Map(); // session id -> transport

async function newSession(req, res, body) {
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => { sessions.set(id, transport); },
    onsessionclosed: (id) => { sessions.delete(id); },
  });
  transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
  await buildServer().connect(transport);
  await transport.handleRequest(req, res, body);
}

// ---------------------------------------------------------------------------
// HTTP

async function handleMcp(req, res, record) {
  const auth = await authenticate(req);
  record.auth = auth.claims ? 'valid' : auth.error ? `invalid: ${auth.error}` : 'none';

  let body;
  if (req.method === 'POST') {
    try {
      body = JSON.parse(await readText(req));
    } catch {
      return sendJson(res, 400, rpcError(-32700, 'Parse error'));
    }
    record.jsonrpcMethod = body?.method;
    if (typeof body?.params?.name === 'string') record.jsonrpcName = body.params.name;
  }

  if (!auth.claims) {
    const error = auth.error ? { error: 'invalid_token', error_description: auth.error } : {};
    if (challengeScope) error.scope = challengeScope;
    return sendJson(res, 401, { error: auth.error ? 'invalid_token' : 'unauthorized', message: auth.error ?? 'Bearer token required' }, { 'WWW-Authenticate': challenge(error) });
  }

  const { claims } = auth;
  const scopes = scopesOf(claims);
  if (body?.method === 'tools/call') {
    const tool = body.params?.name;
    const needed = TOOL_SCOPES[tool];
    const allowed = !needed || scopes.includes(needed);
    appendJsonLine(opts['audit-log'], { time: new Date().toISOString(), tool, caller: callerOf(claims), scopes, allowed });
    log(`tools/call ${tool} by ${callerOf(claims)} [${scopes.join(' ')}]: ${allowed ? 'allowed' : `forbidden (needs ${needed})`}`);
    if (!allowed) {
      return sendJson(res, 403, {
        error: 'forbidden',
        message: `${callerOf(claims)} does not have scope '${needed}'`,
        required_scope: needed,
        user_scopes: scopes,
        status: 403,
      }, { 'WWW-Authenticate': challenge({ error: 'insufficient_scope', scope: needed }) });
    }
  }

  req.auth = { token: auth.token, clientId: claims.client_id, scopes, expiresAt: claims.exp, extra: { claims } };
  const sid = req.headers['mcp-session-id'];
  const transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
  if (req.method === 'POST') {
    if (transport) return transport.handleRequest(req, res, body);
    if (sid) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
    if (isInitializeRequest(body)) return newSession(req, res, body);
    return sendJson(res, 400, rpcError(-32000, 'Bad Request: no valid session ID provided'));
  }
  if (req.method === 'GET' || req.method === 'DELETE') {
    if (!sid) return sendJson(res, 400, rpcError(-32000, 'Bad Request: Mcp-Session-Id header required'));
    if (!transport) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
    return transport.handleRequest(req, res);
  }
  return sendJson(res, 405, rpcError(-32000, 'Method not allowed'), { Allow: 'GET, POST, DELETE' });
}

function protectedResourceMetadata() {
  return {
    resource: mcpUrl,
    authorization_servers: [issuer],
    scopes_supported: Object.values(TOOL_SCOPES),
    bearer_methods_supported: ['header'],
    resource_name: 'mcp-auth protected test server',
  };
}

const httpServer = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const record = {
    time: new Date().toISOString(),
    method: req.method,
    path,
    authorization: req.headers.authorization !== undefined,
    tokenHeader: req.headers[tokenHeader] !== undefined,
    auth: undefined,
    status: null,
  };
  onResponseEnd(res, (status) => {
    record.status = status;
    appendJsonLine(opts['request-log'], record);
    log(`${req.method} ${path}${record.jsonrpcMethod ? ` ${record.jsonrpcMethod}` : ''} -> ${record.status ?? 'no response'}${record.auth && record.auth !== 'valid' ? ` (${record.auth})` : ''}`);
  });

  if (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource') {
    if (config === 'cognito') return sendJson(res, 404, { error: 'not_found' });
    return sendJson(res, 200, protectedResourceMetadata());
  }
  if (path !== '/mcp') return sendJson(res, 404, rpcError(-32601, `no MCP endpoint at ${path}; use /mcp`));
  handleMcp(req, res, record).catch((err) => {
    log(`handler error: ${err.stack ?? err}`);
    if (!res.headersSent) sendJson(res, 500, rpcError(-32603, `internal error: ${err.message}`));
    else res.destroy();
  });
});
httpServer.keepAliveTimeout = 60_000;
httpServer.requestTimeout = 0;

/** The AS's jwks_uri, from OIDC discovery or RFC 8414 metadata. */
async function discoverJwksUrl() {
  const base = issuer.replace(/\/$/, '');
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const r = await fetch(base + path, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (r?.ok) {
      const meta = await r.json();
      if (meta.jwks_uri) return meta.jwks_uri;
    }
  }
  throw new Error(`no jwks_uri in the metadata of ${issuer}`);
}

listen(httpServer, port, async (actual) => {
  mcpUrl = `http://127.0.0.1:${actual}/mcp`;
  prmUrl = `http://127.0.0.1:${actual}/.well-known/oauth-protected-resource/mcp`;
  try {
    const jwksUrl = opts['jwks-url'] ?? await discoverJwksUrl();
    jwks = jose.createRemoteJWKSet(new URL(jwksUrl));
    log(`endpoint ${mcpUrl}; issuer ${issuer}; JWKS ${jwksUrl}; token header ${opts['token-header']}`);
  } catch (err) {
    process.stderr.write(`protected-mcp-server: ${err.message}\n`);
    process.exit(1);
  }
});
stopOnSignals(httpServer, { log });
