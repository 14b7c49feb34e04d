#include "mcp_auth/loopback.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <httplib.h>

#include "mcp_auth/oauth_flow.h"

namespace mcp_auth {

struct CallbackListener::Impl {
    httplib::Server server;
    int port = 0;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable cv;
    Judge judge;
    std::optional<QueryParams> result;
    bool closed = false;
    bool cancelled = false;

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
    impl->server.Get("/callback", [self](const httplib::Request& req, httplib::Response& res) {
        size_t q = req.target.find('?');
        QueryParams query =
            parse_query(q == std::string::npos ? "" : std::string_view(req.target).substr(q + 1));
        Verdict verdict;
        {
            std::lock_guard<std::mutex> lock(self->mutex);
            if (self->closed || !self->judge) {
                verdict.message =
                    "This login link has already been used or has expired. Start the login again.";
            } else {
                verdict = self->judge(query);
                if (verdict.final) {
                    self->result = std::move(query);
                    self->closed = true;
                }
            }
        }
        self->cv.notify_all();
        res.status = verdict.success ? 200 : 400;
        res.set_header("Cache-Control", "no-store");
        res.set_header("Referrer-Policy", "no-referrer");
        res.set_content(oauth::callback_page(verdict.success, verdict.message),
                        "text/html; charset=utf-8");
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
    impl->thread = std::thread([self] { self->server.listen_after_bind(); });
    return std::unique_ptr<CallbackListener>(new CallbackListener(std::move(impl)));
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
    bool done = impl_->cv.wait_for(lock, timeout,
                                   [&] { return impl_->result.has_value() || impl_->cancelled; });
    impl_->closed = true;
    if (impl_->cancelled && !impl_->result)
        return make_error(ErrorKind::LoginRequired,
                          "the login was cancelled because mcp-auth is shutting down.");
    if (!done)
        return make_error(ErrorKind::Timeout,
                          "no login arrived within " + std::to_string(timeout.count() / 1000) +
                              " s. Run the login again (mcp-auth login <url>), and finish it in "
                              "the browser.");
    return *impl_->result;
}

}  // namespace mcp_auth
