#include "platform/paths.h"

namespace mcp_auth {

std::string state_directory(const EnvLookup& env) {
    auto absolute = [&](const char* name) {
        auto value = env(name);
        return value && !value->empty() && (*value)[0] == '/' ? *value : std::string();
    };
    if (auto state = absolute("XDG_STATE_HOME"); !state.empty()) return state + "/mcp-auth";
    if (auto home = absolute("HOME"); !home.empty()) return home + "/.local/state/mcp-auth";
    return {};
}

}  // namespace mcp_auth
