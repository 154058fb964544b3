// Leader/follower group commit, after RocksDB's WriteThread.
//
// Every appending thread joins the queue. A thread that finds no leader becomes
// the leader at once and commits the waiting writers (itself first) as one group:
// one WriteBatch. Threads arriving meanwhile queue up. As soon as the group is
// written the leader hands leadership to the first waiting writer, so the next
// group is decided and written while this one is being synced; once durable, the
// leader releases its followers. An uncontended append runs on its own thread
// with no hand-off; under contention one sync covers everyone who arrived during
// the previous one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace portal::eventstore {

class GroupCommitQueue {
 public:
  struct Writer {
    std::size_t bytes = 0;  // what this writer adds to a group's WriteBatch
    // Each writer sleeps on its own mutex so that waking a group never convoys
    // on the queue's mutex.
    std::mutex mu;
    std::condition_variable cv;
    enum class State { kWaiting, kLead, kDone } state = State::kWaiting;
  };

  explicit GroupCommitQueue(std::size_t max_group_bytes) : max_group_bytes_(max_group_bytes) {}

  // Returns when the writer is done (an empty group: another leader committed it)
  // or when it leads (the group to commit, starting with the writer itself; at
  // least one writer, at most max_group_bytes unless one writer alone is larger).
  std::vector<Writer*> join(Writer& writer);

  // Called by the leader once its group is written: the first waiting writer
  // (if any) leads the next group. write_time: how long the group's write took.
  void hand_off(std::chrono::nanoseconds write_time);

  // Called by the former leader once its group is final (durable, or failed):
  // wakes the followers, whose results are set.
  static void release(const std::vector<Writer*>& group);

 private:
  // The new leader's group. Under contention a group's followers are woken while
  // the next group forms, and come back just too late for it: groups would split
  // into two cohorts, each paying a full sync. So a leader waits a short while
  // (a quarter of the last write, never long next to the sync it saves) for the
  // queue to reach the size of recent groups.
  std::vector<Writer*> gather_group(std::unique_lock<std::mutex>& lock);

  const std::size_t max_group_bytes_;
  std::mutex mu_;
  std::deque<Writer*> queue_;
  bool leader_active_ = false;
  std::size_t expected_group_ = 1;            // guarded by mu_
  std::chrono::nanoseconds gather_window_{};  // guarded by mu_
};

}  // namespace portal::eventstore
