#pragma once
// A protected MCP server's metadata and its authorization server, played in memory for
// the authorization use case's tests: RFC 9728 resource metadata, RFC 8414 metadata,
// dynamic registration (RFC 7591), the authorization endpoint (approve(): the person
// in the browser), and the token endpoint with PKCE checks, refresh-token rotation and
// reuse detection, client credentials, and revocation. Knobs make it misbehave the way
// real ones do: down (5xx), a client it forgot, scopes it will not grant.
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/fake_http.h"
#include "core/base64.h"
#include "core/crypto.h"
#include "core/url.h"

namespace mcp_auth::testing {

class FakeAuthServer {
public:
    const std::string server = "https://mcp.example/mcp";
    const std::string issuer = "https://as.example";

    // Knobs (set before the exchange they affect).
    int down = 0;                                // the next N token calls answer 503
    long long lifetime = 3600;                   // expires_in of every token
    std::set<std::string> forgotten;             // client ids answered invalid_client
    std::set<std::string> never_granted;         // scopes the server never grants
    std::string scopes_supported = "read";       // PRM scopes_supported (space-separated)
    std::map<std::string, std::string> secrets;  // client id -> secret (confidential clients)
    bool cimd_supported = false;                 // client_id_metadata_document_supported
    // The token endpoint thinks this long before answering a refresh: two processes'
    // refreshes then overlap unless something keeps them apart.
    std::chrono::milliseconds refresh_delay{0};

    FakeHttp::Handler handler() {
        return [this](const FakeRequest& r) { return handle(r); };
    }

    // The person approves the login in the browser: the callback query the authorization
    // server redirects to (nullopt when it shows an error page instead).
    std::optional<QueryParams> approve(const std::string& authorization_url) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto q = parse_query(authorization_url.substr(authorization_url.find('?') + 1));
        std::string client = query_value(q, "client_id").value_or("");
        if (forgotten.count(client) || !known_client(client)) return std::nullopt;
        std::string code = "code-" + std::to_string(++counter_);
        codes_[code] = {client, query_value(q, "code_challenge").value_or(""),
                        query_value(q, "scope").value_or(""),
                        query_value(q, "redirect_uri").value_or("")};
        ++approvals;
        last_authorization_url = authorization_url;
        return QueryParams{{"code", code}, {"state", query_value(q, "state").value_or("")}};
    }

    // Counters the tests read.
    int registrations = 0, approvals = 0, code_exchanges = 0, refreshes = 0, machine_logins = 0,
        revocations = 0, refresh_reuse = 0;
    std::string last_authorization_url;
    std::string last_refresh_token() {
        std::lock_guard<std::mutex> lock(mutex_);
        return refresh_tokens_.empty() ? "" : latest_refresh_;
    }

private:
    struct Code {
        std::string client, challenge, scope, redirect_uri;
    };

    bool known_client(const std::string& id) const {
        return registered_.count(id) || secrets.count(id) || id.rfind("https://", 0) == 0;
    }

    FakeReply tokens(const std::string& scope) {
        std::string granted;
        for (const auto& s : oauth::split_scopes(scope))
            if (!never_granted.count(s)) granted += (granted.empty() ? "" : " ") + s;
        std::string n = std::to_string(++counter_);
        latest_refresh_ = "rt-" + n;
        refresh_tokens_[latest_refresh_] = granted;
        nlohmann::json body = {{"access_token", "at-" + n},
                               {"token_type", "Bearer"},
                               {"expires_in", lifetime},
                               {"refresh_token", latest_refresh_},
                               {"scope", granted}};
        return FakeReply::json(200, body.dump());
    }

    static FakeReply oauth_error(int status, const std::string& code) {
        return FakeReply::json(status, nlohmann::json{{"error", code}}.dump());
    }

    std::string client_of(const FakeRequest& r, const QueryParams& form) {
        std::string basic = r.header("Authorization");
        if (basic.rfind("Basic ", 0) == 0) {
            std::string decoded = base64_decode(basic.substr(6)).value_or("");
            return percent_decode(decoded.substr(0, decoded.find(':')));
        }
        return query_value(form, "client_id").value_or("");
    }

    FakeReply handle(const FakeRequest& r) {
        if (refresh_delay.count() && r.body.find("grant_type=refresh_token") != std::string::npos)
            std::this_thread::sleep_for(refresh_delay);
        std::lock_guard<std::mutex> lock(mutex_);
        auto url = parse_url(r.url);
        if (!url) return FakeReply::json(400, "{}");
        std::string path = url->path();
        if (url->host == "mcp.example" &&
            path.rfind("/.well-known/oauth-protected-resource", 0) == 0)
            return FakeReply::json(
                200, nlohmann::json{{"resource", server},
                                    {"authorization_servers", {issuer}},
                                    {"scopes_supported", oauth::split_scopes(scopes_supported)}}
                         .dump());
        if (url->host != "as.example") return FakeReply::json(404, "{}");
        if (path == "/.well-known/oauth-authorization-server")
            return FakeReply::json(
                200, nlohmann::json{{"issuer", issuer},
                                    {"authorization_endpoint", issuer + "/authorize"},
                                    {"token_endpoint", issuer + "/token"},
                                    {"registration_endpoint", issuer + "/register"},
                                    {"revocation_endpoint", issuer + "/revoke"},
                                    {"code_challenge_methods_supported", {"S256"}},
                                    {"client_id_metadata_document_supported", cimd_supported},
                                    {"token_endpoint_auth_methods_supported",
                                     {"none", "client_secret_basic", "client_secret_post"}}}
                         .dump());
        if (path == "/register") {
            auto doc = nlohmann::json::parse(r.body);
            std::string id = "client-" + std::to_string(++counter_);
            registered_.insert(id);
            ++registrations;
            return FakeReply::json(201, nlohmann::json{{"client_id", id},
                                                       {"redirect_uris", doc["redirect_uris"]},
                                                       {"token_endpoint_auth_method", "none"}}
                                            .dump());
        }
        auto form = parse_query(r.body);
        std::string client = client_of(r, form);
        if (path == "/revoke") {
            ++revocations;
            refresh_tokens_.erase(query_value(form, "token").value_or(""));
            return FakeReply::json(200, "{}");
        }
        if (path != "/token") return FakeReply::json(404, "{}");
        if (down > 0) {
            --down;
            return FakeReply::json(503, "{}");
        }
        if (forgotten.count(client) || !known_client(client))
            return oauth_error(401, "invalid_client");
        std::string grant = query_value(form, "grant_type").value_or("");
        if (grant == "authorization_code") {
            ++code_exchanges;
            auto it = codes_.find(query_value(form, "code").value_or(""));
            if (it == codes_.end() || it->second.client != client ||
                pkce_challenge_s256(query_value(form, "code_verifier").value_or("")) !=
                    it->second.challenge)
                return oauth_error(400, "invalid_grant");
            std::string scope = it->second.scope;
            codes_.erase(it);
            return tokens(scope);
        }
        if (grant == "refresh_token") {
            ++refreshes;
            auto it = refresh_tokens_.find(query_value(form, "refresh_token").value_or(""));
            if (it == refresh_tokens_.end()) {
                ++refresh_reuse;  // a rotated (spent) or unknown refresh token
                return oauth_error(400, "invalid_grant");
            }
            std::string scope = it->second;
            refresh_tokens_.erase(it);  // rotation: the old one is spent
            return tokens(scope);
        }
        if (grant == "client_credentials") {
            ++machine_logins;
            std::string secret;
            std::string basic = r.header("Authorization");
            if (basic.rfind("Basic ", 0) == 0) {
                std::string decoded = base64_decode(basic.substr(6)).value_or("");
                secret = percent_decode(decoded.substr(decoded.find(':') + 1));
            } else {
                secret = query_value(form, "client_secret").value_or("");
            }
            if (!secrets.count(client) || secrets[client] != secret)
                return oauth_error(401, "invalid_client");
            return tokens(query_value(form, "scope").value_or(""));
        }
        return oauth_error(400, "unsupported_grant_type");
    }

    std::mutex mutex_;
    int counter_ = 0;
    std::set<std::string> registered_;
    std::map<std::string, Code> codes_;
    std::map<std::string, std::string> refresh_tokens_;  // live refresh token -> scope
    std::string latest_refresh_;
};

}  // namespace mcp_auth::testing
