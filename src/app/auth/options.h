#pragma once
// What the authorization use case is given: what the user asked (the command line's login
// options, the secrets from the environment) and the ports. The composition root fills
// both in.
#include <chrono>
#include <string>

#include "core/url.h"
#include "ports/callback.h"
#include "ports/http.h"
#include "ports/locks.h"
#include "ports/log.h"
#include "ports/secret_store.h"
#include "ports/system.h"

namespace mcp_auth {

struct AuthOptions {
    Url server;
    std::string client_id;             // --client-id
    std::string client_secret;         // MCP_AUTH_CLIENT_SECRET (never from argv)
    std::string client_metadata_url;   // --client-metadata-url
    std::string client_assertion_key;  // --client-assertion-key: PEM key for private_key_jwt
    std::string issuer;                // --issuer: the authorization server, configured by hand
    std::string idp_issuer;            // --idp-issuer: enterprise IdP (ID-JAG), discovered
    std::string idp_token_endpoint;    // --idp-token-endpoint: or its token endpoint directly
    std::string idp_client_id;         // --idp-client-id: mcp-auth's client at the IdP
    std::string idp_id_token;          // MCP_AUTH_IDP_ID_TOKEN (never from argv)
    std::string scope;                 // --scope: overrides what discovery suggests
    int callback_port = 0;             // --callback-port (0 = chosen by the OS)
    bool send_resource = true;         // --no-resource turns RFC 8707 off
    bool client_credentials = false;   // --client-credentials: machine login, no browser
    bool allow_http = false;           // --allow-http: plain http to non-loopback hosts
    std::chrono::milliseconds login_timeout{std::chrono::minutes(5)};
    // For every exchange with an authorization server or metadata host. A total_timeout of
    // 0 becomes read_timeout: a whole metadata or token exchange (a few kB) gets the time
    // the user allows for a silence, so one that drips a byte a second still ends.
    HttpOptions http{std::chrono::seconds(10), std::chrono::seconds(30)};
};

// What the use case needs from the world (ports/); the composition root (cli/compose.cpp)
// passes real adapters, tests/unit/app fakes.
struct AuthContext {
    SecretStore& store;
    Log& log;
    HttpClient& http;
    CallbackServer& callbacks;
    LockService& locks;
    Clock& clock;
    Browser& browser;
    // Starts the browser login in a detached process; null = log in in this process.
    LoginAgentLauncher* agent = nullptr;
    // This process is such a login agent: it already holds the login lock.
    bool holds_login_lock = false;
};

}  // namespace mcp_auth
