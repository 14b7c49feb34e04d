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
    void error(std::string_view message) { err_.write_line(prefix(message)); }
    void info(std::string_view message) { err_.write_line(prefix(message)); }
    void debug(std::string_view message) {
        if (verbose_) err_.write_line(prefix(message));
    }
    bool verbose() const { return verbose_; }

private:
    static std::string prefix(std::string_view message) {
        return "mcp-auth: " + terminal_safe(message);
    }
    LineSink& err_;
    bool verbose_;
};

}  // namespace mcp_auth
