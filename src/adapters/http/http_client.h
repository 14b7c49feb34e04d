#pragma once
// The HTTP adapter (ports/http.h) on cpp-httplib: one keep-alive connection to one origin,
// with streamed responses, and one-shot exchanges with a total deadline. The only file
// that includes cpp-httplib on the client side.
//
// The client is built from the parsed scheme, host and port (TLS exactly when the scheme
// is https), never from an origin string. A proxy from the environment (HTTPS_PROXY,
// HTTP_PROXY, NO_PROXY; read through the lookup it is given), or from the system's
// settings when the composition root passes them instead (core/ie_proxy.h), is used unless
// the server is on loopback; https through a proxy uses mcp-auth's own CONNECT tunnel; a
// proxy mcp-auth cannot use makes send() fail. Response heads are bounded
// (HttpOptions::max_header_bytes).
//
// TLS: OpenSSL verifies the server in the handshake, against the system's CAs
// (system_roots.h: read once per process, shared by every connection) and
// HttpOptions::ca_file.
//
// The hot path: a request goes out in one write (head and body together, the body from
// the caller's buffer), and plain-http sockets are blocking with socket timeouts instead
// of a poll before every read and write.
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/headers.h"
#include "core/ie_proxy.h"
#include "core/url.h"
#include "ports/http.h"

namespace mcp_auth {

class HttplibConnection : public HttpConnection {
public:
    // `user_agent` is sent as User-Agent unless the request's headers name one. With
    // `system_proxy`, the proxy comes from those settings, not from `env`.
    HttplibConnection(const Url& server, const HttpOptions& options, const EnvLookup& env,
                      std::string user_agent, const SystemProxySettings* system_proxy = nullptr);
    ~HttplibConnection() override;
    HttplibConnection(const HttplibConnection&) = delete;
    HttplibConnection& operator=(const HttplibConnection&) = delete;

    HttpResult send(const std::string& method, const std::string& target, const HeaderList& headers,
                    const std::string& body, const HeadHandler& on_head,
                    const BodyHandler& on_body) override;
    void cancel() override;
    bool set_wait_hook(WaitHook* hook) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The system's proxy settings, for a client to ask once, on its first connection to a
// server that is not on loopback (reading them can cost: platform/system_proxy.h).
using SystemProxySource = std::function<std::optional<SystemProxySettings>()>;

class HttplibClient : public HttpClient {
public:
    // `env` gives the proxy variables (the composition root passes the process's);
    // `user_agent` goes in every request ("mcp-auth/<version>" from the composition root);
    // `system_proxy`, when given, replaces the proxy variables (the composition root passes
    // it only when the environment sets none).
    explicit HttplibClient(EnvLookup env, std::string user_agent = "mcp-auth",
                           SystemProxySource system_proxy = {})
        : env_(std::move(env)),
          user_agent_(std::move(user_agent)),
          system_proxy_(std::move(system_proxy)) {}
    std::shared_ptr<HttpConnection> connect(const Url& server, const HttpOptions& options) override;
    // The deadline is a watchdog thread that stops the exchange in whatever phase it is
    // (connect, TLS, a head or body dripping a byte at a time): only fetch() pays for it.
    HttpResponse fetch(const std::string& url, const std::string& method, const HeaderList& headers,
                       const std::string& body, const HttpOptions& options,
                       size_t max_body = 1 << 20) override;

private:
    // The system's settings for a connection to `server`; null: the environment's.
    const SystemProxySettings* system_proxy(const Url& server);

    EnvLookup env_;
    std::string user_agent_;
    SystemProxySource system_proxy_;
    std::once_flag system_proxy_once_;
    std::optional<SystemProxySettings> system_settings_;  // set once, under the flag
};

}  // namespace mcp_auth
