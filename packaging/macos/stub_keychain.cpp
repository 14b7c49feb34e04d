// A stand-in for the macOS Keychain backend, for the link check of
// packaging/check-platforms.sh (stage macos) and nothing else. Zig's toolchain has no Apple
// frameworks, so src/adapters/store/macos_keychain.cpp (Security, CoreFoundation) cannot be
// built there; this file defines make_os_keychain in its place so that everything else links
// into a Mach-O executable. Every call fails, and says why.
//
// Never part of a shipped build: CMake does not list it (a real macOS build compiles
// macos_keychain.cpp), and it refuses to compile unless the check defines
// MCP_AUTH_LINK_CHECK. The check also marks the version string ("+link-check").
#ifndef MCP_AUTH_LINK_CHECK
#error "packaging/macos/stub_keychain.cpp is only for the link check of packaging/check-platforms.sh"
#endif

#include "adapters/store/stores.h"

namespace mcp_auth {
namespace {

class LinkCheckKeychain : public SecretStore {
public:
    std::string kind() const override { return "keychain"; }
    std::string description() const override {
        return "none (a link check of the macOS build: no Keychain)";
    }

    Expected<std::optional<std::string>> get(const StoreKey&) override { return refused(); }
    Status put(const StoreKey&, const std::string&, const std::string&) override {
        return refused();
    }
    Status erase(const StoreKey&) override { return refused(); }
    Expected<std::vector<Item>> find(const StoreKey&) override { return refused(); }

private:
    static Error refused() {
        return make_error(ErrorKind::StoreUnavailable,
                          "this mcp-auth was built only to check that the macOS build links "
                          "(packaging/check-platforms.sh), without the Keychain backend: it "
                          "cannot store anything there. Build mcp-auth on macOS with CMake, or "
                          "choose the file store explicitly with --store file.");
    }
};

}  // namespace

std::unique_ptr<SecretStore> make_os_keychain(std::chrono::milliseconds) {
    return std::make_unique<LinkCheckKeychain>();
}

}  // namespace mcp_auth
