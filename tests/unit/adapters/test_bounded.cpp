// The keychain worker (adapters/store/bounded.h): calls run one at a time on one
// long-lived thread; a call past its deadline is dropped or abandoned, a stuck worker is
// replaced, and the threads stay bounded however many calls get stuck.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "adapters/store/bounded.h"

using namespace mcp_auth;
using namespace std::chrono_literals;

namespace {

// A call that blocks until the test opens the gate.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    void release() {
        std::lock_guard<std::mutex> lock(mutex);
        open = true;
        cv.notify_all();
    }
    void wait() {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return open; });
    }
};

// Polls (bounded) until the worker has `n` threads: the retired ones end asynchronously.
bool threads_become(BoundedWorker& worker, size_t n) {
    for (int i = 0; i < 400; ++i) {
        if (worker.threads() == n) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

Expected<int> id_of_thread(BoundedWorker& worker, std::thread::id* where) {
    return worker.run<int>(1000ms, "late", [where]() -> Expected<int> {
        *where = std::this_thread::get_id();
        return 7;
    });
}

}  // namespace

TEST_CASE("bounded worker: calls run on one long-lived thread, not one thread per call") {
    BoundedWorker worker;
    std::thread::id first, second;
    auto a = id_of_thread(worker, &first);
    auto b = id_of_thread(worker, &second);
    REQUIRE(a);
    CHECK(*a == 7);
    REQUIRE(b);
    CHECK((first == second));
    CHECK((first != std::this_thread::get_id()));
    CHECK(worker.threads() == 1);
}

TEST_CASE("bounded worker: an error from the call is returned as it is") {
    BoundedWorker worker;
    auto r = worker.run<int>(1000ms, "late", []() -> Expected<int> {
        return make_error(ErrorKind::Invalid, "no such item");
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::Invalid);
    CHECK(r.error().message == "no such item");
}

TEST_CASE(
    "bounded worker: a stuck call gives StoreUnavailable at its deadline and a new "
    "worker takes the next call") {
    BoundedWorker worker(2);
    Gate gate;
    REQUIRE(worker.run<int>(1000ms, "late", []() -> Expected<int> { return 0; }));  // started
    auto start = std::chrono::steady_clock::now();
    auto stuck = worker.run<int>(50ms, "the keychain did not answer", [&]() -> Expected<int> {
        gate.wait();
        return 1;
    });
    auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(stuck);
    CHECK(stuck.error().kind == ErrorKind::StoreUnavailable);
    CHECK(stuck.error().message == "the keychain did not answer");
    CHECK(waited >= 50ms);
    CHECK(waited < 500ms);

    auto next = worker.run<int>(1000ms, "late", []() -> Expected<int> { return 2; });
    REQUIRE(next);
    CHECK(*next == 2);
    CHECK(worker.threads() == 2);  // the fresh worker and the stuck one

    gate.release();  // the stuck call returns: its worker ends, its result is ignored
    CHECK(threads_become(worker, 1));
}

TEST_CASE(
    "bounded worker: a call queued behind a stuck one is dropped at its deadline, "
    "never run") {
    BoundedWorker worker(0);  // no replacement: the queue waits for the stuck worker
    Gate gate;
    std::atomic<bool> ran{false};
    std::thread blocker([&] {
        (void)worker.run<int>(200ms, "late", [&]() -> Expected<int> {
            gate.wait();
            return 1;
        });
    });
    while (worker.threads() == 0) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(5ms);  // the blocker's call has started
    auto queued = worker.run<int>(20ms, "queued too long", [&]() -> Expected<int> {
        ran = true;
        return 2;
    });
    REQUIRE_FALSE(queued);
    CHECK(queued.error().message == "queued too long");
    gate.release();
    blocker.join();
    auto after = worker.run<int>(1000ms, "late", []() -> Expected<int> { return 3; });
    REQUIRE(after);
    CHECK(*after == 3);
    CHECK_FALSE(ran);
    CHECK(worker.threads() == 1);
}

TEST_CASE("bounded worker: however many calls get stuck, at most 1 + max_stuck threads exist") {
    BoundedWorker worker(2);
    Gate gate;
    std::atomic<int> started{0};
    size_t most = 0;
    for (int i = 0; i < 6; ++i) {
        auto r = worker.run<int>(30ms, "stuck", [&]() -> Expected<int> {
            ++started;
            gate.wait();
            return 1;
        });
        CHECK_FALSE(r);
        most = std::max(most, worker.threads());
    }
    CHECK(most <= 3);
    CHECK(started >= 2);  // a fresh worker took a call after the first one got stuck
    CHECK(started <= 3);  // the one kept past the bound took none of the later calls
    gate.release();
    CHECK(threads_become(worker, 1));
    auto r = worker.run<int>(1000ms, "late", []() -> Expected<int> { return 4; });
    REQUIRE(r);
    CHECK(*r == 4);
}

TEST_CASE("bounded worker: run_bounded uses the one process-wide keychain worker") {
    std::thread::id a, b;
    REQUIRE(run_bounded<int>(1000ms, "late", [&]() -> Expected<int> {
        a = std::this_thread::get_id();
        return 0;
    }));
    REQUIRE(run_bounded<int>(1000ms, "late", [&]() -> Expected<int> {
        b = std::this_thread::get_id();
        return 0;
    }));
    CHECK((a == b));
    CHECK(keychain_worker().threads() == 1);
}
