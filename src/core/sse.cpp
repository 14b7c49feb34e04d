#include "core/sse.h"

#include <algorithm>
#include <cctype>

namespace mcp_auth {

void SseParser::feed(std::string_view chunk) {
    if (at_start_) {
        // A leading UTF-8 BOM is dropped, even when it arrives split over chunks: the
        // first bytes wait until they can no longer be the start of one.
        static constexpr std::string_view kBom = "\xEF\xBB\xBF";
        head_.append(chunk.substr(0, kBom.size()));
        chunk.remove_prefix(std::min(chunk.size(), kBom.size()));
        if (head_.size() < kBom.size() && kBom.substr(0, head_.size()) == head_ && chunk.empty())
            return;
        at_start_ = false;
        std::string head = std::move(head_);
        if (head.compare(0, kBom.size(), kBom) == 0) head.erase(0, kBom.size());
        feed_lines(head);
    }
    feed_lines(chunk);
}

void SseParser::feed_lines(std::string_view chunk) {
    size_t start = 0;
    for (size_t i = 0; i < chunk.size(); ++i) {
        char c = chunk[i];
        if (c != '\r' && c != '\n') continue;
        if (c == '\n' && skip_lf_ && i == start && line_.empty()) {
            // Second half of a CRLF whose CR ended the previous chunk or line.
            skip_lf_ = false;
            start = i + 1;
            continue;
        }
        append_to_line(chunk.substr(start, i - start));
        end_line();
        skip_lf_ = (c == '\r');
        if (c == '\r' && i + 1 < chunk.size() && chunk[i + 1] == '\n') {
            ++i;
            skip_lf_ = false;
        }
        start = i + 1;
    }
    if (start < chunk.size()) {
        append_to_line(chunk.substr(start));
        skip_lf_ = false;
    }
}

void SseParser::append_to_line(std::string_view part) {
    if (skipping_line_ || part.empty()) return;
    if (line_.size() + data_.size() + part.size() > max_) return overflow(part);
    line_.append(part);
}

void SseParser::end_line() {
    if (skipping_line_) {
        skipping_line_ = false;  // the end of a line over the limit: dropped with the rest of it
        return;
    }
    process_line(line_);
    line_.clear();
}

void SseParser::overflow(std::string_view part) {
    size_t bytes = data_.size() + line_.size() + part.size();
    skipping_line_ = true;
    if (skipping_event_) {
        std::string().swap(line_);
        return;
    }
    // The beginning of the event's data, for the caller's error message: the data lines
    // so far, then the value of the line being read when it is a data line.
    std::string prefix = data_.substr(0, kOversizePrefix);
    constexpr size_t kHead = kOversizePrefix + 6;  // "data: " and the value's beginning
    std::string head = line_.substr(0, kHead);
    head.append(part.substr(0, kHead - head.size()));
    if (prefix.size() < kOversizePrefix && head.compare(0, 5, "data:") == 0) {
        std::string_view value = std::string_view(head).substr(5);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (has_data_) prefix.push_back('\n');
        prefix.append(value);
        if (prefix.size() > kOversizePrefix) prefix.resize(kOversizePrefix);
    }
    // Give the memory back at once: the event is dropped whatever follows.
    std::string().swap(line_);
    std::string().swap(data_);
    has_data_ = false;
    skipping_event_ = true;
    if (on_oversize_) on_oversize_(prefix, bytes);
}

void SseParser::process_line(std::string_view line) {
    if (line.empty()) {
        if (skipping_event_) {
            // The end of an event over the limit: nothing to dispatch.
            skipping_event_ = false;
            type_.clear();
            return;
        }
        dispatch();
        return;
    }
    if (line.front() == ':') return;  // comment, e.g. a keep-alive
    std::string_view field = line;
    std::string_view value;
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (skipping_event_) return;  // the event is over the limit: its data is dropped
        if (has_data_) data_.push_back('\n');
        data_.append(value);
        has_data_ = true;
    } else if (field == "event") {
        type_ = std::string(value);
    } else if (field == "id") {
        // Kept even in a skipped event, so a resumed stream continues after it.
        if (value.find('\0') == std::string_view::npos) last_event_id_ = std::string(value);
    } else if (field == "retry") {
        if (!value.empty() && value.size() < 10 &&
            std::all_of(value.begin(), value.end(),
                        [](unsigned char ch) { return std::isdigit(ch); }))
            retry_ms_ = std::stol(std::string(value));
    }
    // Any other field is ignored, as the SSE standard requires.
}

void SseParser::dispatch() {
    if (has_data_) {
        SseEvent event{type_.empty() ? "message" : type_, std::move(data_), last_event_id_};
        sink_(event);
    }
    data_.clear();
    has_data_ = false;
    type_.clear();
}

}  // namespace mcp_auth
