#pragma once
// The relay's error mapping: what the client reads (a JSON-RPC error with mcp-auth's
// words, or the server's own) when an exchange went wrong, and what the log says. Pure
// logic: facts in, lines out; the relay writes them.
//
// Rules: every message says what happened and what to do; `data.host` names the server
// (never the URL: its query may hold a credential); the server's own JSON-RPC error is
// kept (its code and words) under the client's id; transport failures use -32000 and
// timeouts -32001 (the MCP SDKs' "connection closed" and "request timeout").
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mcp_auth::relay {

using nlohmann::json;

// "64 MiB" for whole mebibytes, else "N bytes".
std::string describe_size(size_t bytes);

// What to try after the server answered HTTP `status` (with a leading space), or "".
std::string status_hint(int status);

// An error body, parsed only up to a bounded size (discarded beyond it, or when not JSON).
json parse_error_body(const std::string& body);

// A 2026-07-28 HeaderMismatch error (-32020): the headers do not match the body.
bool is_header_mismatch(const std::string& body);

// A 403 that a token with more scope would fix (RFC 6750 §3.1).
bool needs_scope(const std::string& www_authenticate);

// The answer to request `id` (`label`: its method) that the server refused with HTTP
// `status` and `body`: the server's JSON-RPC error when the body holds one, else ours.
std::string http_error(const json& id, std::string_view label, const std::string& host, int status,
                       const std::string& body);

// Why an exchange produced no answer, as far as the words for it go.
struct FailureFacts {
    std::string label;  // the client message's method, or "a response"
    std::string host;   // the server's authority
    int status = 0;     // 0 when no response head arrived
    bool too_big = false;
    size_t max_message_bytes = 0;
    std::string transport_error;  // HttpResult::error
    bool timed_out = false;
    bool tls = false;
    bool event_stream = false;  // the reply was an event stream (that ended early)
    std::string dropped;        // why a server message on the reply was dropped, if one was
};

struct FailureReport {
    std::string log;       // for stderr
    std::string response;  // for stdout: the error for request `id`; "" for a notification
};

// `id` is the request's, null for a notification (which gets no response).
FailureReport describe_failure(const FailureFacts& facts, const json* id);

// The answer to request `id` when no usable token could be had (`message`: why, from the
// token source); `login_required` tells the client a login would fix it.
std::string auth_failure(const json& id, const std::string& host, int status,
                         const std::string& message, bool login_required);

// The answer mcp-auth gives in the server's place (`what` happened, without the final
// period), e.g. when the server's reply was dropped.
std::string answer_instead(const json& id, const std::string& host, const std::string& what);

// The answer to a stdin line over --max-message-bytes, and the log line about it.
std::string oversized_line_error(const json& id, size_t total_bytes, size_t max_message_bytes);

}  // namespace mcp_auth::relay
