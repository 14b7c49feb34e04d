#pragma once
// In-memory fakes for the ports the authorization use case needs besides HTTP
// (fake_http.h): the secret store, process locks shared between several Authenticators
// as if each were a process, a clock the test moves, the browser, the callback listener
// and the login-agent launcher. No thread of their own, no file, no socket.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/credentials.h"
#include "core/url.h"
#include "ports/callback.h"
#include "ports/locks.h"
#include "ports/secret_store.h"
#include "ports/system.h"

namespace mcp_auth::testing {

class MemoryStore : public SecretStore {
public:
    std::string kind() const override { return "keychain"; }
    std::string description() const override { return "memory"; }
    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++calls_;
        if (failure_) return *failure_;
        auto it = items_.find(encode_store_key(key));
        if (it == items_.end()) return std::optional<std::string>();
        return std::optional<std::string>(it->second.second);
    }
    Status put(const StoreKey& key, const std::string&, const std::string& secret) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++calls_;
        if (failure_) return *failure_;
        items_[encode_store_key(key)] = {key, secret};
        return Ok{};
    }
    Status erase(const StoreKey& key) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++calls_;
        if (failure_) return *failure_;
        items_.erase(encode_store_key(key));
        return Ok{};
    }
    Expected<std::vector<Item>> find(const StoreKey& filter) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++calls_;
        if (failure_) return *failure_;
        std::vector<Item> out;
        for (const auto& [name, item] : items_)
            if (key_matches(item.first, filter)) out.push_back(item);
        return out;
    }

    // Every later call fails with `error` (nullopt: works again).
    void fail_with(std::optional<Error> error) {
        std::lock_guard<std::mutex> lock(mutex_);
        failure_ = std::move(error);
    }
    size_t calls() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return calls_;
    }
    // The items of one kind ("token", "client", ...).
    std::vector<std::string> secrets(const std::string& kind) const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> out;
        for (const auto& [name, item] : items_)
            if (key_matches(item.first, {{"kind", kind}})) out.push_back(item.second);
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, Item> items_;
    std::optional<Error> failure_;
    size_t calls_ = 0;
};

// Locks with flock(2)'s meaning: each open() is an open file description; a hold belongs
// to the description, and inherit() gives another holder of the same one (a child that
// inherited the descriptor), so the hold lasts until every holder released it.
class MemoryLocks : public LockService {
    struct Description;
    struct Table {
        std::mutex mutex;
        std::condition_variable changed;
        std::map<std::string, Description*> exclusive;
        std::map<std::string, std::set<Description*>> shared;
        std::map<std::string, int> changes;
        int next_id = 1;
    };
    struct Description {
        std::shared_ptr<Table> table;
        std::string name;
        int id = 0;
        ~Description() {
            std::lock_guard<std::mutex> lock(table->mutex);
            auto it = table->exclusive.find(name);
            if (it != table->exclusive.end() && it->second == this) table->exclusive.erase(it);
            table->shared[name].erase(this);
            table->changed.notify_all();
        }
        bool take(bool exclusive) {  // with table->mutex held
            auto holder = table->exclusive.find(name);
            bool other_exclusive = holder != table->exclusive.end() && holder->second != this;
            if (other_exclusive) return false;
            auto& readers = table->shared[name];
            if (exclusive) {
                for (auto* r : readers)
                    if (r != this) return false;
                readers.erase(this);
                table->exclusive[name] = this;
            } else {
                if (holder != table->exclusive.end()) table->exclusive.erase(holder);
                readers.insert(this);
            }
            return true;
        }
    };
    class Lock : public ProcessLock {
    public:
        explicit Lock(std::shared_ptr<Description> d) : d_(std::move(d)) {}
        bool try_lock() override {
            if (!d_) return false;
            std::lock_guard<std::mutex> lock(d_->table->mutex);
            return d_->take(true);
        }
        Status lock(bool exclusive, std::chrono::milliseconds timeout,
                    const std::atomic<bool>* cancelled) override {
            if (!d_) return make_error(ErrorKind::Invalid, "the lock is not open");
            auto deadline = std::chrono::steady_clock::now() + timeout;
            std::unique_lock<std::mutex> lock(d_->table->mutex);
            for (;;) {
                if (d_->take(exclusive)) return Ok{};
                if (cancelled && *cancelled)
                    return make_error(ErrorKind::Cancelled, "mcp-auth is shutting down.");
                if (std::chrono::steady_clock::now() >= deadline)
                    return make_error(ErrorKind::Timeout,
                                      "another mcp-auth process held the lock for too long");
                d_->table->changed.wait_for(lock, std::chrono::milliseconds(5));
            }
        }
        void release() override { d_.reset(); }
        int handle() const override { return d_ ? d_->id : -1; }
        std::shared_ptr<Description> description() const { return d_; }

    private:
        std::shared_ptr<Description> d_;
    };

public:
    Expected<std::unique_ptr<ProcessLock>> open(const std::string& server,
                                                const std::string& purpose) override {
        auto d = std::make_shared<Description>();
        d->table = table_;
        d->name = server + " " + purpose;
        {
            std::lock_guard<std::mutex> lock(table_->mutex);
            d->id = table_->next_id++;
        }
        return std::unique_ptr<ProcessLock>(std::make_unique<Lock>(std::move(d)));
    }
    std::string change_stamp(const std::string& server) override {
        std::lock_guard<std::mutex> lock(table_->mutex);
        return std::to_string(table_->changes[server]);
    }
    void note_change(const std::string& server) override {
        std::lock_guard<std::mutex> lock(table_->mutex);
        ++table_->changes[server];
    }
    // Another holder of `lock`'s description (what a login agent inherits).
    std::unique_ptr<ProcessLock> inherit(const ProcessLock& lock) {
        return std::make_unique<Lock>(static_cast<const Lock&>(lock).description());
    }

private:
    std::shared_ptr<Table> table_ = std::make_shared<Table>();
};

// Wall-clock seconds and a monotonic clock that only the test (and sleep()) moves.
class FakeClock : public Clock {
public:
    long long now() override { return now_; }
    std::chrono::steady_clock::time_point steady() override {
        return std::chrono::steady_clock::time_point(std::chrono::milliseconds(steady_ms_.load()));
    }
    void sleep(std::chrono::milliseconds delay, const std::atomic<bool>&) override {
        steady_ms_ += delay.count();
        slept_ms_ += delay.count();
    }
    void advance(std::chrono::seconds s) {
        now_ += s.count();
        steady_ms_ += std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
    }
    long long slept_ms() const { return slept_ms_; }

private:
    std::atomic<long long> now_{1'800'000'000};
    std::atomic<long long> steady_ms_{1'000'000};
    std::atomic<long long> slept_ms_{0};
};

class FakeBrowser : public Browser {
public:
    bool available() override { return available_; }
    bool open(const std::string& url) override {
        std::lock_guard<std::mutex> lock(mutex_);
        opened_.push_back(url);
        return true;
    }
    void set_available(bool available) { available_ = available; }
    size_t opened() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return opened_.size();
    }

private:
    std::atomic<bool> available_{true};
    mutable std::mutex mutex_;
    std::vector<std::string> opened_;
};

// The loopback listener, with `user` playing the person at the browser and the
// authorization server's redirect: given the authorization URL, the callback query it
// produces (nullopt: the person never finishes, and the wait times out).
class FakeCallbacks : public CallbackServer {
public:
    using User = std::function<std::optional<QueryParams>(const std::string& authorization_url)>;
    explicit FakeCallbacks(User user = {}) : user_(std::move(user)) {}
    void set_user(User user) {
        std::lock_guard<std::mutex> lock(mutex_);
        user_ = std::move(user);
    }
    // Every listen() gets a new port, as the OS would choose one.
    Expected<std::unique_ptr<CallbackSession>> listen(int port) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++listens_;
        return std::unique_ptr<CallbackSession>(
            std::make_unique<Session>(port ? port : next_port_++, user_));
    }
    size_t listens() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return listens_;
    }

private:
    class Session : public CallbackSession {
    public:
        Session(int port, User user) : port_(port), user_(std::move(user)) {}
        int port() const override { return port_; }
        std::string redirect_uri() const override {
            return "http://127.0.0.1:" + std::to_string(port_) + "/callback";
        }
        Expected<std::string> start_url(const std::string& authorization_url) override {
            authorization_url_ = authorization_url;
            return "http://127.0.0.1:" + std::to_string(port_) + "/start?n=test";
        }
        Expected<QueryParams> wait(std::chrono::milliseconds, Judge judge) override {
            std::optional<QueryParams> query;
            if (user_ && !cancelled_) query = user_(authorization_url_);
            if (!query || cancelled_)
                return make_error(ErrorKind::Timeout, "no login arrived (fake)");
            auto verdict = judge(*query);
            if (!verdict.final) return make_error(ErrorKind::Timeout, "no final callback (fake)");
            return *query;
        }
        void cancel() override { cancelled_ = true; }

    private:
        int port_;
        User user_;
        std::string authorization_url_;
        std::atomic<bool> cancelled_{false};
    };

    mutable std::mutex mutex_;
    User user_;
    int next_port_ = 50001;
    size_t listens_ = 0;
};

class FakeAgent : public LoginAgentLauncher {
public:
    using Run = std::function<Status(const ProcessLock& lock, const std::string& challenge,
                                     const std::string& scope)>;
    explicit FakeAgent(Run run) : run_(std::move(run)) {}
    Status start(const ProcessLock& lock, const std::string& challenge,
                 const std::string& scope) override {
        ++starts_;
        return run_(lock, challenge, scope);
    }
    size_t starts() const { return starts_; }

private:
    Run run_;
    std::atomic<size_t> starts_{0};
};

}  // namespace mcp_auth::testing
