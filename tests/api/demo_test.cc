// The demo data (api/demo.h) through the real Engine: the provider, its team and its
// 25 clients with members, groups, collections, policies and items; a second load
// (also after a restart) records nothing; the read models see it all.
#include "portal/api/demo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "portal/api/engine.h"
#include "portal/domain/enc_string.h"
#include "portal/projections/catalog.h"
#include "portal/projections/portal_views.h"
#include "temp_dir.h"

namespace portal {
namespace {

namespace d = domain;
namespace es = eventstore;
namespace pj = projections;
namespace fs = std::filesystem;

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty()) << "could not create a temporary directory";
    open();
  }
  void TearDown() override {
    engine_.reset();  // before temp_dir_ removes its directory
  }

  void open(api::DemoClock* history = nullptr) {
    engine_.reset();
    EngineOptions o;
    o.durability = es::Durability::kBuffered;
    if (history != nullptr) o.clock = [history] { return history->now(); };
    auto opened = Engine::open(dir_, o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    engine_ = std::move(opened.value());
  }

  api::DemoSummary load(const api::DemoOptions& options = {}) {
    auto loaded = api::load_demo(*engine_, options);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    if (!loaded.ok()) return {};
    return loaded.value();
  }

  void wait_for_read_models(std::uint64_t position) {
    for (const auto& p : pj::portal_projections()) {
      auto waited = engine_->wait_for_projection(p->name(), position, std::chrono::seconds(60));
      ASSERT_TRUE(waited.ok()) << p->name() << ": " << waited.error().message;
    }
  }

  test::TempDir temp_dir_{"demo-test"};
  const std::string& dir_ = temp_dir_.path();
  std::unique_ptr<Engine> engine_;
};

TEST_F(DemoTest, LoadsTheProviderItsTeamAndTwentyFiveClients) {
  const api::DemoSummary s = load();
  ASSERT_EQ(s.clients.size(), 25u);
  EXPECT_EQ(s.recorded, s.commands);
  EXPECT_GT(s.last_position, 0u);
  EXPECT_EQ(s.last_position, engine_->store().last_position());

  auto provider = engine_->provider(s.provider_id);
  ASSERT_TRUE(provider.ok() && provider->has_value());
  const d::ProviderState& p = *provider.value();
  EXPECT_EQ(p.name, "Northwind IT");
  EXPECT_EQ(p.type, d::ProviderType::kMsp);
  EXPECT_EQ(p.status, d::ProviderStatus::kBillable);
  ASSERT_EQ(p.users.size(), 5u);
  EXPECT_EQ(p.confirmed_admins(), 2);
  for (const auto& u : p.users) EXPECT_EQ(u.status, d::ProviderUserStatus::kConfirmed) << u.email;
  ASSERT_EQ(s.admins.size(), 2u);
  ASSERT_EQ(s.service_users.size(), 3u);
  for (const auto& a : s.admins) {
    const d::ProviderUser* pu = p.user_by_user_id(a.id);
    ASSERT_NE(pu, nullptr) << a.email;
    EXPECT_EQ(pu->type, d::ProviderUserType::kProviderAdmin);
    EXPECT_EQ(pu->id, a.membership_id);
    EXPECT_EQ(pu->email, a.email);
  }
  for (const auto& u : s.service_users) {
    const d::ProviderUser* pu = p.user_by_user_id(u.id);
    ASSERT_NE(pu, nullptr) << u.email;
    EXPECT_EQ(pu->type, d::ProviderUserType::kServiceUser);
  }
  EXPECT_EQ(p.clients.size(), 25u);

  auto staff = engine_->user(s.staff.id);
  ASSERT_TRUE(staff.ok() && staff->has_value());
  EXPECT_EQ(staff->value().email, s.staff.email);

  std::set<std::string> emails;
  int single_org = 0;
  int items = 0;
  std::set<d::OrganizationUserType> types;
  for (const api::DemoClient& c : s.clients) {
    SCOPED_TRACE(c.name);
    ASSERT_NE(p.client(c.provider_organization_id), nullptr);
    auto org = engine_->organization(c.organization_id);
    ASSERT_TRUE(org.ok() && org->has_value());
    const d::OrganizationState& o = *org.value();
    EXPECT_EQ(o.name, c.name);
    EXPECT_EQ(o.status, d::OrganizationStatus::kManaged);
    EXPECT_EQ(o.provider_id, s.provider_id);
    EXPECT_GE(c.members.size(), 3u);
    EXPECT_LE(c.members.size(), 6u);
    EXPECT_GE(o.groups.size(), 1u);
    EXPECT_LE(o.groups.size(), 2u);
    EXPECT_GE(o.collections.size(), 2u);
    EXPECT_LE(o.collections.size(), 3u);
    EXPECT_TRUE(o.policy_enabled(d::PolicyType::kTwoFactorAuthentication));
    if (o.policy_enabled(d::PolicyType::kSingleOrg)) ++single_org;
    if (auto gen = o.policies.find(d::PolicyType::kPasswordGenerator); gen != o.policies.end()) {
      EXPECT_TRUE(gen->second.data.starts_with("{\"minLength\":14")) << gen->second.data;
    }
    EXPECT_GE(c.items, 2);
    items += c.items;
    EXPECT_TRUE(emails.insert(c.owner.email).second) << c.owner.email;
    const d::OrganizationMember* owner = o.member_by_user_id(c.owner.id);
    ASSERT_NE(owner, nullptr);
    EXPECT_EQ(owner->type, d::OrganizationUserType::kOwner);
    EXPECT_EQ(owner->status, d::OrganizationUserStatus::kConfirmed);
    for (const api::DemoUser& m : c.members) {
      EXPECT_TRUE(emails.insert(m.email).second) << m.email;
      const d::OrganizationMember* member = o.member_by_user_id(m.id);
      ASSERT_NE(member, nullptr) << m.email;
      EXPECT_EQ(member->id, m.membership_id);
      EXPECT_EQ(member->status, d::OrganizationUserStatus::kConfirmed) << m.email;
      types.insert(member->type);
      auto user = engine_->user(m.id);
      ASSERT_TRUE(user.ok() && user->has_value());
      EXPECT_EQ(user->value().name, m.name);
    }
    // Some clients also have an invitation still pending.
    EXPECT_LE(o.members.size(), c.members.size() + 2);
    EXPECT_LE(static_cast<int>(o.members.size()), o.seats);
  }
  EXPECT_EQ(single_org, 1);
  EXPECT_GE(items, 50);
  EXPECT_TRUE(types.contains(d::OrganizationUserType::kAdmin));
  EXPECT_TRUE(types.contains(d::OrganizationUserType::kUser));
  EXPECT_TRUE(types.contains(d::OrganizationUserType::kCustom));
}

TEST_F(DemoTest, SecondLoadIsANoOpAlsoAfterARestart) {
  const api::DemoSummary first = load();
  const std::uint64_t last = engine_->store().last_position();
  ASSERT_GT(last, 0u);

  const api::DemoSummary again = load();
  EXPECT_EQ(engine_->store().last_position(), last);
  EXPECT_EQ(again.recorded, 0u);
  EXPECT_EQ(again.commands, first.commands);
  EXPECT_EQ(again.last_position, first.last_position);
  EXPECT_EQ(api::demo_summary_json(again), api::demo_summary_json(first));

  open();
  const api::DemoSummary restarted = load();
  EXPECT_EQ(engine_->store().last_position(), last);
  EXPECT_EQ(restarted.recorded, 0u);
  EXPECT_EQ(api::demo_summary_env(restarted), api::demo_summary_env(first));
}

TEST_F(DemoTest, ReadModelsSeeTheClientsMembersAndItems) {
  const api::DemoSummary s = load();
  wait_for_read_models(s.last_position);
  const auto& db = engine_->projection_db();

  const auto clients = pj::provider_clients(db, s.provider_id);
  ASSERT_EQ(clients.size(), 25u);
  std::set<std::string> names;
  for (const auto& c : clients) {
    names.insert(c.client.name);
    ASSERT_TRUE(c.organization.has_value()) << c.client.name;
  }
  for (const auto& c : s.clients) EXPECT_TRUE(names.contains(c.name)) << c.name;
  EXPECT_EQ(pj::provider_users(db, s.provider_id).size(), 5u);

  const api::DemoClient& first = s.clients.front();
  EXPECT_GE(pj::organization_members(db, first.organization_id).size(), first.members.size() + 1);
  EXPECT_GE(pj::organization_collections(db, first.organization_id).size(), 2u);
  EXPECT_GE(pj::organization_groups(db, first.organization_id).size(), 1u);
  EXPECT_GE(pj::organization_policies(db, first.organization_id).size(), 1u);

  // The owner sees every item of the organization, each a valid EncString.
  const auto vault = pj::vault_for_user(db, first.owner.id);
  EXPECT_EQ(static_cast<int>(vault.size()), first.items);
  for (const auto& v : vault) {
    EXPECT_TRUE(d::is_valid_enc_string(v.item.name)) << v.item.name;
    for (const auto& value : v.item.field_values) EXPECT_TRUE(d::is_valid_enc_string(value)) << value;
  }
  // A provider user has no vault in a client organization.
  EXPECT_TRUE(pj::vault_for_user(db, s.service_users[0].id).empty());
}

TEST_F(DemoTest, SeedsShapeTheDemoAndShareADataDirectory) {
  const api::DemoSummary one = load();
  api::DemoOptions other;
  other.seed = 2;
  other.clients = 3;
  const api::DemoSummary two = load(other);
  ASSERT_EQ(two.clients.size(), 3u);
  EXPECT_GT(two.recorded, 0u);
  EXPECT_NE(two.provider_id, one.provider_id);
  EXPECT_NE(two.staff.id, one.staff.id);
  EXPECT_NE(two.staff.email, one.staff.email);

  // User ids follow the seed alone, whatever the data directory.
  {
    test::TempDir other_dir("demo-test");
    ASSERT_FALSE(other_dir.path().empty());
    EngineOptions o;
    o.durability = es::Durability::kBuffered;
    auto elsewhere = Engine::open(other_dir.path(), o);
    ASSERT_TRUE(elsewhere.ok()) << elsewhere.error().message;
    auto again = api::load_demo(*elsewhere.value(), other);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->staff.id, two.staff.id);
    EXPECT_EQ(again->clients[2].owner.id, two.clients[2].owner.id);
    EXPECT_EQ(again->clients[2].owner.email, two.clients[2].owner.email);
  }

  api::DemoOptions bad;
  bad.clients = 26;
  auto refused = api::load_demo(*engine_, bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, d::ErrorKind::kValidation);
}

// With a history clock the demo's events are dated over the weeks before the load
// (portalctl demo): the provider set up first, the clients added over two weeks,
// the administration last; never in the future, never going back.
TEST_F(DemoTest, AHistoryClockSpreadsTheStoryOverWeeks) {
  constexpr std::int64_t kDay = 86'400'000'000LL;
  const std::int64_t end = 1'790'000'000'000'000LL;  // 2026-09-21, well before "now"
  api::DemoClock history(end, 21 * kDay);
  ASSERT_NO_FATAL_FAILURE(open(&history));
  api::DemoOptions options;
  options.history = &history;
  const api::DemoSummary s = load(options);
  ASSERT_EQ(s.clients.size(), 25u);

  std::vector<es::RecordedEvent> log;
  for (std::uint64_t from = 1; from <= s.last_position;) {
    auto page = engine_->store().read_all(from, 1000);
    ASSERT_TRUE(page.ok()) << page.status().to_string();
    ASSERT_FALSE(page->empty());
    from = page->back().position + 1;
    log.insert(log.end(), page->begin(), page->end());
  }
  std::vector<std::int64_t> client_links, consoles_opened;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const es::RecordedEvent& e = log[i];
    EXPECT_GE(e.recorded_at_us, end - 21 * kDay) << "position " << e.position << " before the history";
    EXPECT_LE(e.recorded_at_us, end) << "position " << e.position << " after the history's end";
    if (i > 0) {
      EXPECT_GE(e.recorded_at_us, log[i - 1].recorded_at_us) << "time goes back at " << e.position;
    }
    if (e.type_code == 1900) client_links.push_back(e.recorded_at_us);  // a client added
    if (e.type_code == 1903) consoles_opened.push_back(e.recorded_at_us);
  }
  ASSERT_EQ(client_links.size(), 25u);
  ASSERT_FALSE(consoles_opened.empty());
  EXPECT_LT(log.front().recorded_at_us, end - 20 * kDay) << "the provider is not set up at the start";
  EXPECT_GT(client_links.back() - client_links.front(), 13 * kDay) << "clients not added over two weeks";
  EXPECT_GT(consoles_opened.back(), client_links.back()) << "no administration after the last client";
  EXPECT_GT(log.back().recorded_at_us, end - 2 * kDay) << "the history does not reach the load";

  // Loaded again (a fresh clock, as a later `portalctl demo` makes): nothing new.
  api::DemoClock later(end + kDay, 21 * kDay);
  ASSERT_NO_FATAL_FAILURE(open(&later));
  options.history = &later;
  const api::DemoSummary again = load(options);
  EXPECT_EQ(again.recorded, 0u);
  EXPECT_EQ(engine_->store().last_position(), s.last_position);
}

}  // namespace
}  // namespace portal
