#pragma once
// Opens a URL in the user's browser, without a shell: $MCP_AUTH_BROWSER, else $BROWSER,
// else the platform's opener. The launcher's stdout goes to stderr (stdout belongs to
// JSON-RPC) and its stdin is /dev/null. mcp-auth does not wait for it. The browser never
// sees mcp-auth's secrets (spawn.h scrubs them from its environment).
#include <string>

#include "platform/output.h"

namespace mcp_auth {

// True when a launcher was started. Only an absolute http:// or https:// URL of RFC 3986
// characters is opened (never something an opener could take for a file or an option).
// Never throws; says on the log what failed.
bool open_browser(const std::string& url, Log& log);

// Whether opening a browser can work here at all: a browser variable is set, or (on
// Linux) a graphical session exists. Used to fail fast in proxy mode over SSH.
bool browser_available();

}  // namespace mcp_auth
