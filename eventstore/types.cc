#include "portal/eventstore/types.h"

#include <algorithm>
#include <iterator>
#include <random>

namespace portal::eventstore {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Which characters a stream name's category and id may hold, one table lookup
// per character (every append checks its stream names).
constexpr std::uint8_t kCategoryChar = 1;
constexpr std::uint8_t kIdChar = 2;
constexpr std::array<std::uint8_t, 256> kStreamNameChars = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kCategoryChar | kIdChar;
  for (int c = '0'; c <= '9'; ++c) t[c] = kCategoryChar | kIdChar;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kIdChar;
  t['_'] = kCategoryChar;
  t['.'] = t[':'] = t['-'] = kIdChar;
  return t;
}();

bool has_class(char c, std::uint8_t cls) {
  return (kStreamNameChars[static_cast<unsigned char>(c)] & cls) != 0;
}

// Stream names are quoted in messages only after validation, or escaped here, so a
// hostile name cannot inject control characters into logs.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

Id16 Id16::random() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  Id16 id;
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = rng();
    for (int i = 0; i < 8; ++i) id.bytes[half * 8 + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0f) | 0x40);  // version 4
  id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return id;
}

std::optional<Id16> Id16::from_hex(std::string_view hex) {
  Id16 id;
  std::size_t n = 0;
  int high = -1;
  for (char c : hex) {
    if (c == '-') continue;
    int v = hex_value(c);
    if (v < 0 || n >= 16) return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      id.bytes[n++] = static_cast<std::uint8_t>(high << 4 | v);
      high = -1;
    }
  }
  if (n != 16 || high >= 0) return std::nullopt;
  return id;
}

std::string Id16::to_hex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

bool Id16::is_nil() const {
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

bool ExpectedVersion::matches(std::optional<std::uint64_t> head) const {
  switch (kind) {
    case Kind::kAny: return true;
    case Kind::kNoStream: return !head.has_value();
    case Kind::kStreamExists: return head.has_value();
    case Kind::kExact: return head.has_value() && *head == version;
  }
  return false;
}

std::string ExpectedVersion::to_string() const {
  switch (kind) {
    case Kind::kAny: return "any";
    case Kind::kNoStream: return "no stream";
    case Kind::kStreamExists: return "stream exists";
    case Kind::kExact: return std::to_string(version);
  }
  return "?";
}

Status validate_stream_name(std::string_view stream) {
  if (stream.empty()) return Status::invalid_argument("stream name is empty");
  if (stream.size() > kMaxStreamNameBytes) {
    return Status::invalid_argument("stream name '" + printable(stream) + "' is " +
                                    std::to_string(stream.size()) + " bytes; the limit is " +
                                    std::to_string(kMaxStreamNameBytes));
  }
  auto dash = stream.find('-');
  bool ok = dash != std::string_view::npos && dash > 0 && dash + 1 < stream.size() && stream[0] >= 'a' &&
            stream[0] <= 'z';
  for (std::size_t i = 0; ok && i < dash; ++i) ok = has_class(stream[i], kCategoryChar);
  for (std::size_t i = dash + 1; ok && i < stream.size(); ++i) ok = has_class(stream[i], kIdChar);
  if (!ok) {
    return Status::invalid_argument("stream name '" + printable(stream) +
                                    "' is malformed: expected category-id, category [a-z][a-z0-9_]*, "
                                    "id of [A-Za-z0-9.:-]");
  }
  return Status::ok_status();
}

Status validate_request(const AppendRequest& request) {
  if (request.command_id.is_nil()) return Status::invalid_argument("command id is missing (nil)");
  if (request.writes.empty() && request.checks.empty()) {
    return Status::invalid_argument("append request has no writes and no checks");
  }
  if (request.writes.empty()) {
    return Status::invalid_argument("append request has checks but no writes: nothing to append");
  }
  // Requests name a handful of streams: a linear scan beats hashing them, and the
  // first few names are kept without allocating.
  std::string_view inline_seen[8];
  std::vector<std::string_view> more_seen;
  std::size_t seen = 0;
  auto check_stream = [&](const std::string& stream) -> Status {
    if (auto s = validate_stream_name(stream); !s.ok()) return s;
    const std::size_t inline_count = std::min(seen, std::size(inline_seen));
    if (std::find(inline_seen, inline_seen + inline_count, stream) != inline_seen + inline_count ||
        std::find(more_seen.begin(), more_seen.end(), stream) != more_seen.end()) {
      return Status::invalid_argument("stream '" + stream + "' appears more than once in the request");
    }
    if (seen < std::size(inline_seen)) {
      inline_seen[seen] = stream;
    } else {
      more_seen.push_back(stream);
    }
    ++seen;
    return Status::ok_status();
  };
  for (const auto& write : request.writes) {
    if (auto s = check_stream(write.stream); !s.ok()) return s;
    if (write.events.empty()) {
      return Status::invalid_argument("write to stream '" + write.stream +
                                      "' has no events; use a check to assert a version without writing");
    }
    for (std::size_t i = 0; i < write.events.size(); ++i) {
      const auto& e = write.events[i];
      auto where = [&] { return "event " + std::to_string(i) + " of stream '" + write.stream + "'"; };
      if (e.type.empty()) return Status::invalid_argument(where() + " has an empty type");
      if (e.type.size() > kMaxEventTypeBytes) {
        return Status::invalid_argument(where() + " has a type of " + std::to_string(e.type.size()) +
                                        " bytes; the limit is " + std::to_string(kMaxEventTypeBytes));
      }
      if (e.metadata.size() + e.payload.size() > kMaxEventBytes) {
        return Status::invalid_argument(
            where() + " is " + std::to_string(e.metadata.size() + e.payload.size()) +
            " bytes (metadata + payload); the limit is 1 MiB (" + std::to_string(kMaxEventBytes) + " bytes)");
      }
    }
  }
  for (const auto& check : request.checks) {
    if (auto s = check_stream(check.stream); !s.ok()) return s;
  }
  return Status::ok_status();
}

}  // namespace portal::eventstore
