#pragma once
// The tools a user lets through to the host: --allow-tool GLOB and --deny-tool GLOB
// (repeatable; '*' wildcards, core/glob.h; case-sensitive, as tool names are). With no
// --allow-tool every tool is allowed; with some, a tool must match one of them; a
// --deny-tool match always wins. The relay removes refused tools from every tools/list
// result it passes on and answers a tools/call of one itself, with an error naming the
// rule, without sending it (app/relay).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcp_auth {

struct ToolFilter {
    std::vector<std::string> allow;  // empty: every tool
    std::vector<std::string> deny;   // wins over allow

    bool active() const { return !allow.empty() || !deny.empty(); }

    // nullopt when the tool may be used; else the rule that refuses it, as the user wrote
    // it ("--deny-tool 'delete_*'", "no --allow-tool matches it").
    std::optional<std::string> refusal(std::string_view tool) const;

    // Removes the tools it refuses from a tools/list result ({"tools": [...], ...}; a tool
    // without a string name counts as named ""). Returns the names removed, in order.
    std::vector<std::string> filter_list(nlohmann::json& result) const;

    // The JSON-RPC error a refused tools/call gets: an unknown tool, as MCP says (-32602),
    // with the rule in the message.
    static std::string refused_call(const nlohmann::json& id, std::string_view tool,
                                    const std::string& rule);
};

}  // namespace mcp_auth
