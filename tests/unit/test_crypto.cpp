#include <doctest/doctest.h>

#include "mcp_auth/base64.h"
#include "mcp_auth/crypto.h"

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
