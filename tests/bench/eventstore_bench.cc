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
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_support.h"
#include "portal/eventstore/rocksdb_event_store.h"
#include "portal/eventstore/rocksdb_layout.h"

namespace {

namespace es = portal::eventstore;
namespace bench = portal::bench;

// ---------------------------------------------------------------------------
// Configuration

struct Config : bench::CommonFlags {
  Config() { out = "bench-results/eventstore.json"; }
  std::size_t streams = 1000;           // the varied streams appends go to
  std::size_t payload_bytes = 200;      // one event's payload
  std::size_t payload_variants = 1024;  // distinct payloads, cycled (keeps blocks realistic to compress)
  std::size_t buffered_appends = 100'000;
  std::size_t buffered_slices = 10;  // alternating slices of ours and raw (bench::interleave)
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

constexpr const char* kUsage =
    "usage: eventstore_bench [--runs N] [--out FILE] [--dir DIR] [--quick]\n"
    "  --runs N    runs per figure; each figure is the median (default 3)\n"
    "  --out FILE  flat JSON object of the results (default bench-results/eventstore.json)\n"
    "  --dir DIR   where to create the temporary stores (default /tmp); removed at the end\n"
    "  --quick     smaller workloads and 1 run unless --runs is given (a smoke test;\n"
    "              figures are noisier)\n";

Config parse_args(int argc, char** argv) {
  Config cfg;
  bench::parse_common_args("eventstore_bench", kUsage, argc, argv, cfg);
  if (cfg.quick) {
    cfg.buffered_appends = 20'000;
    cfg.sync_appends_per_writer = 100;
    cfg.read_stream_reps = 50;
  }
  return cfg;
}

// ---------------------------------------------------------------------------
// Workload

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
  return bench::unwrap(es::RocksDbEventStore::open(dir, options), "open the event store");
}

void close_store(std::unique_ptr<es::RocksDbEventStore>& store) {
  bench::check(store->close(), "close the event store");
  store.reset();
}

// The stored values (envelope + checksum) of one event per payload variant, as our
// store writes them: the raw ceiling writes exactly these bytes.
std::vector<std::string> probe_stored_values(const Config& cfg, const Workload& wl, std::uint64_t seed) {
  bench::ScratchDir dir("probe");
  auto store = open_store(cfg, dir.path(), es::Durability::kBuffered);
  RequestBuilder rb(seed);
  for (std::size_t i = 0; i < wl.payloads.size(); ++i) {
    (void)bench::unwrap(store->append(rb.next(wl.streams[i % wl.streams.size()], wl.payloads[i])),
                        "probe append");
  }
  std::vector<std::string> values;
  bench::check(store->scan_all(1, wl.payloads.size(),
                               [&](const es::RocksDbEventStore::RecordView& r) {
                                 values.emplace_back(r.envelope);
                                 return true;
                               }),
               "probe scan_all");
  close_store(store);
  if (values.size() != wl.payloads.size() || values[0].empty())
    bench::die("probe: scan_all returned no stored values");
  return values;
}

// ---------------------------------------------------------------------------
// Plain RocksDB: the ceiling (bench_support.h), with the store's block and row
// cache sizes.

bench::RawCaches raw_caches(const Config& cfg) {
  return {cfg.block_cache_bytes, cfg.row_cache_bytes};
}

// ---------------------------------------------------------------------------
// Figures

// Keeps the optimizer from dropping reads whose results are otherwise unused.
std::atomic<std::uint64_t> g_sink{0};

// 1 caller, buffered, one event per append to varied streams, beside plain
// RocksDB writing the same bytes, in bench::interleave's alternating slices.
// Then, untimed, the long stream interleaved with other streams' events for the
// read figures; the store's directory stays for them.
struct BufferedFigure {
  double ours_eps = 0;
  double raw_eps = 0;
};

BufferedFigure buffered_1writer(const Config& cfg, const Workload& wl, const std::vector<std::string>& values,
                                const std::string& ours_dir, const std::string& raw_dir, std::uint64_t seed,
                                bool ours_first) {
  auto store = open_store(cfg, ours_dir, es::Durability::kBuffered);
  RequestBuilder rb(seed);
  const std::size_t n = cfg.buffered_appends;
  BufferedFigure f;
  {
    bench::RawBufferedWriter raw(raw_caches(cfg), wl.streams, values, raw_dir);
    const auto rates = bench::interleave(
        cfg.buffered_slices, ours_first, n,
        [&](const bench::Slice& slice) {
          for (std::size_t i = slice.begin; i < slice.end; ++i) {
            auto r = store->append(
                rb.next(wl.streams[i % wl.streams.size()], wl.payloads[i % wl.payloads.size()]));
            if (!r.ok()) bench::die("buffered append: " + r.status().to_string());
          }
        },
        n, [&](const bench::Slice& slice) { raw.write(slice.size()); });
    f.ours_eps = rates.ours_per_s;
    f.raw_eps = rates.raw_per_s;
  }

  std::size_t filler = 0;
  for (std::size_t v = 0; v < cfg.long_stream_events; ++v) {
    (void)bench::unwrap(store->append(rb.next(wl.long_stream, wl.payloads[v % wl.payloads.size()])),
                        "long stream append");
    for (std::size_t k = 0; k < cfg.fillers_per_long_event; ++k, ++filler) {
      (void)bench::unwrap(store->append(rb.next(wl.streams[filler % wl.streams.size()],
                                                wl.payloads[filler % wl.payloads.size()])),
                          "filler append");
    }
  }
  close_store(store);
  return f;
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
  const double secs =
      bench::run_writers(cfg.sync_writers, cfg.sync_appends_per_writer, [&](std::size_t w, std::size_t i) {
        const std::size_t k = w + i * cfg.sync_writers;
        auto r = store->append(
            builders[w].next(wl.streams[k % wl.streams.size()], wl.payloads[k % wl.payloads.size()]));
        if (!r.ok()) {
          std::lock_guard lock(error_mu);
          if (first_error.empty()) first_error = r.status().to_string();
        }
      });
  if (!first_error.empty()) bench::die("sync append: " + first_error);
  const std::size_t n = cfg.sync_writers * cfg.sync_appends_per_writer;
  if (store->last_position() != n) bench::die("sync: last position is not the number of appends");
  SyncFigure f;
  f.eps = static_cast<double>(n) / secs;
  const std::uint64_t groups = store->group_commits();
  f.events_per_group_commit = groups ? static_cast<double>(n) / static_cast<double>(groups) : 0;
  close_store(store);
  return f;
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
    auto page = bench::unwrap(store.read_all(next, cfg.read_page), "read_all");
    if (page.empty()) break;
    for (const es::RecordedEvent& e : page) {
      if (e.position != next) bench::die("read_all: expected position " + std::to_string(next));
      if (e.payload.size() != cfg.payload_bytes) bench::die("read_all: wrong payload size");
      sink += static_cast<std::uint8_t>(e.payload[0]) + e.stream.size();
      ++next;
    }
  }
  if (next - 1 != last)
    bench::die("read_all: read " + std::to_string(next - 1) + " of " + std::to_string(last));
  g_sink += sink;
}

void scan_all_pass(const Config& cfg, es::RocksDbEventStore& store, std::uint64_t last) {
  std::uint64_t next = 1;
  std::uint64_t sink = 0;
  bench::check(store.scan_all(1, last,
                              [&](const es::RocksDbEventStore::RecordView& r) {
                                if (r.position != next)
                                  bench::die("scan_all: expected position " + std::to_string(next));
                                if (r.payload.size() != cfg.payload_bytes)
                                  bench::die("scan_all: wrong payload size");
                                sink += static_cast<std::uint8_t>(r.payload[0]) + r.stream.size();
                                ++next;
                                return true;
                              }),
               "scan_all");
  if (next - 1 != last)
    bench::die("scan_all: visited " + std::to_string(next - 1) + " of " + std::to_string(last));
  g_sink += sink;
}

std::uint64_t raw_scan_pass(bench::RawDb& raw, rocksdb::ColumnFamilyHandle* log) {
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
  bench::check(it->status(), "raw scan");
  g_sink += sink;
  return count;
}

// Plain RocksDB reading a stream: the index entries under the stream's prefix,
// then one MultiGet of their log keys, touching each value. What read_stream does
// less the envelope verification and the copy into RecordedEvents.
double raw_read_stream_us(bench::RawDb& raw, const std::string& stream, std::size_t max_count) {
  const auto t0 = bench::Clock::now();
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
  bench::check(it->status(), "raw stream index scan");
  std::vector<rocksdb::Slice> key_slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  raw.db()->MultiGet(rocksdb::ReadOptions(), raw.family(es::layout::kLogFamily), key_slices.size(),
                     key_slices.data(), values.data(), statuses.data(), /*sorted_input=*/true);
  std::uint64_t sink = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    bench::check(statuses[i], "raw stream MultiGet");
    sink += values[i].size() + static_cast<std::uint8_t>(values[i].data()[values[i].size() - 1]);
  }
  const double us = bench::seconds_since(t0) * 1e6;
  if (keys.size() != max_count) bench::die("raw read stream: wrong number of events");
  g_sink += sink;
  return us;
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
    const auto t0 = bench::Clock::now();
    pass();
    best = std::max(best, static_cast<double>(events) / bench::seconds_since(t0));
  }
  return best;
}

// The read figures over the log buffered_1writer left in dir. The store is
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
    const auto t0 = bench::Clock::now();
    auto events =
        bench::unwrap(store->read_stream(wl.long_stream, es::Direction::kForward, 0, cfg.long_stream_events),
                      "read_stream");
    const double elapsed_us = bench::seconds_since(t0) * 1e6;
    if (events.size() != cfg.long_stream_events) bench::die("read_stream: wrong number of events");
    for (std::size_t v = 0; v < events.size(); ++v) {
      if (events[v].version != v || events[v].stream != wl.long_stream)
        bench::die("read_stream: wrong event");
    }
    if (rep >= cfg.read_stream_warmup_reps) us.push_back(elapsed_us);
  }
  f.read_stream_1000_us = bench::median(us);
  close_store(store);

  bench::RawDb raw(raw_caches(cfg), dir, {}, true);
  rocksdb::ColumnFamilyHandle* log = raw.family(es::layout::kLogFamily);
  f.raw_scan_eps = scan_rate(cfg, last, [&] {
    if (raw_scan_pass(raw, log) != last)
      bench::die("raw scan: key count differs from the store's last position");
  });

  us.clear();
  for (std::size_t rep = 0; rep < cfg.read_stream_reps + cfg.read_stream_warmup_reps; ++rep) {
    const double elapsed_us = raw_read_stream_us(raw, wl.long_stream, cfg.long_stream_events);
    if (rep >= cfg.read_stream_warmup_reps) us.push_back(elapsed_us);
  }
  f.raw_read_stream_1000_us = bench::median(us);
  return f;
}

// ---------------------------------------------------------------------------
// Report

constexpr bench::Target kTargets[] = {
    {"ratio_buffered_vs_raw", true, 0.8},        {"ratio_sync_vs_raw", true, 1.5},
    {"append_sync_64writers_eps", true, 50'000}, {"ratio_scan_vs_raw", true, 0.5},
    {"read_stream_1000_us", false, 500},
};

void print_table(const std::map<std::string, double>& m, const Config& cfg) {
  auto at = [&](const char* k) { return m.at(k); };
  auto result = [&](const char* key) { return bench::verdict(kTargets, m, key); };
  const std::string w = std::to_string(cfg.sync_writers);
  std::vector<bench::Row> rows = {
      {"append, buffered, 1 writer (events/s)", bench::with_commas(at("append_buffered_1writer_eps")),
       bench::with_commas(at("raw_rocksdb_buffered_1writer_eps")),
       bench::fixed(at("ratio_buffered_vs_raw"), 2), "ratio >= 0.8", result("ratio_buffered_vs_raw")},
      {"append, sync, " + w + " writers (events/s)", bench::with_commas(at("append_sync_64writers_eps")),
       bench::with_commas(at("raw_rocksdb_sync_64writers_eps")), bench::fixed(at("ratio_sync_vs_raw"), 2),
       "ratio >= 1.5", result("ratio_sync_vs_raw")},
      {"", "", "", "", "ours >= 50,000", result("append_sync_64writers_eps")},
      {"read_all, full log (events/s)", bench::with_commas(at("read_all_eps")),
       bench::with_commas(at("raw_scan_eps")), bench::fixed(at("ratio_scan_vs_raw"), 2), "ratio >= 0.5",
       result("ratio_scan_vs_raw")},
      {"scan_all, full log (events/s)", bench::with_commas(at("scan_all_eps")),
       bench::with_commas(at("raw_scan_eps")), bench::fixed(at("ratio_scan_all_vs_raw"), 2), "-", ""},
      {"read_stream, 1000 events (us)", bench::fixed(at("read_stream_1000_us"), 1),
       bench::fixed(at("raw_read_stream_1000_us"), 1),
       bench::fixed(at("raw_read_stream_1000_us") / at("read_stream_1000_us"), 2), "ours <= 500",
       result("read_stream_1000_us")},
  };
  std::printf("\neventstore_bench: median of %d run%s, %zu-byte payloads, log of %s events scanned\n\n",
              cfg.runs, cfg.runs == 1 ? "" : "s", cfg.payload_bytes,
              bench::with_commas(at("log_events_scanned")).c_str());
  bench::print_rows({"figure", "ours", "raw rocksdb", "speed ours/raw", "target", "result"}, rows);
  std::printf("\n%zu of %zu targets met. Sync: %.1f events per group commit (ours).\n",
              bench::targets_met(kTargets, m), std::size(kTargets),
              at("sync_64writers_events_per_group_commit"));
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse_args(argc, argv);
  bench::enter_tmp_root(cfg, "eventstore-bench");

  const std::uint64_t seed = std::random_device{}() * 0x100000001b3ull ^ std::random_device{}();
  const Workload wl = make_workload(cfg, seed);
  const std::vector<std::string> values = probe_stored_values(cfg, wl, seed + 1);
  std::fprintf(stderr,
               "eventstore_bench: %zu-byte payload is stored as a %zu-byte value; raw writes the same\n",
               cfg.payload_bytes, values[0].size());

  bench::Samples samples;

  for (int run = 0; run < cfg.runs; ++run) {
    // Alternate which side goes first, so neither always meets a colder or a
    // busier machine.
    const bool ours_first = run % 2 == 0;
    const std::uint64_t run_seed = seed + 1000003ull * static_cast<std::uint64_t>(run + 1);

    bench::ScratchDir ours_log("run" + std::to_string(run) + "-ours-buffered");
    BufferedFigure buffered;
    {
      bench::progress(run, cfg.runs, "append_buffered_1writer_eps and raw_rocksdb_buffered_1writer_eps");
      bench::ScratchDir raw_dir("run" + std::to_string(run) + "-raw-buffered");
      buffered = buffered_1writer(cfg, wl, values, ours_log.path(), raw_dir.path(), run_seed, ours_first);
    }
    const double ours_b = buffered.ours_eps, raw_b = buffered.raw_eps;
    samples.record("append_buffered_1writer_eps", ours_b);
    samples.record("raw_rocksdb_buffered_1writer_eps", raw_b);
    samples.record("ratio_buffered_vs_raw", ours_b / raw_b);

    SyncFigure ours_s;
    double raw_s = 0;
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == ours_first) {
        bench::progress(run, cfg.runs, "append_sync_64writers_eps (ours)");
        bench::ScratchDir d("run" + std::to_string(run) + "-ours-sync");
        ours_s = ours_sync_writers(cfg, wl, d.path(), run_seed + 1);
      } else {
        bench::progress(run, cfg.runs, "raw_rocksdb_sync_64writers_eps");
        bench::ScratchDir d("run" + std::to_string(run) + "-raw-sync");
        raw_s = bench::raw_sync_writers(raw_caches(cfg), wl.streams, values, cfg.sync_writers,
                                        cfg.sync_appends_per_writer, d.path());
      }
    }
    samples.record("append_sync_64writers_eps", ours_s.eps);
    samples.record("raw_rocksdb_sync_64writers_eps", raw_s);
    samples.record("ratio_sync_vs_raw", ours_s.eps / raw_s);
    samples.record("sync_64writers_events_per_group_commit", ours_s.events_per_group_commit);

    bench::progress(run, cfg.runs, "read_all_eps, scan_all_eps, read_stream_1000_us (ours), raw_scan_eps");
    const ReadFigures r = read_figures(cfg, wl, ours_log.path());
    samples.record("read_all_eps", r.read_all_eps);
    samples.record("scan_all_eps", r.scan_all_eps);
    samples.record("raw_scan_eps", r.raw_scan_eps);
    samples.record("ratio_scan_vs_raw", r.read_all_eps / r.raw_scan_eps);
    samples.record("ratio_scan_all_vs_raw", r.scan_all_eps / r.raw_scan_eps);
    samples.record("read_stream_1000_us", r.read_stream_1000_us);
    samples.record("raw_read_stream_1000_us", r.raw_read_stream_1000_us);
    samples.add_quietly("log_events_scanned", static_cast<double>(r.events));
  }

  // Flat JSON: the figures, then the parameters they were measured with.
  std::map<std::string, double> m = samples.medians();
  bench::record_common_parameters(m, cfg);
  m["payload_bytes"] = static_cast<double>(cfg.payload_bytes);
  m["stored_value_bytes"] = static_cast<double>(values[0].size());
  m["buffered_appends"] = static_cast<double>(cfg.buffered_appends);
  m["buffered_slices"] = static_cast<double>(cfg.buffered_slices);
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
      "allocator_tcmalloc",
      "payload_bytes",
      "stored_value_bytes",
      "buffered_appends",
      "buffered_slices",
      "sync_writers",
      "sync_appends",
      "streams",
  };
  print_table(m, cfg);
  // Counts and rates whole, microseconds to a tenth, ratios to 4 digits.
  bench::write_json(m, order, cfg.out, {.whole_from = 10000, .tenths_from = 100});
  std::printf("\nResults written to %s\n", cfg.out.c_str());
  return 0;
}
