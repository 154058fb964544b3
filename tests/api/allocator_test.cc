// The executables' malloc (CMake's portal_allocator, linked as portald and
// portalctl link it): tcmalloc when the build found it, and memory allocated on
// one thread and freed on another, as the group commit and the engine's caches
// do, comes back whole.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "portal/api/allocator.h"

namespace portal {
namespace {

TEST(AllocatorTest, TheProcessRunsOnTheAllocatorTheBuildChose) {
  EXPECT_STREQ(memory_allocator(), PORTAL_EXPECTED_ALLOCATOR);
}

TEST(AllocatorTest, BlocksAllocatedOnOneThreadAreFreedOnAnother) {
  std::vector<std::unique_ptr<std::string>> made(10'000);
  std::thread maker([&] {
    for (std::size_t i = 0; i < made.size(); ++i) made[i] = std::make_unique<std::string>(16 + i % 4096, 'a');
  });
  maker.join();
  std::thread freer([&] {
    for (std::size_t i = 0; i < made.size(); ++i) {
      ASSERT_EQ(made[i]->size(), 16 + i % 4096);
      made[i].reset();
    }
  });
  freer.join();
  auto again = std::make_unique<char[]>(1 << 20);
  std::memset(again.get(), 1, 1 << 20);
  EXPECT_EQ(again[(1 << 20) - 1], 1);
}

}  // namespace
}  // namespace portal
