// The Windows backend: generic credentials in Credential Manager (wincred). Target names
// are "mcp-auth:<encoded key>#<n>": a credential blob holds at most 2,560 bytes, so a
// secret is split into numbered parts. Built only on Windows.
#define WIN32_LEAN_AND_MEAN
#include <wincred.h>
#include <windows.h>

#include "mcp_auth/bounded.h"
#include "mcp_auth/secret_store.h"

namespace mcp_auth {
namespace {

constexpr const char* kRemedy =
    " Check Credential Manager (Control Panel > Credential Manager), or choose the file store "
    "explicitly "
    "with --store file.";
constexpr size_t kPart = CRED_MAX_CREDENTIAL_BLOB_SIZE;

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
    std::string out(static_cast<size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, s, -1, out.data(), n, nullptr, nullptr);
    out.resize(static_cast<size_t>(n) - 1);
    return out;
}

std::string target(const std::string& encoded_key, size_t part) {
    return "mcp-auth:" + encoded_key + "#" + std::to_string(part);
}

Error cred_error(const char* what) {
    return make_error(ErrorKind::StoreUnavailable,
                      std::string("Credential Manager could not ") + what + " (error " +
                          std::to_string(GetLastError()) + ")." + kRemedy);
}

// Reads all parts of one secret; nullopt when part 0 is absent.
Expected<std::optional<std::string>> read_parts(const std::string& encoded_key) {
    std::string secret;
    for (size_t part = 0;; ++part) {
        PCREDENTIALW cred = nullptr;
        std::wstring name = widen(target(encoded_key, part));
        if (!CredReadW(name.c_str(), CRED_TYPE_GENERIC, 0, &cred)) {
            if (GetLastError() == ERROR_NOT_FOUND) {
                if (part == 0) return std::optional<std::string>();
                return std::optional<std::string>(std::move(secret));
            }
            return cred_error("read a credential");
        }
        secret.append(reinterpret_cast<const char*>(cred->CredentialBlob),
                      cred->CredentialBlobSize);
        CredFree(cred);
    }
}

Status delete_parts(const std::string& encoded_key, size_t from) {
    for (size_t part = from;; ++part) {
        std::wstring name = widen(target(encoded_key, part));
        if (!CredDeleteW(name.c_str(), CRED_TYPE_GENERIC, 0)) {
            if (GetLastError() == ERROR_NOT_FOUND) return Ok{};
            return cred_error("delete a credential");
        }
    }
}

class WindowsCredentialStore : public SecretStore {
public:
    explicit WindowsCredentialStore(std::chrono::milliseconds timeout) : timeout_(timeout) {}

    std::string kind() const override { return "keychain"; }
    std::string description() const override { return "Windows Credential Manager"; }

    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        std::string encoded = encode_store_key(key);
        return bounded<std::optional<std::string>>([encoded] { return read_parts(encoded); });
    }

    Status put(const StoreKey& key, const std::string& label, const std::string& secret) override {
        std::string encoded = encode_store_key(key);
        return bounded<Ok>([encoded, label, secret]() -> Status {
            size_t parts = secret.empty() ? 1 : (secret.size() + kPart - 1) / kPart;
            std::wstring comment = widen(label);
            for (size_t part = 0; part < parts; ++part) {
                std::wstring name = widen(target(encoded, part));
                std::string chunk = secret.substr(part * kPart, kPart);
                CREDENTIALW cred = {};
                cred.Type = CRED_TYPE_GENERIC;
                cred.TargetName = name.data();
                cred.Comment = comment.data();
                cred.CredentialBlobSize = static_cast<DWORD>(chunk.size());
                cred.CredentialBlob = reinterpret_cast<LPBYTE>(chunk.data());
                cred.Persist = CRED_PERSIST_LOCAL_MACHINE;
                if (!CredWriteW(&cred, 0)) return cred_error("save a credential");
            }
            return delete_parts(encoded, parts);  // a shorter secret leaves no stale tail
        });
    }

    Status erase(const StoreKey& key) override {
        std::string encoded = encode_store_key(key);
        return bounded<Ok>([encoded] { return delete_parts(encoded, 0); });
    }

    Expected<std::vector<Item>> find(const StoreKey& filter) override {
        return bounded<std::vector<Item>>([filter]() -> Expected<std::vector<Item>> {
            DWORD count = 0;
            PCREDENTIALW* creds = nullptr;
            std::vector<Item> items;
            if (!CredEnumerateW(L"mcp-auth:*#0", 0, &count, &creds)) {
                if (GetLastError() == ERROR_NOT_FOUND) return items;
                return cred_error("list credentials");
            }
            std::vector<std::string> keys;
            for (DWORD i = 0; i < count; ++i) {
                std::string name = narrow(creds[i]->TargetName);
                keys.push_back(name.substr(9, name.size() - 9 - 2));  // strip "mcp-auth:" and "#0"
            }
            CredFree(creds);
            for (const auto& encoded : keys) {
                auto key = decode_store_key(encoded);
                if (!key) continue;
                if (!key_matches(*key, filter)) continue;
                auto secret = read_parts(encoded);
                if (!secret) return secret.error();
                if (*secret) items.emplace_back(std::move(*key), std::move(**secret));
            }
            return items;
        });
    }

private:
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
