// kill -9 of a projection runner (issue 5, "Tests": rows and checkpoint never
// apart; "Rebuild": resumes after a kill -9 without starting again from 0).
//
// A log of well-formed events is built once. projections_crash_child runs a Runner
// with a projection that writes several rows per event (one per event, a count per
// stream and filler rows) and is SIGKILLed at random moments while it folds
// batches in. After each kill the projections database is reopened and checked:
// every event up to the checkpoint has all its rows, no event after it has any,
// and every per-stream count equals the events of the stream up to the checkpoint
// (an event applied twice or lost shows there). The next child continues from the
// checkpoint; a child that gets to the end must give the digest of an
// uninterrupted run.
//
// Environment: PORTAL_CRASH_CYCLES (kills that land mid-run, default 24),
// PORTAL_CRASH_SEED (default: random; printed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "child_process.h"
#include "portal/projections/runner.h"
#include "projection_test_support.h"

namespace portal::projections {
namespace {

using namespace std::chrono_literals;
using namespace portal::projections::testing;
using Clock = std::chrono::steady_clock;

constexpr const char* kWide = "wide";
constexpr std::uint64_t kEvents = 20'000;
constexpr std::uint64_t kStreams = 11;
constexpr std::size_t kBatch = 300;
constexpr std::size_t kWideRows = 6;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

// The child, its stdout on a pipe.
class Child : public portal::test_support::ChildProcess {
 public:
  explicit Child(std::vector<std::string> args)
      : ChildProcess(PORTAL_PROJECTIONS_CRASH_CHILD, std::move(args)) {}
};

class ProjectionsCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = env_u64("PORTAL_CRASH_SEED", std::random_device{}());
    std::fprintf(stderr, "projections crash test: PORTAL_CRASH_SEED=%llu\n",
                 static_cast<unsigned long long>(seed_));
    rng_.seed(seed_);
    {
      auto store = open_store(log_dir());
      last_ = append_events(*store, kEvents, kStreams);
      ASSERT_EQ(last_, kEvents);
      auto events = store->read_all(1, kEvents);
      ASSERT_TRUE(events.ok());
      for (const auto& e : *events) stream_at_.emplace_back(e.stream);
      ASSERT_TRUE(store->close().ok());
    }
    // An uninterrupted run: the reference digest and how long a run takes.
    const auto start = Clock::now();
    run_in_process(dir_.sub("reference"), [](Runner& r) { return r.catch_up(); });
    run_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    auto db = open_db(dir_.sub("reference"));
    const auto gen = db->serving(kWide);
    ASSERT_TRUE(gen.has_value());
    ASSERT_EQ(db->checkpoint(kWide, gen->number), last_);
    reference_digest_ = db->digest(kWide, gen->number);
  }

  std::string log_dir() const { return dir_.sub("log"); }

  // Opens the log read-only and the projections in `dir`, and runs `what` on a Runner.
  void run_in_process(const std::string& dir, const std::function<es::Status(Runner&)>& what,
                      std::function<void(std::uint64_t)> on_apply = {}) {
    es::RocksDbOptions o;
    o.read_only = true;
    auto store = es::RocksDbEventStore::open(log_dir(), o);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    auto db = open_db(dir);
    std::vector<std::unique_ptr<Projection>> projections;
    projections.push_back(counting(named(kWide).widened(kWideRows).applying(std::move(on_apply))));
    RunnerOptions options;
    options.batch_events = kBatch;
    auto runner = Runner::create(**store, *db, std::move(projections), options);
    ASSERT_TRUE(runner.ok()) << runner.status().to_string();
    const es::Status s = what(**runner);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }

  std::vector<std::string> child_args(const std::string& mode, const std::string& dir,
                                      std::uint64_t mark = 0) const {
    std::vector<std::string> args = {mode, log_dir(), dir, std::to_string(kBatch), std::to_string(kWideRows)};
    if (mark != 0) args.push_back(std::to_string(mark));
    return args;
  }

  std::uint64_t kill_when_done_and_check(const std::string& mode, const std::string& proj);

  // Rows and checkpoint of one generation agree; returns the checkpoint.
  std::uint64_t check_generation(const ProjectionDb& db, std::uint64_t generation, const std::string& when) {
    SCOPED_TRACE(when + ", generation " + std::to_string(generation));
    const std::uint64_t cp = db.checkpoint(kWide, generation);
    EXPECT_LE(cp, last_);
    const CountedRows rows = read_counted(db, kWide, generation);
    EXPECT_EQ(rows.events.size(), cp) << "events with rows: the checkpoint is " << cp;
    if (!rows.events.empty()) {
      EXPECT_EQ(rows.events.begin()->first, 1u);
      EXPECT_EQ(rows.events.rbegin()->first, cp) << "rows of an event after the checkpoint";
    }
    EXPECT_EQ(rows.wide.size(), cp) << "events with filler rows: the checkpoint is " << cp;
    if (!rows.wide.empty()) {
      EXPECT_LE(rows.wide.rbegin()->first, cp);
    }
    std::size_t partial = 0;
    for (const auto& [p, n] : rows.wide) partial += n == kWideRows ? 0 : 1;
    EXPECT_EQ(partial, 0u) << "events with only some of their rows";
    EXPECT_EQ(rows.bad_filler, 0u);
    std::map<std::string, std::uint64_t> expected;
    for (std::uint64_t p = 1; p <= cp && p <= stream_at_.size(); ++p) ++expected[stream_at_[p - 1]];
    EXPECT_EQ(rows.counts, expected) << "per-stream counts disagree with the checkpoint " << cp;
    return cp;
  }

  TempDir dir_{"projections-crash"};
  std::uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::uint64_t last_ = 0;
  std::vector<std::string> stream_at_;  // position - 1 -> stream
  std::chrono::milliseconds run_time_{0};
  std::string reference_digest_;
};

TEST_F(ProjectionsCrashTest, KillMidBatchNeverLeavesRowsAndCheckpointApart) {
  const std::uint64_t wanted = env_u64("PORTAL_CRASH_CYCLES", 24);
  const std::string proj = dir_.sub("killed");
  // Kill somewhere within what is left of a run (as timed in SetUp; halved
  // whenever a child finished first, in case SetUp was timed on a busy moment).
  long run_us =
      std::max<long>(std::chrono::duration_cast<std::chrono::microseconds>(run_time_).count(), 20'000);

  std::uint64_t mid_run = 0, completed = 0, cycles = 0;
  std::uint64_t previous_cp = 0;
  while (mid_run < wanted && cycles < 6 * wanted) {
    ++cycles;
    const std::string when = "cycle " + std::to_string(cycles);
    bool killed_running = false;
    {
      Child child(child_args("catchup", proj));
      ASSERT_TRUE(child.wait_line("READY", 30s)) << when << ": the child did not start";
      const long left_us = run_us * static_cast<long>(last_ - previous_cp) / static_cast<long>(last_);
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::uniform_int_distribution<long>(0, left_us + 2'000)(rng_)));
      killed_running = !child.said("DONE") && child.kill();
    }
    if (!killed_running) run_us = std::max<long>(run_us / 2, 2'000);
    auto db = open_db(proj);
    const auto gen = db->serving(kWide);
    ASSERT_TRUE(gen.has_value()) << when;
    const std::uint64_t cp = check_generation(*db, gen->number, when);
    if (::testing::Test::HasFailure()) return;
    EXPECT_GE(cp, previous_cp) << when << ": the checkpoint went back";
    previous_cp = cp;
    if (killed_running && cp < last_) ++mid_run;
    if (cp == last_) {
      // This run got to the end: it must equal the uninterrupted one. Start over.
      EXPECT_EQ(db->digest(kWide, gen->number), reference_digest_) << when;
      ++completed;
      db.reset();
      std::filesystem::remove_all(proj);
      previous_cp = 0;
    }
  }
  std::fprintf(
      stderr,
      "projections crash test: a run takes %lld ms; %llu cycles, %llu killed mid-run, %llu runs completed\n",
      static_cast<long long>(run_time_.count()), static_cast<unsigned long long>(cycles),
      static_cast<unsigned long long>(mid_run), static_cast<unsigned long long>(completed));
  EXPECT_GE(mid_run, wanted) << "too few kills landed while the child was folding events in";

  // Whatever the last kill left, continuing to the end gives the uninterrupted digest.
  run_in_process(proj, [](Runner& r) { return r.catch_up(); });
  auto db = open_db(proj);
  const auto gen = db->serving(kWide);
  ASSERT_TRUE(gen.has_value());
  EXPECT_EQ(check_generation(*db, gen->number, "after continuing"), last_);
  EXPECT_EQ(db->digest(kWide, gen->number), reference_digest_);
}

// Runs the child in a `-hold` mode on `proj` until it says DONE, kills it there
// (no clean close), and checks that the serving generation holds every event.
// Returns that generation's number.
std::uint64_t ProjectionsCrashTest::kill_when_done_and_check(const std::string& mode,
                                                             const std::string& proj) {
  const std::string when = "killed after " + mode + " was done";
  {
    Child child(child_args(mode, proj));
    EXPECT_TRUE(child.wait_line("READY", 30s)) << when << ": the child did not start";
    EXPECT_TRUE(child.wait_line("DONE", 60s)) << when << ": the child did not finish";
    EXPECT_TRUE(child.kill()) << when << ": the child exited by itself";
  }
  auto db = open_db(proj);
  const auto serving = db->serving(kWide);
  if (!serving) {
    ADD_FAILURE() << when << ": nothing serves";
    return 0;
  }
  EXPECT_EQ(check_generation(*db, serving->number, when), last_)
      << "folded events were lost with the process";
  EXPECT_EQ(db->digest(kWide, serving->number), reference_digest_) << when;
  return serving->number;
}

// What a catch-up folded is durable once it returns, without a clean close.
TEST_F(ProjectionsCrashTest, WhatACatchUpFoldedSurvivesAKillAfterItReturns) {
  kill_when_done_and_check("catchup-hold", dir_.sub("held"));
}

// A rebuilt generation is durable before the switch to it is: a kill right after
// the switch leaves a whole generation serving.
TEST_F(ProjectionsCrashTest, ARebuildKilledRightAfterItsSwitchServesEveryRow) {
  const std::string proj = dir_.sub("switched");
  run_in_process(proj, [](Runner& r) { return r.catch_up(); });
  const std::uint64_t before = open_db(proj)->serving(kWide)->number;
  EXPECT_NE(kill_when_done_and_check("rebuild-hold", proj), before) << "the rebuilt generation serves";
}

TEST_F(ProjectionsCrashTest, ARebuildKilledHalfWayResumesFromItsBuildingCheckpoint) {
  const std::string proj = dir_.sub("rebuilt");
  run_in_process(proj, [](Runner& r) { return r.catch_up(); });
  Generation serving_before;
  {
    auto db = open_db(proj);
    serving_before = *db->serving(kWide);
  }

  std::uint64_t building_number = 0, building_cp = 0;
  for (const std::uint64_t mark : {last_ / 3, 2 * last_ / 3}) {
    const std::string when = "rebuild killed at about position " + std::to_string(mark);
    {
      Child child(child_args("rebuild", proj, mark));
      ASSERT_TRUE(child.wait_line("READY", 30s)) << when << ": the child did not start";
      ASSERT_TRUE(child.wait_line("MARK", 60s)) << when << ": the child never got there";
      ASSERT_TRUE(child.kill()) << when << ": the child had finished";
    }
    auto db = open_db(proj);
    const auto serving = db->serving(kWide);
    ASSERT_TRUE(serving.has_value());
    EXPECT_EQ(*serving, serving_before) << when << ": the old generation keeps serving";
    EXPECT_EQ(db->digest(kWide, serving->number), reference_digest_) << when;
    const auto building = db->building(kWide);
    ASSERT_TRUE(building.has_value()) << when << ": no rebuild in progress recorded";
    EXPECT_NE(building->number, serving->number);
    if (building_number != 0) {
      EXPECT_EQ(building->number, building_number) << when << ": a new rebuild began";
    }
    building_number = building->number;
    const std::uint64_t cp = check_generation(*db, building->number, when);
    EXPECT_GT(cp, 0u) << when << ": the building generation kept nothing";
    EXPECT_LT(cp, last_);
    EXPECT_GT(cp, building_cp) << when << ": the rebuild did not go on from where it was";
    building_cp = cp;
  }

  // Resumed in-process: the first event it applies is the one after the checkpoint.
  std::uint64_t first_applied = 0;
  run_in_process(
      proj, [](Runner& r) { return r.rebuild({kWide}); },
      [&](std::uint64_t p) {
        if (first_applied == 0) first_applied = p;
      });
  EXPECT_EQ(first_applied, building_cp + 1) << "the resumed rebuild started again elsewhere";
  auto db = open_db(proj);
  const auto serving = db->serving(kWide);
  ASSERT_TRUE(serving.has_value());
  EXPECT_EQ(serving->number, building_number) << "the rebuilt generation serves";
  EXPECT_FALSE(db->building(kWide).has_value());
  EXPECT_EQ(db->digest(kWide, serving->number), reference_digest_);
  EXPECT_EQ(db->row_count(kWide, serving_before.number), 0u) << "the old generation is dropped";
  EXPECT_EQ(check_generation(*db, serving->number, "after the resumed rebuild"), last_);
}

}  // namespace
}  // namespace portal::projections
