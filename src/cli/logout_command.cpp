// `mcp-auth logout <url> | --all`: revokes the login at the authorization server (when
// it has a revocation endpoint) and deletes it; --all also deletes the client
// registrations and kept client secrets. It reads the same stores as status (every store
// that can hold logins, or the one named with --store or MCP_AUTH_STORE): a login is
// removed wherever it is kept. A store that cannot be read is named on stderr (an error
// when no login was found in another one).
#include "cli/commands.h"

namespace mcp_auth {

int run_logout(const LogoutCommand& command, Wiring& wiring) {
    Log& log = wiring.log();
    auto stores = wiring.stores_to_read();
    if (!stores) return store_error(stores.error(), log);
    std::string wanted;
    if (!command.all) {
        auto key = stored_server_key(command.url, log);
        if (!key) return kExitUsage;
        wanted = *key;
    }
    std::vector<std::pair<SecretStore*, Error>> failures;
    int done = 0;
    for (SecretStore* store : stores->read) {
        auto logins = list_logins(*store);
        if (!logins) {
            failures.emplace_back(store, logins.error());
            continue;
        }
        for (const auto& r : *logins) {
            if (!command.all && r.server != wanted) continue;
            auto url = parse_url(r.server);
            if (!url) continue;
            Authenticator auth(wiring.auth_options(*url, LoginOptions{}),
                               wiring.auth_context(*store, wiring.terminal_browser()));
            auto revoked = auth.logout(r);
            if (!revoked) return log.error(revoked.error().message), kExitError;
            log.info("Logged out of " + display_url(r.server) + " (" + r.identity + ")" +
                     (*revoked ? "; the login was revoked at " + r.issuer : ""));
            ++done;
        }
        if (command.all) {
            // Client registrations and kept client secrets go too: a clean slate.
            for (const char* kind : {"client", "client-secret", "issuer-pin"}) {
                auto items = store->find({{"kind", kind}});
                if (!items) return log.error(items.error().message), kExitError;
                for (const auto& [key, secret] : *items)
                    if (auto ok = store->erase(key); !ok)
                        return log.error(ok.error().message), kExitError;
            }
        }
    }
    // A store that could not be read is the news unless a login was found elsewhere.
    if (!failures.empty() && done == 0) {
        for (const auto& [store, error] : failures) log.error(error.message);
        return kExitError;
    }
    for (const auto& [store, error] : failures)
        log.info("warning: nothing was deleted in " + store->description() +
                 ", which could not be read: " + error.message);
    if (stores->unread_file) {
        auto others = list_logins(*stores->unread_file);
        size_t left = 0;
        if (others)
            for (const auto& r : *others) left += command.all || r.server == wanted;
        if (left > 0)
            log.info("note: the file store (" + stores->unread_file->description() +
                     ") still holds " + std::to_string(left) + (left == 1 ? " login" : " logins") +
                     "; this logout used only the keychain (" + stores->chosen_by +
                     "). `mcp-auth logout --store file " + (command.all ? "--all" : command.url) +
                     "` removes them.");
    }
    if (done == 0)
        log.info(command.all ? "No stored logins."
                             : "Not logged in to " + display_url(wanted) + ".");
    return kExitOk;
}

}  // namespace mcp_auth
