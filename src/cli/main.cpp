// mcp-auth's entry point: parses the command line, builds the composition root
// (cli/compose.h) and runs the command (cli/commands.h). Exceptions end here, as exit
// code 1 with a message.
#include <exception>
#include <string>
#include <type_traits>
#include <variant>

#include "cli/commands.h"
#include "cli/compose.h"
#include "cli/options.h"
#include "platform/environment.h"
#include "platform/process.h"

namespace mcp_auth {
namespace {

int run(int argc, char** argv) {
    Command command = parse_command_line(command_line_arguments(argc, argv));
    if (const auto* exit = std::get_if<ExitNow>(&command)) return exit->code;
    Wiring wiring(common_options(command));
    try {
        return std::visit(
            [&](const auto& c) {
                using T = std::decay_t<decltype(c)>;
                if constexpr (std::is_same_v<T, ProxyCommand>) return run_proxy(c, wiring);
                if constexpr (std::is_same_v<T, LoginCommand>) return run_login(c, wiring);
                if constexpr (std::is_same_v<T, TokenCommand>) return run_token(c, wiring);
                if constexpr (std::is_same_v<T, StatusCommand>) return run_status(c, wiring);
                if constexpr (std::is_same_v<T, LogoutCommand>) return run_logout(c, wiring);
                if constexpr (std::is_same_v<T, ExitNow>) return c.code;
            },
            command);
    } catch (const std::exception& e) {
        wiring.log().error(std::string("internal error (") + e.what() +
                           "); exiting. Please report this bug.");
        return kExitError;
    }
}

}  // namespace
}  // namespace mcp_auth

int main(int argc, char** argv) {
    using namespace mcp_auth;
    prepare_process(argv[0]);
    try {
        return run(argc, argv);
    } catch (...) {  // before the log exists (parsing), or not an std::exception
        die_of_uncaught_exception();
    }
}
