#include "core/framing.h"

namespace mcp_auth {

void LineFramer::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        size_t nl = bytes.find('\n');
        std::string_view part = bytes.substr(0, nl);
        if (skipped_ > 0) {
            skipped_ += part.size();
        } else if (line_.size() + part.size() > max_) {
            // Keep just enough to report the error, then stop buffering this line.
            size_t total = line_.size() + part.size();
            if (line_.size() < kOversizePrefix)
                line_.append(part.substr(0, kOversizePrefix - line_.size()));
            skipped_ = total;
        } else {
            line_.append(part);
        }
        if (nl == std::string_view::npos) return;
        emit();
        bytes.remove_prefix(nl + 1);
    }
}

void LineFramer::finish() {
    if (!line_.empty() || skipped_ > 0) emit();
}

void LineFramer::emit() {
    if (skipped_ > 0) {
        if (line_.size() > kOversizePrefix) line_.resize(kOversizePrefix);
        sink_.oversized(line_, skipped_);
        skipped_ = 0;
        line_ = std::string();  // give back the buffer of the huge line
        return;
    }
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (line_.find_first_not_of(" \t") == std::string::npos) {
        line_.clear();
        return;
    }
    std::string out;
    out.swap(line_);
    sink_.line(std::move(out));
}

}  // namespace mcp_auth
