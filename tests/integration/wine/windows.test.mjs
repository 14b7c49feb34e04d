// mcp-auth.exe under Wine: what is Windows' own. The relay suites that hold on every
// platform (sdk_client, raw_stdio) run against the same exe
// through a launcher; this file covers the rest: a static exe with no DLL to ship, a
// browser login whose tokens land in Credential Manager (and in no file), `status`,
// `token` and `logout` there, tokens larger than one credential blob, and two instances
// that share one login through the detached login agent.
//
// Everything is real: the oidc-provider authorization server and the SDK resource
// server run on Linux, mcp-auth.exe runs under Wine (its own prefix, created here), the
// scripted browser is started the way a Windows user's browser command would be, through
// Wine's `start /unix`.
//
// Run from the Windows build: `cd build-windows && ctest -R wine.windows`
// (MCP_AUTH_BIN: the launcher; MCP_AUTH_EXE: the exe; MCP_AUTH_WINE: packaging/windows/wine-run.sh).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  relayBinary, skipOutsideCI, startOAuthPair, runCommand, tempDir, readJsonLines, killAll, withTimeout, sleep, toolText, SCRIPTED_BROWSER,
} from '../lib.mjs';

const bin = relayBinary();
const exe = process.env.MCP_AUTH_EXE;
const wine = process.env.MCP_AUTH_WINE;
const skip = skipOutsideCI(bin.skip || ((!exe || !wine) && 'MCP_AUTH_EXE and MCP_AUTH_WINE are not set (run it from the Windows build: ctest -R wine)'));
const CALL = { timeout: 90000 };

// One prefix for this file: Credential Manager starts empty, so "nothing left" is exact.
const prefix = join(tempDir('mcp-auth-wineprefix-'), 'prefix');

/** Everything a Windows process of this suite gets: its prefix, a browser, a user. */
function windowsEnv({ browserLog, user = 'dev@example.com', extra = {} } = {}) {
  const env = { ...process.env, WINEPREFIX: prefix, ...extra };
  for (const name of ['BROWSER', 'MCP_AUTH_BROWSER', 'MCP_AUTH_STORE', 'HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'NO_PROXY', 'no_proxy']) delete env[name];
  if (browserLog) {
    // A Windows browser command, as a user would set it; Wine's start /unix runs the
    // Linux script from inside the Windows process tree.
    Object.assign(env, { MCP_AUTH_BROWSER: `start /unix ${browserScript()}`, TEST_BROWSER_LOG: browserLog, TEST_BROWSER_USER: user, TEST_BROWSER_PASSWORD: 'dev-password' });
  }
  return env;
}

// The scripted browser with the absolute Node path: a Unix program started from Wine gets
// a PATH in Windows form.
let browserWrapper;
function browserScript() {
  if (!browserWrapper) {
    browserWrapper = join(tempDir('mcp-auth-wine-browser-'), 'browser.sh');
    writeFileSync(browserWrapper, `#!/bin/sh\nexec '${process.execPath}' '${SCRIPTED_BROWSER}' "$@"\n`);
    chmodSync(browserWrapper, 0o755);
  }
  return browserWrapper;
}

/** Runs a Windows program of the prefix (reg.exe, ...) or mcp-auth.exe. */
const runWindows = (program, args, env = windowsEnv(), timeoutMs = 60000) => runCommand(wine, [program, ...args], { env, timeoutMs });
const mcpAuth = (args, env = windowsEnv(), timeoutMs = 60000) => runCommand(bin.path, args, { env, timeoutMs });

/**
 * The generic credentials Wine's Credential Manager holds for this prefix (it keeps them
 * under HKCU\Software\Wine\Credential Manager, one key per credential, the secret
 * encrypted): their target names, read with Wine's reg.exe.
 */
async function credentialNames() {
  const r = await runWindows('reg.exe', ['query', 'HKCU\\Software\\Wine\\Credential Manager']);
  if (r.code !== 0 && /unable to find/i.test(r.stderr + r.stdout)) return [];
  assert.equal(r.code, 0, `reg query failed: ${r.stderr}`);
  return r.stdout.split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /^HKEY_CURRENT_USER\\Software\\Wine\\Credential Manager\\/i.test(l))
    .map((l) => l.replace(/^HKEY_CURRENT_USER\\Software\\Wine\\Credential Manager\\/i, ''));
}

/** Every file under `dir` (bounded), for "the token is in no file". */
function filesUnder(dir, out = [], depth = 0) {
  if (depth > 12 || out.length > 20000) return out;
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) filesUnder(path, out, depth + 1);
    else if (e.isFile()) out.push(path);
  }
  return out;
}

function filesContaining(dir, needles) {
  return filesUnder(dir).filter((f) => {
    let text;
    try {
      if (statSync(f).size > 32 * 1024 * 1024) return false;
      text = readFileSync(f, 'latin1');
    } catch { return false; }
    return needles.some((n) => text.includes(n));
  });
}

/** An SDK client over stdio to mcp-auth.exe (under Wine) for `url`. */
async function connectRelay(url, env, label) {
  const transport = new StdioClientTransport({ command: bin.path, args: [url], env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'mcp-auth-wine-test', version: '1.0.0' });
  const close = async () => {
    await client.close().catch(() => {});
    if (transport.pid) { try { process.kill(transport.pid, 'SIGKILL'); } catch { /* gone */ } }
  };
  try {
    await withTimeout(client.connect(transport), 90000, `${label}: initialize through mcp-auth.exe`);
  } catch (err) {
    await close();
    err.message += `\nmcp-auth.exe stderr (last 2000 chars):\n${stderr.slice(-2000)}`;
    throw err;
  }
  return { client, stderr: () => stderr, close };
}

async function search(client) {
  const result = await client.callTool({ name: 'search', arguments: { query: 'mcp on windows' } }, undefined, CALL);
  assert.ok(!result.isError, `search failed: ${JSON.stringify(result)}`);
  return JSON.parse(toolText(result));
}

describe('mcp-auth.exe under Wine', { skip, concurrency: false }, () => {
  before(async () => {
    // Creates the prefix (about 10 s the first time) and proves the exe runs at all.
    const r = await mcpAuth(['--version'], windowsEnv(), 120000);
    assert.equal(r.code, 0, `mcp-auth.exe --version: ${r.stderr}`);
  });
  after(killAll);

  it('is a static PE32+ executable that needs only DLLs every Windows has', async () => {
    const head = readFileSync(exe).subarray(0, 4096);
    assert.equal(head.toString('latin1', 0, 2), 'MZ');
    const pe = head.readUInt32LE(0x3c);
    assert.equal(head.toString('latin1', pe, pe + 4), 'PE\0\0');
    assert.equal(head.readUInt16LE(pe + 24), 0x20b, 'PE32+ (64-bit)');
    const r = await runCommand('x86_64-w64-mingw32-objdump', ['-p', exe], { timeoutMs: 60000 });
    assert.equal(r.code, 0, r.stderr);
    const dlls = [...r.stdout.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1].toLowerCase());
    assert.ok(dlls.includes('kernel32.dll'), `imports: ${dlls}`);
    const system = /^(kernel32|advapi32|ws2_32|crypt32|user32|shell32|ole32|oleaut32|bcrypt|msvcrt|winhttp|secur32|shlwapi|rpcrt4|gdi32|iphlpapi|dbghelp|wer|api-ms-win-[a-z0-9-]+)\.dll$/;
    const foreign = dlls.filter((d) => !system.test(d));
    assert.deepEqual(foreign, [], `DLLs that would have to ship beside mcp-auth.exe: ${foreign}`);
  });

  it('--version prints the version on stdout and nothing on stderr', async () => {
    const r = await mcpAuth(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
    assert.equal(r.stderr.replace(/\r/g, '').trim(), '');
  });

  describe('a browser login into Credential Manager', { concurrency: false }, () => {
    let as;
    let mcp;
    let browserLog;
    let env;

    before(async () => {
      // Tokens of about 6 KB: each is split across several credential blobs.
      ({ as, mcp } = await startOAuthPair({ config: 'standard', tokenPadding: 6000 }));
      browserLog = join(tempDir(), 'browser.jsonl');
      env = windowsEnv({ browserLog });
    });

    it('login opens the browser once and stores the tokens in Credential Manager, in no file', { timeout: 120000 }, async () => {
      const r = await mcpAuth(['login', mcp.url], env, 100000);
      assert.equal(r.code, 0, `login: ${r.stderr}`);
      const openings = readJsonLines(browserLog);
      assert.equal(openings.length, 1, `one browser opening: ${JSON.stringify(openings)}`);
      assert.equal(openings[0].final_status, 200, `the callback page answered: ${JSON.stringify(openings[0])}`);
      const issued = as.issued();
      assert.ok(issued.length >= 2, 'an access and a refresh token were issued');
      assert.ok(issued[0].length > 2560, `the access token is larger than one blob (${issued[0].length} bytes)`);
      const names = await credentialNames();
      console.log(`OBSERVED credentials after login: ${JSON.stringify(names)}`);
      assert.ok(names.some((n) => /mcp-auth/i.test(n)), `mcp-auth credentials in Credential Manager: ${names}`);
      assert.ok(names.length >= 3, `a record this large takes several credentials (head and parts): ${names}`);
      const leaks = [...filesContaining(prefix, issued), ...filesContaining(env.HOME ?? '/nonexistent', issued)];
      assert.deepEqual(leaks, [], 'no file holds a token');
    });

    it('status names Windows Credential Manager and the user', { timeout: 60000 }, async () => {
      const r = await mcpAuth(['status', mcp.url, '--json'], env);
      assert.equal(r.code, 0, `status: ${r.stderr}`);
      const status = JSON.parse(r.stdout);
      console.log(`OBSERVED status: ${r.stdout.slice(0, 600)}`);
      assert.match(JSON.stringify(status), /Windows Credential Manager/);
      assert.match(JSON.stringify(status), /dev@example\.com/);
    });

    it('token prints an access token the MCP server accepts', { timeout: 60000 }, async () => {
      const r = await mcpAuth(['token', mcp.url], env);
      assert.equal(r.code, 0, `token: ${r.stderr}`);
      const token = r.stdout.trim();
      assert.ok(as.issued().includes(token), 'the printed token is one the authorization server issued');
      const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
      const client = new Client({ name: 'direct', version: '1.0.0' });
      await withTimeout(client.connect(transport), 10000, 'direct connect with the printed token');
      assert.equal((await search(client)).caller, 'dev@example.com');
      await client.close();
    });

    it('a relay uses the stored tokens with no browser', { timeout: 120000 }, async () => {
      const relay = await connectRelay(mcp.url, env, 'stored login');
      try {
        assert.equal((await search(relay.client)).caller, 'dev@example.com');
      } finally {
        await relay.close();
      }
      assert.equal(readJsonLines(browserLog).length, 1, 'no second browser opening');
    });

    it('logout removes every part from Credential Manager', { timeout: 60000 }, async () => {
      const r = await mcpAuth(['logout', mcp.url], env);
      assert.equal(r.code, 0, `logout: ${r.stderr}`);
      const left = (await credentialNames()).filter((n) => /mcp-auth/i.test(n) && !/client|registration/i.test(n));
      assert.deepEqual(left, [], 'no token credential is left');
      const s = await mcpAuth(['status', mcp.url], env);
      assert.notEqual(s.code, 0, 'status after logout says not logged in');
    });
  });

  it('two instances started together share one login (the detached agent, one browser)', { timeout: 180000 }, async () => {
    const { as, mcp } = await startOAuthPair({ config: 'standard' });
    const browserLog = join(tempDir(), 'browser.jsonl');
    const env = windowsEnv({ browserLog });
    const relays = await Promise.all([connectRelay(mcp.url, env, 'first instance'), connectRelay(mcp.url, env, 'second instance')]);
    try {
      const callers = await Promise.all(relays.map((r) => search(r.client)));
      assert.deepEqual(callers.map((c) => c.caller), ['dev@example.com', 'dev@example.com']);
      await sleep(500);
      assert.equal(readJsonLines(browserLog).length, 1, `one browser opening: ${JSON.stringify(readJsonLines(browserLog))}`);
      assert.equal(as.events('token').length, 1, 'one code exchange');
    } finally {
      await Promise.all(relays.map((r) => r.close()));
    }
  });
});
