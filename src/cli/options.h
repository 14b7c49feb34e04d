#pragma once
// The command line as values: one struct per command (Command is their variant). Every
// option is declared once, in the tables of src/cli/parse.cpp, which both the parser and
// to_argv() read: the login agent's command line is made from the same declarations that
// parse it, so the two cannot drift.
//
// Options may come before or after the command's name (`mcp-auth --store file login URL`
// = `mcp-auth login URL --store file`); one given in both places takes the value given
// after. An option the command does not take is a usage error wherever it is.
//
// Rules for a new option: a field here (listed in its struct's fields_of(), which == and
// the round-trip test in tests/unit/cli go through) and a row in parse.cpp's table for its
// group. Secrets are never options (argv is readable by every user of the machine): they
// come from the environment (compose.cpp).
#include <chrono>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace mcp_auth {

// Every command's: where tokens live, whom to trust, how much to say.
struct CommonOptions {
    bool verbose = false;  // -v, --verbose
    std::string store;     // --store: "keychain", "file", or "" (MCP_AUTH_STORE, else keychain)
    std::string ca_file;   // --ca-file: extra trusted CA certificates
    std::string log_file;  // --log-file: the support log ("" : MCP_AUTH_LOG_FILE, else none)

    template <class Self>
    static auto fields_of(Self& o) {
        return std::tie(o.verbose, o.store, o.ca_file, o.log_file);
    }
};

// How a login is done: proxy, login and token take these, and a relay gives them to the
// login agent it starts (to_argv).
struct LoginOptions {
    std::string client_id;             // --client-id
    std::string client_metadata_url;   // --client-metadata-url
    std::string client_assertion_key;  // --client-assertion-key (a PEM file)
    std::string issuer;                // --issuer
    std::string idp_issuer;            // --idp-issuer
    std::string idp_token_endpoint;    // --idp-token-endpoint
    std::string idp_client_id;         // --idp-client-id
    std::string scope;                 // --scope
    int callback_port = 0;             // --callback-port (0: any free port)
    bool no_resource = false;          // --no-resource
    bool client_credentials = false;   // --client-credentials
    bool allow_http = false;           // --allow-http (the server and its authorization server)
    std::string auth_header = "Authorization";  // --auth-header
    double login_timeout_s = 300;               // --login-timeout
    // Also bound every exchange with an authorization server (that one at most 30 s).
    double timeout_s = 300;         // --timeout
    double connect_timeout_s = 10;  // --connect-timeout

    template <class Self>
    static auto fields_of(Self& o) {
        return std::tie(o.client_id, o.client_metadata_url, o.client_assertion_key, o.issuer,
                        o.idp_issuer, o.idp_token_endpoint, o.idp_client_id, o.scope,
                        o.callback_port, o.no_resource, o.client_credentials, o.allow_http,
                        o.auth_header, o.login_timeout_s, o.timeout_s, o.connect_timeout_s);
    }
};

// The relay's own (proxy only).
struct RelayArgs {
    std::vector<std::string> headers;  // -H "Name: value", ${VAR} not yet expanded
    size_t max_message_bytes = 64u << 20;
    size_t max_connections = 64;
    std::vector<std::string> allow_tools;  // --allow-tool GLOB
    std::vector<std::string> deny_tools;   // --deny-tool GLOB

    template <class Self>
    static auto fields_of(Self& o) {
        return std::tie(o.headers, o.max_message_bytes, o.max_connections, o.allow_tools,
                        o.deny_tools);
    }
};

template <class T, class = decltype(T::fields_of(std::declval<const T&>()))>
bool operator==(const T& a, const T& b) {
    return T::fields_of(a) == T::fields_of(b);
}
template <class T, class = decltype(T::fields_of(std::declval<const T&>()))>
bool operator!=(const T& a, const T& b) {
    return !(a == b);
}

struct ProxyCommand {
    std::string url;
    CommonOptions common;
    LoginOptions login;
    RelayArgs relay;
};

struct LoginCommand {
    std::string url;
    CommonOptions common;
    LoginOptions login;
    bool force = false;  // --force
    // A login agent (started by a relay, hidden options): the inherited login lock's
    // descriptor and the 401's WWW-Authenticate value.
    int agent_lock_fd = -1;
    std::string challenge;
};

struct TokenCommand {
    std::string url;
    CommonOptions common;
    LoginOptions login;
};

struct StatusCommand {
    std::string url;  // "": every server
    CommonOptions common;
    bool json = false;  // --json
};

struct LogoutCommand {
    std::string url;  // "" with --all
    CommonOptions common;
    bool all = false;  // --all
};

// Nothing to run: help, version, or a usage error (already printed).
struct ExitNow {
    int code = 0;
};

using Command =
    std::variant<ExitNow, ProxyCommand, LoginCommand, StatusCommand, LogoutCommand, TokenCommand>;

// A number of seconds from the command line as a duration.
inline std::chrono::milliseconds seconds_option(double seconds) {
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

// Exit codes, as gh uses them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLoginRequired = 4;

// Parses a command line. Help, version and usage errors are printed here (help to stdout
// only when asked for explicitly; errors to stderr) and come back as ExitNow.
// `args`: the arguments after the program's name (platform/environment.h).
Command parse_command_line(const std::vector<std::string>& args);

// The options as arguments that parse back to the same values (only those that differ
// from the defaults; `--name=value`, so a value that starts with "-" stays a value).
std::vector<std::string> to_argv(const CommonOptions& options);
std::vector<std::string> to_argv(const LoginOptions& options);
std::vector<std::string> to_argv(const RelayArgs& options);

// The login agent's arguments (after the program's name): `login <url> --force`, holding
// the login lock as `lock_handle` (platform/spawn.h: handle_in_child), for the relay's
// `challenge` and `scope` ("" = the relay's --scope), with every other option the relay
// was given.
std::vector<std::string> login_agent_args(const std::string& url, const CommonOptions& common,
                                          const LoginOptions& login, int lock_handle,
                                          const std::string& challenge, const std::string& scope);

// The common options of a command (defaults for ExitNow).
const CommonOptions& common_options(const Command& command);

}  // namespace mcp_auth
