#include <doctest/doctest.h>

#include "core/base64.h"

using namespace mcp_auth;

TEST_CASE("base64_encode: RFC 4648 section 10 vectors") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode("fooba") == "Zm9vYmE=");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64url_encode has no padding and the URL alphabet") {
    CHECK(base64url_encode("\xfb\xff") == "-_8");
    CHECK(base64url_encode("f") == "Zg");
}

TEST_CASE("base64_decode round-trips and rejects junk") {
    for (std::string s : {"", "a", "ab", "abc", "Hello, \xe4\xb8\x96\xe7\x95\x8c"}) {
        CHECK(base64_decode(base64_encode(s)) == s);
        CHECK(base64_decode(base64url_encode(s)) == s);
    }
    CHECK_FALSE(base64_decode("a*b="));
    CHECK_FALSE(base64_decode("abcde"));
}
