#include "mcp_auth/status.h"

#include <ctime>

#include "mcp_auth/oauth_flow.h"

namespace mcp_auth {
namespace {

std::string local_time(long long when) {
    std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &tm);
    return buf;
}

std::string plural(long long n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

}  // namespace

bool login_usable(const TokenRecord& record, long long now) {
    return record.fresh(now, 0) || !record.refresh_token.empty() ||
           record.grant == "client_credentials";
}

std::string relative_time(long long when, long long now) {
    long long d = when > now ? when - now : now - when;
    std::string span = d < 60       ? plural(d, "second")
                       : d < 3600   ? plural(d / 60, "minute")
                       : d < 172800 ? plural(d / 3600, "hour")
                                    : plural(d / 86400, "day");
    return when >= now ? "in " + span : span + " ago";
}

std::string status_text(const std::vector<TokenRecord>& logins, long long now,
                        const std::string& storage) {
    std::string out;
    for (const auto& r : logins) {
        bool fresh = r.fresh(now, 0);
        out += r.server + "\n";
        if (fresh) {
            out += "  \u2713 Logged in as " + r.identity + "\n";
        } else if (login_usable(r, now)) {
            out += "  \u2713 Logged in as " + r.identity +
                   " (the access token will be refreshed on next use)\n";
        } else {
            out += "  \u2717 The login of " + r.identity + " has expired: run `mcp-auth login " +
                   r.server + "`\n";
        }
        out += "    Issuer:        " + r.issuer + "\n";
        out += "    Scopes:        " + (r.scope.empty() ? std::string("(none)") : r.scope) + "\n";
        if (r.expires_at)
            out += "    Expires:       " + local_time(r.expires_at) + " (" +
                   relative_time(r.expires_at, now) + ")\n";
        else
            out += "    Expires:       unknown\n";
        out += std::string("    Refresh token: ") + (r.refresh_token.empty() ? "no" : "yes") + "\n";
        out += "    Client:        " + r.client_id +
               (r.grant == "client_credentials" ? " (client credentials)" : "") + "\n";
        out += "    Storage:       " + storage + "\n";
    }
    return out;
}

nlohmann::json status_json(const std::vector<TokenRecord>& logins, long long now,
                           const std::string& storage_kind, const std::string& storage) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : logins) {
        out.push_back(
            {{"server", r.server},
             {"issuer", r.issuer},
             {"identity", r.identity},
             {"scopes", oauth::split_scopes(r.scope)},
             {"expires_at", r.expires_at ? nlohmann::json(r.expires_at) : nlohmann::json(nullptr)},
             {"expires_in",
              r.expires_at ? nlohmann::json(r.expires_at - now) : nlohmann::json(nullptr)},
             {"refresh_token", !r.refresh_token.empty()},
             {"client_id", r.client_id},
             {"grant", r.grant},
             {"storage", storage_kind},
             {"storage_detail", storage},
             {"valid", login_usable(r, now)}});
    }
    return out;
}

}  // namespace mcp_auth
