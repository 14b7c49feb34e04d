#pragma once
// What `mcp-auth status` shows: per login the identity, issuer, scopes, expiry (local
// time and relative), refresh token, client and storage. Never a token, never a server
// URL's query (it may be a credential). Pure logic.
//
// Also the one rule for text that reaches a terminal (status here, every log line in
// output.h): identities, issuers and error descriptions come from servers, and a newline
// or an escape sequence in them could forge a line or rewrite the user's screen.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/credentials.h"

namespace mcp_auth {

// `text` safe for a terminal, on one line: control characters (newline included) become
// \n, \r, \t or \xHH, the C1 controls, the bidirectional overrides and the line and
// paragraph separators become \uXXXX, and bytes that are not UTF-8 become \xHH.
// Everything else (printable ASCII, other UTF-8) is kept.
std::string terminal_safe(std::string_view text);

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
