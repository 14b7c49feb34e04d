#include "platform/line_writer.h"

#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>

namespace mcp_auth {

bool LineWriter::write_line(std::string_view line) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_) return false;
    char newline = '\n';
    struct iovec parts[2] = {{const_cast<char*>(line.data()), line.size()}, {&newline, 1}};
    int count = 2;
    struct iovec* next = parts;
    while (count > 0) {
        ssize_t n = ::writev(fd_, next, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            broken_ = true;
            if (on_broken_) on_broken_();
            return false;
        }
        size_t left = static_cast<size_t>(n);
        while (count > 0 && left >= next->iov_len) {
            left -= next->iov_len;
            ++next;
            --count;
        }
        if (count > 0) {
            next->iov_base = static_cast<char*>(next->iov_base) + left;
            next->iov_len -= left;
        }
    }
    return true;
}

}  // namespace mcp_auth
