// Leader/follower group commit, after RocksDB's WriteThread.
//
// Every appending thread joins the queue. A thread that finds no leader becomes
// the leader at once and commits the waiting writers (itself first) as one group:
// one WriteBatch. Threads arriving meanwhile queue up. As soon as the group is
// written the leader hands leadership to the first waiting writer, so the next
// group is decided and written while this one is being synced; once durable, the
// group is released (by its leader, or by the thread that synced it: see
// RocksDbEventStore's make_durable). An uncontended append runs on its own thread
// with no hand-off; under contention one sync covers every group written during
// the previous one. A leader does not wait for its batch to grow: a group written
// early is synced early.
//
// Writers queue in batches: a batch is the group the next leader will commit, so a
// writer knows its group as soon as it joins. Its first writer waits to lead it;
// the others sleep on one word the batch shares, and the leader wakes them all
// with a single notify (one futex wake for the group instead of one per writer).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace portal::eventstore {

class GroupCommitQueue {
 public:
  struct Batch;
  struct Writer {
    std::size_t bytes = 0;  // what this writer adds to a group's WriteBatch
    std::atomic<std::uint32_t> lead{0};  // set to 1 when this writer must lead its batch
    std::shared_ptr<Batch> batch;        // the batch it joined (kept alive by its writers)
  };

  explicit GroupCommitQueue(std::size_t max_group_bytes) : max_group_bytes_(max_group_bytes) {}

  // Returns when the writer is done (an empty group: another leader committed it)
  // or when it leads (the group to commit, starting with the writer itself; at
  // least one writer, at most max_group_bytes unless one writer alone is larger).
  std::vector<Writer*> join(Writer& writer);

  // Called by the leader once its group is written: the first writer of the next
  // batch (if any) leads it.
  void hand_off();

  // Called once a group is final (durable, or failed): wakes the followers, whose
  // results are set. By the leader, or by the thread that synced for it.
  static void release(const std::vector<Writer*>& group);

  // A leader that leaves its group's sync to another thread sleeps here until
  // that thread calls settled() on the group's batch (after release()).
  static void wait_until_settled(Writer& leader);
  static void settled(Batch& batch);

 private:
  // The new leader takes its batch (under mu_).
  std::vector<Writer*> take_batch();

  const std::size_t max_group_bytes_;
  std::mutex mu_;
  std::deque<std::shared_ptr<Batch>> full_;  // batches closed by max_group_bytes, oldest first
  std::shared_ptr<Batch> open_;              // the batch new writers join
  bool leader_active_ = false;
};

struct GroupCommitQueue::Batch {
  std::vector<Writer*> writers;  // writers[0] leads
  std::size_t bytes = 0;
  std::atomic<std::uint32_t> done{0};     // set to 1 when the followers' results are final
  std::atomic<std::uint32_t> settled{0};  // set to 1 when the leader may return (see above)
};

}  // namespace portal::eventstore
