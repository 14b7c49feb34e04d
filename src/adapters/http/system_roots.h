#pragma once
// The certificate authorities the system trusts, as OpenSSL stores for the HTTP adapter's
// TLS contexts (http_client.cpp). Read once per process, on the first TLS connection, and
// shared: every context without a CA file of its own takes a reference to one store
// (OpenSSL stores are safe to share between contexts and threads). One implementation per
// OS, chosen in src/adapters/CMakeLists.txt:
//
//   system_roots_win32.cpp  the Windows certificate stores, which OpenSSL does not read:
//                           ROOT and AuthRoot (the trust anchors) and CA (intermediates,
//                           which help to build a chain but anchor nothing) of the current
//                           user and the local machine, group policy and enterprise stores
//                           included (where corporate and TLS-inspection roots are
//                           installed). Left out: expired entries, those Windows does not
//                           trust for server authentication, those in its Disallowed
//                           store, and any self-signed certificate filed among the
//                           intermediates.
//   system_roots_posix.cpp  OpenSSL's default paths: SSL_CERT_FILE and SSL_CERT_DIR when
//                           set, else the bundle and directory it was built with, which
//                           the system's CA package maintains (Linux; macOS with Homebrew's
//                           OpenSSL).
#include <cstddef>

#include <openssl/ossl_typ.h>

namespace mcp_auth {

// A new reference to the process's store of the system's CAs (SSL_CTX_set_cert_store takes
// it over; else X509_STORE_free). Null only when OpenSSL cannot allocate.
X509_STORE* system_trust_store();

// Adds the same CAs to `store`: for a context that also trusts a CA file.
void add_system_roots(X509_STORE* store);

// Reads the system's CAs again (a root installed while the process runs); the contexts made
// from now on use them, those made before keep what they had. Returns the number of
// certificates the new store holds (on POSIX, those of the bundle: a directory's are read
// when a chain needs them).
std::size_t reload_system_roots();

// What a user can do when a server's certificate does not verify, besides --ca-file.
const char* system_roots_remedy();

}  // namespace mcp_auth
