// The projection runner (DESIGN.md section 5): one pass over the log feeds every
// projection; each batch of rows is committed with the checkpoints in one
// WriteBatch. start() catches up from the checkpoints and then follows the live
// log; queries wait for a min_position with wait_for(). A projection that fails on
// an event stops there with an error naming the position and the reason; the
// others keep running.
//
// rebuild() builds new generations from position 0 while the serving ones keep
// serving and following the log, switches each in with one atomic write, and drops
// the old one. A rebuild killed half-way resumes from its last batch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "portal/eventstore/event_store.h"
#include "portal/projections/projection.h"
#include "portal/projections/projection_db.h"

namespace portal::projections {

struct RunnerOptions {
  // Events per batch: each projection's rows of a batch go in one WriteBatch with
  // its checkpoint. Fewer, larger batches make a rebuild cheaper per event (8,000
  // rebuilt about a fifth faster than 2,000; 32,000 was slower again).
  std::size_t batch_events = 8000;
  std::chrono::milliseconds idle_poll{2};  // how often a caught-up runner looks for new events
  // Memory, per projection that reads its rows, for the rows it has read or written
  // (kept between batches so that they are not read back from the database); past
  // it, the kept rows are forgotten after the batch.
  std::size_t row_cache_bytes = 64 << 20;
};

struct ProjectionStatus {
  std::string name;
  std::uint32_t version = 0;
  std::uint64_t generation = 0;
  std::uint64_t checkpoint = 0;        // last position folded in
  std::optional<std::string> failure;  // "position N (stream version V): reason"
};

// Progress of a long pass: events done out of total, events per second, seconds left.
struct Progress {
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  double rate = 0;
  double seconds_left = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

class Runner {
 public:
  // The runner owns the projections; store and db outlive it. Each projection
  // serves its generation in db (a first one is made for a new projection; a
  // serving generation of another version is replaced by a fresh one, built from 0).
  static eventstore::Result<std::unique_ptr<Runner>> create(
      eventstore::EventStore& store, ProjectionDb& db, std::vector<std::unique_ptr<Projection>> projections,
      RunnerOptions options = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Folds the log up to its last position (or up_to, if earlier) now, in the
  // caller's thread.
  eventstore::Status catch_up(const ProgressFn& progress = {}, std::optional<std::uint64_t> up_to = {});
  // Follows the log in a background thread until stop().
  void start();
  void stop();

  std::vector<ProjectionStatus> status() const;
  std::optional<ProjectionStatus> status(std::string_view name) const;
  // Counts the batches and generation switches made visible so far, each counted
  // once its rows and checkpoint are readable. An answer built from the rows after
  // reading count C reflects at least every change counted in C, so it may be
  // served again for as long as the count is still C (a response cache's key).
  std::uint64_t changes() const { return changes_.load(std::memory_order_acquire); }
  // Events the slowest running projection is behind the log.
  std::uint64_t lag() const;
  // Waits until `name` has folded min_position in. kNotFound: no such projection;
  // kFailedPrecondition: it has failed; kUnavailable: not reached within timeout.
  eventstore::Status wait_for(std::string_view name, std::uint64_t min_position,
                              std::chrono::milliseconds timeout) const;

  // Rebuilds the named projections (all when empty) into new generations, resuming
  // any rebuild a crash interrupted, and switches them in.
  eventstore::Status rebuild(const std::vector<std::string>& names, const ProgressFn& progress = {});

  ProjectionDb& db() { return db_; }

  struct Target;  // a projection and the generation it writes (opaque)
  class RowCache;  // rows a projection that reads its rows has seen (opaque)

 private:
  Runner(eventstore::EventStore& store, ProjectionDb& db, RunnerOptions options);
  struct Batch;
  class ReadAhead;
  // At most batch_events events from `from`, none after up_to.
  eventstore::Result<Batch> read_batch(std::uint64_t from, std::uint64_t up_to) const;
  // Folds up to batch_events events after the targets' lowest checkpoint into them,
  // taking them from `ahead` when given. Returns how many events were read.
  eventstore::Result<std::size_t> apply_batch(std::vector<Target*>& targets, std::uint64_t up_to,
                                              ReadAhead* ahead = nullptr);
  void follow();

  eventstore::EventStore& store_;
  ProjectionDb& db_;
  RunnerOptions options_;
  std::vector<std::unique_ptr<Projection>> projections_;
  std::vector<std::unique_ptr<Target>> serving_;

  mutable std::mutex apply_mu_;  // one batch at a time into the serving generations
  mutable std::mutex state_mu_;  // checkpoints and failures, for readers
  mutable std::condition_variable advanced_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> changes_{0};
  std::thread follower_;
  std::optional<eventstore::Status> follow_error_;
};

}  // namespace portal::projections
