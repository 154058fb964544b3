// Scenario tests for the organization-group commands: CreateGroup, UpdateGroup,
// DeleteGroup, SetGroupMembers. As in member_rules_test.cc, each scenario runs real
// commands against the in-memory world and checks, on success, the exact events
// (stream, type name, Bitwarden code), their fields, the folded state and the
// recorded actor, and on refusal the Error kind, field and exact message.
//
// Events (all on the organization's stream):
//   GroupCreated (1400), GroupUpdated (1401), GroupDeleted (1402),
//   GroupMembersSet (no code) with the full member list, then one
//   OrganizationUserUpdatedGroups (1504) per member whose groups changed: the added
//   ones in the order given, then the removed ones in the group's previous order.
//
// Every suite name starts with "Group" (run them with --gtest_filter='Group*').
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain_test_support.h"

namespace portal::domain::test {
namespace {

// The literal texts the spec fixes (Bitwarden's wording).
constexpr const char* kNameRequiredText = "The name field is required.";
constexpr const char* kNameTooLongText = "The field name must be a string with a maximum length of 100.";
constexpr const char* kNotAMemberText = "User is not a member of this organization.";

constexpr std::uint32_t kCreated = 1400;
constexpr std::uint32_t kUpdated = 1401;
constexpr std::uint32_t kDeleted = 1402;
constexpr std::uint32_t kUserUpdatedGroups = 1504;

// --- helpers -------------------------------------------------------------------------------------

const Group& group_of(World& w, const OrganizationId& org, const GroupId& id) {
  const Group* g = w.organization(org)->group(id);
  if (g == nullptr) throw std::runtime_error("no group " + id.to_string());
  return *g;
}

std::size_t group_count(World& w, const OrganizationId& org) {
  return w.organization(org)->groups.size();
}

CreateGroup create_cmd(const OrganizationId& org, std::string name,
                       std::vector<OrganizationUserId> members = {}) {
  CreateGroup c;
  c.organization_id = org;
  c.name = std::move(name);
  c.members = std::move(members);
  return c;
}

UpdateGroup update_cmd(const OrganizationId& org, const GroupId& group, std::string name) {
  UpdateGroup c;
  c.organization_id = org;
  c.group_id = group;
  c.name = std::move(name);
  return c;
}

DeleteGroup delete_cmd(const OrganizationId& org, const GroupId& group) {
  DeleteGroup c;
  c.organization_id = org;
  c.group_id = group;
  return c;
}

SetGroupMembers set_cmd(const OrganizationId& org, const GroupId& group,
                        std::vector<OrganizationUserId> members) {
  SetGroupMembers c;
  c.organization_id = org;
  c.group_id = group;
  c.members = std::move(members);
  return c;
}

GroupId create_group(World& w, const Actor& by, const OrganizationId& org, const std::string& name,
                     std::vector<OrganizationUserId> members = {}) {
  Decision d = run_ok(w, create_cmd(org, name, std::move(members)), by);
  if (d.created_ids.size() != 1)
    throw std::runtime_error("CreateGroup created " + std::to_string(d.created_ids.size()));
  return d.created_ids[0];
}

OrganizationUserId invite(World& w, const Actor& by, const OrganizationId& org, const std::string& email,
                          std::string* token = nullptr) {
  MemberInvitation inv = invite_member(w, by, org, email);
  if (token != nullptr) *token = inv.token;
  return inv.id;
}

// Contoso (the cast's adopted client, managed by the cast's provider) with a
// confirmed member of every kind and members in every status. Seats raised to 20.
struct Team {
  OrganizationId org;
  OrganizationUserId client_owner;  // the cast's client_owner: a confirmed Owner
  Member second_owner;              // confirmed Owner
  Member admin;                     // confirmed Admin
  Member group_manager;             // confirmed Custom with manage_groups only
  Member user_manager;              // confirmed Custom with every permission but manage_groups
  Member user;                      // confirmed User
  Member user2;                     // confirmed User
  OrganizationUserId invited;       // only invited
  OrganizationUserId accepted;      // accepted, not confirmed
  OrganizationUserId revoked;       // confirmed, then revoked
};

constexpr Permissions kEverythingButManageGroups{.manage_users = true,
                                                 .manage_groups = false,
                                                 .manage_policies = true,
                                                 .create_new_collections = true,
                                                 .edit_any_collection = true,
                                                 .delete_any_collection = true,
                                                 .access_event_logs = true};

Team build_team(World& w, const Cast& c) {
  run_ok(w, UpdateClientOrg{c.provider, c.adopted_client, "Contoso", 20}, c.owner);
  Team t;
  t.org = c.adopted_org;
  t.client_owner = w.organization(t.org)->member_by_user_id(c.client_owner.user_id)->id;
  t.second_owner = add_member(w, c.client_owner, t.org, "owner2@contoso.test", OrganizationUserType::kOwner);
  t.admin = add_member(w, c.client_owner, t.org, "admin@contoso.test", OrganizationUserType::kAdmin);
  t.group_manager = add_member(w, c.client_owner, t.org, "groups@contoso.test", OrganizationUserType::kCustom,
                               Permissions{.manage_groups = true});
  t.user_manager = add_member(w, c.client_owner, t.org, "users@contoso.test", OrganizationUserType::kCustom,
                              kEverythingButManageGroups);
  t.user = add_member(w, c.client_owner, t.org, "user@contoso.test", OrganizationUserType::kUser);
  t.user2 = add_member(w, c.client_owner, t.org, "user2@contoso.test", OrganizationUserType::kUser);
  t.invited = invite(w, c.client_owner, t.org, "invited@contoso.test");
  std::string token;
  t.accepted = invite(w, c.client_owner, t.org, "accepted@contoso.test", &token);
  Actor accepter = register_user(w, "accepted@contoso.test");
  run_ok(w, AcceptMember{t.org, t.accepted, token}, accepter);
  t.revoked = add_member(w, c.client_owner, t.org, "revoked@contoso.test", OrganizationUserType::kUser).id;
  run_ok(w, RevokeMember{t.org, t.revoked}, c.client_owner);
  return t;
}

using Ids = std::vector<OrganizationUserId>;

// The 1504 events expected after the GroupMembersSet event, one per member id.
std::vector<ExpectedEvent> members_set_events(const std::string& stream, std::size_t changed) {
  std::vector<ExpectedEvent> e = {{stream, "GroupMembersSet", 0}};
  for (std::size_t i = 0; i < changed; ++i)
    e.push_back({stream, "OrganizationUserUpdatedGroups", kUserUpdatedGroups});
  return e;
}

// Checks events[from..]: GroupMembersSet(group, members) then one 1504 per `changed`, in order.
::testing::AssertionResult members_set_payloads(const Decision& d, std::size_t from, const GroupId& group,
                                                const Ids& members, const Ids& changed) {
  if (d.events.size() != from + 1 + changed.size())
    return ::testing::AssertionFailure() << "got " << describe(d);
  const auto* set = d.events[from].payload.AsGroupMembersSet();
  if (set == nullptr) return ::testing::AssertionFailure() << "event " << from << " is no GroupMembersSet";
  if (set->group_id != group) return ::testing::AssertionFailure() << "GroupMembersSet of another group";
  const Ids got(set->members.begin(), set->members.end());
  if (got != members) {
    auto f = ::testing::AssertionFailure() << "GroupMembersSet members:";
    for (const auto& id : got) f << " " << id.to_string();
    f << "\n expected:";
    for (const auto& id : members) f << " " << id.to_string();
    return f;
  }
  for (std::size_t i = 0; i < changed.size(); ++i) {
    const auto* u = d.events[from + 1 + i].payload.AsOrganizationUserUpdatedGroups();
    if (u == nullptr) return ::testing::AssertionFailure() << "event " << from + 1 + i << " is no 1504";
    if (u->organization_user_id != changed[i] || u->group_id != group) {
      return ::testing::AssertionFailure()
             << "1504 #" << i << " for " << u->organization_user_id.to_string() << " in group "
             << u->group_id.to_string() << "; expected " << changed[i].to_string();
    }
  }
  return ::testing::AssertionSuccess();
}

// --- CreateGroup ---------------------------------------------------------------------------------

TEST(GroupCreate, AnOwnerCreatesAnEmptyGroup) {
  World w;
  Cast c = build_cast(w);
  const std::string stream = organization_stream(c.adopted_org);
  auto r = run(w, create_cmd(c.adopted_org, "Engineering"), c.client_owner);
  EXPECT_TRUE(has_events(r, {{stream, "GroupCreated", kCreated}}));
  EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->created_ids.size(), 1u);
  const GroupId id = r->created_ids[0];
  EXPECT_FALSE(id.is_nil());
  const auto& e = *r->events[0].payload.AsGroupCreated();
  EXPECT_EQ(e.group_id, id);
  EXPECT_EQ(e.name, "Engineering");
  ASSERT_EQ(group_count(w, c.adopted_org), 1u);
  const Group& g = group_of(w, c.adopted_org, id);
  EXPECT_EQ(g.id, id);
  EXPECT_EQ(g.name, "Engineering");
  EXPECT_TRUE(g.members.empty());
  // A second group gets its own id.
  const GroupId second = create_group(w, c.client_owner, c.adopted_org, "Sales");
  EXPECT_NE(second, id);
  EXPECT_EQ(group_count(w, c.adopted_org), 2u);
  EXPECT_EQ(group_of(w, c.adopted_org, id).name, "Engineering");
  EXPECT_EQ(group_of(w, c.adopted_org, second).name, "Sales");
}

TEST(GroupCreate, WithMembersRecordsTheMembersSetAndOneEventPerMember) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  const Ids members = {t.user.id, t.admin.id, t.client_owner};
  auto r = run(w, create_cmd(t.org, "Engineering", members), t.admin.actor);
  std::vector<ExpectedEvent> expected = {{stream, "GroupCreated", kCreated}};
  for (const auto& e : members_set_events(stream, 3)) expected.push_back(e);
  EXPECT_TRUE(has_events(r, expected));
  EXPECT_TRUE(recorded_as(r, t.admin.actor, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->created_ids.size(), 1u) << "only the group is created";
  const GroupId id = r->created_ids[0];
  EXPECT_EQ(r->events[0].payload.AsGroupCreated()->group_id, id);
  EXPECT_EQ(r->events[0].payload.AsGroupCreated()->name, "Engineering");
  EXPECT_TRUE(members_set_payloads(r.value(), 1, id, members, members));
  EXPECT_EQ(group_of(w, t.org, id).members, members);
}

TEST(GroupCreate, DuplicateMembersAreCollapsed) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  auto r = run(w, create_cmd(t.org, "Engineering", {t.user.id, t.user2.id, t.user.id, t.user2.id}),
               c.client_owner);
  std::vector<ExpectedEvent> expected = {{stream, "GroupCreated", kCreated}};
  for (const auto& e : members_set_events(stream, 2)) expected.push_back(e);
  EXPECT_TRUE(has_events(r, expected));
  ASSERT_TRUE(r.ok());
  const GroupId id = r->created_ids.at(0);
  EXPECT_TRUE(members_set_payloads(r.value(), 1, id, {t.user.id, t.user2.id}, {t.user.id, t.user2.id}));
  EXPECT_EQ(group_of(w, t.org, id).members, (Ids{t.user.id, t.user2.id}));
}

// Members in any status but removed may be put in a group.
TEST(GroupCreate, InvitedAcceptedAndRevokedMembersMayBeMembers) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const Ids members = {t.invited, t.accepted, t.revoked};
  auto r = run(w, create_cmd(t.org, "Everyone else", members), c.client_owner);
  ASSERT_TRUE(is_ok(r));
  const GroupId id = r->created_ids.at(0);
  EXPECT_TRUE(members_set_payloads(r.value(), 1, id, members, members));
  EXPECT_EQ(group_of(w, t.org, id).members, members);
}

TEST(GroupCreate, ANameIsRequired) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, create_cmd(c.adopted_org, ""), c.client_owner);
  ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kNameRequiredText));
  EXPECT_EQ(r.error().field, "name");
  EXPECT_EQ(group_count(w, c.adopted_org), 0u);
}

TEST(GroupCreate, NamesHaveAtMost100Characters) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, create_cmd(c.adopted_org, std::string(101, 'g')), c.client_owner);
  ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kNameTooLongText));
  EXPECT_EQ(r.error().field, "name");
  EXPECT_EQ(group_count(w, c.adopted_org), 0u);
  const GroupId id = create_group(w, c.client_owner, c.adopted_org, std::string(100, 'g'));
  EXPECT_EQ(group_of(w, c.adopted_org, id).name, std::string(100, 'g'));
}

// Group names are plain text, stored as given (not EncStrings).
TEST(GroupCreate, NamesArePlainText) {
  World w;
  Cast c = build_cast(w);
  for (const std::string name : {"Sales & Marketing", "R&D (Berlin) — 2024", "2.notanencstring"}) {
    SCOPED_TRACE(name);
    auto r = run(w, create_cmd(c.adopted_org, name), c.client_owner);
    ASSERT_TRUE(has_events(r, {{organization_stream(c.adopted_org), "GroupCreated", kCreated}}));
    EXPECT_EQ(r->events[0].payload.AsGroupCreated()->name, name);
    EXPECT_EQ(group_of(w, c.adopted_org, r->created_ids.at(0)).name, name);
  }
}

TEST(GroupCreate, MembersMustBeMembersOfTheOrganization) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  // A removed member, a member of another organization, an id nobody has.
  Member gone = add_member(w, c.client_owner, t.org, "gone@contoso.test", OrganizationUserType::kUser);
  run_ok(w, RemoveMember{t.org, gone.id}, c.client_owner);
  const OrganizationUserId globex_owner =
      w.organization(c.new_client_org)->member_by_email("owner@globex.test")->id;
  for (const OrganizationUserId& stranger : {gone.id, globex_owner, w.new_id()}) {
    SCOPED_TRACE(stranger.to_string());
    auto r = run(w, create_cmd(t.org, "Engineering", {t.user.id, stranger}), c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kNotAMemberText));
    EXPECT_EQ(r.error().field, "members");
  }
  EXPECT_EQ(group_count(w, t.org), 0u) << "nothing is created on a refusal";
}

// --- UpdateGroup ---------------------------------------------------------------------------------

TEST(GroupUpdate, RenamesAndKeepsTheMembers) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId id = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id, t.user2.id});
  auto r = run(w, update_cmd(t.org, id, "Platform Engineering"), t.admin.actor);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "GroupUpdated", kUpdated}}));
  EXPECT_TRUE(recorded_as(r, t.admin.actor, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  const auto& e = *r->events[0].payload.AsGroupUpdated();
  EXPECT_EQ(e.group_id, id);
  EXPECT_EQ(e.name, "Platform Engineering");
  const Group& g = group_of(w, t.org, id);
  EXPECT_EQ(g.name, "Platform Engineering");
  EXPECT_EQ(g.members, (Ids{t.user.id, t.user2.id}));
  EXPECT_TRUE(r->created_ids.empty());
}

TEST(GroupUpdate, TheNameRulesApply) {
  World w;
  Cast c = build_cast(w);
  const GroupId id = create_group(w, c.client_owner, c.adopted_org, "Engineering");
  auto empty = run(w, update_cmd(c.adopted_org, id, ""), c.client_owner);
  ASSERT_TRUE(is_refused(empty, ErrorKind::kValidation, kNameRequiredText));
  EXPECT_EQ(empty.error().field, "name");
  auto too_long = run(w, update_cmd(c.adopted_org, id, std::string(101, 'x')), c.client_owner);
  ASSERT_TRUE(is_refused(too_long, ErrorKind::kValidation, kNameTooLongText));
  EXPECT_EQ(too_long.error().field, "name");
  EXPECT_EQ(group_of(w, c.adopted_org, id).name, "Engineering");
  EXPECT_TRUE(is_ok(run(w, update_cmd(c.adopted_org, id, std::string(100, 'x')), c.client_owner)));
  EXPECT_EQ(group_of(w, c.adopted_org, id).name, std::string(100, 'x'));
}

// Unknown groups, and groups of another organization, are not found.
TEST(GroupUpdate, AnUnknownGroupIsNotFound) {
  World w;
  Cast c = build_cast(w);
  const GroupId globex_group = create_group(w, c.owner, c.new_client_org, "Globex group");
  for (const GroupId& id : {w.new_id(), globex_group}) {
    EXPECT_TRUE(is_refused(run(w, update_cmd(c.adopted_org, id, "X"), c.client_owner), ErrorKind::kNotFound));
  }
  EXPECT_EQ(group_of(w, c.new_client_org, globex_group).name, "Globex group");
}

// --- DeleteGroup ---------------------------------------------------------------------------------

TEST(GroupDelete, DeletesTheGroup) {
  World w;
  Cast c = build_cast(w);
  const GroupId keep = create_group(w, c.client_owner, c.adopted_org, "Keep");
  const GroupId id = create_group(w, c.client_owner, c.adopted_org, "Engineering");
  auto r = run(w, delete_cmd(c.adopted_org, id), c.client_owner);
  EXPECT_TRUE(has_events(r, {{organization_stream(c.adopted_org), "GroupDeleted", kDeleted}}));
  EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0].payload.AsGroupDeleted()->group_id, id);
  EXPECT_EQ(w.organization(c.adopted_org)->group(id), nullptr);
  ASSERT_EQ(group_count(w, c.adopted_org), 1u);
  EXPECT_EQ(group_of(w, c.adopted_org, keep).name, "Keep");
  // Gone: not found for every group command.
  EXPECT_TRUE(is_refused(run(w, delete_cmd(c.adopted_org, id), c.client_owner), ErrorKind::kNotFound));
  EXPECT_TRUE(
      is_refused(run(w, update_cmd(c.adopted_org, id, "Again"), c.client_owner), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, set_cmd(c.adopted_org, id, {}), c.client_owner), ErrorKind::kNotFound));
}

// DeleteGroup records only GroupDeleted, even with members; the members stay members.
TEST(GroupDelete, AGroupWithMembersGoesAndItsMembersStay) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId id = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id, t.admin.id});
  auto r = run(w, delete_cmd(t.org, id), t.group_manager.actor);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "GroupDeleted", kDeleted}}))
      << "no 1504 for the members of a deleted group";
  EXPECT_TRUE(recorded_as(r, t.group_manager.actor, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0].payload.AsGroupDeleted()->group_id, id);
  EXPECT_EQ(w.organization(t.org)->group(id), nullptr);
  EXPECT_NE(w.organization(t.org)->member(t.user.id), nullptr);
  EXPECT_NE(w.organization(t.org)->member(t.admin.id), nullptr);
}

TEST(GroupDelete, AnUnknownGroupIsNotFound) {
  World w;
  Cast c = build_cast(w);
  const GroupId globex_group = create_group(w, c.owner, c.new_client_org, "Globex group");
  for (const GroupId& id : {w.new_id(), globex_group}) {
    EXPECT_TRUE(is_refused(run(w, delete_cmd(c.adopted_org, id), c.client_owner), ErrorKind::kNotFound));
  }
  EXPECT_NE(w.organization(c.new_client_org)->group(globex_group), nullptr);
}

// --- SetGroupMembers -----------------------------------------------------------------------------

// GroupMembersSet with the full list, then 1504 for the added (in the order given),
// then for the removed (in the group's previous order).
TEST(GroupSetMembers, RecordsTheListThenTheAddedThenTheRemoved) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  const GroupId id =
      create_group(w, c.client_owner, t.org, "Engineering", {t.user.id, t.admin.id, t.user2.id, t.invited});
  // Keeps admin and invited; adds revoked and second_owner; removes user and user2.
  const Ids next = {t.revoked, t.invited, t.admin.id, t.second_owner.id};
  auto r = run(w, set_cmd(t.org, id, next), t.group_manager.actor);
  EXPECT_TRUE(has_events(r, members_set_events(stream, 4)));
  EXPECT_TRUE(recorded_as(r, t.group_manager.actor, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(
      members_set_payloads(r.value(), 0, id, next, {t.revoked, t.second_owner.id, t.user.id, t.user2.id}));
  const Group& g = group_of(w, t.org, id);
  EXPECT_EQ(g.members, next);
  EXPECT_EQ(g.name, "Engineering");
  EXPECT_TRUE(r->created_ids.empty());
}

TEST(GroupSetMembers, FromNoneAndBackToNone) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  const GroupId id = create_group(w, c.client_owner, t.org, "Engineering");
  const Ids members = {t.user2.id, t.user.id, t.accepted};
  auto add = run(w, set_cmd(t.org, id, members), c.client_owner);
  EXPECT_TRUE(has_events(add, members_set_events(stream, 3)));
  ASSERT_TRUE(add.ok());
  EXPECT_TRUE(members_set_payloads(add.value(), 0, id, members, members));
  EXPECT_EQ(group_of(w, t.org, id).members, members);

  auto clear = run(w, set_cmd(t.org, id, {}), c.client_owner);
  EXPECT_TRUE(has_events(clear, members_set_events(stream, 3)));
  ASSERT_TRUE(clear.ok());
  EXPECT_TRUE(members_set_payloads(clear.value(), 0, id, {}, members)) << "removed in the previous order";
  EXPECT_TRUE(group_of(w, t.org, id).members.empty());
}

TEST(GroupSetMembers, DuplicatesAreCollapsed) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  const GroupId id = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id});
  auto r = run(w, set_cmd(t.org, id, {t.user.id, t.admin.id, t.admin.id, t.user.id}), c.client_owner);
  EXPECT_TRUE(has_events(r, members_set_events(stream, 1)));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(members_set_payloads(r.value(), 0, id, {t.user.id, t.admin.id}, {t.admin.id}));
  EXPECT_EQ(group_of(w, t.org, id).members, (Ids{t.user.id, t.admin.id}));
}

TEST(GroupSetMembers, TheSameMembersRecordNothing) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const Ids members = {t.user.id, t.admin.id};
  const GroupId id = create_group(w, c.client_owner, t.org, "Engineering", members);
  const GroupId empty = create_group(w, c.client_owner, t.org, "Empty");
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(has_events(run(w, set_cmd(t.org, id, members), c.client_owner), {}));
  EXPECT_TRUE(has_events(run(w, set_cmd(t.org, id, {t.user.id, t.admin.id, t.user.id}), c.client_owner), {}))
      << "the same after collapsing duplicates";
  EXPECT_TRUE(has_events(run(w, set_cmd(t.org, empty, {}), c.client_owner), {}));
  EXPECT_EQ(w.log().size(), logged);
  EXPECT_EQ(group_of(w, t.org, id).members, members);
}

TEST(GroupSetMembers, MembersMustBeMembersOfTheOrganization) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId id = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id});
  Member gone = add_member(w, c.client_owner, t.org, "gone@contoso.test", OrganizationUserType::kUser);
  run_ok(w, RemoveMember{t.org, gone.id}, c.client_owner);
  const OrganizationUserId globex_owner =
      w.organization(c.new_client_org)->member_by_email("owner@globex.test")->id;
  for (const OrganizationUserId& stranger : {gone.id, globex_owner, w.new_id()}) {
    SCOPED_TRACE(stranger.to_string());
    auto r = run(w, set_cmd(t.org, id, {t.admin.id, stranger}), c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kNotAMemberText));
    EXPECT_EQ(r.error().field, "members");
  }
  EXPECT_EQ(group_of(w, t.org, id).members, (Ids{t.user.id})) << "all or nothing";
}

TEST(GroupSetMembers, AnUnknownGroupIsNotFound) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId globex_group = create_group(w, c.owner, c.new_client_org, "Globex group");
  for (const GroupId& id : {w.new_id(), globex_group}) {
    EXPECT_TRUE(is_refused(run(w, set_cmd(t.org, id, {t.user.id}), c.client_owner), ErrorKind::kNotFound));
  }
  EXPECT_TRUE(group_of(w, c.new_client_org, globex_group).members.empty());
}

// Removing a member drops them from every group: state only, no group event.
TEST(GroupSetMembers, ARemovedMemberLeavesEveryGroup) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId a = create_group(w, c.client_owner, t.org, "A", {t.user.id, t.admin.id});
  const GroupId b = create_group(w, c.client_owner, t.org, "B", {t.user2.id, t.user.id});
  const GroupId none = create_group(w, c.client_owner, t.org, "None", {t.admin.id});
  auto r = run(w, RemoveMember{t.org, t.user.id}, c.client_owner);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "OrganizationUserRemoved", 1503},
                             {user_stream(t.user.actor.user_id), "UserLeftOrganization", 0}}));
  EXPECT_EQ(group_of(w, t.org, a).members, (Ids{t.admin.id}));
  EXPECT_EQ(group_of(w, t.org, b).members, (Ids{t.user2.id}));
  EXPECT_EQ(group_of(w, t.org, none).members, (Ids{t.admin.id}));
  EXPECT_EQ(group_count(w, t.org), 3u);
  // And cannot be put back.
  EXPECT_TRUE(is_refused(run(w, set_cmd(t.org, a, {t.admin.id, t.user.id}), c.client_owner),
                         ErrorKind::kValidation, kNotAMemberText));
  // Setting the remaining members changes nothing.
  EXPECT_TRUE(has_events(run(w, set_cmd(t.org, b, {t.user2.id}), c.client_owner), {}));
}

// Revoking keeps a member in their groups (revoked is still a member).
TEST(GroupSetMembers, ARevokedMemberStaysInTheirGroups) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId id = create_group(w, c.client_owner, t.org, "A", {t.user.id, t.admin.id});
  run_ok(w, RevokeMember{t.org, t.user.id}, c.client_owner);
  EXPECT_EQ(group_of(w, t.org, id).members, (Ids{t.user.id, t.admin.id}));
}

// --- who manages groups --------------------------------------------------------------------------

// Each command by one actor; every event recorded as `acting_as` (through `via`).
void manage_groups_as(World& w, const Team& t, const Actor& actor, ActingAs acting_as,
                      std::optional<ProviderId> via) {
  const std::string stream = organization_stream(t.org);
  auto create = run(w, create_cmd(t.org, "By them", {t.user.id}), actor);
  std::vector<ExpectedEvent> expected = {{stream, "GroupCreated", kCreated}};
  for (const auto& e : members_set_events(stream, 1)) expected.push_back(e);
  EXPECT_TRUE(has_events(create, expected));
  EXPECT_TRUE(recorded_as(create, actor, acting_as, via));
  ASSERT_TRUE(create.ok());
  const GroupId id = create->created_ids.at(0);
  auto update = run(w, update_cmd(t.org, id, "Renamed by them"), actor);
  EXPECT_TRUE(has_events(update, {{stream, "GroupUpdated", kUpdated}}));
  EXPECT_TRUE(recorded_as(update, actor, acting_as, via));
  auto set = run(w, set_cmd(t.org, id, {t.user2.id}), actor);
  EXPECT_TRUE(has_events(set, members_set_events(stream, 2)));
  EXPECT_TRUE(recorded_as(set, actor, acting_as, via));
  EXPECT_EQ(group_of(w, t.org, id).members, (Ids{t.user2.id}));
  auto del = run(w, delete_cmd(t.org, id), actor);
  EXPECT_TRUE(has_events(del, {{stream, "GroupDeleted", kDeleted}}));
  EXPECT_TRUE(recorded_as(del, actor, acting_as, via));
  EXPECT_EQ(w.organization(t.org)->group(id), nullptr);
}

TEST(GroupManagers, OwnersAdminsAndCustomMembersWithManageGroups) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  for (const Actor* actor :
       {&c.client_owner, &t.second_owner.actor, &t.admin.actor, &t.group_manager.actor}) {
    SCOPED_TRACE("actor " + actor->user_id.to_string());
    manage_groups_as(w, t, *actor, ActingAs::kDirect, std::nullopt);
  }
}

// Confirmed provider users of the managing provider act as Owners; their events
// record the provider through which they acted.
TEST(GroupManagers, ConfirmedProviderUsersOfTheManagingProvider) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  for (const Actor* actor : {&c.owner, &c.service_user}) {
    SCOPED_TRACE("actor " + actor->user_id.to_string());
    manage_groups_as(w, t, *actor, ActingAs::kProviderUser, c.provider);
  }
}

// manage_users is not manage_groups; a User has neither.
TEST(GroupManagers, MembersLackingTheRightAreDenied) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId id = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id});
  for (const Member* m : {&t.user, &t.user_manager}) {
    SCOPED_TRACE("actor " + m->actor.user_id.to_string());
    const Actor& a = m->actor;
    EXPECT_TRUE(is_refused(run(w, create_cmd(t.org, "Mine"), a), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, "Mine"), a), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, set_cmd(t.org, id, {t.user2.id}), a), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), a), ErrorKind::kPermissionDenied));
  }
  EXPECT_EQ(group_count(w, t.org), 1u);
  EXPECT_EQ(group_of(w, t.org, id).name, "Engineering");
  EXPECT_EQ(group_of(w, t.org, id).members, (Ids{t.user.id}));
  // Granting manage_groups gives the right at once; taking it away removes it.
  Permissions with = kEverythingButManageGroups;
  with.manage_groups = true;
  UpdateMember grant{};
  grant.organization_id = t.org;
  grant.organization_user_id = t.user_manager.id;
  grant.type = OrganizationUserType::kCustom;
  grant.permissions = with;
  run_ok(w, grant, c.client_owner);
  EXPECT_TRUE(is_ok(run(w, update_cmd(t.org, id, "Renamed"), t.user_manager.actor)));
  UpdateMember revoke_right = grant;
  revoke_right.organization_user_id = t.group_manager.id;
  revoke_right.permissions = Permissions{.manage_users = true};
  run_ok(w, revoke_right, c.client_owner);
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, "Again"), t.group_manager.actor),
                         ErrorKind::kPermissionDenied));
}

// Anyone who is neither a member nor a confirmed provider user of the managing
// provider does not see the organization at all.
TEST(GroupManagers, OutsidersAreNotFound) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId id = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id});
  Actor other_owner = register_user(w, "owner@fabrikam.test");
  set_up_provider(w, c.staff, other_owner, "owner@fabrikam.test");
  Member globex_owner =
      add_member(w, c.owner, c.new_client_org, "boss@globex.test", OrganizationUserType::kOwner);
  Member gone = add_member(w, c.client_owner, t.org, "gone@contoso.test", OrganizationUserType::kOwner);
  run_ok(w, RemoveMember{t.org, gone.id}, c.client_owner);
  struct Outsider {
    const char* name;
    const Actor* actor;
  };
  for (const Outsider& o :
       {Outsider{"unrelated user", &c.unrelated}, Outsider{"provider user of another provider", &other_owner},
        Outsider{"owner of another client", &globex_owner.actor},
        Outsider{"invited provider admin", &c.invited_admin},
        Outsider{"accepted provider admin", &c.accepted_admin}, Outsider{"removed owner", &gone.actor}}) {
    SCOPED_TRACE(o.name);
    const Actor& a = *o.actor;
    EXPECT_TRUE(is_refused(run(w, create_cmd(t.org, "Theirs"), a), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, "Theirs"), a), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, set_cmd(t.org, id, {t.user2.id}), a), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), a), ErrorKind::kNotFound));
  }
  // An organization that does not exist.
  EXPECT_TRUE(is_refused(run(w, create_cmd(w.new_id(), "Nowhere"), c.client_owner), ErrorKind::kNotFound));
  EXPECT_EQ(group_count(w, t.org), 1u);
  EXPECT_EQ(group_of(w, t.org, id).name, "Engineering");
  EXPECT_EQ(group_of(w, t.org, id).members, (Ids{t.user.id}));
}

// Rights through the provider end with the provider membership.
TEST(GroupManagers, ARemovedProviderUserLosesTheRightsAtOnce) {
  World w;
  Cast c = build_cast(w);
  const GroupId id = create_group(w, c.service_user, c.adopted_org, "Engineering");
  run_ok(w, RemoveProviderUsers{c.provider, {c.service_user_pu}}, c.owner);
  EXPECT_TRUE(is_refused(run(w, create_cmd(c.adopted_org, "More"), c.service_user), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, delete_cmd(c.adopted_org, id), c.service_user), ErrorKind::kNotFound));
  EXPECT_NE(w.organization(c.adopted_org)->group(id), nullptr);
}

// Provider users manage the groups of a client whose only Owner has not even accepted.
TEST(GroupManagers, ProviderUsersManageANewClientsGroups) {
  World w;
  Cast c = build_cast(w);
  const OrganizationUserId invited_owner =
      w.organization(c.new_client_org)->member_by_email("owner@globex.test")->id;
  auto r = run(w, create_cmd(c.new_client_org, "Globex admins", {invited_owner}), c.service_user);
  const std::string stream = organization_stream(c.new_client_org);
  std::vector<ExpectedEvent> expected = {{stream, "GroupCreated", kCreated}};
  for (const auto& e : members_set_events(stream, 1)) expected.push_back(e);
  EXPECT_TRUE(has_events(r, expected));
  EXPECT_TRUE(recorded_as(r, c.service_user, ActingAs::kProviderUser, c.provider));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(group_of(w, c.new_client_org, r->created_ids.at(0)).members, (Ids{invited_owner}));
  // A client's own Owner manages an organization no provider manages too (Initech-like).
  Actor founder = register_user(w, "founder@initech.test", "Fiona Founder");
  const OrganizationId own = create_organization(w, founder, "Initech", PlanType::kTeamsMonthly, 5);
  auto mine = run(w, create_cmd(own, "Initech staff"), founder);
  EXPECT_TRUE(has_events(mine, {{organization_stream(own), "GroupCreated", kCreated}}));
  EXPECT_TRUE(recorded_as(mine, founder, ActingAs::kDirect));
  EXPECT_TRUE(is_refused(run(w, create_cmd(own, "Not theirs"), c.owner), ErrorKind::kNotFound));
}

}  // namespace
}  // namespace portal::domain::test
