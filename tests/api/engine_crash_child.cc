// The child of the Engine crash test: runs the workloads of engine_crash_workload.h
// on a data directory in sync durability until it is killed, one thread per
// workload (workload t has seed SEED + t), so that appends share group commits.
//
//   engine_crash_child DATA_DIR SEED THREADS [COMMANDS]
//
// Prints "READY" once the Engine is open, then for each command i of workload t,
// from 0 on with its fixed command id: "BEGIN t i" before execute(), and once it
// returns "ACK t i DEDUP FIRST LAST ids=... tokens=..." (DEDUP 1: an earlier run
// had committed it) or "FAIL t i MESSAGE" (and exits 3). Once every thread has
// run COMMANDS commands (default: no end) prints "DONE" and exits 0. Each line is
// one write(2), so a kill never leaves half a line followed by another.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "engine_crash_workload.h"

namespace {

void say(const std::string& line) {
  const std::string out = line + "\n";
  if (::write(STDOUT_FILENO, out.data(), out.size()) != static_cast<ssize_t>(out.size())) std::_Exit(4);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: engine_crash_child DATA_DIR SEED THREADS [COMMANDS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const std::uint64_t threads = std::strtoull(argv[3], nullptr, 10);
  const std::uint64_t commands = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : UINT64_MAX;

  portal::EngineOptions options;
  options.durability = portal::eventstore::Durability::kSync;
  options.snapshot_every = 4;  // snapshots written all the time, so kills land among them
  auto opened = portal::Engine::open(dir, options);
  if (!opened.ok()) {
    say("FAIL open " + opened.error().message);
    return 3;
  }
  portal::Engine& engine = *opened.value();
  say("READY");
  std::vector<std::thread> runners;
  for (std::uint64_t t = 0; t < threads; ++t) {
    runners.emplace_back([&, t] {
      portal::engine_crash::Workload workload(seed + t);
      const std::string who = std::to_string(t) + " ";
      for (std::uint64_t i = 0; i < commands; ++i) {
        const auto [command, actor] = workload.at(i);
        say("BEGIN " + who + std::to_string(i));
        auto result = engine.execute(command, actor, workload.command_id(i));
        if (!result.ok()) {
          say("FAIL " + who + std::to_string(i) + " " + result.error().message);
          std::_Exit(3);
        }
        say("ACK " + who + std::to_string(i) + " " + (result->deduplicated ? "1 " : "0 ") +
            portal::engine_crash::describe(result.value()));
        workload.learn(i, result.value());
      }
    });
  }
  for (auto& r : runners) r.join();
  engine.close();
  say("DONE");
  return 0;
}
