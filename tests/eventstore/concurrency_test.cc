// Concurrency guarantees of the RocksDB event store (issue 2, "Tests: Concurrency").
//
// Many threads run read-then-append with optimistic concurrency on a few shared streams, the way
// command handlers will: read the head, decide, append with the head as expected version, re-read
// and retry on a wrong expected version. Afterwards:
//   - every stream's head + 1 equals the number of events appended to it successfully;
//   - positions are 1..N without a gap or duplicate, in read_all and in a subscriber that was
//     started before the run (so it switched from catch-up to live while appends raced);
//   - every stream is gap-free (versions 0..k) with increasing positions, and read_stream agrees
//     with the log;
//   - every successful append's result points at its own events;
//   - multi-stream appends are whole: both events of a transfer sit at consecutive positions;
//   - in sync mode, concurrent appends share group commits (fewer syncs than appends).

#include <stdlib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "portal/eventstore/rocksdb_event_store.h"

namespace {

namespace es = portal::eventstore;

constexpr int kStreams = 16;
// A conflict needs another append to the same stream in between, so an operation that keeps losing
// this often means the store is not making progress.
constexpr int kMaxAttempts = 10'000;

std::string account(int n) {
  return "acct-" + std::to_string(n);
}

struct Id16Hash {
  std::size_t operator()(const es::Id16& id) const {
    std::size_t h = 1469598103934665603ull;
    for (std::uint8_t b : id.bytes) h = (h ^ b) * 1099511628211ull;
    return h;
  }
};

class TempDir {
 public:
  TempDir() {
    std::string path = (std::filesystem::temp_directory_path() / "portal-concurrency-XXXXXX").string();
    if (::mkdtemp(path.data()) != nullptr) path_ = path;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

es::NewEvent make_event(std::string type, std::string payload) {
  es::NewEvent event;
  event.type = std::move(type);
  event.type_code = 1;
  event.payload = std::move(payload);
  return event;
}

// Runs body(t) for t in 0..threads-1, each on its own thread, all released at the
// same moment; returns once every one has returned.
void run_together(int threads, const std::function<void(int)>& body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> started;
  for (int t = 0; t < threads; ++t) {
    started.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      body(t);
    });
  }
  for (auto& thread : started) thread.join();
}

// Records what a subscription delivers, on the subscription's thread.
class Collector {
 public:
  es::SubscriptionHandler handler() {
    es::SubscriptionHandler h;
    h.on_event = [this](const es::RecordedEvent& e) {
      std::lock_guard lock(mu_);
      positions_.push_back(e.position);
      cv_.notify_all();
    };
    h.on_caught_up = [this](std::uint64_t) {
      std::lock_guard lock(mu_);
      ++caught_up_;
    };
    h.on_stop = [this](const es::Status& status) {
      std::lock_guard lock(mu_);
      ++stops_;
      stop_status_ = status;
      cv_.notify_all();
    };
    return h;
  }

  // Waits until at least n events arrived; false on timeout.
  bool wait_for(std::size_t n, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return positions_.size() >= n; });
  }

  std::vector<std::uint64_t> positions() const {
    std::lock_guard lock(mu_);
    return positions_;
  }
  int caught_up() const {
    std::lock_guard lock(mu_);
    return caught_up_;
  }
  int stops() const {
    std::lock_guard lock(mu_);
    return stops_;
  }
  es::Status stop_status() const {
    std::lock_guard lock(mu_);
    return stop_status_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::uint64_t> positions_;
  int caught_up_ = 0;
  int stops_ = 0;
  es::Status stop_status_;
};

// One successful append of a worker: the command and where its write to each stream landed.
struct AppendRecord {
  es::CommandId command_id;
  std::vector<es::StreamAppendResult> streams;
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;
};

struct WorkerResult {
  std::vector<AppendRecord> appends;
  std::array<std::uint64_t, kStreams> events_per_stream{};
  std::uint64_t conflicts = 0;
};

std::uint64_t next_version(std::optional<std::uint64_t> head) {
  return head ? *head + 1 : 0;
}

// One read-then-append operation on `streams` (one event each), retried after a wrong expected
// version. The command id stays the same across the retries, as a command handler's would: a
// refused attempt is not recorded, so the id is still free for the next attempt with new
// expectations.
bool append_with_retry(es::EventStore& store, const std::vector<int>& streams, const std::string& payload,
                       WorkerResult& out) {
  es::AppendRequest request;
  request.command_id = es::Id16::random();
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    request.writes.clear();
    std::vector<std::optional<std::uint64_t>> heads;
    for (int s : streams) {
      auto head = store.stream_head(account(s));
      if (!head.ok()) {
        ADD_FAILURE() << "stream_head(" << account(s) << "): " << head.status().to_string();
        return false;
      }
      heads.push_back(*head);
      request.writes.push_back(
          {account(s),
           es::ExpectedVersion::at(*head),
           {make_event(streams.size() == 1 ? "Deposited" : "Transferred", payload + " " + account(s))}});
    }
    auto result = store.append(request);
    if (!result.ok()) {
      if (result.status().code() == es::StatusCode::kWrongExpectedVersion) {
        ++out.conflicts;
        continue;
      }
      ADD_FAILURE() << "append: " << result.status().to_string();
      return false;
    }
    if (result->deduplicated || result->streams.size() != streams.size()) {
      ADD_FAILURE() << "append of a new command: deduplicated " << result->deduplicated << ", "
                    << result->streams.size() << " stream results";
      return false;
    }
    for (std::size_t i = 0; i < streams.size(); ++i) {
      const es::StreamAppendResult& r = result->streams[i];
      // The append succeeded with the head read above as expectation, so its event follows that head.
      if (r.stream != account(streams[i]) || r.first_version != next_version(heads[i]) ||
          r.last_version != r.first_version) {
        ADD_FAILURE() << "append to " << account(streams[i]) << " expecting "
                      << es::ExpectedVersion::at(heads[i]).to_string() << " returned " << r.stream
                      << " versions " << r.first_version << ".." << r.last_version;
        return false;
      }
      ++out.events_per_stream[streams[i]];
    }
    out.appends.push_back(
        {request.command_id, result->streams, result->first_position, result->last_position});
    return true;
  }
  ADD_FAILURE() << "no progress after " << kMaxAttempts << " attempts";
  return false;
}

// Runs `threads` workers; worker t runs op(t, result) until it returns. Meanwhile the calling thread
// runs `meanwhile(running)`, where running() is false once every worker has returned.
std::vector<WorkerResult> run_workers(int threads, const std::function<void(int, WorkerResult&)>& op,
                                      const std::function<void(const std::function<bool()>&)>& meanwhile) {
  std::vector<WorkerResult> results(threads);
  std::atomic<int> finished{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      op(t, results[t]);
      finished.fetch_add(1);
    });
  }
  meanwhile([&] { return finished.load() < threads; });
  for (std::thread& w : workers) w.join();
  return results;
}

// The subscriptions of a run: one started on the empty store before the appends (live from the
// start), one started from the middle of the log while appends race (its catch-up has to hand over
// to live delivery without a gap or duplicate).
struct Subscribers {
  Collector early;
  std::unique_ptr<es::Subscription> early_subscription;
  Collector late;
  std::unique_ptr<es::Subscription> late_subscription;
  std::uint64_t late_from = 0;

  void start_early(es::EventStore& store) {
    auto s = store.subscribe(1, early.handler());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    early_subscription = std::move(*s);
  }

  // On the main thread while the workers run: waits for a third of the appends, then subscribes
  // from half of what is committed so far.
  void start_late(es::EventStore& store, std::uint64_t total, const std::function<bool()>& running) {
    while (running() && store.last_position() < total / 3) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    late_from = store.last_position() / 2 + 1;
    auto s = store.subscribe(late_from, late.handler());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    late_subscription = std::move(*s);
  }
};

std::vector<es::RecordedEvent> read_whole_log(es::EventStore& store) {
  std::vector<es::RecordedEvent> log;
  const std::uint64_t last = store.last_position();
  while (log.size() < last) {
    auto batch = store.read_all(log.size() + 1, 8192);
    if (!batch.ok()) {
      ADD_FAILURE() << "read_all(" << log.size() + 1 << "): " << batch.status().to_string();
      break;
    }
    if (batch->empty()) {
      ADD_FAILURE() << "read_all(" << log.size() + 1 << ") empty below last_position " << last;
      break;
    }
    for (es::RecordedEvent& e : *batch) log.push_back(std::move(e));
  }
  return log;
}

// Checks the log and the stream index against what the workers did. `events_per_command` is the
// number of events each append wrote (one per stream it touched).
void check_store(es::EventStore& store, const std::vector<WorkerResult>& results,
                 std::uint64_t expected_events, std::size_t events_per_command) {
  std::array<std::uint64_t, kStreams> appended{};
  std::size_t commands = 0;
  for (const WorkerResult& r : results) {
    for (int s = 0; s < kStreams; ++s) appended[s] += r.events_per_stream[s];
    commands += r.appends.size();
  }
  std::uint64_t total = 0;
  for (std::uint64_t n : appended) total += n;
  ASSERT_EQ(total, expected_events) << "the workers did not complete every operation";
  ASSERT_EQ(store.last_position(), expected_events);

  // Positions 1..N, contiguous; versions along the log gap-free per stream.
  const std::vector<es::RecordedEvent> log = read_whole_log(store);
  ASSERT_EQ(log.size(), expected_events);
  std::map<std::string, std::vector<std::uint64_t>> stream_positions;  // stream -> position of version v
  std::unordered_map<es::CommandId, std::vector<std::uint64_t>, Id16Hash> command_positions;
  std::int64_t last_recorded_at = 0;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const es::RecordedEvent& e = log[i];
    ASSERT_EQ(e.position, i + 1) << "gap or disorder in read_all";
    std::vector<std::uint64_t>& versions = stream_positions[std::string(e.stream)];
    ASSERT_EQ(e.version, versions.size()) << "version gap in " << e.stream << " at position " << e.position;
    versions.push_back(e.position);
    command_positions[e.command_id].push_back(e.position);
    EXPECT_GE(e.recorded_at_us, last_recorded_at) << "recorded_at decreases at position " << e.position;
    last_recorded_at = e.recorded_at_us;
  }
  auto beyond = store.read_all(expected_events + 1, 10);
  ASSERT_TRUE(beyond.ok());
  EXPECT_TRUE(beyond->empty()) << "events beyond last_position";

  // Heads count the successful appends; read_stream agrees with the log.
  for (int s = 0; s < kStreams; ++s) {
    const std::string name = account(s);
    auto head = store.stream_head(name);
    ASSERT_TRUE(head.ok()) << head.status().to_string();
    if (appended[s] == 0) {
      EXPECT_FALSE(head->has_value()) << name;
      continue;
    }
    ASSERT_TRUE(head->has_value()) << name;
    EXPECT_EQ(**head + 1, appended[s]) << name << ": head + 1 vs successful appends";
    const std::vector<std::uint64_t>& positions = stream_positions[name];
    ASSERT_EQ(positions.size(), appended[s]) << name << ": events in the log vs successful appends";
    auto events = store.read_stream(name, es::Direction::kForward, 0, appended[s] + 10);
    ASSERT_TRUE(events.ok()) << events.status().to_string();
    ASSERT_EQ(events->size(), appended[s]) << name;
    for (std::size_t v = 0; v < events->size(); ++v) {
      const es::RecordedEvent& e = (*events)[v];
      ASSERT_EQ(e.version, v) << name;
      ASSERT_EQ(e.position, positions[v]) << name << " version " << v;
      if (v > 0) {
        ASSERT_GT(e.position, (*events)[v - 1].position) << name;
      }
      ASSERT_EQ(e.command_id, log[e.position - 1].command_id) << name << " version " << v;
    }
    auto backward = store.read_stream(name, es::Direction::kBackward, es::kStreamEnd, appended[s] + 10);
    ASSERT_TRUE(backward.ok()) << backward.status().to_string();
    ASSERT_EQ(backward->size(), appended[s]) << name;
    for (std::size_t i = 0; i < backward->size(); ++i) {
      ASSERT_EQ((*backward)[i].position, positions[appended[s] - 1 - i]) << name << " backward";
    }
  }
  EXPECT_EQ(stream_positions.size(), static_cast<std::size_t>(kStreams)) << "events on unknown streams";

  // Each result points at its own events, and each command's events are whole and consecutive.
  EXPECT_EQ(command_positions.size(), commands) << "commands in the log vs successful appends";
  for (const WorkerResult& r : results) {
    for (const AppendRecord& a : r.appends) {
      const auto it = command_positions.find(a.command_id);
      ASSERT_NE(it, command_positions.end()) << "command " << a.command_id.to_hex() << " missing";
      const std::vector<std::uint64_t>& positions = it->second;
      ASSERT_EQ(positions.size(), events_per_command) << "command " << a.command_id.to_hex();
      EXPECT_EQ(positions.front(), a.first_position) << "command " << a.command_id.to_hex();
      EXPECT_EQ(positions.back(), a.last_position) << "command " << a.command_id.to_hex();
      EXPECT_EQ(a.last_position - a.first_position + 1, events_per_command)
          << "command " << a.command_id.to_hex() << ": events not at consecutive positions";
      for (const es::StreamAppendResult& s : a.streams) {
        ASSERT_GE(s.first_position, 1u);
        ASSERT_LE(s.first_position, log.size());
        const es::RecordedEvent& e = log[s.first_position - 1];
        EXPECT_EQ(e.command_id, a.command_id) << "position " << s.first_position;
        EXPECT_EQ(e.stream, s.stream) << "position " << s.first_position;
        EXPECT_EQ(e.version, s.first_version) << "position " << s.first_position;
      }
    }
  }
}

// The subscriber saw exactly positions from..n, in order, then stopped cleanly.
void check_subscriber(Collector& collector, es::Subscription& subscription, std::uint64_t from,
                      std::uint64_t n) {
  const std::uint64_t expected = n - from + 1;
  EXPECT_TRUE(collector.wait_for(expected, std::chrono::seconds(60)))
      << "subscriber from " << from << " saw " << collector.positions().size() << " of " << expected;
  // Anything beyond n would be a duplicate; give a late one a moment to show up.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  subscription.stop();
  const std::vector<std::uint64_t> positions = collector.positions();
  ASSERT_EQ(positions.size(), expected)
      << "subscriber from " << from << " received a different number of events";
  for (std::size_t i = 0; i < positions.size(); ++i) {
    ASSERT_EQ(positions[i], from + i)
        << "subscriber from " << from << ": gap, duplicate or disorder at delivery " << i;
  }
  EXPECT_EQ(subscription.position(), n);
  EXPECT_EQ(collector.caught_up(), 1) << "on_caught_up must be called exactly once";
  EXPECT_EQ(collector.stops(), 1) << "on_stop must be called exactly once";
  EXPECT_TRUE(collector.stop_status().ok()) << collector.stop_status().to_string();
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void open(es::Durability durability) {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    es::RocksDbOptions options;
    options.durability = durability;
    auto opened = es::RocksDbEventStore::open(dir_.path(), options);
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    store_ = std::move(*opened);
  }

  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->close().ok());
    }
  }

  // Runs the workers with both subscribers attached and checks everything afterwards. `total` is
  // the number of events the workers append when every operation succeeds.
  void run_and_check(int threads, const std::function<void(int, WorkerResult&)>& op, std::uint64_t total,
                     std::size_t events_per_command) {
    Subscribers subscribers;
    ASSERT_NO_FATAL_FAILURE(subscribers.start_early(*store_));
    const auto started = std::chrono::steady_clock::now();
    const std::vector<WorkerResult> results = run_workers(
        threads, op,
        [&](const std::function<bool()>& running) { subscribers.start_late(*store_, total, running); });
    report(results, started);
    ASSERT_TRUE(subscribers.late_subscription) << "the mid-run subscription did not start";

    check_store(*store_, results, total, events_per_command);
    // A store that lost appends would leave the subscribers waiting for them until the timeout.
    if (HasFatalFailure()) return;
    check_subscriber(subscribers.early, *subscribers.early_subscription, 1, total);
    check_subscriber(subscribers.late, *subscribers.late_subscription, subscribers.late_from, total);
  }

  // Single-stream read-then-append: `threads` x `ops` operations on the 16 shared streams.
  void run_single_stream(int threads, int ops) {
    run_and_check(
        threads,
        [&](int t, WorkerResult& out) {
          std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 7919 + 17);
          for (int op = 0; op < ops; ++op) {
            const int s = static_cast<int>(rng() % kStreams);
            if (!append_with_retry(*store_, {s}, "t" + std::to_string(t) + " op" + std::to_string(op), out)) {
              return;
            }
          }
        },
        static_cast<std::uint64_t>(threads) * ops, 1);
  }

  void report(const std::vector<WorkerResult>& results, std::chrono::steady_clock::time_point started) {
    std::uint64_t appends = 0;
    std::uint64_t conflicts = 0;
    for (const WorkerResult& r : results) {
      appends += r.appends.size();
      conflicts += r.conflicts;
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
            .count();
    std::printf("%llu appends, %llu conflicts retried, %llu group commits, %llu syncs, %lld ms\n",
                static_cast<unsigned long long>(appends), static_cast<unsigned long long>(conflicts),
                static_cast<unsigned long long>(store_->group_commits()),
                static_cast<unsigned long long>(store_->syncs()), static_cast<long long>(ms));
  }

  TempDir dir_;
  std::unique_ptr<es::RocksDbEventStore> store_;
};

TEST_F(ConcurrencyTest, BufferedReadThenAppendKeepsPositionsAndStreamsGapFree) {
  ASSERT_NO_FATAL_FAILURE(open(es::Durability::kBuffered));
  run_single_stream(8, 10'000);
}

TEST_F(ConcurrencyTest, SyncReadThenAppendSharesGroupCommits) {
  ASSERT_NO_FATAL_FAILURE(open(es::Durability::kSync));
  run_single_stream(8, 500);
  if (HasFatalFailure()) return;
  // 4,000 appends from 8 threads, each fsynced before it is acknowledged: with group commit, appends
  // that wait for the same sync share it, so there are far fewer syncs than appends. (Sharing a
  // WriteBatch as well is likely but depends on the scheduler: a leader does not wait for more.)
  EXPECT_LT(store_->syncs(), 8u * 500u * 3 / 4) << "concurrent appends rarely shared a sync";
  EXPECT_LE(store_->group_commits(), 8u * 500u);
}

TEST_F(ConcurrencyTest, MultiStreamTransfersAreWholeAndGapFree) {
  ASSERT_NO_FATAL_FAILURE(open(es::Durability::kBuffered));
  constexpr int kThreads = 8;
  constexpr int kTransfers = 2'500;
  run_and_check(
      kThreads,
      [&](int t, WorkerResult& out) {
        std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 104729 + 3);
        for (int op = 0; op < kTransfers; ++op) {
          const int from = static_cast<int>(rng() % kStreams);
          const int to = (from + 1 + static_cast<int>(rng() % (kStreams - 1))) % kStreams;
          // Exact expected versions on both streams: a transfer decided on stale heads must not commit.
          const std::string payload = "t" + std::to_string(t) + " transfer" + std::to_string(op);
          if (!append_with_retry(*store_, {from, to}, payload, out)) return;
        }
      },
      2ull * kThreads * kTransfers, 2);
}


// stream_head() while appends land: a head a reader sees never goes back, is always
// readable (visible: never an event still being synced), and a writer sees at least
// its own acknowledged append. Reopened, the store reports the same heads.
class StreamHeadTest : public ConcurrencyTest, public ::testing::WithParamInterface<es::Durability> {};

TEST_P(StreamHeadTest, HeadsSeenWhileAppendingAreVisibleMonotonicAndCoverOwnWrites) {
  ASSERT_NO_FATAL_FAILURE(open(GetParam()));
  constexpr int kWriters = 4, kReaders = 2, kAppends = 300;
  const std::vector<std::string> streams = {"provider-hot", "org-warm"};
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kAppends; ++i) {
        const std::string& stream = streams[static_cast<std::size_t>(i + w) % streams.size()];
        es::AppendRequest request;
        request.command_id = es::Id16::random();
        request.writes.push_back({stream, es::ExpectedVersion::any(), {make_event("E", "x")}});
        auto r = store_->append(request);
        if (!r.ok()) {
          ++failures;
          continue;
        }
        auto head = store_->stream_head(stream);
        if (!head.ok() || !head->has_value() || **head < r->streams[0].last_version) ++failures;
      }
      --writers_left;
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      std::map<std::string, std::uint64_t> seen;
      while (writers_left.load() > 0) {
        for (const std::string& stream : streams) {
          auto head = store_->stream_head(stream);
          if (!head.ok()) {
            ++failures;
            continue;
          }
          if (!head->has_value()) continue;
          if (seen.count(stream) && **head < seen[stream]) ++failures;  // went back
          seen[stream] = **head;
          auto at = store_->read_stream(stream, es::Direction::kForward, **head, 1);
          if (!at.ok() || at->size() != 1 || at->front().version != **head) ++failures;  // not readable
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  std::map<std::string, std::optional<std::uint64_t>> before;
  for (const std::string& stream : streams) {
    auto head = store_->stream_head(stream);
    ASSERT_TRUE(head.ok());
    before[stream] = *head;
  }
  std::uint64_t total = 0;
  for (const auto& [stream, head] : before) total += head ? *head + 1 : 0;
  EXPECT_EQ(total, static_cast<std::uint64_t>(kWriters) * kAppends);
  ASSERT_TRUE(store_->close().ok());
  store_.reset();
  ASSERT_NO_FATAL_FAILURE(open(GetParam()));
  for (const std::string& stream : streams) {
    auto head = store_->stream_head(stream);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(*head, before[stream]) << stream;
  }
}

INSTANTIATE_TEST_SUITE_P(Durability, StreamHeadTest,
                         ::testing::Values(es::Durability::kBuffered, es::Durability::kSync),
                         [](const auto& info) {
                           return info.param == es::Durability::kSync ? std::string("Sync")
                                                                      : std::string("Buffered");
                         });

}  // namespace

// Sync durability in bursts: 64 writers append together, pause, and go again, so
// that syncs are run by leaders and by the sync thread, which starts and goes idle
// many times. Every append must be readable the moment it is acknowledged (it was
// synced and published before the caller was woken), appends must share syncs,
// and after a reopen every acknowledged append is where it was acknowledged.
TEST_F(ConcurrencyTest, SyncBurstsAreReadableOnReturnAndSurviveReopen) {
  ASSERT_NO_FATAL_FAILURE(open(es::Durability::kSync));
  constexpr int kWriters = 64;
  constexpr int kBursts = 6;
  constexpr int kPerBurst = 15;
  struct Acked {
    std::string stream;
    std::uint64_t version = 0;
    std::uint64_t position = 0;
    std::string payload;
  };
  std::vector<std::vector<Acked>> acked(kWriters);
  std::vector<std::string> failures(kWriters);
  std::atomic<int> arrived{0};
  std::atomic<bool> failed{false};  // ends the bursts for everyone
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int burst = 0; burst < kBursts; ++burst) {
        // Everyone starts a burst together; the pause between bursts lets the
        // sync thread run out of work and go idle.
        arrived.fetch_add(1);
        while (arrived.load() < kWriters * (burst + 1) && !failed.load()) std::this_thread::yield();
        if (failed.load()) return;
        for (int i = 0; i < kPerBurst; ++i) {
          es::AppendRequest request;
          request.command_id = es::Id16::random();
          const std::string stream = "item-w" + std::to_string(t % 16);
          const std::string payload = std::to_string(t) + "/" + std::to_string(burst) + "/" + std::to_string(i);
          request.writes.push_back({stream, es::ExpectedVersion::any(), {make_event("ItemUpdated", payload)}});
          auto result = store_->append(request);
          if (!result.ok()) {
            failures[t] = result.status().to_string();
            failed.store(true);
            return;
          }
          const auto& written = result->streams.at(0);
          auto read = store_->read_stream(stream, es::Direction::kForward, written.first_version, 1);
          if (!read.ok() || read->size() != 1 || (*read)[0].payload != payload) {
            failures[t] = "append of " + payload + " at " + stream + "@" + std::to_string(written.first_version) +
                          " was acknowledged but is not readable";
            failed.store(true);
            return;
          }
          acked[t].push_back({stream, written.first_version, result->first_position, payload});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kWriters; ++t) ASSERT_EQ(failures[t], "") << "writer " << t;
  const std::uint64_t total = static_cast<std::uint64_t>(kWriters) * kBursts * kPerBurst;
  EXPECT_EQ(store_->last_position(), total);
  EXPECT_LT(store_->syncs(), total / 2)
      << "64 concurrent writers rarely shared a sync: " << store_->syncs() << " syncs";

  ASSERT_TRUE(store_->close().ok());
  store_.reset();
  ASSERT_NO_FATAL_FAILURE(open(es::Durability::kSync));
  for (int t = 0; t < kWriters; ++t) {
    for (const Acked& a : acked[t]) {
      auto read = store_->read_stream(a.stream, es::Direction::kForward, a.version, 1);
      ASSERT_TRUE(read.ok()) << read.status().to_string();
      ASSERT_EQ(read->size(), 1u) << a.payload << " is gone after reopen";
      EXPECT_EQ((*read)[0].position, a.position) << a.payload;
      EXPECT_EQ((*read)[0].payload, a.payload) << a.payload;
    }
  }
}

// Twins: one command id submitted by several callers at the same moment, as
// client retries racing their first attempt do. Most carry the command as it
// was; some carry other content under the same id. Twins meet in one group
// (compared with each other) or in consecutive groups (compared with the
// committed events), and either way the command id appends once: every twin
// with the winner's content gets the winner's result, every other one is
// refused with FailedPrecondition.
TEST_F(ConcurrencyTest, TwinsOfOneCommandIdAppendOnce) {
  ASSERT_NO_FATAL_FAILURE(open(es::Durability::kSync));
  constexpr int kTwins = 8;
  constexpr int kOtherContent = 2;  // the last two twins of each round
  constexpr int kRounds = 150;
  // Other callers keep the store busy, so that twins queue behind a running group
  // and often land in one group together.
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> traffic{0};
  std::vector<std::thread> others;
  for (int t = 0; t < 4; ++t) {
    others.emplace_back([&, t] {
      while (!done.load()) {
        es::AppendRequest request;
        request.command_id = es::Id16::random();
        request.writes.push_back({"item-busy" + std::to_string(t),
                                  es::ExpectedVersion::any(),
                                  {make_event("ItemUpdated", "busy")}});
        if (store_->append(request).ok()) traffic.fetch_add(1);
      }
    });
  }
  for (int round = 0; round < kRounds; ++round) {
    es::AppendRequest same;
    same.command_id = es::Id16::random();
    const std::string stream = "item-twin" + std::to_string(round % 4);
    same.writes.push_back({stream, es::ExpectedVersion::any(), {make_event("ItemUpdated", "as it was")}});
    same.writes.push_back({"item-other",
                           es::ExpectedVersion::any(),
                           {make_event("ItemMoved", "a"), make_event("ItemMoved", "b")}});
    if (round % 2 == 0) {  // ids given by the caller; else left to the store
      for (auto& write : same.writes)
        for (auto& event : write.events) event.event_id = es::Id16::random();
    }
    es::AppendRequest other = same;
    other.writes[1].events[1].payload = "c";

    std::vector<std::optional<es::Result<es::AppendResult>>> results(kTwins);
    run_together(kTwins, [&](int t) {
      results[t].emplace(store_->append(t < kTwins - kOtherContent ? same : other));
    });

    // The winner: the one result that appended.
    int winner = -1;
    for (int t = 0; t < kTwins; ++t) {
      if (results[t]->ok() && !results[t]->value().deduplicated) {
        ASSERT_EQ(winner, -1) << "round " << round << ": twins " << winner << " and " << t
                              << " both appended";
        winner = t;
      }
    }
    ASSERT_NE(winner, -1) << "round " << round << ": no twin appended";
    const bool winner_same = winner < kTwins - kOtherContent;
    const es::AppendResult& won = results[winner]->value();
    for (int t = 0; t < kTwins; ++t) {
      if (t == winner) continue;
      const bool twin_same = t < kTwins - kOtherContent;
      const auto& result = *results[t];
      if (twin_same == winner_same) {
        ASSERT_TRUE(result.ok()) << "round " << round << ", twin " << t << ": "
                                 << result.status().to_string();
        EXPECT_TRUE(result->deduplicated);
        EXPECT_EQ(result->first_position, won.first_position) << "round " << round << ", twin " << t;
        EXPECT_EQ(result->last_position, won.last_position);
        EXPECT_EQ(result->streams, won.streams);
        EXPECT_EQ(result->recorded_at_us, won.recorded_at_us);
      } else {
        ASSERT_FALSE(result.ok()) << "round " << round << ", twin " << t
                                  << " with other content was accepted";
        EXPECT_EQ(result.status().code(), es::StatusCode::kFailedPrecondition) << result.status().to_string();
      }
    }
    auto events = store_->read_all(won.first_position, 3);
    ASSERT_TRUE(events.ok()) << events.status().to_string();
    ASSERT_EQ(events->size(), 3u);
    EXPECT_EQ((*events)[2].payload, winner_same ? "b" : "c") << "round " << round;
  }
  done.store(true);
  for (auto& thread : others) thread.join();
  // Each round appended its command once: 3 events, besides the other callers' one each.
  EXPECT_EQ(store_->last_position(), 3u * kRounds + traffic.load());
  auto all = store_->read_all(1, 3 * kRounds + traffic.load() + 1);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  std::size_t twins_events = 0;
  for (const auto& event : *all) twins_events += event.stream.rfind("item-busy", 0) == 0 ? 0 : 1;
  EXPECT_EQ(twins_events, 3u * kRounds);
}

// In sync mode only synced heads are visible, so the head that refuses an append
// may be written but not yet readable. The refusal waits for it: a caller that
// re-reads the head after a wrong expected version sees a newer head than the one
// it expected, rather than retrying on the stale one until the sync lands.
TEST_F(ConcurrencyTest, SyncRefusalsReturnOnceTheNewerHeadIsVisible) {
  ASSERT_NO_FATAL_FAILURE(open(es::Durability::kSync));
  constexpr int kThreads = 8;
  constexpr int kAppends = 150;  // per thread
  std::atomic<std::uint64_t> conflicts{0};
  std::vector<std::string> failures(kThreads);
  run_together(kThreads, [&](int t) {
    const std::string stream = account(t % 2);  // four threads per stream
    for (int i = 0; i < kAppends && failures[t].empty(); ++i) {
      es::AppendRequest request;
      request.command_id = es::Id16::random();
      for (int attempt = 0;; ++attempt) {
        auto head = store_->stream_head(stream);
        if (!head.ok() || attempt == kMaxAttempts) {
          failures[t] = "no progress on " + stream;
          break;
        }
        request.writes = {{stream, es::ExpectedVersion::at(*head), {make_event("Deposited", "d")}}};
        auto result = store_->append(request);
        if (result.ok()) break;
        if (result.status().code() != es::StatusCode::kWrongExpectedVersion) {
          failures[t] = result.status().to_string();
          break;
        }
        conflicts.fetch_add(1);
        auto again = store_->stream_head(stream);
        if (!again.ok() || *again == *head) {
          failures[t] = "refused with \"" + result.status().to_string() +
                        "\", but the head read right after is " +
                        (again.ok() && again->has_value() ? std::to_string(**again) : "none") +
                        ", the one the append expected";
          break;
        }
      }
    }
  });
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  auto a = store_->stream_head(account(0));
  auto b = store_->stream_head(account(1));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(**a + 1 + **b + 1, static_cast<std::uint64_t>(kThreads) * kAppends);
  std::printf("%d appends, %llu refusals\n", kThreads * kAppends,
              static_cast<unsigned long long>(conflicts.load()));
}
