// The main job, shown end to end: an MCP client (the SDK's own Client, as a desktop
// host would use it) launches mcp-auth as its stdio server and calls tools on a
// remote Streamable HTTP server through it.
//
//   node tests/integration/demo-client.mjs <mcp-auth binary> <server url> '<calls>' [mcp-auth args...]
//
// <calls> is a JSON array of [tool, arguments] pairs, called in order; a refused call
// is printed with its error and the demo goes on.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [binary, url, callsJson, ...extra] = process.argv.slice(2);
if (!binary || !url || !callsJson) {
  console.error("usage: node demo-client.mjs <mcp-auth binary> <server url> '<calls>' [mcp-auth args...]");
  process.exit(2);
}
const calls = JSON.parse(callsJson);

// The whole environment goes along, as a host's "env" setting would pass the D-Bus address.
const transport = new StdioClientTransport({ command: binary, args: [url, ...extra], env: process.env, stderr: 'inherit' });
const client = new Client({ name: 'mcp-auth-demo', version: '1.0.0' });
const t0 = performance.now();
const ms = () => `${(performance.now() - t0).toFixed(0)} ms`;
await client.connect(transport);
const server = client.getServerVersion();
console.log(`client: connected through mcp-auth to ${url}: server ${server?.name} ${server?.version}, at ${ms()}`);

const { tools } = await client.listTools();
console.log(`client: tools: ${tools.map((t) => t.name).join(', ')}`);

for (const [name, args] of calls) {
  try {
    let progress = 0;
    const result = await client.callTool({ name, arguments: args }, undefined, {
      onprogress: (p) => console.log(`client:   progress ${p.progress}/${p.total ?? '?'} (${++progress} before the result)`),
    });
    const text = result.content?.map((c) => c.text ?? '').join(' ') ?? '';
    console.log(`client: ${name} -> ${result.isError ? 'tool error: ' : ''}${text.slice(0, 200)}`);
  } catch (error) {
    console.log(`client: ${name} -> refused: ${error.message}`);
  }
}

await client.close();
console.log(`client: done at ${ms()}`);
