// Internal to projections/: big-endian key parts, so that keys sort as numbers do.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "portal/domain/ids.h"

namespace portal::projections::keys {

inline void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
inline void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
inline std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[static_cast<std::size_t>(i)]);
  return v;
}
inline std::uint32_t get_u32(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[static_cast<std::size_t>(i)]);
  return v;
}
// Timestamps are non-negative microseconds; the sign bit is flipped so that any
// value sorts correctly.
inline void put_time(std::string& out, std::int64_t t) {
  put_u64(out, static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63));
}
inline std::int64_t get_time(std::string_view in) {
  return static_cast<std::int64_t>(get_u64(in) ^ (std::uint64_t{1} << 63));
}
inline void put_id(std::string& out, const domain::Uuid& id) {
  out.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
}
inline domain::Uuid get_id(std::string_view in) {
  domain::Uuid id;
  for (std::size_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<std::uint8_t>(in[i]);
  return id;
}
inline std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}
// The smallest key greater than every key starting with prefix ("" if none).
inline std::string successor(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

}  // namespace portal::projections::keys
