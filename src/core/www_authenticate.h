#pragma once
// Parser for the WWW-Authenticate response header (RFC 9110 §11.6.1, RFC 6750 §3,
// RFC 9728 §5.1). Pure logic.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_auth {

struct Challenge {
    std::string scheme;                         // lower-case, e.g. "bearer"
    std::map<std::string, std::string> params;  // lower-case names, unquoted values
    std::string token68;                        // for schemes like Basic that carry one

    std::string param(const std::string& name) const {
        auto it = params.find(name);
        return it == params.end() ? std::string() : it->second;
    }
};

// All challenges in one header value; malformed parts are skipped, never fatal.
std::vector<Challenge> parse_www_authenticate(std::string_view value);

// The first Bearer challenge, if any.
std::optional<Challenge> find_bearer_challenge(std::string_view value);

}  // namespace mcp_auth
