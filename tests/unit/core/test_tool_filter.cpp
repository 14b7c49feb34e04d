// --allow-tool / --deny-tool (core/tool_filter.h) and the wildcard match under them
// (core/glob.h).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/glob.h"
#include "core/tool_filter.h"

using namespace mcp_auth;
using nlohmann::json;

TEST_CASE("glob: '*' matches any run, everything else itself, exactly") {
    CHECK(glob_match("read_*", "read_file"));
    CHECK(glob_match("read_*", "read_"));
    CHECK_FALSE(glob_match("read_*", "Read_file"));  // case counts
    CHECK(glob_match("*_file", "write_file"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("a*b*c", "axxbyyc"));
    CHECK_FALSE(glob_match("a*b*c", "axxbyy"));
    CHECK(glob_match("exact", "exact"));
    CHECK_FALSE(glob_match("exact", "exactly"));
    CHECK_FALSE(glob_match("", "x"));
    // Backtracking stays linear-ish: a long near-miss ends (quickly).
    CHECK_FALSE(glob_match("*a*a*a*a*b", std::string(2000, 'a')));
}

TEST_CASE("tool filter: no rule lets everything through; allow narrows; deny wins") {
    ToolFilter none;
    CHECK_FALSE(none.active());
    CHECK_FALSE(none.refusal("anything"));

    ToolFilter f;
    f.allow = {"read_*", "search"};
    f.deny = {"*_secret"};
    CHECK(f.active());
    CHECK_FALSE(f.refusal("read_file"));
    CHECK_FALSE(f.refusal("search"));
    REQUIRE(f.refusal("delete_file"));
    CHECK(*f.refusal("delete_file") == "no --allow-tool matches it");
    REQUIRE(f.refusal("read_secret"));
    CHECK(*f.refusal("read_secret") == "--deny-tool '*_secret'");

    ToolFilter deny_only;
    deny_only.deny = {"delete_*"};
    CHECK_FALSE(deny_only.refusal("read_file"));
    CHECK(deny_only.refusal("delete_repo"));
    // Over-long names (a server's) are never matched by a pattern: with an allow list they
    // are refused, with a deny list alone they pass.
    CHECK(f.refusal(std::string(5000, 'r')));
    CHECK_FALSE(deny_only.refusal("delete_" + std::string(5000, 'x')));
}

TEST_CASE("tool filter: tools/list results lose the refused tools, the rest stays as it was") {
    ToolFilter f;
    f.deny = {"delete_*"};
    json result = {{"tools",
                    {{{"name", "read"}, {"inputSchema", {{"type", "object"}}}},
                     {{"name", "delete_repo"}},
                     {{"name", 7}},  // not a string: named ""
                     {{"name", "write"}}}},
                   {"nextCursor", "c2"}};
    auto removed = f.filter_list(result);
    CHECK(removed == std::vector<std::string>{"delete_repo"});
    REQUIRE(result["tools"].size() == 3);
    CHECK(result["tools"][0]["inputSchema"]["type"] == "object");
    CHECK(result["tools"][1]["name"] == 7);
    CHECK(result["nextCursor"] == "c2");

    ToolFilter allow;
    allow.allow = {"read"};
    json again = {{"tools", {{{"name", "read"}}, {{"name", 7}}, "not an object"}}};
    CHECK(allow.filter_list(again).size() == 2);  // the nameless ones match no allow rule
    CHECK(again["tools"] == json::array({{{"name", "read"}}}));

    json no_tools = {{"prompts", json::array()}};
    CHECK(f.filter_list(no_tools).empty());
    CHECK(no_tools == json{{"prompts", json::array()}});
}

TEST_CASE("tool filter: a refused call's error is MCP's unknown-tool error, naming the rule") {
    auto text = ToolFilter::refused_call(9, "delete_repo", "--deny-tool 'delete_*'");
    json e = json::parse(text);
    CHECK(e["id"] == 9);
    CHECK(e["error"]["code"] == -32602);
    std::string message = e["error"]["message"];
    CHECK(message.find("delete_repo") != std::string::npos);
    CHECK(message.find("--deny-tool 'delete_*'") != std::string::npos);
}
