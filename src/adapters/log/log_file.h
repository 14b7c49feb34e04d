#pragma once
// The support log (--log-file, MCP_AUTH_LOG_FILE): a LineSink that appends each line with
// the time (UTC, milliseconds) and the process id, for a user to attach to a bug report.
// It gets everything the log says, --verbose's lines included (ports/log.h), and the log
// never holds a token, code, verifier or secret. Bounded: when the file has reached
// `max_bytes`, it is renamed to PATH.1 (replacing the previous one) and a new PATH is
// started, so the two together stay under about twice `max_bytes`. Several instances
// (hosts start several) append to one file; each line is one write.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "platform/private_dir.h"
#include "ports/log.h"

namespace mcp_auth {

class LogFile : public LineSink {
public:
    static constexpr long long kDefaultMaxBytes = 5ll << 20;

    // Opens (creating it for this user alone) the file at `path`.
    static Expected<std::unique_ptr<LogFile>> open(std::string path,
                                                   long long max_bytes = kDefaultMaxBytes);

    // False when the line could not be written (the log goes on without it).
    bool write_line(std::string_view line) override;

private:
    LogFile(std::string path, AppendFile file, long long max_bytes)
        : path_(std::move(path)), file_(std::move(file)), max_bytes_(max_bytes) {}

    std::mutex mutex_;
    std::string path_;
    AppendFile file_;
    long long max_bytes_;
    long pid_;
};

}  // namespace mcp_auth
