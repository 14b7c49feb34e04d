#pragma once
// Where mcp-auth keeps state on this platform, from the environment it is given (the
// composition root passes it as an EnvLookup; nothing here reads the environment itself).
// On Windows (win32/paths.cpp, which says why not AppData): %USERPROFILE%\.mcp-auth, with
// the same rule that a relative or empty value is ignored and "" is returned when nothing
// absolute is known.
#include <string>

#include "core/headers.h"

namespace mcp_auth {

// POSIX: $XDG_STATE_HOME/mcp-auth, else $HOME/.local/state/mcp-auth; "" when neither is
// set to an absolute path (relative values are ignored, as the XDG Base Directory spec
// asks). Callers must refuse "" (never fall back to the current directory).
std::string state_directory(const EnvLookup& env);

}  // namespace mcp_auth
