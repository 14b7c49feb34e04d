#include "adapters/loopback/callback_listener.h"

#ifndef _WIN32
#include <sys/socket.h>
#endif

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <httplib.h>

#include "core/crypto.h"
#include "core/oauth_flow.h"

namespace mcp_auth {
namespace {

// The value of cookie `name` in the request's Cookie headers, "" when absent.
std::string cookie_value(const httplib::Request& req, const std::string& name) {
    auto range = req.headers.equal_range("Cookie");
    for (auto it = range.first; it != range.second; ++it) {
        std::string_view rest = it->second;
        while (!rest.empty()) {
            size_t end = rest.find(';');
            std::string_view pair = rest.substr(0, end);
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
            while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
            size_t eq = pair.find('=');
            if (eq != std::string_view::npos && pair.substr(0, eq) == name)
                return std::string(pair.substr(eq + 1));
        }
    }
    return "";
}

QueryParams query_of(const httplib::Request& req) {
    size_t q = req.target.find('?');
    return parse_query(q == std::string::npos ? "" : std::string_view(req.target).substr(q + 1));
}

void page(httplib::Response& res, int status, bool success, const std::string& message) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_content(oauth::callback_page(success, message), "text/html; charset=utf-8");
}

const char* kUsedOrExpired =
    "This login link has already been used or has expired. Start the login again.";

}  // namespace

struct CallbackListener::Impl {
    httplib::Server server;
    int port = 0;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable cv;
    Judge judge;
    std::optional<QueryParams> result;
    std::optional<Error> failure;  // the login was given up (abuse); wait() returns it
    bool closed = false;
    bool cancelled = false;
    // The start page (armed by start_url()):
    std::string authorization_url;  // "" until armed
    std::string nonce;
    std::string cookie_name;  // per port: cookies ignore ports, and logins may run side by side
    std::string cookie;
    bool start_used = false;
    int bad = 0;

    // Counts a refused request; gives the login up at the bound. Under `mutex`.
    void refused() {
        if (++bad < kMaxBadCallbacks || failure) return;
        failure = make_error(
            ErrorKind::Auth,
            "the login was stopped after " + std::to_string(bad) +
                " login responses that did not come from the browser that started it (another "
                "program on this computer may be trying to take over the login). Run the login "
                "again.");
        closed = true;
    }

    void on_start(const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(mutex);
        if (closed || authorization_url.empty()) return page(res, 410, false, kUsedOrExpired);
        auto n = query_value(query_of(req), "n");
        if (!n || !oauth::constant_time_equals(*n, nonce)) {
            refused();
            cv.notify_all();
            return page(res, 400, false, "This is not a valid login link. Start the login again.");
        }
        if (start_used) {
            // The link was on the browser's command line, where every user of this machine
            // can read it: a second visit means someone else opened it too, who may now know
            // `state` or be driving this login with their own account. Give the login up.
            failure = make_error(
                ErrorKind::Auth,
                "the login link was opened twice (another program or browser on this computer "
                "may have seen it), so the login was stopped for safety. Run the login again.");
            closed = true;
            cv.notify_all();
            return page(res, 409, false,
                        "This login link was already opened once, so mcp-auth stopped the login "
                        "for safety. Start the login again from your application.");
        }
        start_used = true;
        res.status = 302;
        res.set_header("Location", authorization_url);
        res.set_header("Set-Cookie", cookie_name + "=" + cookie +
                                         "; Path=/callback; HttpOnly; SameSite=Lax; Max-Age=3600");
        res.set_header("Cache-Control", "no-store");
        res.set_header("Referrer-Policy", "no-referrer");
        res.set_content("Continuing to the login page...", "text/plain; charset=utf-8");
    }

    void on_callback(const httplib::Request& req, httplib::Response& res) {
        QueryParams query = query_of(req);
        Verdict verdict;
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (closed || !judge) return page(res, 400, false, kUsedOrExpired);
            // Only the browser that opened the start page carries the cookie: a callback
            // without it (from another local user, say) is never final.
            if (authorization_url.empty() ||
                !oauth::constant_time_equals(cookie_value(req, cookie_name), cookie)) {
                refused();
                cv.notify_all();
                return page(res, 400, false,
                            "This login response did not come from the browser that started the "
                            "login, so mcp-auth ignored it. If you started this login, finish it "
                            "in the browser window it opened.");
            }
            verdict = judge(query);
            if (verdict.final) {
                result = std::move(query);
                closed = true;
            } else {
                refused();
            }
        }
        cv.notify_all();
        page(res, verdict.success ? 200 : 400, verdict.success, verdict.message);
    }

    void stop() {
        // Server::stop() before the listen loop runs would hang: wait for it first.
        while (thread.joinable() && !server.is_running())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        server.stop();
        if (thread.joinable()) thread.join();
    }
};

CallbackListener::CallbackListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CallbackListener::~CallbackListener() {
    impl_->stop();
}

Expected<std::unique_ptr<CallbackListener>> CallbackListener::start(int port) {
    auto impl = std::make_unique<Impl>();
    Impl* self = impl.get();
    impl->server.set_keep_alive_max_count(1);
    impl->server.set_read_timeout(std::chrono::seconds(5));
    // httplib's default options add SO_REUSEPORT, which lets a second listener (a stale or
    // hostile one of the same user) share the port and take callbacks: never share it.
    // SO_REUSEADDR alone only allows a bind beside connections in TIME_WAIT. On Windows
    // SO_REUSEADDR means the opposite (another socket may bind the same port and steal
    // the callback): there the port is claimed with SO_EXCLUSIVEADDRUSE instead.
    impl->server.set_socket_options([](socket_t sock) {
        int yes = 1;
#ifdef _WIN32
        setsockopt(sock, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&yes),
                   sizeof yes);
#else
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
#endif
    });
    impl->server.Get("/start", [self](const httplib::Request& req, httplib::Response& res) {
        self->on_start(req, res);
    });
    impl->server.Get("/callback", [self](const httplib::Request& req, httplib::Response& res) {
        self->on_callback(req, res);
    });
    impl->server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.status == 404) res.set_content("Not found", "text/plain");
    });
    if (port == 0) {
        impl->port = impl->server.bind_to_any_port("127.0.0.1");
        if (impl->port <= 0)
            return make_error(ErrorKind::Network,
                              "could not open a loopback port for the login callback");
    } else {
        if (!impl->server.bind_to_port("127.0.0.1", port))
            return make_error(
                ErrorKind::Network,
                "the callback port 127.0.0.1:" + std::to_string(port) +
                    " is in use (another login running?). Wait for it to finish, or choose another "
                    "--callback-port");
        impl->port = port;
    }
    impl->cookie_name = "mcp_auth_login_" + std::to_string(impl->port);
    impl->thread = std::thread([self] { self->server.listen_after_bind(); });
    return std::unique_ptr<CallbackListener>(new CallbackListener(std::move(impl)));
}

Expected<std::string> CallbackListener::start_url(const std::string& authorization_url) {
    // It reaches the browser through our redirect: only a well-formed http(s) URL, never
    // bytes that would split the response or be read as something else.
    auto parsed = parse_url(authorization_url);
    if (!parsed)
        return make_error(ErrorKind::Invalid,
                          "the authorization server's authorization endpoint is not a valid URL (" +
                              parsed.error().message + "); the login was not started");
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->authorization_url = authorization_url;
    impl_->nonce = make_state();
    impl_->cookie = make_state();
    impl_->start_used = false;
    return "http://127.0.0.1:" + std::to_string(impl_->port) + "/start?n=" + impl_->nonce;
}

void CallbackListener::cancel() {
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        impl_->cancelled = true;
    }
    impl_->cv.notify_all();
}

int CallbackListener::port() const {
    return impl_->port;
}

std::string CallbackListener::redirect_uri() const {
    return "http://127.0.0.1:" + std::to_string(impl_->port) + "/callback";
}

Expected<QueryParams> CallbackListener::wait(std::chrono::milliseconds timeout, Judge judge) {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    impl_->judge = std::move(judge);
    bool done = impl_->cv.wait_for(lock, timeout, [&] {
        return impl_->result.has_value() || impl_->failure.has_value() || impl_->cancelled;
    });
    impl_->closed = true;
    if (impl_->result) return *impl_->result;
    if (impl_->failure) return *impl_->failure;
    if (impl_->cancelled)
        return make_error(ErrorKind::LoginRequired,
                          "the login was cancelled because mcp-auth is shutting down.");
    (void)done;
    return make_error(ErrorKind::Timeout,
                      "no login arrived within " + std::to_string(timeout.count() / 1000) +
                          " s. Run the login again (mcp-auth login <url>), and finish it in "
                          "the browser.");
}

}  // namespace mcp_auth
