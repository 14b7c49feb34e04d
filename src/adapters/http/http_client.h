#pragma once
// The HTTP adapter: one keep-alive connection to one origin, with streamed responses.
// The only file that includes cpp-httplib on the client side.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/headers.h"
#include "core/url.h"

namespace mcp_auth {

struct HttpOptions {
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds read_timeout{
        300'000};           // longest silence allowed while waiting for reply bytes
    std::string ca_file{};  // extra trusted CA certificates (PEM), besides the system's
    // The longest a whole exchange may take, first byte to last (0 = no limit): a server
    // that drips one byte a second never trips read_timeout. http_fetch enforces it.
    std::chrono::milliseconds total_timeout{0};
    // The most bytes a response's status line and headers may take together: cpp-httplib
    // bounds neither their number nor a line without CRLF, so a hostile server could grow
    // the process without limit. The relay may lower it to its --max-message-bytes.
    size_t max_header_bytes = 64 * 1024;
};

struct HttpResult {
    int status = 0;          // 0 when no response head arrived
    std::string error;       // transport failure in plain words; empty on success
    bool timed_out = false;  // the failure was a connect or read timeout
    bool cancelled = false;  // cancel() or a callback stopped it
    bool tls = false;        // the failure was TLS (certificate, handshake)
};

// The first value of a header, case-insensitively; "" when absent.
std::string find_header(const HeaderList& headers, std::string_view name);

struct HttpResponse {
    int status = 0;  // 0 when the request failed before a response
    HeaderList headers;
    std::string body;
    std::string error;  // transport failure, or a body over the limit
    bool timed_out = false;
};

// One request on a fresh connection, body collected up to `max_body` bytes. For the
// few calls discovery and token endpoints need; redirects are not followed. With
// options.total_timeout set, the whole exchange (connect, TLS, head, body) fails at that
// deadline with timed_out set ("... did not finish within N s"), however slowly the
// server keeps sending.
HttpResponse http_fetch(const std::string& url, const std::string& method,
                        const HeaderList& headers, const std::string& body,
                        const HttpOptions& options, size_t max_body = 1 << 20);

class HttpConnection {
public:
    // Receives the status and headers once, before any body bytes; return false to abort.
    using HeadHandler = std::function<bool(int status, const HeaderList& headers)>;
    // Receives body bytes as they arrive; return false to abort.
    using BodyHandler = std::function<bool(std::string_view chunk)>;

    // The client is built from the parsed scheme, host and port (TLS exactly when the
    // scheme is https), never from an origin string. A proxy from the environment is used
    // unless the server is on loopback; a proxy mcp-auth cannot use makes send() fail.
    HttpConnection(const Url& server, const HttpOptions& options);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    // Refuses (error set, nothing sent) a method that is not an HTTP token, a target that
    // is not an origin-form RFC 3986 target (check_request_target) and header names or
    // values that could smuggle bytes: nothing a caller passes can add a request line.
    HttpResult send(const std::string& method, const std::string& target, const HeaderList& headers,
                    const std::string& body, const HeadHandler& on_head,
                    const BodyHandler& on_body);

    // Aborts a send() running on another thread (and any later one) and closes the socket.
    void cancel();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mcp_auth
