// portalctl through its binary: a fixed scenario (fixed engine key, clock, user and
// command ids, so every id and instant is reproducible) is recorded once with the
// Engine; each test runs portalctl on a copy of its data directory and checks the
// output and the exit code. The organization's CSV export must equal
// golden/audit_org.csv (PORTALCTL_UPDATE_GOLDEN=1 rewrites it from this run; review
// the diff before committing it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <jwt.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>  // mkdtemp
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "portal/api/engine.h"
#include "portal/projections/audit_log.h"
#include "portal/projections/catalog.h"
#include "portal/projections/projection_db.h"

namespace portal {
namespace {

namespace d = domain;
namespace es = eventstore;
namespace fs = std::filesystem;

constexpr const char* kKey = "2.AAAA|BBBB|CCCC";  // an encrypted key, opaque to the engine
constexpr const char* kItemName = "2.bmFtZQ==|Y3Q=|bWFj";
constexpr const char* kItemNotes = "2.bm90ZXM=|Y3Q=|bWFj";
constexpr const char* kItemPassword = "2.cGFzcw==|Y3Q=|bWFj";

d::Uuid uuid(const char* text) {
  auto id = d::Uuid::parse(text);
  if (!id) throw std::invalid_argument(text);
  return *id;
}

// Instants of the scenario.
d::Timestamp at(const char* iso) {
  // "2026-11-20T09:00" in UTC, minutes precision.
  std::tm tm{};
  std::istringstream in(iso);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M");
  if (in.fail()) throw std::invalid_argument(iso);
  return static_cast<d::Timestamp>(timegm(&tm)) * 1'000'000;
}

const d::UserId kStaff = uuid("00000000-0000-4000-8000-0000000000aa");
const d::UserId kAlice = uuid("00000000-0000-4000-8000-000000000001");  // provider admin
const d::UserId kBob = uuid("00000000-0000-4000-8000-000000000002");    // service user, removed later
const d::UserId kCarol = uuid("00000000-0000-4000-8000-000000000003");  // the client's owner
const d::UserId kDave = uuid("00000000-0000-4000-8000-000000000004");   // a client member

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// A strict JSON value check (objects, arrays, strings with escapes, numbers,
// literals), enough to tell well-formed output from broken quoting.
class JsonCheck {
 public:
  static bool valid(std::string_view s) {
    JsonCheck c{s};
    return c.value() && (c.ws(), c.i_ == s.size());
  }

 private:
  explicit JsonCheck(std::string_view s) : s_(s) {}
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool string() {
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (i_ >= s_.size()) return false;
        const char e = s_[i_++];
        if (e == 'u') {
          if (i_ + 4 > s_.size()) return false;
          for (int k = 0; k < 4; ++k)
            if (!std::isxdigit(static_cast<unsigned char>(s_[i_++]))) return false;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool value() {
    ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      if (eat('}')) return true;
      do {
        if (!string() || !eat(':') || !value()) return false;
      } while (eat(','));
      return eat('}');
    }
    if (c == '[') {
      ++i_;
      if (eat(']')) return true;
      do {
        if (!value()) return false;
      } while (eat(','));
      return eat(']');
    }
    if (c == '"') return string();
    for (const char* lit : {"true", "false", "null"}) {
      if (s_.substr(i_).starts_with(lit)) return i_ += std::string_view(lit).size(), true;
    }
    const std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    return i_ > start && std::isdigit(static_cast<unsigned char>(s_[i_ - 1]));
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

struct Outcome {
  int code = -1;
  std::string out, err;
};

// The scenario's ids, known once it is recorded.
struct Scenario {
  d::ProviderId provider;
  d::ProviderUserId bob_provider_user;
  d::OrganizationId org;
  d::ProviderOrganizationId link;
  d::CollectionId collection;
  d::ItemId item;
};

class PortalctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string templ = (fs::temp_directory_path() / "portalctl-test-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = new fs::path(templ);
    scenario_ = new Scenario(record(*root_ / "golden-data"));
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    // PORTALCTL_TEST_KEEP=1 keeps the data directories, to run portalctl on them by hand.
    if (const char* keep = std::getenv("PORTALCTL_TEST_KEEP"); keep && std::string(keep) == "1") {
      std::fprintf(stderr, "portalctl test data kept in %s\n", root_->c_str());
    } else {
      fs::remove_all(*root_, ec);
    }
    delete root_;
    delete scenario_;
  }

  // Each test works on its own copy of the recorded data directory.
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = *root_ / info->name();
    fs::copy(*root_ / "golden-data", dir_, fs::copy_options::recursive);
  }

  static std::string id(const d::Uuid& u) { return u.to_string(); }
  const Scenario& s() const { return *scenario_; }

  // Runs portalctl with args (and --data-dir of this test unless given).
  Outcome portalctl(std::vector<std::string> args, bool with_data_dir = true) const {
    if (with_data_dir) {
      args.push_back("--data-dir");
      args.push_back(dir_.string());
    }
    const fs::path out = dir_.parent_path() / (dir_.filename().string() + ".out");
    const fs::path err = dir_.parent_path() / (dir_.filename().string() + ".err");
    const pid_t pid = fork();
    if (pid == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (o < 0 || e < 0) _exit(127);
      ::dup2(o, STDOUT_FILENO);
      ::dup2(e, STDERR_FILENO);
      std::vector<char*> argv{const_cast<char*>(PORTALCTL_PATH)};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(PORTALCTL_PATH, argv.data());
      _exit(127);
    }
    Outcome r;
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) throw std::runtime_error("cannot run portalctl");
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
  }

  // Edits the serving generation's rows of a read model directly with RocksDB: edit
  // gets the database, the generation and a batch written afterwards.
  void tamper(
      const std::string& name,
      const std::function<void(projections::ProjectionDb&, std::uint64_t, rocksdb::WriteBatch&)>& edit) {
    auto db = projections::ProjectionDb::open((dir_ / "projections").string());
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    const auto gen = (*db)->serving(name);
    ASSERT_TRUE(gen.has_value());
    rocksdb::WriteBatch batch;
    edit(**db, gen->number, batch);
    ASSERT_TRUE((*db)->write(batch).ok());
  }

  static Scenario record(const fs::path& dir);

  static fs::path* root_;
  static Scenario* scenario_;
  fs::path dir_;
};

fs::path* PortalctlTest::root_ = nullptr;
Scenario* PortalctlTest::scenario_ = nullptr;

// A provider (Alice its admin, Bob a service user), a client organization added by
// Alice and administered by Bob, Bob's removal, then the client's owner at work.
Scenario PortalctlTest::record(const fs::path& dir) {
  fs::create_directories(dir);
  {
    // A fixed engine key: ids derive from it and the command ids.
    std::ofstream key(dir / "engine.key", std::ios::binary);
    key << std::string(32, '\x5a');
  }
  auto now = std::make_shared<d::Timestamp>(at("2026-11-20T09:00"));
  EngineOptions options;
  options.durability = es::Durability::kBuffered;
  options.clock = [now] { return *now; };
  auto opened = Engine::open(dir.string(), options);
  if (!opened.ok()) throw std::runtime_error("Engine::open: " + opened.error().message);
  auto engine = std::move(opened.value());

  std::uint8_t next_command = 0;
  std::uint64_t last = 0;
  auto run = [&](const char* when, const d::Command& command, const d::UserId& user, bool staff = false) {
    *now = at(when);
    es::CommandId command_id;
    command_id.bytes[0] = 0xc0;
    command_id.bytes[15] = ++next_command;
    const d::Actor actor{user, staff, 9, "192.0.2.7"};
    auto r = engine->execute(command, actor, command_id);
    if (!r.ok()) throw std::runtime_error(std::string(d::command_name(command)) + ": " + r.error().message);
    last = std::max(last, r->last_position);
    return std::move(r.value());
  };

  Scenario s;
  run("2026-11-20T09:00", d::RegisterUser{kAlice, "alice@acme.example", "Alice"}, kAlice);
  run("2026-11-20T09:01", d::RegisterUser{kBob, "bob@acme.example", "Bob"}, kBob);
  run("2026-11-20T09:02", d::RegisterUser{kCarol, "carol@client.example", "Carol"}, kCarol);
  run("2026-11-20T09:03", d::RegisterUser{kDave, "dave@client.example", "Dave"}, kDave);
  auto invited = run("2026-11-20T09:10", d::InviteProvider{d::ProviderType::kMsp, "alice@acme.example", {}},
                     kStaff, true);
  s.provider = invited.created_ids.at(0);
  run("2026-11-20T09:20",
      d::SetupProvider{s.provider, invited.tokens.at(0), "Acme IT", "Acme IT Ltd", "billing@acme.example",
                       kKey},
      kAlice);
  auto team = run("2026-11-20T09:30",
                  d::InviteProviderUsers{s.provider, {"bob@acme.example"}, d::ProviderUserType::kServiceUser},
                  kAlice);
  s.bob_provider_user = team.created_ids.at(0);
  run("2026-11-20T09:31", d::AcceptProviderInvite{s.provider, s.bob_provider_user, team.tokens.at(0)}, kBob);
  run("2026-11-20T09:32", d::ConfirmProviderUsers{s.provider, {{s.bob_provider_user, kKey}}}, kAlice);

  auto client = run("2026-11-21T09:00",
                    d::AddClientOrg{s.provider, std::nullopt, "Client One", "carol@client.example",
                                    d::PlanType::kTeamsMonthly, 10, "Default collection"},
                    kAlice);
  s.org = client.created_ids.at(0);
  s.link = client.created_ids.at(1);
  const d::OrganizationUserId carol_member = client.created_ids.at(2);
  s.collection = client.created_ids.at(3);
  run("2026-11-21T09:10", d::AcceptMember{s.org, carol_member, client.tokens.at(0)}, kCarol);
  run("2026-11-21T09:11", d::ConfirmMember{s.org, carol_member, kKey}, kAlice);
  run("2026-11-21T10:00", d::OpenClientOrg{s.provider, s.link}, kBob);
  run("2026-11-21T10:05",
      d::InviteMembers{
          s.org, {"dave@client.example"}, d::OrganizationUserType::kUser, {}, {{s.collection}}, {}},
      kBob);
  run("2026-11-21T11:00", d::SavePolicy{s.org, d::PolicyType::kTwoFactorAuthentication, true, ""}, kBob);

  run("2026-11-22T10:00", d::RemoveProviderUsers{s.provider, {s.bob_provider_user}}, kAlice);
  s.item = run("2026-11-22T11:00",
               d::CreateItem{d::CipherType::kLogin,
                             s.org,
                             {s.collection},
                             d::ItemContent{kItemName, kItemNotes, {{"login.password", kItemPassword}}}},
               kCarol)
               .created_ids.at(0);
  run("2026-11-22T12:00", d::UpdateClientOrg{s.provider, s.link, "Client One Ltd", 10}, kAlice);

  for (const char* model : {"audit", "admin-history"}) {
    auto waited = engine->wait_for_projection(model, last, std::chrono::seconds(60));
    if (!waited.ok()) throw std::runtime_error(std::string(model) + ": " + waited.error().message);
  }
  engine->close();
  return s;
}

// ---------------------------------------------------------------------------

TEST_F(PortalctlTest, HelpListsEveryCommandAndDocumentsEach) {
  const Outcome top = portalctl({"--help"}, false);
  EXPECT_EQ(top.code, 0);
  for (const char* cmd : {"audit", "state", "who-administered", "verify", "rebuild"}) {
    EXPECT_NE(top.out.find(std::string("  ") + cmd + " "), std::string::npos) << cmd;
    const Outcome sub = portalctl({cmd, "--help"}, false);
    EXPECT_EQ(sub.code, 0) << cmd;
    EXPECT_NE(sub.out.find("Usage: portalctl " + std::string(cmd)), std::string::npos) << cmd;
    EXPECT_NE(sub.out.find("Example:"), std::string::npos) << cmd;
    EXPECT_NE(sub.out.find("--data-dir"), std::string::npos) << cmd;
  }
  EXPECT_NE(portalctl({"audit", "--help"}, false).out.find("--format"), std::string::npos);
}

TEST_F(PortalctlTest, UsageErrorsExitTwoWithOneLinePointingToHelp) {
  const std::string org = id(s().org);
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"audit"},
      {"audit", "--org"},
      {"audit", "--org", "not-a-uuid"},
      {"audit", "--org", org, "--provider", id(s().provider)},
      {"audit", "--org", org, "--from", "yesterday"},
      {"audit", "--org", org, "--to", "2026-13-01"},
      {"audit", "--org", org, "--from", "2026-11-22", "--to", "2026-11-21T00:00:00Z"},
      {"audit", "--org", org, "--format", "xml"},
      {"audit", "--org", org, "--verbose"},
      {"state"},
      {"state", "nonsense"},
      {"state", "org-" + org, "--at", "noon"},
      {"who-administered"},
      {"who-administered", "--provider", id(s().provider), "--at", "2026-11-22"},
      {"verify", "extra"},
      {"rebuild"},
      {"rebuild", "--all", "audit"},
      {"rebuild", "no-such-model"},
  };
  for (const auto& args : cases) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    const Outcome r = portalctl(args);
    EXPECT_EQ(r.code, 2) << shown << "\n" << r.err;
    EXPECT_EQ(count(r.err, "\n"), 1u) << shown << "\n" << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << shown << "\n" << r.err;
    EXPECT_EQ(r.out, "") << shown;
  }
  const Outcome unknown = portalctl({"rebuild", "no-such-model"});
  EXPECT_NE(unknown.err.find("known: "), std::string::npos) << unknown.err;
  for (const auto& model : projections::portal_projections())
    EXPECT_NE(unknown.err.find(std::string(model->name())), std::string::npos) << unknown.err;
  EXPECT_NE(portalctl({"frobnicate"}).err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(portalctl({"audit"}).err.find("missing --org"), std::string::npos);
}

TEST_F(PortalctlTest, MissingDataDirectoryExitsOneSayingWhatToDo) {
  const Outcome r =
      portalctl({"audit", "--org", id(s().org), "--data-dir", (dir_ / "nowhere").string()}, false);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--data-dir"), std::string::npos) << r.err;
  const Outcome v = portalctl({"verify", "--data-dir", (dir_ / "nowhere").string()}, false);
  EXPECT_EQ(v.code, 1);
}

TEST_F(PortalctlTest, AuditCsvOfTheOrganizationEqualsTheGoldenFile) {
  const Outcome r = portalctl({"audit", "--org", id(s().org), "--format", "csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const fs::path golden = fs::path(GOLDEN_DIR) / "audit_org.csv";
  if (const char* update = std::getenv("PORTALCTL_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(golden, std::ios::binary) << r.out;
  }
  EXPECT_EQ(r.out, read_file(golden)) << "rerun with PORTALCTL_UPDATE_GOLDEN=1 and review the diff";

  const auto lines = lines_of(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(
      lines[0],
      "date,type,event,actingUserId,actingUserEmail,actingAs,providerId,organizationId,"
      "providerOrganizationId,providerUserId,organizationUserId,cipherId,collectionId,groupId,policyType,"
      "deviceType,ipAddress,position");
  // Added by the provider (1900), Bob's work attributed to the provider, the owner's own item.
  EXPECT_NE(r.out.find(",1900,ProviderOrganizationCreated,"), std::string::npos);
  EXPECT_NE(r.out.find(",1500,OrganizationUserInvited," + id(kBob) + ",bob@acme.example,providerUser," +
                       id(s().provider)),
            std::string::npos);
  EXPECT_NE(r.out.find(",1700,PolicyUpdated,"), std::string::npos);
  EXPECT_NE(r.out.find(",1100,"), std::string::npos);
  EXPECT_NE(r.out.find(id(kCarol) + ",carol@client.example,direct,"), std::string::npos);
}

TEST_F(PortalctlTest, AuditJsonLinesAreWellFormedAndMatchTheCsvRows) {
  const Outcome csv = portalctl({"audit", "--org", id(s().org), "--format", "csv"});
  const Outcome jsonl = portalctl({"audit", "--org", id(s().org), "--format", "jsonl"});
  ASSERT_EQ(jsonl.code, 0) << jsonl.err;
  const auto lines = lines_of(jsonl.out);
  EXPECT_EQ(lines.size() + 1, lines_of(csv.out).size());
  for (const auto& line : lines) {
    EXPECT_TRUE(JsonCheck::valid(line)) << line;
    EXPECT_TRUE(line.starts_with("{\"date\":\"2026-11-2")) << line;
    EXPECT_NE(line.find("\"organizationId\":\"" + id(s().org) + "\""), std::string::npos) << line;
  }
  EXPECT_NE(jsonl.out.find("\"type\":1900,\"event\":\"ProviderOrganizationCreated\""), std::string::npos);
  EXPECT_NE(jsonl.out.find("\"actingAs\":\"providerUser\""), std::string::npos);
  EXPECT_NE(jsonl.out.find("\"cipherId\":null"), std::string::npos);

  // Page by page (continuation tokens) gives the same export.
  for (const char* size : {"1", "3", "13", "14"}) {
    const Outcome paged = portalctl({"audit", "--org", id(s().org), "--format", "csv", "--page-size", size});
    EXPECT_EQ(paged.code, 0) << paged.err;
    EXPECT_EQ(paged.out, csv.out) << "page size " << size;
  }
  EXPECT_EQ(portalctl({"audit", "--org", id(s().org), "--page-size", "0"}).code, 2);
}

TEST_F(PortalctlTest, AuditFromAndToSelectAWindow) {
  auto dates = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"audit", "--org", id(s().org), "--format", "csv"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome r = portalctl(args);
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<std::string> out;
    for (const auto& line : lines_of(r.out)) out.push_back(line.substr(0, line.find(',')));
    out.erase(out.begin());  // the header
    return out;
  };
  const auto all = dates({});
  ASSERT_GE(all.size(), 8u);
  const auto day2 = dates({"--from", "2026-11-21", "--to", "2026-11-21"});  // the whole day
  ASSERT_FALSE(day2.empty());
  for (const auto& d : day2) EXPECT_TRUE(d.starts_with("2026-11-21T")) << d;
  const auto later = dates({"--from", "2026-11-22T11:00:00Z"});
  ASSERT_FALSE(later.empty());
  for (const auto& d : later) EXPECT_GE(d, "2026-11-22T11:00:00.000Z");
  EXPECT_EQ(dates({"--to", "2026-11-21T09:00:00Z"}).size(),
            static_cast<std::size_t>(std::count(all.begin(), all.end(), "2026-11-21T09:00:00.000Z")));
  EXPECT_TRUE(dates({"--from", "2027-01-01"}).empty());
  std::size_t parts = 0;
  for (const char* range : {"2026-11-21", "2026-11-22"})
    parts += dates({"--from", range, "--to", range}).size();
  EXPECT_EQ(parts, all.size());
}

TEST_F(PortalctlTest, AuditTableAndOtherIndexes) {
  const Outcome table = portalctl({"audit", "--org", id(s().org)});
  ASSERT_EQ(table.code, 0) << table.err;
  const auto lines = lines_of(table.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_TRUE(lines[0].starts_with("DATE ")) << lines[0];
  EXPECT_NE(table.out.find("Acme IT (provider)"), std::string::npos) << table.out;

  // The provider's log rolls up what its users did in the client.
  const Outcome provider = portalctl({"audit", "--provider", id(s().provider), "--format", "csv"});
  ASSERT_EQ(provider.code, 0) << provider.err;
  EXPECT_NE(provider.out.find(",1803,ProviderUserRemoved,"), std::string::npos);
  EXPECT_NE(provider.out.find(",1700,PolicyUpdated,"), std::string::npos);

  const Outcome actor = portalctl({"audit", "--actor", id(kBob), "--format", "jsonl"});
  ASSERT_EQ(actor.code, 0) << actor.err;
  for (const auto& line : lines_of(actor.out))
    EXPECT_NE(line.find("\"actingUserId\":\"" + id(kBob) + "\""), std::string::npos) << line;

  const Outcome item = portalctl({"audit", "--item", id(s().item), "--format", "csv"});
  ASSERT_EQ(item.code, 0) << item.err;
  EXPECT_EQ(lines_of(item.out).size(), 2u) << item.out;
  EXPECT_NE(item.out.find(",1100,"), std::string::npos);

  // Nothing matched: success, no rows.
  const std::string nobody = "00000000-0000-4000-8000-0000000000ff";
  const Outcome none = portalctl({"audit", "--org", nobody});
  EXPECT_EQ(none.code, 0);
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(lines_of(portalctl({"audit", "--org", nobody, "--format", "csv"}).out).size(), 1u);
  EXPECT_EQ(portalctl({"audit", "--org", nobody, "--format", "jsonl"}).out, "");
}

TEST_F(PortalctlTest, WhoAdministeredTheClientBeforeAndAfterARemoval) {
  const Outcome before = portalctl(
      {"who-administered", "--org", id(s().org), "--at", "2026-11-21T12:00:00Z", "--format", "csv"});
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_NE(before.out.find(id(kBob) + ",bob@acme.example,provider user,"), std::string::npos) << before.out;
  EXPECT_NE(before.out.find(id(kAlice) + ",alice@acme.example,provider user,"), std::string::npos)
      << before.out;
  EXPECT_NE(before.out.find(id(kCarol) + ",carol@client.example,owner,"), std::string::npos) << before.out;

  const Outcome after = portalctl({"who-administered", "--org", id(s().org), "--at", "2026-11-22T10:30:00Z"});
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_EQ(after.out.find("bob@acme.example"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("alice@acme.example"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("carol@client.example"), std::string::npos) << after.out;

  // Before the organization existed nobody had access.
  EXPECT_EQ(portalctl({"who-administered", "--org", id(s().org), "--at", "2026-11-20"}).out, "");

  // The whole history: Bob's interval ends at his removal.
  const Outcome history = portalctl({"who-administered", "--org", id(s().org), "--format", "jsonl"});
  ASSERT_EQ(history.code, 0) << history.err;
  bool bob_closed = false;
  for (const auto& line : lines_of(history.out)) {
    EXPECT_TRUE(JsonCheck::valid(line)) << line;
    if (line.find("bob@acme.example") != std::string::npos)
      bob_closed = line.find("\"until\":\"2026-11-22T10:00:00.000Z\"") != std::string::npos;
  }
  EXPECT_TRUE(bob_closed) << history.out;
}

TEST_F(PortalctlTest, WhoAdministeredPerProviderAndPerUser) {
  const Outcome provider = portalctl({"who-administered", "--provider", id(s().provider), "--format", "csv"});
  ASSERT_EQ(provider.code, 0) << provider.err;
  const auto lines = lines_of(provider.out);
  ASSERT_GE(lines.size(), 3u) << provider.out;
  EXPECT_EQ(lines[0], "organizationId,organizationName,userId,userEmail,commands,first,last,lastAction");
  // Bob opened the client, invited Dave and saved a policy.
  EXPECT_NE(provider.out.find(
                id(s().org) + ",Client One Ltd," + id(kBob) +
                ",bob@acme.example,3,2026-11-21T10:00:00.000Z,2026-11-21T11:00:00.000Z,PolicyUpdated"),
            std::string::npos)
      << provider.out;
  EXPECT_NE(provider.out.find("," + id(kAlice) + ",alice@acme.example,"), std::string::npos) << provider.out;

  const Outcome table = portalctl({"who-administered", "--provider", id(s().provider)});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_TRUE(table.out.starts_with("ORGANIZATION ID")) << table.out;

  const Outcome user = portalctl({"who-administered", "--actor", id(kBob), "--format", "csv"});
  ASSERT_EQ(user.code, 0) << user.err;
  EXPECT_NE(user.out.find(id(s().provider) + ",Acme IT," + id(s().org) + ",Client One Ltd,3,"),
            std::string::npos)
      << user.out;
  EXPECT_EQ(lines_of(user.out).size(), 2u) << user.out;
}

TEST_F(PortalctlTest, StateAsOfAnInstant) {
  const std::string org = "org-" + id(s().org);
  const Outcome before = portalctl({"state", org, "--at", "2026-11-22T11:30:00Z"});
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_TRUE(JsonCheck::valid(before.out)) << before.out;
  EXPECT_NE(before.out.find("\"name\": \"Client One\""), std::string::npos) << before.out;
  EXPECT_NE(before.out.find("\"object\": \"organization\""), std::string::npos);
  EXPECT_NE(before.out.find("\"providerId\": \"" + id(s().provider) + "\""), std::string::npos);
  const Outcome now = portalctl({"state", org});
  ASSERT_EQ(now.code, 0) << now.err;
  EXPECT_NE(now.out.find("\"name\": \"Client One Ltd\""), std::string::npos) << now.out;

  // The provider before and after Bob's removal; token hashes never shown.
  const std::string provider = "provider-" + id(s().provider);
  const Outcome with_bob = portalctl({"state", provider, "--at", "2026-11-22T09:59:59Z"});
  ASSERT_EQ(with_bob.code, 0) << with_bob.err;
  EXPECT_NE(with_bob.out.find("bob@acme.example"), std::string::npos);
  EXPECT_EQ(with_bob.out.find("sha256"), std::string::npos);
  EXPECT_EQ(with_bob.out.find("Hash"), std::string::npos);
  EXPECT_EQ(portalctl({"state", provider}).out.find("bob@acme.example"), std::string::npos);

  // The item: EncStrings as stored.
  const Outcome item = portalctl({"state", "item-" + id(s().item)});
  ASSERT_EQ(item.code, 0) << item.err;
  EXPECT_TRUE(JsonCheck::valid(item.out)) << item.out;
  EXPECT_NE(item.out.find(kItemPassword), std::string::npos);

  const Outcome user = portalctl({"state", "user-" + id(kCarol), "--at", "2026-11-22"});
  ASSERT_EQ(user.code, 0) << user.err;
  EXPECT_NE(user.out.find(id(s().org)), std::string::npos);

  const Outcome early = portalctl({"state", org, "--at", "2026-11-20"});
  EXPECT_EQ(early.code, 1);
  EXPECT_NE(early.err.find("did not exist yet"), std::string::npos) << early.err;
  const Outcome missing = portalctl({"state", "org-00000000-0000-4000-8000-0000000000ff"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no such stream"), std::string::npos) << missing.err;
}

TEST_F(PortalctlTest, VerifyFindsTamperedReadModelsAndRebuildRepairsThem) {
  const std::size_t models = projections::portal_projections().size();
  const std::size_t checks = 2 + models + 1 + models;  // log, index, checkpoints, audit index, rebuilds
  const Outcome healthy = portalctl({"verify"});
  EXPECT_EQ(healthy.code, 0) << healthy.out << healthy.err;
  EXPECT_EQ(lines_of(healthy.out).size(), checks + 1) << healthy.out;
  EXPECT_EQ(count(healthy.out, "FAILED"), 0u) << healthy.out;
  EXPECT_TRUE(healthy.out.starts_with("ok      records: 28 records verify")) << healthy.out;
  EXPECT_NE(healthy.out.find("ok      rebuild audit: "), std::string::npos) << healthy.out;
  EXPECT_NE(healthy.out.find("verify: all " + std::to_string(checks) + " checks passed"), std::string::npos)
      << healthy.out;

  // A row no event explains: the fresh rebuild differs.
  tamper("audit", [](projections::ProjectionDb&, std::uint64_t gen, rocksdb::WriteBatch& b) {
    (void)b.Put(projections::ProjectionDb::row_prefix("audit", gen) + "zbogus", "bogus");
  });
  const Outcome bogus = portalctl({"verify"});
  EXPECT_EQ(bogus.code, 1) << bogus.out;
  EXPECT_NE(bogus.out.find("FAILED  rebuild audit: "), std::string::npos) << bogus.out;
  EXPECT_NE(bogus.out.find("ok      rebuild admin-history"), std::string::npos) << bogus.out;
  EXPECT_NE(bogus.out.find("verify: 1 of " + std::to_string(checks) + " checks FAILED"), std::string::npos)
      << bogus.out;

  const Outcome rebuilt = portalctl({"rebuild", "--all"});
  EXPECT_EQ(rebuilt.code, 0) << rebuilt.err;
  EXPECT_EQ(rebuilt.err, "");
  EXPECT_EQ(count(rebuilt.out, "\n"), 1u) << rebuilt.out;  // quiet off a terminal: one summary line
  EXPECT_NE(rebuilt.out.find("audit (generation 2)"), std::string::npos) << rebuilt.out;
  EXPECT_NE(rebuilt.out.find("admin-history (generation 2)"), std::string::npos) << rebuilt.out;
  const Outcome after_rebuild = portalctl({"verify"});
  EXPECT_EQ(after_rebuild.code, 0) << after_rebuild.out;

  // An audit entry that no longer says what its event says.
  const d::OrganizationId org = s().org;
  std::string org_list = "o";
  org_list.append(reinterpret_cast<const char*>(org.bytes.data()), org.bytes.size());
  auto first_org_entry = [&](projections::ProjectionDb& db, std::uint64_t gen) {
    std::string key;
    EXPECT_TRUE(db.scan_list("audit", gen, org_list, "", false, [&](std::string_view member) {
                    key = "E" + std::string(member.substr(8));
                    return false;
                  }).ok());
    return key;
  };
  std::uint64_t forged_position = 0;
  tamper("audit", [&](projections::ProjectionDb& db, std::uint64_t gen, rocksdb::WriteBatch& b) {
    const std::string key = first_org_entry(db, gen);
    ASSERT_FALSE(key.empty());
    auto entry = projections::AuditEntry::decode(db.get("audit", gen, key).value_or(""));
    ASSERT_TRUE(entry);
    forged_position = entry->position;
    entry->ip_address = "203.0.113.66";  // someone covering their tracks
    (void)b.Put(projections::ProjectionDb::row_prefix("audit", gen) + key, entry->encode());
  });
  const Outcome forged = portalctl({"verify"});
  EXPECT_EQ(forged.code, 1) << forged.out;
  EXPECT_NE(
      forged.out.find("FAILED  audit index: 1 problem: audit entry at position " +
                      std::to_string(forged_position) + ": the entry differs from the event in the log"),
      std::string::npos)
      << forged.out;

  // An index that lists an entry under another organization.
  tamper("audit", [&](projections::ProjectionDb& db, std::uint64_t gen, rocksdb::WriteBatch& b) {
    (void)db;
    std::string list = "o";
    list.append(16, '\x5a');
    std::string member;
    for (int i = 0; i < 8; ++i) member.push_back('\0');
    for (int shift = 56; shift >= 0; shift -= 8)
      member.push_back(static_cast<char>(forged_position >> shift));
    std::string value(1, static_cast<char>(member.size()));
    value += member;
    (void)b.Put(projections::ProjectionDb::row_prefix("audit", gen) + "\xff" + list + member, value);
  });
  const Outcome misfiled = portalctl({"verify"});
  EXPECT_EQ(misfiled.code, 1) << misfiled.out;
  EXPECT_NE(misfiled.out.find("o index entry for 5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a at position " +
                              std::to_string(forged_position) +
                              ": the entry of that position has another subject or time"),
            std::string::npos)
      << misfiled.out;

  // A damaged entry: the export says what to do instead of printing a partial history.
  tamper("audit", [&](projections::ProjectionDb& db, std::uint64_t gen, rocksdb::WriteBatch& b) {
    const std::string key = first_org_entry(db, gen);
    (void)b.Put(projections::ProjectionDb::row_prefix("audit", gen) + key, "damaged");
  });
  const Outcome damaged = portalctl({"verify"});
  EXPECT_EQ(damaged.code, 1);
  EXPECT_NE(damaged.out.find("the entry does not decode"), std::string::npos) << damaged.out;
  const Outcome export_run = portalctl({"audit", "--org", id(org), "--format", "csv"});
  EXPECT_EQ(export_run.code, 1);
  EXPECT_NE(export_run.err.find("rebuild audit"), std::string::npos) << export_run.err;

  EXPECT_EQ(portalctl({"rebuild", "audit"}).code, 0);
  const Outcome repaired = portalctl({"verify"});
  EXPECT_EQ(repaired.code, 0) << repaired.out;
}

TEST_F(PortalctlTest, ReadCommandsWorkBesideARunningEngineAndRebuildRefuses) {
  EngineOptions options;
  options.durability = es::Durability::kBuffered;
  auto engine = Engine::open(dir_.string(), options);
  ASSERT_TRUE(engine.ok()) << engine.error().message;

  const Outcome audit = portalctl({"audit", "--org", id(s().org), "--format", "csv"});
  EXPECT_EQ(audit.code, 0) << audit.err;
  EXPECT_EQ(audit.out, read_file(fs::path(GOLDEN_DIR) / "audit_org.csv"));
  EXPECT_EQ(portalctl({"who-administered", "--org", id(s().org)}).code, 0);
  EXPECT_EQ(portalctl({"state", "org-" + id(s().org)}).code, 0);
  const Outcome verify = portalctl({"verify"});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;

  const Outcome rebuild = portalctl({"rebuild", "--all"});
  EXPECT_EQ(rebuild.code, 1);
  EXPECT_NE(rebuild.err.find("portald"), std::string::npos) << rebuild.err;
  engine.value()->close();
}

}  // namespace
}  // namespace portal

// ---------------------------------------------------------------------------
// portalctl token and portalctl demo

namespace portal {
namespace {

constexpr const char* kSecret = "6d1f0c9b8a7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c";

std::string base64url_decode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    if (v < 0) throw std::invalid_argument("not base64url: " + std::string(in));
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::vector<std::string> split_token(std::string token) {
  while (!token.empty() && token.back() == '\n') token.pop_back();
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (auto dot = token.find('.'); dot != std::string::npos; dot = token.find('.', start)) {
    parts.push_back(token.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(token.substr(start));
  return parts;
}

// A number claim of a compact JSON payload ("exp":123).
long long number_claim(const std::string& payload, const std::string& name) {
  const auto at = payload.find("\"" + name + "\":");
  if (at == std::string::npos) return -1;
  return std::stoll(payload.substr(at + name.size() + 3));
}

class PortalctlTokenDemoTest : public PortalctlTest {
 protected:
  void SetUp() override {
    PortalctlTest::SetUp();
    ::unsetenv("PORTAL_JWT_SECRET");
  }
  void write_secret(const fs::path& path, const std::string& secret) const {
    std::ofstream out(path, std::ios::binary);
    out << secret;
  }
};

TEST_F(PortalctlTokenDemoTest, TokenIsAnHs256JwtWithTheClaims) {
  write_secret(dir_ / "jwt.secret", std::string(kSecret) + "\n");  // the newline is not part of it
  const std::string user = id(kAlice);
  const long long before = static_cast<long long>(std::time(nullptr));
  const Outcome r = portalctl({"token", "--user", user, "--staff", "--ttl", "2h", "--email",
                               "alice@acme.example", "--name", "Alice"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(count(r.out, "\n"), 1u) << r.out;
  const auto parts = split_token(r.out);
  ASSERT_EQ(parts.size(), 3u) << r.out;
  for (const auto& p : parts) EXPECT_FALSE(p.empty()) << r.out;

  const std::string header = base64url_decode(parts[0]);
  EXPECT_TRUE(JsonCheck::valid(header)) << header;
  EXPECT_NE(header.find("\"alg\":\"HS256\""), std::string::npos) << header;
  const std::string payload = base64url_decode(parts[1]);
  EXPECT_TRUE(JsonCheck::valid(payload)) << payload;
  EXPECT_NE(payload.find("\"sub\":\"" + user + "\""), std::string::npos) << payload;
  EXPECT_NE(payload.find("\"staff\":true"), std::string::npos) << payload;
  EXPECT_NE(payload.find("\"aud\":\"portal\""), std::string::npos) << payload;
  EXPECT_NE(payload.find("\"iss\":\"portal-dev\""), std::string::npos) << payload;
  EXPECT_NE(payload.find("\"email\":\"alice@acme.example\""), std::string::npos) << payload;
  EXPECT_NE(payload.find("\"name\":\"Alice\""), std::string::npos) << payload;
  const long long iat = number_claim(payload, "iat");
  EXPECT_GE(iat, before);
  EXPECT_LE(iat, before + 60);
  EXPECT_EQ(number_claim(payload, "nbf"), iat);
  EXPECT_EQ(number_claim(payload, "exp"), iat + 7200);

  // Signed with the secret: libjwt (portald's library) verifies it with the key and
  // refuses it with another.
  std::string token = r.out.substr(0, r.out.size() - 1);
  jwt_t* decoded = nullptr;
  ASSERT_EQ(jwt_decode(&decoded, token.c_str(), reinterpret_cast<const unsigned char*>(kSecret),
                       static_cast<int>(std::string_view(kSecret).size())),
            0);
  EXPECT_EQ(jwt_get_alg(decoded), JWT_ALG_HS256);
  EXPECT_STREQ(jwt_get_grant(decoded, "sub"), user.c_str());
  jwt_free(decoded);
  const std::string wrong(64, 'x');
  decoded = nullptr;
  EXPECT_NE(jwt_decode(&decoded, token.c_str(), reinterpret_cast<const unsigned char*>(wrong.data()),
                       static_cast<int>(wrong.size())),
            0);
  if (decoded != nullptr) jwt_free(decoded);

  // Without --staff, --email and --name those claims are absent; issuer, audience
  // and the default ttl of an hour.
  const Outcome plain =
      portalctl({"token", "--user", user, "--issuer", "https://id.example", "--audience", "portal-staging"});
  ASSERT_EQ(plain.code, 0) << plain.err;
  const std::string p2 = base64url_decode(split_token(plain.out).at(1));
  EXPECT_EQ(p2.find("staff"), std::string::npos) << p2;
  EXPECT_EQ(p2.find("email"), std::string::npos) << p2;
  EXPECT_EQ(p2.find("\"name\""), std::string::npos) << p2;
  EXPECT_NE(p2.find("\"iss\":\"https://id.example\""), std::string::npos) << p2;
  EXPECT_NE(p2.find("\"aud\":\"portal-staging\""), std::string::npos) << p2;
  EXPECT_EQ(number_claim(p2, "exp") - number_claim(p2, "iat"), 3600);
  for (const auto& [ttl, seconds] : std::vector<std::pair<std::string, long long>>{
           {"90", 90}, {"90s", 90}, {"15m", 900}, {"12h", 43200}, {"7d", 604800}}) {
    const Outcome t = portalctl({"token", "--user", user, "--ttl", ttl});
    ASSERT_EQ(t.code, 0) << ttl << t.err;
    const std::string p = base64url_decode(split_token(t.out).at(1));
    EXPECT_EQ(number_claim(p, "exp") - number_claim(p, "iat"), seconds) << ttl;
  }
}

TEST_F(PortalctlTokenDemoTest, TokenSecretComesFromTheFileTheEnvironmentOrTheDataDirectory) {
  const std::string user = id(kBob);
  // Nothing configured: a failure that says where the secret is looked for.
  const Outcome none = portalctl({"token", "--user", user});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.out, "");
  EXPECT_NE(none.err.find("--secret-file"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("PORTAL_JWT_SECRET"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("jwt.secret"), std::string::npos) << none.err;

  const std::string other(40, 'k');
  auto verifies_with = [&](const Outcome& r, const std::string& secret) {
    if (r.code != 0) return false;
    jwt_t* decoded = nullptr;
    const std::string token = r.out.substr(0, r.out.find('\n'));
    const int rc = jwt_decode(&decoded, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                              static_cast<int>(secret.size()));
    if (decoded != nullptr) jwt_free(decoded);
    return rc == 0;
  };
  write_secret(dir_ / "jwt.secret", kSecret);
  EXPECT_TRUE(verifies_with(portalctl({"token", "--user", user}), kSecret));
  ::setenv("PORTAL_JWT_SECRET", other.c_str(), 1);
  EXPECT_TRUE(verifies_with(portalctl({"token", "--user", user}), other));
  const fs::path file = dir_.parent_path() / (dir_.filename().string() + ".secret");
  write_secret(file, "  " + std::string(kSecret) + "\r\n");
  EXPECT_TRUE(verifies_with(portalctl({"token", "--user", user, "--secret-file", file.string()}), kSecret));
  ::unsetenv("PORTAL_JWT_SECRET");

  write_secret(file, "short\n");
  const Outcome weak = portalctl({"token", "--user", user, "--secret-file", file.string()});
  EXPECT_EQ(weak.code, 1);
  EXPECT_NE(weak.err.find("32 bytes"), std::string::npos) << weak.err;
  const Outcome missing = portalctl({"token", "--user", user, "--secret-file", file.string() + ".none"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find(".none"), std::string::npos) << missing.err;
}

TEST_F(PortalctlTokenDemoTest, TokenUsageErrorsExitTwo) {
  write_secret(dir_ / "jwt.secret", kSecret);
  const std::string user = id(kAlice);
  const std::vector<std::vector<std::string>> cases = {
      {"token"},
      {"token", "--staff"},
      {"token", "--user"},
      {"token", "--user", "alice"},
      {"token", "--user", user, "--ttl", "soon"},
      {"token", "--user", user, "--ttl", "0"},
      {"token", "--user", user, "--ttl", "-5m"},
      {"token", "--user", user, "--ttl", "5w"},
      {"token", "--user", user, "--ttl", "100000d"},
      {"token", "--user", user, "--staff=yes"},
      {"token", "--user", user, "--email", ""},
      {"token", "--user", user, "--expires", "1h"},
      {"token", "--user", user, "extra"},
      {"demo", "--seed", "zero"},
      {"demo", "--seed", "0"},
      {"demo", "extra"},
  };
  for (const auto& args : cases) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    const Outcome r = portalctl(args);
    EXPECT_EQ(r.code, 2) << shown << "\n" << r.err;
    EXPECT_EQ(count(r.err, "\n"), 1u) << shown << "\n" << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << shown << "\n" << r.err;
    EXPECT_EQ(r.out, "") << shown;
  }
  EXPECT_NE(portalctl({"token"}).err.find("missing --user"), std::string::npos);
}

TEST_F(PortalctlTokenDemoTest, HelpDocumentsTokenAndDemo) {
  const Outcome top = portalctl({"--help"}, false);
  for (const char* cmd : {"token", "demo"}) {
    EXPECT_NE(top.out.find(std::string("  ") + cmd + " "), std::string::npos) << cmd;
    const Outcome sub = portalctl({cmd, "--help"}, false);
    EXPECT_EQ(sub.code, 0) << cmd;
    EXPECT_NE(sub.out.find("Usage: portalctl " + std::string(cmd)), std::string::npos) << cmd;
    EXPECT_NE(sub.out.find("Example:"), std::string::npos) << cmd;
    EXPECT_NE(sub.out.find("--data-dir"), std::string::npos) << cmd;
  }
  const Outcome token = portalctl({"token", "--help"}, false);
  for (const char* flag : {"--user", "--staff", "--ttl", "--secret-file", "PORTAL_JWT_SECRET", "jwt.secret"})
    EXPECT_NE(token.out.find(flag), std::string::npos) << flag;
  EXPECT_NE(portalctl({"demo", "--help"}, false).out.find("demo.env"), std::string::npos);
}

TEST_F(PortalctlTokenDemoTest, DemoWritesItsSummaryAndIsIdempotent) {
  const fs::path demo = dir_.parent_path() / (dir_.filename().string() + ".demo");
  const Outcome first = portalctl({"demo", "--data-dir", demo.string()}, false);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("demo: loaded into"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("Northwind IT"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("25 organizations"), std::string::npos) << first.out;
  EXPECT_EQ(count(first.out, "  admin "), 2u) << first.out;
  EXPECT_EQ(count(first.out, "  service "), 3u) << first.out;

  const std::string json = read_file(demo / "demo.json");
  EXPECT_TRUE(JsonCheck::valid(json)) << json;
  EXPECT_EQ(count(json, "\"organizationId\":"), 25u);
  EXPECT_EQ(count(json, "\"providerUserId\":"), 5u);
  EXPECT_NE(json.find("\"providerName\": \"Northwind IT\""), std::string::npos);
  const std::string env = read_file(demo / "demo.env");
  for (const char* var : {"PROVIDER_ID", "ADMIN_USER_ID", "ADMIN_EMAIL", "STAFF_USER_ID", "ORG_ID",
                          "PROVIDER_ORG_ID", "MEMBER_USER_ID"}) {
    const auto at = env.find("\n" + std::string(var) + "='");
    ASSERT_NE(at, std::string::npos) << var << "\n" << env;
    if (std::string(var).ends_with("_ID")) {
      const std::string value = env.substr(at + std::string(var).size() + 3, 36);
      EXPECT_TRUE(d::Uuid::parse(value).has_value()) << var << "=" << value;
      EXPECT_NE(json.find(value), std::string::npos) << var << "=" << value;
    }
  }
  const auto provider_at = env.find("PROVIDER_ID='");
  const std::string provider = env.substr(provider_at + 13, 36);
  EXPECT_NE(first.out.find(provider), std::string::npos);

  // Again: nothing new, the same summary.
  const Outcome again = portalctl({"demo", "--data-dir", demo.string()}, false);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("already loaded"), std::string::npos) << again.out;
  EXPECT_EQ(read_file(demo / "demo.json"), json);
  EXPECT_EQ(read_file(demo / "demo.env"), env);

  // The read models are complete and consistent with the log.
  const Outcome verify = portalctl({"verify", "--data-dir", demo.string()}, false);
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  const Outcome who =
      portalctl({"who-administered", "--provider", provider, "--data-dir", demo.string()}, false);
  EXPECT_EQ(who.code, 0) << who.err;
  EXPECT_NE(who.out.find("Contoso Dental"), std::string::npos) << who.out;

  // Not beside a running engine (portald): a failure that says so.
  {
    EngineOptions options;
    options.durability = es::Durability::kBuffered;
    auto engine = Engine::open(demo.string(), options);
    ASSERT_TRUE(engine.ok()) << engine.error().message;
    const Outcome busy = portalctl({"demo", "--data-dir", demo.string()}, false);
    EXPECT_EQ(busy.code, 1);
    EXPECT_NE(busy.err.find("portald"), std::string::npos) << busy.err;
    EXPECT_NE(busy.err.find("in use"), std::string::npos) << busy.err;
    engine.value()->close();
  }
  std::error_code ec;
  fs::remove_all(demo, ec);
}

}  // namespace
}  // namespace portal
