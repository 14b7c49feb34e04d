#pragma once
// OAuth discovery for MCP: protected resource metadata (RFC 9728) and authorization
// server metadata (RFC 8414, OpenID Connect Discovery), in the order the MCP
// specification requires, with its identity checks. Pure logic: it builds URLs and
// judges documents; the fetching is done by the caller.
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "core/url.h"

namespace mcp_auth::oauth {

struct ResourceMetadata {
    std::string resource;
    std::vector<std::string> authorization_servers;
    std::vector<std::string> scopes_supported;
};

struct ServerMetadata {
    std::string issuer;
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string registration_endpoint;
    std::string revocation_endpoint;
    std::vector<std::string> scopes_supported;
    std::vector<std::string> grant_types_supported;
    std::vector<std::string> token_endpoint_auth_methods_supported;
    bool iss_parameter_supported = false;  // authorization_response_iss_parameter_supported
    bool client_id_metadata_document_supported = false;
    bool s256_listed = false;  // false only for an issuer the user configured by hand
};

// Where to look for the server's protected resource metadata, in order: the URL from
// the WWW-Authenticate challenge if there was one, else the path-inserted well-known
// URL (skipped for a server at "/"), then the root one.
std::vector<std::string> resource_metadata_urls(const Url& server,
                                                const std::string& from_challenge);

// Parses a PRM document and checks that it describes `server`: same origin, and a
// `resource` path equal to the server's path or a parent of it.
Expected<ResourceMetadata> parse_resource_metadata(std::string_view body, const Url& server);

// The authorization server metadata URLs to try for `issuer`, in order (RFC 8414
// path insertion first, then OIDC insertion, then OIDC appending).
std::vector<std::string> server_metadata_urls(const std::string& issuer);

// Parses AS metadata found for `issuer`. The document's issuer must be identical to
// it. S256 must be listed in code_challenge_methods_supported, except when the user
// configured the issuer explicitly (real Cognito omits the list but supports PKCE).
// Every endpoint it names (authorization, token, registration, revocation, JWKS, device)
// must pass check_endpoint against `anchor`, the URL the user named (the MCP server, or
// the issuer itself when configured with --issuer / --idp-issuer).
Expected<ServerMetadata> parse_server_metadata(std::string_view body, const std::string& issuer,
                                               bool issuer_configured, const Url& anchor,
                                               bool allow_http);
// The same with the issuer as its own anchor and no --allow-http (for a configured issuer).
Expected<ServerMetadata> parse_server_metadata(std::string_view body, const std::string& issuer,
                                               bool issuer_configured);

// Checks a URL a server or authorization server named (an endpoint, an issuer from the
// PRM, a resource_metadata URL, or such a URL kept in a stored login) with
// check_url_from_server: never link-local, loopback only when `anchor` is loopback, https
// unless `allow_http`. `what` names it in the error ("token endpoint").
Status check_endpoint(const std::string& url, const Url& anchor, bool allow_http, const char* what);

}  // namespace mcp_auth::oauth
