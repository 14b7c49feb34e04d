// Fuzzes the WWW-Authenticate parser (src/www_authenticate.cpp).
//
// The input is one header value as a server (or anything between it and us) may send.
// Invariants:
//  - every challenge has a non-empty lower-case token as its scheme, lower-case token
//    parameter names, and a token68 made only of token68 characters;
//  - find_bearer_challenge agrees with the first "bearer" of parse_www_authenticate;
//  - blanks and commas around the value change nothing (RFC 9110 list syntax);
//  - the challenges written back in canonical form (quoted parameter values) parse to
//    the same challenges: what we read is what the header said.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/www_authenticate.h"
#include "fuzz_common.h"

using mcp_auth::Challenge;

namespace {

bool is_tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_lower_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c) || std::isupper(static_cast<unsigned char>(c))) return false;
    return true;
}

bool is_token68(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) ||
                            std::string_view("-._~+/").find(s[i]) != std::string_view::npos))
        ++i;
    while (i < s.size() && s[i] == '=') ++i;
    return i == s.size();
}

bool same(const std::vector<Challenge>& a, const std::vector<Challenge>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].scheme != b[i].scheme || a[i].params != b[i].params ||
            a[i].token68 != b[i].token68)
            return false;
    return true;
}

std::string describe(const std::vector<Challenge>& cs) {
    std::string out = std::to_string(cs.size()) + " challenges:";
    for (const auto& c : cs) {
        out += " [" + c.scheme;
        if (!c.token68.empty()) out += " t68=" + fuzz::show(c.token68, 40);
        for (const auto& [k, v] : c.params) out += " " + k + "=" + fuzz::show(v, 40);
        out += "]";
    }
    return out;
}

std::string quote(const std::string& value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

std::string serialize(const std::vector<Challenge>& cs) {
    std::string out;
    for (const auto& c : cs) {
        if (!out.empty()) out += ", ";
        out += c.scheme;
        bool first = true;
        if (!c.token68.empty()) {
            out += " " + c.token68;
            first = false;
        }
        for (const auto& [name, value] : c.params) {
            out += first ? " " : ", ";
            out += name + "=" + quote(value);
            first = false;
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto challenges = mcp_auth::parse_www_authenticate(input);

    for (const auto& c : challenges) {
        FUZZ_CHECK(is_lower_token(c.scheme), "scheme " + fuzz::show(c.scheme));
        FUZZ_CHECK(is_token68(c.token68), "token68 " + fuzz::show(c.token68));
        for (const auto& [name, value] : c.params)
            FUZZ_CHECK(is_lower_token(name), "parameter name " + fuzz::show(name));
    }

    auto bearer = mcp_auth::find_bearer_challenge(input);
    const Challenge* first = nullptr;
    for (const auto& c : challenges)
        if (c.scheme == "bearer") {
            first = &c;
            break;
        }
    FUZZ_CHECK(bearer.has_value() == (first != nullptr), describe(challenges));
    if (bearer) FUZZ_CHECK(same({*bearer}, {*first}), describe(challenges));

    std::string padded = " ,\t" + std::string(input) + " , ";
    auto again = mcp_auth::parse_www_authenticate(padded);
    FUZZ_CHECK(same(challenges, again), fuzz::show(input) + " gives " + describe(challenges) +
                                            "; padded gives " + describe(again));

    std::string canonical = serialize(challenges);
    auto reread = mcp_auth::parse_www_authenticate(canonical);
    FUZZ_CHECK(same(challenges, reread), fuzz::show(input) + " gives " + describe(challenges) +
                                             "; written as " + fuzz::show(canonical) +
                                             " it gives " + describe(reread));
    return 0;
}
