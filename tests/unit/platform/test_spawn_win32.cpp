// platform/spawn.h and platform/environment.h on Windows: what a detached child gets from
// us (the arguments exactly as given, the environment without secrets, no handle but the
// one passed, the lock it holds), with this test executable as the child.
#include <doctest/doctest.h>

#ifdef _WIN32
#include "platform/win32_child.h"  // windows.h first

#include <shellapi.h>

#include <cstdlib>
#include <cwchar>
#include <filesystem>
#include <fstream>

#include "platform/environment.h"
#include "platform/process_lock.h"
#include "platform/temp_dir.h"

using namespace mcp_auth;
using mcp_auth::testing::contains;
using mcp_auth::testing::Lines;
using mcp_auth::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// --- the child's side ------------------------------------------------------------------

void answer(const std::wstring& out, const std::string& text) {
    std::wstring tmp = out + L".tmp";
    HANDLE file = CreateFileW(tmp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr);
    if (file == INVALID_HANDLE_VALUE) return;
    DWORD written = 0;
    WriteFile(file, text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
    CloseHandle(file);
    MoveFileExW(tmp.c_str(), out.c_str(), MOVEFILE_REPLACE_EXISTING);
}

// What a handle value names in this process: the file's path, or "closed".
std::string handle_target(const std::wstring& value) {
    HANDLE h =
        reinterpret_cast<HANDLE>(static_cast<intptr_t>(std::wcstoll(value.c_str(), nullptr, 10)));
    DWORD flags = 0;
    if (!GetHandleInformation(h, &flags)) return "closed";
    wchar_t path[1024];
    DWORD n = GetFinalPathNameByHandleW(h, path, 1024, FILE_NAME_NORMALIZED);
    return n && n < 1024 ? win32::narrow(std::wstring(path, n)) : "open";
}

// The jobs (win32_child.h). Runs before main: a child never reaches doctest.
void child_job(int argc, wchar_t** argv) {
    std::wstring job = argv[2], out = argv[3];
    std::string text;
    if (job == L"args") {
        // What our own parser (environment.h) reads, after the program name.
        for (const auto& arg : command_line_arguments(0, nullptr)) text += arg + '\0';
    } else if (job == L"env") {
        wchar_t* env = GetEnvironmentStringsW();
        for (const wchar_t* e = env; *e; e += std::wcslen(e) + 1) text += win32::narrow(e) + "\n";
        FreeEnvironmentStringsW(env);
    } else if (job == L"probe") {
        // stdin: empty at once; stdout and stderr: written; each handle value given: what
        // it names here.
        char c;
        DWORD n = 1;
        BOOL read = ReadFile(GetStdHandle(STD_INPUT_HANDLE), &c, 1, &n, nullptr);
        text += read && n == 0 ? "stdin:empty\n" : "stdin:not-empty\n";
        DWORD written = 0;
        WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), "to-stdout\n", 10, &written, nullptr);
        WriteFile(GetStdHandle(STD_ERROR_HANDLE), "to-stderr\n", 10, &written, nullptr);
        for (int i = 4; i < argc; ++i) text += "handle:" + handle_target(argv[i]) + "\n";
    } else if (job == L"hold") {
        // Holds what it inherited until it is killed (at most 60 s).
        answer(out, std::to_string(GetCurrentProcessId()));
        Sleep(60000);
        ExitProcess(0);
    }
    answer(out, text);
}

const bool kRanAsChild = [] {
    int argc = 0;
    wchar_t** argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv || argc < 4 || win32::narrow(argv[1]) != testing::kChildFlag) return false;
    child_job(argc, argv);
    ExitProcess(0);
}();

// --- the parent's side -----------------------------------------------------------------

std::string run_child(const TempDir& tmp, const std::string& job,
                      const std::vector<std::string>& args = {}, SpawnOptions options = {}) {
    static int runs = 0;
    std::string out = tmp / ("out-" + std::to_string(++runs));  // one answer file per child
    Lines lines;
    bool started = testing::start_child(job, out, args, options, lines);
    INFO("log: " << (lines.size() ? lines.all()[0] : ""));
    REQUIRE(started);
    std::string text = testing::wait_for_file(out);
    REQUIRE_MESSAGE(fs::exists(fs::u8path(out)), "the child gave no answer");
    fs::remove(fs::u8path(out));
    return text;
}

void set_env(const wchar_t* name, const wchar_t* value) {
    REQUIRE(_wputenv_s(name, value) == 0);
}

}  // namespace

TEST_CASE("spawn (Windows): every argument arrives as it was, through CommandLineToArgvW") {
    TempDir tmp;
    std::vector<std::string> sent = {
        "plain",
        "with space",
        "",
        "tab\there",
        "quote\"inside",
        "\"",
        "\"\"",
        "back\\slash",
        "trailing\\",
        "trailing two\\\\",
        "\\\"escaped\\\\\"",
        "C:\\Program Files\\x\\",
        "ends with space ",
        "%PATH% ^& | < > & ^",
        "h\xC3\xA9llo \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x94\x91",
        "last"};
    std::string got = run_child(tmp, "args", sent);
    std::vector<std::string> received;
    for (size_t start = 0, end; (end = got.find('\0', start)) != std::string::npos; start = end + 1)
        received.push_back(got.substr(start, end - start));
    // The child's arguments: the flag, the job, its out file, then ours.
    REQUIRE(received.size() == sent.size() + 3);
    CHECK(received[0] == testing::kChildFlag);
    for (size_t i = 0; i < sent.size(); ++i) CHECK(received[i + 3] == sent[i]);
}

TEST_CASE("spawn (Windows): the child's environment has none of mcp-auth's secrets") {
    TempDir tmp;
    set_env(L"MCP_AUTH_CLIENT_SECRET", L"client-secret-value");
    set_env(L"MCP_AUTH_IDP_ID_TOKEN", L"id-token-value");
    set_env(L"MCP_AUTH_UNIT_HEADER_SECRET", L"header-secret-value");
    set_env(L"MCP_AUTH_UNIT_CASE", L"case-secret-value");
    set_env(L"MCP_AUTH_UNIT_PLAIN", L"plain-\u00e9\u2713");
    mark_secret_variable("MCP_AUTH_UNIT_HEADER_SECRET");
    mark_secret_variable("mcp_auth_unit_case");  // names are case-insensitive on Windows

    std::string env = run_child(tmp, "env");
    CHECK(contains(env, "MCP_AUTH_UNIT_PLAIN=plain-\xC3\xA9\xE2\x9C\x93"));
    CHECK(contains(env, "PATH="));
    CHECK_FALSE(contains(env, "client-secret-value"));
    CHECK_FALSE(contains(env, "id-token-value"));
    CHECK_FALSE(contains(env, "header-secret-value"));
    CHECK_FALSE(contains(env, "case-secret-value"));

    // A copy of mcp-auth (the login agent) keeps the auth secrets, never a header's.
    SpawnOptions agent;
    agent.keep_auth_secrets = true;
    std::string agent_env = run_child(tmp, "env", {}, agent);
    INFO("the agent's environment: " << agent_env);
    CHECK(contains(agent_env, "MCP_AUTH_CLIENT_SECRET=client-secret-value"));
    CHECK(contains(agent_env, "MCP_AUTH_IDP_ID_TOKEN=id-token-value"));
    CHECK_FALSE(contains(agent_env, "header-secret-value"));

    for (const wchar_t* name :
         {L"MCP_AUTH_CLIENT_SECRET", L"MCP_AUTH_IDP_ID_TOKEN", L"MCP_AUTH_UNIT_HEADER_SECRET",
          L"MCP_AUTH_UNIT_CASE", L"MCP_AUTH_UNIT_PLAIN"})
        _wputenv_s(name, L"");
}

TEST_CASE("spawn (Windows): empty stdin, stdout onto our stderr, no handle but the one passed") {
    TempDir tmp;
    // Our stderr, for the test's duration: a file, to see what the child wrote there.
    std::wstring captured = win32::widen(tmp / "stderr");
    SECURITY_ATTRIBUTES plain{sizeof(SECURITY_ATTRIBUTES), nullptr, FALSE};
    HANDLE file = CreateFileW(captured.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                              &plain, CREATE_ALWAYS, 0, nullptr);
    REQUIRE(file != INVALID_HANDLE_VALUE);
    HANDLE saved = GetStdHandle(STD_ERROR_HANDLE);
    SetStdHandle(STD_ERROR_HANDLE, file);
    // Two handles that must not reach the child: one inheritable (as a library might open
    // one), one not; and a third that is passed.
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    auto open = [&](const char* name, SECURITY_ATTRIBUTES* sa) {
        HANDLE h = CreateFileW(win32::widen(tmp / name).c_str(), GENERIC_WRITE, FILE_SHARE_READ, sa,
                               CREATE_ALWAYS, 0, nullptr);
        REQUIRE(h != INVALID_HANDLE_VALUE);
        return h;
    };
    HANDLE leaky = open("leaky-inheritable", &inherit);
    HANDLE quiet = open("quiet-private", &plain);
    HANDLE passed = open("passed-file", &plain);
    auto value = [](HANDLE h) { return std::to_string(win32::handle_to_int(h)); };
    SpawnOptions options;
    options.pass_handle = win32::handle_to_int(passed);
    CHECK(handle_in_child(options.pass_handle) == options.pass_handle);
    CHECK(handle_in_child(-1) == -1);
    std::string seen;
    {
        std::string out = tmp / "out";
        Lines lines;
        bool started = testing::start_child(
            "probe", out, {value(leaky), value(quiet), value(passed)}, options, lines);
        seen = started ? testing::wait_for_file(out) : "";
        SetStdHandle(STD_ERROR_HANDLE, saved);
        REQUIRE(started);
    }
    CloseHandle(file);
    INFO("the child saw: " << seen);
    CHECK(contains(seen, "stdin:empty"));
    CHECK_FALSE(contains(seen, "leaky-inheritable"));
    CHECK_FALSE(contains(seen, "quiet-private"));
    CHECK(contains(seen, "passed-file"));
    // The passed handle is non-inheritable again for later children.
    DWORD flags = 0;
    REQUIRE(GetHandleInformation(passed, &flags));
    CHECK((flags & HANDLE_FLAG_INHERIT) == 0);
    CHECK(testing::read_text(tmp / "stderr") == "to-stdout\nto-stderr\n");
    CloseHandle(leaky);
    CloseHandle(quiet);
    CloseHandle(passed);
}

TEST_CASE("spawn (Windows): the child holds the passed lock after we let go; it dies with it") {
    TempDir tmp;
    FileLockService locks(tmp / "locks");
    auto lock = locks.open("https://mcp.example.com/mcp", "login");
    REQUIRE(lock);
    REQUIRE((*lock)->try_lock());
    SpawnOptions options;
    options.pass_handle = (*lock)->handle();
    options.new_session = true;
    std::string out = tmp / "pid";
    Lines lines;
    REQUIRE(testing::start_child("hold", out, {}, options, lines));
    std::string pid = testing::wait_for_file(out);
    REQUIRE(!pid.empty());
    HANDLE child =
        OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, static_cast<DWORD>(std::stoul(pid)));
    REQUIRE(child != nullptr);
    (*lock)->release();
    auto other = locks.open("https://mcp.example.com/mcp", "login");
    REQUIRE(other);
    CHECK_FALSE((*other)->try_lock());                                   // the child still holds it
    CHECK_FALSE((*other)->lock(false, std::chrono::milliseconds(100)));  // shared too
    TerminateProcess(child, 1);
    WaitForSingleObject(child, 10000);
    CloseHandle(child);
    CHECK((*other)->lock(true, std::chrono::seconds(5)));  // and it died with the child
}

TEST_CASE("spawn (Windows): what cannot be started is a logged false, never cmd.exe") {
    TempDir tmp;
    Lines lines;
    Log log(lines, false);
    CHECK_FALSE(spawn_detached({"C:\\nonexistent\\mcp-auth-unit-no-such-program.exe"}, {}, log));
    CHECK(lines.contains("could not start \"C:\\nonexistent\\mcp-auth-unit-no-such-program.exe\""));
    CHECK_FALSE(spawn_detached({"mcp-auth-unit-not-on-path"}, {}, log));
    CHECK_FALSE(spawn_detached({}, {}, log));
    // A batch file would run through cmd.exe, where a URL's & and ^ are commands.
    std::string script = tmp / "opener.cmd";
    std::ofstream(fs::u8path(script)) << "@echo off\r\n";
    CHECK_FALSE(spawn_detached({script, "https://example.com/?a=1&b=2"}, {}, log));
    CHECK(lines.contains("batch file"));
}

TEST_CASE("self_executable (Windows): this executable's own path") {
    remember_self_executable("ignored-bare-name");
    std::string self = self_executable();
    REQUIRE(self.size() > 3);
    CHECK((self[1] == ':' || self.rfind("\\\\", 0) == 0));
    CHECK(fs::u8path(self).filename() == "unit_platform.exe");
    CHECK(fs::exists(fs::u8path(self)));
}

TEST_CASE("environment (Windows): variables are read and set as UTF-8") {
    set_env(L"MCP_AUTH_UNIT_UTF8", L"h\u00e9llo \u2713 \U0001F511");
    CHECK(environment_variable("MCP_AUTH_UNIT_UTF8") ==
          std::optional<std::string>("h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x94\x91"));
    CHECK(environment_variable("mcp_auth_unit_utf8") == environment_variable("MCP_AUTH_UNIT_UTF8"));
    CHECK_FALSE(environment_variable("MCP_AUTH_UNIT_NEVER_SET"));
    CHECK_FALSE(environment_variable("MCP_AUTH_UNIT_UTF8=h"));
    set_environment_default("MCP_AUTH_UNIT_UTF8", "other");
    CHECK(environment_variable("MCP_AUTH_UNIT_UTF8")->rfind("h\xC3\xA9", 0) == 0);  // kept
    set_environment_default("MCP_AUTH_UNIT_DEFAULT",
                            "d\xC3\xA9"
                            "faut");
    const wchar_t* wide = _wgetenv(L"MCP_AUTH_UNIT_DEFAULT");
    REQUIRE(wide);
    CHECK(std::wstring(wide) == L"d\u00e9faut");
    // Seen by the process's own environment too (what children and libraries read).
    wchar_t buffer[64];
    CHECK(GetEnvironmentVariableW(L"MCP_AUTH_UNIT_DEFAULT", buffer, 64) == 6);
    _wputenv_s(L"MCP_AUTH_UNIT_UTF8", L"");
    _wputenv_s(L"MCP_AUTH_UNIT_DEFAULT", L"");
}

TEST_CASE("environment (Windows): the command line after the program name") {
    int count = 0;
    wchar_t** wide = CommandLineToArgvW(GetCommandLineW(), &count);
    REQUIRE(wide);
    auto args = command_line_arguments(0, nullptr);
    REQUIRE(args.size() == static_cast<size_t>(count - 1));
    for (int i = 1; i < count; ++i)
        CHECK(args[static_cast<size_t>(i - 1)] == win32::narrow(wide[i]));
    LocalFree(wide);
}

#endif  // _WIN32
