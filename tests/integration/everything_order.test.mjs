// The order the server sees (issue 11): @modelcontextprotocol/server-everything registers
// its sampling, elicitation and roots tools only once it has handled the client's
// notifications/initialized, depending on the client's capabilities. If the host's next
// request reached it first, its tools/list would lack them. Through mcp-auth, with the
// SDK v1 client as the host, 20 sessions in a row must each list all three.
// Run: MCP_AUTH_BIN=... node --test everything_order.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListRootsRequestSchema, CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { relayBinary, killAll, deadPort, waitUntil, stopChild } from './lib.mjs';

const bin = relayBinary();
const require = createRequire(import.meta.url);
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const RUNS = 20;
const CONDITIONAL = ['get-roots-list', 'trigger-elicitation-request', 'trigger-sampling-request'];

describe('server-everything through mcp-auth: the handshake ends before the next request', { concurrency: false }, () => {
  let server;
  let url;

  before(async () => {
    const port = await deadPort();
    let stderr = '';
    server = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
    server.stderr.on('data', (d) => { stderr += d; });
    await waitUntil(() => /listening on port/i.test(stderr), 15000, `server-everything listening (stderr: ${stderr})`);
    url = `http://127.0.0.1:${port}/mcp`;
  });

  after(async () => {
    if (server) await stopChild(server);
    await killAll();
  });

  it(`lists its sampling, elicitation and roots tools in ${RUNS} of ${RUNS} sessions`, { timeout: 120000 }, async () => {
    const missing = [];
    for (let run = 0; run < RUNS; run++) {
      const client = new Client({ name: 'mcp-auth-order-test', version: '1.0.0' },
        { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } });
      client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [] }));
      client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'x' }, model: 'none' }));
      await client.connect(new StdioClientTransport({ command: bin.path, args: [url], env: { ...process.env }, stderr: 'pipe' }));
      const names = (await client.listTools(undefined, { timeout: 20000 })).tools.map((t) => t.name);
      const lacking = CONDITIONAL.filter((n) => !names.includes(n));
      if (lacking.length) missing.push(`run ${run + 1}: no ${lacking.join(', ')}`);
      await client.close();
    }
    assert.deepEqual(missing, [], 'every session lists the capability-dependent tools');
  });
});
