#include <doctest/doctest.h>

#include "core/jsonrpc.h"

using namespace mcp_auth::jsonrpc;

TEST_CASE("classify") {
    auto request = classify(json::parse(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})"));
    CHECK(request.kind == Kind::Request);
    CHECK(request.id == 1);
    CHECK(request.method == "tools/list");
    auto notification =
        classify(json::parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
    CHECK(notification.kind == Kind::Notification);
    CHECK(notification.id.is_null());
    auto response = classify(json::parse(R"({"jsonrpc":"2.0","id":"s-1","result":{}})"));
    CHECK(response.kind == Kind::Response);
    CHECK(response.id == "s-1");
    CHECK(classify(json::parse(R"({"jsonrpc":"2.0","id":"s-1","error":{"code":1,"message":"x"}})"))
              .kind == Kind::Response);
    SUBCASE("invalid messages say why") {
        CHECK(classify(json::parse("[1,2]")).problem.find("batch") != std::string::npos);
        CHECK(classify(json::parse("42")).kind == Kind::Invalid);
        CHECK(classify(json::parse(R"({"id":1,"method":"x"})")).problem.find("jsonrpc") !=
              std::string::npos);
        CHECK(classify(json::parse(R"({"jsonrpc":"2.0","id":1.5,"method":"x"})")).kind ==
              Kind::Invalid);
        CHECK(classify(json::parse(R"({"jsonrpc":"2.0","id":1,"method":7})")).kind ==
              Kind::Invalid);
        CHECK(classify(json::parse(R"({"jsonrpc":"2.0","id":1,"result":1,"error":{}})")).kind ==
              Kind::Invalid);
        CHECK(classify(json::parse(R"({"jsonrpc":"2.0","id":3,"method":7})")).id == 3);
    }
}

TEST_CASE("error_response") {
    auto line = error_response(5, kParseError, "bad", {{"status", 500}});
    auto parsed = json::parse(line);
    CHECK(parsed["id"] == 5);
    CHECK(parsed["error"]["code"] == -32700);
    CHECK(parsed["error"]["data"]["status"] == 500);
    CHECK(line.find('\n') == std::string::npos);
    // Invalid UTF-8 in a message never breaks the line.
    CHECK(json::accept(error_response(nullptr, kInternalError, "bad \xff byte")));
}

TEST_CASE("sniff_id") {
    CHECK(sniff_id(R"({"jsonrpc":"2.0","id":7,"method":)") == json(7));
    CHECK(sniff_id(R"({"id":"abc","method":"x"})") == json("abc"));
    CHECK(sniff_id(R"(  {"method":"x","params":{"id":9},"id":-3,)") == json(-3));
    CHECK_FALSE(sniff_id(R"({"method":"x","params":{"id":9}})"));  // nested ids do not count
    CHECK_FALSE(sniff_id(R"({"method":"the \"id\": 4","x":1})"));
    CHECK_FALSE(sniff_id(R"({"jsonrpc":"2.0","id":12)"));  // cut off: could be 123
    CHECK_FALSE(sniff_id("not json"));
    CHECK_FALSE(sniff_id(R"({"id":{"a":1}})"));
}

TEST_CASE("is_one_line_object and to_one_line") {
    CHECK(is_one_line_object(R"({"a":1})"));
    CHECK_FALSE(is_one_line_object("{\n\"a\":1}"));
    CHECK_FALSE(is_one_line_object("[1]"));
    CHECK_FALSE(is_one_line_object("{\"a\":"));
    auto flat = to_one_line("{\n  \"a\": 1\r\n}");
    REQUIRE(flat);
    CHECK(flat->find_first_of("\r\n") == std::string::npos);
    CHECK(json::parse(*flat) == json{{"a", 1}});
    CHECK_FALSE(to_one_line("<html>"));
}

TEST_CASE("sniff_envelope reads the top level of any text, however deep") {
    auto response =
        sniff_envelope(R"({"jsonrpc":"2.0","result":{"id":3,"method":"x"},"id":"r-1"})");
    CHECK(response.id == json("r-1"));
    CHECK(response.has_result);
    CHECK_FALSE(response.has_method);  // nested keys do not count
    CHECK_FALSE(response.has_error);
    auto request = sniff_envelope(R"({"id":9,"method":"sampling/createMessage","params":{}})");
    CHECK(request.id == json(9));
    CHECK(request.has_method);
    CHECK_FALSE(sniff_envelope(R"({"jsonrpc":"2.0","method":"n"})").has_id);
    // Duplicate names: the last id counts, as for a parser; sniff_id keeps to the first.
    CHECK(sniff_envelope(R"({"id":1,"result":{},"id":2})").id == json(2));
    CHECK_FALSE(sniff_envelope(R"({"id":1,"result":{},"id":[2]})").id);
    CHECK(sniff_id(R"({"id":1,"result":{},"id":2})") == json(1));
    // Only integers and strings are ids.
    CHECK_FALSE(sniff_envelope(R"({"id":5.5,"result":{}})").id);
    CHECK_FALSE(sniff_id(R"({"id":5e2,"result":{}})"));
    CHECK_FALSE(sniff_envelope(R"({"id":null,"error":{}})").id);
    // Names are read as a parser reads them.
    auto escaped = sniff_envelope(R"({"\u0069d":3,"r\u0065sult":{}})");
    CHECK(escaped.id == json(3));
    CHECK(escaped.has_result);
    CHECK_FALSE(sniff_envelope(R"({"id":3,"result":{"\u006dethod":4}})").has_method);
    CHECK_FALSE(sniff_envelope("not json").has_method);

    // 100,000 levels, in the id and elsewhere: a scan, no recursion.
    std::string deep(100000, '[');
    deep += std::string(100000, ']');
    auto deep_id = sniff_envelope(R"({"jsonrpc":"2.0","id":)" + deep + R"(,"method":"m"})");
    CHECK_FALSE(deep_id.id);
    CHECK(deep_id.has_id);
    CHECK(deep_id.has_method);  // read on past the id that cannot be used
    CHECK_FALSE(sniff_id(R"({"jsonrpc":"2.0","id":)" + deep + "}"));
    auto deep_data =
        sniff_envelope(R"({"jsonrpc":"2.0","error":{"code":1,"data":)" + deep + R"(},"id":4})");
    CHECK(deep_data.id == json(4));
    CHECK(deep_data.has_error);
    // Cut off in the middle, as an oversized message's prefix is.
    auto cut = sniff_envelope(R"({"jsonrpc":"2.0","id":12,"result":)" + deep.substr(0, 5000));
    CHECK(cut.id == json(12));
    CHECK(cut.has_result);
}

TEST_CASE("one_line survives hostile depth") {
    std::string deep(100000, '[');
    deep += std::string(100000, ']');
    CHECK(one_line(deep).size() == deep.size());
    CHECK(one_line("[\n1,\r\n2]") == "[ 1,  2]");
}
