// Security of what mcp-auth keeps on disk and of the binary itself: another local user
// must get nothing from the file store (`--store file`) or the keychain connection.
//
// The file-store cases log in for real (`mcp-auth login --store file` against
// tests/servers/hostile-auth-server.mjs, which here behaves, with the scripted browser)
// in a fresh XDG_STATE_HOME, after setting the trap a hostile local user could set: a
// state directory others can write to or that belongs to someone else, a symlink where
// the token file or its temporary file goes, no HOME at all. The keychain case plants a
// D-Bus socket of another user where mcp-auth looks for the session bus. The build case
// reads the binary's ELF headers for the hardening flags.
//
// Tests run as root in CI (chown to `nobody` needs it); under CI=true a missing
// prerequisite fails, never skips.
//
// Run: MCP_AUTH_BIN=... node --test security_store.test.mjs

import { describe, it, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import {
  chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  relayBinary, startHostileAuthServer, oauthEnv, isolatedEnv, runCrashChecked, runCommand, killAll, sleep, waitExit,
  stopChild, tempDir, assertNoSecrets, assertCleanEnd, observe, missingCommands,
} from './lib.mjs';

const bin = relayBinary();
const CI = process.env.CI === 'true';
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const rootSkip = isRoot ? false : (CI ? false : 'needs root (chown to nobody)');

/** Fails under CI when a prerequisite is missing (never a silent skip). */
function requireRoot() {
  assert.ok(isRoot, 'this test needs root (it gives a directory to the user nobody); CI runs as root');
}

const storeDir = (env) => join(env.XDG_STATE_HOME, 'mcp-auth');
const mode = (path) => statSync(path).mode & 0o7777;
const octal = (m) => `0${m.toString(8)}`;

/** A private state directory made in advance (0700 whatever the umask), as mcp-auth would make it. */
function makeStoreDir(env, m = 0o700) {
  const dir = storeDir(env);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, m);
  return dir;
}

/** `mcp-auth login <srv.url> --store file`, run to completion in a fresh cwd. */
async function login(srv, env, { timeoutMs = 40000 } = {}) {
  const r = await runCrashChecked(bin.path, ['login', srv.url, '--store', 'file', '--login-timeout', '20'], { env, timeoutMs });
  observe('login', `exit ${r.code} after ${r.ms} ms: ${r.stderr}`);
  return r;
}

/** Every file under `dir` with its mode, for messages. */
function listing(dir) {
  if (!existsSync(dir)) return '(no directory)';
  return readdirSync(dir).map((f) => `${f} ${octal(lstatSync(join(dir, f)).mode & 0o7777)}${lstatSync(join(dir, f)).isSymbolicLink() ? ' (link)' : ''}`).join(', ');
}

/** Asserts that no file under `dir` (if it exists) holds any of `tokens`. */
function assertNoTokensIn(dir, tokens) {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (!lstatSync(p).isFile()) continue;
    assertNoSecrets([readFileSync(p, 'utf8')], tokens, `${p}`);
  }
}

/** A refused login: clean failure, a message saying why and what to do, no token on disk or in the output. */
async function assertRefused(srv, r, env, message) {
  assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
  assert.match(r.stderr, message, `the message says why: ${r.stderr}`);
  const tokens = await srv.issued();
  assertNoSecrets([r.stdout, r.stderr], tokens, 'mcp-auth output');
  assert.ok(!existsSync(join(storeDir(env), 'credentials.json')) || !lstatSync(join(storeDir(env), 'credentials.json')).isFile(),
    `no token file was written: ${listing(storeDir(env))}`);
  assertNoTokensIn(storeDir(env), tokens);
}

describe('file store: another local user gets nothing', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());
  after(() => killAll());

  it('a login under umask 000 leaves the directory 0700 and every file 0600, also while it runs', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const { env } = oauthEnv();
    const dir = storeDir(env);
    // Watch the directory as another user would, as fast as we can, for the whole login.
    const seen = new Map();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        try {
          seen.set('.', Math.max(seen.get('.') ?? 0, mode(dir) & 0o077));
          for (const f of readdirSync(dir)) {
            try { seen.set(f, (seen.get(f) ?? 0) | (lstatSync(join(dir, f)).mode & 0o077)); } catch { /* renamed away */ }
          }
        } catch { /* not created yet */ }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const r = await runCommand('/bin/sh', ['-c', 'umask 000; exec "$0" "$@"', bin.path, 'login', srv.url, '--store', 'file', '--login-timeout', '20'],
      { env, timeoutMs: 40000, cwd: tempDir('mcp-auth-cwd-') });
    watching = false;
    await watcher;
    observe('umask 000 login', `exit ${r.code}: ${r.stderr}`);
    assert.equal(r.code, 0, `login: ${r.stderr}`);
    const tokens = await srv.issued();
    assert.ok(tokens.length > 0, 'the AS issued a token');
    const file = join(dir, 'credentials.json');
    assert.ok(tokens.some((t) => readFileSync(file, 'utf8').includes(t)), 'the token was stored in credentials.json');
    assert.equal(mode(dir), 0o700, `the directory is 0700: ${octal(mode(dir))}`);
    for (const f of readdirSync(dir, { recursive: true })) {
      const p = join(dir, f);
      if (lstatSync(p).isDirectory()) { // the login locks, when there is no XDG_RUNTIME_DIR
        assert.equal(mode(p), 0o700, `${f}/ is 0700: ${octal(mode(p))}`);
        continue;
      }
      assert.ok(lstatSync(p).isFile(), `${f} is a regular file`);
      assert.equal(mode(p), 0o600, `${f} is 0600: ${octal(mode(p))}`);
    }
    const open = [...seen].filter(([, bits]) => bits !== 0);
    assert.deepEqual(open, [], `no file had group/other bits at any moment: ${JSON.stringify(open)}`);
    assert.ok(seen.size >= 2, `the watcher saw the files: ${JSON.stringify([...seen])}`);
  });

  it('a state directory writable by others (0777): refused with the fix, no token written', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const { env } = oauthEnv();
    const dir = makeStoreDir(env, 0o777);
    const r = await login(srv, env);
    await assertRefused(srv, r, env, /writable by other users[\s\S]*chmod 700/);
    assert.equal(mode(dir), 0o777, 'mcp-auth did not silently change the mode of a directory it did not create');
  });

  it('a state directory owned by another user (nobody): refused with the fix, no token written', { timeout: 40000, skip: rootSkip }, async () => {
    requireRoot();
    const srv = await startHostileAuthServer();
    const { env } = oauthEnv();
    const dir = makeStoreDir(env);
    chownSync(dir, NOBODY, NOBODY);
    const r = await login(srv, env);
    await assertRefused(srv, r, env, new RegExp(`belongs to uid ${NOBODY}[\\s\\S]*(Remove|move)`));
  });

  it('a symlinked state directory leading to a directory of another user: refused, the target untouched', { timeout: 40000, skip: rootSkip }, async () => {
    requireRoot();
    const srv = await startHostileAuthServer();
    const { env } = oauthEnv();
    const theirs = join(tempDir('mcp-auth-other-user-'), 'their-dir');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, NOBODY, NOBODY);
    mkdirSync(env.XDG_STATE_HOME, { recursive: true });
    symlinkSync(theirs, storeDir(env));
    const r = await login(srv, env);
    await assertRefused(srv, r, env, new RegExp(`belongs to uid ${NOBODY}`));
    assert.deepEqual(readdirSync(theirs), [], 'nothing was written into the other user\'s directory');
  });

  it('a symlink planted at credentials.json: not followed (refused, the target unchanged)', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const { env } = oauthEnv();
    const dir = makeStoreDir(env);
    const target = join(tempDir('mcp-auth-elsewhere-'), 'elsewhere.json');
    const planted = '[]\n';
    writeFileSync(target, planted);
    symlinkSync(target, join(dir, 'credentials.json'));
    const r = await login(srv, env);
    await assertRefused(srv, r, env, /symbolic link[\s\S]*Remove/);
    assert.equal(readFileSync(target, 'utf8'), planted, 'the link target is unchanged');
    assert.ok(lstatSync(join(dir, 'credentials.json')).isSymbolicLink(), 'the link is left for the user to inspect');
  });

  it('a symlink planted at the temporary file\'s name: not followed, the login stores its token beside it', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const { env } = oauthEnv();
    const dir = makeStoreDir(env);
    const target = join(tempDir('mcp-auth-elsewhere-'), 'victim.txt');
    const planted = 'VICTIM-FILE-UNCHANGED\n';
    writeFileSync(target, planted);
    // The name the temporary file would have if it were predictable: <file>.tmp.<pid>.
    // Planted within a millisecond of the spawn, long before the first store write (the
    // login first does discovery and a browser round trip).
    const child = spawn(bin.path, ['login', srv.url, '--store', 'file', '--login-timeout', '20'],
      { env, cwd: tempDir('mcp-auth-cwd-'), stdio: ['ignore', 'ignore', 'pipe'] });
    symlinkSync(target, join(dir, `credentials.json.tmp.${child.pid}`));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const exit = await waitExit(child, 40000).catch(async () => { await stopChild(child); return { code: 'timeout' }; });
    observe('login beside a planted temp-file link', `exit ${exit.code}: ${stderr}`);
    assert.equal(readFileSync(target, 'utf8'), planted, 'the link target is unchanged (no token written through the link)');
    assert.equal(exit.code, 0, `login: ${stderr}`);
    const tokens = await srv.issued();
    const file = join(dir, 'credentials.json');
    assert.ok(lstatSync(file).isFile() && tokens.some((t) => readFileSync(file, 'utf8').includes(t)), `the token is in credentials.json: ${listing(dir)}`);
  });

  it('HOME and XDG_STATE_HOME unset: a clear error, no file in the current directory', { timeout: 40000 }, async () => {
    const srv = await startHostileAuthServer();
    const { env } = oauthEnv();
    delete env.HOME;
    delete env.XDG_STATE_HOME;
    delete env.XDG_CONFIG_HOME;
    env.XDG_RUNTIME_DIR = tempDir('mcp-auth-runtime-'); // the login lock goes there, not into cwd or /
    const r = await runCrashChecked(bin.path, ['login', srv.url, '--store', 'file', '--login-timeout', '20'], { env, timeoutMs: 40000 });
    observe('no HOME', `exit ${r.code}: ${r.stderr}`);
    assertCleanEnd(r, { failed: true, what: 'mcp-auth login' });
    assert.match(r.stderr, /HOME/, `the message names HOME: ${r.stderr}`);
    assert.deepEqual(readdirSync(r.cwd), [], 'nothing was created in the current directory');
    assertNoSecrets([r.stdout, r.stderr], await srv.issued(), 'mcp-auth output');
  });
});

// ---------------------------------------------------------------------------

describe('keychain: a session bus socket of another user is not used', { skip: bin.skip, concurrency: false }, () => {
  afterEach(() => killAll());

  /** Runs `mcp-auth status <url>` on the keychain with no DBUS_SESSION_BUS_ADDRESS and
   * XDG_RUNTIME_DIR at a directory holding a listening `bus` socket owned by `owner`;
   * resolves {r, connections}. */
  async function statusWithPlantedBus(owner) {
    const runtime = tempDir('mcp-auth-runtime-');
    chmodSync(runtime, 0o700);
    const socketPath = join(runtime, 'bus');
    let connections = 0;
    const server = createServer((sock) => { connections++; sock.destroy(); });
    await new Promise((res, rej) => server.once('error', rej).listen(socketPath, res));
    chownSync(socketPath, owner, owner);
    try {
      const { env } = isolatedEnv({ XDG_RUNTIME_DIR: runtime });
      delete env.DBUS_SESSION_BUS_ADDRESS;
      const r = await runCrashChecked(bin.path, ['status', 'https://mcp.example.test/mcp', '--json'], { env, timeoutMs: 20000 });
      await sleep(100);
      return { r, connections };
    } finally {
      server.close();
    }
  }

  it('XDG_RUNTIME_DIR/bus owned by nobody: mcp-auth never connects to it, and says why', { timeout: 30000, skip: rootSkip }, async () => {
    requireRoot();
    const { r, connections } = await statusWithPlantedBus(NOBODY);
    observe('planted bus', `exit ${r.code}, ${connections} connection(s): ${r.stderr}`);
    assertCleanEnd(r, { failed: true, what: 'mcp-auth status' });
    assert.equal(connections, 0, 'mcp-auth connected to a bus socket of another user');
    assert.match(r.stderr, /belongs to uid 65534[\s\S]*DBUS_SESSION_BUS_ADDRESS/, `the message says why the bus was not used: ${r.stderr}`);
  });

  it('control: XDG_RUNTIME_DIR/bus of this user is used (the test can see a connection)', { timeout: 30000 }, async () => {
    const { r, connections } = await statusWithPlantedBus(process.getuid());
    observe('own bus', `exit ${r.code}, ${connections} connection(s): ${r.stderr}`);
    assertCleanEnd(r, { failed: true, what: 'mcp-auth status' }); // our fake bus speaks no D-Bus
    assert.ok(connections >= 1, 'mcp-auth connected to the session bus socket of its own user');
  });
});

// ---------------------------------------------------------------------------

describe('build hardening: the binary is PIE, full RELRO, with stack protector and FORTIFY', { skip: bin.skip }, () => {
  it('readelf: PIE (Type DYN), BIND_NOW, GNU_RELRO, __stack_chk_fail and *_chk symbols (no *_chk in sanitizer builds)', { timeout: 20000 }, async () => {
    const missing = missingCommands(['readelf']);
    assert.deepEqual(missing, [], 'binutils (readelf) is installed');
    const header = await runCommand('readelf', ['-h', bin.path]);
    assert.match(header.stdout, /Type:\s+DYN/, `PIE: ${header.stdout.match(/Type:.*/)?.[0]}`);
    const dynamic = await runCommand('readelf', ['-d', bin.path]);
    assert.match(dynamic.stdout, /\(FLAGS\)\s+BIND_NOW|\(FLAGS_1\)\s+Flags:.*\bNOW\b/, 'BIND_NOW (-z now)');
    assert.match(dynamic.stdout, /\(FLAGS_1\)\s+Flags:.*\bPIE\b/, 'FLAGS_1 PIE');
    const segments = await runCommand('readelf', ['-lW', bin.path]);
    assert.match(segments.stdout, /GNU_RELRO/, 'a GNU_RELRO segment (-z relro)');
    const symbols = await runCommand('readelf', ['--dyn-syms', '-W', bin.path]);
    assert.match(symbols.stdout, /__stack_chk_fail/, 'stack protector (-fstack-protector-strong)');
    // The sanitizer builds (packaging/hardening.sh) leave _FORTIFY_SOURCE out on purpose:
    // their interceptors replace the same libc calls (CMakeLists.txt, build hardening).
    const sanitized = /__(asan|tsan)_init/.test(symbols.stdout);
    if (sanitized) observe('hardening', 'sanitizer build: _FORTIFY_SOURCE not expected');
    else assert.match(symbols.stdout, /__\w+_chk\b/, 'fortified libc calls (-D_FORTIFY_SOURCE=2)');
  });
});
