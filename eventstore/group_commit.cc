#include "group_commit.h"

#include <algorithm>
#include <thread>

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
    std::unique_lock lock(mu_);
    queue_.push_back(&writer);
    if (!leader_active_) {
      leader_active_ = true;
      return gather_group(lock);
    }
  }
  {
    std::unique_lock lock(writer.mu);
    writer.cv.wait(lock, [&] { return writer.state != Writer::State::kWaiting; });
    if (writer.state == Writer::State::kDone) return {};
  }
  std::unique_lock lock(mu_);
  return gather_group(lock);
}

std::vector<GroupCommitQueue::Writer*> GroupCommitQueue::gather_group(std::unique_lock<std::mutex>& lock) {
  if (expected_group_ > 1 && queue_.size() < expected_group_) {
    const auto deadline = std::chrono::steady_clock::now() + gather_window_ / 4;
    while (queue_.size() < expected_group_ && std::chrono::steady_clock::now() < deadline) {
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
  }
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
  // Recent group sizes decay slowly, so one small group does not end gathering.
  expected_group_ = std::max(group.size(), expected_group_ - expected_group_ / 8);
  return group;
}

void GroupCommitQueue::hand_off(std::chrono::nanoseconds write_time) {
  std::lock_guard lock(mu_);
  gather_window_ = write_time;
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
