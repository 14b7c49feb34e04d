// The Linux backend: the freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC)
// through libsecret.
#include <libsecret/secret.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/store/bounded.h"
#include "adapters/store/stores.h"

namespace mcp_auth {
namespace {

const SecretSchema kSchema = {"dev.mcp_auth.Credential",
                              SECRET_SCHEMA_DONT_MATCH_NAME,
                              {{"application", SECRET_SCHEMA_ATTRIBUTE_STRING},
                               {"kind", SECRET_SCHEMA_ATTRIBUTE_STRING},
                               {"server", SECRET_SCHEMA_ATTRIBUTE_STRING},
                               {"issuer", SECRET_SCHEMA_ATTRIBUTE_STRING},
                               {"client", SECRET_SCHEMA_ATTRIBUTE_STRING},
                               {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING}},
                              0,
                              nullptr,
                              nullptr,
                              nullptr,
                              nullptr,
                              nullptr,
                              nullptr,
                              nullptr};

constexpr const char* kRemedy =
    " Unlock or start your keyring (a desktop login does this; headless: run a D-Bus session with "
    "gnome-keyring-daemon --unlock), or choose the file store explicitly with --store file.";

struct GErrorHolder {
    GError* error = nullptr;
    ~GErrorHolder() {
        if (error) g_error_free(error);
    }
    std::string message() const {
        return error && error->message ? error->message : "unknown error";
    }
};

GHashTable* to_table(const StoreKey& key) {
    GHashTable* table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(table, g_strdup("application"), g_strdup("mcp-auth"));
    for (const auto& [name, value] : key)
        g_hash_table_insert(table, g_strdup(name.c_str()), g_strdup(value.c_str()));
    return table;
}

Error unavailable(const std::string& what) {
    return make_error(ErrorKind::StoreUnavailable,
                      "the keychain is not available: " + what + "." + kRemedy);
}

// Checks, without ever prompting, that a Secret Service runs and its default
// collection is unlocked: a locked collection makes lookups return "nothing" silently.
// `bus_note` (from default_session_bus) is added when there is no bus.
Status check_usable(const std::string& bus_note) {
    GErrorHolder err;
    SecretService* service = secret_service_get_sync(SECRET_SERVICE_NONE, nullptr, &err.error);
    if (!service) return unavailable(err.message() + bus_note);
    SecretCollection* collection = secret_collection_for_alias_sync(
        service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, nullptr, &err.error);
    g_object_unref(service);
    if (!collection) {
        return unavailable(err.error ? err.message() : "the Secret Service has no default keyring");
    }
    bool locked = secret_collection_get_locked(collection);
    g_object_unref(collection);
    if (locked)
        return make_error(
            ErrorKind::StoreUnavailable,
            std::string("the keychain (default keyring) is locked, so the login cannot be read or "
                        "saved.") +
                kRemedy);
    return Ok{};
}

template <class T, class F>
Expected<T> bounded(std::chrono::milliseconds timeout, F op) {
    return run_bounded<T>(
        timeout,
        "the keychain did not answer within " + std::to_string(timeout.count()) + " ms." + kRemedy,
        std::move(op));
}

class LibsecretStore : public SecretStore {
public:
    LibsecretStore(std::chrono::milliseconds timeout, std::string bus_note)
        : timeout_(timeout), bus_note_(std::move(bus_note)) {}

    std::string kind() const override { return "keychain"; }
    std::string description() const override { return "Secret Service keychain (libsecret)"; }

    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        return bounded<std::optional<std::string>>(
            timeout_, [key, note = bus_note_]() -> Expected<std::optional<std::string>> {
                if (auto ok = check_usable(note); !ok) return ok.error();
                GErrorHolder err;
                GHashTable* attrs = to_table(key);
                gchar* secret = secret_password_lookupv_sync(&kSchema, attrs, nullptr, &err.error);
                g_hash_table_unref(attrs);
                if (err.error) return unavailable(err.message());
                if (!secret) return std::optional<std::string>();
                std::string out(secret);
                secret_password_free(secret);  // wipes the text before freeing it
                return std::optional<std::string>(std::move(out));
            });
    }

    Status put(const StoreKey& key, const std::string& label, const std::string& secret) override {
        // mutable: the lambda's copy of the secret is wiped once stored.
        return bounded<Ok>(
            timeout_,
            [key, label, secret = std::string(secret), note = bus_note_]() mutable -> Status {
                if (auto ok = check_usable(note); !ok) return ok.error();
                GErrorHolder err;
                GHashTable* attrs = to_table(key);
                gboolean stored =
                    secret_password_storev_sync(&kSchema, attrs, SECRET_COLLECTION_DEFAULT,
                                                label.c_str(), secret.c_str(), nullptr, &err.error);
                g_hash_table_unref(attrs);
                wipe_secret(secret);
                if (!stored) return unavailable("could not save: " + err.message());
                return Ok{};
            });
    }

    Status erase(const StoreKey& key) override {
        return bounded<Ok>(timeout_, [key, note = bus_note_]() -> Status {
            if (auto ok = check_usable(note); !ok) return ok.error();
            GErrorHolder err;
            GHashTable* attrs = to_table(key);
            secret_password_clearv_sync(&kSchema, attrs, nullptr, &err.error);
            g_hash_table_unref(attrs);
            if (err.error) return unavailable("could not delete: " + err.message());
            return Ok{};
        });
    }

    Expected<std::vector<Item>> find(const StoreKey& filter) override {
        return bounded<std::vector<Item>>(
            timeout_, [filter, note = bus_note_]() -> Expected<std::vector<Item>> {
                if (auto ok = check_usable(note); !ok) return ok.error();
                GErrorHolder err;
                GHashTable* attrs = to_table(filter);
                GList* found = secret_password_searchv_sync(
                    &kSchema, attrs,
                    static_cast<SecretSearchFlags>(SECRET_SEARCH_ALL | SECRET_SEARCH_LOAD_SECRETS),
                    nullptr, &err.error);
                g_hash_table_unref(attrs);
                if (err.error) return unavailable(err.message());
                std::vector<Item> items;
                for (GList* node = found; node; node = node->next) {
                    auto* item = static_cast<SecretRetrievable*>(node->data);
                    StoreKey key;
                    GHashTable* table = secret_retrievable_get_attributes(item);
                    GHashTableIter iter;
                    gpointer name, value;
                    g_hash_table_iter_init(&iter, table);
                    while (g_hash_table_iter_next(&iter, &name, &value)) {
                        std::string n(static_cast<const char*>(name));
                        if (n != "application" && n != "xdg:schema")
                            key[n] = static_cast<const char*>(value);
                    }
                    g_hash_table_unref(table);
                    GErrorHolder item_err;
                    SecretValue* secret =
                        secret_retrievable_retrieve_secret_sync(item, nullptr, &item_err.error);
                    if (secret) {
                        const gchar* text = secret_value_get_text(secret);
                        if (text) items.emplace_back(std::move(key), text);
                        secret_value_unref(secret);  // libsecret wipes its copy
                    }
                }
                g_list_free_full(found, g_object_unref);
                return items;
            });
    }

private:
    std::chrono::milliseconds timeout_;
    std::string bus_note_;
};

}  // namespace

// Desktop hosts often start MCP servers with a trimmed environment (HOME, PATH, USER)
// that lacks DBUS_SESSION_BUS_ADDRESS. The user's session bus then still lives at the
// standard systemd location; use it rather than fail (or try X11 autolaunch). But only a
// socket of this user in a directory nobody else can change: XDG_RUNTIME_DIR may point
// anywhere, and a bus planted there by another user would receive every secret stored.
std::optional<std::string> default_session_bus(const EnvLookup& env, std::string* note) {
    auto set = [&](const char* name) {
        auto value = env(name);
        return value && !value->empty() ? value : std::nullopt;
    };
    if (set("DBUS_SESSION_BUS_ADDRESS")) return std::nullopt;
    auto runtime = set("XDG_RUNTIME_DIR");
    std::string dir = runtime ? *runtime : "/run/user/" + std::to_string(getuid());
    std::string socket = dir + "/bus";
    struct stat st {};
    if (lstat(socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return std::nullopt;
    auto refuse = [&](const std::string& why) {
        if (note)
            *note = " (the session bus socket " + socket + " was not used: " + why +
                    "; set DBUS_SESSION_BUS_ADDRESS to your own session bus)";
        return std::nullopt;
    };
    if (st.st_uid != getuid())
        return refuse("it belongs to uid " + std::to_string(st.st_uid) + ", not to you");
    struct stat dir_st {};
    if (stat(dir.c_str(), &dir_st) != 0 || dir_st.st_uid != getuid() ||
        (dir_st.st_mode & (S_IWGRP | S_IWOTH)))
        return refuse("its directory " + dir + " is not yours alone");
    return "unix:path=" + socket;
}

std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds timeout,
                                              std::string bus_note) {
    return std::make_unique<LibsecretStore>(timeout, std::move(bus_note));
}

std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds timeout) {
    return make_os_keychain(timeout, {});
}

}  // namespace mcp_auth
