// commands_bench: throughput of commands through portal::Engine and the cost of a
// cold aggregate load, each throughput measured beside its storage ceiling (plain
// RocksDB writing one event per write, as in eventstore_bench) in the same run.
//
//   commands_bench [--runs N] [--out FILE] [--dir DIR] [--quick]
//
// Every figure is the median of N runs (default 3); a ratio is the median of the
// per-run ratios. Prints a table to stdout, progress to stderr, and writes a flat
// JSON object of numbers to FILE (default bench-results/commands.json). What each
// key means, its baseline and its target: docs/PERFORMANCE.md.
//
// The plain-RocksDB ceiling duplicates the few helpers it needs from
// eventstore_bench.cc (which is being reworked) rather than sharing a header.
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
#include <vector>

#include "portal/api/engine.h"
#include "portal/eventstore/rocksdb_event_store.h"
#include "portal/eventstore/rocksdb_layout.h"

namespace {

namespace d = portal::domain;
namespace es = portal::eventstore;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Configuration

struct Config {
  int runs = 3;
  std::string out = "bench-results/commands.json";
  std::string dir;  // parent of the temporary directory; empty: /tmp
  bool quick = false;

  std::size_t providers = 1000;
  std::size_t clients = 20;  // per provider: the mix runs one step per client
  std::size_t sync_callers = 64;
  std::size_t cold_load_events = 1000;  // events in the provider stream loaded cold
  std::size_t cold_load_clients = 10;   // its clients, which the other events touch
  std::size_t cold_load_reps = 20;

  // The plain-RocksDB ceiling, as in eventstore_bench.
  std::size_t raw_streams = 1000;
  std::size_t payload_bytes = 200;
  std::size_t payload_variants = 1024;
  std::size_t raw_buffered_writes = 100'000;
  std::size_t raw_sync_writes_per_writer = 1000;
  std::size_t block_cache_bytes = es::RocksDbOptions{}.block_cache_bytes;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: commands_bench [--runs N] [--out FILE] [--dir DIR] [--quick]\n"
               "  --runs N    runs per figure; each figure is the median (default 3)\n"
               "  --out FILE  flat JSON object of the results (default bench-results/commands.json)\n"
               "  --dir DIR   where to create the temporary stores (default /tmp); removed at the end\n"
               "  --quick     100 providers x 5 clients, smaller ceilings, 1 run unless --runs is given\n"
               "              (a smoke test; figures are noisier)\n");
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
      std::fprintf(stderr, "commands_bench: unknown argument %s\n", argv[i]);
      usage(2);
    }
  }
  if (cfg.quick) {
    cfg.providers = 100;
    cfg.clients = 5;
    cfg.cold_load_reps = 5;
    cfg.raw_buffered_writes = 20'000;
    cfg.raw_sync_writes_per_writer = 100;
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
  std::fprintf(stderr, "commands_bench: %s\n", what.c_str());
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
template <class T>
T unwrap(d::Expected<T> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + d::to_string(r.error().kind) + ": " + r.error().message);
  return std::move(r.value());
}

std::string make_tmp_root(const Config& cfg) {
  fs::path parent = cfg.dir.empty() ? fs::path("/tmp") : fs::path(cfg.dir);
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string templ = (parent / "commands-bench-XXXXXX").string();
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

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// ---------------------------------------------------------------------------
// The command mix

d::Uuid random_uuid() {
  d::Uuid id;
  id.bytes = es::Id16::random().bytes;
  return id;
}

d::Actor as(const d::UserId& id) {
  return d::Actor{id, false, 0, "192.0.2.1"};
}

constexpr const char* kKey = "2.AAAA|BBBB|CCCC";

std::unique_ptr<portal::Engine> open_engine(const std::string& dir, es::Durability durability) {
  portal::EngineOptions options;
  options.durability = durability;
  return unwrap(portal::Engine::open(dir, options), "open the engine in " + dir);
}

// A provider of the mix: its owner (a Confirmed ProviderAdmin) and the registered
// users it invites, one per step.
struct MixProvider {
  d::ProviderId id;
  d::UserId owner;
  std::vector<d::UserId> invitees;
  std::vector<std::string> invitee_emails;
};

class Mix {
 public:
  Mix(const Config& cfg, portal::Engine& engine)
      : cfg_(cfg), engine_(engine), staff_{random_uuid(), true, 0, ""} {}

  // Untimed: registers the owner and the invitees, invites and sets up the provider.
  MixProvider set_up(std::size_t p) {
    MixProvider mp;
    const std::string owner_email = "owner-" + std::to_string(p) + "@msp.example";
    mp.owner = register_user(owner_email);
    for (std::size_t k = 0; k < cfg_.clients; ++k) {
      mp.invitee_emails.push_back("tech-" + std::to_string(p) + "-" + std::to_string(k) + "@msp.example");
      mp.invitees.push_back(register_user(mp.invitee_emails.back()));
    }
    auto invited = run(d::InviteProvider{d::ProviderType::kMsp, owner_email, {}}, staff_);
    mp.id = invited.created_ids.at(0);
    run(d::SetupProvider{mp.id, invited.tokens.at(0), "MSP " + std::to_string(p), "", "billing@msp.example",
                         kKey},
        as(mp.owner));
    return mp;
  }

  // Timed: one step of the mix for client k of a provider, six commands: add a
  // client and update it; invite a provider user, who accepts, is confirmed and
  // becomes an admin.
  void step(const MixProvider& mp, std::size_t k) {
    const std::string n = std::to_string(k);
    auto added = run(d::AddClientOrg{mp.id, std::nullopt, "Client " + n, "boss-" + n + "@client.example",
                                     d::PlanType::kTeamsMonthly, 10, "Default"},
                     as(mp.owner));
    run(d::UpdateClientOrg{mp.id, added.created_ids.at(1), "Client " + n + " (renamed)", 12}, as(mp.owner));
    auto invited =
        run(d::InviteProviderUsers{mp.id, {mp.invitee_emails[k]}, d::ProviderUserType::kServiceUser},
            as(mp.owner));
    const d::ProviderUserId pu = invited.created_ids.at(0);
    run(d::AcceptProviderInvite{mp.id, pu, invited.tokens.at(0)}, as(mp.invitees[k]));
    run(d::ConfirmProviderUsers{mp.id, {{pu, kKey}}}, as(mp.owner));
    run(d::UpdateProviderUserType{mp.id, pu, d::ProviderUserType::kProviderAdmin}, as(mp.owner));
  }
  static constexpr std::size_t kCommandsPerStep = 6;

 private:
  d::UserId register_user(const std::string& email) {
    const d::UserId id = random_uuid();
    run(d::RegisterUser{id, email, "User"}, as(id));
    return id;
  }

  portal::CommandResult run(const d::Command& command, const d::Actor& actor) {
    return unwrap(engine_.execute(command, actor), d::command_name(command));
  }

  const Config& cfg_;
  portal::Engine& engine_;
  d::Actor staff_;
};

struct MixFigure {
  double commands_per_s = 0;
  double events_per_command = 0;
};

// `callers` threads; caller c owns providers c, c + callers, ...: it sets them up
// (untimed), then all callers start together and each runs, for every client k,
// the step of each of its providers.
MixFigure run_mix(const Config& cfg, const std::string& dir, es::Durability durability, std::size_t callers) {
  auto engine = open_engine(dir, durability);
  Mix mix(cfg, *engine);
  std::latch ready(static_cast<std::ptrdiff_t>(callers + 1));
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<MixProvider> mine;
      for (std::size_t p = c; p < cfg.providers; p += callers) mine.push_back(mix.set_up(p));
      ready.arrive_and_wait();
      for (std::size_t k = 0; k < cfg.clients; ++k) {
        for (const MixProvider& mp : mine) mix.step(mp, k);
      }
    });
  }
  ready.arrive_and_wait();
  const std::uint64_t events_before = engine->store().last_position();
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  const double secs = seconds_since(t0);
  const std::size_t commands = cfg.providers * cfg.clients * Mix::kCommandsPerStep;
  MixFigure f;
  f.commands_per_s = static_cast<double>(commands) / secs;
  f.events_per_command =
      static_cast<double>(engine->store().last_position() - events_before) / static_cast<double>(commands);
  engine->close();
  return f;
}

// ---------------------------------------------------------------------------
// Cold load: a provider stream of cold_load_events events, loaded by a fresh
// Engine (empty aggregate cache, fresh RocksDB block cache; the OS page cache is
// warm, as on a server that restarted its process).

struct ColdLoadSetup {
  d::ProviderId provider;
};

ColdLoadSetup build_long_provider(const Config& cfg, const std::string& dir) {
  auto engine = open_engine(dir, es::Durability::kBuffered);
  auto run = [&](const d::Command& c, const d::Actor& a) {
    return unwrap(engine->execute(c, a), d::command_name(c));
  };
  const d::UserId owner = random_uuid();
  run(d::RegisterUser{owner, "owner@long.example", "Owner"}, as(owner));
  auto invited =
      run(d::InviteProvider{d::ProviderType::kMsp, "owner@long.example", {}}, d::Actor{{}, true, 0, ""});
  const d::ProviderId id = invited.created_ids.at(0);
  run(d::SetupProvider{id, invited.tokens.at(0), "Long", "", "billing@long.example", kKey}, as(owner));
  std::vector<d::ProviderOrganizationId> links;
  for (std::size_t i = 0; i < cfg.cold_load_clients; ++i) {
    links.push_back(run(d::AddClientOrg{id, std::nullopt, "Client " + std::to_string(i),
                                        "boss@client.example", d::PlanType::kTeamsMonthly, 10, "Default"},
                        as(owner))
                        .created_ids.at(1));
  }
  // Each of these writes one provider event: a busy provider's daily traffic.
  const std::string stream = d::provider_stream(id);
  for (std::size_t i = 0;; ++i) {
    auto head = unwrap(engine->store().stream_head(stream), "stream_head");
    if (*head + 1 >= cfg.cold_load_events) break;
    const d::ProviderOrganizationId link = links[i % links.size()];
    if (i % 2 == 0) {
      run(d::OpenClientOrg{id, link}, as(owner));
    } else {
      run(d::UpdateClientOrg{id, link, "Client " + std::to_string(i), 10}, as(owner));
    }
  }
  engine->close();
  return {id};
}

struct ColdLoadFigure {
  double load_us = 0;        // engine.provider(): head, read, decode, evolve
  double store_read_us = 0;  // read_stream of the same events alone, also cold
};

ColdLoadFigure cold_load(const Config& cfg, const std::string& dir, const ColdLoadSetup& setup) {
  const std::string stream = d::provider_stream(setup.provider);
  std::vector<double> load, read;
  // The first open replays the WAL into table files; it is not counted.
  for (std::size_t rep = 0; rep <= cfg.cold_load_reps; ++rep) {
    {
      auto engine = open_engine(dir, es::Durability::kBuffered);
      const auto t0 = Clock::now();
      auto state = unwrap(engine->provider(setup.provider), "cold load");
      const double us = seconds_since(t0) * 1e6;
      if (!state || state->clients.size() != cfg.cold_load_clients) die("cold load: wrong provider state");
      if (rep > 0) load.push_back(us);
    }
    {
      auto engine = open_engine(dir, es::Durability::kBuffered);
      const auto t0 = Clock::now();
      auto events =
          unwrap(engine->store().read_stream(stream, es::Direction::kForward, 0, cfg.cold_load_events),
                 "cold read_stream");
      const double us = seconds_since(t0) * 1e6;
      if (events.size() != cfg.cold_load_events) die("cold read_stream: wrong number of events");
      if (rep > 0) read.push_back(us);
    }
  }
  return {median(load), median(read)};
}

// ---------------------------------------------------------------------------
// Plain RocksDB: the ceiling, as in eventstore_bench. The values are the stored
// records (envelope + checksum) of 200-byte-payload events as our store writes
// them; each write is one WriteBatch of the log key and the stream index key.

std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::string raw_stream_key(const std::string& stream, std::uint64_t version) {
  std::string key = stream;
  key.push_back('\0');
  key.append(be64(version));
  return key;
}

std::vector<std::string> raw_stream_names(const Config& cfg) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < cfg.raw_streams; ++i) {
    names.push_back("item-" + es::Id16::random().to_hex());
  }
  return names;
}

std::vector<std::string> probe_stored_values(const Config& cfg, const std::vector<std::string>& streams) {
  ScratchDir dir("probe");
  es::RocksDbOptions options;
  options.durability = es::Durability::kBuffered;
  options.block_cache_bytes = cfg.block_cache_bytes;
  auto store = unwrap(es::RocksDbEventStore::open(dir.path(), options), "open the probe store");
  std::mt19937_64 rng(42);
  for (std::size_t i = 0; i < cfg.payload_variants; ++i) {
    es::AppendRequest request;
    request.command_id = es::Id16::random();
    es::NewEvent event;
    event.type = "ItemUpdated";
    event.type_code = 1001;
    event.event_id = es::Id16::random();
    event.correlation_id = request.command_id;
    event.causation_id = request.command_id;
    event.payload.resize(cfg.payload_bytes);
    for (char& c : event.payload) c = static_cast<char>(rng());
    request.writes.push_back({streams[i % streams.size()], es::ExpectedVersion::any(), {std::move(event)}});
    (void)unwrap(store->append(request), "probe append");
  }
  std::vector<std::string> values;
  check(store->scan_all(1, cfg.payload_variants,
                        [&](const es::RocksDbEventStore::RecordView& r) {
                          values.emplace_back(r.envelope);
                          return true;
                        }),
        "probe scan_all");
  check(store->close(), "close the probe store");
  if (values.size() != cfg.payload_variants) die("probe: scan_all returned too few values");
  return values;
}

class RawDb {
 public:
  RawDb(const Config& cfg, const std::string& dir) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.IncreaseParallelism(2);
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(cfg.block_cache_bytes);
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name :
         {rocksdb::kDefaultColumnFamilyName.c_str(), es::layout::kLogFamily, es::layout::kStreamsFamily}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
    }
    rocksdb::DB* db = nullptr;
    check(rocksdb::DB::Open(options, dir, families, &handles_, &db), "raw: open");
    db_.reset(db);
  }
  ~RawDb() {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // One event: its record under the log key, its index entry, one WriteBatch.
  rocksdb::Status write(const rocksdb::WriteOptions& wo, std::uint64_t position, const std::string& value,
                        const std::string& stream, std::uint64_t version) {
    rocksdb::WriteBatch batch;
    rocksdb::Status s = batch.Put(handles_[1], be64(position), value);
    if (s.ok()) s = batch.Put(handles_[2], raw_stream_key(stream, version), be64(position));
    if (s.ok()) s = db_->Write(wo, &batch);
    return s;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

double raw_buffered_1writer(const Config& cfg, const std::vector<std::string>& streams,
                            const std::vector<std::string>& values, const std::string& dir) {
  RawDb raw(cfg, dir);
  std::vector<std::uint64_t> versions(streams.size(), 0);
  rocksdb::WriteOptions wo;
  wo.sync = false;
  const std::size_t n = cfg.raw_buffered_writes;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t s = i % streams.size();
    check(raw.write(wo, i + 1, values[i % values.size()], streams[s], versions[s]++), "raw buffered write");
  }
  return static_cast<double>(n) / seconds_since(t0);
}

double raw_sync_writers(const Config& cfg, const std::vector<std::string>& streams,
                        const std::vector<std::string>& values, const std::string& dir) {
  RawDb raw(cfg, dir);
  std::atomic<std::uint64_t> last_position{0};
  auto versions = std::make_unique<std::atomic<std::uint64_t>[]>(streams.size());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::mutex error_mu;
  std::string first_error;
  const std::size_t writers = cfg.sync_callers;
  std::latch start(static_cast<std::ptrdiff_t>(writers + 1));
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (std::size_t i = 0; i < cfg.raw_sync_writes_per_writer; ++i) {
        const std::size_t k = w + i * writers;
        const std::size_t s = k % streams.size();
        rocksdb::Status st = raw.write(wo, last_position.fetch_add(1) + 1, values[k % values.size()],
                                       streams[s], versions[s]++);
        if (!st.ok()) {
          std::lock_guard lock(error_mu);
          if (first_error.empty()) first_error = st.ToString();
        }
      }
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  const double secs = seconds_since(t0);
  if (!first_error.empty()) die("raw sync write: " + first_error);
  return static_cast<double>(writers * cfg.raw_sync_writes_per_writer) / secs;
}

// ---------------------------------------------------------------------------
// Report

struct Target {
  const char* key;
  bool at_least;  // true: key >= bound; false: key <= bound
  double bound;
};

constexpr Target kTargets[] = {
    {"ratio_commands_vs_raw", true, 0.5},
    {"ratio_commands_sync_vs_raw", true, 1.0},
    {"cold_load_us_1000_events", false, 300},
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
  const std::string callers = std::to_string(cfg.sync_callers);
  const std::vector<Row> rows = {
      {"commands, buffered, 1 caller (commands/s vs events/s)", with_commas(at("commands_per_s_buffered")),
       with_commas(at("raw_rocksdb_buffered_1writer_eps")), fixed(at("ratio_commands_vs_raw"), 2),
       "ratio >= 0.5", verdict("ratio_commands_vs_raw")},
      {"commands, sync, " + callers + " callers (commands/s vs events/s)",
       with_commas(at("commands_per_s_sync_64")), with_commas(at("raw_rocksdb_sync_64writers_eps")),
       fixed(at("ratio_commands_sync_vs_raw"), 2), "ratio >= 1.0", verdict("ratio_commands_sync_vs_raw")},
      {"cold load, 1000-event provider stream (us)", fixed(at("cold_load_us_1000_events"), 1),
       fixed(at("cold_load_store_read_us"), 1), "-", "ours <= 300", verdict("cold_load_us_1000_events")},
  };
  const Row header{"figure", "ours", "raw rocksdb", "ratio", "target", "result"};
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
  std::printf(
      "\ncommands_bench: median of %d run%s, %zu providers x %zu clients, %.2f events per command\n\n",
      cfg.runs, cfg.runs == 1 ? "" : "s", cfg.providers, cfg.clients, at("events_per_command"));
  print(header);
  std::size_t total = 0;
  for (std::size_t w : wid) total += w + 2;
  std::printf("%s\n", std::string(total, '-').c_str());
  for (const Row& r : rows) print(r);
  std::size_t met = 0;
  for (const Target& t : kTargets) met += meets(t, at(t.key)) ? 1 : 0;
  std::printf("\n%zu of %zu targets met. Cold load: the raw column is read_stream alone on a fresh store.\n",
              met, std::size(kTargets));
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
    if (v == static_cast<double>(static_cast<long long>(v)) || v >= 1000) {
      std::snprintf(buf, sizeof buf, "%.0f", v);
    } else {
      std::snprintf(buf, sizeof buf, "%.4g", v);
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
  std::fprintf(stderr, "commands_bench: %d run%s, stores under %s\n", cfg.runs, cfg.runs == 1 ? "" : "s",
               g_tmp_root.c_str());

  const std::vector<std::string> streams = raw_stream_names(cfg);
  const std::vector<std::string> values = probe_stored_values(cfg, streams);

  std::map<std::string, std::vector<double>> samples;
  auto record = [&](const std::string& key, double v) {
    samples[key].push_back(v);
    std::fprintf(stderr, "    %-40s %14s\n", key.c_str(),
                 v >= 1000 ? with_commas(v).c_str() : fixed(v, 3).c_str());
  };

  for (int run = 0; run < cfg.runs; ++run) {
    // Alternate which side goes first, so neither always meets a colder or a busier machine.
    const bool ours_first = run % 2 == 0;
    auto progress = [&](const char* what) {
      std::fprintf(stderr, "[run %d/%d] %s\n", run + 1, cfg.runs, what);
    };
    const std::string tag = "run" + std::to_string(run);

    MixFigure buffered, sync;
    double raw_b = 0, raw_s = 0;
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == ours_first) {
        progress("commands_per_s_buffered (1 caller)");
        ScratchDir dir(tag + "-buffered");
        buffered = run_mix(cfg, dir.path(), es::Durability::kBuffered, 1);
      } else {
        progress("raw_rocksdb_buffered_1writer_eps");
        ScratchDir dir(tag + "-raw-buffered");
        raw_b = raw_buffered_1writer(cfg, streams, values, dir.path());
      }
    }
    record("commands_per_s_buffered", buffered.commands_per_s);
    record("raw_rocksdb_buffered_1writer_eps", raw_b);
    record("ratio_commands_vs_raw", buffered.commands_per_s / raw_b);
    record("events_per_command", buffered.events_per_command);

    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == ours_first) {
        progress("commands_per_s_sync_64 (64 callers)");
        ScratchDir dir(tag + "-sync");
        sync = run_mix(cfg, dir.path(), es::Durability::kSync, cfg.sync_callers);
      } else {
        progress("raw_rocksdb_sync_64writers_eps");
        ScratchDir dir(tag + "-raw-sync");
        raw_s = raw_sync_writers(cfg, streams, values, dir.path());
      }
    }
    record("commands_per_s_sync_64", sync.commands_per_s);
    record("raw_rocksdb_sync_64writers_eps", raw_s);
    record("ratio_commands_sync_vs_raw", sync.commands_per_s / raw_s);

    progress("cold_load_us_1000_events");
    ScratchDir dir(tag + "-cold");
    const ColdLoadSetup setup = build_long_provider(cfg, dir.path());
    const ColdLoadFigure cold = cold_load(cfg, dir.path(), setup);
    record("cold_load_us_1000_events", cold.load_us);
    record("cold_load_store_read_us", cold.store_read_us);
  }

  std::map<std::string, double> m;
  for (const auto& [key, v] : samples) m[key] = median(v);
  m["runs"] = cfg.runs;
  m["quick"] = cfg.quick ? 1 : 0;
  m["providers"] = static_cast<double>(cfg.providers);
  m["clients_per_provider"] = static_cast<double>(cfg.clients);
  m["commands_timed"] = static_cast<double>(cfg.providers * cfg.clients * Mix::kCommandsPerStep);
  m["sync_callers"] = static_cast<double>(cfg.sync_callers);
  m["payload_bytes"] = static_cast<double>(cfg.payload_bytes);
  m["stored_value_bytes"] = static_cast<double>(values[0].size());

  print_table(m, cfg);
  const std::vector<std::string> order = {"commands_per_s_buffered",
                                          "raw_rocksdb_buffered_1writer_eps",
                                          "ratio_commands_vs_raw",
                                          "commands_per_s_sync_64",
                                          "raw_rocksdb_sync_64writers_eps",
                                          "ratio_commands_sync_vs_raw",
                                          "cold_load_us_1000_events",
                                          "cold_load_store_read_us",
                                          "events_per_command",
                                          "runs",
                                          "quick",
                                          "providers",
                                          "clients_per_provider",
                                          "commands_timed",
                                          "sync_callers",
                                          "payload_bytes",
                                          "stored_value_bytes"};
  write_json(m, order, cfg.out);
  std::fprintf(stderr, "commands_bench: wrote %s\n", cfg.out.c_str());
  return 0;
}
