#pragma once
// Starting a detached child without a shell: stdin from /dev/null, stdout onto our
// stderr (stdout belongs to JSON-RPC), no inherited descriptors but the ones asked for,
// every signal unblocked and at its default disposition (the relay blocks SIGTERM, SIGINT
// and SIGHUP for its signal thread, and ignores SIGPIPE: a child must stay stoppable),
// and an environment without mcp-auth's secrets. Nobody waits for it: a thread reaps it
// when it ends.
#include <string>
#include <vector>

#include "ports/log.h"

namespace mcp_auth {

struct SpawnOptions {
    int pass_fd = -1;          // becomes descriptor 3 in the child
    bool new_session = false;  // setsid(): survives the host killing our process group
    // Keep MCP_AUTH_CLIENT_SECRET and MCP_AUTH_IDP_ID_TOKEN: only for a copy of mcp-auth
    // (the login agent), which reads them the way its parent did.
    bool keep_auth_secrets = false;
};

// Marks an environment variable as secret (a --header value expands it): no child gets
// it. MCP_AUTH_CLIENT_SECRET and MCP_AUTH_IDP_ID_TOKEN are secret from the start. Call
// before starting threads that spawn.
void mark_secret_variable(const std::string& name);

// True when the child started. Says on the log why not otherwise.
bool spawn_detached(const std::vector<std::string>& argv, const SpawnOptions& options, Log& log);

// Notes, at start-up, the path the user ran (argv[0], resolved against PATH and the
// working directory now, while they are the ones the user had).
void remember_self_executable(const char* argv0);
// The executable to start a copy of ourselves with: the path the user ran while it exists
// (after a package upgrade it is the new binary, where /proc/self/exe names the deleted
// old one), else the running image, else "mcp-auth" from PATH.
std::string self_executable();

}  // namespace mcp_auth
