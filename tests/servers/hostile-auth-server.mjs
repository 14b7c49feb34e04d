#!/usr/bin/env node
// A hand-made OAuth authorization server and OAuth-protected MCP resource
// server that can be told to misbehave, for mcp-auth's hostile-input and
// fault tests (oidc-provider will not misbehave on request).
//
//   node tests/servers/hostile-auth-server.mjs [--role both|as|rs] [--port N]
//        [--issuer URL] [--key-file FILE] [--access-token-ttl SECONDS]
//        [--misbehave CASE[,CASE...]] [--redirect-to URL] [--other-resource URL]
//        [--token-delay-ms N] [--event-log FILE] [--request-log FILE]
//        [--print-tokens] [--quiet] [--tls-cert FILE --tls-key FILE]
//        [--host NAME] [--target URL] [--client ID:SECRET]
//
// Roles (all on 127.0.0.1, port 0 = chosen by the OS):
//   both (default)  the AS (issuer http://127.0.0.1:<port>) and the MCP server
//                   (http://127.0.0.1:<port>/mcp) in one process
//   as              the AS only
//   rs              the MCP server only; --issuer names its AS
// --tls-cert FILE --tls-key FILE: serve https (PEM files) instead of http; its
//   URLs (issuer, MCP server, PRM) then start with https://.
// --host NAME: the host name in its own URLs instead of 127.0.0.1 (it still
//   listens on 127.0.0.1 only): with an /etc/hosts that maps NAME to 127.0.0.1
//   (tests/integration/named-hosts.mjs) it plays a server that is not on
//   loopback by name, e.g. https://mcp.test:<port>/mcp.
// --client ID:SECRET: a pre-registered confidential client. /token then takes
//   client_secret_basic and client_secret_post (listed in the metadata with
//   "none") and the client_credentials grant (for that client only; /authorize
//   still knows only registered clients). Any
//   client secret received, from any client, is recorded in the token_request
//   event, so a test can see which AS was sent one.
// Prints exactly one line `LISTENING <port>` on stdout when ready; with
// --print-tokens also `ISSUED {"access_token":...,"refresh_token":...}` per
// token response, so tests can look for token text elsewhere. Everything else
// goes to stderr.
//
// Everything is stateless and signed with one HMAC key (HS256 JWT access
// tokens; client ids, codes and refresh tokens sealed with the same key), so
// an AS restarted with the same --key-file and port keeps working for clients
// and tokens it issued before, and an rs process with the same key file
// verifies tokens on its own. --key-file FILE is created (0600) if missing.
//
// The well-behaved AS: RFC 8414 metadata at /.well-known/oauth-authorization-server
// and /.well-known/openid-configuration (S256 listed, iss parameter
// supported); open dynamic registration at /register; /authorize approves at
// once (no login page: it answers 302 to the loopback redirect_uri with code,
// state and iss), after checking response_type=code, a loopback http
// redirect_uri and PKCE S256; /token (authorization_code with PKCE check and
// one use per code; refresh_token, rotated); /revoke. The user is
// alice@example.test (sub hostile-user-1); scopes "read" and
// "offline_access". Access tokens: aud = the `resource` asked for,
// --access-token-ttl seconds (default 300).
// The MCP server: protected resource metadata at
// /.well-known/oauth-protected-resource[/mcp] naming the issuer; /mcp needs a
// valid bearer token for itself (aud = its URL), else 401 with
// `Bearer resource_metadata="...", scope="read"`; then a minimal stateless
// MCP endpoint (tests/servers/mini-mcp.mjs) with tools whoami (the token's
// sub, email, aud, scope) and echo {text}.
//
// --misbehave (comma-separated):
//   prm-not-json              PRM: 200 application/json whose body is HTML
//   prm-other-resource        PRM names another server (--other-resource, default http://127.0.0.1:9/mcp)
//   prm-redirect              PRM URLs answer 302 to --redirect-to
//   as-redirect               AS metadata URLs answer 302 to --redirect-to
//   as-wrong-types            AS metadata: endpoints as a number, an array and a boolean, scopes as a string
//   as-issuer-mismatch        AS metadata names the issuer http://evil.example
//   as-issuer-slash           AS metadata names the issuer with a trailing slash added
//   as-no-s256                code_challenge_methods_supported: ["plain"]
//   as-no-pkce-field          no code_challenge_methods_supported at all
//   auth-endpoint-javascript  authorization_endpoint javascript:alert(document.cookie)//
//   auth-endpoint-file        authorization_endpoint file:///etc/passwd
//   auth-endpoint-data        authorization_endpoint data:text/html,<script>alert(1)</script>
//   callback-iss-mismatch     /authorize redirects with iss=http://evil.example (and a good code)
//   callback-error-iss-mismatch  /authorize redirects with error=access_denied,
//                             error_description=ATTACKER-CONTROLLED-TEXT-7f3a and iss=http://evil.example
//   prm-as-target             PRM names --target as its (only) authorization server
//   token-endpoint-target     AS metadata: token_endpoint is --target
//   registration-endpoint-target  AS metadata: registration_endpoint is --target
//   revocation-endpoint-target    AS metadata: revocation_endpoint is --target
//   resource-metadata-target  the MCP server's 401 names --target as resource_metadata
//   refresh-drip              refresh grants: 200 and the headers at once, then the
//                             JSON body one byte a second (a hung exchange that never
//                             trips a read timeout)
//   refresh-503               refresh grants: 503 {"error":"temporarily_unavailable"}
//                             (the code exchange still works)
// --target URL: the URL the *-target cases name (e.g. http://127.0.0.1:<port> of a
//   listener the test watches).
// --token-delay-ms N: /token waits N ms before answering (a slow code exchange).
//
// --event-log FILE: JSON lines {event, time, ...}; event: registration |
//   authorization (code issued) | token (code exchanged) | refresh |
//   token_error {reason} | revocation | token_request {grant_type, client_id,
//   secret (true when a client secret came, basic or post), inflight (refresh
//   requests open at this AS, this one included)}, logged as each /token
//   request arrives, before anything is answered.
// --request-log FILE: JSON lines {time, method, path, bearer, auth,
//   jsonrpcMethod, jsonrpcId, status}; bearer = the first 16 hex digits of the
//   SHA-256 of the bearer token sent (null when none), never the token.

import http from 'node:http';
import https from 'node:https';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { answerMcp, describeJsonRpc, readBody } from './mini-mcp.mjs';
import {
  appendJsonLine, listen, makeLog, onResponseHead, parseCommandLine, stopOnSignals, trackSockets,
} from './common.mjs';

// ---------------------------------------------------------------------------
// Command line

const MISBEHAVIOURS = [
  'prm-not-json', 'prm-other-resource', 'prm-redirect', 'as-redirect', 'as-wrong-types',
  'as-issuer-mismatch', 'as-issuer-slash', 'as-no-s256', 'as-no-pkce-field',
  'auth-endpoint-javascript', 'auth-endpoint-file', 'auth-endpoint-data',
  'callback-iss-mismatch', 'callback-error-iss-mismatch',
  'prm-as-target', 'token-endpoint-target', 'registration-endpoint-target', 'revocation-endpoint-target',
  'resource-metadata-target', 'refresh-drip', 'refresh-503',
];
const { opts, port, fail } = parseCommandLine({
  name: 'hostile-auth-server',
  usage: 'usage: node tests/servers/hostile-auth-server.mjs [--role both|as|rs] [--port N] [--issuer URL] [--key-file FILE] [--access-token-ttl S] [--misbehave CASES] [--redirect-to URL] [--other-resource URL] [--token-delay-ms N] [--event-log FILE] [--request-log FILE] [--print-tokens] [--quiet] [--tls-cert FILE --tls-key FILE] [--host NAME] [--target URL] [--client ID:SECRET]\n'
    + `misbehaviours: ${MISBEHAVIOURS.join(', ')}`,
  options: {
    role: { type: 'string', default: 'both' },
    issuer: { type: 'string' },
    'key-file': { type: 'string' },
    'access-token-ttl': { type: 'string', default: '300' },
    misbehave: { type: 'string', default: '' },
    'redirect-to': { type: 'string' },
    'other-resource': { type: 'string', default: 'http://127.0.0.1:9/mcp' },
    'token-delay-ms': { type: 'string', default: '0' },
    'event-log': { type: 'string' },
    'request-log': { type: 'string' },
    'print-tokens': { type: 'boolean', default: false },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    target: { type: 'string' },
    client: { type: 'string' },
  },
  check: (o, fail) => {
    if (!['both', 'as', 'rs'].includes(o.role)) fail(`unknown --role ${o.role}`);
    if (o.role === 'rs' && !(o.issuer && URL.canParse(o.issuer))) fail('--role rs needs --issuer URL');
    if (Boolean(o['tls-cert']) !== Boolean(o['tls-key'])) fail('--tls-cert and --tls-key go together');
    if (o.client && !/^[^:]+:.+$/.test(o.client)) fail('--client needs ID:SECRET');
  },
});
const role = opts.role;
const ttl = Number(opts['access-token-ttl']);
if (!Number.isInteger(ttl) || ttl < 1) fail(`bad --access-token-ttl ${opts['access-token-ttl']}`);
const tokenDelayMs = Number(opts['token-delay-ms']);
const misbehave = new Set(opts.misbehave.split(',').map((s) => s.trim()).filter(Boolean));
for (const m of misbehave) if (!MISBEHAVIOURS.includes(m)) fail(`unknown misbehaviour ${m}`);
if ((misbehave.has('prm-redirect') || misbehave.has('as-redirect')) && !opts['redirect-to']) fail('prm-redirect and as-redirect need --redirect-to URL');
if ([...misbehave].some((m) => m.endsWith('-target')) && !opts.target) fail('the *-target misbehaviours need --target URL');
const tls = opts['tls-cert'] ? { cert: readFileSync(opts['tls-cert']), key: readFileSync(opts['tls-key']) } : undefined;
const [clientId, clientSecret] = opts.client ? [opts.client.slice(0, opts.client.indexOf(':')), opts.client.slice(opts.client.indexOf(':') + 1)] : [];

const serveAs = role !== 'rs';
const serveRs = role !== 'as';
const log = makeLog(`hostile-auth ${role}`, opts.quiet);
const event = (name, fields = {}) => {
  appendJsonLine(opts['event-log'], { event: name, ...fields, time: new Date().toISOString() });
  log(`event ${name} ${JSON.stringify(fields)}`);
};

// ---------------------------------------------------------------------------
// The key, and what it signs

function loadKey() {
  const file = opts['key-file'];
  if (file && existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  const key = randomBytes(32);
  if (file) writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600 });
  return key;
}
const KEY = loadKey();

const b64 = (buf) => Buffer.from(buf).toString('base64url');
const mac = (text) => createHmac('sha256', KEY).update(text).digest('base64url');
const sameText = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const fingerprint = (token) => createHash('sha256').update(token).digest('hex').slice(0, 16);

/** `<kind>.<payload>.<mac>`: client ids, codes and refresh tokens. */
function seal(kind, obj) {
  const payload = b64(JSON.stringify(obj));
  return `${kind}.${payload}.${mac(`${kind}.${payload}`)}`;
}
function unseal(kind, text) {
  const parts = String(text ?? '').split('.');
  if (parts.length !== 3 || parts[0] !== kind || !sameText(parts[2], mac(`${kind}.${parts[1]}`))) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function signJwt(claims) {
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' }));
  const body = b64(JSON.stringify(claims));
  return `${head}.${body}.${mac(`${head}.${body}`)}`;
}
function verifyJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3 || !sameText(parts[2], mac(`${parts[0]}.${parts[1]}`))) throw new Error('bad signature');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// ---------------------------------------------------------------------------
// Addresses (known once listening)

let origin;
let issuer;
let mcpUrl;
let prmUrl;

const USER = { sub: 'hostile-user-1', email: 'alice@example.test' };
const SCOPES = ['read', 'offline_access'];
const EVIL_ISSUER = 'http://evil.example';
const ATTACKER_TEXT = 'ATTACKER-CONTROLLED-TEXT-7f3a';

// ---------------------------------------------------------------------------
// Responses

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
function sendHtml(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!DOCTYPE html><html><body><h1>hostile-auth-server</h1><p>${text.replace(/[<>&]/g, '')}</p></body></html>`);
}
const redirect = (res, location) => { res.writeHead(302, { Location: location, 'Content-Length': '0' }).end(); };

// ---------------------------------------------------------------------------
// Metadata

function resourceMetadata(res) {
  if (misbehave.has('prm-redirect')) return redirect(res, opts['redirect-to']);
  if (misbehave.has('prm-not-json')) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('<!DOCTYPE html><html><body><h1>Protected resource</h1><p>{"resource": oops</p></body></html>');
    return undefined;
  }
  return sendJson(res, 200, {
    resource: misbehave.has('prm-other-resource') ? opts['other-resource'] : mcpUrl,
    authorization_servers: [misbehave.has('prm-as-target') ? opts.target : issuer],
    scopes_supported: ['read'],
    bearer_methods_supported: ['header'],
  });
}

function serverMetadata(res) {
  if (misbehave.has('as-redirect')) return redirect(res, opts['redirect-to']);
  const meta = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: `${issuer}/revoke`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: clientId ? ['none', 'client_secret_basic', 'client_secret_post'] : ['none'],
    scopes_supported: SCOPES,
    authorization_response_iss_parameter_supported: true,
  };
  if (misbehave.has('as-wrong-types')) {
    meta.authorization_endpoint = 12345;
    meta.token_endpoint = [`${issuer}/token`];
    meta.registration_endpoint = true;
    meta.scopes_supported = 'read offline_access';
    meta.response_types_supported = 'code';
  }
  if (misbehave.has('as-issuer-mismatch')) meta.issuer = EVIL_ISSUER;
  if (misbehave.has('as-issuer-slash')) meta.issuer = `${issuer}/`;
  if (misbehave.has('as-no-s256')) meta.code_challenge_methods_supported = ['plain'];
  if (misbehave.has('as-no-pkce-field')) delete meta.code_challenge_methods_supported;
  if (misbehave.has('auth-endpoint-javascript')) meta.authorization_endpoint = 'javascript:alert(document.cookie)//';
  if (misbehave.has('auth-endpoint-file')) meta.authorization_endpoint = 'file:///etc/passwd';
  if (misbehave.has('auth-endpoint-data')) meta.authorization_endpoint = 'data:text/html,<script>alert(1)</script>';
  if (clientId) meta.grant_types_supported.push('client_credentials');
  if (misbehave.has('token-endpoint-target')) meta.token_endpoint = opts.target;
  if (misbehave.has('registration-endpoint-target')) meta.registration_endpoint = opts.target;
  if (misbehave.has('revocation-endpoint-target')) meta.revocation_endpoint = opts.target;
  return sendJson(res, 200, meta);
}

// ---------------------------------------------------------------------------
// The AS endpoints

function isLoopbackRedirect(uri) {
  const u = URL.parse(uri);
  return u !== null && u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname) && !u.hash;
}

async function register(req, res) {
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return sendJson(res, 400, { error: 'invalid_client_metadata', error_description: 'not JSON' });
  }
  const redirectUris = Array.isArray(body.redirect_uris) ? body.redirect_uris : [];
  if (!redirectUris.length || !redirectUris.every(isLoopbackRedirect)) {
    return sendJson(res, 400, { error: 'invalid_redirect_uri', error_description: 'loopback http redirect URIs only' });
  }
  const clientId = seal('cl', { n: randomBytes(6).toString('hex') });
  event('registration', { client_id: clientId, application_type: body.application_type, redirect_uris: redirectUris });
  return sendJson(res, 201, {
    client_id: clientId,
    client_id_issued_at: Math.floor(Date.now() / 1000),
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: body.application_type ?? 'native',
  });
}

function grantedScope(asked) {
  const wanted = String(asked ?? '').split(' ').filter((s) => SCOPES.includes(s));
  return wanted.length ? [...new Set(wanted)].join(' ') : 'read';
}

function authorize(req, res, url) {
  const p = url.searchParams;
  const fail = (why) => {
    event('authorization_refused', { reason: why });
    return sendHtml(res, 400, `authorization refused: ${why}`);
  };
  if (p.get('response_type') !== 'code') return fail('response_type must be code');
  if (!unseal('cl', p.get('client_id'))) return fail('unknown client_id');
  const redirectUri = p.get('redirect_uri') ?? '';
  if (!isLoopbackRedirect(redirectUri)) return fail('redirect_uri must be a loopback http URI');
  if (p.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(p.get('code_challenge') ?? '')) return fail('PKCE S256 required');
  const target = new URL(redirectUri);
  const state = p.get('state');
  if (misbehave.has('callback-error-iss-mismatch')) {
    target.searchParams.set('error', 'access_denied');
    target.searchParams.set('error_description', `${ATTACKER_TEXT} visit http://evil.example to fix your account`);
    if (state !== null) target.searchParams.set('state', state);
    target.searchParams.set('iss', EVIL_ISSUER);
    event('authorization', { client_id: p.get('client_id'), error: 'access_denied', iss: EVIL_ISSUER });
    return redirect(res, target.href);
  }
  const code = seal('code', {
    client_id: p.get('client_id'),
    redirect_uri: redirectUri,
    code_challenge: p.get('code_challenge'),
    resource: p.get('resource'),
    scope: grantedScope(p.get('scope')),
    exp: Date.now() + 60_000,
    n: randomBytes(6).toString('hex'),
  });
  target.searchParams.set('code', code);
  if (state !== null) target.searchParams.set('state', state);
  const iss = misbehave.has('callback-iss-mismatch') ? EVIL_ISSUER : issuer;
  target.searchParams.set('iss', iss);
  event('authorization', { client_id: p.get('client_id'), scope: grantedScope(p.get('scope')), resource: p.get('resource'), iss });
  return redirect(res, target.href);
}

const usedCodes = new Set();

function issueTokens(res, { clientId, scope, resource, grant }) {
  const now = Math.floor(Date.now() / 1000);
  const accessToken = signJwt({
    iss: issuer,
    sub: USER.sub,
    email: USER.email,
    aud: resource ?? 'urn:hostile-auth-server:no-resource',
    scope,
    client_id: clientId,
    iat: now,
    exp: now + ttl,
    jti: randomBytes(8).toString('hex'),
  });
  const refreshToken = seal('rt', { client_id: clientId, scope, resource, n: randomBytes(8).toString('hex') });
  event(grant, { client_id: clientId, scope, resource, access: fingerprint(accessToken) });
  if (opts['print-tokens']) process.stdout.write(`ISSUED ${JSON.stringify({ access_token: accessToken, refresh_token: refreshToken })}\n`);
  return sendJson(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, refresh_token: refreshToken, scope });
}

/** The client credentials of a token request: {id, secret} from Basic or the form. */
function clientCredentials(req, form) {
  const m = /^Basic +(\S+)$/i.exec(req.headers.authorization ?? '');
  if (m) {
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon >= 0) return { id: decodeURIComponent(text.slice(0, colon)), secret: decodeURIComponent(text.slice(colon + 1)) };
  }
  return { id: form.get('client_id'), secret: form.get('client_secret') ?? undefined };
}

let refreshesInFlight = 0;

/** refresh-drip: the head at once, then the body one byte a second, for as long as the client stays. */
function drip(res, body) {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
  let i = 0;
  const timer = setInterval(() => {
    if (i >= body.length || res.destroyed) { clearInterval(timer); res.end(); return; }
    res.write(body[i++]);
  }, 1000);
  res.on('close', () => clearInterval(timer));
}

async function token(req, res) {
  const form = new URLSearchParams(await readBody(req));
  const grantType = form.get('grant_type');
  const creds = clientCredentials(req, form);
  const isRefresh = grantType === 'refresh_token';
  if (isRefresh) {
    refreshesInFlight += 1;
    res.on('close', () => { refreshesInFlight -= 1; });
  }
  event('token_request', { grant_type: grantType, client_id: creds.id, secret: Boolean(creds.secret), inflight: isRefresh ? refreshesInFlight : undefined });
  if (tokenDelayMs > 0) await new Promise((r) => setTimeout(r, tokenDelayMs));
  const fail = (status, error, reason) => {
    event('token_error', { grant_type: form.get('grant_type'), error, reason });
    return sendJson(res, status, { error, error_description: reason });
  };
  if (isRefresh && misbehave.has('refresh-503')) return fail(503, 'temporarily_unavailable', 'refresh-503');
  if (isRefresh && misbehave.has('refresh-drip')) {
    event('token_error', { grant_type: grantType, error: 'drip', reason: 'refresh-drip' });
    return drip(res, JSON.stringify({ error: 'temporarily_unavailable', error_description: 'x'.repeat(200) }));
  }
  if (clientId && creds.id === clientId && creds.secret !== undefined && !sameText(creds.secret, clientSecret)) return fail(401, 'invalid_client', 'wrong client secret');
  if (grantType === 'client_credentials') {
    if (!clientId || creds.id !== clientId || creds.secret === undefined) return fail(401, 'invalid_client', 'client_credentials needs the pre-registered client and its secret');
    return issueTokens(res, { clientId, scope: grantedScope(form.get('scope')), resource: form.get('resource') ?? undefined, grant: 'token' });
  }
  if (grantType === 'authorization_code') {
    const codeText = form.get('code') ?? '';
    const code = unseal('code', codeText);
    if (!code) return fail(400, 'invalid_grant', 'unknown code');
    if (usedCodes.has(codeText)) return fail(400, 'invalid_grant', 'code already used');
    usedCodes.add(codeText);
    if (code.exp < Date.now()) return fail(400, 'invalid_grant', 'code expired');
    if (form.get('client_id') !== code.client_id) return fail(400, 'invalid_grant', 'client_id does not match the code');
    if (form.get('redirect_uri') !== code.redirect_uri) return fail(400, 'invalid_grant', 'redirect_uri does not match');
    const verifier = form.get('code_verifier') ?? '';
    if (b64(createHash('sha256').update(verifier).digest()) !== code.code_challenge) return fail(400, 'invalid_grant', 'PKCE verification failed');
    const resource = form.get('resource') ?? code.resource ?? undefined;
    if (code.resource && resource !== code.resource) return fail(400, 'invalid_target', 'resource differs from the authorization request');
    return issueTokens(res, { clientId: code.client_id, scope: code.scope, resource, grant: 'token' });
  }
  if (grantType === 'refresh_token') {
    const rt = unseal('rt', form.get('refresh_token'));
    if (!rt) return fail(400, 'invalid_grant', 'unknown refresh token');
    if (rt.client_id === clientId && creds.secret === undefined) return fail(401, 'invalid_client', 'the pre-registered client must authenticate');
    if (form.get('client_id') && form.get('client_id') !== rt.client_id) return fail(400, 'invalid_grant', 'client_id does not match');
    const resource = form.get('resource') ?? rt.resource ?? undefined;
    if (rt.resource && resource !== rt.resource) return fail(400, 'invalid_target', 'resource differs from the grant');
    return issueTokens(res, { clientId: rt.client_id, scope: rt.scope, resource, grant: 'refresh' });
  }
  return fail(400, 'unsupported_grant_type', `grant_type ${grantType}`);
}

async function revoke(req, res) {
  const form = new URLSearchParams(await readBody(req));
  event('revocation', { token_type_hint: form.get('token_type_hint'), known: Boolean(unseal('rt', form.get('token'))) });
  res.writeHead(200).end();
}

// ---------------------------------------------------------------------------
// The MCP resource server

const tools = {
  whoami: async (_args, req) => JSON.stringify(req.claims ? { sub: req.claims.sub, email: req.claims.email, aud: req.claims.aud, scope: req.claims.scope } : {}),
  echo: async (args) => String(args.text ?? ''),
};

function authenticate(req) {
  const header = req.headers.authorization;
  if (header === undefined) return { auth: 'none' };
  const m = /^Bearer +(\S+)$/i.exec(header);
  if (!m) return { auth: 'invalid: malformed Authorization header' };
  try {
    const claims = verifyJwt(m[1]);
    if (claims.iss !== (role === 'rs' ? opts.issuer : issuer)) return { token: m[1], auth: 'invalid: iss' };
    if (claims.aud !== mcpUrl) return { token: m[1], auth: `invalid: aud ${claims.aud}` };
    if (!(claims.exp > Date.now() / 1000)) return { token: m[1], auth: 'invalid: expired' };
    return { token: m[1], claims, auth: 'valid' };
  } catch (err) {
    return { token: m[1], auth: `invalid: ${err.message}` };
  }
}

async function mcp(req, res, record) {
  const { token: bearer, claims, auth } = authenticate(req);
  record.bearer = bearer ? fingerprint(bearer) : null;
  record.auth = auth;
  const body = await readBody(req);
  Object.assign(record, describeJsonRpc(body));
  if (!claims) {
    const params = [`resource_metadata="${misbehave.has('resource-metadata-target') ? opts.target : prmUrl}"`, 'scope="read"'];
    if (bearer) params.push('error="invalid_token"');
    return sendJson(res, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': `Bearer ${params.join(', ')}` });
  }
  req.claims = claims;
  await answerMcp(req, res, body, tools);
  return undefined;
}

// ---------------------------------------------------------------------------
// HTTP

async function route(req, res, url, record) {
  const path = url.pathname;
  if (serveRs && (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource')) return resourceMetadata(res);
  if (serveAs && (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration')) return serverMetadata(res);
  if (serveAs && path === '/register' && req.method === 'POST') return register(req, res);
  if (serveAs && path === '/authorize' && req.method === 'GET') return authorize(req, res, url);
  if (serveAs && path === '/token' && req.method === 'POST') return token(req, res);
  if (serveAs && path === '/revoke' && req.method === 'POST') return revoke(req, res);
  if (serveRs && path === '/mcp') return mcp(req, res, record);
  return sendJson(res, 404, { error: 'not_found', path });
}

const server = (tls ? (handler) => https.createServer(tls, handler) : http.createServer)((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const record = { time: Date.now(), method: req.method, path: url.pathname, bearer: null, auth: undefined, status: null };
  onResponseHead(res, (status) => {
    record.status = status;
    appendJsonLine(opts['request-log'], record);
    log(`${req.method} ${url.pathname} ${record.jsonrpcMethod ?? ''} -> ${status}${record.auth && record.auth !== 'valid' ? ` (${record.auth})` : ''}`);
  });
  route(req, res, url, record).catch((err) => {
    log(`handler error: ${err.stack ?? err}`);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    else res.destroy();
  });
});
const sockets = trackSockets(server);
server.keepAliveTimeout = 60_000;

listen(server, port, (actual) => {
  origin = `${tls ? 'https' : 'http'}://${opts.host}:${actual}`;
  issuer = role === 'rs' ? opts.issuer : origin;
  mcpUrl = `${origin}/mcp`;
  prmUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
}).then(() => {
  log(`${serveAs ? `AS ${issuer}` : ''}${serveAs && serveRs ? '; ' : ''}${serveRs ? `MCP ${mcpUrl} (AS ${issuer})` : ''}; misbehaving: ${[...misbehave].join(', ') || 'no'}`);
});
stopOnSignals(server, { sockets, graceMs: 500 });
