#pragma once
// URL parsing and the transport policy for server URLs. Pure logic: no I/O.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/expected.h"

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
    // The URL in canonical form: lower-case scheme and host, no default port, and no
    // trailing slash for the root path (the RFC 8707 resource form MCP prefers).
    std::string to_string() const;
    // The URL for logs and messages: to_string() with the query replaced by "?…", since a
    // query may hold a credential (an API key some servers take there).
    std::string display() const;
    // The path without the query.
    std::string path() const { return target.substr(0, target.find('?')); }
    // Same scheme, host and port.
    bool same_origin(const Url& other) const;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view text);
// Decodes %XX and, when `plus_is_space`, '+' (application/x-www-form-urlencoded).
std::string percent_decode(std::string_view text, bool plus_is_space = true);
// name=value&... in application/x-www-form-urlencoded form.
std::string form_encode(const QueryParams& params);
// Parses a query string or form body (without a leading '?').
QueryParams parse_query(std::string_view query);
// The first value of `name`, if present.
std::optional<std::string> query_value(const QueryParams& params, std::string_view name);
// Appends parameters to a URL that may already have a query.
std::string append_query(std::string_view url, const QueryParams& params);

// An HTTP proxy to reach a server through.
struct ProxySetting {
    std::string host;
    int port = 0;
    std::string user;  // from user:password@ in the proxy URL
    std::string password;
    // Set when the environment names a proxy mcp-auth cannot use (socks5://, an https://
    // proxy, a malformed value): the request must fail with this message rather than go
    // out directly, which would bypass a proxy the user relies on. Never holds the
    // proxy's credentials.
    std::string error;
};

// The proxy for `target` from the environment, as curl reads it: https_proxy/HTTPS_PROXY
// for https targets, http_proxy/HTTP_PROXY for http ones, unless no_proxy/NO_PROXY
// (comma-separated host names, domain suffixes with or without a leading dot, host:port,
// or "*") names the target. Loopback targets never use a proxy (the token would reach
// the proxy for nothing). `env` returns a variable's value or "" when unset. Never throws,
// whatever the environment holds.
std::optional<ProxySetting> proxy_for(const Url& target,
                                      const std::function<std::string(const char*)>& env);

// The longest URL accepted. Request lines past 8 KiB are refused by most servers (it is
// cpp-httplib's and nginx's default limit), no real endpoint needs more, and it bounds
// what a hostile document can make mcp-auth hold, send or print.
inline constexpr size_t kMaxUrlLength = 8192;
// The longest host name (RFC 1035): also keeps cpp-httplib's std::regex (which recurses
// per character) away from long hosts.
inline constexpr size_t kMaxHostLength = 253;

// Any URL text for a message: Url::display() when it parses; else the text before its
// query, cut to 120 bytes (it may be a 30 kB attack). The Log escapes control bytes.
std::string display_url(std::string_view text);

// Parses an absolute http(s) URL. Fails (Invalid, saying what is wrong) on anything else:
// other schemes, user-info, fragments, bad ports, a path or query with characters outside
// RFC 3986 (controls, spaces, quotes, non-ASCII, '%' not followed by two hex digits: they
// must be percent-encoded), a host that is not a DNS name (letters, digits, '-', '.', '_';
// at most 253 characters) or an IPv6 literal of hex digits, ':' and '.' (no zone id), a
// numeric host other than a dotted quad (2130706433, 0x7f.1, 127.1, 0177.0.0.1 are
// ambiguous), or more than kMaxUrlLength bytes. Error messages never quote raw bytes.
Expected<Url> parse_url(std::string_view text);

// Ok when `target` can go on an HTTP request line as is: it starts with '/' and holds only
// RFC 3986 path and query characters (percent-encoded otherwise); else Invalid with the
// reason. The HTTP adapter checks every request against it at send time.
Status check_request_target(std::string_view target);

// True for hosts that can only be reached on this machine: localhost, *.localhost (a
// trailing dot too), 127.0.0.0/8 and 0.0.0.0/8 in any numeric form, [::1] and [::] in any
// spelling, and their IPv4-mapped forms ([::ffff:127.0.0.1]).
bool is_loopback_host(std::string_view host);

// True for hosts mcp-auth never sends a request to on a server's word: link-local
// addresses (169.254.0.0/16, fe80::/10, also IPv4-mapped, where cloud metadata services
// answer) and the metadata services' own names.
bool is_link_local_host(std::string_view host);

// The policy for URLs the user names (the server URL, --issuer): https always; http only
// for loopback hosts unless `allow_http`. Invalid, with a user-facing reason, otherwise.
Status check_url_policy(const Url& url, bool allow_http);

// The policy for a URL a server or authorization server sent (metadata endpoints, a 401's
// resource_metadata, endpoints kept from such a document): on top of check_url_policy it
// must stay within the trust of `anchor`, the URL the user named: never link-local, and on
// loopback (so plain http without `allow_http`) only when `anchor` itself is on loopback.
// Invalid, with a user-facing reason, when it does not.
Status check_url_from_server(const Url& url, const Url& anchor, bool allow_http);

}  // namespace mcp_auth
