#include "app/auth/authenticator.h"

#include <algorithm>
#include <thread>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/json_limits.h"
#include "core/jwt.h"
#include "core/www_authenticate.h"

namespace mcp_auth {

namespace {

std::string describe_scope(const std::vector<std::string>& scopes) {
    std::string out;
    for (size_t i = 0; i < scopes.size(); ++i) {
        if (i) out += i + 1 == scopes.size() ? " and " : ", ";
        out += "\"" + scopes[i] + "\"";
    }
    return out;
}

Error login_required(const std::string& server, const std::string& why) {
    return make_error(ErrorKind::LoginRequired,
                      why + " Run `mcp-auth login " + server + "` in a terminal, then try again.");
}

constexpr const char* kJwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";

std::string basic_auth(const std::string& id, const std::string& secret) {
    // RFC 6749 §2.3.1: both parts form-encoded before base64.
    return "Basic " + base64_encode(percent_encode(id) + ":" + percent_encode(secret));
}

bool is_auth_code(const Error& e, std::initializer_list<const char*> codes) {
    return std::any_of(codes.begin(), codes.end(), [&](const char* c) { return e.code == c; });
}

// A refresh the authorization server could not answer (5xx, 429, connection refused) is
// tried this many times, waiting kRefreshBackoff[i] before try i+1: about 1.5 s in all.
constexpr int kRefreshAttempts = 3;
constexpr std::chrono::milliseconds kRefreshBackoff[] = {std::chrono::milliseconds(500),
                                                         std::chrono::milliseconds(1000)};

}  // namespace

Authenticator::Authenticator(AuthOptions options, AuthContext context)
    : options_(std::move(options)), ctx_(std::move(context)) {
    if (options_.http.total_timeout.count() == 0)
        options_.http.total_timeout = options_.http.read_timeout;
}

namespace {

// How long a process may wait for the refresh lock: as long as its holder can keep it. The
// holder's every exchange ends by its own deadline (connect + total), it tries at most
// kRefreshAttempts times with the backoff between, and the store calls are bounded too.
std::chrono::milliseconds refresh_lock_budget(const HttpOptions& http) {
    auto exchange = http.connect_timeout + http.total_timeout;
    return kRefreshAttempts * exchange + std::chrono::milliseconds(1500) + std::chrono::seconds(15);
}

}  // namespace

// --- the store ---------------------------------------------------------------------

Expected<std::optional<TokenRecord>> Authenticator::load_locked(bool again) {
    // The relay asks for a token with every message: the store (a D-Bus round trip, or a
    // timeout when there is no Secret Service) is read once, and again only when another
    // process may have changed it (its change marker moved), when a caller asks (a 401,
    // a login that ended elsewhere), or a while after it failed.
    std::string stamp = ctx_.locks.change_stamp(server());
    bool changed = stamp != stamp_;
    if (!again && !changed) {
        if (loaded_) return current_;
        if (store_failure_ && ctx_.clock.steady() - store_failure_->at < kStoreRetryAfter)
            return store_failure_->error;
    }
    auto items = ctx_.store.find({{"kind", "token"}, {"server", server()}});
    if (!items) {
        store_failure_ = StoreFailure{items.error(), ctx_.clock.steady()};
        stamp_ = stamp;
        loaded_ = false;
        return items.error();
    }
    store_failure_.reset();
    std::optional<TokenRecord> newest;
    for (const auto& [key, secret] : *items) {
        auto record = TokenRecord::from_json(secret);
        if (!record) continue;
        if (!options_.issuer.empty() && record->issuer != options_.issuer) continue;
        if (!newest || record->obtained_at > newest->obtained_at) newest = std::move(record);
    }
    current_ = std::move(newest);
    loaded_ = true;
    stamp_ = stamp;
    if (current_) {
        had_login_ = true;
        logged_out_ = false;
    } else if (had_login_) {
        logged_out_ = true;  // someone removed it: `mcp-auth logout`
    }
    return current_;
}

Expected<std::optional<TokenRecord>> Authenticator::stored() {
    auto lock = enter();
    return load_locked();
}

Status Authenticator::save(const TokenRecord& record) {
    auto ok = ctx_.store.put(record.key(), record.label(), json_text(record.to_json()));
    if (!ok) return ok.error();
    current_ = record;
    loaded_ = true;
    had_login_ = true;
    logged_out_ = false;
    store_failure_.reset();
    note_change();
    return Ok{};
}

void Authenticator::note_change() {
    // Other instances read the store again at their next request; this one knows already.
    ctx_.locks.note_change(server());
    stamp_ = ctx_.locks.change_stamp(server());
}

Status Authenticator::retry_unsaved(bool holding_refresh_lock) {
    if (!unsaved_) return Ok{};
    // Under the refresh lock, and only while the login it replaces is still stored: a
    // login removed meanwhile (logout) is not written back.
    std::unique_ptr<ProcessLock> lock;
    if (!holding_refresh_lock) {
        auto opened = ctx_.locks.open(server(), "refresh");
        if (opened) {
            lock = std::move(*opened);
            if (auto ok = lock->lock(true, std::chrono::seconds(2), &cancel_flag_); !ok)
                return ok.error();
        }
    }
    auto stored = ctx_.store.get(unsaved_->key());
    if (!stored) return stored.error();
    if (!*stored) {
        ctx_.log.info("the login for " + shown() +
                      " was removed meanwhile; the refreshed login that could not be saved is "
                      "dropped");
        unsaved_.reset();
        current_.reset();
        loaded_ = false;
        logged_out_ = true;
        return Ok{};
    }
    TokenRecord record = *unsaved_;
    if (auto ok = save(record); !ok) return ok.error();
    unsaved_.reset();
    ctx_.log.debug("saved the refreshed login for " + shown() + " on a second try");
    return Ok{};
}

Expected<std::vector<TokenRecord>> list_logins(SecretStore& store) {
    auto items = store.find({{"kind", "token"}});
    if (!items) return items.error();
    std::vector<TokenRecord> out;
    for (const auto& [key, secret] : *items)
        if (auto record = TokenRecord::from_json(secret)) out.push_back(std::move(*record));
    std::sort(out.begin(), out.end(), [](const TokenRecord& a, const TokenRecord& b) {
        return a.server != b.server ? a.server < b.server : a.issuer < b.issuer;
    });
    return out;
}

// --- discovery -----------------------------------------------------------------------

Expected<std::string> Authenticator::first_document(const std::vector<std::string>& urls) {
    std::string last_problem = "no metadata document was found";
    bool only_not_found = true;  // every URL answered 404: there is no such document
    for (const auto& url : urls) {
        auto res = ctx_.http.fetch(url, "GET", {{"Accept", "application/json"}}, "", options_.http);
        ctx_.log.debug("GET " + display_url(url) + " -> " +
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
    return make_error(ErrorKind::Network, last_problem, only_not_found ? "not_found" : "");
}

Url Authenticator::as_anchor() const {
    std::string error;
    if (!options_.issuer.empty())
        if (auto issuer = parse_url(options_.issuer, &error)) return *issuer;
    return options_.server;
}

Status Authenticator::check_stored_endpoint(const std::string& url, const char* what) const {
    return oauth::check_endpoint(url, as_anchor(), options_.allow_http, what);
}

Expected<oauth::ServerMetadata> Authenticator::fetch_server_metadata(const std::string& issuer,
                                                                     bool configured) {
    // A configured issuer (--issuer, --idp-issuer) is a URL the user named: the policy for
    // those, and it anchors its own endpoints. A discovered one is the server's word.
    Url anchor = options_.server;
    if (configured) {
        std::string error;
        auto url = parse_url(issuer, &error);
        if (!url)
            return make_error(ErrorKind::Invalid,
                              "the configured issuer \"" + issuer + "\" is invalid: " + error);
        if (auto refusal = check_url_policy(*url, options_.allow_http); !refusal.empty())
            return make_error(ErrorKind::Invalid, "the configured issuer: " + refusal);
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
        ctx_.log.debug(
            "the authorization server " + issuer +
            " does not list PKCE methods; using S256 because you configured it with --issuer");
    return meta;
}

Expected<Authenticator::Discovery> Authenticator::discover(const std::string& challenge) {
    if (discovery_) return *discovery_;
    Discovery d;
    // RFC 8707 §2: the resource SHOULD NOT have a query, and the server URL's query may
    // hold a credential (an API key): the AS never sees it. A PRM's `resource` is the
    // server's own word and is sent as it is.
    Url without_query = options_.server;
    without_query.target = options_.server.path();
    std::string resource = without_query.to_string();
    if (!options_.issuer.empty()) {
        // A server without protected resource metadata (Cognito-like): configured by hand.
        auto meta = fetch_server_metadata(options_.issuer, true);
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
        if (!body && body.error().code != "not_found")
            return make_error(ErrorKind::Invalid,
                              "could not read the OAuth protected resource metadata of " + shown() +
                                  ": " + body.error().message);
        if (!body) {
            auto legacy = legacy_server_metadata(body.error().message);
            if (!legacy) return legacy.error();
            d.server = std::move(*legacy);
            d.no_metadata = body.error().message;
            d.resource = options_.send_resource ? resource : "";
            discovery_ = d;
            return d;
        }
        auto prm = oauth::parse_resource_metadata(*body, options_.server);
        if (!prm) return prm.error();
        auto meta = fetch_server_metadata(prm->authorization_servers.front(), false);
        if (!meta) return meta.error();
        d.server = std::move(*meta);
        d.resource_scopes = prm->scopes_supported;
        resource = prm->resource;
    }
    d.resource = options_.send_resource ? resource : "";
    discovery_ = d;
    return d;
}

Expected<oauth::ServerMetadata> Authenticator::legacy_server_metadata(const std::string& why) {
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
    ctx_.log.debug(
        "no authorization server metadata either; trying the 2025-03-26 default endpoints at " +
        origin);
    oauth::ServerMetadata meta;
    meta.issuer = origin;
    meta.authorization_endpoint = origin + "/authorize";
    meta.token_endpoint = origin + "/token";
    meta.registration_endpoint = origin + "/register";
    return meta;
}

// --- client identity ---------------------------------------------------------------

Expected<std::optional<ClientRecord>> Authenticator::registration(const std::string& issuer) {
    auto stored = ctx_.store.get(ClientRecord::key(issuer));
    if (!stored) return stored.error();
    if (!*stored) return std::optional<ClientRecord>();
    auto record = ClientRecord::from_json(**stored);
    if (!record || record->issuer != issuer) return std::optional<ClientRecord>();
    return record;
}

std::string Authenticator::client_secret_for(const std::string& issuer,
                                             const std::string& client_id) {
    if (!options_.client_secret.empty() && client_id == options_.client_id)
        return options_.client_secret;
    if (auto kept = ctx_.store.get(client_secret_key(issuer, client_id)); kept && *kept)
        return **kept;
    if (auto reg = registration(issuer); reg && *reg && (*reg)->client_id == client_id)
        return (*reg)->client_secret;
    return {};
}

Expected<Authenticator::Client> Authenticator::client_for(const Discovery& d,
                                                          const std::string& redirect_uri) {
    const std::string& issuer = d.server.issuer;
    const auto& methods = d.server.token_endpoint_auth_methods_supported;
    bool has_key = !options_.client_assertion_key.empty();
    if (!options_.client_id.empty()) {
        std::string secret = client_secret_for(issuer, options_.client_id);
        return Client{options_.client_id, secret, false,
                      oauth::choose_client_auth(!secret.empty(), has_key, "", methods)};
    }
    if (!options_.client_metadata_url.empty()) {
        if (!d.server.client_id_metadata_document_supported)
            ctx_.log.info(
                "the authorization server does not advertise client ID metadata documents; "
                "trying " +
                options_.client_metadata_url + " anyway");
        return Client{options_.client_metadata_url, "", false,
                      oauth::choose_client_auth(false, has_key, "", methods)};
    }
    auto stored = registration(issuer);
    if (!stored) return stored.error();
    if (*stored)
        return Client{(*stored)->client_id, (*stored)->client_secret, true,
                      oauth::choose_client_auth(!(*stored)->client_secret.empty(), false,
                                                (*stored)->auth_method, methods)};
    if (d.server.registration_endpoint.empty())
        return make_error(ErrorKind::Invalid,
                          "the authorization server " + issuer +
                              " does not offer dynamic client registration. Register mcp-auth "
                              "there as a public native client with the redirect URI "
                              "http://127.0.0.1/callback and pass --client-id <id>.");
    auto body = json_text(oauth::registration_request(redirect_uri));
    auto res = ctx_.http.fetch(d.server.registration_endpoint, "POST",
                          {{"Content-Type", "application/json"}, {"Accept", "application/json"}},
                          body, options_.http);
    if (!res.error.empty())
        return make_error(ErrorKind::Network,
                          "could not reach the registration endpoint: " + res.error);
    auto registered = oauth::parse_registration_response(res.status, res.body);
    if (!registered && !d.no_metadata.empty())
        return make_error(
            ErrorKind::Invalid,
            "the server " + shown() + " publishes no OAuth protected resource metadata (" +
                d.no_metadata + "), and its origin offers no client registration (" +
                registered.error().message +
                "). If it uses an authorization server configured by hand, pass --issuer "
                "<authorization server URL> (with --client-id and --scope as needed).");
    if (!registered) return registered.error();
    ClientRecord record{issuer, registered->client_id, registered->client_secret, redirect_uri,
                        registered->token_endpoint_auth_method};
    if (auto ok =
            ctx_.store.put(ClientRecord::key(issuer), "mcp-auth client registration at " + issuer,
                           json_text(record.to_json()));
        !ok)
        return ok.error();
    ctx_.log.debug("registered client " + record.client_id + " at " + issuer);
    return Client{record.client_id, record.client_secret, true,
                  oauth::choose_client_auth(!record.client_secret.empty(), false,
                                            record.auth_method, methods)};
}

// --- token endpoint --------------------------------------------------------------------

bool Authenticator::pinned_client(const Client& client) const {
    // A dynamic registration is bound to its issuer by its key; a configured client's
    // secret (environment, keychain) or assertion key is not, so it is pinned.
    if (client.registered || client.method == "none") return false;
    return (!options_.client_id.empty() && client.id == options_.client_id) ||
           client.method == "private_key_jwt";
}

Status Authenticator::check_issuer_pin(const Client& client, const std::string& issuer) {
    if (!options_.issuer.empty()) {
        if (issuer == options_.issuer) return Ok{};
        return make_error(ErrorKind::Invalid, "refusing to send the credentials of client " +
                                                  client.id + " to " + issuer +
                                                  ": you configured the authorization server " +
                                                  options_.issuer + " with --issuer");
    }
    auto pin = ctx_.store.get(issuer_pin_key(client.id));
    if (!pin) return pin.error();
    if (!*pin || **pin == issuer) return Ok{};
    return make_error(
        ErrorKind::Invalid,
        "refusing to send the credentials of client " + client.id +
            " to the authorization server " + issuer + ": they belong to " + **pin +
            ", where this client first logged in, and the server " + shown() +
            " now names another one. If the client really moved, pass --issuer " + issuer +
            " (the pin follows it), or run `mcp-auth logout --all` to forget the pin.");
}

void Authenticator::pin_issuer(const Client& client, const std::string& issuer) {
    auto pin = ctx_.store.get(issuer_pin_key(client.id));
    if (pin && *pin && **pin == issuer) return;
    if (auto ok = ctx_.store.put(issuer_pin_key(client.id),
                                 "mcp-auth: client " + client.id + " belongs to " + issuer, issuer);
        !ok)
        ctx_.log.info("could not keep the authorization server of client " + client.id + " (" +
                      ok.error().message + "); it is pinned again at the next login");
}

Status Authenticator::authenticate_client(const Client& client, const std::string& issuer,
                                          HeaderList& headers, QueryParams& form) {
    // The one place client credentials are added to a request.
    if (pinned_client(client))
        if (auto ok = check_issuer_pin(client, issuer); !ok) return ok.error();
    auto drop_client_id = [&] {
        form.erase(std::remove_if(form.begin(), form.end(),
                                  [](const auto& p) { return p.first == "client_id"; }),
                   form.end());
    };
    if (client.method == "client_secret_basic") {
        // RFC 6749 §2.3.1: the id travels in the header only.
        headers.push_back({"Authorization", basic_auth(client.id, client.secret)});
        drop_client_id();
    } else if (client.method == "client_secret_post") {
        drop_client_id();
        form.emplace_back("client_id", client.id);
        form.emplace_back("client_secret", client.secret);
    } else if (client.method == "private_key_jwt") {
        // RFC 7523 §2.2; the audience is the authorization server's issuer.
        long long now = ctx_.clock.now();
        nlohmann::json claims = {{"iss", client.id}, {"sub", client.id}, {"aud", issuer},
                                 {"iat", now},       {"exp", now + 60},  {"jti", make_state()}};
        auto assertion = sign_jwt(claims, options_.client_assertion_key);
        if (!assertion) return assertion.error();
        drop_client_id();
        form.emplace_back("client_id", client.id);
        form.emplace_back("client_assertion_type",
                          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.emplace_back("client_assertion", *assertion);
    } else if (std::none_of(form.begin(), form.end(),
                            [](const auto& p) { return p.first == "client_id"; })) {
        form.emplace_back("client_id", client.id);  // a public client names itself
    }
    return Ok{};
}

Authenticator::Client Authenticator::client_of(const TokenRecord& record) {
    Client client{record.client_id, client_secret_for(record.issuer, record.client_id)};
    client.method = !record.client_auth.empty() ? record.client_auth
                    : client.secret.empty()     ? "none"
                                                : "client_secret_basic";
    return client;
}

Expected<oauth::TokenSet> Authenticator::call_token_endpoint(const std::string& endpoint,
                                                             QueryParams form, const Client& client,
                                                             const std::string& issuer,
                                                             bool* unavailable) {
    HeaderList headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                          {"Accept", "application/json"}};
    if (auto ok = authenticate_client(client, issuer, headers, form); !ok) return ok.error();
    auto res = ctx_.http.fetch(endpoint, "POST", headers, form_encode(form), options_.http);
    if (unavailable)
        *unavailable = res.error.empty() ? res.status >= 500 || res.status == 429 : !res.timed_out;
    if (!res.error.empty())
        return make_error(res.timed_out ? ErrorKind::Timeout : ErrorKind::Network,
                          "could not reach the authorization server's token endpoint (" +
                              res.error + "); the stored login is kept, try again later");
    auto tokens = oauth::parse_token_response(res.status, res.body, ctx_.clock.now());
    if (tokens && pinned_client(client)) pin_issuer(client, issuer);
    return tokens;
}

TokenRecord Authenticator::record_from(const oauth::TokenSet& tokens, const Discovery& d,
                                       const Client& client, const std::string& grant,
                                       const std::string& requested_scope) const {
    TokenRecord r;
    r.server = server();
    r.issuer = d.server.issuer;
    r.client_id = client.id;
    r.grant = grant;
    r.access_token = tokens.access_token;
    r.refresh_token = tokens.refresh_token;
    r.scope = tokens.scope.empty() ? requested_scope : tokens.scope;
    r.requested_scope = requested_scope;
    r.expires_at = tokens.expires_at;
    r.obtained_at = ctx_.clock.now();
    r.token_endpoint = d.server.token_endpoint;
    r.revocation_endpoint = d.server.revocation_endpoint;
    r.resource = d.resource;
    r.client_auth = client.method;
    for (const auto& token : {tokens.id_token, tokens.access_token}) {
        if (auto claims = jwt_claims(token)) r.identity = identity_from_claims(*claims);
        if (!r.identity.empty()) break;
    }
    if (r.identity.empty()) r.identity = client.id;
    return r;
}

// --- logins ----------------------------------------------------------------------------

Expected<TokenRecord> Authenticator::machine_login(const Discovery& d, const std::string& scope) {
    if (options_.client_id.empty())
        return make_error(ErrorKind::Invalid, "--client-credentials needs --client-id");
    Client client{options_.client_id, client_secret_for(d.server.issuer, options_.client_id)};
    bool has_key = !options_.client_assertion_key.empty();
    if (client.secret.empty() && !has_key)
        return make_error(ErrorKind::Invalid,
                          "no client secret for " + client.id +
                              ": set MCP_AUTH_CLIENT_SECRET (it is then kept in the keychain), or "
                              "pass --client-assertion-key");
    client.method = oauth::choose_client_auth(!client.secret.empty(), has_key, "",
                                              d.server.token_endpoint_auth_methods_supported);
    auto tokens = call_token_endpoint(d.server.token_endpoint,
                                      oauth::client_credentials_form(scope, d.resource), client,
                                      d.server.issuer);
    if (!tokens) return tokens.error();
    if (!options_.client_secret.empty() && !has_key) {
        // Keep the secret for later runs, so it need not stay in the environment.
        auto ok = ctx_.store.put(client_secret_key(d.server.issuer, client.id),
                                 "mcp-auth client secret for " + client.id, client.secret);
        if (!ok) return ok.error();
    }
    return record_from(*tokens, d, client, "client_credentials", scope);
}

Expected<TokenRecord> Authenticator::browser_login(const Discovery& d, const std::string& scope,
                                                   bool allow_browser) {
    if (!allow_browser || !ctx_.browser.available())
        return login_required(
            shown(), "Logging in to " + shown() + " needs a browser, and none can be opened here.");
    for (int attempt = 0;; ++attempt) {
        // Bind the callback port before anything can redirect to it.
        auto listener = ctx_.callbacks.listen(options_.callback_port);
        if (!listener) return listener.error();
        {
            std::lock_guard<std::mutex> lock(cancel_mutex_);
            if (cancel_flag_) return login_required(shown(), "The login was cancelled.");
            active_listener_ = listener->get();
        }
        auto client = client_for(d, (*listener)->redirect_uri());
        if (!client) return client.error();
        auto request = oauth::make_authorization_request(
            d.server, client->id, (*listener)->redirect_uri(), scope, d.resource, make_state(),
            make_pkce_verifier());
        // The browser (whose command line any local user can read) and the log get only
        // the listener's one-time start page, never the URL with `state` and the challenge.
        auto start_url = (*listener)->start_url(request.url);
        if (!start_url) return start_url.error();
        ctx_.log.info("opening the browser to log in to " + shown() +
                      " (scope: " + (scope.empty() ? "default" : scope) + ")");
        // One line each: the message, then the URL alone.
        if (!ctx_.browser.open(*start_url))
            ctx_.log.info("could not open the browser. Please visit this URL to log in:");
        else
            ctx_.log.info("if the browser does not open, visit:");
        ctx_.log.info("  " + *start_url);

        auto query = (*listener)->wait(options_.login_timeout, [&](const QueryParams& q) {
            auto code = oauth::check_callback(q, request);
            if (code)
                return CallbackSession::Verdict{
                    true, true, "mcp-auth received the login for " + shown() + "."};
            // A response that is not ours (wrong state) does not end this login.
            bool ours =
                oauth::constant_time_equals(query_value(q, "state").value_or(""), request.state);
            return CallbackSession::Verdict{ours, false, code.error().message};
        });
        {
            std::lock_guard<std::mutex> lock(cancel_mutex_);
            active_listener_ = nullptr;
        }
        // The listener stays up until this login ends (it closes with `listener`): a repeated
        // callback meanwhile gets a page saying the link was used, not a refused connection.
        if (!query) return query.error();
        auto code = oauth::check_callback(*query, request);
        if (!code) return code.error();
        auto tokens =
            call_token_endpoint(d.server.token_endpoint,
                                oauth::code_exchange_form(*code, request, client->id, d.resource),
                                *client, d.server.issuer);
        if (!tokens && is_auth_code(tokens.error(), {"invalid_client", "unauthorized_client"}) &&
            client->registered && attempt == 0) {
            // A registration the server forgot: register again and log in once more.
            ctx_.log.info("the authorization server no longer knows client " + client->id +
                          "; registering again");
            (void)ctx_.store.erase(ClientRecord::key(d.server.issuer));
            continue;
        }
        if (!tokens) return tokens.error();
        return record_from(*tokens, d, *client, "authorization_code", scope);
    }
}

Expected<TokenRecord> Authenticator::login_locked(const std::string& challenge,
                                                  const std::string& scope_override,
                                                  bool allow_browser, bool user_asked) {
    // The store must work before anyone is sent to a browser.
    if (auto existing = load_locked(); !existing) return existing.error();
    auto d = discover(challenge);
    if (!d) return d.error();
    std::string challenge_scope;
    if (auto bearer = find_bearer_challenge(challenge)) challenge_scope = bearer->param("scope");
    std::string scope =
        scope_override.empty()
            ? oauth::initial_scope(options_.scope, challenge_scope, d->resource_scopes, d->server)
            : scope_override;
    if (options_.client_credentials || enterprise()) {
        // A login without a person: after `mcp-auth logout` removed this process's login,
        // only a login the user asks for brings one back (a browser login is one: the
        // user sees it and completes it).
        if (logged_out_ && !user_asked)
            return login_required(shown(), "The login for " + shown() +
                                               " was removed (mcp-auth logout); this process "
                                               "does not log in again on its own.");
        auto record =
            options_.client_credentials ? machine_login(*d, scope) : enterprise_login(*d, scope);
        if (!record) return record.error();
        if (auto ok = save(*record); !ok) return ok.error();
        return record;
    }
    if (ctx_.agent) return login_via_agent(challenge, scope, allow_browser);
    // In this process: one login per server at a time, across processes too.
    std::unique_ptr<ProcessLock> lock;
    std::string before = current_ ? current_->access_token : "";
    if (!ctx_.holds_login_lock) {
        auto opened = ctx_.locks.open(server(), "login");
        if (!opened) return opened.error();
        lock = std::move(*opened);
        if (!lock->try_lock()) {
            ctx_.log.info("another login to " + shown() +
                          " is in progress; waiting for it to finish");
            auto ok =
                lock->lock(true, options_.login_timeout + std::chrono::seconds(15), &cancel_flag_);
            if (!ok) return login_required(shown(), "The other login did not finish.");
            if (auto done = fresh_login_since(before)) return *done;
        }
    }
    auto record = browser_login(*d, scope, allow_browser);
    if (!record) return record.error();
    if (auto ok = save(*record); !ok) return ok.error();
    return record;
}

std::optional<TokenRecord> Authenticator::fresh_login_since(const std::string& before) {
    auto record = load_locked(true);  // another process may have written the store
    if (record && *record && (*record)->access_token != before && (*record)->fresh(ctx_.clock.now(), 0))
        return **record;
    return std::nullopt;
}

Expected<TokenRecord> Authenticator::login_via_agent(const std::string& challenge,
                                                     const std::string& scope, bool allow_browser) {
    if (!allow_browser || !ctx_.browser.available())
        return login_required(
            shown(), "Logging in to " + shown() + " needs a browser, and none can be opened here.");
    std::string before = current_ ? current_->access_token : "";
    auto opened = ctx_.locks.open(server(), "login");
    if (!opened) return opened.error();
    auto& lock = *opened;
    if (lock->try_lock()) {
        // Someone may have finished a login between our 401 and this lock.
        if (auto done = fresh_login_since(before)) return *done;
        // The login runs in a process of its own that inherits this lock: a host that
        // kills this instance does not kill the login, and the tab the user has open
        // still completes it. Every instance waits for the lock to come free.
        if (auto ok = ctx_.agent->start(*lock, challenge, scope); !ok) return ok.error();
        lock->release();
        ctx_.log.info("logging in to " + shown() +
                      " in the browser; waiting for the login to finish");
    } else {
        ctx_.log.info("a login to " + shown() +
                      " is in progress in another mcp-auth process; waiting for it");
    }
    // The agent's hold on the lock ends with its process: wait on a descriptor of our own.
    auto waiter = ctx_.locks.open(server(), "login");
    if (!waiter) return waiter.error();
    auto ok =
        (*waiter)->lock(false, options_.login_timeout + std::chrono::seconds(15), &cancel_flag_);
    (*waiter)->release();
    if (!ok) return login_required(shown(), "No login arrived in time.");
    if (auto done = fresh_login_since(before)) return *done;
    return login_required(shown(), "The login in the browser did not complete.");
}
Expected<TokenRecord> Authenticator::login(const std::string& challenge, bool allow_browser) {
    auto lock = enter();
    return login_locked(challenge, "", allow_browser, true);
}

bool Authenticator::enterprise() const {
    return !options_.idp_token_endpoint.empty() || !options_.idp_issuer.empty();
}

Expected<TokenRecord> Authenticator::enterprise_login(const Discovery& d,
                                                      const std::string& scope) {
    // Enterprise-managed authorization (ID-JAG): the IdP's ID token is exchanged at the IdP
    // for an identity assertion grant (RFC 8693), which the MCP server's authorization
    // server takes as a JWT bearer grant (RFC 7523). No browser, no redirect to the AS.
    if (options_.idp_id_token.empty())
        return login_required(shown(),
                              "Enterprise login needs the identity provider's ID token in "
                              "MCP_AUTH_IDP_ID_TOKEN.");
    if (options_.client_id.empty())
        return make_error(ErrorKind::Invalid, "enterprise login needs --client-id (the client at " +
                                                  d.server.issuer + ")");
    std::string idp_endpoint = options_.idp_token_endpoint;
    if (idp_endpoint.empty()) {
        auto idp = fetch_server_metadata(options_.idp_issuer, true);
        if (!idp) return idp.error();
        idp_endpoint = idp->token_endpoint;
    }
    if (!options_.idp_token_endpoint.empty()) {
        // Named by the user (--idp-token-endpoint): the policy for such URLs. One from the
        // IdP's metadata was checked against --idp-issuer there.
        std::string error;
        auto url = parse_url(idp_endpoint, &error);
        if (!url)
            return make_error(ErrorKind::Invalid, "--idp-token-endpoint is invalid: " + error);
        if (auto refusal = check_url_policy(*url, options_.allow_http); !refusal.empty())
            return make_error(ErrorKind::Invalid, "--idp-token-endpoint: " + refusal);
    }
    QueryParams exchange = {
        {"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
        {"requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"},
        {"subject_token", options_.idp_id_token},
        {"subject_token_type", "urn:ietf:params:oauth:token-type:id_token"},
        {"audience", d.server.issuer},
        {"resource", d.resource.empty() ? Url{options_.server.scheme, options_.server.host,
                                              options_.server.port, options_.server.path()}
                                              .to_string()
                                        : d.resource}};
    if (!scope.empty()) exchange.emplace_back("scope", scope);
    if (!options_.idp_client_id.empty()) exchange.emplace_back("client_id", options_.idp_client_id);
    auto res = ctx_.http.fetch(
        idp_endpoint, "POST",
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
        form_encode(exchange), options_.http);
    if (!res.error.empty())
        return make_error(ErrorKind::Network,
                          "could not reach the identity provider: " + res.error);
    auto doc = parse_json(res.body);
    if (res.status != 200 || !doc.is_object() || !doc.contains("access_token") ||
        !doc["access_token"].is_string()) {
        auto refused =
            oauth::parse_token_response(res.status == 200 ? 400 : res.status, res.body, ctx_.clock.now());
        return make_error(ErrorKind::Auth, "the identity provider refused the token exchange: " +
                                               (refused ? std::string("no assertion returned")
                                                        : refused.error().message));
    }
    Client client{options_.client_id, client_secret_for(d.server.issuer, options_.client_id)};
    client.method =
        oauth::choose_client_auth(!client.secret.empty(), !options_.client_assertion_key.empty(),
                                  "", d.server.token_endpoint_auth_methods_supported);
    QueryParams grant = {{"grant_type", kJwtBearer},
                         {"assertion", doc["access_token"].get<std::string>()},
                         {"client_id", client.id}};
    if (!scope.empty()) grant.emplace_back("scope", scope);
    auto tokens = call_token_endpoint(d.server.token_endpoint, grant, client, d.server.issuer);
    if (!tokens) return tokens.error();
    return record_from(*tokens, d, client, kJwtBearer, scope);
}

// --- refresh -----------------------------------------------------------------------------

std::unique_lock<std::mutex> Authenticator::enter() {
    auto arrived = ctx_.clock.steady();
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_ = arrived;
    return lock;
}

Expected<TokenRecord> Authenticator::refresh_locked(const TokenRecord& stale) {
    if (refresh_failure_ && refresh_failure_->access_token == stale.access_token &&
        arrived_ < refresh_failure_->at)
        return refresh_failure_->error;  // it failed while this caller waited for its turn
    // One refresh per server at a time, across processes: N instances waking up with an
    // expired token send one refresh, and none loses the rotated refresh token. `logout`
    // takes the same lock, so a refresh never writes back a login removed meanwhile.
    // The lock is never taken from a live holder: every holder ends by its own deadlines.
    auto lock = ctx_.locks.open(server(), "refresh");
    if (!lock) {
        ctx_.log.debug("refreshing without the refresh lock: " + lock.error().message);
    } else if (auto ok = (*lock)->lock(true, refresh_lock_budget(options_.http), &cancel_flag_);
               !ok) {
        if (ok.error().kind != ErrorKind::Timeout) return ok.error();
        return make_error(ErrorKind::Timeout,
                          "another mcp-auth process is still refreshing the login for " + shown() +
                              "; not refreshing at the same time (a rotated refresh token would "
                              "be lost). Try again in a moment.");
    }
    auto result = refresh_holding_lock(stale);
    if (!result &&
        (result.error().kind == ErrorKind::Network || result.error().kind == ErrorKind::Timeout))
        refresh_failure_ =
            RefreshFailure{stale.access_token, result.error(), ctx_.clock.steady()};
    else
        refresh_failure_.reset();
    return result;
}

Expected<TokenRecord> Authenticator::refresh_holding_lock(const TokenRecord& stale) {
    // A new refresh token is never used before it is stored.
    if (auto ok = retry_unsaved(true); !ok)
        return make_error(ErrorKind::StoreUnavailable,
                          "the refreshed login for " + shown() +
                              " could not be saved, and its new refresh token is not used "
                              "until it is: " +
                              ok.error().message);
    auto latest = load_locked(true);
    if (!latest) return latest.error();
    if (!*latest)  // logged out meanwhile: the copy in memory is not written back
        return login_required(shown(), "The login for " + shown() +
                                           " was removed (mcp-auth logout); this process does "
                                           "not bring it back.");
    if ((*latest)->access_token != stale.access_token &&
        (*latest)->fresh(ctx_.clock.now(), refresh_margin(**latest)))
        return **latest;  // another process refreshed while we waited
    const TokenRecord record = **latest;
    if (record.grant == "client_credentials" || record.grant == kJwtBearer) {
        // Nothing to refresh with: these grants are simply asked again.
        auto d = discover("");
        if (!d) return d.error();
        auto fresh = record.grant == kJwtBearer ? enterprise_login(*d, record.scope)
                                                : machine_login(*d, record.scope);
        if (!fresh) return fresh.error();
        if (auto ok = save(*fresh); !ok) return ok.error();
        return fresh;
    }
    if (record.refresh_token.empty())
        return login_required(shown(), "The login for " + shown() + " has expired.");
    if (auto ok =
            check_stored_endpoint(record.token_endpoint, "token endpoint kept in the stored login");
        !ok)
        return login_required(
            shown(), "Not refreshing the login for " + shown() + ": " + ok.error().message + ".");
    Client client = client_of(record);
    auto tokens = refresh_grant(record, client);
    if (!tokens) {
        const Error& e = tokens.error();
        if (is_auth_code(e, {"invalid_client", "unauthorized_client"})) {
            // The server forgot our registration: the next login registers anew.
            if (auto reg = registration(record.issuer);
                reg && *reg && (*reg)->client_id == record.client_id)
                (void)ctx_.store.erase(ClientRecord::key(record.issuer));
        }
        if (is_auth_code(
                e, {"invalid_grant", "invalid_scope", "invalid_client", "unauthorized_client"}))
            return login_required(shown(), "The authorization server ended the login for " +
                                               shown() + " (" + e.code + ").");
        return e;
    }
    TokenRecord updated = record;
    updated.access_token = tokens->access_token;
    if (!tokens->refresh_token.empty()) updated.refresh_token = tokens->refresh_token;  // rotation
    if (!tokens->scope.empty()) updated.scope = tokens->scope;
    updated.expires_at = tokens->expires_at;
    updated.obtained_at = ctx_.clock.now();
    if (!tokens->id_token.empty())
        if (auto claims = jwt_claims(tokens->id_token);
            claims && !identity_from_claims(*claims).empty())
            updated.identity = identity_from_claims(*claims);
    if (auto ok = save(updated); !ok) {
        // The old refresh token is spent: the new one exists only here now. Keep it, use
        // the new access token, and save again before any further refresh.
        ctx_.log.info("could not save the refreshed login for " + shown() + " (" +
                      ok.error().message +
                      "); using it for now and saving it again at the next request");
        unsaved_ = updated;
        current_ = updated;
        loaded_ = true;
        return updated;
    }
    ctx_.log.debug("refreshed the token for " + shown());
    return updated;
}

Expected<oauth::TokenSet> Authenticator::refresh_grant(const TokenRecord& record,
                                                       const Client& client) {
    // An authorization server that is down (5xx, 429, refused connection) does not end a
    // login: a few tries, then a clear error; a browser only when the grant is refused.
    for (int attempt = 1;; ++attempt) {
        bool unavailable = false;
        auto tokens = call_token_endpoint(
            record.token_endpoint,
            oauth::refresh_form(record.refresh_token, client.id, record.resource), client,
            record.issuer, &unavailable);
        if (tokens || !unavailable) return tokens;
        if (attempt == kRefreshAttempts || cancel_flag_)
            return make_error(ErrorKind::Network,
                              "the authorization server is unavailable, the login for " + shown() +
                                  " is kept: " + tokens.error().message + " (" +
                                  std::to_string(attempt) +
                                  " tries). Try again later; no new login is needed.",
                              tokens.error().code);
        ctx_.log.debug("refresh for " + shown() + " failed (" + tokens.error().message +
                       "); trying again");
        ctx_.clock.sleep(kRefreshBackoff[attempt - 1], cancel_flag_);
    }
}

Expected<TokenRecord> Authenticator::valid_token() {
    auto lock = enter();
    if (unsaved_) (void)retry_unsaved();
    auto record = load_locked();
    if (!record) return record.error();
    if (!*record) return login_required(shown(), "You are not logged in to " + shown() + ".");
    const TokenRecord r = **record;
    if (r.fresh(ctx_.clock.now(), refresh_margin(r))) return r;
    auto refreshed = refresh_locked(r);
    if (!refreshed &&
        (refreshed.error().kind == ErrorKind::Network ||
         refreshed.error().kind == ErrorKind::Timeout) &&
        r.fresh(ctx_.clock.now(), 0)) {
        // The authorization server is unreachable, but the token still works for a while.
        ctx_.log.debug("could not refresh yet (" + refreshed.error().message +
                       "); using the current token");
        return r;
    }
    return refreshed;
}

Expected<TokenRecord> Authenticator::recover(const std::string& challenge,
                                             const std::string& rejected, bool allow_browser) {
    auto lock = enter();
    if (unsaved_) (void)retry_unsaved();
    auto record = load_locked();
    if (!record) return record.error();
    if (*record && (*record)->access_token != rejected && (*record)->fresh(ctx_.clock.now(), 0))
        return **record;  // another request already logged in or refreshed
    // The rejected token, or an expired one (the request went without a token because its
    // refresh failed): refresh it. Only a refused grant leads to a new login.
    bool renewable =
        *record && (!(*record)->refresh_token.empty() || (*record)->grant == "client_credentials" ||
                    (*record)->grant == kJwtBearer);
    if (renewable && ((*record)->access_token == rejected || !(*record)->fresh(ctx_.clock.now(), 0))) {
        const TokenRecord stale = **record;
        // Sent without a token because the refresh just failed (a success clears the
        // failure): the 401 is that failure's consequence, not news; no second round.
        if (rejected.empty() && refresh_failure_ &&
            refresh_failure_->access_token == stale.access_token)
            return refresh_failure_->error;
        auto refreshed = refresh_locked(stale);
        if (refreshed || refreshed.error().kind != ErrorKind::LoginRequired) return refreshed;
        ctx_.log.info(refreshed.error().message);
    }
    return login_locked(challenge, "", allow_browser, false);
}

Expected<TokenRecord> Authenticator::step_up(const std::string& challenge,
                                             const std::string& rejected, bool allow_browser) {
    auto lock = enter();
    auto bearer = find_bearer_challenge(challenge);
    std::string required = bearer ? bearer->param("scope") : "";
    auto record = load_locked();
    if (!record) return record.error();
    std::string granted = *record ? (*record)->scope : "";
    std::string requested = *record ? (*record)->requested_scope : "";
    std::string who = *record ? (*record)->identity : "you";
    if (required.empty())
        return make_error(ErrorKind::Auth,
                          "the server refused the request for lack of a scope it did not name.");
    if (*record && (*record)->access_token != rejected &&
        oauth::missing_scopes(required, granted).empty())
        return **record;  // another request already stepped up
    auto missing = oauth::missing_scopes(required, granted);
    // The union of what was asked for before, what was granted, and what is required.
    std::string wanted = oauth::scope_union(oauth::scope_union(requested, granted), required);
    auto refused = [&](const std::vector<std::string>& lacking) {
        return make_error(
            ErrorKind::Auth,
            "the server requires the scope " + describe_scope(lacking) +
                ", which the authorization server did not grant to " + who +
                ". Ask the server's administrator for access, then run `mcp-auth login " + shown() +
                " --force`.",
            "insufficient_scope");
    };
    // Asked for before and not granted: the authorization server said no; another
    // browser round would only say it again.
    bool asked_before = !missing.empty() && oauth::missing_scopes(required, requested).empty();
    if (missing.empty() || asked_before || stepped_up_.count(wanted))
        return refused(missing.empty() ? oauth::split_scopes(required) : missing);
    stepped_up_.insert(wanted);
    ctx_.log.info("the server needs the scope " + describe_scope(missing) +
                  "; logging in again to request it");
    auto fresh = login_locked(challenge, wanted, allow_browser, false);
    if (!fresh) return fresh.error();
    who = fresh->identity;
    if (auto lacking = oauth::missing_scopes(required, fresh->scope); !lacking.empty())
        return refused(lacking);
    return fresh;
}

void Authenticator::cancel() {
    std::lock_guard<std::mutex> lock(cancel_mutex_);
    cancel_flag_ = true;
    if (active_listener_) active_listener_->cancel();
}

// --- logout ----------------------------------------------------------------------------

Expected<bool> Authenticator::logout(const TokenRecord& record) {
    auto lock = enter();
    // Under the refresh lock: a refresh in flight elsewhere ends first (and saves what it
    // got), and every later one re-reads the store, finds no login and writes nothing.
    auto refresh_lock = ctx_.locks.open(server(), "refresh");
    if (refresh_lock)
        if (auto ok =
                (*refresh_lock)->lock(true, refresh_lock_budget(options_.http), &cancel_flag_);
            !ok)
            ctx_.log.info("logging out of " + shown() + " while another mcp-auth process (" +
                          ok.error().message + ") may still be refreshing it");
    bool revoked = !record.revocation_endpoint.empty();
    if (revoked) {
        if (auto ok = check_stored_endpoint(record.revocation_endpoint,
                                            "revocation endpoint kept in the stored login");
            !ok) {
            ctx_.log.info("not revoking the login for " + shown() + ": " + ok.error().message +
                          "; deleting it locally");
            revoked = false;
        }
    }
    if (revoked) {
        Client client = client_of(record);
        // Revoking the refresh token ends the grant (RFC 7009 §2.1); the access token is
        // revoked only when there is no refresh token (a JWT one often cannot be).
        bool refresh = !record.refresh_token.empty();
        QueryParams form =
            oauth::revocation_form(refresh ? record.refresh_token : record.access_token,
                                   refresh ? "refresh_token" : "access_token");
        HeaderList headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
        // A client that may not authenticate there (its issuer pin) does not keep the
        // user from logging out: the login is deleted without revoking.
        auto authenticated = authenticate_client(client, record.issuer, headers, form);
        auto res = authenticated ? ctx_.http.fetch(record.revocation_endpoint, "POST", headers,
                                              form_encode(form), options_.http)
                                 : HttpResponse{0, {}, {}, authenticated.error().message};
        if (!res.error.empty() || res.status != 200) {
            ctx_.log.info("could not revoke the login at " +
                          display_url(record.revocation_endpoint) + " (" +
                          (res.error.empty() ? "HTTP " + std::to_string(res.status) : res.error) +
                          "); deleting it locally anyway");
            revoked = false;
        }
    }
    auto ok = ctx_.store.erase(record.key());
    if (!ok) return ok.error();
    current_.reset();
    unsaved_.reset();
    loaded_ = false;
    note_change();
    return revoked;
}

// --- the relay's view ---------------------------------------------------------------

std::string BearerTokenSource::current() {
    auto token = auth_.valid_token();
    if (token) return "Bearer " + token->access_token;
    // Not fatal yet: the server may not need a token. A 401 brings the error to the client.
    if (token.error().kind != ErrorKind::LoginRequired && !warned_.exchange(true))
        log_.debug(token.error().message);
    return {};
}

Expected<std::string> BearerTokenSource::renew(int status, const std::string& www_authenticate,
                                               const std::string& sent) {
    std::string rejected = sent.rfind("Bearer ", 0) == 0 ? sent.substr(7) : sent;
    auto token = status == 403 ? auth_.step_up(www_authenticate, rejected, allow_browser_)
                               : auth_.recover(www_authenticate, rejected, allow_browser_);
    if (!token) return token.error();
    return "Bearer " + token->access_token;
}

}  // namespace mcp_auth
