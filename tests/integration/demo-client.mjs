// The main job, shown end to end: an MCP client (the SDK's own Client, as a desktop
// host would use it) launches mcp-auth as its stdio server and calls tools on a
// remote Streamable HTTP server through it.
//
//   node tests/integration/demo-client.mjs <mcp-auth binary> <server url> [mcp-auth args...]
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [binary, url, ...extra] = process.argv.slice(2);
if (!binary || !url) {
  console.error('usage: node demo-client.mjs <mcp-auth binary> <server url> [mcp-auth args...]');
  process.exit(2);
}

const transport = new StdioClientTransport({ command: binary, args: [url, ...extra], stderr: 'inherit' });
const client = new Client({ name: 'mcp-auth-demo', version: '1.0.0' });
const t0 = performance.now();
await client.connect(transport);
const ms = () => `${(performance.now() - t0).toFixed(0)} ms`;
const server = client.getServerVersion();
console.log(`connected through mcp-auth to ${url}: server ${server?.name} ${server?.version}, at ${ms()}`);

const { tools } = await client.listTools();
console.log(`tools: ${tools.map((t) => t.name).join(', ')}`);

const echo = await client.callTool({ name: 'echo', arguments: { text: 'hello through mcp-auth' } });
console.log(`echo -> ${echo.content[0].text}`);

let progress = 0;
const done = await client.callTool(
  { name: 'progress', arguments: { steps: 3, ms: 100 } },
  undefined,
  { onprogress: (p) => console.log(`  progress ${p.progress}/${p.total ?? '?'} (${++progress} before the result)`) },
);
console.log(`progress -> ${done.content[0].text}`);

await client.close();
console.log(`done at ${ms()}`);
