#pragma once
// Discovery: which authorization server protects the MCP server, and its endpoints.
// RFC 9728 protected resource metadata (from the 401's resource_metadata, else the
// well-known URLs, in the spec's order), then RFC 8414 / OpenID metadata of the
// authorization server it names; without resource metadata, the 2025-03-26 rules (the
// server's origin is the authorization server, with default endpoints as a last resort);
// or the authorization server configured by hand (--issuer). Never follows redirects.
// Every URL a server names passes check_url_from_server against the URL the user named.
#include <optional>
#include <string>
#include <vector>

#include "app/auth/options.h"
#include "core/expected.h"
#include "core/oauth_discovery.h"
#include "ports/http.h"
#include "ports/log.h"

namespace mcp_auth {

struct Discovery {
    oauth::ServerMetadata server;
    std::vector<std::string> resource_scopes;  // PRM scopes_supported
    std::string resource;                      // sent as RFC 8707 `resource`, "" when off
    std::string no_metadata;  // why there was no resource metadata (2025-03-26 rules used)
};

class DiscoveryClient {
public:
    // `options` must outlive this (the Authenticator owns both).
    DiscoveryClient(const AuthOptions& options, HttpClient& http, Log& log);

    // The first success is kept for the life of the process. `challenge` is the 401's
    // WWW-Authenticate value ("" when none).
    Expected<Discovery> discover(const std::string& challenge);
    // An authorization server's metadata. `configured`: the user named `issuer` (--issuer,
    // --idp-issuer): the policy for user URLs, and it anchors its own endpoints; else it
    // is the server's word, checked against the server.
    Expected<oauth::ServerMetadata> server_metadata(const std::string& issuer, bool configured);
    // The URL the user named that the authorization server's URLs are judged against:
    // --issuer when configured, else the server.
    Url anchor() const;
    // A stored endpoint, checked again before it is used (the record may be older than
    // the policy, or altered).
    Status check_stored_endpoint(const std::string& url, const char* what) const;

private:
    // Without protected resource metadata: the 2025-03-26 rules. `why` says why there
    // was no resource metadata.
    Expected<oauth::ServerMetadata> legacy_server_metadata(const std::string& why);
    // The body of the first URL that answers 200, tried in order; else why none did.
    Expected<std::string> first_document(const std::vector<std::string>& urls);
    std::string shown() const;

    const AuthOptions& options_;
    HttpClient& http_;
    Log& log_;
    std::optional<Discovery> cached_;
};

}  // namespace mcp_auth
