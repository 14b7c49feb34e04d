#pragma once
// The few cryptographic primitives the OAuth client needs (OpenSSL underneath).
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/expected.h"

namespace mcp_auth {

// `n` bytes from the OS's CSPRNG. Throws std::runtime_error if none can be had.
std::string random_bytes(size_t n);
// SHA-256 digest (32 raw bytes).
std::string sha256(std::string_view data);

// PKCE (RFC 7636): a verifier of 43 base64url characters from 32 random bytes, and its
// S256 challenge.
std::string make_pkce_verifier();
std::string pkce_challenge_s256(std::string_view verifier);
// An unguessable opaque value for `state`.
std::string make_state();

// A compact JWS over `claims`, signed with the private key in the PEM file `key_file`:
// ES256 for a P-256 key, RS256 for an RSA key (RFC 7518). For private_key_jwt client
// authentication (RFC 7523).
Expected<std::string> sign_jwt(const nlohmann::json& claims, const std::string& key_file);

}  // namespace mcp_auth
