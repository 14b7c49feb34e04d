// `mcp-auth token <url>`: prints a valid access token (refreshed when needed) on stdout,
// for scripts; with --client-credentials it logs in by itself, never in a browser.
#include <iostream>

#include "cli/commands.h"

namespace mcp_auth {

int run_token(const TokenCommand& command, Wiring& wiring) {
    Log& log = wiring.log();
    return with_authenticator(command.url, command.login, false, wiring, [&](Authenticator& auth) {
        auto record = auth.valid_token();
        if (!record && record.error().kind == ErrorKind::LoginRequired &&
            command.login.client_credentials)
            record = auth.login("", false);
        if (!record) {
            log.error(record.error().message);
            return exit_code_for(record.error());
        }
        std::cout << record->access_token << "\n";
        return kExitOk;
    });
}

}  // namespace mcp_auth
