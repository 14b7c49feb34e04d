// The authorization use case (app/auth) against fakes: the decisions that only
// minutes-long integration suites reached before — refresh races between processes,
// rotation, step-up, re-registration, issuer pins, an authorization server that is down,
// a keychain that is not there, logout being final, the login agent.
#include <doctest/doctest.h>

#include <thread>

#include "app/auth_world.h"

using namespace mcp_auth;
using namespace mcp_auth::testing;

namespace {

const std::string kChallenge =
    "Bearer resource_metadata=\"https://mcp.example/.well-known/oauth-protected-resource/mcp\"";

}  // namespace

TEST_CASE("auth: a first login discovers, registers, logs in through the browser, and is kept") {
    AuthWorld w;
    auto auth = w.process();
    auto none = auth->valid_token();
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().kind == ErrorKind::LoginRequired);

    auto record = auth->login(kChallenge, true);
    REQUIRE_MESSAGE(record.ok(), record.error().message);
    CHECK(record->access_token.rfind("at-", 0) == 0);
    CHECK(record->issuer == w.as.issuer);
    CHECK(record->scope == "read");  // the PRM's scopes_supported
    CHECK(w.as.registrations == 1);
    CHECK(w.as.code_exchanges == 1);
    CHECK(w.browser.opened() == 1);
    // The authorization request carried PKCE S256 and the resource (RFC 8707).
    CHECK(w.as.last_authorization_url.find("code_challenge_method=S256") != std::string::npos);
    CHECK(w.as.last_authorization_url.find("resource=https%3A%2F%2Fmcp.example%2Fmcp") !=
          std::string::npos);

    // Another process finds it in the store: no HTTP at all.
    size_t before = w.http.requests().size();
    auto again = w.process()->valid_token();
    REQUIRE(again.ok());
    CHECK(again->access_token == record->access_token);
    CHECK(w.http.requests().size() == before);
}

TEST_CASE("auth: two processes with an expired token refresh once and share the rotated token") {
    AuthWorld w;
    REQUIRE(w.process()->login(kChallenge, true).ok());
    std::string first_refresh = w.as.last_refresh_token();
    w.clock.advance(std::chrono::seconds(4000));  // past expires_in
    w.as.refresh_delay = std::chrono::milliseconds(30);

    // Two mcp-auth processes (and two requests in each) ask at the same moment.
    auto a = w.process();
    auto b = w.process();
    std::vector<std::string> tokens(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            auto t = (i % 2 ? *b : *a).valid_token();
            tokens[i] = t ? t->access_token : "error: " + t.error().message;
        });
    for (auto& t : threads) t.join();

    CHECK(w.as.refreshes == 1);      // one refresh for everyone
    CHECK(w.as.refresh_reuse == 0);  // nobody sent the spent refresh token
    for (const auto& t : tokens) CHECK(t == tokens[0]);
    CHECK(tokens[0].rfind("at-", 0) == 0);
    // The rotated refresh token is what the store keeps.
    auto stored = w.process()->stored();
    REQUIRE(stored.ok());
    REQUIRE(stored->has_value());
    CHECK((*stored)->refresh_token == w.as.last_refresh_token());
    CHECK((*stored)->refresh_token != first_refresh);
}

TEST_CASE("auth: a 401 for the current token refreshes: a refused refresh means a new login") {
    AuthWorld w;
    auto auth = w.process();
    auto first = auth->login(kChallenge, true);
    REQUIRE(first.ok());

    auto refreshed = auth->recover(kChallenge, first->access_token, true);
    REQUIRE(refreshed.ok());
    CHECK(refreshed->access_token != first->access_token);
    CHECK(w.as.refreshes == 1);
    CHECK(w.as.approvals == 1);  // no browser round

    // The authorization server ends the grant: the refresh is refused, a login follows.
    w.as.never_granted.clear();
    auto rt = refreshed->refresh_token;
    (void)w.http.fetch(w.as.issuer + "/revoke", "POST", {}, "token=" + rt, {}, 1 << 20);
    auto relogin = auth->recover(kChallenge, refreshed->access_token, true);
    REQUIRE(relogin.ok());
    CHECK(w.as.approvals == 2);
    // Without a browser the same situation is LoginRequired, not a hang.
    auto rt2 = relogin->refresh_token;
    (void)w.http.fetch(w.as.issuer + "/revoke", "POST", {}, "token=" + rt2, {}, 1 << 20);
    auto headless = auth->recover(kChallenge, relogin->access_token, false);
    REQUIRE_FALSE(headless.ok());
    CHECK(headless.error().kind == ErrorKind::LoginRequired);
}

TEST_CASE("auth: step-up asks once for the union of scopes and then refuses without a browser") {
    AuthWorld w;
    auto auth = w.process();
    auto first = auth->login(kChallenge, true);
    REQUIRE(first.ok());
    CHECK(first->scope == "read");

    std::string need_write = kChallenge + ", error=\"insufficient_scope\", scope=\"write\"";
    auto stepped = auth->step_up(need_write, first->access_token, true);
    REQUIRE_MESSAGE(stepped.ok(), stepped.error().message);
    CHECK(oauth::missing_scopes("read write", stepped->scope).empty());
    CHECK(w.as.last_authorization_url.find("scope=read%20write") != std::string::npos);
    CHECK(w.as.approvals == 2);

    // A scope the authorization server never grants: one more browser round, then a clear
    // refusal (never a loop).
    w.as.never_granted = {"admin"};
    std::string need_admin = kChallenge + ", error=\"insufficient_scope\", scope=\"admin\"";
    auto refused = auth->step_up(need_admin, stepped->access_token, true);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "insufficient_scope");
    CHECK(refused.error().message.find("\"admin\"") != std::string::npos);
    int approvals = w.as.approvals;
    auto again = auth->step_up(need_admin, auth->stored().value()->access_token, true);
    REQUIRE_FALSE(again.ok());
    CHECK(w.as.approvals == approvals);  // asked before and refused: no new browser round
}

TEST_CASE("auth: a registration the authorization server forgot is replaced, once") {
    AuthWorld w;
    auto auth = w.process();
    auto first = auth->login(kChallenge, true);
    REQUIRE(first.ok());
    CHECK(w.as.registrations == 1);

    // Forgotten at the token endpoint: the refresh fails with invalid_client; the kept
    // registration is dropped and the next login registers again.
    w.as.forgotten.insert(first->client_id);
    auto relogin = w.process()->recover(kChallenge, first->access_token, true);
    REQUIRE_MESSAGE(relogin.ok(), relogin.error().message);
    CHECK(w.as.registrations == 2);
    CHECK(relogin->client_id != first->client_id);
    REQUIRE(w.store.secrets("client").size() == 1);
    CHECK(w.store.secrets("client")[0].find(relogin->client_id) != std::string::npos);
}

TEST_CASE("auth: the authorization server down during a refresh: retried, then kept, no login") {
    AuthWorld w;
    auto auth = w.process();
    auto first = auth->login(kChallenge, true);
    REQUIRE(first.ok());
    w.clock.advance(std::chrono::seconds(4000));
    w.as.down = 100;
    auto result = auth->valid_token();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::Network);
    CHECK(result.error().message.find("3 tries") != std::string::npos);
    CHECK(w.as.refreshes == 0);         // every try met the 503 before the grant
    CHECK(w.clock.slept_ms() == 1500);  // the backoff, on the clock (no real sleep)
    CHECK(w.as.approvals == 1);         // no browser for an outage
    // The login is kept, and works once the server is back.
    w.as.down = 0;
    w.clock.advance(std::chrono::seconds(1));
    auto back = auth->valid_token();
    REQUIRE_MESSAGE(back.ok(), back.error().message);
    CHECK(w.as.refreshes == 1);
}

TEST_CASE("auth: a keychain that fails is asked again only after a while") {
    AuthWorld w;
    auto auth = w.process();
    w.store.fail_with(make_error(ErrorKind::StoreUnavailable, "no Secret Service"));
    for (int i = 0; i < 50; ++i) {
        auto t = auth->valid_token();
        REQUIRE_FALSE(t.ok());
        CHECK(t.error().kind == ErrorKind::StoreUnavailable);
    }
    CHECK(w.store.calls() == 1);  // one D-Bus attempt, not one per message
    w.clock.advance(Authenticator::kStoreRetryAfter + std::chrono::seconds(1));
    w.store.fail_with(std::nullopt);
    auto t = auth->valid_token();
    CHECK(t.error().kind == ErrorKind::LoginRequired);  // the store answered: no login yet
    CHECK(w.store.calls() == 2);
}

TEST_CASE("auth: the store is read once, and again when another process changed the login") {
    AuthWorld w;
    auto relay = w.process();
    CHECK(relay->valid_token().error().kind == ErrorKind::LoginRequired);
    size_t calls = w.store.calls();
    for (int i = 0; i < 20; ++i) (void)relay->valid_token();
    CHECK(w.store.calls() == calls);  // nothing changed: memory only

    auto login = w.process()->login(kChallenge, true);  // `mcp-auth login` in a terminal
    REQUIRE(login.ok());
    // The change marker is looked at once per kStampRecheck, not with every message.
    calls = w.store.calls();
    CHECK(relay->valid_token().error().kind == ErrorKind::LoginRequired);
    CHECK(w.store.calls() == calls);
    w.clock.advance(std::chrono::seconds(1));
    static_assert(Authenticator::kStampRecheck <= std::chrono::seconds(1));
    auto seen = relay->valid_token();  // no 401 needed to notice
    REQUIRE(seen.ok());
    CHECK(seen->access_token == login->access_token);
}

TEST_CASE("auth: a 401 looks at the change marker at once: the token another process got") {
    AuthWorld w;
    auto relay = w.process();
    CHECK(relay->valid_token().error().kind == ErrorKind::LoginRequired);
    auto login = w.process()->login(kChallenge, true);
    REQUIRE(login.ok());
    auto recovered = relay->recover(kChallenge, "", false);  // no browser: the store has it
    REQUIRE(recovered.ok());
    CHECK(recovered->access_token == login->access_token);
}

TEST_CASE("auth: logout is final: a refresh that finds the login gone writes nothing back") {
    AuthWorld w;
    auto relay = w.process();
    auto first = relay->login(kChallenge, true);
    REQUIRE(first.ok());
    REQUIRE(relay->valid_token().ok());

    auto terminal = w.process();
    auto revoked = terminal->logout(*first);
    REQUIRE(revoked.ok());
    CHECK(*revoked);
    CHECK(w.as.revocations == 1);

    w.clock.advance(std::chrono::seconds(4000));
    auto after = relay->valid_token();
    REQUIRE_FALSE(after.ok());
    CHECK(after.error().kind == ErrorKind::LoginRequired);
    CHECK(w.store.secrets("token").empty());
    CHECK(w.as.refreshes == 0);
}

TEST_CASE("auth: a configured client's secret is pinned to its first issuer") {
    AuthWorld w;
    w.as.secrets["machine"] = "s3cret";
    AuthOptions o = w.options();
    o.client_id = "machine";
    o.client_secret = "s3cret";
    o.client_credentials = true;
    auto first = w.process(o)->login("", false);
    REQUIRE_MESSAGE(first.ok(), first.error().message);
    CHECK(w.as.machine_logins == 1);

    // The server now names another authorization server: the secret is not sent there.
    FakeAuthServer other;
    const_cast<std::string&>(other.issuer) = "https://evil.example";
    w.http.set_handler([&](const FakeRequest& r) {
        if (r.url.find("oauth-protected-resource") != std::string::npos)
            return FakeReply::json(
                200, nlohmann::json{{"resource", w.as.server},
                                    {"authorization_servers", {"https://evil.example"}}}
                         .dump());
        if (r.url.find("https://evil.example/.well-known") == 0)
            return FakeReply::json(
                200, nlohmann::json{{"issuer", "https://evil.example"},
                                    {"authorization_endpoint", "https://evil.example/authorize"},
                                    {"token_endpoint", "https://evil.example/token"},
                                    {"code_challenge_methods_supported", {"S256"}}}
                         .dump());
        if (r.url.find("https://evil.example/token") == 0)
            FAIL("the client secret went to another issuer");
        return FakeReply::json(404, "{}");
    });
    w.store.fail_with(std::nullopt);
    auto moved = w.process(o)->login("", false);
    REQUIRE_FALSE(moved.ok());
    CHECK(moved.error().message.find("refusing to send the credentials of client machine") !=
          std::string::npos);
    CHECK(moved.error().message.find("https://as.example") != std::string::npos);
}

TEST_CASE("auth: a relay's login runs in an agent that holds the login lock: others wait") {
    AuthWorld w;
    std::thread agent_thread;
    FakeAgent agent([&](const ProcessLock& lock, const std::string& challenge,
                        const std::string& scope) -> Status {
        // The detached `mcp-auth login --agent-lock-fd`: holds the inherited lock until its
        // login is saved.
        auto inherited = std::shared_ptr<ProcessLock>(w.locks.inherit(lock));
        agent_thread = std::thread([&w, inherited, challenge, scope] {
            AuthOptions o = w.options();
            o.scope = scope;
            auto login = w.process(o, nullptr, true)->login(challenge, true);
            CHECK(login.ok());
            inherited->release();
        });
        return Ok{};
    });
    auto relay = w.process(w.options(), &agent);
    auto token = relay->recover(kChallenge, "", true);
    agent_thread.join();
    REQUIRE_MESSAGE(token.ok(), token.error().message);
    CHECK(agent.starts() == 1);
    CHECK(w.as.approvals == 1);
    // A second relay instance finds the login without starting another agent.
    auto second = w.process(w.options(), &agent)->valid_token();
    REQUIRE(second.ok());
    CHECK(second->access_token == token->access_token);
    CHECK(agent.starts() == 1);
}

TEST_CASE("auth: a client ID metadata document only where the authorization server takes one") {
    const std::string cimd = "https://app.example/client.json";
    SUBCASE("advertised: the URL is the client id, nothing is registered") {
        AuthWorld w;
        w.as.cimd_supported = true;
        AuthOptions o = w.options();
        o.client_metadata_url = cimd;
        auto record = w.process(o)->login(kChallenge, true);
        REQUIRE_MESSAGE(record.ok(), record.error().message);
        CHECK(record->client_id == cimd);
        CHECK(w.as.registrations == 0);
    }
    SUBCASE("not advertised: dynamic registration, as without the URL") {
        AuthWorld w;
        AuthOptions o = w.options();
        o.client_metadata_url = cimd;
        auto record = w.process(o)->login(kChallenge, true);
        REQUIRE_MESSAGE(record.ok(), record.error().message);
        CHECK(record->client_id != cimd);
        CHECK(w.as.registrations == 1);
    }
}
