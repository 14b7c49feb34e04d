// The one place that wires real adapters (stdin/stdout, signals, HTTP, keychain, browser,
// clock) to the use cases (relay, login, status, logout, token).
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "app/auth/authenticator.h"
#include "adapters/browser/browser.h"
#include "adapters/http/http_client.h"
#include "adapters/loopback/callback_listener.h"
#include "adapters/store/stores.h"
#include "cli/options.h"
#include "core/framing.h"
#include "core/headers.h"
#include "platform/line_writer.h"
#include "app/relay/relay.h"
#include "ports/secret_store.h"
#include "platform/clock.h"
#include "platform/paths.h"
#include "platform/process.h"
#include "platform/process_lock.h"
#include "platform/spawn.h"
#include "core/status.h"
#include "core/url.h"

namespace mcp_auth {
namespace {

constexpr auto kKeychainTimeout = std::chrono::seconds(5);

std::optional<std::string> getenv_lookup(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
}

std::chrono::milliseconds seconds(double s) {
    return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

long long now_seconds() {
    return SystemClock().now();
}

// The real adapters of this process, built once (the use cases get references).
struct Adapters {
    explicit Adapters(Log& log)
        : http(getenv_lookup),
          locks(lock_directory(getenv_lookup("XDG_RUNTIME_DIR").value_or(""),
                               state_directory(getenv_lookup))),
          browser(getenv_lookup, log) {}
    HttplibClient http;
    LoopbackCallbackServer callbacks;
    FileLockService locks;
    SystemClock clock;
    SystemBrowser browser;
};

// At a terminal the user can always open the URL shown: never "no browser here".
class TerminalBrowser : public Browser {
public:
    explicit TerminalBrowser(Browser& real) : real_(real) {}
    bool available() override { return true; }
    bool open(const std::string& url) override { return real_.open(url); }

private:
    Browser& real_;
};

int exit_code_for(const Error& error) {
    return error.kind == ErrorKind::LoginRequired ? kExitLoginRequired : kExitError;
}

// The store the user chose: --store, else MCP_AUTH_STORE, else the OS keychain. Never
// a silent fallback from one to the other.
std::unique_ptr<SecretStore> make_store(const Invocation& inv, Log& log, std::string* error) {
    std::string choice =
        inv.store.empty() ? getenv_lookup("MCP_AUTH_STORE").value_or("keychain") : inv.store;
    if (choice == "keychain") return make_os_keychain(kKeychainTimeout);
    if (choice == "file") {
        std::string dir = state_directory(getenv_lookup);
        auto store = make_file_store(dir);
        if (!dir.empty())  // else the store's every call says what to set
            log.info("warning: tokens are kept unencrypted in " + dir +
                     " (file store chosen with --store file or MCP_AUTH_STORE)");
        return store;
    }
    *error = "unknown store \"" + choice + "\" in MCP_AUTH_STORE (use keychain or file)";
    return nullptr;
}

std::optional<Url> server_url(const Invocation& inv, bool allow_http, Log& log) {
    std::string error;
    auto url = parse_url(inv.url, &error);
    if (!url) {
        log.error("invalid server URL \"" + display_url(inv.url) + "\": " + error);
        return std::nullopt;
    }
    if (auto refusal = check_url_policy(*url, allow_http); !refusal.empty()) {
        log.error(refusal);
        return std::nullopt;
    }
    // Once: not again in the login agent a relay starts (its stderr is the relay's).
    if (url->target.find('?') != std::string::npos && inv.agent_lock_fd < 0)
        log.info("warning: the server URL " + url->display() +
                 " has a query string. If it holds a credential (an API key), it is sent to "
                 "the server and its authorization server and kept with the login; pass "
                 "credentials with --header \"Name: ${VARIABLE}\" instead.");
    return url;
}

AuthOptions auth_options(const Invocation& inv, const Url& server, const RelayArgs& relay) {
    AuthOptions o;
    o.server = server;
    o.client_id = inv.auth.client_id;
    o.client_secret = getenv_lookup("MCP_AUTH_CLIENT_SECRET").value_or("");
    o.client_metadata_url = inv.auth.client_metadata_url;
    o.client_assertion_key = inv.auth.client_assertion_key;
    o.idp_issuer = inv.auth.idp_issuer;
    o.idp_token_endpoint = inv.auth.idp_token_endpoint;
    o.idp_client_id = inv.auth.idp_client_id;
    o.idp_id_token = getenv_lookup("MCP_AUTH_IDP_ID_TOKEN").value_or("");
    o.issuer = inv.auth.issuer;
    o.scope = inv.auth.scope;
    o.callback_port = inv.auth.callback_port;
    o.send_resource = !inv.auth.no_resource;
    o.client_credentials = inv.auth.client_credentials;
    o.allow_http = inv.relay.allow_http;
    o.login_timeout = seconds(inv.auth.login_timeout_s);
    o.http.connect_timeout = seconds(relay.connect_timeout_s);
    o.http.ca_file = inv.ca_file;
    o.http.read_timeout = std::min(seconds(relay.timeout_s), o.http.read_timeout);
    return o;
}

AuthContext auth_context(SecretStore& store, Log& log, Adapters& a, Browser& browser) {
    return AuthContext{store, log, a.http, a.callbacks, a.locks, a.clock, browser};
}

// The command line of a login agent: `mcp-auth login` for the same server and options,
// holding the login lock on descriptor 3. Secrets never go on a command line (other users
// can read it): the client secret travels in the environment (kept for this child only).
// It is started by the path the user ran, which a package upgrade leaves valid.
std::vector<std::string> agent_command(const Invocation& inv, const std::string& challenge,
                                       const std::string& scope) {
    std::vector<std::string> argv = {self_executable(), "login",           inv.url,
                                     "--force",         "--agent-lock-fd", "3"};
    auto add = [&](const char* flag, const std::string& value) {
        if (!value.empty()) argv.insert(argv.end(), {flag, value});
    };
    add("--challenge", challenge);
    add("--scope", scope);
    add("--client-id", inv.auth.client_id);
    add("--client-metadata-url", inv.auth.client_metadata_url);
    add("--client-assertion-key", inv.auth.client_assertion_key);
    add("--issuer", inv.auth.issuer);
    add("--store", inv.store);
    add("--ca-file", inv.ca_file);
    if (inv.auth.callback_port) add("--callback-port", std::to_string(inv.auth.callback_port));
    add("--login-timeout", std::to_string(inv.auth.login_timeout_s));
    if (inv.auth.no_resource) argv.push_back("--no-resource");
    if (inv.relay.allow_http) argv.push_back("--allow-http");
    if (inv.verbose) argv.push_back("--verbose");
    return argv;
}

// Starts `mcp-auth login` for the relay's server, holding the lock on descriptor 3.
class SpawnedLoginAgent : public LoginAgentLauncher {
public:
    SpawnedLoginAgent(const Invocation& inv, Log& log) : inv_(inv), log_(log) {}
    Status start(const ProcessLock& lock, const std::string& challenge,
                 const std::string& scope) override {
        SpawnOptions spawn{lock.handle(), true, true};
        if (!spawn_detached(agent_command(inv_, challenge, scope), spawn, log_))
            return make_error(ErrorKind::LoginRequired, "could not start the login process");
        return Ok{};
    }

private:
    const Invocation& inv_;
    Log& log_;
};

// --- the relay -----------------------------------------------------------------------

int run_proxy(const Invocation& inv, Log& log) {
    auto url = server_url(inv, inv.relay.allow_http, log);
    if (!url) return kExitUsage;
    RelayOptions options;
    options.server = *url;
    bool static_auth = false;
    std::string error;
    // The variables --header values expand are secrets: no child (browser, login agent)
    // gets them.
    auto secret_lookup = [](const std::string& name) {
        mark_secret_variable(name);
        return getenv_lookup(name);
    };
    for (const auto& spec : inv.relay.headers) {
        auto header = parse_header(spec, secret_lookup, &error);
        if (!header) {
            log.error("--header: " + error);
            return kExitUsage;
        }
        static_auth = static_auth || iequals(header->name, inv.auth.auth_header);
        options.static_headers.push_back(std::move(*header));
    }
    options.http.read_timeout = seconds(inv.relay.timeout_s);
    options.http.connect_timeout = seconds(inv.relay.connect_timeout_s);
    options.http.ca_file = inv.ca_file;
    options.max_message_bytes = inv.relay.max_message_bytes;
    options.max_connections = inv.relay.max_connections;

    // OAuth, unless the user passes the credential header themselves.
    Adapters adapters(log);
    SpawnedLoginAgent agent(inv, log);
    std::unique_ptr<SecretStore> store;
    std::optional<Authenticator> auth;
    std::optional<BearerTokenSource> tokens;
    if (!static_auth) {
        store = make_store(inv, log, &error);
        if (!store) {
            log.error(error);
            return kExitUsage;
        }
        AuthContext context = auth_context(*store, log, adapters, adapters.browser);
        context.agent = &agent;
        auth.emplace(auth_options(inv, *url, inv.relay), std::move(context));
        tokens.emplace(*auth, inv.auth.auth_header, true, log);
        options.auth = &*tokens;
    } else {
        log.debug("a " + inv.auth.auth_header + " header was given: OAuth is off");
    }

    StdinLoop input;
    LineWriter out(STDOUT_FILENO, [&] {
        log.error("stdout was closed by the client; exiting");
        input.stop();
    });
    Relay relay(options, adapters.http, out, log);
    LineFramer framer(
        inv.relay.max_message_bytes,
        {[&](std::string&& line) { relay.on_line(std::move(line)); },
         [&](std::string_view prefix, size_t total) { relay.on_oversized(prefix, total); }});
    // The query string may hold a credential: the log shows the path only.
    log.debug("relaying stdin to " + url->display());

    bool stopped = input.run([&](std::string_view chunk) { framer.feed(chunk); }) ==
                   StdinLoop::End::Stopped;
    if (!stopped) framer.finish();
    // On EOF, replies still in flight get a moment; on a signal, the host wants us gone.
    relay.shutdown(stopped ? std::chrono::milliseconds(0) : std::chrono::milliseconds(500));
    log.debug(stopped ? "stopped by a signal or a closed stdout" : "stdin closed; exiting");
    return kExitOk;
}

// --- terminal commands -------------------------------------------------------------

void print_login(const TokenRecord& r, long long now, Log& log) {
    std::string text = "Logged in to " + display_url(r.server) + " as " + r.identity;
    if (!r.scope.empty()) text += " with scopes: " + r.scope;
    if (r.expires_at) text += "; the token expires " + relative_time(r.expires_at, now);
    if (!r.refresh_token.empty()) text += " and will be refreshed";
    log.info(text + ".");
}

// Runs a terminal command with an Authenticator for the invocation's server.
template <class Command>
int with_authenticator(const Invocation& inv, Log& log, Command command) {
    auto url = server_url(inv, inv.relay.allow_http, log);
    if (!url) return kExitUsage;
    std::string error;
    auto store = make_store(inv, log, &error);
    if (!store) return log.error(error), kExitUsage;
    Adapters adapters(log);
    TerminalBrowser browser(adapters.browser);
    AuthContext context = auth_context(*store, log, adapters, browser);
    context.holds_login_lock = inv.agent_lock_fd >= 0;
    Authenticator auth(auth_options(inv, *url, RelayArgs{}), std::move(context));
    return command(auth);
}

int login_command(const Invocation& inv, Log& log, Authenticator& auth) {
    if (!inv.force) {
        auto current = auth.valid_token();
        if (current) {
            log.info("Already logged in to " + display_url(current->server) + " as " +
                     current->identity + " (until " +
                     relative_time(current->expires_at ? current->expires_at : now_seconds(),
                                   now_seconds()) +
                     "). Use --force to log in again.");
            return kExitOk;
        }
        if (current.error().kind == ErrorKind::StoreUnavailable)
            return log.error(current.error().message), kExitError;
    }
    auto record = auth.login(inv.challenge, true);
    if (!record) {
        log.error("login failed: " + record.error().message);
        return exit_code_for(record.error());
    }
    print_login(*record, now_seconds(), log);
    return kExitOk;
}

int run_status(const Invocation& inv, Log& log) {
    std::string error;
    auto store = make_store(inv, log, &error);
    if (!store) return log.error(error), kExitUsage;
    auto logins = list_logins(*store);
    if (!logins) {
        log.error(logins.error().message);
        return kExitError;
    }
    std::vector<TokenRecord> shown;
    std::string wanted;
    if (!inv.url.empty()) {
        auto url = parse_url(inv.url, &error);
        if (!url)
            return log.error("invalid server URL \"" + display_url(inv.url) + "\": " + error),
                   kExitUsage;
        wanted = url->to_string();
    }
    for (auto& r : *logins)
        if (wanted.empty() || r.server == wanted) shown.push_back(std::move(r));
    long long now = now_seconds();
    bool all_usable = !shown.empty();
    for (const auto& r : shown) all_usable = all_usable && login_usable(r, now);
    if (inv.json) {
        std::cout << status_json(shown, now, store->kind(), store->description()).dump(2) << "\n";
    } else if (shown.empty()) {
        if (wanted.empty())
            log.info("Not logged in to any server. Run `mcp-auth login <url>`.");
        else
            log.info("Not logged in to " + display_url(wanted) + ". Run `mcp-auth login " +
                     display_url(wanted) + "`.");
    } else {
        std::cout << status_text(shown, now, store->description());
    }
    return all_usable ? kExitOk : kExitLoginRequired;
}

int run_logout(const Invocation& inv, Log& log) {
    std::string error;
    auto store = make_store(inv, log, &error);
    if (!store) return log.error(error), kExitUsage;
    auto logins = list_logins(*store);
    if (!logins) return log.error(logins.error().message), kExitError;
    std::string wanted;
    if (!inv.all) {
        auto url = parse_url(inv.url, &error);
        if (!url)
            return log.error("invalid server URL \"" + display_url(inv.url) + "\": " + error),
                   kExitUsage;
        wanted = url->to_string();
    }
    Adapters adapters(log);
    TerminalBrowser browser(adapters.browser);
    int done = 0;
    for (const auto& r : *logins) {
        if (!inv.all && r.server != wanted) continue;
        std::string why;
        auto url = parse_url(r.server, &why);
        if (!url) continue;
        Authenticator auth(auth_options(inv, *url, RelayArgs{}),
                           auth_context(*store, log, adapters, browser));
        auto revoked = auth.logout(r);
        if (!revoked) return log.error(revoked.error().message), kExitError;
        log.info("Logged out of " + display_url(r.server) + " (" + r.identity + ")" +
                 (*revoked ? "; the login was revoked at " + r.issuer : ""));
        ++done;
    }
    if (inv.all) {
        // Client registrations and kept client secrets go too: a clean slate.
        for (const char* kind : {"client", "client-secret", "issuer-pin"}) {
            auto items = store->find({{"kind", kind}});
            if (!items) return log.error(items.error().message), kExitError;
            for (const auto& [key, secret] : *items)
                if (auto ok = store->erase(key); !ok)
                    return log.error(ok.error().message), kExitError;
        }
    }
    if (done == 0)
        log.info(inv.all ? "No stored logins." : "Not logged in to " + display_url(wanted) + ".");
    return kExitOk;
}

int token_command(const Invocation& inv, Log& log, Authenticator& auth) {
    auto record = auth.valid_token();
    if (!record && record.error().kind == ErrorKind::LoginRequired && inv.auth.client_credentials)
        record = auth.login("", false);
    if (!record) {
        log.error(record.error().message);
        return exit_code_for(record.error());
    }
    std::cout << record->access_token << "\n";
    return kExitOk;
}

int run(int argc, char** argv) {
    Invocation inv = parse_command_line(argc, argv);
    LineWriter err(STDERR_FILENO);
    Log log(err, inv.verbose);
    try {
        switch (inv.command) {
            case Invocation::Command::Proxy:
                return run_proxy(inv, log);
            case Invocation::Command::Login:
                return with_authenticator(
                    inv, log, [&](Authenticator& a) { return login_command(inv, log, a); });
            case Invocation::Command::Status:
                return run_status(inv, log);
            case Invocation::Command::Logout:
                return run_logout(inv, log);
            case Invocation::Command::Token:
                return with_authenticator(
                    inv, log, [&](Authenticator& a) { return token_command(inv, log, a); });
            case Invocation::Command::Exit:
                break;
        }
    } catch (const std::exception& e) {
        log.error(std::string("internal error (") + e.what() +
                  "); exiting. Please report this bug.");
        return kExitError;
    }
    return inv.exit_code;
}

}  // namespace
}  // namespace mcp_auth

int main(int argc, char** argv) {
    using namespace mcp_auth;
    prepare_process(argv[0]);
    try {
        return run(argc, argv);
    } catch (...) {  // before the log exists (parsing)
        die_of_uncaught_exception();
    }
}
