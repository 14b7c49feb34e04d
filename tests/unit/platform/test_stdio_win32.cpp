// platform/line_writer.h and platform/process.h's StdinLoop on Windows: whole lines out
// through WriteFile, bytes as they are; stdin read with ReadFile and ended by end of input
// or stop() (CancelSynchronousIo on the reading thread).
#include <doctest/doctest.h>

#ifdef _WIN32
#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <fcntl.h>
#include <io.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "platform/line_writer.h"
#include "platform/process.h"

using namespace mcp_auth;

namespace {

std::string read_all(HANDLE h) {
    std::string text;
    char buffer[4096];
    DWORD n = 0;
    while (ReadFile(h, buffer, sizeof buffer, &n, nullptr) && n > 0) text.append(buffer, n);
    return text;
}

// Puts a pipe's read end on stdin (the handle StdinLoop reads) for the test's duration.
class StdinPipe {
public:
    StdinPipe() {
        REQUIRE(CreatePipe(&reader_, &writer_, nullptr, 0));
        saved_ = GetStdHandle(STD_INPUT_HANDLE);
        SetStdHandle(STD_INPUT_HANDLE, reader_);
    }
    ~StdinPipe() {
        close_writer();
        SetStdHandle(STD_INPUT_HANDLE, saved_);
        CloseHandle(reader_);
    }
    void write(const std::string& text) {
        DWORD written = 0;
        REQUIRE(
            WriteFile(writer_, text.data(), static_cast<DWORD>(text.size()), &written, nullptr));
        REQUIRE(written == text.size());
    }
    void close_writer() {
        if (writer_) CloseHandle(writer_);
        writer_ = nullptr;
    }

private:
    HANDLE reader_ = nullptr, writer_ = nullptr, saved_ = nullptr;
};

}  // namespace

TEST_CASE("line writer (Windows): whole lines, never interleaved, \\n alone (no text mode)") {
    HANDLE r = nullptr, w = nullptr;
    REQUIRE(CreatePipe(&r, &w, nullptr, 0));
    int fd = _open_osfhandle(reinterpret_cast<intptr_t>(w), _O_WRONLY);
    REQUIRE(fd >= 0);
    _setmode(fd, _O_TEXT);  // the C runtime's mode must not matter: the handle is written
    std::string text;
    std::thread reader([&] { text = read_all(r); });
    {
        LineWriter out(fd);
        std::vector<std::thread> writers;
        std::atomic<int> failed{0};  // counted, not CHECKed: no doctest assertion in a thread
        for (int w = 0; w < 4; ++w)
            writers.emplace_back([&out, &failed, w] {
                std::string line(10000, static_cast<char>('a' + w));  // above the pipe's buffer
                for (int i = 0; i < 20; ++i)
                    if (!out.write_line(line)) ++failed;
            });
        for (auto& t : writers) t.join();
        CHECK(failed == 0);
        CHECK(out.write_line("bytes\r\x1a\xC3\xA9 as they are"));
        _close(fd);  // closes the write end
    }
    reader.join();
    CloseHandle(r);
    size_t lines = 0, start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string line = text.substr(start, end - start);
        if (lines++ == 80) {
            CHECK(line == "bytes\r\x1a\xC3\xA9 as they are");
            continue;
        }
        REQUIRE(line.size() == 10000);  // no "\r" added before any "\n"
        CHECK(line.find_first_not_of(line[0]) == std::string::npos);
    }
    CHECK(lines == 81);
    CHECK(start == text.size());
}

TEST_CASE("line writer (Windows): a reader that went away is a false return and one on_broken") {
    HANDLE r = nullptr, w = nullptr;
    REQUIRE(CreatePipe(&r, &w, nullptr, 0));
    CloseHandle(r);
    int fd = _open_osfhandle(reinterpret_cast<intptr_t>(w), _O_WRONLY | _O_BINARY);
    REQUIRE(fd >= 0);
    int broken = 0;
    LineWriter out(fd, [&] { ++broken; });
    CHECK_FALSE(out.write_line("lost"));
    CHECK_FALSE(out.write_line("lost too"));
    CHECK(broken == 1);
    _close(fd);
    LineWriter nowhere(-1);  // no such descriptor (a GUI process without stderr)
    CHECK_FALSE(nowhere.write_line("lost"));
}

TEST_CASE("stdin loop (Windows): hands over what arrives, an empty write included; then EOF") {
    StdinPipe input;
    StdinLoop loop;
    std::string received;
    input.write("{\"jsonrpc\":\"2.0\"}\n");
    input.write("");  // an empty write is not the end of input
    input.write("second\r\n\x1a");
    input.close_writer();
    auto end = loop.run([&](std::string_view chunk) { received.append(chunk); });
    CHECK(end == StdinLoop::End::EndOfInput);
    CHECK(received == "{\"jsonrpc\":\"2.0\"}\nsecond\r\n\x1a");
}

TEST_CASE("stdin loop (Windows): stop() from another thread ends a loop blocked in ReadFile") {
    StdinPipe input;  // open, and nothing arrives
    StdinLoop loop;
    CHECK(loop.wait_hook(std::chrono::milliseconds(100)) == nullptr);  // documented for Windows
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        loop.stop();
    });
    auto started = std::chrono::steady_clock::now();
    CHECK(loop.run([](std::string_view) {}) == StdinLoop::End::Stopped);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    stopper.join();
}

TEST_CASE("stdin loop (Windows): a stop while data flows; stop() before run() reads nothing") {
    {
        StdinPipe input;
        StdinLoop loop;
        input.write("one\n");
        int chunks = 0;
        auto end = loop.run([&](std::string_view) {
            if (++chunks == 1) loop.stop();  // from inside on_data, as the relay may
        });
        CHECK(end == StdinLoop::End::Stopped);
        CHECK(chunks == 1);
    }
    StdinPipe input;
    StdinLoop loop;
    input.write("not read\n");
    loop.stop();
    std::string received;
    CHECK(loop.run([&](std::string_view chunk) { received.append(chunk); }) ==
          StdinLoop::End::Stopped);
    CHECK(received.empty());
}

#endif  // _WIN32
