#pragma once
// JSON that came from the network, bounded in depth. nlohmann::json parses without
// recursion, but dumps, compares and copies recursively: a reply nested 100,000 deep would
// overflow the stack later, far from where it arrived. Every parse of bytes a server, an
// authorization server or a stored record sent goes through parse_json. Pure logic.
#include <cstddef>
#include <string_view>

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

}  // namespace mcp_auth
