# Packages: `cpack -G DEB` (and TGZ) from the build directory; the Windows build makes a
# .zip (`cd build-windows && cpack -G ZIP`): mcp-auth.exe, README.md, SECURITY.md, LICENSE
# and the linked libraries' licenses.
set(CPACK_PACKAGE_NAME "mcp-auth")
set(CPACK_PACKAGE_VENDOR "mcp-auth")
set(CPACK_PACKAGE_CONTACT "mcp-auth maintainers <maintainers@mcp-auth.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
if(WIN32)
  set(CPACK_GENERATOR "ZIP")
  set(CPACK_PACKAGE_FILE_NAME "mcp-auth-${PROJECT_VERSION}-windows-x86_64")
else()
  set(CPACK_GENERATOR "DEB;TGZ")
endif()
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
# Runtime libraries, found by dpkg-shlibdeps (libcpp-httplib, libssl, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
