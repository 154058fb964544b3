// commands_bench: throughput of commands through portal::Engine, the cost of a
// cold aggregate load, and a client command on a small and on a large provider,
// each throughput measured beside its storage ceiling (plain RocksDB writing one
// event per write, as in eventstore_bench) in the same run.
//
//   commands_bench [--runs N] [--out FILE] [--dir DIR] [--quick]
//
// Every figure is the median of N runs (default 3); a ratio is the median of the
// per-run ratios. Prints a table to stdout, progress to stderr, and writes a flat
// JSON object of numbers to FILE (default bench-results/commands.json). What each
// key means, its baseline and its target: docs/PERFORMANCE.md.
//
// The plain-RocksDB ceiling is eventstore_bench's (bench_support.h), so that the
// two suites' ratios stand on the same measurement.
#include <rocksdb/options.h>

#include <cstdint>
#include <cstdio>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "portal/api/engine.h"
#include "portal/eventstore/rocksdb_event_store.h"

namespace {

namespace d = portal::domain;
namespace es = portal::eventstore;
namespace bench = portal::bench;
using portal::bench::unwrap;  // beside the engine's own overload

// ---------------------------------------------------------------------------
// Configuration

struct Config : bench::CommonFlags {
  Config() { out = "bench-results/commands.json"; }

  std::size_t providers = 1000;
  std::size_t clients = 20;  // per provider: the mix runs one step per client
  std::size_t sync_callers = 64;
  std::size_t cold_load_events = 1000;  // events in the provider stream loaded cold
  std::size_t cold_load_clients = 10;   // its clients, which the other events touch
  std::size_t cold_load_reps = 20;
  std::size_t item_orgs = 10;        // organizations whose items the callers edit
  std::size_t items_per_caller = 4;  // each caller's own items, edited in turn
  std::size_t item_edits_per_caller = 300;
  std::size_t small_provider_clients = 50;    // update_client_us: a provider of this many clients
  std::size_t large_provider_clients = 8000;  // and one of this many
  std::size_t client_updates = 4000;          // UpdateClientOrg timed on each

  // The plain-RocksDB ceiling, as in eventstore_bench.
  std::size_t raw_streams = 1000;
  std::size_t payload_bytes = 200;
  std::size_t payload_variants = 1024;
  std::size_t raw_buffered_writes = 100'000;
  std::size_t raw_sync_writes_per_writer = 1000;
  std::size_t block_cache_bytes = es::RocksDbOptions{}.block_cache_bytes;
};

constexpr const char* kUsage =
    "usage: commands_bench [--runs N] [--out FILE] [--dir DIR] [--quick]\n"
    "  --runs N    runs per figure; each figure is the median (default 3)\n"
    "  --out FILE  flat JSON object of the results (default bench-results/commands.json)\n"
    "  --dir DIR   where to create the temporary stores (default /tmp); removed at the end\n"
    "  --quick     100 providers x 5 clients, smaller ceilings, 1 run unless --runs is given\n"
    "              (a smoke test; figures are noisier)\n";

Config parse_args(int argc, char** argv) {
  Config cfg;
  bench::parse_common_args("commands_bench", kUsage, argc, argv, cfg);
  if (cfg.quick) {
    cfg.providers = 100;
    cfg.clients = 5;
    cfg.cold_load_reps = 5;
    cfg.item_edits_per_caller = 50;
    cfg.raw_buffered_writes = 20'000;
    cfg.raw_sync_writes_per_writer = 100;
    cfg.large_provider_clients = 1000;
    cfg.client_updates = 500;
  }
  return cfg;
}

// The engine's errors; the store's are unwrapped by bench_support.h.
template <class T>
T unwrap(d::Expected<T> r, const std::string& what) {
  if (!r.ok()) bench::die(what + ": " + d::to_string(r.error().kind) + ": " + r.error().message);
  return std::move(r.value());
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
  // The write path alone: the read models' cost is measured by projections_bench.
  options.projections = false;
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

// Commands the timed part of the mix runs: each client step for every provider.
std::size_t commands_timed(const Config& cfg) {
  return cfg.providers * cfg.clients * Mix::kCommandsPerStep;
}

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
  const auto t0 = bench::Clock::now();
  for (auto& t : threads) t.join();
  const double secs = bench::seconds_since(t0);
  const std::size_t commands = commands_timed(cfg);
  MixFigure f;
  f.commands_per_s = static_cast<double>(commands) / secs;
  f.events_per_command =
      static_cast<double>(engine->store().last_position() - events_before) / static_cast<double>(commands);
  engine->close();
  return f;
}

// ---------------------------------------------------------------------------
// Item edits: sync_callers callers, each a confirmed member of one of item_orgs
// organizations with edit access to its collection, edit items of their own.
// Every edit is authorized against the organization's state and its append checks
// the organization stream's version, but writes only the item's stream: edits of
// different items must not serialize on the organization.

constexpr const char* kItemName = "2.aXY=|Y3Q=|bWFj";
constexpr const char* kItemSecret = "2.c2VjcmV0|cGFzc3dvcmQ=|bWFjbWFj";

double run_item_edits(const Config& cfg, const std::string& dir) {
  auto engine = open_engine(dir, es::Durability::kSync);
  auto run = [&](const d::Command& c, const d::Actor& a) {
    return unwrap(engine->execute(c, a), d::command_name(c));
  };
  auto register_user = [&](const std::string& email) {
    const d::UserId id = random_uuid();
    run(d::RegisterUser{id, email, "User"}, as(id));
    return id;
  };
  struct Org {
    d::OrganizationId id;
    d::UserId owner;
    d::CollectionId collection;
  };
  std::vector<Org> orgs;
  for (std::size_t o = 0; o < cfg.item_orgs; ++o) {
    Org org;
    org.owner = register_user("owner-" + std::to_string(o) + "@org.example");
    org.id = run(d::CreateOrganization{"Org " + std::to_string(o), d::PlanType::kTeamsAnnually,
                                       static_cast<int>(cfg.sync_callers + 1), "billing@org.example"},
                 as(org.owner))
                 .created_ids.at(0);
    org.collection = run(d::CreateCollection{org.id, "Shared", {}, {}}, as(org.owner)).created_ids.at(0);
    orgs.push_back(org);
  }
  // Untimed: each caller joins its organization with edit access and creates its items.
  struct Caller {
    d::UserId user;
    std::vector<d::ItemId> items;
  };
  std::vector<Caller> callers(cfg.sync_callers);
  for (std::size_t c = 0; c < callers.size(); ++c) {
    const Org& org = orgs[c % orgs.size()];
    const std::string email = "member-" + std::to_string(c) + "@org.example";
    callers[c].user = register_user(email);
    auto invited = run(
        d::InviteMembers{
            org.id, {email}, d::OrganizationUserType::kUser, {}, {{org.collection, false, false, false}}, {}},
        as(org.owner));
    const d::OrganizationUserId member = invited.created_ids.at(0);
    run(d::AcceptMember{org.id, member, invited.tokens.at(0)}, as(callers[c].user));
    run(d::ConfirmMember{org.id, member, kKey}, as(org.owner));
    for (std::size_t i = 0; i < cfg.items_per_caller; ++i) {
      callers[c].items.push_back(run(d::CreateItem{d::CipherType::kLogin,
                                                   org.id,
                                                   {org.collection},
                                                   {kItemName, "", {{"login.password", kItemSecret}}}},
                                     as(callers[c].user))
                                     .created_ids.at(0));
    }
  }
  std::latch ready(static_cast<std::ptrdiff_t>(callers.size() + 1));
  std::vector<std::thread> threads;
  for (const Caller& caller : callers) {
    threads.emplace_back([&, caller] {
      ready.arrive_and_wait();
      for (std::size_t e = 0; e < cfg.item_edits_per_caller; ++e) {
        const d::ItemId item = caller.items[e % caller.items.size()];
        run(d::UpdateItem{item, {kItemName, kItemName, {{"login.password", kItemSecret}}}}, as(caller.user));
      }
    });
  }
  ready.arrive_and_wait();
  const auto t0 = bench::Clock::now();
  for (auto& t : threads) t.join();
  const double secs = bench::seconds_since(t0);
  engine->close();
  return static_cast<double>(callers.size() * cfg.item_edits_per_caller) / secs;
}

// ---------------------------------------------------------------------------
// Cold load: a provider stream of cold_load_events events, loaded by a fresh
// Engine (empty aggregate cache, fresh RocksDB block cache; the OS page cache is
// warm, as on a server that restarted its process).

struct ColdLoadSetup {
  d::ProviderId provider;
};

// A provider set up by its owner with `clients` client organizations (AddClientOrg,
// new form), on an open engine.
struct ProviderWithClients {
  d::ProviderId id;
  d::UserId owner;
  std::vector<d::ProviderOrganizationId> links;
};

ProviderWithClients provider_with_clients(portal::Engine& engine, const std::string& name,
                                          std::size_t clients) {
  auto run = [&](const d::Command& c, const d::Actor& a) {
    return unwrap(engine.execute(c, a), d::command_name(c));
  };
  ProviderWithClients p;
  p.owner = random_uuid();
  const std::string email = "owner@" + name + ".example";
  run(d::RegisterUser{p.owner, email, "Owner"}, as(p.owner));
  auto invited = run(d::InviteProvider{d::ProviderType::kMsp, email, {}}, d::Actor{{}, true, 0, ""});
  p.id = invited.created_ids.at(0);
  run(d::SetupProvider{p.id, invited.tokens.at(0), name, "", "billing@" + name + ".example", kKey},
      as(p.owner));
  for (std::size_t i = 0; i < clients; ++i) {
    p.links.push_back(run(d::AddClientOrg{p.id, std::nullopt, "Client " + std::to_string(i),
                                          "boss@client.example", d::PlanType::kTeamsMonthly, 10, "Default"},
                          as(p.owner))
                          .created_ids.at(1));
  }
  return p;
}

ColdLoadSetup build_long_provider(const Config& cfg, const std::string& dir) {
  auto engine = open_engine(dir, es::Durability::kBuffered);
  auto run = [&](const d::Command& c, const d::Actor& a) {
    return unwrap(engine->execute(c, a), d::command_name(c));
  };
  const ProviderWithClients p = provider_with_clients(*engine, "long", cfg.cold_load_clients);
  const d::ProviderId& id = p.id;
  const d::UserId& owner = p.owner;
  const std::vector<d::ProviderOrganizationId>& links = p.links;
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
      const auto t0 = bench::Clock::now();
      auto state = unwrap(engine->provider(setup.provider), "cold load");
      const double us = bench::seconds_since(t0) * 1e6;
      if (!state || state->clients.size() != cfg.cold_load_clients)
        bench::die("cold load: wrong provider state");
      if (rep > 0) load.push_back(us);
    }
    {
      auto engine = open_engine(dir, es::Durability::kBuffered);
      const auto t0 = bench::Clock::now();
      auto events =
          unwrap(engine->store().read_stream(stream, es::Direction::kForward, 0, cfg.cold_load_events),
                 "cold read_stream");
      const double us = bench::seconds_since(t0) * 1e6;
      if (events.size() != cfg.cold_load_events) bench::die("cold read_stream: wrong number of events");
      if (rep > 0) read.push_back(us);
    }
  }
  return {bench::median(load), bench::median(read)};
}

// ---------------------------------------------------------------------------
// A client command on a small and on a large provider: a provider of `clients`
// client organizations (set up untimed), then client_updates UpdateClientOrg on
// clients spread over all of them, one caller, buffered. Microseconds per command:
// how a command's cost grows with the provider it touches.

double update_client_us(const Config& cfg, const std::string& dir, std::size_t clients) {
  auto engine = open_engine(dir, es::Durability::kBuffered);
  const ProviderWithClients p = provider_with_clients(*engine, "large", clients);
  const auto t0 = bench::Clock::now();
  for (std::size_t k = 0; k < cfg.client_updates; ++k) {
    const d::UpdateClientOrg update{p.id, p.links[(k * 7919) % p.links.size()],
                                    "Renamed " + std::to_string(k), static_cast<int>(11 + k % 5)};
    unwrap(engine->execute(update, as(p.owner)), "UpdateClientOrg");
  }
  const double us = bench::seconds_since(t0) * 1e6 / static_cast<double>(cfg.client_updates);
  engine->close();
  return us;
}

// ---------------------------------------------------------------------------
// Plain RocksDB: the ceiling, as in eventstore_bench (bench_support.h). The
// values are the stored records (envelope + checksum) of 200-byte-payload events
// as our store writes them.

// The store's block cache size and no row cache, as this ceiling was first measured.
bench::RawCaches raw_caches(const Config& cfg) {
  return {cfg.block_cache_bytes, std::nullopt};
}

std::vector<std::string> raw_stream_names(const Config& cfg) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < cfg.raw_streams; ++i) {
    names.push_back("item-" + es::Id16::random().to_hex());
  }
  return names;
}

std::vector<std::string> probe_stored_values(const Config& cfg, const std::vector<std::string>& streams) {
  bench::ScratchDir dir("probe");
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
  bench::check(store->scan_all(1, cfg.payload_variants,
                               [&](const es::RocksDbEventStore::RecordView& r) {
                                 values.emplace_back(r.envelope);
                                 return true;
                               }),
               "probe scan_all");
  bench::check(store->close(), "close the probe store");
  if (values.size() != cfg.payload_variants) bench::die("probe: scan_all returned too few values");
  return values;
}

// ---------------------------------------------------------------------------
// Report

constexpr bench::Target kTargets[] = {
    {"ratio_commands_vs_raw", true, 0.5},
    {"ratio_commands_sync_vs_raw", true, 1.0},
    {"cold_load_us_1000_events", false, 300},
    {"ratio_items_sync_vs_raw", true, 1.0},
};

// One caller, buffered, beside plain RocksDB's buffered writes, in
// bench::interleave's alternating slices: slice k is the mix's step k for every
// provider (set up untimed first) on our side, and raw_buffered_writes / clients
// events on the raw side. Returns the mix's figure and raw's events/s.
struct BufferedMixFigure {
  MixFigure mix;
  double raw_eps = 0;
};

BufferedMixFigure buffered_mix(const Config& cfg, const std::string& dir, const std::string& raw_dir,
                               const std::vector<std::string>& streams,
                               const std::vector<std::string>& values, bool ours_first) {
  auto engine = open_engine(dir, es::Durability::kBuffered);
  Mix mix(cfg, *engine);
  std::vector<MixProvider> providers;
  for (std::size_t p = 0; p < cfg.providers; ++p) providers.push_back(mix.set_up(p));
  const std::uint64_t events_before = engine->store().last_position();
  BufferedMixFigure f;
  {
    bench::RawBufferedWriter raw(raw_caches(cfg), streams, values, raw_dir);
    const auto rates = bench::interleave(
        cfg.clients, ours_first, commands_timed(cfg),
        [&](const bench::Slice& slice) {
          for (const MixProvider& mp : providers) mix.step(mp, slice.index);
        },
        cfg.raw_buffered_writes, [&](const bench::Slice& slice) { raw.write(slice.size()); });
    f.mix.commands_per_s = rates.ours_per_s;
    f.raw_eps = rates.raw_per_s;
  }
  f.mix.events_per_command = static_cast<double>(engine->store().last_position() - events_before) /
                             static_cast<double>(commands_timed(cfg));
  engine->close();
  return f;
}

void print_table(const std::map<std::string, double>& m, const Config& cfg) {
  auto at = [&](const char* k) { return m.at(k); };
  auto result = [&](const char* key) { return bench::verdict(kTargets, m, key); };
  const std::string callers = std::to_string(cfg.sync_callers);
  const std::vector<bench::Row> rows = {
      {"commands, buffered, 1 caller (commands/s vs events/s)",
       bench::with_commas(at("commands_per_s_buffered")),
       bench::with_commas(at("raw_rocksdb_buffered_1writer_eps")),
       bench::fixed(at("ratio_commands_vs_raw"), 2), "ratio >= 0.5", result("ratio_commands_vs_raw")},
      {"commands, sync, " + callers + " callers (commands/s vs events/s)",
       bench::with_commas(at("commands_per_s_sync_64")),
       bench::with_commas(at("raw_rocksdb_sync_64writers_eps")),
       bench::fixed(at("ratio_commands_sync_vs_raw"), 2), "ratio >= 1.0",
       result("ratio_commands_sync_vs_raw")},
      {"item edits, sync, " + callers + " callers, 10 orgs (edits/s vs events/s)",
       bench::with_commas(at("item_writes_per_s_sync_64")),
       bench::with_commas(at("raw_rocksdb_sync_64writers_eps")),
       bench::fixed(at("ratio_items_sync_vs_raw"), 2), "ratio >= 1.0", result("ratio_items_sync_vs_raw")},
      {"cold load, 1000-event provider stream (us)", bench::fixed(at("cold_load_us_1000_events"), 1),
       bench::fixed(at("cold_load_store_read_us"), 1), "-", "ours <= 300",
       result("cold_load_us_1000_events")},
  };
  std::printf(
      "\ncommands_bench: median of %d run%s, %zu providers x %zu clients, %.2f events per command\n\n",
      cfg.runs, cfg.runs == 1 ? "" : "s", cfg.providers, cfg.clients, at("events_per_command"));
  bench::print_rows({"figure", "ours", "raw rocksdb", "ratio", "target", "result"}, rows);
  std::printf("\n%zu of %zu targets met. Cold load: the raw column is read_stream alone on a fresh store.\n",
              bench::targets_met(kTargets, m), std::size(kTargets));
  std::printf("UpdateClientOrg: %.1f us on a provider of %zu clients, %.1f us on one of %zu (%.2fx).\n",
              at("update_client_us_small_provider"), cfg.small_provider_clients,
              at("update_client_us_large_provider"), cfg.large_provider_clients,
              at("ratio_large_vs_small_provider"));
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse_args(argc, argv);
  bench::enter_tmp_root(cfg, "commands-bench");

  const std::vector<std::string> streams = raw_stream_names(cfg);
  const std::vector<std::string> values = probe_stored_values(cfg, streams);

  bench::Samples samples;

  for (int run = 0; run < cfg.runs; ++run) {
    // Alternate which side goes first, so neither always meets a colder or a busier machine.
    const bool ours_first = run % 2 == 0;
    const std::string tag = "run" + std::to_string(run);

    MixFigure buffered, sync;
    double raw_b = 0, raw_s = 0;
    {
      bench::progress(run, cfg.runs,
                      "commands_per_s_buffered (1 caller) and raw_rocksdb_buffered_1writer_eps");
      bench::ScratchDir dir(tag + "-buffered");
      bench::ScratchDir raw_dir(tag + "-raw-buffered");
      const BufferedMixFigure b = buffered_mix(cfg, dir.path(), raw_dir.path(), streams, values, ours_first);
      buffered = b.mix;
      raw_b = b.raw_eps;
    }
    samples.record("commands_per_s_buffered", buffered.commands_per_s);
    samples.record("raw_rocksdb_buffered_1writer_eps", raw_b);
    samples.record("ratio_commands_vs_raw", buffered.commands_per_s / raw_b);
    samples.record("events_per_command", buffered.events_per_command);

    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == ours_first) {
        bench::progress(run, cfg.runs, "commands_per_s_sync_64 (64 callers)");
        bench::ScratchDir dir(tag + "-sync");
        sync = run_mix(cfg, dir.path(), es::Durability::kSync, cfg.sync_callers);
      } else {
        bench::progress(run, cfg.runs, "raw_rocksdb_sync_64writers_eps");
        bench::ScratchDir dir(tag + "-raw-sync");
        raw_s = bench::raw_sync_writers(raw_caches(cfg), streams, values, cfg.sync_callers,
                                        cfg.raw_sync_writes_per_writer, dir.path());
      }
    }
    samples.record("commands_per_s_sync_64", sync.commands_per_s);
    samples.record("raw_rocksdb_sync_64writers_eps", raw_s);
    samples.record("ratio_commands_sync_vs_raw", sync.commands_per_s / raw_s);

    {
      bench::progress(run, cfg.runs, "item_writes_per_s_sync_64 (64 callers, 10 organizations)");
      bench::ScratchDir dir(tag + "-items");
      const double items = run_item_edits(cfg, dir.path());
      samples.record("item_writes_per_s_sync_64", items);
      samples.record("ratio_items_sync_vs_raw", items / raw_s);
    }

    bench::progress(run, cfg.runs, "cold_load_us_1000_events");
    bench::ScratchDir dir(tag + "-cold");
    const ColdLoadSetup setup = build_long_provider(cfg, dir.path());
    const ColdLoadFigure cold = cold_load(cfg, dir.path(), setup);
    samples.record("cold_load_us_1000_events", cold.load_us);
    samples.record("cold_load_store_read_us", cold.store_read_us);

    bench::progress(run, cfg.runs, "update_client_us_small_provider and update_client_us_large_provider");
    double small = 0, large = 0;
    for (int side = 0; side < 2; ++side) {
      const bool small_now = (side == 0) == ours_first;
      bench::ScratchDir provider_dir(tag + (small_now ? "-small-provider" : "-large-provider"));
      (small_now ? small : large) = update_client_us(
          cfg, provider_dir.path(), small_now ? cfg.small_provider_clients : cfg.large_provider_clients);
    }
    samples.record("update_client_us_small_provider", small);
    samples.record("update_client_us_large_provider", large);
    samples.record("ratio_large_vs_small_provider", large / small);
  }

  std::map<std::string, double> m = samples.medians();
  bench::record_common_parameters(m, cfg);
  m["providers"] = static_cast<double>(cfg.providers);
  m["clients_per_provider"] = static_cast<double>(cfg.clients);
  m["commands_timed"] = static_cast<double>(commands_timed(cfg));
  m["sync_callers"] = static_cast<double>(cfg.sync_callers);
  m["payload_bytes"] = static_cast<double>(cfg.payload_bytes);
  m["stored_value_bytes"] = static_cast<double>(values[0].size());
  m["small_provider_clients"] = static_cast<double>(cfg.small_provider_clients);
  m["large_provider_clients"] = static_cast<double>(cfg.large_provider_clients);

  print_table(m, cfg);
  const std::vector<std::string> order = {"commands_per_s_buffered",
                                          "raw_rocksdb_buffered_1writer_eps",
                                          "ratio_commands_vs_raw",
                                          "commands_per_s_sync_64",
                                          "raw_rocksdb_sync_64writers_eps",
                                          "ratio_commands_sync_vs_raw",
                                          "item_writes_per_s_sync_64",
                                          "ratio_items_sync_vs_raw",
                                          "cold_load_us_1000_events",
                                          "cold_load_store_read_us",
                                          "update_client_us_small_provider",
                                          "update_client_us_large_provider",
                                          "ratio_large_vs_small_provider",
                                          "events_per_command",
                                          "runs",
                                          "quick",
                                          "allocator_tcmalloc",
                                          "providers",
                                          "clients_per_provider",
                                          "commands_timed",
                                          "sync_callers",
                                          "payload_bytes",
                                          "stored_value_bytes",
                                          "small_provider_clients",
                                          "large_provider_clients"};
  // Counts and rates whole, everything else (ratios, microseconds) to 4 digits.
  bench::write_json(m, order, cfg.out, {.whole_from = 1000, .tenths_from = 1000});
  std::fprintf(stderr, "commands_bench: wrote %s\n", cfg.out.c_str());
  return 0;
}
