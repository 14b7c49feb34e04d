#include "mcp_auth/cli.h"

#include <CLI/CLI.hpp>

#ifndef MCP_AUTH_VERSION
#define MCP_AUTH_VERSION "0.0.0"
#endif

namespace mcp_auth {
namespace {

void add_proxy_options(CLI::App& app, ProxyArgs& args) {
    app.add_option("url", args.url,
                   "Streamable HTTP MCP endpoint, e.g. https://mcp.example.com/mcp")
        ->required();
    app.add_option(
           "-H,--header", args.headers,
           "Extra request header \"Name: value\"; ${VAR} expands from the environment (repeatable)")
        ->type_name("\"NAME: VALUE\"");
    app.add_flag("--allow-http", args.allow_http, "Allow plain http:// to a non-loopback host");
    app.add_flag("-v,--verbose", args.verbose,
                 "Log each HTTP exchange to stderr (never header values)");
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

}  // namespace

Invocation parse_command_line(int argc, char** argv) {
    Invocation inv;
    CLI::App app{
        "mcp-auth: relays an MCP client's stdio to a remote Streamable HTTP MCP server.\n"
        "stdout carries only JSON-RPC; logs go to stderr.",
        "mcp-auth"};
    app.set_version_flag("--version", MCP_AUTH_VERSION);
    app.footer(
        "Examples:\n"
        "  mcp-auth https://mcp.example.com/mcp\n"
        "  mcp-auth proxy https://mcp.example.com/mcp --header \"Authorization: Bearer ${TOKEN}\"\n"
        "See mcp-auth(1) for details.");
    app.require_subcommand(0, 1);
    add_proxy_options(app, inv.proxy);

    auto* proxy =
        app.add_subcommand("proxy", "Relay stdin/stdout to the server (the default command)");
    ProxyArgs proxy_args;
    add_proxy_options(*proxy, proxy_args);

    // The top-level url is required only when no subcommand is given.
    app.get_option("url")->required(false);
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
    if (proxy->parsed()) {
        inv.proxy = proxy_args;
    } else if (inv.proxy.url.empty()) {
        std::cerr << "mcp-auth: missing the server URL.\nUsage: mcp-auth [options] <url>   "
                     "(mcp-auth --help for more)\n";
        inv.exit_code = kExitUsage;
        return inv;
    }
    inv.command = Invocation::Command::Proxy;
    return inv;
}

}  // namespace mcp_auth
