#pragma once
// Reads the claims of a JWT for display (who is logged in, until when). No signature
// check: the token came from the authorization server over TLS, and only the resource
// server relies on it. Pure logic.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mcp_auth {

// The payload of a compact JWS, or nullopt when `token` is not one (opaque tokens).
std::optional<nlohmann::json> jwt_claims(std::string_view token);

// The best human name in a claim set: email, preferred_username, username, name, sub,
// client_id, in that order; "" when none.
std::string identity_from_claims(const nlohmann::json& claims);

}  // namespace mcp_auth
