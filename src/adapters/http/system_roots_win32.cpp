// adapters/http/system_roots.h on Windows: the certificate stores, parsed for OpenSSL once
// per process. Reading them is the cost that matters: about 200 ms under Wine (most of it
// Wine merging the host's bundle into its ROOT store on the process's first open), a few
// milliseconds on Windows. cpp-httplib's own loader paid it on every connection (60-300
// ms each under Wine), and read the user's ROOT only.
#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <wincrypt.h>  // before OpenSSL's headers, which undefine its clashing names

#include <cstring>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "adapters/http/system_roots.h"

namespace mcp_auth {

namespace {

// One system store, at one location. `always`: the store every profile has, opened even
// when its registry key does not exist yet (a new Wine prefix creates it, with the host's
// roots, on that first open; the others are skipped when absent).
struct Place {
    DWORD location;
    const wchar_t* name;
    bool always = false;
};

// What a logical store shows, from Microsoft's table of physical stores ("System Store
// Locations"): the current user's ROOT shows the user's own roots, the local machine's
// registry store and smart cards; its CA and Disallowed add the user's group policy.
// What the machine's logical ROOT adds is opened by itself here, rather than all of it
// (which would list the machine's registry store a second time: most of the cost under
// Wine): group policy (where a domain installs its roots, a TLS-inspection proxy's among
// them), the enterprise store (roots published in Active Directory) and AuthRoot (the
// third-party roots Windows Update maintains). A place that does not exist, or cannot be
// read, is skipped; a certificate two places share is read once (read_store).
constexpr Place kRoots[] = {
    {CERT_SYSTEM_STORE_CURRENT_USER, L"ROOT", true},
    {CERT_SYSTEM_STORE_CURRENT_USER_GROUP_POLICY, L"ROOT"},
    {CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY, L"ROOT"},
    {CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE, L"ROOT"},
    {CERT_SYSTEM_STORE_LOCAL_MACHINE, L"AuthRoot"},
};
constexpr Place kIntermediates[] = {
    {CERT_SYSTEM_STORE_CURRENT_USER, L"CA"},
    {CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY, L"CA"},
    {CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE, L"CA"},
};
constexpr Place kDisallowed[] = {
    {CERT_SYSTEM_STORE_CURRENT_USER, L"Disallowed"},
    {CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY, L"Disallowed"},
};

// One read-only view of `places`; null when none of them opens.
template <size_t N>
HCERTSTORE open_all(const Place (&places)[N]) {
    HCERTSTORE all = CertOpenStore(CERT_STORE_PROV_COLLECTION, 0, 0, 0, nullptr);
    if (!all) return nullptr;
    bool any = false;
    for (const Place& place : places) {
        HCERTSTORE one =
            CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                          place.location | CERT_STORE_READONLY_FLAG |
                              (place.always ? 0 : DWORD(CERT_STORE_OPEN_EXISTING_FLAG)),
                          place.name);
        if (!one) continue;
        any = CertAddStoreToCollection(all, one, 0, 0) || any;
        CertCloseStore(one, 0);  // the collection keeps its own handle
    }
    if (any) return all;
    CertCloseStore(all, 0);
    return nullptr;
}

// Whether Windows trusts `cert` for server authentication: its extended key usage, from the
// certificate's extension and the store's property together (an administrator can narrow
// a root to some purposes). No restriction at all means every purpose.
bool trusted_for_servers(PCCERT_CONTEXT cert) {
    DWORD size = 0;
    if (!CertGetEnhancedKeyUsage(cert, 0, nullptr, &size) || size < sizeof(CERT_ENHKEY_USAGE))
        return false;
    std::vector<BYTE> buffer(size);  // operator new's alignment suits the structure
    auto* usage = reinterpret_cast<CERT_ENHKEY_USAGE*>(buffer.data());
    SetLastError(0);
    if (!CertGetEnhancedKeyUsage(cert, 0, usage, &size)) return false;
    // None listed: CRYPT_E_NOT_FOUND means "no restriction", anything else "no purpose".
    if (usage->cUsageIdentifier == 0) return GetLastError() == DWORD(CRYPT_E_NOT_FOUND);
    for (DWORD i = 0; i < usage->cUsageIdentifier; ++i)
        if (std::strcmp(usage->rgpszUsageIdentifier[i], szOID_PKIX_KP_SERVER_AUTH) == 0)
            return true;
    return false;
}

// Appends the certificates of `places` that Windows would use, and not `seen`
// already (the same root can show in several places: parsing is the part of the cost
// that is ours, about 0.2 ms a certificate under Wine). `anchors`: the store holds trust
// anchors (ROOT); else intermediates (CA), where a self-signed certificate anchors
// nothing for Windows, while OpenSSL would take one in its store as a root, so it is left
// out.
template <size_t N>
void read_store(const Place (&places)[N], bool anchors, HCERTSTORE disallowed,
                std::unordered_set<std::string>& seen, std::vector<X509*>& out) {
    HCERTSTORE store = open_all(places);
    if (!store) return;
    PCCERT_CONTEXT cert = nullptr;
    while ((cert = CertEnumCertificatesInStore(store, cert)) != nullptr) {
        if (!(cert->dwCertEncodingType & X509_ASN_ENCODING)) continue;
        if (!seen.emplace(reinterpret_cast<const char*>(cert->pbCertEncoded), cert->cbCertEncoded)
                 .second)
            continue;
        if (CertVerifyTimeValidity(nullptr, cert->pCertInfo) != 0) continue;  // expired
        if (!trusted_for_servers(cert)) continue;
        if (disallowed) {
            PCCERT_CONTEXT banned =
                CertFindCertificateInStore(disallowed, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0,
                                           CERT_FIND_EXISTING, cert, nullptr);
            if (banned) {
                CertFreeCertificateContext(banned);
                continue;
            }
        }
        const unsigned char* der = cert->pbCertEncoded;
        X509* x509 = d2i_X509(nullptr, &der, static_cast<long>(cert->cbCertEncoded));
        if (!x509) continue;  // an entry OpenSSL cannot parse
        if (!anchors && (X509_get_extension_flags(x509) & EXFLAG_SS)) {
            X509_free(x509);
            continue;
        }
        out.push_back(x509);
    }
    CertCloseStore(store, 0);
}

struct Roots {
    std::vector<X509*> certificates;  // one reference each
    X509_STORE* store = nullptr;      // one reference ours
};

Roots read_roots() {
    Roots roots;
    HCERTSTORE disallowed = open_all(kDisallowed);
    std::unordered_set<std::string> seen;  // DER encodings
    read_store(kRoots, true, disallowed, seen, roots.certificates);
    read_store(kIntermediates, false, disallowed, seen, roots.certificates);
    if (disallowed) CertCloseStore(disallowed, 0);
    roots.store = X509_STORE_new();
    if (roots.store)
        for (X509* x509 : roots.certificates) (void)X509_STORE_add_cert(roots.store, x509);
    // Parse failures leave errors on this thread's queue, which the next SSL_get_error()
    // of a connection would report.
    ERR_clear_error();
    return roots;
}

void release(Roots& roots) {
    for (X509* x509 : roots.certificates) X509_free(x509);  // stores hold their own
    if (roots.store) X509_STORE_free(roots.store);          // contexts hold their own
    roots = Roots{};
}

std::mutex roots_mutex;
bool loaded = false;  // guarded by roots_mutex, as is `current`
Roots current;

// The roots, read on first use; the caller holds roots_mutex. Contexts that need them
// meanwhile wait: they could not verify anything without them.
Roots& ensure_loaded() {
    if (!loaded) {
        current = read_roots();
        loaded = true;
    }
    return current;
}

}  // namespace

X509_STORE* system_trust_store() {
    std::lock_guard<std::mutex> lock(roots_mutex);
    X509_STORE* store = ensure_loaded().store;
    if (store) X509_STORE_up_ref(store);
    return store;
}

void add_system_roots(X509_STORE* store) {
    std::lock_guard<std::mutex> lock(roots_mutex);
    for (X509* x509 : ensure_loaded().certificates) (void)X509_STORE_add_cert(store, x509);
    ERR_clear_error();  // duplicates of the CA file's certificates
}

std::size_t reload_system_roots() {
    Roots fresh = read_roots();  // outside the lock: the slow part
    std::size_t count = fresh.certificates.size();
    std::lock_guard<std::mutex> lock(roots_mutex);
    release(current);
    current = std::move(fresh);
    loaded = true;
    return count;
}

const char* system_roots_remedy() {
    return "add the CA to the Windows certificate store (Trusted Root Certification "
           "Authorities)";
}

}  // namespace mcp_auth
