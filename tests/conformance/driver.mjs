#!/usr/bin/env node
// The MCP host the conformance suite runs, with mcp-auth in between:
//
//   conformance client --command "exec node driver.mjs" --scenario NAME
//   -> sh -c "exec node driver.mjs <scenario server URL>"
//
// It plays the part of Claude Desktop or Cursor: it launches
// `$MCP_AUTH_BIN <url> [flags]` over stdio with the MCP SDK's Client and
// StdioClientTransport, initializes, lists the tools and calls the ones the
// scenarios expect, then closes stdin so mcp-auth ends its session and exits.
// Every OAuth step (discovery, registration, the login, refresh, step-up)
// is mcp-auth's; the driver only maps the scenario's context to mcp-auth's
// flags, exactly as a user would write them in a host's config.
//
// Each run gets its own empty token store (`--store file` under a fresh
// XDG_STATE_HOME and HOME), so nothing leaks between runs and no keyring is
// needed, and its own "browser" (browser.mjs) that follows the authorization
// redirect to mcp-auth's loopback callback.
//
// Exit status: 0 when everything the driver attempted worked, 1 otherwise
// (the suite tolerates a non-zero exit for scenarios where the client is
// expected to give up). The driver has its own deadline (DRIVER_DEADLINE_MS,
// default 25 s): when it passes, mcp-auth is killed and the driver exits 1,
// so a hanging proxy can never hang the harness. mcp-auth's stderr is piped
// and copied to the driver's stderr with a prefix, never inherited.
//
// Environment:
//   MCP_AUTH_BIN                 the binary (default: <repo>/build/mcp-auth)
//   MCP_CONFORMANCE_SCENARIO     set by the suite
//   MCP_CONFORMANCE_CONTEXT      set by the suite for some scenarios (JSON)
//   DRIVER_DEADLINE_MS           the driver's own deadline (default 25000)
//   DRIVER_REQUEST_TIMEOUT_MS    per MCP request (default 20000; the first one
//                                includes the login)

import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');
const BROWSER_SCRIPT = join(HERE, 'browser.mjs');

const DEADLINE_MS = Number(process.env.DRIVER_DEADLINE_MS || 25000);
const REQUEST_TIMEOUT_MS = Number(process.env.DRIVER_REQUEST_TIMEOUT_MS || 20000);

// The client ID metadata document URL the suite expects (it is never fetched).
export const CIMD_URL = 'https://conformance-test.local/client-metadata.json';

// Tools the scenario servers offer, and the arguments to call them with.
const KNOWN_TOOLS = {
  add_numbers: { a: 5, b: 3 },                   // tools_call
  test_client_elicitation_defaults: {},          // elicitation-sep1034-client-defaults
  test_reconnection: {},                         // sse-retry
  'test-tool': {},                               // every auth/* scenario
};

const say = (message) => process.stderr.write(`driver: ${message}\n`);

// ---------------------------------------------------------------------------
// The scenario context -> mcp-auth's command line and environment

/**
 * What a user would configure for this scenario. Returns { args, env, files }
 * where files are written into the run's private directory first.
 */
export function mcpAuthInvocation(scenario, context, url, privateDir) {
  const args = [url, '--store', 'file', '--verbose', '--login-timeout', '15', '--timeout', '15'];
  const env = {};
  const files = {};
  const ctx = context ?? {};

  if (scenario === 'auth/basic-cimd' || process.env.CONFORMANCE_CIMD === '1') {
    // The AS advertises client_id_metadata_document_supported; the suite
    // expects this URL as the client id. With CONFORMANCE_CIMD=1 every scenario
    // is run so, as a distribution that ships a metadata URL for every server
    // would: mcp-auth must use it only where the AS advertises support.
    args.push('--client-metadata-url', CIMD_URL);
  }

  if (scenario === 'auth/client-credentials-jwt') {
    // private_key_jwt client authentication (RFC 7523 §2.2) with a
    // pre-registered key; mcp-auth picks ES256 or RS256 from the key's type.
    const keyFile = join(privateDir, 'client-assertion-key.pem');
    files[keyFile] = ctx.private_key_pem ?? '';
    args.push('--client-credentials', '--client-id', ctx.client_id,
      '--client-assertion-key', keyFile);
  } else if (scenario === 'auth/cross-app-access-complete-flow') {
    // Enterprise-managed authorization (SEP-990): the IdP's ID token (from the
    // environment, never argv) is exchanged at the IdP for an ID-JAG (RFC 8693),
    // then the ID-JAG for an access token at the MCP server's AS (RFC 7523).
    args.push('--client-id', ctx.client_id,
      '--idp-token-endpoint', ctx.idp_token_endpoint,
      '--idp-client-id', ctx.idp_client_id);
    if (ctx.client_secret) env.MCP_AUTH_CLIENT_SECRET = ctx.client_secret;
    if (ctx.idp_id_token) env.MCP_AUTH_IDP_ID_TOKEN = ctx.idp_id_token;
  } else if (scenario.startsWith('auth/client-credentials')) {
    // Machine login: client credentials grant with the pre-registered client.
    args.push('--client-credentials', '--client-id', ctx.client_id);
    if (ctx.client_secret) env.MCP_AUTH_CLIENT_SECRET = ctx.client_secret;
  } else if (ctx.client_id) {
    // Pre-registration: the AS has no registration endpoint.
    args.push('--client-id', ctx.client_id);
    if (ctx.client_secret) env.MCP_AUTH_CLIENT_SECRET = ctx.client_secret;
  }
  return { args, env, files };
}

// ---------------------------------------------------------------------------
// Elicitation: what a host does when the user accepts a form with its defaults

function acceptWithDefaults(request) {
  const properties = request.params?.requestedSchema?.properties ?? {};
  const content = {};
  for (const [name, schema] of Object.entries(properties)) {
    if (schema && Object.hasOwn(schema, 'default')) content[name] = schema.default;
  }
  say(`elicitation accepted with defaults: ${JSON.stringify(content)}`);
  return { action: 'accept', content };
}

// ---------------------------------------------------------------------------
// The run

function parseContext() {
  const raw = process.env.MCP_CONFORMANCE_CONTEXT;
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch (err) {
    say(`MCP_CONFORMANCE_CONTEXT is not JSON (${err.message}); ignoring it`);
    return {};
  }
}

function describeError(err) {
  const data = err?.data ? ` ${JSON.stringify(err.data)}` : '';
  return `${err?.message ?? err}${data}`;
}

async function main() {
  const url = process.argv[process.argv.length - 1];
  if (process.argv.length < 3 || !/^https?:\/\//.test(url)) {
    say('usage: driver.mjs <MCP server URL> (the conformance suite appends it)');
    return 2;
  }
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const context = parseContext();
  const bin = resolve(process.env.MCP_AUTH_BIN || join(REPO_ROOT, 'build', 'mcp-auth'));
  if (!existsSync(bin)) {
    say(`mcp-auth binary not found at ${bin} (set MCP_AUTH_BIN)`);
    return 1;
  }
  if (/[\s:]/.test(process.execPath) || /[\s:]/.test(BROWSER_SCRIPT)) {
    // mcp-auth splits $MCP_AUTH_BROWSER on ':' and blanks.
    say(`cannot build MCP_AUTH_BROWSER: a path contains a blank or ':' (${process.execPath}, ${BROWSER_SCRIPT})`);
    return 1;
  }

  const privateDir = mkdtempSync(join(tmpdir(), 'mcp-auth-conformance-'));
  const { args, env: extraEnv, files } = mcpAuthInvocation(scenario, context, url, privateDir);
  for (const [path, content] of Object.entries(files)) {
    writeFileSync(path, content, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: privateDir,
    XDG_STATE_HOME: join(privateDir, 'state'),
    XDG_CONFIG_HOME: join(privateDir, 'config'),
    MCP_AUTH_STORE: 'file',
    MCP_AUTH_BROWSER: `${process.execPath} ${BROWSER_SCRIPT}`,
    ...extraEnv,
  };
  say(`scenario ${scenario || '(none)'}: ${bin} ${args.join(' ')}`);
  if (Object.keys(extraEnv).length) say(`with environment ${Object.keys(extraEnv).join(', ')} set`);

  const transport = new StdioClientTransport({ command: bin, args, env, stderr: 'pipe' });
  const lastWords = []; // mcp-auth's last stderr lines, to explain a closed connection
  transport.stderr?.on('data', (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      const text = line.replace(/^mcp-auth: /, '');
      process.stderr.write(`mcp-auth: ${text}\n`);
      lastWords.push(text);
      if (lastWords.length > 2) lastWords.shift();
    }
  });

  let finished = false;
  const cleanup = () => rmSync(privateDir, { recursive: true, force: true });
  const deadline = setTimeout(() => {
    if (finished) return;
    say(`deadline of ${DEADLINE_MS} ms passed: killing mcp-auth (pid ${transport.pid})`);
    try {
      if (transport.pid) process.kill(transport.pid, 'SIGKILL');
    } catch { /* already gone */ }
    cleanup();
    process.exit(1);
  }, DEADLINE_MS);

  const client = new Client(
    { name: 'mcp-auth-conformance-driver', version: '1.0.0' },
    { capabilities: { elicitation: {} } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (request) => acceptWithDefaults(request));
  const options = { timeout: REQUEST_TIMEOUT_MS };

  let ok = true;
  try {
    await client.connect(transport, options);
    const server = client.getServerVersion();
    say(`initialized: ${server?.name ?? '?'} ${server?.version ?? ''}`);
    const { tools } = await client.listTools({}, options);
    say(`tools: ${tools.map((t) => t.name).join(', ') || '(none)'}`);
    for (const tool of tools) {
      if (!Object.hasOwn(KNOWN_TOOLS, tool.name)) continue;
      try {
        const result = await client.callTool({ name: tool.name, arguments: KNOWN_TOOLS[tool.name] }, undefined, options);
        const text = result.content?.find((c) => c.type === 'text')?.text ?? '';
        say(`${tool.name} -> ${result.isError ? 'tool error: ' : ''}${text.slice(0, 200)}`);
        if (result.isError) ok = false;
      } catch (err) {
        say(`${tool.name} failed: ${describeError(err)}`);
        ok = false;
      }
    }
  } catch (err) {
    // A closed connection means mcp-auth exited: say what it said last.
    const why = /Connection closed/.test(String(err?.message)) && lastWords.length
      ? ` (mcp-auth exited; its last words: ${lastWords.join(' / ')})`
      : '';
    say(`failed: ${describeError(err)}${why}`);
    ok = false;
  }

  // Closing stdin lets mcp-auth end the session (DELETE) and exit; the
  // transport escalates to SIGTERM and SIGKILL if it does not.
  try {
    await client.close();
  } catch (err) {
    say(`close: ${describeError(err)}`);
  }
  finished = true;
  clearTimeout(deadline);
  cleanup();
  return ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      say(`crashed: ${err?.stack ?? err}`);
      process.exit(1);
    },
  );
}
