#include "core/jsonrpc.h"

#include <cctype>
#include <utility>

namespace mcp_auth::jsonrpc {

MessageInfo classify(const json& message) {
    MessageInfo info;
    if (!message.is_object()) {
        info.problem = message.is_array() ? "batches are not supported by MCP"
                                          : "a message must be a JSON object";
        return info;
    }
    auto version = message.find("jsonrpc");
    if (version == message.end() || *version != "2.0") {
        info.problem = "missing \"jsonrpc\": \"2.0\"";
        return info;
    }
    auto id = message.find("id");
    bool has_id = id != message.end();
    if (has_id) {
        if (!id->is_string() && !id->is_number_integer()) {
            info.problem = "\"id\" must be a string or an integer";
            if (id->is_number()) info.id = *id;
            return info;
        }
        info.id = *id;
    }
    auto method = message.find("method");
    if (method != message.end()) {
        if (!method->is_string()) {
            info.problem = "\"method\" must be a string";
            return info;
        }
        info.method = method->get<std::string>();
        info.kind = has_id ? Kind::Request : Kind::Notification;
        return info;
    }
    if (has_id && (message.contains("result") != message.contains("error"))) {
        info.kind = Kind::Response;
        return info;
    }
    info.problem = "neither a request, a notification nor a response";
    return info;
}

std::string error_response(const json& id, int code, std::string_view message, const json& data) {
    // Keys in the conventional order, so a person reading the stream sees "jsonrpc" first.
    nlohmann::ordered_json error = {{"code", code}, {"message", message}};
    if (!data.is_null()) error["data"] = data;
    nlohmann::ordered_json out = {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// Advances past a JSON string starting at text[i] == '"'; returns the index after the
// closing quote, or npos when the text ends first.
size_t skip_string(std::string_view text, size_t i) {
    for (++i; i < text.size(); ++i) {
        if (text[i] == '\\') {
            ++i;
        } else if (text[i] == '"') {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

size_t skip_space(std::string_view text, size_t i) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    return i;
}

}  // namespace

namespace {

// A member name as a parser reads it ("\u0069d" is "id"), when it may be one of the few
// the scan looks for; "" otherwise.
std::string member_name(std::string_view quoted) {
    std::string_view inner = quoted.substr(1, quoted.size() - 2);
    if (inner.find('\\') == std::string_view::npos) return std::string(inner.substr(0, 16));
    if (quoted.size() > 64) return {};  // "method" with every letter escaped is 38 bytes
    json name = json::parse(quoted, nullptr, false);
    return name.is_string() ? name.get<std::string>() : std::string();
}

// Reads the top-level members of the object in `text`; with `stop_at_id`, only until the
// first "id" (what sniff_id needs), else to the end, the last "id" counting (as parsers
// take the last of duplicate names).
Envelope scan_envelope(std::string_view text, bool stop_at_id) {
    Envelope out;
    size_t i = skip_space(text, 0);
    if (i >= text.size() || text[i] != '{') return out;
    size_t depth = 0;
    bool expect_key = false;
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (c == '{' || c == '[') {
            ++depth;
            expect_key = (c == '{' && depth == 1);
        } else if (c == '}' || c == ']') {
            if (depth <= 1) return out;
            --depth;
        } else if (c == ',') {
            expect_key = (depth == 1);
        } else if (c == '"') {
            size_t end = skip_string(text, i);
            if (end == std::string_view::npos) return out;
            std::string key = expect_key ? member_name(text.substr(i, end - i)) : std::string();
            expect_key = false;
            i = end - 1;
            if (key == "method") {
                out.has_method = true;
            } else if (key == "result") {
                out.has_result = true;
            } else if (key == "error") {
                out.has_error = true;
            } else if (key == "id" && !(stop_at_id && out.has_id)) {
                out.has_id = true;
                out.id.reset();
                size_t v = skip_space(text, end);
                if (v >= text.size() || text[v] != ':') return out;
                v = skip_space(text, v + 1);
                if (v >= text.size()) return out;
                size_t v_end;
                if (text[v] == '"') {
                    v_end = skip_string(text, v);
                    if (v_end == std::string_view::npos) return out;
                } else {
                    v_end = v;
                    while (v_end < text.size() &&
                           (std::isdigit(static_cast<unsigned char>(text[v_end])) ||
                            text[v_end] == '-'))
                        ++v_end;
                    // A number cut off by the end of the text is not trustworthy, and one
                    // with a fraction or an exponent is no integer.
                    if (v_end == text.size()) return out;
                    if (v_end == v || text[v_end] == '.' || text[v_end] == 'e' ||
                        text[v_end] == 'E') {
                        if (stop_at_id) return out;
                        i = v - 1;  // not an id we can use (an object, an array...): read on
                        continue;
                    }
                }
                json id = json::parse(text.substr(v, v_end - v), nullptr, false);
                if (!id.is_discarded() && (id.is_string() || id.is_number_integer()))
                    out.id = std::move(id);
                if (stop_at_id) return out;
                i = v_end - 1;
            }
        }
    }
    return out;
}

}  // namespace

std::optional<json> sniff_id(std::string_view text) {
    return scan_envelope(text, true).id;
}

Envelope sniff_envelope(std::string_view text) {
    return scan_envelope(text, false);
}

bool is_one_line_object(std::string_view text) {
    size_t i = skip_space(text, 0);
    if (i >= text.size() || text[i] != '{') return false;
    if (text.find('\n') != std::string_view::npos || text.find('\r') != std::string_view::npos)
        return false;
    return json::accept(text);
}

std::optional<std::string> to_one_line(std::string_view text) {
    size_t i = skip_space(text, 0);
    if (i >= text.size() || text[i] != '{' || !json::accept(text)) return std::nullopt;
    return one_line(text);
}

std::string one_line(std::string_view valid_json) {
    std::string out(valid_json);
    for (auto& c : out)
        if (c == '\n' || c == '\r') c = ' ';
    return out;
}

}  // namespace mcp_auth::jsonrpc
