// What eventstore_bench and commands_bench share: the common flags, failure and
// temporary directories, medians and number formatting, progress lines, the flat
// JSON writer, the table, and the plain-RocksDB ceiling both programs measure
// beside their own figures. Kept in one place so that the two ceilings stay the
// same measurement: a ratio in one suite can then be read beside the other's.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>  // mkdtemp

#include "portal/api/allocator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "portal/eventstore/rocksdb_event_store.h"
#include "portal/eventstore/rocksdb_layout.h"

namespace portal::bench {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Program name and temporary root. Globals because die() must reach them from
// any thread and from atexit, where nothing can be passed in.

inline const char* g_program = "bench";  // prefixes every message; set by parse_common_args
inline std::string g_tmp_root;           // removed on exit, also after a failure

inline void remove_tmp_root() {
  if (g_tmp_root.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(g_tmp_root, ec);
  g_tmp_root.clear();
}

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", g_program, what.c_str());
  remove_tmp_root();
  std::_Exit(1);  // other threads may still hold the stores; do not run destructors
}

inline void check(const eventstore::Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.to_string());
}
inline void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.ToString());
}
template <class T>
T unwrap(eventstore::Result<T> r, const char* what) {
  if (!r.ok()) die(std::string(what) + ": " + r.status().to_string());
  return std::move(r).value();
}

// ---------------------------------------------------------------------------
// Common flags. Each program's Config derives from CommonFlags and adds its
// workload sizes; the usage text stays the program's own.

struct CommonFlags {
  int runs = 3;
  std::string out;  // the program's default, set before parsing
  std::string dir;  // parent of the temporary directory; empty: /tmp
  bool quick = false;
};

[[noreturn]] inline void usage(const char* text, int code) {
  std::fputs(text, code == 0 ? stdout : stderr);
  std::exit(code);
}

// Parses --runs, --out, --dir, --quick and --help into flags; anything else is
// an error. --quick means 1 run unless --runs is given; the program shrinks its
// own workloads after this returns.
inline void parse_common_args(const char* program, const char* usage_text, int argc, char** argv,
                              CommonFlags& flags) {
  g_program = program;
  bool runs_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(usage_text, 2);
      return argv[++i];
    };
    if (arg == "--runs") {
      flags.runs = std::atoi(value().c_str());
      runs_given = true;
      if (flags.runs < 1) usage(usage_text, 2);
    } else if (arg == "--out") {
      flags.out = value();
    } else if (arg == "--dir") {
      flags.dir = value();
    } else if (arg == "--quick") {
      flags.quick = true;
    } else if (arg == "--help" || arg == "-h") {
      usage(usage_text, 0);
    } else {
      std::fprintf(stderr, "%s: unknown argument %s\n", program, argv[i]);
      usage(usage_text, 2);
    }
  }
  if (flags.quick && !runs_given) flags.runs = 1;
}

// Creates the temporary root (prefix-XXXXXX under --dir or /tmp), removes it at
// exit and says where it is.
inline void enter_tmp_root(const CommonFlags& flags, const char* prefix) {
  namespace fs = std::filesystem;
  fs::path parent = flags.dir.empty() ? fs::path("/tmp") : fs::path(flags.dir);
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string templ = (parent / (std::string(prefix) + "-XXXXXX")).string();
  if (mkdtemp(templ.data()) == nullptr) die("cannot create a temporary directory in " + parent.string());
  g_tmp_root = templ;
  std::atexit(remove_tmp_root);
  std::fprintf(stderr, "%s: %d run%s, stores under %s, %s malloc\n", g_program, flags.runs,
               flags.runs == 1 ? "" : "s", g_tmp_root.c_str(), portal::memory_allocator());
}

// The parameters every suite's JSON records beside its figures: runs, quick (1
// after --quick) and allocator_tcmalloc (1 when the figures ran on tcmalloc).
inline void record_common_parameters(std::map<std::string, double>& m, const CommonFlags& flags) {
  m["runs"] = flags.runs;
  m["quick"] = flags.quick ? 1 : 0;
  m["allocator_tcmalloc"] = std::string_view(portal::memory_allocator()) == "tcmalloc" ? 1 : 0;
}

// A fresh directory under the temporary root, removed when it goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) : path_((std::filesystem::path(g_tmp_root) / name).string()) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// Numbers

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

inline std::string with_commas(double v) {
  auto n = static_cast<long long>(v + 0.5);
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

inline std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// ---------------------------------------------------------------------------
// Samples and progress

// The per-run figures of every key, echoed to stderr as they come in.
class Samples {
 public:
  void record(const std::string& key, double v) {
    samples_[key].push_back(v);
    std::fprintf(stderr, "    %-40s %14s\n", key.c_str(),
                 v >= 1000 ? with_commas(v).c_str() : fixed(v, 3).c_str());
  }
  // Kept without an echo: a parameter of the run rather than a figure.
  void add_quietly(const std::string& key, double v) { samples_[key].push_back(v); }
  std::map<std::string, double> medians() const {
    std::map<std::string, double> m;
    for (const auto& [key, v] : samples_) m[key] = median(v);
    return m;
  }

 private:
  std::map<std::string, std::vector<double>> samples_;
};

inline void progress(int run, int runs, const char* what) {
  std::fprintf(stderr, "[run %d/%d] %s\n", run + 1, runs, what);
}

// ---------------------------------------------------------------------------
// Report: targets, the table and the flat JSON object

struct Target {
  const char* key;
  bool at_least;  // true: key >= bound; false: key <= bound
  double bound;
};

inline bool meets(const Target& t, double value) {
  return t.at_least ? value >= t.bound : value <= t.bound;
}

// "PASS" or "FAIL" for a key with a target, "" for one without.
inline const char* verdict(std::span<const Target> targets, const std::map<std::string, double>& m,
                           std::string_view key) {
  for (const Target& t : targets)
    if (std::string_view(t.key) == key) return meets(t, m.at(std::string(key))) ? "PASS" : "FAIL";
  return "";
}

inline std::size_t targets_met(std::span<const Target> targets, const std::map<std::string, double>& m) {
  std::size_t met = 0;
  for (const Target& t : targets) met += meets(t, m.at(t.key)) ? 1 : 0;
  return met;
}

struct Row {
  std::string figure, ours, raw, ratio, target, result;
};

// The header, a rule and the rows, each column as wide as its widest cell.
inline void print_rows(const Row& header, const std::vector<Row>& rows) {
  std::size_t wid[6] = {0, 0, 0, 0, 0, 0};
  auto widen = [&](const Row& r) {
    const std::string* cells[6] = {&r.figure, &r.ours, &r.raw, &r.ratio, &r.target, &r.result};
    for (int i = 0; i < 6; ++i) wid[i] = std::max(wid[i], cells[i]->size());
  };
  widen(header);
  for (const Row& r : rows) widen(r);
  auto print = [&](const Row& r) {
    std::printf("%-*s  %*s  %*s  %*s  %-*s  %s\n", static_cast<int>(wid[0]), r.figure.c_str(),
                static_cast<int>(wid[1]), r.ours.c_str(), static_cast<int>(wid[2]), r.raw.c_str(),
                static_cast<int>(wid[3]), r.ratio.c_str(), static_cast<int>(wid[4]), r.target.c_str(),
                r.result.c_str());
  };
  print(header);
  std::size_t total = 0;
  for (std::size_t w : wid) total += w + 2;
  std::printf("%s\n", std::string(total, '-').c_str());
  for (const Row& r : rows) print(r);
}

// How write_json spells a number: whole when it is whole or at least whole_from,
// one decimal from tenths_from, otherwise 4 significant digits. Each program
// keeps the precision its figures were published with.
struct JsonNumbers {
  double whole_from;
  double tenths_from;
};

// A flat JSON object of m's values, in the given key order.
inline void write_json(const std::map<std::string, double>& m, const std::vector<std::string>& order,
                       const std::string& path, JsonNumbers numbers) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path);
  if (!out) die("cannot write " + path);
  out << "{\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    const double v = m.at(order[i]);
    char buf[64];
    if (v == static_cast<double>(static_cast<long long>(v)) || v >= numbers.whole_from) {
      std::snprintf(buf, sizeof buf, "%.0f", v);
    } else if (v >= numbers.tenths_from) {
      std::snprintf(buf, sizeof buf, "%.1f", v);
    } else {
      std::snprintf(buf, sizeof buf, "%.4g", v);
    }
    out << "  \"" << order[i] << "\": " << buf << (i + 1 < order.size() ? ",\n" : "\n");
  }
  out << "}\n";
  if (!out) die("cannot write " + path);
}

// ---------------------------------------------------------------------------
// Plain RocksDB: the ceiling. Same column families for the bytes it writes, the
// store's cache sizes and background parallelism, otherwise RocksDB's defaults:
// the store's tuning for its own access patterns (memtable representations and
// insert hints, single-writer memtable inserts) is part of what it is measured
// for, not given to the ceiling. Each event is one WriteBatch of its record under
// the log key and its stream index entry, as the store writes it.

inline std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

inline std::string raw_stream_key(const std::string& stream, std::uint64_t version) {
  std::string key;
  key.reserve(stream.size() + 9);
  key.append(stream);
  key.push_back('\0');
  key.append(be64(version));
  return key;
}

struct RawCaches {
  std::size_t block_cache_bytes = 0;
  // Unset: no row cache. commands_bench's ceiling has always run without one,
  // eventstore_bench's with the store's; each keeps the setting its figures have.
  std::optional<std::size_t> row_cache_bytes;
};

inline rocksdb::Options raw_options(const RawCaches& caches) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  if (caches.row_cache_bytes) options.row_cache = rocksdb::NewLRUCache(*caches.row_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(caches.block_cache_bytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

class RawDb {
 public:
  // Creates a database with the store's column families, to write events to.
  RawDb(const RawCaches& caches, const std::string& dir)
      : RawDb(caches, dir,
              {rocksdb::kDefaultColumnFamilyName, eventstore::layout::kLogFamily,
               eventstore::layout::kStreamsFamily},
              false) {}

  // Opens (creating) a database with the given column families, or, read_only,
  // an existing one with all of its families.
  RawDb(const RawCaches& caches, const std::string& dir, std::vector<std::string> families, bool read_only) {
    rocksdb::Options options = raw_options(caches);
    if (read_only) {
      families.clear();
      check(rocksdb::DB::ListColumnFamilies(options, dir, &families), "raw: list column families");
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& f : families) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions(options));
    rocksdb::DB* db = nullptr;
    if (read_only) {
      check(rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &handles_, &db), "raw: open read-only");
    } else {
      check(rocksdb::DB::Open(options, dir, descriptors, &handles_, &db), "raw: open");
    }
    db_.reset(db);
    names_ = std::move(families);
  }
  ~RawDb() {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* family(std::string_view name) {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return handles_[i];
    die("raw: no column family " + std::string(name));
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::vector<std::string> names_;
};

// One event: its record under the log key, its index entry, one WriteBatch. The
// handles are looked up once by the caller, outside the timed loop.
inline rocksdb::Status raw_write(RawDb& raw, rocksdb::ColumnFamilyHandle* log,
                                 rocksdb::ColumnFamilyHandle* streams, const rocksdb::WriteOptions& wo,
                                 std::uint64_t position, const std::string& value, const std::string& stream,
                                 std::uint64_t version) {
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(log, be64(position), value);
  if (s.ok()) s = batch.Put(streams, raw_stream_key(stream, version), be64(position));
  if (s.ok()) s = raw.db()->Write(wo, &batch);
  return s;
}

// Runs body(writer, index) for per_writer indexes on each of `writers` threads
// started together; returns the seconds from start to the last thread's end.
template <class Body>
double run_writers(std::size_t writers, std::size_t per_writer, const Body& body) {
  std::latch start(static_cast<std::ptrdiff_t>(writers + 1));
  std::vector<std::thread> threads;
  threads.reserve(writers);
  for (std::size_t w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (std::size_t i = 0; i < per_writer; ++i) body(w, i);
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  return seconds_since(t0);
}

// 1 writer, buffered: events written one WriteBatch each, round-robin over
// streams with values cycled, continuing where the previous write() stopped.
class RawBufferedWriter {
 public:
  RawBufferedWriter(const RawCaches& caches, const std::vector<std::string>& streams,
                    const std::vector<std::string>& values, const std::string& dir)
      : raw_(caches, dir),
        log_(raw_.family(eventstore::layout::kLogFamily)),
        index_(raw_.family(eventstore::layout::kStreamsFamily)),
        streams_(streams),
        values_(values),
        versions_(streams.size(), 0) {
    wo_.sync = false;
  }

  void write(std::size_t count) {
    for (const std::size_t end = written_ + count; written_ < end; ++written_) {
      const std::size_t s = written_ % streams_.size();
      check(raw_write(raw_, log_, index_, wo_, written_ + 1, values_[written_ % values_.size()], streams_[s],
                      versions_[s]++),
            "raw buffered write");
    }
  }

 private:
  RawDb raw_;
  rocksdb::ColumnFamilyHandle* log_;
  rocksdb::ColumnFamilyHandle* index_;
  const std::vector<std::string>& streams_;
  const std::vector<std::string>& values_;
  std::vector<std::uint64_t> versions_;
  rocksdb::WriteOptions wo_;
  std::size_t written_ = 0;
};

// Slice `index` of a side's `units` (events, commands) cut into equal parts:
// units [begin, end).
struct Slice {
  std::size_t index = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};

// Two single-threaded workloads timed in alternating slices (which side starts
// alternates too), so that a slow phase of the machine, frequent on shared VMs,
// slows both alike instead of whichever side it happened to meet. Each side's
// units are cut into `slices` parts; `ours(slice)` and `raw(slice)` run one, and
// each side's rate is its units over its own time.
struct InterleavedRates {
  double ours_per_s = 0;
  double raw_per_s = 0;
};
template <class Ours, class Raw>
InterleavedRates interleave(std::size_t slices, bool ours_first, std::size_t ours_units, const Ours& ours,
                            std::size_t raw_units, const Raw& raw) {
  auto slice = [&](std::size_t units, std::size_t i) {
    return Slice{i, units * i / slices, units * (i + 1) / slices};
  };
  double ours_secs = 0, raw_secs = 0;
  for (std::size_t i = 0; i < slices; ++i) {
    for (int side = 0; side < 2; ++side) {
      const bool ours_now = (side == 0) == (ours_first == (i % 2 == 0));
      const auto t0 = Clock::now();
      if (ours_now) {
        ours(slice(ours_units, i));
        ours_secs += seconds_since(t0);
      } else {
        raw(slice(raw_units, i));
        raw_secs += seconds_since(t0);
      }
    }
  }
  return {static_cast<double>(ours_units) / ours_secs, static_cast<double>(raw_units) / raw_secs};
}

// Events per second of `writers` threads, each writing per_writer synced events;
// writer w's i-th event is event w + i * writers of the round-robin.
inline double raw_sync_writers(const RawCaches& caches, const std::vector<std::string>& streams,
                               const std::vector<std::string>& values, std::size_t writers,
                               std::size_t per_writer, const std::string& dir) {
  RawDb raw(caches, dir);
  rocksdb::ColumnFamilyHandle* log = raw.family(eventstore::layout::kLogFamily);
  rocksdb::ColumnFamilyHandle* index = raw.family(eventstore::layout::kStreamsFamily);
  std::atomic<std::uint64_t> last_position{0};
  auto versions = std::make_unique<std::atomic<std::uint64_t>[]>(streams.size());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::mutex error_mu;
  std::string first_error;
  const double secs = run_writers(writers, per_writer, [&](std::size_t w, std::size_t i) {
    const std::size_t k = w + i * writers;
    const std::size_t s = k % streams.size();
    const std::uint64_t position = last_position.fetch_add(1) + 1;
    rocksdb::Status st = raw_write(raw, log, index, wo, position, values[k % values.size()], streams[s],
                                   versions[s].fetch_add(1));
    if (!st.ok()) {
      std::lock_guard lock(error_mu);
      if (first_error.empty()) first_error = st.ToString();
    }
  });
  if (!first_error.empty()) die("raw sync write: " + first_error);
  return static_cast<double>(writers * per_writer) / secs;
}

}  // namespace portal::bench
