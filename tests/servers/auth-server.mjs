#!/usr/bin/env node
// A real OAuth 2.1 / OpenID Connect authorization server for testing
// mcp-auth's login flows, built on `oidc-provider`.
//
//   node tests/servers/auth-server.mjs --config standard|cognito [--port 0]
//        [--access-token-ttl SECONDS] [--resource URL] [--event-log FILE]
//        [--print-tokens] [--token-padding BYTES] [--quiet]
//
// Listens on 127.0.0.1 (port 0 = chosen by the OS), issuer
// `http://127.0.0.1:<port>`, and prints exactly one line `LISTENING <port>`
// on stdout when ready; everything else goes to stderr (and, with
// --print-tokens, `ISSUED {...}` lines on stdout: see below).
//
// Users (login form, password checked):
//   dev@example.com   / dev-password    sub dev-1,   name "Dev User"
//   admin@example.com / admin-password  sub admin-1, name "Admin User"
// dev may be granted only the "search" resource scope; admin gets both
// "search" and "extract" (so a step-up succeeds for admin and fails for dev).
// A scope the user may not have is left out of the grant, not an error.
//
// --config standard:
//   authorization code + PKCE (S256 required), open dynamic client
//   registration (defaults: application_type native, so loopback redirect URIs
//   match on any port; token_endpoint_auth_method none; grant types
//   authorization_code + refresh_token; a requested `scope` is dropped, not
//   stored as an allow-list), refresh tokens always issued to
//   clients allowed the refresh_token grant (no offline_access needed) and
//   rotated on every use, RFC 8707 resource indicators: any http loopback
//   resource (or --resource) gets a JWT access token (RS256, aud = resource);
//   without a `resource` parameter the resource defaults to --resource.
//   Scopes: openid profile email offline_access search extract. Revocation.
//   client_credentials for the pre-registered confidential client
//   machine-agent / machine-secret (client_secret_basic; its tokens carry
//   "search" at most, whatever it asks for).
//   RFC 9207 `iss` in authorization responses.
// --config cognito (shaped like Amazon Cognito):
//   no dynamic registration; one public client `cognito-public-client`
//   (redirect http://127.0.0.1/callback or http://localhost/callback on any
//   port, PKCE); scopes openid email tavily-mcp/search tavily-mcp/extract (dev
//   gets only tavily-mcp/search); JWT access tokens WITHOUT `aud`, carrying
//   client_id, username, token_use "access" and a `scope` claim with every
//   granted scope (the token response's `scope` is the same list); OIDC
//   discovery only (/.well-known/oauth-authorization-server is a 404) and its
//   metadata omits code_challenge_methods_supported, as Cognito's does.
//
// --access-token-ttl SECONDS (default 300) applies to every access token.
// --event-log FILE appends one JSON line per event:
//   {event, client_id, sub, scope, time, ...}
//   event: registration | authorization (code issued) | token (code
//   exchanged) | refresh | client_credentials | revocation (with token_kind
//   and ok: whether a token was found and revoked).
// --print-tokens writes `ISSUED {"access_token":...,"refresh_token":...}` on
//   stdout for each token response, so a test can search logs and disks for
//   the exact token text without the server ever writing a token to a file.

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { loadAuthServerDeps } from '../integration/server-deps.mjs';
import { appendJsonLine, listen, makeLog, parseCommandLine, stopOnSignals } from './common.mjs';

// ---------------------------------------------------------------------------
// Command line

const { opts, port, fail } = parseCommandLine({
  name: 'auth-server',
  usage: 'usage: node tests/servers/auth-server.mjs --config standard|cognito [--port N] [--access-token-ttl SECONDS] [--resource URL] [--event-log FILE] [--print-tokens] [--token-padding BYTES] [--quiet]',
  options: {
    config: { type: 'string', default: 'standard' },
    'access-token-ttl': { type: 'string', default: '300' },
    resource: { type: 'string' },
    'event-log': { type: 'string' },
    'print-tokens': { type: 'boolean', default: false },
    'token-padding': { type: 'string', default: '0' },
  },
  check: (o, fail) => {
    if (!['standard', 'cognito'].includes(o.config)) fail(`unknown --config ${o.config}`);
  },
});
const config = opts.config;
const accessTokenTtl = Number(opts['access-token-ttl']);
if (!Number.isInteger(accessTokenTtl) || accessTokenTtl < 1) fail(`bad --access-token-ttl ${opts['access-token-ttl']}`);
// --token-padding BYTES: user access tokens carry a `groups` claim of about that many
// bytes, as Entra ID's group lists make real tokens big (a Windows credential blob holds
// 2,560 bytes).
const tokenPadding = Number(opts['token-padding']);
if (!Number.isInteger(tokenPadding) || tokenPadding < 0) fail(`bad --token-padding ${opts['token-padding']}`);
const paddingClaim = () => {
  const groups = [];
  for (let i = 0; groups.join('","').length < tokenPadding; ++i) groups.push(`group-${String(i).padStart(4, '0')}-${randomBytes(8).toString('hex')}`);
  return groups;
};
if (opts.resource !== undefined && !URL.canParse(opts.resource)) fail(`bad --resource ${opts.resource}`);

const log = makeLog(`auth-server ${config}`, opts.quiet);

function event(name, fields) {
  const line = { event: name, ...fields, time: new Date().toISOString() };
  log(`event ${JSON.stringify(line)}`);
  appendJsonLine(opts['event-log'], line);
}

// ---------------------------------------------------------------------------
// Users and the per-config scope policy

const USERS = new Map([
  ['dev@example.com', { sub: 'dev-1', email: 'dev@example.com', password: 'dev-password', name: 'Dev User', role: 'developer' }],
  ['admin@example.com', { sub: 'admin-1', email: 'admin@example.com', password: 'admin-password', name: 'Admin User', role: 'admin' }],
]);
const userBySub = (sub) => [...USERS.values()].find((u) => u.sub === sub);

const PROFILES = {
  standard: {
    title: 'mcp-auth test authorization server',
    oidcScopes: ['openid', 'profile', 'email', 'offline_access'],
    resourceScopes: ['search', 'extract'],
    // Resource scopes each role may be granted.
    allowed: { developer: ['search'], admin: ['search', 'extract'] },
  },
  cognito: {
    title: 'Tavily MCP Wrapper (Cognito-style hosted UI)',
    oidcScopes: ['openid', 'email', 'profile'],
    resourceScopes: ['tavily-mcp/search', 'tavily-mcp/extract'],
    allowed: { developer: ['tavily-mcp/search'], admin: ['tavily-mcp/search', 'tavily-mcp/extract'] },
  },
};
const profile = PROFILES[config];

/** The resource used when a request names none: --resource, or (cognito) a fixed pool identifier. */
const DEFAULT_RESOURCE = opts.resource ?? (config === 'cognito' ? 'urn:tavily-mcp:user-pool' : undefined);

function isLoopbackHttp(indicator) {
  const u = URL.parse(indicator);
  return u !== null && u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

// ---------------------------------------------------------------------------
// HTML pages for the login and consent interactions (plain forms: a script
// and a real browser submit them the same way)

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto}input{display:block;width:100%;margin:.3em 0 1em}.error{color:#b00}</style>
</head>
<body>
<p>${esc(profile.title)}</p>
${body}
</body>
</html>
`;
}

function loginPage(uid, clientId, error) {
  return page('Sign in', `<h1>Sign in</h1>
<p>to continue to <strong>${esc(clientId)}</strong></p>
${error ? `<p class="error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Email <input type="email" name="email" autocomplete="username" required autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`);
}

function consentPage(uid, clientId, user, granted, denied) {
  const list = (items) => items.map((s) => `<li>${esc(s)}</li>`).join('');
  return page('Authorize', `<h1>Authorize ${esc(clientId)}</h1>
<p>Signed in as <strong>${esc(user.email)}</strong>.</p>
<p>The application will get:</p><ul id="granted">${list(granted)}</ul>
${denied.length ? `<p>Not available to your account (left out):</p><ul id="denied">${list(denied)}</ul>` : ''}
<form method="post" action="/interaction/${esc(uid)}/confirm">
<button type="submit">Allow</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
<button type="submit">Deny</button>
</form>`);
}

function sendHtml(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy(new Error('form too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// The provider

const { Provider, errors, jose } = await loadAuthServerDeps();

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: `as-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' };

function buildProvider(issuer) {
  const clients = [];
  if (config === 'standard') {
    clients.push({
      client_id: 'machine-agent',
      client_secret: 'machine-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  } else {
    clients.push({
      client_id: 'cognito-public-client',
      client_name: 'Tavily MCP (Cognito app client)',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
    });
  }

  // The machine client may only ever get "search" (asking for more is not an
  // error: the token carries what it may have).
  const resourceServer = (indicator, client) => ({
    scope: client?.clientId === 'machine-agent' ? 'search' : profile.resourceScopes.join(' '),
    audience: indicator,
    accessTokenFormat: 'jwt',
    accessTokenTTL: accessTokenTtl,
    jwt: { sign: { alg: 'RS256' } },
  });

  return new Provider(issuer, {
    clients,
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // The resource scopes are listed here too: dynamic registration checks a
    // client's `scope` against this list, and clients register with the
    // scopes they will ask for.
    scopes: [...profile.oidcScopes, ...profile.resourceScopes],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    clientDefaults: {
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'RS256',
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      registration: {
        enabled: config === 'standard',
        // A registered `scope` would become an allow-list (oidc-provider
        // refuses later requests for other scopes, e.g. a step-up's union):
        // drop it, as RFC 7591 section 3.2.1 lets a server replace requested
        // metadata. What a user gets is decided at consent instead.
        idFactory: (ctx) => {
          if (ctx.oidc.body && 'scope' in ctx.oidc.body) delete ctx.oidc.body.scope;
          return randomBytes(18).toString('base64url');
        },
      },
      revocation: { enabled: true },
      clientCredentials: { enabled: config === 'standard' },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => DEFAULT_RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator, client) => {
          if (indicator === DEFAULT_RESOURCE || isLoopbackHttp(indicator)) return resourceServer(indicator, client);
          throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        },
      },
    },
    // Refresh tokens for every client allowed the grant, whether or not
    // offline_access was asked for (oidc-provider drops offline_access
    // without prompt=consent), rotated on each use and never tied to the
    // browser session.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    expiresWithSession: async () => false,
    extraTokenClaims: async (_ctx, token) => {
      const user = token.accountId ? userBySub(token.accountId) : undefined;
      if (!user) return undefined;
      const shape = config === 'cognito' ? { username: user.email, token_use: 'access' } : { email: user.email };
      return tokenPadding ? { ...shape, groups: paddingClaim() } : shape;
    },
    findAccount: async (_ctx, sub) => {
      const user = userBySub(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: user.email, email_verified: true, name: user.name, preferred_username: user.email }),
      };
    },
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: () => accessTokenTtl,
      ClientCredentials: () => accessTokenTtl,
      AuthorizationCode: () => 60,
      IdToken: () => 3600,
      RefreshToken: () => 24 * 3600,
      Interaction: () => 600,
      Session: () => 3600,
      Grant: () => 24 * 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Error</h1>${Object.entries(out).map(([k, v]) => `<p><strong>${esc(k)}</strong>: ${esc(v)}</p>`).join('')}`);
    },
  });
}

// ---------------------------------------------------------------------------
// Events and response shaping

function installHooks(provider) {
  provider.on('registration_create.success', (_ctx, client) => {
    event('registration', { client_id: client.clientId, redirect_uris: client.redirectUris, application_type: client.applicationType, token_endpoint_auth_method: client.clientAuthMethod });
  });
  provider.on('authorization.success', (ctx) => {
    const code = ctx.oidc.entities.AuthorizationCode;
    event('authorization', { client_id: ctx.oidc.client?.clientId, sub: code?.accountId, scope: code?.scope, resource: ctx.oidc.params.resource });
  });
  provider.on('server_error', (_ctx, err) => log(`server_error: ${err.stack ?? err}`));
  for (const name of ['authorization.error', 'grant.error', 'registration_create.error', 'revocation.error', 'discovery.error']) {
    provider.on(name, (_ctx, err) => log(`${name}: ${err.error ?? err.name}: ${err.error_description ?? err.message}`));
  }

  // Koa middleware around every provider route: runs after the route answered.
  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (route === 'revocation') {
      const found = Object.keys(ctx.oidc.entities).find((k) => ['AccessToken', 'RefreshToken', 'ClientCredentials'].includes(k));
      const token = found ? ctx.oidc.entities[found] : undefined;
      event('revocation', { client_id: ctx.oidc.client?.clientId, sub: token?.accountId, scope: token?.scope, token_kind: found ?? null, ok: ctx.status === 200 && Boolean(found), status: ctx.status });
    }
    if (route === 'discovery' && config === 'cognito') delete ctx.body.code_challenge_methods_supported;
    if (route === 'token' && ctx.status === 200 && ctx.body?.access_token) {
      if (config === 'cognito') await cognitoShape(ctx);
      const kinds = { authorization_code: 'token', refresh_token: 'refresh', client_credentials: 'client_credentials' };
      const { params, entities } = ctx.oidc;
      event(kinds[params.grant_type] ?? params.grant_type, {
        client_id: ctx.oidc.client?.clientId,
        sub: entities.Account?.accountId ?? entities.RefreshToken?.accountId,
        scope: ctx.body.scope,
        resource: params.resource,
        refresh_token_issued: Boolean(ctx.body.refresh_token),
      });
      if (opts['print-tokens']) {
        process.stdout.write(`ISSUED ${JSON.stringify({ access_token: ctx.body.access_token, refresh_token: ctx.body.refresh_token ?? null })}\n`);
      }
    }
  });
}

/**
 * Cognito access tokens carry no `aud`: oidc-provider refuses to sign a JWT
 * access token without one, so the token it issued is re-signed here with the
 * same key, minus `aud`, plus every granted scope in `scope` (Cognito lists
 * OIDC and custom scopes together).
 */
async function cognitoShape(ctx) {
  const claims = jose.decodeJwt(ctx.body.access_token);
  const grant = ctx.oidc.entities.Grant;
  const scopes = new Set([...(grant?.getOIDCScope().split(' ') ?? []), ...(claims.scope ?? '').split(' ')].filter(Boolean));
  delete claims.aud;
  claims.scope = [...scopes].join(' ');
  ctx.body.access_token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid })
    .sign(privateKey);
  ctx.body.scope = claims.scope;
}

// ---------------------------------------------------------------------------
// Interactions: login, then consent (grants only what the user may have)

async function interaction(provider, req, res, path) {
  const m = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(path);
  if (!m) return sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));
  const [, uid, action] = m;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return sendHtml(res, 400, page('Error', '<h1>Stale sign-in page</h1><p>Start the sign-in again.</p>'));
  const clientId = details.params.client_id;

  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'login') return sendHtml(res, 200, loginPage(uid, clientId));
    const user = userBySub(details.session?.accountId);
    const { granted, denied } = planGrant(details, user);
    return sendHtml(res, 200, consentPage(uid, clientId, user, granted, denied));
  }
  if (req.method !== 'POST') return sendHtml(res, 405, page('Error', '<h1>Method not allowed</h1>'));
  const form = await readForm(req);

  if (action === 'login') {
    const user = USERS.get((form.get('email') ?? '').trim().toLowerCase());
    if (!user || user.password !== form.get('password')) {
      log(`login failed for ${JSON.stringify(form.get('email'))}`);
      return sendHtml(res, 200, loginPage(uid, clientId, 'Invalid email or password.'));
    }
    log(`login: ${user.email}`);
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }
  if (action === 'abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user denied the request' }, { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    const user = userBySub(details.session?.accountId);
    if (details.prompt.name !== 'consent' || !user) return sendHtml(res, 400, page('Error', '<h1>Sign in first</h1>'));
    const grantId = await saveGrant(provider, details, user);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));
}

/** What the consent will grant and leave out, from the prompt's missing scopes and the user's role. */
function planGrant(details, user) {
  const d = details.prompt.details ?? {};
  const allowed = new Set(profile.allowed[user?.role] ?? []);
  const mayHave = (scope) => allowed.has(scope) || !profile.resourceScopes.includes(scope);
  const oidc = (d.missingOIDCScope ?? []).filter(mayHave);
  const oidcDenied = (d.missingOIDCScope ?? []).filter((s) => !mayHave(s));
  const granted = [...oidc];
  const denied = [...oidcDenied];
  const resources = {};
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
    resources[indicator] = { granted: scopes.filter((s) => allowed.has(s)), denied: scopes.filter((s) => !allowed.has(s)) };
    granted.push(...resources[indicator].granted);
    denied.push(...resources[indicator].denied);
  }
  return { oidc, oidcDenied, claims: d.missingOIDCClaims ?? [], resources, granted: [...new Set(granted)], denied: [...new Set(denied)] };
}

async function saveGrant(provider, details, user) {
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: user.sub, clientId: details.params.client_id });
  const plan = planGrant(details, user);
  if (plan.oidc.length) grant.addOIDCScope(plan.oidc.join(' '));
  // Rejected scopes count as "encountered": the consent prompt does not come back for them.
  if (plan.oidcDenied.length) grant.rejectOIDCScope(plan.oidcDenied.join(' '));
  if (plan.claims.length) grant.addOIDCClaims(plan.claims);
  for (const [indicator, { granted, denied }] of Object.entries(plan.resources)) {
    if (granted.length) grant.addResourceScope(indicator, granted.join(' '));
    if (denied.length) grant.rejectResourceScope(indicator, denied.join(' '));
  }
  log(`consent: ${user.email} granted [${plan.granted.join(' ')}] denied [${plan.denied.join(' ')}]`);
  return grant.save();
}

// ---------------------------------------------------------------------------
// Main

let provider;
let providerCallback;

const httpServer = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  if (!provider) {
    res.writeHead(503).end();
    return;
  }
  if (config === 'cognito' && path.startsWith('/.well-known/oauth-authorization-server')) {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'not_found' }));
    return;
  }
  if (path.startsWith('/interaction/')) {
    interaction(provider, req, res, path).catch((err) => {
      log(`interaction error: ${err.stack ?? err}`);
      if (!res.headersSent) sendHtml(res, 400, page('Error', `<h1>Sign-in failed</h1><p>${esc(err.message)}</p>`));
      else res.destroy();
    });
    return;
  }
  providerCallback(req, res);
});

listen(httpServer, port, (actual) => {
  provider = buildProvider(`http://127.0.0.1:${actual}`);
  installHooks(provider);
  providerCallback = provider.callback();
}).then((actual) => {
  log(`issuer http://127.0.0.1:${actual}; access tokens live ${accessTokenTtl} s; default resource ${DEFAULT_RESOURCE ?? '(none)'}`);
});
stopOnSignals(httpServer, { log });
