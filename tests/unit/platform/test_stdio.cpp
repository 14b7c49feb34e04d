// platform/line_writer.h and platform/process.h's StdinLoop: whole lines out, chunks in,
// and how each ends (a reader that went away, end of input, stop()).
#include <doctest/doctest.h>

#ifndef _WIN32
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "platform/line_writer.h"
#include "platform/process.h"

using namespace mcp_auth;

namespace {

std::string read_all(int fd) {
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
    return text;
}

// Puts a pipe's read end on stdin for the test's duration.
class StdinPipe {
public:
    StdinPipe() {
        REQUIRE(pipe(fds_) == 0);
        saved_ = dup(STDIN_FILENO);
        dup2(fds_[0], STDIN_FILENO);
        close(fds_[0]);
    }
    ~StdinPipe() {
        close_writer();
        dup2(saved_, STDIN_FILENO);
        close(saved_);
    }
    void write(const std::string& text) {
        REQUIRE(::write(fds_[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }
    void close_writer() {
        if (fds_[1] >= 0) close(fds_[1]);
        fds_[1] = -1;
    }

private:
    int fds_[2] = {-1, -1};
    int saved_ = -1;
};

}  // namespace

TEST_CASE("line writer: concurrent writers never interleave; each line ends in a newline") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    std::string reader_text;
    std::thread reader([&] { reader_text = read_all(fds[0]); });
    {
        LineWriter out(fds[1]);
        std::vector<std::thread> writers;
        for (int w = 0; w < 4; ++w)
            writers.emplace_back([&out, w] {
                std::string line(10000, static_cast<char>('a' + w));  // larger than a pipe atom
                for (int i = 0; i < 20; ++i) CHECK(out.write_line(line));
            });
        for (auto& t : writers) t.join();
        close(fds[1]);
    }
    reader.join();
    size_t lines = 0, start = 0;
    for (size_t end; (end = reader_text.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string line = reader_text.substr(start, end - start);
        REQUIRE(line.size() == 10000);
        CHECK(line.find_first_not_of(line[0]) == std::string::npos);
        ++lines;
    }
    CHECK(lines == 80);
    CHECK(start == reader_text.size());
    CHECK(kStandardOutput == STDOUT_FILENO);
    CHECK(kStandardError == STDERR_FILENO);
}

TEST_CASE("line writer: a reader that went away is a false return and one on_broken call") {
    signal(SIGPIPE, SIG_IGN);  // what prepare_process does
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    close(fds[0]);
    int broken = 0;
    LineWriter out(fds[1], [&] { ++broken; });
    CHECK_FALSE(out.write_line("lost"));
    CHECK_FALSE(out.write_line("lost too"));
    CHECK(broken == 1);
    close(fds[1]);
}

TEST_CASE("stdin loop: hands over what arrives; end of input, then stop()") {
    StdinPipe input;
    StdinLoop loop;
    std::string received;
    input.write("{\"jsonrpc\":\"2.0\"}\n");
    input.write("second");
    input.close_writer();
    auto end = loop.run([&](std::string_view chunk) { received.append(chunk); });
    CHECK(end == StdinLoop::End::EndOfInput);
    CHECK(received == "{\"jsonrpc\":\"2.0\"}\nsecond");
}

TEST_CASE("stdin loop: stop() from another thread ends a loop waiting for input") {
    StdinPipe input;  // open, and nothing arrives
    StdinLoop loop;
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        loop.stop();
    });
    CHECK(loop.run([](std::string_view) {}) == StdinLoop::End::Stopped);
    stopper.join();
}

TEST_CASE("stdin loop: a stop signal ends a loop blocked in its read, in a process of its own") {
    // A child process: the signals belong to the one StdinLoop it creates.
    int input[2];
    REQUIRE(pipe(input) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        dup2(input[0], STDIN_FILENO);
        StdinLoop loop;
        auto end = loop.run([](std::string_view) {});
        _exit(end == StdinLoop::End::Stopped ? 7 : 1);
    }
    close(input[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the child waits in read()
    REQUIRE(kill(child, SIGTERM) == 0);
    int status = 0;
    pid_t ended = 0;
    for (int i = 0; i < 500 && ended == 0; ++i) {  // 5 s at most: a stuck read fails, no hang
        ended = waitpid(child, &status, WNOHANG);
        if (ended == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (ended == 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
    }
    REQUIRE(ended == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);  // Stopped, with the writer still open
    close(input[1]);
}

TEST_CASE("stdin loop: stop() before run() ends it at once, unread input stays unread") {
    StdinPipe input;
    StdinLoop loop;
    input.write("not read\n");
    loop.stop();
    std::string received;
    CHECK(loop.run([&](std::string_view chunk) { received.append(chunk); }) ==
          StdinLoop::End::Stopped);
    CHECK(received.empty());
}

TEST_CASE("stdin loop: its wait hook reads stdin on while the thread waits for a socket") {
    StdinPipe input;
    StdinLoop loop;
    WaitHook* hook = loop.wait_hook(std::chrono::milliseconds(100));
    REQUIRE(hook != nullptr);
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    std::vector<std::string> chunks;
    WaitHook::Wake first = WaitHook::Wake::TimedOut, second = WaitHook::Wake::Readable;
    input.write("one\n");
    std::thread writer;
    auto end = loop.run([&](std::string_view chunk) {
        chunks.emplace_back(chunk);
        if (chunks.size() != 1) return;
        // Inside on_data, as the relay's own call waits for its reply: stdin brings "two",
        // handed over at once (on_data re-entered), then the socket becomes readable.
        writer = std::thread([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            input.write("two\n");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            REQUIRE(::write(pair[1], "x", 1) == 1);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            input.close_writer();
        });
        first = hook->wait(pair[0], std::chrono::seconds(5));
        writer.join();
        // End of input: the wait goes on for the grace, then says Stop.
        char c;
        REQUIRE(::read(pair[0], &c, 1) == 1);
        auto started = std::chrono::steady_clock::now();
        second = hook->wait(pair[0], std::chrono::seconds(5));
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    });
    CHECK(first == WaitHook::Wake::Readable);
    CHECK(second == WaitHook::Wake::Stop);
    CHECK(end == StdinLoop::End::EndOfInput);
    CHECK(chunks == std::vector<std::string>{"one\n", "two\n"});
    close(pair[0]);
    close(pair[1]);
}

#endif  // !_WIN32
