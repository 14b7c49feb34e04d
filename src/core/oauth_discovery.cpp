#include "core/oauth_discovery.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/json_limits.h"

namespace mcp_auth::oauth {

using nlohmann::json;

namespace {

std::string strip_trailing_slash(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

}  // namespace

std::vector<std::string> resource_metadata_urls(const Url& server,
                                                const std::string& from_challenge) {
    if (!from_challenge.empty()) return {from_challenge};
    std::string base = Url{server.scheme, server.host, server.port, "/"}.to_string();
    std::vector<std::string> out;
    std::string path = strip_trailing_slash(server.path());
    if (path != "/") out.push_back(base + "/.well-known/oauth-protected-resource" + path);
    out.push_back(base + "/.well-known/oauth-protected-resource");
    return out;
}

Expected<ResourceMetadata> parse_resource_metadata(std::string_view body, const Url& server) {
    json doc = parse_json(body);
    if (doc.is_discarded() || !doc.is_object())
        return make_error(ErrorKind::Invalid,
                          "the protected resource metadata is not a JSON object");
    ResourceMetadata meta;
    meta.resource = string_member(doc, "resource");
    meta.authorization_servers = string_list_member(doc, "authorization_servers");
    meta.scopes_supported = string_list_member(doc, "scopes_supported");
    if (meta.resource.empty())
        return make_error(ErrorKind::Invalid,
                          "the protected resource metadata has no \"resource\"");
    auto resource = parse_url(meta.resource);
    if (!resource)
        return make_error(ErrorKind::Invalid,
                          "the protected resource metadata names an invalid resource: " +
                              resource.error().message);
    std::string rpath = strip_trailing_slash(resource->path());
    std::string spath = strip_trailing_slash(server.path());
    bool covers = rpath == "/" || spath == rpath || spath.rfind(rpath + "/", 0) == 0;
    if (!resource->same_origin(server) || !covers)
        return make_error(ErrorKind::Invalid,
                          "the protected resource metadata describes " + meta.resource + ", not " +
                              server.to_string() +
                              "; refusing to use it (it may be an attempt to get a token "
                              "for another server)");
    if (meta.authorization_servers.empty())
        return make_error(ErrorKind::Invalid,
                          "the protected resource metadata lists no authorization server");
    return meta;
}

std::vector<std::string> server_metadata_urls(const std::string& issuer) {
    auto url = parse_url(issuer);
    if (!url) return {};
    std::string base = Url{url->scheme, url->host, url->port, "/"}.to_string();
    std::string path = strip_trailing_slash(url->path());
    if (path == "/") {
        return {base + "/.well-known/oauth-authorization-server",
                base + "/.well-known/openid-configuration"};
    }
    return {base + "/.well-known/oauth-authorization-server" + path,
            base + "/.well-known/openid-configuration" + path,
            base + path + "/.well-known/openid-configuration"};
}

Status check_endpoint(const std::string& url, const Url& anchor, bool allow_http,
                      const char* what) {
    auto parsed = parse_url(url);
    if (!parsed)
        return make_error(ErrorKind::Invalid,
                          std::string("the ") + what + " is invalid: " + parsed.error().message);
    if (auto allowed = check_url_from_server(*parsed, anchor, allow_http); !allowed)
        return make_error(ErrorKind::Invalid,
                          std::string("the ") + what + " is refused: " + allowed.error().message);
    return Ok{};
}

Expected<ServerMetadata> parse_server_metadata(std::string_view body, const std::string& issuer,
                                               bool issuer_configured) {
    auto anchor = parse_url(issuer);
    if (!anchor)
        return make_error(ErrorKind::Invalid,
                          "the issuer \"" + issuer + "\" is invalid: " + anchor.error().message);
    return parse_server_metadata(body, issuer, issuer_configured, *anchor, false);
}

Expected<ServerMetadata> parse_server_metadata(std::string_view body, const std::string& issuer,
                                               bool issuer_configured, const Url& anchor,
                                               bool allow_http) {
    json doc = parse_json(body);
    if (doc.is_discarded() || !doc.is_object())
        return make_error(ErrorKind::Invalid,
                          "the authorization server metadata is not a JSON object");
    ServerMetadata meta;
    meta.issuer = string_member(doc, "issuer");
    if (meta.issuer != issuer)
        return make_error(ErrorKind::Invalid,
                          "the authorization server metadata names the issuer \"" + meta.issuer +
                              "\" but was found for \"" + issuer +
                              "\"; refusing it (RFC 8414 §3.3)");
    meta.authorization_endpoint = string_member(doc, "authorization_endpoint");
    meta.token_endpoint = string_member(doc, "token_endpoint");
    meta.registration_endpoint = string_member(doc, "registration_endpoint");
    meta.revocation_endpoint = string_member(doc, "revocation_endpoint");
    meta.scopes_supported = string_list_member(doc, "scopes_supported");
    meta.grant_types_supported = string_list_member(doc, "grant_types_supported");
    meta.token_endpoint_auth_methods_supported =
        string_list_member(doc, "token_endpoint_auth_methods_supported");
    auto iss = doc.find("authorization_response_iss_parameter_supported");
    meta.iss_parameter_supported = iss != doc.end() && iss->is_boolean() && iss->get<bool>();
    auto cimd = doc.find("client_id_metadata_document_supported");
    meta.client_id_metadata_document_supported =
        cimd != doc.end() && cimd->is_boolean() && cimd->get<bool>();

    auto methods = string_list_member(doc, "code_challenge_methods_supported");
    meta.s256_listed = std::find(methods.begin(), methods.end(), "S256") != methods.end();
    if (!meta.s256_listed && !(issuer_configured && methods.empty()))
        return make_error(
            ErrorKind::Invalid,
            "the authorization server " + issuer +
                " does not list PKCE S256 in code_challenge_methods_supported; refusing to log in "
                "without it. If you trust this server and know it supports PKCE, pass --issuer " +
                issuer);
    if (meta.token_endpoint.empty())
        return make_error(ErrorKind::Invalid,
                          "the authorization server metadata has no token_endpoint");
    // Endpoints mcp-auth does not use yet are checked too: a document that names a
    // loopback or plain-http JWKS or device endpoint is not one to trust with the others.
    std::string jwks = string_member(doc, "jwks_uri");
    std::string device = string_member(doc, "device_authorization_endpoint");
    for (auto [url, what] : {std::pair{&meta.authorization_endpoint, "authorization endpoint"},
                             std::pair{&meta.token_endpoint, "token endpoint"},
                             std::pair{&meta.registration_endpoint, "registration endpoint"},
                             std::pair{&meta.revocation_endpoint, "revocation endpoint"},
                             std::pair{&jwks, "JWKS endpoint (jwks_uri)"},
                             std::pair{&device, "device authorization endpoint"}}) {
        if (url->empty()) continue;
        if (auto ok = check_endpoint(*url, anchor, allow_http, what); !ok) return ok.error();
    }
    return meta;
}

}  // namespace mcp_auth::oauth
