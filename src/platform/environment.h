#pragma once
// The process's command line and environment, as UTF-8 on every platform. Only the
// composition root (src/cli) calls these; everything below it is given an EnvLookup.
//
// POSIX passes bytes through as they are. A win32 sibling reads the wide (UTF-16) forms,
// GetCommandLineW + CommandLineToArgvW and _wgetenv/_wputenv_s, and converts them: the
// narrow forms the C runtime offers are in the ANSI code page, which mangles any
// character outside it (a user name with accents in a path, a token in a header).
#include <optional>
#include <string>
#include <vector>

namespace mcp_auth {

// The arguments after the program name, UTF-8. `argc`/`argv` are main()'s: used as they
// are on POSIX, ignored on Windows (the wide command line is the original).
std::vector<std::string> command_line_arguments(int argc, char** argv);

// The value of the environment variable `name` (UTF-8); nullopt when it is not set.
std::optional<std::string> environment_variable(const std::string& name);

// Sets `name` to `value` unless it is already set (for libraries that read the
// environment themselves). Call before starting threads.
void set_environment_default(const std::string& name, const std::string& value);

}  // namespace mcp_auth
