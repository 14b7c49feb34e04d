// A minimal hand-made MCP endpoint shared by the hand-made test servers
// (hostile-auth-server.mjs, https-mcp-server.mjs): stateless (no
// Mcp-Session-Id), JSON replies only, legacy-era initialize.
//
//   answerMcp(req, res, rawBody, tools) -> {jsonrpcMethod, jsonrpcId}
//
// `tools` maps a tool name to async (args, req) => text. initialize answers
// with the client's protocolVersion when it is one of SUPPORTED_VERSIONS
// (else the newest); ping answers {}; tools/list lists the tools;
// tools/call runs one; notifications and responses get 202; anything else is
// -32601. GET and DELETE get 405 (no server stream, no session to end).

import { readText } from './common.mjs';

export const SUPPORTED_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];

const json = (res, status, body) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
const result = (id, value) => ({ jsonrpc: '2.0', id, result: value });
const failure = (id, code, message) => ({ jsonrpc: '2.0', id, error: { code, message } });

export async function answerMcp(req, res, rawBody, tools) {
  if (req.method === 'GET' || req.method === 'DELETE') {
    res.writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain' });
    res.end('method not allowed');
    return {};
  }
  if (req.method !== 'POST') {
    json(res, 405, failure(null, -32000, 'Method not allowed'));
    return {};
  }
  let msg;
  try {
    msg = JSON.parse(rawBody);
  } catch {
    json(res, 400, failure(null, -32700, 'Parse error'));
    return {};
  }
  const info = { jsonrpcMethod: msg?.method, jsonrpcId: msg?.id };
  if (!msg || typeof msg !== 'object' || typeof msg.method !== 'string' || !('id' in msg)) {
    res.writeHead(202).end(); // a notification or a response
    return info;
  }
  const { id, method, params } = msg;
  switch (method) {
    case 'initialize': {
      const asked = params?.protocolVersion;
      json(res, 200, result(id, {
        protocolVersion: SUPPORTED_VERSIONS.includes(asked) ? asked : SUPPORTED_VERSIONS[0],
        capabilities: { tools: {} },
        serverInfo: { name: 'mcp-auth-mini-mcp', version: '1.0.0' },
      }));
      break;
    }
    case 'ping':
      json(res, 200, result(id, {}));
      break;
    case 'tools/list':
      json(res, 200, result(id, {
        tools: Object.keys(tools).map((name) => ({ name, description: `test tool ${name}`, inputSchema: { type: 'object' } })),
      }));
      break;
    case 'tools/call': {
      const tool = tools[params?.name];
      if (!tool) {
        json(res, 200, failure(id, -32602, `unknown tool ${params?.name}`));
        break;
      }
      const text = await tool(params?.arguments ?? {}, req);
      json(res, 200, result(id, { content: [{ type: 'text', text }] }));
      break;
    }
    default:
      json(res, 200, failure(id, -32601, `method not found: ${method}`));
  }
  return info;
}

/** {jsonrpcMethod, jsonrpcId} of a raw JSON-RPC body, for request logs ({} when it is not JSON). */
export function describeJsonRpc(raw) {
  try {
    const msg = JSON.parse(raw);
    return { jsonrpcMethod: msg?.method, jsonrpcId: msg?.id };
  } catch {
    return {};
  }
}

/** Reads a request body as UTF-8 (bounded: larger bodies are cut, the handler then sees broken JSON). */
export const readBody = (req, limit = 8 * 1024 * 1024) => readText(req, limit);
