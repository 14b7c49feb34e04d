#include "core/www_authenticate.h"
#include "core/headers.h"

#include <cctype>

namespace mcp_auth {
namespace {

bool is_tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

class Scanner {
public:
    explicit Scanner(std::string_view s) : s_(s) {}
    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
    }
    void skip_space_and_commas() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
    }
    bool done() const { return i_ >= s_.size(); }
    char peek() const { return done() ? '\0' : s_[i_]; }
    void advance() { ++i_; }
    size_t pos() const { return i_; }
    void seek(size_t p) { i_ = p; }
    std::string_view token() {
        size_t start = i_;
        while (i_ < s_.size() && is_tchar(s_[i_])) ++i_;
        return s_.substr(start, i_ - start);
    }
    // token68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    std::string_view token68() {
        size_t start = i_;
        while (i_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                std::string_view("-._~+/").find(s_[i_]) != std::string_view::npos))
            ++i_;
        while (i_ < s_.size() && s_[i_] == '=') ++i_;
        return s_.substr(start, i_ - start);
    }
    std::optional<std::string> quoted() {
        std::string out;
        ++i_;  // opening quote
        while (i_ < s_.size()) {
            char c = s_[i_++];
            if (c == '"') return out;
            if (c == '\\' && i_ < s_.size()) c = s_[i_++];
            out.push_back(c);
        }
        return std::nullopt;  // unterminated
    }

private:
    std::string_view s_;
    size_t i_ = 0;
};

}  // namespace

std::vector<Challenge> parse_www_authenticate(std::string_view value) {
    std::vector<Challenge> out;
    Scanner sc(value);
    Challenge* current = nullptr;
    while (true) {
        sc.skip_space_and_commas();
        if (sc.done()) break;
        std::string_view name = sc.token();
        if (name.empty()) {
            sc.advance();  // junk: skip one character and resynchronize
            continue;
        }
        size_t after_name = sc.pos();
        sc.skip_space();
        if (sc.peek() == '=' && current) {
            // auth-param = token BWS "=" BWS ( token / quoted-string )
            sc.advance();
            sc.skip_space();
            std::optional<std::string> v;
            if (sc.peek() == '"') {
                v = sc.quoted();
                if (!v) break;
            } else {
                v = std::string(sc.token());
            }
            current->params.emplace(ascii_lower(name), *v);
            continue;
        }
        // A new challenge: auth-scheme [ 1*SP ( token68 / #auth-param ) ]
        sc.seek(after_name);
        out.push_back(Challenge{ascii_lower(name), {}, {}});
        current = &out.back();
        sc.skip_space();
        // "realm=x" scans as the token68 "realm=" followed by more text: a parameter.
        size_t body = sc.pos();
        std::string_view t68 = sc.token68();
        sc.skip_space();
        if (!t68.empty() && (sc.done() || sc.peek() == ',')) {
            current->token68 = std::string(t68);
        } else {
            sc.seek(body);
        }
    }
    return out;
}

std::optional<Challenge> find_bearer_challenge(std::string_view value) {
    for (auto& c : parse_www_authenticate(value))
        if (c.scheme == "bearer") return c;
    return std::nullopt;
}

}  // namespace mcp_auth
