#include "core/relay_session.h"

#include <iterator>

#include "core/mcp_headers.h"

namespace mcp_auth::relay {

void SessionState::start_initialize(const std::string& line) {
    initializing_ = true;
    session_id_.clear();
    version_.clear();
    init_line_ = line;
    initialized_line_.clear();
}

bool SessionState::finish_initialize(bool answered, const std::string& version,
                                     const std::string& session_id) {
    initializing_ = false;
    if (!answered || version.empty()) return false;
    version_ = version;
    session_id_ = session_id;
    listen_started_ = false;
    return true;
}

std::vector<std::string> SessionState::take_held() {
    std::vector<std::string> batch;
    if (held_.empty() || holding()) {
        releasing_ = false;
        return batch;
    }
    batch.swap(held_);
    releasing_ = true;
    return batch;
}

void SessionState::hold_again(std::vector<std::string> lines) {
    held_.insert(held_.begin(), std::make_move_iterator(lines.begin()),
                 std::make_move_iterator(lines.end()));
}

SessionState::ReplayPlan SessionState::begin_replay(const std::string& expired) {
    ReplayPlan plan;
    if (session_id_ != expired) {
        plan.what = Replay::AlreadyRenewed;
        return plan;
    }
    if (init_line_.empty()) return plan;
    plan.what = Replay::Start;
    plan.init_line = init_line_;
    plan.initialized_line = initialized_line_;
    session_id_.clear();  // the replayed initialize goes without one
    return plan;
}

void SessionState::replay_succeeded(const std::string& session_id, const std::string& version) {
    session_id_ = session_id;
    version_ = version;
}

bool SessionState::should_listen() {
    if (listen_started_ || version_.empty() || mcp::is_modern_version(version_)) return false;
    listen_started_ = true;
    return true;
}

SessionState::Response SessionState::note_response(const std::string& key) {
    auto pending = pending_.find(key);
    if (pending == pending_.end()) return Response::Unexpected;
    if (pending->second) return Response::Repeat;
    pending->second = true;
    return Response::First;
}

bool SessionState::answer_instead(const std::string& key) {
    auto pending = pending_.find(key);
    if (pending == pending_.end() || pending->second) return false;  // nobody waits for it
    pending->second = true;
    return true;
}

bool SessionState::take_answered(const std::string& key, bool replay) {
    auto pending = pending_.find(key);
    if (pending == pending_.end()) return replay;
    bool answered = pending->second;
    pending_.erase(pending);
    return answered;
}

bool SessionState::answered(const std::string& key) const {
    auto pending = pending_.find(key);
    return pending != pending_.end() && pending->second;
}

}  // namespace mcp_auth::relay
