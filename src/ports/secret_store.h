#pragma once
// Port: the secret store. One small interface; adapters/store has one backend per OS
// (chosen in CMake, one file each) and an explicit file store for machines without a
// keychain; unit tests use a map.
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
