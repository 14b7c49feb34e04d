// platform/process.h on Windows: start-up settings, and the stdin loop, whose blocking
// read is ended by CancelSynchronousIo on the reading thread.
#include "platform/process.h"

#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <fcntl.h>
#include <io.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "platform/spawn.h"

// Windows Error Reporting (kernel32 since Vista). MinGW's werapi.h does not compile alone
// and lacks the flags: these are the Windows SDK's values.
extern "C" HRESULT WINAPI WerSetFlags(DWORD flags);

namespace mcp_auth {
namespace {

constexpr DWORD kWerNoHeap = 0x1;  // WER_FAULT_REPORTING_FLAG_NOHEAP
constexpr DWORD kWerNoUi = 0x20;   // WER_FAULT_REPORTING_NO_UI

void write_stderr(const std::string& text) {
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD written = 0;
    if (err && err != INVALID_HANDLE_VALUE)
        WriteFile(err, text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
}

// A crash (an access violation, a stack overflow) ends the process here, before Windows
// Error Reporting sees it: no dialog, no dump of a memory that holds tokens, no report
// sent anywhere. Little is done: the stack may be exhausted.
LONG WINAPI on_crash(EXCEPTION_POINTERS* info) {
    DWORD code = info && info->ExceptionRecord ? info->ExceptionRecord->ExceptionCode : 0;
    char line[96];
    int n =
        std::snprintf(line, sizeof line,
                      "mcp-auth: crashed (exception 0x%08lx); exiting. Please report this bug.\n",
                      static_cast<unsigned long>(code));
    if (n > 0) write_stderr(std::string(line, static_cast<size_t>(n)));
    TerminateProcess(GetCurrentProcess(), code ? code : 3);
    return EXCEPTION_EXECUTE_HANDLER;
}

[[noreturn]] void on_terminate() {
    die_of_uncaught_exception();
}

}  // namespace

void prepare_process(const char* argv0) {
    // No "program has stopped working" dialog and no critical-error box (a host has no one
    // to click it away); Windows Error Reporting shows nothing and collects no heap. The
    // exception filter above ends a crash before WER runs at all, which also keeps a
    // LocalDumps policy from writing a dump of our memory.
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    WerSetFlags(kWerNoUi | kWerNoHeap);
    SetUnhandledExceptionFilter(on_crash);
    // Bytes in and out as they are: the C runtime's text mode would turn "\n" into "\r\n"
    // (and a 0x1A byte into the end of input).
    _setmode(0, _O_BINARY);
    _setmode(1, _O_BINARY);
    _setmode(2, _O_BINARY);
    std::set_terminate(on_terminate);
    remember_self_executable(argv0);
}

void die_of_uncaught_exception() {
    std::string what = "unknown exception";
    if (auto current = std::current_exception()) {
        try {
            std::rethrow_exception(current);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
    }
    write_stderr("mcp-auth: internal error (" + terminal_safe(what) +
                 "); exiting. Please report this bug.\n");
    // abort()'s exit code, without the C runtime's "unusual way" message or a fault report.
    TerminateProcess(GetCurrentProcess(), 3);
    std::abort();  // not reached
}

// The loop blocks in ReadFile (no wait before every read: a system call per message). A
// stop (stop(), or a console control event through SetConsoleCtrlHandler) sets the flag and
// wakes the stopper thread, which cancels the reading thread's synchronous read
// (CancelSynchronousIo) every few milliseconds until the loop has returned: a cancel that
// lands just before the read starts finds nothing to cancel, and is simply sent again. The
// cancel is sent under the mutex the reader holds to leave its read, so it never lands on
// other I/O of that thread.
namespace {

struct StopState {
    std::atomic<bool> stop{false};
    std::atomic<bool> running{false};
    std::mutex mutex;         // guards in_read and reader
    bool in_read = false;     // in ReadFile/ReadConsoleW: cancellable
    HANDLE reader = nullptr;  // the thread in run()
    HANDLE wake = CreateEventW(nullptr, FALSE, FALSE, nullptr);  // auto-reset; never inherited

    void ask_stop() {
        stop = true;
        SetEvent(wake);
    }
    void set_in_read(bool value) {
        std::lock_guard<std::mutex> lock(mutex);
        in_read = value;
    }
};

// The loop the console control events stop: the last one created.
std::mutex g_console_mutex;
std::weak_ptr<StopState>* g_console_loop = nullptr;

BOOL WINAPI on_console_event(DWORD event) {
    bool closing =
        event == CTRL_CLOSE_EVENT || event == CTRL_LOGOFF_EVENT || event == CTRL_SHUTDOWN_EVENT;
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT && !closing) return FALSE;
    std::shared_ptr<StopState> state;
    {
        std::lock_guard<std::mutex> lock(g_console_mutex);
        if (g_console_loop) state = g_console_loop->lock();
    }
    if (!state) return FALSE;  // no loop: the default handler ends the process
    state->ask_stop();
    // After a close, logoff or shutdown event Windows ends the process when the handler
    // returns: give the loop (and the shutdown after it) a moment first.
    if (closing)
        for (int i = 0; i < 250 && state->running; ++i) Sleep(10);
    return TRUE;
}

}  // namespace

struct StdinLoop::State : StopState {
    ~State() {
        if (reader) CloseHandle(reader);
        if (wake) CloseHandle(wake);
    }
    // The reading thread's alone: a console read that ended halfway through a pair.
    wchar_t pending_surrogate = 0;
};

class StdinLoop::Hook final : public WaitHook {
public:
    Wake wait(long long, std::chrono::milliseconds) override { return Wake::Stop; }
};

StdinLoop::StdinLoop() : state_(std::make_shared<State>()) {
    {
        std::lock_guard<std::mutex> lock(g_console_mutex);
        if (!g_console_loop) {
            g_console_loop = new std::weak_ptr<StopState>();  // lives as long as the process
            SetConsoleCtrlHandler(on_console_event, TRUE);
        }
        *g_console_loop = std::static_pointer_cast<StopState>(state_);
    }
    // The thread lives as long as the process and holds the state, as on POSIX.
    std::thread([state = std::static_pointer_cast<StopState>(state_)] {
        for (;;) {
            WaitForSingleObject(state->wake, INFINITE);
            while (state->running) {
                {
                    std::lock_guard<std::mutex> lock(state->mutex);
                    if (state->in_read && state->reader) CancelSynchronousIo(state->reader);
                }
                Sleep(2);
            }
        }
    }).detach();
}

StdinLoop::~StdinLoop() = default;

WaitHook* StdinLoop::wait_hook(std::chrono::milliseconds grace_after_end) {
    (void)grace_after_end;
    // A pipe cannot be waited on together with a socket (no overlapped stdin we did not
    // open ourselves): the relay sends from workers instead.
    return nullptr;
}

void StdinLoop::stop() {
    state_->ask_stop();
}

StdinLoop::End StdinLoop::run(const std::function<void(std::string_view)>& on_data) {
    State& st = *state_;
    {
        std::lock_guard<std::mutex> lock(st.mutex);
        if (st.reader) CloseHandle(st.reader);
        st.reader = nullptr;
        DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &st.reader,
                        THREAD_TERMINATE, FALSE, 0);
    }
    st.running = true;
    struct Finished {
        State& st;
        ~Finished() { st.running = false; }
    } finished{st};
    HANDLE input = GetStdHandle(STD_INPUT_HANDLE);
    if (!input || input == INVALID_HANDLE_VALUE) return st.stop ? End::Stopped : End::EndOfInput;
    DWORD mode = 0;
    bool console = GetConsoleMode(input, &mode) != 0;
    bool pipe = !console && GetFileType(input) == FILE_TYPE_PIPE;
    std::string buffer(1 << 16, '\0');
    std::wstring wide(1 << 14, L'\0');
    for (;;) {
        if (st.stop) return End::Stopped;
        DWORD n = 0;
        st.set_in_read(true);
        BOOL ok =
            st.stop ? FALSE
            : console
                ? ReadConsoleW(input, wide.data(), static_cast<DWORD>(wide.size()), &n, nullptr)
                : ReadFile(input, buffer.data(), static_cast<DWORD>(buffer.size()), &n, nullptr);
        DWORD err = ok ? 0 : GetLastError();
        st.set_in_read(false);
        if (st.stop) return End::Stopped;
        if (!ok && err == ERROR_OPERATION_ABORTED) continue;  // a cancel meant for a stop
        if (!ok) return End::EndOfInput;                      // broken pipe, or an error
        if (n == 0) {
            // A pipe delivers a zero-length write as an empty read: the end is a broken pipe.
            DWORD available = 0;
            if (pipe && PeekNamedPipe(input, nullptr, 0, nullptr, &available, nullptr)) continue;
            return End::EndOfInput;
        }
        if (console) {
            // UTF-16 from the console, as UTF-8; Ctrl+Z at the start of a line ends input.
            std::wstring_view got(wide.data(), n);
            if (got[0] == 0x1A) return End::EndOfInput;
            std::wstring text;
            if (st.pending_surrogate) text.push_back(st.pending_surrogate);
            st.pending_surrogate = 0;
            text.append(got);
            if (text.back() >= 0xD800 && text.back() <= 0xDBFF) {
                st.pending_surrogate = text.back();
                text.pop_back();
            }
            std::string chunk = win32::narrow(text);
            if (!chunk.empty()) on_data(chunk);
        } else {
            on_data(std::string_view(buffer.data(), n));
        }
    }
}

long current_process_id() {
    return static_cast<long>(GetCurrentProcessId());
}

}  // namespace mcp_auth
