// The event store interface. Backends (RocksDB now, others later) implement it and
// run the same conformance suite (tests/eventstore/conformance_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "portal/eventstore/status.h"
#include "portal/eventstore/types.h"

namespace portal::eventstore {

struct SubscriptionHandler {
  // Called for every event from the subscription's start, in log order, once each.
  std::function<void(const RecordedEvent&)> on_event;
  // Called once, when the subscription has delivered every event that existed when
  // it caught up; live delivery follows. Optional.
  std::function<void(std::uint64_t position)> on_caught_up;
  // Called once when the subscription ends: OK after stop() or the store's close,
  // an error (Corruption, IOError) when reading the log failed. Optional.
  std::function<void(const Status&)> on_stop;
};

// A running subscription. Destroying it stops it.
class Subscription {
 public:
  virtual ~Subscription() = default;
  // Stops delivery and waits for the handler to return; idempotent. May be called
  // from inside the handler (it then returns without waiting for itself).
  virtual void stop() = 0;
  // Position of the last event handed to on_event (0: none yet).
  virtual std::uint64_t position() const = 0;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Appends every write of the request, or nothing. Errors: kInvalidArgument,
  // kWrongExpectedVersion (names the stream, expected and actual; returned once
  // that actual head is visible to stream_head and reads, so a caller that re-reads
  // and retries decides on it), kIOError,
  // kUnavailable; kFailedPrecondition when the command id already committed with
  // different content. A command id that already committed with the same content
  // returns its original result with `deduplicated` set and appends nothing.
  // The content of a command is the events it writes: the same streams in the
  // same order, each with the same events (type and code, ids, metadata,
  // payload; an event id left nil matches the one the store chose). Expected
  // versions and checks are the conditions it was decided under and are not
  // compared: a retry that re-read the heads meanwhile is still the same command.
  // kIOError means the outcome is unknown (the disk refused a write or a sync):
  // the store refuses further appends; reopen it and re-submit with the same
  // command id, which exactly-once makes safe.
  virtual Result<AppendResult> append(const AppendRequest& request) = 0;

  // Up to max_count events of one stream. Forward: versions from_version, +1, ...
  // Backward: from_version (kStreamEnd: the last event), -1, ... An unknown stream
  // reads as empty.
  virtual Result<std::vector<RecordedEvent>> read_stream(std::string_view stream, Direction direction,
                                                         std::uint64_t from_version,
                                                         std::size_t max_count) = 0;

  // Up to max_count events of the log from position from_position (1 is the first).
  virtual Result<std::vector<RecordedEvent>> read_all(std::uint64_t from_position, std::size_t max_count) = 0;

  // The result of a committed command (deduplicated set), or nullopt when the
  // command id has not committed.
  virtual Result<std::optional<AppendResult>> find_command(const CommandId& command_id) = 0;

  // Version of the stream's last event; nullopt when the stream has none.
  virtual Result<std::optional<std::uint64_t>> stream_head(std::string_view stream) = 0;

  // Position of the last committed event (0 for an empty log).
  virtual std::uint64_t last_position() const = 0;

  // OK while the store takes appends. Otherwise why not: kIOError once a write or
  // a sync of the log failed (until the store is reopened), kUnavailable once it
  // is closed. For health checks: appends return the same error.
  virtual Status health() const = 0;

  // Stores a snapshot of a stream at `version`, replacing the stream's previous one.
  // Not durable on its own and never ordered with appends: a snapshot may be lost
  // and must then be rebuilt by replaying. Errors: kInvalidArgument, kUnavailable,
  // kFailedPrecondition (read-only), kIOError.
  virtual Status write_snapshot(std::string_view stream, std::uint64_t version, std::string_view bytes) = 0;

  // The stream's latest snapshot, or nullopt when it has none or when its version
  // is past the stream's visible head (events not yet durable, or lost). A
  // snapshot that fails verification is kCorruption naming the stream: replay.
  virtual Result<std::optional<Snapshot>> read_snapshot(std::string_view stream) = 0;

  // Delivers every event from from_position on (catch-up), then new events as they
  // commit (live), with no gap and no duplicate across the switch. Handlers run on
  // the subscription's own thread; a slow handler never blocks appends.
  virtual Result<std::unique_ptr<Subscription>> subscribe(std::uint64_t from_position,
                                                          SubscriptionHandler handler) = 0;

  // Stops subscriptions, waits for in-flight appends and closes storage. Later calls
  // return kUnavailable. Idempotent.
  virtual Status close() = 0;
};

}  // namespace portal::eventstore
