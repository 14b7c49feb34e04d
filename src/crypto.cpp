#include "mcp_auth/crypto.h"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mcp_auth/base64.h"

namespace mcp_auth {

std::string random_bytes(size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("the system's random number generator failed");
    return out;
}

std::string sha256(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    return std::string(reinterpret_cast<char*>(digest), len);
}

std::string make_pkce_verifier() {
    return base64url_encode(random_bytes(32));
}

std::string pkce_challenge_s256(std::string_view verifier) {
    return base64url_encode(sha256(verifier));
}

std::string make_state() {
    return base64url_encode(random_bytes(24));
}

}  // namespace mcp_auth
