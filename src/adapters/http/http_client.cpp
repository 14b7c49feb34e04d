#include "adapters/http/http_client.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include <httplib.h>
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

#include "adapters/http/socket_io.h"
#include "adapters/http/system_roots.h"
#include "core/base64.h"

namespace mcp_auth {

namespace {

std::string describe_duration(std::chrono::milliseconds d) {
    auto ms = d.count();
    return ms % 1000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s";
}

// The state of the current exchange that the streams below share with send().
//
// The head bound: cpp-httplib reads the status line and headers with no overall bound (a
// line without CRLF, or endless header lines, grow its buffers for ever), so the streams
// count the bytes it reads until the response handler runs, and fail the read past the
// limit.
//
// One write per request: cpp-httplib writes the request head and the body in two calls
// (two segments on the wire, two wake-ups at the server). The head is held in `held`
// until the body's first write, or the first read, and both go out together.
struct Exchange {
    size_t limit = 0;
    size_t used = 0;
    bool head_done = false;
    bool exceeded = false;
    std::string held;                   // request bytes written but not yet sent
    const std::string* body = nullptr;  // the request body, sent from the caller's buffer
    bool send_failed = false;           // sending the request failed (not reading the reply)
    WaitHook* hook = nullptr;           // waits for the reply through it (set_wait_hook)
    bool hook_stopped = false;          // ... and it said to give the exchange up
    std::string tls_refusal;            // why the server's certificate was refused (OpenSSL)
};

// Waits for `sock` to be readable through the exchange's hook (when there is one) before
// a read that would block: false when that read must fail (a timeout, or a stop).
bool hooked_wait(Exchange& ex, socket_t sock, time_t sec, time_t usec) {
    if (!ex.hook) return true;
    auto wake = ex.hook->wait(static_cast<long long>(sock),
                              std::chrono::milliseconds(sec * 1000 + usec / 1000));
    if (wake == WaitHook::Wake::Stop) ex.hook_stopped = true;
    return wake == WaitHook::Wake::Readable;
}

// An https request through a proxy: the CONNECT tunnel mcp-auth opens itself (see
// BoundedClient::create_and_connect_socket).
struct Tunnel {
    ProxySetting proxy;
    std::string target;  // "host:port", brackets around an IPv6 literal
    std::string error;   // why the last tunnel could not be opened, for the user
};

static_assert(std::is_same_v<socket_t, SocketHandle>, "adapters/http/socket_io.h's handle type");

// What mcp-auth's own streams share: the connected socket, and no addresses to report
// (cpp-httplib asks for them only on the server side).
class SocketStream : public httplib::Stream {
public:
    explicit SocketStream(socket_t sock) : sock_(sock) {}
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip.clear();
        port = 0;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip.clear();
        port = 0;
    }
    socket_t socket() const override { return sock_; }

protected:
    socket_t sock_;
};

// A plain TCP stream without a poll before every operation: the socket is blocking, with
// SO_RCVTIMEO/SO_SNDTIMEO set to the client's timeouts when it was opened (see
// BoundedClient::create_and_connect_socket), so a read or write that waits too long
// still fails, and cpp-httplib's stop() (shutdown) still wakes it. Reads go through a
// small buffer: cpp-httplib reads the head a byte at a time.
class PlainStream final : public SocketStream {
public:
    PlainStream(socket_t sock, time_t rs, time_t ru, Exchange& ex)
        : SocketStream(sock), rs_(rs), ru_(ru), ex_(ex) {}
    bool is_readable() const override { return off_ < len_ || socket_wait(sock_, false, rs_, ru_); }
    // Nothing to wait for: a write that cannot proceed fails after the send timeout.
    bool is_writable() const override { return true; }
    ssize_t read(char* ptr, size_t size) override {
        if (off_ == len_) {
            if (!hooked_wait(ex_, sock_, rs_, ru_)) return -1;
            if (size >= sizeof(buf_)) return receive(ptr, size);
            ssize_t n = receive(buf_, sizeof(buf_));
            if (n <= 0) return n;
            off_ = 0;
            len_ = static_cast<size_t>(n);
        }
        if (size == 1) {  // cpp-httplib reads the head a byte at a time
            *ptr = buf_[off_++];
            return 1;
        }
        size_t n = std::min(size, len_ - off_);
        std::memcpy(ptr, buf_ + off_, n);
        off_ += n;
        return static_cast<ssize_t>(n);
    }
    ssize_t write(const char* ptr, size_t size) override {
        return write_both(ptr, size, nullptr, 0) ? static_cast<ssize_t>(size) : -1;
    }
    // Sends a then b (either may be empty), as one write where the transport allows.
    bool write_both(const char* a, size_t an, const char* b, size_t bn) {
        return socket_send_both(sock_, a, an, b, bn);
    }

private:
    ssize_t receive(char* ptr, size_t size) {
        return static_cast<ssize_t>(socket_receive(sock_, ptr, size));
    }
    time_t rs_, ru_;
    Exchange& ex_;
    char buf_[4096];
    size_t off_ = 0, len_ = 0;
};

// What cpp-httplib sees of a connection during an exchange: the head bound on reads, and
// the request's writes held until they can go out as one (see Exchange). A template on
// the (final) transport so that the byte-at-a-time head reads are direct calls.
template <class Inner>
class BoundedStream final : public httplib::Stream {
public:
    BoundedStream(Inner& inner, Exchange& exchange) : inner_(inner), ex_(exchange) {}
    bool is_readable() const override { return inner_.is_readable(); }
    bool is_writable() const override { return inner_.is_writable(); }
    ssize_t read(char* ptr, size_t size) override {
        if (!reading_ && !flush()) return -1;
        if (ex_.head_done) return inner_.read(ptr, size);
        if (ex_.used >= ex_.limit) {
            ex_.exceeded = true;
            return -1;
        }
        ssize_t n = inner_.read(ptr, std::min(size, ex_.limit - ex_.used));
        if (n > 0) ex_.used += static_cast<size_t>(n);
        return n;
    }
    ssize_t write(const char* ptr, size_t size) override {
        const std::string* body = ex_.body;
        if (body && ptr >= body->data() && ptr < body->data() + body->size()) {
            // The body, from the caller's buffer: the held head goes with it.
            bool ok = inner_.write_both(ex_.held.data(), ex_.held.size(), ptr, size);
            ex_.held.clear();
            ex_.send_failed = !ok;
            return ok ? static_cast<ssize_t>(size) : -1;
        }
        if (!reading_) {
            ex_.held.append(ptr, size);
            return static_cast<ssize_t>(size);
        }
        return inner_.write(ptr, size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        inner_.get_remote_ip_and_port(ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        inner_.get_local_ip_and_port(ip, port);
    }
    socket_t socket() const override { return inner_.socket(); }

private:
    // The request is complete once cpp-httplib reads: what is held goes out now.
    bool flush() {
        reading_ = true;
        if (ex_.held.empty()) return true;
        bool ok = inner_.write_both(ex_.held.data(), ex_.held.size(), nullptr, 0);
        ex_.held.clear();
        ex_.send_failed = !ok;
        return ok;
    }
    Inner& inner_;
    Exchange& ex_;
    bool reading_ = false;
};

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
// A TLS stream like cpp-httplib's own (whose class the shared library does not export):
// SSL_read/SSL_write on the connected socket, each wait bounded by the client's timeouts.
class TlsStream final : public SocketStream {
public:
    TlsStream(socket_t sock, SSL* ssl, time_t rs, time_t ru, time_t ws, time_t wu, Exchange& ex)
        : SocketStream(sock), ssl_(ssl), rs_(rs), ru_(ru), ws_(ws), wu_(wu), ex_(ex) {
        SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
    }
    bool is_readable() const override { return socket_wait(sock_, false, rs_, ru_); }
    bool is_writable() const override { return socket_wait(sock_, true, ws_, wu_); }
    ssize_t read(char* ptr, size_t size) override {
        int len = static_cast<int>(std::min<size_t>(size, 1 << 30));
        for (int tries = 0; tries < 1000; ++tries) {
            if (SSL_pending(ssl_) <= 0 &&
                !(ex_.hook ? hooked_wait(ex_, sock_, rs_, ru_) : is_readable()))
                return -1;
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
    // Sends a then b (either may be empty): a small body in the same TLS record as the
    // head (one copy of it), a large one from the caller's buffer.
    bool write_both(const char* a, size_t an, const char* b, size_t bn) {
        if (bn && an + bn <= 16 * 1024) {
            joined_.assign(a, an);
            joined_.append(b, bn);
            return write_all(joined_.data(), joined_.size());
        }
        return write_all(a, an) && write_all(b, bn);
    }

private:
    bool write_all(const char* p, size_t n) {
        while (n) {
            ssize_t k = write(p, n);
            if (k <= 0) return false;
            p += k;
            n -= static_cast<size_t>(k);
        }
        return true;
    }
    SSL* ssl_;
    time_t rs_, ru_, ws_, wu_;
    Exchange& ex_;
    std::string joined_;
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
        socket_close(sock);
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
        if (!socket_wait(sock, true, ws, wu))
            return fail("timed out sending to " + where, httplib::Error::Write);
        if (!socket_send_both(sock, request.data() + sent, request.size() - sent, nullptr, 0))
            return fail(where + " closed the connection", httplib::Error::Write);
        sent = request.size();
    }
    // The reply head, a byte at a time (the TLS bytes after it are not ours to take).
    std::string head;
    while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
        if (head.size() >= 16 * 1024)
            return fail(where + " sent an oversized reply to CONNECT", httplib::Error::Read);
        if (!socket_wait(sock, false, rs, ru))
            return fail("no reply from " + where + " to CONNECT", httplib::Error::Read);
        char c;
        long long n = socket_receive(sock, &c, 1);
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

template <class Base>
constexpr bool is_tls_client() {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    return std::is_base_of_v<httplib::SSLClient, Base>;
#else
    return false;
#endif
}

// A cpp-httplib client (plain, or TLS when Base is SSLClient) whose exchanges run on a
// BoundedStream over mcp-auth's own transport, and whose https requests through a proxy
// use open_tunnel.
template <class Base>
class BoundedClient final : public Base {
public:
    BoundedClient(const std::string& host, int port, Exchange& exchange, Tunnel* tunnel)
        : Base(host, port), exchange_(exchange), tunnel_(tunnel) {}

private:
    bool create_and_connect_socket(typename Base::Socket& socket, httplib::Error& error) override {
        if (!this->is_valid()) return false;
        if (!tunnel_) {
            if (!httplib::ClientImpl::create_and_connect_socket(socket, error)) return false;
            if constexpr (!is_tls_client<Base>()) {
                if (!socket_set_timeouts(socket.sock, this->read_timeout_sec_,
                                         this->read_timeout_usec_, this->write_timeout_sec_,
                                         this->write_timeout_usec_)) {
                    socket_close(socket.sock);
                    socket.sock = INVALID_SOCKET;
                    error = httplib::Error::Connection;
                    return false;
                }
            }
            return true;
        }
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
        if constexpr (is_tls_client<Base>()) {
            TlsStream tls(socket.sock, socket.ssl, this->read_timeout_sec_,
                          this->read_timeout_usec_, this->write_timeout_sec_,
                          this->write_timeout_usec_, exchange_);
            BoundedStream<TlsStream> bounded(tls, exchange_);
            return callback(bounded);
        }
#endif
        PlainStream plain(socket.sock, this->read_timeout_sec_, this->read_timeout_usec_,
                          exchange_);
        BoundedStream<PlainStream> bounded(plain, exchange_);
        return callback(bounded);
    }
    Exchange& exchange_;
    Tunnel* tunnel_;  // null: connect directly (or through httplib's plain-http proxy)
};

// The host as the socket layer takes it: an IPv6 literal without its brackets
// (cpp-httplib adds them back where a URL or Host header needs them).
std::string connect_host(const Url& url) {
    const std::string& h = url.host;
    return h.size() > 2 && h.front() == '[' ? h.substr(1, h.size() - 2) : h;
}

std::unique_ptr<httplib::ClientImpl> make_client(const Url& url, Exchange& exchange,
                                                 Tunnel* tunnel) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    if (url.scheme == "https")
        return std::make_unique<BoundedClient<httplib::SSLClient>>(connect_host(url), url.port,
                                                                   exchange, tunnel);
#endif
    return std::make_unique<BoundedClient<httplib::ClientImpl>>(connect_host(url), url.port,
                                                                exchange, nullptr);
}

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
// The verify callback: notes why OpenSSL refused the server's certificate in the exchange
// of the context (its app data), for the message; the handshake fails either way.
int note_refusal(int ok, X509_STORE_CTX* store) {
    if (ok) return ok;
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* ex = ssl ? static_cast<Exchange*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))) : nullptr;
    if (ex && ex->tls_refusal.empty())
        ex->tls_refusal = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
    return ok;
}

// A new reference to the store of the system's CAs and those of `ca_file`, built once per
// file and process and shared by every context that trusts that file, as the system's
// store is: reading Debian's bundle again for each connection costs 20-30 ms (seconds
// under a sanitizer). An unreadable file leaves the system's CAs alone trusted, as it
// always did. Null only when OpenSSL cannot allocate.
X509_STORE* trust_store_with(const std::string& ca_file) {
    static std::mutex mutex;
    // One reference each, kept for the process (never destroyed: they stay reachable, as
    // the system's store does, while threads may still be connecting at exit).
    static auto* stores = new std::map<std::string, X509_STORE*>();
    std::lock_guard<std::mutex> lock(mutex);
    X509_STORE*& store = (*stores)[ca_file];
    if (!store) {
        store = X509_STORE_new();
        if (!store) return nullptr;
        (void)X509_STORE_load_file(store, ca_file.c_str());
        ERR_clear_error();
        add_system_roots(store);
    }
    X509_STORE_up_ref(store);
    return store;
}

// Server verification by OpenSSL, in the handshake: the chain against the system's CAs
// (adapters/http/system_roots.h) and `ca_file`, the name by X509_check_host's rules (RFC
// 6125: no partial wildcards, the subject's CN only when there is no DNS name); a refusal
// fails the handshake, before any request byte. cpp-httplib's own verification stays off:
// it loads the trusted CAs into every new context (Debian's bundle: 20-30 ms; on Windows
// the ROOT store alone: 60-300 ms under Wine), and checks the name after the handshake
// with a matcher of its own. False when the name cannot be set to check.
bool verify_server(httplib::SSLClient& tls, const Url& server, const std::string& ca_file,
                   Exchange& exchange) {
    tls.enable_server_certificate_verification(false);
    SSL_CTX* ctx = tls.ssl_context();
    if (!ctx) return true;  // an invalid client: send() fails on its own
    X509_STORE* store = ca_file.empty() ? system_trust_store() : trust_store_with(ca_file);
    // The context owns this reference from now on. Without a store (OpenSSL out of
    // memory) it keeps its empty one, which trusts nothing.
    if (store) SSL_CTX_set_cert_store(ctx, store);
    SSL_CTX_set_app_data(ctx, &exchange);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, note_refusal);
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    std::string host = connect_host(server);
    // parse_url admits numeric hosts as dotted quads and bracketed IPv6 literals only.
    bool address =
        server.host.front() == '[' || host.find_first_not_of("0123456789.") == std::string::npos;
    return address ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                   : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}
#endif

}  // namespace

struct HttplibConnection::Impl {
    Impl(const Url& server, const HttpOptions& opts, const EnvLookup& env, std::string agent,
         const SystemProxySettings* system_proxy)
        : url(server),
          options(opts),
          user_agent(std::move(agent)),
          proxy(system_proxy
                    ? system_proxy_for(server, *system_proxy)
                    : proxy_for(server, [&](const char* name) { return env(name).value_or(""); })),
          tunnel(https_tunnel(server, proxy)),
          client(make_client(server, exchange, tunnel ? &*tunnel : nullptr)) {
        exchange.limit = opts.max_header_bytes;
        client->set_keep_alive(true);
        client->set_tcp_nodelay(true);  // without it every POST with a body waits ~40 ms (Nagle)
        client->set_connection_timeout(opts.connect_timeout);
        client->set_read_timeout(opts.read_timeout);
        client->set_write_timeout(opts.read_timeout);
        // Targets are sent as they are: send() has checked they hold RFC 3986 characters only.
        client->set_url_encode(false);
        client->set_follow_location(false);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
        if (server.scheme == "https" && !verify_server(static_cast<httplib::SSLClient&>(*client),
                                                       server, opts.ca_file, exchange))
            proxy_error = "cannot check the TLS certificate of " + server.authority() +
                          " against its host name; not connecting";
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
    std::string user_agent;
    std::optional<ProxySetting> proxy;
    std::optional<Tunnel> tunnel;  // https through a proxy
    Exchange exchange;             // `exchange` and `tunnel` before `client`, which uses them
    std::unique_ptr<httplib::ClientImpl> client;
    std::string proxy_error;  // set when the request must not go out at all
    std::atomic<bool> cancelled{false};
    std::atomic<bool> in_flight{false};
};

HttplibConnection::HttplibConnection(const Url& server, const HttpOptions& options,
                                     const EnvLookup& env, std::string user_agent,
                                     const SystemProxySettings* system_proxy)
    : impl_(std::make_unique<Impl>(server, options, env, std::move(user_agent), system_proxy)) {}

HttplibConnection::~HttplibConnection() = default;

namespace {

// `refusal`: OpenSSL's reason for refusing the server's certificate, when it gave one.
std::string describe(httplib::Error error, const Url& url, const std::string& refusal) {
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
            return "the TLS certificate of " + url.authority() + " could not be verified" +
                   (refusal.empty() ? std::string() : " (" + refusal + ")") +
                   "; if the server uses a private CA, pass --ca-file <ca.pem> or " +
                   system_roots_remedy();
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
    if (auto allowed = check_request_target(target); !allowed) {
        result.error = "refusing to send a request to " + impl_->url.authority() + ": " +
                       allowed.error().message;
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
    if (!req.has_header("User-Agent")) req.set_header("User-Agent", impl_->user_agent);
    Exchange& exchange = impl_->exchange;
    exchange.used = 0;
    exchange.head_done = false;
    exchange.exceeded = false;
    exchange.hook_stopped = false;
    exchange.send_failed = false;
    exchange.tls_refusal.clear();
    exchange.held.clear();
    exchange.body = nullptr;
    if (!body.empty() || method == "POST") {
        if (!req.has_header("Content-Type")) req.set_header("Content-Type", "application/json");
    }
    if (!body.empty()) {
        // The body is written from the caller's buffer (no copy into the request), in the
        // same write as the head (Exchange).
        exchange.body = &body;
        req.content_length_ = body.size();
        req.content_provider_ = [&body](size_t offset, size_t length, httplib::DataSink& sink) {
            return sink.write(body.data() + offset, length);
        };
    }
    using Clock = std::chrono::steady_clock;
    auto last_activity = Clock::now();
    bool stopped_by_handler = false;
    req.response_handler = [&](const httplib::Response& res) {
        exchange.head_done = true;
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
    if (exchange.exceeded) {
        result.error = "the response head from " + impl_->url.authority() + " is larger than " +
                       std::to_string(exchange.limit) +
                       " bytes (status line and headers); the server is misbehaving";
        return result;
    }
    if (stopped_by_handler || impl_->cancelled || exchange.hook_stopped ||
        error == httplib::Error::Canceled) {
        result.cancelled = true;
        result.error = "the request was cancelled";
        return result;
    }
    if (exchange.send_failed && error == httplib::Error::Read) error = httplib::Error::Write;
    // OpenSSL verifies in the handshake (verify_server): its refusal is a failed handshake.
    if (error == httplib::Error::SSLConnection && !exchange.tls_refusal.empty())
        error = httplib::Error::SSLServerVerification;
    result.error = impl_->tunnel && !impl_->tunnel->error.empty()
                       ? impl_->tunnel->error
                       : describe(error, impl_->url, exchange.tls_refusal);
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

bool HttplibConnection::set_wait_hook(WaitHook* hook) {
    impl_->exchange.hook = hook;  // set between exchanges, by the thread that sends
    return true;
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
    return std::make_shared<HttplibConnection>(server, options, env_, user_agent_,
                                               system_proxy(server));
}

const SystemProxySettings* HttplibClient::system_proxy(const Url& server) {
    // Loopback servers never use a proxy: no reason to read the settings for them.
    if (!system_proxy_ || is_loopback_host(server.host)) return nullptr;
    std::call_once(system_proxy_once_, [this] { system_settings_ = system_proxy_(); });
    return system_settings_ ? &*system_settings_ : nullptr;
}

HttpResponse HttplibClient::fetch(const std::string& url, const std::string& method,
                                  const HeaderList& headers, const std::string& body,
                                  const HttpOptions& options, size_t max_body) {
    HttpResponse response;
    auto parsed = parse_url(url);
    if (!parsed) {
        response.error = "invalid URL: " + parsed.error().message;
        return response;
    }
    HttplibConnection conn(*parsed, options, env_, user_agent_, system_proxy(*parsed));
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
