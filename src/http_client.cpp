#include "mcp_auth/http_client.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include <httplib.h>

namespace mcp_auth {

std::string find_header(const HeaderList& headers, std::string_view name) {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return h.value;
    return {};
}

struct HttpConnection::Impl {
    Impl(const Url& server, const HttpOptions& opts)
        : url(server), options(opts), client(server.origin()) {
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);  // without it every POST with a body waits ~40 ms (Nagle)
        client.set_connection_timeout(opts.connect_timeout);
        client.set_read_timeout(opts.read_timeout);
        client.set_write_timeout(opts.read_timeout);
        client.set_url_encode(false);  // the target is sent exactly as the user wrote it
        client.set_follow_location(false);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
        client.enable_server_certificate_verification(true);
        if (server.scheme == "https" && !opts.ca_file.empty()) {
            // The system's CAs stay trusted: httplib adds the default paths to this store.
            X509_STORE* store = X509_STORE_new();
            if (store && X509_STORE_load_file(store, opts.ca_file.c_str()) == 1) {
                client.set_ca_cert_store(store);  // the SSL context owns it from now on
            } else if (store) {
                X509_STORE_free(store);
            }
        }
#endif
        auto env = [](const char* name) {
            const char* value = std::getenv(name);
            return std::string(value ? value : "");
        };
        if (auto proxy = proxy_for(server, env)) {
            client.set_proxy(proxy->host, proxy->port);
            if (!proxy->user.empty()) client.set_proxy_basic_auth(proxy->user, proxy->password);
        }
    }

    Url url;
    HttpOptions options;
    httplib::Client client;
    std::atomic<bool> cancelled{false};
    std::atomic<bool> in_flight{false};
};

HttpConnection::HttpConnection(const Url& server, const HttpOptions& options)
    : impl_(std::make_unique<Impl>(server, options)) {}

HttpConnection::~HttpConnection() = default;

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

HttpResult HttpConnection::send(const std::string& method, const std::string& target,
                                const HeaderList& headers, const std::string& body,
                                const HeadHandler& on_head, const BodyHandler& on_body) {
    HttpResult result;
    if (impl_->cancelled) {
        result.cancelled = true;
        result.error = "the request was cancelled";
        return result;
    }
    for (const auto& h : headers) {
        if (!is_token(h.name) || !is_safe_header_value(h.value)) {
            // Last line of defence: cpp-httplib writes header values as they are.
            result.error =
                "refusing to send the header \"" + h.name + "\": it contains control characters";
            return result;
        }
    }
    httplib::Request req;
    req.method = method;
    req.path = target;
    for (const auto& h : headers) req.headers.emplace(h.name, h.value);
    if (!body.empty() || method == "POST") {
        req.body = body;
        if (!req.has_header("Content-Type")) req.set_header("Content-Type", "application/json");
    }
    using Clock = std::chrono::steady_clock;
    auto last_activity = Clock::now();
    bool stopped_by_handler = false;
    req.response_handler = [&](const httplib::Response& res) {
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
    bool ok = impl_->client.send(req, res, error);
    impl_->in_flight = false;
    if (ok) return result;
    if (stopped_by_handler || impl_->cancelled || error == httplib::Error::Canceled) {
        result.cancelled = true;
        result.error = "the request was cancelled";
        return result;
    }
    result.error = describe(error, impl_->url);
    result.tls = error == httplib::Error::SSLConnection ||
                 error == httplib::Error::SSLServerVerification ||
                 error == httplib::Error::SSLLoadingCerts;
    auto silent_for = Clock::now() - last_activity;
    if (error == httplib::Error::ConnectionTimeout) {
        result.timed_out = true;
    } else if (error == httplib::Error::Read && silent_for >= impl_->options.read_timeout) {
        result.timed_out = true;
        auto ms = impl_->options.read_timeout.count();
        result.error = "no reply from " + impl_->url.authority() + " within " +
                       (ms % 1000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s");
    }
    return result;
}

void HttpConnection::cancel() {
    impl_->cancelled = true;
    // A stop() issued before the socket opens is lost; repeat while a send is running.
    for (int i = 0; i < 200; ++i) {
        impl_->client.stop();
        if (!impl_->in_flight) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

HttpResponse http_fetch(const std::string& url, const std::string& method,
                        const HeaderList& headers, const std::string& body,
                        const HttpOptions& options, size_t max_body) {
    HttpResponse response;
    std::string error;
    auto parsed = parse_url(url, &error);
    if (!parsed) {
        response.error = "invalid URL " + url + ": " + error;
        return response;
    }
    HttpConnection conn(*parsed, options);
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
