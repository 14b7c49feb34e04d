#pragma once
// Line-atomic writer on a file descriptor (ports/log.h's LineSink): stdout (JSON-RPC only)
// and stderr (the log). Writes whole lines under a lock, so concurrent writers never
// interleave; unbuffered, so each line reaches the reader at once.
#include <functional>
#include <mutex>
#include <string_view>

#include "ports/log.h"

namespace mcp_auth {

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
