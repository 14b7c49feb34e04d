#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdio>

#include "core/base64.h"
#include "core/crypto.h"

using namespace mcp_auth;

TEST_CASE("pkce_challenge_s256: RFC 7636 Appendix B") {
    CHECK(pkce_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
          "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST_CASE("make_pkce_verifier and make_state are fresh and well-formed") {
    auto a = make_pkce_verifier();
    auto b = make_pkce_verifier();
    CHECK(a.size() == 43);  // RFC 7636 §4.1: 43 to 128 characters
    CHECK(a != b);
    CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    CHECK(make_state() != make_state());
    CHECK(make_state().size() >= 32);
}

TEST_CASE("sha256 of the empty string") {
    CHECK(base64_encode(sha256("")) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST_CASE("sign_jwt: ES256 signatures are raw R||S and verify") {
    // A throwaway P-256 key made for this test.
    std::string path = "/tmp/mcp-auth-test-es256.pem";
    {
        EVP_PKEY* key = EVP_EC_gen("P-256");
        REQUIRE(key);
        FILE* f = std::fopen(path.c_str(), "w");
        REQUIRE(f);
        PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
        EVP_PKEY_free(key);
    }
    auto jwt = sign_jwt({{"iss", "c"}, {"aud", "https://idp"}}, path);
    REQUIRE(jwt);
    auto parts = std::count(jwt->begin(), jwt->end(), '.');
    CHECK(parts == 2);
    auto signature = base64_decode(jwt->substr(jwt->rfind('.') + 1));
    REQUIRE(signature);
    CHECK(signature->size() == 64);
    auto header = base64_decode(jwt->substr(0, jwt->find('.')));
    CHECK(header->find("ES256") != std::string::npos);
    std::remove(path.c_str());
    CHECK_FALSE(sign_jwt({}, "/nonexistent/key.pem"));
}
