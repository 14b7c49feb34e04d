#pragma once
// The few socket calls the HTTP adapter makes itself, beside cpp-httplib (its own plain
// stream, the CONNECT tunnel): one implementation per OS, socket_io_posix.cpp (poll,
// sendmsg with MSG_NOSIGNAL, timeval timeouts) and socket_io_win32.cpp (WSAPoll, WSASend
// with two buffers, millisecond DWORD timeouts, closesocket). Every call retries what was
// interrupted and never raises SIGPIPE; a failure is a false or negative return.
#include <cstddef>
#include <cstdint>
#include <ctime>

namespace mcp_auth {

#ifdef _WIN32
using SocketHandle = std::uintptr_t;  // SOCKET
#else
using SocketHandle = int;
#endif

// Waits until `sock` is readable (or writable, when `for_write`) for at most sec.usec
// seconds (capped at a day); false on timeout or error.
bool socket_wait(SocketHandle sock, bool for_write, std::time_t sec, std::time_t usec);
// recv(): bytes read, 0 at the peer's end, negative on error (a receive timeout included).
long long socket_receive(SocketHandle sock, char* buf, std::size_t size);
// Sends a then b (either may be empty) completely, as one call where it fits.
bool socket_send_both(SocketHandle sock, const char* a, std::size_t an, const char* b,
                      std::size_t bn);
// The blocking socket's receive and send timeouts (0.0 becomes the shortest, never "for
// ever").
bool socket_set_timeouts(SocketHandle sock, std::time_t rs, std::time_t ru, std::time_t ws,
                         std::time_t wu);
void socket_close(SocketHandle sock);

}  // namespace mcp_auth
