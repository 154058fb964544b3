// The EventStore conformance suite: every guarantee of DESIGN.md section 3 that a
// backend must keep, written against the EventStore interface only. A backend runs
// it by instantiating the suite with a factory that opens its store in a directory:
//
//   INSTANTIATE_TEST_SUITE_P(MyBackend, EventStoreConformance,
//                            ::testing::Values(EventStoreFactory{"Name", open_fn}),
//                            EventStoreFactoryName());
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "portal/eventstore/event_store.h"
#include "portal/eventstore/types.h"

// How a backend opens a store for one test: `dir` is a fresh directory path that
// does not exist yet and belongs to that test alone. Returns nullptr (after
// reporting why with ADD_FAILURE) when the store cannot be opened.
struct EventStoreFactory {
  std::string name;
  std::function<std::unique_ptr<portal::eventstore::EventStore>(const std::string& dir)> open;
};

// gtest prints parameters of failing tests; without this it would dump raw bytes.
inline void PrintTo(const EventStoreFactory& factory, std::ostream* out) {
  *out << factory.name;
}

// Names instantiated tests after the factory: RocksDb/EventStoreConformance.X/Sync.
struct EventStoreFactoryName {
  std::string operator()(const ::testing::TestParamInfo<EventStoreFactory>& info) const {
    return info.param.name;
  }
};

namespace portal::eventstore::test {

// Generous: a deadline only turns a hang into a failure, it never measures speed.
inline constexpr std::chrono::seconds kWaitDeadline{10};

// A unique directory under the test temporary directory, removed with everything in
// it on destruction.
class ScopedTempDir {
 public:
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory (not created).
  std::string child(std::string_view name) const;

 private:
  std::string path_;
};

// Builders that keep requests short in tests. Payloads are distinct per event so a
// test can tell events apart after a round trip.
NewEvent make_event(std::string type = "ThingHappened", std::string payload = "payload",
                    std::string metadata = "metadata");
StreamWrite make_write(std::string stream, ExpectedVersion expected, std::size_t count = 1);
AppendRequest make_request(std::vector<StreamWrite> writes, std::vector<StreamCheck> checks = {});

// Collects what a subscription delivers, from the subscription's thread, and lets
// the test thread wait for it with a deadline.
class SubscriptionRecorder {
 public:
  // Handlers that record into this object; it must outlive the subscription.
  SubscriptionHandler handler();

  bool wait_for_events(std::size_t count, std::chrono::seconds deadline = kWaitDeadline);
  bool wait_for_caught_up(std::chrono::seconds deadline = kWaitDeadline);
  bool wait_for_stop(std::chrono::seconds deadline = kWaitDeadline);

  std::vector<RecordedEvent> events() const;
  std::vector<std::uint64_t> positions() const;
  // Arguments of every on_caught_up call.
  std::vector<std::uint64_t> caught_up_positions() const;
  // Number of events on_event had received when on_caught_up was first called.
  std::size_t events_before_caught_up() const;
  // Statuses of every on_stop call.
  std::vector<Status> stops() const;

 private:
  bool wait(std::chrono::seconds deadline, const std::function<bool()>& done);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<RecordedEvent> events_;
  std::vector<std::uint64_t> caught_up_;
  std::size_t events_before_caught_up_ = 0;
  std::vector<Status> stops_;
};

// Positions first, first + 1, ..., first + count - 1.
std::vector<std::uint64_t> position_range(std::uint64_t first, std::size_t count);

}  // namespace portal::eventstore::test

// Each test gets a fresh store in its own directory, closed and removed afterwards.
class EventStoreConformance : public ::testing::TestWithParam<EventStoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  portal::eventstore::EventStore& store() { return *store_; }

  // Appends and fails the test (returning an empty result) when the store refuses.
  portal::eventstore::AppendResult append_ok(const portal::eventstore::AppendRequest& request);
  // Appends `count` events to `stream` in one append (expected version Any).
  portal::eventstore::AppendResult seed(const std::string& stream, std::size_t count);
  std::vector<portal::eventstore::RecordedEvent> read_all_ok(std::uint64_t from_position,
                                                             std::size_t max_count);
  std::vector<portal::eventstore::RecordedEvent> read_stream_ok(std::string_view stream,
                                                                portal::eventstore::Direction direction,
                                                                std::uint64_t from_version,
                                                                std::size_t max_count);
  std::optional<std::uint64_t> head(std::string_view stream);

  std::unique_ptr<portal::eventstore::test::ScopedTempDir> temp_dir_;
  std::unique_ptr<portal::eventstore::EventStore> store_;
};
