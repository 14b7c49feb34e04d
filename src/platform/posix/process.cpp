#include "platform/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "platform/spawn.h"

namespace mcp_auth {

namespace {

[[noreturn]] void on_terminate() {
    die_of_uncaught_exception();
}

}  // namespace

void prepare_process(const char* argv0) {
    // A process that holds tokens leaves no core file, and (Linux) another process of the
    // same user can neither ptrace it nor read its memory or environment through /proc.
    // Children are unaffected: exec makes them dumpable again, and only the soft core
    // limit is lowered.
#if defined(__linux__)
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
    struct rlimit core {};
    if (getrlimit(RLIMIT_CORE, &core) == 0) {
        core.rlim_cur = 0;
        setrlimit(RLIMIT_CORE, &core);
    }
    std::set_terminate(on_terminate);
#if defined(__GLIBC__)
    // Large messages (MBs) get their own mappings, returned to the system when freed:
    // otherwise glibc raises its threshold after the first big free and keeps every later
    // big buffer in the heap, tripling the peak resident size (measured in tests/bench).
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
    remember_self_executable(argv0);
    signal(SIGPIPE, SIG_IGN);  // a reader that went away is an error value, not a death
}

void die_of_uncaught_exception() {
    std::string what = "unknown exception";
    if (auto current = std::current_exception()) {
        try {
            std::rethrow_exception(current);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
    }
    std::string line = "mcp-auth: internal error (" + terminal_safe(what) +
                       "); exiting. Please report this bug.\n";
    (void)!write(STDERR_FILENO, line.data(), line.size());
    std::abort();
}

// No poll before every read (a system call per message): the loop blocks in read(), and a
// stop interrupts it. The stop signals are blocked in every thread and taken by a thread
// of their own (sigwait), which then sends kInterrupt, whose handler does nothing and is
// installed without SA_RESTART, to the reading thread while it is in read(): the read
// fails with EINTR and the loop sees the stop. A signal that lands just before the read
// starts is lost, so it is sent again every few milliseconds until the loop has returned.
// stop() wakes that thread with a stop signal of its own.
namespace {

constexpr int kInterrupt = SIGUSR1;

void on_interrupt(int) {}

}  // namespace

struct StdinLoop::State {
    std::atomic<bool> stop{false};
    std::atomic<bool> running{false};
    std::atomic<bool> in_read{false};  // in a read() or the hook's poll(): interruptible
    pthread_t reader{};
    pthread_t stopper{};
    bool have_stopper = false;
    // The reading thread's alone:
    const std::function<void(std::string_view)>* on_data = nullptr;  // while run() runs
    bool ended = false;  // end of input seen (by run() or the hook)
    std::chrono::steady_clock::time_point ended_at{};
};

// poll() on the socket and stdin; what stdin brings goes to on_data at once.
class StdinLoop::Hook final : public WaitHook {
public:
    Hook(State& st, std::chrono::milliseconds grace) : st_(st), grace_(grace) {}
    Wake wait(long long socket, std::chrono::milliseconds timeout) override {
        using Clock = std::chrono::steady_clock;
        auto deadline = Clock::now() + timeout;
        for (;;) {
            auto now = Clock::now();
            if (st_.stop) return Wake::Stop;
            if (st_.ended && now >= st_.ended_at + grace_) return Wake::Stop;
            auto until = st_.ended ? std::min(deadline, st_.ended_at + grace_) : deadline;
            auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
            pollfd fds[2];
            nfds_t n = 0;
            if (socket >= 0) fds[n++] = {static_cast<int>(socket), POLLIN, 0};
            bool watch_input = st_.on_data && !st_.ended;
            if (watch_input) fds[n++] = {STDIN_FILENO, POLLIN, 0};
            st_.in_read = true;
            int rc = st_.stop ? -1 : ::poll(fds, n, static_cast<int>(std::max<long long>(ms, 0)));
            int err = errno;
            st_.in_read = false;
            if (st_.stop) return Wake::Stop;
            if (rc < 0 && err == EINTR) continue;
            if (rc < 0) return Wake::Readable;  // the read that follows reports the error
            if (rc == 0) {
                if (Clock::now() >= deadline) return Wake::TimedOut;
                continue;
            }
            if (socket >= 0 && fds[0].revents) return Wake::Readable;
            if (!watch_input) continue;
            std::string chunk(1 << 16, '\0');  // run()'s buffer may still be in use
            ssize_t k = ::read(STDIN_FILENO, chunk.data(), chunk.size());
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                st_.ended = true;
                st_.ended_at = Clock::now();
                continue;
            }
            (*st_.on_data)(std::string_view(chunk.data(), static_cast<size_t>(k)));
        }
    }

private:
    State& st_;
    std::chrono::milliseconds grace_;
};

StdinLoop::StdinLoop() : state_(std::make_shared<State>()) {
    struct sigaction act {};
    act.sa_handler = on_interrupt;
    sigemptyset(&act.sa_mask);
    act.sa_flags = 0;  // no SA_RESTART: read() returns EINTR
    sigaction(kInterrupt, &act, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // The thread lives as long as the process and holds the state: a stop after the loop
    // object is gone finds it still there.
    std::thread stopper([set, state = state_] {
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) continue;
            state->stop = true;
            while (state->running) {
                if (state->in_read) pthread_kill(state->reader, kInterrupt);
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        }
    });
    state_->stopper = stopper.native_handle();
    state_->have_stopper = true;
    stopper.detach();
}

StdinLoop::~StdinLoop() = default;

WaitHook* StdinLoop::wait_hook(std::chrono::milliseconds grace_after_end) {
    if (!hook_) hook_ = std::make_unique<Hook>(*state_, grace_after_end);
    return hook_.get();
}

void StdinLoop::stop() {
    state_->stop = true;
    if (state_->have_stopper) pthread_kill(state_->stopper, SIGTERM);
}

StdinLoop::End StdinLoop::run(const std::function<void(std::string_view)>& on_data) {
    State& st = *state_;
    st.reader = pthread_self();
    st.on_data = &on_data;
    st.running = true;
    struct Finished {
        State& st;
        ~Finished() {
            st.on_data = nullptr;
            st.running = false;
        }
    } finished{st};
    std::string buffer(1 << 16, '\0');
    for (;;) {
        if (st.stop) return End::Stopped;
        st.in_read = true;
        ssize_t n = st.stop ? -1 : read(STDIN_FILENO, buffer.data(), buffer.size());
        int err = errno;
        st.in_read = false;
        if (st.stop) return End::Stopped;
        if (n < 0 && err == EINTR) continue;
        if (n <= 0) return End::EndOfInput;
        on_data(std::string_view(buffer.data(), static_cast<size_t>(n)));
        if (st.ended) return End::EndOfInput;  // seen by the hook meanwhile
    }
}

long current_process_id() {
    return static_cast<long>(::getpid());
}

}  // namespace mcp_auth
