// The Windows backend: generic credentials in Credential Manager (wincred). Built only on
// Windows.
//
// A credential blob holds at most 2,560 bytes and tokens are often longer, so a secret is
// split into parts, and a reader must never see a mix of two versions:
//   head  "mcp-auth:<encoded key>"             blob "mcp-auth/2 <generation> <parts> <bytes>"
//   part  "mcp-auth.part:<generation>.<i>:<encoded key>"   blob: bytes of part i
// A write puts the parts under a new random generation, then replaces the head (one
// credential, replaced atomically) and only then deletes the old generation's parts. A
// reader reads the head first; a part that vanished under it (a writer switched versions)
// makes it start again from the head. Parts left by a crash or by two racing writers are
// never read; erase() removes every part of its key.
//
// Names are matched in code: CredEnumerateW supports a '*' only at the end of its filter.
// clang-format off
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <winsock2.h>  // before windows.h, wherever both meet in one translation unit
#include <windows.h>
#include <wincred.h>   // needs windows.h's types
// clang-format on

#include <string>
#include <vector>

#include "adapters/store/bounded.h"
#include "adapters/store/stores.h"
#include "core/base64.h"
#include "core/crypto.h"

namespace mcp_auth {
namespace {

constexpr const char* kRemedy =
    " Check Credential Manager (Control Panel > Credential Manager), or choose the file store "
    "explicitly with --store file.";
// The limit of a generic credential's blob since Windows 7 (the Windows SDK's
// CRED_MAX_CREDENTIAL_BLOB_SIZE; MinGW's headers still say 512): spelled out so that the
// stored layout does not depend on the compiler.
constexpr size_t kPart = 5 * 512;
constexpr const char* kHeadPrefix = "mcp-auth:";
constexpr const char* kPartPrefix = "mcp-auth.part:";
constexpr const char* kHeadFormat = "mcp-auth/2";
constexpr size_t kMaxParts = 4096;  // 10 MB: far above any token record
constexpr int kReadAttempts = 4;    // a reader racing writers starts again this often

std::wstring widen(const std::string& s) {
    if (s.empty()) return {};
    int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
    std::wstring out(static_cast<size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
    return out;
}

std::string narrow(const wchar_t* s) {
    if (!s || !*s) return {};
    int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, nullptr, 0, nullptr, nullptr);
    if (n <= 0) return {};
    std::string out(static_cast<size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, s, -1, out.data(), n, nullptr, nullptr);
    out.resize(static_cast<size_t>(n) - 1);
    return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

std::string head_name(const std::string& encoded_key) {
    return kHeadPrefix + encoded_key;
}

std::string part_name(const std::string& generation, size_t part, const std::string& encoded_key) {
    return kPartPrefix + generation + "." + std::to_string(part) + ":" + encoded_key;
}

Error cred_error(const char* what, DWORD code) {
    return make_error(ErrorKind::StoreUnavailable, std::string("Credential Manager could not ") +
                                                       what + " (error " + std::to_string(code) +
                                                       ")." + kRemedy);
}

// One credential's blob; nullopt when there is no such credential.
Expected<std::optional<std::string>> read_blob(const std::string& name) {
    PCREDENTIALW cred = nullptr;
    std::wstring wide = widen(name);
    for (int attempt = 0; !CredReadW(wide.c_str(), CRED_TYPE_GENERIC, 0, &cred); ++attempt) {
        DWORD code = GetLastError();
        if (code == ERROR_NOT_FOUND) return std::optional<std::string>();
        // The credential was being replaced by another writer at that instant (seen under
        // Wine, whose store is the registry): read it again.
        if (code == ERROR_KEY_DELETED && attempt < 3) {
            Sleep(1);
            continue;
        }
        return cred_error("read a credential", code);
    }
    std::string blob(reinterpret_cast<const char*>(cred->CredentialBlob), cred->CredentialBlobSize);
    wipe_buffer(cred->CredentialBlob, cred->CredentialBlobSize);  // our copy, about to be freed
    CredFree(cred);
    return std::optional<std::string>(std::move(blob));
}

Status write_blob(const std::string& name, const std::string& blob, const std::wstring& comment) {
    std::wstring wide = widen(name);
    std::wstring wide_comment = comment;
    std::string bytes = blob;
    CREDENTIALW cred = {};
    cred.Type = CRED_TYPE_GENERIC;
    cred.TargetName = wide.data();
    cred.Comment = wide_comment.data();
    cred.CredentialBlobSize = static_cast<DWORD>(bytes.size());
    cred.CredentialBlob = reinterpret_cast<LPBYTE>(bytes.data());
    cred.Persist = CRED_PERSIST_LOCAL_MACHINE;
    bool written = CredWriteW(&cred, 0);
    DWORD code = GetLastError();
    wipe_secret(bytes);
    if (!written) return cred_error("save a credential", code);
    return Ok{};
}

Status delete_credential(const std::string& name) {
    std::wstring wide = widen(name);
    if (!CredDeleteW(wide.c_str(), CRED_TYPE_GENERIC, 0)) {
        DWORD code = GetLastError();
        if (code != ERROR_NOT_FOUND) return cred_error("delete a credential", code);
    }
    return Ok{};
}

// Every credential name starting with `prefix` (a filter with only a trailing '*', the
// one form CredEnumerateW supports).
Expected<std::vector<std::string>> list_names(const std::string& prefix) {
    DWORD count = 0;
    PCREDENTIALW* creds = nullptr;
    std::vector<std::string> names;
    std::wstring filter = widen(prefix + "*");
    if (!CredEnumerateW(filter.c_str(), 0, &count, &creds)) {
        DWORD code = GetLastError();
        if (code == ERROR_NOT_FOUND) return names;
        return cred_error("list credentials", code);
    }
    for (DWORD i = 0; i < count; ++i) {
        std::string name = narrow(creds[i]->TargetName);
        if (starts_with(name, prefix)) names.push_back(std::move(name));  // also checked here
    }
    CredFree(creds);
    return names;
}

// What a head record says: which generation holds the secret, in how many parts.
struct Head {
    std::string generation;
    size_t parts = 0;
    size_t bytes = 0;
};

std::string format_head(const Head& head) {
    return std::string(kHeadFormat) + " " + head.generation + " " + std::to_string(head.parts) +
           " " + std::to_string(head.bytes);
}

std::optional<Head> parse_head(const std::string& blob) {
    std::string format, generation;
    size_t parts = 0, bytes = 0;
    size_t a = blob.find(' ');
    size_t b = a == std::string::npos ? a : blob.find(' ', a + 1);
    size_t c = b == std::string::npos ? b : blob.find(' ', b + 1);
    if (c == std::string::npos) return std::nullopt;
    format = blob.substr(0, a);
    generation = blob.substr(a + 1, b - a - 1);
    try {
        size_t used = 0;
        std::string p = blob.substr(b + 1, c - b - 1), n = blob.substr(c + 1);
        parts = std::stoul(p, &used);
        if (used != p.size()) return std::nullopt;
        bytes = std::stoul(n, &used);
        if (used != n.size()) return std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (format != kHeadFormat || generation.empty() || parts == 0 || parts > kMaxParts ||
        bytes > parts * kPart)
        return std::nullopt;
    return Head{generation, parts, bytes};
}

Error damaged(const std::string& encoded_key) {
    return make_error(ErrorKind::StoreUnavailable,
                      "the Credential Manager entry " + head_name(encoded_key) +
                          " is damaged. Delete it in Credential Manager (or run mcp-auth logout) "
                          "and log in again.");
}

// The head of `encoded_key`; nullopt when there is none.
Expected<std::optional<Head>> read_head(const std::string& encoded_key) {
    auto blob = read_blob(head_name(encoded_key));
    if (!blob) return blob.error();
    if (!*blob) return std::optional<Head>();
    auto head = parse_head(**blob);
    if (!head) return damaged(encoded_key);
    return std::optional<Head>(std::move(*head));
}

// Reads one secret: the head, then the parts it names. Starts again when a writer
// replaced the version in between (a part vanished or the head changed).
Expected<std::optional<std::string>> read_secret(const std::string& encoded_key) {
    for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
        auto head = read_head(encoded_key);
        if (!head) return head.error();
        if (!*head) return std::optional<std::string>();
        std::string secret;
        bool complete = true;
        for (size_t part = 0; part < (*head)->parts && complete; ++part) {
            auto blob = read_blob(part_name((*head)->generation, part, encoded_key));
            if (!blob) return blob.error();
            if (!*blob) {
                complete = false;
            } else {
                secret += **blob;
                wipe_secret(**blob);
            }
        }
        if (complete && secret.size() == (*head)->bytes)
            return std::optional<std::string>(std::move(secret));
        wipe_secret(secret);
        auto again = read_head(encoded_key);
        if (!again) return again.error();
        if (*again && (*again)->generation == (*head)->generation)
            return damaged(encoded_key);  // the same version, and still incomplete
        Sleep(10 * (attempt + 1));        // a writer is switching versions
    }
    return make_error(ErrorKind::StoreUnavailable,
                      "Credential Manager entry " + head_name(encoded_key) +
                          " kept changing while being read (another mcp-auth is saving it). Try "
                          "again.");
}

Status delete_parts(const std::string& generation, size_t parts, const std::string& encoded_key) {
    for (size_t part = 0; part < parts; ++part)
        if (auto ok = delete_credential(part_name(generation, part, encoded_key)); !ok) return ok;
    return Ok{};
}

// The encoded key a part name belongs to ("" when `name` is not a part name).
std::string key_of_part(const std::string& name) {
    if (!starts_with(name, kPartPrefix)) return {};
    size_t colon = name.find(':', std::string(kPartPrefix).size());
    return colon == std::string::npos ? std::string() : name.substr(colon + 1);
}

class WindowsCredentialStore : public SecretStore {
public:
    explicit WindowsCredentialStore(std::chrono::milliseconds timeout) : timeout_(timeout) {}

    std::string kind() const override { return "keychain"; }
    std::string description() const override { return "Windows Credential Manager"; }

    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        std::string encoded = encode_store_key(key);
        return bounded<std::optional<std::string>>([encoded] { return read_secret(encoded); });
    }

    Status put(const StoreKey& key, const std::string& label, const std::string& secret) override {
        std::string encoded = encode_store_key(key);
        // mutable: the lambda's copy of the secret is wiped once written.
        return bounded<Ok>([encoded, label, secret = std::string(secret)]() mutable -> Status {
            Status status = write_secret(encoded, widen(label), secret);
            wipe_secret(secret);
            return status;
        });
    }

    Status erase(const StoreKey& key) override {
        std::string encoded = encode_store_key(key);
        return bounded<Ok>([encoded]() -> Status {
            if (auto ok = delete_credential(head_name(encoded)); !ok) return ok;
            // Every part of this key: the current version's, and any a crash or a race left.
            auto names = list_names(kPartPrefix);
            if (!names) return names.error();
            for (const auto& name : *names)
                if (key_of_part(name) == encoded)
                    if (auto ok = delete_credential(name); !ok) return ok;
            return Ok{};
        });
    }

    Expected<std::vector<Item>> find(const StoreKey& filter) override {
        return bounded<std::vector<Item>>([filter]() -> Expected<std::vector<Item>> {
            auto names = list_names(kHeadPrefix);
            if (!names) return names.error();
            std::vector<Item> items;
            for (const auto& name : *names) {
                std::string encoded = name.substr(std::string(kHeadPrefix).size());
                auto key = decode_store_key(encoded);
                if (!key || !key_matches(*key, filter)) continue;
                auto secret = read_secret(encoded);
                if (!secret) return secret.error();
                // Erased between the listing and the read: not there any more.
                if (*secret) items.emplace_back(std::move(*key), std::move(**secret));
            }
            return items;
        });
    }

private:
    static Status write_secret(const std::string& encoded, const std::wstring& comment,
                               const std::string& secret) {
        auto old = read_head(encoded);
        // A damaged head is replaced; its parts are left for erase() to collect.
        std::optional<Head> previous;
        if (old) previous = *old;
        Head head;
        try {
            head.generation = base64url_encode(random_bytes(12));
        } catch (const std::exception& e) {
            return make_error(ErrorKind::StoreUnavailable,
                              std::string("could not name a new credential version: ") + e.what());
        }
        head.parts = secret.empty() ? 1 : (secret.size() + kPart - 1) / kPart;
        head.bytes = secret.size();
        if (head.parts > kMaxParts)
            return make_error(ErrorKind::StoreUnavailable,
                              "a secret of " + std::to_string(secret.size()) +
                                  " bytes is too large for Credential Manager.");
        for (size_t part = 0; part < head.parts; ++part) {
            std::string chunk = secret.substr(part * kPart, kPart);
            Status written = write_blob(part_name(head.generation, part, encoded), chunk, comment);
            wipe_secret(chunk);
            if (!written) {
                (void)delete_parts(head.generation, part, encoded);  // never named by a head
                return written;
            }
        }
        // The switch: one credential replaced at once. Readers see the old version or this.
        if (auto ok = write_blob(head_name(encoded), format_head(head), comment); !ok) {
            (void)delete_parts(head.generation, head.parts, encoded);
            return ok;
        }
        if (previous && previous->generation != head.generation)
            (void)delete_parts(previous->generation, previous->parts, encoded);  // best effort
        return Ok{};
    }

    template <class T, class F>
    Expected<T> bounded(F op) {
        return run_bounded<T>(timeout_,
                              "Credential Manager did not answer in time." + std::string(kRemedy),
                              std::move(op));
    }

    std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds timeout) {
    return std::make_unique<WindowsCredentialStore>(timeout);
}

}  // namespace mcp_auth
