// platform/private_dir.h on Windows: the owner SID and the DACL instead of uid and mode,
// reparse points instead of symbolic links, MoveFileExW instead of renameat, and locks
// that are sharing modes.
#include <doctest/doctest.h>

#ifdef _WIN32
#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <aclapi.h>
#include <sddl.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "platform/private_dir.h"
#include "platform/process_lock.h"
#include "platform/temp_dir.h"

using namespace mcp_auth;
using mcp_auth::testing::contains;
using mcp_auth::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const PrivateDirectoryUse kUse{"the test store", "read your test secrets",
                               ErrorKind::StoreUnavailable};

PrivateDirectory open_dir(const std::string& path) {
    auto dir = PrivateDirectory::open(path, kUse);
    REQUIRE_MESSAGE(dir, (dir ? "" : dir.error().message));
    return std::move(*dir);
}

std::string sid_string(PSID sid) {
    wchar_t* text = nullptr;
    REQUIRE(ConvertSidToStringSidW(sid, &text));
    std::string out = win32::narrow(text);
    LocalFree(text);
    return out;
}

std::string my_sid() {
    HANDLE token = nullptr;
    REQUIRE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    BYTE buffer[256];
    DWORD size = sizeof buffer;
    REQUIRE(GetTokenInformation(token, TokenUser, buffer, size, &size));
    CloseHandle(token);
    return sid_string(reinterpret_cast<TOKEN_USER*>(buffer)->User.Sid);
}

// Who the object at `path` belongs to, whether its DACL is protected, and the SIDs its
// ACEs allow (in order).
struct Acl {
    std::string owner;
    bool is_protected = false;
    std::vector<std::string> allowed;
};

Acl acl_of(const std::string& path) {
    PSID owner = nullptr;
    PACL dacl = nullptr;
    PSECURITY_DESCRIPTOR sd = nullptr;
    std::wstring wide = win32::widen(path);
    REQUIRE(GetNamedSecurityInfoW(wide.c_str(), SE_FILE_OBJECT,
                                  OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                                  nullptr, &dacl, nullptr, &sd) == ERROR_SUCCESS);
    Acl acl;
    acl.owner = sid_string(owner);
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision = 0;
    GetSecurityDescriptorControl(sd, &control, &revision);
    acl.is_protected = (control & SE_DACL_PROTECTED) != 0;
    for (DWORD i = 0; dacl && i < dacl->AceCount; ++i) {
        ACE_HEADER* ace = nullptr;
        REQUIRE(GetAce(dacl, i, reinterpret_cast<void**>(&ace)));
        if (ace->AceType == ACCESS_ALLOWED_ACE_TYPE)
            acl.allowed.push_back(
                sid_string(&reinterpret_cast<ACCESS_ALLOWED_ACE*>(ace)->SidStart));
    }
    LocalFree(sd);
    return acl;
}

// Gives `path` the DACL of `sddl` ("D:P(A;;FA;;;WD)..."); false when the system refused.
bool set_dacl(const std::string& path, const std::string& sddl) {
    PSECURITY_DESCRIPTOR sd = nullptr;
    REQUIRE(ConvertStringSecurityDescriptorToSecurityDescriptorW(win32::widen(sddl).c_str(),
                                                                 SDDL_REVISION_1, &sd, nullptr));
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = nullptr;
    GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
    std::wstring wide = win32::widen(path);
    DWORD rc =
        SetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT,
                              DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                              nullptr, nullptr, dacl, nullptr);
    LocalFree(sd);
    return rc == ERROR_SUCCESS;
}

// Wine keeps no security descriptor: it maps a DACL to the Unix mode and back, so only
// what a mode can say survives (the accounts, not the order or the protection).
bool on_wine() {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version");
}

// Wine only: a Unix symbolic link at `link` to `target`, made by /bin/ln.
bool unix_symlink(const std::wstring& target, const std::wstring& link) {
    using UnixName = char*(CDECL*)(const wchar_t*);
    auto unix_name = reinterpret_cast<UnixName>(reinterpret_cast<void*>(
        GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "wine_get_unix_file_name")));
    if (!unix_name) return false;
    char* from = unix_name(target.c_str());
    char* to = unix_name(link.c_str());
    if (!from || !to) return false;
    std::wstring command = L"start.exe /wait /unix /bin/ln -s \"" + win32::widen(from) + L"\" \"" +
                           win32::widen(to) + L"\"";
    HeapFree(GetProcessHeap(), 0, from);
    HeapFree(GetProcessHeap(), 0, to);
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    PROCESS_INFORMATION started{};
    if (!CreateProcessW(nullptr, command.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW, nullptr,
                        nullptr, &startup, &started))
        return false;
    WaitForSingleObject(started.hProcess, 10000);
    CloseHandle(started.hProcess);
    CloseHandle(started.hThread);
    return GetFileAttributesW(link.c_str()) != INVALID_FILE_ATTRIBUTES;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : " ") + item;
    return out;
}

std::string read_file(const std::string& path) {
    std::ifstream in(fs::u8path(path), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("private directory (Windows): created for this user alone, with its missing parents") {
    TempDir tmp;
    std::string path = tmp / "a\\b/st\xC3\xB6re";  // both separators, and UTF-8
    auto dir = open_dir(path);
    CHECK(dir.path() == path);
    std::string me = my_sid();
    for (const std::string& made : {path, tmp / "a"}) {
        Acl acl = acl_of(made);
        INFO(made << ": owner " << acl.owner << ", allowed " << joined(acl.allowed));
        CHECK(acl.owner == me);
        // This user and SYSTEM alone, nothing inherited from the temporary directory.
        CHECK(std::set<std::string>(acl.allowed.begin(), acl.allowed.end()) ==
              std::set<std::string>{me, "S-1-5-18"});
        if (!on_wine()) {
            CHECK(acl.is_protected);
            CHECK(acl.allowed == std::vector<std::string>{me, "S-1-5-18"});
        }
    }
    CHECK(is_private_directory(path));
    REQUIRE(dir.replace("data.json", "secret"));
    Acl file = acl_of(path + "\\data.json");
    INFO("file: owner " << file.owner << ", allowed " << joined(file.allowed));
    CHECK(file.owner == me);
    CHECK(std::set<std::string>(file.allowed.begin(), file.allowed.end()) ==
          std::set<std::string>{me, "S-1-5-18"});
    if (!on_wine()) {
        CHECK(file.is_protected);
        CHECK(file.allowed == std::vector<std::string>{me, "S-1-5-18"});
    }
}

TEST_CASE("private directory (Windows): refused when others may write to it, or not absolute") {
    TempDir tmp;
    std::string open = tmp / "open";
    fs::create_directories(fs::u8path(open));
    REQUIRE(set_dacl(open, "D:P(A;OICI;FA;;;" + my_sid() + ")(A;OICI;FA;;;WD)"));
    auto refused = PrivateDirectory::open(open, kUse);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::StoreUnavailable);
    CHECK(contains(refused.error().message, "refusing to use the test store at " + open));
    CHECK(contains(refused.error().message, "writable by other users (Everyone may change it)"));
    CHECK(contains(refused.error().message, "another user could read your test secrets"));
    CHECK_FALSE(is_private_directory(open));
    // Reading alone is not writing: the Users group may list it.
    REQUIRE(set_dacl(open, "D:P(A;OICI;FA;;;" + my_sid() + ")(A;OICI;FR;;;BU)"));
    CHECK(PrivateDirectory::open(open, kUse));
    CHECK(is_private_directory(open));

    for (const char* relative : {"relative\\dir", "C:relative", "\\rooted", ""}) {
        auto dir = PrivateDirectory::open(relative, kUse);
        REQUIRE_FALSE(dir);
        CHECK(contains(dir.error().message, "absolute"));
    }
    CHECK_FALSE(fs::exists("relative"));  // never created in the working directory
    CHECK_FALSE(is_private_directory("relative"));
}

TEST_CASE("private directory (Windows): read and replace; no temporary file left") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    auto absent = dir.read("data.json");
    REQUIRE(absent);
    CHECK_FALSE(*absent);
    REQUIRE(dir.replace("data.json", "first"));
    REQUIRE(dir.replace("data.json", std::string("second,\r\n\0longer", 16)));
    auto read = dir.read("data.json");
    REQUIRE(read);
    REQUIRE(*read);
    CHECK(**read == std::string("second,\r\n\0longer", 16));
    std::set<std::string> files;
    for (const auto& entry : fs::directory_iterator(fs::u8path(tmp / "store")))
        files.insert(entry.path().filename().u8string());
    CHECK(files == std::set<std::string>{"data.json"});
}

TEST_CASE("private directory (Windows): a reader sees the old content or the new, never a mix") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    std::string a(100000, 'a'), b(30000, 'b');
    REQUIRE(dir.replace("data.json", a));
    std::atomic<bool> done{false};
    int reads = 0, failures = 0, torn = 0;
    // No doctest assertion in the thread: with MinGW, doctest's thread-local stream is
    // destroyed at the thread's exit after what it uses (a crash under -s).
    std::thread reader([&] {
        auto mine = PrivateDirectory::open(tmp / "store", kUse);  // as another process would
        if (!mine) ++failures;
        while (mine && !done) {
            auto got = mine->read("data.json");
            if (!got || !*got) {
                ++failures;
                continue;
            }
            ++reads;
            if (**got != a && **got != b) ++torn;
            // A breath between reads: where replace() has only MoveFileExW (Wine), a file
            // held open without a pause would keep it from ever renaming.
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    std::string failed;
    for (int i = 0; i < 100 && failed.empty(); ++i)
        if (auto ok = dir.replace("data.json", i % 2 ? a : b); !ok) failed = ok.error().message;
    done = true;
    reader.join();
    CHECK_MESSAGE(failed.empty(), failed);
    CHECK(reads > 0);
    CHECK(failures == 0);
    CHECK(torn == 0);
}

TEST_CASE("private directory (Windows): the checked directory is the one written to") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    // While it is open the directory cannot be renamed; where the system lets it be (Wine
    // may), the writes follow the directory, not the name.
    std::error_code renamed;
    fs::rename(fs::u8path(tmp / "store"), fs::u8path(tmp / "moved"), renamed);
    if (!renamed) fs::create_directories(fs::u8path(tmp / "store"));  // an attacker's
    REQUIRE(dir.replace("data.json", "secret"));
    if (renamed) {
        CHECK(fs::exists(fs::u8path(tmp / "store/data.json")));
    } else {
        MESSAGE("the open directory could be renamed here");
        CHECK(fs::exists(fs::u8path(tmp / "moved/data.json")));
        CHECK_FALSE(fs::exists(fs::u8path(tmp / "store/data.json")));
    }
}

TEST_CASE("private directory (Windows): a reparse point inside it is never followed") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    std::ofstream(fs::u8path(tmp / "elsewhere"), std::ios::binary) << "not yours";
    std::wstring link = win32::widen(tmp / "store\\data.json");
    std::wstring target = win32::widen(tmp / "elsewhere");
    // Wine's CreateSymbolicLinkW says yes and makes nothing: there the link is a Unix one,
    // which Wine shows as the file it points to.
    bool made = CreateSymbolicLinkW(link.c_str(), target.c_str(),
                                    SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE) &&
                GetFileAttributesW(link.c_str()) != INVALID_FILE_ATTRIBUTES;
    if (!made && on_wine()) made = unix_symlink(target, link);
    if (!made) {
        MESSAGE("no symbolic link could be made here: not tested");
        return;
    }
    auto read = dir.read("data.json");
    REQUIRE_FALSE(read);
    CHECK(contains(read.error().message, "symbolic link or another reparse point"));
    auto lock = dir.open_lock("data.json");
    REQUIRE_FALSE(lock);
    CHECK(contains(lock.error().message, "reparse point"));
    CHECK_FALSE(dir.touch_marker("data.json"));
    // replace() puts a new file in place of the link, never writes through it.
    REQUIRE(dir.replace("data.json", "mine"));
    CHECK(read_file(tmp / "elsewhere") == "not yours");
    auto mine = dir.read("data.json");
    REQUIRE(mine);
    CHECK(**mine == "mine");
}

TEST_CASE("private directory (Windows): a file others may read is refused, with the fix") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    REQUIRE(dir.replace("data.json", "secret"));
    std::string path = tmp / "store\\data.json";
    REQUIRE(set_dacl(path, "D:P(A;;FA;;;" + my_sid() + ")(A;;FR;;;WD)"));
    auto read = dir.read("data.json");
    REQUIRE_FALSE(read);
    CHECK(contains(read.error().message, "open to other users (Everyone may read or change it)"));
    CHECK(contains(read.error().message, "icacls"));
    // SYSTEM and the Administrators are not "other users": they can take any file.
    REQUIRE(set_dacl(path, "D:P(A;;FA;;;" + my_sid() + ")(A;;FA;;;SY)(A;;FA;;;BA)"));
    CHECK(dir.read("data.json"));

    fs::create_directories(fs::u8path(tmp / "store/dir.json"));
    auto not_file = dir.read("dir.json");
    REQUIRE_FALSE(not_file);
    CHECK(contains(not_file.error().message, "not a regular file"));
}

TEST_CASE("private directory (Windows): locks: exclusive and shared; converted as flock does") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    auto a = dir.open_lock("x.lock");
    auto b = dir.open_lock("x.lock");
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(*a->try_lock(true));
    CHECK_FALSE(*b->try_lock(true));
    CHECK_FALSE(*b->try_lock(false));
    CHECK(*a->try_lock(true));        // asking again for what it holds
    CHECK(*a->try_lock(false));       // exclusive to shared
    CHECK(*b->try_lock(false));       // shared with shared
    CHECK_FALSE(*a->try_lock(true));  // b shares it: no conversion
    b->release();
    CHECK(*a->try_lock(true));  // shared to exclusive once alone
    // A reader of the file (a virus scanner) takes nobody's lock.
    HANDLE scanner = CreateFileW(win32::widen(tmp / "store\\x.lock").c_str(), GENERIC_READ,
                                 FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                 OPEN_EXISTING, 0, nullptr);
    CHECK(scanner != INVALID_HANDLE_VALUE);
    auto c = dir.open_lock("x.lock");  // opening is never refused
    REQUIRE(c);
    a->release();
    CHECK(*c->try_lock(true));
    CloseHandle(scanner);
    // The handle never leaks into children.
    DWORD flags = 1;
    REQUIRE(GetHandleInformation(win32::int_to_handle(c->handle()), &flags));
    CHECK((flags & HANDLE_FLAG_INHERIT) == 0);
}

TEST_CASE("private directory (Windows): a blocked lock() goes on when the holder closes") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    auto holder = dir.open_lock("x.lock");
    auto waiter = dir.open_lock("x.lock");
    REQUIRE(holder);
    REQUIRE(waiter);
    REQUIRE(*holder->try_lock(false));
    std::thread closer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        holder->release();
    });
    auto started = std::chrono::steady_clock::now();
    CHECK(waiter->lock(true));
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(90));
    closer.join();
}

TEST_CASE("process lock (Windows): a lock directory others may write to is refused") {
    TempDir tmp;
    std::string locks = tmp / "locks";
    fs::create_directories(fs::u8path(locks));
    // Authenticated Users on Windows; Everyone where only a Unix mode is kept (Wine).
    std::string others = on_wine() ? "WD" : "AU";
    REQUIRE(set_dacl(locks, "D:P(A;OICI;FA;;;" + my_sid() + ")(A;OICI;FA;;;" + others + ")"));
    FileLockService service(locks);
    auto lock = service.open("https://mcp.example.com/mcp", "login");
    REQUIRE_FALSE(lock);
    CHECK(contains(lock.error().message, "the lock directory"));
    CHECK(contains(lock.error().message, "writable by other users"));
    CHECK(contains(lock.error().message, on_wine() ? "Everyone" : "Authenticated Users"));
}

TEST_CASE("lock_directory (Windows): the state directory's locks folder") {
    CHECK(lock_directory("", "C:\\Users\\u\\AppData\\Local\\mcp-auth") ==
          "C:\\Users\\u\\AppData\\Local\\mcp-auth/locks");
    CHECK(lock_directory("", "").empty());
}

#endif  // _WIN32
