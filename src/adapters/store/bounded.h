#pragma once
// Runs a blocking call on its own thread and gives up waiting after a deadline. For OS
// keychain calls that can block on a password prompt or a stuck daemon: the host that
// launched mcp-auth must never hang on them. A call that overruns is abandoned (its
// thread finishes or dies with the process); its result is ignored.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "core/expected.h"

namespace mcp_auth {

template <class T, class F>
Expected<T> run_bounded(std::chrono::milliseconds timeout, const std::string& on_timeout, F op) {
    auto task = std::make_shared<std::packaged_task<Expected<T>()>>(std::move(op));
    auto result = task->get_future();
    std::thread([task] { (*task)(); }).detach();
    if (result.wait_for(timeout) != std::future_status::ready)
        return make_error(ErrorKind::StoreUnavailable, on_timeout);
    return result.get();
}

}  // namespace mcp_auth
