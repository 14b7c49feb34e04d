#pragma once
// Helpers shared by the libFuzzer targets in this directory: an invariant check that
// aborts with a readable message (libFuzzer then saves the input as a crash), and a
// deterministic way to cut an input into chunks at positions derived from the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* expr,
                              const std::string& why) {
    std::fprintf(stderr, "\n%s:%d: invariant violated: %s\n", file, line, expr);
    if (!why.empty()) std::fprintf(stderr, "  %s\n", why.c_str());
    std::fflush(stderr);
    std::abort();
}

// Shows bytes with escapes, for failure messages.
inline std::string show(std::string_view bytes, size_t limit = 200) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
        unsigned char c = static_cast<unsigned char>(bytes[i]);
        if (c == '\\' || c == '"') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    if (bytes.size() > limit) out += "...";
    return out + "\"";
}

// FNV-1a, the seed of the chunk splitter.
inline uint64_t hash(std::string_view bytes) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    return h;
}

// Cuts `input` into consecutive chunks (some of them empty) whose sizes come from a
// xorshift generator seeded by the input itself: the same input is always cut the same
// way, and a mutation of the input moves the cuts too. `max_chunk` bounds a chunk.
inline std::vector<std::string_view> chunks(std::string_view input, size_t max_chunk,
                                            uint64_t salt = 0) {
    std::vector<std::string_view> out;
    uint64_t x = hash(input) ^ salt;
    if (x == 0) x = 0x9e3779b97f4a7c15ull;
    size_t at = 0;
    while (at < input.size()) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = static_cast<size_t>(x % (max_chunk + 1));  // 0 = an empty chunk
        if (n > input.size() - at) n = input.size() - at;
        out.push_back(input.substr(at, n));
        at += n;
    }
    return out;
}

}  // namespace fuzz

#define FUZZ_CHECK(cond, why)                                        \
    do {                                                             \
        if (!(cond)) ::fuzz::fail(__FILE__, __LINE__, #cond, (why)); \
    } while (0)
