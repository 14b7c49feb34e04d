#include "app/auth/authenticator.h"

namespace mcp_auth {

std::string BearerTokenSource::current() {
    auto token = auth_.valid_token();
    if (token) return "Bearer " + token->access_token;
    // Not fatal yet: the server may not need a token. A 401 brings the error to the client.
    if (token.error().kind != ErrorKind::LoginRequired && !warned_.exchange(true))
        log_.debug(token.error().message);
    return {};
}

Expected<std::string> BearerTokenSource::renew(int status, const std::string& www_authenticate,
                                               const std::string& sent) {
    std::string rejected = sent.rfind("Bearer ", 0) == 0 ? sent.substr(7) : sent;
    auto token = status == 403 ? auth_.step_up(www_authenticate, rejected, allow_browser_)
                               : auth_.recover(www_authenticate, rejected, allow_browser_);
    if (!token) return token.error();
    return "Bearer " + token->access_token;
}

}  // namespace mcp_auth
