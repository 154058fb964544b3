// projections_bench: the read models' speed, each figure beside its ceiling in the
// same run.
//
//   projections_bench [--runs N] [--out FILE] [--dir DIR] [--quick]
//
// A log of a realistic mix (providers, their users and clients, members, groups,
// collections, policies, vault items and their edits, provider users opening
// consoles) of about 1,000,000 events is written once through portal::Engine
// (untimed). Then, per run:
//   rebuild_all_eps                 every read model (projections::portal_projections())
//                                   built from position 0 in one pass into a fresh
//                                   database: events per second;
//   raw_scan_eps                    plain RocksDB scanning the same log column family;
//   raw_batched_write_keys_per_s    plain RocksDB writing 100-byte values in batches of
//                                   1,000 keys, no sync: the two ceilings of a rebuild;
//   audit_query_p99_us              one page of 50 audit entries of the organization
//                                   that has 100,000 events, random time windows;
//   projection_lag_ms_p99           how long after a command commits all read models
//                                   have folded it in, while 64 callers edit items
//                                   with sync durability (sampled every 5 ms).
// Every figure is the median of N runs; the JSON keys are in docs/PERFORMANCE.md.
#include <rocksdb/options.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <latch>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "portal/api/engine.h"
#include "portal/projections/audit_log.h"
#include "portal/projections/catalog.h"
#include "portal/projections/runner.h"

namespace {

namespace d = portal::domain;
namespace es = portal::eventstore;
namespace pj = portal::projections;
namespace bench = portal::bench;
using portal::bench::unwrap;

struct Config : bench::CommonFlags {
  Config() { out = "bench-results/projections.json"; }
  std::uint64_t log_events = 1'000'000;
  std::uint64_t big_org_events = 100'000;
  std::size_t providers = 20;
  std::size_t clients = 10;  // per provider
  std::size_t members = 4;   // per client, each with items
  std::size_t items_per_member = 3;
  std::size_t writer_threads = 4;
  std::size_t queries = 2000;
  std::size_t raw_write_keys = 1'000'000;
  std::size_t lag_callers = 64;
  std::size_t lag_edits_per_caller = 150;
};

constexpr const char* kUsage =
    "usage: projections_bench [--runs N] [--out FILE] [--dir DIR] [--quick]\n"
    "  --runs N    runs per figure; each figure is the median (default 3)\n"
    "  --out FILE  flat JSON object of the results (default bench-results/projections.json)\n"
    "  --dir DIR   where to create the temporary stores (default /tmp); removed at the end\n"
    "  --quick     a 100,000-event log (10,000 in the big organization), fewer queries,\n"
    "              1 run unless --runs is given (a smoke test; figures are noisier)\n";

template <class T>
T unwrap(d::Expected<T> r, const std::string& what) {
  if (!r.ok()) bench::die(what + ": " + d::to_string(r.error().kind) + ": " + r.error().message);
  return std::move(r.value());
}

d::Uuid random_uuid() {
  d::Uuid id;
  id.bytes = es::Id16::random().bytes;
  return id;
}

d::Actor as(const d::UserId& id) { return d::Actor{id, false, 0, "192.0.2.1"}; }

constexpr const char* kKey = "2.AAAA|BBBB|CCCC";
constexpr const char* kName = "2.aXY=|Y3Q=|bWFj";
constexpr const char* kSecret = "2.c2VjcmV0|cGFzc3dvcmQ=|bWFjbWFj";

// ---------------------------------------------------------------------------
// The log

struct Client {
  d::OrganizationId org;
  d::ProviderOrganizationId link;
  d::CollectionId collection;
  std::vector<std::pair<d::UserId, d::ItemId>> items;  // (member, item)
};

struct Provider {
  d::ProviderId id;
  d::UserId owner;
  d::UserId service_user;
  std::vector<Client> clients;
};

class LogBuilder {
 public:
  LogBuilder(const Config& cfg, portal::Engine& engine) : cfg_(cfg), engine_(engine) {}

  portal::CommandResult run(const d::Command& c, const d::Actor& a) {
    return unwrap(engine_.execute(c, a), d::command_name(c));
  }

  d::UserId user(const std::string& email) {
    const d::UserId id = random_uuid();
    run(d::RegisterUser{id, email, "User"}, as(id));
    return id;
  }

  // A provider with an owner, a service user and its clients, each with members,
  // a group, a collection everyone edits, policies and items.
  Provider provider(std::size_t p) {
    const std::string tag = std::to_string(p);
    Provider pr;
    pr.owner = user("owner-" + tag + "@msp.example");
    auto invited = run(d::InviteProvider{d::ProviderType::kMsp, "owner-" + tag + "@msp.example", {}},
                       d::Actor{random_uuid(), true, 0, ""});
    pr.id = invited.created_ids.at(0);
    run(d::SetupProvider{pr.id, invited.tokens.at(0), "MSP " + tag, "", "billing@msp.example", kKey}, as(pr.owner));
    const std::string su_email = "tech-" + tag + "@msp.example";
    pr.service_user = user(su_email);
    auto su = run(d::InviteProviderUsers{pr.id, {su_email}, d::ProviderUserType::kServiceUser}, as(pr.owner));
    run(d::AcceptProviderInvite{pr.id, su.created_ids.at(0), su.tokens.at(0)}, as(pr.service_user));
    run(d::ConfirmProviderUsers{pr.id, {{su.created_ids.at(0), kKey}}}, as(pr.owner));
    for (std::size_t c = 0; c < cfg_.clients; ++c) pr.clients.push_back(client(pr, tag + "-" + std::to_string(c)));
    return pr;
  }

  Client client(const Provider& pr, const std::string& tag) {
    Client cl;
    auto added = run(d::AddClientOrg{pr.id, std::nullopt, "Client " + tag, "boss-" + tag + "@client.example",
                                     d::PlanType::kTeamsMonthly, static_cast<int>(cfg_.members + 5), "Default"},
                     as(pr.owner));
    cl.org = added.created_ids.at(0);
    cl.link = added.created_ids.at(1);
    const d::Actor admin = as(pr.service_user);
    cl.collection = run(d::CreateCollection{cl.org, "Shared", {}, {}}, admin).created_ids.at(0);
    std::vector<std::string> emails;
    for (std::size_t m = 0; m < cfg_.members; ++m) emails.push_back("m" + std::to_string(m) + "-" + tag + "@client.example");
    auto invited = run(d::InviteMembers{cl.org, emails, d::OrganizationUserType::kUser, {},
                                        {{cl.collection, false, false, false}}, {}},
                       admin);
    std::vector<d::OrganizationUserId> members;
    for (std::size_t m = 0; m < emails.size(); ++m) {
      const d::UserId u = user(emails[m]);
      run(d::AcceptMember{cl.org, invited.created_ids.at(m), invited.tokens.at(m)}, as(u));
      run(d::ConfirmMember{cl.org, invited.created_ids.at(m), kKey}, admin);
      members.push_back(invited.created_ids.at(m));
      for (std::size_t i = 0; i < cfg_.items_per_member; ++i) {
        auto item = run(d::CreateItem{d::CipherType::kLogin, cl.org, {cl.collection},
                                      {kName, "", {{"login.password", kSecret}}}},
                        as(u));
        cl.items.emplace_back(u, item.created_ids.at(0));
      }
    }
    run(d::CreateGroup{cl.org, "Team", members}, admin);
    run(d::SavePolicy{cl.org, d::PolicyType::kTwoFactorAuthentication, true, ""}, admin);
    run(d::SavePolicy{cl.org, d::PolicyType::kPasswordGenerator, true, R"({"minLength":14})"}, admin);
    return cl;
  }

  // Daily traffic on one client: mostly item edits, a console opened now and then.
  void traffic(const Provider& pr, const Client& cl, std::size_t k) {
    const auto& [member, item] = cl.items[k % cl.items.size()];
    if (k % 25 == 0) {
      run(d::OpenClientOrg{pr.id, cl.link}, as(pr.service_user));
    } else if (k % 97 == 0) {
      run(d::SoftDeleteItem{item}, as(member));
      run(d::RestoreItem{item}, as(member));
    } else {
      run(d::UpdateItem{item, {kName, kName, {{"login.password", kSecret}}}}, as(member));
    }
  }

 private:
  const Config& cfg_;
  portal::Engine& engine_;
};

struct BuiltLog {
  std::uint64_t events = 0;
  d::OrganizationId big_org;
};

BuiltLog build_log(const Config& cfg, const std::string& data_dir) {
  portal::EngineOptions options;
  options.durability = es::Durability::kBuffered;
  options.projections = false;
  auto engine = unwrap(portal::Engine::open(data_dir, options), "open the engine");
  LogBuilder b(cfg, *engine);
  std::vector<Provider> providers(cfg.providers);
  {
    std::vector<std::thread> threads;
    std::atomic<std::size_t> next{0};
    for (std::size_t t = 0; t < cfg.writer_threads; ++t) {
      threads.emplace_back([&] {
        for (std::size_t p = next++; p < providers.size(); p = next++) providers[p] = b.provider(p);
      });
    }
    for (auto& t : threads) t.join();
  }
  BuiltLog built;
  const Provider& big_provider = providers.front();
  const Client& big = big_provider.clients.front();
  built.big_org = big.org;
  // The big organization's events first, then everyone's traffic up to the size.
  const std::uint64_t big_start = engine->store().last_position();
  for (std::size_t k = 0; engine->store().last_position() - big_start < cfg.big_org_events; ++k)
    b.traffic(big_provider, big, k);
  std::vector<std::thread> threads;
  std::atomic<bool> done{false};
  for (std::size_t t = 0; t < cfg.writer_threads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t k = t; !done; k += cfg.writer_threads) {
        const Provider& pr = providers[k % providers.size()];
        // Skip the big organization: its event count is fixed above.
        const Client& cl = pr.clients[1 + (k / providers.size()) % (pr.clients.size() - 1)];
        b.traffic(pr, cl, k / (providers.size() * (pr.clients.size() - 1)));
        if (engine->store().last_position() >= cfg.log_events) done = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  built.events = engine->store().last_position();
  engine->close();
  return built;
}

// ---------------------------------------------------------------------------
// Figures

double rebuild_all(const std::string& data_dir, const std::string& scratch, std::uint64_t events) {
  es::RocksDbOptions so;
  so.read_only = true;
  auto store = unwrap(es::RocksDbEventStore::open(data_dir + "/store", so), "open the store");
  auto db = unwrap(pj::ProjectionDb::open(scratch), "open a projections database");
  auto runner = unwrap(pj::Runner::create(*store, *db, pj::portal_projections()), "create the runner");
  const auto t0 = bench::Clock::now();
  bench::check(runner->catch_up(), "rebuild");
  const double secs = bench::seconds_since(t0);
  for (const auto& s : runner->status()) {
    if (s.failure) bench::die("projection " + s.name + " failed: " + *s.failure);
    if (s.checkpoint != events) bench::die("projection " + s.name + " stopped short");
  }
  return static_cast<double>(events) / secs;
}

double raw_scan(const std::string& data_dir, std::uint64_t events) {
  bench::RawDb raw({64 << 20, std::nullopt}, data_dir + "/store", {}, true);
  rocksdb::ColumnFamilyHandle* log = raw.family(es::layout::kLogFamily);
  const auto t0 = bench::Clock::now();
  std::unique_ptr<rocksdb::Iterator> it(raw.db()->NewIterator(rocksdb::ReadOptions(), log));
  std::uint64_t count = 0, sink = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    sink += it->key().size() + static_cast<std::uint8_t>(it->value()[it->value().size() - 1]);
    ++count;
  }
  const double secs = bench::seconds_since(t0);
  bench::check(it->status(), "raw scan");
  if (count != events || sink == 0) bench::die("raw scan: wrong number of records");
  return static_cast<double>(count) / secs;
}

double raw_batched_writes(const Config& cfg, const std::string& dir) {
  bench::RawDb raw({64 << 20, std::nullopt}, dir, {rocksdb::kDefaultColumnFamilyName}, false);
  std::string value(100, 'v');
  std::mt19937_64 rng(7);
  const auto t0 = bench::Clock::now();
  rocksdb::WriteOptions wo;
  for (std::size_t i = 0; i < cfg.raw_write_keys;) {
    rocksdb::WriteBatch batch;
    for (std::size_t k = 0; k < 1000 && i < cfg.raw_write_keys; ++k, ++i) {
      // Keys shaped like projection rows: a prefix, an id, a position.
      std::string key = "Raudit";
      key.append(bench::be64(rng()));
      key.append(bench::be64(i));
      bench::check(batch.Put(key, value), "raw batch put");
    }
    bench::check(raw.db()->Write(wo, &batch), "raw batched write");
  }
  return static_cast<double>(cfg.raw_write_keys) / bench::seconds_since(t0);
}

double audit_query_p99(const Config& cfg, const std::string& projections_dir, const d::OrganizationId& org) {
  auto db = unwrap(pj::ProjectionDb::open(projections_dir, true), "open the projections read-only");
  // The organization's time range, from its first and last entries.
  pj::AuditQuery all;
  all.by = pj::AuditBy::kOrganization;
  all.id = org;
  all.limit = 1;
  auto first = unwrap(pj::query_audit(*db, all), "audit query");
  if (first.entries.empty()) bench::die("audit: the big organization has no entries");
  const std::int64_t t_first = first.entries.front().date;
  std::int64_t t_last = t_first;
  {
    pj::AuditQuery q = all;
    q.limit = 0;
    std::size_t n = 0;
    auto page = unwrap(pj::query_audit(*db, q), "audit query");
    n = page.entries.size();
    t_last = page.entries.back().date;
    if (n < cfg.big_org_events * 9 / 10) bench::die("audit: the big organization has too few entries");
  }
  std::mt19937_64 rng(11);
  std::vector<double> us;
  for (std::size_t i = 0; i < cfg.queries; ++i) {
    const std::int64_t span = t_last - t_first + 1;
    pj::AuditQuery q = all;
    q.limit = 50;
    q.from = t_first + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span));
    q.to = q.from + 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span));
    const auto t0 = bench::Clock::now();
    auto page = unwrap(pj::query_audit(*db, q), "audit query");
    us.push_back(bench::seconds_since(t0) * 1e6);
    if (page.entries.size() > 50) bench::die("audit: page over 50");
  }
  std::sort(us.begin(), us.end());
  return us[us.size() * 99 / 100];
}

double projection_lag_p99(const Config& cfg, const std::string& dir) {
  portal::EngineOptions options;
  options.durability = es::Durability::kSync;
  auto engine = unwrap(portal::Engine::open(dir, options), "open the engine");
  LogBuilder b(cfg, *engine);
  const d::UserId owner = b.user("owner@lag.example");
  const d::OrganizationId org =
      b.run(d::CreateOrganization{"Lag", d::PlanType::kTeamsAnnually, 100, "b@lag.example"}, as(owner)).created_ids.at(0);
  const d::CollectionId coll = b.run(d::CreateCollection{org, "Shared", {}, {}}, as(owner)).created_ids.at(0);
  std::vector<d::ItemId> items;
  for (std::size_t i = 0; i < cfg.lag_callers; ++i) {
    items.push_back(b.run(d::CreateItem{d::CipherType::kLogin, org, {coll}, {kName, "", {}}}, as(owner)).created_ids.at(0));
  }
  std::atomic<bool> writing{true};
  std::vector<double> lag_ms;
  std::thread monitor([&] {
    while (writing) {
      const std::uint64_t p = engine->store().last_position();
      const auto t0 = bench::Clock::now();
      (void)unwrap(engine->wait_for_projections(p, std::chrono::seconds(30)), "wait for the read models");
      lag_ms.push_back(bench::seconds_since(t0) * 1e3);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::latch ready(static_cast<std::ptrdiff_t>(cfg.lag_callers));
  std::vector<std::thread> callers;
  for (std::size_t c = 0; c < cfg.lag_callers; ++c) {
    callers.emplace_back([&, c] {
      ready.arrive_and_wait();
      for (std::size_t e = 0; e < cfg.lag_edits_per_caller; ++e)
        b.run(d::UpdateItem{items[c], {kName, kName, {}}}, as(owner));
    });
  }
  for (auto& t : callers) t.join();
  writing = false;
  monitor.join();
  engine->close();
  if (lag_ms.empty()) bench::die("lag: no samples");
  std::sort(lag_ms.begin(), lag_ms.end());
  return lag_ms[lag_ms.size() * 99 / 100];
}

constexpr bench::Target kTargets[] = {
    {"rebuild_all_eps", true, 200'000},
    {"audit_query_p99_us", false, 1000},
    {"projection_lag_ms_p99", false, 50},
};

void print_table(const std::map<std::string, double>& m, const Config& cfg) {
  auto at = [&](const char* k) { return m.at(k); };
  auto result = [&](const char* key) { return bench::verdict(kTargets, m, key); };
  const std::vector<bench::Row> rows = {
      {"rebuild of every read model (events/s)", bench::with_commas(at("rebuild_all_eps")),
       bench::with_commas(at("raw_scan_eps")), bench::fixed(at("rebuild_all_eps") / at("raw_scan_eps"), 2),
       ">= 200,000", result("rebuild_all_eps")},
      {"  ceiling: plain RocksDB batched writes (keys/s)", "-",
       bench::with_commas(at("raw_batched_write_keys_per_s")), "-", "", ""},
      {"audit page of 50, 100k-event organization, p99 (us)", bench::fixed(at("audit_query_p99_us"), 1), "-",
       "-", "<= 1,000", result("audit_query_p99_us")},
      {"read models' lag, 64 sync callers, p99 (ms)", bench::fixed(at("projection_lag_ms_p99"), 1), "-", "-",
       "<= 50", result("projection_lag_ms_p99")},
  };
  std::printf("\nprojections_bench: median of %d run%s, a %s-event log\n\n", cfg.runs, cfg.runs == 1 ? "" : "s",
              bench::with_commas(at("log_events")).c_str());
  bench::print_rows({"figure", "ours", "raw rocksdb", "ratio", "target", "result"}, rows);
  std::printf("\n%zu of %zu targets met.\n", bench::targets_met(kTargets, m), std::size(kTargets));
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  bench::parse_common_args("projections_bench", kUsage, argc, argv, cfg);
  if (cfg.quick) {
    cfg.log_events = 100'000;
    cfg.big_org_events = 10'000;
    cfg.providers = 5;
    cfg.queries = 300;
    cfg.raw_write_keys = 200'000;
    cfg.lag_edits_per_caller = 30;
  }
  bench::enter_tmp_root(cfg, "projections-bench");
  bench::ScratchDir data("data");
  std::fprintf(stderr, "projections_bench: writing a %s-event log (untimed)\n",
               bench::with_commas(static_cast<double>(cfg.log_events)).c_str());
  const BuiltLog log = build_log(cfg, data.path());

  bench::Samples samples;
  for (int run = 0; run < cfg.runs; ++run) {
    const std::string tag = "run" + std::to_string(run);
    bench::progress(run, cfg.runs, "raw_scan_eps");
    samples.record("raw_scan_eps", raw_scan(data.path(), log.events));
    bench::progress(run, cfg.runs, "rebuild_all_eps");
    bench::ScratchDir proj(tag + "-projections");
    samples.record("rebuild_all_eps", rebuild_all(data.path(), proj.path(), log.events));
    bench::progress(run, cfg.runs, "audit_query_p99_us");
    samples.record("audit_query_p99_us", audit_query_p99(cfg, proj.path(), log.big_org));
    {
      bench::progress(run, cfg.runs, "raw_batched_write_keys_per_s");
      bench::ScratchDir raw(tag + "-raw-writes");
      samples.record("raw_batched_write_keys_per_s", raw_batched_writes(cfg, raw.path()));
    }
    {
      bench::progress(run, cfg.runs, "projection_lag_ms_p99 (64 sync callers)");
      bench::ScratchDir lag(tag + "-lag");
      samples.record("projection_lag_ms_p99", projection_lag_p99(cfg, lag.path()));
    }
  }
  std::map<std::string, double> m = samples.medians();
  m["log_events"] = static_cast<double>(log.events);
  m["big_org_events"] = static_cast<double>(cfg.big_org_events);
  bench::record_common_parameters(m, cfg);
  print_table(m, cfg);
  const std::vector<std::string> order = {"rebuild_all_eps",
                                          "raw_scan_eps",
                                          "raw_batched_write_keys_per_s",
                                          "audit_query_p99_us",
                                          "projection_lag_ms_p99",
                                          "log_events",
                                          "big_org_events",
                                          "runs",
                                          "quick",
                                          "allocator_tcmalloc"};
  bench::write_json(m, order, cfg.out, {.whole_from = 1000, .tenths_from = 1000});
  std::fprintf(stderr, "projections_bench: wrote %s\n", cfg.out.c_str());
  return 0;
}
