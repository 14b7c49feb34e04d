// Fuzzes the login callback path (src/url.cpp, src/oauth_flow.cpp): the query string the
// browser brings to the loopback listener, its judgement against the login in progress,
// and the HTML page shown in reply.
//
// The input is the query string (what follows '?' in GET /callback?...). Invariants:
//  - check_callback follows RFC 6749 §4.1.2 / RFC 9207 exactly (a reference model):
//    state first, then iss, then error, then code; a success returns the code;
//  - a state mismatch says nothing from the query (the same message as for an empty one);
//    an iss mismatch never shows error or error_description (the message does not change
//    when they do);
//  - html_escape leaves no markup characters and unescapes back to its input; the callback
//    page for any message (the verdict's, or the raw decoded query) has exactly the
//    template's tags and quotes, so never a '<script' or an attribute from the input;
//  - percent_decode(percent_encode(s)) == s; parse_query(form_encode(q)) == q; the query
//    appended to a URL parses back; decoding never makes text longer.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/oauth_flow.h"
#include "core/url.h"
#include "fuzz_common.h"

namespace oauth = mcp_auth::oauth;
using mcp_auth::QueryParams;

namespace {

oauth::AuthorizationRequest request(std::string state, std::string issuer, bool iss_required) {
    oauth::AuthorizationRequest r;
    r.url = "https://auth.example.com/authorize?response_type=code";
    r.state = std::move(state);
    r.verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    r.redirect_uri = "http://127.0.0.1:33418/callback";
    r.scope = "search offline_access";
    r.issuer = std::move(issuer);
    r.iss_required = iss_required;
    return r;
}

std::string unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        bool matched = false;
        for (auto [entity, c] :
             {std::pair{"&amp;", '&'}, std::pair{"&lt;", '<'}, std::pair{"&gt;", '>'},
              std::pair{"&quot;", '"'}, std::pair{"&#39;", '\''}}) {
            std::string_view e(entity);
            if (s.substr(i, e.size()) == e) {
                out.push_back(c);
                i += e.size();
                matched = true;
                break;
            }
        }
        if (!matched) out.push_back(s[i++]);
    }
    return out;
}

size_t count_markup(std::string_view page) {
    return static_cast<size_t>(std::count_if(page.begin(), page.end(), [](char c) {
        return c == '<' || c == '>' || c == '"' || c == '\'';
    }));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

void check_page(bool success, const std::string& message) {
    std::string escaped = oauth::html_escape(message);
    FUZZ_CHECK(escaped.find_first_of("<>\"'") == std::string::npos,
               "html_escape left markup: " + fuzz::show(escaped));
    FUZZ_CHECK(unescape(escaped) == message,
               "html_escape is not reversible for " + fuzz::show(message));
    std::string page = oauth::callback_page(success, message);
    std::string empty = oauth::callback_page(success, "");
    FUZZ_CHECK(count_markup(page) == count_markup(empty),
               "the message added markup to the page: " + fuzz::show(message));
    FUZZ_CHECK(page.size() == empty.size() + escaped.size(), "the page is not template + message");
    FUZZ_CHECK(lower(page).find("<script") == std::string::npos,
               "a <script in the page for " + fuzz::show(message));
}

QueryParams replace_values(QueryParams q, std::string_view name, const std::string& with) {
    for (auto& [n, v] : q)
        if (n == name) v = with;
    return q;
}

void check_judgement(const QueryParams& q, const oauth::AuthorizationRequest& req) {
    auto got = oauth::check_callback(q, req);
    auto state = mcp_auth::query_value(q, "state");
    auto iss = mcp_auth::query_value(q, "iss");
    auto error = mcp_auth::query_value(q, "error");
    auto code = mcp_auth::query_value(q, "code");

    // The reference model, in the order the checks must happen.
    if (!state || *state != req.state) {
        FUZZ_CHECK(!got && got.error().kind == mcp_auth::ErrorKind::Invalid,
                   "state mismatch accepted");
        auto blank = oauth::check_callback({}, req);
        FUZZ_CHECK(
            got.error().message == blank.error().message,
            "a foreign redirect's text reached the message: " + fuzz::show(got.error().message));
    } else if (iss && *iss != req.issuer) {
        FUZZ_CHECK(!got && got.error().kind == mcp_auth::ErrorKind::Invalid,
                   "iss mismatch accepted");
        auto masked =
            replace_values(replace_values(q, "error_description", "\x01masked-description"),
                           "error", "\x01masked-error");
        auto again = oauth::check_callback(masked, req);
        FUZZ_CHECK(
            !again && again.error().message == got.error().message,
            "an iss mismatch shows the server's error text: " + fuzz::show(got.error().message));
    } else if (!iss && req.iss_required) {
        FUZZ_CHECK(!got && got.error().kind == mcp_auth::ErrorKind::Invalid,
                   "missing iss accepted");
    } else if (error) {
        FUZZ_CHECK(
            !got && got.error().kind == mcp_auth::ErrorKind::Auth && got.error().code == *error,
            "an error response judged wrongly");
        FUZZ_CHECK(got.error().message.find(*error) != std::string::npos,
                   "the error code is not named");
    } else if (!code || code->empty()) {
        FUZZ_CHECK(!got && got.error().kind == mcp_auth::ErrorKind::Invalid, "no code accepted");
    } else {
        FUZZ_CHECK(got.ok() && *got == *code, "a valid callback refused or wrong code");
    }
    // What the loopback listener shows for this verdict.
    check_page(got.ok(), got ? "mcp-auth received the login for https://mcp.example.com/mcp."
                             : got.error().message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    QueryParams q = mcp_auth::parse_query(input);

    check_judgement(q, request("st-7Hq2k9", "https://auth.example.com", true));
    check_judgement(q, request("", "http://127.0.0.1:4444", false));
    // A login whose state and issuer are the query's own: the later checks get fuzzed too.
    check_judgement(q, request(mcp_auth::query_value(q, "state").value_or("x"),
                               mcp_auth::query_value(q, "iss").value_or("https://auth.example.com"),
                               size % 2 == 1));

    // Encoding round trips.
    for (bool plus : {true, false}) {
        std::string decoded = mcp_auth::percent_decode(input, plus);
        FUZZ_CHECK(decoded.size() <= input.size(), "decoding made the text longer");
        FUZZ_CHECK(mcp_auth::percent_decode(mcp_auth::percent_encode(input), plus) == input,
                   "percent_encode/decode round trip for " + fuzz::show(input));
        check_page(false, decoded);
    }
    std::string encoded = mcp_auth::percent_encode(input);
    for (char c : encoded)
        FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(c)) ||
                       std::string_view("-._~%").find(c) != std::string_view::npos,
                   "percent_encode left " + fuzz::show(encoded));
    std::string form = mcp_auth::form_encode(q);
    FUZZ_CHECK(mcp_auth::parse_query(form) == q,
               "form_encode/parse_query round trip: " + fuzz::show(form));
    for (const char* base :
         {"http://127.0.0.1:33418/callback", "https://auth.example.com/authorize?x=1"}) {
        std::string url = mcp_auth::append_query(base, q);
        std::string_view rest(url);
        rest.remove_prefix(std::string_view(base).size() + 1);
        FUZZ_CHECK(mcp_auth::parse_query(rest) == q, "append_query: " + fuzz::show(url));
    }
    return 0;
}
