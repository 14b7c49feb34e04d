#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "mcp_auth/sse.h"

using mcp_auth::SseEvent;
using mcp_auth::SseParser;

namespace {
struct Collector {
    std::vector<SseEvent> events;
    SseParser parser{[this](const SseEvent& e) { events.push_back(e); }};
};
}  // namespace

TEST_CASE("SseParser::feed") {
    Collector c;
    SUBCASE("one event in one chunk") {
        c.parser.feed("event: message\ndata: {\"a\":1}\n\n");
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].type == "message");
        CHECK(c.events[0].data == "{\"a\":1}");
    }
    SUBCASE("an event split at every byte, with CRLF line ends") {
        std::string stream = "id: 7\r\ndata: hello\r\n\r\ndata: world\r\n\r\n";
        for (char ch : stream) c.parser.feed(std::string(1, ch));
        REQUIRE(c.events.size() == 2);
        CHECK(c.events[0].data == "hello");
        CHECK(c.events[0].id == "7");
        CHECK(c.events[1].data == "world");
        CHECK(c.events[1].id == "7");  // the last event id stays in force
    }
    SUBCASE("a CR line end split from its LF across chunks is one line end") {
        c.parser.feed("data: x\r");
        c.parser.feed("\n\r");
        c.parser.feed("\n");
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].data == "x");
    }
    SUBCASE("bare CR line ends") {
        c.parser.feed("data: a\r\rdata: b\r\r");
        REQUIRE(c.events.size() == 2);
        CHECK(c.events[1].data == "b");
    }
    SUBCASE("multi-line data joins with newlines") {
        c.parser.feed("data: {\ndata: \"k\": 2\ndata: }\n\n");
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].data == "{\n\"k\": 2\n}");
    }
    SUBCASE("comments and unknown fields are ignored") {
        c.parser.feed(": keep-alive\n\nfoo: bar\ndata: z\n\n");
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].data == "z");
    }
    SUBCASE("an event without data is not dispatched but its id counts") {
        c.parser.feed("id: prime-1\ndata\n\n");  // "data" with no colon: an empty data line
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].data == "");
        c.parser.feed("id: 42\n\n");
        CHECK(c.events.size() == 1);
        CHECK(c.parser.last_event_id() == "42");
    }
    SUBCASE("only one leading space of a value is removed; no space is fine") {
        c.parser.feed("data:  two\ndata:none\n\n");
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].data == " two\nnone");
    }
    SUBCASE("retry takes digits only") {
        c.parser.feed("retry: 2500\n\n");
        CHECK(c.parser.retry_ms() == 2500);
        c.parser.feed("retry: 12x\n\n");
        CHECK(c.parser.retry_ms() == 2500);
    }
    SUBCASE("an id containing NUL is ignored") {
        c.parser.feed(std::string("id: a\0b\ndata: q\n\n", 17));
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].id == "");
    }
    SUBCASE("event names are kept") {
        c.parser.feed("event: endpoint\ndata: /x\n\n");
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].type == "endpoint");
    }
    SUBCASE("a leading BOM is dropped") {
        c.parser.feed(
            "\xEF\xBB\xBF"
            "data: b\n\n");
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].data == "b");
    }
    SUBCASE("a leading BOM split over chunks is dropped too") {
        c.parser.feed("\xEF");
        c.parser.feed("\xBB");
        c.parser.feed(
            "\xBF"
            "data: b\n\n");
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].data == "b");
    }
    SUBCASE("bytes that only start like a BOM are kept") {
        c.parser.feed("\xEF");
        c.parser.feed("data: b\n\n");
        CHECK(c.events.empty());  // the field name is "\xEFdata", not "data"
    }
    SUBCASE("an unterminated event is not dispatched") {
        c.parser.feed("data: partial\n");
        CHECK(c.events.empty());
        CHECK(c.parser.has_partial_input());
    }
}
