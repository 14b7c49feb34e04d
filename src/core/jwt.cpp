#include "core/jwt.h"

#include "core/base64.h"
#include "core/json_limits.h"

namespace mcp_auth {

std::optional<nlohmann::json> jwt_claims(std::string_view token) {
    size_t first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    size_t second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
        return std::nullopt;
    auto payload = base64_decode(token.substr(first + 1, second - first - 1));
    if (!payload) return std::nullopt;
    auto claims = parse_json(*payload);  // the claims are copied and printed: both recurse
    if (claims.is_discarded() || !claims.is_object()) return std::nullopt;
    return claims;
}

std::string identity_from_claims(const nlohmann::json& claims) {
    for (const char* key :
         {"email", "preferred_username", "username", "name", "sub", "client_id"}) {
        auto it = claims.find(key);
        if (it != claims.end() && it->is_string() && !it->get<std::string>().empty())
            return it->get<std::string>();
    }
    return {};
}

}  // namespace mcp_auth
