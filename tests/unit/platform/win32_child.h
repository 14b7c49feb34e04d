#pragma once
// Windows tests that need a second process start this test executable again, as a child
// with a job to do (test_spawn_win32.cpp runs it before doctest's main sees the command
// line): `unit_platform.exe --mcp-auth-unit-child <job> <out file> <arguments...>`. The
// child writes what it found to a temporary file and renames it onto <out file>: the
// rename says it is complete.
#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "app/lines.h"
#include "platform/spawn.h"

namespace mcp_auth::testing {

constexpr const char* kChildFlag = "--mcp-auth-unit-child";

inline std::string read_text(const std::string& path) {
    std::ifstream in(std::filesystem::u8path(path), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Waits up to `limit` for the child's answer at `out`; "" (and a failed check) without one.
inline std::string wait_for_file(const std::string& out,
                                 std::chrono::seconds limit = std::chrono::seconds(20)) {
    auto path = std::filesystem::u8path(out);
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!std::filesystem::exists(path) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!std::filesystem::exists(path)) return {};
    return read_text(out);
}

// Starts this executable as a child doing `job`, its answer going to `out`.
inline bool start_child(const std::string& job, const std::string& out,
                        const std::vector<std::string>& args, const SpawnOptions& options,
                        Lines& lines) {
    Log log(lines, false);
    std::vector<std::string> argv = {self_executable(), kChildFlag, job, out};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawn_detached(argv, options, log);
}

}  // namespace mcp_auth::testing
