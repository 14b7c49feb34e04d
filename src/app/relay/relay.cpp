#include "app/relay/relay.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <system_error>

#include "core/json_limits.h"
#include "core/sse.h"
#include "core/www_authenticate.h"

namespace mcp_auth {

using jsonrpc::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kAccept = "application/json, text/event-stream";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// Error bodies are parsed (for the server's JSON-RPC error) only up to this size: a parsed
// document costs 8 to 16 times its text, and a real error is a few hundred bytes.
constexpr size_t kMaxParsedErrorBody = 1u << 20;

json parse_error_body(const std::string& body) {
    return body.size() <= kMaxParsedErrorBody ? parse_json(body) : json(json::value_t::discarded);
}

// A 2026-07-28 HeaderMismatch error (-32020): the headers do not match the body.
bool is_header_mismatch(const std::string& body) {
    auto doc = parse_error_body(body);
    if (!doc.is_object()) return false;
    auto error = doc.find("error");
    if (error == doc.end() || !error->is_object()) return false;
    // Compared as JSON: a code of another type (a string, from a hostile server) is no
    // match; value("code", 0) would throw for it.
    auto code = error->find("code");
    return code != error->end() && *code == -32020;
}

// Answers mcp-auth makes on the client's behalf (to server requests it refuses) are only
// queued while fewer than this many messages wait for a connection.
constexpr size_t kMaxQueuedAnswers = 64;

std::string depth_problem() {
    return "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

// Runs a callback cpp-httplib makes. An exception must not unwind through the library
// (its connection would be left half-read): it is kept in `failure`, the exchange stops,
// and the caller rethrows it once send() has returned.
template <class F>
bool guarded(std::exception_ptr& failure, F&& callback) {
    try {
        return callback();
    } catch (...) {
        failure = std::current_exception();
        return false;
    }
}

// A 403 that a token with more scope would fix (RFC 6750 §3.1).
bool needs_scope(const std::string& www_authenticate) {
    auto bearer = find_bearer_challenge(www_authenticate);
    return bearer && bearer->param("error") == "insufficient_scope";
}

std::string describe_size(size_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + " bytes";
}

std::string status_hint(int status) {
    if (status == 401)
        return " The server requires authorization: pass a token with --header \"Authorization: "
               "Bearer "
               "${TOKEN}\".";
    if (status == 403) return " The server refused access to this request.";
    if (status == 404) return " Check the server URL (path included).";
    if (status == 405 || status == 415 || status == 406)
        return " The URL may not be a Streamable HTTP MCP endpoint.";
    if (status >= 500) return " The server failed; try again later or check the server's logs.";
    return "";
}

}  // namespace

struct Relay::Job {
    std::string body;
    HeaderList headers;  // protocol headers; the session's and the token are added when sent
    jsonrpc::MessageInfo info;
    bool modern = false;         // sent under a 2026-07-28 or later protocol version
    bool replay = false;         // mcp-auth's own replay of the client's handshake: not shown
    bool init_finished = false;  // an initialize whose outcome finish_initialize() has seen
    std::string pending_key() const { return info.id.dump(); }
    bool is_request() const { return info.kind == jsonrpc::Kind::Request; }
    std::string label() const { return info.method.empty() ? "a response" : info.method; }
};

struct Relay::Reply {
    int status = 0;
    std::string content_type;
    std::string session_id;
    std::string body;                // JSON replies and error bodies
    std::unique_ptr<SseParser> sse;  // bounded: one event may not go over --max-message-bytes
    bool too_big = false;
    bool answered = false;         // the response to this request arrived on this reply
    std::string protocol_version;  // from an InitializeResult
    std::string www_authenticate;
    std::string sent_session;    // the session id the request carried
    bool sse_events = false;     // the reply was an event stream
    std::string dropped;         // why a server message on this reply could not be relayed
    std::exception_ptr failure;  // thrown in a callback; rethrown after send() returns
};

struct Relay::Worker {
    std::thread thread;
};

Relay::Relay(RelayOptions options, HttpClient& http, LineSink& out, Log& log)
    : options_(std::move(options)), http_(http), out_(out), log_(log) {}

Relay::~Relay() {
    shutdown(std::chrono::milliseconds(0));
}

void Relay::on_line(std::string&& line) {
    dispatch(std::move(line), false);
}

void Relay::dispatch(std::string&& line, bool releasing) {
    json id;                    // for an error about this line, should anything below throw
    bool started_init = false;  // this line began a handshake that later lines wait for
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
        dispatch_message(message, std::move(line), releasing, id, started_init);
    } catch (const std::exception& e) {
        // Nothing may stay waiting for this line: its request is forgotten (and answered),
        // a handshake that never went out releases the lines held for it.
        log_.error("internal error while reading a message from the client: " +
                   std::string(e.what()) + "; it was not sent");
        if (!id.is_null()) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                pending_.erase(id.dump());
            }
            out_.write_line(jsonrpc::error_response(
                id, jsonrpc::kInternalError,
                "mcp-auth: internal error (" + std::string(e.what()) +
                    "), so the message was not sent. Try again; if it happens again, report it "
                    "with the output of --verbose."));
        }
        if (started_init) finish_initialize(Reply{});
    }
}

void Relay::dispatch_message(const json& message, std::string&& line, bool releasing, json& id,
                             bool& started_init) {
    auto info = jsonrpc::classify(message);
    if (info.kind == jsonrpc::Kind::Invalid) {
        out_.write_line(
            jsonrpc::error_response(info.id, jsonrpc::kInvalidRequest,
                                    "mcp-auth: not a JSON-RPC 2.0 message (" + info.problem + ")"));
        log_.error("dropped a stdin line that is not JSON-RPC: " + info.problem);
        return;
    }
    bool initialize = info.kind == jsonrpc::Kind::Request && info.method == "initialize";
    std::shared_ptr<Job> job;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (init_in_flight_ || (releasing_ && !releasing)) {
            held_.push_back(std::move(line));
            return;
        }
        if (info.kind == jsonrpc::Kind::Request) id = info.id;
        if (initialize) {
            // A new session starts; nothing may overtake the handshake.
            init_in_flight_ = true;
            started_init = true;
            session_id_.clear();
            negotiated_version_.clear();
            init_line_ = line;
            initialized_line_.clear();
        } else if (info.kind == jsonrpc::Kind::Notification &&
                   info.method == "notifications/initialized") {
            initialized_line_ = line;
        }
        if (info.kind == jsonrpc::Kind::Request) pending_[info.id.dump()] = false;
        job = make_job(message, std::move(info), std::move(line));
    }
    submit(std::move(job));
}

std::shared_ptr<Relay::Job> Relay::make_job(const json& message, jsonrpc::MessageInfo info,
                                            std::string line) {
    auto job = std::make_shared<Job>();
    std::string version = mcp::declared_version(message);
    if (version.empty()) version = negotiated_version_;
    job->modern = mcp::is_modern_version(version);
    job->headers.push_back({"Accept", kAccept});
    for (const auto& h : options_.static_headers) job->headers.push_back(h);
    for (auto& h : mcp::request_metadata(message, info.method, negotiated_version_, tool_headers_))
        job->headers.push_back(std::move(h));
    job->info = std::move(info);
    job->body = std::move(line);
    return job;
}

void Relay::on_oversized(std::string_view prefix, size_t total_bytes) {
    auto id = jsonrpc::sniff_id(prefix).value_or(nullptr);
    std::string message = "mcp-auth: the message is " + std::to_string(total_bytes) +
                          " bytes, over the " + describe_size(options_.max_message_bytes) +
                          " limit (--max-message-bytes), so it was not sent";
    out_.write_line(jsonrpc::error_response(id, jsonrpc::kInvalidRequest, message));
    log_.error("dropped a stdin line of " + std::to_string(total_bytes) +
               " bytes (over --max-message-bytes)");
}

void Relay::release_held() {
    for (;;) {
        std::vector<std::string> batch;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (held_.empty() || init_in_flight_) {
                releasing_ = false;
                return;
            }
            batch.swap(held_);
            releasing_ = true;
        }
        for (size_t i = 0; i < batch.size(); ++i) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (init_in_flight_) {
                    // Another initialize went out: the rest waits for it, in order.
                    held_.insert(held_.begin(), std::make_move_iterator(batch.begin() + i),
                                 std::make_move_iterator(batch.end()));
                    break;
                }
            }
            dispatch(std::move(batch[i]), true);
        }
    }
}

void Relay::submit(std::shared_ptr<Job> job) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        queue_.push_back(std::move(job));
        ++in_flight_;
        if (queue_.size() > idle_workers_ && workers_.size() < options_.max_connections) {
            workers_.push_back(std::make_unique<Worker>());
            try {
                workers_.back()->thread = std::thread([this] { worker_loop(); });
            } catch (const std::system_error& e) {
                // Out of threads: the connections already open take the job in turn.
                workers_.pop_back();
                if (workers_.empty()) {
                    queue_.pop_back();
                    --in_flight_;
                    throw;
                }
                log_.error("could not open another connection (" + std::string(e.what()) +
                           "); the request waits for a free one");
            }
        }
    }
    // Woken after the unlock, the worker does not block again at once on the mutex.
    work_cv_.notify_one();
}

void Relay::worker_loop() {
    auto conn = http_.connect(options_.server, options_.http);
    std::unique_lock<std::mutex> lock(mutex_);
    connections_.push_back(conn);
    for (;;) {
        ++idle_workers_;
        work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        --idle_workers_;
        if (stopping_) break;
        auto job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        try {
            run(*conn, *job);
        } catch (const std::exception& e) {
            recover(*job, e.what());
        } catch (...) {
            recover(*job, "unknown exception");
        }
        lock.lock();
        if (--in_flight_ == 0) idle_cv_.notify_all();
    }
    connections_.erase(std::find(connections_.begin(), connections_.end(), conn));
}

HttpResult Relay::exchange(HttpConnection& conn, Job& job, const std::string& credential,
                           Reply& reply) {
    const size_t limit = options_.max_message_bytes;
    auto on_head = [&](int status, const HeaderList& headers) {
        reply.status = status;
        reply.content_type = lower(find_header(headers, "Content-Type"));
        reply.session_id = find_header(headers, "Mcp-Session-Id");
        reply.www_authenticate = find_header(headers, "WWW-Authenticate");
        if (status >= 200 && status < 300 && starts_with(reply.content_type, "text/event-stream")) {
            // The parser outlives this call (resume() feeds it): it captures no local.
            Reply* r = &reply;
            Job* j = &job;
            reply.sse = std::make_unique<SseParser>(
                [this, r, j](const SseEvent& event) {
                    if (event.type == "message") deliver(event.data, j, *r);
                },
                limit,
                // An event over the limit in the reply to a request: the reply is.
                [r](std::string_view, size_t) { r->too_big = true; });
            reply.sse_events = true;
        }
        return true;
    };
    auto on_body = [&](std::string_view chunk) {
        if (reply.sse) {
            reply.sse->feed(chunk);
            return !reply.too_big;
        }
        if (reply.body.size() + chunk.size() > limit) return reply.too_big = true, false;
        reply.body.append(chunk);
        return true;
    };
    HeaderList headers = job.headers;
    if (!credential.empty()) headers.push_back({options_.auth->header_name(), credential});
    if (job.info.method != "initialize") {
        std::lock_guard<std::mutex> lock(mutex_);
        reply.sent_session = session_id_;
    }
    if (!reply.sent_session.empty()) headers.push_back({"Mcp-Session-Id", reply.sent_session});
    HttpResult result = conn.send(
        "POST", options_.server.target, headers, job.body,
        [&](int status, const HeaderList& h) {
            return guarded(reply.failure, [&] { return on_head(status, h); });
        },
        [&](std::string_view chunk) {
            return guarded(reply.failure, [&] { return on_body(chunk); });
        });
    if (reply.failure) std::rethrow_exception(reply.failure);
    return result;
}

void Relay::run(HttpConnection& conn, Job& job) {
    auto started = Clock::now();
    Reply reply;
    HttpResult result;
    std::optional<Error> auth_error;
    std::string credential = options_.auth ? options_.auth->current() : "";
    bool relisted = false;
    // A refused token is renewed (refresh, login, or step-up) and the request retried;
    // three tries cover 401 → login → 403 → step-up → success.
    for (int attempt = 0;; ++attempt) {
        reply = Reply{};
        result = exchange(conn, job, credential, reply);
        if (attempt == 3 || !result.error.empty()) break;
        if (reply.status == 404 && !reply.sent_session.empty() && !job.modern) {
            // The server forgot the session (restarted, expired): a new one, then retry.
            if (!reinitialize(conn, reply.sent_session, credential)) break;
            continue;
        }
        if (reply.status == 400 && job.modern && job.info.method == "tools/call" && !relisted &&
            is_header_mismatch(reply.body)) {
            // The tool's x-mcp-header annotations changed: list the tools again, retry once.
            relisted = true;
            if (relearn_tools(conn, job, credential)) continue;
            break;
        }
        bool refused =
            reply.status == 401 || (reply.status == 403 && needs_scope(reply.www_authenticate));
        if (!options_.auth || !refused) break;
        log_.debug("HTTP " + std::to_string(reply.status) + " to " + job.label() +
                   ": renewing the token");
        auto renewed = options_.auth->renew(reply.status, reply.www_authenticate, credential);
        if (!renewed) {
            auth_error = renewed.error();
            break;
        }
        credential = *renewed;
    }

    // A legacy event stream that ended (or broke) before the answer is resumed where it
    // stopped, when the server gave its events ids (2025-11-25 polling, resumability).
    if (job.is_request() && reply.sse && !reply.too_big && !reply.answered && !job.modern &&
        !reply.sse->last_event_id().empty() && !result.cancelled) {
        resume(conn, job, reply);
        if (reply.answered) result = HttpResult{reply.status, "", false, false};
    }
    bool success =
        result.error.empty() && !reply.too_big && reply.status >= 200 && reply.status < 300;
    if (success && !credential.empty()) {
        std::lock_guard<std::mutex> lock(mutex_);
        last_credential_ = credential;
    }
    if (success && !reply.sse && !reply.body.empty()) deliver(reply.body, &job, reply);
    if (log_.verbose()) {
        auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
        log_.debug("POST " + job.label() + (job.is_request() ? " id=" + job.info.id.dump() : "") +
                   " -> " + (reply.status ? std::to_string(reply.status) : result.error) + " " +
                   reply.content_type + " (" + std::to_string(ms) + " ms)");
    }
    bool initialize = job.is_request() && job.info.method == "initialize";
    if (initialize) {
        job.init_finished = true;
        finish_initialize(reply);
    }

    bool answered = take_answered(job);
    if (job.replay) return;
    if (result.cancelled && !reply.too_big) return;  // shutting down: nobody is waiting
    if (answered && job.is_request()) {
        // Delivered (perhaps on another stream); a broken stream afterwards loses nothing.
        if (job.info.method == "notifications/initialized") start_listen_stream();
    } else if (auth_error) {
        report_auth_failure(job, reply, *auth_error);
    } else if (!result.error.empty() || reply.too_big) {
        report_failure(job, reply, result);
    } else if (!success) {
        if (job.is_request()) {
            out_.write_line(http_error(job, reply.status, reply.body));
        } else {
            log_.error("the server answered HTTP " + std::to_string(reply.status) + " to " +
                       job.label() + "; it was not delivered");
        }
    } else if (job.is_request()) {
        report_failure(job, reply, result);
    } else if (job.info.method == "notifications/initialized") {
        start_listen_stream();
    }
}

bool Relay::reinitialize(HttpConnection& conn, const std::string& expired,
                         const std::string& credential) {
    std::lock_guard<std::mutex> once(reinit_mutex_);
    std::string init_line;
    std::string initialized_line;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session_id_ != expired) return !stopping_;  // another request already renewed it
        init_line = init_line_;
        initialized_line = initialized_line_;
        if (init_line.empty()) return false;
        session_id_.clear();  // the replayed initialize goes without one
    }
    log_.info(
        "the server no longer knows the session; starting a new one (replaying the client's "
        "initialize)");
    auto replay = [&](const std::string& line, Reply& reply) {
        json message = parse_json(line);
        std::shared_ptr<Job> job;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job = make_job(message, jsonrpc::classify(message), line);
        }
        job->replay = true;
        auto result = exchange(conn, *job, credential, reply);
        if (result.error.empty() && !reply.sse && !reply.body.empty())
            deliver(reply.body, job.get(), reply);
        return result.error.empty() && reply.status >= 200 && reply.status < 300;
    };
    Reply init;
    if (!replay(init_line, init) || init.protocol_version.empty()) {
        log_.error("could not start a new session with the server");
        std::lock_guard<std::mutex> lock(mutex_);
        session_id_ = expired;  // let the request fail with what the server said
        return false;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        session_id_ = init.session_id;
        negotiated_version_ = init.protocol_version;
    }
    if (!initialized_line.empty()) {
        Reply ack;
        replay(initialized_line, ack);
    }
    stop_cv_.notify_all();  // the event stream reconnects with the new session
    return true;
}

bool Relay::relearn_tools(HttpConnection& conn, Job& job, const std::string& credential) {
    json call = parse_json(job.body);
    if (!call.is_object()) return false;
    json list = {{"jsonrpc", "2.0"}, {"id", "mcp-auth-tools-list"}, {"method", "tools/list"}};
    if (call.contains("params") && call["params"].is_object() && call["params"].contains("_meta"))
        list["params"] = {{"_meta", call["params"]["_meta"]}};
    std::shared_ptr<Job> lister;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        lister = make_job(list, jsonrpc::classify(list), list.dump());
    }
    lister->replay = true;  // learned from, never shown to the client
    Reply listed;
    auto result = exchange(conn, *lister, credential, listed);
    if (result.error.empty() && !listed.sse && !listed.body.empty())
        deliver(listed.body, lister.get(), listed);
    if (!listed.answered) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    job.headers = make_job(call, job.info, job.body)->headers;  // with the tool's new headers
    log_.debug("listed the tools again after a header mismatch; retrying " + job.label());
    return true;
}

void Relay::resume(HttpConnection& conn, Job& job, Reply& reply) {
    // Each attempt continues after the last event seen; the server's `retry` sets the pace.
    for (int attempt = 0; attempt < 5 && !reply.answered && !reply.too_big; ++attempt) {
        auto delay = std::chrono::milliseconds(reply.sse->retry_ms().value_or(1000));
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (stop_cv_.wait_for(lock, delay, [&] { return stopping_; })) return;
        }
        HeaderList headers = session_headers();
        headers.push_back({"Accept", "text/event-stream"});
        headers.push_back({"Last-Event-ID", reply.sse->last_event_id()});
        log_.debug("resuming the event stream of " + job.label() + " after event " +
                   reply.sse->last_event_id());
        bool streaming = false;
        auto result = conn.send(
            "GET", options_.server.target, headers, "",
            [&](int status, const HeaderList& h) {
                streaming = status == 200 &&
                            starts_with(lower(find_header(h, "Content-Type")), "text/event-stream");
                return streaming;
            },
            [&](std::string_view chunk) {
                return guarded(reply.failure, [&] {
                    // The same bounded parser as the POST's: an event over the limit ends it.
                    reply.sse->feed(chunk);
                    return !reply.answered && !reply.too_big;  // the answer is in: close it
                });
            });
        if (reply.failure) std::rethrow_exception(reply.failure);
        if (!streaming || (result.cancelled && !reply.answered && stopping_)) return;
    }
}

HeaderList Relay::session_headers() {
    HeaderList headers = options_.static_headers;
    std::lock_guard<std::mutex> lock(mutex_);
    // The last token that worked: asking the token source could wait on a login.
    if (!last_credential_.empty())
        headers.push_back({options_.auth->header_name(), last_credential_});
    if (!session_id_.empty()) headers.push_back({"Mcp-Session-Id", session_id_});
    if (!negotiated_version_.empty())
        headers.push_back({"MCP-Protocol-Version", negotiated_version_});
    return headers;
}

void Relay::report_auth_failure(const Job& job, const Reply& reply, const Error& error) {
    log_.error(error.message);
    if (!job.is_request()) return;
    json data = {{"status", reply.status}, {"host", options_.server.authority()}};
    if (error.kind == ErrorKind::LoginRequired) data["login_required"] = true;
    out_.write_line(jsonrpc::error_response(job.info.id, jsonrpc::kTransportError,
                                            "mcp-auth: " + error.message, data));
}

void Relay::deliver(std::string_view text, Job* job, Reply& reply) {
    // An event without data (an SSE priming event that carries only an id) is no message.
    size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return;
    // Read without building a document: a depth scan, a validating pass that stores
    // nothing (json::accept: no recursion, no allocation) and the top-level members
    // (sniff_envelope). A parsed document costs 8 to 16 times its text (a 64 MiB reply of
    // [0,0,...] would take a gigabyte) and twice the time of accept; only the replies the
    // relay reads inside (initialize, a 2026-07-28 tools/list) are parsed, bounded.
    if (json_text_deeper_than(text, kMaxJsonDepth))
        return refuse(text, depth_problem(), job, reply);
    if (!json::accept(text)) return refuse(text, "is not valid JSON (or not UTF-8)", job, reply);
    if (text[start] != '{') return refuse(text, "is not a JSON object", job, reply);
    std::optional<json> message;  // parsed only when needed
    auto envelope = jsonrpc::sniff_envelope(text);
    bool response =
        envelope.has_id && !envelope.has_method && (envelope.has_result || envelope.has_error);
    if (response && envelope.id) {
        // A response: whichever stream it came on, its request is answered.
        std::lock_guard<std::mutex> lock(mutex_);
        auto pending = pending_.find(envelope.id->dump());
        if (pending != pending_.end()) {
            if (pending->second) return;  // a resumed stream repeated it: deliver once
            pending->second = true;
        }
    }
    bool rewritten = false;
    if (job && job->is_request() && response && envelope.id && *envelope.id == job->info.id) {
        reply.answered = true;
        bool inspect = envelope.has_result && (job->info.method == "initialize" ||
                                               (job->info.method == "tools/list" && job->modern));
        if (inspect) {
            if (!message) message = parse_json(text);
            auto result = message->find("result");
            if (result != message->end() && result->is_object()) {
                if (job->info.method == "initialize") {
                    auto version = result->find("protocolVersion");
                    if (version != result->end() && version->is_string() &&
                        is_safe_header_value(version->get<std::string>()))
                        reply.protocol_version = version->get<std::string>();
                } else {
                    std::lock_guard<std::mutex> lock(mutex_);
                    for (const auto& rejected : tool_headers_.learn(*result)) {
                        log_.error("ignoring tool \"" + rejected.tool +
                                   "\" from the server: " + rejected.reason);
                        rewritten = true;
                    }
                }
            }
        }
    }
    if (job && job->replay) return;
    if (rewritten) {  // at most kMaxJsonDepth deep: dumping it recurses that far, no further
        out_.write_line(message->dump(-1, ' ', false, json::error_handler_t::replace));
    } else {
        // Valid JSON has raw line breaks only between tokens: blanking them keeps the
        // message as it was, on one line, without re-serializing (or recursing into) it.
        if (text.find_first_of("\r\n") == std::string_view::npos)
            out_.write_line(text);  // the common case: as the server sent it, no copy
        else
            out_.write_line(jsonrpc::one_line(text));
    }
}

void Relay::refuse(std::string_view text, const std::string& why, Job* job, Reply& reply) {
    // A message mcp-auth will not pass on (too deep to walk safely, not JSON, too big) is
    // not forwarded verbatim either: the client's JSON stack may be no better at it, and
    // no real MCP message is like that. Instead, whoever waits for it gets an error:
    // read from the top level of the text (sniff_envelope does not recurse).
    reply.dropped = why;
    auto envelope = jsonrpc::sniff_envelope(text);
    if (envelope.has_method) {
        // A request from the server is answered on the client's behalf, so the server is
        // not left waiting; a notification (or a request without a usable id) is dropped.
        log_.error(
            "the server sent a " + std::string(envelope.has_id ? "request" : "notification") +
            " that " + why + "; it was not passed on to the client" +
            (envelope.has_id && !envelope.id ? " (its id is unusable, so it gets no answer)" : ""));
        bool backlog;
        {
            // A server that floods us with such requests while it leaves our POSTs
            // unanswered must not grow the queue: past a bound, no answer.
            std::lock_guard<std::mutex> lock(mutex_);
            backlog = queue_.size() >= kMaxQueuedAnswers;
        }
        if (backlog && envelope.id) log_.error("too many messages wait to be sent: not answered");
        if (envelope.id && !backlog && !(job && job->replay))
            dispatch(jsonrpc::error_response(*envelope.id, jsonrpc::kInvalidRequest,
                                             "mcp-auth: the request " + why +
                                                 ", so it was not passed on to the client"),
                     false);
        return;
    }
    log_.error("the server sent a message that " + why + "; it was dropped");
    std::optional<json> id = envelope.id;
    // A JSON reply to a POST holds nothing but the answer to its request, whatever its id.
    if (!id && job && job->is_request() && !reply.sse) id = job->info.id;
    if (!id) return;  // the request it answers, if any, fails when its stream ends
    std::string what = job && *id == job->info.id ? "the server's reply to " + job->label()
                                                  : std::string("the server's reply");
    answer_instead(*id, job, reply, what + " " + why + ", so it was dropped");
}

void Relay::answer_instead(const json& id, Job* job, Reply& reply, const std::string& what) {
    if (job && id == job->info.id) {
        reply.answered = true;
        if (job->replay) return;  // mcp-auth's own request: the client waits for nothing
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto pending = pending_.find(id.dump());
        if (pending == pending_.end() || pending->second) return;  // nobody waits for it
        pending->second = true;
    }
    json data = {{"host", options_.server.authority()}};
    out_.write_line(
        jsonrpc::error_response(id, jsonrpc::kTransportError, "mcp-auth: " + what + ".", data));
}

void Relay::recover(Job& job, std::string_view what) {
    // Last line of defence: an exception in one job ends that job, never the relay, and
    // leaves nothing waiting (the client's request, the lines held for a handshake).
    log_.error("internal error while relaying " + job.label() + ": " + std::string(what));
    if (job.is_request() && job.info.method == "initialize" && !job.init_finished && !job.replay) {
        job.init_finished = true;
        finish_initialize(Reply{});
    }
    bool answered = take_answered(job);
    if (job.replay || !job.is_request() || answered) return;
    json data = {{"host", options_.server.authority()}};
    out_.write_line(jsonrpc::error_response(
        job.info.id, jsonrpc::kInternalError,
        "mcp-auth: internal error while relaying " + job.label() + " (" + std::string(what) +
            "). Try again; if it happens again, report it with the output of --verbose.",
        data));
}

bool Relay::take_answered(const Job& job) {
    if (!job.is_request()) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    auto pending = pending_.find(job.pending_key());
    if (pending == pending_.end()) return job.replay;
    bool answered = pending->second;
    pending_.erase(pending);
    return answered;
}

void Relay::finish_initialize(const Reply& reply) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (reply.answered && !reply.protocol_version.empty()) {
            negotiated_version_ = reply.protocol_version;
            session_id_ = reply.session_id;
            listen_started_ = false;
            log_.debug("session started: protocol " + negotiated_version_ +
                       (session_id_.empty() ? ", no session id" : ", with a session id"));
        }
        init_in_flight_ = false;
    }
    release_held();
}

void Relay::report_failure(const Job& job, const Reply& reply, const HttpResult& result) {
    std::string what;
    std::string hint;
    json data = {{"host", options_.server.authority()}};
    if (reply.status) data["status"] = reply.status;
    if (reply.too_big) {
        what = "the reply to " + job.label() + " is over the " +
               describe_size(options_.max_message_bytes) +
               " limit (--max-message-bytes), so it was dropped";
    } else if (!result.error.empty()) {
        what = result.error + " (sending " + job.label() + ")";
        hint = result.timed_out ? " The server may be overloaded; try again, or raise --timeout."
               : result.tls     ? ""
                            : " Check that the MCP server is running and that the URL is right.";
    } else if (reply.sse) {
        what = "the server closed the event stream before answering " + job.label();
        if (!reply.dropped.empty())
            what += " (it sent a message that " + reply.dropped + ", which was dropped)";
        hint = " Try again.";
    } else {
        what = "the server sent no JSON-RPC response to " + job.label() +
               (reply.status ? " (HTTP " + std::to_string(reply.status) + ")" : "");
        hint = " The URL may not be an MCP endpoint.";
    }
    if (job.is_request()) {
        int code = result.timed_out ? jsonrpc::kTimeout : jsonrpc::kTransportError;
        out_.write_line(
            jsonrpc::error_response(job.info.id, code, "mcp-auth: " + what + "." + hint, data));
    }
    log_.error(what);
}

std::string Relay::http_error(const Job& job, int status, const std::string& body) const {
    json data = {{"status", status}, {"host", options_.server.authority()}};
    json parsed = parse_error_body(body);  // bounded: error.data is copied and dumped below
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
        const json& error = parsed["error"];
        if (error.contains("code") && error["code"].is_number_integer() &&
            error.contains("message") && error["message"].is_string()) {
            // The server explained itself in JSON-RPC: keep its words, give them our id.
            if (error.contains("data")) data["server_data"] = error["data"];
            return jsonrpc::error_response(job.info.id, error["code"].get<int>(),
                                           error["message"].get<std::string>(), data);
        }
    }
    if (!body.empty() && body.size() <= 512)
        data["body"] = body;  // short plain-text explanations help
    std::string message = "mcp-auth: " + options_.server.authority() + " answered HTTP " +
                          std::to_string(status) + " to " + job.label() + "." + status_hint(status);
    return jsonrpc::error_response(job.info.id, jsonrpc::kTransportError, message, data);
}

void Relay::start_listen_stream() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (listen_started_ || stopping_ || negotiated_version_.empty() ||
        mcp::is_modern_version(negotiated_version_))
        return;
    listen_started_ = true;
    if (listen_thread_.joinable()) return;  // one listener per process; a new session reuses it
    try {
        listen_thread_ = std::thread([this] { listen_loop(); });
    } catch (const std::system_error& e) {
        log_.error("could not listen to the server's event stream (" + std::string(e.what()) +
                   "); its notifications arrive only with replies");
    }
}

void Relay::listen_loop() {
    HttpOptions http = options_.http;
    http.read_timeout = std::chrono::hours(24);  // an idle stream is normal; shutdown cancels it
    auto conn = http_.connect(options_.server, http);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        connections_.push_back(conn);
    }
    std::string last_event_id;
    int failures = 0;
    for (;;) {
        std::string session;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) break;
            session = session_id_;
        }
        std::optional<long> retry_ms;
        try {
            HeaderList headers = session_headers();
            headers.push_back({"Accept", "text/event-stream"});
            if (!last_event_id.empty()) headers.push_back({"Last-Event-ID", last_event_id});
            Reply reply;
            // Bounded: an event over --max-message-bytes is skipped (said on stderr, and
            // answered with an error if it was the reply to a request), the stream goes on.
            SseParser parser(
                [&](const SseEvent& event) {
                    if (event.type == "message") deliver(event.data, nullptr, reply);
                },
                options_.max_message_bytes,
                [&](std::string_view prefix, size_t) {
                    refuse(prefix,
                           "is over the " + describe_size(options_.max_message_bytes) +
                               " limit (--max-message-bytes), on the server's event stream",
                           nullptr, reply);
                });
            bool streaming = false;
            auto on_head = [&](int status, const HeaderList& h) {
                reply.status = status;
                streaming = status == 200 &&
                            starts_with(lower(find_header(h, "Content-Type")), "text/event-stream");
                return streaming;
            };
            auto on_body = [&](std::string_view chunk) {
                failures = 0;
                parser.feed(chunk);
                return true;
            };
            HttpResult result = conn->send(
                "GET", options_.server.target, headers, "",
                [&](int status, const HeaderList& h) {
                    return guarded(reply.failure, [&] { return on_head(status, h); });
                },
                [&](std::string_view chunk) {
                    return guarded(reply.failure, [&] { return on_body(chunk); });
                });
            if (!parser.last_event_id().empty()) last_event_id = parser.last_event_id();
            retry_ms = parser.retry_ms();
            if (reply.failure) std::rethrow_exception(reply.failure);
            log_.debug("GET event stream -> " +
                       (reply.status ? "HTTP " + std::to_string(reply.status) : result.error));
            if (result.cancelled && !streaming) {
                if (reply.status != 404 || session.empty()) {
                    log_.debug("the server offers no GET stream (HTTP " +
                               std::to_string(reply.status) + ")");
                    break;
                }
                // The session expired: wait until a request renews it, then listen on the new
                // one.
                last_event_id.clear();
                std::unique_lock<std::mutex> lock(mutex_);
                stop_cv_.wait(lock, [&] { return stopping_ || session_id_ != session; });
                continue;
            }
            if (!result.error.empty() && !result.cancelled && ++failures > 5) {
                log_.error("giving up on the server's event stream: " + result.error);
                break;
            }
        } catch (const std::exception& e) {
            // The stream is lost, never the relay: reconnect, as after a network failure.
            log_.error("internal error on the server's event stream: " + std::string(e.what()));
            if (++failures > 5) {
                log_.error("giving up on the server's event stream");
                break;
            }
        }
        // Reconnect after the delay the server asked for (SSE `retry`), 1 s by default; at
        // least 100 ms, so a server that closes at once with `retry: 0` cannot spin us.
        auto delay = std::chrono::milliseconds(std::max(100L, retry_ms.value_or(1000)));
        std::unique_lock<std::mutex> lock(mutex_);
        if (stop_cv_.wait_for(lock, delay, [&] { return stopping_; })) break;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    connections_.erase(std::find(connections_.begin(), connections_.end(), conn));
}

void Relay::end_session() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session_id_.empty()) return;
    }
    // Bounded tightly: the host is waiting for us to exit.
    HttpOptions http = options_.http;
    http.connect_timeout = std::chrono::milliseconds(300);
    http.read_timeout = std::chrono::milliseconds(400);
    auto conn = http_.connect(options_.server, http);
    HeaderList headers = session_headers();
    int status = 0;
    auto result = conn->send(
        "DELETE", options_.server.target, headers, "",
        [&](int s, const HeaderList&) { return status = s, true; },
        [](std::string_view) { return true; });
    log_.debug("ended the session: " + (status ? "HTTP " + std::to_string(status) : result.error));
}

void Relay::shutdown(std::chrono::milliseconds grace) {
    std::vector<std::shared_ptr<HttpConnection>> connections;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (shut_down_) return;
        shut_down_ = true;
        idle_cv_.wait_for(lock, grace, [&] { return in_flight_ == 0; });
        stopping_ = true;
        connections = connections_;
    }
    work_cv_.notify_all();
    stop_cv_.notify_all();
    if (options_.auth) options_.auth->cancel();  // a login waiting for the browser ends now
    for (auto& conn : connections) conn->cancel();
    for (auto& worker : workers_) worker->thread.join();
    if (listen_thread_.joinable()) listen_thread_.join();
    end_session();
}

}  // namespace mcp_auth
