#pragma once
// The relay's retry policy for one client message, as pure decisions: after each POST,
// what next (retry after a session replay, a tools relisting or a token renewal, or
// stop); at the end, what the client is told. The relay performs the steps; these
// functions only choose them, from facts about the reply and the attempts so far.
#include <chrono>
#include <optional>
#include <string>

namespace mcp_auth::relay {

// A refused token is renewed (refresh, login, or step-up) and the request retried; three
// retries cover 401 → login → 403 → step-up → success.
inline constexpr int kMaxRetries = 3;

// What one POST's reply said, as far as the retry policy cares.
struct ReplyFacts {
    int status = 0;
    bool transport_failed = false;                  // the exchange failed (HttpResult::error set)
    bool carried_session = false;                   // the request went with an Mcp-Session-Id
    const std::string* body = nullptr;              // the reply's (error) body, if collected
    const std::string* www_authenticate = nullptr;  // its WWW-Authenticate value, if any
};

struct Attempt {
    int number = 0;           // 0 for the first POST
    bool modern = false;      // sent under a 2026-07-28 or later protocol version
    bool tools_call = false;  // the message is a tools/call
    bool relisted = false;    // the tools were listed again already for this message
    bool can_renew = false;   // a token source is configured
};

enum class Step {
    Finish,         // the reply stands (delivered, or reported below)
    ReplaySession,  // 404 on a session: the server forgot it; replay the handshake, retry
    RelistTools,    // HeaderMismatch (-32020): list the tools again, retry once
    RenewToken,     // 401, or 403 insufficient_scope: renew the token, retry
};

Step next_step(const ReplyFacts& reply, const Attempt& attempt);

// A legacy event stream that ended (or broke) before the answer is resumed where it
// stopped, when the server gave its events ids (2025-11-25 polling, resumability).
struct StreamFacts {
    bool request = false;
    bool event_stream = false;
    bool too_big = false;
    bool answered = false;
    bool modern = false;
    bool cancelled = false;
    bool has_last_event_id = false;
};
bool should_resume(const StreamFacts& facts);

// How long to wait before resuming a POST's event stream: the server's `retry`, 1 s by
// default.
std::chrono::milliseconds resume_delay(std::optional<long> retry_ms);
// How long to wait before reconnecting the GET stream: the server's `retry`, 1 s by
// default; at least 100 ms, so a server that closes at once with `retry: 0` cannot spin us.
std::chrono::milliseconds reconnect_delay(std::optional<long> retry_ms);

// What the client is told once the exchange (and any resumption) is over.
struct Ending {
    bool replay = false;            // mcp-auth's own message (a replayed handshake)
    bool request = false;           // the client waits for a response
    bool answered = false;          // its response was delivered (on any stream)
    bool cancelled = false;         // the relay is shutting down
    bool too_big = false;           // the reply went over --max-message-bytes
    bool auth_failed = false;       // no usable token could be had
    bool transport_failed = false;  // HttpResult::error set
    bool http_success = false;      // a 2xx reply
};

enum class Outcome {
    Silent,            // nobody waits: a replay, or shutting down
    Delivered,         // the response reached the client
    AuthFailure,       // the client gets the token source's reason
    TransportFailure,  // no reply, a broken one, or one over the size limit
    HttpError,         // a non-2xx reply: the server's JSON-RPC error, or ours
    NoAnswer,          // a 2xx reply without the response to the request
    Accepted,          // a notification or a response the server took
};

Outcome outcome(const Ending& ending);

}  // namespace mcp_auth::relay
