// The victim of the crash test (crash_test.cc): appends to a store in sync mode until it is killed.
//
//   eventstore_crash_writer <data-dir> <seed> [threads]
//
// Several threads append concurrently so that group commits hold several appends when the kill
// lands. Each thread loops over single-stream and multi-stream appends on crash-0..crash-19, most
// with ExpectedVersion::any() (they never conflict), some with exact expected versions read just
// before (they may conflict; a conflict is retried under a new command id).
//
// The parent learns everything through stdout, one line per write(2) (lines are far below PIPE_BUF,
// so lines of different threads never interleave and a line is either wholly in the pipe or not):
//   READY <last_position>                      the store is open
//   BEGIN <cmdhex> <writes> <events-per-stream> before append(); <writes> as crash::format_writes
//   ACK <cmdhex> <first_position> <last_position> <stream:first_version:first_position;...>
//                                              after append() succeeded (the command is durable)
//   FAIL <cmdhex> <status>                     append() refused with a wrong expected version
//   ERROR <cmdhex|open|read> <status>          anything else; the writer exits with status 3
// A BEGIN without ACK or FAIL is in flight: it may or may not have committed.

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crash_workload.h"
#include "portal/eventstore/rocksdb_event_store.h"

namespace {

namespace es = portal::eventstore;
namespace crash = portal::eventstore::crash;

void emit(std::string line) {
  line.push_back('\n');
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(4);  // the parent is gone; nobody is listening
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] void fail(const std::string& what, const es::Status& status) {
  emit("ERROR " + what + " " + status.to_string());
  ::_exit(3);
}

std::string format_ack(const es::CommandId& id, const es::AppendResult& result) {
  std::string line = "ACK " + id.to_hex() + " " + std::to_string(result.first_position) + " " +
                     std::to_string(result.last_position) + " ";
  for (std::size_t i = 0; i < result.streams.size(); ++i) {
    const es::StreamAppendResult& s = result.streams[i];
    if (i > 0) line.push_back(';');
    line += s.stream + ":" + std::to_string(s.first_version) + ":" + std::to_string(s.first_position);
  }
  return line;
}

void run_thread(es::RocksDbEventStore& store, std::uint64_t seed, std::uint64_t thread) {
  std::mt19937_64 rng(crash::splitmix64(seed ^ ((thread + 1) << 40)));
  std::uint64_t counter = 0;
  for (;;) {
    // 40% single-stream appends of 1-3 events, 60% multi-stream appends to 2-3 distinct streams.
    const bool multi = rng() % 10 >= 4;
    const std::size_t stream_count = multi ? 2 + rng() % 2 : 1;
    std::vector<int> streams;
    while (streams.size() < stream_count) {
      const int s = static_cast<int>(rng() % crash::kStreamCount);
      bool taken = false;
      for (int t : streams) taken = taken || t == s;
      if (!taken) streams.push_back(s);
    }
    const auto events_per_stream = static_cast<std::uint32_t>(multi ? 1 + rng() % 2 : 1 + rng() % 3);
    // 30% carry exact expected versions, so that optimistic concurrency is exercised under the
    // crash too (the checker verifies that such a command's first version follows its expectation).
    const bool exact = rng() % 10 < 3;

    for (int attempt = 0; attempt < 20; ++attempt) {
      crash::CommandSpec spec;
      spec.id = crash::make_command_id(seed, thread, counter++);
      spec.events_per_stream = events_per_stream;
      for (int s : streams) {
        crash::WriteSpec write{crash::stream_name(s), es::ExpectedVersion::any()};
        if (exact) {
          auto head = store.stream_head(write.stream);
          if (!head.ok()) fail("read", head.status());
          write.expected = es::ExpectedVersion::at(*head);
        }
        spec.writes.push_back(std::move(write));
      }
      const std::string hex = spec.id.to_hex();
      emit("BEGIN " + hex + " " + crash::format_writes(spec.writes) + " " +
           std::to_string(events_per_stream));
      auto result = store.append(crash::build_request(spec, seed));
      if (result.ok()) {
        emit(format_ack(spec.id, *result));
        break;
      }
      if (result.status().code() != es::StatusCode::kWrongExpectedVersion) fail(hex, result.status());
      // Retried under a new command id: a refused command is not recorded, but a new id keeps the
      // checker's model simple (one BEGIN line, one outcome).
      emit("FAIL " + hex + " " + result.status().to_string());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    const std::string usage = "usage: eventstore_crash_writer <data-dir> <seed> [threads]\n";
    (void)!::write(STDERR_FILENO, usage.data(), usage.size());
    return 2;
  }
  const std::string dir = argv[1];
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const int threads = argc == 4 ? std::atoi(argv[3]) : 4;

  es::RocksDbOptions options;
  options.durability = es::Durability::kSync;
  auto store = es::RocksDbEventStore::open(dir, options);
  if (!store.ok()) fail("open", store.status());
  emit("READY " + std::to_string((*store)->last_position()));

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(run_thread, std::ref(**store), seed, static_cast<std::uint64_t>(t));
  }
  // The threads never return: the writer ends by SIGKILL (or _exit on an error).
  for (std::thread& w : workers) w.join();
  return 0;
}
