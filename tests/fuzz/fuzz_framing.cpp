// Fuzzes the stdin side of the relay: newline framing (src/framing.cpp), JSON-RPC
// classification, id recovery and error responses (src/jsonrpc.cpp), and the MCP request
// headers derived from a message (src/mcp_headers.cpp).
//
// The first input byte picks the framer's (small) line limit and the negotiated protocol
// version; the rest is the stdin stream. Invariants:
//  - framing: fed whole, the framer gives exactly the lines of a reference model (split at
//    '\n', one trailing '\r' dropped, blank lines skipped, lines over the limit reported
//    with their length and first 4096 bytes); fed in chunks cut at positions derived from
//    the input, the same lines and oversized lengths (an oversized prefix is then still a
//    prefix of the line, at least limit + 1 bytes or the whole line);
//  - classify: a Request has a string or integer id and the message's method, a
//    Notification no id, a Response an id and exactly one of result/error, an Invalid a
//    reason;
//  - sniff_id: on a valid object without duplicate top-level keys whose id is a string or
//    integer, a recovered id is that id (and it is always recovered when the text has no
//    backslash, so no escaped key can hide it); the same holds for an oversized prefix;
//  - error_response always parses as one JSON line with the given id and code, whatever
//    bytes (invalid UTF-8 included) the message and data hold;
//  - is_one_line_object / to_one_line agree with the JSON parser;
//  - ToolHeaderMap::learn leaves a result it rejects nothing from unchanged, otherwise
//    keeps exactly the other tools in order, and what it kept is accepted again;
//  - request_metadata: header names are HTTP tokens, values hold no CR, LF, NUL or other
//    control characters (they go on the wire as they are), Mcp-Name is the name itself
//    when that is visible ASCII (inner blanks allowed) without leading or trailing blanks,
//    else the =?base64?...?= form that decodes to the name.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/framing.h"
#include "core/headers.h"
#include "core/jsonrpc.h"
#include "core/mcp_headers.h"
#include "fuzz_common.h"

using nlohmann::json;
namespace jsonrpc = mcp_auth::jsonrpc;
using mcp_auth::LineFramer;

namespace {

struct Frame {
    bool oversized = false;
    std::string text;  // the line, or the oversized prefix
    size_t total = 0;
};

std::vector<Frame> frame(size_t max, const std::vector<std::string_view>& chunks) {
    std::vector<Frame> out;
    LineFramer framer(max, {[&](std::string&& line) {
                                out.push_back({false, std::move(line), 0});
                            },
                            [&](std::string_view prefix, size_t total) {
                                out.push_back({true, std::string(prefix), total});
                            }});
    for (auto c : chunks) framer.feed(c);
    framer.finish();
    return out;
}

// What the framer should give, from the header's description.
std::vector<Frame> model(size_t max, std::string_view stream, std::vector<std::string>* raw) {
    std::vector<Frame> out;
    size_t start = 0;
    while (start < stream.size()) {
        size_t nl = stream.find('\n', start);
        std::string_view line =
            stream.substr(start, nl == std::string_view::npos ? nl : nl - start);
        start = nl == std::string_view::npos ? stream.size() : nl + 1;
        if (line.size() > max) {
            out.push_back(
                {true, std::string(line.substr(0, LineFramer::kOversizePrefix)), line.size()});
            raw->push_back(std::string(line));
            continue;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        out.push_back({false, std::string(line), 0});
        raw->push_back(std::string(line));
    }
    return out;
}

std::string describe(const std::vector<Frame>& frames) {
    std::string out = std::to_string(frames.size()) + " frames:";
    for (size_t i = 0; i < frames.size() && i < 6; ++i)
        out += frames[i].oversized ? " [oversized " + std::to_string(frames[i].total) + " " +
                                         fuzz::show(frames[i].text, 30) + "]"
                                   : " [" + fuzz::show(frames[i].text, 40) + "]";
    return out;
}

// The top-level keys of a valid JSON value, through the parser's callback.
struct Parsed {
    json value;
    bool duplicate_keys = false;
};

Parsed parse(std::string_view text) {
    Parsed p;
    std::set<std::string> keys;
    p.value = json::parse(
        text,
        [&](int depth, json::parse_event_t event, json& parsed) {
            if (event == json::parse_event_t::key && depth == 1 &&
                !keys.insert(parsed.get<std::string>()).second)
                p.duplicate_keys = true;
            return true;
        },
        false);
    return p;
}

void check_error_response(const json& id, int code, const std::string& message, const json& data) {
    std::string out = jsonrpc::error_response(id, code, message, data);
    FUZZ_CHECK(out.find_first_of("\r\n") == std::string::npos, "not one line: " + fuzz::show(out));
    json back = json::parse(out, nullptr, false);
    FUZZ_CHECK(!back.is_discarded() && back.is_object(), "does not parse: " + fuzz::show(out));
    FUZZ_CHECK(back["jsonrpc"] == "2.0" && back["id"] == id && back["error"]["code"] == code,
               "wrong fields: " + fuzz::show(out));
    FUZZ_CHECK(back["error"]["message"].is_string(), "message: " + fuzz::show(out));
}

void check_sniff(std::string_view text, const Parsed& full, std::string_view full_text) {
    auto sniffed = jsonrpc::sniff_id(text);
    if (sniffed)
        FUZZ_CHECK(sniffed->is_string() || sniffed->is_number_integer(), "sniffed a non-id");
    const json& v = full.value;
    if (v.is_discarded() || !v.is_object() || full.duplicate_keys || !v.contains("id")) return;
    const json& id = v["id"];
    if (!id.is_string() && !id.is_number_integer()) return;
    if (sniffed) {
        FUZZ_CHECK(*sniffed == id, "sniffed " + sniffed->dump() + " but the id is " + id.dump() +
                                       " in " + fuzz::show(full_text));
    } else if (text.size() == full_text.size() && text.find('\\') == std::string_view::npos) {
        fuzz::fail(__FILE__, __LINE__, "sniff_id found no id",
                   "the id is " + id.dump() + " in " + fuzz::show(text));
    }
}

bool is_header_value_safe(std::string_view v) {
    for (unsigned char c : v)
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    return true;
}

bool is_encoded_form(std::string_view value, std::string_view original) {
    bool plain = !value.empty() && value.front() != ' ' && value.front() != '\t' &&
                 value.back() != ' ' && value.back() != '\t';
    // Visible ASCII and blanks inside (RFC 9110 field-content allows HTAB there).
    for (unsigned char c : value) plain = plain && ((c >= 0x20 && c <= 0x7e) || c == '\t');
    if (value.size() >= 11 && value.substr(0, 9) == "=?base64?" &&
        value.substr(value.size() - 2) == "?=") {
        auto decoded = mcp_auth::base64_decode(value.substr(9, value.size() - 11));
        return decoded && *decoded == original;
    }
    return plain && value == original;
}

void check_message(const json& msg, const std::string& negotiated) {
    auto info = jsonrpc::classify(msg);
    switch (info.kind) {
        case jsonrpc::Kind::Request:
            FUZZ_CHECK(info.id.is_string() || info.id.is_number_integer(), "request id");
            FUZZ_CHECK(msg.at("method") == info.method, "method");
            break;
        case jsonrpc::Kind::Notification:
            FUZZ_CHECK(info.id.is_null() && !msg.contains("id"), "notification with an id");
            break;
        case jsonrpc::Kind::Response:
            FUZZ_CHECK(info.method.empty() && msg.contains("id"), "response");
            FUZZ_CHECK(msg.contains("result") != msg.contains("error"), "result and error");
            break;
        case jsonrpc::Kind::Invalid:
            FUZZ_CHECK(!info.problem.empty(), "an invalid message without a reason");
            check_error_response(info.id, jsonrpc::kInvalidRequest,
                                 "mcp-auth: not a JSON-RPC 2.0 message (" + info.problem + ")",
                                 nullptr);
            break;
    }

    // The line as a tools/list result (and its "result" member): learn, then learn again.
    mcp_auth::mcp::ToolHeaderMap tools;
    for (json candidate :
         {msg, msg.is_object() && msg.contains("result") ? msg["result"] : json()}) {
        if (!candidate.is_object()) continue;
        size_t before = candidate.contains("tools") && candidate["tools"].is_array()
                            ? candidate["tools"].size()
                            : 0;
        const json original = candidate;
        auto rejected = tools.learn(candidate);
        for (const auto& r : rejected) FUZZ_CHECK(!r.reason.empty(), "a rejection without reason");
        if (rejected.empty()) {
            FUZZ_CHECK(candidate == original,
                       "learn rejected nothing but changed the tools: " +
                           fuzz::show(original.value("tools", json()).dump(), 120) + " became " +
                           fuzz::show(candidate.value("tools", json()).dump(), 120));
        } else {
            // What is left is the original list minus the rejected tools, in order.
            const json& kept = candidate["tools"];
            FUZZ_CHECK(kept.size() + rejected.size() == before, "learn lost or invented tools");
            size_t k = 0;
            for (const auto& tool : original["tools"])
                if (k < kept.size() && kept[k] == tool) ++k;
            FUZZ_CHECK(k == kept.size(),
                       "the kept tools are not the original ones: " + fuzz::show(kept.dump(), 120));
        }
        mcp_auth::mcp::ToolHeaderMap fresh;
        auto again = fresh.learn(candidate);
        FUZZ_CHECK(again.empty(), "a kept tool is rejected on a second look: " +
                                      (again.empty() ? "" : again[0].reason));
    }

    if (info.kind != jsonrpc::Kind::Request && info.kind != jsonrpc::Kind::Notification) return;
    auto headers = mcp_auth::mcp::request_metadata(msg, info.method, negotiated, tools);
    for (const auto& h : headers) {
        FUZZ_CHECK(mcp_auth::is_token(h.name), "header name " + fuzz::show(h.name));
        FUZZ_CHECK(is_header_value_safe(h.value),
                   "header " + h.name + ": " + fuzz::show(h.value) +
                       " would go on the wire with control characters");
        if (h.name == "Mcp-Name") {
            const auto& params = msg["params"];
            std::string original =
                params[info.method == "resources/read" ? "uri" : "name"].get<std::string>();
            FUZZ_CHECK(is_encoded_form(h.value, original),
                       "Mcp-Name " + fuzz::show(h.value) + " for " + fuzz::show(original));
        }
    }
}

void check_line(const std::string& line) {
    Parsed p = parse(line);
    check_sniff(line, p, line);
    // What the relay answers to a line it cannot send, with the line itself in the message
    // and the data (invalid UTF-8 included).
    json sniffed = jsonrpc::sniff_id(line).value_or(nullptr);
    check_error_response(sniffed, jsonrpc::kParseError, "not JSON: " + line, json{{"line", line}});

    bool one_line = jsonrpc::is_one_line_object(line);
    if (one_line)
        FUZZ_CHECK(!p.value.is_discarded() && p.value.is_object(),
                   "is_one_line_object on a non-object " + fuzz::show(line));
    auto converted = jsonrpc::to_one_line(line);
    FUZZ_CHECK(converted.has_value() == (!p.value.is_discarded() && p.value.is_object()),
               "to_one_line disagrees with the parser on " + fuzz::show(line));
    if (converted) {
        FUZZ_CHECK(jsonrpc::is_one_line_object(*converted),
                   "to_one_line gave " + fuzz::show(*converted));
        FUZZ_CHECK(json::parse(*converted) == p.value, "to_one_line changed the value");
    }
    if (p.value.is_discarded()) return;
    check_message(p.value, line.size() % 2 ? "2025-11-25" : "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    size_t small = 1 + static_cast<size_t>(data[0] % 128) * 4;  // 1 .. 509 bytes
    std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

    std::vector<std::string> raw;
    auto expected = model(small, stream, &raw);
    auto whole = frame(small, {stream});
    FUZZ_CHECK(whole.size() == expected.size(),
               "whole: " + describe(whole) + "; expected " + describe(expected));
    for (size_t i = 0; i < whole.size(); ++i)
        FUZZ_CHECK(whole[i].oversized == expected[i].oversized &&
                       whole[i].text == expected[i].text && whole[i].total == expected[i].total,
                   "frame " + std::to_string(i) + ": " + describe(whole) + "; expected " +
                       describe(expected));

    for (size_t max_chunk : {1, 5, 64}) {
        auto cut = frame(small, fuzz::chunks(stream, max_chunk, max_chunk));
        FUZZ_CHECK(cut.size() == expected.size(),
                   "chunked: " + describe(cut) + "; expected " + describe(expected));
        for (size_t i = 0; i < cut.size(); ++i) {
            FUZZ_CHECK(
                cut[i].oversized == expected[i].oversized && cut[i].total == expected[i].total,
                "chunked frame " + std::to_string(i));
            if (!cut[i].oversized) {
                FUZZ_CHECK(cut[i].text == expected[i].text, "chunked line " + std::to_string(i));
                continue;
            }
            size_t least = std::min({cut[i].total, small + 1, LineFramer::kOversizePrefix});
            FUZZ_CHECK(cut[i].text.size() >= least &&
                           cut[i].text.size() <= LineFramer::kOversizePrefix &&
                           expected[i].text.compare(0, cut[i].text.size(), cut[i].text) == 0,
                       "oversized prefix " + fuzz::show(cut[i].text, 40));
        }
    }

    // A framer with the real-world shape (limit above the prefix size) keeps whole lines.
    auto large = frame(LineFramer::kOversizePrefix + data[0], fuzz::chunks(stream, 97, 3));
    std::vector<std::string> raw_large;
    auto expected_large = model(LineFramer::kOversizePrefix + data[0], stream, &raw_large);
    FUZZ_CHECK(large.size() == expected_large.size(), "large framer: " + describe(large));
    for (size_t i = 0; i < large.size(); ++i)
        FUZZ_CHECK(
            large[i].text == expected_large[i].text && large[i].total == expected_large[i].total,
            "large framer frame " + std::to_string(i));

    for (size_t i = 0; i < expected.size(); ++i) {
        if (expected[i].oversized) {
            // The relay answers an oversized line with the id found in its prefix.
            check_sniff(expected[i].text, parse(raw[i]), raw[i]);
            check_error_response(jsonrpc::sniff_id(expected[i].text).value_or(nullptr),
                                 jsonrpc::kInvalidRequest, "too big", nullptr);
            continue;
        }
        check_line(expected[i].text);
    }
    for (size_t i = 0; i < expected_large.size(); ++i)
        if (!expected_large[i].oversized && expected_large[i].text.size() > small)
            check_line(expected_large[i].text);
    return 0;
}
