// platform/environment.h on Windows: the wide command line and environment, as UTF-8.
#include "platform/environment.h"

#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <shellapi.h>
#include <stdlib.h>

namespace mcp_auth {

std::vector<std::string> command_line_arguments(int argc, char** argv) {
    (void)argc;
    (void)argv;  // in the ANSI code page: the wide command line is the original
    std::vector<std::string> args;
    int count = 0;
    wchar_t** wide = CommandLineToArgvW(GetCommandLineW(), &count);
    if (!wide) return args;
    for (int i = 1; i < count; ++i) args.push_back(win32::narrow(wide[i]));
    LocalFree(wide);
    return args;
}

std::optional<std::string> environment_variable(const std::string& name) {
    // An '=' would make _wgetenv match a longer name's entry ("A=B" finds "A").
    if (name.empty() || name.find('=') != std::string::npos) return std::nullopt;
    const wchar_t* value = _wgetenv(win32::widen(name).c_str());
    if (!value) return std::nullopt;
    return win32::narrow(value);
}

void set_environment_default(const std::string& name, const std::string& value) {
    if (environment_variable(name)) return;
    // _wputenv_s sets both the C runtime's copy and the process's (SetEnvironmentVariableW),
    // which children and libraries reading either see.
    (void)_wputenv_s(win32::widen(name).c_str(), win32::widen(value).c_str());
}

}  // namespace mcp_auth
