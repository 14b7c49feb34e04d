// The command line (cli/options.h). Each group of options (common, login, relay) is one
// table of rows, each naming its flag, its help and the field it sets: the parser adds
// the rows to every command that takes the group (and to the top level, for options
// given before the command), and to_argv() writes the same rows back.
#include <cstdio>
#include <iostream>
#include <type_traits>
#include <utility>

#include <CLI/CLI.hpp>

#include "cli/options.h"
#include "cli/version.h"

namespace mcp_auth {
namespace {

const char* kUrlHelp =
    "MCP server URL (Streamable HTTP endpoint), e.g. https://mcp.example.com/mcp";

// The login agent's hidden options (login_agent_args writes them, `login` parses them).
const char* kAgentLockFd = "--agent-lock-fd";
const char* kChallenge = "--challenge";

// One option: its CLI11 names ("-v,--verbose"; the last one is the long name to_argv
// writes), its help, the field it sets, and what else CLI11 is told (checks, the default
// shown). Defaults are the struct's: one source.
template <class Options>
struct Row {
    using Field =
        std::variant<bool Options::*, int Options::*, size_t Options::*, double Options::*,
                     std::string Options::*, std::vector<std::string> Options::*>;
    const char* names;
    const char* help;
    Field field;
    void (*refine)(CLI::Option&) = nullptr;

    std::string long_name() const {
        std::string all = names;
        return all.substr(all.rfind(',') + 1);
    }
};

template <class Options>
using Table = std::vector<Row<Options>>;

void show_default(CLI::Option& o) {
    o.capture_default_str();
}

const Table<CommonOptions>& common_table() {
    static const Table<CommonOptions> rows = {
        {"-v,--verbose", "Log what happens to stderr (never tokens or header values)",
         &CommonOptions::verbose},
        {"--store",
         "Where tokens live: keychain (the OS keychain, default) or file (unencrypted; also "
         "MCP_AUTH_STORE=file). status and logout read only this store when it is given",
         &CommonOptions::store,
         [](CLI::Option& o) {
             o.check(CLI::IsMember({"keychain", "file"}));
         }},
        {"--ca-file",
         "Also trust the CA certificates in this PEM file (servers with a private CA); "
         "SSL_CERT_FILE replaces the system's instead",
         &CommonOptions::ca_file, [](CLI::Option& o) { o.check(CLI::ExistingFile); }},
        {"--log-file",
         "Also append everything --verbose prints, with times and the process id, to this "
         "file (never a token or secret; kept under 10 MB: PATH and PATH.1); also "
         "MCP_AUTH_LOG_FILE",
         &CommonOptions::log_file, [](CLI::Option& o) { o.type_name("PATH"); }},
    };
    return rows;
}

const Table<LoginOptions>& login_table() {
    static const Table<LoginOptions> rows = {
        {"--allow-http", "Allow plain http:// to a non-loopback host (tokens travel unencrypted)",
         &LoginOptions::allow_http},
        {"--timeout",
         "Seconds a request may wait silently for reply bytes (an exchange with the "
         "authorization server: at most 30)",
         &LoginOptions::timeout_s,
         [](CLI::Option& o) { o.capture_default_str()->check(CLI::Range(0.001, 1e6, "SECONDS")); }},
        {"--connect-timeout", "Seconds to wait for a connection", &LoginOptions::connect_timeout_s,
         [](CLI::Option& o) { o.capture_default_str()->check(CLI::Range(0.001, 1e6, "SECONDS")); }},
        {"--client-id", "Use this pre-registered OAuth client instead of registering one",
         &LoginOptions::client_id},
        {"--client-metadata-url", "Use this client ID metadata document URL as the client id",
         &LoginOptions::client_metadata_url},
        {"--idp-issuer",
         "Enterprise-managed authorization: exchange the identity provider's ID token "
         "(MCP_AUTH_IDP_ID_TOKEN) at this IdP for an identity assertion (ID-JAG); no browser",
         &LoginOptions::idp_issuer},
        {"--idp-token-endpoint",
         "The IdP's token endpoint, instead of discovering it from --idp-issuer",
         &LoginOptions::idp_token_endpoint},
        {"--idp-client-id", "mcp-auth's client id at the IdP", &LoginOptions::idp_client_id},
        {"--client-assertion-key",
         "Authenticate the client with a JWT signed by this PEM private key (private_key_jwt; "
         "P-256 or RSA)",
         &LoginOptions::client_assertion_key, [](CLI::Option& o) { o.check(CLI::ExistingFile); }},
        {"--issuer",
         "Authorization server to use when the MCP server publishes no resource metadata; with "
         "a client secret or key, the only one they are sent to",
         &LoginOptions::issuer},
        {"--scope", "Scopes to request (space-separated), instead of the discovered ones",
         &LoginOptions::scope},
        {"--callback-port", "Fixed loopback port for the login redirect (default: any free port)",
         &LoginOptions::callback_port, [](CLI::Option& o) { o.check(CLI::Range(1, 65535)); }},
        {"--no-resource",
         "Do not send the RFC 8707 resource parameter (for servers that reject it)",
         &LoginOptions::no_resource},
        {"--client-credentials",
         "Machine login (client credentials grant, no browser); needs --client-id and the "
         "secret in MCP_AUTH_CLIENT_SECRET or the keychain",
         &LoginOptions::client_credentials},
        {"--auth-header", "Header that carries the token as \"Bearer <token>\"",
         &LoginOptions::auth_header, show_default},
        {"--login-timeout", "Seconds to wait for the browser login", &LoginOptions::login_timeout_s,
         [](CLI::Option& o) {
             o.capture_default_str()->check(CLI::Range(1.0, 86400.0, "SECONDS"));
         }},
    };
    return rows;
}

const Table<RelayArgs>& relay_table() {
    static const Table<RelayArgs> rows = {
        {"-H,--header",
         "Extra request header \"Name: value\"; ${VAR} expands from the environment "
         "(repeatable). A header named like --auth-header turns OAuth off",
         &RelayArgs::headers,
         [](CLI::Option& o) {
             o.type_name("\"NAME: VALUE\"")
                 ->allow_extra_args(false);  // one value per -H: the URL after it stays the URL
         }},
        {"--max-message-bytes",
         "Largest message accepted in either direction; larger ones get an error",
         &RelayArgs::max_message_bytes,
         [](CLI::Option& o) {
             o.capture_default_str()->check(CLI::Range(size_t{1024}, size_t{1} << 34));
         }},
        {"--max-connections", "Most connections to the server at once", &RelayArgs::max_connections,
         [](CLI::Option& o) { o.capture_default_str()->check(CLI::Range(1, 1024)); }},
        {"--allow-tool",
         "Pass only the tools whose names match GLOB ('*' wildcards; repeatable); the others "
         "are left out of tools/list and their calls refused here",
         &RelayArgs::allow_tools,
         [](CLI::Option& o) { o.type_name("GLOB")->allow_extra_args(false); }},
        {"--deny-tool",
         "Hide and refuse the tools whose names match GLOB (repeatable; wins over "
         "--allow-tool); a refused call never reaches the server",
         &RelayArgs::deny_tools,
         [](CLI::Option& o) { o.type_name("GLOB")->allow_extra_args(false); }},
    };
    return rows;
}

template <class Options>
void add_rows(CLI::App& app, const Table<Options>& rows, Options& values) {
    for (const auto& row : rows) {
        CLI::Option* option = std::visit(
            [&](auto member) -> CLI::Option* {
                using T = std::decay_t<decltype(values.*member)>;
                if constexpr (std::is_same_v<T, bool>)
                    return app.add_flag(row.names, values.*member, row.help);
                else
                    return app.add_option(row.names, values.*member, row.help);
            },
            row.field);
        if (row.refine) row.refine(*option);
    }
}

// An option given before the command's name counts for the command: copied into its
// values unless given after it too (then the later one wins; -H values add up).
template <class Options>
void take_earlier(const Table<Options>& rows, CLI::App& top, const Options& before,
                  CLI::App& command, Options& values) {
    for (const auto& row : rows) {
        const CLI::Option* early = top.get_option_no_throw(row.long_name());
        const CLI::Option* late = command.get_option_no_throw(row.long_name());
        if (!early || early->count() == 0) continue;
        std::visit(
            [&](auto member) {
                using T = std::decay_t<decltype(values.*member)>;
                if constexpr (std::is_same_v<T, std::vector<std::string>>)
                    (values.*member)
                        .insert((values.*member).begin(), (before.*member).begin(),
                                (before.*member).end());
                else if (!late || late->count() == 0)
                    values.*member = before.*member;
            },
            row.field);
    }
}

// The first option of `rows` given before the command's name, for a command that does
// not take the group ("" when none was).
template <class Options>
std::string given_at_top(const Table<Options>& rows, CLI::App& top) {
    for (const auto& row : rows)
        if (const CLI::Option* o = top.get_option_no_throw(row.long_name()); o && o->count() > 0)
            return row.long_name();
    return "";
}

std::string number(double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    return buf;
}

template <class Options>
std::vector<std::string> args_of(const Table<Options>& rows, const Options& values) {
    static const Options defaults{};
    std::vector<std::string> out;
    for (const auto& row : rows) {
        std::visit(
            [&](auto member) {
                using T = std::decay_t<decltype(values.*member)>;
                const T& value = values.*member;
                if (value == defaults.*member) return;
                std::string flag = row.long_name();
                // Flags default to false (the round-trip test holds this).
                if constexpr (std::is_same_v<T, bool>)
                    out.push_back(flag);
                else if constexpr (std::is_same_v<T, std::string>)
                    out.push_back(flag + "=" + value);
                else if constexpr (std::is_same_v<T, double>)
                    out.push_back(flag + "=" + number(value));
                else if constexpr (std::is_same_v<T, std::vector<std::string>>)
                    for (const auto& item : value) out.push_back(flag + "=" + item);
                else
                    out.push_back(flag + "=" + std::to_string(value));
            },
            row.field);
    }
    return out;
}

int usage_error(const std::string& message) {
    std::cerr << "mcp-auth: " << message << "\n";
    return kExitUsage;
}

}  // namespace

std::vector<std::string> to_argv(const CommonOptions& options) {
    return args_of(common_table(), options);
}

std::vector<std::string> to_argv(const LoginOptions& options) {
    return args_of(login_table(), options);
}

std::vector<std::string> to_argv(const RelayArgs& options) {
    return args_of(relay_table(), options);
}

std::vector<std::string> login_agent_args(const std::string& url, const CommonOptions& common,
                                          const LoginOptions& login, int lock_handle,
                                          const std::string& challenge, const std::string& scope) {
    std::vector<std::string> args = {"login", url, "--force", kAgentLockFd,
                                     std::to_string(lock_handle)};
    if (!challenge.empty()) args.push_back(std::string(kChallenge) + "=" + challenge);
    LoginOptions passed = login;
    if (!scope.empty()) passed.scope = scope;
    for (auto& a : to_argv(common)) args.push_back(std::move(a));
    for (auto& a : to_argv(passed)) args.push_back(std::move(a));
    return args;
}

const CommonOptions& common_options(const Command& command) {
    static const CommonOptions none;
    return std::visit(
        [](const auto& c) -> const CommonOptions& {
            if constexpr (std::is_same_v<std::decay_t<decltype(c)>, ExitNow>)
                return none;
            else
                return c.common;
        },
        command);
}

Command parse_command_line(const std::vector<std::string>& args) {
    CLI::App app{
        "mcp-auth: per-user OAuth for MCP. Relays an MCP client's stdio to a remote Streamable "
        "HTTP MCP\n"
        "server, logging in through the browser when needed and keeping tokens in the OS "
        "keychain.\n"
        "stdout carries only JSON-RPC; logs go to stderr. Options may come before or after the "
        "command.",
        "mcp-auth"};
    app.set_version_flag("--version", MCP_AUTH_VERSION);
    app.footer(
        "Examples:\n"
        "  mcp-auth https://mcp.example.com/mcp            (what an MCP client launches)\n"
        "  mcp-auth login https://mcp.example.com/mcp\n"
        "  mcp-auth --store file login https://mcp.example.com/mcp\n"
        "  mcp-auth status                                 (the keychain and the file store)\n"
        "  mcp-auth https://gw.example.com/mcp --issuer https://idp.example.com --client-id abc "
        "--scope \"api/read\"\n"
        "See mcp-auth(1) for details.");
    app.require_subcommand(0, 1);

    // The proxy is the default command: `mcp-auth <url>` and `mcp-auth proxy <url>` are
    // the same. The top level also holds the options given before a command's name.
    ProxyCommand top;
    app.add_option("url", top.url, kUrlHelp);
    add_rows(app, common_table(), top.common);
    add_rows(app, relay_table(), top.relay);
    add_rows(app, login_table(), top.login);

    auto* proxy_app =
        app.add_subcommand("proxy", "Relay stdin/stdout to the server (the default command)");
    ProxyCommand proxy;
    proxy_app->add_option("url", proxy.url, kUrlHelp)->required();
    add_rows(*proxy_app, common_table(), proxy.common);
    add_rows(*proxy_app, relay_table(), proxy.relay);
    add_rows(*proxy_app, login_table(), proxy.login);

    auto* login_app = app.add_subcommand("login", "Log in through the browser and keep the tokens");
    LoginCommand login;
    login_app->add_option("url", login.url, kUrlHelp)->required();
    login_app->add_flag("--force", login.force,
                        "Log in again even when the stored login is still valid");
    // Used when a relay starts the login in a process of its own (not for people).
    login_app->add_option(kAgentLockFd, login.agent_lock_fd)->group("");
    login_app->add_option(kChallenge, login.challenge)->group("");
    add_rows(*login_app, common_table(), login.common);
    add_rows(*login_app, login_table(), login.login);

    auto* status_app = app.add_subcommand(
        "status",
        "Show who is logged in where, in the keychain and the file store (exit 4 when a login "
        "is needed)");
    StatusCommand status;
    status_app->add_option("url", status.url, "Only this server");
    status_app->add_flag("--json", status.json, "Machine-readable output (never contains tokens)");
    add_rows(*status_app, common_table(), status.common);

    auto* logout_app = app.add_subcommand(
        "logout", "Revoke and delete the stored login (in the keychain and the file store)");
    LogoutCommand logout;
    logout_app->add_option("url", logout.url, kUrlHelp);
    logout_app->add_flag("--all", logout.all, "Every login and client registration");
    add_rows(*logout_app, common_table(), logout.common);

    auto* token_app = app.add_subcommand(
        "token", "Print a valid access token (refreshed if needed), for scripts");
    TokenCommand token;
    token_app->add_option("url", token.url, kUrlHelp)->required();
    add_rows(*token_app, common_table(), token.common);
    add_rows(*token_app, login_table(), token.login);

    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());  // as CLI11 takes them
        app.parse(reversed);
    } catch (const CLI::CallForHelp& e) {
        return ExitNow{app.exit(e)};
    } catch (const CLI::CallForVersion& e) {
        return ExitNow{app.exit(e)};
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return ExitNow{kExitUsage};
    }

    CLI::App* chosen = nullptr;
    for (CLI::App* sub : {proxy_app, login_app, status_app, logout_app, token_app})
        if (sub->parsed()) chosen = sub;
    if (!chosen) {
        if (top.url.empty())
            return ExitNow{usage_error(
                "missing the server URL.\nUsage: mcp-auth [options] <url>   (mcp-auth --help for "
                "more)")};
        return top;
    }

    std::string name = chosen->get_name();
    if (!top.url.empty())
        return ExitNow{usage_error("the server URL goes after the command: mcp-auth " + name +
                                   " [options] <url>")};
    // Options before the command's name that it does not take.
    bool takes_login = chosen == proxy_app || chosen == login_app || chosen == token_app;
    std::string stray = given_at_top(relay_table(), app);
    if (stray.empty() && !takes_login) stray = given_at_top(login_table(), app);
    if (!stray.empty() && chosen != proxy_app)
        return ExitNow{usage_error(stray + " is not an option of `mcp-auth " + name +
                                   "` (see mcp-auth " + name + " --help)")};

    auto finish = [&](auto& command) {
        take_earlier(common_table(), app, top.common, *chosen, command.common);
        using T = std::decay_t<decltype(command)>;
        if constexpr (std::is_same_v<T, ProxyCommand> || std::is_same_v<T, LoginCommand> ||
                      std::is_same_v<T, TokenCommand>)
            take_earlier(login_table(), app, top.login, *chosen, command.login);
        if constexpr (std::is_same_v<T, ProxyCommand>)
            take_earlier(relay_table(), app, top.relay, *chosen, command.relay);
        return Command(std::move(command));
    };
    if (chosen == proxy_app) return finish(proxy);
    if (chosen == login_app) return finish(login);
    if (chosen == status_app) return finish(status);
    if (chosen == token_app) return finish(token);
    if (logout.url.empty() == !logout.all)
        return ExitNow{usage_error("logout: give a server URL or --all (not both)")};
    return finish(logout);
}

}  // namespace mcp_auth
