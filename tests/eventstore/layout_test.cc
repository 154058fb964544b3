// Tests of the on-disk encodings' building blocks: the CRC-32C that seals every
// stored record, and the key encodings.
#include "portal/eventstore/rocksdb_layout.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace portal::eventstore::layout {
namespace {

// CRC-32C one bit at a time, straight from the definition (reflected, polynomial
// 0x82f63b78, initial value and final xor all ones).
std::uint32_t crc32c_by_the_book(std::string_view data) {
  std::uint32_t crc = ~0u;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
  }
  return ~crc;
}

TEST(Crc32c, MatchesThePublishedCheckValues) {
  // The check value of the CRC catalogue and the test vectors of RFC 3720, B.4.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, EveryLengthAndAlignmentMatchesTheDefinition) {
  // Lengths across the three-lane blocks (192 bytes) and their tails, at every
  // offset of an 8-byte word.
  std::string data(2100, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (char& c : data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t n = 0; n + offset <= data.size(); n += (n < 600 ? 1 : 37)) {
      std::string_view slice(data.data() + offset, n);
      ASSERT_EQ(crc32c(slice), crc32c_by_the_book(slice)) << "length " << n << ", offset " << offset;
    }
  }
}

TEST(Seal, UnsealReturnsTheBodyAndRefusesAnyChangedByte) {
  std::string value(500, 'r');
  value[17] = '\0';
  const std::string body = value;
  seal(value);
  ASSERT_EQ(value.size(), body.size() + kChecksumBytes);
  std::string_view out;
  ASSERT_TRUE(unseal(value, out));
  EXPECT_EQ(out, body);
  for (std::size_t i = 0; i < value.size(); i += 23) {
    std::string damaged = value;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    EXPECT_FALSE(unseal(damaged, out)) << "a flipped bit at byte " << i << " went unnoticed";
  }
}

}  // namespace
}  // namespace portal::eventstore::layout
