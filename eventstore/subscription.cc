#include "subscription.h"

#include <algorithm>

namespace portal::eventstore {

namespace {
constexpr std::size_t kReadBatch = 512;
}

void PositionNotifier::publish(std::uint64_t position) {
  {
    std::lock_guard lock(mu_);
    position_ = position;
  }
  if (waiters_.load(std::memory_order_acquire) > 0) cv_.notify_all();
}

std::uint64_t PositionNotifier::wait_beyond(std::uint64_t seen, const std::atomic<bool>& stop) {
  std::unique_lock lock(mu_);
  std::uint64_t wakes = wakes_;
  waiters_.fetch_add(1, std::memory_order_acq_rel);
  cv_.wait(lock, [&] { return position_ > seen || wakes_ != wakes || stop.load(); });
  waiters_.fetch_sub(1, std::memory_order_acq_rel);
  return position_;
}

void PositionNotifier::wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

struct SubscriptionRegistry::State {
  SubscriptionHandler handler;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> position{0};
  std::thread thread;
  std::atomic<std::thread::id> self{};
  std::mutex join_mu;

  // Only reachable with a joinable thread when the last reference went away on the
  // subscription's own thread (stopped from inside its handler).
  ~State() {
    if (thread.joinable()) thread.detach();
  }

  void run(const LogReader& reader, PositionNotifier& notifier, std::uint64_t from) {
    self.store(std::this_thread::get_id());
    std::uint64_t next = std::max<std::uint64_t>(from, 1);
    bool caught_up = false;
    Status end;
    while (!stop.load()) {
      auto batch = reader(next, kReadBatch);
      if (!batch.ok()) {
        // A closed store ends the subscription normally; anything else is reported.
        if (batch.status().code() != StatusCode::kUnavailable) end = batch.status();
        break;
      }
      if (batch->empty()) {
        if (!caught_up) {
          caught_up = true;
          if (handler.on_caught_up) handler.on_caught_up(next - 1);
        }
        notifier.wait_beyond(next - 1, stop);
        continue;
      }
      for (const auto& event : *batch) {
        if (stop.load()) break;
        handler.on_event(event);
        position.store(event.position, std::memory_order_release);
        next = event.position + 1;
      }
    }
    if (handler.on_stop) handler.on_stop(end);
  }

  void stop_and_join(PositionNotifier& notifier) {
    stop.store(true);
    notifier.wake();
    // From inside its own handler: the loop ends when the handler returns.
    if (self.load() == std::this_thread::get_id()) return;
    std::lock_guard lock(join_mu);
    if (thread.joinable()) thread.join();
  }
};

namespace {

class SubscriptionHandle final : public Subscription {
 public:
  SubscriptionHandle(std::shared_ptr<SubscriptionRegistry::State> state, PositionNotifier& notifier)
      : state_(std::move(state)), notifier_(notifier) {}
  ~SubscriptionHandle() override { stop(); }
  void stop() override { state_->stop_and_join(notifier_); }
  std::uint64_t position() const override { return state_->position.load(std::memory_order_acquire); }

 private:
  std::shared_ptr<SubscriptionRegistry::State> state_;
  PositionNotifier& notifier_;
};

}  // namespace

std::unique_ptr<Subscription> SubscriptionRegistry::start(std::uint64_t from_position,
                                                          SubscriptionHandler handler) {
  auto state = std::make_shared<State>();
  state->handler = std::move(handler);
  {
    std::lock_guard lock(mu_);
    std::erase_if(running_, [](const std::weak_ptr<State>& w) { return w.expired(); });
    running_.push_back(state);
  }
  // The thread holds the state alive even if the handle is dropped mid-handler.
  std::lock_guard join_lock(state->join_mu);
  state->thread =
      std::thread([state, this, from_position] { state->run(reader_, notifier_, from_position); });
  return std::make_unique<SubscriptionHandle>(std::move(state), notifier_);
}

void SubscriptionRegistry::stop_all() {
  std::vector<std::shared_ptr<State>> states;
  {
    std::lock_guard lock(mu_);
    for (auto& w : running_)
      if (auto s = w.lock()) states.push_back(std::move(s));
    running_.clear();
  }
  for (auto& s : states) s->stop_and_join(notifier_);
}

}  // namespace portal::eventstore
