#pragma once
// The relay use case: JSON-RPC lines from stdin become POSTs to a Streamable HTTP MCP
// endpoint; replies (JSON or SSE) become lines on stdout.
//
// Decision order for each stdin line: parse → classify → (hold while an initialize is
// in flight, so later messages carry its session) → build headers → hand to a worker
// that owns one keep-alive connection → stream the reply out message by message.
//
// The parts, one file each: relay.cpp (intake, holding, shutdown), exchange.cpp (one POST
// and the retry policy around it: session replay, tools relisting, token renewal, SSE
// resumption), delivery.cpp (server messages to stdout, de-duplication, errors),
// listen.cpp (the GET stream, the session's end), worker_pool.cpp (threads and
// connections). The decisions are pure, in core: relay_session.h (session state),
// relay_exchange.h (the next step, the outcome), relay_errors.h (error mapping).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/relay/job.h"
#include "app/relay/worker_pool.h"
#include "app/token_source.h"
#include "core/headers.h"
#include "core/jsonrpc.h"
#include "core/mcp_headers.h"
#include "core/relay_session.h"
#include "core/tool_filter.h"
#include "core/url.h"
#include "ports/http.h"
#include "ports/log.h"
#include "ports/system.h"

namespace mcp_auth {

struct RelayOptions {
    Url server;
    HeaderList static_headers;  // sent on every request; values never logged
    HttpOptions http;
    size_t max_connections = 64;
    size_t max_message_bytes = 64u << 20;
    TokenSource* auth = nullptr;  // null: no OAuth (static headers only)
    // Waits (SSE `retry`, reconnection) go through this clock when set; null: the relay
    // waits on its own condition variable (shutdown ends a wait at once). Tests pass a
    // clock that records the delay and returns.
    Clock* clock = nullptr;
    // The stdin thread's wait hook (platform/process.h's StdinLoop::wait_hook): with it,
    // the thread that calls on_line sends a message itself when it can, reading stdin on
    // while the reply is awaited, instead of handing each line to a worker (a thread
    // wake-up per message: half of the relay's CPU). One of the --max-connections is then
    // that thread's. Null: every message goes to a worker.
    WaitHook* intake_hook = nullptr;
    // --allow-tool / --deny-tool: refused tools are left out of every tools/list result and
    // their tools/call is answered here, never sent.
    ToolFilter tools;
};

class Relay {
public:
    // `out` is stdout (JSON-RPC only); `http` opens the connections to the server.
    Relay(RelayOptions options, HttpClient& http, LineSink& out, Log& log);
    ~Relay();
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    // One complete stdin line. Thread-safe. `more_read`: further lines were read with it (a
    // burst): this one goes to a worker, so the next ones are not held behind it.
    void on_line(std::string&& line, bool more_read = false);
    // A stdin line over the size limit: only its beginning is known.
    void on_oversized(std::string_view prefix, size_t total_bytes);

    // Waits up to `grace` for requests still in flight, closes all streams, ends the
    // session (DELETE), and joins every thread. Idempotent.
    void shutdown(std::chrono::milliseconds grace);

private:
    using Job = relay::Job;
    using Reply = relay::Reply;

    void dispatch(std::string&& line, bool releasing);
    // dispatch() for a parsed line; sets `id` (a request's) and `started_init` as it goes,
    // so that dispatch() can clean up after an exception.
    void dispatch_message(const nlohmann::json& message, std::string&& line, bool releasing,
                          nlohmann::json& id, bool& started_init, bool& started_notification);
    // A job for one client message, with its protocol headers (not the session's: those
    // are added when it is sent). Called with mutex_ held.
    std::shared_ptr<Job> make_job(const nlohmann::json& message, jsonrpc::MessageInfo info,
                                  std::string line);
    void release_held();
    void submit(std::shared_ptr<Job> job);
    void run(HttpConnection& conn, Job& job);
    HttpResult exchange(HttpConnection& conn, Job& job, const std::string& credential,
                        Reply& reply);
    // The server forgot the session `expired` (404): start a new one by replaying the
    // client's initialize and initialized, invisibly. False when that is impossible.
    bool reinitialize(HttpConnection& conn, const std::string& expired,
                      const std::string& credential);
    // A 2026-07-28 HeaderMismatch: list the tools again (learning their x-mcp-header
    // annotations) and rebuild `job`'s headers. False when the list failed.
    bool relearn_tools(HttpConnection& conn, Job& job, const std::string& credential);
    // Whether the stdin thread may send `job` itself: a small body, not a handshake step,
    // a token at hand (nothing that could keep stdin unread for long).
    bool may_run_on_intake(const Job& job) const;
    // Sends `job` from the stdin thread; a job a step hands over goes to the pool.
    void run_on_intake(std::shared_ptr<Job> job);
    // True on the stdin thread inside on_line, outside a message it sends itself.
    bool on_intake_thread() const;
    // The POST's event stream ended before the answer: resume it with GET + Last-Event-ID.
    void resume(HttpConnection& conn, Job& job, Reply& reply);
    // Waits `delay`; false when the relay is stopping (at once, or during the wait).
    bool wait(std::chrono::milliseconds delay, const Job* until_answered = nullptr);
    bool answered_elsewhere(const Job& job);
    // Headers for a GET or DELETE on the session (static, token, session, version).
    HeaderList session_headers();
    void report_auth_failure(const Job& job, const Reply& reply, const Error& error);
    // Writes one server message to stdout (unless replaying); notes which request it answers.
    void deliver(std::string_view text, Job* job, Reply& reply);
    // A server message that is not relayed (`why`: too deep, not JSON, too big): a request
    // in it is answered with an error on the client's behalf, a response is replaced by
    // an error for the request it answers (its id read from the text without parsing).
    void refuse(std::string_view text, const std::string& why, Job* job, Reply& reply);
    // Answers the client's pending request `id` with an error instead of the server's reply.
    void answer_instead(const nlohmann::json& id, Job* job, Reply& reply, const std::string& what);
    // After an exception in run(): the job's request gets an error, nothing stays waiting.
    void recover(Job& job, std::string_view what);
    bool take_answered(const Job& job);
    void finish_initialize(const Reply& reply);
    void report_failure(const Job& job, const Reply& reply, const HttpResult& result);
    // Starts the GET stream's thread; true when it was started now (not already running).
    bool start_listen_stream();
    // Waits until the GET stream has its response head (or failed), at most `limit`.
    void wait_for_listen_stream(std::chrono::milliseconds limit);
    void note_listen_opened();
    // The client's notifications/initialized is done: the lines held behind it go.
    void finish_initialized();
    // A client notification's POST ended: the lines held behind it go.
    void finish_notification();
    // How long the lines after notifications/initialized wait for the GET stream to open.
    static constexpr std::chrono::milliseconds kListenOpenWait{2000};
    void listen_loop();
    void end_session();

    RelayOptions options_;
    HttpClient& http_;
    LineSink& out_;
    Log& log_;

    std::mutex mutex_;  // guards everything below (the pool has its own lock)
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::atomic<bool> stop_requested_{false};  // stopping_, for Clock::sleep
    bool shut_down_ = false;
    relay::SessionState session_;  // held lines, the session, the handshake, pending ids
    std::mutex reinit_mutex_;      // one re-initialization at a time
    std::string last_credential_;  // the auth header value of the last accepted request
    std::thread listen_thread_;
    bool listen_opened_ = false;  // the GET stream got its response head (or failed)
    std::shared_ptr<HttpConnection> listen_conn_;  // for cancel() at shutdown
    mcp::ToolHeaderMap tool_headers_;
    // The stdin thread's own: its connection (with the hook), whether it takes the hook,
    // and whether it is sending a message now (lines read meanwhile go to the pool).
    std::shared_ptr<HttpConnection> intake_conn_;
    bool intake_hooked_ = false;
    bool intake_busy_ = false;
    // Last: its workers call into everything above; destroyed (joined) first.
    relay::WorkerPool pool_;
};

}  // namespace mcp_auth
