#include "portal/eventstore/rocksdb_layout.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace portal::eventstore::layout {

void put_u64_be(std::string& out, std::uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out.append(buf, 8);
}

std::uint64_t get_u64_be(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::string log_key(std::uint64_t position) {
  std::string key;
  key.reserve(8);
  put_u64_be(key, position);
  return key;
}

namespace {

// `stream` and its 0x00, with room for `more` bytes after them.
std::string stream_prefix_with_room(std::string_view stream, std::size_t more) {
  std::string key;
  key.reserve(stream.size() + 1 + more);
  key.append(stream);
  key.push_back('\0');
  return key;
}

}  // namespace

std::string stream_prefix(std::string_view stream) {
  return stream_prefix_with_room(stream, 0);
}

std::string stream_key(std::string_view stream, std::uint64_t version) {
  std::string key = stream_prefix_with_room(stream, 8);
  put_u64_be(key, version);
  return key;
}

namespace {

constexpr std::uint32_t kCastagnoli = 0x82f63b78;

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kCastagnoli : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr auto kTable = make_table();

std::uint32_t crc32c_portable(const unsigned char* p, std::size_t n, std::uint32_t crc) {
  for (std::size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
// The crc32 instruction takes three cycles and can start one per cycle, so three
// independent lanes of kLane bytes are summed at once and then joined. The raw CRC
// register is linear in its start value: the register after A then B equals the
// register after A advanced over |B| zero bytes, xor the register of B started
// from zero. kShift does that advance over kLane zero bytes, a byte at a time.
constexpr std::size_t kLane = 64;

constexpr std::array<std::array<std::uint32_t, 256>, 4> make_shift_table() {
  std::array<std::array<std::uint32_t, 256>, 4> shift{};
  for (std::uint32_t k = 0; k < 4; ++k) {
    for (std::uint32_t v = 0; v < 256; ++v) {
      std::uint32_t c = v << (8 * k);
      for (std::size_t i = 0; i < kLane; ++i) c = kTable[c & 0xff] ^ (c >> 8);
      shift[k][v] = c;
    }
  }
  return shift;
}

constexpr auto kShift = make_shift_table();

inline std::uint64_t shift_over_lane(std::uint64_t c) {
  return kShift[0][c & 0xff] ^ kShift[1][(c >> 8) & 0xff] ^ kShift[2][(c >> 16) & 0xff] ^
         kShift[3][(c >> 24) & 0xff];
}

__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(const unsigned char* p, std::size_t n,
                                                             std::uint32_t crc) {
  std::uint64_t c = crc;
  while (n >= 3 * kLane) {
    std::uint64_t c1 = 0, c2 = 0;
    for (std::size_t i = 0; i < kLane; i += 8) {
      std::uint64_t w0, w1, w2;
      std::memcpy(&w0, p + i, 8);
      std::memcpy(&w1, p + kLane + i, 8);
      std::memcpy(&w2, p + 2 * kLane + i, 8);
      c = _mm_crc32_u64(c, w0);
      c1 = _mm_crc32_u64(c1, w1);
      c2 = _mm_crc32_u64(c2, w2);
    }
    c = shift_over_lane(c) ^ c1;
    c = shift_over_lane(c) ^ c2;
    p += 3 * kLane;
    n -= 3 * kLane;
  }
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
#if defined(__x86_64__)
  if (kHaveSse42) return ~crc32c_sse42(p, data.size(), ~0u);
#endif
  return ~crc32c_portable(p, data.size(), ~0u);
}

void seal(std::string& value) {
  std::uint32_t crc = crc32c(value);
  char buf[kChecksumBytes];
  for (std::size_t i = 0; i < kChecksumBytes; ++i) buf[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  value.append(buf, kChecksumBytes);
}

bool unseal(std::string_view value, std::string_view& body) {
  if (value.size() < kChecksumBytes) return false;
  std::string_view data = value.substr(0, value.size() - kChecksumBytes);
  std::uint32_t stored = 0;
  for (std::size_t i = 0; i < kChecksumBytes; ++i) {
    stored |= static_cast<std::uint32_t>(static_cast<unsigned char>(value[data.size() + i])) << (8 * i);
  }
  if (stored != crc32c(data)) return false;
  body = data;
  return true;
}

}  // namespace portal::eventstore::layout
