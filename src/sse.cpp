#include "mcp_auth/sse.h"

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
        line_.append(chunk.data() + start, i - start);
        process_line(line_);
        line_.clear();
        skip_lf_ = (c == '\r');
        if (c == '\r' && i + 1 < chunk.size() && chunk[i + 1] == '\n') {
            ++i;
            skip_lf_ = false;
        }
        start = i + 1;
    }
    if (start < chunk.size()) {
        line_.append(chunk.data() + start, chunk.size() - start);
        skip_lf_ = false;
    }
}

void SseParser::process_line(std::string_view line) {
    if (line.empty()) {
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
        if (has_data_) data_.push_back('\n');
        data_.append(value);
        has_data_ = true;
    } else if (field == "event") {
        type_ = std::string(value);
    } else if (field == "id") {
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
