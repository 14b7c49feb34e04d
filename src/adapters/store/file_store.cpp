// The file store, for machines without a keychain, used only when the user chooses it
// (--store file or MCP_AUTH_STORE=file). One JSON file, mode 0600, in a 0700 directory;
// every change is a locked read-modify-write followed by an atomic rename.
//
// Another local user must not be able to read, plant or redirect the tokens. So the
// directory is refused unless it belongs to this user and nobody else can write to it;
// every later access is relative to the directory descriptor that passed the check (a
// swap of the directory afterwards changes nothing); no symlink inside it is followed;
// the temporary file is created exclusively, under an unguessable name, with mode 0600
// from the start (no umask dependence); and the store never falls back to the current
// directory when it does not know where the user's home is. Those file-system rules are
// platform/private_dir.h's (one implementation per OS); this file is the JSON on top.
#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "adapters/store/stores.h"
#include "core/json_limits.h"
#include "platform/private_dir.h"

namespace mcp_auth {
namespace {

using nlohmann::json;

constexpr const char* kFileName = "credentials.json";
constexpr const char* kLockName = "credentials.lock";
const PrivateDirectoryUse kUse{"the file store", "read or replace your tokens",
                               ErrorKind::StoreUnavailable};

class FileStore : public SecretStore {
public:
    explicit FileStore(std::string dir)
        : dir_(std::move(dir)), path_(dir_.empty() ? std::string() : dir_ + "/" + kFileName) {}

    std::string kind() const override { return "file"; }
    std::string description() const override {
        if (dir_.empty()) return "file store (no directory: HOME is not set)";
        return "file " + path_ + " (not encrypted)";
    }

    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        auto items = find(key);
        if (!items) return items.error();
        std::optional<std::string> found;
        for (auto& [attrs, secret] : *items) {
            if (attrs == key && !found) found = std::move(secret);
            wipe_secret(secret);
        }
        return found;
    }

    Status put(const StoreKey& key, const std::string&, const std::string& secret) override {
        return update([&](json& items) {
            erase_from(items, key);
            json attrs(key);
            items.push_back({{"attributes", attrs}, {"secret", secret}});
        });
    }

    Status erase(const StoreKey& key) override {
        return update([&](json& items) { erase_from(items, key); });
    }

    Expected<std::vector<Item>> find(const StoreKey& filter) override {
        auto session = open_session(false);
        if (!session) return session.error();
        auto items = load(session->dir);
        if (!items) return items.error();
        std::vector<Item> out;
        for (auto& entry : *items) {
            auto attrs = entry["attributes"].get<StoreKey>();
            if (key_matches(attrs, filter))
                out.emplace_back(std::move(attrs), entry["secret"].get<std::string>());
        }
        wipe_entries(*items);
        return out;
    }

private:
    // The checked directory and a lock on a side file in it: the lock dies with the
    // process, so a crash never leaves the store locked.
    struct Session {
        PrivateDirectory dir;
        LockFile lock;
    };

    Expected<Session> open_session(bool exclusive) {
        if (dir_.empty())
            return make_error(
                ErrorKind::StoreUnavailable,
                "the file store has no directory: neither HOME nor XDG_STATE_HOME is set to an "
                "absolute path, and mcp-auth does not keep tokens in the current directory. Set "
                "HOME (or XDG_STATE_HOME) in the environment that starts mcp-auth.");
        auto dir = PrivateDirectory::open(dir_, kUse);
        if (!dir) return dir.error();
        auto lock = dir->open_lock(kLockName);
        if (!lock) return lock.error();
        if (auto ok = lock->lock(exclusive); !ok) return ok.error();
        return Session{std::move(*dir), std::move(*lock)};
    }

    // Wipes the secrets of a loaded store before it is dropped (best effort).
    static void wipe_entries(json& items) {
        for (auto& entry : items) wipe_secret(entry["secret"].get_ref<std::string&>());
    }

    static void erase_from(json& items, const StoreKey& key) {
        json kept = json::array();
        for (auto& entry : items) {
            if (entry["attributes"].get<StoreKey>() != key)
                kept.push_back(std::move(entry));
            else
                wipe_secret(entry["secret"].get_ref<std::string&>());
        }
        items = std::move(kept);
    }

    Expected<json> load(const PrivateDirectory& dir) {
        auto content = dir.read(kFileName);
        if (!content) return content.error();
        if (!*content) return json::array();
        std::string& text = **content;
        json doc = parse_json(text);
        wipe_secret(text);
        if (!doc.is_array())
            return make_error(
                ErrorKind::StoreUnavailable,
                path_ + " is damaged (not a JSON array). Move it away and log in again.");
        for (const auto& entry : doc)
            if (!entry.is_object() || !entry.contains("attributes") ||
                !entry["attributes"].is_object() || !entry.contains("secret") ||
                !entry["secret"].is_string() ||
                !std::all_of(entry["attributes"].begin(), entry["attributes"].end(),
                             [](const json& v) { return v.is_string(); }))
                return make_error(
                    ErrorKind::StoreUnavailable,
                    path_ + " is damaged (an entry is malformed). Move it away and log in again.");
        return doc;
    }

    template <class F>
    Status update(F change) {
        auto session = open_session(true);
        if (!session) return session.error();
        auto items = load(session->dir);
        if (!items) return items.error();
        change(*items);
        std::string text = items->dump(2) + "\n";
        Status written = session->dir.replace(kFileName, text);
        wipe_secret(text);
        wipe_entries(*items);
        return written;
    }

    std::string dir_;
    std::string path_;
};

}  // namespace

std::unique_ptr<SecretStore> make_file_store(const std::string& dir) {
    return std::make_unique<FileStore>(dir);
}

}  // namespace mcp_auth
