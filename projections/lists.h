// Internal to projections/: how a list of Rows::append is stored. The members one
// batch adds to a list are one row (a chunk):
//
//   key:   kTag, list, first member
//   value: member width (one byte), then every member of the chunk, first included
//
// A list's chunks follow each other in key order, as their members do, so that a
// list reads as one ordered sequence whatever the batches were.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portal::projections::lists {

inline constexpr char kTag = '\xff';
inline constexpr std::size_t kMaxWidth = 255;

inline std::string chunk_key(std::string_view list, std::string_view first_member) {
  std::string key(1, kTag);
  key.append(list);
  key.append(first_member);
  return key;
}

// The value of a chunk: `members` (one or more, `width` bytes each) back to back.
inline std::string chunk_value(std::size_t width, std::string_view members) {
  std::string value(1, static_cast<char>(width));
  value.append(members);
  return value;
}

struct Chunk {
  std::string_view list;
  std::size_t width = 0;
  std::string_view members;  // width bytes each
  std::size_t size() const { return members.size() / width; }
  std::string_view member(std::size_t i) const { return members.substr(i * width, width); }
};

// False when the row is not a well-formed chunk.
inline bool parse(std::string_view key, std::string_view value, Chunk& out) {
  if (key.empty() || key[0] != kTag || value.empty()) return false;
  out.width = static_cast<unsigned char>(value[0]);
  out.members = value.substr(1);
  if (out.width == 0 || out.members.empty() || out.members.size() % out.width != 0 ||
      key.size() < 1 + out.width || key.substr(key.size() - out.width) != out.members.substr(0, out.width)) {
    return false;
  }
  out.list = key.substr(1, key.size() - 1 - out.width);
  return true;
}

}  // namespace portal::projections::lists
