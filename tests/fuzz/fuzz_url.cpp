// Fuzzes URL parsing and the transport policy (src/url.cpp).
//
// The input is a URL as a server's metadata (or the user) may give it; its lines after the
// first are also used as proxy environment values. Invariants:
//  - parse_url refuses with a message free of control bytes, or returns a Url whose
//    to_string() holds only printable ASCII without spaces, re-parses to the same Url
//    (round trip), and whose target passes the adapter's send-time request-line check;
//  - no host is both loopback and link-local;
//  - proxy_for / NO_PROXY never throw on any environment value, and a proxy error holds
//    no control bytes (that it never quotes the password is a unit test: a fuzzed password
//    may be any word of the message).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/url.h"
#include "fuzz_common.h"

using mcp_auth::Url;

namespace {

bool printable_no_space(std::string_view s) {
    for (unsigned char c : s)
        if (c <= 0x20 || c >= 0x7f) return false;
    return true;
}

bool no_controls(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

bool same(const Url& a, const Url& b) {
    return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.target == b.target;
}

std::string describe(const Url& u) {
    return "{" + u.scheme + ", " + fuzz::show(u.host, 80) + ", " + std::to_string(u.port) + ", " +
           fuzz::show(u.target, 80) + "}";
}

std::string_view line(std::string_view input, int n) {
    for (int i = 0; i < n; ++i) {
        size_t nl = input.find('\n');
        if (nl == std::string_view::npos) return {};
        input.remove_prefix(nl + 1);
    }
    return input.substr(0, input.find('\n'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto url = mcp_auth::parse_url(input);
    if (!url) {
        const std::string& error = url.error().message;
        FUZZ_CHECK(!error.empty(), fuzz::show(input));
        FUZZ_CHECK(no_controls(error), fuzz::show(input) + " gives " + fuzz::show(error));
    } else {
        std::string text = url->to_string();
        FUZZ_CHECK(printable_no_space(text), fuzz::show(input) + " gives " + fuzz::show(text));
        FUZZ_CHECK(text.size() <= input.size() + 1, fuzz::show(text));
        FUZZ_CHECK(url->host.size() <= mcp_auth::kMaxHostLength + 1, describe(*url));
        auto target = mcp_auth::check_request_target(url->target);
        FUZZ_CHECK(target.ok(), describe(*url) + ": " + (target ? "" : target.error().message));
        auto again = mcp_auth::parse_url(text);
        FUZZ_CHECK(again, fuzz::show(text) +
                              " does not re-parse: " + (again ? "" : again.error().message));
        FUZZ_CHECK(same(*url, *again), describe(*url) + " re-parses as " + describe(*again));
        std::string shown = url->display();  // may end in "?…" (UTF-8), never anything else
        FUZZ_CHECK(shown == text || (text.find('?') != std::string::npos &&
                                     shown == text.substr(0, text.find('?')) + "?\u2026"),
                   fuzz::show(shown));
        FUZZ_CHECK(
            !(mcp_auth::is_loopback_host(url->host) && mcp_auth::is_link_local_host(url->host)),
            describe(*url));
        Url anchor = *url;
        (void)mcp_auth::check_url_from_server(*url, anchor, false);
    }
    std::string_view first = line(input, 0);
    FUZZ_CHECK(!(mcp_auth::is_loopback_host(first) && mcp_auth::is_link_local_host(first)),
               fuzz::show(first));

    // The environment, from the input's later lines: a proxy value and a NO_PROXY list.
    std::string proxy(line(input, 1)), no_proxy(line(input, 2));
    auto env = [&](const char* name) {
        std::string_view n(name);
        if (n == "HTTPS_PROXY" || n == "HTTP_PROXY") return proxy;
        if (n == "NO_PROXY") return no_proxy;
        return std::string();
    };
    Url target = url ? *url : *mcp_auth::parse_url("https://mcp.example.com/mcp");
    for (int i = 0; i < 2; ++i) {
        auto setting = mcp_auth::proxy_for(target, env);  // must not throw
        if (setting && !setting->error.empty()) {
            FUZZ_CHECK(no_controls(setting->error), fuzz::show(setting->error));
        }
        if (setting && setting->error.empty())
            FUZZ_CHECK(printable_no_space(setting->host) && setting->port > 0, fuzz::show(proxy));
        target.scheme = target.scheme == "https" ? "http" : "https";
    }
    return 0;
}
