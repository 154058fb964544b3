// The crash test's workload, shared by the writer (crash_writer.cc) and the checker (crash_test.cc).
//
// The checker re-submits the commands the writer had in flight when it was killed, and exactly-once
// only holds for a request with identical content. So nothing in a request is random: every byte is
// derived from what the writer prints on its BEGIN line (command id, streams with their expected
// versions, events per stream) and the seed the checker handed to the writer.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "derived_ids.h"
#include "portal/eventstore/types.h"

namespace portal::eventstore::crash {

inline constexpr int kStreamCount = 20;
inline constexpr std::string_view kEventType = "CrashWritten";
inline constexpr std::uint32_t kEventTypeCode = 9001;

inline std::string stream_name(int n) {
  return "crash-" + std::to_string(n);
}

struct WriteSpec {
  std::string stream;
  ExpectedVersion expected;

  friend bool operator==(const WriteSpec&, const WriteSpec&) = default;
};

struct CommandSpec {
  CommandId id;
  std::vector<WriteSpec> writes;
  std::uint32_t events_per_stream = 1;

  friend bool operator==(const CommandSpec&, const CommandSpec&) = default;
};

using test_support::splitmix64;

inline std::uint64_t fold(const Id16& id) {
  std::uint64_t h = 0;
  for (std::uint8_t b : id.bytes) h = splitmix64(h ^ b);
  return h;
}

// Sixteen bytes from two 64-bit mixes of `key`; never nil in practice.
inline Id16 id_from(std::uint64_t key) {
  Id16 id;
  id.bytes = test_support::bytes_from(key);
  return id;
}

// Command ids are a function of (seed, thread, counter) so that two cycles (different seeds) never
// reuse one: the data directory accumulates across cycles.
inline CommandId make_command_id(std::uint64_t seed, std::uint64_t thread, std::uint64_t counter) {
  return id_from(splitmix64(splitmix64(seed) ^ (thread << 56)) ^ counter);
}

// The event `index` of write `write` of the command, exactly as the writer submits it.
inline NewEvent expected_event(const CommandSpec& spec, std::uint64_t seed, std::size_t write,
                               std::size_t index) {
  const std::string hex = spec.id.to_hex();
  const std::string& stream = spec.writes.at(write).stream;
  const std::uint64_t key = splitmix64(fold(spec.id) ^ (write << 32) ^ index);
  NewEvent event;
  event.type = std::string(kEventType);
  event.type_code = kEventTypeCode;
  event.event_id = id_from(key);
  event.correlation_id = spec.id;
  event.causation_id = id_from(key ^ 0xCAu);
  event.metadata = "m:" + hex;
  event.payload = "seed=" + std::to_string(seed) + " cmd=" + hex + " stream=" + stream +
                  " write=" + std::to_string(write) + " event=" + std::to_string(index) + " ";
  // Variable-length filler so that records differ in size (as real events do).
  const std::size_t filler = key % 160;
  for (std::size_t i = 0; i < filler; ++i) {
    event.payload.push_back(static_cast<char>('a' + (key >> (i % 59)) % 26));
  }
  return event;
}

inline AppendRequest build_request(const CommandSpec& spec, std::uint64_t seed) {
  AppendRequest request;
  request.command_id = spec.id;
  for (std::size_t w = 0; w < spec.writes.size(); ++w) {
    StreamWrite write;
    write.stream = spec.writes[w].stream;
    write.expected = spec.writes[w].expected;
    for (std::size_t e = 0; e < spec.events_per_stream; ++e) {
      write.events.push_back(expected_event(spec, seed, w, e));
    }
    request.writes.push_back(std::move(write));
  }
  return request;
}

// "crash-1,crash-4@7,crash-9@-": no suffix is any(), "@-" no_stream(), "@+" stream_exists(),
// "@<n>" exact(n).
inline std::string format_writes(const std::vector<WriteSpec>& writes) {
  std::string out;
  for (const WriteSpec& w : writes) {
    if (!out.empty()) out.push_back(',');
    out += w.stream;
    switch (w.expected.kind) {
      case ExpectedVersion::Kind::kAny: break;
      case ExpectedVersion::Kind::kNoStream: out += "@-"; break;
      case ExpectedVersion::Kind::kStreamExists: out += "@+"; break;
      case ExpectedVersion::Kind::kExact: out += "@" + std::to_string(w.expected.version); break;
    }
  }
  return out;
}

inline std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

inline std::optional<std::vector<WriteSpec>> parse_writes(std::string_view text) {
  std::vector<WriteSpec> writes;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    WriteSpec w;
    const std::size_t at = item.find('@');
    w.stream = std::string(item.substr(0, at));
    if (w.stream.empty()) return std::nullopt;
    if (at != std::string_view::npos) {
      std::string_view ev = item.substr(at + 1);
      if (ev == "-") {
        w.expected = ExpectedVersion::no_stream();
      } else if (ev == "+") {
        w.expected = ExpectedVersion::stream_exists();
      } else if (auto v = parse_u64(ev)) {
        w.expected = ExpectedVersion::exact(*v);
      } else {
        return std::nullopt;
      }
    }
    writes.push_back(std::move(w));
  }
  if (writes.empty()) return std::nullopt;
  return writes;
}

}  // namespace portal::eventstore::crash
