#pragma once
// Newline-delimited framing of the stdio stream (MCP stdio transport). Pure logic.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mcp_auth {

// Splits a byte stream into lines. Lines longer than `max_line_bytes` are not buffered:
// the sink gets the first `kOversizePrefix` bytes (so the caller can still find the
// request id) and the full length, and the rest of that line is skipped.
// A trailing '\r' is dropped; blank lines are ignored.
class LineFramer {
public:
    static constexpr size_t kOversizePrefix = 4096;

    struct Sink {
        std::function<void(std::string&& line)> line;
        std::function<void(std::string_view prefix, size_t total_bytes)> oversized;
    };

    LineFramer(size_t max_line_bytes, Sink sink) : max_(max_line_bytes), sink_(std::move(sink)) {}

    void feed(std::string_view bytes);
    // End of input: a last line without '\n' still counts.
    void finish();

private:
    void emit();

    size_t max_;
    Sink sink_;
    std::string line_;
    size_t skipped_ = 0;  // bytes of an oversized line seen so far (0 = not skipping)
};

}  // namespace mcp_auth
