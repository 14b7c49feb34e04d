#pragma once
// JSON that came from the network, bounded in depth. nlohmann::json parses without
// recursion, but dumps, compares and copies recursively: a reply nested 100,000 deep would
// overflow the stack later, far from where it arrived. Every parse of bytes a server, an
// authorization server or a stored record sent goes through parse_json. Pure logic.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcp_auth {

// Deeper than any real MCP or OAuth document; shallow enough for any thread's stack.
inline constexpr size_t kMaxJsonDepth = 512;

// True when the arrays and objects in `text` nest deeper than `limit` (a scan of the text
// that knows strings and escapes; no parse, no recursion).
bool json_text_deeper_than(std::string_view text, size_t limit);

// Parses `text`. Text that is not JSON, or nests deeper than `max_depth`, gives a discarded
// value (is_discarded()), as json::parse(text, nullptr, false) does for bad JSON.
nlohmann::json parse_json(std::string_view text, size_t max_depth = kMaxJsonDepth);

// Reading members of such a document, whatever it holds: the member `key` of `doc` when it
// is a string, else "" (absent, another type, or `doc` not an object).
std::string string_member(const nlohmann::json& doc, const char* key);
// The strings of the array member `key` (other elements skipped); empty when absent.
std::vector<std::string> string_list_member(const nlohmann::json& doc, const char* key);

}  // namespace mcp_auth
