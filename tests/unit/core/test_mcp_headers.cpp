#include <doctest/doctest.h>

#include "core/mcp_headers.h"

using namespace mcp_auth;
using namespace mcp_auth::mcp;

namespace {
std::string value_of(const HeaderList& headers, const std::string& name) {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return h.value;
    return "<absent>";
}
}  // namespace

TEST_CASE("encode_header_value: the 2026-07-28 examples") {
    CHECK(encode_header_value("us-west1") == "us-west1");
    CHECK(encode_header_value("Hello, \xe4\xb8\x96\xe7\x95\x8c") ==
          "=?base64?SGVsbG8sIOS4lueVjA==?=");
    CHECK(encode_header_value(" padded ") == "=?base64?IHBhZGRlZCA=?=");
    CHECK(encode_header_value("line1\nline2") == "=?base64?bGluZTEKbGluZTI=?=");
    CHECK(encode_header_value("=?base64?literal?=") == "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
}

TEST_CASE("is_modern_version") {
    CHECK(is_modern_version("2026-07-28"));
    CHECK(is_modern_version("2027-01-01"));
    CHECK_FALSE(is_modern_version("2025-11-25"));
    CHECK_FALSE(is_modern_version(""));
}

TEST_CASE("request_metadata") {
    ToolHeaderMap tools;
    SUBCASE("modern tools/call carries version, method and name from the body") {
        auto msg = json::parse(R"({"jsonrpc":"2.0","id":1,"method":"tools/call",
            "params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":"get_weather"}})");
        auto headers = request_metadata(msg, "tools/call", "", tools);
        CHECK(value_of(headers, "MCP-Protocol-Version") == "2026-07-28");
        CHECK(value_of(headers, "Mcp-Method") == "tools/call");
        CHECK(value_of(headers, "Mcp-Name") == "get_weather");
    }
    SUBCASE("resources/read names the uri") {
        auto msg = json::parse(R"({"jsonrpc":"2.0","id":2,"method":"resources/read",
            "params":{"uri":"file:///projects/myapp/config.json"}})");
        auto headers = request_metadata(msg, "resources/read", "2025-11-25", tools);
        CHECK(value_of(headers, "Mcp-Name") == "file:///projects/myapp/config.json");
        CHECK(value_of(headers, "MCP-Protocol-Version") == "2025-11-25");
    }
    SUBCASE("legacy: the negotiated version, no name for other methods") {
        auto msg = json::parse(R"({"jsonrpc":"2.0","id":3,"method":"tools/list"})");
        auto headers = request_metadata(msg, "tools/list", "2025-06-18", tools);
        CHECK(value_of(headers, "MCP-Protocol-Version") == "2025-06-18");
        CHECK(value_of(headers, "Mcp-Name") == "<absent>");
    }
    SUBCASE("a response to a server request carries only the version") {
        auto msg = json::parse(R"({"jsonrpc":"2.0","id":"srv-1","result":{}})");
        auto headers = request_metadata(msg, "", "2025-11-25", tools);
        REQUIRE(headers.size() == 1);
        CHECK(headers[0].name == "MCP-Protocol-Version");
    }
    SUBCASE("before initialize there is no version header") {
        auto msg = json::parse(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{}})");
        CHECK(value_of(request_metadata(msg, "initialize", "", tools), "MCP-Protocol-Version") ==
              "<absent>");
    }
}

TEST_CASE("ToolHeaderMap::learn and headers_for") {
    auto result = json::parse(R"({"tools":[
        {"name":"execute_sql","inputSchema":{"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "opts":{"type":"object","properties":{"shard":{"type":"integer","x-mcp-header":"Shard"},
                                                   "dry":{"type":"boolean","x-mcp-header":"Dry"}}},
            "query":{"type":"string"}}}},
        {"name":"plain","inputSchema":{"type":"object","properties":{"q":{"type":"string"}}}},
        {"name":"bad_number","inputSchema":{"type":"object","properties":{"n":{"type":"number","x-mcp-header":"N"}}}},
        {"name":"bad_items","inputSchema":{"type":"object","properties":{"list":{"type":"array",
            "items":{"type":"string","x-mcp-header":"Item"}}}}},
        {"name":"bad_dup","inputSchema":{"type":"object","properties":{
            "a":{"type":"string","x-mcp-header":"Same"},"b":{"type":"string","x-mcp-header":"same"}}}},
        {"name":"bad_token","inputSchema":{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"has space"}}}},
        {"name":"bad_anyof","inputSchema":{"type":"object","anyOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]}}
    ]})");
    ToolHeaderMap map;
    auto rejected = map.learn(result);
    REQUIRE(rejected.size() == 5);
    CHECK(rejected[0].tool == "bad_number");
    CHECK(rejected[1].tool == "bad_items");
    CHECK(rejected[2].tool == "bad_dup");
    CHECK(rejected[3].tool == "bad_token");
    CHECK(rejected[4].tool == "bad_anyof");
    REQUIRE(result["tools"].size() == 2);
    CHECK(result["tools"][0]["name"] == "execute_sql");
    CHECK(result["tools"][1]["name"] == "plain");

    auto args =
        json::parse(R"({"region":"us-west1","opts":{"shard":-7,"dry":false},"query":"SELECT 1"})");
    auto headers = map.headers_for("execute_sql", args);
    CHECK(value_of(headers, "Mcp-Param-Region") == "us-west1");
    CHECK(value_of(headers, "Mcp-Param-Shard") == "-7");
    CHECK(value_of(headers, "Mcp-Param-Dry") == "false");
    SUBCASE("absent and null values omit the header") {
        auto partial =
            map.headers_for("execute_sql", json::parse(R"({"region":null,"query":"x"})"));
        CHECK(partial.empty());
    }
    SUBCASE("request_metadata adds the params to tools/call") {
        auto msg = json::parse(
            R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"execute_sql",
            "arguments":{"region":"Hello, \u4e16\u754c"}}})");
        auto meta = request_metadata(msg, "tools/call", "2026-07-28", map);
        CHECK(value_of(meta, "Mcp-Param-Region") == "=?base64?SGVsbG8sIOS4lueVjA==?=");
    }
    SUBCASE("a later list forgets tools that lost their annotations") {
        auto later =
            json::parse(R"({"tools":[{"name":"execute_sql","inputSchema":{"type":"object"}}]})");
        CHECK(map.learn(later).empty());
        CHECK(map.headers_for("execute_sql", args).empty());
    }
}
