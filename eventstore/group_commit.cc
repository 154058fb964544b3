#include "group_commit.h"

namespace portal::eventstore {

namespace {
void signal(GroupCommitQueue::Writer& w, GroupCommitQueue::Writer::State state) {
  // Notify under the writer's mutex: it may return and destroy itself as soon as
  // it can observe the new state.
  std::lock_guard lock(w.mu);
  w.state = state;
  w.cv.notify_one();
}
}  // namespace

std::vector<GroupCommitQueue::Writer*> GroupCommitQueue::join(Writer& writer) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(&writer);
    if (!leader_active_) {
      leader_active_ = true;
      return take_group();
    }
  }
  {
    std::unique_lock lock(writer.mu);
    writer.cv.wait(lock, [&] { return writer.state != Writer::State::kWaiting; });
    if (writer.state == Writer::State::kDone) return {};
  }
  std::lock_guard lock(mu_);
  return take_group();
}

std::vector<GroupCommitQueue::Writer*> GroupCommitQueue::take_group() {
  // The leader is always at the front: it either found the queue without a leader
  // (and so nobody ahead of it) or was handed leadership as the front.
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

void GroupCommitQueue::hand_off() {
  std::lock_guard lock(mu_);
  if (queue_.empty()) {
    leader_active_ = false;
  } else {
    signal(*queue_.front(), Writer::State::kLead);
  }
}

void GroupCommitQueue::release(const std::vector<Writer*>& group) {
  for (std::size_t i = 1; i < group.size(); ++i) signal(*group[i], Writer::State::kDone);
}

}  // namespace portal::eventstore
