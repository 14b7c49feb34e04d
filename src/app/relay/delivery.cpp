// Server messages to stdout: delivery (once per request id), messages refused (too deep,
// not JSON, too big) and the errors the client gets instead of an answer. The words of
// the errors are core/relay_errors.h's.
#include <optional>

#include "app/relay/relay.h"
#include "core/json_limits.h"
#include "core/relay_errors.h"

namespace mcp_auth {

using jsonrpc::json;

namespace {

// Answers mcp-auth makes on the client's behalf (to server requests it refuses) are only
// queued while fewer than this many messages wait for a connection.
constexpr size_t kMaxQueuedAnswers = 64;

std::string depth_problem() {
    return "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

}  // namespace

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
        std::unique_lock<std::mutex> lock(mutex_);
        // A resumed stream repeated it: deliver once.
        auto seen = session_.note_response(envelope.id->dump());
        if (seen == relay::SessionState::Response::Repeat) return;
        lock.unlock();
        // On the GET stream: a worker waiting to resume that request's stream can stop.
        if (!job && seen == relay::SessionState::Response::First) stop_cv_.notify_all();
    }
    bool rewritten = false;
    if (job && job->is_request() && response && envelope.id && *envelope.id == job->info.id) {
        reply.answered = true;
        bool tools_list = job->info.method == "tools/list";
        bool inspect =
            envelope.has_result && (job->info.method == "initialize" ||
                                    (tools_list && (job->modern || options_.tools.active())));
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
                    // Filtered first: a tool the host never sees is never called, so its
                    // header annotations do not matter.
                    auto hidden = options_.tools.filter_list(*result);
                    if (!hidden.empty()) {
                        rewritten = true;
                        log_.debug("left " + std::to_string(hidden.size()) +
                                   " tool(s) out of tools/list (--allow-tool/--deny-tool)");
                    }
                    std::lock_guard<std::mutex> lock(mutex_);
                    if (job->modern)
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
        // A server that floods us with such requests while it leaves our POSTs
        // unanswered must not grow the queue: past a bound, no answer.
        bool backlog = pool_.queued() >= kMaxQueuedAnswers;
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
        if (!session_.answer_instead(id.dump())) return;  // nobody waits for it
    }
    out_.write_line(relay::answer_instead(id, options_.server.authority(), what));
}

void Relay::recover(Job& job, std::string_view what) {
    // Last line of defence: an exception in one job ends that job, never the relay, and
    // leaves nothing waiting (the client's request, the lines held for a handshake).
    log_.error("internal error while relaying " + job.label() + ": " + std::string(what));
    if (job.is_request() && job.info.method == "initialize" && !job.init_finished && !job.replay) {
        job.init_finished = true;
        finish_initialize(Reply{});
    }
    if (job.acknowledges_handshake() && !job.init_finished) {
        job.init_finished = true;
        finish_initialized();
    }
    if (job.holds_later() && !job.init_finished) {
        job.init_finished = true;
        finish_notification();
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
    return session_.take_answered(job.pending_key(), job.replay);
}

void Relay::finish_initialize(const Reply& reply) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session_.finish_initialize(reply.answered, reply.protocol_version, reply.session_id))
            log_.debug("session started: protocol " + session_.version() +
                       (session_.session_id().empty() ? ", no session id" : ", with a session id"));
    }
    release_held();
}

void Relay::finish_notification() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        session_.finish_notification();
    }
    release_held();
}

void Relay::finish_initialized() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        session_.finish_initialized();
    }
    release_held();
}

void Relay::report_failure(const Job& job, const Reply& reply, const HttpResult& result) {
    relay::FailureFacts facts;
    facts.label = job.label();
    facts.host = options_.server.authority();
    facts.status = reply.status;
    facts.too_big = reply.too_big;
    facts.max_message_bytes = options_.max_message_bytes;
    facts.transport_error = result.error;
    facts.timed_out = result.timed_out;
    facts.tls = result.tls;
    facts.event_stream = reply.sse != nullptr;
    facts.dropped = reply.dropped;
    auto report = relay::describe_failure(facts, job.is_request() ? &job.info.id : nullptr);
    if (!report.response.empty()) out_.write_line(report.response);
    log_.error(report.log);
}

void Relay::report_auth_failure(const Job& job, const Reply& reply, const Error& error) {
    log_.error(error.message);
    if (!job.is_request()) return;
    out_.write_line(relay::auth_failure(job.info.id, options_.server.authority(), reply.status,
                                        error.message, error.kind == ErrorKind::LoginRequired));
}

}  // namespace mcp_auth
