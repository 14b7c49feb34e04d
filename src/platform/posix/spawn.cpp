// platform/spawn.h on POSIX: posix_spawnp with file actions and attributes (no fork in a
// threaded process). Linux and macOS differ in how other descriptors are kept out of the
// child and in how the executable's path is learnt; both are marked below.
#include "platform/spawn.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__APPLE__)
#include <crt_externs.h>
#include <mach-o/dyld.h>
#endif

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>

#if !defined(__APPLE__)
extern char** environ;
#endif

namespace mcp_auth {
namespace {

constexpr int kChildHandle = 3;  // where a passed descriptor lands in the child
const char* const kAuthSecrets[] = {"MCP_AUTH_CLIENT_SECRET", "MCP_AUTH_IDP_ID_TOKEN"};

std::mutex g_mutex;
std::vector<std::string> g_secret_variables;  // marked by main (the --header variables)
std::string g_self_path;                      // remembered at start-up

char** process_environment() {
#if defined(__APPLE__)
    return *_NSGetEnviron();  // `environ` is not linkable from a library on macOS
#else
    return environ;
#endif
}

bool named(const char* entry, const std::string& name) {
    return std::strncmp(entry, name.c_str(), name.size()) == 0 && entry[name.size()] == '=';
}

// Our environment without the secret variables.
std::vector<char*> child_environment(bool keep_auth_secrets) {
    std::lock_guard<std::mutex> lock(g_mutex);
    std::vector<char*> env;
    for (char** e = process_environment(); e && *e; ++e) {
        bool secret = false;
        if (!keep_auth_secrets)
            for (const char* name : kAuthSecrets) secret = secret || named(*e, name);
        for (const auto& name : g_secret_variables) secret = secret || named(*e, name);
        if (!secret) env.push_back(*e);
    }
    env.push_back(nullptr);
    return env;
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           access(path.c_str(), X_OK) == 0;
}

// The path the kernel was given to start us ("" when the platform does not say): unlike
// argv[0], which the parent chooses freely, it is what was found on PATH.
std::string started_path() {
#if defined(__linux__)
    auto execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
    return execfn ? execfn : "";
#elif defined(__APPLE__)
    uint32_t size = 0;
    _NSGetExecutablePath(nullptr, &size);
    std::string path(size, '\0');
    if (size == 0 || _NSGetExecutablePath(path.data(), &size) != 0) return "";
    path.resize(std::strlen(path.c_str()));
    return path;
#else
    return "";
#endif
}

// `path` made absolute against the working directory; "" when it is not an executable.
std::string absolute_executable(const std::string& path) {
    if (path.empty() || path.find('/') == std::string::npos) return "";
    if (path[0] == '/') return is_executable_file(path) ? path : "";
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return "";
    std::string full = std::string(cwd) + "/" + path;
    return is_executable_file(full) ? full : "";
}

// The running image, where the platform names it apart from the start path.
std::string running_image() {
#if defined(__linux__)
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return "";
    std::string image(path, static_cast<size_t>(n));
    return is_executable_file(image) ? image : "";  // "... (deleted)" after an upgrade is not
#else
    return "";
#endif
}

}  // namespace

int handle_in_child(int pass_handle) {
    return pass_handle < 0 ? -1 : kChildHandle;
}

void mark_secret_variable(const std::string& name) {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_secret_variables.push_back(name);
}

bool spawn_detached(const std::vector<std::string>& argv, const SpawnOptions& options, Log& log) {
    if (argv.empty()) return false;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env = child_environment(options.keep_auth_secrets);
    // A descriptor already at 0..3 would be overwritten by the actions below before it is
    // moved (or, at 3, kept close-on-exec by a dup2 onto itself): move it out of the way.
    int pass = options.pass_handle;
    int moved = -1;
    if (pass >= 0 && pass <= kChildHandle) {
        moved = fcntl(pass, F_DUPFD_CLOEXEC, kChildHandle + 1);
        if (moved < 0) {
            log.error("could not start \"" + argv[0] + "\": " + std::strerror(errno));
            return false;
        }
        pass = moved;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    if (pass >= 0) posix_spawn_file_actions_adddup2(&actions, pass, kChildHandle);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    // No other descriptor leaks into the child (sockets, the callback listener).
#if defined(__APPLE__)
    // Every descriptor not named in the actions is closed; stderr is named here.
    posix_spawn_file_actions_addinherit_np(&actions, STDERR_FILENO);
    flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&actions,
                                             pass >= 0 ? kChildHandle + 1 : STDERR_FILENO + 1);
#endif
    // Elsewhere: every descriptor mcp-auth opens is close-on-exec.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // The calling thread may block signals (the relay's do, for sigwait) and SIGPIPE is
    // ignored: both would be inherited through exec and make the child unkillable by
    // SIGTERM. Start it with nothing blocked and every signal at its default.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    if (options.new_session) {
#if defined(POSIX_SPAWN_SETSID)
        flags |= POSIX_SPAWN_SETSID;
#else
        // A libc without it (POSIX.1-2024 added it): a process group of its own still
        // survives the host killing ours.
        posix_spawnattr_setpgroup(&attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
#endif
    }
    posix_spawnattr_setflags(&attr, flags);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), env.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (moved >= 0) close(moved);
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

void remember_self_executable(const char* argv0) {
    std::string path = absolute_executable(started_path());
    if (path.empty() && argv0) path = absolute_executable(argv0);
    std::lock_guard<std::mutex> lock(g_mutex);
    g_self_path = std::move(path);
}

std::string self_executable() {
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (is_executable_file(g_self_path)) return g_self_path;
    }
    std::string image = running_image();
    return image.empty() ? "mcp-auth" : image;
}

}  // namespace mcp_auth
