#pragma once
// The authorization use case's small rules, shared by its parts: how errors that send a
// person to `mcp-auth login` read, which OAuth error codes mean what, and the bounds on
// retries and lock waits.
#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/expected.h"
#include "ports/http.h"

namespace mcp_auth::auth {

inline constexpr const char* kJwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";

// A refresh the authorization server could not answer (5xx, 429, connection refused) is
// tried this many times, waiting kRefreshBackoff[i] before try i+1: about 1.5 s in all.
inline constexpr int kRefreshAttempts = 3;
inline constexpr std::chrono::milliseconds kRefreshBackoff[] = {std::chrono::milliseconds(500),
                                                                std::chrono::milliseconds(1000)};

// How long a process may wait for the refresh lock: as long as its holder can keep it. The
// holder's every exchange ends by its own deadline (connect + total), it tries at most
// kRefreshAttempts times with the backoff between, and the store calls are bounded too.
std::chrono::milliseconds refresh_lock_budget(const HttpOptions& http);

// LoginRequired, telling the person what to run (`server`: as shown in messages).
Error login_required(const std::string& server, const std::string& why);

// The error carries one of these OAuth error codes.
bool is_auth_code(const Error& e, std::initializer_list<const char*> codes);

// "\"a\", \"b\" and \"c\"", for messages about scopes.
std::string describe_scope(const std::vector<std::string>& scopes);

}  // namespace mcp_auth::auth
