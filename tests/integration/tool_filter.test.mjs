// --allow-tool / --deny-tool through the real binary: the SDK v1 client, over its stdio
// transport, lists and calls tools through mcp-auth in front of the SDK servers of both
// eras. Filtered tools never reach the client, and a call to one never reaches the server
// (its request log shows no such call).
// Run: MCP_AUTH_BIN=... node --test tool_filter.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { relayBinary, startMcpServer, killAll, toolText } from './lib.mjs';

const bin = relayBinary();
const CALL = { timeout: 20000 };

for (const era of ['legacy', 'modern']) {
  describe(`tool filters (${era} server)`, { concurrency: false }, () => {
    let srv;
    let client;
    let stderr = '';

    before(async () => {
      srv = await startMcpServer({ era });
      const transport = new StdioClientTransport({
        command: bin.path,
        // Everything but the slow and progress tools, and none that writes a big payload.
        args: [srv.url, '--allow-tool', 'e*', '--allow-tool', 'big', '--deny-tool', 'elicit', '-v'],
        env: { ...process.env },
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (d) => { stderr += d; });
      client = new Client({ name: 'mcp-auth-tool-filter-test', version: '1.0.0' });
      await client.connect(transport);
    });

    after(async () => {
      await client?.close();
      await killAll();
    });

    it('tools/list holds only the allowed tools that no --deny-tool names', async () => {
      // What the server offers, asked directly.
      const direct = new Client({ name: 'direct', version: '1.0.0' });
      await direct.connect(new StreamableHTTPClientTransport(new URL(srv.url)));
      const all = (await direct.listTools(undefined, CALL)).tools.map((t) => t.name);
      await direct.close();
      const expected = all.filter((n) => (n.startsWith('e') || n === 'big') && n !== 'elicit').sort();
      assert.ok(all.includes('elicit') && all.includes('slow') && expected.includes('echo'), `server tools: ${all}`);

      const { tools } = await client.listTools(undefined, CALL);
      assert.deepEqual(tools.map((t) => t.name).sort(), expected);
      assert.match(stderr, new RegExp(`left ${all.length - expected.length} tool\\(s\\) out of tools/list`));
    });

    it('an allowed tool works as before', async () => {
      const res = await client.callTool({ name: 'echo', arguments: { text: 'héllo' } }, undefined, CALL);
      assert.equal(toolText(res), 'héllo');
    });

    it('a denied and a not-allowed tool are refused here, naming the rule, and never sent', async () => {
      await assert.rejects(
        client.callTool({ name: 'elicit', arguments: { message: 'x' } }, undefined, CALL),
        (e) => e.code === -32602 && /"elicit" is filtered out \(--deny-tool 'elicit'\)/.test(e.message),
      );
      await assert.rejects(
        client.callTool({ name: 'slow', arguments: { ms: 1 } }, undefined, CALL),
        (e) => e.code === -32602 && /"slow" is filtered out \(no --allow-tool matches it\)/.test(e.message),
      );
      const called = srv.log()
        .filter((e) => e.method === 'POST' && e.jsonrpcMethod === 'tools/call')
        .map((e) => e.jsonrpcName);
      assert.ok(called.includes('echo'), `the allowed call reached the server: ${JSON.stringify(called)}`);
      assert.ok(!called.includes('elicit') && !called.includes('slow'), `calls the server saw: ${JSON.stringify(called)}`);
    });
  });
}
