#pragma once
// The few cryptographic primitives the OAuth client needs (OpenSSL underneath).
#include <string>
#include <string_view>

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

}  // namespace mcp_auth
