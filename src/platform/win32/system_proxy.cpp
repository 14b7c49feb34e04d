// platform/system_proxy.h on Windows: the current user's Internet Options, through WinHTTP.
#include "platform/system_proxy.h"

#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <winhttp.h>

namespace mcp_auth {

namespace {

using GetIEProxyConfig = BOOL(WINAPI*)(WINHTTP_CURRENT_USER_IE_PROXY_CONFIG*);

// WinHTTP's entry point, loaded on the first call and kept. Not an import: loading the DLL
// costs a few milliseconds on Windows (about 170 ms under Wine), and most runs never ask.
// From System32 only: the default search order starts with the executable's directory,
// where a planted winhttp.dll would run inside mcp-auth.
GetIEProxyConfig winhttp_entry() {
    static const GetIEProxyConfig entry = []() -> GetIEProxyConfig {
        HMODULE dll = LoadLibraryExW(L"winhttp.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
        if (!dll) return nullptr;
        FARPROC proc = GetProcAddress(dll, "WinHttpGetIEProxyConfigForCurrentUser");
        // Through void (*)(), the one function pointer type GCC lets convert to any other
        // without -Wcast-function-type.
        return reinterpret_cast<GetIEProxyConfig>(reinterpret_cast<void (*)()>(proc));
    }();
    return entry;
}

// A string WinHTTP allocated for the caller, as UTF-8; released here (GlobalFree).
std::string take(LPWSTR text) {
    if (!text) return {};
    std::string out = win32::narrow(text);
    GlobalFree(text);
    return out;
}

}  // namespace

std::optional<SystemProxySettings> system_proxy_settings() {
    GetIEProxyConfig get = winhttp_entry();
    if (!get) return std::nullopt;
    WINHTTP_CURRENT_USER_IE_PROXY_CONFIG config{};
    if (!get(&config)) return std::nullopt;
    SystemProxySettings settings;
    settings.auto_detect = config.fAutoDetect != FALSE;
    settings.auto_config_url = take(config.lpszAutoConfigUrl);
    settings.proxy = take(config.lpszProxy);
    settings.bypass = take(config.lpszProxyBypass);
    return settings;
}

}  // namespace mcp_auth
