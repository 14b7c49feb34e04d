#include "app/auth/policy.h"

#include <algorithm>

namespace mcp_auth::auth {

std::chrono::milliseconds refresh_lock_budget(const HttpOptions& http) {
    auto exchange = http.connect_timeout + http.total_timeout;
    return kRefreshAttempts * exchange + std::chrono::milliseconds(1500) + std::chrono::seconds(15);
}

Error login_required(const std::string& server, const std::string& why) {
    return make_error(ErrorKind::LoginRequired,
                      why + " Run `mcp-auth login " + server + "` in a terminal, then try again.");
}

bool is_auth_code(const Error& e, std::initializer_list<const char*> codes) {
    return std::any_of(codes.begin(), codes.end(), [&](const char* c) { return e.code == c; });
}

std::string describe_scope(const std::vector<std::string>& scopes) {
    std::string out;
    for (size_t i = 0; i < scopes.size(); ++i) {
        if (i) out += i + 1 == scopes.size() ? " and " : ", ";
        out += "\"" + scopes[i] + "\"";
    }
    return out;
}

}  // namespace mcp_auth::auth
