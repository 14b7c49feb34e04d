#pragma once
// A LineSink that keeps what was written (stdout's JSON-RPC lines, or the log).
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ports/log.h"

namespace mcp_auth::testing {

class Lines : public LineSink {
public:
    bool write_line(std::string_view line) override {
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.emplace_back(line);
        return true;
    }
    std::vector<std::string> all() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }
    // Whether some line contains `text`.
    bool contains(std::string_view text) const {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& l : lines_)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
    size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_.size();
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

}  // namespace mcp_auth::testing
