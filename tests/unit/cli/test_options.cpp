// The command line (src/cli/options.h, parse.cpp): to_argv writes back what the parser
// reads, for every field (so the login agent a relay starts gets every login option the
// relay was given), options before the command's name count, and an option a command
// does not take is a usage error wherever it is.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <utility>

#include "cli/options.h"

using namespace mcp_auth;

namespace {

const std::string kUrl = "https://mcp.example.test/mcp";

// A file that exists (--ca-file and --client-assertion-key are checked to exist).
std::string existing_file() {
    static const std::string path = [] {
        auto p = std::filesystem::temp_directory_path() / "mcp-auth-unit-cli-file.pem";
        std::ofstream(p) << "not a key\n";
        return p.string();
    }();
    return path;
}

// Changes every field to a value unlike its default, by its type. Strings start with "-"
// and hold spaces and "=": to_argv must keep them values.
struct ChangeField {
    int n = 0;
    void operator()(std::string& s) { s = "-value " + std::to_string(++n) + " a=b"; }
    void operator()(bool& b) { b = !b; }
    void operator()(int& i) { i += 1000 + ++n; }
    void operator()(size_t& z) { z += 1000 + static_cast<size_t>(++n); }
    void operator()(double& d) { d += 0.25 + ++n; }
    void operator()(std::vector<std::string>& v) {
        v.push_back("X-One: " + std::to_string(++n));
        v.push_back("-X-Two: two");
    }
};

// Every field of `options` (T::fields_of lists them all: == compares the same list)
// changed, then the ones the parser checks set to valid values.
template <class T>
T all_changed() {
    T o;
    ChangeField change;
    std::apply([&](auto&... field) { (change(field), ...); }, T::fields_of(o));
    return o;
}

CommonOptions changed_common() {
    auto o = all_changed<CommonOptions>();
    o.store = "file";
    o.ca_file = existing_file();
    return o;
}

LoginOptions changed_login() {
    auto o = all_changed<LoginOptions>();
    o.client_assertion_key = existing_file();
    return o;
}

RelayArgs changed_relay() {
    auto o = all_changed<RelayArgs>();
    o.max_connections = 7;  // at most 1024
    return o;
}

// How many fields of `a` equal those of `b`.
template <class T, size_t... I>
int same_fields(const T& a, const T& b, std::index_sequence<I...>) {
    auto x = T::fields_of(a);
    auto y = T::fields_of(b);
    return (0 + ... + (std::get<I>(x) == std::get<I>(y) ? 1 : 0));
}
template <class T>
int same_fields(const T& a, const T& b) {
    constexpr size_t n = std::tuple_size_v<decltype(T::fields_of(a))>;
    return same_fields(a, b, std::make_index_sequence<n>{});
}

std::vector<std::string> join(std::initializer_list<std::vector<std::string>> parts) {
    std::vector<std::string> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

template <class T>
T parsed_as(const std::vector<std::string>& args) {
    Command command = parse_command_line(args);
    const T* c = std::get_if<T>(&command);
    REQUIRE_MESSAGE(c != nullptr,
                    "not parsed as the expected command (index " << command.index() << ")");
    return *c;
}

int usage_code(const std::vector<std::string>& args) {
    Command command = parse_command_line(args);
    const ExitNow* exit = std::get_if<ExitNow>(&command);
    return exit ? exit->code : -1;
}

}  // namespace

TEST_CASE("the test's values differ from the defaults in every field") {
    CHECK(same_fields(changed_common(), CommonOptions{}) == 0);
    CHECK(same_fields(changed_login(), LoginOptions{}) == 0);
    CHECK(same_fields(changed_relay(), RelayArgs{}) == 0);
}

TEST_CASE("to_argv: parse(to_argv(options)) == options for every login option") {
    const auto common = changed_common();
    const auto login = changed_login();
    for (const char* name : {"login", "token", "proxy"}) {
        CAPTURE(name);
        auto args = join({{name, kUrl}, to_argv(common), to_argv(login)});
        Command command = parse_command_line(args);
        std::visit(
            [&](const auto& c) {
                using T = std::decay_t<decltype(c)>;
                if constexpr (std::is_same_v<T, ProxyCommand> || std::is_same_v<T, LoginCommand> ||
                              std::is_same_v<T, TokenCommand>) {
                    CHECK(c.url == kUrl);
                    CHECK(c.common == common);
                    CHECK(c.login == login);
                } else {
                    FAIL("not parsed as " << name);
                }
            },
            command);
    }
    // Defaults write nothing.
    CHECK(to_argv(LoginOptions{}).empty());
    CHECK(to_argv(CommonOptions{}).empty());
}

TEST_CASE("to_argv: the relay's own options round-trip too, before or after the command") {
    const auto relay = changed_relay();
    CHECK(parsed_as<ProxyCommand>(join({{"proxy", kUrl}, to_argv(relay)})).relay == relay);
    CHECK(parsed_as<ProxyCommand>(join({to_argv(relay), {"proxy", kUrl}})).relay == relay);
    CHECK(parsed_as<ProxyCommand>(join({to_argv(relay), {kUrl}})).relay == relay);
}

TEST_CASE("the login agent gets every login option of the relay's, and its own") {
    const auto common = changed_common();
    const auto login = changed_login();
    const std::string challenge = "Bearer resource_metadata=\"https://x/.well-known/y\"";
    auto agent = parsed_as<LoginCommand>(
        login_agent_args(kUrl, common, login, 3, challenge, "-step up scope"));
    CHECK(agent.url == kUrl);
    CHECK(agent.force);
    CHECK(agent.agent_lock_fd == 3);
    CHECK(agent.challenge == challenge);
    CHECK(agent.common == common);
    auto expected = login;
    expected.scope = "-step up scope";  // the scope the relay asks for
    CHECK(agent.login == expected);

    // No scope asked for: the relay's --scope.
    auto plain = parsed_as<LoginCommand>(login_agent_args(kUrl, common, login, 7, "", ""));
    CHECK(plain.login == login);
    CHECK(plain.agent_lock_fd == 7);
    CHECK(plain.challenge.empty());
}

TEST_CASE("options before the command's name are the command's") {
    const auto common = changed_common();
    const auto login = changed_login();
    for (const char* name : {"login", "token", "proxy"}) {
        CAPTURE(name);
        auto args = join({to_argv(common), to_argv(login), {name, kUrl}});
        if (std::string(name) == "login") {
            auto c = parsed_as<LoginCommand>(args);
            CHECK(c.common == common);
            CHECK(c.login == login);
        } else if (std::string(name) == "token") {
            auto c = parsed_as<TokenCommand>(args);
            CHECK(c.common == common);
            CHECK(c.login == login);
        } else {
            auto c = parsed_as<ProxyCommand>(args);
            CHECK(c.common == common);
            CHECK(c.login == login);
        }
    }
    // The cases of issue 9.
    CHECK(parsed_as<LoginCommand>({"--store", "file", "login", kUrl}).common.store == "file");
    auto logout = parsed_as<LogoutCommand>({"--store", "file", "logout", "--all"});
    CHECK(logout.common.store == "file");
    CHECK(logout.all);
    CHECK(parsed_as<LoginCommand>({"-v", "login", kUrl}).common.verbose);
    CHECK(parsed_as<StatusCommand>({"-v", "--store", "file", "status", "--json"}).common ==
          CommonOptions{true, "file", "", ""});
}

TEST_CASE("an option given before and after the command: the later one; -H values add up") {
    auto login = parsed_as<LoginCommand>(
        {"--store", "file", "--scope", "a", "login", kUrl, "--store", "keychain"});
    CHECK(login.common.store == "keychain");
    CHECK(login.login.scope == "a");
    auto proxy = parsed_as<ProxyCommand>({"-H", "A: 1", "proxy", kUrl, "-H", "B: 2"});
    CHECK(proxy.relay.headers == std::vector<std::string>{"A: 1", "B: 2"});
}

TEST_CASE("an option a command does not take is a usage error before or after its name") {
    CHECK(usage_code({"--client-id", "x", "status"}) == kExitUsage);
    CHECK(usage_code({"status", "--client-id", "x"}) == kExitUsage);
    CHECK(usage_code({"--allow-http", "logout", "--all"}) == kExitUsage);
    CHECK(usage_code({"-H", "A: 1", "login", kUrl}) == kExitUsage);
    CHECK(usage_code({"--max-connections", "3", "token", kUrl}) == kExitUsage);
    CHECK(usage_code({kUrl, "login", kUrl}) == kExitUsage);
    CHECK(usage_code({"logout"}) == kExitUsage);
    CHECK(usage_code({}) == kExitUsage);
}

TEST_CASE("login and token take --allow-http and the timeouts (a relay's agent gets them)") {
    auto login = parsed_as<LoginCommand>({"login", "http://mcp.example.test/mcp", "--allow-http",
                                          "--timeout", "20", "--connect-timeout", "3"});
    CHECK(login.login.allow_http);
    CHECK(login.login.timeout_s == 20);
    CHECK(login.login.connect_timeout_s == 3);
    CHECK(parsed_as<TokenCommand>({"token", kUrl, "--allow-http"}).login.allow_http);
}
