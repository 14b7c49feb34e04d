#include "mcp_auth/browser.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace mcp_auth {
namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

// A browser variable holds commands separated by ':'; each is split on blanks (no
// shell), and "%s" stands for the URL (appended when absent).
std::vector<std::vector<std::string>> commands_from(const std::string& value,
                                                    const std::string& url) {
    std::vector<std::vector<std::string>> out;
    std::stringstream list(value);
    std::string command;
    while (std::getline(list, command, ':')) {
        std::stringstream words(command);
        std::vector<std::string> argv;
        std::string word;
        bool placed = false;
        while (words >> word) {
            size_t at = word.find("%s");
            if (at != std::string::npos) {
                word.replace(at, 2, url);
                placed = true;
            }
            argv.push_back(word);
        }
        if (argv.empty()) continue;
        if (!placed) argv.push_back(url);
        out.push_back(std::move(argv));
    }
    return out;
}

bool spawn_detached(const std::vector<std::string>& argv, Log& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // The browser must not inherit our sockets (the callback listener among them).
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
#endif
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        log.error("could not start the browser \"" + argv[0] + "\": " + std::strerror(rc));
        return false;
    }
    // Reap it whenever it ends; nobody waits for the browser.
    std::thread([pid] {
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }).detach();
    return true;
}

}  // namespace

bool browser_available() {
    if (!env("MCP_AUTH_BROWSER").empty() || !env("BROWSER").empty()) return true;
#if defined(__APPLE__)
    return true;
#else
    return !env("DISPLAY").empty() || !env("WAYLAND_DISPLAY").empty();
#endif
}

bool open_browser(const std::string& url, Log& log) {
    std::vector<std::vector<std::string>> candidates;
    if (auto mine = env("MCP_AUTH_BROWSER"); !mine.empty()) {
        candidates = commands_from(mine, url);
    } else if (auto theirs = env("BROWSER"); !theirs.empty()) {
        candidates = commands_from(theirs, url);
    } else {
#if defined(__APPLE__)
        candidates = {{"open", url}};
#else
        candidates = {{"xdg-open", url}};
#endif
    }
    for (const auto& argv : candidates)
        if (spawn_detached(argv, log)) return true;
    return false;
}

}  // namespace mcp_auth
