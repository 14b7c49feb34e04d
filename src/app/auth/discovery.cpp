#include "app/auth/discovery.h"

#include "core/www_authenticate.h"

namespace mcp_auth {

DiscoveryClient::DiscoveryClient(const AuthOptions& options, HttpClient& http, Log& log)
    : options_(options), http_(http), log_(log) {}

std::string DiscoveryClient::shown() const {
    return options_.server.display();
}

Expected<std::string> DiscoveryClient::first_document(const std::vector<std::string>& urls) {
    std::string last_problem = "no metadata document was found";
    bool only_not_found = true;  // every URL answered 404: there is no such document
    for (const auto& url : urls) {
        auto res = http_.fetch(url, "GET", {{"Accept", "application/json"}}, "", options_.http);
        log_.debug("GET " + display_url(url) + " -> " +
                   (res.status ? std::to_string(res.status) : res.error));
        only_not_found = only_not_found && res.error.empty() && res.status == 404;
        if (!res.error.empty()) {
            last_problem = res.error;
        } else if (res.status >= 300 && res.status < 400) {
            // Discovery never follows redirects: a document elsewhere could name any server.
            last_problem = display_url(url) + " redirected to " +
                           display_url(find_header(res.headers, "Location")) +
                           "; mcp-auth does not follow redirects during discovery";
        } else if (res.status != 200) {
            last_problem = display_url(url) + " answered HTTP " + std::to_string(res.status);
        } else {
            return std::move(res.body);
        }
    }
    return make_error(only_not_found ? ErrorKind::NotFound : ErrorKind::Network, last_problem);
}

Url DiscoveryClient::anchor() const {
    if (!options_.issuer.empty())
        if (auto issuer = parse_url(options_.issuer)) return *issuer;
    return options_.server;
}

Status DiscoveryClient::check_stored_endpoint(const std::string& url, const char* what) const {
    return oauth::check_endpoint(url, anchor(), options_.allow_http, what);
}

Expected<oauth::ServerMetadata> DiscoveryClient::server_metadata(const std::string& issuer,
                                                                 bool configured) {
    // A configured issuer (--issuer, --idp-issuer) is a URL the user named: the policy for
    // those, and it anchors its own endpoints. A discovered one is the server's word.
    Url anchor = options_.server;
    if (configured) {
        auto url = parse_url(issuer);
        if (!url)
            return make_error(ErrorKind::Invalid, "the configured issuer \"" + issuer +
                                                      "\" is invalid: " + url.error().message);
        if (auto allowed = check_url_policy(*url, options_.allow_http); !allowed)
            return make_error(ErrorKind::Invalid,
                              "the configured issuer: " + allowed.error().message);
        anchor = *url;
    } else if (auto ok = oauth::check_endpoint(
                   issuer, options_.server, options_.allow_http,
                   "authorization server named by the protected resource metadata");
               !ok) {
        return ok.error();
    }
    auto body = first_document(oauth::server_metadata_urls(issuer));
    if (!body)
        return make_error(ErrorKind::Network,
                          "could not read the metadata of the authorization server " + issuer +
                              ": " + body.error().message);
    auto meta =
        oauth::parse_server_metadata(*body, issuer, configured, anchor, options_.allow_http);
    if (meta && !meta->s256_listed)
        log_.debug(
            "the authorization server " + issuer +
            " does not list PKCE methods; using S256 because you configured it with --issuer");
    return meta;
}

Expected<Discovery> DiscoveryClient::discover(const std::string& challenge) {
    if (cached_) return *cached_;
    Discovery d;
    // RFC 8707 §2: the resource SHOULD NOT have a query, and the server URL's query may
    // hold a credential (an API key): the AS never sees it. A PRM's `resource` is the
    // server's own word and is sent as it is.
    Url without_query = options_.server;
    without_query.target = options_.server.path();
    std::string resource = without_query.to_string();
    if (!options_.issuer.empty()) {
        // A server without protected resource metadata (Cognito-like): configured by hand.
        auto meta = server_metadata(options_.issuer, true);
        if (!meta) return meta.error();
        d.server = std::move(*meta);
    } else {
        std::string from_header;
        if (auto bearer = find_bearer_challenge(challenge))
            from_header = bearer->param("resource_metadata");
        // The server names this URL in its 401: the same policy as every URL it names
        // (never link-local, loopback only from a loopback server, https). RFC 9728 §5.1
        // lets the document live elsewhere, and its `resource` must name this server
        // anyway (parse_resource_metadata), so another origin is allowed.
        if (!from_header.empty())
            if (auto ok = oauth::check_endpoint(
                    from_header, options_.server, options_.allow_http,
                    "resource_metadata URL in the server's 401 (WWW-Authenticate)");
                !ok)
                return make_error(
                    ErrorKind::Invalid,
                    "the server " + shown() + " cannot be logged in to: " + ok.error().message);
        auto body = first_document(oauth::resource_metadata_urls(options_.server, from_header));
        if (!body && body.error().kind != ErrorKind::NotFound)
            return make_error(ErrorKind::Invalid,
                              "could not read the OAuth protected resource metadata of " + shown() +
                                  ": " + body.error().message);
        if (!body) {
            auto legacy = legacy_server_metadata(body.error().message);
            if (!legacy) return legacy.error();
            d.server = std::move(*legacy);
            d.no_metadata = body.error().message;
            d.resource = options_.send_resource ? resource : "";
            cached_ = d;
            return d;
        }
        auto prm = oauth::parse_resource_metadata(*body, options_.server);
        if (!prm) return prm.error();
        auto meta = server_metadata(prm->authorization_servers.front(), false);
        if (!meta) return meta.error();
        d.server = std::move(*meta);
        d.resource_scopes = prm->scopes_supported;
        resource = prm->resource;
    }
    d.resource = options_.send_resource ? resource : "";
    cached_ = d;
    return d;
}

Expected<oauth::ServerMetadata> DiscoveryClient::legacy_server_metadata(const std::string& why) {
    // MCP 2025-03-26 had no protected resource metadata: the MCP server's origin was the
    // authorization server, with default endpoints when it published no metadata either.
    const Url& s = options_.server;
    std::string origin = Url{s.scheme, s.host, s.port, "/"}.to_string();
    auto no_prm = [&](const std::string& more) {
        return make_error(
            ErrorKind::Invalid,
            "the server " + shown() + " publishes no OAuth protected resource metadata (" + why +
                ")" + more +
                ". If it uses an authorization server configured by hand, pass --issuer "
                "<authorization server URL> (with --client-id and --scope as needed).");
    };
    auto body = first_document(oauth::server_metadata_urls(origin));
    if (body) {
        auto meta = oauth::parse_server_metadata(*body, origin, false, options_.server,
                                                 options_.allow_http);
        if (!meta)
            return no_prm(", and its origin's metadata is unusable: " + meta.error().message);
        return meta;
    }
    log_.debug(
        "no authorization server metadata either; trying the 2025-03-26 default endpoints at " +
        origin);
    oauth::ServerMetadata meta;
    meta.issuer = origin;
    meta.authorization_endpoint = origin + "/authorize";
    meta.token_endpoint = origin + "/token";
    meta.registration_endpoint = origin + "/register";
    return meta;
}

}  // namespace mcp_auth
