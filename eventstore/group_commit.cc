#include "group_commit.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace portal::eventstore {

namespace {

// Sleeps until `word` is no longer 0. A plain futex: no spinning first (with many
// more writers than cores, spinning or yielding only takes the core from the
// leader), and one wake call for any number of sleepers.
void wait_while_zero(std::atomic<std::uint32_t>& word) {
  while (word.load(std::memory_order_acquire) == 0) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
  }
}

void set_and_wake(std::atomic<std::uint32_t>& word, int how_many) {
  word.store(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, how_many, nullptr, nullptr, 0);
}

}  // namespace

std::vector<GroupCommitQueue::Writer*> GroupCommitQueue::join(Writer& writer) {
  std::unique_lock lock(mu_);
  if (open_ == nullptr || (!open_->writers.empty() && open_->bytes + writer.bytes > max_group_bytes_)) {
    if (open_ != nullptr) full_.push_back(std::move(open_));
    open_ = std::make_shared<Batch>();
  }
  writer.batch = open_;
  open_->writers.push_back(&writer);
  open_->bytes += writer.bytes;
  if (!leader_active_) {
    // No leader means no writer was waiting: this one is alone in a fresh batch.
    leader_active_ = true;
    return take_batch();
  }
  const bool first = open_->writers.size() == 1;
  lock.unlock();
  if (first) {
    // Leadership arrives through hand_off(), which stores under mu_: the
    // writer cannot have left before the notify that follows the store.
    wait_while_zero(writer.lead);
    lock.lock();
    return take_batch();
  }
  wait_while_zero(writer.batch->done);
  return {};
}

std::vector<GroupCommitQueue::Writer*> GroupCommitQueue::take_batch() {
  // The leader is the first writer of the oldest batch: it either found no leader
  // (and so no batch waiting) or was handed leadership as that batch's first. It
  // does not wait for more writers: a group written early is synced early, and
  // the writers that come meanwhile make the next group, synced by the next sync.
  std::shared_ptr<Batch> batch;
  if (!full_.empty()) {
    batch = std::move(full_.front());
    full_.pop_front();
  } else {
    batch = std::move(open_);
  }
  return batch->writers;
}

void GroupCommitQueue::hand_off() {
  std::lock_guard lock(mu_);
  Batch* next = !full_.empty() ? full_.front().get() : open_.get();
  if (next == nullptr || next->writers.empty()) {
    leader_active_ = false;
  } else {
    Writer* w = next->writers.front();
    set_and_wake(w->lead, 1);
  }
}

void GroupCommitQueue::release(const std::vector<Writer*>& group) {
  if (group.size() < 2) return;
  // The leader's own reference keeps the batch alive through the notify, even if
  // every follower has already seen `done` and left.
  Batch& batch = *group.front()->batch;
  set_and_wake(batch.done, INT_MAX);
}

void GroupCommitQueue::wait_until_settled(Writer& leader) {
  wait_while_zero(leader.batch->settled);
}

void GroupCommitQueue::settled(Batch& batch) {
  set_and_wake(batch.settled, 1);
}

}  // namespace portal::eventstore
