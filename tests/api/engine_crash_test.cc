// Crash guarantees of the Engine (issue 3: exactly-once per command id, also after
// a restart), with the real process death a deployment meets.
//
// Each cycle starts engine_crash_child on the same data directory (cycles
// accumulate), lets it run four workloads of engine_crash_workload.h (four
// providers, one thread each, their appends sharing group commits) in sync
// durability for a random while, and SIGKILLs it: between commands, inside an
// append, a sync, a snapshot write or a read model's batch. The child begins every
// run at command 0 with the same command ids, so what earlier runs committed comes
// back deduplicated. Checked, for each workload:
//   - every command acknowledged in any run answers, ever after, with the outcome
//     of its first acknowledgement: the same positions, created ids and tokens
//     (re-derived, not stored), deduplicated;
//   - the command in flight at the kill (one per workload), re-submitted with its
//     id, is exactly-once:
//     it commits now or was already committed, and once more is deduplicated with
//     the same outcome;
//   - the state after a restart is the state of the acknowledged commands and
//     nothing else: the provider's clients and users, each client's name and
//     seats, each organization linked back to the provider;
//   - the log is gap-free and the read models catch up with it.
//
// Environment: PORTAL_CRASH_CYCLES (default 20), PORTAL_CRASH_SEED (default:
// random; printed, so a failing run can be repeated).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "child_process.h"
#include "engine_crash_workload.h"
#include "temp_dir.h"

namespace portal::engine_crash {
namespace {

using namespace std::chrono_literals;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

constexpr std::uint64_t kWorkloads = 4;

// What one run of the child said, per workload.
struct RunReport {
  std::map<std::uint64_t, std::map<std::uint64_t, std::pair<bool, std::string>>>
      acks;                                           // t -> i -> (dedup, outcome)
  std::map<std::uint64_t, std::uint64_t> last_begun;  // t -> i
  std::vector<std::string> failures;
};

RunReport parse(const std::vector<std::string>& lines) {
  RunReport report;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    std::string word;
    std::uint64_t t = 0, i = 0;
    in >> word;
    if (word == "BEGIN") {
      in >> t >> i;
      report.last_begun[t] = i;
    } else if (word == "ACK") {
      int dedup = 0;
      in >> t >> i >> dedup;
      std::string rest;
      std::getline(in, rest);
      report.acks[t][i] = {dedup == 1, rest.empty() ? rest : rest.substr(1)};
    } else if (word == "FAIL") {
      report.failures.push_back(line);
    }
  }
  return report;
}

EngineOptions engine_options() {
  EngineOptions options;
  options.durability = eventstore::Durability::kSync;
  options.snapshot_every = 4;
  return options;
}

struct InFlight {
  std::uint64_t found_committed = 0;
  std::uint64_t committed_now = 0;
};

// One workload after a kill, on the reopened engine: every command answered so
// far re-submitted (deduplicated, the same outcome), then the one in flight at
// the kill, twice; then its provider's state against the answered commands.
void check_workload(Engine& engine, std::uint64_t seed, std::map<std::uint64_t, std::string>& first_outcome,
                    std::optional<std::uint64_t> last_begun, InFlight& in_flight) {
  Workload workload(seed);
  std::uint64_t next = 0;
  for (; first_outcome.count(next) != 0; ++next) {
    const auto [command, actor] = workload.at(next);
    auto again = engine.execute(command, actor, workload.command_id(next));
    ASSERT_TRUE(again.ok()) << "command " << next << ": " << again.error().message;
    EXPECT_TRUE(again->deduplicated) << "command " << next << " ran twice";
    EXPECT_EQ(describe(again.value()), first_outcome[next]) << "command " << next;
    workload.learn(next, again.value());
  }
  ASSERT_EQ(next, first_outcome.size()) << "an acknowledged command follows one never answered";
  if (last_begun && *last_begun == next) {
    const auto [command, actor] = workload.at(next);
    auto resubmitted = engine.execute(command, actor, workload.command_id(next));
    ASSERT_TRUE(resubmitted.ok()) << "in-flight command " << next << ": " << resubmitted.error().message;
    ++(resubmitted->deduplicated ? in_flight.found_committed : in_flight.committed_now);
    auto once_more = engine.execute(command, actor, workload.command_id(next));
    ASSERT_TRUE(once_more.ok()) << once_more.error().message;
    EXPECT_TRUE(once_more->deduplicated);
    EXPECT_EQ(describe(once_more.value()), describe(resubmitted.value()));
    first_outcome.emplace(next, describe(resubmitted.value()));
    workload.learn(next, resubmitted.value());
    ++next;
  }
  if (next < kSetupCommands) return;

  // The state is that of the answered commands, and nothing else.
  auto provider = engine.provider(workload.provider());
  ASSERT_TRUE(provider.ok() && provider->has_value());
  const d::ProviderState& p = *provider.value();
  const std::uint64_t clients = next == kSetupCommands ? 0 : client_of(next - 1) + 1;
  ASSERT_EQ(p.clients.size(), clients);
  std::uint64_t k = 0;
  for (const d::ClientLink& link : p.clients) {
    const bool updated = kSetupCommands + 3 * k + 1 < next;
    EXPECT_EQ(link.id, workload.links().at(k));
    EXPECT_EQ(link.name, updated ? Workload::renamed(k) : "Client " + std::to_string(k));
    EXPECT_EQ(link.seats, updated ? 12 : 10);
    auto org = engine.organization(link.organization_id);
    ASSERT_TRUE(org.ok() && org->has_value()) << "client " << k << " has no organization";
    EXPECT_EQ(org.value()->provider_id, std::optional<d::ProviderId>(workload.provider()));
    ++k;
  }
  std::uint64_t invited = 0;
  for (std::uint64_t i = kSetupCommands; i < next; ++i) invited += kind_of(i) == Kind::kInviteUser;
  EXPECT_EQ(p.users.size(), 1 + invited) << "the owner and the service users invited";
}

TEST(EngineCrashTest, KilledAtRandomMomentsTheEngineKeepsEveryAcknowledgedCommandExactlyOnce) {
  const auto cycles = static_cast<int>(env_u64("PORTAL_CRASH_CYCLES", 20));
  const std::uint64_t seed = env_u64("PORTAL_CRASH_SEED", std::random_device{}());
  std::fprintf(stderr, "engine crash test: %d cycles, PORTAL_CRASH_SEED=%llu\n", cycles,
               static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  test::TempDir dir("engine-crash");
  ASSERT_FALSE(dir.path().empty());

  std::map<std::uint64_t, std::map<std::uint64_t, std::string>> first_outcome;  // t -> i -> outcome
  InFlight in_flight;
  for (int cycle = 1; cycle <= cycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle) + ", PORTAL_CRASH_SEED=" + std::to_string(seed));
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(10, 400)(rng));
    RunReport report;
    {
      test_support::ChildProcess child(PORTAL_ENGINE_CRASH_CHILD,
                                       {dir.path(), std::to_string(seed), std::to_string(kWorkloads)});
      ASSERT_TRUE(child.wait_line("READY", 60s)) << "the child did not open the engine";
      child.read_for(delay);
      EXPECT_TRUE(child.kill()) << "the child ended on its own";
      report = parse(child.lines());
    }
    ASSERT_TRUE(report.failures.empty()) << report.failures.front();

    // The run re-submitted everything committed before, in order: the same outcomes.
    std::size_t answered = 0, in_all = 0;
    for (const auto& [t, acks] : report.acks) {
      for (const auto& [i, ack] : acks) {
        const auto& [deduplicated, outcome] = ack;
        auto& known = first_outcome[t];
        auto found = known.find(i);
        if (found == known.end()) {
          EXPECT_FALSE(deduplicated) << "workload " << t << " command " << i
                                     << " was deduplicated but never acknowledged before";
          known.emplace(i, outcome);
        } else {
          EXPECT_TRUE(deduplicated) << "workload " << t << " command " << i << " ran twice";
          EXPECT_EQ(outcome, found->second)
              << "workload " << t << " command " << i << " answered differently";
        }
      }
      answered += acks.size();
    }

    auto opened = Engine::open(dir.path(), engine_options());
    ASSERT_TRUE(opened.ok()) << "reopen after SIGKILL: " << opened.error().message;
    Engine& engine = *opened.value();
    for (std::uint64_t t = 0; t < kWorkloads; ++t) {
      SCOPED_TRACE("workload " + std::to_string(t));
      std::optional<std::uint64_t> last_begun;
      if (auto b = report.last_begun.find(t); b != report.last_begun.end()) last_begun = b->second;
      check_workload(engine, seed + t, first_outcome[t], last_begun, in_flight);
      in_all += first_outcome[t].size();
    }

    // The log has no gap, and the read models follow it.
    const std::uint64_t last = engine.store().last_position();
    std::uint64_t expect = 1;
    while (expect <= last) {
      auto page = engine.store().read_all(expect, 1000);
      ASSERT_TRUE(page.ok()) << page.status().to_string();
      ASSERT_FALSE(page->empty()) << "the log ends at " << expect - 1 << ", not " << last;
      for (const eventstore::RecordedEvent& e : *page) ASSERT_EQ(e.position, expect++);
    }
    auto caught_up = engine.wait_for_projections(last, 60s);
    EXPECT_TRUE(caught_up.ok()) << caught_up.error().message;
    engine.close();

    std::fprintf(stderr, "cycle %d/%d: ran %lld ms, %zu answered in the run, %zu in all\n", cycle, cycles,
                 static_cast<long long>(delay.count()), answered, in_all);
  }
  std::fprintf(
      stderr, "engine crash test: in-flight commands found committed %llu, committed on re-submission %llu\n",
      static_cast<unsigned long long>(in_flight.found_committed),
      static_cast<unsigned long long>(in_flight.committed_now));
}

}  // namespace
}  // namespace portal::engine_crash
