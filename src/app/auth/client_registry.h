#pragma once
// The client identity mcp-auth uses at an authorization server, in this order: a
// pre-registered client (--client-id, its secret from the environment, the keychain or
// nowhere), a client ID metadata document URL (--client-metadata-url), a dynamic
// registration kept in the store per issuer, or a new dynamic registration (RFC 7591).
// A registration the authorization server forgot is dropped so the next login registers
// again.
#include <optional>
#include <string>

#include "app/auth/discovery.h"
#include "app/auth/options.h"
#include "core/credentials.h"
#include "core/expected.h"
#include "ports/http.h"
#include "ports/log.h"
#include "ports/secret_store.h"

namespace mcp_auth {

struct Client {
    std::string id;
    std::string secret;
    bool registered = false;  // came from dynamic registration (re-register on invalid_client)
    ClientAuth method = ClientAuth::None;  // how it authenticates at the token endpoint
};

class ClientRegistry {
public:
    ClientRegistry(const AuthOptions& options, SecretStore& store, HttpClient& http, Log& log);

    // The client to log in with at `d`'s authorization server, registering one when
    // needed (for `redirect_uri`).
    Expected<Client> client_for(const Discovery& d, const std::string& redirect_uri);
    // The client behind a stored login, with its method (older records: guessed).
    Client client_of(const TokenRecord& record);
    // The secret of `client_id` at `issuer`: the environment, the keychain, or its
    // registration; "" for a public client.
    std::string secret_for(const std::string& issuer, const std::string& client_id);
    // The dynamic registration kept for `issuer`, if any.
    Expected<std::optional<ClientRecord>> registration(const std::string& issuer);
    // The authorization server no longer knows `client_id`: its registration is dropped
    // (only if it is still the kept one).
    void forget(const std::string& issuer, const std::string& client_id);
    // Keeps a configured client's secret in the store, so it need not stay in the
    // environment.
    Status keep_secret(const std::string& issuer, const std::string& client_id,
                       const std::string& secret);

private:
    std::string shown() const;

    const AuthOptions& options_;
    SecretStore& store_;
    HttpClient& http_;
    Log& log_;
};

}  // namespace mcp_auth
