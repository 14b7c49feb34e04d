// The macOS backend: generic passwords in the user's login Keychain (Security framework).
// Service "mcp-auth"; the account is the encoded store key. Built only on Apple platforms.
#include <CoreFoundation/CoreFoundation.h>
#include <Security/Security.h>

#include <cstring>

#include "adapters/store/bounded.h"
#include "adapters/store/stores.h"

namespace mcp_auth {
namespace {

constexpr const char* kService = "mcp-auth";
constexpr const char* kRemedy =
    " Unlock the login keychain (Keychain Access, or `security unlock-keychain`), or choose the "
    "file "
    "store explicitly with --store file.";

template <class T>
struct CfRef {
    T ref = nullptr;
    explicit CfRef(T r = nullptr) : ref(r) {}
    ~CfRef() {
        if (ref) CFRelease(ref);
    }
    CfRef(const CfRef&) = delete;
    CfRef& operator=(const CfRef&) = delete;
};

CFStringRef cf_string(const std::string& s) {
    return CFStringCreateWithBytes(nullptr, reinterpret_cast<const UInt8*>(s.data()),
                                   static_cast<CFIndex>(s.size()), kCFStringEncodingUTF8, false);
}

std::string from_cf_string(CFStringRef s) {
    if (!s) return {};
    CFIndex length = CFStringGetLength(s);
    CFIndex size = CFStringGetMaximumSizeForEncoding(length, kCFStringEncodingUTF8) + 1;
    std::string out(static_cast<size_t>(size), '\0');
    if (!CFStringGetCString(s, out.data(), size, kCFStringEncodingUTF8)) return {};
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string describe(OSStatus status) {
    CfRef<CFStringRef> message(SecCopyErrorMessageString(status, nullptr));
    std::string text = from_cf_string(message.ref);
    return (text.empty() ? "error" : text) + " (OSStatus " + std::to_string(status) + ")";
}

Error keychain_error(OSStatus status) {
    if (status == errSecInteractionNotAllowed || status == errSecAuthFailed)
        return make_error(ErrorKind::StoreUnavailable,
                          "the keychain is locked: " + describe(status) + "." + kRemedy);
    return make_error(ErrorKind::StoreUnavailable,
                      "the keychain refused: " + describe(status) + "." + kRemedy);
}

// A query for one item (or all of ours when `account` is empty). Interaction is not
// allowed: a locked keychain yields an error instead of a dialog that blocks the host.
CFMutableDictionaryRef base_query(const std::string& account) {
    CFMutableDictionaryRef query = CFDictionaryCreateMutable(
        nullptr, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
    CFDictionarySetValue(query, kSecClass, kSecClassGenericPassword);
    CfRef<CFStringRef> service(cf_string(kService));
    CFDictionarySetValue(query, kSecAttrService, service.ref);
    if (!account.empty()) {
        CfRef<CFStringRef> acct(cf_string(account));
        CFDictionarySetValue(query, kSecAttrAccount, acct.ref);
    }
    CFDictionarySetValue(query, kSecUseAuthenticationUI, kSecUseAuthenticationUIFail);
    return query;
}

// The data of the one item of `account`; nullopt when there is none.
Expected<std::optional<std::string>> read_one(const std::string& account) {
    CfRef<CFMutableDictionaryRef> query(base_query(account));
    CFDictionarySetValue(query.ref, kSecReturnData, kCFBooleanTrue);
    CFDictionarySetValue(query.ref, kSecMatchLimit, kSecMatchLimitOne);
    CFTypeRef data = nullptr;
    OSStatus status = SecItemCopyMatching(query.ref, &data);
    if (status == errSecItemNotFound) return std::optional<std::string>();
    if (status != errSecSuccess) return keychain_error(status);
    CfRef<CFDataRef> bytes(static_cast<CFDataRef>(data));
    return std::optional<std::string>(
        std::string(reinterpret_cast<const char*>(CFDataGetBytePtr(bytes.ref)),
                    static_cast<size_t>(CFDataGetLength(bytes.ref))));
}

class MacKeychain : public SecretStore {
public:
    explicit MacKeychain(std::chrono::milliseconds timeout) : timeout_(timeout) {}

    std::string kind() const override { return "keychain"; }
    std::string description() const override { return "macOS Keychain (login keychain)"; }

    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        std::string account = encode_store_key(key);
        return bounded<std::optional<std::string>>([account] { return read_one(account); });
    }

    Status put(const StoreKey& key, const std::string& label, const std::string& secret) override {
        std::string account = encode_store_key(key);
        // mutable: the lambda's copy of the secret is wiped once the keychain has its own.
        return bounded<Ok>([account, label, secret = std::string(secret)]() mutable -> Status {
            CfRef<CFDataRef> data(CFDataCreate(nullptr,
                                               reinterpret_cast<const UInt8*>(secret.data()),
                                               static_cast<CFIndex>(secret.size())));
            wipe_secret(secret);
            CfRef<CFStringRef> cf_label(cf_string(label));
            // Update in place when the item exists (one atomic keychain operation).
            CfRef<CFMutableDictionaryRef> query(base_query(account));
            CfRef<CFMutableDictionaryRef> changes(CFDictionaryCreateMutable(
                nullptr, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks));
            CFDictionarySetValue(changes.ref, kSecValueData, data.ref);
            CFDictionarySetValue(changes.ref, kSecAttrLabel, cf_label.ref);
            OSStatus status = SecItemUpdate(query.ref, changes.ref);
            if (status == errSecItemNotFound) {
                CfRef<CFMutableDictionaryRef> item(base_query(account));
                CFDictionarySetValue(item.ref, kSecValueData, data.ref);
                CFDictionarySetValue(item.ref, kSecAttrLabel, cf_label.ref);
                CFDictionarySetValue(item.ref, kSecAttrAccessible,
                                     kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly);
                status = SecItemAdd(item.ref, nullptr);
            }
            if (status != errSecSuccess) return keychain_error(status);
            return Ok{};
        });
    }

    Status erase(const StoreKey& key) override {
        std::string account = encode_store_key(key);
        return bounded<Ok>([account]() -> Status {
            CfRef<CFMutableDictionaryRef> query(base_query(account));
            OSStatus status = SecItemDelete(query.ref);
            if (status != errSecSuccess && status != errSecItemNotFound)
                return keychain_error(status);
            return Ok{};
        });
    }

    // The Keychain returns the data of one item per query only: kSecReturnData with
    // kSecMatchLimitAll is refused (errSecParam) for generic passwords. So the accounts are
    // listed first (attributes only, which are not secret), then each item that matches
    // `filter` is read on its own.
    Expected<std::vector<Item>> find(const StoreKey& filter) override {
        return bounded<std::vector<Item>>([filter]() -> Expected<std::vector<Item>> {
            CfRef<CFMutableDictionaryRef> query(base_query(""));
            CFDictionarySetValue(query.ref, kSecReturnAttributes, kCFBooleanTrue);
            CFDictionarySetValue(query.ref, kSecMatchLimit, kSecMatchLimitAll);
            CFTypeRef result = nullptr;
            OSStatus status = SecItemCopyMatching(query.ref, &result);
            std::vector<Item> items;
            if (status == errSecItemNotFound) return items;
            if (status != errSecSuccess) return keychain_error(status);
            CfRef<CFArrayRef> list(static_cast<CFArrayRef>(result));
            std::vector<std::pair<StoreKey, std::string>> matching;  // key, account
            for (CFIndex i = 0; i < CFArrayGetCount(list.ref); ++i) {
                auto entry = static_cast<CFDictionaryRef>(CFArrayGetValueAtIndex(list.ref, i));
                auto account =
                    static_cast<CFStringRef>(CFDictionaryGetValue(entry, kSecAttrAccount));
                std::string text = from_cf_string(account);
                auto key = decode_store_key(text);
                if (key && key_matches(*key, filter)) matching.emplace_back(std::move(*key), text);
            }
            for (auto& [key, account] : matching) {
                auto secret = read_one(account);
                if (!secret) return secret.error();
                // Deleted between the listing and the read: not there any more.
                if (*secret) items.emplace_back(std::move(key), std::move(**secret));
            }
            return items;
        });
    }

private:
    template <class T, class F>
    Expected<T> bounded(F op) {
        return run_bounded<T>(
            timeout_, "the keychain did not answer in time." + std::string(kRemedy), std::move(op));
    }

    std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds timeout) {
    return std::make_unique<MacKeychain>(timeout);
}

}  // namespace mcp_auth
