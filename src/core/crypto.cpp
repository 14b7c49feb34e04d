#include "core/crypto.h"

#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstdio>
#include <memory>

#include "core/base64.h"

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

Expected<std::string> sign_jwt(const nlohmann::json& claims, const std::string& key_file) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(key_file.c_str(), "r"), std::fclose);
    if (!file)
        return make_error(ErrorKind::Invalid,
                          "could not read the client assertion key " + key_file);
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
        PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) return make_error(ErrorKind::Invalid, key_file + " holds no PEM private key");
    int type = EVP_PKEY_get_base_id(key.get());
    bool ec = type == EVP_PKEY_EC;
    if (!ec && type != EVP_PKEY_RSA)
        return make_error(ErrorKind::Invalid,
                          key_file + ": only P-256 (ES256) and RSA (RS256) keys are supported");
    if (ec && EVP_PKEY_get_bits(key.get()) != 256)
        return make_error(ErrorKind::Invalid, key_file + ": an EC key must be on P-256 for ES256");
    nlohmann::json header = {{"alg", ec ? "ES256" : "RS256"}, {"typ", "JWT"}};
    std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
        return make_error(ErrorKind::Invalid, "could not sign the client assertion");
    std::string signature(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
        return make_error(ErrorKind::Invalid, "could not sign the client assertion");
    signature.resize(len);
    if (ec) {
        // OpenSSL writes ECDSA signatures in DER; JWS wants R and S as 32 bytes each.
        const unsigned char* p = reinterpret_cast<const unsigned char*>(signature.data());
        std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> sig(
            d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)), ECDSA_SIG_free);
        if (!sig) return make_error(ErrorKind::Invalid, "could not sign the client assertion");
        std::string raw(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32,
                     32);
        signature = raw;
    }
    return input + "." + base64url_encode(signature);
}

}  // namespace mcp_auth
