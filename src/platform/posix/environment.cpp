#include "platform/environment.h"

#include <cstdlib>

namespace mcp_auth {

std::vector<std::string> command_line_arguments(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    return args;
}

std::optional<std::string> environment_variable(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
}

void set_environment_default(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 0);
}

}  // namespace mcp_auth
