#pragma once
// Line-atomic writers for stdout (JSON-RPC only) and stderr (logs).
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace mcp_auth {

// Writes whole lines to a file descriptor under a lock, so concurrent writers never
// interleave. Unbuffered: each line reaches the reader at once.
class LineWriter {
public:
    // `on_broken` runs once, on the first failed write (the reader went away).
    explicit LineWriter(int fd, std::function<void()> on_broken = {})
        : fd_(fd), on_broken_(std::move(on_broken)) {}
    // Returns false once the reader has gone away (EPIPE or another write error).
    bool write_line(std::string_view line);

private:
    int fd_;
    std::function<void()> on_broken_;
    std::mutex mutex_;
    bool broken_ = false;
};

// Diagnostics on stderr, prefixed "mcp-auth: ". Verbose lines only with --verbose.
// Every message is one line made terminal-safe (status.h's terminal_safe: control
// characters, newlines included, are escaped), since messages quote what servers sent:
// a message meant as two lines is two calls.
class Log {
public:
    explicit Log(LineWriter& err, bool verbose) : err_(err), verbose_(verbose) {}
    void error(std::string_view message) { err_.write_line(prefix(message)); }
    void info(std::string_view message) { err_.write_line(prefix(message)); }
    void debug(std::string_view message) {
        if (verbose_) err_.write_line(prefix(message));
    }
    bool verbose() const { return verbose_; }

private:
    static std::string prefix(std::string_view message);
    LineWriter& err_;
    bool verbose_;
};

}  // namespace mcp_auth
