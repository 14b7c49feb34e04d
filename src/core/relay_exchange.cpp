#include "core/relay_exchange.h"

#include <algorithm>

#include "core/relay_errors.h"

namespace mcp_auth::relay {

Step next_step(const ReplyFacts& reply, const Attempt& attempt) {
    if (attempt.number == kMaxRetries || reply.transport_failed) return Step::Finish;
    if (reply.status == 404 && reply.carried_session && !attempt.modern)
        return Step::ReplaySession;  // the server forgot the session (restarted, expired)
    if (reply.status == 400 && attempt.modern && attempt.tools_call && !attempt.relisted &&
        reply.body && is_header_mismatch(*reply.body))
        return Step::RelistTools;  // the tool's x-mcp-header annotations changed
    bool refused = reply.status == 401 || (reply.status == 403 && reply.www_authenticate &&
                                           needs_scope(*reply.www_authenticate));
    if (attempt.can_renew && refused) return Step::RenewToken;
    return Step::Finish;
}

bool should_resume(const StreamFacts& f) {
    return f.request && f.event_stream && !f.too_big && !f.answered && !f.modern &&
           f.has_last_event_id && !f.cancelled;
}

std::chrono::milliseconds resume_delay(std::optional<long> retry_ms) {
    return std::chrono::milliseconds(retry_ms.value_or(1000));
}

std::chrono::milliseconds reconnect_delay(std::optional<long> retry_ms) {
    return std::chrono::milliseconds(std::max(100L, retry_ms.value_or(1000)));
}

Outcome outcome(const Ending& e) {
    if (e.replay) return Outcome::Silent;
    if (e.cancelled && !e.too_big) return Outcome::Silent;  // shutting down: nobody waits
    // Delivered (perhaps on another stream); a broken stream afterwards loses nothing.
    if (e.answered && e.request) return Outcome::Delivered;
    if (e.auth_failed) return Outcome::AuthFailure;
    if (e.transport_failed || e.too_big) return Outcome::TransportFailure;
    if (!e.http_success) return Outcome::HttpError;
    if (e.request) return Outcome::NoAnswer;
    return Outcome::Accepted;
}

}  // namespace mcp_auth::relay
