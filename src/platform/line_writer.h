#pragma once
// Line-atomic writer on a file descriptor (ports/log.h's LineSink): stdout (JSON-RPC only)
// and stderr (the log). Writes whole lines under a lock, so concurrent writers never
// interleave; unbuffered, so each line reaches the reader at once.
//
// What every implementation guarantees (platform/posix/line_writer.cpp; a win32 sibling
// implements the same on the descriptor's handle, _get_osfhandle): a line and its newline
// leave in one system call where the OS allows (POSIX writev; Windows one WriteFile of a
// joined buffer), a short write is continued, an interrupted one retried; bytes are
// written as they are (Windows: the handle, never the C runtime's text mode, which would
// turn "\n" into "\r\n"); a broken pipe is a false return, never a signal or an exit.
#include <functional>
#include <mutex>
#include <string_view>

#include "ports/log.h"

namespace mcp_auth {

// The standard streams' descriptors: the same numbers in every C runtime (POSIX, MSVC,
// MinGW), so callers need no OS header.
constexpr int kStandardOutput = 1;
constexpr int kStandardError = 2;

class LineWriter : public LineSink {
public:
    // `on_broken` runs once, on the first failed write (the reader went away).
    explicit LineWriter(int fd, std::function<void()> on_broken = {})
        : fd_(fd), on_broken_(std::move(on_broken)) {}
    // Returns false once the reader has gone away (EPIPE or another write error).
    bool write_line(std::string_view line) override;

private:
    int fd_;
    std::function<void()> on_broken_;
    std::mutex mutex_;
    bool broken_ = false;
};

}  // namespace mcp_auth
