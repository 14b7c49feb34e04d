#include "adapters/browser/browser.h"

#include <sstream>
#include <vector>

#include "core/url.h"
#include "platform/desktop.h"
#include "platform/spawn.h"

namespace mcp_auth {
namespace {

#if defined(_WIN32)
// Windows paths hold ':' ("C:\...") and often blanks ("Program Files"): the commands are
// separated by ';' (as in PATH), and a word may be quoted ("C:\Program Files\x.exe").
constexpr char kCommandSeparator = ';';
constexpr bool kQuotedWords = true;
#else
constexpr char kCommandSeparator = ':';
constexpr bool kQuotedWords = false;
#endif

// The words of one command: split on blanks (no shell); with kQuotedWords, a double-quoted
// stretch is part of a word, blanks included, quotes removed.
std::vector<std::string> words_of(const std::string& command) {
    std::vector<std::string> words;
    if (!kQuotedWords) {
        std::stringstream in(command);
        std::string word;
        while (in >> word) words.push_back(word);
        return words;
    }
    std::string word;
    bool in_word = false, quoted = false;
    for (char c : command) {
        if (c == '"') {
            quoted = !quoted;
            in_word = true;
        } else if (!quoted && (c == ' ' || c == '\t')) {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
        } else {
            word.push_back(c);
            in_word = true;
        }
    }
    if (in_word) words.push_back(word);
    return words;
}

// A browser variable holds commands separated by kCommandSeparator; each is split into
// words (no shell), and "%s" stands for the URL (appended when absent).
std::vector<std::vector<std::string>> commands_from(const std::string& value,
                                                    const std::string& url) {
    std::vector<std::vector<std::string>> out;
    std::stringstream list(value);
    std::string command;
    while (std::getline(list, command, kCommandSeparator)) {
        std::vector<std::string> argv;
        bool placed = false;
        for (std::string word : words_of(command)) {
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
#if defined(_WIN32)
        return open_url_with_shell(url, log_);
#else
        candidates = {default_url_opener(url)};
#endif
    }
    for (const auto& argv : candidates)
        if (spawn_detached(argv, SpawnOptions{}, log_)) return true;
    return false;
}

}  // namespace mcp_auth
