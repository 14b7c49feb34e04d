// platform/spawn.h on Windows: CreateProcessW with an explicit handle list
// (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), a UTF-16 environment block without the secrets, and
// a command line quoted for CommandLineToArgvW. No shell is involved: a batch file, which
// CreateProcessW would hand to cmd.exe, is refused.
#include "platform/spawn.h"

#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <cwchar>
#include <mutex>

namespace mcp_auth {
namespace {

const wchar_t* const kAuthSecrets[] = {L"MCP_AUTH_CLIENT_SECRET", L"MCP_AUTH_IDP_ID_TOKEN"};

std::mutex g_mutex;
std::vector<std::wstring> g_secret_variables;  // marked by main (the --header variables)
std::string g_self_path;                       // remembered at start-up
// One spawn at a time: the passed handle is inheritable only while its CreateProcessW runs.
std::mutex g_spawn_mutex;

// Environment names are case-insensitive on Windows ("Path" is "PATH").
bool same_name(std::wstring_view a, std::wstring_view b) {
    return a.size() == b.size() &&
           CompareStringOrdinal(a.data(), static_cast<int>(a.size()), b.data(),
                                static_cast<int>(b.size()), TRUE) == CSTR_EQUAL;
}

// The name of an environment entry. Entries of the drives' working directories
// ("=C:=C:\dir") start with '=': the name is what comes before the next one.
std::wstring_view entry_name(const wchar_t* entry) {
    const wchar_t* equals = entry[0] ? std::wcschr(entry + 1, L'=') : nullptr;
    return std::wstring_view(entry,
                             equals ? static_cast<size_t>(equals - entry) : std::wcslen(entry));
}

// Under g_mutex.
bool is_secret(std::wstring_view name, bool keep_auth_secrets) {
    if (!keep_auth_secrets)
        for (const wchar_t* secret : kAuthSecrets)
            if (same_name(name, secret)) return true;
    for (const auto& secret : g_secret_variables)
        if (same_name(name, secret)) return true;
    return false;
}

// Our environment without the secret variables, as CreateProcessW's UTF-16 block: each
// entry ends in a NUL, the block in one more. (Removing entries keeps the order Windows
// sorted them in.)
std::wstring child_environment(bool keep_auth_secrets) {
    std::lock_guard<std::mutex> lock(g_mutex);
    std::wstring block;
    wchar_t* env = GetEnvironmentStringsW();
    for (const wchar_t* e = env; e && *e; e += std::wcslen(e) + 1) {
        if (is_secret(entry_name(e), keep_auth_secrets)) continue;
        block.append(e);
        block.push_back(L'\0');
    }
    if (env) FreeEnvironmentStringsW(env);
    if (block.empty()) block.push_back(L'\0');
    block.push_back(L'\0');
    return block;
}

// Appends `arg` so that CommandLineToArgvW (and the C runtime's parser) read it back as
// it is: inside quotes, backslashes are literal except before a quote, where 2n of them
// stand for n and 2n+1 for n and a literal quote.
void append_argument(std::wstring& line, const std::wstring& arg) {
    if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
        line += arg;
        return;
    }
    line += L'"';
    for (size_t i = 0;; ++i) {
        size_t backslashes = 0;
        while (i < arg.size() && arg[i] == L'\\') {
            ++backslashes;
            ++i;
        }
        if (i == arg.size()) {
            line.append(backslashes * 2, L'\\');  // the closing quote follows
            break;
        }
        if (arg[i] == L'"') {
            line.append(backslashes * 2 + 1, L'\\');
        } else {
            line.append(backslashes, L'\\');
        }
        line += arg[i];
    }
    line += L'"';
}

bool is_file(const std::wstring& path) {
    DWORD attributes = GetFileAttributesW(path.c_str());
    return attributes != INVALID_FILE_ATTRIBUTES && !(attributes & FILE_ATTRIBUTE_DIRECTORY);
}

bool has_extension(const std::wstring& path) {
    size_t base = path.find_last_of(L"\\/:");
    size_t dot = path.find_last_of(L'.');
    return dot != std::wstring::npos && (base == std::wstring::npos || dot > base);
}

bool ends_with(const std::wstring& text, const wchar_t* suffix) {
    size_t n = std::wcslen(suffix);
    return text.size() >= n && same_name(std::wstring_view(text).substr(text.size() - n), suffix);
}

// The program CreateProcessW is to start: a path as given (".exe" added when it names no
// file as it is), else the first match on PATH: never the current directory, which
// CreateProcessW would search before PATH. "" when there is none.
std::wstring find_program(const std::wstring& name) {
    auto candidates = [](const std::wstring& base) {
        std::vector<std::wstring> out = {base};
        if (!has_extension(base)) out = {base + L".exe", base + L".com", base};
        return out;
    };
    if (name.find_first_of(L"\\/:") != std::wstring::npos) {
        for (const auto& path : candidates(name))
            if (is_file(path)) return path;
        return {};
    }
    const wchar_t* path = _wgetenv(L"PATH");
    std::wstring list = path ? path : L"";
    for (size_t start = 0; start <= list.size();) {
        size_t end = list.find(L';', start);
        if (end == std::wstring::npos) end = list.size();
        std::wstring dir = list.substr(start, end - start);
        start = end + 1;
        if (dir.size() >= 2 && dir.front() == L'"' && dir.back() == L'"')
            dir = dir.substr(1, dir.size() - 2);
        bool absolute =
            (dir.size() >= 3 && dir[1] == L':' && (dir[2] == L'\\' || dir[2] == L'/')) ||
            (dir.size() >= 2 && dir[0] == L'\\' && dir[1] == L'\\');
        if (!absolute) continue;  // a relative entry depends on the working directory
        if (dir.back() != L'\\' && dir.back() != L'/') dir += L'\\';
        for (const auto& candidate : candidates(dir + name))
            if (is_file(candidate)) return candidate;
    }
    return {};
}

std::wstring module_path() {
    std::wstring buffer(MAX_PATH, L'\0');
    for (;;) {
        DWORD n = GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
        if (n == 0) return {};
        if (n < buffer.size()) {
            buffer.resize(n);
            return buffer;
        }
        if (buffer.size() >= 65536) return {};
        buffer.resize(buffer.size() * 2);  // a long path (the result was truncated)
    }
}

// A handle closed when it goes out of scope.
struct OwnedHandle {
    HANDLE h = nullptr;
    ~OwnedHandle() {
        if (h && h != INVALID_HANDLE_VALUE) CloseHandle(h);
    }
};

}  // namespace

namespace win32 {

bool environment_has_secrets() {
    std::lock_guard<std::mutex> lock(g_mutex);
    bool found = false;
    wchar_t* env = GetEnvironmentStringsW();
    for (const wchar_t* e = env; e && *e && !found; e += std::wcslen(e) + 1)
        found = is_secret(entry_name(e), false);
    if (env) FreeEnvironmentStringsW(env);
    return found;
}

}  // namespace win32

int handle_in_child(int pass_handle) {
    return pass_handle < 0 ? -1 : pass_handle;  // inherited handles keep their value
}

void mark_secret_variable(const std::string& name) {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_secret_variables.push_back(win32::widen(name));
}

bool spawn_detached(const std::vector<std::string>& argv, const SpawnOptions& options, Log& log) {
    if (argv.empty()) return false;
    auto fail = [&](const std::string& why) {
        log.error("could not start \"" + argv[0] + "\": " + why);
        return false;
    };
    std::wstring program = win32::widen(argv[0]);
    // The program's own name is read without backslash escapes: a quote cannot be in it.
    if (program.empty() || program.find(L'"') != std::wstring::npos)
        return fail("not a program name");
    std::wstring application = find_program(program);
    if (application.empty()) return fail(win32::error_text(ERROR_FILE_NOT_FOUND));
    if (ends_with(application, L".bat") || ends_with(application, L".cmd"))
        return fail(
            "it is a batch file, which Windows runs through cmd.exe (where a URL's & "
            "and ^ are commands); name an .exe");
    std::wstring line;
    bool quote = program.find_first_of(L" \t") != std::wstring::npos;
    line = quote ? L"\"" + program + L"\"" : program;
    for (size_t i = 1; i < argv.size(); ++i) {
        line += L' ';
        append_argument(line, win32::widen(argv[i]));
    }
    std::wstring env = child_environment(options.keep_auth_secrets);

    std::lock_guard<std::mutex> spawn_lock(g_spawn_mutex);
    // The child's standard handles: inheritable copies made for this call alone (ours stay
    // non-inheritable), passed with the lock's handle and nothing else.
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    OwnedHandle null_device, output;
    null_device.h =
        CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                    &inherit, OPEN_EXISTING, 0, nullptr);
    if (null_device.h == INVALID_HANDLE_VALUE) return fail(win32::error_text(GetLastError()));
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    if (!err || err == INVALID_HANDLE_VALUE ||
        !DuplicateHandle(GetCurrentProcess(), err, GetCurrentProcess(), &output.h, 0, TRUE,
                         DUPLICATE_SAME_ACCESS))
        output.h = nullptr;  // no stderr (a GUI parent): the child writes to NUL
    HANDLE child_out = output.h ? output.h : null_device.h;
    std::vector<HANDLE> handles = {null_device.h};
    if (output.h) handles.push_back(output.h);
    HANDLE pass = win32::int_to_handle(options.pass_handle);
    DWORD pass_flags = 0;
    if (options.pass_handle >= 0) {
        if (!GetHandleInformation(pass, &pass_flags) ||
            !SetHandleInformation(pass, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT))
            return fail("the handle to pass is not open: " + win32::error_text(GetLastError()));
        handles.push_back(pass);
    }
    struct RestorePass {
        HANDLE h;
        DWORD flags;
        ~RestorePass() {
            if (h != INVALID_HANDLE_VALUE)
                SetHandleInformation(h, HANDLE_FLAG_INHERIT, flags & HANDLE_FLAG_INHERIT);
        }
    } restore{pass, pass_flags};

    SIZE_T size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    std::vector<char> storage(size);
    auto* attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage.data());
    if (!InitializeProcThreadAttributeList(attributes, 1, 0, &size))
        return fail(win32::error_text(GetLastError()));
    struct DeleteList {
        LPPROC_THREAD_ATTRIBUTE_LIST list;
        ~DeleteList() { DeleteProcThreadAttributeList(list); }
    } delete_list{attributes};
    if (!UpdateProcThreadAttribute(attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles.data(),
                                   handles.size() * sizeof(HANDLE), nullptr, nullptr))
        return fail(win32::error_text(GetLastError()));

    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof startup;
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = null_device.h;
    startup.StartupInfo.hStdOutput = child_out;
    startup.StartupInfo.hStdError = child_out;
    startup.lpAttributeList = attributes;
    // No console (none opens for a console program either), the default error mode (ours
    // hides crash dialogs), and, for a login agent, its own process group (our console's
    // Ctrl+C is not its) outside the job a host may kill us with.
    DWORD flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT | DETACHED_PROCESS |
                  CREATE_DEFAULT_ERROR_MODE;
    if (options.new_session) flags |= CREATE_NEW_PROCESS_GROUP | CREATE_BREAKAWAY_FROM_JOB;
    PROCESS_INFORMATION started{};
    BOOL ok = CreateProcessW(application.c_str(), line.data(), nullptr, nullptr, TRUE, flags,
                             env.data(), nullptr, &startup.StartupInfo, &started);
    if (!ok && GetLastError() == ERROR_ACCESS_DENIED && (flags & CREATE_BREAKAWAY_FROM_JOB)) {
        // The job does not allow breaking away: the child stays in it (and may end with it).
        flags &= ~static_cast<DWORD>(CREATE_BREAKAWAY_FROM_JOB);
        ok = CreateProcessW(application.c_str(), line.data(), nullptr, nullptr, TRUE, flags,
                            env.data(), nullptr, &startup.StartupInfo, &started);
    }
    if (!ok) return fail(win32::error_text(GetLastError()));
    // Nobody waits for it: nothing to reap on Windows once the handles are closed.
    CloseHandle(started.hThread);
    CloseHandle(started.hProcess);
    return true;
}

void remember_self_executable(const char* argv0) {
    (void)argv0;  // in the ANSI code page; the module's own path is exact
    std::string path = win32::narrow(module_path());
    std::lock_guard<std::mutex> lock(g_mutex);
    g_self_path = std::move(path);
}

std::string self_executable() {
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (!g_self_path.empty() && is_file(win32::widen(g_self_path))) return g_self_path;
    }
    std::wstring image = module_path();
    return image.empty() || !is_file(image) ? "mcp-auth" : win32::narrow(image);
}

}  // namespace mcp_auth
