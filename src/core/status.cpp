#include "core/status.h"

#include <cstdint>
#include <ctime>

#include "core/oauth_flow.h"
#include "core/url.h"

namespace mcp_auth {
namespace {

std::string local_time(long long when) {
    std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
#ifdef _WIN32  // the C runtime's thread-safe form (argument order reversed)
    localtime_s(&tm, &t);
#else
    localtime_r(&t, &tm);
#endif
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &tm);
    return buf;
}

std::string plural(long long n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

// The server URL for people: the query (which may hold a credential) hidden.
std::string shown_server(const std::string& server) {
    if (auto url = parse_url(server)) return url->display();
    return server.substr(0, server.find('?'));
}

// Length of the UTF-8 sequence starting at text[i] (1-4), or 0 when it is not valid UTF-8
// (stray continuation byte, truncated, overlong, surrogate, above U+10FFFF).
size_t utf8_length(std::string_view text, size_t i, uint32_t* code) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char c = byte(i);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return 0;
    uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (byte(i + k) & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    *code = cp;
    return n;
}

// Code points that reorder or break the displayed line: C1 controls, the bidi marks,
// embeddings, overrides and isolates, and the line/paragraph separators.
bool is_invisible_control(uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string terminal_safe(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        uint32_t cp = 0;
        size_t n = utf8_length(text, i, &cp);
        if (n == 0) {
            out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
            ++i;
        } else if (c == '\n') {
            out += "\\n", ++i;
        } else if (c == '\r') {
            out += "\\r", ++i;
        } else if (c == '\t') {
            out += "\\t", ++i;
        } else if (c < 0x20 || c == 0x7f) {
            out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
            ++i;
        } else if (is_invisible_control(cp)) {
            out += "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 15];
            i += n;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

bool login_usable(const TokenRecord& record, long long now) {
    return record.fresh(now, 0) || !record.refresh_token.empty() || renews_by_itself(record.grant);
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
        std::string server = terminal_safe(shown_server(r.server));
        std::string identity = terminal_safe(r.identity);
        out += server + "\n";
        if (fresh) {
            out += "  \u2713 Logged in as " + identity + "\n";
        } else if (login_usable(r, now)) {
            out += "  \u2713 Logged in as " + identity +
                   " (the access token will be refreshed on next use)\n";
        } else {
            out += "  \u2717 The login of " + identity + " has expired: run `mcp-auth login " +
                   server + "`\n";
        }
        out += "    Issuer:        " + terminal_safe(r.issuer) + "\n";
        out += "    Scopes:        " +
               (r.scope.empty() ? std::string("(none)") : terminal_safe(r.scope)) + "\n";
        if (r.expires_at)
            out += "    Expires:       " + local_time(r.expires_at) + " (" +
                   relative_time(r.expires_at, now) + ")\n";
        else
            out += "    Expires:       unknown\n";
        out += std::string("    Refresh token: ") + (r.refresh_token.empty() ? "no" : "yes") + "\n";
        out += "    Client:        " + terminal_safe(r.client_id) +
               (r.grant == Grant::ClientCredentials ? " (client credentials)"
                : r.grant == Grant::JwtBearer       ? " (enterprise, identity assertion)"
                                                    : "") +
               "\n";
        out += "    Storage:       " + terminal_safe(storage) + "\n";
    }
    return out;
}

nlohmann::json status_json(const std::vector<TokenRecord>& logins, long long now,
                           const std::string& storage_kind, const std::string& storage) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : logins) {
        out.push_back(
            {{"server", shown_server(r.server)},
             {"issuer", r.issuer},
             {"identity", r.identity},
             {"scopes", oauth::split_scopes(r.scope)},
             {"expires_at", r.expires_at ? nlohmann::json(r.expires_at) : nlohmann::json(nullptr)},
             {"expires_in",
              r.expires_at ? nlohmann::json(r.expires_at - now) : nlohmann::json(nullptr)},
             {"refresh_token", !r.refresh_token.empty()},
             {"client_id", r.client_id},
             {"grant", grant_name(r.grant)},
             {"storage", storage_kind},
             {"storage_detail", storage},
             {"valid", login_usable(r, now)}});
    }
    return out;
}

}  // namespace mcp_auth
