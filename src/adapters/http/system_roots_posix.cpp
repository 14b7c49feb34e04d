// adapters/http/system_roots.h on Linux and macOS: OpenSSL's default paths, which are the
// system's trust there. Loaded once per process into one shared store, instead of once per
// connection (parsing Debian's bundle costs 20-30 ms).
#include <mutex>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "adapters/http/system_roots.h"

namespace mcp_auth {

namespace {

std::mutex roots_mutex;
X509_STORE* shared_store = nullptr;  // guarded by roots_mutex; one reference is ours

X509_STORE* read_default_paths() {
    X509_STORE* store = X509_STORE_new();
    if (store) (void)X509_STORE_set_default_paths(store);  // a missing bundle is no error
    // What a missing file left on this thread's error queue would otherwise surface in the
    // next SSL_get_error() of an unrelated connection.
    ERR_clear_error();
    return store;
}

}  // namespace

X509_STORE* system_trust_store() {
    std::lock_guard<std::mutex> lock(roots_mutex);
    if (!shared_store) shared_store = read_default_paths();
    if (shared_store) X509_STORE_up_ref(shared_store);
    return shared_store;
}

void add_system_roots(X509_STORE* store) {
    // The paths, not a copy of the shared store's certificates: a directory's are looked up
    // when a chain needs them.
    (void)X509_STORE_set_default_paths(store);
    ERR_clear_error();
}

std::size_t reload_system_roots() {
    X509_STORE* fresh = read_default_paths();
    std::size_t count = 0;
    if (fresh) {
        STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(fresh);
        for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i)
            if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objects, i)) == X509_LU_X509) ++count;
    }
    std::lock_guard<std::mutex> lock(roots_mutex);
    if (shared_store) X509_STORE_free(shared_store);  // contexts keep their own references
    shared_store = fresh;
    return count;
}

const char* system_roots_remedy() {
    return "set SSL_CERT_FILE";
}

}  // namespace mcp_auth
