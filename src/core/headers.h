#pragma once
// Static request headers given on the command line (--header "Name: value").
// Pure logic: the environment is passed in as a lookup function.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_auth {

struct Header {
    std::string name;
    std::string value;
};
using HeaderList = std::vector<Header>;

// Returns the variable's value, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Replaces each ${NAME} in `text` with the variable's value. "$$" is a literal "$".
// An unset variable is an error (a silently empty token is worse than a clear stop).
std::optional<std::string> expand_env(std::string_view text, const EnvLookup& env,
                                      std::string* error);

// Parses "Name: value" (value expanded with `env`). Rejects names that are not HTTP
// tokens and values with control characters, which could smuggle extra headers.
std::optional<Header> parse_header(std::string_view spec, const EnvLookup& env, std::string* error);

// RFC 9110 token characters (header names).
bool is_token(std::string_view name);

// A header value that cannot smuggle anything: no control characters but tab (RFC 9110 §5.5).
bool is_safe_header_value(std::string_view value);

// Case-insensitive ASCII comparison, as header names require.
bool iequals(std::string_view a, std::string_view b);

// `s` with ASCII letters in lower case (schemes, host names, header and parameter names).
std::string ascii_lower(std::string_view s);

// The first value of a header, case-insensitively; "" when absent.
std::string find_header(const HeaderList& headers, std::string_view name);

}  // namespace mcp_auth
