// `mcp-auth login <url>`: logs in (unless the stored login is still valid) and says who
// is logged in, with which scopes, until when. A relay starts it as its login agent
// (--agent-lock-fd, --challenge): the same command, holding the relay's login lock.
#include "cli/commands.h"
#include "core/status.h"

namespace mcp_auth {
namespace {

void print_login(const TokenRecord& r, long long now, Log& log) {
    std::string text = "Logged in to " + display_url(r.server) + " as " + r.identity;
    if (!r.scope.empty()) text += " with scopes: " + r.scope;
    if (r.expires_at) text += "; the token expires " + relative_time(r.expires_at, now);
    if (!r.refresh_token.empty()) text += " and will be refreshed";
    log.info(text + ".");
}

}  // namespace

int run_login(const LoginCommand& command, Wiring& wiring) {
    Log& log = wiring.log();
    Clock& clock = wiring.clock();
    bool agent = command.agent_lock_fd >= 0;
    return with_authenticator(command.url, command.login, agent, wiring, [&](Authenticator& auth) {
        if (!command.force) {
            auto current = auth.valid_token();
            if (current) {
                long long now = clock.now();
                log.info("Already logged in to " + display_url(current->server) + " as " +
                         current->identity + " (until " +
                         relative_time(current->expires_at ? current->expires_at : now, now) +
                         "). Use --force to log in again.");
                return kExitOk;
            }
            if (current.error().kind == ErrorKind::StoreUnavailable)
                return log.error(current.error().message), kExitError;
        }
        auto record = auth.login(command.challenge, true);
        if (!record) {
            log.error("login failed: " + record.error().message);
            return exit_code_for(record.error());
        }
        print_login(*record, clock.now(), log);
        return kExitOk;
    });
}

}  // namespace mcp_auth
