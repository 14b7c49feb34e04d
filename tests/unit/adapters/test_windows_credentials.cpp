// The Windows Credential Manager store (adapters/store/windows_credentials.cpp) against the
// real Credential Manager (Wine's, in the Windows build's tests): secrets larger than one
// credential blob, overwrites that leave no stale part, erase, listing, readers racing
// writers, what a crash leaves behind, and the session lock. Every key carries this run's
// random "run" attribute, so runs sharing a Wine prefix never meet; each test removes what
// it wrote and checks that with CredEnumerateW. Empty outside Windows.
#ifdef _WIN32
// clang-format off
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <winsock2.h>
#include <windows.h>
#include <wincred.h>
// clang-format on

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/store/stores.h"
#include "core/crypto.h"

using namespace mcp_auth;
using namespace std::chrono_literals;

namespace {

constexpr size_t kBlob = 2560;

std::string hex(const std::string& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

const std::string& run_id() {
    static const std::string id = hex(random_bytes(6));
    return id;
}

std::wstring widen(const std::string& s) {
    return std::wstring(s.begin(), s.end());  // the tests' names are ASCII
}

std::string narrow(const std::wstring& s) {
    std::string out;
    for (wchar_t c : s) out += c < 0x80 ? static_cast<char>(c) : '?';
    return out;
}

StoreKey key_named(const std::string& name) {
    return {{"kind", "wintest"}, {"run", run_id()}, {"name", name}};
}

// The layout the store documents: 16 hex digits of SHA-256 over the encoded key.
std::string id_of(const StoreKey& key) {
    return hex(sha256(encode_store_key(key))).substr(0, 16);
}

std::unique_ptr<SecretStore> store(std::chrono::milliseconds timeout = 10000ms) {
    return make_credential_manager_store(timeout, true);
}

// Every generic credential whose name starts with `prefix`, with its blob's size.
std::map<std::wstring, size_t> credentials(const std::wstring& prefix) {
    std::map<std::wstring, size_t> out;
    DWORD count = 0;
    PCREDENTIALW* creds = nullptr;
    if (!CredEnumerateW((prefix + L"*").c_str(), 0, &count, &creds)) {
        REQUIRE(GetLastError() == ERROR_NOT_FOUND);
        return out;
    }
    for (DWORD i = 0; i < count; ++i) {
        std::wstring name = creds[i]->TargetName;
        if (name.compare(0, prefix.size(), prefix) == 0) out[name] = creds[i]->CredentialBlobSize;
    }
    CredFree(creds);
    return out;
}

std::map<std::wstring, size_t> parts_of(const StoreKey& key) {
    return credentials(L"mcp-auth-part/" + widen(id_of(key)) + L"/");
}

// Heads are "mcp-auth/<readable key> [<id>]".
std::map<std::wstring, size_t> heads_of(const StoreKey& key) {
    std::wstring suffix = L" [" + widen(id_of(key)) + L"]";
    std::map<std::wstring, size_t> out;
    for (auto& [name, size] : credentials(L"mcp-auth/"))
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            out[name] = size;
    return out;
}

std::wstring head_of(const StoreKey& key) {
    auto heads = heads_of(key);
    REQUIRE(heads.size() == 1);
    return heads.begin()->first;
}

// The generations among a key's parts ("mcp-auth-part/<id>/<generation>/<i>").
std::set<std::wstring> generations(const std::map<std::wstring, size_t>& parts) {
    std::set<std::wstring> out;
    for (auto& [name, size] : parts) {
        size_t start = name.find(L'/', name.find(L'/') + 1) + 1;
        out.insert(name.substr(start, name.rfind(L'/') - start));
    }
    return out;
}

bool raw_write(const std::wstring& name, const std::string& blob) {
    std::wstring target = name;
    std::string bytes = blob;
    CREDENTIALW cred = {};
    cred.Type = CRED_TYPE_GENERIC;
    cred.TargetName = target.data();
    cred.CredentialBlobSize = static_cast<DWORD>(bytes.size());
    cred.CredentialBlob = reinterpret_cast<LPBYTE>(bytes.data());
    cred.Persist = CRED_PERSIST_LOCAL_MACHINE;
    return CredWriteW(&cred, 0);
}

// Nothing of `key` is left in Credential Manager.
void check_gone(const StoreKey& key) {
    CHECK(heads_of(key).empty());
    CHECK(parts_of(key).empty());
}

std::string got(SecretStore& s, const StoreKey& key) {
    auto value = s.get(key);
    REQUIRE_MESSAGE(value, value.error().message);
    REQUIRE(*value);
    return **value;
}

void put(SecretStore& s, const StoreKey& key, const std::string& secret) {
    auto ok = s.put(key, "mcp-auth test " + key.at("name"), secret);
    REQUIRE_MESSAGE(ok, ok.error().message);
}

size_t parts_for(size_t bytes) {
    return (bytes + kBlob - 1) / kBlob;
}

}  // namespace

TEST_CASE("windows credentials: small, empty, binary, 10 KB and 100 KB secrets round-trip") {
    auto s = store();
    std::string binary;
    for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"small", "{\"access_token\":\"abc\"}"},
        {"empty", ""},
        {"binary", binary},
        {"ten-kb", std::string(10 * 1024, 'x')},
        {"hundred-kb", std::string(100 * 1024, 'y')},
        {"odd", std::string(3 * kBlob + 7, 'z')},
    };
    for (const auto& [name, secret] : cases) {
        CAPTURE(name);
        StoreKey key = key_named("round-trip-" + name);
        put(*s, key, secret);
        CHECK(got(*s, key) == secret);
        // Small ones live in the head alone; large ones in parts of at most one blob each.
        auto parts = parts_of(key);
        if (secret.size() <= 2000) {
            CHECK(parts.empty());
        } else {
            CHECK(parts.size() == parts_for(secret.size()));
            for (auto& [part, size] : parts) CHECK(size <= kBlob);
        }
        // Heads always have one size (Wine reads a credential that grew under it badly).
        CHECK(heads_of(key).begin()->second == kBlob);
        REQUIRE(s->erase(key));
        auto after = s->get(key);
        REQUIRE(after);
        CHECK_FALSE(*after);
        check_gone(key);
    }
}

TEST_CASE("windows credentials: names are readable, under mcp-auth, and tell keys apart") {
    auto s = store();
    StoreKey lower = key_named("https://mcp.example.com/mcp");
    StoreKey upper = key_named("https://mcp.example.com/MCP");  // Windows ignores case in names
    StoreKey slash = key_named("a\\b");                         // Wine turns '\' into '_'
    StoreKey underscore = key_named("a_b");
    StoreKey long_key = key_named(std::string(1000, 'L'));  // Wine refuses names over 246
    std::map<std::string, StoreKey> keys = {{"lower", lower},
                                            {"upper", upper},
                                            {"slash", slash},
                                            {"underscore", underscore},
                                            {"long", long_key}};
    for (auto& [value, key] : keys) put(*s, key, "secret of " + value + std::string(3000, '.'));
    for (auto& [value, key] : keys) {
        CAPTURE(value);
        CHECK(got(*s, key) == "secret of " + value + std::string(3000, '.'));
        std::wstring head = head_of(key);
        CHECK(head.compare(0, 9, L"mcp-auth/") == 0);
        CHECK(head.size() <= 240);
        if (value != "long") CHECK(head.find(widen(key.at("name"))) != std::wstring::npos);
        for (auto& [part, size] : parts_of(key)) CHECK(part.compare(0, 14, L"mcp-auth-part/") == 0);
    }
    // What a person sees in Credential Manager.
    MESSAGE("head name: " << narrow(head_of(lower)));
    auto listed = s->find({{"run", run_id()}});
    REQUIRE(listed);
    CHECK(listed->size() == keys.size());
    for (auto& [key, secret] : *listed) CHECK(secret.rfind("secret of ", 0) == 0);
    for (auto& [value, key] : keys) {
        REQUIRE(s->erase(key));
        check_gone(key);
    }
}

TEST_CASE("windows credentials: overwrites leave exactly the new version's parts") {
    auto s = store();
    StoreKey key = key_named("overwrite");
    // Large to small (into the head), small to large, large to larger and back.
    for (size_t size : {100u * 1024, 100u, 10u * 1024, 100u * 1024, 10u * 1024, 5000u, 0u}) {
        CAPTURE(size);
        std::string secret(size, static_cast<char>('a' + size % 26));
        put(*s, key, secret);
        CHECK(got(*s, key) == secret);
        auto parts = parts_of(key);
        CHECK(parts.size() == (size <= 2000 ? 0 : parts_for(size)));
        CHECK(generations(parts).size() <= 1);
        CHECK(heads_of(key).size() == 1);
    }
    REQUIRE(s->erase(key));
    check_gone(key);
}

TEST_CASE("windows credentials: erase removes the head and every part; absent is fine") {
    auto s = store();
    StoreKey key = key_named("erase");
    put(*s, key, std::string(100 * 1024, 'e'));
    CHECK(parts_of(key).size() == 40);
    REQUIRE(s->erase(key));
    check_gone(key);
    auto value = s->get(key);
    REQUIRE(value);
    CHECK_FALSE(*value);
    CHECK(s->erase(key));  // again: nothing to delete
    CHECK(s->erase(key_named("never-written")));
}

TEST_CASE("windows credentials: find lists keys with their secrets, never parts") {
    auto s = store();
    StoreKey a = key_named("list-a"), b = key_named("list-b"), c = key_named("list-c");
    put(*s, a, "small");
    put(*s, b, std::string(10 * 1024, 'b'));
    put(*s, c, std::string(100 * 1024, 'c'));
    auto all = s->find({{"kind", "wintest"}, {"run", run_id()}});
    REQUIRE_MESSAGE(all, all.error().message);
    std::map<std::string, std::string> found;
    for (auto& [key, secret] : *all) {
        CHECK(key.size() == 3);  // exactly the key that was saved: kind, run, name
        found[key.at("name")] = secret;
    }
    CHECK(found.size() == 3);
    CHECK(found["list-a"] == "small");
    CHECK(found["list-b"] == std::string(10 * 1024, 'b'));
    CHECK(found["list-c"] == std::string(100 * 1024, 'c'));
    auto one = s->find({{"run", run_id()}, {"name", "list-c"}});
    REQUIRE(one);
    REQUIRE(one->size() == 1);
    CHECK(one->front().first == c);
    auto none = s->find({{"run", run_id()}, {"name", "no-such"}});
    REQUIRE(none);
    CHECK(none->empty());
    for (auto* key : {&a, &b, &c}) {
        REQUIRE(s->erase(*key));
        check_gone(*key);
    }
}

TEST_CASE(
    "windows credentials: parts a crash left before the commit are never read and are swept") {
    auto s = store();
    const std::wstring orphan = L"0123456789abcdef0123456789abcdef";
    SUBCASE("no head at all: absent, and the next write sweeps them") {
        StoreKey key = key_named("crash-no-head");
        std::wstring prefix = L"mcp-auth-part/" + widen(id_of(key)) + L"/" + orphan + L"/";
        for (int i = 0; i < 3; ++i)
            REQUIRE(raw_write(prefix + std::to_wstring(i), std::string(kBlob, 'o')));
        auto value = s->get(key);
        REQUIRE(value);
        CHECK_FALSE(*value);
        auto listed = s->find({{"run", run_id()}, {"name", "crash-no-head"}});
        REQUIRE(listed);
        CHECK(listed->empty());
        put(*s, key, "new");
        CHECK(parts_of(key).empty());
        CHECK(got(*s, key) == "new");
        REQUIRE(s->erase(key));
        check_gone(key);
    }
    SUBCASE("beside a committed version: that version is read, and erase sweeps both") {
        StoreKey key = key_named("crash-beside");
        std::string old(10 * 1024, 'v');
        put(*s, key, old);
        std::wstring prefix = L"mcp-auth-part/" + widen(id_of(key)) + L"/" + orphan + L"/";
        for (int i = 0; i < 5; ++i)
            REQUIRE(raw_write(prefix + std::to_wstring(i), std::string(kBlob, 'o')));
        CHECK(got(*s, key) == old);
        CHECK(generations(parts_of(key)).size() == 2);
        REQUIRE(s->erase(key));
        check_gone(key);
    }
    SUBCASE("beside a committed version: the next write sweeps them") {
        StoreKey key = key_named("crash-rewrite");
        put(*s, key, std::string(10 * 1024, 'v'));
        std::wstring prefix = L"mcp-auth-part/" + widen(id_of(key)) + L"/" + orphan + L"/";
        REQUIRE(raw_write(prefix + L"0", std::string(kBlob, 'o')));
        put(*s, key, std::string(6000, 'w'));
        CHECK(got(*s, key) == std::string(6000, 'w'));
        auto parts = parts_of(key);
        CHECK(parts.size() == 3);
        CHECK(generations(parts).size() == 1);
        CHECK(generations(parts).count(orphan) == 0);
        REQUIRE(s->erase(key));
        check_gone(key);
    }
}

TEST_CASE("windows credentials: a head whose part is gone reads as absent and is removed") {
    auto s = store();
    StoreKey key = key_named("missing-part");
    put(*s, key, std::string(10 * 1024, 'm'));
    auto parts = parts_of(key);
    REQUIRE(parts.size() == 4);
    REQUIRE(CredDeleteW(std::next(parts.begin(), 2)->first.c_str(), CRED_TYPE_GENERIC, 0));
    auto value = s->get(key);
    REQUIRE_MESSAGE(value, value.error().message);
    CHECK_FALSE(*value);
    check_gone(key);  // the head and the three parts left
    put(*s, key, "again");
    CHECK(got(*s, key) == "again");
    REQUIRE(s->erase(key));
    check_gone(key);
}

TEST_CASE("windows credentials: an unreadable head is an error naming Credential Manager") {
    auto s = store();
    StoreKey key = key_named("damaged");
    put(*s, key, "fine");
    REQUIRE(raw_write(head_of(key), "not a head"));
    auto value = s->get(key);
    REQUIRE_FALSE(value);
    CHECK(value.error().kind == ErrorKind::StoreUnavailable);
    CHECK(value.error().message.find("Windows Credential Manager") != std::string::npos);
    CHECK(value.error().message.find("logout") != std::string::npos);
    // Listing skips it (it is nobody's item) rather than failing status for all the others.
    auto listed = s->find({{"run", run_id()}, {"name", "damaged"}});
    REQUIRE(listed);
    CHECK(listed->empty());
    put(*s, key, "replaced");  // a write replaces it
    CHECK(got(*s, key) == "replaced");
    REQUIRE(s->erase(key));
    check_gone(key);
}

TEST_CASE("windows credentials: readers racing writers see one whole version or none") {
    // Each version is one byte repeated; the byte says how long it must be. Sizes span the
    // head alone, two parts, and many.
    const std::map<char, size_t> sizes = {{'a', 100},        {'b', 2000},      {'c', 2600},
                                          {'d', 5120},       {'e', 10 * 1024}, {'f', 40 * 1024},
                                          {'g', 100 * 1024}, {'h', 7777}};
    StoreKey key = key_named("race");
    std::atomic<bool> writing{true};
    std::atomic<int> writes{0}, write_failures{0};
    std::atomic<int> mixes{0}, reads{0}, absent{0}, read_errors{0};
    std::vector<std::string> errors;
    std::mutex errors_mutex;
    std::set<char> seen;
    std::mutex seen_mutex;

    auto check_value = [&](const std::string& v) {
        bool whole = !v.empty() && sizes.count(v[0]) && v.size() == sizes.at(v[0]) &&
                     v.find_first_not_of(v[0]) == std::string::npos;
        if (!whole) {
            ++mixes;
            return;
        }
        std::lock_guard<std::mutex> lock(seen_mutex);
        seen.insert(v[0]);
    };
    auto note_error = [&](const Error& e) {
        ++read_errors;
        std::lock_guard<std::mutex> lock(errors_mutex);
        if (errors.size() < 5) errors.push_back(e.message);
    };

    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w)
        threads.emplace_back([&, w] {
            auto s = store();
            // Every other write is the 100 KB one: the next write then sweeps 40 parts that a
            // reader may be halfway through.
            std::string order = w == 0 ? "gagbgcgd" : "gegfghga";
            for (int round = 0; round < 6; ++round)
                for (char c : order) {
                    if (s->put(key, "race", std::string(sizes.at(c), c)))
                        ++writes;
                    else
                        ++write_failures;
                }
        });
    for (int r = 0; r < 2; ++r)
        threads.emplace_back([&] {
            auto s = store();
            while (writing) {
                auto v = s->get(key);
                if (!v) {
                    note_error(v.error());
                } else if (!*v) {
                    ++absent;
                } else {
                    ++reads;
                    check_value(**v);
                }
            }
        });
    threads.emplace_back([&] {  // status and logout --all list while logins are saved
        auto s = store();
        while (writing) {
            auto items = s->find({{"run", run_id()}, {"name", "race"}});
            if (!items) {
                note_error(items.error());
                continue;
            }
            for (auto& [k, v] : *items) {
                ++reads;
                check_value(v);
            }
        }
    });
    threads[0].join();
    threads[1].join();
    writing = false;
    for (size_t i = 2; i < threads.size(); ++i) threads[i].join();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    MESSAGE("race: " << writes.load() << " writes (" << write_failures.load() << " failed), "
                     << reads.load() << " whole reads of " << seen.size() << " versions, "
                     << absent.load() << " before the first write, " << read_errors.load()
                     << " read errors, " << elapsed.count() << " ms");
    for (auto& e : errors) MESSAGE("read error: " << e);
    CHECK(mixes == 0);
    CHECK(write_failures == 0);
    CHECK(writes == 96);
    CHECK(reads > 0);
    CHECK(seen.size() >= 2);
    CHECK(read_errors <= reads / 10);  // a reader outpaced many times in a row is rare
    // The last write won, alone: its parts and nothing else.
    auto s = store();
    std::string last = got(*s, key);
    auto parts = parts_of(key);
    CHECK(parts.size() == (last.size() <= 2000 ? 0 : parts_for(last.size())));
    CHECK(generations(parts).size() <= 1);
    REQUIRE(s->erase(key));
    check_gone(key);
}

TEST_CASE("windows credentials: a lock left by a dead writer does not block the store") {
    // A thread that ends owning the mutex abandons it, as a process killed mid-write does.
    std::atomic<DWORD> waited{WAIT_FAILED};
    std::thread([&] {
        HANDLE m = CreateMutexW(nullptr, FALSE, L"Local\\mcp-auth-credential-manager");
        if (m) waited = WaitForSingleObject(m, 5000);  // and never released
    }).join();
    REQUIRE(waited == WAIT_OBJECT_0);
    auto s = store(2000ms);
    StoreKey key = key_named("abandoned");
    put(*s, key, std::string(6000, 'a'));
    CHECK(got(*s, key) == std::string(6000, 'a'));
    REQUIRE(s->erase(key));
    check_gone(key);
}

TEST_CASE(
    "windows credentials: a writer stuck holding the lock makes calls fail in time, clearly") {
    HANDLE m = CreateMutexW(nullptr, FALSE, L"Local\\mcp-auth-credential-manager");
    REQUIRE(m);
    std::atomic<bool> held{false}, done{false}, release{false};
    std::thread holder([&] {
        held = WaitForSingleObject(m, 5000) == WAIT_OBJECT_0;
        done = true;
        while (!release) Sleep(5);
        if (held) ReleaseMutex(m);
    });
    while (!done) Sleep(1);
    REQUIRE(held);
    auto s = store(400ms);
    StoreKey key = key_named("busy");
    auto start = std::chrono::steady_clock::now();
    auto put_status = s->put(key, "busy", "x");
    auto get_status = s->get(key);
    auto elapsed = std::chrono::steady_clock::now() - start;
    release = true;
    holder.join();
    CloseHandle(m);
    REQUIRE_FALSE(put_status);
    CHECK(put_status.error().kind == ErrorKind::StoreUnavailable);
    CHECK(put_status.error().message.find("Windows Credential Manager is busy") !=
          std::string::npos);
    REQUIRE_FALSE(get_status);
    CHECK(get_status.error().kind == ErrorKind::StoreUnavailable);
    CHECK(elapsed < 2000ms);  // two calls of 400 ms each, not a hang
    check_gone(key);
    put(*s, key, "free again");
    CHECK(got(*s, key) == "free again");
    REQUIRE(s->erase(key));
    check_gone(key);
}

TEST_CASE("windows credentials: the process's keychain is Credential Manager") {
    auto s = make_os_keychain(5000ms);
    CHECK(s->kind() == "keychain");
    CHECK(s->description() == "Windows Credential Manager");
    StoreKey key = key_named("os-keychain");
    put(*s, key, std::string(3000, 'k'));
    CHECK(got(*s, key) == std::string(3000, 'k'));
    REQUIRE(s->erase(key));
    check_gone(key);
}

TEST_CASE("windows credentials: nothing of this run is left in Credential Manager") {
    size_t left = 0;
    for (auto& [name, size] : credentials(L"mcp-auth/"))
        if (name.find(widen("run=" + run_id())) != std::wstring::npos) ++left;
    CHECK(left == 0);
}

#endif  // _WIN32
