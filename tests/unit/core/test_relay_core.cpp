// The relay's pure parts: session state (holding, replay, de-duplication), the retry
// policy's next step and outcome, and the error mapping.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/relay_errors.h"
#include "core/relay_exchange.h"
#include "core/relay_session.h"

using namespace mcp_auth::relay;
using nlohmann::json;

TEST_CASE("relay session: lines wait for the initialize and are released in order") {
    SessionState s;
    CHECK_FALSE(s.must_hold(false));
    s.start_initialize("init");
    CHECK(s.must_hold(false));
    s.hold("a");
    s.hold("b");
    CHECK(s.take_held().empty());  // still initializing
    CHECK(s.finish_initialize(true, "2025-06-18", "s1"));
    CHECK(s.session_id() == "s1");
    auto batch = s.take_held();
    CHECK(batch == std::vector<std::string>{"a", "b"});
    CHECK(s.releasing());
    CHECK(s.must_hold(false));       // a new line waits behind the released ones
    CHECK_FALSE(s.must_hold(true));  // a released one goes
    s.hold("c");
    s.hold_again({"b"});  // a second initialize stopped the release after "a"
    CHECK(s.take_held() == std::vector<std::string>{"b", "c"});
    CHECK(s.take_held().empty());
    CHECK_FALSE(s.releasing());
}

TEST_CASE("relay session: an initialize without an answer starts no session") {
    SessionState s;
    s.start_initialize("init");
    CHECK_FALSE(s.finish_initialize(false, "2025-06-18", "s1"));
    CHECK(s.session_id().empty());
    CHECK_FALSE(s.initializing());
}

TEST_CASE("relay session: replay of the handshake after a 404") {
    SessionState s;
    CHECK(s.begin_replay("").what == SessionState::Replay::Impossible);  // no initialize known
    s.start_initialize("init");
    s.finish_initialize(true, "2025-06-18", "s1");
    s.start_initialized("inited");
    s.finish_initialized();
    CHECK(s.begin_replay("s0").what == SessionState::Replay::AlreadyRenewed);
    auto plan = s.begin_replay("s1");
    CHECK(plan.what == SessionState::Replay::Start);
    CHECK(plan.init_line == "init");
    CHECK(plan.initialized_line == "inited");
    CHECK(s.session_id().empty());
    s.replay_failed("s1");
    CHECK(s.session_id() == "s1");
    s.begin_replay("s1");
    s.replay_succeeded("s2", "2025-11-25");
    CHECK(s.session_id() == "s2");
    CHECK(s.version() == "2025-11-25");
}

TEST_CASE("relay session: one delivery per pending id") {
    SessionState s;
    s.expect("1");
    CHECK(s.note_response("1") == SessionState::Response::First);
    CHECK(s.note_response("1") == SessionState::Response::Repeat);
    CHECK(s.note_response("2") == SessionState::Response::Unexpected);
    CHECK_FALSE(s.answer_instead("1"));  // already answered
    CHECK(s.take_answered("1", false));
    CHECK(s.pending() == 0);
    s.expect("3");
    CHECK(s.answer_instead("3"));
    CHECK(s.note_response("3") == SessionState::Response::Repeat);  // the late reply is dropped
    CHECK_FALSE(s.take_answered("4", false));
    CHECK(s.take_answered("4", true));  // mcp-auth's own request
}

TEST_CASE("relay session: the GET stream starts once per legacy session") {
    SessionState s;
    CHECK_FALSE(s.should_listen());  // no session yet
    s.start_initialize("init");
    s.finish_initialize(true, "2025-06-18", "s1");
    CHECK(s.should_listen());
    CHECK_FALSE(s.should_listen());
    s.start_initialize("init");
    s.finish_initialize(true, "2026-07-28", "");
    CHECK_FALSE(s.should_listen());  // 2026-07-28 has no GET stream
}

TEST_CASE("relay policy: the next step after a reply") {
    std::string body, www;
    ReplyFacts r;
    r.body = &body;
    r.www_authenticate = &www;
    Attempt a;
    a.can_renew = true;
    r.status = 200;
    CHECK(next_step(r, a) == Step::Finish);
    r.status = 404;
    CHECK(next_step(r, a) == Step::Finish);  // no session carried: a wrong URL
    r.carried_session = true;
    CHECK(next_step(r, a) == Step::ReplaySession);
    a.modern = true;
    CHECK(next_step(r, a) == Step::Finish);  // 2026-07-28 has no sessions to replay
    r.status = 400;
    body = R"({"jsonrpc":"2.0","id":1,"error":{"code":-32020,"message":"x"}})";
    CHECK(next_step(r, a) == Step::Finish);  // not a tools/call
    a.tools_call = true;
    CHECK(next_step(r, a) == Step::RelistTools);
    a.relisted = true;
    CHECK(next_step(r, a) == Step::Finish);  // once
    body = R"({"error":{"code":"-32020"}})";
    a.relisted = false;
    CHECK(next_step(r, a) == Step::Finish);  // a code of another type is no match
    r.status = 401;
    CHECK(next_step(r, a) == Step::RenewToken);
    a.can_renew = false;
    CHECK(next_step(r, a) == Step::Finish);
    a.can_renew = true;
    r.status = 403;
    www = "Bearer realm=\"x\"";
    CHECK(next_step(r, a) == Step::Finish);
    www = R"(Bearer error="insufficient_scope", scope="a b")";
    CHECK(next_step(r, a) == Step::RenewToken);
    a.number = kMaxRetries;
    CHECK(next_step(r, a) == Step::Finish);
    a.number = 0;
    r.transport_failed = true;
    CHECK(next_step(r, a) == Step::Finish);
}

TEST_CASE("relay policy: resumption, delays and the outcome") {
    StreamFacts f{true, true, false, false, false, false, true};
    CHECK(should_resume(f));
    f.modern = true;
    CHECK_FALSE(should_resume(f));
    f.modern = false;
    f.has_last_event_id = false;
    CHECK_FALSE(should_resume(f));
    CHECK(resume_delay(std::nullopt) == std::chrono::milliseconds(1000));
    CHECK(resume_delay(250L) == std::chrono::milliseconds(250));
    CHECK(reconnect_delay(0L) == std::chrono::milliseconds(100));
    CHECK(reconnect_delay(500L) == std::chrono::milliseconds(500));

    Ending e;
    e.request = true;
    e.http_success = true;
    e.answered = true;
    CHECK(outcome(e) == Outcome::Delivered);
    e.answered = false;
    CHECK(outcome(e) == Outcome::NoAnswer);
    e.http_success = false;
    CHECK(outcome(e) == Outcome::HttpError);
    e.transport_failed = true;
    CHECK(outcome(e) == Outcome::TransportFailure);
    e.auth_failed = true;
    CHECK(outcome(e) == Outcome::AuthFailure);
    e.cancelled = true;
    CHECK(outcome(e) == Outcome::Silent);
    e.too_big = true;
    CHECK(outcome(e) == Outcome::AuthFailure);  // over the limit: still reported
    Ending n;
    n.http_success = true;
    CHECK(outcome(n) == Outcome::Accepted);
    n.replay = true;
    CHECK(outcome(n) == Outcome::Silent);
}

TEST_CASE("relay errors: HTTP statuses, transport failures, size") {
    auto e = json::parse(http_error(7, "tools/list", "mcp.test", 500, "boom"));
    CHECK(e["id"] == 7);
    CHECK(e["error"]["code"] == -32000);
    CHECK(e["error"]["message"] ==
          "mcp-auth: mcp.test answered HTTP 500 to tools/list. The server failed; try again "
          "later or check the server's logs.");
    CHECK(e["error"]["data"] == json{{"status", 500}, {"host", "mcp.test"}, {"body", "boom"}});
    auto s = json::parse(http_error("x", "tools/call", "h", 400,
                                    R"({"error":{"code":-32602,"message":"no","data":[1]}})"));
    CHECK(s["error"]["code"] == -32602);
    CHECK(s["error"]["data"]["server_data"] == json::array({1}));
    CHECK(json::parse(http_error(1, "m", "h", 400, std::string(600, 'x')))["error"]["data"].count(
              "body") == 0);
    CHECK(status_hint(406) == " The URL may not be a Streamable HTTP MCP endpoint.");
    CHECK(status_hint(418).empty());
    CHECK(describe_size(64u << 20) == "64 MiB");
    CHECK(describe_size(1000) == "1000 bytes");

    FailureFacts f;
    f.label = "tools/call";
    f.host = "h";
    f.transport_error = "no reply from h within 5 s";
    f.timed_out = true;
    json id = 3;
    auto report = describe_failure(f, &id);
    CHECK(report.log == "no reply from h within 5 s (sending tools/call)");
    CHECK(json::parse(report.response)["error"]["code"] == -32001);
    CHECK(describe_failure(f, nullptr).response.empty());  // a notification gets no response
    f = FailureFacts{};
    f.label = "tools/call";
    f.event_stream = true;
    f.dropped = "is not valid JSON";
    CHECK(describe_failure(f, &id).log ==
          "the server closed the event stream before answering tools/call (it sent a message "
          "that is not valid JSON, which was dropped)");
    auto a = json::parse(auth_failure(1, "h", 401, "run mcp-auth login", true));
    CHECK(a["error"]["data"]["login_required"] == true);
    CHECK(a["error"]["message"] == "mcp-auth: run mcp-auth login");
}

TEST_CASE("relay session: nothing overtakes the client's notifications/initialized") {
    SessionState s;
    s.start_initialize("init");
    CHECK(s.finish_initialize(true, "2025-06-18", "s1"));
    CHECK_FALSE(s.must_hold(false));
    s.start_initialized("inited");
    CHECK(s.must_hold(false));  // tools/list waits until the server accepted it
    s.hold("tools/list");
    CHECK(s.take_held().empty());  // still in flight: nothing released
    s.finish_initialized();
    auto released = s.take_held();
    REQUIRE(released.size() == 1);
    CHECK(released[0] == "tools/list");
}
