#pragma once
// The process itself: start-up settings, and the stdin loop with its stop signals. What
// differs between platforms lives behind this header (platform/posix/process.cpp; a
// win32 sibling implements the same).
//
// What a win32 implementation must guarantee: prepare_process leaves no crash dump of a
// process that holds tokens (SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX),
// WerSetFlags(WER_FAULT_REPORTING_NO_UI) and no local dump), puts stdin, stdout and stderr in
// binary mode, and remembers the executable (platform/spawn.h). StdinLoop reads stdin (a
// pipe or a console) and returns Stopped on CTRL_C_EVENT, CTRL_BREAK_EVENT or
// CTRL_CLOSE_EVENT (SetConsoleCtrlHandler) and on stop(), from any thread; its handles are
// never inherited by a child.
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "ports/http.h"

namespace mcp_auth {

// Once, first thing in main(): the process leaves no core file and (Linux) cannot be
// traced or read by other processes of the user; a broken pipe is an error value, not a
// death; an exception that escapes a thread is reported before the process ends; large
// buffers are returned to the system when freed; the path the user ran is remembered
// (platform/spawn.h: self_executable).
void prepare_process(const char* argv0);

// This process's id (the support log names it: hosts run several instances at once).
long current_process_id();

// Reports an internal error (an exception nothing caught) on stderr and aborts.
[[noreturn]] void die_of_uncaught_exception();

// Reads stdin and hands every chunk to `on_data` until end of file, a stop signal
// (SIGTERM, SIGINT, SIGHUP; a console close event on Windows) or stop(). The signals are
// taken over when the loop is created: create it before starting threads.
class StdinLoop {
public:
    enum class End { EndOfInput, Stopped };
    StdinLoop();
    ~StdinLoop();
    StdinLoop(const StdinLoop&) = delete;
    StdinLoop& operator=(const StdinLoop&) = delete;

    End run(const std::function<void(std::string_view chunk)>& on_data);
    // Makes run() return Stopped (from any thread; e.g. when stdout's reader went away).
    void stop();
    // For the thread in run() when it waits for something else inside on_data (the relay
    // sends a message itself and waits for the reply): the hook goes on reading stdin
    // meanwhile and hands what arrives to on_data, re-entering it (LineFramer allows it).
    // At the end of input the wait goes on for `grace_after_end` more, then the hook says
    // Stop; a stop signal or stop() says Stop at once. Null where the platform cannot wait
    // on a socket and stdin at once (Windows pipes).
    WaitHook* wait_hook(std::chrono::milliseconds grace_after_end);

private:
    // What the loop and its stopper share (POSIX: the stop flag and the reading thread;
    // Windows: the thread whose read CancelSynchronousIo ends). Never inherited by a child.
    struct State;
    class Hook;
    std::shared_ptr<State> state_;
    std::unique_ptr<Hook> hook_;
};

}  // namespace mcp_auth
