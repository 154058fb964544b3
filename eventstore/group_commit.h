// Leader/follower group commit, after RocksDB's WriteThread.
//
// Every appending thread joins the queue. A thread that finds no leader becomes
// the leader at once and commits the waiting writers (itself first) as one group:
// one WriteBatch, one sync. Threads arriving meanwhile queue up; when the leader is
// done it marks its group done and hands leadership to the first waiting writer,
// whose group is everything that queued during the previous sync. So an
// uncontended append runs on its own thread with no hand-off, and under contention
// the sync cost is shared by everyone who arrived during the previous one.
#pragma once

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
    bool done = false;      // set under the queue's mutex by the leader that committed it
    bool lead = false;      // set when leadership is handed to this writer
    std::condition_variable cv;
  };

  explicit GroupCommitQueue(std::size_t max_group_bytes) : max_group_bytes_(max_group_bytes) {}

  // Returns when the writer is done (an empty group: another leader committed it)
  // or when it leads (the group to commit, starting with the writer itself; at
  // least one writer, at most max_group_bytes unless one writer alone is larger).
  std::vector<Writer*> join(Writer& writer);

  // Called by the leader after committing its group: wakes the followers and hands
  // leadership on.
  void finish(const std::vector<Writer*>& group);

 private:
  std::vector<Writer*> take_group();

  const std::size_t max_group_bytes_;
  std::mutex mu_;
  std::deque<Writer*> queue_;
  bool leader_active_ = false;
};

}  // namespace portal::eventstore
