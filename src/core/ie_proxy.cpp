#include "core/ie_proxy.h"
#include "core/headers.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "core/glob.h"

namespace mcp_auth {

namespace {

// The non-empty pieces of `list` between any of the `separators`.
std::vector<std::string_view> split(std::string_view list, std::string_view separators) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start < list.size()) {
        size_t end = list.find_first_of(separators, start);
        if (end == std::string_view::npos) end = list.size();
        if (end > start) out.push_back(list.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// A port as an entry writes it: digits only, at most 65535; -1 otherwise.
int entry_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return -1;
    int port = 0;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
        port = port * 10 + (c - '0');
    }
    return port <= 65535 ? port : -1;
}

// Bypass entries longer than any host pattern needs are ignored, which also bounds the
// wildcard match.
constexpr size_t kMaxBypassEntry = 512;

}  // namespace

bool environment_sets_proxy(const std::function<std::string(const char*)>& env) {
    for (const char* name :
         {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"})
        if (!env(name).empty()) return true;
    return false;
}

std::string listed_proxy(std::string_view list, std::string_view scheme) {
    std::string_view own, every, socks;
    for (std::string_view entry : split(list, "; \t\r\n")) {
        size_t eq = entry.find('=');
        if (eq == std::string_view::npos) {
            if (every.empty()) every = entry;
            continue;
        }
        std::string name = ascii_lower(entry.substr(0, eq));
        std::string_view value = entry.substr(eq + 1);
        if (value.empty()) continue;
        if (name == scheme && own.empty()) own = value;
        if (name == "socks" && socks.empty()) socks = value;
    }
    if (!own.empty()) return std::string(own);
    if (!every.empty()) return std::string(every);
    if (socks.empty()) return {};
    // Windows uses the SOCKS entry for a scheme without its own: mcp-auth cannot, and says
    // so (system_proxy_for) rather than going direct.
    return socks.find("://") == std::string_view::npos ? "socks://" + std::string(socks)
                                                       : std::string(socks);
}

bool bypass_matches(std::string_view bypass, const Url& target) {
    std::string host = ascii_lower(target.host);
    bool ipv6 = host.size() > 2 && host.front() == '[';
    if (ipv6) host = host.substr(1, host.size() - 2);
    if (host.size() > 1 && host.back() == '.') host.pop_back();
    bool ip = ipv6 || host.find_first_not_of("0123456789.") == std::string::npos;
    for (std::string_view raw : split(bypass, ";, \t\r\n")) {
        if (raw.size() > kMaxBypassEntry) continue;
        std::string entry = ascii_lower(raw);
        if (entry == "<local>") {
            if (!ip && host.find('.') == std::string::npos) return true;
            continue;
        }
        if (size_t sep = entry.find("://"); sep != std::string::npos) {
            if (entry.compare(0, sep, target.scheme) != 0) continue;
            entry.erase(0, sep + 3);
        }
        int port = -1;  // any
        if (!entry.empty() && entry.front() == '[') {
            size_t close = entry.find(']');
            if (close == std::string::npos) continue;
            std::string rest = entry.substr(close + 1);
            entry = entry.substr(1, close - 1);
            if (!rest.empty()) {
                if (rest.front() != ':' || (port = entry_port(rest.substr(1))) < 0) continue;
            }
        } else if (size_t colon = entry.rfind(':');
                   colon != std::string::npos && entry.find(':') == colon) {
            // One colon: host:port. More are an IPv6 pattern without brackets.
            std::string p = entry.substr(colon + 1);
            entry.resize(colon);
            if (p != "*" && (port = entry_port(p)) < 0) continue;
        }
        if (entry.empty()) continue;
        if (entry.front() == '.') entry.insert(0, "*");  // ".corp": its subdomains
        if (glob_match(entry, host) && (port < 0 || port == target.port)) return true;
    }
    return false;
}

std::optional<ProxySetting> system_proxy_for(const Url& target,
                                             const SystemProxySettings& settings) {
    // Loopback stays on this machine, as with the environment's variables.
    if (is_loopback_host(target.host)) return std::nullopt;
    if (bypass_matches(settings.bypass, target)) return std::nullopt;
    std::string entry = listed_proxy(settings.proxy, target.scheme);
    if (entry.empty()) return std::nullopt;
    ProxySetting proxy;
    std::string variable = target.scheme == "https" ? "HTTPS_PROXY" : "HTTP_PROXY";
    auto unusable = [&](const std::string& why) {
        // Windows keeps no credentials in the list; should an entry hold some anyway, they
        // stay out of the message.
        size_t at = entry.rfind('@');
        std::string shown = at == std::string::npos ? entry : "..." + entry.substr(at);
        if (shown.size() > 100) shown = shown.substr(0, 100) + "...";
        proxy.error = "the " + target.scheme + " proxy in the Windows proxy settings (" + shown +
                      ") " + why + "; mcp-auth does not connect directly instead. Set " + variable +
                      " to an http://host:port proxy, or NO_PROXY to the server's host to "
                      "connect directly";
        return proxy;
    };
    std::string url = entry;
    if (size_t sep = entry.find("://"); sep == std::string::npos) {
        url = "http://" + entry;
    } else {
        std::string scheme = ascii_lower(std::string_view(entry).substr(0, sep));
        if (scheme.rfind("socks", 0) == 0)
            return unusable("is a SOCKS proxy, which mcp-auth cannot use");
        if (scheme == "https")
            return unusable("is an https:// proxy (TLS to the proxy), which mcp-auth cannot use");
        if (scheme != "http") return unusable("has a scheme mcp-auth cannot use (only http://)");
    }
    auto parsed = parse_url(url);
    if (!parsed) return unusable("is not a valid proxy (" + parsed.error().message + ")");
    proxy.host = parsed->host;
    proxy.port = parsed->port;
    return proxy;
}

}  // namespace mcp_auth
