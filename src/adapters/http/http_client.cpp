#include "adapters/http/http_client.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include "core/base64.h"

namespace mcp_auth {

namespace {

std::string describe_duration(std::chrono::milliseconds d) {
    auto ms = d.count();
    return ms % 1000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s";
}

// What the response head of the current exchange may still take. cpp-httplib reads the
// status line and headers with no overall bound (a line without CRLF, or endless header
// lines, grow its buffers for ever), so the streams below count the bytes it reads until
// the response handler runs, and fail the read past the limit.
struct HeadBudget {
    size_t limit = 0;
    size_t used = 0;
    bool head_done = false;
    bool exceeded = false;
};

// An https request through a proxy: the CONNECT tunnel mcp-auth opens itself (see
// BoundedClient::create_and_connect_socket).
struct Tunnel {
    ProxySetting proxy;
    std::string target;  // "host:port", brackets around an IPv6 literal
    std::string error;   // why the last tunnel could not be opened, for the user
};

class BoundedStream final : public httplib::Stream {
public:
    BoundedStream(httplib::Stream& inner, HeadBudget& budget) : inner_(inner), budget_(budget) {}
    bool is_readable() const override { return inner_.is_readable(); }
    bool is_writable() const override { return inner_.is_writable(); }
    ssize_t read(char* ptr, size_t size) override {
        if (budget_.head_done) return inner_.read(ptr, size);
        if (budget_.used >= budget_.limit) {
            budget_.exceeded = true;
            return -1;
        }
        ssize_t n = inner_.read(ptr, std::min(size, budget_.limit - budget_.used));
        if (n > 0) budget_.used += static_cast<size_t>(n);
        return n;
    }
    ssize_t write(const char* ptr, size_t size) override { return inner_.write(ptr, size); }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        inner_.get_remote_ip_and_port(ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        inner_.get_local_ip_and_port(ip, port);
    }
    socket_t socket() const override { return inner_.socket(); }

private:
    httplib::Stream& inner_;
    HeadBudget& budget_;
};

bool wait_for(socket_t sock, short events, time_t sec, time_t usec) {
    pollfd pfd{sock, events, 0};
    auto ms = static_cast<int>(std::min<time_t>(sec * 1000 + usec / 1000, 24 * 3600 * 1000));
    int rc;
    do rc = ::poll(&pfd, 1, ms);
    while (rc < 0 && errno == EINTR);
    return rc > 0;
}

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
// A TLS stream like cpp-httplib's own (whose class the shared library does not export):
// SSL_read/SSL_write on the connected socket, each wait bounded by the client's timeouts.
class TlsStream final : public httplib::Stream {
public:
    TlsStream(socket_t sock, SSL* ssl, time_t rs, time_t ru, time_t ws, time_t wu)
        : sock_(sock), ssl_(ssl), rs_(rs), ru_(ru), ws_(ws), wu_(wu) {
        SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
    }
    bool is_readable() const override { return wait_for(sock_, POLLIN, rs_, ru_); }
    bool is_writable() const override { return wait_for(sock_, POLLOUT, ws_, wu_); }
    ssize_t read(char* ptr, size_t size) override {
        int len = static_cast<int>(std::min<size_t>(size, 1 << 30));
        for (int tries = 0; tries < 1000; ++tries) {
            if (SSL_pending(ssl_) <= 0 && !is_readable()) return -1;
            int ret = SSL_read(ssl_, ptr, len);
            if (ret > 0) return ret;
            if (SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_READ) return ret;
        }
        return -1;
    }
    ssize_t write(const char* ptr, size_t size) override {
        int len = static_cast<int>(std::min<size_t>(size, 1 << 30));
        for (int tries = 0; tries < 1000; ++tries) {
            if (!is_writable()) return -1;
            int ret = SSL_write(ssl_, ptr, len);
            if (ret > 0) return ret;
            if (SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_WRITE) return ret;
        }
        return -1;
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip.clear();
        port = 0;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip.clear();
        port = 0;
    }
    socket_t socket() const override { return sock_; }

private:
    socket_t sock_;
    SSL* ssl_;
    time_t rs_, ru_, ws_, wu_;
};
#endif

// Opens a CONNECT tunnel to `tunnel.target` through `tunnel.proxy` on a fresh socket.
// cpp-httplib's own CONNECT handling deadlocks when the proxy answers "Connection:
// close" (it takes a mutex it already holds), reads the proxy's headers without a bound
// and goes on to a TLS handshake after a refusal; this one reports the refusal instead.
socket_t open_tunnel(Tunnel& tunnel, time_t cs, time_t cu, time_t rs, time_t ru, time_t ws,
                     time_t wu, httplib::Error& error) {
    const ProxySetting& proxy = tunnel.proxy;
    std::string where = "the proxy " + proxy.host + ":" + std::to_string(proxy.port);
    socket_t sock = httplib::detail::create_client_socket(proxy.host, std::string(), proxy.port,
                                                          AF_UNSPEC, true, nullptr, cs, cu, rs, ru,
                                                          ws, wu, std::string(), error);
    if (sock == INVALID_SOCKET) {
        tunnel.error = "could not connect to " + where;
        return INVALID_SOCKET;
    }
    auto fail = [&](std::string why, httplib::Error kind) {
        ::close(sock);
        tunnel.error = std::move(why);
        error = kind;
        return INVALID_SOCKET;
    };
    std::string request =
        "CONNECT " + tunnel.target + " HTTP/1.1\r\nHost: " + tunnel.target + "\r\n";
    if (!proxy.user.empty())
        request += "Proxy-Authorization: Basic " +
                   base64_encode(proxy.user + ":" + proxy.password) + "\r\n";
    request += "\r\n";
    for (size_t sent = 0; sent < request.size();) {
        if (!wait_for(sock, POLLOUT, ws, wu))
            return fail("timed out sending to " + where, httplib::Error::Write);
        ssize_t n = ::send(sock, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return fail(where + " closed the connection", httplib::Error::Write);
        sent += static_cast<size_t>(n);
    }
    // The reply head, a byte at a time (the TLS bytes after it are not ours to take).
    std::string head;
    while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
        if (head.size() >= 16 * 1024)
            return fail(where + " sent an oversized reply to CONNECT", httplib::Error::Read);
        if (!wait_for(sock, POLLIN, rs, ru))
            return fail("no reply from " + where + " to CONNECT", httplib::Error::Read);
        char c;
        ssize_t n = ::recv(sock, &c, 1, 0);
        if (n <= 0)
            return fail(
                where + " closed the connection instead of opening a tunnel to " + tunnel.target,
                httplib::Error::Connection);
        head.push_back(c);
    }
    int status = 0;
    if (head.size() > 12 && head.compare(0, 7, "HTTP/1.") == 0 && head[8] == ' ' &&
        std::isdigit(static_cast<unsigned char>(head[9])) &&
        std::isdigit(static_cast<unsigned char>(head[10])) &&
        std::isdigit(static_cast<unsigned char>(head[11])))
        status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    if (status == 407)
        return fail(where + " wants authentication (407): put user:password@ in the proxy URL",
                    httplib::Error::Connection);
    if (status / 100 != 2)
        return fail(where + " refused a tunnel to " + tunnel.target +
                        (status ? " (HTTP " + std::to_string(status) + ")" : " (no HTTP reply)"),
                    httplib::Error::Connection);
    return sock;
}

// A cpp-httplib client (plain, or TLS when Base is SSLClient) whose exchanges run on a
// BoundedStream, and whose https requests through a proxy use open_tunnel.
template <class Base>
class BoundedClient final : public Base {
public:
    BoundedClient(const std::string& host, int port, HeadBudget& budget, Tunnel* tunnel)
        : Base(host, port), budget_(budget), tunnel_(tunnel) {}

private:
    bool create_and_connect_socket(typename Base::Socket& socket, httplib::Error& error) override {
        if (!tunnel_)
            return this->is_valid() &&
                   httplib::ClientImpl::create_and_connect_socket(socket, error);
        if (!this->is_valid()) return false;
        tunnel_->error.clear();
        socket_t sock =
            open_tunnel(*tunnel_, this->connection_timeout_sec_, this->connection_timeout_usec_,
                        this->read_timeout_sec_, this->read_timeout_usec_, this->write_timeout_sec_,
                        this->write_timeout_usec_, error);
        if (sock == INVALID_SOCKET) return false;
        socket.sock = sock;
        return true;
    }

    bool process_socket(const typename Base::Socket& socket,
                        std::function<bool(httplib::Stream& strm)> callback) override {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
        if constexpr (std::is_base_of_v<httplib::SSLClient, Base>) {
            TlsStream tls(socket.sock, socket.ssl, this->read_timeout_sec_,
                          this->read_timeout_usec_, this->write_timeout_sec_,
                          this->write_timeout_usec_);
            BoundedStream bounded(tls, budget_);
            return callback(bounded);
        }
#endif
        return httplib::detail::process_client_socket(
            socket.sock, this->read_timeout_sec_, this->read_timeout_usec_,
            this->write_timeout_sec_, this->write_timeout_usec_, [&](httplib::Stream& strm) {
                BoundedStream bounded(strm, budget_);
                return callback(bounded);
            });
    }
    HeadBudget& budget_;
    Tunnel* tunnel_;  // null: connect directly (or through httplib's plain-http proxy)
};

// The host as the socket layer takes it: an IPv6 literal without its brackets
// (cpp-httplib adds them back where a URL or Host header needs them).
std::string connect_host(const Url& url) {
    const std::string& h = url.host;
    return h.size() > 2 && h.front() == '[' ? h.substr(1, h.size() - 2) : h;
}

std::unique_ptr<httplib::ClientImpl> make_client(const Url& url, HeadBudget& budget,
                                                 Tunnel* tunnel) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    if (url.scheme == "https")
        return std::make_unique<BoundedClient<httplib::SSLClient>>(connect_host(url), url.port,
                                                                   budget, tunnel);
#endif
    return std::make_unique<BoundedClient<httplib::ClientImpl>>(connect_host(url), url.port, budget,
                                                                nullptr);
}

}  // namespace

struct HttplibConnection::Impl {
    Impl(const Url& server, const HttpOptions& opts, const EnvLookup& env)
        : url(server),
          options(opts),
          proxy(proxy_for(server, [&](const char* name) { return env(name).value_or(""); })),
          tunnel(https_tunnel(server, proxy)),
          client(make_client(server, budget, tunnel ? &*tunnel : nullptr)) {
        budget.limit = opts.max_header_bytes;
        client->set_keep_alive(true);
        client->set_tcp_nodelay(true);  // without it every POST with a body waits ~40 ms (Nagle)
        client->set_connection_timeout(opts.connect_timeout);
        client->set_read_timeout(opts.read_timeout);
        client->set_write_timeout(opts.read_timeout);
        // Targets are sent as they are: send() has checked they hold RFC 3986 characters only.
        client->set_url_encode(false);
        client->set_follow_location(false);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
        if (server.scheme == "https") {
            auto& tls = static_cast<httplib::SSLClient&>(*client);
            tls.enable_server_certificate_verification(true);
            if (!opts.ca_file.empty()) {
                // The system's CAs stay trusted: httplib adds the default paths to this store.
                X509_STORE* store = X509_STORE_new();
                if (store && X509_STORE_load_file(store, opts.ca_file.c_str()) == 1) {
                    tls.set_ca_cert_store(store);  // the SSL context owns it from now on
                } else if (store) {
                    X509_STORE_free(store);
                }
            }
        }
#else
        if (server.scheme == "https")
            proxy_error = "this build of mcp-auth has no TLS support, so it cannot reach " +
                          server.authority() + " over https";
#endif
        if (proxy && !proxy->error.empty()) {
            proxy_error = proxy->error;
        } else if (proxy && !tunnel) {  // plain http: absolute-form requests to the proxy
            client->set_proxy(proxy->host, proxy->port);
            if (!proxy->user.empty()) client->set_proxy_basic_auth(proxy->user, proxy->password);
        }
    }

    static std::optional<Tunnel> https_tunnel(const Url& server,
                                              const std::optional<ProxySetting>& proxy) {
        if (server.scheme != "https" || !proxy || !proxy->error.empty()) return std::nullopt;
        return Tunnel{*proxy, server.authority(), {}};
    }

    Url url;
    HttpOptions options;
    std::optional<ProxySetting> proxy;
    std::optional<Tunnel> tunnel;  // https through a proxy
    HeadBudget budget;             // `budget` and `tunnel` before `client`, which uses them
    std::unique_ptr<httplib::ClientImpl> client;
    std::string proxy_error;  // set when the request must not go out at all
    std::atomic<bool> cancelled{false};
    std::atomic<bool> in_flight{false};
};

HttplibConnection::HttplibConnection(const Url& server, const HttpOptions& options,
                                     const EnvLookup& env)
    : impl_(std::make_unique<Impl>(server, options, env)) {}

HttplibConnection::~HttplibConnection() = default;

namespace {

std::string describe(httplib::Error error, const Url& url) {
    switch (error) {
        case httplib::Error::Connection:
            return "could not connect to " + url.authority() +
                   " (connection refused or host unreachable)";
        case httplib::Error::ConnectionTimeout:
            return "timed out connecting to " + url.authority();
        case httplib::Error::Read:
            return "the connection to " + url.authority() + " broke while reading the reply";
        case httplib::Error::Write:
            return "the connection to " + url.authority() + " broke while sending the request";
        case httplib::Error::SSLConnection:
            return "TLS handshake with " + url.authority() + " failed";
        case httplib::Error::SSLServerVerification:
            return "the TLS certificate of " + url.authority() +
                   " could not be verified; if the server uses a private CA, pass --ca-file "
                   "<ca.pem> "
                   "or set SSL_CERT_FILE";
        case httplib::Error::SSLLoadingCerts:
            return "could not load the trusted CA certificates";
        case httplib::Error::Canceled:
            return "the request was cancelled";
        default:
            return "request to " + url.authority() + " failed (" + httplib::to_string(error) + ")";
    }
}

}  // namespace

HttpResult HttplibConnection::send(const std::string& method, const std::string& target,
                                const HeaderList& headers, const std::string& body,
                                const HeadHandler& on_head, const BodyHandler& on_body) {
    HttpResult result;
    if (impl_->cancelled) {
        result.cancelled = true;
        result.error = "the request was cancelled";
        return result;
    }
    // Last line of defence: cpp-httplib writes the request line and header values as they
    // are, so a CR or LF in any of them would start a second request.
    if (!impl_->proxy_error.empty()) {
        result.error = impl_->proxy_error;
        return result;
    }
    if (!is_token(method)) {
        result.error = "refusing to send the request: its method is not an HTTP token";
        return result;
    }
    if (std::string why = check_request_target(target); !why.empty()) {
        result.error = "refusing to send a request to " + impl_->url.authority() + ": " + why;
        return result;
    }
    for (const auto& h : headers) {
        if (!is_token(h.name) || !is_safe_header_value(h.value)) {
            result.error = is_token(h.name)
                               ? "refusing to send the header \"" + h.name +
                                     "\": its value contains control characters"
                               : "refusing to send a header whose name is not an HTTP token";
            return result;
        }
    }
    httplib::Request req;
    req.method = method;
    req.path = target;
    for (const auto& h : headers) req.headers.emplace(h.name, h.value);
    if (!req.has_header("Host")) {
        // cpp-httplib leaves the brackets off an IPv6 host on the default https port.
        bool default_port = impl_->url.port == (impl_->url.scheme == "https" ? 443 : 80);
        req.set_header("Host", default_port ? impl_->url.host : impl_->url.authority());
    }
    if (!body.empty() || method == "POST") {
        req.body = body;
        if (!req.has_header("Content-Type")) req.set_header("Content-Type", "application/json");
    }
    using Clock = std::chrono::steady_clock;
    auto last_activity = Clock::now();
    bool stopped_by_handler = false;
    HeadBudget& budget = impl_->budget;
    budget.used = 0;
    budget.head_done = false;
    budget.exceeded = false;
    req.response_handler = [&](const httplib::Response& res) {
        budget.head_done = true;
        last_activity = Clock::now();
        result.status = res.status;
        HeaderList list;
        list.reserve(res.headers.size());
        for (const auto& [name, value] : res.headers) list.push_back({name, value});
        if (!on_head(res.status, list)) return stopped_by_handler = true, false;
        return true;
    };
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
        last_activity = Clock::now();
        if (impl_->cancelled || !on_body(std::string_view(data, len)))
            return stopped_by_handler = true, false;
        return true;
    };
    impl_->in_flight = true;
    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    bool ok = impl_->client->send(req, res, error);
    impl_->in_flight = false;
    if (ok) return result;
    if (budget.exceeded) {
        result.error = "the response head from " + impl_->url.authority() + " is larger than " +
                       std::to_string(budget.limit) +
                       " bytes (status line and headers); the server is misbehaving";
        return result;
    }
    if (stopped_by_handler || impl_->cancelled || error == httplib::Error::Canceled) {
        result.cancelled = true;
        result.error = "the request was cancelled";
        return result;
    }
    result.error = impl_->tunnel && !impl_->tunnel->error.empty() ? impl_->tunnel->error
                                                                  : describe(error, impl_->url);
    result.tls = error == httplib::Error::SSLConnection ||
                 error == httplib::Error::SSLServerVerification ||
                 error == httplib::Error::SSLLoadingCerts;
    auto silent_for = Clock::now() - last_activity;
    if (error == httplib::Error::ConnectionTimeout) {
        result.timed_out = true;
    } else if (error == httplib::Error::Read && silent_for >= impl_->options.read_timeout) {
        result.timed_out = true;
        result.error = "no reply from " + impl_->url.authority() + " within " +
                       describe_duration(impl_->options.read_timeout);
    }
    return result;
}

void HttplibConnection::cancel() {
    impl_->cancelled = true;
    // A stop() issued before the socket opens is lost; repeat while a send is running.
    for (int i = 0; i < 200; ++i) {
        impl_->client->stop();
        if (!impl_->in_flight) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::shared_ptr<HttpConnection> HttplibClient::connect(const Url& server,
                                                       const HttpOptions& options) {
    return std::make_shared<HttplibConnection>(server, options, env_);
}

HttpResponse HttplibClient::fetch(const std::string& url, const std::string& method,
                                  const HeaderList& headers, const std::string& body,
                                  const HttpOptions& options, size_t max_body) {
    HttpResponse response;
    std::string error;
    auto parsed = parse_url(url, &error);
    if (!parsed) {
        response.error = "invalid URL: " + error;
        return response;
    }
    HttplibConnection conn(*parsed, options, env_);
    // The deadline: a watchdog that stops the exchange, whatever phase it is in (connect,
    // TLS handshake, a head or body dripping a byte at a time). Only http_fetch (the
    // metadata and token calls) pays for the thread, not the relay's requests.
    std::mutex mutex;
    std::condition_variable wake;
    bool done = false, expired = false;
    std::thread watchdog;
    if (options.total_timeout.count() > 0) {
        auto deadline = std::chrono::steady_clock::now() + options.total_timeout;
        watchdog = std::thread([&, deadline] {
            std::unique_lock<std::mutex> lock(mutex);
            if (wake.wait_until(lock, deadline, [&] { return done; })) return;
            expired = true;
            while (!done) {  // a stop() before the socket opens is lost: repeat it
                lock.unlock();
                conn.cancel();
                lock.lock();
                wake.wait_for(lock, std::chrono::milliseconds(10), [&] { return done; });
            }
        });
    }
    bool too_big = false;
    HttpResult result = conn.send(
        method, parsed->target, headers, body,
        [&](int status, const HeaderList& h) {
            response.status = status;
            response.headers = h;
            return true;
        },
        [&](std::string_view chunk) {
            if (response.body.size() + chunk.size() > max_body) return too_big = true, false;
            response.body.append(chunk);
            return true;
        });
    if (watchdog.joinable()) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            done = true;
        }
        wake.notify_all();
        watchdog.join();
    }
    if (expired) {
        response.status = 0;
        response.error = "the exchange with " + parsed->authority() + " did not finish within " +
                         describe_duration(options.total_timeout);
        response.timed_out = true;
        return response;
    }
    if (too_big) {
        response.error = "the reply from " + parsed->authority() + " is larger than " +
                         std::to_string(max_body) + " bytes";
    } else if (!result.error.empty()) {
        response.error = result.error;
        response.timed_out = result.timed_out;
    }
    return response;
}

}  // namespace mcp_auth
