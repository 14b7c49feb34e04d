#pragma once
// The version string, from CMake (project VERSION); a build that does not pass it (a
// syntax check of the sources for another platform) still compiles.
#ifndef MCP_AUTH_VERSION
#define MCP_AUTH_VERSION "0.0.0"
#endif
