#pragma once
// What `mcp-auth status` shows: per login the identity, issuer, scopes, expiry (local
// time and relative), refresh token, client and storage. Never a token. Pure logic.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp_auth/credentials.h"

namespace mcp_auth {

// Usable now, or renewable without a person (a refresh token, or client credentials).
bool login_usable(const TokenRecord& record, long long now);

// "in 5 minutes", "2 hours ago", "in 1 day".
std::string relative_time(long long when, long long now);

// Text for people (gh-style).
std::string status_text(const std::vector<TokenRecord>& logins, long long now,
                        const std::string& storage);

// JSON for scripts: an array, one object per login.
nlohmann::json status_json(const std::vector<TokenRecord>& logins, long long now,
                           const std::string& storage_kind, const std::string& storage);

}  // namespace mcp_auth
