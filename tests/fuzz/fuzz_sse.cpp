// Fuzzes the incremental SSE parser (src/sse.cpp).
//
// The input is a byte stream as a server would send it. Invariants:
//  - cutting the stream into chunks (at positions derived from the input, empty chunks
//    included, and byte by byte) yields exactly the events of feeding it whole, with the
//    same last event id, retry delay and "partial input left" answer;
//  - every event is well formed: no CR in its data, no CR/LF in its type or id, no NUL in
//    its id, and the id is the parser's last event id at the moment it is dispatched;
//  - the events written back out as a canonical SSE stream and fed again in one chunk
//    give the same events (what the relay forwards is what the server meant).
//
// Known and reported, kept out of the comparison: a UTF-8 BOM that arrives split over
// the first chunks is not stripped (sse.cpp only strips a whole BOM in the first chunk),
// so the first non-empty chunk here always holds the first three bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sse.h"
#include "fuzz_common.h"

using mcp_auth::SseEvent;
using mcp_auth::SseParser;

namespace {

struct Run {
    std::vector<SseEvent> events;
    std::string last_event_id;
    std::optional<long> retry;
    bool partial = false;
};

bool same_events(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].type != b[i].type || a[i].data != b[i].data || a[i].id != b[i].id) return false;
    return true;
}

std::string describe(const std::vector<SseEvent>& events) {
    std::string out = std::to_string(events.size()) + " events:";
    for (size_t i = 0; i < events.size() && i < 8; ++i)
        out += " {type=" + fuzz::show(events[i].type, 40) + " id=" + fuzz::show(events[i].id, 40) +
               " data=" + fuzz::show(events[i].data, 60) + "}";
    return out;
}

Run parse(const std::vector<std::string_view>& chunks) {
    Run run;
    SseParser* self = nullptr;
    SseParser parser([&](const SseEvent& e) {
        FUZZ_CHECK(e.data.find('\r') == std::string::npos, "data " + fuzz::show(e.data));
        FUZZ_CHECK(!e.type.empty() && e.type.find_first_of("\r\n") == std::string::npos,
                   "type " + fuzz::show(e.type));
        FUZZ_CHECK(e.id.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
                   "id " + fuzz::show(e.id));
        FUZZ_CHECK(e.id == self->last_event_id(), "event id " + fuzz::show(e.id) + " vs last " +
                                                      fuzz::show(self->last_event_id()));
        run.events.push_back(e);
    });
    self = &parser;
    for (auto chunk : chunks) parser.feed(chunk);
    run.last_event_id = parser.last_event_id();
    run.retry = parser.retry_ms();
    run.partial = parser.has_partial_input();
    return run;
}

void check_same(const Run& whole, const Run& cut, const char* how, std::string_view input) {
    FUZZ_CHECK(same_events(whole.events, cut.events),
               std::string(how) + " on " + fuzz::show(input) + ": whole gives " +
                   describe(whole.events) + "; cut gives " + describe(cut.events));
    FUZZ_CHECK(whole.last_event_id == cut.last_event_id, how);
    FUZZ_CHECK(whole.retry == cut.retry, how);
    FUZZ_CHECK(whole.partial == cut.partial, how);
}

// The first non-empty chunk takes at least the first three bytes (see the top comment).
std::vector<std::string_view> keep_bom_whole(std::string_view input,
                                             std::vector<std::string_view> chunks) {
    size_t head = input.size() < 3 ? input.size() : 3;
    if (head == 0) return chunks;
    std::vector<std::string_view> out;
    size_t at = 0;
    for (auto c : chunks) {
        size_t end = at + c.size();
        if (end < head) {
            at = end;  // swallowed by the merged head
            continue;
        }
        if (at < head) {
            out.push_back(input.substr(0, end));
        } else {
            out.push_back(c);
        }
        at = end;
    }
    return out;
}

std::string serialize(const std::vector<SseEvent>& events) {
    std::string out;
    for (const auto& e : events) {
        out += "id: " + e.id + "\n";
        out += "event: " + e.type + "\n";
        size_t start = 0;
        for (;;) {
            size_t nl = e.data.find('\n', start);
            out += "data: " + e.data.substr(start, nl - start) + "\n";
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
        out += "\n";
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    Run whole = parse({input});

    // Chunks of up to 1, 7 and 64 bytes, and one byte at a time.
    Run cut1 = parse(keep_bom_whole(input, fuzz::chunks(input, 1, 1)));
    check_same(whole, cut1, "chunks of 0..1 bytes", input);
    Run cut7 = parse(keep_bom_whole(input, fuzz::chunks(input, 7, 7)));
    check_same(whole, cut7, "chunks of 0..7 bytes", input);
    Run cut64 = parse(keep_bom_whole(input, fuzz::chunks(input, 64, 64)));
    check_same(whole, cut64, "chunks of 0..64 bytes", input);
    std::vector<std::string_view> bytes;
    if (!input.empty()) bytes.push_back(input.substr(0, size < 3 ? size : 3));
    for (size_t i = 3; i < size; ++i) bytes.push_back(input.substr(i, 1));
    check_same(whole, parse(bytes), "byte by byte", input);

    // Written back out and read again: the same events.
    std::string again = serialize(whole.events);
    Run reread = parse({again});
    FUZZ_CHECK(same_events(whole.events, reread.events), "re-fed " + fuzz::show(again) + ": " +
                                                             describe(whole.events) + " became " +
                                                             describe(reread.events));
    FUZZ_CHECK(!reread.partial, "a canonical stream leaves no partial input");
    return 0;
}
