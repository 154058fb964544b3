// Rebuild equals incremental (issue 5, "Tests"): a random workload of more than
// 10,000 commands through the Engine (fixed seed) with the read models following
// it incrementally in the background, one rebuild of the audit log running while
// commands still arrive; then the digests of the serving generations of "audit"
// and "admin-history" must equal those after Runner::rebuild, and those of an
// independent catch-up in small batches into a fresh database.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "engine_fixture.h"
#include "portal/projections/runner.h"

namespace portal::projections {
namespace {

using namespace portal::projections::testing;

constexpr std::uint64_t kSeed = 20260101;
constexpr std::size_t kCommands = 10'500;

class Workload {
 public:
  Workload(Engine& engine, std::mt19937_64& rng, d::Actor staff)
      : engine_(engine), rng_(rng), staff_(staff) {}

  std::size_t succeeded = 0, refused = 0;
  std::map<std::string, std::size_t> refusals;  // kind: count
  std::string machinery_error;                  // a non-domain error: the test fails

  void step() {
    const int pick = static_cast<int>(below(100));
    if (users_.size() < 10 || pick < 6) return new_user();
    if (providers_.empty() || pick < 8) return new_provider();
    if (pick < 14) return add_provider_user();
    if (pick < 16) return remove_provider_user();
    if (orgs_.size() < 3 || pick < 22) return add_client();
    if (pick < 30) return provider_acts_on_client();
    if (pick < 42) return invite_member();
    if (pick < 50) return change_member();
    if (pick < 60) return group_op();
    if (pick < 70) return collection_op();
    if (pick < 74) return policy_op();
    if (pick < 97) return item_op();
    return remove_client();
  }

 private:
  struct Provider {
    d::ProviderId id;
    d::UserId owner;
    std::vector<d::UserId> users;  // confirmed, owner first
    std::map<d::UserId, d::ProviderUserId> pu;
  };
  struct Member {
    d::OrganizationUserId ou;
    d::UserId user;
  };
  struct Org {
    d::OrganizationId id;
    std::optional<std::size_t> provider;  // index into providers_
    d::ProviderOrganizationId link;
    d::UserId owner;
    std::vector<Member> members;
    std::vector<d::GroupId> groups;
    std::vector<d::CollectionId> collections;
    std::vector<d::ItemId> items;
  };

  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  template <class T>
  T& any(std::vector<T>& v) {
    return v[below(v.size())];
  }
  es::CommandId next_id() {
    es::CommandId id;
    for (auto& b : id.bytes) b = static_cast<std::uint8_t>(rng_());
    return id;
  }
  static d::Actor as(const d::UserId& u) { return d::Actor{u, false, 7, "198.51.100.4"}; }

  std::optional<CommandResult> run(const d::Command& c, const d::Actor& actor) {
    auto r = engine_.execute(c, actor, next_id());
    if (r.ok()) {
      ++succeeded;
      return std::move(r.value());
    }
    ++refused;
    ++refusals[std::string(d::command_name(c)) + " " + d::to_string(r.error().kind)];
    const auto k = r.error().kind;
    if (k == d::ErrorKind::kUnavailable || k == d::ErrorKind::kDataLoss || k == d::ErrorKind::kAborted) {
      if (machinery_error.empty())
        machinery_error = std::string(d::command_name(c)) + ": " + describe(r.error());
    }
    return std::nullopt;
  }

  std::string fresh_email() { return "u" + std::to_string(++emails_) + "@load.example"; }

  std::pair<d::UserId, std::string> new_user_now() {
    const d::UserId id = random_from_rng();
    const std::string email = fresh_email();
    if (run(d::RegisterUser{id, email, "U"}, as(id))) users_.push_back({id, email});
    return {id, email};
  }
  void new_user() { new_user_now(); }
  d::Uuid random_from_rng() {
    d::Uuid id;
    for (auto& b : id.bytes) b = static_cast<std::uint8_t>(rng_());
    id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0f) | 0x40);
    id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3f) | 0x80);
    return id;
  }

  void new_provider() {
    auto [owner, email] = new_user_now();
    auto invited = run(d::InviteProvider{d::ProviderType::kMsp, email, {}}, staff_);
    if (!invited) return;
    Provider p{invited->created_ids.at(0), owner, {owner}, {{owner, invited->created_ids.at(1)}}};
    if (!run(d::SetupProvider{p.id, invited->tokens.at(0), "MSP", "MSP Ltd", "billing@msp.example", kKey},
             as(owner)))
      return;
    providers_.push_back(std::move(p));
  }

  void add_provider_user() {
    Provider& p = any(providers_);
    auto [user, email] = new_user_now();
    const auto type = below(3) == 0 ? d::ProviderUserType::kProviderAdmin : d::ProviderUserType::kServiceUser;
    auto invited = run(d::InviteProviderUsers{p.id, {email}, type}, as(p.owner));
    if (!invited) return;
    const d::ProviderUserId pu = invited->created_ids.at(0);
    if (!run(d::AcceptProviderInvite{p.id, pu, invited->tokens.at(0)}, as(user))) return;
    if (!run(d::ConfirmProviderUsers{p.id, {{pu, kKey}}}, as(p.owner))) return;
    p.users.push_back(user);
    p.pu[user] = pu;
  }

  void remove_provider_user() {
    Provider& p = any(providers_);
    if (p.users.size() < 2) return;
    const std::size_t i = 1 + below(p.users.size() - 1);
    const d::UserId user = p.users[i];
    if (run(d::RemoveProviderUsers{p.id, {p.pu[user]}}, as(p.owner))) {
      p.users.erase(p.users.begin() + static_cast<std::ptrdiff_t>(i));
      p.pu.erase(user);
    }
  }

  void add_client() {
    const std::size_t pi = below(providers_.size());
    Provider& p = providers_[pi];
    auto [boss, email] = new_user_now();
    auto added =
        run(d::AddClientOrg{p.id, std::nullopt, "Client", email, d::PlanType::kTeamsMonthly, 40, "Default"},
            as(any(p.users)));
    if (!added) return;
    Org o;
    o.id = added->created_ids.at(0);
    o.provider = pi;
    o.link = added->created_ids.at(1);
    o.owner = boss;
    o.collections.push_back(added->created_ids.at(3));
    const d::OrganizationUserId ou = added->created_ids.at(2);
    if (run(d::AcceptMember{o.id, ou, added->tokens.at(0)}, as(boss)) &&
        run(d::ConfirmMember{o.id, ou, kKey}, as(any(p.users)))) {
      orgs_.push_back(std::move(o));
    }
  }

  // Who manages an organization: a provider user of its provider, or its owner.
  d::UserId manager(Org& o) {
    if (o.provider && below(2) == 0 && !providers_[*o.provider].users.empty())
      return any(providers_[*o.provider].users);
    return o.owner;
  }

  void provider_acts_on_client() {
    Org& o = any(orgs_);
    if (!o.provider) return;
    Provider& p = providers_[*o.provider];
    const d::UserId u = any(p.users);
    if (below(2) == 0) {
      run(d::OpenClientOrg{p.id, o.link}, as(u));
    } else {
      run(d::UpdateClientOrg{p.id, o.link, "Client " + std::to_string(below(1000)), 40}, as(u));
    }
  }

  void invite_member() {
    Org& o = any(orgs_);
    auto [user, email] = new_user_now();
    const d::OrganizationUserType types[] = {d::OrganizationUserType::kUser, d::OrganizationUserType::kAdmin,
                                             d::OrganizationUserType::kUser, d::OrganizationUserType::kOwner};
    const d::UserId by = manager(o);
    std::vector<d::CollectionAccess> access;
    if (!o.collections.empty()) access.push_back({any(o.collections), below(2) == 0, false, below(3) == 0});
    auto invited = run(d::InviteMembers{o.id, {email}, types[below(4)], {}, access, {}}, as(by));
    if (!invited || invited->created_ids.empty()) return;
    const d::OrganizationUserId ou = invited->created_ids.at(0);
    if (!run(d::AcceptMember{o.id, ou, invited->tokens.at(0)}, as(user))) return;
    if (run(d::ConfirmMember{o.id, ou, kKey}, as(manager(o)))) o.members.push_back({ou, user});
  }

  void change_member() {
    Org& o = any(orgs_);
    if (o.members.empty()) return;
    const std::size_t i = below(o.members.size());
    const Member m = o.members[i];
    const d::UserId by = manager(o);
    switch (below(5)) {
      case 0:
        run(
            d::UpdateMember{
                o.id, m.ou, below(2) ? d::OrganizationUserType::kAdmin : d::OrganizationUserType::kUser, {}},
            as(by));
        break;
      case 1: run(d::RevokeMember{o.id, m.ou}, as(by)); break;
      case 2: run(d::RestoreMember{o.id, m.ou}, as(by)); break;
      case 3:
        if (run(d::RemoveMember{o.id, m.ou}, as(by)))
          o.members.erase(o.members.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      default: run(d::UpdateMember{o.id, m.ou, d::OrganizationUserType::kOwner, {}}, as(o.owner)); break;
    }
  }

  std::vector<d::OrganizationUserId> some_members(Org& o) {
    std::vector<d::OrganizationUserId> out;
    for (const auto& m : o.members)
      if (below(3) == 0) out.push_back(m.ou);
    return out;
  }

  void group_op() {
    Org& o = any(orgs_);
    const d::UserId by = manager(o);
    if (o.groups.empty() || below(3) == 0) {
      if (auto r = run(d::CreateGroup{o.id, "Group " + std::to_string(below(100)), some_members(o)}, as(by)))
        o.groups.push_back(r->created_ids.at(0));
      return;
    }
    const std::size_t i = below(o.groups.size());
    switch (below(4)) {
      case 0: run(d::UpdateGroup{o.id, o.groups[i], "Renamed " + std::to_string(below(100))}, as(by)); break;
      case 1:
        if (run(d::DeleteGroup{o.id, o.groups[i]}, as(by)))
          o.groups.erase(o.groups.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      default: run(d::SetGroupMembers{o.id, o.groups[i], some_members(o)}, as(by)); break;
    }
  }

  std::vector<d::CollectionAccess> some_access(const std::vector<d::Uuid>& ids) {
    std::vector<d::CollectionAccess> out;
    for (const auto& id : ids)
      if (below(3) == 0) out.push_back({id, below(2) == 0, below(4) == 0, below(3) == 0});
    return out;
  }
  std::vector<d::Uuid> member_ids(Org& o) {
    std::vector<d::Uuid> out;
    for (const auto& m : o.members) out.push_back(m.ou);
    return out;
  }

  void collection_op() {
    Org& o = any(orgs_);
    const d::UserId by = manager(o);
    if (o.collections.size() < 2 || below(3) == 0) {
      if (auto r = run(d::CreateCollection{o.id, kEncName, some_access(o.groups), some_access(member_ids(o))},
                       as(by)))
        o.collections.push_back(r->created_ids.at(0));
      return;
    }
    const std::size_t i = below(o.collections.size());
    if (below(4) == 0) {
      if (run(d::DeleteCollection{o.id, o.collections[i]}, as(by)))
        o.collections.erase(o.collections.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      run(d::UpdateCollection{o.id, o.collections[i], kEncNewName, some_access(o.groups),
                              some_access(member_ids(o))},
          as(by));
    }
  }

  void policy_op() {
    Org& o = any(orgs_);
    const d::PolicyType types[] = {d::PolicyType::kTwoFactorAuthentication, d::PolicyType::kMasterPassword,
                                   d::PolicyType::kPasswordGenerator, d::PolicyType::kDisableSend,
                                   d::PolicyType::kActivateAutofill};
    run(d::SavePolicy{o.id, types[below(5)], below(2) == 0, ""}, as(manager(o)));
  }

  void item_op() {
    Org& o = any(orgs_);
    const d::ItemContent content{below(2) ? kEncName : kEncNewName, "", {{"login.password", kEncName}}};
    if (o.items.empty() || below(3) == 0) {
      if (o.collections.empty()) return;
      if (auto r =
              run(d::CreateItem{d::CipherType::kLogin, o.id, {any(o.collections)}, content}, as(o.owner)))
        o.items.push_back(r->created_ids.at(0));
      return;
    }
    const std::size_t i = below(o.items.size());
    const d::ItemId it = o.items[i];
    switch (below(8)) {
      case 0: run(d::SoftDeleteItem{it}, as(o.owner)); break;
      case 1: run(d::RestoreItem{it}, as(o.owner)); break;
      case 2:
        if (run(d::PurgeItem{it}, as(o.owner)))
          o.items.erase(o.items.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      case 3:
        if (!o.collections.empty()) run(d::UpdateItemCollections{it, {any(o.collections)}}, as(o.owner));
        break;
      default: run(d::UpdateItem{it, content}, as(o.owner)); break;
    }
  }

  void remove_client() {
    Org& o = any(orgs_);
    if (!o.provider) return;
    Provider& p = providers_[*o.provider];
    if (run(d::RemoveClientOrg{p.id, o.link}, as(p.owner))) o.provider.reset();
  }

  struct User {
    d::UserId id;
    std::string email;
  };

  Engine& engine_;
  std::mt19937_64& rng_;
  d::Actor staff_;
  std::vector<User> users_;
  std::vector<Provider> providers_;
  std::vector<Org> orgs_;
  std::uint64_t emails_ = 0;
};

class RebuildEqualsIncrementalTest : public EngineFixture {};

TEST_F(RebuildEqualsIncrementalTest, DigestsAfterRebuildEqualTheIncrementallyMaintainedOnes) {
  std::mt19937_64 rng(kSeed);
  Workload w(*engine_, rng, staff());
  Runner* runner = engine_->runner();
  ASSERT_NE(runner, nullptr);

  // Half-way, a rebuild of the audit log runs while commands keep coming.
  std::optional<es::Status> mid_rebuild;
  std::thread rebuilder;
  while (w.succeeded < kCommands && w.machinery_error.empty()) {
    w.step();
    if (!rebuilder.joinable() && w.succeeded >= kCommands / 2) {
      rebuilder = std::thread([&] { mid_rebuild = runner->rebuild({AuditLogProjection::kName}); });
    }
  }
  if (rebuilder.joinable()) rebuilder.join();
  ASSERT_TRUE(w.machinery_error.empty()) << w.machinery_error;
  std::string refusals;
  for (const auto& [what, n] : w.refusals) refusals += what + " x" + std::to_string(n) + "; ";
  std::fprintf(stderr, "workload: %zu commands recorded, %zu refused (%s), %llu events\n", w.succeeded,
               w.refused, refusals.c_str(),
               static_cast<unsigned long long>(engine_->store().last_position()));
  EXPECT_GE(w.succeeded, 10'000u);
  EXPECT_LT(w.refused, w.succeeded / 4) << "the workload is mostly refusals: " << refusals;
  ASSERT_TRUE(mid_rebuild.has_value());
  ASSERT_TRUE(mid_rebuild->ok()) << mid_rebuild->to_string();

  wait_for_read_models();
  const std::uint64_t last = engine_->store().last_position();
  std::map<std::string, std::string> incremental;
  std::map<std::string, std::uint64_t> generation;
  for (const char* name : {AuditLogProjection::kName, AdminHistoryProjection::kName}) {
    const auto gen = pdb().serving(name);
    ASSERT_TRUE(gen.has_value()) << name;
    EXPECT_EQ(pdb().checkpoint(name, gen->number), last) << name;
    EXPECT_GT(pdb().row_count(name, gen->number), 0u) << name;
    incremental[name] = pdb().digest(name, gen->number);
    generation[name] = gen->number;
  }

  ASSERT_TRUE(runner->rebuild({AuditLogProjection::kName, AdminHistoryProjection::kName}).ok());
  ASSERT_EQ(engine_->store().last_position(), last);
  for (const char* name : {AuditLogProjection::kName, AdminHistoryProjection::kName}) {
    const auto gen = pdb().serving(name);
    ASSERT_TRUE(gen.has_value()) << name;
    EXPECT_GT(gen->number, generation[name]) << name;
    EXPECT_EQ(pdb().digest(name, gen->number), incremental[name])
        << name << ": rebuild differs from incremental";
    EXPECT_EQ(pdb().row_count(name, generation[name]), 0u) << name;
  }

  // An independent catch-up in small batches into a fresh database agrees too.
  auto fresh = open_db(dir_.sub("fresh-projections"));
  std::vector<std::unique_ptr<Projection>> models;
  models.push_back(std::make_unique<AuditLogProjection>());
  models.push_back(std::make_unique<AdminHistoryProjection>());
  RunnerOptions small;
  small.batch_events = 7;
  auto other = Runner::create(engine_->store(), *fresh, std::move(models), small);
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  ASSERT_TRUE((*other)->catch_up().ok());
  for (const char* name : {AuditLogProjection::kName, AdminHistoryProjection::kName}) {
    const auto gen = fresh->serving(name);
    ASSERT_TRUE(gen.has_value());
    EXPECT_EQ(fresh->digest(name, gen->number), incremental[name]) << name << ": batches of 7 differ";
  }
}

}  // namespace
}  // namespace portal::projections
