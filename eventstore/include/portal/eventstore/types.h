// The vocabulary of the event store: ids, expected versions, the events a caller
// appends, and the events the store hands back.
//
// The store knows nothing about the domain: event types are names plus numeric
// codes, metadata and payload are opaque bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portal/eventstore/status.h"

namespace portal::eventstore {

// A 16-byte identifier (command ids, event ids, correlation and causation ids).
struct Id16 {
  std::array<std::uint8_t, 16> bytes{};

  static Id16 random();                                       // RFC 4122 version 4
  static std::optional<Id16> from_hex(std::string_view hex);  // 32 hex digits, dashes allowed
  std::string to_hex() const;                                 // 32 lower-case hex digits
  bool is_nil() const;

  friend bool operator==(const Id16&, const Id16&) = default;
  friend auto operator<=>(const Id16&, const Id16&) = default;
};

using CommandId = Id16;
using EventId = Id16;

// Limits enforced on every append.
inline constexpr std::size_t kMaxStreamNameBytes = 200;
inline constexpr std::size_t kMaxEventTypeBytes = 128;
inline constexpr std::size_t kMaxEventBytes = 1u << 20;  // metadata + payload of one event

// What the caller believes about a stream's head when it appends or checks.
struct ExpectedVersion {
  enum class Kind : std::uint8_t { kAny, kNoStream, kStreamExists, kExact };

  Kind kind = Kind::kAny;
  std::uint64_t version = 0;  // only for kExact: the version of the stream's last event

  static constexpr ExpectedVersion any() { return {Kind::kAny, 0}; }
  static constexpr ExpectedVersion no_stream() { return {Kind::kNoStream, 0}; }
  static constexpr ExpectedVersion stream_exists() { return {Kind::kStreamExists, 0}; }
  static constexpr ExpectedVersion exact(std::uint64_t v) { return {Kind::kExact, v}; }
  // The expected version that matches a head read earlier (nullopt: no stream).
  static constexpr ExpectedVersion at(std::optional<std::uint64_t> head) {
    return head ? exact(*head) : no_stream();
  }

  // Whether a stream whose head is `head` (nullopt: no events) satisfies this.
  bool matches(std::optional<std::uint64_t> head) const;
  std::string to_string() const;  // "any", "no stream", "stream exists", "3"

  friend bool operator==(const ExpectedVersion&, const ExpectedVersion&) = default;
};

struct NewEvent {
  std::string type;             // e.g. "ProviderInvited"
  std::uint32_t type_code = 0;  // e.g. 1800; 0 when the type has no numeric code
  EventId event_id;             // nil: the store assigns a random one
  Id16 correlation_id;
  Id16 causation_id;
  std::string metadata;  // opaque bytes (the domain's actor record)
  std::string payload;   // opaque bytes (the domain's event record)
};

struct StreamWrite {
  std::string stream;
  ExpectedVersion expected;
  std::vector<NewEvent> events;  // at least one
};

// A stream the request only reads: its version must still be `expected` when the
// append commits, or nothing is appended.
struct StreamCheck {
  std::string stream;
  ExpectedVersion expected;
};

struct AppendResult;

struct AppendRequest {
  CommandId command_id;  // required, not nil: the exactly-once key
  std::vector<StreamWrite> writes;
  std::vector<StreamCheck> checks;
  // Optional. Called once the append is written: its versions are taken, so the
  // version checks of later appends see them, but it is not yet durable nor (in
  // sync mode) visible to readers. A caller that serializes its own writers of a
  // stream can let the next one go from here instead of after the sync, so that
  // consecutive appends to one stream share group commits. Called from the thread
  // that wrote the group (not necessarily the caller's), before append() returns;
  // never for an append that is refused, fails to write or is deduplicated. It must
  // be short and must not call the store.
  std::function<void(const AppendResult&)> on_written;
};

struct StreamAppendResult {
  std::string stream;
  std::uint64_t first_version = 0;
  std::uint64_t last_version = 0;
  std::uint64_t first_position = 0;  // the write's events sit at consecutive positions

  friend bool operator==(const StreamAppendResult&, const StreamAppendResult&) = default;
};

struct AppendResult {
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;
  std::int64_t recorded_at_us = 0;
  std::vector<StreamAppendResult> streams;  // in the order of the request's writes
  // True when the command id had already committed and this is its original result.
  bool deduplicated = false;

  friend bool operator==(const AppendResult& a, const AppendResult& b) {
    return a.first_position == b.first_position && a.last_position == b.last_position &&
           a.recorded_at_us == b.recorded_at_us && a.streams == b.streams;
  }
};

// An event as a read hands it back.
//
// The four variable-length fields are views into bytes the event owns together
// with the other events of the same read: `storage` shares a block of at most
// 64 KiB (or one event's size, when larger) that holds their copies, so a page of
// a thousand events costs a handful of allocations instead of thousands. Copying
// the event shares the block; the views stay valid as long as some event that
// shares it lives. An event kept for long keeps its whole block: copy the fields
// out (std::string(e.payload)) to keep one event from a large read.
struct RecordedEvent {
  std::uint64_t position = 0;
  std::string_view stream;
  std::uint64_t version = 0;
  std::string_view type;
  std::uint32_t type_code = 0;
  std::int64_t recorded_at_us = 0;  // UTC microseconds, never decreasing along the log
  EventId event_id;
  CommandId command_id;
  Id16 correlation_id;
  Id16 causation_id;
  std::string_view metadata;
  std::string_view payload;
  std::shared_ptr<const void> storage;  // owns the bytes the views above point into
};

// A stream's state as the layer above folded it up to `version`, in that layer's
// own encoding. A cache beside the log, never part of it: losing one costs a replay.
struct Snapshot {
  std::uint64_t version = 0;  // the last event folded into `bytes`
  std::string bytes;
};

enum class Direction : std::uint8_t { kForward, kBackward };

// from_version for a backward read that starts at the stream's last event.
inline constexpr std::uint64_t kStreamEnd = std::numeric_limits<std::uint64_t>::max();

// Checks a stream name: `category-id`, where category is [a-z][a-z0-9_]* and id is
// one or more of [A-Za-z0-9.:-], at most kMaxStreamNameBytes in all.
Status validate_stream_name(std::string_view stream);

// Checks everything about a request that does not depend on the store's state.
Status validate_request(const AppendRequest& request);

}  // namespace portal::eventstore
