#pragma once
// The desktop the user sits at: whether a browser can be shown, and the platform's way
// of opening a URL.
#include <string>
#include <vector>

#include "core/headers.h"

namespace mcp_auth {

// Whether a graphical session exists (Linux: DISPLAY or WAYLAND_DISPLAY; macOS: always).
bool graphical_session(const EnvLookup& env);

// The platform's URL opener as an argv ("xdg-open URL", "open URL").
std::vector<std::string> default_url_opener(const std::string& url);

}  // namespace mcp_auth
