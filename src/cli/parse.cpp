#include "cli/options.h"

#include <CLI/CLI.hpp>

#ifndef MCP_AUTH_VERSION
#define MCP_AUTH_VERSION "0.0.0"
#endif

namespace mcp_auth {
namespace {

const char* kUrlHelp =
    "MCP server URL (Streamable HTTP endpoint), e.g. https://mcp.example.com/mcp";

void add_common_options(CLI::App& app, Invocation& inv) {
    app.add_flag("-v,--verbose", inv.verbose,
                 "Log what happens to stderr (never tokens or header values)");
    app.add_option(
           "--store", inv.store,
           "Where tokens live: keychain (the OS keychain, default) or file (unencrypted; also "
           "MCP_AUTH_STORE=file)")
        ->check(CLI::IsMember({"keychain", "file"}));
    app.add_option("--ca-file", inv.ca_file,
                   "Also trust the CA certificates in this PEM file (servers with a private CA); "
                   "SSL_CERT_FILE replaces the system's instead")
        ->check(CLI::ExistingFile);
}

// Also on login and token: an http:// server's login needs it too (and the login agent a
// relay starts gets it from the relay's command line).
void add_allow_http(CLI::App& app, RelayArgs& args) {
    app.add_flag("--allow-http", args.allow_http,
                 "Allow plain http:// to a non-loopback host (tokens travel unencrypted)");
}

void add_relay_options(CLI::App& app, RelayArgs& args) {
    app.add_option("-H,--header", args.headers,
                   "Extra request header \"Name: value\"; ${VAR} expands from the environment "
                   "(repeatable). A header named like --auth-header turns OAuth off")
        ->type_name("\"NAME: VALUE\"")
        ->allow_extra_args(false);  // one value per -H: the URL after it stays the URL
    add_allow_http(app, args);
    app.add_option("--timeout", args.timeout_s,
                   "Seconds a request may wait silently for reply bytes")
        ->default_val(300)
        ->check(CLI::Range(0.001, 1e6, "SECONDS"));
    app.add_option("--connect-timeout", args.connect_timeout_s, "Seconds to wait for a connection")
        ->default_val(10)
        ->check(CLI::Range(0.001, 1e6, "SECONDS"));
    app.add_option("--max-message-bytes", args.max_message_bytes,
                   "Largest message accepted in either direction; larger ones get an error")
        ->default_val(64u << 20)
        ->check(CLI::Range(size_t{1024}, size_t{1} << 34));
    app.add_option("--max-connections", args.max_connections,
                   "Most connections to the server at once")
        ->default_val(64)
        ->check(CLI::Range(1, 1024));
}

void add_auth_options(CLI::App& app, AuthArgs& args) {
    app.add_option("--client-id", args.client_id,
                   "Use this pre-registered OAuth client instead of registering one");
    app.add_option("--client-metadata-url", args.client_metadata_url,
                   "Use this client ID metadata document URL as the client id");
    app.add_option(
        "--idp-issuer", args.idp_issuer,
        "Enterprise-managed authorization: exchange the identity provider's ID token "
        "(MCP_AUTH_IDP_ID_TOKEN) at this IdP for an identity assertion (ID-JAG); no browser");
    app.add_option("--idp-token-endpoint", args.idp_token_endpoint,
                   "The IdP's token endpoint, instead of discovering it from --idp-issuer");
    app.add_option("--idp-client-id", args.idp_client_id, "mcp-auth's client id at the IdP");
    app.add_option(
           "--client-assertion-key", args.client_assertion_key,
           "Authenticate the client with a JWT signed by this PEM private key (private_key_jwt; "
           "P-256 or RSA)")
        ->check(CLI::ExistingFile);
    app.add_option("--issuer", args.issuer,
                   "Authorization server to use when the MCP server publishes no resource "
                   "metadata; with a client secret or key, the only one they are sent to");
    app.add_option("--scope", args.scope,
                   "Scopes to request (space-separated), instead of the discovered ones");
    app.add_option("--callback-port", args.callback_port,
                   "Fixed loopback port for the login redirect (default: any free port)")
        ->check(CLI::Range(1, 65535));
    app.add_flag("--no-resource", args.no_resource,
                 "Do not send the RFC 8707 resource parameter (for servers that reject it)");
    app.add_flag(
        "--client-credentials", args.client_credentials,
        "Machine login (client credentials grant, no browser); needs --client-id and the secret in "
        "MCP_AUTH_CLIENT_SECRET or the keychain");
    app.add_option("--auth-header", args.auth_header,
                   "Header that carries the token as \"Bearer <token>\"")
        ->default_val("Authorization");
    app.add_option("--login-timeout", args.login_timeout_s, "Seconds to wait for the browser login")
        ->default_val(300)
        ->check(CLI::Range(1.0, 86400.0, "SECONDS"));
}

}  // namespace

Invocation parse_command_line(int argc, char** argv) {
    Invocation inv;
    CLI::App app{
        "mcp-auth: per-user OAuth for MCP. Relays an MCP client's stdio to a remote Streamable "
        "HTTP MCP\n"
        "server, logging in through the browser when needed and keeping tokens in the OS "
        "keychain.\n"
        "stdout carries only JSON-RPC; logs go to stderr.",
        "mcp-auth"};
    app.set_version_flag("--version", MCP_AUTH_VERSION);
    app.footer(
        "Examples:\n"
        "  mcp-auth https://mcp.example.com/mcp            (what an MCP client launches)\n"
        "  mcp-auth login https://mcp.example.com/mcp\n"
        "  mcp-auth status\n"
        "  mcp-auth https://gw.example.com/mcp --issuer https://idp.example.com --client-id abc "
        "--scope \"api/read\"\n"
        "See mcp-auth(1) for details.");
    app.require_subcommand(0, 1);

    // The proxy is the default command: `mcp-auth <url>` and `mcp-auth proxy <url>` are
    // the same. Both parse into the same structures.
    app.add_option("url", inv.url, kUrlHelp);
    add_common_options(app, inv);
    add_relay_options(app, inv.relay);
    add_auth_options(app, inv.auth);

    auto* proxy =
        app.add_subcommand("proxy", "Relay stdin/stdout to the server (the default command)");
    Invocation proxy_inv;
    proxy->add_option("url", proxy_inv.url, kUrlHelp)->required();
    add_common_options(*proxy, proxy_inv);
    add_relay_options(*proxy, proxy_inv.relay);
    add_auth_options(*proxy, proxy_inv.auth);

    auto* login = app.add_subcommand("login", "Log in through the browser and keep the tokens");
    Invocation login_inv;
    login->add_option("url", login_inv.url, kUrlHelp)->required();
    login->add_flag("--force", login_inv.force,
                    "Log in again even when the stored login is still valid");
    // Used when a proxy instance starts the login in a process of its own (not for people).
    login->add_option("--agent-lock-fd", login_inv.agent_lock_fd)->group("");
    login->add_option("--challenge", login_inv.challenge)->group("");
    add_common_options(*login, login_inv);
    add_allow_http(*login, login_inv.relay);
    add_auth_options(*login, login_inv.auth);

    auto* status =
        app.add_subcommand("status", "Show who is logged in where (exit 4 when a login is needed)");
    Invocation status_inv;
    status->add_option("url", status_inv.url, "Only this server");
    status->add_flag("--json", status_inv.json, "Machine-readable output (never contains tokens)");
    add_common_options(*status, status_inv);

    auto* logout = app.add_subcommand("logout", "Revoke and delete the stored login");
    Invocation logout_inv;
    logout->add_option("url", logout_inv.url, kUrlHelp);
    logout->add_flag("--all", logout_inv.all, "Every login and client registration");
    add_common_options(*logout, logout_inv);

    auto* token = app.add_subcommand(
        "token", "Print a valid access token (refreshed if needed), for scripts");
    Invocation token_inv;
    token->add_option("url", token_inv.url, kUrlHelp)->required();
    add_common_options(*token, token_inv);
    add_allow_http(*token, token_inv.relay);
    add_auth_options(*token, token_inv.auth);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        inv.exit_code = app.exit(e);
        return inv;
    } catch (const CLI::CallForVersion& e) {
        inv.exit_code = app.exit(e);
        return inv;
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        inv.exit_code = kExitUsage;
        return inv;
    }
    auto chosen = [&](Invocation& sub, Invocation::Command command) {
        sub.command = command;
        return sub;
    };
    if (proxy->parsed()) return chosen(proxy_inv, Invocation::Command::Proxy);
    if (login->parsed()) return chosen(login_inv, Invocation::Command::Login);
    if (status->parsed()) return chosen(status_inv, Invocation::Command::Status);
    if (token->parsed()) return chosen(token_inv, Invocation::Command::Token);
    if (logout->parsed()) {
        if (logout_inv.url.empty() == !logout_inv.all) {
            std::cerr << "mcp-auth logout: give a server URL or --all (not both)\n";
            inv.exit_code = kExitUsage;
            return inv;
        }
        return chosen(logout_inv, Invocation::Command::Logout);
    }
    if (inv.url.empty()) {
        std::cerr << "mcp-auth: missing the server URL.\nUsage: mcp-auth [options] <url>   "
                     "(mcp-auth --help for "
                     "more)\n";
        inv.exit_code = kExitUsage;
        return inv;
    }
    inv.command = Invocation::Command::Proxy;
    return inv;
}

}  // namespace mcp_auth
