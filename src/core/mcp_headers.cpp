#include "core/mcp_headers.h"

#include <algorithm>
#include <cctype>

#include "core/base64.h"

namespace mcp_auth::mcp {

bool is_modern_version(std::string_view version) {
    return !version.empty() && version >= kFirstModernVersion;
}

std::string declared_version(const json& message) {
    auto params = message.find("params");
    if (params == message.end() || !params->is_object()) return {};
    auto meta = params->find("_meta");
    if (meta == params->end() || !meta->is_object()) return {};
    auto version = meta->find(kProtocolVersionMeta);
    return version != meta->end() && version->is_string() ? version->get<std::string>()
                                                          : std::string();
}

std::string encode_header_value(std::string_view value) {
    bool plain = !value.empty() && value.front() != ' ' && value.front() != '\t' &&
                 value.back() != ' ' && value.back() != '\t' &&
                 std::all_of(value.begin(), value.end(),
                             [](unsigned char c) { return (c >= 0x20 && c <= 0x7e) || c == '\t'; });
    bool looks_encoded = value.size() >= 11 && value.substr(0, 9) == "=?base64?" &&
                         value.substr(value.size() - 2) == "?=";
    if (plain && !looks_encoded) return std::string(value);
    return "=?base64?" + base64_encode(value) + "?=";
}

namespace {

struct SchemaWalk {
    std::vector<ToolHeaderMap::Param> params;
    std::string problem;
};

// Deeper schemas are refused rather than walked: a hostile server must not exhaust the stack.
constexpr size_t kMaxSchemaDepth = 64;

void walk(const json& node, std::vector<std::string>& path, bool reachable, bool is_schema,
          SchemaWalk& out, size_t depth = 0) {
    if (!out.problem.empty()) return;
    if (depth > kMaxSchemaDepth) {
        out.problem = "the inputSchema is nested too deeply";
        return;
    }
    if (node.is_array()) {
        for (const auto& item : node) walk(item, path, false, true, out, depth + 1);
        return;
    }
    if (!node.is_object()) return;
    if (is_schema) {
        auto annotation = node.find("x-mcp-header");
        if (annotation != node.end()) {
            if (!reachable || path.empty()) {
                out.problem =
                    "x-mcp-header is only allowed on properties reachable through \"properties\"";
                return;
            }
            if (!annotation->is_string() || !is_token(annotation->get<std::string>())) {
                out.problem = "x-mcp-header must be a non-empty HTTP token";
                return;
            }
            auto type = node.find("type");
            if (type == node.end() || !type->is_string() ||
                (*type != "string" && *type != "integer" && *type != "boolean")) {
                out.problem =
                    "x-mcp-header is only allowed on string, integer or boolean properties";
                return;
            }
            std::string name = annotation->get<std::string>();
            for (const auto& seen : out.params) {
                if (iequals(seen.header, name)) {
                    out.problem = "x-mcp-header \"" + name + "\" is used twice";
                    return;
                }
            }
            out.params.push_back({name, path});
        }
    }
    for (const auto& [key, child] : node.items()) {
        if (is_schema && key == "properties" && child.is_object()) {
            for (const auto& [name, schema] : child.items()) {
                path.push_back(name);
                walk(schema, path, reachable, true, out, depth + 2);
                path.pop_back();
            }
        } else if (child.is_structured()) {
            walk(child, path, false, true, out, depth + 1);
        }
    }
}

// Reads the argument at `path`; empty when absent, null or of a type headers cannot carry.
std::string argument_text(const json& arguments, const std::vector<std::string>& path,
                          bool* present) {
    const json* node = &arguments;
    for (const auto& key : path) {
        if (!node->is_object()) return *present = false, std::string();
        auto it = node->find(key);
        if (it == node->end()) return *present = false, std::string();
        node = &*it;
    }
    *present = true;
    if (node->is_string()) return node->get<std::string>();
    if (node->is_boolean()) return node->get<bool>() ? "true" : "false";
    if (node->is_number_integer()) return node->dump();
    *present = false;
    return {};
}

}  // namespace

std::vector<ToolHeaderMap::Rejected> ToolHeaderMap::learn(json& list_result) {
    std::vector<Rejected> rejected;
    auto tools = list_result.find("tools");
    if (tools == list_result.end() || !tools->is_array()) return rejected;
    std::vector<bool> keep;
    for (auto& tool : *tools) {
        std::string name = tool.is_object() && tool.contains("name") && tool["name"].is_string()
                               ? tool["name"].get<std::string>()
                               : std::string();
        SchemaWalk result;
        if (tool.is_object() && tool.contains("inputSchema")) {
            std::vector<std::string> path;
            walk(tool["inputSchema"], path, true, true, result);
        }
        keep.push_back(result.problem.empty());
        if (!result.problem.empty()) {
            rejected.push_back({name, result.problem});
            tools_.erase(name);
            continue;
        }
        if (result.params.empty()) {
            tools_.erase(name);
        } else {
            tools_[name] = std::move(result.params);
        }
    }
    if (!rejected.empty()) {
        json kept = json::array();
        for (size_t i = 0; i < keep.size(); ++i)
            if (keep[i]) kept.push_back(std::move((*tools)[i]));
        *tools = std::move(kept);
    }
    return rejected;
}

HeaderList ToolHeaderMap::headers_for(const std::string& tool, const json& arguments) const {
    HeaderList out;
    auto it = tools_.find(tool);
    if (it == tools_.end()) return out;
    for (const auto& param : it->second) {
        bool present = false;
        std::string text = argument_text(arguments, param.path, &present);
        if (present) out.push_back({"Mcp-Param-" + param.header, encode_header_value(text)});
    }
    return out;
}

HeaderList request_metadata(const json& message, std::string_view method,
                            std::string_view negotiated_version, const ToolHeaderMap& tools) {
    HeaderList out;
    std::string version = declared_version(message);
    if (version.empty()) version = std::string(negotiated_version);
    // Values from the body go into headers only when they cannot inject one (CR, LF).
    if (!version.empty() && is_safe_header_value(version))
        out.push_back({"MCP-Protocol-Version", version});
    if (method.empty()) return out;  // a response to a server request
    if (is_safe_header_value(method)) out.push_back({"Mcp-Method", std::string(method)});
    auto params = message.find("params");
    if (params == message.end() || !params->is_object()) return out;
    if (method == "tools/call" || method == "prompts/get" || method == "resources/read") {
        const char* key = method == "resources/read" ? "uri" : "name";
        auto name = params->find(key);
        if (name != params->end() && name->is_string()) {
            out.push_back({"Mcp-Name", encode_header_value(name->get<std::string>())});
            if (method == "tools/call" && params->contains("arguments")) {
                for (auto& header :
                     tools.headers_for(name->get<std::string>(), (*params)["arguments"]))
                    out.push_back(std::move(header));
            }
        }
    }
    return out;
}

}  // namespace mcp_auth::mcp
