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

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include "core/status.h"
#include "platform/spawn.h"

namespace mcp_auth {

namespace {

[[noreturn]] void on_terminate() {
    die_of_uncaught_exception();
}

// A pipe whose ends do not leak into children (pipe2 is not POSIX: fcntl after pipe).
bool make_pipe(int fds[2]) {
    if (pipe(fds) != 0) return false;
    for (int i = 0; i < 2; ++i) fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    return true;
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

// The stop signals are blocked in every thread and turned into a byte on a pipe by a
// thread of their own (sigwait), so that poll() on stdin and the pipe sees them.
StdinLoop::StdinLoop() {
    int fds[2];
    if (!make_pipe(fds)) return;
    stop_read_ = fds[0];
    stop_write_ = fds[1];
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set, fd = stop_write_] {
        int sig = 0;
        sigwait(&set, &sig);
        char byte = static_cast<char>(sig);
        (void)!write(fd, &byte, 1);
    }).detach();
}

// The descriptors stay open: the signal thread may still write to its end.
StdinLoop::~StdinLoop() = default;

void StdinLoop::stop() {
    char byte = 0;
    if (stop_write_ >= 0) (void)!write(stop_write_, &byte, 1);
}

StdinLoop::End StdinLoop::run(const std::function<void(std::string_view)>& on_data) {
    std::string buffer(1 << 16, '\0');
    for (;;) {
        struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {stop_read_, POLLIN, 0}};
        int ready = poll(fds, stop_read_ >= 0 ? 2 : 1, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return End::EndOfInput;
        }
        if (fds[1].revents) return End::Stopped;
        ssize_t n = read(STDIN_FILENO, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return End::EndOfInput;
        on_data(std::string_view(buffer.data(), static_cast<size_t>(n)));
    }
}

}  // namespace mcp_auth
