#include "core/credentials.h"

#include <algorithm>

#include "core/json_limits.h"
#include "core/url.h"

namespace mcp_auth {

using nlohmann::json;

namespace {

// A time in epoch seconds, clamped to [0, year 9999]: a damaged or hostile record must not
// overflow the arithmetic on it.
long long num(const json& doc, const char* key) {
    constexpr double kMax = 253402300799.0;
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_number()) return 0;
    double value = it->get<double>();
    if (!(value > 0)) return 0;  // also NaN
    return static_cast<long long>(std::min(value, kMax));
}

}  // namespace

std::string grant_name(Grant grant) {
    switch (grant) {
        case Grant::ClientCredentials:
            return "client_credentials";
        case Grant::JwtBearer:
            return "urn:ietf:params:oauth:grant-type:jwt-bearer";
        case Grant::AuthorizationCode:
            break;
    }
    return "authorization_code";
}

std::optional<Grant> grant_from_name(const std::string& name) {
    for (Grant g : {Grant::AuthorizationCode, Grant::ClientCredentials, Grant::JwtBearer})
        if (grant_name(g) == name) return g;
    return std::nullopt;
}

bool renews_by_itself(Grant grant) {
    return grant == Grant::ClientCredentials || grant == Grant::JwtBearer;
}

std::string client_auth_name(ClientAuth method) {
    switch (method) {
        case ClientAuth::SecretBasic:
            return "client_secret_basic";
        case ClientAuth::SecretPost:
            return "client_secret_post";
        case ClientAuth::PrivateKeyJwt:
            return "private_key_jwt";
        case ClientAuth::None:
            break;
    }
    return "none";
}

std::optional<ClientAuth> client_auth_from_name(const std::string& name) {
    for (ClientAuth m : {ClientAuth::None, ClientAuth::SecretBasic, ClientAuth::SecretPost,
                         ClientAuth::PrivateKeyJwt})
        if (client_auth_name(m) == name) return m;
    return std::nullopt;
}

StoreKey TokenRecord::key(const std::string& server, const std::string& issuer) {
    return {{"kind", "token"}, {"server", server}, {"issuer", issuer}};
}

json TokenRecord::to_json() const {
    return {{"version", 1},
            {"server", server},
            {"issuer", issuer},
            {"client_id", client_id},
            {"grant", grant_name(grant)},
            {"access_token", access_token},
            {"refresh_token", refresh_token},
            {"scope", scope},
            {"requested_scope", requested_scope},
            {"identity", identity},
            {"expires_at", expires_at},
            {"obtained_at", obtained_at},
            {"token_endpoint", token_endpoint},
            {"revocation_endpoint", revocation_endpoint},
            {"resource", resource},
            {"client_auth", client_auth ? client_auth_name(*client_auth) : ""}};
}

std::optional<TokenRecord> TokenRecord::from_json(const std::string& text) {
    json doc = parse_json(text);
    if (!doc.is_object()) return std::nullopt;
    TokenRecord r;
    r.server = string_member(doc, "server");
    r.issuer = string_member(doc, "issuer");
    r.client_id = string_member(doc, "client_id");
    // A grant this version does not know is kept as a browser login (what it can renew).
    r.grant = grant_from_name(string_member(doc, "grant")).value_or(Grant::AuthorizationCode);
    r.access_token = string_member(doc, "access_token");
    r.refresh_token = string_member(doc, "refresh_token");
    r.scope = string_member(doc, "scope");
    r.requested_scope = string_member(doc, "requested_scope");
    r.identity = string_member(doc, "identity");
    r.expires_at = num(doc, "expires_at");
    r.obtained_at = num(doc, "obtained_at");
    r.token_endpoint = string_member(doc, "token_endpoint");
    r.revocation_endpoint = string_member(doc, "revocation_endpoint");
    r.resource = string_member(doc, "resource");
    r.client_auth = client_auth_from_name(string_member(doc, "client_auth"));
    if (r.server.empty() || r.access_token.empty()) return std::nullopt;
    return r;
}

std::string TokenRecord::label() const {
    return "mcp-auth token for " + server;
}

bool TokenRecord::fresh(long long now, long long margin) const {
    return !access_token.empty() && (expires_at == 0 || expires_at - margin > now);
}

StoreKey ClientRecord::key(const std::string& issuer) {
    return {{"kind", "client"}, {"issuer", issuer}};
}

json ClientRecord::to_json() const {
    return {{"version", 1},
            {"issuer", issuer},
            {"client_id", client_id},
            {"client_secret", client_secret},
            {"redirect_uri", redirect_uri},
            {"auth_method", auth_method}};
}

std::optional<ClientRecord> ClientRecord::from_json(const std::string& text) {
    json doc = parse_json(text);
    if (!doc.is_object()) return std::nullopt;
    ClientRecord r{string_member(doc, "issuer"), string_member(doc, "client_id"),
                   string_member(doc, "client_secret"), string_member(doc, "redirect_uri"),
                   string_member(doc, "auth_method")};
    if (r.client_id.empty()) return std::nullopt;
    return r;
}

StoreKey client_secret_key(const std::string& issuer, const std::string& client_id) {
    return {{"kind", "client-secret"}, {"issuer", issuer}, {"client", client_id}};
}

StoreKey issuer_pin_key(const std::string& client_id) {
    return {{"kind", "issuer-pin"}, {"client", client_id}};
}

std::string json_text(const json& doc) {
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::string escape_key_part(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '%' || c == ';' || c == '=') {
            static constexpr char kHex[] = "0123456789ABCDEF";
            out += '%';
            out += kHex[(static_cast<unsigned char>(c) >> 4) & 15];
            out += kHex[static_cast<unsigned char>(c) & 15];
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string encode_store_key(const StoreKey& key) {
    std::string out;
    for (const auto& [name, value] : key) {
        if (!out.empty()) out += ';';
        out += escape_key_part(name) + "=" + escape_key_part(value);
    }
    return out;
}

std::optional<StoreKey> decode_store_key(const std::string& text) {
    StoreKey key;
    size_t start = 0;
    while (start <= text.size() && !text.empty()) {
        size_t end = text.find(';', start);
        std::string part =
            text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        size_t eq = part.find('=');
        if (eq == std::string::npos) return std::nullopt;
        key[percent_decode(part.substr(0, eq), false)] = percent_decode(part.substr(eq + 1), false);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return key;
}

bool key_matches(const StoreKey& key, const StoreKey& filter) {
    for (const auto& [name, value] : filter) {
        auto it = key.find(name);
        if (it == key.end() || it->second != value) return false;
    }
    return true;
}

long long refresh_margin(const TokenRecord& record) {
    if (record.expires_at == 0 || record.obtained_at == 0) return 60;
    long long lifetime = record.expires_at - record.obtained_at;
    return std::clamp(lifetime / 2, 0LL, 60LL);
}

}  // namespace mcp_auth
