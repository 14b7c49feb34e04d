// The support log (adapters/log/log_file.h, platform/private_dir.h's AppendFile): each line
// with the time and the process id, every message of the log (debug ones without
// --verbose), created for this user alone, rotated at its bound, links refused.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/log/log_file.h"
#include "platform/process.h"
#include "platform/temp_dir.h"

using namespace mcp_auth;
using namespace mcp_auth::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

class NullSink : public LineSink {
public:
    bool write_line(std::string_view line) override {
        lines.emplace_back(line);
        return true;
    }
    std::vector<std::string> lines;
};

}  // namespace

TEST_CASE("log file: every message, debug ones included, with the UTC time and the pid") {
    TempDir tmp;
    std::string path = tmp / "support.log";
    auto file = LogFile::open(path);
    REQUIRE(file);
    NullSink err;
    Log log(err, false);  // not --verbose
    CHECK_FALSE(log.verbose());
    log.also_to(file->get());
    CHECK(log.verbose());  // debug messages now have somewhere to go
    log.error("an error");
    log.debug("a detail\nwith a newline");
    CHECK(err.lines == std::vector<std::string>{"mcp-auth: an error"});  // stderr as before
    auto lines = lines_of(path);
    REQUIRE(lines.size() == 2);
    std::string pid = std::to_string(current_process_id());
    std::regex shape(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[)" + pid + R"(\] mcp-auth: .*)");
    CHECK(std::regex_match(lines[0], shape));
    CHECK(lines[0].substr(lines[0].find("] ") + 2) == "mcp-auth: an error");
    // One line per message: control characters are escaped, as on stderr.
    CHECK(lines[1].find("a detail") != std::string::npos);
    CHECK(lines[1].find("with a newline") != std::string::npos);
}

TEST_CASE("log file: appends to what is there; two writers' lines stay whole") {
    TempDir tmp;
    std::string path = tmp / "support.log";
    { std::ofstream(path, std::ios::binary) << "earlier line\n"; }
    auto a = LogFile::open(path);
    auto b = LogFile::open(path);
    REQUIRE(a);
    REQUIRE(b);
    for (int i = 0; i < 50; ++i) {
        (*a)->write_line("from a " + std::to_string(i));
        (*b)->write_line("from b " + std::to_string(i));
    }
    auto lines = lines_of(path);
    REQUIRE(lines.size() == 101);
    CHECK(lines[0] == "earlier line");
    for (size_t i = 1; i < lines.size(); ++i) {
        CAPTURE(lines[i]);
        CHECK(std::regex_match(lines[i], std::regex(R"(\S+ \[\d+\] from [ab] \d+)")));
    }
}

TEST_CASE("log file: at its bound it moves to PATH.1 and starts again; the two stay bounded") {
    TempDir tmp;
    std::string path = tmp / "support.log";
    auto file = LogFile::open(path, 1000);
    REQUIRE(file);
    std::string payload(90, 'x');
    for (int i = 0; i < 100; ++i) (*file)->write_line(std::to_string(i) + " " + payload);
    REQUIRE(fs::exists(path + ".1"));
    auto size = fs::file_size(path), older = fs::file_size(path + ".1");
    CHECK(size < 1200);  // one line past the bound at most
    CHECK(older < 1200);
    CHECK(older >= 1000);
    // The newest line is in PATH, the ones just before it in PATH.1.
    auto lines = lines_of(path);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back().find("] 99 ") != std::string::npos);
    CHECK(lines_of(path + ".1").back().find("] " + std::to_string(99 - lines.size()) + " ") !=
          std::string::npos);
}

TEST_CASE("log file: a folder that does not exist is an error naming the path") {
    TempDir tmp;
    std::string path = tmp / "no/such/folder/support.log";
    auto file = LogFile::open(path);
    REQUIRE_FALSE(file);
    CHECK(contains(file.error().message, path));
}

#ifndef _WIN32
TEST_CASE("log file: created for this user alone; a symbolic link is refused") {
    TempDir tmp;
    std::string path = tmp / "support.log";
    REQUIRE(LogFile::open(path));
    CHECK((fs::status(path).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    std::string target = tmp / "elsewhere";
    { std::ofstream(target) << ""; }
    fs::create_symlink(target, tmp / "link.log");
    auto linked = LogFile::open(tmp / "link.log");
    REQUIRE_FALSE(linked);
    CHECK(contains(linked.error().message, "symbolic link"));
}
#endif
