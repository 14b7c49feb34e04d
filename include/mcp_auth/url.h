#pragma once
// URL parsing and the transport policy for server URLs. Pure logic: no I/O.
#include <optional>
#include <string>
#include <string_view>

namespace mcp_auth {

struct Url {
    std::string scheme;  // lower-case: "http" or "https"
    std::string host;    // as written; IPv6 literals keep their brackets
    int port = 0;        // explicit port, or the scheme's default
    std::string target;  // path plus query, always starting with '/'

    // "scheme://host:port", the form cpp-httplib takes and errors quote.
    std::string origin() const;
    // "host:port", for user-facing messages.
    std::string authority() const;
};

// Parses an absolute http(s) URL. Returns nullopt with `error` set on anything else
// (other schemes, user-info, fragments, bad ports).
std::optional<Url> parse_url(std::string_view text, std::string* error);

// True for hosts that can only be reached on this machine: localhost, *.localhost,
// 127.0.0.0/8, and [::1].
bool is_loopback_host(std::string_view host);

// The policy: https always; http only for loopback hosts unless `allow_http`.
// Returns an empty string when allowed, else a user-facing reason.
std::string check_url_policy(const Url& url, bool allow_http);

}  // namespace mcp_auth
