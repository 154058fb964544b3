// Ids derived from numbers, for the crash tests' workloads: a child process and
// the test that checks it compute the same ids from the same seed, so nothing a
// re-submitted command carries is random.
#pragma once

#include <array>
#include <cstdint>

namespace portal::test_support {

// splitmix64's finalizer: a small, well-mixed function of x.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Sixteen bytes from two 64-bit mixes of `key`; never all zero in practice.
inline std::array<std::uint8_t, 16> bytes_from(std::uint64_t key) {
  std::array<std::uint8_t, 16> out{};
  const std::uint64_t hi = splitmix64(key);
  const std::uint64_t lo = splitmix64(hi ^ 0x5555555555555555ull);
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<std::uint8_t>(hi >> (8 * i));
    out[8 + i] = static_cast<std::uint8_t>(lo >> (8 * i));
  }
  return out;
}

}  // namespace portal::test_support
