#pragma once
// The command line: every command and option is declared in src/cli.cpp.
#include <cstddef>
#include <string>
#include <vector>

namespace mcp_auth {

struct ProxyArgs {
    std::string url;
    std::vector<std::string> headers;  // "Name: value", ${VAR} not yet expanded
    bool allow_http = false;
    bool verbose = false;
    size_t max_message_bytes = 64u << 20;
    double timeout_s = 300;
    double connect_timeout_s = 10;
    size_t max_connections = 64;
};

struct Invocation {
    enum class Command { Exit, Proxy };
    Command command = Command::Exit;
    int exit_code = 0;  // for Command::Exit (help, version, usage errors)
    ProxyArgs proxy;
};

// Exit codes, as gh uses them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Parses argv. Help, version and usage errors are printed here (help to stdout only
// when asked for explicitly; errors to stderr).
Invocation parse_command_line(int argc, char** argv);

}  // namespace mcp_auth
