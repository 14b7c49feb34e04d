#pragma once
// The secret store adapters (ports/secret_store.h). The composition root picks one.
#include <chrono>
#include <memory>
#include <string>

#include "ports/secret_store.h"

namespace mcp_auth {

// The OS keychain: Secret Service on Linux, Keychain on macOS, Credential Manager on
// Windows. Every call returns within `timeout` (a locked keychain can otherwise block
// on a password prompt). Defined in the backend file the build selects.
std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds timeout);

// Secrets in a JSON file of mode 0600 in `dir` (created 0700), for users who choose it.
// The directory must belong to the user and be writable by nobody else; no symlink in it
// is followed. An empty `dir` (platform/paths.h: state_directory) gives a store whose
// every call fails with a message saying to set HOME.
std::unique_ptr<SecretStore> make_file_store(const std::string& dir);

}  // namespace mcp_auth
