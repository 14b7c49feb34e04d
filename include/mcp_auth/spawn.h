#pragma once
// Starting a detached child without a shell: stdin from /dev/null, stdout onto our
// stderr (stdout belongs to JSON-RPC), no inherited descriptors but the ones asked for.
// Nobody waits for it: a thread reaps it when it ends.
#include <string>
#include <vector>

#include "mcp_auth/output.h"

namespace mcp_auth {

struct SpawnOptions {
    int pass_fd = -1;          // becomes descriptor 3 in the child
    bool new_session = false;  // setsid(): survives the host killing our process group
};

// True when the child started. Says on the log why not otherwise.
bool spawn_detached(const std::vector<std::string>& argv, const SpawnOptions& options, Log& log);

// The path of the running executable (to start a copy of ourselves).
std::string self_executable(const char* argv0);

}  // namespace mcp_auth
