#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "adapters/http/socket_io.h"

namespace mcp_auth {

bool socket_wait(SocketHandle sock, bool for_write, std::time_t sec, std::time_t usec) {
    pollfd pfd{sock, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    auto ms = static_cast<int>(std::min<std::time_t>(sec * 1000 + usec / 1000, 24 * 3600 * 1000));
    int rc;
    do rc = ::poll(&pfd, 1, ms);
    while (rc < 0 && errno == EINTR);
    return rc > 0;
}

long long socket_receive(SocketHandle sock, char* buf, std::size_t size) {
    ssize_t n;
    do n = ::recv(sock, buf, size, 0);
    while (n < 0 && errno == EINTR);
    return n;
}

bool socket_send_both(SocketHandle sock, const char* a, std::size_t an, const char* b,
                      std::size_t bn) {
    iovec iov[2] = {{const_cast<char*>(a), an}, {const_cast<char*>(b), bn}};
    std::size_t i = an ? 0 : 1;  // the first buffer with bytes left
    while (i < 2 && iov[i].iov_len) {
        msghdr msg{};
        msg.msg_iov = iov + i;
        msg.msg_iovlen = 2 - i;
        ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        auto left = static_cast<std::size_t>(n);
        while (i < 2 && left >= iov[i].iov_len) left -= iov[i++].iov_len;
        if (i < 2) {
            iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
            iov[i].iov_len -= left;
        }
    }
    return true;
}

bool socket_set_timeouts(SocketHandle sock, std::time_t rs, std::time_t ru, std::time_t ws,
                         std::time_t wu) {
    auto tv = [](std::time_t sec, std::time_t usec) {
        timeval t{};
        t.tv_sec = sec;
        t.tv_usec = static_cast<suseconds_t>(usec);
        if (sec == 0 && usec == 0) t.tv_usec = 1;  // zero would mean "wait for ever"
        return t;
    };
    timeval r = tv(rs, ru), w = tv(ws, wu);
    return ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof(r)) == 0 &&
           ::setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &w, sizeof(w)) == 0;
}

void socket_close(SocketHandle sock) {
    ::close(sock);
}

}  // namespace mcp_auth
