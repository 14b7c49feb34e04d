#pragma once
// Wildcard patterns: '*' matches any run of characters (none included), every other
// character itself, exactly (callers that compare without case lower both sides first).
// Used by the tool filters (core/tool_filter.h) and the Windows proxy bypass list
// (core/ie_proxy.h).
#include <string_view>

namespace mcp_auth {

// Greedy with one backtrack point: linear in practice, at worst the product of the two
// lengths, which callers bound.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace mcp_auth
