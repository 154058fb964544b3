// The embedded event store on RocksDB. The on-disk layout is in rocksdb_layout.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "portal/eventstore/event_store.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class FileSystem;
}  // namespace rocksdb

namespace portal::eventstore {

enum class Durability : std::uint8_t {
  kSync,      // an acknowledged append is fsynced: survives power loss
  kBuffered,  // written to the WAL without fsync: survives a process crash
};

struct RocksDbOptions {
  Durability durability = Durability::kSync;
  bool create_if_missing = true;
  // Open read-only (no appends; for tools on a stopped store).
  bool read_only = false;
  // Most bytes of envelopes one group commit writes in a single WriteBatch.
  std::size_t max_group_bytes = 4u << 20;
  std::size_t block_cache_bytes = 64u << 20;
  std::size_t row_cache_bytes = 64u << 20;
  // Sync durability: most bytes of zeros kept written and synced ahead of the
  // write-ahead log, so that its syncs overwrite blocks already on disk instead
  // of growing the file (a journal commit each). Only a log past 256 KiB is
  // filled, by a background thread, and a log closed normally is cut back.
  // 0 turns it off (do so on copy-on-write file systems such as btrfs or zfs,
  // where an overwrite allocates anew and the zeros gain nothing).
  std::size_t log_prefill_bytes = 32u << 20;
  // UTC microseconds; injectable for tests. Default: the system clock.
  std::function<std::int64_t()> clock;
  // The file system RocksDB reads and writes through; injectable for tests (a
  // full disk, failing syncs). Default: the local one.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

class RocksDbEventStore final : public EventStore {
 public:
  static Result<std::unique_ptr<RocksDbEventStore>> open(const std::string& dir,
                                                         const RocksDbOptions& options = {});
  ~RocksDbEventStore() override;

  Result<AppendResult> append(const AppendRequest& request) override;
  Result<std::vector<RecordedEvent>> read_stream(std::string_view stream, Direction direction,
                                                 std::uint64_t from_version, std::size_t max_count) override;
  Result<std::vector<RecordedEvent>> read_all(std::uint64_t from_position, std::size_t max_count) override;
  Result<std::optional<AppendResult>> find_command(const CommandId& command_id) override;
  Result<std::optional<std::uint64_t>> stream_head(std::string_view stream) override;
  std::uint64_t last_position() const override;
  Status health() const override;
  Status write_snapshot(std::string_view stream, std::uint64_t version, std::string_view bytes) override;
  Result<std::optional<Snapshot>> read_snapshot(std::string_view stream) override;
  Result<std::unique_ptr<Subscription>> subscribe(std::uint64_t from_position,
                                                  SubscriptionHandler handler) override;
  Status close() override;

  // Visits up to max_count records from from_position without copying them into
  // RecordedEvents; the view is valid only during the call. Stops early when
  // visit returns false. Used by bulk readers (projection rebuilds, verify).
  struct RecordView;
  Status scan_all(std::uint64_t from_position, std::size_t max_count,
                  const std::function<bool(const RecordView&)>& visit);

  // Number of group commits (one WriteBatch each; in sync durability one sync
  // covers one or more of them) since open.
  std::uint64_t group_commits() const;
  // Number of syncs of the log (sync durability) since open: concurrent appends
  // that wait for the same sync share it, so under load there are fewer syncs
  // than appends.
  std::uint64_t syncs() const;
  // Bytes of zeros written ahead of the write-ahead log since open (see
  // RocksDbOptions::log_prefill_bytes).
  std::uint64_t log_prefilled_bytes() const;

  // The RocksDB instance, for modules that keep their own column families next to
  // the log (projections). Never write to the store's own families.
  rocksdb::DB* db();

 private:
  struct Impl;
  explicit RocksDbEventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A verified record as stored, borrowed for the duration of a scan_all callback.
struct RocksDbEventStore::RecordView {
  std::uint64_t position;
  std::string_view stream;
  std::uint64_t version;
  std::string_view type;
  std::uint32_t type_code;
  std::int64_t recorded_at_us;
  std::string_view metadata;
  std::string_view payload;
  std::string_view envelope;  // the whole stored value (envelope + checksum)
  CommandId command_id;
};

}  // namespace portal::eventstore
