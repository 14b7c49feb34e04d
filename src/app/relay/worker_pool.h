#pragma once
// The relay's workers: each owns one keep-alive connection to the server and runs one job
// at a time, so requests go out in parallel up to --max-connections while a quiet relay
// holds one thread and one socket.
//
// Rules: a worker (and its connection) is started when a job finds no idle worker and no
// worker on its way; the thread is created outside the lock, so a burst of requests is
// not held up behind thread creation and the new workers connect in parallel. A job's
// exceptions never end a worker: they go to `recover`. stop() drops the queue, cancels
// every connection (a running send() returns) and join() waits for the threads.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "app/relay/job.h"
#include "ports/http.h"
#include "ports/log.h"

namespace mcp_auth::relay {

class WorkerPool {
public:
    using Connect = std::function<std::shared_ptr<HttpConnection>()>;
    using Run = std::function<void(HttpConnection&, Job&)>;
    using Recover = std::function<void(Job&, std::string_view what)>;

    WorkerPool(size_t max_workers, Connect connect, Run run, Recover recover, Log& log);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Queues `job` (dropped once stopping). Throws std::system_error when no worker runs
    // and none can be started (out of threads).
    void submit(std::shared_ptr<Job> job);
    // Jobs waiting for a worker.
    size_t queued() const;
    // Waits up to `grace` until no job is queued or running.
    void drain(std::chrono::milliseconds grace);
    // Stops taking jobs, wakes the idle workers, and returns every open connection for the
    // caller to cancel (after it has ended what else a worker may wait on).
    std::vector<std::shared_ptr<HttpConnection>> stop();
    // Waits for every worker to end. After stop().
    void join();
    // How many workers were started (for tests and diagnostics).
    size_t workers() const;

private:
    void worker_loop();

    const size_t max_workers_;
    Connect connect_;
    Run run_;
    Recover recover_;
    Log& log_;

    mutable std::mutex mutex_;  // guards everything below
    std::condition_variable work_cv_;
    std::condition_variable idle_cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    std::vector<std::thread> threads_;
    std::vector<std::shared_ptr<HttpConnection>> connections_;  // for cancel() at stop
    size_t workers_ = 0;   // started (or being started), at most max_workers_
    size_t starting_ = 0;  // of those, not yet waiting for work (being created, connecting)
    size_t spawning_ = 0;  // threads being created, not yet in threads_
    size_t idle_ = 0;
    size_t in_flight_ = 0;  // queued or running jobs
    bool stopping_ = false;
};

}  // namespace mcp_auth::relay
