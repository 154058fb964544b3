// Crash guarantees of the RocksDB event store (issue 2, "Tests: Crash").
//
// Each cycle spawns crash_writer on the same data directory (cycles accumulate data), reads what it
// reports through a pipe, SIGKILLs it at a random moment, reopens the store and checks:
//   - every acknowledged command is present at its original positions and versions;
//   - no append is partly present: a command's events number streams x events-per-stream and sit at
//     consecutive positions, each write's events consecutive with consecutive versions;
//   - positions are 1..last without a gap, recorded-at never decreases;
//   - the stream index (read_stream, stream_head) agrees with the log;
//   - every event carries exactly the content the writer submitted;
//   - re-submitting an in-flight command (BEGIN seen, no ACK) is exactly-once: if it committed, the
//     original result comes back deduplicated and nothing is appended; if not, it appends now; once
//     more, it is deduplicated with the same result.
//
// Environment: PORTAL_CRASH_CYCLES (default 30), PORTAL_CRASH_SEED (default: random; printed, so a
// failing run can be repeated with the same writer seeds and kill delays).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "crash_workload.h"
#include "portal/eventstore/rocksdb_event_store.h"

extern char** environ;

namespace {

namespace es = portal::eventstore;
namespace crash = portal::eventstore::crash;
using Clock = std::chrono::steady_clock;

struct Id16Hash {
  std::size_t operator()(const es::Id16& id) const { return static_cast<std::size_t>(crash::fold(id)); }
};

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text = text.substr(at + 1);
  }
}

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

// What the checker knows about one command.
struct Command {
  enum class Outcome { kInFlight, kAcked, kFailed };

  crash::CommandSpec spec;
  std::uint64_t seed = 0;
  int cycle = 0;
  Outcome outcome = Outcome::kInFlight;
  // For kAcked: the result as the writer printed it (or as the checker's re-submission returned it).
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;
  std::vector<es::StreamAppendResult> streams;  // last_version unknown from an ACK line: left 0

  std::size_t event_count() const { return spec.writes.size() * spec.events_per_stream; }
  bool has_exact_expectation() const {
    return std::any_of(spec.writes.begin(), spec.writes.end(), [](const crash::WriteSpec& w) {
      return w.expected.kind != es::ExpectedVersion::Kind::kAny;
    });
  }
};

using Commands = std::unordered_map<es::CommandId, Command, Id16Hash>;

// One writer's life: the complete lines it wrote, and how it ended.
struct WriterRun {
  std::vector<std::string> lines;
  int wait_status = 0;
  bool killed_by_us = false;
  std::chrono::milliseconds ran_for{0};
  std::string problem;  // set when the run itself went wrong (spawn failed, writer died early, ...)
};

class TempDir {
 public:
  TempDir() {
    std::string path = (std::filesystem::temp_directory_path() / "portal-crash-XXXXXX").string();
    if (::mkdtemp(path.data()) != nullptr) path_ = path;
  }
  ~TempDir() {
    if (keep_) {
      std::fprintf(stderr, "crash test: data kept in %s\n", path_.c_str());
    } else if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Spawns the writer with stdout on a pipe, reads its lines, and SIGKILLs it `delay` after it is ready
// (but never before its first ACK, so that every cycle has something acknowledged to check).
WriterRun run_writer(const std::string& dir, std::uint64_t seed, std::chrono::milliseconds delay) {
  WriterRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    run.problem = std::string("pipe2: ") + std::strerror(errno);
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the child's stdout; the original pipe ends close at exec.
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  const std::string seed_arg = std::to_string(seed);
  std::string path = PORTAL_CRASH_WRITER;
  std::vector<char*> argv = {path.data(), const_cast<char*>(dir.c_str()), const_cast<char*>(seed_arg.c_str()),
                             nullptr};
  pid_t pid = 0;
  const auto start = Clock::now();
  const int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    run.problem = "posix_spawn " + path + ": " + std::strerror(rc);
    return run;
  }

  std::string pending;
  std::optional<Clock::time_point> ready_at;
  bool acked = false;
  bool eof = false;
  // A writer that cannot even open the store and acknowledge within this long is broken.
  const auto give_up_at = start + std::chrono::seconds(30);
  auto take_lines = [&](const char* data, std::size_t n) {
    pending.append(data, n);
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.rfind("READY", 0) == 0 && !ready_at) ready_at = Clock::now();
      if (line.rfind("ACK ", 0) == 0) acked = true;
      run.lines.push_back(std::move(line));
    }
  };
  char buf[1 << 16];
  while (!eof) {
    const auto now = Clock::now();
    if (acked && ready_at && now >= *ready_at + delay) break;
    if (now >= give_up_at) {
      run.problem = "the writer did not become ready and acknowledge within 30 s";
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 5);
    if (ready < 0 && errno != EINTR) {
      run.problem = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (ready <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      take_lines(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      eof = true;  // the writer ended on its own: an error, reported below
    } else if (errno != EINTR) {
      run.problem = std::string("read: ") + std::strerror(errno);
      break;
    }
  }
  if (!eof) {
    ::kill(pid, SIGKILL);
    run.killed_by_us = true;
  }
  // Lines written before the kill are still in the pipe; they count (an ACK there was written after
  // append() returned). A partial last line cannot happen (one write(2) below PIPE_BUF per line) and
  // is ignored if it did: a BEGIN cut short was never followed by append().
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      take_lines(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  while (::waitpid(pid, &run.wait_status, 0) < 0 && errno == EINTR) {
  }
  run.ran_for = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  const bool died_of_kill = WIFSIGNALED(run.wait_status) && WTERMSIG(run.wait_status) == SIGKILL;
  if (run.problem.empty() && !(run.killed_by_us && died_of_kill)) {
    std::ostringstream out;
    out << "the writer ended on its own (";
    if (WIFEXITED(run.wait_status)) out << "exit " << WEXITSTATUS(run.wait_status);
    if (WIFSIGNALED(run.wait_status)) out << "signal " << WTERMSIG(run.wait_status);
    out << ")";
    run.problem = out.str();
  }
  return run;
}

// Stats of one cycle, for the summary line.
struct CycleStats {
  std::size_t begun = 0;
  std::size_t acked = 0;
  std::size_t failed = 0;
  std::size_t in_flight = 0;
  std::size_t in_flight_committed = 0;
  std::size_t in_flight_refused = 0;
  std::uint64_t last_position = 0;
  std::uint64_t log_zeros = 0;  // bytes of zeros the kill left after the log's last record
};

// The zeros at the end of the newest write-ahead log (sync durability runs the
// log ahead of its records with zeros; see eventstore/wal_files.h), counted in
// whole 4 KiB pages.
std::uint64_t zeros_after_last_record(const std::string& dir) {
  std::filesystem::path newest;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log" && entry.path().filename() > newest.filename())
      newest = entry.path();
  }
  if (newest.empty()) return 0;
  std::FILE* f = std::fopen(newest.c_str(), "rb");
  if (f == nullptr) return 0;
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::uint64_t zeros = 0;
  char page[4096];
  for (long at = size - static_cast<long>(sizeof page); at >= 0; at -= static_cast<long>(sizeof page)) {
    std::fseek(f, at, SEEK_SET);
    if (std::fread(page, 1, sizeof page, f) != sizeof page) break;
    if (std::any_of(std::begin(page), std::end(page), [](char c) { return c != 0; })) break;
    zeros += sizeof page;
  }
  std::fclose(f);
  return zeros;
}

class CrashTest : public ::testing::Test {
 protected:
  // Folds the writer's lines into the model. Returns the ids begun in this run without an outcome.
  std::vector<es::CommandId> apply_lines(const WriterRun& run, std::uint64_t seed, int cycle,
                                         CycleStats& stats) {
    std::vector<es::CommandId> begun_order;
    for (const std::string& line : run.lines) {
      const std::vector<std::string_view> f = split(line, ' ');
      if (f[0] == "READY") continue;
      if (f[0] == "ERROR") {
        ADD_FAILURE() << "cycle " << cycle << ": writer reported: " << line;
        continue;
      }
      const auto id = f.size() >= 2 ? es::Id16::from_hex(f[1]) : std::nullopt;
      if (!id) {
        ADD_FAILURE() << "cycle " << cycle << ": malformed writer line: " << line;
        continue;
      }
      if (f[0] == "BEGIN") {
        auto writes = f.size() == 4 ? crash::parse_writes(f[2]) : std::nullopt;
        auto eps = f.size() == 4 ? crash::parse_u64(f[3]) : std::nullopt;
        if (!writes || !eps || *eps == 0) {
          ADD_FAILURE() << "cycle " << cycle << ": malformed BEGIN: " << line;
          continue;
        }
        Command command;
        command.spec = {*id, std::move(*writes), static_cast<std::uint32_t>(*eps)};
        command.seed = seed;
        command.cycle = cycle;
        if (!commands_.emplace(*id, std::move(command)).second) {
          ADD_FAILURE() << "cycle " << cycle << ": command id begun twice: " << line;
          continue;
        }
        begun_order.push_back(*id);
        ++stats.begun;
        continue;
      }
      auto it = commands_.find(*id);
      if (it == commands_.end() || it->second.outcome != Command::Outcome::kInFlight) {
        ADD_FAILURE() << "cycle " << cycle << ": outcome for a command not in flight: " << line;
        continue;
      }
      Command& command = it->second;
      if (f[0] == "FAIL") {
        command.outcome = Command::Outcome::kFailed;
        ++stats.failed;
      } else if (f[0] == "ACK") {
        auto first = f.size() == 5 ? crash::parse_u64(f[2]) : std::nullopt;
        auto last = f.size() == 5 ? crash::parse_u64(f[3]) : std::nullopt;
        if (!first || !last) {
          ADD_FAILURE() << "cycle " << cycle << ": malformed ACK: " << line;
          continue;
        }
        command.outcome = Command::Outcome::kAcked;
        command.first_position = *first;
        command.last_position = *last;
        for (std::string_view s : split(f[4], ';')) {
          const std::vector<std::string_view> parts = split(s, ':');
          auto version = parts.size() == 3 ? crash::parse_u64(parts[1]) : std::nullopt;
          auto position = parts.size() == 3 ? crash::parse_u64(parts[2]) : std::nullopt;
          if (!version || !position) {
            ADD_FAILURE() << "cycle " << cycle << ": malformed ACK: " << line;
            break;
          }
          es::StreamAppendResult r;
          r.stream = std::string(parts[0]);
          r.first_version = *version;
          r.last_version = *version + command.spec.events_per_stream - 1;
          r.first_position = *position;
          command.streams.push_back(std::move(r));
        }
        ++stats.acked;
      } else {
        ADD_FAILURE() << "cycle " << cycle << ": unknown writer line: " << line;
      }
    }
    std::vector<es::CommandId> in_flight;
    for (const es::CommandId& id : begun_order) {
      if (commands_.at(id).outcome == Command::Outcome::kInFlight) in_flight.push_back(id);
    }
    stats.in_flight = in_flight.size();
    return in_flight;
  }

  // The whole log, checked for contiguity, plus the indexes the other checks need.
  struct LogIndex {
    std::vector<es::RecordedEvent> events;  // events[i].position == i + 1
    std::unordered_map<es::CommandId, std::vector<std::uint64_t>, Id16Hash> by_command;  // positions
    std::map<std::string, std::vector<std::uint64_t>> by_stream;  // stream -> position of version v
  };

  void read_log(es::EventStore& store, LogIndex& log, int cycle) {
    const std::uint64_t last = store.last_position();
    log.events.reserve(last);
    std::int64_t last_recorded_at = 0;
    while (log.events.size() < last) {
      const std::uint64_t from = log.events.size() + 1;
      auto batch = store.read_all(from, 4096);
      ASSERT_TRUE(batch.ok()) << "cycle " << cycle << ": read_all(" << from
                              << "): " << batch.status().to_string();
      ASSERT_FALSE(batch->empty()) << "cycle " << cycle << ": read_all(" << from
                                   << ") is empty but last_position is " << last;
      for (es::RecordedEvent& e : *batch) {
        const std::uint64_t expected_position = log.events.size() + 1;
        ASSERT_EQ(e.position, expected_position) << "cycle " << cycle << ": gap or disorder in the log";
        EXPECT_GE(e.recorded_at_us, last_recorded_at)
            << "cycle " << cycle << ": recorded_at decreases at position " << e.position;
        last_recorded_at = e.recorded_at_us;
        std::vector<std::uint64_t>& versions = log.by_stream[std::string(e.stream)];
        ASSERT_EQ(e.version, versions.size()) << "cycle " << cycle << ": stream " << e.stream
                                              << " has a version gap at position " << e.position;
        versions.push_back(e.position);
        log.by_command[e.command_id].push_back(e.position);
        log.events.push_back(std::move(e));
        if (log.events.size() == last) break;
      }
    }
    // Nothing may be readable past last_position().
    auto beyond = store.read_all(last + 1, 10);
    ASSERT_TRUE(beyond.ok()) << beyond.status().to_string();
    EXPECT_TRUE(beyond->empty()) << "cycle " << cycle << ": events beyond last_position " << last;
  }

  // Every command in the log is whole, has exactly the submitted content and, when acknowledged,
  // sits where the acknowledgement said.
  void check_commands_in_log(const LogIndex& log, int cycle) {
    for (const auto& [id, positions] : log.by_command) {
      auto it = commands_.find(id);
      if (it == commands_.end()) {
        ADD_FAILURE() << "cycle " << cycle << ": unknown command " << id.to_hex() << " at position "
                      << positions.front();
        continue;
      }
      const Command& command = it->second;
      const std::string where = "cycle " + std::to_string(cycle) + ", command " + id.to_hex() +
                                " (begun in cycle " + std::to_string(command.cycle) + ")";
      EXPECT_NE(command.outcome, Command::Outcome::kFailed)
          << where << ": refused with a wrong expected version, "
          << "yet present at " << positions.front();
      ASSERT_EQ(positions.size(), command.event_count())
          << where << ": partly present (" << crash::format_writes(command.spec.writes) << " x "
          << command.spec.events_per_stream << ")";
      for (std::size_t i = 1; i < positions.size(); ++i) {
        ASSERT_EQ(positions[i], positions[0] + i) << where << ": events not at consecutive positions";
      }
      for (std::size_t w = 0; w < command.spec.writes.size(); ++w) {
        const crash::WriteSpec& write = command.spec.writes[w];
        std::vector<const es::RecordedEvent*> events;
        for (std::uint64_t p : positions) {
          if (log.events[p - 1].stream == write.stream) events.push_back(&log.events[p - 1]);
        }
        ASSERT_EQ(events.size(), command.spec.events_per_stream) << where << ": stream " << write.stream;
        for (std::size_t e = 0; e < events.size(); ++e) {
          const es::RecordedEvent& got = *events[e];
          EXPECT_EQ(got.position, events[0]->position + e)
              << where << ": write to " << write.stream << " split";
          EXPECT_EQ(got.version, events[0]->version + e) << where << ": versions of " << write.stream;
          const es::NewEvent want = crash::expected_event(command.spec, command.seed, w, e);
          EXPECT_TRUE(got.type == want.type && got.type_code == want.type_code &&
                      got.event_id == want.event_id && got.correlation_id == want.correlation_id &&
                      got.causation_id == want.causation_id && got.metadata == want.metadata &&
                      got.payload == want.payload)
              << where << ": content of the event at position " << got.position
              << " differs from the request";
        }
        if (write.expected.kind == es::ExpectedVersion::Kind::kExact) {
          EXPECT_EQ(events[0]->version, write.expected.version + 1)
              << where << ": committed with expected version " << write.expected.version << " on "
              << write.stream;
        } else if (write.expected.kind == es::ExpectedVersion::Kind::kNoStream) {
          EXPECT_EQ(events[0]->version, 0u)
              << where << ": committed with expected no_stream on " << write.stream;
        }
        if (command.outcome == Command::Outcome::kAcked) {
          auto ack = std::find_if(command.streams.begin(), command.streams.end(),
                                  [&](const es::StreamAppendResult& r) { return r.stream == write.stream; });
          ASSERT_NE(ack, command.streams.end()) << where << ": acknowledgement lacks " << write.stream;
          EXPECT_EQ(events[0]->position, ack->first_position) << where << ": moved (" << write.stream << ")";
          EXPECT_EQ(events[0]->version, ack->first_version)
              << where << ": version moved (" << write.stream << ")";
        }
      }
      if (command.outcome == Command::Outcome::kAcked) {
        EXPECT_EQ(positions.front(), command.first_position) << where << ": first position moved";
        EXPECT_EQ(positions.back(), command.last_position) << where << ": last position moved";
        EXPECT_EQ(command.streams.size(), command.spec.writes.size()) << where << ": acknowledgement streams";
      }
    }
    for (const auto& [id, command] : commands_) {
      if (command.outcome != Command::Outcome::kAcked) continue;
      EXPECT_TRUE(log.by_command.count(id))
          << "cycle " << cycle << ": acknowledged command " << id.to_hex() << " (cycle " << command.cycle
          << ", positions " << command.first_position << ".." << command.last_position << ") is missing";
    }
  }

  // The stream index agrees with the log.
  void check_stream_index(es::EventStore& store, const LogIndex& log, int cycle) {
    std::set<std::string> names;
    for (int n = 0; n < crash::kStreamCount; ++n) names.insert(crash::stream_name(n));
    for (const auto& [name, positions] : log.by_stream) names.insert(name);
    for (const std::string& name : names) {
      const std::string where = "cycle " + std::to_string(cycle) + ", stream " + name;
      auto found = log.by_stream.find(name);
      const std::size_t count = found == log.by_stream.end() ? 0 : found->second.size();
      auto head = store.stream_head(name);
      ASSERT_TRUE(head.ok()) << where << ": " << head.status().to_string();
      if (count == 0) {
        EXPECT_FALSE(head->has_value()) << where << ": head " << **head << " of a stream with no events";
      } else {
        ASSERT_TRUE(head->has_value()) << where << ": no head, " << count << " events in the log";
        EXPECT_EQ(**head, count - 1) << where << ": head";
      }
      auto forward = store.read_stream(name, es::Direction::kForward, 0, count + 10);
      ASSERT_TRUE(forward.ok()) << where << ": " << forward.status().to_string();
      ASSERT_EQ(forward->size(), count) << where << ": read_stream forward";
      for (std::size_t v = 0; v < count; ++v) {
        const es::RecordedEvent& e = (*forward)[v];
        const std::uint64_t position = found->second[v];
        ASSERT_EQ(e.version, v) << where;
        ASSERT_EQ(e.position, position) << where << ": index says version " << v << " is at " << e.position;
        ASSERT_EQ(e.stream, name) << where;
        ASSERT_EQ(e.command_id, log.events[position - 1].command_id) << where << ", version " << v;
      }
      if (count > 0) {
        auto backward = store.read_stream(name, es::Direction::kBackward, es::kStreamEnd, 3);
        ASSERT_TRUE(backward.ok()) << where << ": " << backward.status().to_string();
        ASSERT_EQ(backward->size(), std::min<std::size_t>(3, count)) << where << ": read_stream backward";
        for (std::size_t i = 0; i < backward->size(); ++i) {
          EXPECT_EQ((*backward)[i].version, count - 1 - i) << where << ": read_stream backward";
          EXPECT_EQ((*backward)[i].position, found->second[count - 1 - i])
              << where << ": read_stream backward";
        }
      }
    }
  }

  // Re-submits each in-flight command with identical content and checks exactly-once.
  void resubmit_in_flight(es::EventStore& store, const LogIndex& log,
                          const std::vector<es::CommandId>& in_flight, int cycle, CycleStats& stats) {
    for (const es::CommandId& id : in_flight) {
      Command& command = commands_.at(id);
      const std::string where = "cycle " + std::to_string(cycle) + ", in-flight command " + id.to_hex() +
                                " (" + crash::format_writes(command.spec.writes) + " x " +
                                std::to_string(command.spec.events_per_stream) + ")";
      const es::AppendRequest request = crash::build_request(command.spec, command.seed);
      const std::uint64_t before = store.last_position();
      auto result = store.append(request);
      auto committed = log.by_command.find(id);
      if (committed != log.by_command.end()) {
        ++stats.in_flight_committed;
        ASSERT_TRUE(result.ok()) << where << ": committed before the kill, re-submission says "
                                 << result.status().to_string();
        EXPECT_TRUE(result->deduplicated) << where << ": committed before the kill, not deduplicated";
        EXPECT_EQ(store.last_position(), before) << where << ": re-submission appended";
        EXPECT_EQ(result->first_position, committed->second.front()) << where;
        EXPECT_EQ(result->last_position, committed->second.back()) << where;
        ASSERT_EQ(result->streams.size(), command.spec.writes.size()) << where;
        for (std::size_t w = 0; w < command.spec.writes.size(); ++w) {
          const es::StreamAppendResult& r = result->streams[w];
          EXPECT_EQ(r.stream, command.spec.writes[w].stream)
              << where << ": result streams out of request order";
          // The write's first event in the log, found by stream among the command's positions.
          std::optional<std::uint64_t> first;
          for (std::uint64_t p : committed->second) {
            if (log.events[p - 1].stream == r.stream && !first) first = p;
          }
          ASSERT_TRUE(first.has_value()) << where << ": " << r.stream;
          EXPECT_EQ(r.first_position, *first) << where << ": " << r.stream;
          EXPECT_EQ(r.first_version, log.events[*first - 1].version) << where << ": " << r.stream;
          EXPECT_EQ(r.last_version, r.first_version + command.spec.events_per_stream - 1)
              << where << ": " << r.stream;
        }
      } else if (!result.ok()) {
        // Not committed, and now refused: only legitimate when the command carried an expectation
        // that the streams no longer meet (the other writer threads moved on).
        ++stats.in_flight_refused;
        ASSERT_EQ(result.status().code(), es::StatusCode::kWrongExpectedVersion)
            << where << ": not committed, re-submission says " << result.status().to_string();
        bool mismatch = false;
        for (const crash::WriteSpec& w : command.spec.writes) {
          auto head = store.stream_head(w.stream);
          ASSERT_TRUE(head.ok()) << head.status().to_string();
          mismatch = mismatch || !w.expected.matches(*head);
        }
        EXPECT_TRUE(mismatch) << where << ": refused although every expectation holds: "
                              << result.status().to_string();
        EXPECT_EQ(store.last_position(), before) << where << ": refused re-submission appended";
        command.outcome = Command::Outcome::kFailed;
        auto again = store.append(request);
        EXPECT_FALSE(again.ok()) << where << ": refused once, accepted on the identical second try";
        continue;
      } else {
        EXPECT_FALSE(result->deduplicated) << where << ": not in the log, yet deduplicated";
        EXPECT_EQ(result->first_position, before + 1) << where;
        EXPECT_EQ(result->last_position, before + command.event_count()) << where;
        EXPECT_EQ(store.last_position(), before + command.event_count()) << where;
        auto events = store.read_all(result->first_position, command.event_count());
        ASSERT_TRUE(events.ok()) << where << ": " << events.status().to_string();
        ASSERT_EQ(events->size(), command.event_count()) << where;
        for (const es::RecordedEvent& e : *events)
          EXPECT_EQ(e.command_id, id) << where << ": position " << e.position;
      }
      if (!result.ok()) continue;
      // Exactly-once from now on: the same request yields the same result and appends nothing.
      const std::uint64_t after = store.last_position();
      auto again = store.append(request);
      ASSERT_TRUE(again.ok()) << where << ": second re-submission: " << again.status().to_string();
      EXPECT_TRUE(again->deduplicated) << where << ": second re-submission not deduplicated";
      EXPECT_TRUE(*again == *result) << where << ": second re-submission returned a different result";
      EXPECT_EQ(store.last_position(), after) << where << ": second re-submission appended";
      command.outcome = Command::Outcome::kAcked;
      command.first_position = result->first_position;
      command.last_position = result->last_position;
      command.streams = result->streams;
    }
  }

  // Acknowledged commands stay exactly-once across the restart, including those whose exact
  // expected versions are long stale (deduplication must come before the version check).
  void resubmit_acked(es::EventStore& store, int cycle, std::mt19937_64& rng) {
    std::vector<const Command*> recent_exact;
    std::vector<const Command*> any_acked;
    for (const auto& [id, command] : commands_) {
      if (command.outcome != Command::Outcome::kAcked) continue;
      any_acked.push_back(&command);
      if (command.cycle == cycle && command.has_exact_expectation()) recent_exact.push_back(&command);
    }
    std::vector<const Command*> picked;
    std::sample(recent_exact.begin(), recent_exact.end(), std::back_inserter(picked), 4, rng);
    std::sample(any_acked.begin(), any_acked.end(), std::back_inserter(picked), 4, rng);
    for (const Command* command : picked) {
      const std::string where = "cycle " + std::to_string(cycle) + ", acknowledged command " +
                                command->spec.id.to_hex() + " (" +
                                crash::format_writes(command->spec.writes) + ")";
      const std::uint64_t before = store.last_position();
      auto result = store.append(crash::build_request(command->spec, command->seed));
      ASSERT_TRUE(result.ok()) << where << ": re-submission says " << result.status().to_string();
      EXPECT_TRUE(result->deduplicated) << where;
      EXPECT_EQ(result->first_position, command->first_position) << where;
      EXPECT_EQ(result->last_position, command->last_position) << where;
      ASSERT_EQ(result->streams.size(), command->streams.size()) << where;
      for (std::size_t i = 0; i < command->streams.size(); ++i) {
        EXPECT_EQ(result->streams[i], command->streams[i]) << where << ": " << command->streams[i].stream;
      }
      EXPECT_EQ(store.last_position(), before) << where << ": re-submission appended";
    }
  }

  Commands commands_;
};

TEST(CrashWorkload, RequestsAreRebuiltFromTheirBeginLine) {
  crash::CommandSpec spec;
  spec.id = crash::make_command_id(42, 3, 7);
  spec.writes = {{"crash-1", es::ExpectedVersion::any()},
                 {"crash-12", es::ExpectedVersion::exact(9)},
                 {"crash-3", es::ExpectedVersion::no_stream()}};
  spec.events_per_stream = 2;
  const std::string text = crash::format_writes(spec.writes);
  EXPECT_EQ(text, "crash-1,crash-12@9,crash-3@-");
  auto parsed = crash::parse_writes(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, spec.writes);

  const es::AppendRequest a = crash::build_request(spec, 99);
  const es::AppendRequest b = crash::build_request({spec.id, *parsed, 2}, 99);
  ASSERT_EQ(a.writes.size(), 3u);
  for (std::size_t w = 0; w < 3; ++w) {
    ASSERT_EQ(a.writes[w].events.size(), 2u);
    EXPECT_EQ(a.writes[w].expected, b.writes[w].expected);
    for (std::size_t e = 0; e < 2; ++e) {
      EXPECT_EQ(a.writes[w].events[e].payload, b.writes[w].events[e].payload);
      EXPECT_EQ(a.writes[w].events[e].event_id, b.writes[w].events[e].event_id);
      EXPECT_FALSE(a.writes[w].events[e].event_id.is_nil());
    }
  }
  EXPECT_NE(a.writes[0].events[0].event_id, a.writes[0].events[1].event_id);
  EXPECT_NE(crash::make_command_id(42, 3, 7), crash::make_command_id(43, 3, 7));
  EXPECT_NE(crash::make_command_id(42, 3, 7), crash::make_command_id(42, 2, 7));
  EXPECT_TRUE(es::validate_request(a).ok()) << es::validate_request(a).to_string();
}

TEST_F(CrashTest, KilledWriterLeavesACompleteExactlyOnceLog) {
  const auto cycles = static_cast<int>(env_u64("PORTAL_CRASH_CYCLES", 30));
  const std::uint64_t base_seed = env_u64("PORTAL_CRASH_SEED", std::random_device{}());
  std::fprintf(stderr, "crash test: %d cycles, PORTAL_CRASH_SEED=%llu, writer %s\n", cycles,
               static_cast<unsigned long long>(base_seed), PORTAL_CRASH_WRITER);
  std::mt19937_64 rng(base_seed);
  TempDir dir;
  ASSERT_FALSE(dir.path().empty()) << "mkdtemp failed";
  const auto started = Clock::now();
  std::size_t total_acked = 0;
  int cycles_with_zeros = 0;

  for (int cycle = 1; cycle <= cycles; ++cycle) {
    const auto cycle_start = Clock::now();
    const std::uint64_t seed = crash::splitmix64(base_seed + static_cast<std::uint64_t>(cycle));
    const std::chrono::milliseconds delay(20 + static_cast<int>(rng() % 281));
    const WriterRun run = run_writer(dir.path(), seed, delay);
    ASSERT_TRUE(run.problem.empty()) << "cycle " << cycle << ": " << run.problem;

    CycleStats stats;
    const std::vector<es::CommandId> in_flight = apply_lines(run, seed, cycle, stats);
    EXPECT_GE(stats.acked, 1u) << "cycle " << cycle;
    total_acked += stats.acked;
    stats.log_zeros = zeros_after_last_record(dir.path());
    if (stats.log_zeros > 0) ++cycles_with_zeros;

    {
      auto opened = es::RocksDbEventStore::open(dir.path());
      ASSERT_TRUE(opened.ok()) << "cycle " << cycle
                               << ": reopen after SIGKILL: " << opened.status().to_string();
      es::RocksDbEventStore& store = **opened;
      LogIndex log;
      read_log(store, log, cycle);
      if (!HasFatalFailure()) check_commands_in_log(log, cycle);
      if (!HasFatalFailure()) check_stream_index(store, log, cycle);
      stats.last_position = store.last_position();
      if (!HasFatalFailure()) resubmit_in_flight(store, log, in_flight, cycle, stats);
      if (!HasFatalFailure()) resubmit_acked(store, cycle, rng);
      EXPECT_TRUE(store.close().ok());
    }

    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - cycle_start);
    std::fprintf(
        stderr,
        "crash cycle %d/%d: killed after %lld ms (delay %lld ms), begun %zu, acked %zu, conflicted %zu, "
        "in-flight %zu (%zu had committed, %zu refused on re-submission), last position %llu, "
        "log ended in %llu KiB of zeros, cycle %lld ms\n",
        cycle, cycles, static_cast<long long>(run.ran_for.count()), static_cast<long long>(delay.count()),
        stats.begun, stats.acked, stats.failed, stats.in_flight, stats.in_flight_committed,
        stats.in_flight_refused, static_cast<unsigned long long>(stats.last_position),
        static_cast<unsigned long long>(stats.log_zeros >> 10), static_cast<long long>(took.count()));
    if (HasFailure()) {
      dir.keep();
      std::fprintf(stderr, "crash test: failed in cycle %d; repeat with PORTAL_CRASH_SEED=%llu\n", cycle,
                   static_cast<unsigned long long>(base_seed));
      break;
    }
  }
  std::fprintf(stderr, "crash test: %d of %d reopened logs ended in zeros\n", cycles_with_zeros, cycles);
  std::fprintf(stderr, "crash test: %zu commands acknowledged in %lld ms\n", total_acked,
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()));
}

}  // namespace
