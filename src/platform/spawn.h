#pragma once
// Starting a detached child without a shell, and the path of our own executable (to start
// a copy of mcp-auth: the login agent).
//
// What every implementation guarantees (platform/posix/spawn.cpp; a win32 sibling
// implements the same):
// - stdin is empty (/dev/null; Windows NUL), stdout goes to our stderr (stdout belongs to
//   JSON-RPC), stderr is ours;
// - the child inherits no handle but the one passed: POSIX closes every other descriptor
//   (closefrom where the libc has it, close-on-exec everywhere else); Windows must create
//   every handle non-inheritable and pass this one alone with
//   PROC_THREAD_ATTRIBUTE_HANDLE_LIST (never bInheritHandles with a full table);
// - the child can be stopped: every signal unblocked and at its default disposition (the
//   relay blocks SIGTERM, SIGINT and SIGHUP for its signal thread and ignores SIGPIPE);
//   on Windows it is not in our console's Ctrl+C group when new_session is asked
//   (CREATE_NEW_PROCESS_GROUP | DETACHED_PROCESS);
// - its environment is ours without mcp-auth's secrets (mark_secret_variable);
// - nobody waits for it, and it leaves no zombie: a thread reaps it when it ends (Windows:
//   the process handle is closed at once).
#include <string>
#include <vector>

#include "ports/log.h"

namespace mcp_auth {

struct SpawnOptions {
    // A handle the child inherits (ProcessLock::handle(): the login lock); -1 for none.
    // The child finds it under handle_in_child(pass_handle).
    int pass_handle = -1;
    // The child outlives the host killing our process group or console (POSIX setsid()).
    bool new_session = false;
    // Keep MCP_AUTH_CLIENT_SECRET and MCP_AUTH_IDP_ID_TOKEN: only for a copy of mcp-auth
    // (the login agent), which reads them the way its parent did.
    bool keep_auth_secrets = false;
};

// The number by which a child knows the handle passed as SpawnOptions::pass_handle, for
// its command line (--agent-lock-fd): POSIX 3, the descriptor it is moved to; Windows the
// handle's own value, inherited as it is.
int handle_in_child(int pass_handle);

// Marks an environment variable as secret (a --header value expands it): no child gets
// it. MCP_AUTH_CLIENT_SECRET and MCP_AUTH_IDP_ID_TOKEN are secret from the start. Call
// before starting threads that spawn.
void mark_secret_variable(const std::string& name);

// True when the child started. Says on the log why not otherwise.
bool spawn_detached(const std::vector<std::string>& argv, const SpawnOptions& options, Log& log);

// Notes, at start-up (platform/process.h: prepare_process), the path this executable was
// started by, while the working directory is still the one it was started in: the path
// the kernel was given (Linux: the auxiliary vector's AT_EXECFN; macOS:
// _NSGetExecutablePath; Windows: GetModuleFileNameW), else `argv0` when it names a path.
void remember_self_executable(const char* argv0);
// The executable to start a copy of ourselves with: the path we were started by while it
// is an executable file (after a package upgrade it is the new binary, where Linux's
// /proc/self/exe names the deleted old one), else the running image (Linux), else
// "mcp-auth" from PATH.
std::string self_executable();

}  // namespace mcp_auth
