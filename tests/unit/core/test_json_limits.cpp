#include <doctest/doctest.h>

#include <string>

#include "core/json_limits.h"

using namespace mcp_auth;

namespace {
std::string nested(size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}
}  // namespace

TEST_CASE("json_text_deeper_than") {
    CHECK_FALSE(json_text_deeper_than("{}", 1));
    CHECK(json_text_deeper_than("{\"a\":[1]}", 1));
    CHECK_FALSE(json_text_deeper_than("{\"a\":[1]}", 2));
    SUBCASE("brackets inside strings do not count") {
        CHECK_FALSE(json_text_deeper_than(R"({"a":"[[[[{{{{"})", 1));
        CHECK_FALSE(json_text_deeper_than(R"({"a":"\"[[[["})", 1));
        CHECK_FALSE(json_text_deeper_than(R"(["\\",[]])", 2));
        CHECK(json_text_deeper_than(R"(["\\",[[]]])", 2));
    }
    SUBCASE("unbalanced text never underflows") {
        CHECK_FALSE(json_text_deeper_than("]]]]}}}}[", 1));
    }
}

TEST_CASE("parse_json") {
    CHECK(parse_json(R"({"id":1})")["id"] == 1);
    CHECK(parse_json("not json").is_discarded());
    CHECK_FALSE(parse_json(nested(kMaxJsonDepth)).is_discarded());
    CHECK(parse_json(nested(kMaxJsonDepth + 1)).is_discarded());
    SUBCASE("a hostile depth is refused without a crash") {
        CHECK(parse_json(nested(1'000'000)).is_discarded());
    }
    CHECK(parse_json(nested(3), 2).is_discarded());
}
