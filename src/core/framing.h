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
// A trailing '\r' is dropped; blank lines are ignored. A sink may call feed() again (the
// relay reads more of stdin while it waits for a reply): the lines already buffered come
// first, in order, and each line is handed over once.
class LineFramer {
public:
    static constexpr size_t kOversizePrefix = 4096;

    struct Sink {
        std::function<void(std::string&& line)> line;
        std::function<void(std::string_view prefix, size_t total_bytes)> oversized;
    };

    LineFramer(size_t max_line_bytes, Sink sink) : max_(max_line_bytes), sink_(std::move(sink)) {}

    void feed(std::string_view bytes);
    // Whether a complete line is buffered behind the one being handed over (a burst read
    // at once): asked from inside the sink.
    bool has_line() const { return pending_.find('\n', pos_) != std::string::npos; }
    // End of input: a last line without '\n' still counts.
    void finish();

private:
    void drain();  // hands over every complete line buffered
    void emit(std::string&& line);

    size_t max_;
    Sink sink_;
    std::string pending_;  // bytes not handed over yet, from pos_ on
    size_t pos_ = 0;
    std::string prefix_;  // the start of the oversized line being skipped
    size_t skipped_ = 0;  // bytes of an oversized line seen so far (0 = not skipping)
};

}  // namespace mcp_auth
