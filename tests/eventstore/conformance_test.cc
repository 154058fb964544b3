// The EventStore conformance suite (see conformance_test.h). Only the interface is
// used here, so a later backend runs the very same tests.
#include "conformance_test.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <latch>
#include <thread>
#include <utility>

namespace portal::eventstore::test {

ScopedTempDir::ScopedTempDir() {
  std::string pattern = (std::filesystem::path(::testing::TempDir()) / "portal-eventstore-XXXXXX").string();
  // mkdtemp makes the name unique across concurrently running test processes.
  if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
  path_ = pattern;
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ScopedTempDir::child(std::string_view name) const {
  return (std::filesystem::path(path_) / name).string();
}

NewEvent make_event(std::string type, std::string payload, std::string metadata) {
  NewEvent event;
  event.type = std::move(type);
  event.type_code = 1800;
  event.payload = std::move(payload);
  event.metadata = std::move(metadata);
  return event;
}

StreamWrite make_write(std::string stream, ExpectedVersion expected, std::size_t count) {
  StreamWrite write{std::move(stream), expected, {}};
  for (std::size_t i = 0; i < count; ++i) {
    write.events.push_back(make_event("ThingHappened", write.stream + " event " + std::to_string(i)));
  }
  return write;
}

AppendRequest make_request(std::vector<StreamWrite> writes, std::vector<StreamCheck> checks) {
  return AppendRequest{Id16::random(), std::move(writes), std::move(checks), {}};
}

SubscriptionHandler SubscriptionRecorder::handler() {
  SubscriptionHandler handler;
  handler.on_event = [this](const RecordedEvent& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
    changed_.notify_all();
  };
  handler.on_caught_up = [this](std::uint64_t position) {
    std::lock_guard lock(mutex_);
    if (caught_up_.empty()) events_before_caught_up_ = events_.size();
    caught_up_.push_back(position);
    changed_.notify_all();
  };
  handler.on_stop = [this](const Status& status) {
    std::lock_guard lock(mutex_);
    stops_.push_back(status);
    changed_.notify_all();
  };
  return handler;
}

bool SubscriptionRecorder::wait(std::chrono::seconds deadline, const std::function<bool()>& done) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, deadline, done);
}

bool SubscriptionRecorder::wait_for_events(std::size_t count, std::chrono::seconds deadline) {
  return wait(deadline, [&] { return events_.size() >= count; });
}

bool SubscriptionRecorder::wait_for_caught_up(std::chrono::seconds deadline) {
  return wait(deadline, [&] { return !caught_up_.empty(); });
}

bool SubscriptionRecorder::wait_for_stop(std::chrono::seconds deadline) {
  return wait(deadline, [&] { return !stops_.empty(); });
}

std::vector<RecordedEvent> SubscriptionRecorder::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<std::uint64_t> SubscriptionRecorder::positions() const {
  std::lock_guard lock(mutex_);
  std::vector<std::uint64_t> positions;
  for (const auto& event : events_) positions.push_back(event.position);
  return positions;
}

std::vector<std::uint64_t> SubscriptionRecorder::caught_up_positions() const {
  std::lock_guard lock(mutex_);
  return caught_up_;
}

std::size_t SubscriptionRecorder::events_before_caught_up() const {
  std::lock_guard lock(mutex_);
  return events_before_caught_up_;
}

std::vector<Status> SubscriptionRecorder::stops() const {
  std::lock_guard lock(mutex_);
  return stops_;
}

std::vector<std::uint64_t> position_range(std::uint64_t first, std::size_t count) {
  std::vector<std::uint64_t> positions;
  for (std::size_t i = 0; i < count; ++i) positions.push_back(first + i);
  return positions;
}

}  // namespace portal::eventstore::test

using namespace portal::eventstore;        // NOLINT(google-build-using-namespace)
using namespace portal::eventstore::test;  // NOLINT(google-build-using-namespace)
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

void EventStoreConformance::SetUp() {
  temp_dir_ = std::make_unique<ScopedTempDir>();
  store_ = GetParam().open(temp_dir_->child("store"));
  ASSERT_NE(store_, nullptr) << "backend " << GetParam().name << " could not open a store";
}

void EventStoreConformance::TearDown() {
  if (store_) {
    Status closed = store_->close();
    EXPECT_TRUE(closed.ok()) << closed.to_string();
    store_.reset();
  }
  temp_dir_.reset();
}

AppendResult EventStoreConformance::append_ok(const AppendRequest& request) {
  auto result = store_->append(request);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? *result : AppendResult{};
}

AppendResult EventStoreConformance::seed(const std::string& stream, std::size_t count) {
  return append_ok(make_request({make_write(stream, ExpectedVersion::any(), count)}));
}

std::vector<RecordedEvent> EventStoreConformance::read_all_ok(std::uint64_t from_position,
                                                              std::size_t max_count) {
  auto result = store_->read_all(from_position, max_count);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? *result : std::vector<RecordedEvent>{};
}

std::vector<RecordedEvent> EventStoreConformance::read_stream_ok(std::string_view stream, Direction direction,
                                                                 std::uint64_t from_version,
                                                                 std::size_t max_count) {
  auto result = store_->read_stream(stream, direction, from_version, max_count);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? *result : std::vector<RecordedEvent>{};
}

std::optional<std::uint64_t> EventStoreConformance::head(std::string_view stream) {
  auto result = store_->stream_head(stream);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? *result : std::nullopt;
}

namespace {

std::vector<std::uint64_t> positions_of(const std::vector<RecordedEvent>& events) {
  std::vector<std::uint64_t> positions;
  for (const auto& event : events) positions.push_back(event.position);
  return positions;
}

std::vector<std::uint64_t> versions_of(const std::vector<RecordedEvent>& events) {
  std::vector<std::uint64_t> versions;
  for (const auto& event : events) versions.push_back(event.version);
  return versions;
}

// Every byte value, NULs included, so that no layer may treat the bytes as a C string.
std::string all_byte_values() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += std::string("\0\0tail\0", 7);
  return bytes;
}

// ----------------------------------------------------------------------------------
// Appends, positions and versions

TEST_P(EventStoreConformance, EmptyStoreHasNothing) {
  EXPECT_EQ(store().last_position(), 0u);
  EXPECT_THAT(read_all_ok(0, 10), IsEmpty());
  EXPECT_THAT(read_all_ok(1, 10), IsEmpty());
  EXPECT_EQ(head("provider-abc"), std::nullopt);
}

TEST_P(EventStoreConformance, AppendToNewStreamAssignsPositionsFromOneAndVersionsFromZero) {
  AppendRequest request = make_request({make_write("provider-abc", ExpectedVersion::no_stream(), 3)});
  AppendResult result = append_ok(request);

  EXPECT_EQ(result.first_position, 1u);
  EXPECT_EQ(result.last_position, 3u);
  EXPECT_FALSE(result.deduplicated);
  ASSERT_EQ(result.streams.size(), 1u);
  EXPECT_EQ(result.streams[0], (StreamAppendResult{"provider-abc", 0, 2, 1}));
  EXPECT_EQ(store().last_position(), 3u);
  EXPECT_EQ(head("provider-abc"), 2u);

  auto events = read_all_ok(1, 10);
  ASSERT_EQ(events.size(), 3u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i].position, i + 1);
    EXPECT_EQ(events[i].stream, "provider-abc");
    EXPECT_EQ(events[i].version, i);
    EXPECT_EQ(events[i].type, request.writes[0].events[i].type);
    EXPECT_EQ(events[i].type_code, request.writes[0].events[i].type_code);
    EXPECT_EQ(events[i].payload, request.writes[0].events[i].payload);
    EXPECT_EQ(events[i].metadata, request.writes[0].events[i].metadata);
    EXPECT_EQ(events[i].command_id, request.command_id);
  }

  AppendResult next = append_ok(make_request({make_write("provider-abc", ExpectedVersion::exact(2), 2)}));
  EXPECT_EQ(next.first_position, 4u);
  EXPECT_EQ(next.last_position, 5u);
  ASSERT_EQ(next.streams.size(), 1u);
  EXPECT_EQ(next.streams[0], (StreamAppendResult{"provider-abc", 3, 4, 4}));
  EXPECT_EQ(head("provider-abc"), 4u);
  EXPECT_EQ(store().last_position(), 5u);
}

TEST_P(EventStoreConformance, MultiStreamAppendPlacesWritesInRequestOrderAtConsecutivePositions) {
  seed("org-first", 1);
  AppendResult result = append_ok(make_request({make_write("provider-aa", ExpectedVersion::no_stream(), 2),
                                                make_write("org-first", ExpectedVersion::exact(0), 3),
                                                make_write("user-cc", ExpectedVersion::any(), 1)}));

  EXPECT_EQ(result.first_position, 2u);
  EXPECT_EQ(result.last_position, 7u);
  ASSERT_EQ(result.streams.size(), 3u);
  EXPECT_EQ(result.streams[0], (StreamAppendResult{"provider-aa", 0, 1, 2}));
  EXPECT_EQ(result.streams[1], (StreamAppendResult{"org-first", 1, 3, 4}));
  EXPECT_EQ(result.streams[2], (StreamAppendResult{"user-cc", 0, 0, 7}));

  auto events = read_all_ok(1, 100);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_THAT(positions_of(events), ElementsAreArray(position_range(1, 7)));
  const std::vector<std::pair<std::string, std::uint64_t>> expected = {
      {"org-first", 0}, {"provider-aa", 0}, {"provider-aa", 1}, {"org-first", 1},
      {"org-first", 2}, {"org-first", 3},   {"user-cc", 0}};
  for (std::size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i].stream, expected[i].first);
    EXPECT_EQ(events[i].version, expected[i].second);
  }
  // One append is one instant: its events share the result's recorded-at.
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_EQ(events[i].recorded_at_us, result.recorded_at_us);
}

TEST_P(EventStoreConformance, PositionsStayContiguousAcrossManyAppends) {
  std::uint64_t expected_next = 1;
  for (int i = 0; i < 20; ++i) {
    std::string stream = "item-" + std::to_string(i % 3);
    AppendResult result = append_ok(make_request({make_write(stream, ExpectedVersion::any(), 1 + i % 4)}));
    EXPECT_EQ(result.first_position, expected_next);
    expected_next = result.last_position + 1;
  }
  auto events = read_all_ok(1, 1000);
  EXPECT_THAT(positions_of(events), ElementsAreArray(position_range(1, expected_next - 1)));
  EXPECT_EQ(store().last_position(), expected_next - 1);
  // Each stream's versions are gap-free from 0.
  for (int s = 0; s < 3; ++s) {
    auto stream_events = read_stream_ok("item-" + std::to_string(s), Direction::kForward, 0, 1000);
    for (std::size_t v = 0; v < stream_events.size(); ++v) EXPECT_EQ(stream_events[v].version, v);
  }
}

// ----------------------------------------------------------------------------------
// Expected versions

struct ExpectedVersionCase {
  const char* name;
  std::optional<std::size_t> existing_events;  // nullopt: the stream does not exist
  ExpectedVersion expected;
  bool succeeds;
};

// Existing streams hold 6 events (head 5); stream names avoid the digits of versions
// so that the message checks below mean something.
const ExpectedVersionCase kExpectedVersionCases[] = {
    {"any on existing", 6, ExpectedVersion::any(), true},
    {"any on missing", std::nullopt, ExpectedVersion::any(), true},
    {"no stream on missing", std::nullopt, ExpectedVersion::no_stream(), true},
    {"no stream on existing", 6, ExpectedVersion::no_stream(), false},
    {"stream exists on existing", 6, ExpectedVersion::stream_exists(), true},
    {"stream exists on missing", std::nullopt, ExpectedVersion::stream_exists(), false},
    {"exact right", 6, ExpectedVersion::exact(5), true},
    {"exact too low", 6, ExpectedVersion::exact(3), false},
    {"exact too high", 6, ExpectedVersion::exact(7), false},
    {"exact zero on missing", std::nullopt, ExpectedVersion::exact(0), false},
    {"exact on missing", std::nullopt, ExpectedVersion::exact(4), false},
};

std::string case_stream(std::size_t index) {
  return "provider-case" + std::string(index + 1, 'x');
}

void expect_wrong_expected_version(const Status& status, const std::string& stream,
                                   const ExpectedVersion& expected, std::optional<std::uint64_t> actual) {
  EXPECT_EQ(status.code(), StatusCode::kWrongExpectedVersion) << status.to_string();
  EXPECT_TRUE(status.retryable());
  EXPECT_THAT(status.message(), HasSubstr(stream));
  EXPECT_THAT(status.message(), HasSubstr(expected.to_string()));
  if (actual) {
    EXPECT_THAT(status.message(), HasSubstr(std::to_string(*actual)));
  }
}

TEST_P(EventStoreConformance, WriteExpectedVersionCases) {
  for (std::size_t i = 0; i < std::size(kExpectedVersionCases); ++i) {
    const auto& c = kExpectedVersionCases[i];
    SCOPED_TRACE(c.name);
    const std::string stream = case_stream(i);
    if (c.existing_events) seed(stream, *c.existing_events);
    const std::optional<std::uint64_t> head_before = head(stream);
    const std::uint64_t last_before = store().last_position();

    auto result = store().append(make_request({make_write(stream, c.expected, 2)}));
    if (c.succeeds) {
      ASSERT_TRUE(result.ok()) << result.status().to_string();
      const std::uint64_t first_version = head_before ? *head_before + 1 : 0;
      EXPECT_EQ(result->streams.at(0),
                (StreamAppendResult{stream, first_version, first_version + 1, last_before + 1}));
      EXPECT_EQ(head(stream), first_version + 1);
      EXPECT_EQ(store().last_position(), last_before + 2);
    } else {
      ASSERT_FALSE(result.ok());
      expect_wrong_expected_version(result.status(), stream, c.expected, head_before);
      EXPECT_EQ(head(stream), head_before);
      EXPECT_EQ(store().last_position(), last_before);
    }
  }
}

TEST_P(EventStoreConformance, CheckExpectedVersionCases) {
  for (std::size_t i = 0; i < std::size(kExpectedVersionCases); ++i) {
    const auto& c = kExpectedVersionCases[i];
    SCOPED_TRACE(c.name);
    const std::string checked = case_stream(i);
    const std::string written = "org-written" + std::string(i + 1, 'y');
    if (c.existing_events) seed(checked, *c.existing_events);
    const std::optional<std::uint64_t> checked_head = head(checked);
    const std::uint64_t last_before = store().last_position();

    auto result = store().append(make_request({make_write(written, ExpectedVersion::no_stream(), 1)},
                                              {StreamCheck{checked, c.expected}}));
    if (c.succeeds) {
      ASSERT_TRUE(result.ok()) << result.status().to_string();
      // A check reads; it never writes to the checked stream.
      ASSERT_EQ(result->streams.size(), 1u);
      EXPECT_EQ(result->streams[0].stream, written);
      EXPECT_EQ(head(written), 0u);
      EXPECT_EQ(store().last_position(), last_before + 1);
    } else {
      ASSERT_FALSE(result.ok());
      expect_wrong_expected_version(result.status(), checked, c.expected, checked_head);
      EXPECT_EQ(head(written), std::nullopt);
      EXPECT_EQ(store().last_position(), last_before);
    }
    EXPECT_EQ(head(checked), checked_head);
  }
}

TEST_P(EventStoreConformance, FailedWriteOnOneStreamAppendsNothingAnywhere) {
  seed("provider-aa", 1);
  seed("org-bb", 1);
  const auto log_before = read_all_ok(1, 100);

  auto result = store().append(make_request({make_write("provider-aa", ExpectedVersion::exact(0), 2),
                                             make_write("user-new", ExpectedVersion::no_stream(), 1),
                                             make_write("org-bb", ExpectedVersion::exact(7), 1)}));
  ASSERT_FALSE(result.ok());
  expect_wrong_expected_version(result.status(), "org-bb", ExpectedVersion::exact(7), 0);

  EXPECT_EQ(head("provider-aa"), 0u);
  EXPECT_EQ(head("org-bb"), 0u);
  EXPECT_EQ(head("user-new"), std::nullopt);
  EXPECT_THAT(read_stream_ok("user-new", Direction::kForward, 0, 10), IsEmpty());
  EXPECT_EQ(store().last_position(), 2u);
  EXPECT_EQ(positions_of(read_all_ok(1, 100)), positions_of(log_before));
}

TEST_P(EventStoreConformance, FailedCheckAppendsNothingAnywhere) {
  seed("provider-aa", 1);
  seed("org-checked", 3);

  auto result = store().append(make_request({make_write("provider-aa", ExpectedVersion::exact(0), 1),
                                             make_write("user-new", ExpectedVersion::any(), 1)},
                                            {StreamCheck{"org-checked", ExpectedVersion::exact(1)}}));
  ASSERT_FALSE(result.ok());
  expect_wrong_expected_version(result.status(), "org-checked", ExpectedVersion::exact(1), 2);

  EXPECT_EQ(head("provider-aa"), 0u);
  EXPECT_EQ(head("org-checked"), 2u);
  EXPECT_EQ(head("user-new"), std::nullopt);
  EXPECT_EQ(store().last_position(), 4u);
  EXPECT_EQ(read_all_ok(1, 100).size(), 4u);
}

TEST_P(EventStoreConformance, ChecksThatHoldLetTheAppendCommit) {
  seed("org-aa", 2);
  seed("org-bb", 1);
  AppendResult result = append_ok(make_request({make_write("provider-aa", ExpectedVersion::no_stream(), 1)},
                                               {StreamCheck{"org-aa", ExpectedVersion::exact(1)},
                                                StreamCheck{"org-bb", ExpectedVersion::stream_exists()},
                                                StreamCheck{"user-missing", ExpectedVersion::no_stream()},
                                                StreamCheck{"user-other", ExpectedVersion::any()}}));
  EXPECT_EQ(result.first_position, 4u);
  ASSERT_EQ(result.streams.size(), 1u);
  EXPECT_EQ(result.streams[0].stream, "provider-aa");
  EXPECT_EQ(head("org-aa"), 1u);
  EXPECT_EQ(head("org-bb"), 0u);
  EXPECT_EQ(head("user-missing"), std::nullopt);
  EXPECT_EQ(head("user-other"), std::nullopt);
}

TEST_P(EventStoreConformance, WrongExpectedVersionDoesNotUseUpTheCommandId) {
  seed("provider-aa", 2);
  AppendRequest request = make_request({make_write("provider-aa", ExpectedVersion::exact(0), 1)});
  auto failed = store().append(request);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kWrongExpectedVersion);

  // The caller re-reads and retries the same command with the right version.
  request.writes[0].expected = ExpectedVersion::exact(1);
  AppendResult retried = append_ok(request);
  EXPECT_FALSE(retried.deduplicated);
  EXPECT_EQ(retried.first_position, 3u);
  EXPECT_EQ(head("provider-aa"), 2u);
}

TEST_P(EventStoreConformance, InvalidRequestsAreRefusedAndAppendNothing) {
  seed("provider-aa", 1);
  std::vector<std::pair<std::string, AppendRequest>> invalid;
  invalid.emplace_back("empty stream name", make_request({make_write("", ExpectedVersion::any())}));
  invalid.emplace_back("malformed stream name",
                       make_request({make_write("Provider aa", ExpectedVersion::any())}));
  invalid.emplace_back("nothing in it", make_request({}));
  invalid.emplace_back("write without events",
                       make_request({make_write("org-aa", ExpectedVersion::any(), 0)}));
  invalid.emplace_back("same stream twice", make_request({make_write("org-aa", ExpectedVersion::any()),
                                                          make_write("org-aa", ExpectedVersion::any())}));
  AppendRequest nil_command = make_request({make_write("org-aa", ExpectedVersion::any())});
  nil_command.command_id = Id16{};
  invalid.emplace_back("nil command id", nil_command);
  AppendRequest too_big = make_request({make_write("org-aa", ExpectedVersion::any())});
  too_big.writes[0].events[0].payload = std::string(kMaxEventBytes + 1, 'x');
  too_big.writes[0].events[0].metadata.clear();
  invalid.emplace_back("event over 1 MiB", too_big);

  for (const auto& [name, request] : invalid) {
    SCOPED_TRACE(name);
    auto result = store().append(request);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().to_string();
    EXPECT_FALSE(result.status().retryable());
  }
  EXPECT_EQ(store().last_position(), 1u);
  EXPECT_EQ(head("org-aa"), std::nullopt);
}

// ----------------------------------------------------------------------------------
// Exactly-once commands

TEST_P(EventStoreConformance, ResubmittedCommandReturnsOriginalResultAndAppendsNothing) {
  seed("org-before", 1);
  AppendRequest request = make_request({make_write("provider-aa", ExpectedVersion::no_stream(), 2),
                                        make_write("org-before", ExpectedVersion::exact(0), 1)});
  AppendResult original = append_ok(request);
  ASSERT_FALSE(original.deduplicated);
  seed("user-after", 2);
  const std::uint64_t last = store().last_position();

  // The resubmission's expected versions no longer hold; the command is still
  // recognised as the one that committed.
  auto again = store().append(request);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_TRUE(again->deduplicated);
  EXPECT_EQ(*again, original);
  EXPECT_EQ(again->streams, original.streams);
  EXPECT_EQ(again->recorded_at_us, original.recorded_at_us);
  EXPECT_EQ(store().last_position(), last);
  EXPECT_EQ(read_all_ok(1, 100).size(), last);
  EXPECT_EQ(head("provider-aa"), 1u);
  EXPECT_EQ(head("org-before"), 1u);

  auto third = store().append(request);
  ASSERT_TRUE(third.ok()) << third.status().to_string();
  EXPECT_TRUE(third->deduplicated);
  EXPECT_EQ(*third, original);
}

TEST_P(EventStoreConformance, FindCommandAnswersCommittedCommandsOnly) {
  AppendRequest request = make_request({make_write("provider-aa", ExpectedVersion::any(), 2)});
  auto before = store().find_command(request.command_id);
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  EXPECT_EQ(*before, std::nullopt);

  AppendResult original = append_ok(request);
  auto found = store().find_command(request.command_id);
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, original);
  EXPECT_TRUE((*found)->deduplicated);

  // A refused append leaves its command id unknown.
  AppendRequest refused = make_request({make_write("provider-aa", ExpectedVersion::no_stream(), 1)});
  ASSERT_FALSE(store().append(refused).ok());
  auto unknown = store().find_command(refused.command_id);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, std::nullopt);
}

TEST_P(EventStoreConformance, ResubmittedCommandWithDifferentContentIsFailedPrecondition) {
  AppendRequest request = make_request({make_write("provider-aa", ExpectedVersion::any(), 2),
                                        make_write("org-aa", ExpectedVersion::no_stream(), 1)});
  request.writes[0].events[0].event_id = Id16::random();
  request.writes[0].events[0].correlation_id = Id16::random();
  request.writes[0].events[0].causation_id = Id16::random();
  append_ok(request);

  std::vector<std::pair<std::string, AppendRequest>> changes;
  auto change = [&](std::string what, const std::function<void(AppendRequest&)>& edit) {
    AppendRequest changed = request;
    edit(changed);
    changes.emplace_back(std::move(what), std::move(changed));
  };
  change("payload", [](AppendRequest& r) { r.writes[0].events[0].payload = "something else"; });
  change("metadata", [](AppendRequest& r) { r.writes[0].events[1].metadata = "someone else"; });
  change("type", [](AppendRequest& r) { r.writes[1].events[0].type = "OtherThingHappened"; });
  change("type code", [](AppendRequest& r) { r.writes[1].events[0].type_code = 1801; });
  change("event id", [](AppendRequest& r) { r.writes[0].events[0].event_id = Id16::random(); });
  change("correlation id", [](AppendRequest& r) { r.writes[0].events[0].correlation_id = Id16::random(); });
  change("causation id", [](AppendRequest& r) { r.writes[0].events[0].causation_id = Id16::random(); });
  change("stream", [](AppendRequest& r) { r.writes[1].stream = "org-bb"; });
  change("order of writes", [](AppendRequest& r) { std::swap(r.writes[0], r.writes[1]); });
  change("order of events",
         [](AppendRequest& r) { std::swap(r.writes[0].events[0], r.writes[0].events[1]); });
  change("one event fewer", [](AppendRequest& r) { r.writes[0].events.pop_back(); });
  change("one write fewer", [](AppendRequest& r) { r.writes.pop_back(); });
  change("one event more", [](AppendRequest& r) { r.writes[1].events.push_back(make_event()); });
  change("one write more",
         [](AppendRequest& r) { r.writes.push_back(make_write("org-cc", ExpectedVersion::any(), 1)); });

  for (const auto& [what, changed] : changes) {
    auto result = store().append(changed);
    ASSERT_FALSE(result.ok()) << "a re-submission with another " << what << " was accepted";
    EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition)
        << what << ": " << result.status().to_string();
    EXPECT_THAT(result.status().message(), HasSubstr(request.command_id.to_hex())) << what;
  }
  EXPECT_EQ(store().last_position(), 3u);
  EXPECT_EQ(head("org-bb"), std::nullopt);
  EXPECT_EQ(head("org-cc"), std::nullopt);
}

// A command is what it writes: a retry that re-read the heads meanwhile (and so
// expects other versions, or checks other streams) is the same command and gets
// the original result.
TEST_P(EventStoreConformance, ResubmittedCommandIsMatchedByItsEventsNotItsConditions) {
  seed("org-aa", 2);
  AppendRequest request = make_request({make_write("provider-aa", ExpectedVersion::no_stream(), 2),
                                        make_write("org-aa", ExpectedVersion::exact(1), 1)});
  const AppendResult original = append_ok(request);

  AppendRequest retried = request;
  retried.writes[0].expected = ExpectedVersion::exact(1);
  retried.writes[1].expected = ExpectedVersion::stream_exists();
  retried.checks.push_back({"user-aa", ExpectedVersion::no_stream()});
  auto again = store().append(retried);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_TRUE(again->deduplicated);
  EXPECT_EQ(again->first_position, original.first_position);
  EXPECT_EQ(again->last_position, original.last_position);
  EXPECT_EQ(again->streams, original.streams);
  EXPECT_EQ(store().last_position(), 5u);
}

// ----------------------------------------------------------------------------------
// Reads

TEST_P(EventStoreConformance, ReadStreamForwardFromVersion) {
  // Interleave another stream so that versions and positions differ.
  seed("org-other", 1);
  seed("provider-aa", 4);
  seed("org-other", 2);
  seed("provider-aa", 6);
  ASSERT_EQ(head("provider-aa"), 9u);

  auto events = read_stream_ok("provider-aa", Direction::kForward, 3, 4);
  EXPECT_THAT(versions_of(events), ElementsAre(3, 4, 5, 6));
  EXPECT_THAT(positions_of(events), ElementsAre(5, 8, 9, 10));
  for (const auto& event : events) EXPECT_EQ(event.stream, "provider-aa");

  EXPECT_THAT(versions_of(read_stream_ok("provider-aa", Direction::kForward, 0, 100)),
              ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
  EXPECT_THAT(versions_of(read_stream_ok("provider-aa", Direction::kForward, 8, 5)), ElementsAre(8, 9));
  EXPECT_THAT(read_stream_ok("provider-aa", Direction::kForward, 10, 5), IsEmpty());
  EXPECT_THAT(read_stream_ok("provider-aa", Direction::kForward, 1000, 5), IsEmpty());
}

TEST_P(EventStoreConformance, ReadStreamBackwardFromVersion) {
  seed("org-other", 1);
  seed("provider-aa", 4);
  seed("org-other", 2);
  seed("provider-aa", 6);

  EXPECT_THAT(versions_of(read_stream_ok("provider-aa", Direction::kBackward, 6, 3)), ElementsAre(6, 5, 4));
  EXPECT_THAT(positions_of(read_stream_ok("provider-aa", Direction::kBackward, 6, 3)), ElementsAre(10, 9, 8));
  EXPECT_THAT(versions_of(read_stream_ok("provider-aa", Direction::kBackward, kStreamEnd, 3)),
              ElementsAre(9, 8, 7));
  EXPECT_THAT(versions_of(read_stream_ok("provider-aa", Direction::kBackward, 1, 5)), ElementsAre(1, 0));
  EXPECT_THAT(versions_of(read_stream_ok("provider-aa", Direction::kBackward, kStreamEnd, 100)),
              ElementsAre(9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
}

TEST_P(EventStoreConformance, ReadStreamOfUnknownStreamIsEmpty) {
  seed("provider-aa", 2);
  EXPECT_THAT(read_stream_ok("provider-zz", Direction::kForward, 0, 10), IsEmpty());
  EXPECT_THAT(read_stream_ok("provider-zz", Direction::kBackward, kStreamEnd, 10), IsEmpty());
  // A stream whose name extends another's must not see the other's events.
  EXPECT_THAT(read_stream_ok("provider-a", Direction::kForward, 0, 10), IsEmpty());
  EXPECT_THAT(read_stream_ok("provider-aaa", Direction::kBackward, kStreamEnd, 10), IsEmpty());
}

TEST_P(EventStoreConformance, ReadAllFromPositionWithMaxCount) {
  for (int i = 0; i < 10; ++i) seed("item-" + std::to_string(i % 3), 1);

  EXPECT_THAT(positions_of(read_all_ok(0, 3)), ElementsAre(1, 2, 3));
  EXPECT_THAT(positions_of(read_all_ok(1, 3)), ElementsAre(1, 2, 3));
  EXPECT_THAT(positions_of(read_all_ok(4, 100)), ElementsAre(4, 5, 6, 7, 8, 9, 10));
  EXPECT_THAT(positions_of(read_all_ok(10, 100)), ElementsAre(10));
  EXPECT_THAT(read_all_ok(11, 100), IsEmpty());
  EXPECT_THAT(read_all_ok(1000, 100), IsEmpty());

  // read_all and read_stream hand back the same records.
  auto all = read_all_ok(1, 100);
  auto stream = read_stream_ok("item-1", Direction::kForward, 0, 100);
  ASSERT_EQ(stream.size(), 3u);
  for (const auto& event : stream) {
    const auto& same = all.at(event.position - 1);
    EXPECT_EQ(same.stream, event.stream);
    EXPECT_EQ(same.version, event.version);
    EXPECT_EQ(same.event_id, event.event_id);
    EXPECT_EQ(same.payload, event.payload);
  }
}

TEST_P(EventStoreConformance, StreamHeadAndLastPosition) {
  EXPECT_EQ(head("provider-aa"), std::nullopt);
  seed("provider-aa", 3);
  EXPECT_EQ(head("provider-aa"), 2u);
  EXPECT_EQ(store().last_position(), 3u);
  seed("org-bb", 2);
  EXPECT_EQ(head("provider-aa"), 2u);
  EXPECT_EQ(head("org-bb"), 1u);
  EXPECT_EQ(store().last_position(), 5u);
}

// on_written: once per written append, before append() returns, with its result;
// never for a refused or a deduplicated one. After it, the next append to the
// stream may expect the new version even if the first is still being synced.
TEST_P(EventStoreConformance, OnWrittenIsCalledOnceForWrittenAppendsOnly) {
  int calls = 0;
  AppendResult seen;
  AppendRequest request = make_request({make_write("provider-aa", ExpectedVersion::no_stream(), 2)});
  request.on_written = [&](const AppendResult& r) {
    ++calls;
    seen = r;
  };
  const AppendResult result = append_ok(request);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, result);

  append_ok(request);  // the same command id again: deduplicated
  EXPECT_EQ(calls, 1);

  AppendRequest stale = make_request({make_write("provider-aa", ExpectedVersion::no_stream(), 1)});
  stale.on_written = [&](const AppendResult&) { ++calls; };
  EXPECT_EQ(store().append(stale).status().code(), StatusCode::kWrongExpectedVersion);
  EXPECT_EQ(calls, 1);

  // Chained from the callback: the second append expects what the first wrote.
  std::optional<Result<AppendResult>> chained;
  std::thread second;
  AppendRequest first = make_request({make_write("org-bb", ExpectedVersion::no_stream(), 1)});
  first.on_written = [&](const AppendResult& r) {
    second = std::thread([&, version = r.streams[0].last_version] {
      chained = store().append(make_request({make_write("org-bb", ExpectedVersion::at(version), 1)}));
    });
  };
  append_ok(first);
  second.join();
  ASSERT_TRUE(chained.has_value());
  ASSERT_TRUE(chained->ok()) << chained->status().to_string();
  EXPECT_EQ(head("org-bb"), 1u);
}

TEST_P(EventStoreConformance, RecordedAtNeverDecreasesAlongTheLog) {
  std::vector<std::int64_t> results;
  for (int i = 0; i < 30; ++i) results.push_back(seed("provider-aa", 1 + i % 2).recorded_at_us);
  auto events = read_all_ok(1, 1000);
  ASSERT_FALSE(events.empty());
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_GE(events[i].recorded_at_us, events[i - 1].recorded_at_us) << "at position " << events[i].position;
  }
  for (std::size_t i = 1; i < results.size(); ++i) EXPECT_GE(results[i], results[i - 1]);
  EXPECT_GT(events.front().recorded_at_us, 0);
}

// ----------------------------------------------------------------------------------
// Event contents

TEST_P(EventStoreConformance, EventIdIsAssignedWhenNilAndKeptWhenGiven) {
  AppendRequest request = make_request({make_write("provider-aa", ExpectedVersion::any(), 3)});
  const Id16 given = Id16::random();
  request.writes[0].events[1].event_id = given;
  request.writes[0].events[1].correlation_id = Id16::random();
  request.writes[0].events[1].causation_id = Id16::random();
  append_ok(request);

  auto events = read_all_ok(1, 10);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].event_id, given);
  EXPECT_FALSE(events[0].event_id.is_nil());
  EXPECT_FALSE(events[2].event_id.is_nil());
  EXPECT_NE(events[0].event_id, events[2].event_id);
  EXPECT_NE(events[0].event_id, given);
  EXPECT_EQ(events[1].correlation_id, request.writes[0].events[1].correlation_id);
  EXPECT_EQ(events[1].causation_id, request.writes[0].events[1].causation_id);
  EXPECT_TRUE(events[0].correlation_id.is_nil());
  EXPECT_TRUE(events[0].causation_id.is_nil());

  // Reads are stable: the assigned id is stored, not made up on each read.
  auto again = read_all_ok(1, 10);
  EXPECT_EQ(again[0].event_id, events[0].event_id);
}

TEST_P(EventStoreConformance, TypeAndCodeRoundTrip) {
  NewEvent event = make_event("ProviderInvited");
  event.type_code = 1800;
  NewEvent no_code = make_event("SomethingUncoded");
  no_code.type_code = 0;
  append_ok(make_request({StreamWrite{"provider-aa", ExpectedVersion::any(), {event, no_code}}}));
  auto events = read_all_ok(1, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "ProviderInvited");
  EXPECT_EQ(events[0].type_code, 1800u);
  EXPECT_EQ(events[1].type, "SomethingUncoded");
  EXPECT_EQ(events[1].type_code, 0u);
}

TEST_P(EventStoreConformance, MetadataAndPayloadBytesRoundTripExactly) {
  NewEvent binary = make_event("Binary", all_byte_values(), std::string("\0meta\0\xff", 7));
  NewEvent empty = make_event("Empty", "", "");
  NewEvent nul_only = make_event("Nul", std::string(1, '\0'), std::string(3, '\0'));
  append_ok(make_request({StreamWrite{"provider-aa", ExpectedVersion::any(), {binary, empty, nul_only}}}));

  for (const auto& events : {read_all_ok(1, 10), read_stream_ok("provider-aa", Direction::kForward, 0, 10)}) {
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].payload, binary.payload);
    EXPECT_EQ(events[0].metadata, binary.metadata);
    EXPECT_EQ(events[1].payload, "");
    EXPECT_EQ(events[1].metadata, "");
    EXPECT_EQ(events[2].payload, nul_only.payload);
    EXPECT_EQ(events[2].metadata, nul_only.metadata);
  }
}

TEST_P(EventStoreConformance, EventOfExactlyOneMebibyteIsAcceptedAndOneByteMoreIsNot) {
  std::string big(kMaxEventBytes, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
  NewEvent largest = make_event("Large", big, "");
  append_ok(make_request({StreamWrite{"provider-aa", ExpectedVersion::any(), {largest}}}));
  auto events = read_all_ok(1, 10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].payload == big) << "1 MiB payload did not round-trip";

  // Metadata counts towards the limit.
  NewEvent split =
      make_event("Split", std::string(kMaxEventBytes / 2 + 1, 'p'), std::string(kMaxEventBytes / 2, 'm'));
  NewEvent too_big = make_event("TooBig", big + "x", "");
  for (const auto& event : {split, too_big}) {
    SCOPED_TRACE(event.type);
    auto result = store().append(make_request({StreamWrite{"provider-aa", ExpectedVersion::any(), {event}}}));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().to_string();
  }
  EXPECT_EQ(store().last_position(), 1u);
}

// Events own their bytes together with the other events of their read (see
// RecordedEvent). Copies kept after the read's vector is gone, across the blocks a
// read allocates (small events filling several, events large enough to get one
// of their own), must still hold exactly what was appended, whichever way they
// were read.
TEST_P(EventStoreConformance, EventsKeptAfterTheirReadIsGoneStillHoldTheirBytes) {
  struct Appended {
    std::string stream, type, payload, metadata;
  };
  std::vector<Appended> appended;  // appended[i] is at position i + 1
  const std::vector<std::size_t> sizes = {10, 1000, 3000, 20000, 0, 700, 300000, 5};
  for (std::size_t i = 0; i < 400; ++i) {
    Appended a;
    a.stream = i % 3 == 0 ? "provider-aa" : (i % 3 == 1 ? "org-bb" : "item-cc");
    a.type = i % 5 == 0 ? "Renamed" : "ThingHappened";
    a.payload = std::string(sizes[i % sizes.size()], static_cast<char>('a' + i % 26));
    a.payload.insert(0, std::to_string(i) + ":");
    a.metadata = "meta-" + std::to_string(i);
    append_ok(make_request({StreamWrite{a.stream, ExpectedVersion::any(), {make_event(a.type, a.payload, a.metadata)}}}));
    appended.push_back(std::move(a));
  }

  auto keep_some = [](std::vector<RecordedEvent> events) {
    std::vector<RecordedEvent> kept;
    for (std::size_t i = 0; i < events.size(); i += 7) kept.push_back(events[i]);
    return kept;  // `events` and its other copies go away here
  };
  // Overwrites freed memory, so that bytes no event owns any more read as garbage.
  auto churn = [] {
    std::vector<std::string> junk;
    for (std::size_t i = 0; i < 4000; ++i) junk.emplace_back(64 + (i * 97) % 70000, '#');
  };
  auto check = [&](const std::vector<RecordedEvent>& kept, const char* how) {
    SCOPED_TRACE(how);
    ASSERT_FALSE(kept.empty());
    for (const RecordedEvent& e : kept) {
      ASSERT_GE(e.position, 1u);
      ASSERT_LE(e.position, appended.size());
      const Appended& a = appended[e.position - 1];
      EXPECT_EQ(e.stream, a.stream) << "position " << e.position;
      EXPECT_EQ(e.type, a.type) << "position " << e.position;
      EXPECT_TRUE(e.payload == a.payload) << "payload of position " << e.position << " changed";
      EXPECT_EQ(e.metadata, a.metadata) << "position " << e.position;
    }
  };

  auto from_all = keep_some(read_all_ok(1, 1000));
  auto forward = keep_some(read_stream_ok("org-bb", Direction::kForward, 0, 1000));
  auto backward = keep_some(read_stream_ok("provider-aa", Direction::kBackward, kStreamEnd, 1000));
  std::vector<RecordedEvent> subscribed;
  {
    SubscriptionRecorder recorder;
    auto subscription = store().subscribe(1, recorder.handler());
    ASSERT_TRUE(subscription.ok()) << subscription.status().to_string();
    ASSERT_TRUE(recorder.wait_for_events(appended.size()));
    subscribed = keep_some(recorder.events());
  }  // the subscription stops, then the recorder and its events go
  churn();
  check(from_all, "read_all");
  check(forward, "read_stream forward");
  check(backward, "read_stream backward");
  check(subscribed, "subscription");
}

// ----------------------------------------------------------------------------------
// Subscriptions

std::unique_ptr<Subscription> subscribe_ok(EventStore& store, std::uint64_t from,
                                           SubscriptionHandler handler) {
  auto result = store.subscribe(from, std::move(handler));
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? std::move(*result) : nullptr;
}

TEST_P(EventStoreConformance, SubscriptionCatchesUpFromTheStartThenGoesLive) {
  seed("provider-aa", 3);
  seed("org-bb", 2);
  SubscriptionRecorder recorder;
  auto subscription = subscribe_ok(store(), 1, recorder.handler());
  ASSERT_NE(subscription, nullptr);

  ASSERT_TRUE(recorder.wait_for_caught_up());
  EXPECT_EQ(recorder.events_before_caught_up(), 5u);
  EXPECT_THAT(recorder.caught_up_positions(), ElementsAre(5));

  seed("provider-aa", 1);
  seed("user-cc", 3);
  seed("org-bb", 1);
  ASSERT_TRUE(recorder.wait_for_events(10));
  EXPECT_THAT(recorder.positions(), ElementsAreArray(position_range(1, 10)));
  auto delivered = recorder.events();
  auto stored = read_all_ok(1, 100);
  ASSERT_EQ(delivered.size(), stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(delivered[i].stream, stored[i].stream);
    EXPECT_EQ(delivered[i].version, stored[i].version);
    EXPECT_EQ(delivered[i].event_id, stored[i].event_id);
    EXPECT_EQ(delivered[i].payload, stored[i].payload);
  }
  EXPECT_EQ(recorder.caught_up_positions().size(), 1u) << "on_caught_up is called once";

  subscription->stop();
  EXPECT_EQ(subscription->position(), 10u);
}

TEST_P(EventStoreConformance, SubscriptionFromAMiddlePosition) {
  seed("provider-aa", 6);
  SubscriptionRecorder recorder;
  auto subscription = subscribe_ok(store(), 4, recorder.handler());
  ASSERT_NE(subscription, nullptr);
  ASSERT_TRUE(recorder.wait_for_caught_up());
  EXPECT_EQ(recorder.events_before_caught_up(), 3u);

  seed("provider-aa", 2);
  ASSERT_TRUE(recorder.wait_for_events(5));
  EXPECT_THAT(recorder.positions(), ElementsAre(4, 5, 6, 7, 8));
}

TEST_P(EventStoreConformance, SubscriptionOnAnEmptyStoreDeliversLiveEvents) {
  SubscriptionRecorder recorder;
  auto subscription = subscribe_ok(store(), 1, recorder.handler());
  ASSERT_NE(subscription, nullptr);
  ASSERT_TRUE(recorder.wait_for_caught_up());
  EXPECT_EQ(recorder.events_before_caught_up(), 0u);

  seed("provider-aa", 2);
  ASSERT_TRUE(recorder.wait_for_events(2));
  EXPECT_THAT(recorder.positions(), ElementsAre(1, 2));
}

TEST_P(EventStoreConformance, NoGapOrDuplicateWhenAppendsRaceTheCatchUp) {
  for (int i = 0; i < 100; ++i) seed("provider-aa", 1);
  constexpr std::size_t kLiveAppends = 300;

  SubscriptionRecorder recorder;
  std::atomic<bool> appends_ok{true};
  std::thread writer([&] {
    for (std::size_t i = 0; i < kLiveAppends; ++i) {
      auto result =
          store().append(make_request({make_write("org-" + std::to_string(i % 5), ExpectedVersion::any())}));
      if (!result.ok()) appends_ok = false;
    }
  });
  auto subscription = subscribe_ok(store(), 1, recorder.handler());
  writer.join();
  ASSERT_NE(subscription, nullptr);
  EXPECT_TRUE(appends_ok);

  ASSERT_TRUE(recorder.wait_for_events(100 + kLiveAppends));
  EXPECT_THAT(recorder.positions(), ElementsAreArray(position_range(1, 100 + kLiveAppends)));
  EXPECT_TRUE(recorder.wait_for_caught_up());
}

TEST_P(EventStoreConformance, ManySubscribersEachSeeEveryEventInOrder) {
  seed("provider-aa", 10);
  constexpr std::size_t kSubscribers = 8;
  std::vector<std::unique_ptr<SubscriptionRecorder>> recorders;
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (std::size_t i = 0; i < kSubscribers; ++i) {
    recorders.push_back(std::make_unique<SubscriptionRecorder>());
    subscriptions.push_back(subscribe_ok(store(), 1 + i, recorders.back()->handler()));
    ASSERT_NE(subscriptions.back(), nullptr);
  }
  for (int i = 0; i < 40; ++i) seed("org-" + std::to_string(i % 4), 1 + i % 3);
  const std::uint64_t last = store().last_position();

  for (std::size_t i = 0; i < kSubscribers; ++i) {
    SCOPED_TRACE(i);
    const std::size_t expected_count = last - i;
    ASSERT_TRUE(recorders[i]->wait_for_events(expected_count));
    EXPECT_THAT(recorders[i]->positions(), ElementsAreArray(position_range(1 + i, expected_count)));
  }
  subscriptions.clear();
}

TEST_P(EventStoreConformance, SlowSubscriberDoesNotBlockAppends) {
  seed("provider-aa", 1);
  std::latch release(1);
  std::promise<void> entered;
  std::atomic<bool> first{true};
  SubscriptionRecorder recorder;
  SubscriptionHandler handler = recorder.handler();
  auto record = handler.on_event;
  handler.on_event = [&, record](const RecordedEvent& event) {
    record(event);
    if (first.exchange(false)) {
      entered.set_value();
      release.wait();
    }
  };
  auto subscription = subscribe_ok(store(), 1, std::move(handler));
  ASSERT_NE(subscription, nullptr);
  // Declared after the subscription so that, on an early return, the handler is
  // released before the subscription's destructor waits for it.
  bool released = false;
  auto release_once = [&] {
    if (!std::exchange(released, true)) release.count_down();
  };
  struct ReleaseOnExit {
    std::function<void()> release;
    ~ReleaseOnExit() { release(); }
  } release_on_exit{release_once};
  ASSERT_EQ(entered.get_future().wait_for(kWaitDeadline), std::future_status::ready);

  // The handler is now parked; appends must still complete.
  auto appends = std::async(std::launch::async, [&] {
    bool all_ok = true;
    for (int i = 0; i < 20; ++i) all_ok = seed("org-bb", 1).first_position != 0 && all_ok;
    return all_ok;
  });
  const bool finished_while_blocked = appends.wait_for(kWaitDeadline) == std::future_status::ready;
  release_once();
  EXPECT_TRUE(finished_while_blocked) << "appends waited for a blocked subscriber";
  EXPECT_TRUE(appends.get());

  ASSERT_TRUE(recorder.wait_for_events(21));
  EXPECT_THAT(recorder.positions(), ElementsAreArray(position_range(1, 21)));
}

TEST_P(EventStoreConformance, StopIsIdempotentAndReportsOkOnce) {
  seed("provider-aa", 3);
  SubscriptionRecorder recorder;
  auto subscription = subscribe_ok(store(), 1, recorder.handler());
  ASSERT_NE(subscription, nullptr);
  ASSERT_TRUE(recorder.wait_for_events(3));

  subscription->stop();
  subscription->stop();
  ASSERT_TRUE(recorder.wait_for_stop());
  EXPECT_EQ(subscription->position(), 3u);

  // stop() waited for the handler, so nothing arrives any more.
  seed("provider-aa", 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(recorder.events().size(), 3u);

  subscription.reset();
  auto stops = recorder.stops();
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_TRUE(stops[0].ok()) << stops[0].to_string();
}

TEST_P(EventStoreConformance, StopFromInsideTheHandler) {
  seed("provider-aa", 5);
  SubscriptionRecorder recorder;
  std::mutex mutex;
  std::condition_variable published;
  Subscription* self = nullptr;
  SubscriptionHandler handler = recorder.handler();
  auto record = handler.on_event;
  handler.on_event = [&, record](const RecordedEvent& event) {
    record(event);
    if (event.position != 3) return;
    // The handler may run before subscribe() has returned the subscription.
    std::unique_lock lock(mutex);
    if (!published.wait_for(lock, kWaitDeadline, [&] { return self != nullptr; })) return;
    self->stop();
  };
  auto subscription = subscribe_ok(store(), 1, std::move(handler));
  ASSERT_NE(subscription, nullptr);
  {
    std::lock_guard lock(mutex);
    self = subscription.get();
  }
  published.notify_all();

  ASSERT_TRUE(recorder.wait_for_stop());
  EXPECT_THAT(recorder.positions(), ElementsAre(1, 2, 3));
  subscription->stop();
  subscription.reset();
  auto stops = recorder.stops();
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_TRUE(stops[0].ok()) << stops[0].to_string();
}

TEST_P(EventStoreConformance, DestroyingASubscriptionStopsIt) {
  seed("provider-aa", 2);
  SubscriptionRecorder recorder;
  auto subscription = subscribe_ok(store(), 1, recorder.handler());
  ASSERT_NE(subscription, nullptr);
  ASSERT_TRUE(recorder.wait_for_events(2));
  subscription.reset();
  ASSERT_TRUE(recorder.wait_for_stop());
  EXPECT_TRUE(recorder.stops().at(0).ok());
  seed("provider-aa", 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(recorder.events().size(), 2u);
}

// ----------------------------------------------------------------------------------
// Closing

TEST_P(EventStoreConformance, CloseRefusesLaterCallsAndIsIdempotent) {
  seed("provider-aa", 2);
  EXPECT_TRUE(store().health().ok()) << store().health().to_string();
  Status first = store().close();
  EXPECT_TRUE(first.ok()) << first.to_string();
  Status second = store().close();
  EXPECT_TRUE(second.ok()) << second.to_string();

  auto append = store().append(make_request({make_write("provider-aa", ExpectedVersion::any())}));
  ASSERT_FALSE(append.ok());
  EXPECT_EQ(append.status().code(), StatusCode::kUnavailable) << append.status().to_string();
  EXPECT_TRUE(append.status().retryable());
  EXPECT_EQ(store().health().code(), StatusCode::kUnavailable);

  auto read_all = store().read_all(1, 10);
  ASSERT_FALSE(read_all.ok());
  EXPECT_EQ(read_all.status().code(), StatusCode::kUnavailable);
  auto read_stream = store().read_stream("provider-aa", Direction::kForward, 0, 10);
  ASSERT_FALSE(read_stream.ok());
  EXPECT_EQ(read_stream.status().code(), StatusCode::kUnavailable);
  auto stream_head = store().stream_head("provider-aa");
  ASSERT_FALSE(stream_head.ok());
  EXPECT_EQ(stream_head.status().code(), StatusCode::kUnavailable);
  SubscriptionRecorder recorder;
  auto subscription = store().subscribe(1, recorder.handler());
  ASSERT_FALSE(subscription.ok());
  EXPECT_EQ(subscription.status().code(), StatusCode::kUnavailable);
}

TEST_P(EventStoreConformance, CloseStopsSubscriptionsWithOk) {
  seed("provider-aa", 2);
  SubscriptionRecorder recorder;
  auto subscription = subscribe_ok(store(), 1, recorder.handler());
  ASSERT_NE(subscription, nullptr);
  ASSERT_TRUE(recorder.wait_for_events(2));

  Status closed = store().close();
  EXPECT_TRUE(closed.ok()) << closed.to_string();
  ASSERT_TRUE(recorder.wait_for_stop());
  subscription.reset();
  auto stops = recorder.stops();
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_TRUE(stops[0].ok()) << stops[0].to_string();
}

// Snapshots ------------------------------------------------------------------

std::optional<Snapshot> read_snapshot_ok(EventStore& store, std::string_view stream) {
  auto result = store.read_snapshot(stream);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? *result : std::nullopt;
}

TEST_P(EventStoreConformance, SnapshotRoundTripsBesideTheLog) {
  seed("provider-aa", 5);
  const std::string bytes = all_byte_values();
  Status written = store().write_snapshot("provider-aa", 3, bytes);
  ASSERT_TRUE(written.ok()) << written.to_string();

  auto snapshot = read_snapshot_ok(store(), "provider-aa");
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->version, 3u);
  EXPECT_EQ(snapshot->bytes, bytes);
  // A cache beside the log: no event, no position, no change to the stream.
  EXPECT_EQ(store().last_position(), 5u);
  EXPECT_EQ(read_all_ok(1, 100).size(), 5u);
  EXPECT_EQ(head("provider-aa"), 4u);
}

TEST_P(EventStoreConformance, NewerSnapshotReplacesTheOlderOne) {
  seed("provider-aa", 10);
  ASSERT_TRUE(store().write_snapshot("provider-aa", 3, "at three").ok());
  ASSERT_TRUE(store().write_snapshot("provider-aa", 8, "at eight").ok());

  auto snapshot = read_snapshot_ok(store(), "provider-aa");
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->version, 8u);
  EXPECT_EQ(snapshot->bytes, "at eight");
}

TEST_P(EventStoreConformance, StreamWithoutSnapshotReadsAsNone) {
  seed("provider-aa", 2);
  ASSERT_TRUE(store().write_snapshot("provider-aa", 1, "kept apart").ok());
  EXPECT_FALSE(read_snapshot_ok(store(), "provider-bb").has_value());  // unknown stream
  seed("provider-cc", 2);
  EXPECT_FALSE(read_snapshot_ok(store(), "provider-cc").has_value());  // events, no snapshot
}

TEST_P(EventStoreConformance, SnapshotPastTheStreamHeadIsNeverReturned) {
  seed("provider-aa", 3);
  ASSERT_TRUE(store().write_snapshot("provider-aa", 5, "ahead of the log").ok());
  EXPECT_FALSE(read_snapshot_ok(store(), "provider-aa").has_value());
  ASSERT_TRUE(store().write_snapshot("provider-bb", 0, "of no stream").ok());
  EXPECT_FALSE(read_snapshot_ok(store(), "provider-bb").has_value());

  // Once the stream reaches the snapshot's version, the snapshot is good.
  seed("provider-aa", 3);
  auto snapshot = read_snapshot_ok(store(), "provider-aa");
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->version, 5u);
}

TEST_P(EventStoreConformance, SnapshotOfAnInvalidStreamNameIsRefused) {
  Status written = store().write_snapshot("Not A Stream", 0, "x");
  EXPECT_EQ(written.code(), StatusCode::kInvalidArgument) << written.to_string();
  auto read = store().read_snapshot("Not A Stream");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace

// Backends instantiate the suite in their own test files; a binary without one
// must not fail for that.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(EventStoreConformance);
