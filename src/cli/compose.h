#pragma once
// The composition root: the one place that builds real adapters (HTTP client, callback
// server, process locks, clock, browser, secret stores, stdout/stderr writers, stdin
// loop, login-agent launcher) and the one place that reads the environment. The commands
// (cli/commands.h) take what they need from a Wiring; the use cases below them get ports
// and values (AuthOptions, EnvLookup), never the environment itself.
//
// Adapters are built when first asked for, so `status` starts no HTTP client and `login`
// touches no store it does not use. One Wiring per process, used from the main thread.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/auth/authenticator.h"
#include "cli/options.h"
#include "core/expected.h"
#include "core/headers.h"
#include "core/url.h"
#include "ports/log.h"
#include "ports/secret_store.h"
#include "ports/system.h"

namespace mcp_auth {

class StdinLoop;

// The stores `status` and `logout` read (see Wiring::stores_to_read).
struct StoreSet {
    std::vector<SecretStore*> read;
    // The user named one store: which, and how ("--store file", "MCP_AUTH_STORE=file").
    std::string chosen_by;
    // Not read (the user chose the keychain) but cheap to look at: the file store, when
    // its directory exists; the commands say when it holds logins. Null otherwise.
    SecretStore* unread_file = nullptr;
};

class Wiring {
public:
    explicit Wiring(const CommonOptions& common);
    ~Wiring();
    Wiring(const Wiring&) = delete;
    Wiring& operator=(const Wiring&) = delete;

    Log& log() { return log_; }
    HttpClient& http();
    Clock& clock();
    // The system's browser: unavailable without a graphical session (a relay then tells
    // the client to run `mcp-auth login`).
    Browser& browser();
    // For a command run at a terminal: always available, since the user can open the URL
    // shown.
    Browser& terminal_browser();

    // The environment for --header's ${VAR}: every variable read is marked secret, so no
    // child (browser, login agent) gets it.
    EnvLookup header_variables();
    // stdin's reader with the stop signals (create before the threads that must not take
    // them), and stdout (JSON-RPC only); `on_broken` runs when stdout's reader is gone.
    StdinLoop& stdin_loop();
    LineSink& stdout_lines(std::function<void()> on_broken);

    // The store logins go to: --store, else MCP_AUTH_STORE, else the OS keychain. Never a
    // silent fallback from one to the other. Error kind Invalid for an unknown
    // MCP_AUTH_STORE.
    Expected<SecretStore*> login_store();
    // What `status` and `logout` read: the store named with --store or MCP_AUTH_STORE;
    // else every store that can hold logins (the OS keychain, and the file store when its
    // directory exists).
    Expected<StoreSet> stores_to_read();

    // What the user asked for a login of `server`, with the secrets the environment holds
    // (MCP_AUTH_CLIENT_SECRET, MCP_AUTH_IDP_ID_TOKEN).
    AuthOptions auth_options(const Url& server, const LoginOptions& login) const;
    // The ports an Authenticator works with (the only place one is put together).
    AuthContext auth_context(SecretStore& store, Browser& browser,
                             LoginAgentLauncher* agent = nullptr, bool holds_login_lock = false);
    // Starts `mcp-auth login` for `url` with `login`'s options in a detached process
    // (cli/options.h: login_agent_args), for a relay.
    LoginAgentLauncher& login_agent(const std::string& url, const LoginOptions& login);

private:
    struct Adapters;
    Adapters& adapters();
    SecretStore& keychain();
    SecretStore& file_store(bool chosen);

    CommonOptions common_;
    EnvLookup env_;
    std::unique_ptr<LineSink> stderr_;
    std::unique_ptr<LineSink> log_file_;  // --log-file, MCP_AUTH_LOG_FILE
    Log log_;
    std::unique_ptr<Adapters> adapters_;
    std::unique_ptr<SecretStore> keychain_;
    std::unique_ptr<SecretStore> file_;
    std::unique_ptr<StdinLoop> stdin_;
    std::unique_ptr<LineSink> stdout_;
    std::unique_ptr<LoginAgentLauncher> agent_;
};

}  // namespace mcp_auth
