// The HTTP adapter (adapters/http/http_client.cpp) against a raw loopback server in the
// test: what goes on the wire (User-Agent, head and body intact), the socket timeouts that
// replace a poll before every read, cancel() waking a blocked read, a connection the
// server closed being reopened, and the response-head bound.
#include <doctest/doctest.h>

// The raw server is written with POSIX sockets; on Windows the adapter is tested through
// test_tls_trust.cpp (a TLS server, the certificate stores, the system proxy) and the relay
// suites under Wine.
#ifndef _WIN32
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "adapters/http/http_client.h"

using namespace mcp_auth;
using namespace std::chrono_literals;

namespace {

// Accepts connections on 127.0.0.1 and gives each to `serve` on the server thread.
class LoopbackServer {
public:
    explicit LoopbackServer(std::function<void(int fd)> serve) : serve_(std::move(serve)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
        socklen_t len = sizeof(addr);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        REQUIRE(::listen(fd_, 8) == 0);
        thread_ = std::thread([this] {
            for (;;) {
                int conn = ::accept(fd_, nullptr, nullptr);
                if (conn < 0) return;
                ++accepted;
                serve_(conn);
                ::close(conn);
            }
        });
    }
    ~LoopbackServer() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    Url url() const { return *parse_url("http://127.0.0.1:" + std::to_string(port_) + "/mcp"); }
    std::atomic<int> accepted{0};

private:
    std::function<void(int)> serve_;
    int fd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

// Reads one request (head, then Content-Length bytes of body); empty when the peer left.
std::string read_request(int fd) {
    std::string data;
    char buf[65536];
    size_t head_end = std::string::npos;
    size_t want = 0;
    for (;;) {
        if (head_end == std::string::npos) {
            head_end = data.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                auto cl = data.find("Content-Length: ");
                want = head_end + 4 +
                       (cl != std::string::npos && cl < head_end ? std::stoul(data.substr(cl + 16))
                                                                 : 0);
            }
        }
        if (head_end != std::string::npos && data.size() >= want) return data;
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) return {};
        data.append(buf, static_cast<size_t>(n));
    }
}

void reply(int fd, const std::string& body) {
    std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
}

struct Outcome {
    HttpResult result;
    std::string body;
    std::chrono::milliseconds took{0};
};

Outcome post(HttpConnection& conn, const std::string& body, HeaderList headers = {}) {
    Outcome out;
    auto start = std::chrono::steady_clock::now();
    out.result = conn.send(
        "POST", "/mcp", headers, body, [](int, const HeaderList&) { return true; },
        [&](std::string_view chunk) {
            out.body.append(chunk);
            return true;
        });
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return out;
}

EnvLookup no_env() {
    return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

}  // namespace

TEST_CASE(
    "http adapter: every request carries the User-Agent it was given, head and body "
    "intact") {
    std::string seen;
    LoopbackServer server([&](int fd) {
        while (true) {
            std::string req = read_request(fd);
            if (req.empty()) return;
            seen += req;
            reply(fd, "{\"ok\":true}");
        }
    });
    HttplibConnection conn(server.url(), HttpOptions{}, no_env(), "mcp-auth/9.9.9");
    auto out = post(conn, "{\"jsonrpc\":\"2.0\",\"id\":1}");
    CHECK(out.result.error == "");
    CHECK(out.result.status == 200);
    CHECK(out.body == "{\"ok\":true}");
    CHECK(seen.find("POST /mcp HTTP/1.1\r\n") == 0);
    CHECK(seen.find("\r\nUser-Agent: mcp-auth/9.9.9\r\n") != std::string::npos);
    CHECK(seen.find("\r\nContent-Length: 24\r\n") != std::string::npos);
    CHECK(seen.size() >= 24);
    CHECK(seen.substr(seen.size() - 24) == "{\"jsonrpc\":\"2.0\",\"id\":1}");

    SUBCASE("a User-Agent among the request's headers wins") {
        seen.clear();
        auto again = post(conn, "{}", {{"User-Agent", "custom/1"}});
        CHECK(again.result.status == 200);
        CHECK(seen.find("User-Agent: custom/1\r\n") != std::string::npos);
        CHECK(seen.find("mcp-auth/9.9.9") == std::string::npos);
    }
}

TEST_CASE("http adapter: a 1 MiB body goes out whole, from the caller's buffer") {
    size_t got = 0;
    LoopbackServer server([&](int fd) {
        std::string req = read_request(fd);
        got = req.size() - (req.find("\r\n\r\n") + 4);
        reply(fd, "{}");
    });
    HttplibConnection conn(server.url(), HttpOptions{}, no_env(), "mcp-auth/test");
    std::string big(1 << 20, 'x');
    auto out = post(conn, big);
    CHECK(out.result.status == 200);
    CHECK(got == big.size());
}

TEST_CASE("http adapter: no reply within the read timeout fails as a timeout") {
    LoopbackServer server([](int fd) {
        read_request(fd);
        char c;
        ::recv(fd, &c, 1, 0);  // silent until the client gives up
    });
    HttpOptions options;
    options.read_timeout = 150ms;
    HttplibConnection conn(server.url(), options, no_env(), "mcp-auth/test");
    auto out = post(conn, "{}");
    CHECK(out.result.status == 0);
    CHECK(out.result.timed_out);
    CHECK(out.result.error.find("no reply from 127.0.0.1:") == 0);
    CHECK(out.took >= 140ms);
    CHECK(out.took < 3000ms);
}

TEST_CASE(
    "http adapter: cancel() from another thread ends a read blocked on a silent "
    "server") {
    LoopbackServer server([](int fd) {
        read_request(fd);
        char c;
        ::recv(fd, &c, 1, 0);
    });
    HttpOptions options;
    options.read_timeout = 20s;
    HttplibConnection conn(server.url(), options, no_env(), "mcp-auth/test");
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        conn.cancel();
    });
    auto out = post(conn, "{}");
    canceller.join();
    CHECK(out.result.cancelled);
    CHECK(out.took < 3000ms);
}

TEST_CASE("http adapter: a keep-alive connection the server closed is opened again") {
    LoopbackServer server([](int fd) {
        read_request(fd);
        reply(fd, "{\"n\":1}");
        // and close the connection (idle keep-alive timeout on the server)
    });
    HttplibConnection conn(server.url(), HttpOptions{}, no_env(), "mcp-auth/test");
    auto first = post(conn, "{}");
    REQUIRE(first.result.status == 200);
    std::this_thread::sleep_for(50ms);  // the FIN arrives
    auto second = post(conn, "{}");
    CHECK(second.result.error == "");
    CHECK(second.result.status == 200);
    CHECK(second.body == "{\"n\":1}");
    CHECK(server.accepted == 2);
}

TEST_CASE("http adapter: a response head over the bound is refused") {
    LoopbackServer server([](int fd) {
        read_request(fd);
        std::string head = "HTTP/1.1 200 OK\r\n";
        for (int i = 0; i < 100; ++i) head += "X-Filler-" + std::to_string(i) + ": aaaaaaaaaa\r\n";
        ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    });
    HttpOptions options;
    options.max_header_bytes = 1024;
    HttplibConnection conn(server.url(), options, no_env(), "mcp-auth/test");
    auto out = post(conn, "{}");
    CHECK(out.result.status == 0);
    CHECK(out.result.error.find("is larger than 1024 bytes") != std::string::npos);
}

namespace {

// Counts the waits for a reply; says `wake` to each (after `serve`, when set).
class CountingHook : public WaitHook {
public:
    explicit CountingHook(Wake wake) : wake_(wake) {}
    Wake wait(long long socket, std::chrono::milliseconds) override {
        ++waits;
        valid_socket = valid_socket && socket >= 0;
        if (wake_ == Wake::Readable) {
            pollfd p{static_cast<int>(socket), POLLIN, 0};
            ::poll(&p, 1, 5000);  // as the stdin loop's hook does, on the socket
        }
        return wake_;
    }
    int waits = 0;
    bool valid_socket = true;

private:
    Wake wake_;
};

}  // namespace

TEST_CASE("http adapter: with a wait hook, the reply is awaited through it; Stop cancels") {
    LoopbackServer server([](int fd) {
        while (true) {
            std::string req = read_request(fd);
            if (req.empty()) return;
            std::this_thread::sleep_for(20ms);  // the client must wait
            reply(fd, "{\"ok\":1}");
        }
    });
    HttplibConnection conn(server.url(), HttpOptions{}, no_env(), "mcp-auth/test");
    CountingHook readable(WaitHook::Wake::Readable);
    REQUIRE(conn.set_wait_hook(&readable));
    auto out = post(conn, "{}");
    CHECK(out.result.status == 200);
    CHECK(out.body == "{\"ok\":1}");
    CHECK(readable.waits >= 1);
    CHECK(readable.valid_socket);

    CountingHook stop(WaitHook::Wake::Stop);
    conn.set_wait_hook(&stop);
    auto stopped = post(conn, "{}");
    CHECK(stopped.result.cancelled);
    CHECK(stop.waits == 1);

    conn.set_wait_hook(nullptr);  // no hook: a plain blocking read again
    CHECK(post(conn, "{}").result.status == 200);
}

#endif  // !_WIN32
