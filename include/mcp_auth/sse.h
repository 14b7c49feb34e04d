#pragma once
// Incremental Server-Sent Events parser (WHATWG HTML "event stream interpretation").
// Pure logic: feed it chunks exactly as they arrive from the network; events may be
// split anywhere, including inside a CRLF pair.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_auth {

struct SseEvent {
    std::string type;  // "message" when the stream did not name one
    std::string data;  // data lines joined with '\n'
    std::string id;    // the last event id in force when this event was dispatched
};

class SseParser {
public:
    using Sink = std::function<void(const SseEvent&)>;

    explicit SseParser(Sink sink) : sink_(std::move(sink)) {}

    void feed(std::string_view chunk);
    // Dispatches nothing: an event without its terminating blank line is incomplete.
    // Returns true when unterminated input was left over.
    bool has_partial_input() const { return !line_.empty() || !data_.empty() || has_data_; }

    const std::string& last_event_id() const { return last_event_id_; }
    // The reconnection delay the server asked for, if any.
    std::optional<long> retry_ms() const { return retry_ms_; }

private:
    void feed_lines(std::string_view chunk);
    void process_line(std::string_view line);
    void dispatch();

    Sink sink_;
    std::string line_;
    bool skip_lf_ = false;  // the previous chunk ended in '\r'
    bool at_start_ = true;  // a leading BOM is dropped
    std::string head_;      // the first bytes, until they cannot be a BOM any more
    std::string data_;
    bool has_data_ = false;
    std::string type_;
    std::string last_event_id_;
    std::optional<long> retry_ms_;
};

}  // namespace mcp_auth
