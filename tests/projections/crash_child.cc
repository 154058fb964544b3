// The child the projections crash test kills with SIGKILL (tests/projections/crash_test.cc).
//
//   projections_crash_child catchup LOG_DIR PROJECTIONS_DIR BATCH_EVENTS WIDE
//   projections_crash_child rebuild LOG_DIR PROJECTIONS_DIR BATCH_EVENTS WIDE MARK
//   projections_crash_child catchup-hold LOG_DIR PROJECTIONS_DIR BATCH_EVENTS WIDE
//   projections_crash_child rebuild-hold LOG_DIR PROJECTIONS_DIR BATCH_EVENTS WIDE
//
// Runs a Runner with one CountingProjection named "wide" (WIDE filler rows per
// event) over the log: `catchup` folds the log in from the serving generation's
// checkpoint; `rebuild` rebuilds "wide" (resuming an interrupted rebuild) and
// prints "MARK" when it applies position MARK, so that the parent can kill it
// half-way; `catchup-hold` and `rebuild-hold` catch up or rebuild, print "DONE"
// and then wait to be killed (what they left must already be durable, with no
// clean close to make it so). Prints "READY" once open and "DONE" when finished;
// errors go to stderr with exit code 1.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "portal/projections/runner.h"
#include "projection_test_support.h"

namespace pt = portal::projections::testing;
namespace es = portal::eventstore;
using portal::projections::Runner;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "projections_crash_child: %s\n", what.c_str());
  std::exit(1);
}

void say(const char* line) {
  std::fputs(line, stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc < 6) {
    die("usage: catchup|catchup-hold|rebuild|rebuild-hold LOG_DIR PROJECTIONS_DIR BATCH_EVENTS WIDE [MARK]");
  }
  const bool hold = mode.ends_with("-hold");
  const std::size_t batch = std::strtoull(argv[4], nullptr, 10);
  const std::size_t wide = std::strtoull(argv[5], nullptr, 10);
  const std::uint64_t mark = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 0;
  if (mode == "rebuild" && mark == 0) die("rebuild needs MARK");

  es::RocksDbOptions store_options;
  store_options.read_only = true;
  auto store = es::RocksDbEventStore::open(argv[2], store_options);
  if (!store.ok()) die("opening the log: " + store.status().to_string());
  auto db = portal::projections::ProjectionDb::open(argv[3]);
  if (!db.ok()) die("opening the projections: " + db.status().to_string());

  bool marked = false;
  std::vector<std::unique_ptr<portal::projections::Projection>> projections;
  projections.push_back(pt::counting(pt::named("wide").widened(wide).applying([&](std::uint64_t p) {
    if (mode == "rebuild" && p == mark && !marked) {
      marked = true;
      say("MARK");
    }
  })));
  portal::projections::RunnerOptions options;
  options.batch_events = batch;
  auto runner = Runner::create(**store, **db, std::move(projections), options);
  if (!runner.ok()) die("Runner::create: " + runner.status().to_string());
  say("READY");

  const es::Status s = mode.starts_with("rebuild") ? (*runner)->rebuild({"wide"}) : (*runner)->catch_up();
  if (!s.ok()) die(mode + ": " + s.to_string());
  say("DONE");
  if (hold) {
    while (true) ::pause();  // killed here, before any clean close could flush
  }
  return 0;
}
