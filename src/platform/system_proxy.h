#pragma once
// The system's proxy settings, for the composition root to use when the environment sets
// no proxy variable (cli/compose.cpp decides; core/ie_proxy.h says what the settings mean
// and picks a proxy from them).
//
// Windows (win32/system_proxy.cpp): the current user's Internet Options, through WinHTTP's
// WinHttpGetIEProxyConfigForCurrentUser (which also applies a machine-wide policy). WinHTTP
// is loaded from System32 on the first call, not linked: a process that never asks (a
// proxy variable is set, or every server is on loopback) does not pay for the DLL.
// POSIX (posix/system_proxy.cpp): none. The environment's variables are the convention
// there, and desktop settings (GNOME's, macOS's) are not read.
#include <optional>

#include "core/ie_proxy.h"

namespace mcp_auth {

// The settings, or nullopt when the system has none (always on POSIX) or they cannot be
// read. Auto-detection and a setup script are reported in the result, not used.
std::optional<SystemProxySettings> system_proxy_settings();

}  // namespace mcp_auth
