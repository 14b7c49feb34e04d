// The relay use case against a scripted server (FakeHttp): session replay after a 404,
// SSE resumption and `retry`, HeaderMismatch, de-duplication, error mapping, held lines,
// token renewal, and bursts in parallel. Milliseconds: delays go through a fake clock.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "app/fake_http.h"
#include "app/lines.h"
#include "app/relay/relay.h"

using namespace mcp_auth;
using namespace mcp_auth::testing;
using nlohmann::json;

namespace {

// Records the delays asked for and returns (almost) at once.
class FakeClock : public Clock {
public:
    long long now() override { return 1'700'000'000; }
    std::chrono::steady_clock::time_point steady() override {
        return std::chrono::steady_clock::now();
    }
    void sleep(std::chrono::milliseconds delay, const std::atomic<bool>&) override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            delays_.push_back(delay);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // no busy loop
    }
    std::vector<std::chrono::milliseconds> delays() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return delays_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::chrono::milliseconds> delays_;
};

class FakeTokens : public TokenSource {
public:
    std::string header_name() const override { return "Authorization"; }
    std::string current() override { return "Bearer old"; }
    Expected<std::string> renew(int status, const std::string& www_authenticate,
                                const std::string& sent) override {
        std::lock_guard<std::mutex> lock(mutex);
        renewals.push_back({status, www_authenticate, sent});
        renewed_on = std::this_thread::get_id();
        if (!next) return make_error(ErrorKind::LoginRequired, "log in with mcp-auth login");
        return *next;
    }
    void cancel() override {}
    bool ready() override { return at_hand; }
    bool at_hand = false;
    struct Renewal {
        int status;
        std::string www_authenticate;
        std::string sent;
    };
    std::mutex mutex;
    std::vector<Renewal> renewals;
    std::thread::id renewed_on;
    std::optional<std::string> next = "Bearer new";
};

bool eventually(const std::function<bool()>& done) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

json body_of(const FakeRequest& r) {
    return r.body.empty() ? json() : json::parse(r.body);
}

std::string result_for(const json& id, json result) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}.dump();
}

FakeReply initialize_reply(const json& request, const std::string& session) {
    return FakeReply::json(200, result_for(request["id"], {{"protocolVersion", "2025-06-18"}}),
                           {{"Mcp-Session-Id", session}});
}

// The lines on stdout, parsed.
std::vector<json> messages(const Lines& out) {
    std::vector<json> all;
    for (const auto& line : out.all()) all.push_back(json::parse(line));
    return all;
}

std::string line(const json& id, const std::string& method, json params = json::object()) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

const std::string kInitialize =
    line(0, "initialize", {{"protocolVersion", "2025-06-18"}, {"capabilities", json::object()}});
const std::string kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

struct Bed {
    FakeHttp http;
    Lines out;
    Lines err;
    Log log{err, true};
    FakeClock clock;
    FakeTokens tokens;
    RelayOptions options;
    std::unique_ptr<Relay> relay;

    explicit Bed(FakeHttp::Handler handler, bool with_auth = false) : http(std::move(handler)) {
        options.server = Url{"http", "mcp.test", 80, "/mcp"};
        options.clock = &clock;
        if (with_auth) options.auth = &tokens;
    }
    Relay& start() {
        relay = std::make_unique<Relay>(options, http, out, log);
        return *relay;
    }
    void send(const std::string& text) { relay->on_line(std::string(text)); }
    bool lines(size_t n) {
        return eventually([&] { return out.size() >= n; });
    }
    // Starts a legacy session (initialize, its reply, initialized).
    void handshake() {
        send(kInitialize);
        REQUIRE(lines(1));
        send(kInitialized);
    }
    ~Bed() {
        if (relay) relay->shutdown(std::chrono::milliseconds(0));
    }
};

}  // namespace

TEST_CASE("relay: lines sent while the initialize is in flight wait and carry its session") {
    std::mutex mutex;
    std::condition_variable cv;
    bool release = false;
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        if (r.method == "GET") return FakeReply::json(405, "");
        if (m["method"] == "initialize") {
            std::unique_lock<std::mutex> lock(mutex);
            cv.wait(lock, [&] { return release; });
            return initialize_reply(m, "s1");
        }
        if (!m.contains("id")) return FakeReply::json(202, "");
        return FakeReply::json(200, result_for(m["id"], {{"tools", json::array()}}));
    });
    bed.start();
    bed.send(kInitialize);
    bed.send(kInitialized);
    bed.send(line(1, "tools/list"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(bed.http.count("POST") == 1);  // only the initialize went out
    {
        std::lock_guard<std::mutex> lock(mutex);
        release = true;
    }
    cv.notify_all();
    REQUIRE(bed.lines(2));
    auto requests = bed.http.requests();
    std::vector<std::string> methods;
    for (const auto& r : requests)
        if (r.method == "POST") methods.push_back(body_of(r)["method"]);
    CHECK(methods ==
          std::vector<std::string>{"initialize", "notifications/initialized", "tools/list"});
    for (const auto& r : requests) {
        if (r.method != "POST" || body_of(r)["method"] == "initialize") continue;
        CHECK(r.header("Mcp-Session-Id") == "s1");
        CHECK(r.header("MCP-Protocol-Version") == "2025-06-18");
    }
    CHECK(messages(bed.out)[1]["id"] == 1);
}

TEST_CASE("relay: a forgotten session (404) is replayed invisibly and the request retried") {
    std::mutex mutex;
    std::string live = "s1";
    int sessions = 1;
    bool acknowledged = false;
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        if (r.method == "GET") return FakeReply::json(405, "");
        std::lock_guard<std::mutex> lock(mutex);
        if (m["method"] == "initialize") {
            live = "s" + std::to_string(sessions++);
            return initialize_reply(m, live);
        }
        if (r.header("Mcp-Session-Id") != live)
            return FakeReply::json(404, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32001,)"
                                        R"("message":"Session not found"}})");
        if (!m.contains("id")) {
            acknowledged = true;
            return FakeReply::json(202, "");
        }
        return FakeReply::json(200, result_for(m["id"], {{"session", live}}));
    });
    bed.start();
    bed.handshake();
    // The server has answered notifications/initialized (not merely received it: a
    // restart between the two made the relay replay it a second time under ASan).
    REQUIRE(eventually([&] {
        std::lock_guard<std::mutex> lock(mutex);
        return acknowledged;
    }));
    {
        std::lock_guard<std::mutex> lock(mutex);
        live = "restarted";  // the server restarted: it knows no session
    }
    bed.send(line(7, "tools/list"));
    REQUIRE(bed.lines(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto out = messages(bed.out);
    REQUIRE(out.size() == 2);  // the initialize reply and the answer: no 404, no replayed reply
    CHECK(out[1]["id"] == 7);
    CHECK(out[1]["result"]["session"] == "s2");
    CHECK(bed.http.count("POST") == 6);  // initialize, initialized, 404, replay x2, retry
    auto requests = bed.http.requests();
    int inits = 0, initialized = 0;
    for (const auto& r : requests) {
        if (r.method != "POST") continue;
        inits += body_of(r)["method"] == "initialize";
        initialized += body_of(r)["method"] == "notifications/initialized";
    }
    CHECK(inits == 2);
    CHECK(initialized == 2);
    CHECK(bed.err.contains("the server no longer knows the session"));
}

TEST_CASE("relay: an event stream that ends early is resumed with Last-Event-ID after `retry`") {
    std::string answer;
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        if (r.method == "GET" && r.header("Last-Event-ID").empty()) return FakeReply::json(405, "");
        if (r.method == "GET") {
            // The rest of the stream: the answer, then the same answer again (repeated by a
            // server that replays from an older id): delivered once.
            std::string event = "id: e2\ndata: " + answer + "\n\n";
            return FakeReply::sse({event + "id: e3\ndata: " + answer + "\n\n"});
        }
        if (m["method"] == "initialize") return initialize_reply(m, "s1");
        if (!m.contains("id")) return FakeReply::json(202, "");
        answer = result_for(m["id"], {{"content", json::array()}});
        return FakeReply::sse({"id: e1\nretry: 250\ndata: \n\n"});  // priming, then closed
    });
    bed.start();
    bed.handshake();
    bed.send(line(3, "tools/call", {{"name", "slow"}}));
    REQUIRE(bed.lines(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto out = messages(bed.out);
    REQUIRE(out.size() == 2);
    CHECK(out[1]["id"] == 3);
    size_t resumed = 0;
    for (const auto& r : bed.http.requests()) {
        if (r.method != "GET" || r.header("Last-Event-ID").empty()) continue;
        ++resumed;
        CHECK(r.header("Last-Event-ID") == "e1");
        CHECK(r.header("Mcp-Session-Id") == "s1");
    }
    CHECK(resumed == 1);
    auto delays = bed.clock.delays();
    CHECK(std::find(delays.begin(), delays.end(), std::chrono::milliseconds(250)) != delays.end());
}

TEST_CASE("relay: a POST stream whose answer came on the GET stream is not resumed") {
    // A server may send the response on the standalone GET stream and end the POST's
    // stream after a priming event: the request is answered, nothing waits out `retry`.
    std::mutex mutex;
    std::condition_variable changed;
    std::string answer;
    Bed* bed_of = nullptr;
    std::atomic<int> gets{0};
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        if (r.method == "GET" && !r.header("Last-Event-ID").empty())
            return FakeReply::sse({"data: " + answer + "\n\n"});  // must not be asked for
        if (r.method == "GET") {
            if (++gets > 1) return FakeReply::json(405, "");
            FakeReply stream = FakeReply::sse({": open\n\n", ""});
            stream.before_chunk = [&](size_t i, std::string& chunk) {
                if (i != 1) return;
                std::unique_lock<std::mutex> lock(mutex);  // once the call is in flight
                changed.wait_for(lock, std::chrono::seconds(10), [&] { return !answer.empty(); });
                chunk = "data: " + answer + "\n\n";
            };
            return stream;
        }
        if (m["method"] == "initialize") return initialize_reply(m, "s1");
        if (!m.contains("id")) return FakeReply::json(202, "");
        {
            std::lock_guard<std::mutex> lock(mutex);
            answer = result_for(m["id"], {{"content", json::array()}});
        }
        changed.notify_all();
        // The POST's stream ends once the answer is out on the GET stream.
        REQUIRE(eventually([&] { return bed_of->out.size() >= 2; }));
        return FakeReply::sse({"id: e1\nretry: 250\ndata: \n\n"});
    });
    bed_of = &bed;
    bed.start();
    bed.handshake();
    bed.send(line(7, "tools/call", {{"name", "slow"}}));
    REQUIRE(bed.lines(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto out = messages(bed.out);
    REQUIRE(out.size() == 2);  // the answer once, no "no answer" error after it
    CHECK(out[1]["id"] == 7);
    CHECK(out[1].contains("result"));
    for (const auto& r : bed.http.requests()) CHECK(r.header("Last-Event-ID").empty());
    auto delays = bed.clock.delays();
    CHECK(std::find(delays.begin(), delays.end(), std::chrono::milliseconds(250)) == delays.end());
}

TEST_CASE("relay: the GET stream reconnects after the server's `retry`, at least 100 ms") {
    std::atomic<int> gets{0};
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        if (r.method == "GET") {
            int n = ++gets;
            if (n == 1) return FakeReply::sse({"id: g1\nretry: 500\ndata: \n\n"});
            if (n == 2) return FakeReply::sse({"id: g2\nretry: 0\ndata: \n\n"});
            return FakeReply::json(405, "");
        }
        if (m["method"] == "initialize") return initialize_reply(m, "s1");
        return FakeReply::json(202, "");
    });
    bed.start();
    bed.handshake();
    REQUIRE(eventually([&] { return gets >= 3; }));
    auto requests = bed.http.requests();
    std::vector<std::string> ids;
    for (const auto& r : requests)
        if (r.method == "GET") ids.push_back(r.header("Last-Event-ID"));
    CHECK(ids == std::vector<std::string>{"", "g1", "g2"});
    auto delays = bed.clock.delays();
    REQUIRE(delays.size() >= 2);
    CHECK(delays[0] == std::chrono::milliseconds(500));
    CHECK(delays[1] == std::chrono::milliseconds(100));  // retry: 0 cannot make us spin
}

TEST_CASE("relay: a HeaderMismatch (-32020) relists the tools and retries the call once") {
    std::atomic<int> calls{0};
    std::atomic<bool> always{false};
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        if (m["method"] == "tools/list")
            return FakeReply::json(200, result_for(m["id"], {{"tools", json::array()}}));
        if (++calls == 1 || always)
            return FakeReply::json(400, R"({"jsonrpc":"2.0","id":5,"error":{"code":-32020,)"
                                        R"("message":"HeaderMismatch"}})");
        return FakeReply::json(200, result_for(m["id"], {{"ok", true}}));
    });
    bed.start();
    json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"}};
    bed.send(line(5, "tools/call", {{"name", "t"}, {"_meta", meta}}));
    REQUIRE(bed.lines(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto out = messages(bed.out);
    REQUIRE(out.size() == 1);  // the tools/list mcp-auth made is not shown
    CHECK(out[0]["id"] == 5);
    CHECK(out[0]["result"]["ok"] == true);
    std::vector<std::string> methods;
    for (const auto& r : bed.http.requests()) methods.push_back(body_of(r)["method"]);
    CHECK(methods == std::vector<std::string>{"tools/call", "tools/list", "tools/call"});
    CHECK(body_of(bed.http.requests()[1])["params"]["_meta"] == meta);

    SUBCASE("a second mismatch is the client's error") {
        always = true;  // mismatches from now on
        bed.send(line(6, "tools/call", {{"name", "t"}, {"_meta", meta}}));
        REQUIRE(bed.lines(2));
        auto second = messages(bed.out)[1];
        CHECK(second["error"]["code"] == -32020);
        CHECK(second["error"]["data"]["status"] == 400);
    }
}

TEST_CASE("relay: HTTP errors, transport failures and replies over the limit map to errors") {
    FakeReply reply;
    Bed bed([&](const FakeRequest&) { return reply; });
    bed.options.max_message_bytes = 160;
    bed.start();
    auto answer = [&](const json& id) {
        size_t before = bed.out.size();
        bed.send(line(id, "tools/list"));
        REQUIRE(bed.lines(before + 1));
        return messages(bed.out).back();
    };
    SUBCASE("5xx without a JSON-RPC body: ours, with the status and a hint") {
        reply = FakeReply::json(503, "overloaded");
        auto e = answer(1);
        CHECK(e["error"]["code"] == -32000);
        CHECK(e["error"]["data"]["status"] == 503);
        CHECK(e["error"]["data"]["body"] == "overloaded");
        CHECK(e["error"]["message"].get<std::string>().find("try again later") !=
              std::string::npos);
    }
    SUBCASE("4xx with a JSON-RPC error: the server's code and words, our id") {
        reply = FakeReply::json(400, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32602,)"
                                     R"("message":"bad params","data":1}})");
        auto e = answer("a");
        CHECK(e["id"] == "a");
        CHECK(e["error"]["code"] == -32602);
        CHECK(e["error"]["message"] == "bad params");
        CHECK(e["error"]["data"]["server_data"] == 1);
    }
    SUBCASE("a transport failure") {
        reply = FakeReply::failure("could not connect to mcp.test");
        auto e = answer(2);
        CHECK(e["error"]["code"] == -32000);
        CHECK(e["error"]["message"].get<std::string>().find("Check that the MCP server") !=
              std::string::npos);
    }
    SUBCASE("a timeout has the timeout code") {
        reply = FakeReply::failure("no reply from mcp.test within 5 s", true);
        CHECK(answer(3)["error"]["code"] == -32001);
    }
    SUBCASE("a reply over --max-message-bytes is dropped and said") {
        reply = FakeReply::json(200, std::string(400, ' ') + "{}");
        auto e = answer(4);
        CHECK(e["error"]["code"] == -32000);
        CHECK(e["error"]["message"].get<std::string>().find("over the 160 bytes limit") !=
              std::string::npos);
    }
    SUBCASE("a 2xx without the response") {
        reply = FakeReply::json(202, "");
        CHECK(answer(5)["error"]["message"].get<std::string>().find("no JSON-RPC response") !=
              std::string::npos);
    }
}

TEST_CASE("relay: a 401 renews the token and the request is retried with the new one") {
    Bed bed(
        [&](const FakeRequest& r) {
            json m = body_of(r);
            if (r.header("Authorization") != "Bearer new")
                return FakeReply::json(401, "", {{"WWW-Authenticate", "Bearer realm=\"x\""}});
            return FakeReply::json(200, result_for(m["id"], json::object()));
        },
        true);
    bed.start();
    bed.send(line(1, "tools/list"));
    REQUIRE(bed.lines(1));
    CHECK(messages(bed.out)[0].contains("result"));
    REQUIRE(bed.tokens.renewals.size() == 1);
    CHECK(bed.tokens.renewals[0].status == 401);
    CHECK(bed.tokens.renewals[0].www_authenticate == "Bearer realm=\"x\"");
    CHECK(bed.tokens.renewals[0].sent == "Bearer old");
    CHECK(bed.http.count("POST") == 2);

    SUBCASE("no token to be had: the client is told a login is required") {
        bed.tokens.next.reset();
        bed.http.set_handler([](const FakeRequest&) { return FakeReply::json(401, ""); });
        bed.send(line(2, "tools/list"));
        REQUIRE(bed.lines(2));
        auto e = messages(bed.out)[1];
        CHECK(e["error"]["data"]["login_required"] == true);
        CHECK(e["error"]["message"] == "mcp-auth: log in with mcp-auth login");
    }
}

TEST_CASE("relay: a 403 insufficient_scope steps up: another 403 does not") {
    const std::string scope = R"(Bearer error="insufficient_scope", scope="files:write")";
    bool scoped = true;
    Bed bed(
        [&](const FakeRequest& r) {
            json m = body_of(r);
            if (r.header("Authorization") == "Bearer new")
                return FakeReply::json(200, result_for(m["id"], json::object()));
            return FakeReply::json(403, "",
                                   {{"WWW-Authenticate", scoped ? scope : "Bearer realm=\"x\""}});
        },
        true);
    bed.start();
    bed.send(line(1, "tools/call"));
    REQUIRE(bed.lines(1));
    CHECK(messages(bed.out)[0].contains("result"));
    REQUIRE(bed.tokens.renewals.size() == 1);
    CHECK(bed.tokens.renewals[0].status == 403);
    CHECK(bed.tokens.renewals[0].www_authenticate == scope);

    scoped = false;
    bed.send(line(2, "tools/call"));
    REQUIRE(bed.lines(2));
    auto e = messages(bed.out)[1];
    CHECK(e["error"]["data"]["status"] == 403);
    CHECK(bed.tokens.renewals.size() == 1);  // not renewed
}

TEST_CASE("relay: a burst of slow calls goes out in parallel, one connection per call") {
    // The server holds every call until all of them have arrived (or 5 s passed): a relay
    // that sent them one after another would never have them all in flight at once. No
    // timing assumption, so a sanitizer's slowdown cannot fail it.
    constexpr int kCalls = 24;
    std::mutex mutex;
    std::condition_variable all_in;
    int active = 0, most = 0;
    bool holding = true, arrived = false;  // `arrived` stays set as the calls leave
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        std::unique_lock<std::mutex> lock(mutex);
        most = std::max(most, ++active);
        if (holding) {
            if (active == kCalls) {
                arrived = true;
                all_in.notify_all();
            }
            all_in.wait_for(lock, std::chrono::seconds(5), [&] { return arrived; });
        }
        --active;
        return FakeReply::json(200, result_for(m["id"], json::object()));
    });
    bed.start();
    for (int i = 0; i < kCalls; ++i) bed.send(line(i, "tools/call", {{"name", "slow"}}));
    REQUIRE(bed.lines(kCalls));
    {
        std::lock_guard<std::mutex> lock(mutex);
        CHECK(most == kCalls);
        holding = false;
    }
    CHECK(bed.http.connections_opened() == kCalls);  // no more workers than calls

    SUBCASE("a second burst reuses the workers") {
        for (int i = 0; i < kCalls; ++i) bed.send(line(100 + i, "tools/call"));
        REQUIRE(bed.lines(2 * kCalls));
        CHECK(bed.http.connections_opened() == kCalls);
    }
}

TEST_CASE("relay: the next request waits for notifications/initialized and the GET stream") {
    // The SDK's own client awaits the notification's 202 before its next request; servers
    // register tools or route server-to-client requests by what they saw first.
    std::mutex mutex;
    std::vector<std::string> order;
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        {
            std::lock_guard<std::mutex> lock(mutex);
            order.push_back(r.method != "POST" ? r.method : m["method"].get<std::string>());
        }
        if (r.method == "DELETE") return FakeReply::json(200, "");
        if (r.method == "GET") {
            std::this_thread::sleep_for(std::chrono::milliseconds(30));  // a slow stream open
            return FakeReply::sse({": open\n\n"});
        }
        if (m["method"] == "initialize") return initialize_reply(m, "s1");
        if (!m.contains("id")) {
            std::this_thread::sleep_for(std::chrono::milliseconds(30));  // a slow 202
            return FakeReply::json(202, "");
        }
        return FakeReply::json(200, result_for(m["id"], {{"tools", json::array()}}));
    });
    bed.start();
    bed.handshake();
    bed.send(line(1, "tools/list"));  // at once, as hosts do
    REQUIRE(bed.lines(2));
    std::lock_guard<std::mutex> lock(mutex);
    // The fake stream ends after its first event, so the listener may reconnect at any time:
    // only each method's first appearance says what waited for what.
    std::vector<std::string> first;
    std::string seen;
    for (const auto& o : order) {
        seen += o + " ";
        if (std::find(first.begin(), first.end(), o) == first.end()) first.push_back(o);
    }
    INFO("order: " << seen);
    CHECK(first ==
          std::vector<std::string>{"initialize", "notifications/initialized", "GET", "tools/list"});
}

namespace {

// The stdin thread's hook: `during` runs inside the next wait (stdin bringing a line while
// the stdin thread's own call waits for its reply).
class FakeIntakeHook : public WaitHook {
public:
    std::function<void()> during;
    std::atomic<int> waits{0};
    Wake wait(long long, std::chrono::milliseconds) override {
        ++waits;
        if (during) std::exchange(during, nullptr)();
        return Wake::Readable;
    }
};

}  // namespace

TEST_CASE("relay: the stdin thread sends a call itself; a line read meanwhile goes to a worker") {
    const auto intake = std::this_thread::get_id();
    std::mutex mutex;
    std::map<int, std::thread::id> served_on;
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        if (r.method == "GET") return FakeReply::json(405, "");
        if (m["method"] == "initialize") return initialize_reply(m, "s1");
        if (!m.contains("id")) return FakeReply::json(202, "");
        std::lock_guard<std::mutex> lock(mutex);
        served_on[m["id"].get<int>()] = std::this_thread::get_id();
        return FakeReply::json(200, result_for(m["id"], json::object()));
    });
    FakeIntakeHook hook;
    bed.options.intake_hook = &hook;
    bed.start();  // no handshake: nothing is held
    hook.during = [&] {
        bed.send(line(2, "tools/call", {{"name", "echo"}}));  // read while call 1 waits
        REQUIRE(bed.lines(1));  // answered by a worker before call 1's reply is read
    };
    bed.send(line(1, "tools/call", {{"name", "echo"}}));
    REQUIRE(bed.lines(2));
    auto out = messages(bed.out);
    CHECK(out[0]["id"] == 2);
    CHECK(out[1]["id"] == 1);
    std::lock_guard<std::mutex> lock(mutex);
    CHECK(served_on[1] == intake);  // no hand-over to a worker
    CHECK(served_on[2] != intake);
}

TEST_CASE("relay: a 401 met on the stdin thread hands the call to a worker, which renews") {
    const auto intake = std::this_thread::get_id();
    Bed bed(
        [&](const FakeRequest& r) {
            json m = body_of(r);
            if (r.method == "GET") return FakeReply::json(405, "");
            if (m["method"] == "initialize") return initialize_reply(m, "s1");
            if (!m.contains("id")) return FakeReply::json(202, "");
            if (r.header("Authorization") == "Bearer old")  // what current() gives
                return FakeReply::json(401, "", {{"WWW-Authenticate", "Bearer"}});
            return FakeReply::json(200, result_for(m["id"], json::object()));
        },
        true);
    FakeIntakeHook hook;
    bed.options.intake_hook = &hook;
    bed.tokens.next = "Bearer new";
    bed.start();                // no handshake: nothing is held
    bed.tokens.at_hand = true;  // current() answers from memory: the stdin thread may send
    bed.send(line(5, "tools/call", {{"name", "echo"}}));
    REQUIRE(bed.lines(1));
    auto out = messages(bed.out);
    CHECK(out[0]["id"] == 5);
    CHECK(out[0].contains("result"));
    CHECK(hook.waits >= 1);  // the first attempt went from the stdin thread
    std::lock_guard<std::mutex> lock(bed.tokens.mutex);
    CHECK(bed.tokens.renewals.size() == 1);  // by a worker
    CHECK(bed.tokens.renewed_on != intake);
}

TEST_CASE("relay: lines read together (a burst) go to workers, not behind the stdin thread's") {
    const auto intake = std::this_thread::get_id();
    std::mutex mutex;
    std::map<int, std::thread::id> served_on;
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        std::lock_guard<std::mutex> lock(mutex);
        served_on[m["id"].get<int>()] = std::this_thread::get_id();
        return FakeReply::json(200, result_for(m["id"], json::object()));
    });
    FakeIntakeHook hook;
    bed.options.intake_hook = &hook;
    bed.start();
    bed.relay->on_line(line(1, "tools/call", {{"name", "slow"}}), true);   // more were read
    bed.relay->on_line(line(2, "tools/call", {{"name", "slow"}}), false);  // the last of them
    REQUIRE(bed.lines(2));
    std::lock_guard<std::mutex> lock(mutex);
    CHECK(served_on[1] != intake);
    CHECK(served_on[2] == intake);
}

TEST_CASE("relay: tool filters hide tools from tools/list and refuse their calls unsent") {
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        if (m["method"] == "tools/list")
            return FakeReply::json(200, result_for(m["id"], {{"tools",
                                                              {{{"name", "read_file"}},
                                                               {{"name", "delete_file"}},
                                                               {{"name", "search"}}}}}));
        return FakeReply::json(200, result_for(m["id"], {{"ok", true}}));
    });
    bed.options.tools.deny = {"delete_*"};
    bed.start();
    bed.send(line(1, "tools/list"));
    REQUIRE(bed.lines(1));
    bed.send(line(2, "tools/call", {{"name", "delete_file"}}));
    REQUIRE(bed.lines(2));
    bed.send(line(3, "tools/call", {{"name", "read_file"}}));
    REQUIRE(bed.lines(3));
    std::map<int, json> by_id;
    for (const auto& m : messages(bed.out)) by_id[m["id"].get<int>()] = m;
    std::vector<std::string> listed;
    for (const auto& t : by_id[1]["result"]["tools"]) listed.push_back(t["name"]);
    CHECK(listed == std::vector<std::string>{"read_file", "search"});
    CHECK(by_id[2]["error"]["code"] == -32602);
    CHECK(by_id[2]["error"]["message"].get<std::string>().find("--deny-tool 'delete_*'") !=
          std::string::npos);
    CHECK(by_id[3]["result"]["ok"] == true);
    // The refused call never reached the server.
    std::vector<std::string> sent;
    for (const auto& r : bed.http.requests())
        sent.push_back(body_of(r)["method"].get<std::string>() +
                       (body_of(r)["params"].contains("name")
                            ? ":" + body_of(r)["params"]["name"].get<std::string>()
                            : ""));
    CHECK(sent == std::vector<std::string>{"tools/list", "tools/call:read_file"});
}

TEST_CASE("relay: no later message overtakes a client notification; requests stay concurrent") {
    std::mutex mutex;
    std::vector<std::string> events;  // "start X", "end X", in the server's order
    Bed bed([&](const FakeRequest& r) {
        json m = body_of(r);
        std::string what = m.contains("method") ? m["method"].get<std::string>() : "(response)";
        if (m.contains("params") && m["params"].contains("tag"))
            what += ":" + m["params"]["tag"].get<std::string>();
        {
            std::lock_guard<std::mutex> lock(mutex);
            events.push_back("start " + what);
        }
        // The notifications take a while, the slow request longer than both together.
        if (what == "tools/call:slow") std::this_thread::sleep_for(std::chrono::milliseconds(400));
        if (!m.contains("id")) std::this_thread::sleep_for(std::chrono::milliseconds(60));
        {
            std::lock_guard<std::mutex> lock(mutex);
            events.push_back("end " + what);
        }
        if (!m.contains("id")) return FakeReply::json(202, "");
        return FakeReply::json(200, result_for(m["id"], {{"ok", true}}));
    });
    bed.start();
    auto note = [](const std::string& tag) {
        return json{{"jsonrpc", "2.0"},
                    {"method", "notifications/roots/list_changed"},
                    {"params", {{"tag", tag}}}}
            .dump();
    };
    bed.send(line(1, "tools/call", {{"tag", "slow"}}));
    bed.send(note("n1"));
    bed.send(note("n2"));
    bed.send(line(2, "tools/call", {{"tag", "after"}}));
    REQUIRE(bed.lines(2));
    REQUIRE(eventually([&] {
        std::lock_guard<std::mutex> lock(mutex);
        return events.size() == 8;
    }));
    std::lock_guard<std::mutex> lock(mutex);
    auto at = [&](const std::string& what) {
        return std::find(events.begin(), events.end(), what) - events.begin();
    };
    CAPTURE(events);
    const std::string n1 = "notifications/roots/list_changed:n1";
    const std::string n2 = "notifications/roots/list_changed:n2";
    // n2 starts only after n1 was answered, the request after them only after n2 was.
    CHECK(at("start " + n2) > at("end " + n1));
    CHECK(at("start tools/call:after") > at("end " + n2));
    // The slow request sent first did not hold the notifications back: they were answered
    // while it was still running.
    CHECK(at("end " + n2) < at("end tools/call:slow"));
}
