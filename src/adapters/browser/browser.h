#pragma once
// The browser adapter (ports/system.h): opens a URL without a shell: $MCP_AUTH_BROWSER,
// else $BROWSER, else the platform's opener (platform/desktop.h). The launcher's stdout
// goes to stderr (stdout belongs to JSON-RPC) and its stdin is /dev/null; mcp-auth does
// not wait for it. The browser never sees mcp-auth's secrets (spawn.h scrubs them).
#include <string>

#include "core/headers.h"
#include "ports/log.h"
#include "ports/system.h"

namespace mcp_auth {

class SystemBrowser : public Browser {
public:
    SystemBrowser(EnvLookup env, Log& log) : env_(std::move(env)), log_(log) {}
    // A browser variable is set, or the platform has a graphical session.
    bool available() override;
    // True when a launcher was started. Only an absolute http:// or https:// URL of RFC
    // 3986 characters is opened (never something an opener could take for a file or an
    // option). Never throws; says on the log what failed.
    bool open(const std::string& url) override;

private:
    std::string variable(const char* name) const;
    EnvLookup env_;
    Log& log_;
};

}  // namespace mcp_auth
