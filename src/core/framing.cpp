#include "core/framing.h"

#include <algorithm>

namespace mcp_auth {

namespace {

// Input is taken in slices of at most this much, so that a line over the limit never holds
// more than the limit and one slice, whatever size of chunk the caller hands over.
constexpr size_t kSlice = 64 * 1024;

}  // namespace

void LineFramer::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        std::string_view slice = bytes.substr(0, kSlice);
        bytes.remove_prefix(slice.size());
        if (skipped_ > 0) {
            // The rest of a line over the limit: counted, not kept.
            size_t nl = slice.find('\n');
            if (nl == std::string_view::npos) {
                skipped_ += slice.size();
                continue;
            }
            skipped_ += nl;
            size_t total = skipped_;
            skipped_ = 0;
            std::string prefix;
            prefix.swap(prefix_);
            sink_.oversized(prefix, total);
            slice.remove_prefix(nl + 1);
        }
        pending_.append(slice);
        drain();
    }
}

void LineFramer::drain() {
    // No offset is kept in a local across a sink call: a sink may feed() again (the relay
    // reads stdin while a call it sends waits), and that call takes the next lines first.
    for (;;) {
        if (skipped_ > 0) return;  // a nested feed() began skipping; it holds nothing now
        size_t nl = pending_.find('\n', pos_);
        if (nl == std::string::npos) break;
        std::string line;
        if (pos_ == 0 && nl + 1 == pending_.size()) {
            line.swap(pending_);  // the whole buffer is the line: no copy
            line.pop_back();
        } else {
            line = pending_.substr(pos_, nl - pos_);
            pos_ = nl + 1;
        }
        emit(std::move(line));
    }
    // What is left is the start of a line: kept, or over the limit and skipped from now on.
    pending_.erase(0, pos_);
    pos_ = 0;
    if (pending_.size() > max_) {
        skipped_ = pending_.size();
        prefix_ = pending_.substr(0, kOversizePrefix);
        pending_ = std::string();  // give back the buffer of the huge line
    }
}

void LineFramer::finish() {
    if (skipped_ > 0) {
        size_t total = skipped_;
        skipped_ = 0;
        std::string prefix;
        prefix.swap(prefix_);
        sink_.oversized(prefix, total);
        return;
    }
    drain();
    if (pending_.empty()) return;
    std::string line;
    line.swap(pending_);
    emit(std::move(line));
}

void LineFramer::emit(std::string&& line) {
    if (line.size() > max_) {
        size_t total = line.size();
        line.resize(std::min(line.size(), kOversizePrefix));
        sink_.oversized(line, total);
        return;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) return;
    sink_.line(std::move(line));
}

}  // namespace mcp_auth
