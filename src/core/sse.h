#pragma once
// Incremental Server-Sent Events parser (WHATWG HTML "event stream interpretation").
// Pure logic: feed it chunks exactly as they arrive from the network; events may be
// split anywhere, including inside a CRLF pair.
//
// Bounded: an event whose bytes (its data so far plus the line being read) go over
// `max_event_bytes` is reported once and skipped to its end, buffering nothing more, so a
// hostile stream (an endless line, or data lines without the blank line that ends the
// event) cannot grow the process; the stream goes on with the next event.
#include <cstddef>
#include <functional>
#include <limits>
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
    // An event over the limit: the first bytes of its data (up to kOversizePrefix, so the
    // caller can still find the request id in them) and how many bytes it had when it went
    // over. Called once per such event, at once (not at its end, which may never come).
    using OversizeSink = std::function<void(std::string_view data_prefix, size_t bytes)>;
    static constexpr size_t kOversizePrefix = 4096;

    explicit SseParser(Sink sink, size_t max_event_bytes = std::numeric_limits<size_t>::max(),
                       OversizeSink on_oversize = {})
        : sink_(std::move(sink)), max_(max_event_bytes), on_oversize_(std::move(on_oversize)) {}

    void feed(std::string_view chunk);
    // Dispatches nothing: an event without its terminating blank line is incomplete.
    // Returns true when unterminated input was left over.
    bool has_partial_input() const {
        return !line_.empty() || !data_.empty() || has_data_ || skipping_event_;
    }

    const std::string& last_event_id() const { return last_event_id_; }
    // The reconnection delay the server asked for, if any.
    std::optional<long> retry_ms() const { return retry_ms_; }

private:
    void feed_lines(std::string_view chunk);
    void append_to_line(std::string_view part);
    void end_line();
    void process_line(std::string_view line);
    void dispatch();
    void overflow(std::string_view part);

    Sink sink_;
    size_t max_;
    OversizeSink on_oversize_;
    std::string line_;
    bool skip_lf_ = false;  // the previous chunk ended in '\r'
    bool at_start_ = true;  // a leading BOM is dropped
    std::string head_;      // the first bytes, until they cannot be a BOM any more
    std::string data_;
    bool has_data_ = false;
    std::string type_;
    std::string last_event_id_;
    std::optional<long> retry_ms_;
    bool skipping_event_ = false;  // the current event went over the limit: drop its data
    bool skipping_line_ = false;   // the current line went over the limit: drop the rest of it
};

}  // namespace mcp_auth
