// platform/paths.h on Windows: %USERPROFILE%\.mcp-auth, not AppData. Claude Desktop's
// default distribution is an MSIX package, and what a packaged app and its children (an
// mcp-auth it starts) create under AppData is written to the package's private copy
// (%LOCALAPPDATA%\Packages\<package>\LocalCache\...), which only the package sees; the
// user's profile outside AppData is not redirected. So the locks and the file store are
// the same files for a host-started instance and a terminal's `mcp-auth login`, packaged
// or not (ARCHITECTURE.md, "Windows"). The keychain (Credential Manager) is not redirected
// either.
#include "platform/paths.h"

namespace mcp_auth {
namespace {

// "C:\..." or "C:/...", or a UNC path "\\server\share\...": never a drive-relative "C:x"
// or a rooted "\x" (both depend on the current drive or directory).
bool absolute(const std::string& path) {
    auto separator = [](char c) { return c == '\\' || c == '/'; };
    if (path.size() >= 3 &&
        ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
        path[1] == ':' && separator(path[2]))
        return true;
    return path.size() >= 3 && separator(path[0]) && separator(path[1]) && !separator(path[2]);
}

}  // namespace

std::string state_directory(const EnvLookup& env) {
    auto profile = env("USERPROFILE");
    if (!profile || !absolute(*profile)) return {};
    std::string dir = *profile;
    while (dir.size() > 3 && (dir.back() == '\\' || dir.back() == '/')) dir.pop_back();
    if (dir.back() != '\\' && dir.back() != '/') dir += '\\';
    return dir + ".mcp-auth";
}

}  // namespace mcp_auth
