#pragma once
// The relay's session state, as pure logic: which client lines wait for a handshake, the
// session the server gave (id, negotiated version), the client's handshake kept for a
// replay, and the requests still waiting for an answer (one delivery per id).
//
// Rules:
// - While an initialize is in flight, every later line is held, in order, so that it
//   carries the new session; held lines are released in order, and a line that arrives
//   while they are being released waits behind them.
// - So while the client's notifications/initialized is in flight (until the server
//   accepted it and, in the legacy eras, the GET stream is open), as the SDK's own client
//   waits for it: a server must see the handshake end before the next request, and the
//   stream its server-to-client requests may go on must exist by then.
// - And while any other client notification is in flight (until its POST is answered):
//   notifications reach the server in the order written, and no later message overtakes
//   one (cancellations, roots/list_changed). Requests never hold anything: they run
//   concurrently.
// - A response is delivered once per pending id: a resumed stream that repeats it, or a
//   reply that raced an answer mcp-auth gave in the server's place, is dropped.
// - Not thread-safe: the relay guards it with its mutex. Ids are keyed by their JSON text.
#include <map>
#include <string>
#include <vector>

namespace mcp_auth::relay {

class SessionState {
public:
    // --- intake and holding ---
    // Whether a new client line must wait (`releasing`: it is one of the held lines).
    bool must_hold(bool releasing) const { return holding() || (releasing_ && !releasing); }
    // A handshake step is in flight: new lines wait.
    bool holding() const { return initializing_ || acknowledging_ || notifying_ > 0; }
    void hold(std::string line) { held_.push_back(std::move(line)); }
    // The client's initialize goes out: a new session starts and nothing may overtake it.
    void start_initialize(const std::string& line);
    // The client's notifications/initialized goes out: kept for a replay, and nothing may
    // overtake it until finish_initialized().
    void start_initialized(const std::string& line) {
        initialized_line_ = line;
        acknowledging_ = true;
    }
    void finish_initialized() { acknowledging_ = false; }
    // Another client notification goes out: nothing may overtake it until
    // finish_notification().
    void start_notification() { ++notifying_; }
    void finish_notification() {
        if (notifying_ > 0) --notifying_;
    }
    bool initializing() const { return initializing_; }
    // The initialize ended; with `answered` and a version the server's session starts.
    // Returns whether it did.
    bool finish_initialize(bool answered, const std::string& version,
                           const std::string& session_id);
    // The held lines to dispatch now, in order; empty (and releasing over) when there are
    // none or an initialize is in flight again.
    std::vector<std::string> take_held();
    // Lines of a released batch not dispatched (another initialize went out): they go
    // back to the front, before anything held meanwhile.
    void hold_again(std::vector<std::string> lines);
    bool releasing() const { return releasing_; }
    size_t held() const { return held_.size(); }

    // --- the server's session ---
    const std::string& session_id() const { return session_id_; }
    const std::string& version() const { return version_; }

    // --- replay after the server forgot the session (404) ---
    enum class Replay {
        Start,           // the session is cleared: replay `init_line` and `initialized_line`
        AlreadyRenewed,  // another request renewed it already: just retry
        Impossible,      // the client's initialize is not known
    };
    struct ReplayPlan {
        Replay what = Replay::Impossible;
        std::string init_line;
        std::string initialized_line;  // "" when the client sent none
    };
    ReplayPlan begin_replay(const std::string& expired);
    // The replay failed: the request fails with what the server said about `expired`.
    void replay_failed(const std::string& expired) { session_id_ = expired; }
    void replay_succeeded(const std::string& session_id, const std::string& version);

    // --- the GET stream ---
    // Whether the listen stream should start now for this session (once per session, and
    // only for a legacy-era one: 2026-07-28 has no GET stream).
    bool should_listen();

    // --- pending requests and de-duplication ---
    void expect(const std::string& key) { pending_[key] = false; }
    void forget(const std::string& key) { pending_.erase(key); }
    enum class Response {
        First,       // deliver it
        Repeat,      // already delivered (or answered instead): drop it
        Unexpected,  // nobody waits for that id: deliver it anyway
    };
    Response note_response(const std::string& key);
    // mcp-auth answers `key` in the server's place: true when someone still waits for it.
    bool answer_instead(const std::string& key);
    // The request `key` is done: whether it was answered. A key not pending counts as
    // answered for mcp-auth's own requests (`replay`), which nobody waits for.
    bool take_answered(const std::string& key, bool replay);
    // Whether the request `key`, still in flight, has its response (on any stream).
    bool answered(const std::string& key) const;
    size_t pending() const { return pending_.size(); }

private:
    bool initializing_ = false;   // later lines wait in held_ so they carry the new session
    bool acknowledging_ = false;  // ... or until the server accepted notifications/initialized
    int notifying_ = 0;           // ... or until other client notifications were accepted
    bool releasing_ = false;      // held_ is being replayed in order
    std::vector<std::string> held_;
    std::string session_id_;
    std::string version_;
    std::string init_line_;         // the client's initialize, replayed when a session expires
    std::string initialized_line_;  // and its notifications/initialized
    bool listen_started_ = false;
    std::map<std::string, bool> pending_;  // requests in flight (by id) → answered yet
};

}  // namespace mcp_auth::relay
