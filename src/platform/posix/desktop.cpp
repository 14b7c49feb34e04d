#include "platform/desktop.h"

namespace mcp_auth {

bool graphical_session(const EnvLookup& env) {
#if defined(__APPLE__)
    (void)env;
    return true;
#else
    auto set = [&](const char* name) { return !env(name).value_or("").empty(); };
    return set("DISPLAY") || set("WAYLAND_DISPLAY");
#endif
}

std::vector<std::string> default_url_opener(const std::string& url) {
#if defined(__APPLE__)
    return {"open", url};
#else
    return {"xdg-open", url};
#endif
}

}  // namespace mcp_auth
