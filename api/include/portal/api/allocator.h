// Which malloc this process runs on. The executables (portald, portalctl, the
// benchmarks) link gperftools' tcmalloc when the build found it (CMake option
// PORTAL_WITH_TCMALLOC): the engine allocates many small objects per command, and
// tcmalloc's per-thread caches make those cheaper than glibc's malloc.
#pragma once

#include <dlfcn.h>

namespace portal {

// "tcmalloc" when tcmalloc replaced the C library's malloc, else "system".
inline const char* memory_allocator() {
  return dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr ? "tcmalloc" : "system";
}

}  // namespace portal
