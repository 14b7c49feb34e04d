// The fake server itself: what the use-case tests rely on.
#include <doctest/doctest.h>

#include "app/fake_http.h"

using namespace mcp_auth;
using namespace mcp_auth::testing;

TEST_CASE("FakeHttp: a connection streams the scripted reply and records the request") {
    FakeHttp http([](const FakeRequest& r) {
        return r.method == "POST" ? FakeReply::sse({"data: 1\n\n", "data: 2\n\n"})
                                  : FakeReply::json(404, "{}");
    });
    Url server{"https", "mcp.example", 443, "/mcp"};
    auto conn = http.connect(server, HttpOptions{});
    std::string body;
    int status = 0;
    auto result = conn->send(
        "POST", "/mcp", {{"Accept", "text/event-stream"}}, "{}",
        [&](int s, const HeaderList&) { return status = s, true; },
        [&](std::string_view chunk) { return body.append(chunk), true; });
    CHECK(result.error.empty());
    CHECK(status == 200);
    CHECK(body == "data: 1\n\ndata: 2\n\n");
    REQUIRE(http.requests().size() == 1);
    CHECK(http.requests()[0].url == "https://mcp.example/mcp");
    CHECK(http.requests()[0].header("accept") == "text/event-stream");
    CHECK(http.fetch("https://mcp.example/x", "GET", {}, "", HttpOptions{}, 1 << 20).status == 404);
    CHECK(http.count("GET", "/x") == 1);
}
