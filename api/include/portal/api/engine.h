// portal::Engine: the embedding surface. Commands in, outcomes out; exactly-once
// per command id. Aggregates come from an in-memory cache that follows this
// engine's appends: commands trust it (their appends' expected versions catch a
// stale entry), queries use an entry only if it is at its stream's head. A cold
// load starts from the stream's snapshot, if any, and folds the events after it;
// provider and organization streams get a fresh snapshot every snapshot_every
// events.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "portal/domain/decide.h"
#include "portal/domain/error.h"
#include "portal/eventstore/event_store.h"
#include "portal/eventstore/rocksdb_event_store.h"
#include "portal/projections/projection_db.h"
#include "portal/projections/runner.h"

namespace portal {

struct EngineOptions {
  eventstore::Durability durability = eventstore::Durability::kSync;
  // Sync durability: zeros kept written ahead of the event store's write-ahead log
  // (eventstore::RocksDbOptions::log_prefill_bytes). 0 on copy-on-write file
  // systems (btrfs, zfs), where they gain nothing.
  std::size_t log_prefill_bytes = eventstore::RocksDbOptions{}.log_prefill_bytes;
  // The file system under the event store (eventstore::RocksDbOptions::file_system):
  // RocksDB's default when unset.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // UTC microseconds; injectable for tests (token expiry without sleeping).
  std::function<std::int64_t()> clock;
  // Aggregates kept in memory.
  std::size_t cache_entries = 100'000;
  // A provider or organization snapshot is written (best effort, after an append or
  // a cold load) once the stream has this many events its last snapshot does not
  // cover. 0: never. A cold load replays at most this many events after the
  // snapshot: 32 rather than 64 took the median cold load of a 1,000-event provider
  // from about 310 to 260 us; a small aggregate's snapshot is about a KiB.
  std::uint64_t snapshot_every = 32;
  // Attempts on a wrong expected version before answering kAborted.
  int max_attempts = 10;
  // Run the read models (projections::portal_projections(): provider directory,
  // organization console and vault view, audit log, administration history) in a
  // background thread: catch up from their checkpoints, then follow the log.
  bool projections = true;
};

struct CommandResult {
  eventstore::CommandId command_id;
  std::uint64_t first_position = 0;  // 0 when the command recorded nothing
  std::uint64_t last_position = 0;
  bool deduplicated = false;  // the command id had committed before: original outcome
  std::vector<domain::Uuid> created_ids;
  std::vector<domain::ItemResult> items;
  std::vector<std::string> tokens;  // shown once per execution; re-derived on re-submission
};

// An item as an actor may see it.
struct ItemView {
  domain::ItemState item;
  domain::ItemRights rights;
};

class Engine {
 public:
  static domain::Expected<std::unique_ptr<Engine>> open(const std::string& dir,
                                                        const EngineOptions& options = {});
  ~Engine();

  // Runs a command as the actor. command_id: the caller's exactly-once key; a
  // random one when absent. Errors: the domain's refusals, kAborted after
  // max_attempts conflicts, kUnavailable, kDataLoss.
  domain::Expected<CommandResult> execute(const domain::Command& command, const domain::Actor& actor,
                                          std::optional<eventstore::CommandId> command_id = std::nullopt);

  // Current state of an aggregate (nullopt: no such stream).
  domain::Expected<std::optional<domain::ProviderState>> provider(const domain::ProviderId& id);
  domain::Expected<std::optional<domain::OrganizationState>> organization(const domain::OrganizationId& id);
  domain::Expected<std::optional<domain::UserState>> user(const domain::UserId& id);
  domain::Expected<std::optional<domain::ItemState>> item(const domain::ItemId& id);

  // Reads on behalf of an actor, under the domain's visibility rules: an item by
  // domain::item_rights, an organization's console by domain::may_view_organization.
  // What the actor may not see is kNotFound (or kPermissionDenied where the domain
  // says so), exactly as a command on it would be.
  domain::Expected<ItemView> read_item(const domain::ItemId& id, const domain::Actor& actor);
  domain::Expected<domain::OrganizationState> read_organization(const domain::OrganizationId& id,
                                                                const domain::Actor& actor);
  domain::Expected<domain::ProviderState> read_provider(const domain::ProviderId& id, const domain::Actor& actor);
  // Runs a domain read rule (domain::may_view_provider, may_read_organization_events,
  // ...) on the current states.
  domain::Expected<bool> authorize(const std::function<domain::Expected<bool>(domain::StateReader&)>& rule);

  eventstore::EventStore& store();

  // Aggregate snapshots written since open (EngineOptions::snapshot_every).
  std::uint64_t snapshots_written() const;
  // Aggregates loaded from the store (their snapshot and the events after it) since
  // open, because the cache did not hold them. Callers that need a stream while it
  // is being loaded wait for that load instead of starting their own.
  std::uint64_t cold_loads() const;

  // The read models, in data-dir/projections. runner() is nullptr when
  // EngineOptions::projections is off.
  projections::ProjectionDb& projection_db();
  projections::Runner* runner();
  // Read-your-writes: waits (at most timeout) until projection `name` has folded
  // in min_position, the last_position of a command's result. kUnavailable when
  // it has not in time, kFailedPrecondition when the projection has stopped on an
  // error (the message names the position and the reason).
  domain::Expected<bool> wait_for_projection(std::string_view name, std::uint64_t min_position,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The same for every read model the engine runs (each within the timeout).
  domain::Expected<bool> wait_for_projections(std::uint64_t min_position,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void close();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace portal
