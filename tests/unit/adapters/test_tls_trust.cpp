// The HTTP adapter's TLS trust and proxies (adapters/http/system_roots.h, http_client.cpp)
// against a cpp-httplib SSLServer whose CA the test makes: OpenSSL verifying in the
// handshake (chain, then name), --ca-file, the system's CAs (SSL_CERT_FILE on POSIX; the
// current user's ROOT store on Windows), and https through a proxy, from the environment or
// from the system's settings (core/ie_proxy.h), tunnelled to the same server.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>  // winsock2.h and windows.h, on Windows, in the right order
#ifdef _WIN32
#include <wincrypt.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "adapters/http/http_client.h"
#include "adapters/http/system_roots.h"
#include "platform/system_proxy.h"

using namespace mcp_auth;
using namespace std::chrono_literals;

namespace {

// --- a small PKI, made with OpenSSL at test time ---

struct Key {
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    ~Key() { EVP_PKEY_free(pkey); }
};

struct Cert {
    X509* x509 = nullptr;
    Cert() = default;
    Cert(const Cert&) = delete;
    Cert& operator=(const Cert&) = delete;
    ~Cert() { X509_free(x509); }
    std::string der() const {
        unsigned char* out = nullptr;
        int n = i2d_X509(x509, &out);
        std::string bytes(reinterpret_cast<char*>(out), static_cast<size_t>(n > 0 ? n : 0));
        OPENSSL_free(out);
        return bytes;
    }
};

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    REQUIRE(ext);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// A CA certificate when `issuer` is null (self-signed, named uniquely: the Windows store
// must not confuse two runs), else a server certificate for `names` (subjectAltName).
void make_cert(Cert& out, const Key& key, const std::string& cn, const Cert* issuer,
               const Key* issuer_key, const std::string& names = {}) {
    X509* x = X509_new();
    REQUIRE(x);
    out.x509 = x;
    X509_set_version(x, 2);
    unsigned char serial[8];
    REQUIRE(RAND_bytes(serial, sizeof serial) == 1);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 2 * 24 * 3600);
    X509_set_pubkey(x, key.pkey);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509* signer = issuer ? issuer->x509 : x;
    X509_set_issuer_name(x, X509_get_subject_name(signer));
    add_extension(x, signer, NID_subject_key_identifier, "hash");
    if (!issuer) {
        add_extension(x, signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_extension(x, signer, NID_authority_key_identifier, "keyid");
        add_extension(x, signer, NID_basic_constraints, "CA:FALSE");
        add_extension(x, signer, NID_ext_key_usage, "serverAuth");
        add_extension(x, signer, NID_subject_alt_name, names);
    }
    REQUIRE(X509_sign(x, issuer_key ? issuer_key->pkey : key.pkey, EVP_sha256()) > 0);
}

std::string unique_suffix() {
    unsigned char bytes[6];
    REQUIRE(RAND_bytes(bytes, sizeof bytes) == 1);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 15]);
    }
    return out;
}

// A CA and the PEM file that holds it (for --ca-file and SSL_CERT_FILE), removed at the end.
struct TestCa {
    Key key;
    Cert cert;
    std::string pem_path;
    TestCa() {
        make_cert(cert, key, "mcp-auth unit-test CA " + unique_suffix(), nullptr, nullptr);
        pem_path = (std::filesystem::temp_directory_path() /
                    ("mcp-auth-test-ca-" + unique_suffix() + ".pem"))
                       .string();
        BIO* file = BIO_new_file(pem_path.c_str(), "w");
        REQUIRE(file);
        PEM_write_bio_X509(file, cert.x509);
        BIO_free(file);
    }
    ~TestCa() {
        std::error_code ignored;
        std::filesystem::remove(pem_path, ignored);
    }
};

// --- servers ---

// An https server on 127.0.0.1 with a certificate from `ca` for `names`; counts requests.
class TlsServer {
public:
    TlsServer(const TestCa& ca, const std::string& names) {
        make_cert(cert_, key_, "mcp-auth unit-test server", &ca.cert, &ca.key, names);
        server_ = std::make_unique<httplib::SSLServer>(cert_.x509, key_.pkey);
        REQUIRE(server_->is_valid());
        server_->Get("/x", [this](const httplib::Request&, httplib::Response& res) {
            ++requests;
            res.set_content("ok", "text/plain");
        });
        port_ = server_->bind_to_any_port("127.0.0.1");
        REQUIRE(port_ > 0);
        thread_ = std::thread([this] { server_->listen_after_bind(); });
        // stop() before the listen loop runs would hang: wait for it.
        while (!server_->is_running()) std::this_thread::sleep_for(1ms);
    }
    ~TlsServer() {
        server_->stop();
        thread_.join();
    }
    int port() const { return port_; }
    std::atomic<int> requests{0};

private:
    Key key_;
    Cert cert_;
    std::unique_ptr<httplib::SSLServer> server_;
    std::thread thread_;
    int port_ = 0;
};

#ifdef _WIN32
using RawSocket = SOCKET;
void close_socket(RawSocket s) {
    closesocket(s);
}
constexpr int kShutBoth = SD_BOTH;
constexpr int kSendFlags = 0;  // Winsock raises no signal
#else
using RawSocket = int;
void close_socket(RawSocket s) {
    ::close(s);
}
constexpr int kShutBoth = SHUT_RDWR;
constexpr int kSendFlags = MSG_NOSIGNAL;
#endif
constexpr RawSocket kNoSocket = static_cast<RawSocket>(-1);  // INVALID_SOCKET on both

RawSocket listen_loopback(int& port) {
    RawSocket s = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(s != kNoSocket);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    REQUIRE(::listen(s, 8) == 0);
    return s;
}

RawSocket connect_loopback(int port) {
    RawSocket s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<unsigned short>(port));
    if (s != kNoSocket && ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        close_socket(s);
        return kNoSocket;
    }
    return s;
}

bool send_all(RawSocket s, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
        int n = static_cast<int>(
            ::send(s, data.data() + sent, static_cast<int>(data.size() - sent), kSendFlags));
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
    }
    return true;
}

// Copies bytes from `from` to `to` until `from` ends, then ends `to` for writing.
void pump(RawSocket from, RawSocket to) {
    char buf[16384];
    for (;;) {
        int n = static_cast<int>(::recv(from, buf, sizeof buf, 0));
        if (n <= 0 || !send_all(to, std::string(buf, static_cast<size_t>(n)))) break;
    }
    ::shutdown(to, kShutBoth);
}

// An HTTP proxy on 127.0.0.1, one connection at a time, that records each request line. A
// CONNECT (to whatever host) becomes a tunnel to 127.0.0.1:`upstream`; any other request
// is answered "proxied" itself.
class TunnelProxy {
public:
    explicit TunnelProxy(int upstream) : upstream_(upstream) {
        listener_ = listen_loopback(port_);
        thread_ = std::thread([this] {
            for (;;) {
                RawSocket client = ::accept(listener_, nullptr, nullptr);
                if (client == kNoSocket) return;
                serve(client);
                close_socket(client);
            }
        });
    }
    ~TunnelProxy() {
        ::shutdown(listener_, kShutBoth);
        close_socket(listener_);
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }
    std::vector<std::string> lines() {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

private:
    void serve(RawSocket client) {
        std::string head;
        char c;
        while (head.size() < 8192 &&
               (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n")) {
            if (::recv(client, &c, 1, 0) != 1) return;
            head.push_back(c);
        }
        std::string line = head.substr(0, head.find("\r\n"));
        {
            std::lock_guard<std::mutex> lock(mutex_);
            lines_.push_back(line);
        }
        if (line.rfind("CONNECT ", 0) != 0) {
            send_all(client,
                     "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied");
            return;
        }
        RawSocket server = connect_loopback(upstream_);
        if (server == kNoSocket) {
            send_all(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        send_all(client, "HTTP/1.1 200 Connection established\r\n\r\n");
        std::thread back([&] { pump(server, client); });
        pump(client, server);
        back.join();
        close_socket(server);
    }

    int upstream_;
    int port_ = 0;
    RawSocket listener_ = kNoSocket;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

// --- the adapter ---

EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

HttpOptions quick(const std::string& ca_file = {}) {
    HttpOptions o;
    o.connect_timeout = 5s;
    o.read_timeout = 10s;
    o.total_timeout = 20s;
    o.ca_file = ca_file;
    return o;
}

HttpResponse get(HttplibClient& client, const std::string& url, const HttpOptions& options) {
    return client.fetch(url, "GET", {}, "", options);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

#ifdef _WIN32
bool under_wine() {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// Puts a certificate into the current user's ROOT store for as long as it lives. Each
// change is its own open and close: Wine writes a registry store back when its last handle
// and context are gone, and only then does another open see the change. The registry
// store itself, not the system store over it: Wine deletes nothing through the latter.
class InstalledRoot {
public:
    explicit InstalledRoot(const Cert& cert) : der_(cert.der()) {
        HCERTSTORE store = open();
        REQUIRE(store);
        bool added = CertAddEncodedCertificateToStore(
            store, X509_ASN_ENCODING, reinterpret_cast<const BYTE*>(der_.data()),
            static_cast<DWORD>(der_.size()), CERT_STORE_ADD_REPLACE_EXISTING, nullptr);
        CertCloseStore(store, 0);
        REQUIRE(added);
    }
    ~InstalledRoot() {
        HCERTSTORE store = open();
        if (!store) return;
        PCCERT_CONTEXT mine = CertCreateCertificateContext(
            X509_ASN_ENCODING, reinterpret_cast<const BYTE*>(der_.data()),
            static_cast<DWORD>(der_.size()));
        PCCERT_CONTEXT found = mine ? CertFindCertificateInStore(store, X509_ASN_ENCODING, 0,
                                                                 CERT_FIND_EXISTING, mine, nullptr)
                                    : nullptr;
        if (found) CertDeleteCertificateFromStore(found);  // frees `found`
        if (mine) CertFreeCertificateContext(mine);
        CertCloseStore(store, 0);
    }

private:
    static HCERTSTORE open() {
        return CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0,
                             CERT_SYSTEM_STORE_CURRENT_USER, L"ROOT");
    }
    std::string der_;
};
#endif

}  // namespace

TEST_CASE("tls: a server whose CA is not trusted is refused in the handshake, saying why") {
    TestCa ca;
    TlsServer server(ca, "IP:127.0.0.1");
    HttplibClient client(env_of({}));
    auto res = get(client, "https://127.0.0.1:" + std::to_string(server.port()) + "/x", quick());
    CHECK(res.status == 0);
    CAPTURE(res.error);
    CHECK(contains(res.error, "could not be verified"));
    CHECK(contains(res.error, "local issuer"));  // OpenSSL's reason, in parentheses
    CHECK(contains(res.error, "--ca-file"));
    CHECK(contains(res.error, system_roots_remedy()));
    CHECK(server.requests == 0);  // no request went out
}

TEST_CASE("tls: --ca-file adds a CA to the system's; the name must still match") {
    TestCa ca;
    TlsServer server(ca, "IP:127.0.0.1,DNS:localhost");
    HttplibClient client(env_of({}));
    std::string port = std::to_string(server.port());
    SUBCASE("an address") {
        auto res = get(client, "https://127.0.0.1:" + port + "/x", quick(ca.pem_path));
        CAPTURE(res.error);
        CHECK(res.status == 200);
        CHECK(res.body == "ok");
    }
    SUBCASE("a name") {
        auto res = get(client, "https://localhost:" + port + "/x", quick(ca.pem_path));
        CAPTURE(res.error);
        CHECK(res.status == 200);
    }
    SUBCASE("a certificate for other names is refused, even from a trusted CA") {
        TlsServer other(ca, "DNS:elsewhere.test,IP:127.0.0.2");
        std::string other_port = std::to_string(other.port());
        auto by_address = get(client, "https://127.0.0.1:" + other_port + "/x", quick(ca.pem_path));
        CAPTURE(by_address.error);
        CHECK(by_address.status == 0);
        CHECK(contains(by_address.error, "could not be verified (IP address mismatch)"));
        auto by_name = get(client, "https://localhost:" + other_port + "/x", quick(ca.pem_path));
        CAPTURE(by_name.error);
        CHECK(contains(by_name.error, "could not be verified (hostname mismatch)"));
        CHECK(other.requests == 0);
    }
    SUBCASE("an unreadable CA file leaves the system's CAs alone trusted") {
        auto res = get(client, "https://127.0.0.1:" + port + "/x", quick(ca.pem_path + ".none"));
        CHECK(contains(res.error, "could not be verified"));
    }
}

#ifndef _WIN32
TEST_CASE("tls: the system's CAs are OpenSSL's default paths (SSL_CERT_FILE), read once") {
    TestCa ca;
    TlsServer server(ca, "IP:127.0.0.1");
    HttplibClient client(env_of({}));
    std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x";
    const char* before = std::getenv("SSL_CERT_FILE");
    std::string saved = before ? before : "";
    ::setenv("SSL_CERT_FILE", ca.pem_path.c_str(), 1);
    CHECK(reload_system_roots() == 1);
    auto trusted = get(client, url, quick());
    CAPTURE(trusted.error);
    CHECK(trusted.status == 200);
    SUBCASE("the store is read once: changing the variable changes nothing until a reload") {
        ::unsetenv("SSL_CERT_FILE");
        CHECK(get(client, url, quick()).status == 200);
    }
    if (before) {
        ::setenv("SSL_CERT_FILE", saved.c_str(), 1);
    } else {
        ::unsetenv("SSL_CERT_FILE");
    }
    (void)reload_system_roots();
    CHECK(contains(get(client, url, quick()).error, "could not be verified"));
}
#endif

#ifdef _WIN32
TEST_CASE("tls: the Windows certificate store is trusted (the current user's ROOT)") {
    auto start = std::chrono::steady_clock::now();
    size_t count = reload_system_roots();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    MESSAGE("the system stores hold " << count << " usable CAs, read in " << took.count() << " ms");
    CHECK(count > 0);  // under Wine, the host's bundle

    if (!under_wine()) {
        // Windows asks the person at the desktop before adding to the user's ROOT store
        // (a modal dialog): not something a unit test may do.
        MESSAGE("not under Wine: the ROOT-store installation test is skipped");
        return;
    }
    TestCa ca;
    TlsServer server(ca, "IP:127.0.0.1");
    HttplibClient client(env_of({}));
    std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x";
    CHECK(contains(get(client, url, quick()).error, "could not be verified"));
    {
        auto install_start = std::chrono::steady_clock::now();
        InstalledRoot installed(ca.cert);
        MESSAGE("adding a root to the current user's store took "
                << std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - install_start)
                       .count()
                << " ms (no dialog under Wine)");
        CHECK(reload_system_roots() == count + 1);
        auto trusted = get(client, url, quick());
        CAPTURE(trusted.error);
        CHECK(trusted.status == 200);
        CHECK(trusted.body == "ok");
    }
    CHECK(reload_system_roots() == count);
    CHECK(contains(get(client, url, quick()).error, "could not be verified"));
}
#endif

TEST_CASE("tls: https through a proxy is a CONNECT tunnel, verified end to end") {
    TestCa ca;
    TlsServer server(ca, "DNS:mcp.example.invalid");
    TunnelProxy proxy(server.port());
    // .invalid never resolves: only the proxy can reach this server.
    std::string url = "https://mcp.example.invalid:" + std::to_string(server.port()) + "/x";
    std::string connect = "CONNECT mcp.example.invalid:" + std::to_string(server.port()) + " ";

    SUBCASE("HTTPS_PROXY from the environment") {
        HttplibClient client(env_of({{"HTTPS_PROXY", proxy.url()}}));
        auto res = get(client, url, quick(ca.pem_path));
        CAPTURE(res.error);
        CHECK(res.status == 200);
        CHECK(res.body == "ok");
        REQUIRE(proxy.lines().size() == 1);
        CHECK(proxy.lines()[0].rfind(connect, 0) == 0);
    }
    SUBCASE("the tunnel does not vouch for the server: an untrusted certificate is refused") {
        HttplibClient client(env_of({{"HTTPS_PROXY", proxy.url()}}));
        auto res = get(client, url, quick());
        CHECK(contains(res.error, "could not be verified"));
        CHECK(server.requests == 0);
    }
    SUBCASE("http through HTTP_PROXY: the request goes to the proxy in absolute form") {
        HttplibClient client(env_of({{"HTTP_PROXY", proxy.url()}}));
        auto res = get(client, "http://mcp.example.invalid/x", quick());
        CAPTURE(res.error);
        CHECK(res.body == "proxied");
        REQUIRE(proxy.lines().size() == 1);
        CHECK(proxy.lines()[0].rfind("GET http://mcp.example.invalid", 0) == 0);
    }
    SUBCASE("the system's settings, asked once, and only for a server off loopback") {
        int asked = 0;
        SystemProxySettings settings;
        settings.proxy = "http=127.0.0.1:1;https=127.0.0.1:" + std::to_string(proxy.port());
        settings.bypass = "<local>;*.corp";
        HttplibClient client(env_of({}), "mcp-auth", [&]() -> std::optional<SystemProxySettings> {
            ++asked;
            return settings;
        });
        auto direct = get(client, "https://127.0.0.1:" + std::to_string(server.port()) + "/x",
                          quick(ca.pem_path));
        // Straight to the server (whose certificate names only mcp.example.invalid).
        CHECK(contains(direct.error, "IP address mismatch"));
        CHECK(asked == 0);
        CHECK(proxy.lines().empty());
        for (int i = 0; i < 2; ++i) {
            auto res = get(client, url, quick(ca.pem_path));
            CAPTURE(res.error);
            CHECK(res.status == 200);
        }
        CHECK(asked == 1);
        CHECK(proxy.lines().size() == 2);
    }
    SUBCASE("the system's bypass list sends a server direct") {
        SystemProxySettings settings;
        settings.proxy = proxy.url();
        settings.bypass = "*.example.invalid";
        HttplibClient client(env_of({}), "mcp-auth", [&] { return settings; });
        auto res = get(client, url, quick(ca.pem_path));
        CHECK(res.status == 0);  // direct: the name does not resolve
        CHECK(proxy.lines().empty());
    }
    SUBCASE("a system proxy mcp-auth cannot use fails the request, naming the settings") {
        SystemProxySettings settings;
        settings.proxy = "socks=127.0.0.1:" + std::to_string(proxy.port());
        HttplibClient client(env_of({}), "mcp-auth", [&] { return settings; });
        auto res = get(client, url, quick(ca.pem_path));
        CHECK(contains(res.error, "SOCKS"));
        CHECK(contains(res.error, "Windows proxy settings"));
        CHECK(proxy.lines().empty());
    }
}

TEST_CASE("system proxy settings: none on POSIX; Internet Options on Windows") {
    auto start = std::chrono::steady_clock::now();
    auto settings = system_proxy_settings();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
#ifndef _WIN32
    CHECK_FALSE(settings);
    (void)took;
#else
    // Wine answers like a fresh Windows: no static proxy, "automatically detect" on.
    REQUIRE(settings);
    MESSAGE("first read (WinHTTP loaded) in " << took.count() << " ms: proxy \"" << settings->proxy
                                              << "\", bypass \"" << settings->bypass
                                              << "\", auto-detect " << settings->auto_detect);
    if (!under_wine()) return;  // the user's own settings: not a unit test's to change
    // What Internet Options writes (WinHTTP reads it back): a version, a counter, flags
    // (2: a proxy, 4: a setup script, 8: auto-detect), then three counted ANSI strings:
    // the proxy list, the bypass list and the script's URL.
    auto blob = [](DWORD flags, const std::vector<std::string>& parts) {
        std::string out;
        auto put = [&](DWORD v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
        put(0x46);
        put(1);
        put(flags);
        for (const auto& part : parts) {
            put(static_cast<DWORD>(part.size()));
            out += part;
        }
        return out;
    };
    const wchar_t* key_path =
        L"Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";
    HKEY key = nullptr;
    DWORD disposition = 0;
    REQUIRE(RegCreateKeyExW(HKEY_CURRENT_USER, key_path, 0, nullptr, 0, KEY_ALL_ACCESS, nullptr,
                            &key, &disposition) == ERROR_SUCCESS);
    // The prefix's own value goes back afterwards (it is shared with the other suites).
    DWORD type = 0, size = 0;
    bool had = RegQueryValueExW(key, L"DefaultConnectionSettings", nullptr, &type, nullptr,
                                &size) == ERROR_SUCCESS;
    std::string saved(size, '\0');
    if (had)
        had = RegQueryValueExW(key, L"DefaultConnectionSettings", nullptr, &type,
                               reinterpret_cast<BYTE*>(saved.data()), &size) == ERROR_SUCCESS;
    auto write = [&](const std::string& value) {
        return RegSetValueExW(key, L"DefaultConnectionSettings", 0, REG_BINARY,
                              reinterpret_cast<const BYTE*>(value.data()),
                              static_cast<DWORD>(value.size())) == ERROR_SUCCESS;
    };
    CHECK(write(blob(
        2 | 4, {"http=a.corp:1;https=b.corp:2", "<local>;*.corp", "http://wpad.corp/wpad.dat"})));
    auto configured = system_proxy_settings();
    CHECK(write(blob(1, {"", "", ""})));  // "no proxy": direct
    auto direct = system_proxy_settings();
    if (had) {
        write(saved.substr(0, size));
    } else {
        RegDeleteValueW(key, L"DefaultConnectionSettings");
    }
    RegCloseKey(key);
    if (disposition == REG_CREATED_NEW_KEY) RegDeleteKeyW(HKEY_CURRENT_USER, key_path);
    REQUIRE(configured);
    CHECK(configured->proxy == "http=a.corp:1;https=b.corp:2");
    CHECK(configured->bypass == "<local>;*.corp");
    CHECK(configured->auto_config_url == "http://wpad.corp/wpad.dat");
    CHECK_FALSE(configured->auto_detect);
    auto proxy = system_proxy_for(*parse_url("https://mcp.example.com/mcp"), *configured);
    REQUIRE(proxy);
    CHECK(proxy->host == "b.corp");
    CHECK(proxy->port == 2);
    REQUIRE(direct);
    CHECK(direct->proxy.empty());
    CHECK_FALSE(direct->auto_detect);
#endif
}
