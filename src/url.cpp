#include "mcp_auth/url.h"

#include <algorithm>
#include <cctype>

namespace mcp_auth {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// A dotted quad whose first octet is 127.
bool is_ipv4_loopback(std::string_view host) {
    int parts = 0;
    size_t start = 0;
    std::string_view first;
    while (start <= host.size()) {
        size_t dot = host.find('.', start);
        std::string_view part = host.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (!all_digits(part) || part.size() > 3 || std::stoi(std::string(part)) > 255)
            return false;
        if (parts == 0) first = part;
        ++parts;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return parts == 4 && first == "127";
}

}  // namespace

std::string Url::origin() const {
    return scheme + "://" + host + ":" + std::to_string(port);
}

std::string Url::authority() const {
    return host + ":" + std::to_string(port);
}

std::optional<Url> parse_url(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<Url> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    size_t sep = text.find("://");
    if (sep == std::string_view::npos)
        return fail("not an absolute URL (expected https://host/path)");
    Url url;
    url.scheme = lower(text.substr(0, sep));
    if (url.scheme != "http" && url.scheme != "https")
        return fail("unsupported scheme \"" + url.scheme + "\" (only https and http are allowed)");
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
            return fail("invalid host \"" + url.host + "\" (an IPv6 address goes in brackets)");
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (url.host.empty() || url.host == "[]") return fail("the URL has no host");
    url.host = lower(url.host);
    if (!port_text.empty()) {
        if (!all_digits(port_text) || port_text.size() > 5)
            return fail("invalid port \"" + std::string(port_text) + "\"");
        url.port = std::stoi(std::string(port_text));
        if (url.port < 1 || url.port > 65535) return fail("port out of range");
    } else {
        url.port = url.scheme == "https" ? 443 : 80;
    }
    return url;
}

bool is_loopback_host(std::string_view host) {
    std::string h = lower(host);
    if (h == "localhost" || h == "[::1]") return true;
    if (h.size() > 10 && h.compare(h.size() - 10, 10, ".localhost") == 0) return true;
    return is_ipv4_loopback(h);
}

std::string check_url_policy(const Url& url, bool allow_http) {
    if (url.scheme == "https" || allow_http || is_loopback_host(url.host)) return {};
    return "refusing plain http to " + url.host +
           ": tokens and messages would cross the network unencrypted. Use an https:// URL, "
           "or pass --allow-http if you really mean it";
}

bool is_link_local_host(std::string_view host) {
    std::string h = lower(host);
    if (h == "metadata.google.internal" || h == "metadata.goog" || h == "[fd00:ec2::254]")
        return true;
    if (h.rfind("169.254.", 0) == 0) return true;
    return h.rfind("[fe8", 0) == 0 || h.rfind("[fe9", 0) == 0 || h.rfind("[fea", 0) == 0 ||
           h.rfind("[feb", 0) == 0;
}

std::string check_url_from_server(const Url& url, const Url& anchor, bool allow_http) {
    if (is_link_local_host(url.host))
        return "refusing " + url.to_string() +
               ": it names a link-local or cloud metadata address, which mcp-auth never contacts";
    bool anchor_local = is_loopback_host(anchor.host);
    if (is_loopback_host(url.host) && !anchor_local)
        return "refusing " + url.to_string() + ": " + anchor.to_string() +
               " is not on this machine, so it may not send mcp-auth to this machine's own "
               "services";
    if (url.scheme != "https" && !allow_http && !(anchor_local && is_loopback_host(url.host)))
        return "refusing " + url.to_string() +
               ": it is not https, and credentials never cross the network unencrypted";
    return {};
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

bool Url::same_origin(const Url& other) const {
    return scheme == other.scheme && host == other.host && port == other.port;
}

std::string percent_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
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
        std::string entry = lower(list.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        entry.erase(0, entry.find_first_not_of(" \t"));
        entry.erase(entry.find_last_not_of(" \t") + 1);
        if (entry == "*") return true;
        int port = 0;
        size_t colon = entry.rfind(':');
        if (colon != std::string::npos && entry.find(']') == std::string::npos &&
            all_digits(entry.substr(colon + 1))) {
            port = std::stoi(entry.substr(colon + 1));
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
    auto first = [&](const char* a, const char* b) {
        std::string v = env(a);
        return v.empty() ? env(b) : v;
    };
    if (no_proxy_matches(first("no_proxy", "NO_PROXY"), target)) return std::nullopt;
    std::string value = target.scheme == "https" ? first("https_proxy", "HTTPS_PROXY")
                                                 : first("http_proxy", "HTTP_PROXY");
    if (value.empty()) return std::nullopt;
    if (value.find("://") == std::string::npos) value = "http://" + value;
    ProxySetting proxy;
    size_t at = value.find('@');
    size_t scheme_end = value.find("://") + 3;
    if (at != std::string::npos && at > scheme_end) {
        std::string userinfo = value.substr(scheme_end, at - scheme_end);
        size_t colon = userinfo.find(':');
        proxy.user = percent_decode(userinfo.substr(0, colon), false);
        if (colon != std::string::npos)
            proxy.password = percent_decode(userinfo.substr(colon + 1), false);
        value.erase(scheme_end, at - scheme_end + 1);
    }
    std::string error;
    auto url = parse_url(value, &error);
    if (!url) return std::nullopt;
    proxy.host = url->host;
    proxy.port = url->port;
    return proxy;
}

}  // namespace mcp_auth
