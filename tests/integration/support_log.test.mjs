// The support log (--log-file, MCP_AUTH_LOG_FILE): a real browser login and a relay with
// the stored login append to one file everything --verbose would print, each line with
// the time and the process id, without --verbose on stderr; never a token.
// Against tests/servers/hostile-auth-server.mjs (MCP server and authorization server in
// one, honest here; it prints every token it issues, so the test can look for them).
// Run: MCP_AUTH_BIN=... node --test support_log.test.mjs

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  relayBinary, startHostileAuthServer, oauthEnv, runCommand, killAll, tempDir, assertNoSecrets,
  initializeRequest, initializedNotification, observe,
} from './lib.mjs';

const bin = relayBinary();
after(killAll);

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(\d+)\] mcp-auth: /;

describe('the support log', { skip: bin.skip, concurrency: false }, () => {
  it('a login and a relay append what -v prints, with times and pids, and no token', { timeout: 90000 }, async () => {
    const srv = await startHostileAuthServer();
    const browser = oauthEnv();
    const logFile = join(tempDir('mcp-auth-log-'), 'support.log');
    try {
      const login = await runCommand(bin.path, ['--store', 'file', 'login', srv.url, '--login-timeout', '20', '--log-file', logFile],
        { env: browser.env, timeoutMs: 40000 });
      assert.equal(login.code, 0, `login exit code (stderr: ${login.stderr})`);
      assert.doesNotMatch(login.stderr, /mcp-auth: GET /, 'stderr is not verbose without -v');
      if (process.platform !== 'win32') assert.equal(statSync(logFile).mode & 0o777, 0o600, 'the log is the user\'s alone');

      // A relay started the way a host does, with the variable instead of the option.
      const input = [initializeRequest(1), initializedNotification(), { jsonrpc: '2.0', id: 2, method: 'tools/list' }]
        .map((m) => JSON.stringify(m)).join('\n') + '\n';
      const relay = await runCommand(bin.path, ['--store', 'file', srv.url],
        { env: { ...browser.env, MCP_AUTH_LOG_FILE: logFile }, input, timeoutMs: 30000 });
      assert.equal(relay.code, 0, `relay exit code (stderr: ${relay.stderr})`);
      assert.match(relay.stdout, /"id":2,"result"/, `the relay answered tools/list: ${relay.stdout}`);

      const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
      observe('support log', lines.slice(0, 6).join('\n'));
      for (const l of lines) assert.match(l, LINE, `every line has the time and the pid: ${l}`);
      const pids = new Set(lines.map((l) => l.match(LINE)[1]));
      assert.ok(pids.size >= 2, `the login and the relay (two processes) wrote to it: ${[...pids]}`);
      const text = lines.join('\n');
      assert.match(text, /mcp-auth: GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\//, 'the login\'s discovery (a -v line)');
      assert.match(text, /mcp-auth: POST initialize id=1 -> 200/, 'the relay\'s exchanges (-v lines)');
      assert.match(text, /started/, 'each process says it started');
      const issued = await srv.issued();
      assert.ok(issued.length >= 1, 'the server issued tokens');
      assertNoSecrets([text], issued, 'the support log');
    } finally {
      await srv.stop();
    }
  });

  it('a log file that cannot be opened is said once; the command goes on', { timeout: 30000 }, async () => {
    const srv = await startHostileAuthServer();
    const browser = oauthEnv();
    try {
      const bad = join(tempDir('mcp-auth-log-'), 'no', 'such', 'dir', 'support.log');
      const r = await runCommand(bin.path, ['--store', 'file', 'status', '--log-file', bad], { env: browser.env, timeoutMs: 20000 });
      assert.match(r.stderr, /--log-file: cannot open .*support\.log/, `stderr names the file: ${r.stderr}`);
      assert.equal(r.code, 4, `status still ran (nobody logged in: 4; stderr: ${r.stderr})`);
    } finally {
      await srv.stop();
    }
  });
});
