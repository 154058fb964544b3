// The child of the Engine crash test: runs the workload of engine_crash_workload.h
// on a data directory in sync durability until it is killed.
//
//   engine_crash_child DATA_DIR SEED [COMMANDS]
//
// Prints "READY" once the Engine is open, then for each command i, from 0 on with
// its fixed command id: "BEGIN i" before execute(), and once it returns
// "ACK i DEDUP FIRST LAST ids=... tokens=..." (DEDUP 1: an earlier run had
// committed it) or "FAIL i MESSAGE" (and exits 3). After COMMANDS commands
// (default: no end) prints "DONE" and exits 0. Each line is one write(2), so a
// kill never leaves half a line followed by another.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine_crash_workload.h"

namespace {

void say(const std::string& line) {
  const std::string out = line + "\n";
  if (::write(STDOUT_FILENO, out.data(), out.size()) != static_cast<ssize_t>(out.size())) std::_Exit(4);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: engine_crash_child DATA_DIR SEED [COMMANDS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const std::uint64_t commands = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : UINT64_MAX;

  portal::EngineOptions options;
  options.durability = portal::eventstore::Durability::kSync;
  options.snapshot_every = 4;  // snapshots written all the time, so kills land among them
  auto engine = portal::Engine::open(dir, options);
  if (!engine.ok()) {
    say("FAIL open " + engine.error().message);
    return 3;
  }
  say("READY");
  portal::engine_crash::Workload workload(seed);
  for (std::uint64_t i = 0; i < commands; ++i) {
    const auto [command, actor] = workload.at(i);
    say("BEGIN " + std::to_string(i));
    auto result = engine.value()->execute(command, actor, workload.command_id(i));
    if (!result.ok()) {
      say("FAIL " + std::to_string(i) + " " + result.error().message);
      return 3;
    }
    say("ACK " + std::to_string(i) + " " + (result->deduplicated ? "1 " : "0 ") +
        portal::engine_crash::describe(result.value()));
    workload.learn(i, result.value());
  }
  engine.value()->close();
  say("DONE");
  return 0;
}
