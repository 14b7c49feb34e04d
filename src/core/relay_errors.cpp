#include "core/relay_errors.h"

#include "core/json_limits.h"
#include "core/jsonrpc.h"
#include "core/www_authenticate.h"

namespace mcp_auth::relay {

namespace {

// Error bodies are parsed (for the server's JSON-RPC error) only up to this size: a parsed
// document costs 8 to 16 times its text, and a real error is a few hundred bytes.
constexpr size_t kMaxParsedErrorBody = 1u << 20;

}  // namespace

std::string describe_size(size_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + " bytes";
}

std::string status_hint(int status) {
    if (status == 401)
        return " The server requires authorization: pass a token with --header \"Authorization: "
               "Bearer "
               "${TOKEN}\".";
    if (status == 403) return " The server refused access to this request.";
    if (status == 404) return " Check the server URL (path included).";
    if (status == 405 || status == 415 || status == 406)
        return " The URL may not be a Streamable HTTP MCP endpoint.";
    if (status >= 500) return " The server failed; try again later or check the server's logs.";
    return "";
}

json parse_error_body(const std::string& body) {
    return body.size() <= kMaxParsedErrorBody ? parse_json(body) : json(json::value_t::discarded);
}

bool is_header_mismatch(const std::string& body) {
    auto doc = parse_error_body(body);
    if (!doc.is_object()) return false;
    auto error = doc.find("error");
    if (error == doc.end() || !error->is_object()) return false;
    // Compared as JSON: a code of another type (a string, from a hostile server) is no
    // match; value("code", 0) would throw for it.
    auto code = error->find("code");
    return code != error->end() && *code == -32020;
}

bool needs_scope(const std::string& www_authenticate) {
    auto bearer = find_bearer_challenge(www_authenticate);
    return bearer && bearer->param("error") == "insufficient_scope";
}

std::string http_error(const json& id, std::string_view label, const std::string& host, int status,
                       const std::string& body) {
    json data = {{"status", status}, {"host", host}};
    json parsed = parse_error_body(body);  // bounded: error.data is copied and dumped below
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
        const json& error = parsed["error"];
        if (error.contains("code") && error["code"].is_number_integer() &&
            error.contains("message") && error["message"].is_string()) {
            // The server explained itself in JSON-RPC: keep its words, give them our id.
            if (error.contains("data")) data["server_data"] = error["data"];
            return jsonrpc::error_response(id, error["code"].get<int>(),
                                           error["message"].get<std::string>(), data);
        }
    }
    if (!body.empty() && body.size() <= 512)
        data["body"] = body;  // short plain-text explanations help
    std::string message = "mcp-auth: " + host + " answered HTTP " + std::to_string(status) +
                          " to " + std::string(label) + "." + status_hint(status);
    return jsonrpc::error_response(id, jsonrpc::kTransportError, message, data);
}

FailureReport describe_failure(const FailureFacts& f, const json* id) {
    std::string what;
    std::string hint;
    json data = {{"host", f.host}};
    if (f.status) data["status"] = f.status;
    if (f.too_big) {
        what = "the reply to " + f.label + " is over the " + describe_size(f.max_message_bytes) +
               " limit (--max-message-bytes), so it was dropped";
    } else if (!f.transport_error.empty()) {
        what = f.transport_error + " (sending " + f.label + ")";
        hint = f.timed_out ? " The server may be overloaded; try again, or raise --timeout."
               : f.tls     ? ""
                           : " Check that the MCP server is running and that the URL is right.";
    } else if (f.event_stream) {
        what = "the server closed the event stream before answering " + f.label;
        if (!f.dropped.empty())
            what += " (it sent a message that " + f.dropped + ", which was dropped)";
        hint = " Try again.";
    } else {
        what = "the server sent no JSON-RPC response to " + f.label +
               (f.status ? " (HTTP " + std::to_string(f.status) + ")" : "");
        hint = " The URL may not be an MCP endpoint.";
    }
    FailureReport report;
    report.log = what;
    if (id) {
        int code = f.timed_out ? jsonrpc::kTimeout : jsonrpc::kTransportError;
        report.response =
            jsonrpc::error_response(*id, code, "mcp-auth: " + what + "." + hint, data);
    }
    return report;
}

std::string auth_failure(const json& id, const std::string& host, int status,
                         const std::string& message, bool login_required) {
    json data = {{"status", status}, {"host", host}};
    if (login_required) data["login_required"] = true;
    return jsonrpc::error_response(id, jsonrpc::kTransportError, "mcp-auth: " + message, data);
}

std::string answer_instead(const json& id, const std::string& host, const std::string& what) {
    json data = {{"host", host}};
    return jsonrpc::error_response(id, jsonrpc::kTransportError, "mcp-auth: " + what + ".", data);
}

std::string oversized_line_error(const json& id, size_t total_bytes, size_t max_message_bytes) {
    std::string message = "mcp-auth: the message is " + std::to_string(total_bytes) +
                          " bytes, over the " + describe_size(max_message_bytes) +
                          " limit (--max-message-bytes), so it was not sent";
    return jsonrpc::error_response(id, jsonrpc::kInvalidRequest, message);
}

}  // namespace mcp_auth::relay
