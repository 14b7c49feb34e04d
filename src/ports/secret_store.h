#pragma once
// The secret store: one small interface, one backend per OS (chosen in CMake, one file
// each), plus an explicit file store for machines without a keychain.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/credentials.h"
#include "core/expected.h"

namespace mcp_auth {

class SecretStore {
public:
    virtual ~SecretStore() = default;
    // "keychain" or "file", as `status` reports it.
    virtual std::string kind() const = 0;
    // Where the secrets live, for people: "Secret Service (libsecret)", a path, ...
    virtual std::string description() const = 0;

    // nullopt when there is no such item. Errors (absent or locked keychain, timeouts)
    // are never reported as "not found".
    virtual Expected<std::optional<std::string>> get(const StoreKey& key) = 0;
    // Creates or replaces the item, atomically.
    virtual Status put(const StoreKey& key, const std::string& label,
                       const std::string& secret) = 0;
    // Deleting an absent item succeeds.
    virtual Status erase(const StoreKey& key) = 0;
    // Every item whose attributes include all of `filter`.
    using Item = std::pair<StoreKey, std::string>;
    virtual Expected<std::vector<Item>> find(const StoreKey& filter) = 0;
};

// The OS keychain: Secret Service on Linux, Keychain on macOS, Credential Manager on
// Windows. Every call returns within `timeout` (a locked keychain can otherwise block
// on a password prompt). Defined in the backend file the build selects.
std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds timeout);

// Secrets in a JSON file of mode 0600 in `dir` (created 0700), for users who choose it.
// The directory must belong to the user and be writable by nobody else; no symlink in it
// is followed. An empty `dir` (see default_state_dir) gives a store whose every call fails
// with a message saying to set HOME.
std::unique_ptr<SecretStore> make_file_store(const std::string& dir);

// $XDG_STATE_HOME/mcp-auth, else $HOME/.local/state/mcp-auth; "" when neither is set to
// an absolute path. Callers must refuse "" (never fall back to the current directory).
std::string default_state_dir();

// Overwrites memory that held a secret before it is released. Best effort: copies made
// earlier (by a JSON parser, a library) are not reached. Volatile stores, so the compiler
// cannot drop them as dead writes.
inline void wipe_buffer(void* data, std::size_t size) noexcept {
    volatile unsigned char* p = static_cast<volatile unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) p[i] = 0;
}

// wipe_buffer over the whole of `secret`'s capacity (also bytes left past the end by
// earlier edits), then empties it.
inline void wipe_secret(std::string& secret) noexcept {
    secret.resize(secret.capacity());
    wipe_buffer(secret.data(), secret.size());
    secret.clear();
}

}  // namespace mcp_auth
