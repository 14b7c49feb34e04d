// Renewing a stored login: the refresh grant (or a new machine or enterprise grant) under
// the server's cross-process refresh lock, so that N instances waking up with an expired
// token send one refresh and none loses the rotated refresh token; and the saving of a
// refreshed login the store refused at first.
#include "app/auth/authenticator.h"
#include "app/auth/policy.h"
#include "core/jwt.h"

namespace mcp_auth {

using auth::is_auth_code;
using auth::login_required;

Status Authenticator::retry_unsaved(bool holding_refresh_lock) {
    if (!unsaved_) return Ok{};
    // Under the refresh lock, and only while the login it replaces is still stored: a
    // login removed meanwhile (logout) is not written back.
    std::unique_ptr<ProcessLock> lock;
    if (!holding_refresh_lock) {
        auto opened = ctx_.locks.open(server(), "refresh");
        if (opened) {
            lock = std::move(*opened);
            if (auto ok = lock->lock(true, std::chrono::seconds(2), &cancel_flag_); !ok)
                return ok.error();
        }
    }
    auto stored = ctx_.store.get(unsaved_->key());
    if (!stored) return stored.error();
    if (!*stored) {
        ctx_.log.info("the login for " + shown() +
                      " was removed meanwhile; the refreshed login that could not be saved is "
                      "dropped");
        unsaved_.reset();
        current_.reset();
        loaded_ = false;
        logged_out_ = true;
        return Ok{};
    }
    TokenRecord record = *unsaved_;
    if (auto ok = save(record); !ok) return ok.error();
    unsaved_.reset();
    ctx_.log.debug("saved the refreshed login for " + shown() + " on a second try");
    return Ok{};
}

Expected<TokenRecord> Authenticator::refresh_locked(const TokenRecord& stale) {
    if (refresh_failure_ && refresh_failure_->access_token == stale.access_token &&
        arrived_ < refresh_failure_->at)
        return refresh_failure_->error;  // it failed while this caller waited for its turn
    // One refresh per server at a time, across processes: N instances waking up with an
    // expired token send one refresh, and none loses the rotated refresh token. `logout`
    // takes the same lock, so a refresh never writes back a login removed meanwhile.
    // The lock is never taken from a live holder: every holder ends by its own deadlines.
    auto lock = ctx_.locks.open(server(), "refresh");
    if (!lock) {
        ctx_.log.debug("refreshing without the refresh lock: " + lock.error().message);
    } else if (auto ok =
                   (*lock)->lock(true, auth::refresh_lock_budget(options_.http), &cancel_flag_);
               !ok) {
        if (ok.error().kind != ErrorKind::Timeout) return ok.error();
        return make_error(ErrorKind::Timeout,
                          "another mcp-auth process is still refreshing the login for " + shown() +
                              "; not refreshing at the same time (a rotated refresh token would "
                              "be lost). Try again in a moment.");
    }
    auto result = refresh_holding_lock(stale);
    if (!result &&
        (result.error().kind == ErrorKind::Network || result.error().kind == ErrorKind::Timeout))
        refresh_failure_ = RefreshFailure{stale.access_token, result.error(), ctx_.clock.steady()};
    else
        refresh_failure_.reset();
    return result;
}

Expected<TokenRecord> Authenticator::refresh_holding_lock(const TokenRecord& stale) {
    // A new refresh token is never used before it is stored.
    if (auto ok = retry_unsaved(true); !ok)
        return make_error(ErrorKind::StoreUnavailable,
                          "the refreshed login for " + shown() +
                              " could not be saved, and its new refresh token is not used "
                              "until it is: " +
                              ok.error().message);
    auto latest = load_locked(Read::Again);
    if (!latest) return latest.error();
    if (!*latest)  // logged out meanwhile: the copy in memory is not written back
        return login_required(shown(), "The login for " + shown() +
                                           " was removed (mcp-auth logout); this process does "
                                           "not bring it back.");
    if ((*latest)->access_token != stale.access_token &&
        (*latest)->fresh(ctx_.clock.now(), refresh_margin(**latest)))
        return **latest;  // another process refreshed while we waited
    const TokenRecord record = **latest;
    if (renews_by_itself(record.grant)) {
        // Nothing to refresh with: these grants are simply asked again.
        auto d = discovery_.discover("");
        if (!d) return d.error();
        auto fresh = record.grant == Grant::JwtBearer
                         ? auth::id_jag_login(grants_, *d, record.scope)
                         : auth::client_credentials_login(grants_, *d, record.scope);
        if (!fresh) return fresh.error();
        if (auto ok = save(*fresh); !ok) return ok.error();
        return fresh;
    }
    if (record.refresh_token.empty())
        return login_required(shown(), "The login for " + shown() + " has expired.");
    if (auto ok = discovery_.check_stored_endpoint(record.token_endpoint,
                                                   "token endpoint kept in the stored login");
        !ok)
        return login_required(
            shown(), "Not refreshing the login for " + shown() + ": " + ok.error().message + ".");
    Client client = clients_.client_of(record);
    auto tokens = auth::refresh_grant(grants_, record, client);
    if (!tokens) {
        const Error& e = tokens.error();
        if (is_auth_code(e, {"invalid_client", "unauthorized_client"})) {
            // The server forgot our registration: the next login registers anew.
            clients_.forget(record.issuer, record.client_id);
        }
        if (is_auth_code(
                e, {"invalid_grant", "invalid_scope", "invalid_client", "unauthorized_client"}))
            return login_required(shown(), "The authorization server ended the login for " +
                                               shown() + " (" + e.code + ").");
        return e;
    }
    TokenRecord updated = record;
    updated.access_token = tokens->access_token;
    if (!tokens->refresh_token.empty()) updated.refresh_token = tokens->refresh_token;  // rotation
    if (!tokens->scope.empty()) updated.scope = tokens->scope;
    updated.expires_at = tokens->expires_at;
    updated.obtained_at = ctx_.clock.now();
    if (!tokens->id_token.empty())
        if (auto claims = jwt_claims(tokens->id_token);
            claims && !identity_from_claims(*claims).empty())
            updated.identity = identity_from_claims(*claims);
    if (auto ok = save(updated); !ok) {
        // The old refresh token is spent: the new one exists only here now. Keep it, use
        // the new access token, and save again before any further refresh.
        ctx_.log.info("could not save the refreshed login for " + shown() + " (" +
                      ok.error().message +
                      "); using it for now and saving it again at the next request");
        unsaved_ = updated;
        current_ = updated;
        loaded_ = true;
        return updated;
    }
    ctx_.log.debug("refreshed the token for " + shown());
    return updated;
}

}  // namespace mcp_auth
