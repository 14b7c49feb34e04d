#pragma once
// The desktop the user sits at: whether a browser can be shown, and the platform's way
// of opening a URL (platform/posix/desktop.cpp: Linux and macOS). A win32 sibling: always
// a graphical session, and an opener that does not go through cmd.exe (a URL's '&' and
// '^' are shell syntax there): rundll32 url.dll,FileProtocolHandler URL.
#include <string>
#include <vector>

#include "core/headers.h"

namespace mcp_auth {

// Whether a graphical session exists (Linux: DISPLAY or WAYLAND_DISPLAY; macOS: always).
bool graphical_session(const EnvLookup& env);

// The platform's URL opener as an argv ("xdg-open URL", "open URL").
std::vector<std::string> default_url_opener(const std::string& url);

}  // namespace mcp_auth
