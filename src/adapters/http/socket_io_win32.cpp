// clang-format off
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <winsock2.h>
#include <windows.h>
// clang-format on

#include <algorithm>
#include <climits>

#include "adapters/http/socket_io.h"

namespace mcp_auth {

// Winsock never raises a signal for a broken connection (no MSG_NOSIGNAL needed), and
// its calls are not interrupted the way POSIX ones are (no EINTR loop).

bool socket_wait(SocketHandle sock, bool for_write, std::time_t sec, std::time_t usec) {
    WSAPOLLFD pfd{};
    pfd.fd = static_cast<SOCKET>(sock);
    pfd.events = static_cast<SHORT>(for_write ? POLLWRNORM : POLLRDNORM);
    auto ms = static_cast<INT>(std::min<std::time_t>(sec * 1000 + usec / 1000, 24 * 3600 * 1000));
    return WSAPoll(&pfd, 1, ms) > 0;
}

long long socket_receive(SocketHandle sock, char* buf, std::size_t size) {
    int n = ::recv(static_cast<SOCKET>(sock), buf,
                   static_cast<int>(std::min<std::size_t>(size, INT_MAX)), 0);
    return n == SOCKET_ERROR ? -1 : n;
}

bool socket_send_both(SocketHandle sock, const char* a, std::size_t an, const char* b,
                      std::size_t bn) {
    WSABUF bufs[2];
    bufs[0].buf = const_cast<char*>(a);
    bufs[0].len = static_cast<ULONG>(an);
    bufs[1].buf = const_cast<char*>(b);
    bufs[1].len = static_cast<ULONG>(bn);
    if (an > ULONG_MAX || bn > ULONG_MAX) return false;
    DWORD i = an ? 0 : 1;  // the first buffer with bytes left
    while (i < 2 && bufs[i].len) {
        DWORD sent = 0;
        if (WSASend(static_cast<SOCKET>(sock), bufs + i, 2 - i, &sent, 0, nullptr, nullptr) != 0)
            return false;
        if (sent == 0) return false;
        while (i < 2 && sent >= bufs[i].len) sent -= bufs[i++].len;
        if (i < 2) {
            bufs[i].buf += sent;
            bufs[i].len -= sent;
        }
    }
    return true;
}

bool socket_set_timeouts(SocketHandle sock, std::time_t rs, std::time_t ru, std::time_t ws,
                         std::time_t wu) {
    auto ms = [](std::time_t sec, std::time_t usec) {
        auto total = std::min<std::time_t>(sec * 1000 + usec / 1000, 24 * 3600 * 1000);
        return static_cast<DWORD>(std::max<std::time_t>(total, 1));  // 0 means "for ever"
    };
    DWORD r = ms(rs, ru), w = ms(ws, wu);
    auto s = static_cast<SOCKET>(sock);
    return setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&r), sizeof r) ==
               0 &&
           setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, reinterpret_cast<const char*>(&w), sizeof w) == 0;
}

void socket_close(SocketHandle sock) {
    closesocket(static_cast<SOCKET>(sock));
}

}  // namespace mcp_auth
