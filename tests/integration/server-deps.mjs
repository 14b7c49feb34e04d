// The npm dependencies of tests/servers/*.mjs.
//
// Node resolves bare specifiers from the importing file's folder upwards, and
// the packages are installed here (tests/integration/node_modules), not next
// to the servers. The servers therefore load the SDKs through this module.

function hint(err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    err.message += '\n(hint: run `npm ci` in tests/integration first)';
  }
  throw err;
}

/** SDK v1 (@modelcontextprotocol/sdk): legacy-era (2025-11-25 / 2025-06-18) Streamable HTTP server. */
export async function loadLegacySdk() {
  try {
    const [mcp, http, types, zod] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/mcp.js'),
      import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
      import('@modelcontextprotocol/sdk/types.js'),
      import('zod'),
    ]);
    return {
      McpServer: mcp.McpServer,
      StreamableHTTPServerTransport: http.StreamableHTTPServerTransport,
      isInitializeRequest: types.isInitializeRequest,
      ElicitResultSchema: types.ElicitResultSchema,
      LATEST_PROTOCOL_VERSION: types.LATEST_PROTOCOL_VERSION,
      z: zod.z,
    };
  } catch (err) {
    return hint(err);
  }
}

/** SDK v2 (@modelcontextprotocol/server + /node): 2026-07-28 per-request serving, dual era. */
export async function loadModernSdk() {
  try {
    const [server, node, zod] = await Promise.all([
      import('@modelcontextprotocol/server'),
      import('@modelcontextprotocol/node'),
      import('zod'),
    ]);
    return {
      McpServer: server.McpServer,
      createMcpHandler: server.createMcpHandler,
      fromJsonSchema: server.fromJsonSchema,
      inputRequired: server.inputRequired,
      acceptedContent: server.acceptedContent,
      SUPPORTED_PROTOCOL_VERSIONS: server.SUPPORTED_PROTOCOL_VERSIONS,
      toNodeHandler: node.toNodeHandler,
      z: zod.z,
    };
  } catch (err) {
    return hint(err);
  }
}

/** oidc-provider and jose, for tests/servers/auth-server.mjs. */
export async function loadAuthServerDeps() {
  try {
    const [oidc, jose] = await Promise.all([import('oidc-provider'), import('jose')]);
    return { Provider: oidc.Provider, errors: oidc.errors, jose };
  } catch (err) {
    return hint(err);
  }
}

/** SDK v1 server pieces and jose, for tests/servers/protected-mcp-server.mjs. */
export async function loadProtectedServerDeps() {
  const [sdk, jose] = await Promise.all([loadLegacySdk(), import('jose').catch(hint)]);
  return { ...sdk, jose };
}
