// The one place that wires real adapters (stdin/stdout, signals, HTTP) to the use cases.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "mcp_auth/cli.h"
#include "mcp_auth/framing.h"
#include "mcp_auth/headers.h"
#include "mcp_auth/output.h"
#include "mcp_auth/relay.h"
#include "mcp_auth/url.h"

namespace mcp_auth {
namespace {

std::optional<std::string> getenv_lookup(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
}

std::chrono::milliseconds seconds(double s) {
    return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

// The stdin loop stops when a byte arrives on this pipe: a signal (SIGTERM, SIGINT,
// SIGHUP, turned into a byte by a thread of its own, since the signals are blocked in
// every other thread) or a stdout whose reader has gone away.
struct StopPipe {
    int read_fd = -1;
    int write_fd = -1;
};

StopPipe start_stop_pipe() {
    int fds[2];
    if (pipe(fds) != 0) return {};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set, fd = fds[1]] {
        int sig = 0;
        sigwait(&set, &sig);
        char byte = static_cast<char>(sig);
        (void)!write(fd, &byte, 1);
    }).detach();
    return {fds[0], fds[1]};
}

int run_proxy(const ProxyArgs& args) {
    LineWriter err(STDERR_FILENO);
    Log log(err, args.verbose);
    std::string error;
    auto url = parse_url(args.url, &error);
    if (!url) {
        log.error("invalid server URL \"" + args.url + "\": " + error);
        return kExitUsage;
    }
    if (auto refusal = check_url_policy(*url, args.allow_http); !refusal.empty()) {
        log.error(refusal);
        return kExitUsage;
    }
    RelayOptions options;
    options.server = *url;
    for (const auto& spec : args.headers) {
        auto header = parse_header(spec, getenv_lookup, &error);
        if (!header) {
            log.error("--header: " + error);
            return kExitUsage;
        }
        options.static_headers.push_back(std::move(*header));
    }
    options.http.read_timeout = seconds(args.timeout_s);
    options.http.connect_timeout = seconds(args.connect_timeout_s);
    options.max_message_bytes = args.max_message_bytes;
    options.max_connections = args.max_connections;

    signal(SIGPIPE, SIG_IGN);
    StopPipe stop = start_stop_pipe();
    LineWriter out(STDOUT_FILENO, [&] {
        log.error("stdout was closed by the client; exiting");
        char byte = 0;
        (void)!write(stop.write_fd, &byte, 1);
    });
    Relay relay(options, out, log);
    LineFramer framer(
        args.max_message_bytes,
        {[&](std::string&& line) { relay.on_line(std::move(line)); },
         [&](std::string_view prefix, size_t total) { relay.on_oversized(prefix, total); }});
    // The query string may hold a credential: the log shows the path only.
    log.debug("relaying stdin to " + url->origin() + url->target.substr(0, url->target.find('?')));

    bool stopped = false;
    std::string buffer(1 << 16, '\0');
    for (;;) {
        struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {stop.read_fd, POLLIN, 0}};
        int ready = poll(fds, stop.read_fd >= 0 ? 2 : 1, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents) {
            stopped = true;
            break;
        }
        ssize_t n = read(STDIN_FILENO, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        framer.feed(std::string_view(buffer.data(), static_cast<size_t>(n)));
    }
    if (!stopped) framer.finish();
    // On EOF, replies still in flight get a moment; on a signal, the host wants us gone.
    relay.shutdown(stopped ? std::chrono::milliseconds(0) : std::chrono::milliseconds(500));
    log.debug(stopped ? "stopped by a signal or a closed stdout" : "stdin closed; exiting");
    return kExitOk;
}

}  // namespace
}  // namespace mcp_auth

int main(int argc, char** argv) {
    using namespace mcp_auth;
    Invocation inv = parse_command_line(argc, argv);
    switch (inv.command) {
        case Invocation::Command::Proxy:
            return run_proxy(inv.proxy);
        case Invocation::Command::Exit:
            break;
    }
    return inv.exit_code;
}
