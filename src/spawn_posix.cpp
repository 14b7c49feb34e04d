#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "mcp_auth/spawn.h"

extern char** environ;

namespace mcp_auth {

bool spawn_detached(const std::vector<std::string>& argv, const SpawnOptions& options, Log& log) {
    if (argv.empty()) return false;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    int first_closed = STDERR_FILENO + 1;
    if (options.pass_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, options.pass_fd, 3);
        first_closed = 4;
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // No other descriptor leaks into the child (sockets, the callback listener).
    posix_spawn_file_actions_addclosefrom_np(&actions, first_closed);
#else
    (void)first_closed;  // elsewhere every descriptor mcp-auth opens is close-on-exec
#endif
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    if (options.new_session) posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        log.error("could not start \"" + argv[0] + "\": " + std::strerror(rc));
        return false;
    }
    std::thread([pid] {
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }).detach();
    return true;
}

std::string self_executable(const char* argv0) {
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) return std::string(path, static_cast<size_t>(n));
    return argv0 ? argv0 : "mcp-auth";
}

}  // namespace mcp_auth
