#include "portal/eventstore/rocksdb_event_store.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "envelope.h"
#include "group_commit.h"
#include "portal/eventstore/rocksdb_layout.h"
#include "subscription.h"
#include "wal_files.h"

namespace portal::eventstore {

namespace {

// Most heads kept in memory before the cache is dropped and refilled from disk.
constexpr std::size_t kHeadCacheLimit = 1u << 20;

class NoAutoRecovery final : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "NoAutoRecovery"; }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

Status from_rocksdb(const rocksdb::Status& s, std::string_view what) {
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::corruption(msg);
  if (s.IsNoSpace()) return Status::io_error(msg + " (disk full: free space, then reopen the store)");
  if (s.IsIOError()) return Status::io_error(msg);
  if (s.IsInvalidArgument()) return Status::invalid_argument(msg);
  if (s.IsNotFound()) return Status::not_found(msg);
  if (s.IsShutdownInProgress()) return Status::unavailable(msg);
  return Status::io_error(msg);
}

Status different_content(const CommandId& id) {
  return Status::failed_precondition(
      "command " + id.to_hex() +
      " was already committed with different content; use a new command id for a "
      "new command");
}

std::int64_t system_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The stream part of a `streams` key (name and its 0x00). Each stream's versions
// arrive in increasing order, so RocksDB keeps an insert hint per stream and
// appends next to the previous version instead of searching the whole memtable.
class StreamPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "portal.StreamPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* zero = std::memchr(key.data(), '\0', key.size());
    return {key.data(), static_cast<std::size_t>(static_cast<const char*>(zero) - key.data()) + 1};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

// A leader's WriteBatch keeps its buffer for the next group up to this size.
constexpr std::size_t kKeptBatchBytes = 1u << 20;

// Events in a read_log_range call from which it reads around the block cache.
constexpr std::uint64_t kLongRange = 4096;

struct Family {
  enum : std::size_t { kDefault, kLog, kStreams, kCommands, kSnapshots, kCount };
};

// One append as it travels through group commit.
struct PendingAppend : GroupCommitQueue::Writer {
  const AppendRequest* request = nullptr;
  std::vector<std::vector<std::string>> envelopes;  // [write][event], prepared
  std::optional<Result<AppendResult>> result;
  // Refused with a wrong expected version: the log's last position written before
  // its group, which the refusal waits to be visible (see settle_group; a head
  // written earlier in the same group is covered by that append's own result).
  std::uint64_t refused_at = 0;
  // Set when an earlier append of the same group carries the same command id.
  PendingAppend* same_command_as = nullptr;
};

}  // namespace

// Lets maps keyed by std::string be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The visible head of recently read or written streams, with the position of that
// head's event, so that stream_head() is a lookup instead of an iterator seek. The
// leader records every head it writes before the write can become visible, so an
// entry whose position is visible is the head; a reader fills in a stream it read
// from the index only if no write recorded it meanwhile (and the map was not
// cleared meanwhile: the epoch).
class VisibleHeads {
 public:
  static constexpr std::size_t kLimit = 1u << 18;

  // The head if known and visible at `visible`; else nullopt and the epoch to
  // pass to fill().
  std::optional<std::uint64_t> find(std::string_view stream, std::uint64_t visible, std::uint64_t* epoch) {
    std::lock_guard lock(mu_);
    *epoch = epoch_;
    auto it = heads_.find(stream);
    if (it == heads_.end() || it->second.position > visible) return std::nullopt;
    return it->second.version;
  }

  void fill(std::string_view stream, std::uint64_t version, std::uint64_t position, std::uint64_t epoch) {
    std::lock_guard lock(mu_);
    if (epoch != epoch_ || heads_.size() >= kLimit) return;
    heads_.emplace(std::string(stream), Head{version, position});
  }

  // Leader only, after its WriteBatch is written and before it is published.
  void record(const std::string& stream, std::uint64_t version, std::uint64_t position) {
    std::lock_guard lock(mu_);
    if (heads_.size() >= kLimit && !heads_.count(stream)) {
      heads_.clear();
      ++epoch_;
    }
    heads_.insert_or_assign(stream, Head{version, position});
  }

 private:
  struct Head {
    std::uint64_t version;
    std::uint64_t position;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Head, StringHash, std::equal_to<>> heads_;
  std::uint64_t epoch_ = 0;
};

struct RocksDbEventStore::Impl {
  RocksDbOptions options;
  std::string dir;
  // Sync durability: the file system of the WAL files (zeros ahead, fail-stop; see
  // wal_files.h); the Env over it or over RocksDbOptions::file_system (both
  // outlive the database).
  std::shared_ptr<WalFileSystem> wal_files;
  std::unique_ptr<rocksdb::Env> env;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;

  GroupCommitQueue queue;
  PositionNotifier notifier;
  std::unique_ptr<SubscriptionRegistry> subscriptions;

  // Every operation holds `lifetime` shared; close() takes it exclusively after
  // setting `closed`, so the database is never closed under a running operation.
  std::atomic<bool> closed{false};
  std::shared_mutex lifetime;
  std::mutex close_mu;
  // Readers see positions up to committed_position: in sync mode only what is
  // fsynced, so nothing that a power loss could take back is ever observed.
  std::atomic<std::uint64_t> committed_position{0};

  // Sync coordination: one fsync at a time covers every write made before it.
  // A leader whose group needs a sync while none runs syncs on its own thread (an
  // uncontended append has no hand-off). If one is running, it queues its group
  // and sleeps; whoever finishes a sync settles every queued group it covered (the
  // leader and all followers woken at once), and the sync thread takes over while
  // groups keep queuing. That thread sleeps between bursts, so the scheduler lets
  // it run as soon as a sync is due, ahead of the many writers.
  std::mutex sync_mu;
  std::uint64_t written_position = 0;  // guarded by sync_mu
  std::uint64_t synced_position = 0;   // guarded by sync_mu
  bool sync_running = false;           // guarded by sync_mu
  struct AwaitingSync {
    std::shared_ptr<GroupCommitQueue::Batch> batch;  // the group: batch->writers
    std::uint64_t needed = 0;                        // its last position
  };
  std::vector<AwaitingSync> awaiting_sync;  // guarded by sync_mu
  std::thread sync_thread;                  // started on first need; guarded by sync_mu
  std::condition_variable sync_thread_cv;
  bool sync_thread_wanted = false;  // guarded by sync_mu
  bool sync_thread_stop = false;    // guarded by sync_mu
  // Sticky: once a write or a sync of the log failed, the store refuses appends
  // and syncs no more. RocksDB's log writer must not be used after a failed
  // write (Debian's build asserts on it), and what it holds is unknown.
  Status sync_failure;  // guarded by sync_mu
  std::atomic<std::uint64_t> group_commits{0};
  std::atomic<std::uint64_t> syncs{0};

  // Leader-only state: touched only by the thread leading the current group, and
  // handed from leader to leader through the queue's mutex.
  std::uint64_t next_position = 1;
  std::int64_t last_recorded_at = 0;
  std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>> head_cache;
  VisibleHeads visible_heads;
  // Within write_group: the heads its earlier appends wrote (keys view the
  // requests' stream names), the batch and the appends it accepted.
  std::unordered_map<std::string_view, std::uint64_t> pending_heads;
  rocksdb::WriteBatch leader_batch;
  std::vector<PendingAppend*> leader_accepted;

  explicit Impl(const RocksDbOptions& o) : options(o), queue(o.max_group_bytes) {}

  rocksdb::ColumnFamilyHandle* family(std::size_t f) const { return cf[f]; }

  std::int64_t now_us() const { return options.clock ? options.clock() : system_clock_us(); }

  Status recover_tail();
  // visible_only: the head as readers may see it (events up to committed_position);
  // otherwise as written, which is what the leader decides on.
  // *position (when given): the log position of the head's event.
  Result<std::optional<std::uint64_t>> read_head(std::string_view stream, bool visible_only,
                                                 std::uint64_t* position = nullptr);
  // The committed command's original result (deduplicated set), or nullopt.
  // as_leader: sees what the group-commit leader sees (written, maybe not yet
  // synced). Otherwise a command whose events are not yet visible reads as
  // unknown: its append has not been acknowledged and may still fail.
  // resubmitted (with same): a request carrying the id again; *same tells whether
  // it writes the events the command wrote (envelope::same_writes).
  Result<std::optional<AppendResult>> load_command(const CommandId& id, bool as_leader,
                                                   const AppendRequest* resubmitted = nullptr,
                                                   bool* same = nullptr);
  // The head as written, after the current group's earlier appends.
  Result<std::optional<std::uint64_t>> leader_head(const std::string& stream);
  // A write of the log (an append group's, a snapshot's) failed with `s`: an I/O
  // error leaves the store refusing appends until it is reopened.
  void write_failed(const rocksdb::Status& s);
  // Leader only: decides and writes the group; returns the last position written
  // (0: nothing written).
  std::uint64_t write_group(const std::vector<GroupCommitQueue::Writer*>& group);
  // After hand-off: waits until the group is durable (sync mode), publishes it,
  // and settles every writer's result.
  void settle_group(const std::vector<GroupCommitQueue::Writer*>& group, std::uint64_t last_written);
  // Returns once the group's appends are durable or their sync failed. True when
  // another thread synced and settled the group (results set, followers released).
  bool make_durable(const std::vector<GroupCommitQueue::Writer*>& group, std::uint64_t needed);
  // One sync of everything written so far, then the queued groups it covers are
  // settled. Called and returns with `lock` (sync_mu) held; sync_running is set.
  void sync_once(std::unique_lock<std::mutex>& lock);
  void sync_thread_main();
  void publish(std::uint64_t position);
  Status check_open() const {
    if (closed.load()) return Status::unavailable("event store is closed");
    return Status::ok_status();
  }
  // lock=false for callers already holding `lifetime` (the leader, find_command).
  Status read_log_range(std::uint64_t from, std::size_t max,
                        const std::function<Status(std::uint64_t, std::string_view)>& visit, bool lock = true,
                        std::uint64_t through = 0);
};

Status RocksDbEventStore::Impl::recover_tail() {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), family(Family::kLog)));
  it->SeekToLast();
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading the end of the log");
  if (!it->Valid()) return Status::ok_status();
  if (it->key().size() != 8)
    return Status::corruption("log key of " + std::to_string(it->key().size()) + " bytes");
  std::uint64_t last = layout::get_u64_be(it->key().ToStringView());
  next_position = last + 1;
  committed_position.store(last);
  written_position = synced_position = last;
  // recorded-at never decreases: start from the newest timestamp that verifies.
  // A corrupt tail record is reported when read, not here.
  for (int i = 0; i < 16 && it->Valid(); ++i, it->Prev()) {
    RecordView v;
    if (envelope::view(layout::get_u64_be(it->key().ToStringView()), it->value().ToStringView(), v).ok()) {
      last_recorded_at = v.recorded_at_us;
      break;
    }
  }
  return Status::ok_status();
}

// A stream's head is its last index entry: no separate key is written for it.
// A stream that does not exist yet (a command's new ids) is the common miss: its
// version 0 is looked up first, a point lookup that the family's Bloom filters
// answer, instead of an iterator over every level. Every stream starts at
// version 0 and index entries are never deleted.
Result<std::optional<std::uint64_t>> RocksDbEventStore::Impl::read_head(std::string_view stream,
                                                                        bool visible_only,
                                                                        std::uint64_t* position) {
  const std::uint64_t visible = committed_position.load(std::memory_order_acquire);
  {
    rocksdb::PinnableSlice first;
    auto s = db->Get(rocksdb::ReadOptions(), family(Family::kStreams), layout::stream_key(stream, 0), &first);
    if (s.IsNotFound()) return std::optional<std::uint64_t>();
    if (!s.ok()) return from_rocksdb(s, "reading the head of stream '" + std::string(stream) + "'");
  }
  std::string prefix = layout::stream_prefix(stream);
  std::string upper = prefix;
  upper.back() = '\x01';
  rocksdb::Slice lower_slice(prefix), upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, family(Family::kStreams)));
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    if (it->key().size() != prefix.size() + 8 || it->value().size() != 8) {
      return Status::corruption("index entry of stream '" + std::string(stream) + "' is malformed");
    }
    const std::uint64_t at = layout::get_u64_be(it->value().ToStringView());
    if (visible_only && at > visible) continue;
    if (position != nullptr) *position = at;
    return std::optional<std::uint64_t>(layout::get_u64_be(it->key().ToStringView().substr(prefix.size())));
  }
  if (!it->status().ok()) {
    return from_rocksdb(it->status(), "reading the head of stream '" + std::string(stream) + "'");
  }
  return std::optional<std::uint64_t>();
}

Result<std::optional<AppendResult>> RocksDbEventStore::Impl::load_command(const CommandId& id, bool as_leader,
                                                                          const AppendRequest* resubmitted,
                                                                          bool* same) {
  std::string stored;
  auto s = db->Get(rocksdb::ReadOptions(), family(Family::kCommands),
                   rocksdb::Slice(reinterpret_cast<const char*>(id.bytes.data()), 16), &stored);
  if (s.IsNotFound()) return std::optional<AppendResult>();
  if (!s.ok()) return from_rocksdb(s, "looking up command " + id.to_hex());
  AppendResult result;
  std::optional<envelope::CommandDigest> legacy_digest;
  if (auto d = envelope::decode_command(id, stored, result, legacy_digest); !d.ok()) return d;
  const std::uint64_t through =
      as_leader ? next_position - 1 : committed_position.load(std::memory_order_acquire);
  if (result.last_position > through) {
    if (!as_leader) return std::optional<AppendResult>();
    return Status::corruption("command record " + id.to_hex() + " points past the end of the log (position " +
                              std::to_string(result.last_position) + ")");
  }
  // Per-stream results come from the command's own events: its writes occupy
  // first..last in request order, each stream's events consecutive. A
  // re-submission is compared with them event by event, in the same order.
  const bool compare = resubmitted != nullptr && !legacy_digest;
  std::size_t write = 0, event = 0;  // the re-submission's next event
  bool all_same = true;
  auto st = read_log_range(
      result.first_position, result.last_position - result.first_position + 1,
      [&](std::uint64_t position, std::string_view value) {
        RecordView v;
        if (auto e = envelope::view(position, value, v); !e.ok()) return e;
        if (result.streams.empty() || result.streams.back().stream != v.stream) {
          result.streams.push_back(StreamAppendResult{std::string(v.stream), v.version, v.version, position});
        } else {
          result.streams.back().last_version = v.version;
        }
        if (compare && all_same) {
          const auto& writes = resubmitted->writes;
          if (write == writes.size()) {
            all_same = false;  // the command wrote more events
            return Status::ok_status();
          }
          auto holds =
              envelope::holds_event(position, value, writes[write].stream, writes[write].events[event]);
          if (!holds.ok()) return holds.status();
          all_same = holds.value();
          if (++event == writes[write].events.size()) {
            ++write;
            event = 0;
          }
        }
        return Status::ok_status();
      },
      /*lock=*/false, through);
  if (!st.ok()) return st;
  if (same != nullptr && resubmitted != nullptr) {
    *same = legacy_digest ? *legacy_digest == envelope::request_digest(*resubmitted)
                          : all_same && write == resubmitted->writes.size();
  }
  result.deduplicated = true;
  return std::optional<AppendResult>(std::move(result));
}

Result<std::optional<std::uint64_t>> RocksDbEventStore::Impl::leader_head(const std::string& stream) {
  if (auto p = pending_heads.find(stream); p != pending_heads.end()) {
    return std::optional<std::uint64_t>(p->second);
  }
  if (auto c = head_cache.find(stream); c != head_cache.end()) return std::optional<std::uint64_t>(c->second);
  auto head = read_head(stream, /*visible_only=*/false);
  if (head.ok() && head->has_value()) {
    if (head_cache.size() >= kHeadCacheLimit) head_cache.clear();
    head_cache.emplace(stream, **head);
  }
  return head;
}

// Decides every append of the group in queue order, as if they ran one after the
// other, and writes the accepted ones in one WriteBatch with one sync.
std::uint64_t RocksDbEventStore::Impl::write_group(const std::vector<GroupCommitQueue::Writer*>& group) {
  // Leader-only buffers, reused from group to group.
  rocksdb::WriteBatch& batch = leader_batch;
  batch.Clear();
  pending_heads.clear();
  std::vector<PendingAppend*>& accepted = leader_accepted;
  accepted.clear();
  std::uint64_t position = next_position;
  const std::int64_t recorded_at = std::max(now_us(), last_recorded_at);

  for (auto* writer : group) {
    auto* w = static_cast<PendingAppend*>(writer);
    const AppendRequest& req = *w->request;

    // Exactly-once: the same command earlier in this group, or already committed.
    auto earlier = std::find_if(accepted.begin(), accepted.end(),
                                [&](PendingAppend* a) { return a->request->command_id == req.command_id; });
    if (earlier != accepted.end()) {
      w->same_command_as = *earlier;
      continue;
    }
    bool same = false;
    auto committed = load_command(req.command_id, /*as_leader=*/true, &req, &same);
    if (!committed.ok()) {
      w->result.emplace(committed.status());
      continue;
    }
    if (committed->has_value()) {
      if (!same) {
        w->result.emplace(different_content(req.command_id));
      } else {
        w->result.emplace(std::move(**committed));
      }
      continue;
    }

    // Optimistic concurrency: every write and check against the heads as they
    // stand after the group's earlier appends.
    Status verdict;
    std::vector<std::optional<std::uint64_t>> heads(req.writes.size());
    auto check = [&](const std::string& stream, const ExpectedVersion& expected,
                     std::optional<std::uint64_t>* head_out) -> Status {
      auto head = leader_head(stream);
      if (!head.ok()) return head.status();
      if (!expected.matches(*head)) {
        return Status::wrong_expected_version("stream '" + stream + "' expected version " +
                                              expected.to_string() + ", actual " +
                                              (head->has_value() ? std::to_string(**head) : "no stream"));
      }
      if (head_out != nullptr) *head_out = *head;
      return Status::ok_status();
    };
    for (std::size_t i = 0; i < req.writes.size() && verdict.ok(); ++i) {
      verdict = check(req.writes[i].stream, req.writes[i].expected, &heads[i]);
    }
    for (std::size_t i = 0; i < req.checks.size() && verdict.ok(); ++i) {
      verdict = check(req.checks[i].stream, req.checks[i].expected, nullptr);
    }
    if (!verdict.ok()) {
      if (verdict.code() == StatusCode::kWrongExpectedVersion) w->refused_at = next_position - 1;
      w->result.emplace(std::move(verdict));
      continue;
    }

    AppendResult result;
    result.first_position = position;
    result.recorded_at_us = recorded_at;
    for (std::size_t i = 0; i < req.writes.size(); ++i) {
      const StreamWrite& write = req.writes[i];
      StreamAppendResult sr{write.stream, heads[i] ? *heads[i] + 1 : 0, 0, position};
      std::uint64_t version = sr.first_version;
      for (auto& env : w->envelopes[i]) {
        envelope::stamp(env, position, version, recorded_at);
        std::string key = layout::log_key(position);
        batch.Put(family(Family::kLog), key, env);
        batch.Put(family(Family::kStreams), layout::stream_key(write.stream, version), key);
        ++position;
        ++version;
      }
      sr.last_version = version - 1;
      pending_heads[write.stream] = sr.last_version;
      result.streams.push_back(std::move(sr));
    }
    result.last_position = position - 1;
    batch.Put(family(Family::kCommands),
              rocksdb::Slice(reinterpret_cast<const char*>(req.command_id.bytes.data()), 16),
              envelope::encode_command(result));
    w->result.emplace(std::move(result));
    accepted.push_back(w);
  }
  if (accepted.empty()) return 0;

  // The WAL is written without sync here; settle_group() syncs outside the
  // leadership, so the next group is decided and written meanwhile.
  auto s = db->Write(rocksdb::WriteOptions(), &batch);
  group_commits.fetch_add(1, std::memory_order_relaxed);
  if (batch.GetDataSize() > kKeptBatchBytes)
    batch = rocksdb::WriteBatch();  // give back a large group's buffer
  if (!s.ok()) {
    Status failed = from_rocksdb(s, "writing " + std::to_string(accepted.size()) + " append(s)");
    for (auto* a : accepted) a->result.emplace(failed);
    write_failed(s);
    return 0;
  }
  next_position = position;
  last_recorded_at = recorded_at;
  for (const auto& [stream, head] : pending_heads) {
    if (auto c = head_cache.find(stream); c != head_cache.end()) {
      c->second = head;
      continue;
    }
    if (head_cache.size() >= kHeadCacheLimit) head_cache.clear();
    head_cache.emplace(std::string(stream), head);
  }
  // In queue order, so a stream written twice in the group ends at its last head.
  for (const PendingAppend* a : accepted) {
    for (const StreamAppendResult& sr : a->result->value().streams) {
      visible_heads.record(sr.stream, sr.last_version, sr.first_position + (sr.last_version - sr.first_version));
    }
  }
  {
    std::lock_guard lock(sync_mu);
    written_position = position - 1;
  }
  if (options.durability == Durability::kBuffered) publish(position - 1);
  return position - 1;
}

void RocksDbEventStore::Impl::write_failed(const rocksdb::Status& s) {
  if (!s.IsIOError()) return;
  std::lock_guard lock(sync_mu);
  if (sync_failure.ok()) {
    sync_failure =
        from_rocksdb(s,
                     "writing the log failed, so the store takes no more appends until it is reopened; "
                     "the outcome of the appends in flight is unknown: re-submit them with the same "
                     "command ids after reopening");
  }
}

void RocksDbEventStore::Impl::publish(std::uint64_t position) {
  std::uint64_t seen = committed_position.load(std::memory_order_acquire);
  while (seen < position &&
         !committed_position.compare_exchange_weak(seen, position, std::memory_order_acq_rel)) {
  }
  notifier.publish(committed_position.load(std::memory_order_acquire));
}

namespace {

Status sync_failed(const rocksdb::Status& s) {
  return from_rocksdb(s,
                      "syncing the log to disk; the outcome of the appends in flight is unknown: "
                      "reopen the store and re-submit them with the same command ids");
}

// A failed sync fails every append of the group that had succeeded so far.
void fail_group(const std::vector<GroupCommitQueue::Writer*>& group, const Status& status) {
  for (auto* writer : group) {
    auto* w = static_cast<PendingAppend*>(writer);
    if (w->result->ok()) w->result.emplace(status);
  }
}

}  // namespace

bool RocksDbEventStore::Impl::make_durable(const std::vector<GroupCommitQueue::Writer*>& group,
                                           std::uint64_t needed) {
  std::unique_lock lock(sync_mu);
  if (synced_position < needed && sync_failure.ok()) {
    if (sync_running) {
      awaiting_sync.push_back({group.front()->batch, needed});
      lock.unlock();
      GroupCommitQueue::wait_until_settled(*group.front());
      return true;
    }
    sync_running = true;
    sync_once(lock);
    if (!awaiting_sync.empty()) {
      // Groups queued during this sync: the sync thread syncs for them.
      if (!sync_thread.joinable()) sync_thread = std::thread([this] { sync_thread_main(); });
      sync_thread_wanted = true;
      sync_thread_cv.notify_one();
    } else {
      sync_running = false;
    }
  }
  if (!sync_failure.ok()) {
    fail_group(group, sync_failure);
  } else {
    const std::uint64_t visible = synced_position;
    lock.unlock();
    publish(visible);
  }
  return false;
}

void RocksDbEventStore::Impl::sync_once(std::unique_lock<std::mutex>& lock) {
  const std::uint64_t target = written_position;
  lock.unlock();
  // A failed write of the log never reaches RocksDB's log writer in sync mode: the
  // WAL files fail-stop and report it here (wal_files.h).
  auto s = db->SyncWAL();
  syncs.fetch_add(1, std::memory_order_relaxed);
  lock.lock();
  if (s.ok()) {
    synced_position = std::max(synced_position, target);
  } else if (sync_failure.ok()) {
    sync_failure = sync_failed(s);
  }
  std::vector<AwaitingSync> covered;
  std::erase_if(awaiting_sync, [&](AwaitingSync& a) {
    if (sync_failure.ok() && a.needed > synced_position) return false;
    covered.push_back(std::move(a));
    return true;
  });
  const Status failure = sync_failure;
  const std::uint64_t visible = synced_position;
  lock.unlock();
  // Nothing is acknowledged before readers can see it.
  if (failure.ok()) publish(visible);
  for (AwaitingSync& a : covered) {
    if (!failure.ok()) fail_group(a.batch->writers, failure);
    GroupCommitQueue::release(a.batch->writers);
    GroupCommitQueue::settled(*a.batch);  // last: the leader may return at once
  }
  lock.lock();
}

void RocksDbEventStore::Impl::sync_thread_main() {
  std::unique_lock lock(sync_mu);
  for (;;) {
    sync_thread_cv.wait(lock, [&] { return sync_thread_wanted || sync_thread_stop; });
    if (!sync_thread_wanted) return;
    sync_thread_wanted = false;
    while (!awaiting_sync.empty()) sync_once(lock);
    sync_running = false;
  }
}

void RocksDbEventStore::Impl::settle_group(const std::vector<GroupCommitQueue::Writer*>& group,
                                           std::uint64_t last_written) {
  for (auto* writer : group) {
    auto* w = static_cast<PendingAppend*>(writer);
    if (w->same_command_as == nullptr) continue;
    const auto& first = *w->same_command_as;
    if (!first.result->ok()) {
      w->result.emplace(first.result->status());
    } else if (!envelope::same_writes(*first.request, *w->request)) {
      w->result.emplace(different_content(w->request->command_id));
    } else {
      AppendResult copy = first.result->value();
      copy.deduplicated = true;
      w->result.emplace(std::move(copy));
    }
  }
  // Nothing is acknowledged before it is durable: neither this group's appends nor
  // a re-submission answered with a twin's result that is still being synced.
  // Nor is a refusal returned before the head it names is visible: a caller that
  // re-reads the head after a wrong expected version (in sync mode, only synced
  // heads are visible) then sees it, instead of retrying on the stale head again
  // and again until the sync lands.
  std::uint64_t needed = last_written;
  for (auto* writer : group) {
    auto* w = static_cast<PendingAppend*>(writer);
    if (w->result->ok()) needed = std::max(needed, w->result->value().last_position);
    needed = std::max(needed, w->refused_at);
  }
  if (needed > 0 && options.durability == Durability::kSync && make_durable(group, needed)) return;
  GroupCommitQueue::release(group);
}

Status RocksDbEventStore::Impl::read_log_range(
    std::uint64_t from, std::size_t max, const std::function<Status(std::uint64_t, std::string_view)>& visit,
    bool lock, std::uint64_t through) {
  std::shared_lock alive(lifetime, std::defer_lock);
  if (lock) {
    alive.lock();
    if (auto s = check_open(); !s.ok()) return s;
  }
  from = std::max<std::uint64_t>(from, 1);
  const std::uint64_t last = through != 0 ? through : committed_position.load(std::memory_order_acquire);
  if (from > last || max == 0) return Status::ok_status();
  const std::uint64_t end = from + std::min<std::uint64_t>(max, last - from + 1);  // exclusive
  // No iterate_upper_bound: the loop counts positions and stops at `end` itself,
  // which spares RocksDB a key comparison against the bound on every step.
  std::string lower = layout::log_key(from);
  rocksdb::ReadOptions ro;
  if (end - from >= kLongRange) {
    // A long range (a catch-up, a rebuild, a verify) passes through the block cache
    // once: caching its blocks would evict the hot ones, and costs more than the
    // read itself (about half the CPU of scanning a 1,000,000-event log here).
    ro.fill_cache = false;
    ro.readahead_size = 1 << 20;
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, family(Family::kLog)));
  std::uint64_t expect = from;
  for (it->Seek(lower); it->Valid(); ++expect) {
    std::uint64_t position = it->key().size() == 8 ? layout::get_u64_be(it->key().ToStringView()) : 0;
    if (position != expect) {
      return Status::corruption("log record at position " + std::to_string(expect) + " is missing");
    }
    if (auto s = visit(position, it->value().ToStringView()); !s.ok()) return s;
    if (expect + 1 == end) {
      ++expect;
      break;
    }
    it->Next();
  }
  if (!it->status().ok())
    return from_rocksdb(it->status(), "reading the log at position " + std::to_string(expect));
  if (expect != end)
    return Status::corruption("log record at position " + std::to_string(expect) + " is missing");
  return Status::ok_status();
}

RocksDbEventStore::RocksDbEventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RocksDbEventStore::~RocksDbEventStore() {
  (void)close();
}

Result<std::unique_ptr<RocksDbEventStore>> RocksDbEventStore::open(const std::string& dir,
                                                                   const RocksDbOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
    return Status::invalid_argument("'" + dir +
                                    "' exists and is not a directory; give an empty or store directory");
  }
  auto impl = std::make_unique<Impl>(options);
  impl->dir = dir;

  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.IncreaseParallelism(2);
  // Only the group-commit leader writes, so RocksDB's concurrent memtable inserts
  // buy nothing; turning them off allows hash memtables for the lookup families.
  db_options.allow_concurrent_memtable_write = false;
  // A failed write or sync makes the store refuse appends until it is reopened
  // (see write_failed). RocksDB's own recovery from a background error (a flush
  // onto a full disk) would retry flushes in the background meanwhile, each
  // failing one costing a second of close() later: it is turned off.
  db_options.listeners.push_back(std::make_shared<NoAutoRecovery>());
  // Stream reads fetch log records by position, one point lookup each: a row
  // cache answers repeated ones without touching SST blocks.
  db_options.row_cache = rocksdb::NewLRUCache(options.row_cache_bytes);
  std::shared_ptr<rocksdb::FileSystem> file_system =
      options.file_system ? options.file_system : rocksdb::FileSystem::Default();
  if (!options.read_only && options.durability == Durability::kSync) {
    WalFileSystem::Options wal;
    wal.max_ahead = options.log_prefill_bytes;
    impl->wal_files = std::make_shared<WalFileSystem>(file_system, wal);
    file_system = impl->wal_files;
  }
  if (file_system != rocksdb::FileSystem::Default()) {
    impl->env = rocksdb::NewCompositeEnv(file_system);
    db_options.env = impl->env.get();
  }

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // point_lookups: the family is read by whole key (commands always; streams
  // for read_head's test of a new stream's version 0), so its table files carry
  // whole-key Bloom filters.
  auto family_options = [&](bool point_lookups) {
    rocksdb::ColumnFamilyOptions cfo;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    if (point_lookups) {
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      table.whole_key_filtering = true;
    }
    cfo.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    return cfo;
  };
  rocksdb::ColumnFamilyOptions commands_options = family_options(true);
  // commands is only ever read by key: a hashed memtable makes its random-key
  // inserts and lookups O(1) instead of skiplist walks. A full memtable holds
  // about 600,000 command records; 2^18 buckets (2 MiB of pointers) keep the
  // chains about two long, where 2^16 made every new command's lookup walk
  // about nine cache-missing nodes (the suite's buffered ratio: about 3 % higher).
  commands_options.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(layout::kLookupPrefixBytes));
  commands_options.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(1u << 18));
  rocksdb::ColumnFamilyOptions streams_options = family_options(true);
  // streams is also scanned by prefix, so it keeps the skiplist memtable, with a
  // whole-key Bloom filter where a new stream's lookup would otherwise walk it.
  streams_options.memtable_whole_key_filtering = true;
  streams_options.memtable_prefix_bloom_size_ratio = 0.02;
  streams_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamPrefix>();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, family_options(false)},
      {layout::kLogFamily, family_options(false)},
      {layout::kStreamsFamily, streams_options},
      {layout::kCommandsFamily, commands_options},
      {layout::kSnapshotsFamily, family_options(false)},
  };
  // A read-only open cannot create a family, and a store last written before
  // snapshots existed has none: it then reads as having no snapshots.
  bool without_snapshots = false;
  if (options.read_only) {
    std::vector<std::string> names;
    if (rocksdb::DB::ListColumnFamilies(db_options, dir, &names).ok() &&
        std::find(names.begin(), names.end(), layout::kSnapshotsFamily) == names.end()) {
      descriptors.pop_back();
      without_snapshots = true;
    }
  }

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (options.read_only) {
    s = rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &impl->cf, &raw);
  } else {
    s = rocksdb::DB::Open(db_options, dir, descriptors, &impl->cf, &raw);
  }
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return Status::unavailable("event store at '" + dir + "' is in use by another process (" +
                                 s.ToString() + "); stop it or open read-only");
    }
    return from_rocksdb(s, "opening event store at '" + dir + "'");
  }
  impl->db.reset(raw);
  if (without_snapshots) impl->cf.push_back(nullptr);
  if (auto r = impl->recover_tail(); !r.ok()) {
    for (auto* h : impl->cf) impl->db->DestroyColumnFamilyHandle(h);
    impl->cf.clear();
    return r;
  }
  Impl* self = impl.get();
  impl->subscriptions = std::make_unique<SubscriptionRegistry>(
      [self](std::uint64_t from, std::size_t max) -> Result<std::vector<RecordedEvent>> {
        std::vector<RecordedEvent> out;
        envelope::EventBlocks blocks;
        auto st = self->read_log_range(from, max, [&](std::uint64_t position, std::string_view value) {
          out.emplace_back();
          auto decoded = envelope::decode(position, value, out.back(), blocks);
          if (!decoded.ok()) out.pop_back();
          return decoded;
        });
        // Deliver every good event before a bad record; the next read starts at
        // the bad one and ends the subscription with its error.
        if (!st.ok() && out.empty()) return st;
        return out;
      },
      impl->notifier);
  return std::unique_ptr<RocksDbEventStore>(new RocksDbEventStore(std::move(impl)));
}

Result<AppendResult> RocksDbEventStore::append(const AppendRequest& request) {
  std::shared_lock alive(impl_->lifetime);
  if (auto s = impl_->check_open(); !s.ok()) return s;
  if (impl_->options.read_only) {
    return Status::failed_precondition("event store was opened read-only; open it writable to append");
  }
  if (auto s = validate_request(request); !s.ok()) return s;
  {
    std::lock_guard lock(impl_->sync_mu);
    if (!impl_->sync_failure.ok()) return impl_->sync_failure;
  }

  // Encoding and hashing happen here, on the caller's thread, so the leader of a
  // group only patches positions and writes.
  PendingAppend w;
  w.request = &request;
  w.envelopes.resize(request.writes.size());
  for (std::size_t i = 0; i < request.writes.size(); ++i) {
    const auto& write = request.writes[i];
    w.envelopes[i].reserve(write.events.size());
    for (const auto& event : write.events) {
      w.envelopes[i].push_back(envelope::prepare(event, write.stream, request.command_id));
      w.bytes += w.envelopes[i].back().size() + 2 * write.stream.size() + 32;
    }
  }

  auto group = impl_->queue.join(w);
  if (!group.empty()) {
    std::uint64_t last_written = impl_->write_group(group);
    impl_->queue.hand_off();
    // After the hand-off: the next group is being written meanwhile.
    if (last_written > 0) {
      for (auto* writer : group) {
        auto* a = static_cast<PendingAppend*>(writer);
        if (a->same_command_as == nullptr && a->request->on_written && a->result->ok() &&
            !a->result->value().deduplicated) {
          a->request->on_written(a->result->value());
        }
      }
    }
    impl_->settle_group(group, last_written);
  }
  return std::move(*w.result);
}

Result<std::vector<RecordedEvent>> RocksDbEventStore::read_stream(std::string_view stream,
                                                                  Direction direction,
                                                                  std::uint64_t from_version,
                                                                  std::size_t max_count) {
  std::shared_lock alive(impl_->lifetime);
  if (auto s = impl_->check_open(); !s.ok()) return s;
  if (auto s = validate_stream_name(stream); !s.ok()) return s;
  std::vector<RecordedEvent> out;
  if (max_count == 0) return out;

  // The index gives the positions; the log gives the records.
  std::string prefix = layout::stream_prefix(stream);
  std::string lower = prefix, upper = prefix;
  upper.back() = '\x01';  // just past every "stream\0..." key
  rocksdb::Slice lower_slice(lower), upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->family(Family::kStreams)));
  std::vector<std::string> keys;
  std::vector<std::uint64_t> versions;
  std::string start = layout::stream_key(stream, from_version);
  if (direction == Direction::kForward) {
    it->Seek(start);
  } else {
    it->SeekForPrev(start);
  }
  // Events written but not yet durable (sync mode) are not visible yet.
  const std::uint64_t visible = impl_->committed_position.load(std::memory_order_acquire);
  while (it->Valid() && keys.size() < max_count) {
    if (it->key().size() != prefix.size() + 8 || it->value().size() != 8) {
      return Status::corruption("index entry of stream '" + std::string(stream) + "' is malformed");
    }
    if (layout::get_u64_be(it->value().ToStringView()) > visible) {
      if (direction == Direction::kForward) break;
      it->Prev();
      continue;
    }
    versions.push_back(layout::get_u64_be(it->key().ToStringView().substr(prefix.size())));
    keys.emplace_back(it->value().data(), 8);
    if (direction == Direction::kForward) {
      it->Next();
    } else {
      it->Prev();
    }
  }
  if (!it->status().ok())
    return from_rocksdb(it->status(), "reading the index of stream '" + std::string(stream) + "'");
  if (keys.empty()) return out;

  std::vector<rocksdb::Slice> key_slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->family(Family::kLog), key_slices.size(),
                      key_slices.data(), values.data(), statuses.data(),
                      /*sorted_input=*/direction == Direction::kForward);
  out.resize(keys.size());
  envelope::EventBlocks blocks;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::uint64_t position = layout::get_u64_be(keys[i]);
    if (statuses[i].IsNotFound()) {
      return Status::corruption("stream '" + std::string(stream) + "' version " +
                                std::to_string(versions[i]) + " points to position " +
                                std::to_string(position) + ", which is not in the log");
    }
    if (!statuses[i].ok()) return from_rocksdb(statuses[i], "reading position " + std::to_string(position));
    if (auto s = envelope::decode(position, values[i].ToStringView(), out[i], blocks); !s.ok()) return s;
    if (out[i].stream != stream || out[i].version != versions[i]) {
      return Status::corruption("log record at position " + std::to_string(position) + " is " +
                                std::string(out[i].stream) + "@" + std::to_string(out[i].version) +
                                " but the index says " + std::string(stream) + "@" +
                                std::to_string(versions[i]));
    }
  }
  return out;
}

Result<std::vector<RecordedEvent>> RocksDbEventStore::read_all(std::uint64_t from_position,
                                                               std::size_t max_count) {
  std::vector<RecordedEvent> out;
  out.reserve(std::min<std::size_t>(max_count, 4096));
  envelope::EventBlocks blocks;
  auto s =
      impl_->read_log_range(from_position, max_count, [&](std::uint64_t position, std::string_view value) {
        out.emplace_back();
        return envelope::decode(position, value, out.back(), blocks);
      });
  if (!s.ok()) return s;
  return out;
}

Status RocksDbEventStore::scan_all(std::uint64_t from_position, std::size_t max_count,
                                   const std::function<bool(const RecordView&)>& visit) {
  bool more = true;
  return impl_->read_log_range(from_position, max_count, [&](std::uint64_t position, std::string_view value) {
    if (!more) return Status::ok_status();
    RecordView v;
    if (auto s = envelope::view(position, value, v); !s.ok()) return s;
    more = visit(v);
    return Status::ok_status();
  });
}

Result<std::optional<AppendResult>> RocksDbEventStore::find_command(const CommandId& command_id) {
  std::shared_lock alive(impl_->lifetime);
  if (auto s = impl_->check_open(); !s.ok()) return s;
  return impl_->load_command(command_id, /*as_leader=*/false);
}

Result<std::optional<std::uint64_t>> RocksDbEventStore::stream_head(std::string_view stream) {
  std::shared_lock alive(impl_->lifetime);
  if (auto s = impl_->check_open(); !s.ok()) return s;
  if (auto s = validate_stream_name(stream); !s.ok()) return s;
  const std::uint64_t visible = impl_->committed_position.load(std::memory_order_acquire);
  std::uint64_t epoch = 0;
  if (auto known = impl_->visible_heads.find(stream, visible, &epoch)) return std::optional<std::uint64_t>(*known);
  std::uint64_t position = 0;
  auto head = impl_->read_head(stream, /*visible_only=*/true, &position);
  if (head.ok() && head->has_value()) impl_->visible_heads.fill(stream, **head, position, epoch);
  return head;
}

std::uint64_t RocksDbEventStore::last_position() const {
  return impl_->committed_position.load(std::memory_order_acquire);
}

// A plain unsynced Put beside the group-commit queue: a snapshot is a cache, so it
// never waits for a leader or a sync, and it fails rather than waits when RocksDB
// stalls writes.
Status RocksDbEventStore::write_snapshot(std::string_view stream, std::uint64_t version,
                                         std::string_view bytes) {
  std::shared_lock alive(impl_->lifetime);
  if (auto s = impl_->check_open(); !s.ok()) return s;
  if (impl_->options.read_only) {
    return Status::failed_precondition(
        "event store was opened read-only; open it writable to write snapshots");
  }
  if (auto s = validate_stream_name(stream); !s.ok()) return s;
  std::string value;
  value.reserve(8 + bytes.size() + layout::kChecksumBytes);
  layout::put_u64_be(value, version);
  value.append(bytes);
  layout::seal(value);
  rocksdb::WriteOptions wo;
  wo.no_slowdown = true;
  auto s = impl_->db->Put(wo, impl_->family(Family::kSnapshots), rocksdb::Slice(stream.data(), stream.size()),
                          value);
  if (!s.ok()) {
    impl_->write_failed(s);
    return from_rocksdb(s, "writing the snapshot of stream '" + std::string(stream) + "'");
  }
  return Status::ok_status();
}

Result<std::optional<Snapshot>> RocksDbEventStore::read_snapshot(std::string_view stream) {
  std::shared_lock alive(impl_->lifetime);
  if (auto s = impl_->check_open(); !s.ok()) return s;
  if (auto s = validate_stream_name(stream); !s.ok()) return s;
  rocksdb::ColumnFamilyHandle* snapshots = impl_->family(Family::kSnapshots);
  if (snapshots == nullptr) return std::optional<Snapshot>();
  rocksdb::PinnableSlice stored;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), snapshots, rocksdb::Slice(stream.data(), stream.size()),
                          &stored);
  if (s.IsNotFound()) return std::optional<Snapshot>();
  if (!s.ok()) return from_rocksdb(s, "reading the snapshot of stream '" + std::string(stream) + "'");
  std::string_view body;
  if (!layout::unseal(stored.ToStringView(), body) || body.size() < 8) {
    return Status::corruption("snapshot of stream '" + std::string(stream) + "' fails verification");
  }
  const std::uint64_t version = layout::get_u64_be(body);
  // Versions have no gaps, so a visible index entry at `version` means the
  // stream's visible head is at least there. A snapshot written ahead of what is
  // durable (or of what a crash kept) must not make the caller skip events.
  std::string position;
  s = impl_->db->Get(rocksdb::ReadOptions(), impl_->family(Family::kStreams),
                     layout::stream_key(stream, version), &position);
  if (s.IsNotFound()) return std::optional<Snapshot>();
  if (!s.ok()) return from_rocksdb(s, "reading the index of stream '" + std::string(stream) + "'");
  if (position.size() != 8) {
    return Status::corruption("index entry of stream '" + std::string(stream) + "' is malformed");
  }
  if (layout::get_u64_be(position) > impl_->committed_position.load(std::memory_order_acquire)) {
    return std::optional<Snapshot>();
  }
  return std::optional<Snapshot>(Snapshot{version, std::string(body.substr(8))});
}

Result<std::unique_ptr<Subscription>> RocksDbEventStore::subscribe(std::uint64_t from_position,
                                                                   SubscriptionHandler handler) {
  if (auto s = impl_->check_open(); !s.ok()) return s;
  if (!handler.on_event) return Status::invalid_argument("subscription handler has no on_event");
  return impl_->subscriptions->start(from_position, std::move(handler));
}

Status RocksDbEventStore::close() {
  std::lock_guard lock(impl_->close_mu);
  if (impl_->closed.exchange(true)) return Status::ok_status();
  // New operations now fail with Unavailable. Subscriptions stop first (their
  // handlers may still call into the store), then running operations finish.
  impl_->subscriptions->stop_all();
  std::unique_lock exclusive(impl_->lifetime);
  {
    // No append is running now, so no group waits for the sync thread.
    std::unique_lock sync_lock(impl_->sync_mu);
    impl_->sync_thread_stop = true;
    impl_->sync_thread_cv.notify_one();
    std::thread sync_thread = std::move(impl_->sync_thread);
    sync_lock.unlock();
    if (sync_thread.joinable()) sync_thread.join();
  }
  Status result;
  {
    std::lock_guard sync_lock(impl_->sync_mu);
    result = impl_->sync_failure;
  }
  // After a failed write or sync of the log, RocksDB's log writer must not be
  // used again: the next open recovers what reached the disk.
  if (!impl_->options.read_only && result.ok()) {
    if (auto s = impl_->db->FlushWAL(/*sync=*/true); !s.ok())
      result = from_rocksdb(s, "syncing the WAL on close");
    // Memtables to table files, so that the next open (a tool's read-only one
    // included) does not replay the whole WAL. Best effort: the WAL has it all.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    (void)impl_->db->Flush(flush, impl_->cf);
  }
  for (auto* h : impl_->cf) impl_->db->DestroyColumnFamilyHandle(h);
  impl_->cf.clear();
  if (auto s = impl_->db->Close(); !s.ok() && result.ok())
    result = from_rocksdb(s, "closing the event store");
  impl_->db.reset();
  return result;
}

std::uint64_t RocksDbEventStore::group_commits() const {
  return impl_->group_commits.load();
}

std::uint64_t RocksDbEventStore::syncs() const {
  return impl_->syncs.load();
}

Status RocksDbEventStore::health() const {
  if (auto s = impl_->check_open(); !s.ok()) return s;
  std::lock_guard lock(impl_->sync_mu);
  return impl_->sync_failure;
}

std::uint64_t RocksDbEventStore::log_prefilled_bytes() const {
  return impl_->wal_files ? impl_->wal_files->prefilled_bytes() : 0;
}

rocksdb::DB* RocksDbEventStore::db() {
  return impl_->db.get();
}

}  // namespace portal::eventstore
