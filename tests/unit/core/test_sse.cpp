#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/sse.h"

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

namespace {
struct Bounded {
    std::vector<SseEvent> events;
    std::vector<std::pair<std::string, size_t>> oversized;
    SseParser parser;
    explicit Bounded(size_t max)
        : parser([this](const SseEvent& e) { events.push_back(e); }, max,
                 [this](std::string_view prefix, size_t bytes) {
                     oversized.emplace_back(std::string(prefix), bytes);
                 }) {}
};
}  // namespace

TEST_CASE("SseParser bounds what one event may buffer") {
    Bounded b(100);
    SUBCASE("data lines that never end the event: reported once, skipped, the stream goes on") {
        b.parser.feed("data: {\"jsonrpc\":\"2.0\",\"id\":7,\n");
        for (int i = 0; i < 1000; ++i) b.parser.feed("data: \"more\": [1, 2, 3],\n");
        REQUIRE(b.oversized.size() == 1);
        CHECK(b.oversized[0].first.rfind("{\"jsonrpc\":\"2.0\",\"id\":7,\n\"more\"", 0) == 0);
        CHECK(b.oversized[0].second > 100);
        CHECK(b.events.empty());
        CHECK(b.parser.has_partial_input());
        b.parser.feed("\ndata: next\n\n");
        REQUIRE(b.events.size() == 1);
        CHECK(b.events[0].data == "next");
        CHECK_FALSE(b.parser.has_partial_input());
    }
    SUBCASE("one endless line: its beginning is reported, the rest dropped as it comes") {
        b.parser.feed("data: {\"id\":\"r-9\",\"result\":\"");
        for (int i = 0; i < 1000; ++i) b.parser.feed(std::string(50, 'x'));
        REQUIRE(b.oversized.size() == 1);
        CHECK(b.oversized[0].first.rfind("{\"id\":\"r-9\",\"result\":\"xxx", 0) == 0);
        CHECK(b.oversized[0].first.size() <= SseParser::kOversizePrefix);
        b.parser.feed("\"}\r\n\r\ndata: after\r\n\r\n");
        REQUIRE(b.events.size() == 1);
        CHECK(b.events[0].data == "after");
    }
    SUBCASE("the prefix is at most kOversizePrefix bytes") {
        Bounded big(SseParser::kOversizePrefix * 4);
        big.parser.feed("data: " + std::string(SseParser::kOversizePrefix * 8, 'y'));
        REQUIRE(big.oversized.size() == 1);
        CHECK(big.oversized[0].first == std::string(SseParser::kOversizePrefix, 'y'));
    }
    SUBCASE("ids inside a skipped event still count, so a resumed stream goes on after it") {
        b.parser.feed("id: e-1\ndata: " + std::string(200, 'z') + "\nid: e-2\n\n");
        CHECK(b.oversized.size() == 1);
        CHECK(b.events.empty());
        CHECK(b.parser.last_event_id() == "e-2");
    }
    SUBCASE("events under the limit pass, however many") {
        for (int i = 0; i < 100; ++i) b.parser.feed("data: " + std::string(80, 'a') + "\n\n");
        CHECK(b.events.size() == 100);
        CHECK(b.oversized.empty());
    }
    SUBCASE("cut anywhere, the same events and reports") {
        std::string stream = "data: a\n\ndata: " + std::string(150, 'b') + "\n\ndata: c\n\n" +
                             ": " + std::string(300, 'k') + "\ndata: d\n\n";
        Bounded bytewise(100);
        for (char ch : stream) bytewise.parser.feed(std::string(1, ch));
        b.parser.feed(stream);
        REQUIRE(b.events.size() == 2);  // the event with an overlong comment is skipped too
        CHECK(b.events[1].data == "c");
        REQUIRE(bytewise.events.size() == 2);
        CHECK(bytewise.events[1].data == "c");
        CHECK(b.oversized.size() == 2);
        CHECK(bytewise.oversized.size() == 2);
    }
}
