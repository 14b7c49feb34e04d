// The legacy-era GET stream (server notifications and requests outside any POST), the
// headers that go with it, and the session's end (DELETE).
#include <algorithm>
#include <optional>
#include <system_error>

#include "app/relay/relay.h"
#include "core/relay_errors.h"
#include "core/relay_exchange.h"

namespace mcp_auth {

bool Relay::start_listen_stream() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || !session_.should_listen()) return false;
    if (listen_thread_.joinable())
        return false;  // one listener per process; a new session reuses it
    try {
        listen_opened_ = false;
        listen_thread_ = std::thread([this] { listen_loop(); });
        return true;
    } catch (const std::system_error& e) {
        log_.error("could not listen to the server's event stream (" + std::string(e.what()) +
                   "); its notifications arrive only with replies");
        return false;
    }
}

void Relay::wait_for_listen_stream(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    stop_cv_.wait_for(lock, limit, [&] { return stopping_ || listen_opened_; });
}

void Relay::note_listen_opened() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (listen_opened_) return;
        listen_opened_ = true;
    }
    stop_cv_.notify_all();
}

void Relay::listen_loop() {
    HttpOptions http = options_.http;
    http.read_timeout = std::chrono::hours(24);  // an idle stream is normal; shutdown cancels it
    auto conn = http_.connect(options_.server, http);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        listen_conn_ = conn;
    }
    std::string last_event_id;
    int failures = 0;
    for (;;) {
        std::string session;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) break;
            session = session_.session_id();
        }
        std::optional<long> retry_ms;
        try {
            HeaderList headers = session_headers();
            headers.push_back({"Accept", "text/event-stream"});
            if (!last_event_id.empty()) headers.push_back({"Last-Event-ID", last_event_id});
            Reply reply;
            // Bounded: an event over --max-message-bytes is skipped (said on stderr, and
            // answered with an error if it was the reply to a request), the stream goes on.
            SseParser parser(
                [&](const SseEvent& event) {
                    if (event.type == "message") deliver(event.data, nullptr, reply);
                },
                options_.max_message_bytes,
                [&](std::string_view prefix, size_t) {
                    refuse(prefix,
                           "is over the " + relay::describe_size(options_.max_message_bytes) +
                               " limit (--max-message-bytes), on the server's event stream",
                           nullptr, reply);
                });
            bool streaming = false;
            auto on_head = [&](int status, const HeaderList& h) {
                reply.status = status;
                note_listen_opened();  // the lines held behind the handshake may go now
                streaming =
                    status == 200 && relay::starts_with(ascii_lower(find_header(h, "Content-Type")),
                                                        "text/event-stream");
                return streaming;
            };
            auto on_body = [&](std::string_view chunk) {
                failures = 0;
                parser.feed(chunk);
                return true;
            };
            HttpResult result = conn->send(
                "GET", options_.server.target, headers, "",
                [&](int status, const HeaderList& h) {
                    return relay::guarded(reply.failure, [&] { return on_head(status, h); });
                },
                [&](std::string_view chunk) {
                    return relay::guarded(reply.failure, [&] { return on_body(chunk); });
                });
            note_listen_opened();  // also when it failed: nobody waits for it any longer
            if (!parser.last_event_id().empty()) last_event_id = parser.last_event_id();
            retry_ms = parser.retry_ms();
            if (reply.failure) std::rethrow_exception(reply.failure);
            log_.debug("GET event stream -> " +
                       (reply.status ? "HTTP " + std::to_string(reply.status) : result.error));
            if (result.cancelled && !streaming) {
                if (reply.status != 404 || session.empty()) {
                    log_.debug("the server offers no GET stream (HTTP " +
                               std::to_string(reply.status) + ")");
                    break;
                }
                // The session expired: wait until a request renews it, then listen on the new
                // one.
                last_event_id.clear();
                std::unique_lock<std::mutex> lock(mutex_);
                stop_cv_.wait(lock, [&] { return stopping_ || session_.session_id() != session; });
                continue;
            }
            if (!result.error.empty() && !result.cancelled && ++failures > 5) {
                log_.error("giving up on the server's event stream: " + result.error);
                break;
            }
        } catch (const std::exception& e) {
            // The stream is lost, never the relay: reconnect, as after a network failure.
            log_.error("internal error on the server's event stream: " + std::string(e.what()));
            if (++failures > 5) {
                log_.error("giving up on the server's event stream");
                break;
            }
        }
        // Reconnect after the delay the server asked for (SSE `retry`), 1 s by default; at
        // least 100 ms, so a server that closes at once with `retry: 0` cannot spin us.
        if (!wait(relay::reconnect_delay(retry_ms))) break;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    listen_conn_.reset();
}

HeaderList Relay::session_headers() {
    HeaderList headers = options_.static_headers;
    std::lock_guard<std::mutex> lock(mutex_);
    // The last token that worked: asking the token source could wait on a login.
    if (!last_credential_.empty())
        headers.push_back({options_.auth->header_name(), last_credential_});
    if (!session_.session_id().empty())
        headers.push_back({"Mcp-Session-Id", session_.session_id()});
    if (!session_.version().empty())
        headers.push_back({"MCP-Protocol-Version", session_.version()});
    return headers;
}

void Relay::end_session() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session_.session_id().empty()) return;
    }
    // Bounded tightly: the host is waiting for us to exit.
    HttpOptions http = options_.http;
    http.connect_timeout = std::chrono::milliseconds(300);
    http.read_timeout = std::chrono::milliseconds(400);
    auto conn = http_.connect(options_.server, http);
    HeaderList headers = session_headers();
    int status = 0;
    auto result = conn->send(
        "DELETE", options_.server.target, headers, "",
        [&](int s, const HeaderList&) { return status = s, true; },
        [](std::string_view) { return true; });
    log_.debug("ended the session: " + (status ? "HTTP " + std::to_string(status) : result.error));
}

}  // namespace mcp_auth
