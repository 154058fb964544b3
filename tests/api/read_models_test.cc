// The portal's read models through the real Engine: the provider directory, the
// organization console and the vault view follow the commands, after
// wait_for_projection(min_position) (read-your-writes), and agree with the domain's
// own states and rights.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "portal/api/engine.h"
#include "portal/projections/portal_views.h"
#include "temp_dir.h"

namespace portal {
namespace {

namespace d = domain;
namespace es = eventstore;
namespace pj = projections;
namespace fs = std::filesystem;

constexpr d::Timestamp kStart = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr const char* kKey = "2.AAAA|BBBB|CCCC";
constexpr const char* kName = "2.bmFtZQ==|Y3Q=|bWFj";

d::Uuid random_uuid() {
  d::Uuid id;
  id.bytes = es::Id16::random().bytes;
  return id;
}

d::Actor as(const d::UserId& id) { return d::Actor{id, false, 0, "192.0.2.7"}; }

class ReadModels : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty()) << "could not create a temporary directory";
    EngineOptions o;
    o.durability = es::Durability::kBuffered;
    o.clock = [this] { return now_.fetch_add(1'000'000); };
    auto opened = Engine::open(dir_, o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    engine_ = std::move(opened.value());
  }
  void TearDown() override {
    engine_.reset();  // before temp_dir_ removes its directory
  }

  // Runs a command that must succeed and waits until every read model has it.
  CommandResult run(const d::Command& c, const d::Actor& a) {
    auto r = engine_->execute(c, a);
    EXPECT_TRUE(r.ok()) << d::command_name(c) << ": " << (r.ok() ? "" : r.error().message);
    if (!r.ok()) throw std::runtime_error("command failed");
    for (const char* name : {"directory", "console", "audit", "admin-history"}) {
      auto w = engine_->wait_for_projection(name, r->last_position, std::chrono::seconds(10));
      EXPECT_TRUE(w.ok()) << name << ": " << (w.ok() ? "" : w.error().message);
    }
    return r.value();
  }
  d::UserId user(const std::string& email) {
    const d::UserId id = random_uuid();
    run(d::RegisterUser{id, email, "User"}, as(id));
    return id;
  }
  const pj::ProjectionDb& db() { return engine_->projection_db(); }

  test::TempDir temp_dir_{"read-models-test"};
  const std::string& dir_ = temp_dir_.path();
  std::atomic<d::Timestamp> now_{kStart};
  std::unique_ptr<Engine> engine_;
};

TEST_F(ReadModels, TheDirectoryListsAProvidersUsersAndClientsWithTheirSeats) {
  const d::UserId owner = user("owner@msp.test");
  auto invited = run(d::InviteProvider{d::ProviderType::kMsp, "owner@msp.test", {}}, d::Actor{random_uuid(), true, 0, ""});
  const d::ProviderId p = invited.created_ids.at(0);
  run(d::SetupProvider{p, invited.tokens.at(0), "Contoso IT", "Contoso Ltd", "billing@msp.test", kKey}, as(owner));
  const d::UserId tech = user("tech@msp.test");
  auto su = run(d::InviteProviderUsers{p, {"tech@msp.test"}, d::ProviderUserType::kServiceUser}, as(owner));
  run(d::AcceptProviderInvite{p, su.created_ids.at(0), su.tokens.at(0)}, as(tech));
  auto added = run(d::AddClientOrg{p, std::nullopt, "Initech", "boss@initech.test", d::PlanType::kTeamsMonthly, 10,
                                   "Default"},
                   as(owner));
  const d::OrganizationId org = added.created_ids.at(0);

  auto row = pj::provider_row(db(), p);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->name, "Contoso IT");
  EXPECT_EQ(row->business_name, "Contoso Ltd");
  EXPECT_EQ(row->status, static_cast<std::int8_t>(d::ProviderStatus::kBillable));

  auto users = pj::provider_users(db(), p);
  ASSERT_EQ(users.size(), 2u);
  auto tech_row = std::find_if(users.begin(), users.end(), [](const auto& u) { return u.email == "tech@msp.test"; });
  ASSERT_NE(tech_row, users.end());
  EXPECT_EQ(tech_row->status, static_cast<std::int8_t>(d::ProviderUserStatus::kAccepted));
  EXPECT_EQ(pj::to_uuid(*tech_row->user_id), tech);

  auto clients = pj::provider_clients(db(), p);
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].client.name, "Initech");
  EXPECT_EQ(clients[0].client.seats, 10);
  ASSERT_TRUE(clients[0].organization.has_value());
  EXPECT_EQ(clients[0].organization->occupied_seats, 1);  // the invited owner holds a seat
  EXPECT_EQ(clients[0].organization->status, static_cast<std::int8_t>(d::OrganizationStatus::kManaged));

  // Renamed and resized: both models follow.
  run(d::UpdateClientOrg{p, added.created_ids.at(1), "Initech EU", 12}, as(owner));
  clients = pj::provider_clients(db(), p);
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].client.name, "Initech EU");
  EXPECT_EQ(clients[0].client.seats, 12);
  EXPECT_EQ(clients[0].organization->name, "Initech EU");

  // Unlinking needs a confirmed owner of its own; then the client leaves the list.
  const d::UserId boss = user("boss@initech.test");
  run(d::AcceptMember{org, added.created_ids.at(2), added.tokens.at(0)}, as(boss));
  run(d::ConfirmMember{org, added.created_ids.at(2), kKey}, as(owner));
  run(d::RemoveClientOrg{p, added.created_ids.at(1)}, as(owner));
  EXPECT_TRUE(pj::provider_clients(db(), p).empty());
  EXPECT_EQ(pj::organization_row(db(), org)->status, static_cast<std::int8_t>(d::OrganizationStatus::kCreated));
}

TEST_F(ReadModels, TheConsoleMatchesTheOrganizationsStateAndTheVaultViewItsRights) {
  const d::UserId owner = user("owner@acme.test");
  const d::OrganizationId org =
      run(d::CreateOrganization{"Acme", d::PlanType::kTeamsAnnually, 10, "billing@acme.test"}, as(owner))
          .created_ids.at(0);
  const d::CollectionId shared = run(d::CreateCollection{org, "Shared", {}, {}}, as(owner)).created_ids.at(0);
  const d::CollectionId secret = run(d::CreateCollection{org, "Secret", {}, {}}, as(owner)).created_ids.at(0);
  // A reader of Shared (passwords hidden) and a member who sees nothing.
  std::vector<d::UserId> people;
  std::vector<d::OrganizationUserId> ids;
  for (const char* email : {"reader@acme.test", "nobody@acme.test"}) {
    auto inv = run(d::InviteMembers{org,
                                    {email},
                                    d::OrganizationUserType::kUser,
                                    {},
                                    std::string(email) == "reader@acme.test"
                                        ? std::vector<d::CollectionAccess>{{shared, true, true, false}}
                                        : std::vector<d::CollectionAccess>{},
                                    {}},
                   as(owner));
    people.push_back(user(email));
    run(d::AcceptMember{org, inv.created_ids.at(0), inv.tokens.at(0)}, as(people.back()));
    run(d::ConfirmMember{org, inv.created_ids.at(0), kKey}, as(owner));
    ids.push_back(inv.created_ids.at(0));
  }
  run(d::CreateGroup{org, "Readers", {ids[0]}}, as(owner));
  run(d::SavePolicy{org, d::PolicyType::kPasswordGenerator, true, R"({"minLength":14})"}, as(owner));
  const d::ItemId in_shared =
      run(d::CreateItem{d::CipherType::kLogin, org, {shared}, {kName, "", {}}}, as(owner)).created_ids.at(0);
  const d::ItemId in_secret =
      run(d::CreateItem{d::CipherType::kLogin, org, {secret}, {kName, "", {}}}, as(owner)).created_ids.at(0);
  const d::ItemId personal = run(d::CreateItem{d::CipherType::kSecureNote, std::nullopt, {}, {kName, "", {}}}, as(people[1]))
                                 .created_ids.at(0);

  // The console: what the domain's state holds.
  auto state = engine_->organization(org);
  ASSERT_TRUE(state.ok() && state.value().has_value());
  auto members = pj::organization_members(db(), org);
  EXPECT_EQ(members.size(), state.value()->members.size());
  auto orow = pj::organization_row(db(), org);
  ASSERT_TRUE(orow.has_value());
  EXPECT_EQ(orow->occupied_seats, state.value()->occupied_seats());
  EXPECT_EQ(orow->user_count, 3);
  EXPECT_EQ(pj::organization_collections(db(), org).size(), 2u);
  auto groups = pj::organization_groups(db(), org);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].members.size(), 1u);
  auto policies = pj::organization_policies(db(), org);
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0].data, R"({"minLength":14})");

  // The vault view grants what item_rights grants.
  auto ids_of = [](const std::vector<pj::VaultItem>& v) {
    std::vector<d::ItemId> out;
    for (const auto& i : v) out.push_back(pj::to_uuid(*i.item.id));
    std::sort(out.begin(), out.end());
    return out;
  };
  auto sorted = [](std::vector<d::ItemId> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(ids_of(pj::vault_for_user(db(), owner)), sorted({in_shared, in_secret}));
  auto reader = pj::vault_for_user(db(), people[0]);
  ASSERT_EQ(ids_of(reader), (std::vector<d::ItemId>{in_shared}));
  EXPECT_FALSE(reader[0].edit);
  EXPECT_TRUE(reader[0].hide_passwords);
  auto rights = engine_->read_item(in_shared, as(people[0]));
  ASSERT_TRUE(rights.ok());
  EXPECT_EQ(rights->rights.edit, reader[0].edit);
  EXPECT_EQ(rights->rights.hide_passwords, reader[0].hide_passwords);
  EXPECT_EQ(ids_of(pj::vault_for_user(db(), people[1])), (std::vector<d::ItemId>{personal}));

  // Through a group that can edit: the reader now edits, passwords still hidden only
  // if every grant hides them.
  auto readers = groups[0];
  run(d::UpdateCollection{org, shared, "Shared", {{pj::to_uuid(*readers.id), false, false, false}}, {{ids[0], true, true, false}}},
      as(owner));
  reader = pj::vault_for_user(db(), people[0]);
  ASSERT_EQ(reader.size(), 1u);
  EXPECT_TRUE(reader[0].edit);
  EXPECT_FALSE(reader[0].hide_passwords);

  // Removed: nothing left to see; the item's trash and purge show in the view.
  run(d::RemoveMember{org, ids[0]}, as(owner));
  EXPECT_TRUE(pj::vault_for_user(db(), people[0]).empty());
  run(d::SoftDeleteItem{in_secret}, as(owner));
  auto owner_view = pj::vault_for_user(db(), owner);
  auto trashed = std::find_if(owner_view.begin(), owner_view.end(),
                              [&](const auto& v) { return pj::to_uuid(*v.item.id) == in_secret; });
  ASSERT_NE(trashed, owner_view.end());
  EXPECT_NE(trashed->item.deleted_at, 0);
  run(d::PurgeItem{in_secret}, as(owner));
  EXPECT_EQ(ids_of(pj::vault_for_user(db(), owner)), (std::vector<d::ItemId>{in_shared}));
}

}  // namespace
}  // namespace portal
