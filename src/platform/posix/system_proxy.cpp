// platform/system_proxy.h on POSIX: no system proxy settings beyond the environment's.
#include "platform/system_proxy.h"

namespace mcp_auth {

std::optional<SystemProxySettings> system_proxy_settings() {
    return std::nullopt;
}

}  // namespace mcp_auth
