#pragma once
// MCP Streamable HTTP request metadata: which headers a client message carries, in the
// legacy (2025-06-18 / 2025-11-25) and modern (2026-07-28) eras. Pure logic.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/headers.h"

namespace mcp_auth::mcp {

using nlohmann::json;

inline constexpr std::string_view kProtocolVersionMeta = "io.modelcontextprotocol/protocolVersion";
inline constexpr std::string_view kFirstModernVersion = "2026-07-28";

// Protocol revisions are dates, so they order as strings.
bool is_modern_version(std::string_view version);

// The version a message declares in params._meta (modern era), or "".
std::string declared_version(const json& message);

// Encodes a value for Mcp-Name / Mcp-Param-*: plain when it is visible ASCII without
// leading or trailing blanks, else the "=?base64?...?=" sentinel form.
std::string encode_header_value(std::string_view value);

// Tools whose inputSchema mirrors arguments into Mcp-Param-{Name} headers (x-mcp-header).
class ToolHeaderMap {
public:
    struct Param {
        std::string header;             // the x-mcp-header value
        std::vector<std::string> path;  // property names from the schema root
    };
    struct Rejected {
        std::string tool;
        std::string reason;
    };

    // Learns from a tools/list result and removes the tools whose annotations are
    // invalid, as the 2026-07-28 transport requires. Returns what it removed.
    std::vector<Rejected> learn(json& list_result);

    // The Mcp-Param-* headers for a tools/call of `tool` with `arguments`.
    HeaderList headers_for(const std::string& tool, const json& arguments) const;

    bool empty() const { return tools_.empty(); }

private:
    std::map<std::string, std::vector<Param>> tools_;
};

// The metadata headers for one client→server message. `negotiated_version` is the
// version agreed at initialize (legacy era), "" before that or for modern servers.
HeaderList request_metadata(const json& message, std::string_view method,
                            std::string_view negotiated_version, const ToolHeaderMap& tools);

}  // namespace mcp_auth::mcp
