#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/framing.h"

using mcp_auth::LineFramer;

namespace {
struct Collector {
    std::vector<std::string> lines;
    std::vector<std::pair<std::string, size_t>> oversized;
    LineFramer framer;
    explicit Collector(size_t max)
        : framer(max, {[this](std::string&& l) { lines.push_back(std::move(l)); },
                       [this](std::string_view p, size_t n) {
                           oversized.emplace_back(std::string(p), n);
                       }}) {}
};
}  // namespace

TEST_CASE("LineFramer::feed") {
    Collector c(100);
    SUBCASE("lines split across chunks are joined") {
        c.framer.feed("{\"a\":");
        c.framer.feed("1}\n{\"b\":2}\n{\"c\"");
        REQUIRE(c.lines.size() == 2);
        CHECK(c.lines[0] == "{\"a\":1}");
        CHECK(c.lines[1] == "{\"b\":2}");
        c.framer.feed(":3}\n");
        CHECK(c.lines.back() == "{\"c\":3}");
    }
    SUBCASE("CRLF and blank lines") {
        c.framer.feed("x\r\n\r\n  \ny\n");
        REQUIRE(c.lines.size() == 2);
        CHECK(c.lines[0] == "x");
        CHECK(c.lines[1] == "y");
    }
    SUBCASE("a last line without newline counts at finish") {
        c.framer.feed("tail");
        CHECK(c.lines.empty());
        c.framer.finish();
        REQUIRE(c.lines.size() == 1);
        CHECK(c.lines[0] == "tail");
    }
    SUBCASE("an oversized line is reported once with its length and the next line survives") {
        std::string big = "{\"id\":5," + std::string(300, 'x');
        c.framer.feed(big.substr(0, 50));
        c.framer.feed(big.substr(50));
        c.framer.feed("\n{\"ok\":1}\n");
        REQUIRE(c.oversized.size() == 1);
        CHECK(c.oversized[0].second == big.size());
        CHECK(c.oversized[0].first.rfind("{\"id\":5,", 0) == 0);
        REQUIRE(c.lines.size() == 1);
        CHECK(c.lines[0] == "{\"ok\":1}");
    }
    SUBCASE("a line of exactly the limit passes") {
        std::string exact(100, 'a');
        c.framer.feed(exact + "\n");
        REQUIRE(c.lines.size() == 1);
        CHECK(c.oversized.empty());
    }
}

TEST_CASE("LineFramer keeps only a prefix of an oversized line") {
    Collector c(1 << 20);
    std::string big(3 << 20, 'z');
    c.framer.feed(big);
    c.framer.feed("\n");
    REQUIRE(c.oversized.size() == 1);
    CHECK(c.oversized[0].first.size() == LineFramer::kOversizePrefix);
    CHECK(c.oversized[0].second == big.size());
}

TEST_CASE("LineFramer fed again from inside its sink: buffered lines first, each once") {
    // The relay's stdin thread reads more input while a call it sent waits for its reply.
    std::vector<std::string> lines;
    LineFramer* self = nullptr;
    LineFramer framer(100, {[&](std::string&& l) {
                                lines.push_back(l);
                                if (l == "a") self->feed("c\nd");   // while "a" is handled
                                if (l == "c") self->feed("\ne\n");  // ends "d"
                            },
                            [](std::string_view, size_t) {}});
    self = &framer;
    framer.feed("a\nb\n");
    CHECK(lines == std::vector<std::string>{"a", "b", "c", "d", "e"});  // stream order
    framer.feed("f\n");
    CHECK(lines == std::vector<std::string>{"a", "b", "c", "d", "e", "f"});
}

TEST_CASE("LineFramer: an oversized line inside one big chunk, then more lines") {
    Collector c(1000);
    std::string chunk = "{\"id\":1}\n" + std::string(200000, 'q') + "\n{\"id\":2}\n";
    c.framer.feed(chunk);
    REQUIRE(c.lines.size() == 2);
    CHECK(c.lines[0] == "{\"id\":1}");
    CHECK(c.lines[1] == "{\"id\":2}");
    REQUIRE(c.oversized.size() == 1);
    CHECK(c.oversized[0].second == 200000);
    CHECK(c.oversized[0].first.size() == LineFramer::kOversizePrefix);
}

TEST_CASE("LineFramer::has_line: whether another complete line waits behind this one") {
    std::vector<std::pair<std::string, bool>> seen;
    LineFramer* self = nullptr;
    LineFramer framer(100, {[&](std::string&& l) { seen.emplace_back(l, self->has_line()); },
                            [](std::string_view, size_t) {}});
    self = &framer;
    framer.feed("a\nb\nc");  // "c" is not complete
    framer.feed("\n");
    REQUIRE(seen.size() == 3);
    CHECK(seen[0] == std::make_pair(std::string("a"), true));
    CHECK(seen[1] == std::make_pair(std::string("b"), false));
    CHECK(seen[2] == std::make_pair(std::string("c"), false));
}
