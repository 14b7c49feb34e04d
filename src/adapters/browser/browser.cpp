#include "adapters/browser/browser.h"

#include <sstream>
#include <vector>

#include "core/url.h"
#include "platform/desktop.h"
#include "platform/spawn.h"

namespace mcp_auth {
namespace {

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

}  // namespace

std::string SystemBrowser::variable(const char* name) const {
    return env_(name).value_or("");
}

bool SystemBrowser::available() {
    return !variable("MCP_AUTH_BROWSER").empty() || !variable("BROWSER").empty() ||
           graphical_session(env_);
}

bool SystemBrowser::open(const std::string& url) {
    // The opener decides what a word is by its form: anything but an absolute http(s) URL
    // of RFC 3986 characters could be taken for a file to open or an option.
    std::string why;
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) why = "not http(s)";
    if (auto parsed = parse_url(url); why.empty() && !parsed)
        why = "invalid: " + parsed.error().message;
    if (!why.empty()) {
        log_.error("refusing to open a browser on a URL that is " + why);
        return false;
    }
    std::vector<std::vector<std::string>> candidates;
    if (auto mine = variable("MCP_AUTH_BROWSER"); !mine.empty()) {
        candidates = commands_from(mine, url);
    } else if (auto theirs = variable("BROWSER"); !theirs.empty()) {
        candidates = commands_from(theirs, url);
    } else {
        candidates = {default_url_opener(url)};
    }
    for (const auto& argv : candidates)
        if (spawn_detached(argv, SpawnOptions{}, log_)) return true;
    return false;
}

}  // namespace mcp_auth
