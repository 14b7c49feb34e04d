// platform/private_dir.h: what is the same on every platform (the implementations are in
// posix/ and win32/).
#include "platform/private_dir.h"

#include <utility>

namespace mcp_auth {

LockFile::LockFile(LockFile&& other) noexcept
    : handle_(std::exchange(other.handle_, -1)),
      path_(std::move(other.path_)),
      kind_(other.kind_) {}

LockFile& LockFile::operator=(LockFile&& other) noexcept {
    if (this != &other) {
        release();
        handle_ = std::exchange(other.handle_, -1);
        path_ = std::move(other.path_);
        kind_ = other.kind_;
    }
    return *this;
}

PrivateDirectory::PrivateDirectory(PrivateDirectory&& other) noexcept
    : handle_(std::exchange(other.handle_, -1)),
      path_(std::move(other.path_)),
      use_(std::move(other.use_)) {}

PrivateDirectory& PrivateDirectory::operator=(PrivateDirectory&& other) noexcept {
    std::swap(handle_, other.handle_);
    std::swap(path_, other.path_);
    std::swap(use_, other.use_);
    return *this;
}

}  // namespace mcp_auth
