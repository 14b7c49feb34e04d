#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

#include "platform/spawn.h"

extern char** environ;

namespace mcp_auth {
namespace {

const char* const kAuthSecrets[] = {"MCP_AUTH_CLIENT_SECRET", "MCP_AUTH_IDP_ID_TOKEN"};

std::mutex g_mutex;
std::vector<std::string> g_secret_variables;  // marked by main (the --header variables)
std::string g_self_path;                      // remembered at start-up

bool named(const char* entry, const std::string& name) {
    return std::strncmp(entry, name.c_str(), name.size()) == 0 && entry[name.size()] == '=';
}

// Our environment without the secret variables.
std::vector<char*> child_environment(bool keep_auth_secrets) {
    std::lock_guard<std::mutex> lock(g_mutex);
    std::vector<char*> env;
    for (char** e = environ; e && *e; ++e) {
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

// argv[0] as an absolute path: a name with a '/' against the working directory, a bare
// name against PATH (as the shell found it). "" when it cannot be found.
std::string resolve_argv0(const char* argv0) {
    if (!argv0 || !*argv0) return "";
    std::string name = argv0;
    if (name.find('/') != std::string::npos) {
        if (name[0] == '/') return is_executable_file(name) ? name : "";
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return "";
        std::string path = std::string(cwd) + "/" + name;
        return is_executable_file(path) ? path : "";
    }
    const char* path_env = std::getenv("PATH");
    std::stringstream dirs(path_env ? path_env : "");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty() || dir[0] != '/') continue;  // relative PATH entries: not trusted
        std::string path = dir + "/" + name;
        if (is_executable_file(path)) return path;
    }
    return "";
}

}  // namespace

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
    // The calling thread may block signals (the relay's do, for sigwait) and SIGPIPE is
    // ignored: both would be inherited through exec and make the child unkillable by
    // SIGTERM. Start it with nothing blocked and every signal at its default.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (options.new_session) flags |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&attr, flags);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), env.data());
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

void remember_self_executable(const char* argv0) {
    std::string path = resolve_argv0(argv0);
    std::lock_guard<std::mutex> lock(g_mutex);
    g_self_path = std::move(path);
}

std::string self_executable() {
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (is_executable_file(g_self_path)) return g_self_path;
    }
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        std::string image(path, static_cast<size_t>(n));
        if (is_executable_file(image)) return image;  // "... (deleted)" after an upgrade is not
    }
    return "mcp-auth";
}

}  // namespace mcp_auth
