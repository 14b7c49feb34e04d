#pragma once
// Proxy settings in the form Windows keeps them (Internet Options, as WinHTTP's
// WinHttpGetIEProxyConfigForCurrentUser returns them), and the proxy for a target chosen
// from them: the counterpart of proxy_for (core/url.h), which reads the environment's
// variables. Pure logic: platform/system_proxy.h reads the settings, cli/compose.cpp
// decides whether they apply (only when the environment sets no proxy variable), the HTTP
// adapter uses the result exactly like HTTPS_PROXY's.
//
// The proxy list: entries separated by ';' or white space, each
// "[<scheme>=][<scheme>://]<host>[:<port>]" (the port defaults to 80):
//   "proxy:8080"            every scheme through proxy:8080 ("Use the same proxy server")
//   "http=a:1;https=b:2"    one per scheme; a scheme with no entry of its own goes direct
//   "socks=s:1080"          SOCKS for every scheme without an entry of its own
// The bypass list: entries separated by ';', ',' or white space, each a host pattern where
// '*' matches any characters ("*.corp", "10.*", "intranet"), optionally with "scheme://"
// before it and ":port" after it, or "<local>": any host name without a dot (not an IP
// address). Case-insensitive, on the whole host.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/url.h"

namespace mcp_auth {

struct SystemProxySettings {
    std::string proxy;            // the proxy list; empty when no static proxy is set
    std::string bypass;           // the bypass list
    bool auto_detect = false;     // "Automatically detect settings" (WPAD): not used
    std::string auto_config_url;  // "Use setup script" (PAC): not used
};

// True when the environment sets a proxy variable of its own: any of those proxy_for reads
// (http_proxy, HTTP_PROXY, https_proxy, HTTPS_PROXY, no_proxy, NO_PROXY), not empty. The
// system's settings are then not consulted (NO_PROXY=* alone means "no proxy at all").
// `env` returns a variable's value or "" when unset.
bool environment_sets_proxy(const std::function<std::string(const char*)>& env);

// The entry of the proxy list that `scheme` ("http", "https") uses, as written after its
// "<scheme>=" ("b:2", "http://b:2"); a SOCKS fallback comes back as "socks://s:1080". Empty
// when the scheme goes direct.
std::string listed_proxy(std::string_view list, std::string_view scheme);

// True when an entry of the bypass list names `target` (its host; its scheme and port too
// where the entry gives them).
bool bypass_matches(std::string_view bypass, const Url& target);

// The proxy for `target` under `settings`, with proxy_for's rules: never for a loopback
// target; none when the bypass list names it or its scheme goes direct; an entry mcp-auth
// cannot use (SOCKS, an https:// proxy, a malformed one) comes back with `error` set, so
// the request fails rather than going out directly. Never throws.
std::optional<ProxySetting> system_proxy_for(const Url& target,
                                             const SystemProxySettings& settings);

}  // namespace mcp_auth
