#pragma once
// Port: HTTP, as the use cases need it. A keep-alive connection to one origin with
// streamed replies (the relay), and one-shot exchanges with a bounded body (discovery,
// registration, token and revocation endpoints). adapters/http implements it with
// cpp-httplib; tests/unit/app/fakes.h with scripted replies.
#include <chrono>
#include <cstddef>
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
    // that drips one byte a second never trips read_timeout. fetch() enforces it.
    std::chrono::milliseconds total_timeout{0};
    // The most bytes a response's status line and headers may take together: a hostile
    // server could otherwise grow the process without limit. The relay may lower it to
    // its --max-message-bytes.
    size_t max_header_bytes = 64 * 1024;
};

struct HttpResult {
    int status = 0;          // 0 when no response head arrived
    std::string error;       // transport failure in plain words; empty on success
    bool timed_out = false;  // the failure was a connect or read timeout
    bool cancelled = false;  // cancel() or a callback stopped it
    bool tls = false;        // the failure was TLS (certificate, handshake)
};

struct HttpResponse {
    int status = 0;  // 0 when the request failed before a response
    HeaderList headers;
    std::string body;
    std::string error;  // transport failure, or a body over the limit
    bool timed_out = false;
};

// Input that the thread running a send() keeps serving while it waits for the reply: the
// relay sends from its stdin thread and must go on reading stdin meanwhile. Called only on
// that thread, between reads of the reply.
class WaitHook {
public:
    enum class Wake {
        Readable,  // the socket has bytes (or an error) to read
        TimedOut,  // `timeout` passed without either
        Stop,      // give the exchange up now (the relay is stopping)
    };
    virtual ~WaitHook() = default;
    // Waits until `socket` (a native socket; none when negative) is readable, serving the
    // other input meanwhile.
    virtual Wake wait(long long socket, std::chrono::milliseconds timeout) = 0;
};

class HttpConnection {
public:
    // Receives the status and headers once, before any body bytes; return false to abort.
    using HeadHandler = std::function<bool(int status, const HeaderList& headers)>;
    // Receives body bytes as they arrive; return false to abort.
    using BodyHandler = std::function<bool(std::string_view chunk)>;

    virtual ~HttpConnection() = default;
    // One request on this connection (reconnecting when the server closed it). Refuses
    // (error set, nothing sent) a method that is not an HTTP token, a target that is not
    // an origin-form RFC 3986 target and header names or values that could smuggle bytes.
    virtual HttpResult send(const std::string& method, const std::string& target,
                            const HeaderList& headers, const std::string& body,
                            const HeadHandler& on_head, const BodyHandler& on_body) = 0;
    // Aborts a send() running on another thread (and any later one) and closes the socket.
    virtual void cancel() = 0;
    // From now on every send() waits for its reply through `hook` (null: no more). False
    // when this connection cannot (the transport cannot wait on two inputs at once).
    virtual bool set_wait_hook(WaitHook* hook) {
        (void)hook;
        return false;
    }
};

class HttpClient {
public:
    virtual ~HttpClient() = default;
    // A connection to `server`'s origin (TLS exactly when its scheme is https). It
    // connects on its first send().
    virtual std::shared_ptr<HttpConnection> connect(const Url& server,
                                                    const HttpOptions& options) = 0;
    // One request on a fresh connection, body collected up to `max_body` bytes; redirects
    // are not followed. With options.total_timeout set, the whole exchange fails at that
    // deadline with timed_out set, however slowly the server keeps sending.
    virtual HttpResponse fetch(const std::string& url, const std::string& method,
                               const HeaderList& headers, const std::string& body,
                               const HttpOptions& options, size_t max_body = 1 << 20) = 0;
};

}  // namespace mcp_auth
