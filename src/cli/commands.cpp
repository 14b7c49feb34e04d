#include "cli/commands.h"

namespace mcp_auth {

std::optional<Url> server_url(const std::string& text, bool allow_http, bool warn_query, Log& log) {
    auto url = parse_url(text);
    if (!url) {
        log.error("invalid server URL \"" + display_url(text) + "\": " + url.error().message);
        return std::nullopt;
    }
    if (auto allowed = check_url_policy(*url, allow_http); !allowed) {
        log.error(allowed.error().message);
        return std::nullopt;
    }
    if (warn_query && url->target.find('?') != std::string::npos)
        log.info("warning: the server URL " + url->display() +
                 " has a query string. If it holds a credential (an API key), it is sent to "
                 "the server and its authorization server and kept with the login; pass "
                 "credentials with --header \"Name: ${VARIABLE}\" instead.");
    return *url;
}

std::optional<std::string> stored_server_key(const std::string& text, Log& log) {
    auto url = parse_url(text);
    if (!url) {
        log.error("invalid server URL \"" + display_url(text) + "\": " + url.error().message);
        return std::nullopt;
    }
    return url->to_string();
}

int exit_code_for(const Error& error) {
    return error.kind == ErrorKind::LoginRequired ? kExitLoginRequired : kExitError;
}

int store_error(const Error& error, Log& log) {
    log.error(error.message);
    return error.kind == ErrorKind::Invalid ? kExitUsage : kExitError;
}

int with_authenticator(const std::string& text, const LoginOptions& login, bool agent,
                       Wiring& wiring, const std::function<int(Authenticator&)>& body) {
    Log& log = wiring.log();
    auto url = server_url(text, login.allow_http, !agent, log);
    if (!url) return kExitUsage;
    auto store = wiring.login_store();
    if (!store) return store_error(store.error(), log);
    Authenticator auth(wiring.auth_options(*url, login),
                       wiring.auth_context(**store, wiring.terminal_browser(), nullptr, agent));
    return body(auth);
}

}  // namespace mcp_auth
