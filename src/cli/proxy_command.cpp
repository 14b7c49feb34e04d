// `mcp-auth [proxy] <url>`: relays stdin to the server and its answers to stdout, with
// OAuth unless the user passes the credential header themselves.
#include <chrono>
#include <optional>

#include "app/auth/authenticator.h"
#include "app/relay/relay.h"
#include "cli/commands.h"
#include "core/framing.h"
#include "core/headers.h"
#include "platform/process.h"

namespace mcp_auth {

int run_proxy(const ProxyCommand& command, Wiring& wiring) {
    Log& log = wiring.log();
    auto url = server_url(command.url, command.login.allow_http, true, log);
    if (!url) return kExitUsage;
    RelayOptions options;
    options.server = *url;
    bool static_auth = false;
    std::string error;
    // The variables --header values expand are secrets: no child (browser, login agent)
    // gets them.
    EnvLookup variables = wiring.header_variables();
    for (const auto& spec : command.relay.headers) {
        auto header = parse_header(spec, variables, &error);
        if (!header) {
            log.error("--header: " + error);
            return kExitUsage;
        }
        static_auth = static_auth || iequals(header->name, command.login.auth_header);
        options.static_headers.push_back(std::move(*header));
    }
    options.http.read_timeout = seconds_option(command.login.timeout_s);
    options.http.connect_timeout = seconds_option(command.login.connect_timeout_s);
    options.http.ca_file = command.common.ca_file;
    options.max_message_bytes = command.relay.max_message_bytes;
    options.max_connections = command.relay.max_connections;
    options.tools.allow = command.relay.allow_tools;
    options.tools.deny = command.relay.deny_tools;

    // OAuth, unless the user passes the credential header themselves.
    std::optional<Authenticator> auth;
    std::optional<BearerTokenSource> tokens;
    if (!static_auth) {
        auto store = wiring.login_store();
        if (!store) return store_error(store.error(), log);
        auth.emplace(wiring.auth_options(*url, command.login),
                     wiring.auth_context(**store, wiring.browser(),
                                         &wiring.login_agent(command.url, command.login)));
        tokens.emplace(*auth, command.login.auth_header, true, log);
        options.auth = &*tokens;
    } else {
        log.debug("a " + command.login.auth_header + " header was given: OAuth is off");
    }

    StdinLoop& input = wiring.stdin_loop();
    // On EOF, replies still in flight get a moment (kEndGrace); on a signal, the host
    // wants us gone. The stdin thread sends messages itself when it can (see RelayOptions).
    constexpr std::chrono::milliseconds kEndGrace{500};
    options.intake_hook = input.wait_hook(kEndGrace);
    LineSink& out = wiring.stdout_lines([&] {
        log.error("stdout was closed by the client; exiting");
        input.stop();
    });
    Relay relay(options, wiring.http(), out, log);
    LineFramer framer(
        command.relay.max_message_bytes,
        {[&](std::string&& line) { relay.on_line(std::move(line), framer.has_line()); },
         [&](std::string_view prefix, size_t total) { relay.on_oversized(prefix, total); }});
    // The query string may hold a credential: the log shows the path only.
    log.debug("relaying stdin to " + url->display());

    bool stopped =
        input.run([&](std::string_view chunk) { framer.feed(chunk); }) == StdinLoop::End::Stopped;
    if (!stopped) framer.finish();
    relay.shutdown(stopped ? std::chrono::milliseconds(0) : kEndGrace);
    log.debug(stopped ? "stopped by a signal or a closed stdout" : "stdin closed; exiting");
    return kExitOk;
}

}  // namespace mcp_auth
