#pragma once
// The command line: every command and option is declared in src/cli.cpp.
#include <cstddef>
#include <string>
#include <vector>

namespace mcp_auth {

// Options of the relay (proxy mode).
struct RelayArgs {
    std::vector<std::string> headers;  // "Name: value", ${VAR} not yet expanded
    bool allow_http = false;           // --allow-http (also on login and token)
    size_t max_message_bytes = 64u << 20;
    double timeout_s = 300;
    double connect_timeout_s = 10;
    size_t max_connections = 64;
};

// Options of the OAuth client (proxy, login, token).
struct AuthArgs {
    std::string client_id;
    std::string client_metadata_url;
    std::string client_assertion_key;
    std::string issuer;
    std::string idp_issuer;
    std::string idp_token_endpoint;
    std::string idp_client_id;
    std::string scope;
    int callback_port = 0;
    bool no_resource = false;
    bool client_credentials = false;
    std::string auth_header = "Authorization";
    double login_timeout_s = 300;
};

struct Invocation {
    enum class Command { Exit, Proxy, Login, Status, Logout, Token };
    Command command = Command::Exit;
    int exit_code = 0;  // for Command::Exit (help, version, usage errors)
    std::string url;    // "" for status/logout without one
    RelayArgs relay;
    AuthArgs auth;
    std::string store;    // "keychain", "file", or "" (MCP_AUTH_STORE, else keychain)
    std::string ca_file;  // extra trusted CA certificates
    bool verbose = false;
    bool force = false;  // login --force
    bool json = false;   // status --json
    bool all = false;    // logout --all
    // A login agent (started by a proxy instance; hidden options of `login`):
    int agent_lock_fd = -1;  // the inherited login lock
    std::string challenge;   // the 401's WWW-Authenticate value
};

// Exit codes, as gh uses them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLoginRequired = 4;

// Parses argv. Help, version and usage errors are printed here (help to stdout only
// when asked for explicitly; errors to stderr).
Invocation parse_command_line(int argc, char** argv);

}  // namespace mcp_auth
