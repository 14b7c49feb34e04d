#pragma once
// The relay's unit of work (one client message), what one exchange for it collected, and
// the small helpers its parts share. Private to app/relay.
#include <algorithm>
#include <cctype>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "core/headers.h"
#include "core/jsonrpc.h"
#include "core/sse.h"

namespace mcp_auth::relay {

struct Job {
    std::string body;
    HeaderList headers;  // protocol headers; the session's and the token are added when sent
    jsonrpc::MessageInfo info;
    bool modern = false;  // sent under a 2026-07-28 or later protocol version
    bool replay = false;  // mcp-auth's own replay of the client's handshake: not shown
    // A handshake step (initialize, or the client's notifications/initialized) whose end
    // has released the lines held behind it.
    bool init_finished = false;
    // Run by the stdin thread itself (Relay::run_on_intake); a step that may wait long (a
    // token renewal) hands the job over to a worker instead (`handed_over`).
    bool on_intake = false;
    bool handed_over = false;
    std::string pending_key() const { return info.id.dump(); }
    bool is_request() const { return info.kind == jsonrpc::Kind::Request; }
    // Any other client notification: later lines wait until its POST is answered.
    bool holds_later() const {
        return !replay && info.kind == jsonrpc::Kind::Notification &&
               info.method != "notifications/initialized";
    }
    // The client's notifications/initialized (not mcp-auth's replay of it).
    bool acknowledges_handshake() const {
        return !replay && info.kind == jsonrpc::Kind::Notification &&
               info.method == "notifications/initialized";
    }
    std::string label() const { return info.method.empty() ? "a response" : info.method; }
};

struct Reply {
    int status = 0;
    std::string content_type;
    std::string session_id;
    std::string body;                // JSON replies and error bodies
    std::unique_ptr<SseParser> sse;  // bounded: one event may not go over --max-message-bytes
    bool too_big = false;
    bool answered = false;         // the response to this request arrived on this reply
    std::string protocol_version;  // from an InitializeResult
    std::string www_authenticate;
    std::string sent_session;    // the session id the request carried
    bool sse_events = false;     // the reply was an event stream
    std::string dropped;         // why a server message on this reply could not be relayed
    std::exception_ptr failure;  // thrown in a callback; rethrown after send() returns
};

inline bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// Runs a callback cpp-httplib makes. An exception must not unwind through the library
// (its connection would be left half-read): it is kept in `failure`, the exchange stops,
// and the caller rethrows it once send() has returned.
template <class F>
bool guarded(std::exception_ptr& failure, F&& callback) {
    try {
        return callback();
    } catch (...) {
        failure = std::current_exception();
        return false;
    }
}

}  // namespace mcp_auth::relay
