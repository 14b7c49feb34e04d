#pragma once
// The secret store adapters (ports/secret_store.h). The composition root picks one.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/headers.h"
#include "ports/secret_store.h"

namespace mcp_auth {

// The OS keychain: Secret Service on Linux, Keychain on macOS, Credential Manager on
// Windows. Every call returns within `timeout` (a locked keychain can otherwise block
// on a password prompt). Defined in the backend file the build selects.
std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds timeout);
// Secret Service only: `bus_note` (from default_session_bus) is added to the message
// when no session bus answers.
std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds timeout,
                                              std::string bus_note);

#ifdef _WIN32
// Windows Credential Manager only (defined by its backend): the keychain with a worker
// thread of its own instead of the process's shared one, so that several stores in one
// process race one another as separate processes would. For tests.
std::unique_ptr<SecretStore> make_credential_manager_store(std::chrono::milliseconds timeout,
                                                           bool own_worker);
#endif

// Secret Service only (defined by the libsecret backend): the session bus address the
// composition root exports as DBUS_SESSION_BUS_ADDRESS before the keychain is used, when
// the environment has none (hosts pass a trimmed environment): the user's own socket at
// $XDG_RUNTIME_DIR/bus (or /run/user/<uid>/bus), and only when it and its directory
// belong to the user alone. No address: nothing to export; `note` then says why a socket
// found there was refused (for the keychain's error messages), or stays as it is.
std::optional<std::string> default_session_bus(const EnvLookup& env, std::string* note);

// Secrets in a JSON file of mode 0600 in `dir` (created 0700), for users who choose it.
// The directory must belong to the user and be writable by nobody else; no symlink in it
// is followed. An empty `dir` (platform/paths.h: state_directory) gives a store whose
// every call fails with a message saying to set HOME.
std::unique_ptr<SecretStore> make_file_store(const std::string& dir);

}  // namespace mcp_auth
