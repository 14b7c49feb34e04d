#include "app/auth/authenticator.h"

#include <algorithm>

#include "app/auth/policy.h"
#include "core/www_authenticate.h"

namespace mcp_auth {

using auth::describe_scope;
using auth::is_auth_code;
using auth::login_required;

Authenticator::Authenticator(AuthOptions options, AuthContext context)
    : options_(std::move(options)),
      ctx_(std::move(context)),
      discovery_(options_, ctx_.http, ctx_.log),
      clients_(options_, ctx_.store, ctx_.http, ctx_.log),
      tokens_(options_, ctx_.store, ctx_.http, ctx_.clock, ctx_.log),
      grants_{options_,
              ctx_,
              discovery_,
              clients_,
              tokens_,
              cancel_flag_,
              [this](CallbackSession* session) {
                  std::lock_guard<std::mutex> lock(cancel_mutex_);
                  if (session && cancel_flag_) return false;
                  active_listener_ = session;
                  return true;
              }},
      logins_(options_, ctx_, cancel_flag_,
              [this](const std::string& before) { return fresh_login_since(before); }) {
    if (options_.http.total_timeout.count() == 0)
        options_.http.total_timeout = options_.http.read_timeout;
}

Expected<std::optional<TokenRecord>> Authenticator::load_locked(Read read) {
    bool again = read == Read::Again;
    // The relay asks for a token with every message: the store (a D-Bus round trip, or a
    // timeout when there is no Secret Service) is read once, and again only when another
    // process may have changed it (its change marker moved), when a caller asks (a 401,
    // a login that ended elsewhere), or a while after it failed. For the per-message
    // lookup the marker itself is looked at no more than once per kStampRecheck (a stat
    // per message would be one system call in six): a token another instance replaced
    // stays good meanwhile, and a 401 looks at the marker at once.
    auto now = ctx_.clock.steady();
    bool known = loaded_ || store_failure_;
    if (read == Read::PerMessage && known && stamp_checked_ &&
        now - *stamp_checked_ < kStampRecheck) {
        if (loaded_) return current_;
        if (now - store_failure_->at < kStoreRetryAfter) return store_failure_->error;
    }
    std::string stamp = ctx_.locks.change_stamp(server());
    stamp_checked_ = now;
    bool changed = stamp != stamp_;
    if (!again && !changed) {
        if (loaded_) return current_;
        if (store_failure_ && ctx_.clock.steady() - store_failure_->at < kStoreRetryAfter)
            return store_failure_->error;
    }
    auto items = ctx_.store.find({{"kind", "token"}, {"server", server()}});
    if (!items) {
        store_failure_ = StoreFailure{items.error(), ctx_.clock.steady()};
        stamp_ = stamp;
        loaded_ = false;
        return items.error();
    }
    store_failure_.reset();
    std::optional<TokenRecord> newest;
    for (const auto& [key, secret] : *items) {
        auto record = TokenRecord::from_json(secret);
        if (!record) continue;
        if (!options_.issuer.empty() && record->issuer != options_.issuer) continue;
        if (!newest || record->obtained_at > newest->obtained_at) newest = std::move(record);
    }
    current_ = std::move(newest);
    loaded_ = true;
    stamp_ = stamp;
    if (current_) {
        had_login_ = true;
        logged_out_ = false;
    } else if (had_login_) {
        logged_out_ = true;  // someone removed it: `mcp-auth logout`
    }
    return current_;
}

Expected<std::optional<TokenRecord>> Authenticator::stored() {
    auto lock = enter();
    return load_locked();
}

Status Authenticator::save(const TokenRecord& record) {
    auto ok = ctx_.store.put(record.key(), record.label(), json_text(record.to_json()));
    if (!ok) return ok.error();
    current_ = record;
    loaded_ = true;
    had_login_ = true;
    logged_out_ = false;
    store_failure_.reset();
    note_change();
    return Ok{};
}

void Authenticator::note_change() {
    // Other instances read the store again at their next request; this one knows already.
    ctx_.locks.note_change(server());
    stamp_ = ctx_.locks.change_stamp(server());
}

Expected<std::vector<TokenRecord>> list_logins(SecretStore& store) {
    auto items = store.find({{"kind", "token"}});
    if (!items) return items.error();
    std::vector<TokenRecord> out;
    for (const auto& [key, secret] : *items)
        if (auto record = TokenRecord::from_json(secret)) out.push_back(std::move(*record));
    std::sort(out.begin(), out.end(), [](const TokenRecord& a, const TokenRecord& b) {
        return a.server != b.server ? a.server < b.server : a.issuer < b.issuer;
    });
    return out;
}

Expected<TokenRecord> Authenticator::login_locked(const std::string& challenge,
                                                  const std::string& scope_override,
                                                  bool allow_browser, bool user_asked) {
    // The store must work before anyone is sent to a browser.
    if (auto existing = load_locked(); !existing) return existing.error();
    auto d = discovery_.discover(challenge);
    if (!d) return d.error();
    std::string challenge_scope;
    if (auto bearer = find_bearer_challenge(challenge)) challenge_scope = bearer->param("scope");
    std::string scope =
        scope_override.empty()
            ? oauth::initial_scope(options_.scope, challenge_scope, d->resource_scopes, d->server)
            : scope_override;
    if (options_.client_credentials || enterprise()) {
        // A login without a person: after `mcp-auth logout` removed this process's login,
        // only a login the user asks for brings one back (a browser login is one: the
        // user sees it and completes it).
        if (logged_out_ && !user_asked)
            return login_required(shown(), "The login for " + shown() +
                                               " was removed (mcp-auth logout); this process "
                                               "does not log in again on its own.");
        auto record = options_.client_credentials
                          ? auth::client_credentials_login(grants_, *d, scope)
                          : auth::id_jag_login(grants_, *d, scope);
        if (!record) return record.error();
        if (auto ok = save(*record); !ok) return ok.error();
        return record;
    }
    std::string before = current_ ? current_->access_token : "";
    if (logins_.uses_agent()) return logins_.via_agent(challenge, scope, allow_browser, before);
    // In this process: one login per server at a time, across processes too.
    return logins_.in_process(before, [&]() -> Expected<TokenRecord> {
        auto record = auth::authorization_code_login(grants_, *d, scope, allow_browser);
        if (!record) return record.error();
        if (auto ok = save(*record); !ok) return ok.error();
        return record;
    });
}

std::optional<TokenRecord> Authenticator::fresh_login_since(const std::string& before) {
    auto record = load_locked(Read::Again);  // another process may have written the store
    if (record && *record && (*record)->access_token != before &&
        (*record)->fresh(ctx_.clock.now(), 0))
        return **record;
    return std::nullopt;
}

Expected<TokenRecord> Authenticator::login(const std::string& challenge, bool allow_browser) {
    auto lock = enter();
    return login_locked(challenge, "", allow_browser, true);
}

bool Authenticator::enterprise() const {
    return !options_.idp_token_endpoint.empty() || !options_.idp_issuer.empty();
}

std::unique_lock<std::mutex> Authenticator::enter() {
    auto arrived = ctx_.clock.steady();
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_ = arrived;
    return lock;
}

Expected<TokenRecord> Authenticator::valid_token() {
    auto lock = enter();
    if (unsaved_) (void)retry_unsaved();
    auto record = load_locked(Read::PerMessage);
    if (!record) return record.error();
    if (!*record) return login_required(shown(), "You are not logged in to " + shown() + ".");
    const TokenRecord r = **record;
    if (r.fresh(ctx_.clock.now(), refresh_margin(r))) return r;
    auto refreshed = refresh_locked(r);
    if (!refreshed &&
        (refreshed.error().kind == ErrorKind::Network ||
         refreshed.error().kind == ErrorKind::Timeout) &&
        r.fresh(ctx_.clock.now(), 0)) {
        // The authorization server is unreachable, but the token still works for a while.
        ctx_.log.debug("could not refresh yet (" + refreshed.error().message +
                       "); using the current token");
        return r;
    }
    return refreshed;
}

bool Authenticator::token_at_hand() {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock() || unsaved_) return false;
    if (loaded_) return !current_ || current_->fresh(ctx_.clock.now(), refresh_margin(*current_));
    return store_failure_ && ctx_.clock.steady() - store_failure_->at < kStoreRetryAfter;
}

Expected<TokenRecord> Authenticator::recover(const std::string& challenge,
                                             const std::string& rejected, bool allow_browser) {
    auto lock = enter();
    if (unsaved_) (void)retry_unsaved();
    auto record = load_locked();
    if (!record) return record.error();
    if (*record && (*record)->access_token != rejected && (*record)->fresh(ctx_.clock.now(), 0))
        return **record;  // another request already logged in or refreshed
    // The rejected token, or an expired one (the request went without a token because its
    // refresh failed): refresh it. Only a refused grant leads to a new login.
    bool renewable =
        *record && (!(*record)->refresh_token.empty() || renews_by_itself((*record)->grant));
    if (renewable &&
        ((*record)->access_token == rejected || !(*record)->fresh(ctx_.clock.now(), 0))) {
        const TokenRecord stale = **record;
        // Sent without a token because the refresh just failed (a success clears the
        // failure): the 401 is that failure's consequence, not news; no second round.
        if (rejected.empty() && refresh_failure_ &&
            refresh_failure_->access_token == stale.access_token)
            return refresh_failure_->error;
        auto refreshed = refresh_locked(stale);
        if (refreshed || refreshed.error().kind != ErrorKind::LoginRequired) return refreshed;
        ctx_.log.info(refreshed.error().message);
    }
    return login_locked(challenge, "", allow_browser, false);
}

Expected<TokenRecord> Authenticator::step_up(const std::string& challenge,
                                             const std::string& rejected, bool allow_browser) {
    auto lock = enter();
    auto bearer = find_bearer_challenge(challenge);
    std::string required = bearer ? bearer->param("scope") : "";
    auto record = load_locked();
    if (!record) return record.error();
    std::string granted = *record ? (*record)->scope : "";
    std::string requested = *record ? (*record)->requested_scope : "";
    std::string who = *record ? (*record)->identity : "you";
    if (required.empty())
        return make_error(ErrorKind::Auth,
                          "the server refused the request for lack of a scope it did not name.");
    if (*record && (*record)->access_token != rejected &&
        oauth::missing_scopes(required, granted).empty())
        return **record;  // another request already stepped up
    auto missing = oauth::missing_scopes(required, granted);
    // The union of what was asked for before, what was granted, and what is required.
    std::string wanted = oauth::scope_union(oauth::scope_union(requested, granted), required);
    auto refused = [&](const std::vector<std::string>& lacking) {
        return make_error(
            ErrorKind::Auth,
            "the server requires the scope " + describe_scope(lacking) +
                ", which the authorization server did not grant to " + who +
                ". Ask the server's administrator for access, then run `mcp-auth login " + shown() +
                " --force`.",
            "insufficient_scope");
    };
    // Asked for before and not granted: the authorization server said no; another
    // browser round would only say it again.
    bool asked_before = !missing.empty() && oauth::missing_scopes(required, requested).empty();
    if (missing.empty() || asked_before || stepped_up_.count(wanted))
        return refused(missing.empty() ? oauth::split_scopes(required) : missing);
    stepped_up_.insert(wanted);
    ctx_.log.info("the server needs the scope " + describe_scope(missing) +
                  "; logging in again to request it");
    auto fresh = login_locked(challenge, wanted, allow_browser, false);
    if (!fresh) return fresh.error();
    who = fresh->identity;
    if (auto lacking = oauth::missing_scopes(required, fresh->scope); !lacking.empty())
        return refused(lacking);
    return fresh;
}

void Authenticator::cancel() {
    std::lock_guard<std::mutex> lock(cancel_mutex_);
    cancel_flag_ = true;
    if (active_listener_) active_listener_->cancel();
}

Expected<bool> Authenticator::logout(const TokenRecord& record) {
    auto lock = enter();
    // Under the refresh lock: a refresh in flight elsewhere ends first (and saves what it
    // got), and every later one re-reads the store, finds no login and writes nothing.
    auto refresh_lock = ctx_.locks.open(server(), "refresh");
    if (refresh_lock)
        if (auto ok = (*refresh_lock)
                          ->lock(true, auth::refresh_lock_budget(options_.http), &cancel_flag_);
            !ok)
            ctx_.log.info("logging out of " + shown() + " while another mcp-auth process (" +
                          ok.error().message + ") may still be refreshing it");
    bool revoked = !record.revocation_endpoint.empty();
    if (revoked) {
        if (auto ok = discovery_.check_stored_endpoint(
                record.revocation_endpoint, "revocation endpoint kept in the stored login");
            !ok) {
            ctx_.log.info("not revoking the login for " + shown() + ": " + ok.error().message +
                          "; deleting it locally");
            revoked = false;
        }
    }
    if (revoked) {
        Client client = clients_.client_of(record);
        // Revoking the refresh token ends the grant (RFC 7009 §2.1); the access token is
        // revoked only when there is no refresh token (a JWT one often cannot be).
        bool refresh = !record.refresh_token.empty();
        QueryParams form =
            oauth::revocation_form(refresh ? record.refresh_token : record.access_token,
                                   refresh ? "refresh_token" : "access_token");
        HeaderList headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
        // A client that may not authenticate there (its issuer pin) does not keep the
        // user from logging out: the login is deleted without revoking.
        auto authenticated = tokens_.authenticate(client, record.issuer, headers, form);
        auto res = authenticated ? ctx_.http.fetch(record.revocation_endpoint, "POST", headers,
                                                   form_encode(form), options_.http)
                                 : HttpResponse{0, {}, {}, authenticated.error().message};
        if (!res.error.empty() || res.status != 200) {
            ctx_.log.info("could not revoke the login at " +
                          display_url(record.revocation_endpoint) + " (" +
                          (res.error.empty() ? "HTTP " + std::to_string(res.status) : res.error) +
                          "); deleting it locally anyway");
            revoked = false;
        }
    }
    auto ok = ctx_.store.erase(record.key());
    if (!ok) return ok.error();
    current_.reset();
    unsaved_.reset();
    loaded_ = false;
    note_change();
    return revoked;
}

}  // namespace mcp_auth
