#include "core/tool_filter.h"

#include "core/glob.h"
#include "core/jsonrpc.h"

namespace mcp_auth {

namespace {

// Names and patterns longer than this are not matched (a pattern is the user's, a name the
// server's: both bounded, so is the match).
constexpr size_t kMaxName = 1024;

bool matches(std::string_view pattern, std::string_view tool) {
    return tool.size() <= kMaxName && glob_match(pattern, tool);
}

}  // namespace

std::optional<std::string> ToolFilter::refusal(std::string_view tool) const {
    for (const auto& pattern : deny)
        if (matches(pattern, tool)) return "--deny-tool '" + pattern + "'";
    if (allow.empty()) return std::nullopt;
    for (const auto& pattern : allow)
        if (matches(pattern, tool)) return std::nullopt;
    return std::string("no --allow-tool matches it");
}

std::vector<std::string> ToolFilter::filter_list(nlohmann::json& result) const {
    std::vector<std::string> removed;
    auto tools = result.find("tools");
    if (!active() || tools == result.end() || !tools->is_array()) return removed;
    nlohmann::json kept = nlohmann::json::array();
    for (auto& tool : *tools) {
        std::string name;
        if (tool.is_object()) {
            auto found = tool.find("name");
            if (found != tool.end() && found->is_string()) name = found->get<std::string>();
        }
        if (refusal(name)) {
            removed.push_back(std::move(name));
        } else {
            kept.push_back(std::move(tool));
        }
    }
    if (!removed.empty()) *tools = std::move(kept);
    return removed;
}

std::string ToolFilter::refused_call(const nlohmann::json& id, std::string_view tool,
                                     const std::string& rule) {
    return jsonrpc::error_response(id, jsonrpc::kInvalidParams,
                                   "mcp-auth: the tool \"" + std::string(tool) +
                                       "\" is filtered out (" + rule +
                                       "), so the call was not sent to the server");
}

}  // namespace mcp_auth
