#include "cli/compose.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "adapters/browser/browser.h"
#include "adapters/http/http_client.h"
#include "adapters/log/log_file.h"
#include "adapters/loopback/callback_listener.h"
#include "adapters/store/stores.h"
#include "cli/version.h"
#include "platform/clock.h"
#include "platform/environment.h"
#include "platform/line_writer.h"
#include "platform/paths.h"
#include "platform/process.h"
#include "platform/process_lock.h"
#include "platform/spawn.h"
#include "platform/system_proxy.h"

namespace mcp_auth {
namespace {

constexpr auto kKeychainTimeout = std::chrono::seconds(5);

// At a terminal the user can always open the URL shown: never "no browser here".
class TerminalBrowser : public Browser {
public:
    explicit TerminalBrowser(Browser& real) : real_(real) {}
    bool available() override { return true; }
    bool open(const std::string& url) override { return real_.open(url); }

private:
    Browser& real_;
};

// Starts `mcp-auth login` for the relay's server and options, holding the login lock.
// Secrets never go on a command line (other users can read it): the client secret and
// the IdP's ID token travel in the environment (kept for this child only). It is started
// by the path the user ran, which a package upgrade leaves valid.
class SpawnedLoginAgent : public LoginAgentLauncher {
public:
    SpawnedLoginAgent(std::string url, CommonOptions common, LoginOptions login, Log& log)
        : url_(std::move(url)), common_(std::move(common)), login_(std::move(login)), log_(log) {}
    Status start(const ProcessLock& lock, const std::string& challenge,
                 const std::string& scope) override {
        std::vector<std::string> argv = {self_executable()};
        for (auto& arg : login_agent_args(url_, common_, login_, handle_in_child(lock.handle()),
                                          challenge, scope))
            argv.push_back(std::move(arg));
        SpawnOptions spawn;
        spawn.pass_handle = lock.handle();
        spawn.new_session = true;
        spawn.keep_auth_secrets = true;
        if (!spawn_detached(argv, spawn, log_))
            return make_error(ErrorKind::LoginRequired, "could not start the login process");
        return Ok{};
    }

private:
    std::string url_;
    CommonOptions common_;
    LoginOptions login_;
    Log& log_;
};

// The system's proxy settings for the HTTP adapter, when the environment sets no proxy
// variable (it wins, NO_PROXY=* included); empty otherwise. The adapter asks on its first
// connection to a server off loopback.
SystemProxySource system_proxy_unless_environment(const EnvLookup& env, Log& log) {
    if (environment_sets_proxy([&](const char* name) { return env(name).value_or(""); })) return {};
    return [&log]() -> std::optional<SystemProxySettings> {
        auto settings = system_proxy_settings();
        if (settings && !settings->proxy.empty())
            log.debug("no proxy variable is set: using the system proxy settings (proxy \"" +
                      settings->proxy + "\", bypass \"" + settings->bypass + "\")");
        if (settings && (settings->auto_detect || !settings->auto_config_url.empty()))
            log.debug(
                "the system proxy settings ask for automatic configuration (WPAD or a "
                "setup script), which mcp-auth does not use; set HTTPS_PROXY to use a "
                "proxy they would choose");
        return settings;
    };
}

}  // namespace

// Built on first use: none of them does anything until asked.
struct Wiring::Adapters {
    Adapters(const EnvLookup& env, Log& log)
        : http(env, "mcp-auth/" MCP_AUTH_VERSION, system_proxy_unless_environment(env, log)),
          locks(lock_directory(env("XDG_RUNTIME_DIR").value_or(""), state_directory(env))),
          browser(env, log),
          terminal(browser) {}
    HttplibClient http;
    LoopbackCallbackServer callbacks;
    FileLockService locks;
    SystemClock clock;
    SystemBrowser browser;
    TerminalBrowser terminal;
};

Wiring::Wiring(const CommonOptions& common)
    : common_(common),
      env_(environment_variable),  // the environment: read here and nowhere else
      stderr_(std::make_unique<LineWriter>(kStandardError)),
      log_(*stderr_, common.verbose) {
    // The support log: a file the user named. One that cannot be opened is said once and
    // the command goes on without it (a host's server must not fail for its log).
    std::string path =
        common.log_file.empty() ? env_("MCP_AUTH_LOG_FILE").value_or("") : common.log_file;
    if (path.empty()) return;
    auto file = LogFile::open(path);
    if (!file) {
        log_.error("--log-file: " + file.error().message + "; going on without the log file");
        return;
    }
    log_file_ = std::move(*file);
    log_.also_to(log_file_.get());
    // Not the command line: a -H value written out may hold a secret.
    log_.debug("mcp-auth " MCP_AUTH_VERSION " started");
}

Wiring::~Wiring() = default;

Wiring::Adapters& Wiring::adapters() {
    if (!adapters_) adapters_ = std::make_unique<Adapters>(env_, log_);
    return *adapters_;
}

HttpClient& Wiring::http() {
    return adapters().http;
}
Clock& Wiring::clock() {
    return adapters().clock;
}
Browser& Wiring::browser() {
    return adapters().browser;
}
Browser& Wiring::terminal_browser() {
    return adapters().terminal;
}

EnvLookup Wiring::header_variables() {
    return [env = env_](const std::string& name) {
        mark_secret_variable(name);
        return env(name);
    };
}

StdinLoop& Wiring::stdin_loop() {
    if (!stdin_) stdin_ = std::make_unique<StdinLoop>();
    return *stdin_;
}

LineSink& Wiring::stdout_lines(std::function<void()> on_broken) {
    if (!stdout_) stdout_ = std::make_unique<LineWriter>(kStandardOutput, std::move(on_broken));
    return *stdout_;
}

SecretStore& Wiring::keychain() {
    if (keychain_) return *keychain_;
#if !defined(__APPLE__) && !defined(_WIN32)
    // Secret Service: a host's trimmed environment may lack the session bus address;
    // libsecret (through GLib) reads it from the environment, so it is exported here,
    // before any thread starts (adapters/store/stores.h: default_session_bus).
    std::string bus_note;
    if (auto address = default_session_bus(env_, &bus_note))
        set_environment_default("DBUS_SESSION_BUS_ADDRESS", *address);
    keychain_ = make_os_keychain(kKeychainTimeout, std::move(bus_note));
#else
    keychain_ = make_os_keychain(kKeychainTimeout);
#endif
    return *keychain_;
}

SecretStore& Wiring::file_store(bool chosen) {
    if (!file_) {
        std::string dir = state_directory(env_);
        file_ = make_file_store(dir);
        if (chosen && !dir.empty())  // else the store's every call says what to set
            log_.info("warning: tokens are kept unencrypted in " + dir +
                      " (file store chosen with --store file or MCP_AUTH_STORE)");
    }
    return *file_;
}

Expected<SecretStore*> Wiring::login_store() {
    std::string choice =
        common_.store.empty() ? env_("MCP_AUTH_STORE").value_or("keychain") : common_.store;
    if (choice == "keychain") return &keychain();
    if (choice == "file") return &file_store(true);
    return make_error(ErrorKind::Invalid,
                      "unknown store \"" + choice + "\" in MCP_AUTH_STORE (use keychain or file)");
}

Expected<StoreSet> Wiring::stores_to_read() {
    StoreSet set;
    if (!common_.store.empty()) {
        set.chosen_by = "--store " + common_.store;
    } else if (auto variable = env_("MCP_AUTH_STORE")) {
        set.chosen_by = "MCP_AUTH_STORE=" + *variable;
    }
    // The file store is read only where it can hold something: looking creates its
    // directory otherwise.
    std::string dir = state_directory(env_);
    std::error_code ignored;
    bool file_exists = !dir.empty() && std::filesystem::is_directory(dir, ignored);
    if (!set.chosen_by.empty()) {
        auto store = login_store();
        if (!store) return store.error();
        set.read.push_back(*store);
        if ((*store)->kind() != "file" && file_exists) set.unread_file = &file_store(false);
        return set;
    }
    set.read.push_back(&keychain());
    if (file_exists) set.read.push_back(&file_store(false));
    return set;
}

AuthOptions Wiring::auth_options(const Url& server, const LoginOptions& login) const {
    AuthOptions o;
    o.server = server;
    o.client_id = login.client_id;
    o.client_secret = env_("MCP_AUTH_CLIENT_SECRET").value_or("");
    o.client_metadata_url = login.client_metadata_url;
    o.client_assertion_key = login.client_assertion_key;
    o.idp_issuer = login.idp_issuer;
    o.idp_token_endpoint = login.idp_token_endpoint;
    o.idp_client_id = login.idp_client_id;
    o.idp_id_token = env_("MCP_AUTH_IDP_ID_TOKEN").value_or("");
    o.issuer = login.issuer;
    o.scope = login.scope;
    o.callback_port = login.callback_port;
    o.send_resource = !login.no_resource;
    o.client_credentials = login.client_credentials;
    o.allow_http = login.allow_http;
    o.login_timeout = seconds_option(login.login_timeout_s);
    o.http.connect_timeout = seconds_option(login.connect_timeout_s);
    o.http.ca_file = common_.ca_file;
    o.http.read_timeout = std::min(seconds_option(login.timeout_s), o.http.read_timeout);
    return o;
}

AuthContext Wiring::auth_context(SecretStore& store, Browser& browser, LoginAgentLauncher* agent,
                                 bool holds_login_lock) {
    Adapters& a = adapters();
    AuthContext context{store, log_, a.http, a.callbacks, a.locks, a.clock, browser};
    context.agent = agent;
    context.holds_login_lock = holds_login_lock;
    return context;
}

LoginAgentLauncher& Wiring::login_agent(const std::string& url, const LoginOptions& login) {
    if (!agent_) agent_ = std::make_unique<SpawnedLoginAgent>(url, common_, login, log_);
    return *agent_;
}

}  // namespace mcp_auth
