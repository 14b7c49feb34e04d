// `mcp-auth status [url]`: who is logged in where. It reads every store that can hold
// logins (the OS keychain and the file store; only the one named with --store or
// MCP_AUTH_STORE), so a login made with --store file is not hidden behind the keychain's.
// A store that cannot be read is named on stderr while another one has logins to show;
// when none has, its error is the answer (exit 1). Exit 4 when a login is needed.
#include <iostream>

#include "cli/commands.h"
#include "core/status.h"

namespace mcp_auth {

int run_status(const StatusCommand& command, Wiring& wiring) {
    Log& log = wiring.log();
    auto stores = wiring.stores_to_read();
    if (!stores) return store_error(stores.error(), log);
    std::string wanted;
    if (!command.url.empty()) {
        auto key = stored_server_key(command.url, log);
        if (!key) return kExitUsage;
        wanted = *key;
    }
    auto matching = [&](SecretStore& store) -> Expected<std::vector<TokenRecord>> {
        auto logins = list_logins(store);
        if (!logins) return logins.error();
        std::vector<TokenRecord> shown;
        for (auto& r : *logins)
            if (wanted.empty() || r.server == wanted) shown.push_back(std::move(r));
        return shown;
    };

    struct Listed {
        SecretStore* store;
        std::vector<TokenRecord> logins;
    };
    std::vector<Listed> listed;
    std::vector<std::pair<SecretStore*, Error>> failures;
    for (SecretStore* store : stores->read) {
        auto logins = matching(*store);
        if (logins)
            listed.push_back({store, std::move(*logins)});
        else
            failures.emplace_back(store, logins.error());
    }
    size_t count = 0;
    for (const auto& l : listed) count += l.logins.size();
    // A store that could not be read is the news unless another one has logins to show.
    if (count == 0 && !failures.empty()) {
        for (const auto& [store, error] : failures) log.error(error.message);
        return kExitError;
    }
    for (const auto& [store, error] : failures)
        log.info("warning: the logins in " + store->description() +
                 " (if any) are not listed: " + error.message);
    if (stores->unread_file) {
        auto others = matching(*stores->unread_file);
        if (others && !others->empty())
            log.info("note: the file store (" + stores->unread_file->description() +
                     ") also holds " + std::to_string(others->size()) +
                     (others->size() == 1 ? " login" : " logins") + "; this status reads only " +
                     "the keychain (" + stores->chosen_by +
                     "). Run `mcp-auth status --store file` to see them.");
    }

    long long now = wiring.clock().now();
    bool all_usable = true;
    for (const auto& l : listed)
        for (const auto& r : l.logins) all_usable = all_usable && login_usable(r, now);
    if (command.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& l : listed)
            for (auto& entry : status_json(l.logins, now, l.store->kind(), l.store->description()))
                out.push_back(std::move(entry));
        std::cout << out.dump(2) << "\n";
    } else if (count == 0) {
        std::string where;
        if (!stores->chosen_by.empty())
            where = " in " + listed.front().store->description() + " (" + stores->chosen_by + ")";
        if (wanted.empty())
            log.info("Not logged in to any server" + where + ". Run `mcp-auth login <url>`.");
        else
            log.info("Not logged in to " + display_url(wanted) + where + ". Run `mcp-auth login " +
                     display_url(wanted) + "`.");
    } else {
        for (const auto& l : listed)
            std::cout << status_text(l.logins, now, l.store->description());
    }
    return count > 0 && all_usable ? kExitOk : kExitLoginRequired;
}

}  // namespace mcp_auth
