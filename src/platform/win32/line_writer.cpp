// platform/line_writer.h on Windows: WriteFile on the descriptor's handle.
#include "platform/line_writer.h"

#include "platform/win32/win32.h"  // windows.h before any other Windows header

#include <io.h>

#include <string>

namespace mcp_auth {

bool LineWriter::write_line(std::string_view line) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_) return false;
    // One WriteFile of the line and its newline: a pipe's reader gets them together.
    std::string joined;
    joined.reserve(line.size() + 1);
    joined.append(line);
    joined.push_back('\n');
    auto handle = reinterpret_cast<HANDLE>(_get_osfhandle(fd_));
    size_t done = 0;
    bool ok = handle != INVALID_HANDLE_VALUE && handle != nullptr;
    while (ok && done < joined.size()) {
        DWORD chunk = static_cast<DWORD>(std::min<size_t>(joined.size() - done, 1u << 30));
        DWORD written = 0;
        if (WriteFile(handle, joined.data() + done, chunk, &written, nullptr)) {
            done += written;
            continue;
        }
        // The stdin loop's stop cancels the main thread's synchronous I/O
        // (CancelSynchronousIo): a write it caught is retried, as POSIX retries EINTR.
        ok = GetLastError() == ERROR_OPERATION_ABORTED;
    }
    if (ok) return true;
    broken_ = true;
    if (on_broken_) on_broken_();
    return false;
}

}  // namespace mcp_auth
