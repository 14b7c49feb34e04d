#include "adapters/log/log_file.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "platform/process.h"

namespace mcp_auth {

namespace {

// "2026-12-07T15:03:27.123Z".
std::string utc_now() {
    auto now = std::chrono::system_clock::now();
    std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    long long millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
#if defined(_WIN32)
    gmtime_s(&tm, &seconds);
#else
    gmtime_r(&seconds, &tm);
#endif
    char text[96];  // room for any int the format could print
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return text;
}

}  // namespace

Expected<std::unique_ptr<LogFile>> LogFile::open(std::string path, long long max_bytes) {
    auto file = AppendFile::open(path);
    if (!file) return file.error();
    std::unique_ptr<LogFile> log(new LogFile(std::move(path), std::move(*file), max_bytes));
    log->pid_ = current_process_id();
    return log;
}

bool LogFile::write_line(std::string_view line) {
    std::string text = utc_now() + " [" + std::to_string(pid_) + "] ";
    text.append(line);
    text += '\n';
    std::lock_guard<std::mutex> lock(mutex_);
    long long size = file_.size();
    if (size >= max_bytes_) {
        // Another instance may have rotated it already (our handle then names PATH.1):
        // whichever renames, the next open starts a new PATH.
        (void)rename_over(path_, path_ + ".1");
        if (auto fresh = AppendFile::open(path_)) file_ = std::move(*fresh);
    }
    return file_.append(text);
}

}  // namespace mcp_auth
