#include "app/relay/worker_pool.h"

#include <algorithm>
#include <system_error>

namespace mcp_auth::relay {

WorkerPool::WorkerPool(size_t max_workers, Connect connect, Run run, Recover recover, Log& log)
    : max_workers_(max_workers),
      connect_(std::move(connect)),
      run_(std::move(run)),
      recover_(std::move(recover)),
      log_(log) {}

WorkerPool::~WorkerPool() {
    for (auto& conn : stop()) conn->cancel();
    join();
}

void WorkerPool::submit(std::shared_ptr<Job> job) {
    const Job* mine = job.get();
    bool spawn = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        queue_.push_back(std::move(job));
        ++in_flight_;
        // Every job no idle worker (or worker on its way) will take gets a worker of its own.
        if (queue_.size() > idle_ + starting_ && workers_ < max_workers_) {
            ++workers_;
            ++starting_;
            ++spawning_;
            spawn = true;
        }
    }
    // Woken after the unlock, the worker does not block again at once on the mutex.
    work_cv_.notify_one();
    if (!spawn) return;
    // Created outside the lock: the workers already running take jobs meanwhile, and a
    // burst's later lines are not held up behind the thread creation of the earlier ones.
    std::thread thread;
    try {
        thread = std::thread([this] { worker_loop(); });
    } catch (const std::system_error& e) {
        // Out of threads: the connections already open take the job in turn.
        std::unique_lock<std::mutex> lock(mutex_);
        --workers_;
        --starting_;
        --spawning_;
        idle_cv_.notify_all();
        if (workers_ == 0) {
            auto queued = std::find_if(queue_.begin(), queue_.end(),
                                       [&](const auto& j) { return j.get() == mine; });
            if (queued != queue_.end()) {
                queue_.erase(queued);
                if (--in_flight_ == 0) idle_cv_.notify_all();
            }
            throw;
        }
        lock.unlock();
        log_.error("could not open another connection (" + std::string(e.what()) +
                   "); the request waits for a free one");
        return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.push_back(std::move(thread));
    if (--spawning_ == 0) idle_cv_.notify_all();
}

size_t WorkerPool::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
}

size_t WorkerPool::workers() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return workers_;
}

void WorkerPool::drain(std::chrono::milliseconds grace) {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_cv_.wait_for(lock, grace, [&] { return in_flight_ == 0; });
}

std::vector<std::shared_ptr<HttpConnection>> WorkerPool::stop() {
    std::vector<std::shared_ptr<HttpConnection>> connections;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        connections = connections_;
    }
    work_cv_.notify_all();
    return connections;
}

void WorkerPool::join() {
    std::vector<std::thread> threads;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        idle_cv_.wait(lock, [&] { return spawning_ == 0; });  // every thread is in threads_
        threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
}

void WorkerPool::worker_loop() {
    auto conn = connect_();
    std::unique_lock<std::mutex> lock(mutex_);
    connections_.push_back(conn);
    --starting_;
    for (;;) {
        ++idle_;
        work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        --idle_;
        if (stopping_) break;
        auto job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        try {
            run_(*conn, *job);
        } catch (const std::exception& e) {
            recover_(*job, e.what());
        } catch (...) {
            recover_(*job, "unknown exception");
        }
        lock.lock();
        if (--in_flight_ == 0) idle_cv_.notify_all();
    }
    connections_.erase(std::find(connections_.begin(), connections_.end(), conn));
}

}  // namespace mcp_auth::relay
