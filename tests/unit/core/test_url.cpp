#include <doctest/doctest.h>

#include "core/url.h"

using namespace mcp_auth;

namespace {

// What a refusal says ("" for a success).
template <class T>
std::string why(const Expected<T>& result) {
    return result ? std::string() : result.error().message;
}

}  // namespace

TEST_CASE("parse_url") {
    SUBCASE("https with default port and path") {
        auto u = parse_url("https://MCP.Example.com/mcp?x=1");
        REQUIRE(u);
        CHECK(u->scheme == "https");
        CHECK(u->host == "mcp.example.com");
        CHECK(u->port == 443);
        CHECK(u->target == "/mcp?x=1");
        CHECK(u->origin() == "https://mcp.example.com:443");
    }
    SUBCASE("explicit port, no path") {
        auto u = parse_url("http://127.0.0.1:8080");
        REQUIRE(u);
        CHECK(u->port == 8080);
        CHECK(u->target == "/");
    }
    SUBCASE("IPv6 literal") {
        auto u = parse_url("http://[::1]:3000/mcp");
        REQUIRE(u);
        CHECK(u->host == "[::1]");
        CHECK(u->port == 3000);
    }
    SUBCASE("rejections say why") {
        CHECK(why(parse_url("ftp://x/y")).find("ftp") != std::string::npos);
        CHECK_FALSE(parse_url("mcp.example.com/mcp"));
        CHECK(why(parse_url("https://user:pw@host/")).find("credentials") != std::string::npos);
        CHECK_FALSE(parse_url("https://host:99999/"));
        CHECK_FALSE(parse_url("https://host/a#frag"));
        CHECK_FALSE(parse_url("https:///path"));
        CHECK_FALSE(parse_url("https://a:b:443/mcp"));
    }
}

TEST_CASE("is_loopback_host") {
    CHECK(is_loopback_host("localhost"));
    CHECK(is_loopback_host("LOCALHOST"));
    CHECK(is_loopback_host("app.localhost"));
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.10.20.30"));
    CHECK(is_loopback_host("[::1]"));
    CHECK_FALSE(is_loopback_host("127.0.0.1.evil.com"));
    CHECK_FALSE(is_loopback_host("128.0.0.1"));
    CHECK_FALSE(is_loopback_host("localhost.evil.com"));
    CHECK_FALSE(is_loopback_host("10.0.0.1"));
    CHECK_FALSE(is_loopback_host("127.0.0.256"));
}

TEST_CASE("check_url_policy") {
    CHECK(check_url_policy(*parse_url("https://mcp.example.com/mcp"), false).ok());
    CHECK(check_url_policy(*parse_url("http://localhost:3000/mcp"), false).ok());
    auto refusal = check_url_policy(*parse_url("http://mcp.example.com/mcp"), false);
    CHECK(why(refusal).find("--allow-http") != std::string::npos);
    CHECK(check_url_policy(*parse_url("http://mcp.example.com/mcp"), true).ok());
}

TEST_CASE("Url::to_string is the canonical resource form") {
    CHECK(parse_url("HTTPS://MCP.Example.com:443/mcp")->to_string() ==
          "https://mcp.example.com/mcp");
    CHECK(parse_url("https://mcp.example.com/")->to_string() == "https://mcp.example.com");
    CHECK(parse_url("http://127.0.0.1:8080/a/b?x=1")->to_string() ==
          "http://127.0.0.1:8080/a/b?x=1");
}

TEST_CASE("percent encoding and queries") {
    CHECK(percent_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
    CHECK(percent_decode("a+b%20c%2") == "a b c%2");
    CHECK(percent_decode("a+b", false) == "a+b");
    auto q = parse_query("code=abc%2Fd&state=x+y&empty=&flag");
    CHECK(query_value(q, "code") == "abc/d");
    CHECK(query_value(q, "state") == "x y");
    CHECK(query_value(q, "empty") == "");
    CHECK(query_value(q, "flag") == "");
    CHECK_FALSE(query_value(q, "missing"));
    CHECK(append_query("https://x/a", {{"k", "v w"}}) == "https://x/a?k=v%20w");
    CHECK(append_query("https://x/a?t=1", {{"k", "v"}}) == "https://x/a?t=1&k=v");
    CHECK(form_encode({{"a", "1"}, {"b", "x y"}}) == "a=1&b=x%20y");
}

TEST_CASE("Url::display") {
    CHECK(parse_url("https://mcp.example.com/mcp?api_key=s3cret")->display() ==
          "https://mcp.example.com/mcp?\u2026");
    CHECK(parse_url("https://mcp.example.com:8443/mcp")->display() ==
          "https://mcp.example.com:8443/mcp");
}

TEST_CASE("parse_url refuses what could smuggle a request or confuse a host parser") {
    // Each entry: the URL, and a word the reason must contain.
    const std::pair<std::string, std::string> refused[] = {
        {"http://127.0.0.1:8080/ HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/pwn HTTP/1.1",
         "a space (byte 2)"},
        {"http://127.0.0.1:8080/\r\nPOST /api/pwn HTTP/1.1", "carriage return (CR)"},
        {"http://127.0.0.1/a\nb", "line feed"},
        {"http://127.0.0.1/a b", "space"},
        {"http://h/a\tb", "tab"},
        {std::string("http://h/a\0b", 12), "control character 0x00"},
        {"http://h/a\x7f", "control character 0x7F"},
        {"http://h/caf\xc3\xa9", "non-ASCII byte 0xC3"},
        {"http://h/a\"b", "'\"'"},
        {"http://h/<script>", "'<'"},
        {"http://h/a\\b", "'\\'"},
        {"http://h/a^b", "'^'"},
        {"http://h/a`b", "'`'"},
        {"http://h/a{b}", "'{'"},
        {"http://h/a|b", "'|'"},
        {"http://h/a?q=[1]", "'['"},
        {"http://h/a%2", "two hex digits"},
        {"http://h/a%zz", "two hex digits"},
        {"http://ho st/", "space"},
        {"http://h\r\nX-Injected: 1/", "carriage"},
        {"http://a\\b.example/", "'\\'"},
        {"http://exa%6dple.com/", "'%'"},
        {"http://" + std::string(254, 'a') + "/", "253"},
        {"http://" + std::string(64, 'a') + ".com/", "63"},
        {"http://" + std::string(30000, 'a') + ".com/", "longer than"},
        {"http://" + std::string(60, 'a') + "." + std::string(60, 'b') + "." +
             std::string(60, 'c') + "." + std::string(60, 'd') + "." + std::string(20, 'e') + "/",
         "253"},
        {"http://a..b/", "empty label"},
        {"http://./", "empty label"},
        {"http://2130706433/", "ambiguous"},
        {"http://0x7f.1/", "ambiguous"},
        {"http://127.1/", "ambiguous"},
        {"http://0177.0.0.1/", "ambiguous"},
        {"http://127.0.0.1./", "ambiguous"},
        {"http://1.2.3.4.5/", "ambiguous"},
        {"http://256.0.0.1/", "ambiguous"},
        {"http://host.0x10/", "ambiguous"},
        {"http://[fe80::1%25eth0]/", "zone id"},
        {"http://[::1x]/", "IPv6 address contains"},
        {"http://[1:2:3:4:5:6:7:8:9]/", "invalid IPv6"},
        {"http://[1::2::3]/", "invalid IPv6"},
        {"http://[v1.fe]/", "IPv6 address contains"},
        {"http://h:99999999999/", "port"},
        {"ht\ntp://h/", "unsupported scheme (only"},
        {"http://h/" + std::string(kMaxUrlLength, 'a'), "longer than 8192"},
    };
    for (const auto& refusal : refused) {
        // Not a structured binding: CAPTURE's lambda may not name one in C++17 (clang).
        const std::string& url = refusal.first;
        const std::string& reason = refusal.second;
        CAPTURE(url);
        auto parsed = parse_url(url);
        CHECK_FALSE(parsed);
        std::string error = why(parsed);
        CHECK_MESSAGE(error.find(reason) != std::string::npos, error);
        for (char c : error)  // never echoes raw control bytes
            CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
    }
}

TEST_CASE("parse_url accepts every RFC 3986 path and query character") {
    const char* accepted[] = {
        "https://mcp.example.com/a/b;c=d/e:f@g!$&'()*+,=~-._?x=1&y=%2F%e2%82%ac?/:@",
        "http://localhost./mcp",
        "http://my_host.internal:8080/",
        "http://1.2.3.4/",
        "http://0.0.0.0:80/",
        "http://[::1]/",
        "http://[0:0:0:0:0:0:0:1]:8080/x",
        "http://[::ffff:127.0.0.1]/",
        "https://[2001:db8::abcd]/mcp",
        "https://[fd00::abcd]:8443/mcp",
        "https://a.b.c.example-with-dashes.com",
        "http://h:/",  // an empty port means the default (RFC 3986)
    };
    for (const char* url : accepted) {
        CAPTURE(url);
        auto u = parse_url(url);
        REQUIRE_MESSAGE(u, why(u));
        auto again = parse_url(u->to_string());
        REQUIRE(again);
        CHECK(again->to_string() == u->to_string());
        CHECK(check_request_target(u->target).ok());
    }
    CHECK(parse_url("http://h:/")->port == 80);
    CHECK(parse_url("https://[FD00::ABCD]/")->host == "[fd00::abcd]");
}

TEST_CASE("check_request_target: what the adapter lets onto a request line") {
    CHECK(check_request_target("/").ok());
    CHECK(check_request_target("/mcp?session=%20x").ok());
    CHECK_FALSE(check_request_target("").ok());
    CHECK_FALSE(check_request_target("mcp").ok());
    CHECK_FALSE(check_request_target("http://x/").ok());  // absolute form: never ours
    CHECK_FALSE(check_request_target("/ HTTP/1.1\r\nHost: x\r\n\r\nGET /").ok());
    CHECK_FALSE(check_request_target("/a\nb").ok());
    CHECK_FALSE(check_request_target("/a%").ok());
}

TEST_CASE("is_loopback_host is exact") {
    const char* loopback[] = {
        "localhost",
        "LocalHost",
        "localhost.",
        "a.b.localhost",
        "a.localhost.",
        "127.0.0.1",
        "127.255.255.254",
        "0.0.0.0",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[0000::0001]",
        "[::]",
        "[0::0]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::FFFF:7F00:1]",
        "[::ffff:0.0.0.0]",
        "::1",
        // Numeric forms parse_url refuses, classified as the C library would connect:
        "2130706433",
        "0x7f.1",
        "127.1",
        "0177.0.0.1",
        "0x7f000001",
        "127.0.0.1.",
    };
    for (const char* host : loopback) {
        CAPTURE(host);
        CHECK(is_loopback_host(host));
        CHECK_FALSE(is_link_local_host(host));
    }
    const char* remote[] = {
        "example.com",
        "localhost.example.com",
        "localhost-x",
        "mylocalhost",
        "127.0.0.1.nip.io",
        "128.0.0.1",
        "1.0.0.127",
        "[::2]",
        "[::1:0]",
        "[1::]",
        "[::ffff:128.0.0.1]",
        "[fe80::1]",
        "[::1",
        "[]",
        "",
        "10.0.0.1",
        "0x80.1",
        "[2001:db8::1]",
        "[::127.0.0.1]",
    };
    for (const char* host : remote) {
        CAPTURE(host);
        CHECK_FALSE(is_loopback_host(host));
    }
}

TEST_CASE("is_link_local_host is exact") {
    const char* link_local[] = {
        "169.254.169.254",
        "169.254.0.1",
        "169.254.255.255",
        "[fe80::1]",
        "[FE80::1]",
        "[fe80:0000::0001]",
        "[febf:ffff::1]",
        "[fe9a::1]",
        "[::ffff:169.254.169.254]",
        "[::ffff:a9fe:a9fe]",
        "[fd00:ec2::254]",
        "[fd00:0ec2:0:0::254]",
        "metadata.google.internal",
        "METADATA.GOOGLE.INTERNAL.",
        "metadata.goog",
        "0xa9fea9fe",
        "2852039166",
        "169.254.43518",
    };
    for (const char* host : link_local) {
        CAPTURE(host);
        CHECK(is_link_local_host(host));
        CHECK_FALSE(is_loopback_host(host));
    }
    const char* other[] = {"169.253.1.1",     "170.254.1.1",  "[fec0::1]",
                           "[fe7f::1]",       "[fd00::abcd]", "metadata.google.internal.evil.com",
                           "google.internal", "127.0.0.1"};
    for (const char* host : other) {
        CAPTURE(host);
        CHECK_FALSE(is_link_local_host(host));
    }
}

TEST_CASE("check_url_from_server keeps a server's URLs within the trust of the user's URL") {
    auto url = [&](const char* text) {
        auto u = parse_url(text);
        REQUIRE_MESSAGE(u, why(u));
        return *u;
    };
    Url remote = url("https://mcp.example.com/mcp");
    Url local = url("http://127.0.0.1:3000/mcp");
    CHECK(check_url_from_server(url("https://as.example.com/token"), remote, false).ok());
    CHECK(check_url_from_server(url("http://127.0.0.1:4000/token"), local, false).ok());
    CHECK(check_url_from_server(url("http://[::1]:4000/token"), local, false).ok());
    CHECK(check_url_from_server(url("https://as.example.com/t"), local, false).ok());
    // A remote server may not send mcp-auth to this machine, in any spelling of it.
    for (const char* target :
         {"http://127.0.0.1:6379/", "https://localhost/", "https://localhost./",
          "http://0.0.0.0:2375/", "http://[::]:8001/", "http://[0:0::1]/",
          "http://[::ffff:7f00:1]/", "https://app.localhost/"}) {
        CAPTURE(target);
        auto refused = check_url_from_server(url(target), remote, false);
        CHECK(why(refused).find("not on this machine") != std::string::npos);
    }
    // Never link-local, not even from a loopback server or with --allow-http.
    for (const char* target : {"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
                               "http://[::ffff:169.254.169.254]/",
                               "http://metadata.google.internal/", "http://[fd00:ec2::254]/"}) {
        CAPTURE(target);
        CHECK(why(check_url_from_server(url(target), local, true)).find("link-local") !=
              std::string::npos);
        CHECK(why(check_url_from_server(url(target), remote, true)).find("link-local") !=
              std::string::npos);
    }
    CHECK(why(check_url_from_server(url("http://as.example.com/token"), remote, false))
              .find("not https") != std::string::npos);
    CHECK(check_url_from_server(url("http://as.example.com/token"), remote, true).ok());
    CHECK(why(check_url_from_server(url("http://as.example.com/token"), local, false))
              .find("not https") != std::string::npos);
    // The query (maybe a credential) stays out of the message.
    auto refused = check_url_from_server(url("http://as.example.com/t?key=s3cret"), remote, false);
    CHECK_FALSE(refused);
    CHECK(why(refused).find("s3cret") == std::string::npos);
}

TEST_CASE("proxy_for") {
    auto env_of = [](std::vector<std::pair<std::string, std::string>> vars) {
        return [vars](const char* name) {
            for (const auto& [k, v] : vars)
                if (k == name) return v;
            return std::string();
        };
    };
    Url remote = *parse_url("https://mcp.example.com/mcp");
    Url plain = *parse_url("http://mcp.example.com:8080/mcp");
    SUBCASE("https and http proxies, with credentials") {
        auto p =
            proxy_for(remote, env_of({{"HTTPS_PROXY", "http://u%40x:p%3Aw@proxy.corp:3128/"}}));
        REQUIRE(p);
        CHECK(p->error.empty());
        CHECK(p->host == "proxy.corp");
        CHECK(p->port == 3128);
        CHECK(p->user == "u@x");
        CHECK(p->password == "p:w");
        auto q = proxy_for(plain, env_of({{"http_proxy", "proxy.corp:8080"}}));
        REQUIRE(q);
        CHECK(q->host == "proxy.corp");
        CHECK(q->port == 8080);
        CHECK_FALSE(proxy_for(plain, env_of({{"HTTPS_PROXY", "http://proxy:1"}})));
    }
    SUBCASE("loopback never goes through a proxy") {
        auto env = env_of({{"HTTP_PROXY", "http://proxy:1"}, {"HTTPS_PROXY", "http://proxy:1"}});
        for (const char* u : {"http://127.0.0.1:3000/mcp", "http://localhost/", "https://[::1]/",
                              "http://0.0.0.0:80/", "https://app.localhost/"}) {
            CAPTURE(u);
            CHECK_FALSE(proxy_for(*parse_url(u), env));
        }
        CHECK(proxy_for(remote, env));
    }
    SUBCASE("unusable proxies are an error, never a direct connection") {
        for (const char* value :
             {"socks5://proxy:1080", "socks4a://proxy:1080", "SOCKS5H://proxy:1080",
              "https://proxy:3128", "ftp://proxy:21", "http://proxy:99999999999", "http://pro xy:1",
              "http://user:s3cret@proxy\r\n:1"}) {
            CAPTURE(value);
            auto p = proxy_for(remote, env_of({{"HTTPS_PROXY", value}}));
            REQUIRE(p);
            CHECK(p->error.find("HTTPS_PROXY") != std::string::npos);
            CHECK(p->error.find("s3cret") == std::string::npos);
        }
        auto p = proxy_for(remote, env_of({{"https_proxy", "socks5://proxy:1080"}}));
        REQUIRE(p);
        CHECK(p->error.find("https_proxy") != std::string::npos);
        CHECK(p->error.find("SOCKS") != std::string::npos);
    }
    SUBCASE("NO_PROXY, and no exception on any value") {
        auto env = [&](const char* no_proxy) {
            return env_of({{"HTTPS_PROXY", "http://proxy:1"}, {"NO_PROXY", no_proxy}});
        };
        CHECK_FALSE(proxy_for(remote, env("example.com")));
        CHECK_FALSE(proxy_for(remote, env(".example.com")));
        CHECK_FALSE(proxy_for(remote, env("other, mcp.example.com:443")));
        CHECK_FALSE(proxy_for(remote, env("*")));
        CHECK(proxy_for(remote, env("mcp.example.com:8443")));
        CHECK(proxy_for(remote, env("ample.com")));
        CHECK(proxy_for(remote, env("mcp.example.com:99999999999")));
        CHECK(proxy_for(remote, env("mcp.example.com:99999999999999999999999999")));
        CHECK(proxy_for(remote, env(":,,:::,[,],[]:1")));
    }
}

TEST_CASE("display_url") {
    CHECK(display_url("https://mcp.example.com/mcp?key=s3cret") ==
          "https://mcp.example.com/mcp?\u2026");
    CHECK(display_url("not a url?key=s3cret") == "not a url?\u2026");
    std::string huge = "https://" + std::string(30000, 'a') + ".example/";
    CHECK(display_url(huge) == huge.substr(0, 120) + "\u2026");
}
