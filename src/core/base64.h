#pragma once
// Base64 (RFC 4648 §4) and base64url without padding (§5). Pure logic.
#include <optional>
#include <string>
#include <string_view>

namespace mcp_auth {

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // no '=' padding
// Accepts both alphabets, with or without padding; nullopt on other characters.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace mcp_auth
