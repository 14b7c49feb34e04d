#pragma once
// The commands, one file each (proxy_command.cpp, login_command.cpp, token_command.cpp,
// status_command.cpp, logout_command.cpp): each takes its parsed command line and the
// Wiring (cli/compose.h) it gets every adapter from, and returns the exit code. None
// builds an adapter or reads the environment.
#include <functional>
#include <optional>
#include <string>

#include "cli/compose.h"
#include "cli/options.h"
#include "core/expected.h"
#include "core/url.h"
#include "ports/log.h"

namespace mcp_auth {

int run_proxy(const ProxyCommand& command, Wiring& wiring);
int run_login(const LoginCommand& command, Wiring& wiring);
int run_token(const TokenCommand& command, Wiring& wiring);
int run_status(const StatusCommand& command, Wiring& wiring);
int run_logout(const LogoutCommand& command, Wiring& wiring);

// Shared by the commands (commands.cpp).

// The server URL the user gave, checked against the URL policy (`allow_http`); logs why
// not otherwise. `warn_query`: say that a query string is sent and kept with the login
// (once: not again in the login agent a relay starts, whose stderr is the relay's).
std::optional<Url> server_url(const std::string& text, bool allow_http, bool warn_query, Log& log);
// A server URL to look up in the store (status, logout): parsed, as it is stored.
std::optional<std::string> stored_server_key(const std::string& text, Log& log);
// kExitLoginRequired when a person has to log in, else kExitError.
int exit_code_for(const Error& error);
// The exit code for a failed Wiring::login_store / stores_to_read.
int store_error(const Error& error, Log& log);
// Runs `body` with an Authenticator for `url` on the login store, for a command run at a
// terminal (login, token). `agent`: this process is a login agent (it holds the lock).
int with_authenticator(const std::string& url, const LoginOptions& login, bool agent,
                       Wiring& wiring, const std::function<int(Authenticator&)>& body);

}  // namespace mcp_auth
