#pragma once
// The desktop the user sits at: whether a browser can be shown, and the platform's way of
// opening a URL (platform/posix/desktop.cpp: Linux and macOS; platform/win32/desktop.cpp).
// A URL never goes through a shell: cmd.exe reads a URL's '&' and '^' as its own syntax.
#include <string>
#include <vector>

#include "core/headers.h"
#include "ports/log.h"

namespace mcp_auth {

// Whether a graphical session exists (Linux: DISPLAY or WAYLAND_DISPLAY; macOS and
// Windows: always).
bool graphical_session(const EnvLookup& env);

#if defined(_WIN32)
// Opens `url` (an absolute http(s) URL of RFC 3986 characters: the caller checks) in the
// user's default browser, through the shell's association for its scheme: ShellExecuteExW,
// on a thread of its own. While our environment holds a secret variable (platform/spawn.h),
// which ShellExecuteExW would hand on to a browser it starts, the same shell call is made
// by `rundll32.exe url.dll,FileProtocolHandler URL` instead, started by spawn_detached
// without the secrets. True when the shell took the URL; says on the log why not.
bool open_url_with_shell(const std::string& url, Log& log);
#else
// The platform's URL opener as an argv ("xdg-open URL", "open URL").
std::vector<std::string> default_url_opener(const std::string& url);
#endif

}  // namespace mcp_auth
