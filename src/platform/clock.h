#pragma once
// The system clock (ports/system.h): portable std::chrono, no platform code.
#include <thread>

#include "ports/system.h"

namespace mcp_auth {

class SystemClock : public Clock {
public:
    long long now() override {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    std::chrono::steady_clock::time_point steady() override {
        return std::chrono::steady_clock::now();
    }
    void sleep(std::chrono::milliseconds delay, const std::atomic<bool>& cancelled) override {
        auto until = std::chrono::steady_clock::now() + delay;
        while (!cancelled && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
};

}  // namespace mcp_auth
