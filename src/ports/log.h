#pragma once
// Port: where lines go. stdout carries JSON-RPC only and stderr the log; both are a
// LineSink (platform/line_writer.h on a descriptor; a vector of lines in unit tests).
// Log is the diagnostics every layer writes, prefixed "mcp-auth: ". Every message is one
// line made terminal-safe (control characters, newlines included, are escaped), since
// messages quote what servers sent: a message meant as two lines is two calls.
#include <string>
#include <string_view>

#include "core/status.h"

namespace mcp_auth {

class LineSink {
public:
    virtual ~LineSink() = default;
    // Writes one whole line (the newline is added); concurrent writers never interleave.
    // False once the reader has gone away.
    virtual bool write_line(std::string_view line) = 0;
};

class Log {
public:
    Log(LineSink& err, bool verbose) : err_(err), verbose_(verbose) {}
    void error(std::string_view message) { write(message, true); }
    void info(std::string_view message) { write(message, true); }
    void debug(std::string_view message) { write(message, verbose_); }
    // Whether debug messages go anywhere (stderr with --verbose, or the support log): a
    // caller may skip composing them otherwise.
    bool verbose() const { return verbose_ || file_ != nullptr; }
    // The support log (--log-file): gets every message, the debug ones included, whatever
    // --verbose says. Set once, before other threads log.
    void also_to(LineSink* file) { file_ = file; }

private:
    void write(std::string_view message, bool to_err) {
        if (!to_err && !file_) return;
        std::string line = "mcp-auth: " + terminal_safe(message);
        if (to_err) err_.write_line(line);
        if (file_) file_->write_line(line);
    }
    LineSink& err_;
    bool verbose_;
    LineSink* file_ = nullptr;
};

}  // namespace mcp_auth
