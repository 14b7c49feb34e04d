#include "core/headers.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace mcp_auth {

std::optional<std::string> expand_env(std::string_view text, const EnvLookup& env,
                                      std::string* error) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '$' || i + 1 >= text.size()) {
            out.push_back(c);
        } else if (text[i + 1] == '$') {
            out.push_back('$');
            ++i;
        } else if (text[i + 1] == '{') {
            size_t close = text.find('}', i + 2);
            if (close == std::string_view::npos) {
                if (error) *error = "unterminated ${ in \"" + std::string(text) + "\"";
                return std::nullopt;
            }
            std::string name(text.substr(i + 2, close - i - 2));
            bool valid =
                !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char ch) {
                    return std::isalnum(ch) || ch == '_';
                });
            if (!valid) {
                if (error) *error = "invalid variable name \"${" + name + "}\"";
                return std::nullopt;
            }
            auto value = env(name);
            if (!value) {
                if (error) *error = "environment variable " + name + " is not set";
                return std::nullopt;
            }
            out += *value;
            i = close;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

bool is_token(std::string_view name) {
    static constexpr const char* kSpecials = "!#$%&'*+-.^_`|~";
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || (c != 0 && std::strchr(kSpecials, c) != nullptr);
    });
}

bool is_safe_header_value(std::string_view value) {
    return std::none_of(value.begin(), value.end(),
                        [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; });
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<Header> parse_header(std::string_view spec, const EnvLookup& env,
                                   std::string* error) {
    size_t colon = spec.find(':');
    if (colon == std::string_view::npos) {
        if (error) *error = "expected \"Name: value\", got \"" + std::string(spec) + "\"";
        return std::nullopt;
    }
    std::string_view name = spec.substr(0, colon);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!is_token(name)) {
        if (error) *error = "invalid header name \"" + std::string(name) + "\"";
        return std::nullopt;
    }
    std::string_view raw = spec.substr(colon + 1);
    while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) raw.remove_prefix(1);
    std::string expand_error;
    auto value = expand_env(raw, env, &expand_error);
    if (!value) {
        if (error) *error = "header " + std::string(name) + ": " + expand_error;
        return std::nullopt;
    }
    if (!is_safe_header_value(*value)) {
        // The value may hold a secret: name the header, never echo the value.
        if (error)
            *error = "header " + std::string(name) + ": the value contains control characters";
        return std::nullopt;
    }
    return Header{std::string(name), std::move(*value)};
}

std::string find_header(const HeaderList& headers, std::string_view name) {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return h.value;
    return {};
}

}  // namespace mcp_auth
