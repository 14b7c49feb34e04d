// One client message's exchange: the POST, and the retry policy around it (session
// replay after a 404, tools relisting after a HeaderMismatch, token renewal after a 401 or
// a 403 insufficient_scope, resumption of an event stream that ended early). The choices
// are core/relay_exchange.h's; this file performs them.
#include <optional>

#include "app/relay/relay.h"
#include "core/json_limits.h"
#include "core/relay_errors.h"
#include "core/relay_exchange.h"

namespace mcp_auth {

using jsonrpc::json;
using SteadyClock = std::chrono::steady_clock;

HttpResult Relay::exchange(HttpConnection& conn, Job& job, const std::string& credential,
                           Reply& reply) {
    const size_t limit = options_.max_message_bytes;
    auto on_head = [&](int status, const HeaderList& headers) {
        reply.status = status;
        reply.content_type = ascii_lower(find_header(headers, "Content-Type"));
        reply.session_id = find_header(headers, "Mcp-Session-Id");
        reply.www_authenticate = find_header(headers, "WWW-Authenticate");
        if (status >= 200 && status < 300 &&
            relay::starts_with(reply.content_type, "text/event-stream")) {
            // The parser outlives this call (resume() feeds it): it captures no local.
            Reply* r = &reply;
            Job* j = &job;
            reply.sse = std::make_unique<SseParser>(
                [this, r, j](const SseEvent& event) {
                    if (event.type == "message") deliver(event.data, j, *r);
                },
                limit,
                // An event over the limit in the reply to a request: the reply is.
                [r](std::string_view, size_t) { r->too_big = true; });
            reply.sse_events = true;
        }
        return true;
    };
    auto on_body = [&](std::string_view chunk) {
        if (reply.sse) {
            reply.sse->feed(chunk);
            return !reply.too_big;
        }
        if (reply.body.size() + chunk.size() > limit) return reply.too_big = true, false;
        reply.body.append(chunk);
        return true;
    };
    HeaderList headers = job.headers;
    if (!credential.empty()) headers.push_back({options_.auth->header_name(), credential});
    if (job.info.method != "initialize") {
        std::lock_guard<std::mutex> lock(mutex_);
        reply.sent_session = session_.session_id();
    }
    if (!reply.sent_session.empty()) headers.push_back({"Mcp-Session-Id", reply.sent_session});
    HttpResult result = conn.send(
        "POST", options_.server.target, headers, job.body,
        [&](int status, const HeaderList& h) {
            return relay::guarded(reply.failure, [&] { return on_head(status, h); });
        },
        [&](std::string_view chunk) {
            return relay::guarded(reply.failure, [&] { return on_body(chunk); });
        });
    if (reply.failure) std::rethrow_exception(reply.failure);
    return result;
}

void Relay::run(HttpConnection& conn, Job& job) {
    auto started = SteadyClock::now();
    Reply reply;
    HttpResult result;
    std::optional<Error> auth_error;
    std::string credential = options_.auth ? options_.auth->current() : "";
    relay::Attempt attempt;
    attempt.modern = job.modern;
    attempt.tools_call = job.info.method == "tools/call";
    attempt.can_renew = options_.auth != nullptr;
    for (;; ++attempt.number) {
        reply = Reply{};
        result = exchange(conn, job, credential, reply);
        relay::ReplyFacts facts;
        facts.status = reply.status;
        facts.transport_failed = !result.error.empty();
        facts.carried_session = !reply.sent_session.empty();
        facts.body = &reply.body;
        facts.www_authenticate = &reply.www_authenticate;
        auto step = relay::next_step(facts, attempt);
        if (step == relay::Step::Finish) break;
        if (step == relay::Step::ReplaySession) {
            // The server forgot the session (restarted, expired): a new one, then retry.
            if (!reinitialize(conn, reply.sent_session, credential)) break;
            continue;
        }
        if (step == relay::Step::RelistTools) {
            // The tool's x-mcp-header annotations changed: list the tools again, retry once.
            attempt.relisted = true;
            if (relearn_tools(conn, job, credential)) continue;
            break;
        }
        if (job.on_intake) {
            // A renewal may wait long (a refresh, a login in the browser): not on the
            // thread that reads stdin. The request was refused, so a worker sends it anew.
            job.handed_over = true;
            return;
        }
        log_.debug("HTTP " + std::to_string(reply.status) + " to " + job.label() +
                   ": renewing the token");
        auto renewed = options_.auth->renew(reply.status, reply.www_authenticate, credential);
        if (!renewed) {
            auth_error = renewed.error();
            break;
        }
        credential = *renewed;
    }

    relay::StreamFacts stream;
    stream.request = job.is_request();
    stream.event_stream = reply.sse != nullptr;
    stream.too_big = reply.too_big;
    // Answered on the POST's own stream, or (a server free to choose) on the GET stream.
    stream.answered = reply.answered || (stream.event_stream && answered_elsewhere(job));
    stream.modern = job.modern;
    stream.cancelled = result.cancelled;
    stream.has_last_event_id = reply.sse && !reply.sse->last_event_id().empty();
    if (relay::should_resume(stream)) {
        resume(conn, job, reply);
        if (reply.answered) result = HttpResult{reply.status, "", false, false};
    }
    bool success =
        result.error.empty() && !reply.too_big && reply.status >= 200 && reply.status < 300;
    if (success && !credential.empty()) {
        std::lock_guard<std::mutex> lock(mutex_);
        last_credential_ = credential;
    }
    if (success && !reply.sse && !reply.body.empty()) deliver(reply.body, &job, reply);
    if (log_.verbose()) {
        auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started)
                .count();
        log_.debug("POST " + job.label() + (job.is_request() ? " id=" + job.info.id.dump() : "") +
                   " -> " + (reply.status ? std::to_string(reply.status) : result.error) + " " +
                   reply.content_type + " (" + std::to_string(ms) + " ms)");
    }
    if (job.is_request() && job.info.method == "initialize") {
        job.init_finished = true;
        finish_initialize(reply);
    }
    // The client's notifications/initialized: the lines held behind it go once it is
    // accepted and the GET stream (legacy eras) is open, or at once when it failed.
    struct ReleaseAfterHandshake {
        Relay& relay;
        Job& job;
        ~ReleaseAfterHandshake() {
            if (job.init_finished) return;
            if (job.acknowledges_handshake()) {
                job.init_finished = true;
                relay.finish_initialized();
            } else if (job.holds_later()) {  // any other notification
                job.init_finished = true;
                relay.finish_notification();
            }
        }
    } release{*this, job};

    relay::Ending ending;
    ending.answered = take_answered(job);
    ending.replay = job.replay;
    ending.request = job.is_request();
    ending.cancelled = result.cancelled;
    ending.too_big = reply.too_big;
    ending.auth_failed = auth_error.has_value();
    ending.transport_failed = !result.error.empty();
    ending.http_success = success;
    switch (relay::outcome(ending)) {
        case relay::Outcome::Silent:
        case relay::Outcome::Delivered:
            return;
        case relay::Outcome::AuthFailure:
            return report_auth_failure(job, reply, *auth_error);
        case relay::Outcome::TransportFailure:
        case relay::Outcome::NoAnswer:
            return report_failure(job, reply, result);
        case relay::Outcome::HttpError:
            if (job.is_request()) {
                out_.write_line(relay::http_error(job.info.id, job.label(),
                                                  options_.server.authority(), reply.status,
                                                  reply.body));
            } else {
                log_.error("the server answered HTTP " + std::to_string(reply.status) + " to " +
                           job.label() + "; it was not delivered");
            }
            return;
        case relay::Outcome::Accepted:
            if (job.info.method == "notifications/initialized" && start_listen_stream())
                wait_for_listen_stream(kListenOpenWait);
            return;
    }
}

bool Relay::reinitialize(HttpConnection& conn, const std::string& expired,
                         const std::string& credential) {
    std::lock_guard<std::mutex> once(reinit_mutex_);
    relay::SessionState::ReplayPlan plan;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        plan = session_.begin_replay(expired);
        // Another request already renewed it: retry on the new one.
        if (plan.what == relay::SessionState::Replay::AlreadyRenewed) return !stopping_;
        if (plan.what == relay::SessionState::Replay::Impossible) return false;
    }
    log_.info(
        "the server no longer knows the session; starting a new one (replaying the client's "
        "initialize)");
    auto replay = [&](const std::string& line, Reply& reply) {
        json message = parse_json(line);
        std::shared_ptr<Job> job;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job = make_job(message, jsonrpc::classify(message), line);
        }
        job->replay = true;
        auto result = exchange(conn, *job, credential, reply);
        if (result.error.empty() && !reply.sse && !reply.body.empty())
            deliver(reply.body, job.get(), reply);
        return result.error.empty() && reply.status >= 200 && reply.status < 300;
    };
    Reply init;
    if (!replay(plan.init_line, init) || init.protocol_version.empty()) {
        log_.error("could not start a new session with the server");
        std::lock_guard<std::mutex> lock(mutex_);
        session_.replay_failed(expired);  // let the request fail with what the server said
        return false;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        session_.replay_succeeded(init.session_id, init.protocol_version);
    }
    if (!plan.initialized_line.empty()) {
        Reply ack;
        replay(plan.initialized_line, ack);
    }
    stop_cv_.notify_all();  // the event stream reconnects with the new session
    return true;
}

bool Relay::relearn_tools(HttpConnection& conn, Job& job, const std::string& credential) {
    json call = parse_json(job.body);
    if (!call.is_object()) return false;
    json list = {{"jsonrpc", "2.0"}, {"id", "mcp-auth-tools-list"}, {"method", "tools/list"}};
    if (call.contains("params") && call["params"].is_object() && call["params"].contains("_meta"))
        list["params"] = {{"_meta", call["params"]["_meta"]}};
    std::shared_ptr<Job> lister;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        lister = make_job(list, jsonrpc::classify(list), list.dump());
    }
    lister->replay = true;  // learned from, never shown to the client
    Reply listed;
    auto result = exchange(conn, *lister, credential, listed);
    if (result.error.empty() && !listed.sse && !listed.body.empty())
        deliver(listed.body, lister.get(), listed);
    if (!listed.answered) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    job.headers = make_job(call, job.info, job.body)->headers;  // with the tool's new headers
    log_.debug("listed the tools again after a header mismatch; retrying " + job.label());
    return true;
}

void Relay::resume(HttpConnection& conn, Job& job, Reply& reply) {
    // Each attempt continues after the last event seen; the server's `retry` sets the pace.
    // The response may arrive on the GET stream meanwhile: then neither the rest of the
    // wait nor another GET is needed.
    for (int attempt = 0; attempt < 5 && !reply.answered && !reply.too_big; ++attempt) {
        if (!wait(relay::resume_delay(reply.sse->retry_ms()), &job)) return;
        if (answered_elsewhere(job)) return;
        HeaderList headers = session_headers();
        headers.push_back({"Accept", "text/event-stream"});
        headers.push_back({"Last-Event-ID", reply.sse->last_event_id()});
        log_.debug("resuming the event stream of " + job.label() + " after event " +
                   reply.sse->last_event_id());
        bool streaming = false;
        auto result = conn.send(
            "GET", options_.server.target, headers, "",
            [&](int status, const HeaderList& h) {
                streaming =
                    status == 200 && relay::starts_with(ascii_lower(find_header(h, "Content-Type")),
                                                        "text/event-stream");
                return streaming;
            },
            [&](std::string_view chunk) {
                return relay::guarded(reply.failure, [&] {
                    // The same bounded parser as the POST's: an event over the limit ends it.
                    reply.sse->feed(chunk);
                    return !reply.answered && !reply.too_big;  // the answer is in: close it
                });
            });
        if (reply.failure) std::rethrow_exception(reply.failure);
        bool stopping;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping = stopping_;
        }
        if (!streaming || (result.cancelled && !reply.answered && stopping)) return;
    }
}

}  // namespace mcp_auth
