// platform/private_dir.h on Windows. The directory is opened once and checked through its
// handle (owner SID and DACL); the handle is kept without FILE_SHARE_DELETE, so the
// directory cannot be renamed or removed while it is open, and every later access goes
// through the path the handle has now (GetFinalPathNameByHandleW), so moving a parent
// changes nothing either. No reparse point inside it is followed (each file is opened with
// FILE_FLAG_OPEN_REPARSE_POINT, and a reparse point is refused). What is created here gets
// a protected DACL for this user and SYSTEM.
//
// The locks are sharing modes, not LockFileEx: a byte-range lock belongs to the process that
// took it ("if the file handle is inherited by a process created by the locking process,
// the child process is not granted access to the locked region"), so a login agent could
// not hold its parent's lock. A sharing mode belongs to the open file, which an inherited
// handle shares, and ends when its last handle closes: flock(2)'s semantics. A lock file is
// opened without data access ("unlocked": no sharing check applies to such an open), then
// reopened (ReOpenFile, no path involved) with the access and sharing of the mode asked:
//   shared     FILE_WRITE_DATA, sharing read and write: other shared holders coexist
//   exclusive  DELETE, sharing read and write: conflicts with any shared or exclusive one
// Neither denies reading, so a virus scanner that opens the file to read it does not take
// the lock from anyone.
#include "platform/private_dir.h"

#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <aclapi.h>
#include <sddl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/base64.h"
#include "core/crypto.h"
#include "ports/secret_store.h"

namespace mcp_auth {
namespace {

constexpr LONGLONG kMarkerLimit = 4096;

// What another account must not be granted: on a directory, anything that adds, removes or
// redirects an entry or changes who may; on a file of tokens, also reading it.
constexpr DWORD kWriteRights = FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA |
                               FILE_WRITE_ATTRIBUTES | FILE_DELETE_CHILD | DELETE | WRITE_DAC |
                               WRITE_OWNER;
constexpr DWORD kReadWriteRights = kWriteRights | FILE_READ_DATA | FILE_READ_EA;

// The lock modes (above).
constexpr DWORD kLockShare = FILE_SHARE_READ | FILE_SHARE_WRITE;
constexpr DWORD kSharedAccess = FILE_WRITE_DATA | SYNCHRONIZE;
constexpr DWORD kExclusiveAccess = DELETE | SYNCHRONIZE;
constexpr DWORD kUnlockedAccess = FILE_READ_ATTRIBUTES | SYNCHRONIZE;
constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

// The Windows SDK's FileRenameInfoEx (Windows 10 1607): MinGW declares it, and the Flags
// member FILE_RENAME_INFO shares with ReplaceIfExists, only when _WIN32_WINNT says 1607.
const auto kFileRenameInfoEx = static_cast<FILE_INFO_BY_HANDLE_CLASS>(22);

// A handle, closed when it goes out of scope.
class Handle {
public:
    explicit Handle(HANDLE h = INVALID_HANDLE_VALUE) : h_(h ? h : INVALID_HANDLE_VALUE) {}
    ~Handle() { reset(); }
    Handle(Handle&& other) noexcept : h_(other.release()) {}
    Handle& operator=(Handle&& other) noexcept {
        std::swap(h_, other.h_);
        return *this;
    }
    bool valid() const { return h_ != INVALID_HANDLE_VALUE; }
    HANDLE get() const { return h_; }
    HANDLE release() { return std::exchange(h_, INVALID_HANDLE_VALUE); }
    void reset() {
        if (valid()) CloseHandle(h_);
        h_ = INVALID_HANDLE_VALUE;
    }

private:
    HANDLE h_;
};

// This process's user (the token's user SID), its string form and its account name.
struct User {
    std::vector<BYTE> sid;
    std::wstring sid_string;
    std::string name;
    PSID get() const { return const_cast<BYTE*>(sid.data()); }
};

std::string account_name(PSID sid) {
    wchar_t name[256], domain[256];
    DWORD name_size = 256, domain_size = 256;
    SID_NAME_USE use;
    if (LookupAccountSidW(nullptr, sid, name, &name_size, domain, &domain_size, &use))
        return win32::narrow(domain_size ? std::wstring(domain) + L"\\" + name : name);
    wchar_t* text = nullptr;
    std::string out = "an unknown account";
    if (ConvertSidToStringSidW(sid, &text)) {
        out = win32::narrow(text);
        LocalFree(text);
    }
    return out;
}

const User& this_user() {
    static User user;
    static std::once_flag once;
    std::call_once(once, [] {
        HANDLE token = nullptr;
        if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return;
        DWORD size = 0;
        GetTokenInformation(token, TokenUser, nullptr, 0, &size);
        std::vector<BYTE> buffer(size);
        if (size && GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
            PSID sid = reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid;
            user.sid.assign(static_cast<BYTE*>(sid), static_cast<BYTE*>(sid) + GetLengthSid(sid));
            wchar_t* text = nullptr;
            if (ConvertSidToStringSidW(sid, &text)) {
                user.sid_string = text;
                LocalFree(text);
            }
            user.name = account_name(sid);
        }
        CloseHandle(token);
    });
    return user;
}

bool is_sid(PSID sid, WELL_KNOWN_SID_TYPE type) {
    BYTE buffer[SECURITY_MAX_SID_SIZE];
    DWORD size = sizeof buffer;
    return CreateWellKnownSid(type, nullptr, buffer, &size) && EqualSid(sid, buffer);
}

// Accounts whose access is no one else's: this user; SYSTEM and the Administrators, who
// can take any file anyway (every folder of a profile grants them full control); OWNER
// RIGHTS and CREATOR OWNER, which stand for the owner (checked to be this user).
bool trusted(PSID sid) {
    const User& user = this_user();
    return (!user.sid.empty() && EqualSid(sid, user.get())) || is_sid(sid, WinLocalSystemSid) ||
           is_sid(sid, WinBuiltinAdministratorsSid) || is_sid(sid, WinCreatorOwnerRightsSid) ||
           is_sid(sid, WinCreatorOwnerSid);
}

// The security descriptor of what mcp-auth creates: owned by this user; a protected DACL
// (nothing inherited from above) granting full control to this user and to SYSTEM, the
// account of the system's own services (backup, indexing, malware scanning), which can
// read any file anyway. The Administrators are not granted it: they can take a file, but
// that is an act of theirs, not a default of ours (POSIX: 0700, root unnamed).
class CreatedSecurity {
public:
    explicit CreatedSecurity(bool directory) {
        const std::wstring& me = this_user().sid_string;
        if (me.empty()) return;
        std::wstring inherit = directory ? L"OICI" : L"";
        std::wstring sddl =
            L"O:" + me + L"D:P(A;" + inherit + L";FA;;;" + me + L")(A;" + inherit + L";FA;;;SY)";
        ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                             &descriptor_, nullptr);
        attributes_.nLength = sizeof attributes_;
        attributes_.lpSecurityDescriptor = descriptor_;
        attributes_.bInheritHandle = FALSE;  // handles are never inherited unless passed
    }
    ~CreatedSecurity() {
        if (descriptor_) LocalFree(descriptor_);
    }
    CreatedSecurity(const CreatedSecurity&) = delete;
    CreatedSecurity& operator=(const CreatedSecurity&) = delete;
    bool ok() const { return descriptor_ != nullptr; }
    SECURITY_ATTRIBUTES* get() { return &attributes_; }

private:
    PSECURITY_DESCRIPTOR descriptor_ = nullptr;
    SECURITY_ATTRIBUTES attributes_{};
};

bool is_separator(wchar_t c) {
    return c == L'\\' || c == L'/';
}

// "C:\..." or "C:/...", or "\\server\share\...".
bool absolute(const std::string& path) {
    auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    if (path.size() >= 3 && letter(path[0]) && path[1] == ':' && is_separator(path[2])) return true;
    return path.size() >= 3 && is_separator(path[0]) && is_separator(path[1]) &&
           !is_separator(path[2]);
}

// `path` for the W functions: backslashes, "." and ".." resolved, and the \\?\ form when
// it is long (MAX_PATH does not apply to it).
std::wstring api_path(const std::wstring& path) {
    if (path.rfind(L"\\\\?\\", 0) == 0) return path;
    std::wstring wide = path;
    for (auto& c : wide)
        if (c == L'/') c = L'\\';
    DWORD n = GetFullPathNameW(wide.c_str(), 0, nullptr, nullptr);
    if (n == 0) return wide;
    std::wstring full(n, L'\0');
    n = GetFullPathNameW(wide.c_str(), n, full.data(), nullptr);
    full.resize(n);
    if (full.size() < MAX_PATH - 12) return full;
    if (full.rfind(L"\\\\", 0) == 0) return L"\\\\?\\UNC\\" + full.substr(2);
    return L"\\\\?\\" + full;
}

std::wstring api_path(const std::string& path) {
    return api_path(win32::widen(path));
}

// The message form of a file of the directory.
std::string join(const std::string& dir, const std::string& name) {
    if (!dir.empty() && (dir.back() == '\\' || dir.back() == '/')) return dir + name;
    return dir + "\\" + name;
}

Error io_error(ErrorKind kind, const std::string& what, const std::string& path,
               DWORD code = GetLastError()) {
    return make_error(kind, "could not " + what + " " + path + ": " + win32::error_text(code) +
                                ". Check the permissions.");
}

Error refused(const PrivateDirectoryUse& use, const std::string& path, const std::string& why,
              const std::string& fix) {
    return make_error(use.kind, "refusing to use " + use.what + " at " + path + ": " + why +
                                    ", so another user could " + use.risk + ". " + fix);
}

// Who owns the object of `handle`, and who besides the trusted accounts is granted any of
// `rights` by its DACL ("" for nobody). False when the security could not be read.
struct Security {
    bool owner_is_me = false;
    std::string owner;
    std::string other;  // an account granted `rights`, or "everyone" for a missing DACL
};

bool inspect(HANDLE handle, DWORD rights, Security* out, DWORD* error) {
    PSID owner = nullptr;
    PACL dacl = nullptr;
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    DWORD rc = GetSecurityInfo(handle, SE_FILE_OBJECT,
                               OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                               nullptr, &dacl, nullptr, &descriptor);
    if (rc != ERROR_SUCCESS) {
        *error = rc;
        return false;
    }
    const User& user = this_user();
    out->owner_is_me = owner && !user.sid.empty() && EqualSid(owner, user.get());
    out->owner = owner ? account_name(owner) : "nobody";
    if (!dacl) {
        out->other = "everyone";  // a NULL DACL grants everything to everyone
    } else {
        GENERIC_MAPPING mapping = {FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE,
                                   FILE_ALL_ACCESS};
        for (DWORD i = 0; i < dacl->AceCount && out->other.empty(); ++i) {
            ACE_HEADER* ace = nullptr;
            if (!GetAce(dacl, i, reinterpret_cast<void**>(&ace))) continue;
            if (ace->AceFlags & INHERIT_ONLY_ACE) continue;  // for what is created inside
            if (ace->AceType == ACCESS_ALLOWED_ACE_TYPE ||
                ace->AceType == ACCESS_ALLOWED_CALLBACK_ACE_TYPE) {
                auto* allowed = reinterpret_cast<ACCESS_ALLOWED_ACE*>(ace);
                ACCESS_MASK mask = allowed->Mask;
                MapGenericMask(&mask, &mapping);
                PSID sid = &allowed->SidStart;
                if ((mask & rights) && !trusted(sid)) out->other = account_name(sid);
            } else if (ace->AceType == ACCESS_ALLOWED_OBJECT_ACE_TYPE ||
                       ace->AceType == ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE) {
                auto* allowed = reinterpret_cast<ACCESS_ALLOWED_OBJECT_ACE*>(ace);
                if (allowed->Mask & rights) out->other = "an account of an object ACE";
            }
        }
    }
    LocalFree(descriptor);
    return true;
}

// The directory's handle: no FILE_SHARE_DELETE, so it cannot be renamed or removed while
// it is open. A link to the directory itself is followed.
Handle open_directory(const std::wstring& path) {
    return Handle(CreateFileW(
        path.c_str(),
        FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE,
        FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS,
        nullptr));
}

// Where the directory of `handle` is now (\\?\ form); "" when the system does not say.
std::wstring current_path(HANDLE handle) {
    std::wstring path(MAX_PATH, L'\0');
    for (int attempt = 0; attempt < 4; ++attempt) {
        DWORD n = GetFinalPathNameByHandleW(handle, path.data(), static_cast<DWORD>(path.size()),
                                            FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
        if (n == 0) return {};
        if (n < path.size()) {
            path.resize(n);
            return path;
        }
        path.resize(n + 1);
    }
    return {};
}

// Creates the missing components of `dir` for this user alone (existing ones stay as they
// are). True when the last component was created here.
bool make_dirs(const std::wstring& dir, bool* created_last, DWORD* error) {
    CreatedSecurity security(true);
    if (!security.ok()) {
        *error = GetLastError();
        return false;
    }
    // The first component that can be created: after "C:\", or after "\\server\share\".
    size_t start = 3;
    if (dir.rfind(L"\\\\", 0) == 0) {
        size_t server = dir.find(L'\\', 2);
        size_t share = server == std::wstring::npos ? server : dir.find(L'\\', server + 1);
        start = share == std::wstring::npos ? dir.size() : share + 1;
    }
    *created_last = false;
    for (size_t end = start; end <= dir.size(); ++end) {
        if (end < dir.size() && !is_separator(dir[end])) continue;
        if (end == start || is_separator(dir[end - 1])) continue;
        std::wstring partial = api_path(dir.substr(0, end));
        bool made = CreateDirectoryW(partial.c_str(), security.get()) != 0;
        if (!made) {
            DWORD code = GetLastError();
            DWORD attributes = GetFileAttributesW(partial.c_str());
            bool exists =
                attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY);
            if (!exists) {
                *error = code;
                return false;
            }
        }
        *created_last = made;
    }
    return true;
}

// Where the directory is now, from its handle: `exact` when the system said (then a file
// opened in it has this path plus its name as its own final path).
struct Base {
    std::wstring path;
    bool exact = false;
};

bool same_path(const std::wstring& a, const std::wstring& b) {
    return a.size() == b.size() &&
           CompareStringOrdinal(a.data(), static_cast<int>(a.size()), b.data(),
                                static_cast<int>(b.size()), TRUE) == CSTR_EQUAL;
}

// A file of the directory, opened without following a reparse point in its name; a reparse
// point (a symbolic link, a junction, ...) is refused with a message that says so. A file
// whose final path is not its name in the directory was reached through a link the
// attributes did not show (Wine presents a Unix symbolic link so): refused the same way.
Expected<Handle> open_in_dir(const Base& base, const std::string& dir_path,
                             const PrivateDirectoryUse& use, const std::string& name, DWORD access,
                             DWORD share, DWORD disposition, bool* absent = nullptr) {
    std::string path = join(dir_path, name);
    CreatedSecurity security(false);
    if (!security.ok()) return io_error(use.kind, "prepare the security of", path);
    std::wstring full = base.path + L"\\" + win32::widen(name);
    Handle file(CreateFileW(
        full.c_str(), access, share, security.get(), disposition,
        FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS,
        nullptr));
    if (!file.valid()) {
        DWORD code = GetLastError();
        if (absent && (code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND)) {
            *absent = true;
            return Handle();
        }
        return io_error(use.kind, "open", path, code);
    }
    BY_HANDLE_FILE_INFORMATION info{};
    if (!GetFileInformationByHandle(file.get(), &info)) return io_error(use.kind, "inspect", path);
    bool linked = (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
    if (!linked && base.exact) {
        std::wstring reached = current_path(file.get());
        linked = !reached.empty() && !same_path(reached, full);
    }
    if (linked)
        return refused(use, path,
                       "it is a symbolic link or another reparse point (mcp-auth follows no link "
                       "inside its directory)",
                       "Remove the link and run the command again (you may have to log in again).");
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ||
        GetFileType(file.get()) != FILE_TYPE_DISK)
        return refused(use, path, "it is not a regular file",
                       "Remove it and run the command again (you may have to log in again).");
    return file;
}

// A file to read secrets from: this user's, and nobody else may read or write it.
Status check_private_file(HANDLE file, const std::string& path, const PrivateDirectoryUse& use) {
    Security security;
    DWORD code = 0;
    if (!inspect(file, kReadWriteRights, &security, &code))
        return io_error(use.kind, "inspect", path, code);
    if (!security.owner_is_me)
        return refused(
            use, path,
            "the file belongs to " + security.owner + ", not to you (" + this_user().name + ")",
            "Remove it and log in again.");
    if (!security.other.empty())
        return refused(
            use, path,
            "the file is open to other users (" + security.other + " may read or change it)",
            "Its tokens may have been read: run `icacls \"" + path +
                "\" /inheritance:r /grant:r \"%USERNAME%:F\"`, then `mcp-auth logout` "
                "and log in again.");
    return Ok{};
}

bool write_all(HANDLE file, const std::string& text) {
    for (size_t done = 0; done < text.size();) {
        DWORD written = 0;
        DWORD chunk = static_cast<DWORD>(std::min<size_t>(text.size() - done, 1u << 30));
        if (!WriteFile(file, text.data() + done, chunk, &written, nullptr) || written == 0)
            return false;
        done += written;
    }
    return true;
}

// Another process may have the file open for a moment (a reader, a virus scanner): a
// replace or a removal waits for it a little.
bool transient(DWORD code) {
    return code == ERROR_SHARING_VIOLATION || code == ERROR_ACCESS_DENIED ||
           code == ERROR_LOCK_VIOLATION;
}

}  // namespace

// --- LockFile ------------------------------------------------------------------------

Expected<bool> LockFile::try_lock(bool exclusive) {
    if (handle_ < 0) return make_error(kind_, "the lock " + path_ + " is not open");
    DWORD access = exclusive ? kExclusiveAccess : kSharedAccess;
    HANDLE current = win32::int_to_handle(handle_);
    HANDLE locked = ReOpenFile(current, access, kLockShare, 0);
    if (locked == INVALID_HANDLE_VALUE) {
        DWORD code = GetLastError();
        if (code != ERROR_SHARING_VIOLATION) return io_error(kind_, "lock", path_, code);
        // Maybe in conflict with our own hold (a conversion, or the same mode again when
        // exclusive): as flock(2) converts, drop it first, then ask again. The handle is
        // replaced by one without a lock while asking.
        HANDLE unlocked = ReOpenFile(current, kUnlockedAccess, kShareAll, 0);
        if (unlocked == INVALID_HANDLE_VALUE) return io_error(kind_, "lock", path_);
        CloseHandle(current);
        handle_ = win32::handle_to_int(unlocked);
        locked = ReOpenFile(unlocked, access, kLockShare, 0);
        if (locked == INVALID_HANDLE_VALUE) {
            code = GetLastError();
            if (code == ERROR_SHARING_VIOLATION) return false;
            return io_error(kind_, "lock", path_, code);
        }
        current = unlocked;
    }
    CloseHandle(current);
    handle_ = win32::handle_to_int(locked);
    return true;
}

Status LockFile::lock(bool exclusive) {
    // Windows has no waiting form of a sharing mode: ask again until it is free.
    for (int attempt = 0;; ++attempt) {
        auto taken = try_lock(exclusive);
        if (!taken) return taken.error();
        if (*taken) return Ok{};
        std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 20 ? 5 : 50));
    }
}

void LockFile::release() {
    if (handle_ >= 0) CloseHandle(win32::int_to_handle(handle_));  // the hold ends with it
    handle_ = -1;
}

// --- PrivateDirectory ----------------------------------------------------------------

Expected<PrivateDirectory> PrivateDirectory::open(const std::string& path,
                                                  PrivateDirectoryUse use) {
    if (!absolute(path))
        return make_error(use.kind,
                          use.what + " needs an absolute directory, not \"" + path + "\"");
    if (this_user().sid.empty())
        return make_error(use.kind, "could not learn which user runs mcp-auth: " +
                                        win32::error_text(GetLastError()));
    bool created = false;
    DWORD code = 0;
    std::wstring wide = api_path(path);
    if (!make_dirs(wide, &created, &code))
        return io_error(use.kind, "create the directory", path, code);
    Handle dir = open_directory(wide);
    if (!dir.valid()) return io_error(use.kind, "open the directory", path);
    BY_HANDLE_FILE_INFORMATION info{};
    if (!GetFileInformationByHandle(dir.get(), &info))
        return io_error(use.kind, "inspect the directory", path);
    if (!(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
        return make_error(use.kind, use.what + " at " + path + " is not a directory");
    Security security;
    if (!inspect(dir.get(), kWriteRights, &security, &code))
        return io_error(use.kind, "inspect the directory", path, code);
    (void)created;  // what CreateDirectoryW made already has exactly the DACL asked for
    if (!security.owner_is_me)
        return refused(use, path,
                       "the directory belongs to " + security.owner + ", not to you (" +
                           this_user().name + ")",
                       "Remove it (or move it away) and run the command again; mcp-auth creates "
                       "its own directory, for you alone.");
    if (!security.other.empty())
        return refused(
            use, path,
            "the directory is writable by other users (" + security.other + " may change it)",
            "Remove their access (Properties > Security, or `icacls \"" + path +
                "\" /inheritance:r /grant:r \"%USERNAME%:F\"`) and check the files in "
                "it, then run the command again.");
    return PrivateDirectory(win32::handle_to_int(dir.release()), path, std::move(use));
}

PrivateDirectory::~PrivateDirectory() {
    if (handle_ >= 0) CloseHandle(win32::int_to_handle(handle_));
}

namespace {

// The directory's path now, from its handle (else the path it was opened by).
Base base_of(int handle, const std::string& path) {
    std::wstring now = current_path(win32::int_to_handle(handle));
    if (now.empty()) return Base{api_path(path), false};
    return Base{now, true};
}

}  // namespace

Expected<std::optional<std::string>> PrivateDirectory::read(const std::string& name) const {
    bool absent = false;
    std::string path = join(path_, name);
    auto file = open_in_dir(base_of(handle_, path_), path_, use_, name, GENERIC_READ, kShareAll,
                            OPEN_EXISTING, &absent);
    if (!file) return file.error();
    if (absent) return std::optional<std::string>();
    if (auto ok = check_private_file(file->get(), path, use_); !ok) return ok.error();
    std::string text;
    char buffer[16384];
    for (;;) {
        DWORD n = 0;
        if (!ReadFile(file->get(), buffer, sizeof buffer, &n, nullptr)) {
            DWORD code = GetLastError();
            wipe_secret(text);
            wipe_buffer(buffer, sizeof buffer);
            return io_error(use_.kind, "read", path, code);
        }
        if (n == 0) break;
        text.append(buffer, n);
    }
    wipe_buffer(buffer, sizeof buffer);
    return std::optional<std::string>(std::move(text));
}

Status PrivateDirectory::replace(const std::string& name, const std::string& content) const {
    std::string path = join(path_, name);
    std::wstring base = base_of(handle_, path_).path;
    CreatedSecurity security(false);
    if (!security.ok()) return io_error(use_.kind, "prepare the security of", path);
    std::wstring tmp;
    Handle file;
    // An unguessable name, created exclusively: a file or link planted in advance under the
    // name is never opened (a collision only costs another try).
    for (int attempt = 0; attempt < 8 && !file.valid(); ++attempt) {
        try {
            tmp = base + L"\\" + win32::widen(name + ".tmp." + base64url_encode(random_bytes(12)));
        } catch (const std::exception& e) {
            return make_error(use_.kind,
                              std::string("could not name a temporary file: ") + e.what());
        }
        file =
            Handle(CreateFileW(tmp.c_str(), GENERIC_WRITE | DELETE, 0, security.get(), CREATE_NEW,
                               FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr));
        if (!file.valid() && GetLastError() != ERROR_FILE_EXISTS &&
            GetLastError() != ERROR_ALREADY_EXISTS)
            return io_error(use_.kind, "create a temporary file in", path_);
    }
    if (!file.valid()) return io_error(use_.kind, "create a temporary file in", path_);
    bool written = write_all(file.get(), content) && FlushFileBuffers(file.get());
    DWORD code = written ? 0 : GetLastError();
    // Renamed over the old file (or a link in its place, never through it). First through
    // the handle, with POSIX semantics (Windows 10 1709, NTFS): the name changes even while
    // a reader has the old file open, and the bare name keeps it in this directory.
    bool moved = false;
    if (written) {
        std::wstring bare = win32::widen(name);
        std::vector<BYTE> buffer(sizeof(FILE_RENAME_INFO) + bare.size() * sizeof(wchar_t));
        auto* rename = reinterpret_cast<FILE_RENAME_INFO*>(buffer.data());
        DWORD flags = FILE_RENAME_FLAG_REPLACE_IF_EXISTS | FILE_RENAME_FLAG_POSIX_SEMANTICS;
        std::memcpy(rename, &flags, sizeof flags);  // FILE_RENAME_INFO's Flags (see above)
        rename->RootDirectory = nullptr;
        rename->FileNameLength = static_cast<DWORD>(bare.size() * sizeof(wchar_t));
        std::copy(bare.begin(), bare.end(), rename->FileName);
        moved = SetFileInformationByHandle(file.get(), kFileRenameInfoEx, rename,
                                           static_cast<DWORD>(buffer.size())) != 0;
    }
    file.reset();
    // Elsewhere (an older Windows, another file system, Wine) MoveFileExW, which fails while
    // a reader (or a virus scanner) has the old file open: it is asked again for a while.
    std::wstring target = base + L"\\" + win32::widen(name);
    for (int attempt = 0; written && !moved && attempt < 80; ++attempt) {
        moved = MoveFileExW(tmp.c_str(), target.c_str(),
                            MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) != 0;
        code = moved ? 0 : GetLastError();
        if (!moved && !transient(code)) break;
        if (!moved) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    // The content reached the disk before the rename (FlushFileBuffers), and NTFS journals
    // a rename as one change: after a crash the name holds the old file or the new one.
    if (!moved) {
        DeleteFileW(tmp.c_str());
        return io_error(use_.kind, "write", path, code);
    }
    return Ok{};
}

Expected<LockFile> PrivateDirectory::open_lock(const std::string& name) const {
    auto file = open_in_dir(base_of(handle_, path_), path_, use_, name, kUnlockedAccess, kShareAll,
                            OPEN_ALWAYS);
    if (!file) return file.error();
    return LockFile(win32::handle_to_int(file->release()), join(path_, name), use_.kind);
}

Status PrivateDirectory::touch_marker(const std::string& name) const {
    std::string path = join(path_, name);
    auto file = open_in_dir(base_of(handle_, path_), path_, use_, name,
                            FILE_READ_ATTRIBUTES | FILE_WRITE_DATA | FILE_APPEND_DATA | SYNCHRONIZE,
                            kShareAll, OPEN_ALWAYS);
    if (!file) return file.error();
    // One byte per change: the size always moves (a timestamp alone may not, within a clock
    // tick). Kept small: a truncation changes the size too.
    LARGE_INTEGER size{};
    if (GetFileSizeEx(file->get(), &size) && size.QuadPart >= kMarkerLimit) {
        LARGE_INTEGER zero{};
        if (SetFilePointerEx(file->get(), zero, nullptr, FILE_BEGIN)) SetEndOfFile(file->get());
    }
    // At the end of the file whatever its size now (another process may append meanwhile).
    OVERLAPPED at_end{};
    at_end.Offset = at_end.OffsetHigh = 0xFFFFFFFF;
    DWORD written = 0;
    if (!WriteFile(file->get(), "+", 1, &written, &at_end) || written != 1)
        return io_error(use_.kind, "write", path);
    return Ok{};
}

Expected<AppendFile> AppendFile::open(const std::string& path) {
    CreatedSecurity security(false);
    // FILE_APPEND_DATA without FILE_WRITE_DATA: every write goes to the end, whoever else
    // appends. Shared in every way: other instances append too, and rotation renames it.
    HANDLE h = CreateFileW(api_path(path).c_str(), FILE_APPEND_DATA | FILE_READ_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           security.ok() ? security.get() : nullptr, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (h == INVALID_HANDLE_VALUE)
        return make_error(ErrorKind::Io, "cannot open " + path + " to append to it: " +
                                             win32::error_text(GetLastError()));
    FILE_ATTRIBUTE_TAG_INFO tag{};
    if (GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag) &&
        (tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
        CloseHandle(h);
        return make_error(ErrorKind::Io,
                          "cannot append to " + path + ": it is a link (a reparse point)");
    }
    return AppendFile(win32::handle_to_int(h));
}

AppendFile::~AppendFile() {
    if (handle_ >= 0) CloseHandle(win32::int_to_handle(handle_));
}

AppendFile::AppendFile(AppendFile&& other) noexcept : handle_(std::exchange(other.handle_, -1)) {}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
    if (this != &other) {
        if (handle_ >= 0) CloseHandle(win32::int_to_handle(handle_));
        handle_ = std::exchange(other.handle_, -1);
    }
    return *this;
}

bool AppendFile::append(std::string_view bytes) {
    if (handle_ < 0) return false;
    DWORD n = 0;
    return WriteFile(win32::int_to_handle(handle_), bytes.data(), static_cast<DWORD>(bytes.size()),
                     &n, nullptr) &&
           n == bytes.size();
}

long long AppendFile::size() const {
    LARGE_INTEGER size{};
    if (handle_ < 0 || !GetFileSizeEx(win32::int_to_handle(handle_), &size)) return -1;
    return static_cast<long long>(size.QuadPart);
}

bool rename_over(const std::string& from, const std::string& to) {
    return MoveFileExW(api_path(from).c_str(), api_path(to).c_str(), MOVEFILE_REPLACE_EXISTING);
}

bool is_private_directory(const std::string& path) {
    if (!absolute(path)) return false;
    Handle dir(CreateFileW(api_path(path).c_str(), FILE_READ_ATTRIBUTES | READ_CONTROL, kShareAll,
                           nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr));
    BY_HANDLE_FILE_INFORMATION info{};
    if (!dir.valid() || !GetFileInformationByHandle(dir.get(), &info) ||
        !(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
        return false;
    Security security;
    DWORD code = 0;
    return inspect(dir.get(), kWriteRights, &security, &code) && security.owner_is_me &&
           security.other.empty();
}

std::string file_stamp(const std::string& path) {
    // One call, no handle kept: creation time (a file replaced under the name has another),
    // size, and last write time (100 ns units).
    WIN32_FILE_ATTRIBUTE_DATA data{};
    if (!GetFileAttributesExW(api_path(path).c_str(), GetFileExInfoStandard, &data)) return "none";
    auto number = [](DWORD high, DWORD low) {
        return std::to_string((static_cast<unsigned long long>(high) << 32) | low);
    };
    return number(data.ftCreationTime.dwHighDateTime, data.ftCreationTime.dwLowDateTime) + ":" +
           number(data.nFileSizeHigh, data.nFileSizeLow) + ":" +
           number(data.ftLastWriteTime.dwHighDateTime, data.ftLastWriteTime.dwLowDateTime);
}

}  // namespace mcp_auth
