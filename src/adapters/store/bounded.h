#pragma once
// Runs blocking calls on one long-lived worker thread and gives up waiting after a
// deadline. For OS keychain calls that can block on a password prompt or a stuck daemon:
// the host that launched mcp-auth must never hang on them, and a relay must not pay a
// thread per call.
//
// Rules:
// - Calls run one at a time, in order, on the worker (keychains serialise them anyway).
// - A call still queued at its deadline is dropped: it never runs.
// - A call running at its deadline is abandoned (its result is ignored) and its worker
//   is retired as stuck: a fresh worker takes the queue. At most `max_stuck` retired
//   workers may still be running; past that, the stuck worker is kept and the calls
//   behind it wait (and time out) rather than start more threads. So the threads are
//   bounded by 1 + max_stuck, whatever the keychain does.
// - A retired worker ends as soon as its call returns. Workers are detached: one stuck
//   in the OS dies with the process.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "core/expected.h"

namespace mcp_auth {

class BoundedWorker {
public:
    explicit BoundedWorker(size_t max_stuck = 2) : state_(std::make_shared<State>()) {
        state_->max_stuck = max_stuck;
    }
    ~BoundedWorker() {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->closing = true;  // the worker ends once the queue is empty
        state_->wake.notify_all();
    }
    BoundedWorker(const BoundedWorker&) = delete;
    BoundedWorker& operator=(const BoundedWorker&) = delete;

    // Runs `op` (returning Expected<T>) on the worker; after `timeout` without its result,
    // returns StoreUnavailable with `on_timeout`.
    template <class T, class F>
    Expected<T> run(std::chrono::milliseconds timeout, const std::string& on_timeout, F op) {
        auto job = std::make_shared<std::packaged_task<Expected<T>()>>(std::move(op));
        auto result = job->get_future();
        auto task = std::make_shared<Task>();
        task->run = [job] { (*job)(); };
        if (!enqueue(task))
            return make_error(ErrorKind::StoreUnavailable,
                              "could not start a thread for the keychain call. " + on_timeout);
        if (result.wait_for(timeout) != std::future_status::ready && abandon(task))
            return make_error(ErrorKind::StoreUnavailable, on_timeout);
        return result.get();
    }

    // For tests: worker threads alive now (the current one and the stuck ones).
    size_t threads() const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        return state_->threads;
    }

private:
    struct Task {
        std::function<void()> run;
        bool started = false;
        bool finished = false;
        uint64_t generation = 0;  // of the worker that runs it
    };
    struct State {
        mutable std::mutex mutex;
        std::condition_variable wake;
        std::deque<std::shared_ptr<Task>> queue;
        uint64_t generation = 0;  // the current worker's; an older worker is retired
        bool worker = false;      // a current worker exists
        size_t threads = 0;
        size_t stuck = 0;  // retired workers still inside a call
        size_t max_stuck = 2;
        bool closing = false;
    };

    // Queues the task and makes sure a current worker exists. False: no thread.
    bool enqueue(const std::shared_ptr<Task>& task) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->queue.push_back(task);
        if (!state_->worker && !start_worker()) {
            state_->queue.pop_back();
            return false;
        }
        state_->wake.notify_one();
        return true;
    }

    // Called with the mutex held.
    bool start_worker() {
        try {
            std::thread(loop, state_, state_->generation).detach();
        } catch (const std::system_error&) {
            return false;
        }
        state_->worker = true;
        ++state_->threads;
        return true;
    }

    // After a deadline: true when the task's result is to be ignored (the call is
    // dropped or abandoned), false when it finished meanwhile.
    bool abandon(const std::shared_ptr<Task>& task) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        State& s = *state_;
        if (task->finished) return false;
        if (!task->started) {
            for (auto it = s.queue.begin(); it != s.queue.end(); ++it)
                if (*it == task) {
                    s.queue.erase(it);
                    break;
                }
            return true;
        }
        if (task->generation == s.generation && s.stuck < s.max_stuck) {
            // Its worker is stuck in the call: retire it, and let a fresh one take the queue.
            ++s.generation;
            ++s.stuck;
            s.worker = false;
            if (!s.queue.empty()) start_worker();  // if that fails, the next call retries
        }
        return true;
    }

    static void loop(std::shared_ptr<State> state, uint64_t generation) {
        State& s = *state;
        std::unique_lock<std::mutex> lock(s.mutex);
        for (;;) {
            s.wake.wait(
                lock, [&] { return s.closing || !s.queue.empty() || s.generation != generation; });
            if (s.generation != generation || s.queue.empty()) break;  // retired, or closing
            auto task = std::move(s.queue.front());
            s.queue.pop_front();
            task->started = true;
            task->generation = generation;
            lock.unlock();
            task->run();
            lock.lock();
            task->finished = true;
            if (s.generation != generation) {  // abandoned while it ran
                --s.stuck;
                break;
            }
        }
        if (s.generation == generation) s.worker = false;
        --s.threads;
    }

    std::shared_ptr<State> state_;  // shared with the workers, which may outlive this
};

// The process's keychain worker, shared by every keychain backend. Never destroyed: a
// stuck worker may still use it while the process exits.
inline BoundedWorker& keychain_worker() {
    static auto* worker = new BoundedWorker(2);
    return *worker;
}

// A keychain call bounded by `timeout`, on the keychain worker.
template <class T, class F>
Expected<T> run_bounded(std::chrono::milliseconds timeout, const std::string& on_timeout, F op) {
    return keychain_worker().run<T>(timeout, on_timeout, std::move(op));
}

}  // namespace mcp_auth
