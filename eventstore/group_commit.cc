#include "group_commit.h"

namespace portal::eventstore {

std::vector<GroupCommitQueue::Writer*> GroupCommitQueue::join(Writer& writer) {
  std::unique_lock lock(mu_);
  queue_.push_back(&writer);
  if (!leader_active_) {
    leader_active_ = true;
  } else {
    writer.cv.wait(lock, [&] { return writer.done || writer.lead; });
    if (writer.done) return {};
  }
  return take_group();
}

std::vector<GroupCommitQueue::Writer*> GroupCommitQueue::take_group() {
  // The leader is always at the front: it either found the queue without a leader
  // (and so empty of anyone ahead of it) or was handed leadership as the front.
  std::vector<Writer*> group;
  std::size_t bytes = 0;
  while (!queue_.empty()) {
    Writer* w = queue_.front();
    if (!group.empty() && bytes + w->bytes > max_group_bytes_) break;
    bytes += w->bytes;
    group.push_back(w);
    queue_.pop_front();
  }
  return group;
}

void GroupCommitQueue::finish(const std::vector<Writer*>& group) {
  std::lock_guard lock(mu_);
  // Notify while holding the mutex: a follower may return and destroy its
  // condition variable as soon as it can observe `done`.
  for (std::size_t i = 1; i < group.size(); ++i) {
    group[i]->done = true;
    group[i]->cv.notify_one();
  }
  group.front()->done = true;
  if (queue_.empty()) {
    leader_active_ = false;
  } else {
    queue_.front()->lead = true;
    queue_.front()->cv.notify_one();
  }
}

}  // namespace portal::eventstore
