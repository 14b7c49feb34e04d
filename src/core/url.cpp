#include "core/url.h"
#include "core/headers.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

namespace mcp_auth {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool is_hex(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

constexpr char kHexDigits[] = "0123456789ABCDEF";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A decimal number of at most `max_digits` digits, without std::stoi (which throws).
std::optional<long> small_number(std::string_view s, size_t max_digits) {
    if (!all_digits(s) || s.size() > max_digits) return std::nullopt;
    long value = 0;
    for (char c : s) value = value * 10 + (c - '0');
    return value;
}

// RFC 3986 pchar minus pct-encoded, plus '/' and '?': what a path and query may hold.
bool is_target_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-._~!$&'()*+,;=:@/?").find(c) != std::string_view::npos;
}

// A byte named for an error message, never echoed raw (it may be a control character
// that would rewrite the user's terminal).
std::string describe_byte(unsigned char c) {
    std::string code = std::string("0x") + kHexDigits[c >> 4] + kHexDigits[c & 15];
    if (c == '\r') return "a carriage return (CR)";
    if (c == '\n') return "a line feed (LF)";
    if (c == ' ') return "a space";
    if (c == '\t') return "a tab";
    if (c < 0x20 || c == 0x7f) return "the control character " + code;
    if (c >= 0x80) return "the non-ASCII byte " + code;
    return std::string("the character '") + static_cast<char>(c) + "'";
}

// The canonical dotted quad (four decimal numbers 0-255, no leading zeros), the only
// numeric IPv4 form parse_url accepts.
std::optional<uint32_t> parse_dotted_quad(std::string_view s) {
    uint32_t value = 0;
    int parts = 0;
    while (true) {
        size_t dot = s.find('.');
        std::string_view part = s.substr(0, dot);
        auto n = small_number(part, 3);
        if (!n || *n > 255 || (part.size() > 1 && part[0] == '0') || ++parts > 4)
            return std::nullopt;
        value = value << 8 | static_cast<uint32_t>(*n);
        if (dot == std::string_view::npos) break;
        s.remove_prefix(dot + 1);
    }
    if (parts != 4) return std::nullopt;
    return value;
}

// Every numeric IPv4 form the C library's inet_aton (so getaddrinfo) accepts: one to four
// parts, each decimal, octal (leading 0) or hex (0x); the last fills the remaining bytes.
// Used to classify a host as the OS would connect to it.
std::optional<uint32_t> parse_ipv4_any(std::string_view s) {
    std::vector<uint64_t> parts;
    while (true) {
        size_t dot = s.find('.');
        std::string_view part = s.substr(0, dot);
        int base = 10;
        if (part.size() > 1 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
            base = 16;
            part.remove_prefix(2);
        } else if (part.size() > 1 && part[0] == '0') {
            base = 8;
            part.remove_prefix(1);
        } else if (part.empty()) {
            return std::nullopt;
        }
        uint64_t value = 0;
        for (char c : part) {
            int d = hex_value(c);
            if (d < 0 || d >= base) return std::nullopt;
            value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
            if (value > 0xffffffffull) return std::nullopt;
        }
        parts.push_back(value);
        if (parts.size() > 4) return std::nullopt;
        if (dot == std::string_view::npos) break;
        s.remove_prefix(dot + 1);
    }
    uint64_t result = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        if (parts[i] > 255) return std::nullopt;
        result |= parts[i] << (8 * (3 - i));
    }
    uint64_t last = parts.back();
    if (last >= (1ull << (8 * (5 - parts.size())))) return std::nullopt;
    return static_cast<uint32_t>(result | last);
}

using Ipv6 = std::array<uint8_t, 16>;

// An IPv6 address in RFC 4291 text form (without brackets, no zone id) as 16 bytes.
std::optional<Ipv6> parse_ipv6(std::string_view s) {
    if (s.size() < 2 || s.size() > 45) return std::nullopt;
    std::array<uint16_t, 8> groups{};
    int count = 0;
    int gap = -1;  // index of the group "::" stands before
    size_t i = 0;
    if (s.substr(0, 2) == "::") {
        gap = 0;
        i = 2;
    } else if (s[0] == ':') {
        return std::nullopt;
    }
    while (i < s.size()) {
        size_t end = s.find(':', i);
        std::string_view part = s.substr(i, end == std::string_view::npos ? end : end - i);
        if (part.find('.') != std::string_view::npos) {  // trailing dotted quad
            auto v4 = parse_dotted_quad(part);
            if (!v4 || end != std::string_view::npos || count > 6) return std::nullopt;
            groups[count++] = static_cast<uint16_t>(*v4 >> 16);
            groups[count++] = static_cast<uint16_t>(*v4 & 0xffff);
            break;
        }
        if (part.empty() || part.size() > 4 || count == 8 ||
            !std::all_of(part.begin(), part.end(), is_hex))
            return std::nullopt;
        uint16_t value = 0;
        for (char c : part) value = static_cast<uint16_t>(value << 4 | hex_value(c));
        groups[count++] = value;
        if (end == std::string_view::npos) break;
        i = end + 1;
        if (i == s.size()) return std::nullopt;  // a single trailing ':'
        if (s[i] == ':') {
            if (gap >= 0) return std::nullopt;  // "::" twice
            gap = count;
            ++i;
        }
    }
    if (gap < 0 ? count != 8 : count > 7) return std::nullopt;
    Ipv6 out{};
    int zeros = 8 - count;
    for (int g = 0, o = 0; g < count; ++g, ++o) {
        if (g == gap) o += zeros;
        out[2 * o] = static_cast<uint8_t>(groups[g] >> 8);
        out[2 * o + 1] = static_cast<uint8_t>(groups[g] & 0xff);
    }
    return out;
}

// The IPv4 address an ::ffff:a.b.c.d (IPv4-mapped) address stands for.
std::optional<uint32_t> mapped_ipv4(const Ipv6& a) {
    for (int i = 0; i < 10; ++i)
        if (a[i] != 0) return std::nullopt;
    if (a[10] != 0xff || a[11] != 0xff) return std::nullopt;
    return static_cast<uint32_t>(a[12]) << 24 | static_cast<uint32_t>(a[13]) << 16 |
           static_cast<uint32_t>(a[14]) << 8 | a[15];
}

// 127.0.0.0/8, and 0.0.0.0/8, which Linux delivers to this machine.
bool is_loopback_v4(uint32_t a) {
    return (a >> 24) == 127 || (a >> 24) == 0;
}

bool is_link_local_v4(uint32_t a) {
    return (a >> 16) == 0xa9fe;  // 169.254.0.0/16
}

// A host as the classifiers see it: lower-case, one trailing dot dropped, and an IPv6
// literal parsed (with or without its brackets).
struct HostForm {
    std::string name;
    std::optional<Ipv6> v6;
    std::optional<uint32_t> v4;
};

HostForm classify(std::string_view host) {
    HostForm form;
    form.name = ascii_lower(host);
    if (form.name.size() > 2 && form.name.front() == '[' && form.name.back() == ']') {
        form.v6 = parse_ipv6(std::string_view(form.name).substr(1, form.name.size() - 2));
        if (form.v6) form.v4 = mapped_ipv4(*form.v6);
        return form;
    }
    if (form.name.find(':') != std::string::npos) {
        form.v6 = parse_ipv6(form.name);
        if (form.v6) form.v4 = mapped_ipv4(*form.v6);
        return form;
    }
    if (form.name.size() > 1 && form.name.back() == '.') form.name.pop_back();
    form.v4 = parse_ipv4_any(form.name);
    return form;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// WHATWG URL: a host whose last label is a number (decimal, or 0x hex) is an IPv4 address.
bool ends_in_number(std::string_view host) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    std::string_view last = host.substr(host.rfind('.') + 1);
    if (all_digits(last)) return true;
    return last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
           std::all_of(last.begin() + 2, last.end(), is_hex);
}

// "" when `host` (lower-case, brackets kept) is a host parse_url accepts, else the reason.
std::string check_host(std::string_view host) {
    if (host.front() == '[') {
        std::string_view inner = host.substr(1, host.size() - 2);
        for (char c : inner)
            if (!is_hex(c) && c != ':' && c != '.')
                return c == '%' ? "an IPv6 zone id (the %... part) is not allowed in a URL"
                                : "the IPv6 address contains " +
                                      describe_byte(static_cast<unsigned char>(c));
        if (!parse_ipv6(inner)) return "invalid IPv6 address " + std::string(host);
        return {};
    }
    for (char c : host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
            return "the host name contains " + describe_byte(static_cast<unsigned char>(c)) +
                   " (a host name has only letters, digits, '-', '.' and '_')";
    std::string_view name = host;
    if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
    if (name.size() > kMaxHostLength)
        return "the host name is longer than " + std::to_string(kMaxHostLength) + " characters";
    size_t start = 0;
    while (start <= name.size()) {
        size_t dot = name.find('.', start);
        size_t len = (dot == std::string_view::npos ? name.size() : dot) - start;
        if (len == 0) return "invalid host " + std::string(host) + " (an empty label)";
        if (len > 63) return "invalid host name: a label is longer than 63 characters";
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (ends_in_number(host) && (host.back() == '.' || !parse_dotted_quad(host)))
        return "ambiguous numeric host " + std::string(host) +
               ": write an IPv4 address as four decimal numbers from 0 to 255 without "
               "leading zeros, like 127.0.0.1";
    return {};
}

}  // namespace

std::string Url::origin() const {
    return scheme + "://" + host + ":" + std::to_string(port);
}

std::string Url::authority() const {
    return host + ":" + std::to_string(port);
}

Status check_request_target(std::string_view target) {
    auto refuse = [](std::string why) { return make_error(ErrorKind::Invalid, std::move(why)); };
    if (target.empty() || target.front() != '/')
        return refuse("the request target must start with '/'");
    if (target.size() > kMaxUrlLength)
        return refuse("the request target is longer than " + std::to_string(kMaxUrlLength) +
                      " bytes");
    for (size_t i = 0; i < target.size(); ++i) {
        char c = target[i];
        if (c == '%') {
            if (i + 2 >= target.size() || !is_hex(target[i + 1]) || !is_hex(target[i + 2]))
                return refuse(
                    "the path or query has a '%' not followed by two hex digits (write a "
                    "literal % as %25)");
            i += 2;
        } else if (!is_target_char(c)) {
            return refuse("the path or query contains " +
                          describe_byte(static_cast<unsigned char>(c)) + " (byte " +
                          std::to_string(i + 1) +
                          "); characters outside RFC 3986 must be percent-encoded, like %20 "
                          "for a space");
        }
    }
    return Ok{};
}

Expected<Url> parse_url(std::string_view text) {
    auto fail = [&](std::string why) -> Expected<Url> {
        return make_error(ErrorKind::Invalid, std::move(why));
    };
    if (text.size() > kMaxUrlLength)
        return fail("the URL is longer than " + std::to_string(kMaxUrlLength) + " bytes");
    size_t sep = text.find("://");
    if (sep == std::string_view::npos)
        return fail("not an absolute URL (expected https://host/path)");
    Url url;
    url.scheme = ascii_lower(text.substr(0, sep));
    if (url.scheme != "http" && url.scheme != "https") {
        bool printable = !url.scheme.empty() && url.scheme.size() <= 32 &&
                         std::all_of(url.scheme.begin(), url.scheme.end(), [](unsigned char c) {
                             return std::isalnum(c) || c == '+' || c == '-' || c == '.';
                         });
        return fail(printable ? "unsupported scheme \"" + url.scheme +
                                    "\" (only https and http are allowed)"
                              : "unsupported scheme (only https and http are allowed)");
    }
    std::string_view rest = text.substr(sep + 3);
    if (rest.find('#') != std::string_view::npos)
        return fail("a server URL must not contain a fragment");
    size_t path_at = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_at);
    url.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
    if (url.target[0] == '?') url.target.insert(0, "/");
    if (authority.find('@') != std::string_view::npos)
        return fail("credentials in the URL are not allowed; use --header instead");
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) return fail("unterminated IPv6 address");
        url.host = std::string(authority.substr(0, close + 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return fail("unexpected text after the IPv6 address");
            port_text = after.substr(1);
        }
    } else {
        size_t colon = authority.rfind(':');
        url.host = std::string(authority.substr(0, colon));
        if (url.host.find(':') != std::string::npos)
            return fail("invalid host (an IPv6 address goes in brackets)");
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (url.host.empty() || url.host == "[]") return fail("the URL has no host");
    url.host = ascii_lower(url.host);
    if (std::string why = check_host(url.host); !why.empty()) return fail(why);
    if (!port_text.empty()) {
        auto port = small_number(port_text, 5);
        if (!port) return fail("invalid port (expected a number from 1 to 65535)");
        if (*port < 1 || *port > 65535) return fail("port out of range");
        url.port = static_cast<int>(*port);
    } else {
        url.port = url.scheme == "https" ? 443 : 80;
    }
    if (auto target = check_request_target(url.target); !target) return target.error();
    return url;
}

bool is_loopback_host(std::string_view host) {
    HostForm h = classify(host);
    if (h.v6) {
        bool unspecified_or_one =
            std::all_of(h.v6->begin(), h.v6->end() - 1, [](uint8_t b) { return b == 0; }) &&
            h.v6->back() <= 1;  // [::] and [::1]
        return unspecified_or_one || (h.v4 && is_loopback_v4(*h.v4));
    }
    if (h.name == "localhost" || ends_with(h.name, ".localhost")) return true;
    return h.v4 && is_loopback_v4(*h.v4);
}

Status check_url_policy(const Url& url, bool allow_http) {
    if (url.scheme == "https" || allow_http || is_loopback_host(url.host)) return Ok{};
    return make_error(ErrorKind::Invalid,
                      "refusing plain http to " + url.host +
                          ": tokens and messages would cross the network unencrypted. Use an "
                          "https:// URL, or pass --allow-http if you really mean it");
}

bool is_link_local_host(std::string_view host) {
    HostForm h = classify(host);
    if (h.v6) {
        static constexpr Ipv6 kAwsMetadata = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                              0,    0,    0,    0,    0, 0, 0x02, 0x54};
        if (*h.v6 == kAwsMetadata) return true;                              // [fd00:ec2::254]
        if ((*h.v6)[0] == 0xfe && ((*h.v6)[1] & 0xc0) == 0x80) return true;  // fe80::/10
        return h.v4 && is_link_local_v4(*h.v4);
    }
    if (h.name == "metadata.google.internal" || h.name == "metadata.goog") return true;
    return h.v4 && is_link_local_v4(*h.v4);
}

Status check_url_from_server(const Url& url, const Url& anchor, bool allow_http) {
    auto refuse = [&](const std::string& why) {
        return make_error(ErrorKind::Invalid, "refusing " + url.display() + why);
    };
    if (is_link_local_host(url.host))
        return refuse(
            ": it names a link-local or cloud metadata address, which mcp-auth never "
            "contacts");
    bool anchor_local = is_loopback_host(anchor.host);
    bool url_local = is_loopback_host(url.host);
    if (url_local && !anchor_local)
        return refuse(": " + anchor.display() +
                      " is not on this machine, so it may not send mcp-auth to this machine's "
                      "own services");
    if (url.scheme != "https" && !allow_http && !(anchor_local && url_local))
        return refuse(": it is not https, and credentials never cross the network unencrypted");
    return Ok{};
}

}  // namespace mcp_auth

namespace mcp_auth {

std::string Url::to_string() const {
    bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
    std::string out = scheme + "://" + host;
    if (!default_port) out += ":" + std::to_string(port);
    if (target != "/") out += target;
    return out;
}

std::string Url::display() const {
    std::string shown = to_string();
    size_t q = shown.find('?');
    return q == std::string::npos ? shown : shown.substr(0, q) + "?\u2026";
}

std::string display_url(std::string_view text) {
    if (auto url = parse_url(text)) return url->display();
    constexpr size_t kShown = 120;
    size_t q = text.find('?');
    std::string shown(text.substr(0, std::min(q, kShown)));
    if (q != std::string_view::npos && q <= kShown) return shown + "?\u2026";
    return text.size() > kShown ? shown + "\u2026" : shown;
}

bool Url::same_origin(const Url& other) const {
    return scheme == other.scheme && host == other.host && port == other.port;
}

std::string percent_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHexDigits[c >> 4]);
            out.push_back(kHexDigits[c & 15]);
        }
    }
    return out;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
            hex_value(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string form_encode(const QueryParams& params) {
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty()) out.push_back('&');
        out += percent_encode(name);
        out.push_back('=');
        out += percent_encode(value);
    }
    return out;
}

QueryParams parse_query(std::string_view query) {
    QueryParams out;
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        if (!pair.empty()) {
            size_t eq = pair.find('=');
            std::string name = percent_decode(pair.substr(0, eq));
            std::string value =
                eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
            out.emplace_back(std::move(name), std::move(value));
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return out;
}

std::optional<std::string> query_value(const QueryParams& params, std::string_view name) {
    for (const auto& [n, v] : params)
        if (n == name) return v;
    return std::nullopt;
}

std::string append_query(std::string_view url, const QueryParams& params) {
    std::string out(url);
    out.push_back(out.find('?') == std::string::npos ? '?' : '&');
    out += form_encode(params);
    return out;
}

namespace {

bool no_proxy_matches(std::string_view list, const Url& target) {
    std::string host = target.host;
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    size_t start = 0;
    while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string entry = ascii_lower(list.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        entry.erase(0, entry.find_first_not_of(" \t"));
        entry.erase(entry.find_last_not_of(" \t") + 1);
        if (entry == "*") return true;
        long port = 0;
        size_t colon = entry.rfind(':');
        if (colon != std::string::npos && entry.find(']') == std::string::npos &&
            all_digits(entry.substr(colon + 1))) {
            // An out-of-range port (host:99999999999) matches no target.
            port = small_number(std::string_view(entry).substr(colon + 1), 5).value_or(-1);
            entry.resize(colon);
        }
        if (entry.size() > 2 && entry.front() == '[') entry = entry.substr(1, entry.size() - 2);
        while (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
        bool host_match =
            !entry.empty() &&
            (host == entry || (host.size() > entry.size() &&
                               host.compare(host.size() - entry.size(), entry.size(), entry) == 0 &&
                               host[host.size() - entry.size() - 1] == '.'));
        if (host_match && (port == 0 || port == target.port)) return true;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return false;
}

}  // namespace

std::optional<ProxySetting> proxy_for(const Url& target,
                                      const std::function<std::string(const char*)>& env) {
    // Loopback stays on this machine: a proxy would only see the token.
    if (is_loopback_host(target.host)) return std::nullopt;
    std::string used;
    auto first = [&](const char* a, const char* b) {
        std::string v = env(a);
        used = a;
        if (v.empty()) v = env((used = b).c_str());
        return v;
    };
    if (no_proxy_matches(first("no_proxy", "NO_PROXY"), target)) return std::nullopt;
    std::string value = target.scheme == "https" ? first("https_proxy", "HTTPS_PROXY")
                                                 : first("http_proxy", "HTTP_PROXY");
    if (value.empty()) return std::nullopt;
    ProxySetting proxy;
    auto unusable = [&](const std::string& why) {
        proxy.error = "the proxy in " + used + " " + why +
                      "; mcp-auth does not connect directly instead. Set " + used +
                      " to an http://host:port proxy, or add the server's host to NO_PROXY";
        return proxy;
    };
    size_t scheme_end = value.find("://");
    if (scheme_end == std::string::npos) {
        value = "http://" + value;
        scheme_end = 4;
    }
    std::string scheme = ascii_lower(std::string_view(value).substr(0, scheme_end));
    if (scheme.rfind("socks", 0) == 0)
        return unusable("is a SOCKS proxy, which mcp-auth cannot use");
    if (scheme == "https")
        return unusable("is an https:// proxy (TLS to the proxy), which mcp-auth cannot use");
    if (scheme != "http") return unusable("has a scheme mcp-auth cannot use (only http://)");
    scheme_end += 3;
    size_t at = value.rfind('@');
    size_t slash = value.find('/', scheme_end);
    if (at != std::string::npos && at > scheme_end && (slash == std::string::npos || at < slash)) {
        std::string userinfo = value.substr(scheme_end, at - scheme_end);
        size_t colon = userinfo.find(':');
        proxy.user = percent_decode(userinfo.substr(0, colon), false);
        if (colon != std::string::npos)
            proxy.password = percent_decode(userinfo.substr(colon + 1), false);
        value.erase(scheme_end, at - scheme_end + 1);
    }
    auto url = parse_url(value);
    if (!url) return unusable("is not a valid proxy URL (" + url.error().message + ")");
    proxy.host = url->host;
    proxy.port = url->port;
    return proxy;
}

}  // namespace mcp_auth
