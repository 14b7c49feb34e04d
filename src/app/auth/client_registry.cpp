#include "app/auth/client_registry.h"

#include "core/json_limits.h"
#include "core/oauth_flow.h"

namespace mcp_auth {

ClientRegistry::ClientRegistry(const AuthOptions& options, SecretStore& store, HttpClient& http,
                               Log& log)
    : options_(options), store_(store), http_(http), log_(log) {}

std::string ClientRegistry::shown() const {
    return options_.server.display();
}

Expected<std::optional<ClientRecord>> ClientRegistry::registration(const std::string& issuer) {
    auto stored = store_.get(ClientRecord::key(issuer));
    if (!stored) return stored.error();
    if (!*stored) return std::optional<ClientRecord>();
    auto record = ClientRecord::from_json(**stored);
    if (!record || record->issuer != issuer) return std::optional<ClientRecord>();
    return record;
}

std::string ClientRegistry::secret_for(const std::string& issuer, const std::string& client_id) {
    if (!options_.client_secret.empty() && client_id == options_.client_id)
        return options_.client_secret;
    if (auto kept = store_.get(client_secret_key(issuer, client_id)); kept && *kept) return **kept;
    if (auto reg = registration(issuer); reg && *reg && (*reg)->client_id == client_id)
        return (*reg)->client_secret;
    return {};
}

Expected<Client> ClientRegistry::client_for(const Discovery& d, const std::string& redirect_uri) {
    const std::string& issuer = d.server.issuer;
    const auto& methods = d.server.token_endpoint_auth_methods_supported;
    bool has_key = !options_.client_assertion_key.empty();
    if (!options_.client_id.empty()) {
        std::string secret = secret_for(issuer, options_.client_id);
        return Client{options_.client_id, secret, false,
                      oauth::choose_client_auth(!secret.empty(), has_key, "", methods)};
    }
    // A client ID metadata document only where the authorization server says it takes
    // one (the spec's order: pre-registered, metadata document, dynamic registration): a
    // distribution may ship a URL for every server, and one that does not support it
    // would refuse the login.
    bool cimd = !options_.client_metadata_url.empty();
    if (cimd && d.server.client_id_metadata_document_supported)
        return Client{options_.client_metadata_url, "", false,
                      oauth::choose_client_auth(false, has_key, "", methods)};
    if (cimd)
        log_.debug("the authorization server " + issuer +
                   " does not advertise client ID metadata documents; not using " +
                   options_.client_metadata_url + ", registering a client instead");
    auto stored = registration(issuer);
    if (!stored) return stored.error();
    if (*stored)
        return Client{(*stored)->client_id, (*stored)->client_secret, true,
                      oauth::choose_client_auth(!(*stored)->client_secret.empty(), false,
                                                (*stored)->auth_method, methods)};
    if (d.server.registration_endpoint.empty())
        return make_error(
            ErrorKind::Invalid,
            "the authorization server " + issuer + " does not offer dynamic client registration" +
                (cimd ? " and does not advertise client ID metadata documents (so " +
                            options_.client_metadata_url + " cannot be used there)"
                      : std::string()) +
                ". Register mcp-auth there as a public native client with the redirect URI "
                "http://127.0.0.1/callback and pass --client-id <id>.");
    auto body = json_text(oauth::registration_request(redirect_uri));
    auto res = http_.fetch(d.server.registration_endpoint, "POST",
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
    if (auto ok = store_.put(ClientRecord::key(issuer), "mcp-auth client registration at " + issuer,
                             json_text(record.to_json()));
        !ok)
        return ok.error();
    log_.debug("registered client " + record.client_id + " at " + issuer);
    return Client{record.client_id, record.client_secret, true,
                  oauth::choose_client_auth(!record.client_secret.empty(), false,
                                            record.auth_method, methods)};
}

Client ClientRegistry::client_of(const TokenRecord& record) {
    Client client{record.client_id, secret_for(record.issuer, record.client_id)};
    client.method = record.client_auth      ? *record.client_auth
                    : client.secret.empty() ? ClientAuth::None
                                            : ClientAuth::SecretBasic;
    return client;
}

void ClientRegistry::forget(const std::string& issuer, const std::string& client_id) {
    if (auto reg = registration(issuer); reg && *reg && (*reg)->client_id == client_id)
        (void)store_.erase(ClientRecord::key(issuer));
}

Status ClientRegistry::keep_secret(const std::string& issuer, const std::string& client_id,
                                   const std::string& secret) {
    return store_.put(client_secret_key(issuer, client_id),
                      "mcp-auth client secret for " + client_id, secret);
}

}  // namespace mcp_auth
