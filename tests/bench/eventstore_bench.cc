// eventstore_bench: throughput and latency of the RocksDB event store, each figure
// measured beside its storage ceiling (plain RocksDB writing the same bytes) in the
// same run, so that the ratios do not depend on the machine.
//
//   eventstore_bench [--runs N] [--out FILE] [--dir DIR] [--quick]
//
// Every figure is the median of N runs (default 3); a ratio is the median of the
// per-run ratios, each comparing two measurements taken seconds apart. Prints a
// table to stdout, progress to stderr, and writes a flat JSON object of numbers to
// FILE (default bench-results/eventstore.json). What each key means, its baseline
// and its target: docs/PERFORMANCE.md.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "portal/eventstore/rocksdb_event_store.h"
#include "portal/eventstore/rocksdb_layout.h"

namespace {

namespace es = portal::eventstore;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Configuration

struct Config {
  int runs = 3;
  std::string out = "bench-results/eventstore.json";
  std::string dir;  // parent of the temporary directory; empty: /tmp
  bool quick = false;

  std::size_t streams = 1000;           // the varied streams appends go to
  std::size_t payload_bytes = 200;      // one event's payload
  std::size_t payload_variants = 1024;  // distinct payloads, cycled (keeps blocks realistic to compress)
  std::size_t buffered_appends = 100'000;
  std::size_t sync_writers = 64;
  std::size_t sync_appends_per_writer = 1000;
  std::size_t long_stream_events = 1000;   // read_stream_1000's stream
  std::size_t fillers_per_long_event = 9;  // other streams' events between two of its events
  std::size_t read_page = 1000;            // read_all page size
  std::size_t scan_passes = 5;             // timed full passes per scan figure and run (fastest)
  std::size_t read_stream_reps = 200;
  std::size_t read_stream_warmup_reps = 5;  // read before the timed reps, not counted
  std::size_t block_cache_bytes = es::RocksDbOptions{}.block_cache_bytes;
  std::size_t row_cache_bytes = es::RocksDbOptions{}.row_cache_bytes;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: eventstore_bench [--runs N] [--out FILE] [--dir DIR] [--quick]\n"
               "  --runs N    runs per figure; each figure is the median (default 3)\n"
               "  --out FILE  flat JSON object of the results (default bench-results/eventstore.json)\n"
               "  --dir DIR   where to create the temporary stores (default /tmp); removed at the end\n"
               "  --quick     smaller workloads and 1 run unless --runs is given (a smoke test;\n"
               "              figures are noisier)\n");
  std::exit(code);
}

Config parse_args(int argc, char** argv) {
  Config cfg;
  bool runs_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (arg == "--runs") {
      cfg.runs = std::atoi(value().c_str());
      runs_given = true;
      if (cfg.runs < 1) usage(2);
    } else if (arg == "--out") {
      cfg.out = value();
    } else if (arg == "--dir") {
      cfg.dir = value();
    } else if (arg == "--quick") {
      cfg.quick = true;
    } else if (arg == "--help" || arg == "-h") {
      usage(0);
    } else {
      std::fprintf(stderr, "eventstore_bench: unknown argument %s\n", argv[i]);
      usage(2);
    }
  }
  if (cfg.quick) {
    cfg.buffered_appends = 20'000;
    cfg.sync_appends_per_writer = 100;
    cfg.read_stream_reps = 50;
    if (!runs_given) cfg.runs = 1;
  }
  return cfg;
}

// ---------------------------------------------------------------------------
// Failure and temporary directories

std::string g_tmp_root;  // removed on exit, also after a failure

void remove_tmp_root() {
  if (g_tmp_root.empty()) return;
  std::error_code ec;
  fs::remove_all(g_tmp_root, ec);
  g_tmp_root.clear();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "eventstore_bench: %s\n", what.c_str());
  remove_tmp_root();
  std::_Exit(1);  // other threads may still hold the stores; do not run destructors
}

void check(const es::Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.to_string());
}
void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.ToString());
}
template <class T>
T unwrap(es::Result<T> r, const char* what) {
  if (!r.ok()) die(std::string(what) + ": " + r.status().to_string());
  return std::move(r).value();
}

std::string make_tmp_root(const Config& cfg) {
  fs::path parent = cfg.dir.empty() ? fs::path("/tmp") : fs::path(cfg.dir);
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string templ = (parent / "eventstore-bench-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) die("cannot create a temporary directory in " + parent.string());
  return templ;
}

// A fresh directory under the temporary root, removed when it goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) : path_((fs::path(g_tmp_root) / name).string()) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// Workload

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Cheap unique ids (RFC 4122 version 4 layout), so that id generation does not
// weigh on the figures.
class IdSource {
 public:
  explicit IdSource(std::uint64_t seed) : state_(seed) {}
  es::Id16 next() {
    es::Id16 id;
    std::uint64_t a = splitmix();
    std::uint64_t b = splitmix();
    std::memcpy(id.bytes.data(), &a, 8);
    std::memcpy(id.bytes.data() + 8, &b, 8);
    id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0f) | 0x40);
    id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3f) | 0x80);
    return id;
  }

 private:
  std::uint64_t splitmix() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

struct Workload {
  std::vector<std::string> streams;   // all names have the same length
  std::string long_stream;            // the stream read_stream_1000 reads
  std::vector<std::string> payloads;  // random bytes, payload_bytes each
};

std::string stream_name(std::uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "item-%08llx-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n >> 32),
                static_cast<unsigned long long>(n & 0xffffffffffffull));
  return buf;
}

Workload make_workload(const Config& cfg, std::uint64_t seed) {
  Workload wl;
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < cfg.streams; ++i) wl.streams.push_back(stream_name(rng()));
  wl.long_stream = stream_name(rng());
  for (std::size_t i = 0; i < cfg.payload_variants; ++i) {
    std::string p(cfg.payload_bytes, '\0');
    for (char& c : p) c = static_cast<char>(rng());
    wl.payloads.push_back(std::move(p));
  }
  return wl;
}

// One reusable single-event append request: what a command handler sends for a
// command that emits one event.
class RequestBuilder {
 public:
  explicit RequestBuilder(std::uint64_t seed) : ids_(seed) {
    request_.writes.resize(1);
    request_.writes[0].expected = es::ExpectedVersion::any();
    request_.writes[0].events.resize(1);
    es::NewEvent& e = request_.writes[0].events[0];
    e.type = "ItemUpdated";
    e.type_code = 1001;
  }
  const es::AppendRequest& next(const std::string& stream, const std::string& payload) {
    request_.command_id = ids_.next();
    es::StreamWrite& w = request_.writes[0];
    w.stream.assign(stream);
    es::NewEvent& e = w.events[0];
    e.event_id = ids_.next();
    e.correlation_id = request_.command_id;
    e.causation_id = request_.command_id;
    e.payload.assign(payload);
    return request_;
  }

 private:
  IdSource ids_;
  es::AppendRequest request_;
};

std::unique_ptr<es::RocksDbEventStore> open_store(const Config& cfg, const std::string& dir,
                                                  es::Durability durability) {
  es::RocksDbOptions options;
  options.durability = durability;
  options.block_cache_bytes = cfg.block_cache_bytes;
  options.row_cache_bytes = cfg.row_cache_bytes;
  return unwrap(es::RocksDbEventStore::open(dir, options), "open the event store");
}

void close_store(std::unique_ptr<es::RocksDbEventStore>& store) {
  check(store->close(), "close the event store");
  store.reset();
}

// The stored values (envelope + checksum) of one event per payload variant, as our
// store writes them: the raw ceiling writes exactly these bytes.
std::vector<std::string> probe_stored_values(const Config& cfg, const Workload& wl, std::uint64_t seed) {
  ScratchDir dir("probe");
  auto store = open_store(cfg, dir.path(), es::Durability::kBuffered);
  RequestBuilder rb(seed);
  for (std::size_t i = 0; i < wl.payloads.size(); ++i) {
    (void)unwrap(store->append(rb.next(wl.streams[i % wl.streams.size()], wl.payloads[i])), "probe append");
  }
  std::vector<std::string> values;
  check(store->scan_all(1, wl.payloads.size(),
                        [&](const es::RocksDbEventStore::RecordView& r) {
                          values.emplace_back(r.envelope);
                          return true;
                        }),
        "probe scan_all");
  close_store(store);
  if (values.size() != wl.payloads.size() || values[0].empty())
    die("probe: scan_all returned no stored values");
  return values;
}

// ---------------------------------------------------------------------------
// Plain RocksDB: the ceiling. Same column families for the bytes it writes, the
// store's cache sizes and background parallelism, otherwise RocksDB's defaults:
// the store's tuning for its own access patterns (memtable representations and
// insert hints, single-writer memtable inserts) is part of what it is measured
// for, not given to the ceiling.

std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::string raw_stream_key(const std::string& stream, std::uint64_t version) {
  std::string key;
  key.reserve(stream.size() + 9);
  key.append(stream);
  key.push_back('\0');
  key.append(be64(version));
  return key;
}

rocksdb::Options raw_options(const Config& cfg) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  options.row_cache = rocksdb::NewLRUCache(cfg.row_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(cfg.block_cache_bytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

class RawDb {
 public:
  // Opens (creating) a database with the given column families, or, read_only,
  // an existing one with all of its families.
  RawDb(const Config& cfg, const std::string& dir, std::vector<std::string> families, bool read_only) {
    rocksdb::Options options = raw_options(cfg);
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

// ---------------------------------------------------------------------------
// Figures

// Keeps the optimizer from dropping reads whose results are otherwise unused.
std::atomic<std::uint64_t> g_sink{0};

// 1 caller, buffered, one event per append to varied streams. Then, untimed, the
// long stream interleaved with other streams' events for the read figures; the
// store's directory stays for them.
double ours_buffered_1writer(const Config& cfg, const Workload& wl, const std::string& dir,
                             std::uint64_t seed) {
  auto store = open_store(cfg, dir, es::Durability::kBuffered);
  RequestBuilder rb(seed);
  const std::size_t n = cfg.buffered_appends;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto r = store->append(rb.next(wl.streams[i % wl.streams.size()], wl.payloads[i % wl.payloads.size()]));
    if (!r.ok()) die("buffered append: " + r.status().to_string());
  }
  const double secs = seconds_since(t0);

  std::size_t filler = 0;
  for (std::size_t v = 0; v < cfg.long_stream_events; ++v) {
    (void)unwrap(store->append(rb.next(wl.long_stream, wl.payloads[v % wl.payloads.size()])),
                 "long stream append");
    for (std::size_t k = 0; k < cfg.fillers_per_long_event; ++k, ++filler) {
      (void)unwrap(store->append(rb.next(wl.streams[filler % wl.streams.size()],
                                         wl.payloads[filler % wl.payloads.size()])),
                   "filler append");
    }
  }
  close_store(store);
  return static_cast<double>(n) / secs;
}

double raw_buffered_1writer(const Config& cfg, const Workload& wl, const std::vector<std::string>& values,
                            const std::string& dir) {
  RawDb raw(cfg, dir, {rocksdb::kDefaultColumnFamilyName, es::layout::kLogFamily, es::layout::kStreamsFamily},
            false);
  rocksdb::ColumnFamilyHandle* log = raw.family(es::layout::kLogFamily);
  rocksdb::ColumnFamilyHandle* streams = raw.family(es::layout::kStreamsFamily);
  std::vector<std::uint64_t> versions(wl.streams.size(), 0);
  rocksdb::WriteOptions wo;
  wo.sync = false;
  const std::size_t n = cfg.buffered_appends;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t position = i + 1;
    const std::size_t s = i % wl.streams.size();
    rocksdb::WriteBatch batch;
    check(batch.Put(log, be64(position), values[i % values.size()]), "raw put");
    check(batch.Put(streams, raw_stream_key(wl.streams[s], versions[s]++), be64(position)), "raw put");
    check(raw.db()->Write(wo, &batch), "raw buffered write");
  }
  return static_cast<double>(n) / seconds_since(t0);
}

// Runs body(writer, index) for sync_appends_per_writer indexes on each of
// sync_writers threads started together; returns the seconds from start to the
// last thread's end.
double run_writers(const Config& cfg, const std::function<void(std::size_t, std::size_t)>& body) {
  const std::size_t writers = cfg.sync_writers;
  std::latch start(static_cast<std::ptrdiff_t>(writers + 1));
  std::vector<std::thread> threads;
  threads.reserve(writers);
  for (std::size_t w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (std::size_t i = 0; i < cfg.sync_appends_per_writer; ++i) body(w, i);
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  return seconds_since(t0);
}

struct SyncFigure {
  double eps = 0;
  double events_per_group_commit = 0;
};

SyncFigure ours_sync_writers(const Config& cfg, const Workload& wl, const std::string& dir,
                             std::uint64_t seed) {
  auto store = open_store(cfg, dir, es::Durability::kSync);
  std::vector<RequestBuilder> builders;
  for (std::size_t w = 0; w < cfg.sync_writers; ++w) builders.emplace_back(seed + 7919 * (w + 1));
  std::mutex error_mu;
  std::string first_error;
  const double secs = run_writers(cfg, [&](std::size_t w, std::size_t i) {
    const std::size_t k = w + i * cfg.sync_writers;
    auto r = store->append(
        builders[w].next(wl.streams[k % wl.streams.size()], wl.payloads[k % wl.payloads.size()]));
    if (!r.ok()) {
      std::lock_guard lock(error_mu);
      if (first_error.empty()) first_error = r.status().to_string();
    }
  });
  if (!first_error.empty()) die("sync append: " + first_error);
  const std::size_t n = cfg.sync_writers * cfg.sync_appends_per_writer;
  if (store->last_position() != n) die("sync: last position is not the number of appends");
  SyncFigure f;
  f.eps = static_cast<double>(n) / secs;
  const std::uint64_t groups = store->group_commits();
  f.events_per_group_commit = groups ? static_cast<double>(n) / static_cast<double>(groups) : 0;
  close_store(store);
  return f;
}

double raw_sync_writers(const Config& cfg, const Workload& wl, const std::vector<std::string>& values,
                        const std::string& dir) {
  RawDb raw(cfg, dir, {rocksdb::kDefaultColumnFamilyName, es::layout::kLogFamily, es::layout::kStreamsFamily},
            false);
  rocksdb::ColumnFamilyHandle* log = raw.family(es::layout::kLogFamily);
  rocksdb::ColumnFamilyHandle* streams = raw.family(es::layout::kStreamsFamily);
  std::atomic<std::uint64_t> last_position{0};
  auto versions = std::make_unique<std::atomic<std::uint64_t>[]>(wl.streams.size());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::mutex error_mu;
  std::string first_error;
  const double secs = run_writers(cfg, [&](std::size_t w, std::size_t i) {
    const std::size_t k = w + i * cfg.sync_writers;
    const std::size_t s = k % wl.streams.size();
    const std::uint64_t position = last_position.fetch_add(1) + 1;
    rocksdb::WriteBatch batch;
    rocksdb::Status st = batch.Put(log, be64(position), values[k % values.size()]);
    if (st.ok())
      st = batch.Put(streams, raw_stream_key(wl.streams[s], versions[s].fetch_add(1)), be64(position));
    if (st.ok()) st = raw.db()->Write(wo, &batch);
    if (!st.ok()) {
      std::lock_guard lock(error_mu);
      if (first_error.empty()) first_error = st.ToString();
    }
  });
  if (!first_error.empty()) die("raw sync write: " + first_error);
  return static_cast<double>(cfg.sync_writers * cfg.sync_appends_per_writer) / secs;
}

struct ReadFigures {
  double read_all_eps = 0;
  double scan_all_eps = 0;
  double read_stream_1000_us = 0;
  double raw_scan_eps = 0;
  double raw_read_stream_1000_us = 0;
  std::uint64_t events = 0;
};

// Every event of the log in pages, checking that positions run 1..last without a
// gap and every payload has its size. The store verifies each envelope.
void read_all_pass(const Config& cfg, es::RocksDbEventStore& store, std::uint64_t last) {
  std::uint64_t next = 1;
  std::uint64_t sink = 0;
  for (;;) {
    auto page = unwrap(store.read_all(next, cfg.read_page), "read_all");
    if (page.empty()) break;
    for (const es::RecordedEvent& e : page) {
      if (e.position != next) die("read_all: expected position " + std::to_string(next));
      if (e.payload.size() != cfg.payload_bytes) die("read_all: wrong payload size");
      sink += static_cast<std::uint8_t>(e.payload[0]) + e.stream.size();
      ++next;
    }
  }
  if (next - 1 != last) die("read_all: read " + std::to_string(next - 1) + " of " + std::to_string(last));
  g_sink += sink;
}

void scan_all_pass(const Config& cfg, es::RocksDbEventStore& store, std::uint64_t last) {
  std::uint64_t next = 1;
  std::uint64_t sink = 0;
  check(store.scan_all(1, last,
                       [&](const es::RocksDbEventStore::RecordView& r) {
                         if (r.position != next) die("scan_all: expected position " + std::to_string(next));
                         if (r.payload.size() != cfg.payload_bytes) die("scan_all: wrong payload size");
                         sink += static_cast<std::uint8_t>(r.payload[0]) + r.stream.size();
                         ++next;
                         return true;
                       }),
        "scan_all");
  if (next - 1 != last) die("scan_all: visited " + std::to_string(next - 1) + " of " + std::to_string(last));
  g_sink += sink;
}

std::uint64_t raw_scan_pass(RawDb& raw, rocksdb::ColumnFamilyHandle* log) {
  std::unique_ptr<rocksdb::Iterator> it(raw.db()->NewIterator(rocksdb::ReadOptions(), log));
  std::uint64_t count = 0;
  std::uint64_t sink = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    const rocksdb::Slice v = it->value();
    sink +=
        static_cast<std::uint8_t>(k[k.size() - 1]) + static_cast<std::uint8_t>(v[v.size() - 1]) + v.size();
    ++count;
  }
  check(it->status(), "raw scan");
  g_sink += sink;
  return count;
}

// Plain RocksDB reading a stream: the index entries under the stream's prefix,
// then one MultiGet of their log keys, touching each value. What read_stream does
// less the envelope verification and the copy into RecordedEvents.
double raw_read_stream_us(RawDb& raw, const std::string& stream, std::size_t max_count) {
  const auto t0 = Clock::now();
  std::string lower = stream;
  lower.push_back('\0');
  std::string upper = stream;
  upper.push_back('\1');
  rocksdb::Slice lower_slice(lower), upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(raw.db()->NewIterator(ro, raw.family(es::layout::kStreamsFamily)));
  std::vector<std::string> keys;
  keys.reserve(max_count);
  for (it->Seek(lower); it->Valid() && keys.size() < max_count; it->Next()) {
    keys.emplace_back(it->value().data(), it->value().size());
  }
  check(it->status(), "raw stream index scan");
  std::vector<rocksdb::Slice> key_slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  raw.db()->MultiGet(rocksdb::ReadOptions(), raw.family(es::layout::kLogFamily), key_slices.size(),
                     key_slices.data(), values.data(), statuses.data(), /*sorted_input=*/true);
  std::uint64_t sink = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    check(statuses[i], "raw stream MultiGet");
    sink += values[i].size() + static_cast<std::uint8_t>(values[i].data()[values[i].size() - 1]);
  }
  const double us = seconds_since(t0) * 1e6;
  if (keys.size() != max_count) die("raw read stream: wrong number of events");
  g_sink += sink;
  return us;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Events per second of a full pass over the log: one untimed pass, so that ours
// and the plain iterator both read warm caches, then the fastest of scan_passes
// timed passes. A pass is single-threaded work of tens of milliseconds, so any
// other process on the machine can only slow it down; the fastest pass is the
// one least disturbed, on both sides alike.
double scan_rate(const Config& cfg, std::uint64_t events, const std::function<void()>& pass) {
  pass();
  double best = 0;
  for (std::size_t i = 0; i < cfg.scan_passes; ++i) {
    const auto t0 = Clock::now();
    pass();
    best = std::max(best, static_cast<double>(events) / seconds_since(t0));
  }
  return best;
}

// The read figures over the log ours_buffered_1writer left in dir. The store is
// reopened first: RocksDB flushes the recovered WAL to table files, so that ours
// and the plain iterator read the same SST files.
ReadFigures read_figures(const Config& cfg, const Workload& wl, const std::string& dir) {
  ReadFigures f;
  auto store = open_store(cfg, dir, es::Durability::kBuffered);
  const std::uint64_t last = store->last_position();
  f.events = last;

  f.read_all_eps = scan_rate(cfg, last, [&] { read_all_pass(cfg, *store, last); });
  f.scan_all_eps = scan_rate(cfg, last, [&] { scan_all_pass(cfg, *store, last); });

  std::vector<double> us;
  for (std::size_t rep = 0; rep < cfg.read_stream_reps + cfg.read_stream_warmup_reps; ++rep) {
    const auto t0 = Clock::now();
    auto events =
        unwrap(store->read_stream(wl.long_stream, es::Direction::kForward, 0, cfg.long_stream_events),
               "read_stream");
    const double elapsed_us = seconds_since(t0) * 1e6;
    if (events.size() != cfg.long_stream_events) die("read_stream: wrong number of events");
    for (std::size_t v = 0; v < events.size(); ++v) {
      if (events[v].version != v || events[v].stream != wl.long_stream) die("read_stream: wrong event");
    }
    if (rep >= cfg.read_stream_warmup_reps) us.push_back(elapsed_us);
  }
  f.read_stream_1000_us = median(us);
  close_store(store);

  RawDb raw(cfg, dir, {}, true);
  rocksdb::ColumnFamilyHandle* log = raw.family(es::layout::kLogFamily);
  f.raw_scan_eps = scan_rate(cfg, last, [&] {
    if (raw_scan_pass(raw, log) != last) die("raw scan: key count differs from the store's last position");
  });

  us.clear();
  for (std::size_t rep = 0; rep < cfg.read_stream_reps + cfg.read_stream_warmup_reps; ++rep) {
    const double elapsed_us = raw_read_stream_us(raw, wl.long_stream, cfg.long_stream_events);
    if (rep >= cfg.read_stream_warmup_reps) us.push_back(elapsed_us);
  }
  f.raw_read_stream_1000_us = median(us);
  return f;
}

// ---------------------------------------------------------------------------
// Report

struct Target {
  const char* key;
  bool at_least;  // true: key >= bound; false: key <= bound
  double bound;
};

constexpr Target kTargets[] = {
    {"ratio_buffered_vs_raw", true, 0.8},        {"ratio_sync_vs_raw", true, 1.5},
    {"append_sync_64writers_eps", true, 50'000}, {"ratio_scan_vs_raw", true, 0.5},
    {"read_stream_1000_us", false, 500},
};

bool meets(const Target& t, double value) {
  return t.at_least ? value >= t.bound : value <= t.bound;
}

std::string with_commas(double v) {
  auto n = static_cast<long long>(v + 0.5);
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void print_table(const std::map<std::string, double>& m, const Config& cfg) {
  auto at = [&](const char* k) { return m.at(k); };
  auto verdict = [&](const char* key) {
    for (const Target& t : kTargets)
      if (std::string_view(t.key) == key) return meets(t, at(key)) ? "PASS" : "FAIL";
    return "";
  };
  struct Row {
    std::string figure, ours, raw, ratio, target, result;
  };
  const std::string w = std::to_string(cfg.sync_writers);
  std::vector<Row> rows = {
      {"append, buffered, 1 writer (events/s)", with_commas(at("append_buffered_1writer_eps")),
       with_commas(at("raw_rocksdb_buffered_1writer_eps")), fixed(at("ratio_buffered_vs_raw"), 2),
       "ratio >= 0.8", verdict("ratio_buffered_vs_raw")},
      {"append, sync, " + w + " writers (events/s)", with_commas(at("append_sync_64writers_eps")),
       with_commas(at("raw_rocksdb_sync_64writers_eps")), fixed(at("ratio_sync_vs_raw"), 2), "ratio >= 1.5",
       verdict("ratio_sync_vs_raw")},
      {"", "", "", "", "ours >= 50,000", verdict("append_sync_64writers_eps")},
      {"read_all, full log (events/s)", with_commas(at("read_all_eps")), with_commas(at("raw_scan_eps")),
       fixed(at("ratio_scan_vs_raw"), 2), "ratio >= 0.5", verdict("ratio_scan_vs_raw")},
      {"scan_all, full log (events/s)", with_commas(at("scan_all_eps")), with_commas(at("raw_scan_eps")),
       fixed(at("ratio_scan_all_vs_raw"), 2), "-", ""},
      {"read_stream, 1000 events (us)", fixed(at("read_stream_1000_us"), 1),
       fixed(at("raw_read_stream_1000_us"), 1),
       fixed(at("raw_read_stream_1000_us") / at("read_stream_1000_us"), 2), "ours <= 500",
       verdict("read_stream_1000_us")},
  };
  const Row header{"figure", "ours", "raw rocksdb", "speed ours/raw", "target", "result"};
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
  std::printf("\neventstore_bench: median of %d run%s, %zu-byte payloads, log of %s events scanned\n\n",
              cfg.runs, cfg.runs == 1 ? "" : "s", cfg.payload_bytes,
              with_commas(at("log_events_scanned")).c_str());
  print(header);
  std::size_t total = 0;
  for (std::size_t i = 0; i < 6; ++i) total += wid[i] + 2;
  std::printf("%s\n", std::string(total, '-').c_str());
  for (const Row& r : rows) print(r);
  std::size_t met = 0;
  for (const Target& t : kTargets) met += meets(t, at(t.key)) ? 1 : 0;
  std::printf("\n%zu of %zu targets met. Sync: %.1f events per group commit (ours).\n", met,
              std::size(kTargets), at("sync_64writers_events_per_group_commit"));
}

void write_json(const std::map<std::string, double>& m, const std::vector<std::string>& order,
                const std::string& path) {
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  std::ofstream out(path);
  if (!out) die("cannot write " + path);
  out << "{\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    const double v = m.at(order[i]);
    char buf[64];
    if (v == static_cast<double>(static_cast<long long>(v)) || v >= 10000) {
      std::snprintf(buf, sizeof buf, "%.0f", v);  // counts and rates
    } else if (v >= 100) {
      std::snprintf(buf, sizeof buf, "%.1f", v);  // microseconds
    } else {
      std::snprintf(buf, sizeof buf, "%.4g", v);  // ratios
    }
    out << "  \"" << order[i] << "\": " << buf << (i + 1 < order.size() ? ",\n" : "\n");
  }
  out << "}\n";
  if (!out) die("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse_args(argc, argv);
  g_tmp_root = make_tmp_root(cfg);
  std::atexit(remove_tmp_root);
  std::fprintf(stderr, "eventstore_bench: %d run%s, stores under %s\n", cfg.runs, cfg.runs == 1 ? "" : "s",
               g_tmp_root.c_str());

  const std::uint64_t seed = std::random_device{}() * 0x100000001b3ull ^ std::random_device{}();
  const Workload wl = make_workload(cfg, seed);
  const std::vector<std::string> values = probe_stored_values(cfg, wl, seed + 1);
  std::fprintf(stderr,
               "eventstore_bench: %zu-byte payload is stored as a %zu-byte value; raw writes the same\n",
               cfg.payload_bytes, values[0].size());

  std::map<std::string, std::vector<double>> samples;
  auto record = [&](const std::string& key, double v) {
    samples[key].push_back(v);
    std::fprintf(stderr, "    %-40s %14s\n", key.c_str(),
                 v >= 1000 ? with_commas(v).c_str() : fixed(v, 3).c_str());
  };

  for (int run = 0; run < cfg.runs; ++run) {
    // Alternate which side goes first, so neither always meets a colder or a
    // busier machine.
    const bool ours_first = run % 2 == 0;
    auto progress = [&](const char* what) {
      std::fprintf(stderr, "[run %d/%d] %s\n", run + 1, cfg.runs, what);
    };
    const std::uint64_t run_seed = seed + 1000003ull * static_cast<std::uint64_t>(run + 1);

    ScratchDir ours_log("run" + std::to_string(run) + "-ours-buffered");
    double ours_b = 0, raw_b = 0;
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == ours_first) {
        progress("append_buffered_1writer_eps (ours)");
        ours_b = ours_buffered_1writer(cfg, wl, ours_log.path(), run_seed);
      } else {
        progress("raw_rocksdb_buffered_1writer_eps");
        ScratchDir d("run" + std::to_string(run) + "-raw-buffered");
        raw_b = raw_buffered_1writer(cfg, wl, values, d.path());
      }
    }
    record("append_buffered_1writer_eps", ours_b);
    record("raw_rocksdb_buffered_1writer_eps", raw_b);
    record("ratio_buffered_vs_raw", ours_b / raw_b);

    SyncFigure ours_s;
    double raw_s = 0;
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == ours_first) {
        progress("append_sync_64writers_eps (ours)");
        ScratchDir d("run" + std::to_string(run) + "-ours-sync");
        ours_s = ours_sync_writers(cfg, wl, d.path(), run_seed + 1);
      } else {
        progress("raw_rocksdb_sync_64writers_eps");
        ScratchDir d("run" + std::to_string(run) + "-raw-sync");
        raw_s = raw_sync_writers(cfg, wl, values, d.path());
      }
    }
    record("append_sync_64writers_eps", ours_s.eps);
    record("raw_rocksdb_sync_64writers_eps", raw_s);
    record("ratio_sync_vs_raw", ours_s.eps / raw_s);
    record("sync_64writers_events_per_group_commit", ours_s.events_per_group_commit);

    progress("read_all_eps, scan_all_eps, read_stream_1000_us (ours), raw_scan_eps");
    const ReadFigures r = read_figures(cfg, wl, ours_log.path());
    record("read_all_eps", r.read_all_eps);
    record("scan_all_eps", r.scan_all_eps);
    record("raw_scan_eps", r.raw_scan_eps);
    record("ratio_scan_vs_raw", r.read_all_eps / r.raw_scan_eps);
    record("ratio_scan_all_vs_raw", r.scan_all_eps / r.raw_scan_eps);
    record("read_stream_1000_us", r.read_stream_1000_us);
    record("raw_read_stream_1000_us", r.raw_read_stream_1000_us);
    samples["log_events_scanned"].push_back(static_cast<double>(r.events));
  }

  // Flat JSON: the figures, then the parameters they were measured with.
  std::map<std::string, double> m;
  for (const auto& [key, v] : samples) m[key] = median(v);
  m["runs"] = cfg.runs;
  m["quick"] = cfg.quick ? 1 : 0;
  m["payload_bytes"] = static_cast<double>(cfg.payload_bytes);
  m["stored_value_bytes"] = static_cast<double>(values[0].size());
  m["buffered_appends"] = static_cast<double>(cfg.buffered_appends);
  m["sync_writers"] = static_cast<double>(cfg.sync_writers);
  m["sync_appends"] = static_cast<double>(cfg.sync_writers * cfg.sync_appends_per_writer);
  m["streams"] = static_cast<double>(cfg.streams);
  const std::vector<std::string> order = {
      "append_buffered_1writer_eps",
      "raw_rocksdb_buffered_1writer_eps",
      "ratio_buffered_vs_raw",
      "append_sync_64writers_eps",
      "raw_rocksdb_sync_64writers_eps",
      "ratio_sync_vs_raw",
      "read_all_eps",
      "scan_all_eps",
      "raw_scan_eps",
      "ratio_scan_vs_raw",
      "ratio_scan_all_vs_raw",
      "read_stream_1000_us",
      "raw_read_stream_1000_us",
      "sync_64writers_events_per_group_commit",
      "log_events_scanned",
      "runs",
      "quick",
      "payload_bytes",
      "stored_value_bytes",
      "buffered_appends",
      "sync_writers",
      "sync_appends",
      "streams",
  };
  print_table(m, cfg);
  write_json(m, order, cfg.out);
  std::printf("\nResults written to %s\n", cfg.out.c_str());
  return 0;
}
