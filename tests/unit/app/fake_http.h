#pragma once
// A scripted HTTP server behind the ports/http.h port, for the use cases' unit tests:
// every request (relay connections and one-shot fetches alike) goes to one handler that
// plays the server, and is recorded. No socket, no thread of its own.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/headers.h"
#include "core/url.h"
#include "ports/http.h"

namespace mcp_auth::testing {

struct FakeRequest {
    std::string method;
    std::string url;  // absolute: origin + target
    HeaderList headers;
    std::string body;
    std::string header(std::string_view name) const { return find_header(headers, name); }
};

struct FakeReply {
    int status = 200;
    HeaderList headers;
    std::vector<std::string> chunks;  // the body, delivered chunk by chunk
    // Called before chunk i goes out: it may wait (pacing) and fill the chunk in.
    std::function<void(size_t, std::string&)> before_chunk;
    std::string error;  // a transport failure (after the head, if status != 0)
    bool timed_out = false;

    static FakeReply json(int status, std::string body, HeaderList extra = {}) {
        FakeReply r;
        r.status = status;
        r.headers = {{"Content-Type", "application/json"}};
        for (auto& h : extra) r.headers.push_back(std::move(h));
        r.chunks = {std::move(body)};
        return r;
    }
    // An event stream of `events` (each already formatted: "id: 1\ndata: {...}\n\n").
    static FakeReply sse(std::vector<std::string> events, HeaderList extra = {}) {
        FakeReply r;
        r.headers = {{"Content-Type", "text/event-stream"}};
        for (auto& h : extra) r.headers.push_back(std::move(h));
        r.chunks = std::move(events);
        return r;
    }
    static FakeReply failure(std::string error, bool timed_out = false) {
        FakeReply r;
        r.status = 0;
        r.error = std::move(error);
        r.timed_out = timed_out;
        return r;
    }
};

class FakeHttp : public HttpClient {
public:
    using Handler = std::function<FakeReply(const FakeRequest&)>;

    explicit FakeHttp(Handler handler = {}) : handler_(std::move(handler)) {}
    void set_handler(Handler handler) {
        std::lock_guard<std::mutex> lock(mutex_);
        handler_ = std::move(handler);
    }

    std::vector<FakeRequest> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }
    // Requests whose method is `method` and whose URL contains `url_part`.
    size_t count(std::string_view method, std::string_view url_part = "") const {
        std::lock_guard<std::mutex> lock(mutex_);
        size_t n = 0;
        for (const auto& r : requests_)
            n += r.method == method && r.url.find(url_part) != std::string::npos;
        return n;
    }
    size_t connections_opened() const { return connections_; }

    std::shared_ptr<HttpConnection> connect(const Url& server, const HttpOptions&) override {
        ++connections_;
        return std::make_shared<Connection>(*this, server);
    }

    HttpResponse fetch(const std::string& url, const std::string& method, const HeaderList& headers,
                       const std::string& body, const HttpOptions&, size_t max_body) override {
        FakeReply reply = serve({method, url, headers, body});
        HttpResponse response;
        response.status = reply.status;
        response.headers = reply.headers;
        for (const auto& chunk : reply.chunks) response.body += chunk;
        response.error = reply.error;
        response.timed_out = reply.timed_out;
        if (response.body.size() > max_body) response.error = "the reply is too large";
        if (!response.error.empty()) response.status = 0;
        return response;
    }

private:
    class Connection : public HttpConnection {
    public:
        Connection(FakeHttp& http, Url server) : http_(http), server_(std::move(server)) {}
        HttpResult send(const std::string& method, const std::string& target,
                        const HeaderList& headers, const std::string& body,
                        const HeadHandler& on_head, const BodyHandler& on_body) override {
            HttpResult result;
            if (cancelled_) {
                result.cancelled = true;
                result.error = "the request was cancelled";
                return result;
            }
            Url url = server_;
            url.target = target;
            FakeReply reply = http_.serve({method, url.to_string(), headers, body});
            // The reply is awaited through the hook, as the real connection does.
            if (hook_ && hook_->wait(-1, std::chrono::seconds(10)) == WaitHook::Wake::Stop) {
                result.cancelled = true;
                result.error = "the request was cancelled";
                return result;
            }
            result.status = reply.status;
            if (reply.status) {
                if (!on_head(reply.status, reply.headers)) {
                    result.cancelled = true;
                    result.error = "the request was cancelled";
                    return result;
                }
                for (size_t i = 0; i < reply.chunks.size(); ++i) {
                    if (reply.before_chunk) reply.before_chunk(i, reply.chunks[i]);
                    if (cancelled_ || !on_body(reply.chunks[i])) {
                        result.cancelled = true;
                        result.error = "the request was cancelled";
                        return result;
                    }
                }
            }
            result.error = reply.error;
            result.timed_out = reply.timed_out;
            return result;
        }
        void cancel() override { cancelled_ = true; }
        bool set_wait_hook(WaitHook* hook) override {
            hook_ = hook;
            return true;
        }

    private:
        WaitHook* hook_ = nullptr;
        FakeHttp& http_;
        Url server_;
        std::atomic<bool> cancelled_{false};
    };

    FakeReply serve(FakeRequest request) {
        Handler handler;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            requests_.push_back(request);
            handler = handler_;
        }
        if (!handler) return FakeReply::failure("no server (the test set no handler)");
        return handler(request);
    }

    mutable std::mutex mutex_;
    Handler handler_;
    std::vector<FakeRequest> requests_;
    std::atomic<size_t> connections_{0};
};

}  // namespace mcp_auth::testing
