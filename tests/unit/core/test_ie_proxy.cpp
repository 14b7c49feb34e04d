// core/ie_proxy.h: Windows' proxy and bypass lists, and the proxy they choose for a target.
#include <doctest/doctest.h>

#include <map>

#include "core/ie_proxy.h"

using namespace mcp_auth;

namespace {

Url url(const std::string& text) {
    auto parsed = parse_url(text);
    REQUIRE(parsed);
    return *parsed;
}

SystemProxySettings settings(std::string proxy, std::string bypass = {}) {
    SystemProxySettings s;
    s.proxy = std::move(proxy);
    s.bypass = std::move(bypass);
    return s;
}

}  // namespace

TEST_CASE("ie proxy: one proxy for every scheme, or one per scheme") {
    CHECK(listed_proxy("proxy.corp:8080", "https") == "proxy.corp:8080");
    CHECK(listed_proxy("proxy.corp:8080", "http") == "proxy.corp:8080");
    CHECK(listed_proxy("http=a:1;https=b:2", "http") == "a:1");
    CHECK(listed_proxy("http=a:1;https=b:2", "https") == "b:2");
    CHECK(listed_proxy("HTTPS=b:2", "https") == "b:2");
    SUBCASE("a scheme without an entry goes direct") {
        CHECK(listed_proxy("http=a:1", "https").empty());
        CHECK(listed_proxy("ftp=f:21", "http").empty());
        CHECK(listed_proxy("", "https").empty());
        CHECK(listed_proxy(" ; ", "https").empty());
        CHECK(listed_proxy("https=", "https").empty());
    }
    SUBCASE("white space separates entries too; the first entry for a scheme wins") {
        CHECK(listed_proxy("http=a:1 https=b:2", "https") == "b:2");
        CHECK(listed_proxy("https=b:2;https=c:3", "https") == "b:2");
    }
    SUBCASE("an entry may carry its scheme") {
        CHECK(listed_proxy("https=http://b:2", "https") == "http://b:2");
        CHECK(listed_proxy("http://p:3128", "https") == "http://p:3128");
    }
    SUBCASE("SOCKS serves the schemes without their own entry, and says so") {
        CHECK(listed_proxy("socks=s:1080", "https") == "socks://s:1080");
        CHECK(listed_proxy("http=a:1;socks=s:1080", "http") == "a:1");
        CHECK(listed_proxy("http=a:1;socks=s:1080", "https") == "socks://s:1080");
    }
}

TEST_CASE("ie proxy: the bypass list") {
    SUBCASE("<local>: host names without a dot, not addresses") {
        CHECK(bypass_matches("<local>", url("https://intranet/mcp")));
        CHECK(bypass_matches("<LOCAL>", url("https://intranet:8443/mcp")));
        CHECK_FALSE(bypass_matches("<local>", url("https://mcp.example.com/mcp")));
        CHECK_FALSE(bypass_matches("<local>", url("https://[fd00::1]/mcp")));
    }
    SUBCASE("wildcards, on the whole host, any case") {
        CHECK(bypass_matches("*.corp", url("https://mcp.corp/")));
        CHECK(bypass_matches("*.corp", url("https://a.b.CORP/")));
        CHECK_FALSE(bypass_matches("*.corp", url("https://corp/")));
        CHECK_FALSE(bypass_matches("*.corp", url("https://mcp.corp.example.com/")));
        CHECK(bypass_matches("10.*", url("https://10.1.2.3/")));
        CHECK_FALSE(bypass_matches("10.*", url("https://110.1.2.3/")));
        CHECK(bypass_matches("*corp.com", url("https://mycorp.com/")));
        CHECK(bypass_matches("*", url("https://anything.example/")));
        CHECK(bypass_matches("mcp.*.com", url("https://mcp.eu.com/")));
    }
    SUBCASE("a plain entry names that host only; a leading dot its subdomains") {
        CHECK(bypass_matches("mcp.example.com", url("https://MCP.example.com/")));
        CHECK_FALSE(bypass_matches("example.com", url("https://mcp.example.com/")));
        CHECK(bypass_matches(".example.com", url("https://mcp.example.com/")));
    }
    SUBCASE("separators: ';', ',' and white space; empty entries are nothing") {
        CHECK(bypass_matches("<local>;*.corp", url("https://x.corp/")));
        CHECK(bypass_matches("a.test, b.test", url("https://b.test/")));
        CHECK(bypass_matches(";;\tb.test ", url("https://b.test/")));
        CHECK_FALSE(bypass_matches(";;", url("https://b.test/")));
        CHECK_FALSE(bypass_matches("", url("https://b.test/")));
    }
    SUBCASE("a port or a scheme narrows an entry") {
        CHECK(bypass_matches("mcp.corp:8443", url("https://mcp.corp:8443/")));
        CHECK_FALSE(bypass_matches("mcp.corp:8443", url("https://mcp.corp/")));
        CHECK(bypass_matches("mcp.corp:*", url("https://mcp.corp:1/")));
        CHECK(bypass_matches("https://mcp.corp", url("https://mcp.corp/")));
        CHECK_FALSE(bypass_matches("http://mcp.corp", url("https://mcp.corp/")));
        CHECK_FALSE(bypass_matches("mcp.corp:99999999", url("https://mcp.corp/")));
    }
    SUBCASE("IPv6 literals, bracketed or not") {
        CHECK(bypass_matches("[fd00::1]", url("https://[fd00::1]/")));
        CHECK(bypass_matches("[fd00::1]:8443", url("https://[fd00::1]:8443/")));
        CHECK_FALSE(bypass_matches("[fd00::1]:8443", url("https://[fd00::1]/")));
        CHECK(bypass_matches("fd00::*", url("https://[fd00::abcd]/")));
        CHECK_FALSE(bypass_matches("[fd00::1", url("https://[fd00::1]/")));
    }
    SUBCASE("long patterns: bounded work, no false match") {
        std::string stars(600, '*');
        CHECK_FALSE(bypass_matches(stars + "x", url("https://mcp.corp/")));
        std::string host(60, 'a');
        std::string many;
        for (int i = 0; i < 40; ++i) many += "*a";
        CHECK_FALSE(bypass_matches(many + "b", url("https://" + host + ".corp/")));
    }
}

TEST_CASE("ie proxy: the proxy for a target") {
    SUBCASE("https goes through the https entry, as a CONNECT tunnel would need") {
        auto proxy = system_proxy_for(url("https://mcp.example.com/mcp"),
                                      settings("http=a.corp:1;https=b.corp:2"));
        REQUIRE(proxy);
        CHECK(proxy->error.empty());
        CHECK(proxy->host == "b.corp");
        CHECK(proxy->port == 2);
        CHECK(proxy->user.empty());
    }
    SUBCASE("no port means 80") {
        auto proxy = system_proxy_for(url("http://mcp.example.com/"), settings("proxy.corp"));
        REQUIRE(proxy);
        CHECK(proxy->port == 80);
    }
    SUBCASE("loopback, a bypassed host and a scheme without an entry go direct") {
        CHECK_FALSE(system_proxy_for(url("https://127.0.0.1:9/"), settings("p:1")));
        CHECK_FALSE(system_proxy_for(url("https://localhost/"), settings("p:1")));
        CHECK_FALSE(system_proxy_for(url("https://intranet/"), settings("p:1", "<local>")));
        CHECK_FALSE(system_proxy_for(url("https://x.corp/"), settings("p:1", "<local>;*.corp")));
        CHECK_FALSE(system_proxy_for(url("https://mcp.example.com/"), settings("http=a:1")));
        CHECK_FALSE(system_proxy_for(url("https://mcp.example.com/"), settings("")));
        CHECK(system_proxy_for(url("https://mcp.example.com/"), settings("p:1", "<local>")));
    }
    SUBCASE("a proxy mcp-auth cannot use is an error, never a direct connection") {
        std::map<std::string, std::string> cases = {
            {"socks=s:1080", "SOCKS"},
            {"https=socks5://s:1080", "SOCKS"},
            {"https=https://p:443", "https://"},
            {"https=ftp://p:21", "scheme"},
            {"https=p:99999", "not a valid proxy"},
            {"https=user:secret@p:8080", "not a valid proxy"},
        };
        for (const auto& [list, why] : cases) {
            CAPTURE(list);
            auto proxy = system_proxy_for(url("https://mcp.example.com/"), settings(list));
            REQUIRE(proxy);
            CHECK(proxy->error.find(why) != std::string::npos);
            CHECK(proxy->error.find("Windows proxy settings") != std::string::npos);
            CHECK(proxy->error.find("HTTPS_PROXY") != std::string::npos);
            CHECK(proxy->host.empty());
            CHECK(proxy->error.find("secret") == std::string::npos);
        }
    }
}

TEST_CASE("ie proxy: any proxy variable in the environment keeps the system's settings out") {
    std::map<std::string, std::string> vars;
    auto env = [&](const char* name) {
        auto it = vars.find(name);
        return it == vars.end() ? std::string() : it->second;
    };
    CHECK_FALSE(environment_sets_proxy(env));
    vars["HTTPS_PROXY"] = "";  // set but empty: proxy_for treats it as unset, so do we
    CHECK_FALSE(environment_sets_proxy(env));
    for (const char* name :
         {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"}) {
        CAPTURE(name);
        vars.clear();
        vars[name] = "*";
        CHECK(environment_sets_proxy(env));
    }
}
