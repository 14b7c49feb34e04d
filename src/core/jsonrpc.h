#pragma once
// JSON-RPC 2.0 message helpers for the relay. Pure logic.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mcp_auth::jsonrpc {

using nlohmann::json;

// Standard codes, plus the ones the relay uses for transport failures. -32000 and
// -32001 match the MCP SDKs' "connection closed" and "request timeout".
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kInvalidParams = -32602;  // MCP: an unknown tool
inline constexpr int kInternalError = -32603;
inline constexpr int kTransportError = -32000;
inline constexpr int kTimeout = -32001;

enum class Kind { Request, Notification, Response, Invalid };

struct MessageInfo {
    Kind kind = Kind::Invalid;
    json id;              // null for notifications and invalid messages
    std::string method;   // requests and notifications
    std::string problem;  // why a message is Invalid
};

// Classifies a parsed value as a JSON-RPC 2.0 message (no batches: MCP removed them).
MessageInfo classify(const json& message);

// One JSON-RPC error response, serialized on one line without the trailing newline.
std::string error_response(const json& id, int code, std::string_view message,
                           const json& data = nullptr);

// Recovers a top-level "id" (number or string) from text that may be truncated or
// malformed, so an error about that text can still reach the request that caused it.
std::optional<json> sniff_id(std::string_view text);

// The top level of a message's text, read without parsing it (one pass, no recursion):
// for a message too deep, too big or too broken to parse, what it was and whom it answers.
struct Envelope {
    std::optional<json> id;   // the (last) top-level "id", when it is a string or an integer
    bool has_id = false;      // an "id" member, usable or not
    bool has_method = false;  // a request (with an id) or a notification
    bool has_result = false;
    bool has_error = false;
};
Envelope sniff_envelope(std::string_view text);

// True when `text` holds exactly one JSON object and no raw newline, so it can be
// written to stdout as one message line without re-serializing it.
bool is_one_line_object(std::string_view text);

// Turns a JSON object in `text` into one line; returns nullopt if `text` is not an object.
std::optional<std::string> to_one_line(std::string_view text);

// Valid JSON text on one line: its raw CR and LF (only ever whitespace between tokens in
// valid JSON) become spaces. No parsing, no recursion, whatever the nesting depth.
std::string one_line(std::string_view valid_json);

}  // namespace mcp_auth::jsonrpc
