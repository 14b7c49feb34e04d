// platform/desktop.h on Windows: always a desktop; URLs open through the shell.
#include "platform/desktop.h"

#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <objbase.h>
#include <shellapi.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "platform/spawn.h"

namespace mcp_auth {
namespace {

// How long the caller waits for the shell's answer (it may be starting a browser).
constexpr auto kShellWait = std::chrono::seconds(15);

struct ShellResult {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    bool ok = false;
    DWORD error = 0;
};

}  // namespace

bool graphical_session(const EnvLookup& env) {
    (void)env;  // a Windows session always has a desktop
    return true;
}

bool open_url_with_shell(const std::string& url, Log& log) {
    if (win32::environment_has_secrets()) {
        // The system's own rundll32 (never one from PATH or the working directory).
        wchar_t system[MAX_PATH];
        UINT n = GetSystemDirectoryW(system, MAX_PATH);
        if (n == 0 || n >= MAX_PATH) {
            log.error("could not open a browser: " + win32::error_text(GetLastError()));
            return false;
        }
        std::string rundll = win32::narrow(std::wstring(system, n)) + "\\rundll32.exe";
        return spawn_detached({rundll, "url.dll,FileProtocolHandler", url}, SpawnOptions{}, log);
    }
    // A thread of its own, with COM as the shell wants it (a single-threaded apartment):
    // the caller's thread may have COM in another mode, or none. It is not waited for
    // past kShellWait: a shell that hangs must not hold the login.
    auto result = std::make_shared<ShellResult>();
    std::thread([result, wide = win32::widen(url)] {
        HRESULT com = CoInitializeEx(nullptr, COINIT_APARTMENTTHREADED | COINIT_DISABLE_OLE1DDE);
        SHELLEXECUTEINFOW info{};
        info.cbSize = sizeof info;
        info.fMask = SEE_MASK_NOASYNC | SEE_MASK_FLAG_NO_UI;
        info.lpVerb = L"open";
        info.lpFile = wide.c_str();
        info.nShow = SW_SHOWNORMAL;
        BOOL ok = ShellExecuteExW(&info);
        DWORD error = ok ? 0 : GetLastError();
        if (SUCCEEDED(com)) CoUninitialize();
        std::lock_guard<std::mutex> lock(result->mutex);
        result->done = true;
        result->ok = ok != 0;
        result->error = error;
        result->done_cv.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(result->mutex);
    if (!result->done_cv.wait_for(lock, kShellWait, [&] { return result->done; })) {
        log.info(
            "the shell has not said yet whether it opened the browser; waiting for the "
            "login anyway");
        return true;
    }
    if (!result->ok) {
        log.error("could not open a browser: " + win32::error_text(result->error));
        return false;
    }
    return true;
}

}  // namespace mcp_auth
