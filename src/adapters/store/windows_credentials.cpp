// The Windows backend: generic credentials in Windows Credential Manager (wincred). Built
// only on Windows.
//
// Layout. A generic credential's blob holds at most 2,560 bytes and tokens are often
// longer, so a secret is split into parts when it does not fit in one:
//   head  "mcp-auth/<the key, readable> [<id>]"     one per key: what a user sees in
//                                                   Control Panel > Credential Manager
//   part  "mcp-auth-part/<id>/<generation>/<i>"     bytes i*2560... of one version
// <id> is 16 hex digits of SHA-256 over the exact key. Target names are compared without
// case (and Wine turns '\' into '_' and refuses names over 246 characters), so the
// readable text, cut to a length, cannot tell keys apart alone. The head's blob holds the
// exact key, the version's generation (128 random bits), its part count and length, and
// the secret itself when it fits beside them: a small secret is one credential. Parts
// have a prefix of their own so that listing the heads (status, logout --all, every
// lookup by server) never reads them.
//
// Commit order. A write puts every part of a new generation first, then replaces the head
// (one credential, replaced at once: the commit), and only then deletes the parts of
// every other generation of that key. A reader reads the head, then the parts it names:
// parts never change once written, so it sees one version. A part gone under it means a
// writer committed a newer version and swept this one: it reads the head again. A crash
// before the commit leaves parts no head names (the old version stays readable); after
// it, the old version's parts: both are deleted by the next write or erase of the key. A
// head whose parts are gone for good (deleted by hand) reads as absent and is removed.
//
// Locking. Writers (put, erase, that removal) hold a mutex of the logon session for their
// whole run, so writers never sweep each other's new parts and a commit never meets a
// sweep; readers take it only around reading a head and listing heads. That last part is
// for Wine: real Credential Manager reads are atomic, Wine's are not (it keeps credentials
// in the registry): CredReadW and CredEnumerateW measure, then copy, and a credential
// created or grown in between overflows their buffer (a crash, seen here). So heads are
// created and listed only under the mutex, a head's blob always has the same size, and
// parts are never rewritten. Writers in another logon session of the same user are not
// excluded: readers there still never see a mix, but a racing sweep can fail one save.
#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <wincred.h>  // needs windows.h's types

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "adapters/store/bounded.h"
#include "adapters/store/stores.h"
#include "core/crypto.h"

namespace mcp_auth {
namespace {

using std::chrono::milliseconds;

constexpr const char* kRemedy =
    " Check Windows Credential Manager (Control Panel > Credential Manager > Windows "
    "Credentials), or choose the file store explicitly with --store file.";
// The limit of a generic credential's blob since Windows 7 (the Windows SDK's
// CRED_MAX_CREDENTIAL_BLOB_SIZE; MinGW's headers still say 512), spelled out so that the
// stored layout does not depend on the compiler. Wine does not enforce it.
constexpr size_t kBlob = 5 * 512;
constexpr const wchar_t* kHeadPrefix = L"mcp-auth/";
constexpr const wchar_t* kPartPrefix = L"mcp-auth-part/";
constexpr const char* kFormat = "mcp-auth/1";
constexpr size_t kIdDigits = 16;
constexpr size_t kGenerationDigits = 32;
constexpr size_t kMaxParts = 4096;  // 10 MB: far above any token record
// Of the key in a head's name: the whole name stays under Wine's 246 characters.
constexpr size_t kMaxShown = 200;
constexpr size_t kMaxComment = 255;  // CRED_MAX_STRING_LENGTH, 256 with the terminator
constexpr int kReadAttempts = 8;     // a reader racing writers starts again this often
constexpr const wchar_t* kMutexName = L"Local\\mcp-auth-credential-manager";

using win32::narrow;
using win32::widen;

bool starts_with(const std::wstring& s, const std::wstring& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

std::string hex(const std::string& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

bool is_hex(const std::string& s, size_t digits) {
    return s.size() == digits && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// Lower-case hex only: names are compared without case.
std::string key_id(const std::string& encoded) {
    return hex(sha256(encoded)).substr(0, kIdDigits);
}

std::wstring head_name(const std::string& encoded) {
    std::wstring shown = widen(encoded);
    for (auto& c : shown)
        if (c < 0x20 || c == 0x7f) c = L'?';
    if (shown.size() > kMaxShown) {
        size_t cut = kMaxShown - 1;
        if (IS_HIGH_SURROGATE(shown[cut - 1])) --cut;  // not half a character
        shown.resize(cut);
        shown += L'\x2026';  // an ellipsis
    }
    return kHeadPrefix + shown + L" [" + widen(key_id(encoded)) + L"]";
}

std::wstring part_prefix(const std::string& id) {
    return kPartPrefix + widen(id) + L"/";
}

std::wstring part_name(const std::string& id, const std::string& generation, size_t part) {
    return part_prefix(id) + widen(generation) + L"/" + std::to_wstring(part);
}

std::wstring comment_of(const std::string& text) {
    std::wstring comment = widen(text);
    if (comment.size() > kMaxComment) comment.resize(kMaxComment);
    return comment;
}

// `what`: "save a secret", ...
Error cred_error(const std::string& what, DWORD code) {
    if (code == ERROR_NO_SUCH_LOGON_SESSION)
        return make_error(ErrorKind::StoreUnavailable,
                          "Windows Credential Manager is not available in this logon session "
                          "(error 1312), so mcp-auth could not " +
                              what +
                              ". That happens in services and over SSH with key-based "
                              "login; choose the file store explicitly with --store file.");
    return make_error(ErrorKind::StoreUnavailable, "Windows Credential Manager could not " + what +
                                                       ": " + win32::error_text(code) + "." +
                                                       kRemedy);
}

Error busy(milliseconds waited) {
    return make_error(ErrorKind::StoreUnavailable,
                      "Windows Credential Manager is busy: another mcp-auth process has been "
                      "saving to it for over " +
                          std::to_string(waited.count()) +
                          " ms. Try again; if this goes on, end the mcp-auth process that is "
                          "stuck.");
}

// Wine only: a credential being created or deleted at that instant (Wine writes and reads
// its registry values one at a time). Real Credential Manager never reports these.
bool transient(DWORD code) {
    return code == ERROR_FILE_NOT_FOUND || code == ERROR_KEY_DELETED || code == ERROR_MORE_DATA;
}

void wipe_blob(CREDENTIALW* cred) {
    if (cred && cred->CredentialBlob && cred->CredentialBlobSize)
        SecureZeroMemory(cred->CredentialBlob, cred->CredentialBlobSize);
}

// One credential's blob; nullopt when there is no such credential.
Expected<std::optional<std::string>> read_blob(const std::wstring& name) {
    for (int attempt = 0;; ++attempt) {
        PCREDENTIALW cred = nullptr;
        if (CredReadW(name.c_str(), CRED_TYPE_GENERIC, 0, &cred)) {
            std::string blob;
            if (cred->CredentialBlob)
                blob.assign(reinterpret_cast<const char*>(cred->CredentialBlob),
                            cred->CredentialBlobSize);
            wipe_blob(cred);  // our copy is the only one left
            CredFree(cred);
            return std::optional<std::string>(std::move(blob));
        }
        DWORD code = GetLastError();
        if (code == ERROR_NOT_FOUND) return std::optional<std::string>();
        if (transient(code)) {
            if (attempt < 3) {
                Sleep(1);
                continue;
            }
            // Still half there: being deleted, or left half-created by a crash.
            if (code != ERROR_MORE_DATA) return std::optional<std::string>();
        }
        return cred_error("read a saved secret", code);
    }
}

// CredWriteW takes non-const pointers (it changes nothing): hence the copies.
Status write_blob(std::wstring name, const char* data, size_t size, std::wstring comment) {
    CREDENTIALW cred = {};
    cred.Type = CRED_TYPE_GENERIC;
    cred.TargetName = name.data();
    cred.Comment = comment.empty() ? nullptr : comment.data();
    cred.CredentialBlobSize = static_cast<DWORD>(size);
    cred.CredentialBlob = reinterpret_cast<LPBYTE>(const_cast<char*>(data));
    cred.Persist = CRED_PERSIST_LOCAL_MACHINE;  // kept across logons, not roamed
    if (!CredWriteW(&cred, 0)) return cred_error("save a secret", GetLastError());
    return Ok{};
}

Status delete_credential(const std::wstring& name) {
    if (!CredDeleteW(name.c_str(), CRED_TYPE_GENERIC, 0)) {
        DWORD code = GetLastError();
        if (code != ERROR_NOT_FOUND) return cred_error("delete a saved secret", code);
    }
    return Ok{};
}

struct Listed {
    std::wstring name;
    std::string blob;  // only when asked for
};

void wipe_listed(std::vector<Listed>& listed) {
    for (auto& item : listed) wipe_secret(item.blob);
}

// Every generic credential whose name starts with `prefix` (exactly: CredEnumerateW's
// filter ignores case). The filter takes a '*' only at its end.
Expected<std::vector<Listed>> list(const std::wstring& prefix, bool with_blobs) {
    std::wstring filter = prefix + L"*";
    for (int attempt = 0;; ++attempt) {
        DWORD count = 0;
        PCREDENTIALW* creds = nullptr;
        if (!CredEnumerateW(filter.c_str(), 0, &count, &creds)) {
            DWORD code = GetLastError();
            if (code == ERROR_NOT_FOUND) return std::vector<Listed>();
            if (transient(code) && attempt < 3) {
                Sleep(1);
                continue;
            }
            return cred_error("list the saved secrets", code);
        }
        std::vector<Listed> out;
        for (DWORD i = 0; i < count; ++i) {
            CREDENTIALW* cred = creds[i];
            if (cred->Type == CRED_TYPE_GENERIC && cred->TargetName &&
                starts_with(cred->TargetName, prefix)) {
                Listed item{cred->TargetName, {}};
                if (with_blobs && cred->CredentialBlob)
                    item.blob.assign(reinterpret_cast<const char*>(cred->CredentialBlob),
                                     cred->CredentialBlobSize);
                out.push_back(std::move(item));
            }
            wipe_blob(cred);
        }
        CredFree(creds);
        return out;
    }
}

// The logon session's writer lock (see the top). Null when the mutex cannot be had: then
// nothing is excluded, which real Credential Manager survives (see above).
HANDLE session_mutex() {
    static HANDLE mutex = CreateMutexW(nullptr, FALSE, kMutexName);
    return mutex;
}

class SessionLock {
public:
    explicit SessionLock(milliseconds wait) {
        HANDLE mutex = session_mutex();
        if (!mutex) return;
        DWORD r = WaitForSingleObject(mutex, static_cast<DWORD>(wait.count()));
        // WAIT_ABANDONED: a process died holding it, perhaps mid-write; what it left
        // behind is swept by the next write of that key.
        if (r == WAIT_OBJECT_0 || r == WAIT_ABANDONED)
            owned_ = mutex;
        else if (r == WAIT_TIMEOUT)
            held_ = false;
    }
    ~SessionLock() {
        if (owned_) ReleaseMutex(owned_);
    }
    SessionLock(const SessionLock&) = delete;
    SessionLock& operator=(const SessionLock&) = delete;
    bool held() const { return held_; }

private:
    HANDLE owned_ = nullptr;
    bool held_ = true;
};

// A head's blob: "mcp-auth/1 <generation> <parts> <bytes> <key length>\n", the key, the
// secret when `parts` is 0, then zeros up to kBlob bytes (one size always: see the top).
struct Head {
    std::string generation;
    size_t parts = 0;  // 0: the secret is in the head
    size_t bytes = 0;
    std::string key;  // encoded (core/credentials.h), exactly
};

std::string head_line(const Head& head) {
    return std::string(kFormat) + " " + head.generation + " " + std::to_string(head.parts) + " " +
           std::to_string(head.bytes) + " " + std::to_string(head.key.size()) + "\n";
}

std::string format_head(const Head& head, const std::string& inline_secret) {
    std::string blob = head_line(head) + head.key;
    blob += inline_secret;
    blob.resize(kBlob, '\0');
    return blob;
}

std::optional<size_t> decimal(const std::string& s) {
    if (s.empty() || s.size() > 9) return std::nullopt;
    size_t value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<size_t>(c - '0');
    }
    return value;
}

// The head, and its secret in `inline_secret` when it holds one.
std::optional<Head> parse_head(const std::string& blob, std::string* inline_secret) {
    size_t end = blob.find('\n');
    if (end == std::string::npos || end > 128) return std::nullopt;
    std::vector<std::string> fields;
    for (size_t start = 0; start <= end;) {
        size_t space = std::min(blob.find(' ', start), end);
        fields.push_back(blob.substr(start, space - start));
        start = space + 1;
    }
    if (fields.size() != 5 || fields[0] != kFormat || !is_hex(fields[1], kGenerationDigits))
        return std::nullopt;
    auto parts = decimal(fields[2]), bytes = decimal(fields[3]), key = decimal(fields[4]);
    if (!parts || !bytes || !key || end + 1 + *key > blob.size()) return std::nullopt;
    size_t data = end + 1 + *key;
    if (*parts == 0
            ? data + *bytes > blob.size()
            : *parts > kMaxParts || *bytes <= (*parts - 1) * kBlob || *bytes > *parts * kBlob)
        return std::nullopt;
    if (*parts == 0 && inline_secret) *inline_secret = blob.substr(data, *bytes);
    return Head{fields[1], *parts, *bytes, blob.substr(end + 1, *key)};
}

enum class Found { Absent, Valid, Unreadable };
struct HeadRead {
    Found found = Found::Absent;
    Head head;
    std::string inline_secret;
};

// The head of `encoded`, read under the session lock (Wine: see the top).
Expected<HeadRead> read_head(const std::string& encoded, milliseconds wait) {
    Expected<std::optional<std::string>> blob = std::optional<std::string>();
    {
        SessionLock lock(wait);
        if (!lock.held()) return busy(wait);
        blob = read_blob(head_name(encoded));
    }
    if (!blob) return blob.error();
    HeadRead read;
    if (!*blob) return read;
    auto head = parse_head(**blob, &read.inline_secret);
    wipe_secret(**blob);
    // A key of another name would be a collision of ids, or a credential copied by hand.
    read.found = head && head->key == encoded ? Found::Valid : Found::Unreadable;
    if (head) read.head = std::move(*head);
    return read;
}

// The parts of `head`; nullopt when one is missing or has the wrong size.
Expected<std::optional<std::string>> read_parts(const std::string& id, const Head& head) {
    std::string secret;
    for (size_t part = 0; part < head.parts; ++part) {
        auto blob = read_blob(part_name(id, head.generation, part));
        size_t expected = part + 1 < head.parts ? kBlob : head.bytes - part * kBlob;
        if (!blob || !*blob || (*blob)->size() != expected) {
            if (blob && *blob) wipe_secret(**blob);
            wipe_secret(secret);
            if (!blob) return blob.error();
            return std::optional<std::string>();
        }
        secret += **blob;
        wipe_secret(**blob);
    }
    return std::optional<std::string>(std::move(secret));
}

// Deletes every part of key `id` that is not of generation `keep`; returns how many of
// `keep`'s it found. Stops at the first failure.
Expected<size_t> sweep_parts(const std::string& id, const std::string& keep) {
    auto parts = list(part_prefix(id), false);
    if (!parts) return parts.error();
    size_t kept = 0;
    std::wstring mine = part_prefix(id) + widen(keep) + L"/";
    for (const auto& part : *parts) {
        if (!keep.empty() && starts_with(part.name, mine)) {
            ++kept;
            continue;
        }
        if (auto ok = delete_credential(part.name); !ok) return ok.error();
    }
    return kept;
}

// A head still naming `generation`, whose parts are gone for good: removed, with every
// part of its key, under the lock (so no writer of this session commits in between).
void remove_damaged(const std::string& encoded, const std::string& generation, milliseconds wait) {
    SessionLock lock(wait);
    if (!lock.held()) return;
    auto blob = read_blob(head_name(encoded));
    if (!blob || !*blob) return;
    auto head = parse_head(**blob, nullptr);
    wipe_secret(**blob);
    if (!head || head->generation != generation) return;
    if (delete_credential(head_name(encoded))) (void)sweep_parts(key_id(encoded), "");
}

Error damaged(const std::string& encoded) {
    return make_error(ErrorKind::StoreUnavailable,
                      "the Windows Credential Manager entry " + narrow(head_name(encoded)) +
                          " cannot be read (it was not written by this version of mcp-auth, or "
                          "it is damaged). Run mcp-auth logout, or delete it in Credential "
                          "Manager, and log in again.");
}

Expected<std::optional<std::string>> read_secret(const std::string& encoded, milliseconds wait) {
    std::string id = key_id(encoded);
    std::string incomplete;  // the generation found with a part missing, the last time
    for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
        if (attempt > 0) Sleep(1u << std::min(attempt, 5));  // 2, 4, ... 32 ms
        auto head = read_head(encoded, wait);
        if (!head) return head.error();
        if (head->found == Found::Absent) return std::optional<std::string>();
        if (head->found == Found::Unreadable) {
            if (attempt < 2) continue;  // Wine: a head being written the first time
            return damaged(encoded);
        }
        if (head->head.parts == 0)
            return std::optional<std::string>(std::move(head->inline_secret));
        auto secret = read_parts(id, head->head);
        if (!secret) return secret.error();
        if (*secret) return secret;
        // A part is gone. A writer that commits a newer version only then sweeps this one,
        // so a head still naming this generation the second time is damaged.
        {
            static std::atomic<int> n{0};
            std::fprintf(stderr, "TEMP retry %d gen %s\n", ++n, head->head.generation.c_str());
        }
        if (incomplete == head->head.generation) {
            remove_damaged(encoded, incomplete, wait);
            return std::optional<std::string>();
        }
        incomplete = head->head.generation;
    }
    return make_error(ErrorKind::StoreUnavailable,
                      "the Windows Credential Manager entry " + narrow(head_name(encoded)) +
                          " kept changing while it was read (other mcp-auth processes are "
                          "saving it). Try again.");
}

Status write_secret(const std::string& encoded, const std::string& label, const std::string& secret,
                    milliseconds wait) {
    Head head;
    try {
        head.generation = hex(random_bytes(kGenerationDigits / 2));
    } catch (const std::exception& e) {
        return make_error(
            ErrorKind::StoreUnavailable,
            std::string("could not name a new Windows Credential Manager entry: ") + e.what());
    }
    head.bytes = secret.size();
    head.key = encoded;
    size_t fixed = head_line(head).size() + encoded.size() + 4;  // room for the counts' digits
    if (fixed > kBlob)
        return make_error(ErrorKind::StoreUnavailable,
                          "the name of this secret (" + std::to_string(encoded.size()) +
                              " bytes) is too long for Windows Credential Manager.");
    bool fits = fixed + secret.size() <= kBlob;
    head.parts = fits ? 0 : (secret.size() + kBlob - 1) / kBlob;
    if (head.parts > kMaxParts)
        return make_error(ErrorKind::StoreUnavailable,
                          "a secret of " + std::to_string(secret.size()) +
                              " bytes is too large for Windows Credential Manager.");
    std::string id = key_id(encoded);
    std::wstring name = head_name(encoded);

    SessionLock lock(wait);
    if (!lock.held()) return busy(wait);
    std::wstring part_comment = L"mcp-auth: a part of " + name;
    if (part_comment.size() > kMaxComment) part_comment.resize(kMaxComment);
    for (size_t part = 0; part < head.parts; ++part) {
        size_t size = std::min(kBlob, secret.size() - part * kBlob);
        Status written = write_blob(part_name(id, head.generation, part),
                                    secret.data() + part * kBlob, size, part_comment);
        if (!written) {
            for (size_t p = 0; p < part; ++p)  // never named by a head
                (void)delete_credential(part_name(id, head.generation, p));
            return written;
        }
    }
    std::string blob = format_head(head, fits ? secret : std::string());
    Status committed = write_blob(name, blob.data(), blob.size(), comment_of(label));
    wipe_secret(blob);
    if (!committed) {
        for (size_t p = 0; p < head.parts; ++p)
            (void)delete_credential(part_name(id, head.generation, p));
        return committed;
    }
    // The version just replaced, and whatever a crash left.
    auto kept = sweep_parts(id, head.generation);
    if (kept && *kept != head.parts)
        return make_error(ErrorKind::StoreUnavailable,
                          "Windows Credential Manager lost part of the secret just saved in " +
                              narrow(name) +
                              " (another mcp-auth, in another logon session, was saving it at "
                              "the same time). Try again.");
    return Ok{};  // a failed sweep leaves parts for the next write or erase
}

Status erase_secret(const std::string& encoded, milliseconds wait) {
    SessionLock lock(wait);
    if (!lock.held()) return busy(wait);
    // The head first: from then on the secret reads as absent, whatever remains.
    if (auto ok = delete_credential(head_name(encoded)); !ok) return ok;
    auto swept = sweep_parts(key_id(encoded), "");
    if (!swept) return swept.error();
    return Ok{};
}

Expected<std::vector<SecretStore::Item>> find_secrets(const StoreKey& filter, milliseconds wait) {
    Expected<std::vector<Listed>> heads = std::vector<Listed>();
    {
        SessionLock lock(wait);
        if (!lock.held()) return busy(wait);
        heads = list(kHeadPrefix, true);
    }
    if (!heads) return heads.error();
    std::vector<SecretStore::Item> items;
    Status failed = Ok{};
    for (auto& listed : *heads) {
        std::string inline_secret;
        auto head = parse_head(listed.blob, &inline_secret);
        // Skipped: not ours (another program's "mcp-auth/..."), or damaged.
        if (!head || listed.name != head_name(head->key)) continue;
        auto key = decode_store_key(head->key);
        if (!key || !key_matches(*key, filter)) {
            wipe_secret(inline_secret);
            continue;
        }
        if (head->parts == 0) {
            items.emplace_back(std::move(*key), std::move(inline_secret));
            continue;
        }
        auto secret = read_secret(head->key, wait);
        if (!secret) {
            failed = secret.error();
            break;
        }
        // Erased between the listing and the read: not there any more.
        if (*secret) items.emplace_back(std::move(*key), std::move(**secret));
    }
    wipe_listed(*heads);
    if (!failed) {
        for (auto& item : items) wipe_secret(item.second);
        return failed.error();
    }
    return items;
}

class WindowsCredentialStore : public SecretStore {
public:
    WindowsCredentialStore(milliseconds timeout, bool own_worker)
        : timeout_(timeout),
          wait_(timeout * 3 / 4),  // so that "busy" can be said before the deadline
          worker_(own_worker ? std::make_unique<BoundedWorker>(2) : nullptr) {}

    std::string kind() const override { return "keychain"; }
    std::string description() const override { return "Windows Credential Manager"; }

    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        return bounded<std::optional<std::string>>(
            [encoded = encode_store_key(key), wait = wait_] { return read_secret(encoded, wait); });
    }

    Status put(const StoreKey& key, const std::string& label, const std::string& secret) override {
        // mutable: the lambda's copy of the secret is wiped once written.
        return bounded<Ok>([encoded = encode_store_key(key), label, secret = std::string(secret),
                            wait = wait_]() mutable -> Status {
            Status status = write_secret(encoded, label, secret, wait);
            wipe_secret(secret);
            return status;
        });
    }

    Status erase(const StoreKey& key) override {
        return bounded<Ok>([encoded = encode_store_key(key), wait = wait_]() -> Status {
            return erase_secret(encoded, wait);
        });
    }

    Expected<std::vector<Item>> find(const StoreKey& filter) override {
        return bounded<std::vector<Item>>(
            [filter, wait = wait_] { return find_secrets(filter, wait); });
    }

private:
    template <class T, class F>
    Expected<T> bounded(F op) {
        std::string late = "Windows Credential Manager did not answer within " +
                           std::to_string(timeout_.count()) + " ms." + kRemedy;
        if (worker_) return worker_->run<T>(timeout_, late, std::move(op));
        return run_bounded<T>(timeout_, late, std::move(op));
    }

    milliseconds timeout_;
    milliseconds wait_;
    std::unique_ptr<BoundedWorker> worker_;  // null: the process's keychain worker
};

}  // namespace

std::unique_ptr<SecretStore> make_os_keychain(milliseconds timeout) {
    return std::make_unique<WindowsCredentialStore>(timeout, false);
}

std::unique_ptr<SecretStore> make_credential_manager_store(milliseconds timeout, bool own_worker) {
    return std::make_unique<WindowsCredentialStore>(timeout, own_worker);
}

}  // namespace mcp_auth
