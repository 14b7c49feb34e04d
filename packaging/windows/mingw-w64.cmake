# CMake toolchain for the Windows cross build (packaging/build-windows.sh): MinGW-w64 with
# the POSIX thread model (std::thread, std::mutex), a fully static exe (no DLL beside it:
# libstdc++, libgcc and winpthread are linked in), and Wine as the emulator, so CTest and
# doctest's test discovery run the Windows executables on this machine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 ${MCP_AUTH_WIN_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_EXE_LINKER_FLAGS_RELEASE_INIT "-s")  # no symbol table in the shipped exe
if(MCP_AUTH_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MCP_AUTH_WINE})
endif()
