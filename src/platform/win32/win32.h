#pragma once
// What the win32 platform files share: windows.h included the one right way, UTF-8 <->
// UTF-16 (the API speaks UTF-16; mcp-auth's strings are UTF-8), the text of a system
// error, and the names spawn.cpp keeps secret (desktop.cpp must know whether the shell
// would hand any of them to a browser). For the Windows sources of platform and adapters only.
// clang-format off
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>  // before windows.h, wherever both meet in one translation unit
#include <windows.h>
// clang-format on

#include <string>
#include <string_view>

namespace mcp_auth::win32 {

// UTF-8 to UTF-16. Invalid UTF-8 becomes U+FFFD (it cannot name a file we created).
inline std::wstring widen(std::string_view text) {
    if (text.empty()) return {};
    int n = MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
    std::wstring out(static_cast<size_t>(n > 0 ? n : 0), L'\0');
    if (n > 0)
        MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), n);
    return out;
}

// UTF-16 to UTF-8. A lone surrogate becomes U+FFFD.
inline std::string narrow(std::wstring_view text) {
    if (text.empty()) return {};
    int n = WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0,
                                nullptr, nullptr);
    std::string out(static_cast<size_t>(n > 0 ? n : 0), '\0');
    if (n > 0)
        WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), n,
                            nullptr, nullptr);
    return out;
}

// The system's text for an error code, in one line, with the code ("Access is denied
// (error 5)").
inline std::string error_text(DWORD code) {
    wchar_t* buffer = nullptr;
    DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_MAX_WIDTH_MASK,
                             nullptr, code, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
    std::string text = n && buffer ? narrow(std::wstring_view(buffer, n)) : std::string();
    if (buffer) LocalFree(buffer);
    while (!text.empty() && (text.back() == ' ' || text.back() == '.')) text.pop_back();
    if (text.empty()) text = "system error";
    return text + " (error " + std::to_string(code) + ")";
}

// A HANDLE as the int the platform headers carry (handles fit in 32 bits, sign-extended:
// Windows keeps them so for 32-bit interoperability), and back.
inline int handle_to_int(HANDLE h) {
    return h == INVALID_HANDLE_VALUE || h == nullptr
               ? -1
               : static_cast<int>(reinterpret_cast<intptr_t>(h));
}
inline HANDLE int_to_handle(int value) {
    return value < 0 ? INVALID_HANDLE_VALUE
                     : reinterpret_cast<HANDLE>(static_cast<intptr_t>(value));
}

// Whether our environment holds a variable no child may see (spawn.cpp's list), so that
// an API that starts a process with our whole environment (ShellExecuteW) is not used.
bool environment_has_secrets();

}  // namespace mcp_auth::win32
