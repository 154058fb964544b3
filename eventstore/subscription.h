// Catch-up-then-live subscriptions on any backend that can read the log forward
// and announce new commits.
//
// A subscription always reads from the log, also when live: after delivering the
// last committed event it waits for the store to announce a higher position and
// reads again from where it stopped. Catch-up and live are the same loop, so there
// is no switch-over at which an event could be missed or repeated, and appends
// only ever bump a counter and notify: a slow handler never holds them up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "portal/eventstore/event_store.h"

namespace portal::eventstore {

// The committed position, announced to waiters.
class PositionNotifier {
 public:
  void publish(std::uint64_t position);
  // Waits until the position exceeds `seen` or wake() is called; returns the
  // position then.
  std::uint64_t wait_beyond(std::uint64_t seen, const std::atomic<bool>& stop);
  void wake();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t position_ = 0;
  std::uint64_t wakes_ = 0;
  std::atomic<int> waiters_{0};
};

using LogReader = std::function<Result<std::vector<RecordedEvent>>(std::uint64_t from, std::size_t max)>;

// Owns the running subscriptions of one store so that close() can stop them all.
class SubscriptionRegistry {
 public:
  SubscriptionRegistry(LogReader reader, PositionNotifier& notifier)
      : reader_(std::move(reader)), notifier_(notifier) {}

  std::unique_ptr<Subscription> start(std::uint64_t from_position, SubscriptionHandler handler);
  // Stops and joins every subscription (on_stop gets OK).
  void stop_all();

  struct State;

 private:
  LogReader reader_;
  PositionNotifier& notifier_;
  std::mutex mu_;
  std::vector<std::weak_ptr<State>> running_;
};

}  // namespace portal::eventstore
