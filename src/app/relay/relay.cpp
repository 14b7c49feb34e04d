// The relay's intake: stdin lines become jobs (held while a handshake is in flight), and
// the relay's end. The rest of Relay is in exchange.cpp, delivery.cpp and listen.cpp.
#include "app/relay/relay.h"

#include <exception>

#include "core/json_limits.h"
#include "core/relay_errors.h"

namespace mcp_auth {

using jsonrpc::json;

namespace {

constexpr const char* kAccept = "application/json, text/event-stream";

std::string depth_problem() {
    return "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

}  // namespace

namespace {

// A body the stdin thread sends itself fits in the socket's send buffer: the send never
// waits for the server to read, so stdin is never left unread behind it.
constexpr size_t kIntakeMaxBody = 64 * 1024;

// The relay whose on_line runs on this thread now (the stdin thread, inside on_line).
thread_local const void* t_intake = nullptr;

size_t pool_size(const RelayOptions& o) {
    // With the hook, one of the connections is the stdin thread's.
    return o.intake_hook && o.max_connections > 1 ? o.max_connections - 1 : o.max_connections;
}

}  // namespace

Relay::Relay(RelayOptions options, HttpClient& http, LineSink& out, Log& log)
    : options_(std::move(options)),
      http_(http),
      out_(out),
      log_(log),
      pool_(
          pool_size(options_), [this] { return http_.connect(options_.server, options_.http); },
          [this](HttpConnection& conn, Job& job) { run(conn, job); },
          [this](Job& job, std::string_view what) { recover(job, what); }, log_) {}

Relay::~Relay() {
    shutdown(std::chrono::milliseconds(0));
}

void Relay::on_line(std::string&& line, bool more_read) {
    const void* outer = t_intake;
    t_intake = more_read ? nullptr : this;
    struct Restore {
        const void* outer;
        ~Restore() { t_intake = outer; }
    } restore{outer};
    dispatch(std::move(line), false);
}

bool Relay::on_intake_thread() const {
    return t_intake == this && !intake_busy_;
}

void Relay::dispatch(std::string&& line, bool releasing) {
    json id;                            // for an error about this line, should anything below throw
    bool started_init = false;          // this line began a handshake that later lines wait for
    bool started_notification = false;  // ... or a notification they wait for
    try {
        // Bounded like the server's messages, though the host is trusted: nothing in the
        // relay may recurse through a document of any depth (relearn_tools copies _meta).
        json message = parse_json(line);
        if (message.is_discarded()) {
            bool deep = json_text_deeper_than(line, kMaxJsonDepth);
            std::string why = "mcp-auth: the message " +
                              (deep ? depth_problem() : "is not valid JSON (or not UTF-8)") +
                              ", so it was not sent";
            out_.write_line(jsonrpc::error_response(
                jsonrpc::sniff_id(line).value_or(nullptr),
                deep ? jsonrpc::kInvalidRequest : jsonrpc::kParseError, why));
            log_.error(deep ? "dropped a stdin line that " + depth_problem()
                            : std::string("dropped a stdin line that is not valid JSON"));
            return;
        }
        dispatch_message(message, std::move(line), releasing, id, started_init,
                         started_notification);
    } catch (const std::exception& e) {
        // Nothing may stay waiting for this line: its request is forgotten (and answered),
        // a handshake that never went out releases the lines held for it.
        log_.error("internal error while reading a message from the client: " +
                   std::string(e.what()) + "; it was not sent");
        if (!id.is_null()) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                session_.forget(id.dump());
            }
            out_.write_line(jsonrpc::error_response(
                id, jsonrpc::kInternalError,
                "mcp-auth: internal error (" + std::string(e.what()) +
                    "), so the message was not sent. Try again; if it happens again, report it "
                    "with the output of --verbose."));
        }
        if (started_init) {
            finish_initialize(Reply{});
            finish_initialized();
        }
        if (started_notification) finish_notification();
    }
}

void Relay::dispatch_message(const json& message, std::string&& line, bool releasing, json& id,
                             bool& started_init, bool& started_notification) {
    auto info = jsonrpc::classify(message);
    if (info.kind == jsonrpc::Kind::Invalid) {
        out_.write_line(
            jsonrpc::error_response(info.id, jsonrpc::kInvalidRequest,
                                    "mcp-auth: not a JSON-RPC 2.0 message (" + info.problem + ")"));
        log_.error("dropped a stdin line that is not JSON-RPC: " + info.problem);
        return;
    }
    if (info.kind == jsonrpc::Kind::Request && info.method == "tools/call" &&
        options_.tools.active()) {
        std::string tool;
        auto params = message.find("params");
        if (params != message.end() && params->is_object()) {
            auto name = params->find("name");
            if (name != params->end() && name->is_string()) tool = name->get<std::string>();
        }
        if (auto rule = options_.tools.refusal(tool)) {
            log_.debug("refused a call of the tool \"" + tool + "\" (" + *rule + ")");
            out_.write_line(ToolFilter::refused_call(info.id, tool, *rule));
            return;
        }
    }
    bool initialize = info.kind == jsonrpc::Kind::Request && info.method == "initialize";
    std::shared_ptr<Job> job;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session_.must_hold(releasing)) {
            session_.hold(std::move(line));
            return;
        }
        if (info.kind == jsonrpc::Kind::Request) id = info.id;
        if (initialize) {
            // A new session starts; nothing may overtake the handshake.
            session_.start_initialize(line);
            started_init = true;
        } else if (info.kind == jsonrpc::Kind::Notification &&
                   info.method == "notifications/initialized") {
            session_.start_initialized(line);
            started_init = true;  // the lines held behind it are released on every path
        } else if (info.kind == jsonrpc::Kind::Notification) {
            session_.start_notification();  // released when its POST ends (exchange.cpp)
            started_notification = true;
        }
        if (info.kind == jsonrpc::Kind::Request) session_.expect(info.id.dump());
        job = make_job(message, std::move(info), std::move(line));
    }
    submit(std::move(job));
}

std::shared_ptr<Relay::Job> Relay::make_job(const json& message, jsonrpc::MessageInfo info,
                                            std::string line) {
    auto job = std::make_shared<Job>();
    const std::string& negotiated = session_.version();
    std::string version = mcp::declared_version(message);
    if (version.empty()) version = negotiated;
    job->modern = mcp::is_modern_version(version);
    job->headers.push_back({"Accept", kAccept});
    for (const auto& h : options_.static_headers) job->headers.push_back(h);
    for (auto& h : mcp::request_metadata(message, info.method, negotiated, tool_headers_))
        job->headers.push_back(std::move(h));
    job->info = std::move(info);
    job->body = std::move(line);
    return job;
}

void Relay::on_oversized(std::string_view prefix, size_t total_bytes) {
    auto id = jsonrpc::sniff_id(prefix).value_or(nullptr);
    out_.write_line(relay::oversized_line_error(id, total_bytes, options_.max_message_bytes));
    log_.error("dropped a stdin line of " + std::to_string(total_bytes) +
               " bytes (over --max-message-bytes)");
}

void Relay::release_held() {
    for (;;) {
        std::vector<std::string> batch;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            batch = session_.take_held();
            if (batch.empty()) return;
        }
        for (size_t i = 0; i < batch.size(); ++i) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (session_.holding()) {
                    // Another initialize went out: the rest waits for it, in order.
                    session_.hold_again(
                        std::vector<std::string>(std::make_move_iterator(batch.begin() + i),
                                                 std::make_move_iterator(batch.end())));
                    break;
                }
            }
            dispatch(std::move(batch[i]), true);
        }
    }
}

void Relay::submit(std::shared_ptr<Job> job) {
    if (options_.intake_hook && options_.max_connections > 1 && on_intake_thread() &&
        may_run_on_intake(*job))
        return run_on_intake(std::move(job));
    pool_.submit(std::move(job));
}

bool Relay::may_run_on_intake(const Job& job) const {
    // initialize and notifications/initialized wait on the handshake and the GET stream.
    return !job.replay && job.body.size() <= kIntakeMaxBody && job.info.method != "initialize" &&
           !job.acknowledges_handshake() && (!options_.auth || options_.auth->ready());
}

void Relay::run_on_intake(std::shared_ptr<Job> job) {
    if (!intake_conn_) {
        auto conn = http_.connect(options_.server, options_.http);
        intake_hooked_ = conn->set_wait_hook(options_.intake_hook);
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        intake_conn_ = std::move(conn);
    }
    if (!intake_hooked_) return pool_.submit(std::move(job));
    job->on_intake = true;
    intake_busy_ = true;
    struct Idle {
        bool& busy;
        ~Idle() { busy = false; }
    } idle{intake_busy_};
    try {
        run(*intake_conn_, *job);
    } catch (const std::exception& e) {
        recover(*job, e.what());
    } catch (...) {
        recover(*job, "unknown exception");
    }
    if (!job->handed_over) return;
    job->on_intake = false;
    job->handed_over = false;
    pool_.submit(std::move(job));
}

bool Relay::wait(std::chrono::milliseconds delay, const Job* until_answered) {
    // Sleeps `delay`; false when the relay stops. With `until_answered`, the wait also ends
    // early when that request's response arrives on another stream (the GET stream).
    if (options_.clock) {
        options_.clock->sleep(delay, stop_requested_);
        return !stop_requested_;
    }
    if (t_intake == this && intake_busy_) {
        // The stdin thread, in a message it sends itself: stdin is read on meanwhile.
        auto until = std::chrono::steady_clock::now() + delay;
        for (;;) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0) return true;
            if (options_.intake_hook->wait(-1, std::min(left, std::chrono::milliseconds(50))) ==
                WaitHook::Wake::Stop)
                return false;
            if (until_answered && answered_elsewhere(*until_answered)) return true;
        }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    stop_cv_.wait_for(lock, delay, [&] {
        return stopping_ || (until_answered && session_.answered(until_answered->pending_key()));
    });
    return !stopping_;
}

bool Relay::answered_elsewhere(const Job& job) {
    std::lock_guard<std::mutex> lock(mutex_);
    return session_.answered(job.pending_key());
}

void Relay::shutdown(std::chrono::milliseconds grace) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (shut_down_) return;
        shut_down_ = true;
    }
    pool_.drain(grace);
    std::shared_ptr<HttpConnection> listen_conn;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        stop_requested_ = true;
        listen_conn = listen_conn_;
    }
    auto connections = pool_.stop();
    stop_cv_.notify_all();
    if (options_.auth) options_.auth->cancel();  // a login waiting for the browser ends now
    for (auto& conn : connections) conn->cancel();
    if (listen_conn) listen_conn->cancel();
    if (intake_conn_ && !intake_busy_) intake_conn_->cancel();
    pool_.join();
    if (listen_thread_.joinable()) listen_thread_.join();
    end_session();
}

}  // namespace mcp_auth
