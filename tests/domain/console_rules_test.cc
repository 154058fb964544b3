// Scenario tests for the rules of a client's admin console beyond members and groups
// (DESIGN.md section 4, "Organizations (the client's admin console)" and "Rights of
// provider users in client organizations"): collections and their access lists,
// invitations that give collection access and groups, policies, and the two
// policies the engine enforces, SingleOrg and OrganizationDataOwnership.
//
// As in member_rules_test.cc and group_rules_test.cc, each scenario runs real
// commands against the in-memory world and checks, on success, the exact events
// (stream, type name, Bitwarden code), their fields, the folded state and the
// recorded actor, and on refusal the Error kind, field and exact message. Messages
// the spec fixes are compared with their literal text once (EXPECT_STREQ on the
// constant), so a reworded constant fails here.
//
// Events (on the organization's stream unless said otherwise):
//   CollectionCreated (1300), CollectionUpdated (1301), CollectionDeleted (1302),
//   PolicyUpdated (1700); UserJoinedOrganization / UserLeftOrganization (no code)
//   on the user's stream; CipherCreated (1100) on the item's stream.
//
// Suites: Collection*, InviteWithAccess*, Policy*, SingleOrg*, DataOwnership*.
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain_test_support.h"
#include "portal/domain/messages.h"

namespace portal::domain::test {
namespace {

constexpr std::uint32_t kCollectionCreated = 1300;
constexpr std::uint32_t kCollectionUpdated = 1301;
constexpr std::uint32_t kCollectionDeleted = 1302;
constexpr std::uint32_t kPolicyUpdated = 1700;
constexpr std::uint32_t kCipherCreated = 1100;

constexpr const char* kNameRequiredText = "The Name field is required.";
constexpr const char* kNameTooLongText =
    "The field Name exceeds the maximum encrypted value length of 1000 characters.";
constexpr const char* kDuplicateIdText = "The same id appears more than once.";
constexpr const char* kCollectionNotFoundText = "Collection not found.";
constexpr const char* kGroupNotFoundText = "Group not found.";
constexpr const char* kUserNotFoundText = "User is not a member of this organization.";

// A valid EncString (type 2: iv|ct|mac) for item names.
constexpr const char* kEncName = "2.aXY=|Y3Q=|bWFj";
// Collection names are stored as the client sends them, normally EncStrings.
constexpr const char* kCollName = "2.Y29sbA==|Y3Q=|bWFj";

using Access = std::vector<CollectionAccess>;
using Ids = std::vector<OrganizationUserId>;

// --- helpers -------------------------------------------------------------------------------------

CollectionAccess grant(const Uuid& id, bool read_only, bool hide_passwords, bool manage) {
  return CollectionAccess{id, read_only, hide_passwords, manage};
}

CreateCollection create_cmd(const OrganizationId& org, std::string name, Access groups = {},
                            Access users = {}) {
  return CreateCollection{org, std::move(name), std::move(groups), std::move(users)};
}

UpdateCollection update_cmd(const OrganizationId& org, const CollectionId& id, std::string name,
                            Access groups = {}, Access users = {}) {
  return UpdateCollection{org, id, std::move(name), std::move(groups), std::move(users)};
}

DeleteCollection delete_cmd(const OrganizationId& org, const CollectionId& id) {
  return DeleteCollection{org, id};
}

SavePolicy policy_cmd(const OrganizationId& org, PolicyType type, bool enabled, std::string data = "") {
  return SavePolicy{org, type, enabled, std::move(data)};
}

CollectionId create_collection(World& w, const Actor& by, const OrganizationId& org, const std::string& name,
                               Access groups = {}, Access users = {}) {
  Decision d = run_ok(w, create_cmd(org, name, std::move(groups), std::move(users)), by);
  if (d.created_ids.size() != 1)
    throw std::runtime_error("CreateCollection created " + std::to_string(d.created_ids.size()));
  return d.created_ids[0];
}

GroupId create_group(World& w, const Actor& by, const OrganizationId& org, const std::string& name,
                     Ids members = {}) {
  return run_ok(w, CreateGroup{org, name, std::move(members)}, by).created_ids.at(0);
}

const Collection& collection_of(World& w, const OrganizationId& org, const CollectionId& id) {
  const Collection* c = w.organization(org)->collection(id);
  if (c == nullptr) throw std::runtime_error("no collection " + id.to_string());
  return *c;
}

const Group& group_of(World& w, const OrganizationId& org, const GroupId& id) {
  const Group* g = w.organization(org)->group(id);
  if (g == nullptr) throw std::runtime_error("no group " + id.to_string());
  return *g;
}

std::size_t collection_count(World& w, const OrganizationId& org) {
  return w.organization(org)->collections.size();
}

std::optional<CollectionAccess> access_of(World& w, const OrganizationId& org, const CollectionId& coll,
                                          const OrganizationUserId& member) {
  return w.organization(org)->access_to(coll, member);
}

std::optional<CollectionAccess> expect_access(const CollectionId& coll, bool read_only, bool hide,
                                              bool manage) {
  return CollectionAccess{coll, read_only, hide, manage};
}

ItemContent item_content() {
  return ItemContent{kEncName, "", {}};
}

CreateItem personal_item() {
  return CreateItem{CipherType::kLogin, std::nullopt, {}, item_content()};
}

CreateItem org_item(const OrganizationId& org, std::vector<CollectionId> collections) {
  return CreateItem{CipherType::kLogin, org, std::move(collections), item_content()};
}

// Contoso (the cast's adopted client, managed by the cast's provider, seats raised
// to 20) with a confirmed member of every kind the collection and policy rules
// name, and members in the other statuses.
struct Team {
  OrganizationId org;
  OrganizationUserId client_owner;  // the cast's client_owner: a confirmed Owner
  Member admin;                     // confirmed Admin
  Member creator;                   // confirmed Custom with create_new_collections only
  Member editor;                    // confirmed Custom with edit_any_collection only
  Member deleter;                   // confirmed Custom with delete_any_collection only
  Member policy_manager;            // confirmed Custom with manage_policies only
  Member user;                      // confirmed User
  Member user2;                     // confirmed User
  Member accepted;                  // a User who accepted, not confirmed
  Member revoked;                   // a User, confirmed, then revoked
  OrganizationUserId invited;       // a User, only invited
};

Team build_team(World& w, const Cast& c) {
  run_ok(w, UpdateClientOrg{c.provider, c.adopted_client, "Contoso", 20}, c.owner);
  Team t;
  t.org = c.adopted_org;
  t.client_owner = w.organization(t.org)->member_by_user_id(c.client_owner.user_id)->id;
  t.admin = add_member(w, c.client_owner, t.org, "admin@contoso.test", OrganizationUserType::kAdmin);
  t.creator = add_member(w, c.client_owner, t.org, "creator@contoso.test", OrganizationUserType::kCustom,
                         Permissions{.create_new_collections = true});
  t.editor = add_member(w, c.client_owner, t.org, "editor@contoso.test", OrganizationUserType::kCustom,
                        Permissions{.edit_any_collection = true});
  t.deleter = add_member(w, c.client_owner, t.org, "deleter@contoso.test", OrganizationUserType::kCustom,
                         Permissions{.delete_any_collection = true});
  t.policy_manager = add_member(w, c.client_owner, t.org, "policies@contoso.test",
                                OrganizationUserType::kCustom, Permissions{.manage_policies = true});
  t.user = add_member(w, c.client_owner, t.org, "user@contoso.test", OrganizationUserType::kUser);
  t.user2 = add_member(w, c.client_owner, t.org, "user2@contoso.test", OrganizationUserType::kUser);
  t.accepted.actor = register_user(w, "accepted@contoso.test");
  MemberInvitation inv = invite_member(w, c.client_owner, t.org, "accepted@contoso.test");
  run_ok(w, AcceptMember{t.org, inv.id, inv.token}, t.accepted.actor);
  t.accepted.id = inv.id;
  t.revoked = add_member(w, c.client_owner, t.org, "revoked@contoso.test", OrganizationUserType::kUser);
  run_ok(w, RevokeMember{t.org, t.revoked.id}, c.client_owner);
  t.invited = invite_member(w, c.client_owner, t.org, "invited@contoso.test").id;
  return t;
}

// Outsiders of Contoso, as group_rules_test.cc has them.
struct Outsiders {
  Actor other_provider_owner;  // a confirmed provider admin of another provider
  Member globex_owner;         // a confirmed Owner of another client of the same provider
  Member removed;              // once a confirmed member of Contoso, removed
};

Outsiders build_outsiders(World& w, const Cast& c, const Team& t) {
  Outsiders o;
  o.other_provider_owner = register_user(w, "owner@fabrikam.test");
  set_up_provider(w, c.staff, o.other_provider_owner, "owner@fabrikam.test");
  o.globex_owner = add_member(w, c.owner, c.new_client_org, "boss@globex.test", OrganizationUserType::kOwner);
  o.removed = add_member(w, c.client_owner, t.org, "gone@contoso.test", OrganizationUserType::kAdmin);
  run_ok(w, RemoveMember{t.org, o.removed.id}, c.client_owner);
  return o;
}

// ================================================================================================
// Collections
// ================================================================================================

TEST(CollectionCreate, AnOwnerCreatesACollectionWithAccessForGroupsAndMembers) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId g1 = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id});
  const GroupId g2 = create_group(w, c.client_owner, t.org, "Sales");
  const std::string stream = organization_stream(t.org);
  const Access groups = {grant(g1, true, false, false), grant(g2, false, true, true)};
  // Members in any status may be given access.
  const Access users = {grant(t.user2.id, false, false, true), grant(t.invited, true, true, false),
                        grant(t.accepted.id, false, true, false), grant(t.revoked.id, true, false, false)};
  auto r = run(w, create_cmd(t.org, kCollName, groups, users), c.client_owner);
  EXPECT_TRUE(has_events(r, {{stream, "CollectionCreated", kCollectionCreated}}));
  EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->created_ids.size(), 1u);
  const CollectionId id = r->created_ids[0];
  EXPECT_FALSE(id.is_nil());
  const auto& e = *r->events[0].payload.AsCollectionCreated();
  EXPECT_EQ(e.collection_id, id);
  EXPECT_EQ(e.name, kCollName);
  EXPECT_EQ(from_fb(e.groups), groups);
  EXPECT_EQ(from_fb(e.users), users) << "an Owner gets no access entry of their own";
  const Collection& coll = collection_of(w, t.org, id);
  EXPECT_EQ(coll.id, id);
  EXPECT_EQ(coll.name, kCollName);
  EXPECT_EQ(coll.groups, groups);
  EXPECT_EQ(coll.users, users);
  // The access members now have: direct, or through their group.
  EXPECT_EQ(access_of(w, t.org, id, t.user2.id), expect_access(id, false, false, true));
  EXPECT_EQ(access_of(w, t.org, id, t.user.id), expect_access(id, true, false, false));
  EXPECT_EQ(access_of(w, t.org, id, t.admin.id), std::nullopt);
  // A second collection gets its own id; the first is untouched.
  const CollectionId second = create_collection(w, c.client_owner, t.org, "Empty");
  EXPECT_NE(second, id);
  EXPECT_EQ(collection_count(w, t.org), 2u);
  EXPECT_TRUE(collection_of(w, t.org, second).groups.empty());
  EXPECT_TRUE(collection_of(w, t.org, second).users.empty());
  EXPECT_EQ(collection_of(w, t.org, id).users, users);
}

// Owners, Admins and provider users see every collection: they are never added.
TEST(CollectionCreate, AdminsAndProviderUsersGetNoAccessEntryOfTheirOwn) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const Access users = {grant(t.user.id, true, true, false)};
  for (const Actor* a : {&t.admin.actor, &c.owner, &c.service_user}) {
    SCOPED_TRACE(a->user_id.to_string());
    auto r = run(w, create_cmd(t.org, kCollName, {}, users), *a);
    ASSERT_TRUE(has_events(r, {{organization_stream(t.org), "CollectionCreated", kCollectionCreated}}));
    EXPECT_EQ(from_fb(r->events[0].payload.AsCollectionCreated()->users), users);
    EXPECT_EQ(collection_of(w, t.org, r->created_ids.at(0)).users, users);
  }
  // A Custom member who may edit every collection sees them all too.
  Member both = add_member(w, c.client_owner, t.org, "both@contoso.test", OrganizationUserType::kCustom,
                           Permissions{.create_new_collections = true, .edit_any_collection = true});
  auto r = run(w, create_cmd(t.org, kCollName, {}, users), both.actor);
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(collection_of(w, t.org, r->created_ids.at(0)).users, users);
}

// A Custom member with only create_new_collections manages what they create, or
// could not reach it again.
TEST(CollectionCreate, ACustomCreatorManagesWhatTheyCreate) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const Access given = {grant(t.user.id, true, false, false)};
  auto r = run(w, create_cmd(t.org, kCollName, {}, given), t.creator.actor);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "CollectionCreated", kCollectionCreated}}));
  EXPECT_TRUE(recorded_as(r, t.creator.actor, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  const CollectionId id = r->created_ids.at(0);
  const Access expected = {grant(t.user.id, true, false, false), grant(t.creator.id, false, false, true)};
  EXPECT_EQ(from_fb(r->events[0].payload.AsCollectionCreated()->users), expected);
  EXPECT_EQ(collection_of(w, t.org, id).users, expected);
  EXPECT_EQ(access_of(w, t.org, id, t.creator.id), expect_access(id, false, false, true));
  // Managing it, the creator renames it and deletes it.
  EXPECT_TRUE(has_events(run(w, update_cmd(t.org, id, "Renamed", {}, expected), t.creator.actor),
                         {{organization_stream(t.org), "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_TRUE(has_events(run(w, delete_cmd(t.org, id), t.creator.actor),
                         {{organization_stream(t.org), "CollectionDeleted", kCollectionDeleted}}));
  EXPECT_EQ(w.organization(t.org)->collection(id), nullptr);
}

// A creator who lists themselves keeps the access they chose, listed once.
TEST(CollectionCreate, ACustomCreatorListingThemselvesIsListedOnce) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const Access given = {grant(t.creator.id, false, true, true)};
  auto r = run(w, create_cmd(t.org, kCollName, {}, given), t.creator.actor);
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(collection_of(w, t.org, r->created_ids.at(0)).users, given);
}

TEST(CollectionCreate, ANameIsRequiredAndHasAtMost1000Characters) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  auto empty = run(w, create_cmd(t.org, ""), c.client_owner);
  ASSERT_TRUE(is_refused(empty, ErrorKind::kValidation, kNameRequiredText));
  EXPECT_EQ(empty.error().field, "name");
  auto longer = run(w, create_cmd(t.org, std::string(1001, 'n')), c.client_owner);
  ASSERT_TRUE(is_refused(longer, ErrorKind::kValidation, kNameTooLongText));
  EXPECT_EQ(longer.error().field, "name");
  EXPECT_EQ(collection_count(w, t.org), 0u);
  const CollectionId id = create_collection(w, c.client_owner, t.org, std::string(1000, 'n'));
  EXPECT_EQ(collection_of(w, t.org, id).name, std::string(1000, 'n'));
}

TEST(CollectionCreate, AccessListsNameOnlyGroupsAndMembersOfTheOrganization) {
  EXPECT_STREQ(msg::kGroupNotFound, kGroupNotFoundText);
  EXPECT_STREQ(msg::kUserNotFound, kUserNotFoundText);
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  Outsiders o = build_outsiders(w, c, t);
  const GroupId ours = create_group(w, c.client_owner, t.org, "Ours");
  const GroupId deleted = create_group(w, c.client_owner, t.org, "Deleted");
  run_ok(w, DeleteGroup{t.org, deleted}, c.client_owner);
  const GroupId globex_group = create_group(w, c.owner, c.new_client_org, "Globex group");
  for (const GroupId& g : {deleted, globex_group, w.new_id()}) {
    SCOPED_TRACE(g.to_string());
    auto r = run(
        w, create_cmd(t.org, kCollName, {grant(ours, false, false, false), grant(g, false, false, false)}),
        c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kGroupNotFoundText));
    EXPECT_EQ(r.error().field, "groups");
  }
  for (const OrganizationUserId& u : {o.removed.id, o.globex_owner.id, w.new_id()}) {
    SCOPED_TRACE(u.to_string());
    auto r = run(w,
                 create_cmd(t.org, kCollName, {},
                            {grant(t.user.id, false, false, false), grant(u, false, false, false)}),
                 c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kUserNotFoundText));
    EXPECT_EQ(r.error().field, "users");
  }
  // A group id given as a user, and a member id given as a group.
  EXPECT_TRUE(is_refused(
      run(w, create_cmd(t.org, kCollName, {grant(t.user.id, false, false, false)}), c.client_owner),
      ErrorKind::kValidation, kGroupNotFoundText));
  EXPECT_TRUE(
      is_refused(run(w, create_cmd(t.org, kCollName, {}, {grant(ours, false, false, false)}), c.client_owner),
                 ErrorKind::kValidation, kUserNotFoundText));
  EXPECT_EQ(collection_count(w, t.org), 0u) << "nothing is created on a refusal";
}

TEST(CollectionCreate, AnIdAppearsOnceInEachList) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId g = create_group(w, c.client_owner, t.org, "Engineering");
  auto groups =
      run(w, create_cmd(t.org, kCollName, {grant(g, true, false, false), grant(g, false, false, true)}),
          c.client_owner);
  ASSERT_TRUE(is_refused(groups, ErrorKind::kValidation, kDuplicateIdText));
  EXPECT_EQ(groups.error().field, "groups");
  auto users = run(w,
                   create_cmd(t.org, kCollName, {},
                              {grant(t.user.id, true, false, false), grant(t.user2.id, true, false, false),
                               grant(t.user.id, false, false, true)}),
                   c.client_owner);
  ASSERT_TRUE(is_refused(users, ErrorKind::kValidation, kDuplicateIdText));
  EXPECT_EQ(users.error().field, "users");
  EXPECT_EQ(collection_count(w, t.org), 0u);
}

// --- UpdateCollection ----------------------------------------------------------------------------

TEST(CollectionUpdate, ReplacesTheNameAndBothAccessLists) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId g1 = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id});
  const GroupId g2 = create_group(w, c.client_owner, t.org, "Sales", {t.user2.id});
  const CollectionId id = create_collection(w, c.client_owner, t.org, "Old", {grant(g1, false, false, false)},
                                            {grant(t.user2.id, false, false, true)});
  const Access groups = {grant(g2, true, true, false)};
  const Access users = {grant(t.user.id, true, false, false), grant(t.invited, false, false, true)};
  auto r = run(w, update_cmd(t.org, id, kCollName, groups, users), t.admin.actor);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_TRUE(recorded_as(r, t.admin.actor, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->created_ids.empty());
  const auto& e = *r->events[0].payload.AsCollectionUpdated();
  EXPECT_EQ(e.collection_id, id);
  EXPECT_EQ(e.name, kCollName);
  EXPECT_EQ(from_fb(e.groups), groups);
  EXPECT_EQ(from_fb(e.users), users);
  const Collection& coll = collection_of(w, t.org, id);
  EXPECT_EQ(coll.name, kCollName);
  EXPECT_EQ(coll.groups, groups);
  EXPECT_EQ(coll.users, users);
  // user: only the new direct read-only grant (Engineering's grant is gone);
  // user2: only Sales' read-only, hidden grant (their direct manage grant is gone).
  EXPECT_EQ(access_of(w, t.org, id, t.user.id), expect_access(id, true, false, false));
  EXPECT_EQ(access_of(w, t.org, id, t.user2.id), expect_access(id, true, true, false));
  // Emptying both lists leaves nobody with access.
  ASSERT_TRUE(has_events(run(w, update_cmd(t.org, id, kCollName), c.client_owner),
                         {{organization_stream(t.org), "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_TRUE(collection_of(w, t.org, id).groups.empty());
  EXPECT_TRUE(collection_of(w, t.org, id).users.empty());
  EXPECT_EQ(access_of(w, t.org, id, t.user2.id), std::nullopt);
}

TEST(CollectionUpdate, AnUnchangedUpdateRecordsNothing) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId g = create_group(w, c.client_owner, t.org, "Engineering");
  const Access groups = {grant(g, true, false, false)};
  const Access users = {grant(t.user.id, false, true, true)};
  const CollectionId id = create_collection(w, c.client_owner, t.org, kCollName, groups, users);
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(has_events(run(w, update_cmd(t.org, id, kCollName, groups, users), c.client_owner), {}));
  EXPECT_TRUE(has_events(run(w, update_cmd(t.org, id, kCollName, groups, users), c.owner), {}));
  EXPECT_EQ(w.log().size(), logged);
  // Any one difference is recorded: a flag, the name.
  EXPECT_TRUE(
      has_events(run(w, update_cmd(t.org, id, kCollName, groups, {grant(t.user.id, false, true, false)}),
                     c.client_owner),
                 {{organization_stream(t.org), "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_TRUE(has_events(
      run(w, update_cmd(t.org, id, "Other", groups, {grant(t.user.id, false, true, false)}), c.client_owner),
      {{organization_stream(t.org), "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_EQ(collection_of(w, t.org, id).name, "Other");
}

TEST(CollectionUpdate, AnUnknownCollectionIsNotFound) {
  EXPECT_STREQ(msg::kCollectionNotFound, kCollectionNotFoundText);
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const CollectionId deleted = create_collection(w, c.client_owner, t.org, "Deleted");
  run_ok(w, delete_cmd(t.org, deleted), c.client_owner);
  const CollectionId globex_default = w.organization(c.new_client_org)->collections.at(0).id;
  for (const CollectionId& id : {deleted, globex_default, w.new_id()}) {
    SCOPED_TRACE(id.to_string());
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, kCollName), c.client_owner), ErrorKind::kNotFound,
                           kCollectionNotFoundText));
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, kCollName), c.owner), ErrorKind::kNotFound,
                           kCollectionNotFoundText));
  }
  EXPECT_EQ(collection_of(w, c.new_client_org, globex_default).name, "Default Collection");
}

TEST(CollectionUpdate, ValidatesLikeCreate) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId g = create_group(w, c.client_owner, t.org, "Engineering");
  const Access users = {grant(t.user.id, true, false, false)};
  const CollectionId id = create_collection(w, c.client_owner, t.org, kCollName, {}, users);
  struct Case {
    const char* what;
    UpdateCollection command;
    const char* field;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"no name", update_cmd(t.org, id, ""), "name", kNameRequiredText},
      {"long name", update_cmd(t.org, id, std::string(1001, 'n')), "name", kNameTooLongText},
      {"unknown group", update_cmd(t.org, id, kCollName, {grant(w.new_id(), false, false, false)}), "groups",
       kGroupNotFoundText},
      {"unknown user", update_cmd(t.org, id, kCollName, {}, {grant(w.new_id(), false, false, false)}),
       "users", kUserNotFoundText},
      {"group twice",
       update_cmd(t.org, id, kCollName, {grant(g, false, false, false), grant(g, true, false, false)}),
       "groups", kDuplicateIdText},
      {"user twice",
       update_cmd(t.org, id, kCollName, {},
                  {grant(t.user.id, false, false, false), grant(t.user.id, true, false, false)}),
       "users", kDuplicateIdText},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    auto r = run(w, k.command, c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, k.message));
    EXPECT_EQ(r.error().field, k.field);
  }
  EXPECT_EQ(collection_of(w, t.org, id).name, kCollName);
  EXPECT_EQ(collection_of(w, t.org, id).users, users);
  EXPECT_TRUE(is_ok(run(w, update_cmd(t.org, id, std::string(1000, 'n')), c.client_owner)));
}

// --- DeleteCollection ----------------------------------------------------------------------------

TEST(CollectionDelete, RemovesTheCollectionAndEveryonesAccessToIt) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId g = create_group(w, c.client_owner, t.org, "Engineering", {t.user2.id});
  const CollectionId keep =
      create_collection(w, c.client_owner, t.org, "Keep", {}, {grant(t.user.id, true, false, false)});
  const CollectionId id =
      create_collection(w, c.client_owner, t.org, kCollName, {grant(g, false, false, false)},
                        {grant(t.user.id, false, false, true)});
  auto r = run(w, delete_cmd(t.org, id), t.admin.actor);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "CollectionDeleted", kCollectionDeleted}}));
  EXPECT_TRUE(recorded_as(r, t.admin.actor, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0].payload.AsCollectionDeleted()->collection_id, id);
  EXPECT_EQ(w.organization(t.org)->collection(id), nullptr);
  EXPECT_EQ(collection_count(w, t.org), 1u);
  EXPECT_EQ(access_of(w, t.org, id, t.user.id), std::nullopt);
  EXPECT_EQ(access_of(w, t.org, id, t.user2.id), std::nullopt);
  EXPECT_EQ(access_of(w, t.org, keep, t.user.id), expect_access(keep, true, false, false));
  // Gone: neither deleted again nor updated.
  EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), c.client_owner), ErrorKind::kNotFound,
                         kCollectionNotFoundText));
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, kCollName), c.client_owner), ErrorKind::kNotFound,
                         kCollectionNotFoundText));
}

TEST(CollectionDelete, AnUnknownCollectionIsNotFound) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const CollectionId globex_default = w.organization(c.new_client_org)->collections.at(0).id;
  for (const CollectionId& id : {globex_default, w.new_id()}) {
    SCOPED_TRACE(id.to_string());
    EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), c.client_owner), ErrorKind::kNotFound,
                           kCollectionNotFoundText));
  }
  EXPECT_NE(w.organization(c.new_client_org)->collection(globex_default), nullptr);
}

// --- who manages collections ---------------------------------------------------------------------

// Create, update and delete by one actor; every event recorded as `acting_as` (through `via`).
void manage_collections_as(World& w, const Team& t, const Actor& actor, ActingAs acting_as,
                           std::optional<ProviderId> via) {
  const std::string stream = organization_stream(t.org);
  auto create = run(w, create_cmd(t.org, "By them", {}, {grant(t.user.id, true, false, false)}), actor);
  EXPECT_TRUE(has_events(create, {{stream, "CollectionCreated", kCollectionCreated}}));
  EXPECT_TRUE(recorded_as(create, actor, acting_as, via));
  ASSERT_TRUE(create.ok());
  const CollectionId id = create->created_ids.at(0);
  auto update =
      run(w, update_cmd(t.org, id, "Renamed by them", {}, {grant(t.user2.id, false, false, false)}), actor);
  EXPECT_TRUE(has_events(update, {{stream, "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_TRUE(recorded_as(update, actor, acting_as, via));
  EXPECT_EQ(collection_of(w, t.org, id).name, "Renamed by them");
  auto del = run(w, delete_cmd(t.org, id), actor);
  EXPECT_TRUE(has_events(del, {{stream, "CollectionDeleted", kCollectionDeleted}}));
  EXPECT_TRUE(recorded_as(del, actor, acting_as, via));
  EXPECT_EQ(w.organization(t.org)->collection(id), nullptr);
}

TEST(CollectionManagers, OwnersAndAdmins) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  Member second_owner =
      add_member(w, c.client_owner, t.org, "owner2@contoso.test", OrganizationUserType::kOwner);
  for (const Actor* a : {&c.client_owner, &second_owner.actor, &t.admin.actor}) {
    SCOPED_TRACE(a->user_id.to_string());
    manage_collections_as(w, t, *a, ActingAs::kDirect, std::nullopt);
  }
}

// Confirmed provider users act as Owners; their events record the provider.
TEST(CollectionManagers, ConfirmedProviderUsersActAsOwners) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  for (const Actor* a : {&c.owner, &c.service_user}) {
    SCOPED_TRACE(a->user_id.to_string());
    manage_collections_as(w, t, *a, ActingAs::kProviderUser, c.provider);
  }
  // Also in a new client whose only Owner has not even accepted: its default collection.
  const CollectionId globex_default = w.organization(c.new_client_org)->collections.at(0).id;
  auto update = run(w, update_cmd(c.new_client_org, globex_default, "Shared"), c.service_user);
  EXPECT_TRUE(
      has_events(update, {{organization_stream(c.new_client_org), "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_TRUE(recorded_as(update, c.service_user, ActingAs::kProviderUser, c.provider));
  auto del = run(w, delete_cmd(c.new_client_org, globex_default), c.owner);
  EXPECT_TRUE(
      has_events(del, {{organization_stream(c.new_client_org), "CollectionDeleted", kCollectionDeleted}}));
  EXPECT_TRUE(recorded_as(del, c.owner, ActingAs::kProviderUser, c.provider));
  EXPECT_TRUE(w.organization(c.new_client_org)->collections.empty());
}

// Each Custom permission gives exactly its own right.
TEST(CollectionManagers, CustomMembersHoldExactlyTheRightTheyAreGiven) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  const CollectionId id = create_collection(w, c.client_owner, t.org, kCollName);

  // create_new_collections: creates, but neither edits nor deletes what it does not manage.
  EXPECT_TRUE(has_events(run(w, create_cmd(t.org, "Mine"), t.creator.actor),
                         {{stream, "CollectionCreated", kCollectionCreated}}));
  EXPECT_TRUE(
      is_refused(run(w, update_cmd(t.org, id, "Creator"), t.creator.actor), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), t.creator.actor), ErrorKind::kPermissionDenied));

  // edit_any_collection: edits any, creates nothing, deletes nothing.
  auto edit = run(w, update_cmd(t.org, id, "Edited"), t.editor.actor);
  EXPECT_TRUE(has_events(edit, {{stream, "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_TRUE(recorded_as(edit, t.editor.actor, ActingAs::kDirect));
  EXPECT_TRUE(
      is_refused(run(w, create_cmd(t.org, "Editor's"), t.editor.actor), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), t.editor.actor), ErrorKind::kPermissionDenied));

  // delete_any_collection: deletes any, creates and edits nothing.
  EXPECT_TRUE(
      is_refused(run(w, create_cmd(t.org, "Deleter's"), t.deleter.actor), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(
      is_refused(run(w, update_cmd(t.org, id, "Deleter"), t.deleter.actor), ErrorKind::kPermissionDenied));
  EXPECT_EQ(collection_of(w, t.org, id).name, "Edited");
  auto del = run(w, delete_cmd(t.org, id), t.deleter.actor);
  EXPECT_TRUE(has_events(del, {{stream, "CollectionDeleted", kCollectionDeleted}}));
  EXPECT_TRUE(recorded_as(del, t.deleter.actor, ActingAs::kDirect));
  EXPECT_EQ(w.organization(t.org)->collection(id), nullptr);
}

// A member with manage on a collection, directly or by group, edits and deletes it;
// read-only or writable access without manage does not.
TEST(CollectionManagers, MembersWhoManageTheCollectionDirectlyOrByGroup) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  const GroupId managers = create_group(w, c.client_owner, t.org, "Managers", {t.user2.id});
  const GroupId writers = create_group(w, c.client_owner, t.org, "Writers", {t.policy_manager.id});
  const CollectionId other =
      create_collection(w, c.client_owner, t.org, "Other", {}, {grant(t.editor.id, false, false, false)});
  auto make = [&] {
    return create_collection(w, c.client_owner, t.org, kCollName,
                             {grant(managers, true, true, true), grant(writers, false, false, false)},
                             {grant(t.user.id, false, false, true), grant(t.creator.id, false, false, false),
                              grant(t.deleter.id, true, false, false)});
  };
  const CollectionId a = make();
  // Direct manage.
  auto u1 = run(
      w, update_cmd(t.org, a, "By user", collection_of(w, t.org, a).groups, collection_of(w, t.org, a).users),
      t.user.actor);
  EXPECT_TRUE(has_events(u1, {{stream, "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_TRUE(recorded_as(u1, t.user.actor, ActingAs::kDirect));
  // Manage through a group (even a read-only, hidden one).
  auto u2 = run(
      w,
      update_cmd(t.org, a, "By user2", collection_of(w, t.org, a).groups, collection_of(w, t.org, a).users),
      t.user2.actor);
  EXPECT_TRUE(has_events(u2, {{stream, "CollectionUpdated", kCollectionUpdated}}));
  EXPECT_EQ(collection_of(w, t.org, a).name, "By user2");
  // Access without manage: writable direct, writable through a group, read-only direct.
  for (const Member* m : {&t.creator, &t.policy_manager}) {
    SCOPED_TRACE(m->actor.user_id.to_string());
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, a, "No"), m->actor), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, a), m->actor), ErrorKind::kPermissionDenied));
  }
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, a, "No"), t.deleter.actor), ErrorKind::kPermissionDenied))
      << "delete_any_collection does not edit";
  // Managing one collection is no right to another.
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, other, "No"), t.user.actor), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, other), t.user2.actor), ErrorKind::kPermissionDenied));
  // Nor to create collections.
  EXPECT_TRUE(is_refused(run(w, create_cmd(t.org, "No"), t.user.actor), ErrorKind::kPermissionDenied));
  EXPECT_EQ(collection_of(w, t.org, a).name, "By user2");
  EXPECT_EQ(collection_of(w, t.org, other).name, "Other");
  // Both managers delete.
  auto d1 = run(w, delete_cmd(t.org, a), t.user.actor);
  EXPECT_TRUE(has_events(d1, {{stream, "CollectionDeleted", kCollectionDeleted}}));
  EXPECT_TRUE(recorded_as(d1, t.user.actor, ActingAs::kDirect));
  const CollectionId b = make();
  EXPECT_TRUE(has_events(run(w, delete_cmd(t.org, b), t.user2.actor),
                         {{stream, "CollectionDeleted", kCollectionDeleted}}));
  EXPECT_EQ(collection_count(w, t.org), 1u);
}

// Leaving the managing group ends the right at once.
TEST(CollectionManagers, LeavingTheManagingGroupEndsTheRight) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId managers = create_group(w, c.client_owner, t.org, "Managers", {t.user2.id});
  const CollectionId id =
      create_collection(w, c.client_owner, t.org, kCollName, {grant(managers, false, false, true)});
  ASSERT_TRUE(
      is_ok(run(w, update_cmd(t.org, id, "Renamed", {grant(managers, false, false, true)}), t.user2.actor)));
  run_ok(w, SetGroupMembers{t.org, managers, {t.user.id}}, c.client_owner);
  EXPECT_TRUE(
      is_refused(run(w, update_cmd(t.org, id, "Again", {grant(managers, false, false, true)}), t.user2.actor),
                 ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), t.user2.actor), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(
      is_ok(run(w, update_cmd(t.org, id, "By user", {grant(managers, false, false, true)}), t.user.actor)));
  EXPECT_EQ(collection_of(w, t.org, id).name, "By user");
}

// Manage access counts only for confirmed members.
TEST(CollectionManagers, ManageAccessCountsOnlyForConfirmedMembers) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const CollectionId id =
      create_collection(w, c.client_owner, t.org, kCollName, {},
                        {grant(t.accepted.id, false, false, true), grant(t.revoked.id, false, false, true)});
  for (const Member* m : {&t.accepted, &t.revoked}) {
    SCOPED_TRACE(m->actor.user_id.to_string());
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, "No"), m->actor), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), m->actor), ErrorKind::kPermissionDenied));
  }
  EXPECT_EQ(collection_of(w, t.org, id).name, kCollName);
  // Restored to confirmed, the revoked member manages it again.
  run_ok(w, RestoreMember{t.org, t.revoked.id}, c.client_owner);
  EXPECT_TRUE(has_events(run(w, delete_cmd(t.org, id), t.revoked.actor),
                         {{organization_stream(t.org), "CollectionDeleted", kCollectionDeleted}}));
}

TEST(CollectionManagers, MembersWithoutTheRightAreDenied) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  Member admin_like = add_member(
      w, c.client_owner, t.org, "everything@contoso.test", OrganizationUserType::kCustom,
      Permissions{
          .manage_users = true, .manage_groups = true, .manage_policies = true, .access_event_logs = true});
  const CollectionId id = create_collection(w, c.client_owner, t.org, kCollName);
  for (const Member* m : {&t.user, &t.policy_manager, &admin_like, &t.accepted, &t.revoked}) {
    SCOPED_TRACE(m->actor.user_id.to_string());
    EXPECT_TRUE(is_refused(run(w, create_cmd(t.org, "Theirs"), m->actor), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, "Theirs"), m->actor), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), m->actor), ErrorKind::kPermissionDenied));
  }
  // A confirmed Admin who is revoked loses the right.
  run_ok(w, RevokeMember{t.org, t.admin.id}, c.client_owner);
  EXPECT_TRUE(is_refused(run(w, create_cmd(t.org, "Theirs"), t.admin.actor), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), t.admin.actor), ErrorKind::kPermissionDenied));
  EXPECT_EQ(collection_count(w, t.org), 1u);
  EXPECT_EQ(collection_of(w, t.org, id).name, kCollName);
}

// Anyone neither a member nor a confirmed provider user of the managing provider
// does not see the organization at all; staff is refused openly.
TEST(CollectionManagers, OutsidersAreNotFoundAndStaffIsDenied) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  Outsiders o = build_outsiders(w, c, t);
  const CollectionId id = create_collection(w, c.client_owner, t.org, kCollName);
  struct Outsider {
    const char* name;
    const Actor* actor;
  };
  for (const Outsider& x : {Outsider{"unrelated user", &c.unrelated},
                            Outsider{"provider user of another provider", &o.other_provider_owner},
                            Outsider{"owner of another client", &o.globex_owner.actor},
                            Outsider{"invited provider admin", &c.invited_admin},
                            Outsider{"accepted provider admin", &c.accepted_admin},
                            Outsider{"removed admin", &o.removed.actor}}) {
    SCOPED_TRACE(x.name);
    EXPECT_TRUE(is_refused(run(w, create_cmd(t.org, "Theirs"), *x.actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, "Theirs"), *x.actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), *x.actor), ErrorKind::kNotFound));
    // The unknown collection of an organization they cannot see is the same "not found".
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, w.new_id(), "Theirs"), *x.actor), ErrorKind::kNotFound));
  }
  EXPECT_TRUE(is_refused(run(w, create_cmd(t.org, "Staff's"), c.staff), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, id, "Staff's"), c.staff), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, delete_cmd(t.org, id), c.staff), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, create_cmd(w.new_id(), "Nowhere"), c.client_owner), ErrorKind::kNotFound));
  EXPECT_EQ(collection_count(w, t.org), 1u);
  EXPECT_EQ(collection_of(w, t.org, id).name, kCollName);
}

TEST(CollectionManagers, ARemovedProviderUserLosesTheRightsAtOnce) {
  World w;
  Cast c = build_cast(w);
  const CollectionId id = create_collection(w, c.service_user, c.adopted_org, kCollName);
  run_ok(w, RemoveProviderUsers{c.provider, {c.service_user_pu}}, c.owner);
  EXPECT_TRUE(is_refused(run(w, create_cmd(c.adopted_org, "More"), c.service_user), ErrorKind::kNotFound));
  EXPECT_TRUE(
      is_refused(run(w, update_cmd(c.adopted_org, id, "More"), c.service_user), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, delete_cmd(c.adopted_org, id), c.service_user), ErrorKind::kNotFound));
  EXPECT_NE(w.organization(c.adopted_org)->collection(id), nullptr);
}

// --- access: direct and through groups -----------------------------------------------------------

// Combined: read-only only if every grant is, passwords hidden only if every grant
// hides them, manage if any grant manages.
TEST(CollectionAccessRules, DirectAndGroupGrantsCombine) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId hidden =
      create_group(w, c.client_owner, t.org, "Read-only hidden", {t.user2.id, t.editor.id});
  const GroupId writers = create_group(w, c.client_owner, t.org, "Writers", {t.admin.id});
  const GroupId managers = create_group(w, c.client_owner, t.org, "Managers", {t.deleter.id, t.admin.id});
  const CollectionId id =
      create_collection(w, c.client_owner, t.org, kCollName,
                        {grant(hidden, true, true, false), grant(writers, false, false, false),
                         grant(managers, true, true, true)},
                        {grant(t.user.id, true, true, false), grant(t.user2.id, true, true, false),
                         grant(t.deleter.id, false, true, false)});
  // Direct only.
  EXPECT_EQ(access_of(w, t.org, id, t.user.id), expect_access(id, true, true, false));
  // Direct and a group, both read-only and hiding: still read-only and hiding.
  EXPECT_EQ(access_of(w, t.org, id, t.user2.id), expect_access(id, true, true, false));
  // Writable direct + read-only managing group: writable, hidden (both hide), manage.
  EXPECT_EQ(access_of(w, t.org, id, t.deleter.id), expect_access(id, false, true, true));
  // Two groups: writable without hiding + read-only hiding managing.
  EXPECT_EQ(access_of(w, t.org, id, t.admin.id), expect_access(id, false, false, true));
  // One group only.
  EXPECT_EQ(access_of(w, t.org, id, t.editor.id), expect_access(id, true, true, false));
  // No grant at all.
  EXPECT_EQ(access_of(w, t.org, id, t.creator.id), std::nullopt);
  // Joining the writers makes user writable with passwords shown.
  run_ok(w, SetGroupMembers{t.org, writers, {t.admin.id, t.user.id}}, c.client_owner);
  EXPECT_EQ(access_of(w, t.org, id, t.user.id), expect_access(id, false, false, false));
  // And what the member notices: with a writable grant they may put items there;
  // with read-only grants only, they may not.
  auto item = run(w, org_item(t.org, {id}), t.user.actor);
  ASSERT_TRUE(is_ok(item));
  EXPECT_TRUE(has_events(item, {{item_stream(item->created_ids.at(0)), "CipherCreated", kCipherCreated}}));
  EXPECT_TRUE(is_refused(run(w, org_item(t.org, {id}), t.user2.actor), ErrorKind::kPermissionDenied,
                         msg::kNoEditPermission));
}

TEST(CollectionAccessRules, DeletingAGroupRemovesItsAccessEntries) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId doomed = create_group(w, c.client_owner, t.org, "Doomed", {t.user.id, t.user2.id});
  const GroupId stays = create_group(w, c.client_owner, t.org, "Stays", {t.user2.id});
  const CollectionId a = create_collection(
      w, c.client_owner, t.org, "A", {grant(doomed, false, false, true), grant(stays, true, false, false)},
      {grant(t.user.id, true, true, false)});
  const CollectionId b =
      create_collection(w, c.client_owner, t.org, "B", {grant(doomed, false, false, false)});
  ASSERT_TRUE(is_ok(run(
      w, update_cmd(t.org, a, "By user", collection_of(w, t.org, a).groups, collection_of(w, t.org, a).users),
      t.user.actor)));
  auto r = run(w, DeleteGroup{t.org, doomed}, c.client_owner);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "GroupDeleted", 1402}}));
  EXPECT_EQ(collection_of(w, t.org, a).groups, (Access{grant(stays, true, false, false)}));
  EXPECT_EQ(collection_of(w, t.org, a).users, (Access{grant(t.user.id, true, true, false)}));
  EXPECT_TRUE(collection_of(w, t.org, b).groups.empty());
  EXPECT_EQ(access_of(w, t.org, a, t.user.id), expect_access(a, true, true, false))
      << "only the direct grant is left";
  EXPECT_EQ(access_of(w, t.org, a, t.user2.id), expect_access(a, true, false, false));
  EXPECT_EQ(access_of(w, t.org, b, t.user.id), std::nullopt);
  // The manage right came from the group: gone with it.
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, a, "Again"), t.user.actor), ErrorKind::kPermissionDenied));
  // The collection's remaining lists round-trip unchanged.
  EXPECT_TRUE(has_events(run(w,
                             update_cmd(t.org, a, "By user", collection_of(w, t.org, a).groups,
                                        collection_of(w, t.org, a).users),
                             c.client_owner),
                         {}));
}

TEST(CollectionAccessRules, RemovingAMemberRemovesTheirAccessEntries) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId g = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id, t.user2.id});
  const CollectionId a =
      create_collection(w, c.client_owner, t.org, "A", {grant(g, true, false, false)},
                        {grant(t.user.id, false, false, true), grant(t.user2.id, false, true, false)});
  const CollectionId b =
      create_collection(w, c.client_owner, t.org, "B", {}, {grant(t.user.id, true, true, false)});
  auto r = run(w, RemoveMember{t.org, t.user.id}, c.client_owner);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "OrganizationUserRemoved", 1503},
                             {user_stream(t.user.actor.user_id), "UserLeftOrganization", 0}}));
  EXPECT_EQ(collection_of(w, t.org, a).users, (Access{grant(t.user2.id, false, true, false)}));
  EXPECT_TRUE(collection_of(w, t.org, b).users.empty());
  EXPECT_EQ(group_of(w, t.org, g).members, (Ids{t.user2.id}));
  EXPECT_EQ(access_of(w, t.org, a, t.user.id), std::nullopt);
  EXPECT_EQ(access_of(w, t.org, b, t.user.id), std::nullopt);
  // user2 keeps the direct writable, hidden grant and the group's read-only shown one.
  EXPECT_EQ(access_of(w, t.org, a, t.user2.id), expect_access(a, false, false, false));
  // They are no longer in the organization: their former collection is not found to them.
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, a, "No"), t.user.actor), ErrorKind::kNotFound));
  // Revoking keeps the entries (a revoked member is still a member).
  run_ok(w, RevokeMember{t.org, t.user2.id}, c.client_owner);
  EXPECT_EQ(collection_of(w, t.org, a).users, (Access{grant(t.user2.id, false, true, false)}));
  EXPECT_EQ(group_of(w, t.org, g).members, (Ids{t.user2.id}));
}

// ================================================================================================
// Invitations with collection access and groups
// ================================================================================================

TEST(InviteWithAccess, TheInviteeIsGivenTheCollectionsAndGroups) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const GroupId g1 = create_group(w, c.client_owner, t.org, "Engineering", {t.user.id});
  const GroupId g2 = create_group(w, c.client_owner, t.org, "Sales");
  const GroupId untouched = create_group(w, c.client_owner, t.org, "Untouched", {t.user2.id});
  const CollectionId a =
      create_collection(w, c.client_owner, t.org, "A", {}, {grant(t.user.id, true, false, false)});
  const CollectionId b = create_collection(w, c.client_owner, t.org, "B");
  const CollectionId none = create_collection(w, c.client_owner, t.org, "None");
  const Access collections = {grant(a, true, true, false), grant(b, false, false, true)};
  const std::string stream = organization_stream(t.org);
  auto r = run(w,
               InviteMembers{t.org,
                             {"New@Contoso.test", "second@contoso.test"},
                             OrganizationUserType::kUser,
                             {},
                             collections,
                             {g1, g2}},
               t.admin.actor);
  EXPECT_TRUE(
      has_events(r, {{stream, "OrganizationUserInvited", 1500}, {stream, "OrganizationUserInvited", 1500}}));
  EXPECT_TRUE(recorded_as(r, t.admin.actor, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->created_ids.size(), 2u);
  const OrganizationUserId first = r->created_ids[0];
  const OrganizationUserId second = r->created_ids[1];
  for (int i = 0; i < 2; ++i) {
    const auto& e = *r->events[i].payload.AsOrganizationUserInvited();
    EXPECT_EQ(from_fb(e.collections), collections);
    EXPECT_EQ(e.groups, (std::vector<Uuid>{g1, g2}));
  }
  // The collections list each invitee with the flags given, after whoever was there.
  EXPECT_EQ(collection_of(w, t.org, a).users,
            (Access{grant(t.user.id, true, false, false), grant(first, true, true, false),
                    grant(second, true, true, false)}));
  EXPECT_EQ(collection_of(w, t.org, b).users,
            (Access{grant(first, false, false, true), grant(second, false, false, true)}));
  EXPECT_TRUE(collection_of(w, t.org, none).users.empty());
  EXPECT_EQ(group_of(w, t.org, g1).members, (Ids{t.user.id, first, second}));
  EXPECT_EQ(group_of(w, t.org, g2).members, (Ids{first, second}));
  EXPECT_EQ(group_of(w, t.org, untouched).members, (Ids{t.user2.id}));
  // Once confirmed, the first invitee manages collection B.
  Actor invitee = register_user(w, "new@contoso.test");
  run_ok(w, AcceptMember{t.org, first, r->tokens.at(0)}, invitee);
  run_ok(w, ConfirmMember{t.org, first, kOrgKey}, c.client_owner);
  EXPECT_EQ(access_of(w, t.org, b, first), expect_access(b, false, false, true));
  EXPECT_EQ(access_of(w, t.org, a, first), expect_access(a, true, true, false));
  EXPECT_TRUE(has_events(
      run(w, update_cmd(t.org, b, "Renamed by invitee", {}, collection_of(w, t.org, b).users), invitee),
      {{stream, "CollectionUpdated", kCollectionUpdated}}));
}

// Provider users invite with access too, recorded through their provider.
TEST(InviteWithAccess, ProviderUsersInviteWithAccess) {
  World w;
  Cast c = build_cast(w);
  const OrganizationId org = c.new_client_org;
  const CollectionId coll = w.organization(org)->collections.at(0).id;
  const GroupId g = create_group(w, c.service_user, org, "Globex staff");
  auto r = run(w,
               InviteMembers{org,
                             {"staff@globex.test"},
                             OrganizationUserType::kUser,
                             {},
                             {grant(coll, false, true, false)},
                             {g}},
               c.service_user);
  EXPECT_TRUE(has_events(r, {{organization_stream(org), "OrganizationUserInvited", 1500}}));
  EXPECT_TRUE(recorded_as(r, c.service_user, ActingAs::kProviderUser, c.provider));
  ASSERT_TRUE(r.ok());
  const OrganizationUserId id = r->created_ids.at(0);
  EXPECT_EQ(collection_of(w, org, coll).users, (Access{grant(id, false, true, false)}));
  EXPECT_EQ(group_of(w, org, g).members, (Ids{id}));
}

TEST(InviteWithAccess, AnUnknownCollectionOrGroupIsAValidationError) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const CollectionId ours = create_collection(w, c.client_owner, t.org, "Ours");
  const CollectionId deleted = create_collection(w, c.client_owner, t.org, "Deleted");
  run_ok(w, delete_cmd(t.org, deleted), c.client_owner);
  const CollectionId globex_default = w.organization(c.new_client_org)->collections.at(0).id;
  const GroupId group = create_group(w, c.client_owner, t.org, "Ours");
  const GroupId deleted_group = create_group(w, c.client_owner, t.org, "Deleted");
  run_ok(w, DeleteGroup{t.org, deleted_group}, c.client_owner);
  const GroupId globex_group = create_group(w, c.owner, c.new_client_org, "Globex group");
  for (const CollectionId& id : {deleted, globex_default, w.new_id(), Uuid(group)}) {
    SCOPED_TRACE(id.to_string());
    auto r = run(w,
                 InviteMembers{t.org,
                               {"new@contoso.test"},
                               OrganizationUserType::kUser,
                               {},
                               {grant(ours, false, false, false), grant(id, false, false, false)},
                               {group}},
                 c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kCollectionNotFoundText));
    EXPECT_EQ(r.error().field, "collections");
  }
  for (const GroupId& id : {deleted_group, globex_group, w.new_id(), Uuid(ours)}) {
    SCOPED_TRACE(id.to_string());
    auto r = run(w,
                 InviteMembers{t.org,
                               {"new@contoso.test"},
                               OrganizationUserType::kUser,
                               {},
                               {grant(ours, false, false, false)},
                               {group, id}},
                 c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kGroupNotFoundText));
    EXPECT_EQ(r.error().field, "groups");
  }
  EXPECT_EQ(w.organization(t.org)->member_by_email("new@contoso.test"), nullptr) << "nobody is invited";
  EXPECT_TRUE(collection_of(w, t.org, ours).users.empty());
  EXPECT_TRUE(group_of(w, t.org, group).members.empty());
}

// Emails that are skipped (already members) get no access from the invitation.
TEST(InviteWithAccess, SkippedEmailsGetNoAccess) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const CollectionId coll = create_collection(w, c.client_owner, t.org, "A");
  const GroupId g = create_group(w, c.client_owner, t.org, "G");
  auto r = run(w,
               InviteMembers{t.org,
                             {"user@contoso.test"},
                             OrganizationUserType::kUser,
                             {},
                             {grant(coll, false, false, true)},
                             {g}},
               c.client_owner);
  EXPECT_TRUE(has_events(r, {}));
  EXPECT_TRUE(collection_of(w, t.org, coll).users.empty());
  EXPECT_TRUE(group_of(w, t.org, g).members.empty());
  EXPECT_EQ(access_of(w, t.org, coll, t.user.id), std::nullopt);
}

// A collection or group named twice in an invitation must not list the invitee
// twice: either the invitation is refused or the repeat collapses.
TEST(InviteWithAccess, NoMemberIsListedTwice) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const CollectionId coll = create_collection(w, c.client_owner, t.org, "A");
  const GroupId g = create_group(w, c.client_owner, t.org, "G");
  auto r = run(w,
               InviteMembers{t.org,
                             {"new@contoso.test"},
                             OrganizationUserType::kUser,
                             {},
                             {grant(coll, true, false, false), grant(coll, false, false, true)},
                             {g, g}},
               c.client_owner);
  if (!r.ok()) {
    EXPECT_EQ(r.error().kind, ErrorKind::kValidation) << describe(r.error());
    EXPECT_EQ(w.organization(t.org)->member_by_email("new@contoso.test"), nullptr);
    return;
  }
  const OrganizationUserId id = r->created_ids.at(0);
  EXPECT_EQ(collection_of(w, t.org, coll).users.size(), 1u) << "the invitee is listed once in the collection";
  EXPECT_EQ(group_of(w, t.org, g).members, (Ids{id})) << "the invitee is listed once in the group";
  // The collection's own lists round-trip through UpdateCollection.
  const Collection& now = collection_of(w, t.org, coll);
  EXPECT_TRUE(is_ok(run(w, update_cmd(t.org, coll, now.name, now.groups, now.users), c.client_owner)));
}

// ================================================================================================
// Policies
// ================================================================================================

TEST(PolicySave, EveryPolicyTypeIsRecordedWithItsData) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  // In order, so SingleOrg (3) is on before RequireSso (4) and MaximumVaultTimeout (9).
  for (int n = 0; n <= 11; ++n) {
    SCOPED_TRACE("policy type " + std::to_string(n));
    const auto type = static_cast<PolicyType>(n);
    const std::string data = n % 2 == 0 ? "{\"option\":" + std::to_string(n) + "}" : "";
    auto r = run(w, policy_cmd(t.org, type, true, data), c.client_owner);
    ASSERT_TRUE(has_events(r, {{stream, "PolicyUpdated", kPolicyUpdated}}));
    EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
    const auto& e = *r->events[0].payload.AsPolicyUpdated();
    EXPECT_EQ(e.type, n);
    EXPECT_TRUE(e.enabled);
    EXPECT_EQ(e.data, data);
    const OrganizationState& org = *w.organization(t.org);
    EXPECT_TRUE(org.policy_enabled(type));
    ASSERT_EQ(org.policies.count(type), 1u);
    EXPECT_EQ(org.policies.at(type), (Policy{type, true, data}));
  }
  EXPECT_EQ(w.organization(t.org)->policies.size(), 12u);
  // Disabling is recorded too, with its data; the others stay on.
  auto off = run(w, policy_cmd(t.org, PolicyType::kDisableSend, false, "{\"reason\":\"x\"}"), c.client_owner);
  ASSERT_TRUE(has_events(off, {{stream, "PolicyUpdated", kPolicyUpdated}}));
  const auto& e = *off->events[0].payload.AsPolicyUpdated();
  EXPECT_EQ(e.type, 6);
  EXPECT_FALSE(e.enabled);
  EXPECT_EQ(e.data, "{\"reason\":\"x\"}");
  EXPECT_FALSE(w.organization(t.org)->policy_enabled(PolicyType::kDisableSend));
  EXPECT_EQ(w.organization(t.org)->policies.at(PolicyType::kDisableSend),
            (Policy{PolicyType::kDisableSend, false, "{\"reason\":\"x\"}"}));
  EXPECT_TRUE(w.organization(t.org)->policy_enabled(PolicyType::kSendOptions));
}

TEST(PolicySave, AnUnknownTypeIsRefused) {
  World w;
  Cast c = build_cast(w);
  for (int n : {12, -1, 99, 1000}) {
    SCOPED_TRACE(n);
    auto r = run(w, policy_cmd(c.adopted_org, static_cast<PolicyType>(n), true), c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, "Unknown policy type."));
    EXPECT_EQ(r.error().field, "type");
  }
  EXPECT_TRUE(w.organization(c.adopted_org)->policies.empty());
}

TEST(PolicySave, DataIsEmptyOrAJsonObject) {
  EXPECT_STREQ(msg::kInvalidPolicyData, "The policy data must be a JSON object.");
  World w;
  Cast c = build_cast(w);
  const OrganizationId org = c.adopted_org;
  for (const std::string data : {"[]", "null", "5", "\"text\"", "true", "   ", "{", "}", "[{}]", "x{}"}) {
    SCOPED_TRACE(data);
    auto r = run(w, policy_cmd(org, PolicyType::kPasswordGenerator, true, data), c.client_owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, "The policy data must be a JSON object."));
    EXPECT_EQ(r.error().field, "data");
  }
  EXPECT_TRUE(w.organization(org)->policies.empty());
  for (const std::string data :
       {"{}", " {\"minLength\": 12, \"useNumbers\": true}\n", "{\"a\":{\"b\":[1,2]}}"}) {
    SCOPED_TRACE(data);
    auto r = run(w, policy_cmd(org, PolicyType::kPasswordGenerator, true, data), c.client_owner);
    ASSERT_TRUE(has_events(r, {{organization_stream(org), "PolicyUpdated", kPolicyUpdated}}));
    EXPECT_EQ(w.organization(org)->policies.at(PolicyType::kPasswordGenerator).data, data)
        << "stored as given";
  }
  // At most 10000 characters.
  const std::string longest = "{\"k\":\"" + std::string(10000 - 8, 'v') + "\"}";
  ASSERT_EQ(longest.size(), 10000u);
  EXPECT_TRUE(is_ok(run(w, policy_cmd(org, PolicyType::kPasswordGenerator, true, longest), c.client_owner)));
  const std::string too_long = "{\"k\":\"" + std::string(10000 - 7, 'v') + "\"}";
  auto r = run(w, policy_cmd(org, PolicyType::kPasswordGenerator, true, too_long), c.client_owner);
  ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, "The policy data is longer than 10000 characters."));
  EXPECT_EQ(r.error().field, "data");
  EXPECT_EQ(w.organization(org)->policies.at(PolicyType::kPasswordGenerator).data, longest);
}

// Text that merely starts with '{' and ends with '}' is no JSON object either.
TEST(PolicySave, MalformedJsonIsRefused) {
  World w;
  Cast c = build_cast(w);
  const OrganizationId org = c.adopted_org;
  for (const std::string data : {"{not json}", "{\"minutes\": }", "{\"a\":1}}", "{}{}", "{\"a\" 1}"}) {
    SCOPED_TRACE(data);
    auto r = run(w, policy_cmd(org, PolicyType::kMaximumVaultTimeout, false, data), c.client_owner);
    EXPECT_TRUE(is_refused(r, ErrorKind::kValidation, "The policy data must be a JSON object."));
  }
  EXPECT_TRUE(w.organization(org)->policies.empty());
}

TEST(PolicySave, AnUnchangedSaveRecordsNothing) {
  World w;
  Cast c = build_cast(w);
  const OrganizationId org = c.adopted_org;
  const std::string stream = organization_stream(org);
  run_ok(w, policy_cmd(org, PolicyType::kMasterPassword, true, "{\"minLength\":12}"), c.client_owner);
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(has_events(
      run(w, policy_cmd(org, PolicyType::kMasterPassword, true, "{\"minLength\":12}"), c.client_owner), {}));
  EXPECT_TRUE(has_events(
      run(w, policy_cmd(org, PolicyType::kMasterPassword, true, "{\"minLength\":12}"), c.owner), {}));
  EXPECT_EQ(w.log().size(), logged);
  // Other data, or another enabled flag, is a change.
  EXPECT_TRUE(has_events(
      run(w, policy_cmd(org, PolicyType::kMasterPassword, true, "{\"minLength\":14}"), c.client_owner),
      {{stream, "PolicyUpdated", kPolicyUpdated}}));
  EXPECT_TRUE(has_events(
      run(w, policy_cmd(org, PolicyType::kMasterPassword, false, "{\"minLength\":14}"), c.client_owner),
      {{stream, "PolicyUpdated", kPolicyUpdated}}));
  EXPECT_TRUE(has_events(
      run(w, policy_cmd(org, PolicyType::kMasterPassword, false, "{\"minLength\":14}"), c.client_owner), {}));
  EXPECT_EQ(w.organization(org)->policies.at(PolicyType::kMasterPassword),
            (Policy{PolicyType::kMasterPassword, false, "{\"minLength\":14}"}));
}

TEST(PolicySave, EachOrganizationHasItsOwnPolicies) {
  World w;
  Cast c = build_cast(w);
  run_ok(w, policy_cmd(c.adopted_org, PolicyType::kTwoFactorAuthentication, true), c.owner);
  EXPECT_TRUE(w.organization(c.adopted_org)->policy_enabled(PolicyType::kTwoFactorAuthentication));
  EXPECT_FALSE(w.organization(c.new_client_org)->policy_enabled(PolicyType::kTwoFactorAuthentication));
  EXPECT_TRUE(w.organization(c.new_client_org)->policies.empty());
  // The same save for the other client is a change there.
  EXPECT_TRUE(
      has_events(run(w, policy_cmd(c.new_client_org, PolicyType::kTwoFactorAuthentication, true), c.owner),
                 {{organization_stream(c.new_client_org), "PolicyUpdated", kPolicyUpdated}}));
}

// --- policies that need SingleOrg ----------------------------------------------------------------

TEST(PolicyDependencies, RequireSsoAndMaximumVaultTimeoutNeedSingleOrg) {
  EXPECT_STREQ(msg::kSingleOrgNotEnabled, "Single Organization policy not enabled.");
  World w;
  Cast c = build_cast(w);
  const OrganizationId org = c.adopted_org;
  const std::string stream = organization_stream(org);
  for (PolicyType type : {PolicyType::kRequireSso, PolicyType::kMaximumVaultTimeout}) {
    SCOPED_TRACE(static_cast<int>(type));
    // Never saved.
    EXPECT_TRUE(is_refused(run(w, policy_cmd(org, type, true), c.client_owner),
                           ErrorKind::kFailedPrecondition, "Single Organization policy not enabled."));
    // Saving it off needs nothing.
    EXPECT_TRUE(has_events(run(w, policy_cmd(org, type, false, "{}"), c.client_owner),
                           {{stream, "PolicyUpdated", kPolicyUpdated}}));
  }
  // Saved, but off.
  run_ok(w, policy_cmd(org, PolicyType::kSingleOrg, false), c.client_owner);
  EXPECT_TRUE(is_refused(run(w, policy_cmd(org, PolicyType::kRequireSso, true), c.client_owner),
                         ErrorKind::kFailedPrecondition, "Single Organization policy not enabled."));
  EXPECT_FALSE(w.organization(org)->policy_enabled(PolicyType::kRequireSso));
  // SingleOrg of another organization does not count.
  run_ok(w, policy_cmd(c.new_client_org, PolicyType::kSingleOrg, true), c.owner);
  EXPECT_TRUE(is_refused(run(w, policy_cmd(org, PolicyType::kMaximumVaultTimeout, true), c.owner),
                         ErrorKind::kFailedPrecondition, "Single Organization policy not enabled."));
  // With SingleOrg on, both may be enabled.
  run_ok(w, policy_cmd(org, PolicyType::kSingleOrg, true), c.client_owner);
  EXPECT_TRUE(has_events(run(w, policy_cmd(org, PolicyType::kRequireSso, true), c.client_owner),
                         {{stream, "PolicyUpdated", kPolicyUpdated}}));
  EXPECT_TRUE(
      has_events(run(w, policy_cmd(org, PolicyType::kMaximumVaultTimeout, true, "{\"minutes\":15}"), c.owner),
                 {{stream, "PolicyUpdated", kPolicyUpdated}}));
  EXPECT_TRUE(w.organization(org)->policy_enabled(PolicyType::kRequireSso));
  EXPECT_TRUE(w.organization(org)->policy_enabled(PolicyType::kMaximumVaultTimeout));
}

TEST(PolicyDependencies, SingleOrgCannotBeDisabledWhileAPolicyNeedsIt) {
  EXPECT_STREQ(msg::kRequiredBySso, "Single Sign-On Authentication policy is enabled.");
  EXPECT_STREQ(msg::kRequiredByVaultTimeout, "Maximum Vault Timeout policy is enabled.");
  World w;
  Cast c = build_cast(w);
  const OrganizationId org = c.adopted_org;
  const std::string stream = organization_stream(org);
  run_ok(w, policy_cmd(org, PolicyType::kSingleOrg, true), c.client_owner);
  run_ok(w, policy_cmd(org, PolicyType::kRequireSso, true), c.client_owner);
  run_ok(w, policy_cmd(org, PolicyType::kMaximumVaultTimeout, true), c.client_owner);
  EXPECT_TRUE(is_refused(run(w, policy_cmd(org, PolicyType::kSingleOrg, false), c.client_owner),
                         ErrorKind::kFailedPrecondition, "Single Sign-On Authentication policy is enabled."));
  // Saving it on again (new data) is fine.
  EXPECT_TRUE(has_events(run(w, policy_cmd(org, PolicyType::kSingleOrg, true, "{}"), c.client_owner),
                         {{stream, "PolicyUpdated", kPolicyUpdated}}));
  run_ok(w, policy_cmd(org, PolicyType::kRequireSso, false), c.client_owner);
  EXPECT_TRUE(is_refused(run(w, policy_cmd(org, PolicyType::kSingleOrg, false), c.owner),
                         ErrorKind::kFailedPrecondition, "Maximum Vault Timeout policy is enabled."));
  EXPECT_TRUE(w.organization(org)->policy_enabled(PolicyType::kSingleOrg));
  run_ok(w, policy_cmd(org, PolicyType::kMaximumVaultTimeout, false), c.client_owner);
  auto r = run(w, policy_cmd(org, PolicyType::kSingleOrg, false), c.client_owner);
  EXPECT_TRUE(has_events(r, {{stream, "PolicyUpdated", kPolicyUpdated}}));
  EXPECT_FALSE(w.organization(org)->policy_enabled(PolicyType::kSingleOrg));
  // And they cannot be turned back on without it.
  EXPECT_TRUE(is_refused(run(w, policy_cmd(org, PolicyType::kRequireSso, true), c.client_owner),
                         ErrorKind::kFailedPrecondition, "Single Organization policy not enabled."));
}

// --- who saves policies --------------------------------------------------------------------------

TEST(PolicyManagers, OwnersAdminsCustomWithManagePoliciesAndProviderUsers) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const std::string stream = organization_stream(t.org);
  struct Who {
    const Actor* actor;
    ActingAs acting_as;
    std::optional<ProviderId> via;
  };
  int n = 0;
  for (const Who& who : {Who{&c.client_owner, ActingAs::kDirect, std::nullopt},
                         Who{&t.admin.actor, ActingAs::kDirect, std::nullopt},
                         Who{&t.policy_manager.actor, ActingAs::kDirect, std::nullopt},
                         Who{&c.owner, ActingAs::kProviderUser, c.provider},
                         Who{&c.service_user, ActingAs::kProviderUser, c.provider}}) {
    SCOPED_TRACE(who.actor->user_id.to_string());
    const std::string data = "{\"by\":" + std::to_string(++n) + "}";
    auto r = run(w, policy_cmd(t.org, PolicyType::kPasswordGenerator, true, data), *who.actor);
    EXPECT_TRUE(has_events(r, {{stream, "PolicyUpdated", kPolicyUpdated}}));
    EXPECT_TRUE(recorded_as(r, *who.actor, who.acting_as, who.via));
    EXPECT_EQ(w.organization(t.org)->policies.at(PolicyType::kPasswordGenerator).data, data);
  }
}

TEST(PolicyManagers, OthersAreRefused) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  Outsiders o = build_outsiders(w, c, t);
  Member all_but = add_member(w, c.client_owner, t.org, "allbut@contoso.test", OrganizationUserType::kCustom,
                              Permissions{.manage_users = true,
                                          .manage_groups = true,
                                          .manage_policies = false,
                                          .create_new_collections = true,
                                          .edit_any_collection = true,
                                          .delete_any_collection = true,
                                          .access_event_logs = true});
  for (const Member* m : {&t.user, &all_but, &t.accepted, &t.revoked}) {
    SCOPED_TRACE(m->actor.user_id.to_string());
    EXPECT_TRUE(is_refused(run(w, policy_cmd(t.org, PolicyType::kDisableSend, true), m->actor),
                           ErrorKind::kPermissionDenied));
  }
  for (const Actor* a : {&c.unrelated, &o.other_provider_owner, &o.globex_owner.actor, &c.invited_admin,
                         &c.accepted_admin, &o.removed.actor}) {
    SCOPED_TRACE(a->user_id.to_string());
    EXPECT_TRUE(
        is_refused(run(w, policy_cmd(t.org, PolicyType::kDisableSend, true), *a), ErrorKind::kNotFound));
  }
  EXPECT_TRUE(is_refused(run(w, policy_cmd(t.org, PolicyType::kDisableSend, true), c.staff),
                         ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_refused(run(w, policy_cmd(w.new_id(), PolicyType::kDisableSend, true), c.client_owner),
                         ErrorKind::kNotFound));
  // A policy manager who is revoked loses the right.
  run_ok(w, RevokeMember{t.org, t.policy_manager.id}, c.client_owner);
  EXPECT_TRUE(is_refused(run(w, policy_cmd(t.org, PolicyType::kDisableSend, true), t.policy_manager.actor),
                         ErrorKind::kPermissionDenied));
  // A removed provider user is an outsider at once.
  run_ok(w, RemoveProviderUsers{c.provider, {c.service_user_pu}}, c.owner);
  EXPECT_TRUE(is_refused(run(w, policy_cmd(t.org, PolicyType::kDisableSend, true), c.service_user),
                         ErrorKind::kNotFound));
  EXPECT_TRUE(w.organization(t.org)->policies.empty());
}

// ================================================================================================
// SingleOrg enforcement
// ================================================================================================

// An organization no provider manages (no seat limit), and its founder.
struct OwnOrg {
  Actor founder;
  OrganizationId org;
};

OwnOrg own_org(World& w, const std::string& founder_email, const std::string& name) {
  OwnOrg o;
  o.founder = register_user(w, founder_email, "Founder");
  o.org = create_organization(w, o.founder, name, PlanType::kEnterpriseAnnually, 10, founder_email);
  return o;
}

// `who` (registered with `email`) is invited by `by` and accepts; confirmed when asked.
OrganizationUserId join(World& w, const Actor& by, const OrganizationId& org, const Actor& who,
                        const std::string& email, bool confirm = true) {
  MemberInvitation inv = invite_member(w, by, org, email);
  run_ok(w, AcceptMember{org, inv.id, inv.token}, who);
  if (confirm) run_ok(w, ConfirmMember{org, inv.id, kOrgKey}, by);
  return inv.id;
}

void enable_single_org(World& w, const Actor& by, const OrganizationId& org) {
  run_ok(w, policy_cmd(org, PolicyType::kSingleOrg, true), by);
}

TEST(SingleOrg, JoiningASingleOrgOrganizationWhileInAnotherIsRefused) {
  EXPECT_STREQ(msg::kLeaveOtherOrganizationsFirst,
               "You may not join this organization until you leave or remove all other organizations.");
  World w;
  OwnOrg a = own_org(w, "founder@a.test", "A");
  OwnOrg b = own_org(w, "founder@b.test", "B");
  Actor pat = register_user(w, "pat@example.test", "Pat");
  const OrganizationUserId in_a = join(w, a.founder, a.org, pat, "pat@example.test");
  enable_single_org(w, b.founder, b.org);
  MemberInvitation inv = invite_member(w, b.founder, b.org, "pat@example.test");
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(
      is_refused(run(w, AcceptMember{b.org, inv.id, inv.token}, pat), ErrorKind::kFailedPrecondition,
                 "You may not join this organization until you leave or remove all other organizations."));
  EXPECT_EQ(w.log().size(), logged);
  EXPECT_EQ(w.organization(b.org)->member(inv.id)->status, OrganizationUserStatus::kInvited);
  EXPECT_EQ(w.user(pat.user_id)->organizations, (std::vector<OrganizationId>{a.org}));
  // An accepted (unconfirmed) membership elsewhere binds too.
  OwnOrg c = own_org(w, "founder@c.test", "C");
  Actor quinn = register_user(w, "quinn@example.test", "Quinn");
  join(w, c.founder, c.org, quinn, "quinn@example.test", /*confirm=*/false);
  MemberInvitation inv2 = invite_member(w, b.founder, b.org, "quinn@example.test");
  EXPECT_TRUE(is_refused(run(w, AcceptMember{b.org, inv2.id, inv2.token}, quinn),
                         ErrorKind::kFailedPrecondition, msg::kLeaveOtherOrganizationsFirst));
  // Once removed from A, Pat joins B.
  auto removed = run(w, RemoveMember{a.org, in_a}, a.founder);
  EXPECT_TRUE(has_events(removed, {{organization_stream(a.org), "OrganizationUserRemoved", 1503},
                                   {user_stream(pat.user_id), "UserLeftOrganization", 0}}));
  EXPECT_TRUE(w.user(pat.user_id)->organizations.empty());
  auto accepted = run(w, AcceptMember{b.org, inv.id, inv.token}, pat);
  EXPECT_TRUE(has_events(accepted, {{organization_stream(b.org), "OrganizationUserAccepted", 0},
                                    {user_stream(pat.user_id), "UserJoinedOrganization", 0}}));
  ASSERT_TRUE(accepted.ok());
  const auto& joined = *accepted->events[1].payload.AsUserJoinedOrganization();
  EXPECT_EQ(joined.organization_id, b.org);
  EXPECT_EQ(joined.organization_user_id, inv.id);
  EXPECT_EQ(w.user(pat.user_id)->organizations, (std::vector<OrganizationId>{b.org}));
}

TEST(SingleOrg, AMemberOfASingleOrgOrganizationCannotJoinAnother) {
  EXPECT_STREQ(
      msg::kOtherOrganizationForbidsIt,
      "You cannot join this organization because you are a member of another organization which forbids it.");
  World w;
  OwnOrg a = own_org(w, "founder@a.test", "A");
  OwnOrg b = own_org(w, "founder@b.test", "B");
  Actor pat = register_user(w, "pat@example.test", "Pat");
  Actor quinn = register_user(w, "quinn@example.test", "Quinn");
  join(w, a.founder, a.org, pat, "pat@example.test");
  join(w, a.founder, a.org, quinn, "quinn@example.test", /*confirm=*/false);
  enable_single_org(w, a.founder, a.org);
  struct Joiner {
    const Actor* actor;
    const char* email;
    MemberInvitation invitation;
  };
  std::vector<Joiner> joiners = {{&pat, "pat@example.test", {}}, {&quinn, "quinn@example.test", {}}};
  for (Joiner& j : joiners) {
    SCOPED_TRACE(j.email);
    j.invitation = invite_member(w, b.founder, b.org, j.email);
    EXPECT_TRUE(
        is_refused(run(w, AcceptMember{b.org, j.invitation.id, j.invitation.token}, *j.actor),
                   ErrorKind::kFailedPrecondition,
                   "You cannot join this organization because you are a member of another organization "
                   "which forbids it."));
    EXPECT_EQ(w.organization(b.org)->member(j.invitation.id)->status, OrganizationUserStatus::kInvited);
    EXPECT_EQ(w.user(j.actor->user_id)->organizations, (std::vector<OrganizationId>{a.org}));
  }
  // With A's policy off again, both join B.
  run_ok(w, policy_cmd(a.org, PolicyType::kSingleOrg, false), a.founder);
  for (const Joiner& j : joiners) {
    SCOPED_TRACE(j.email);
    EXPECT_TRUE(has_events(run(w, AcceptMember{b.org, j.invitation.id, j.invitation.token}, *j.actor),
                           {{organization_stream(b.org), "OrganizationUserAccepted", 0},
                            {user_stream(j.actor->user_id), "UserJoinedOrganization", 0}}));
    EXPECT_EQ(w.user(j.actor->user_id)->organizations, (std::vector<OrganizationId>{a.org, b.org}));
  }
}

// Confirming is joining too: checked against the member's other organizations.
TEST(SingleOrg, ConfirmIsChecked) {
  World w;
  OwnOrg a = own_org(w, "founder@a.test", "A");
  OwnOrg b = own_org(w, "founder@b.test", "B");
  Actor pat = register_user(w, "pat@example.test", "Pat");
  Actor quinn = register_user(w, "quinn@example.test", "Quinn");
  // Both accept A, then B, while neither has the policy.
  const OrganizationUserId pat_in_a = join(w, a.founder, a.org, pat, "pat@example.test", false);
  const OrganizationUserId quinn_in_a = join(w, a.founder, a.org, quinn, "quinn@example.test", false);
  join(w, b.founder, b.org, pat, "pat@example.test", false);
  const OrganizationUserId quinn_in_b = join(w, b.founder, b.org, quinn, "quinn@example.test", false);
  enable_single_org(w, a.founder, a.org);
  // A has the policy: A cannot confirm a member of B...
  EXPECT_TRUE(is_refused(run(w, ConfirmMember{a.org, pat_in_a, kOrgKey}, a.founder),
                         ErrorKind::kFailedPrecondition, msg::kLeaveOtherOrganizationsFirst));
  EXPECT_EQ(w.organization(a.org)->member(pat_in_a)->status, OrganizationUserStatus::kAccepted);
  // ...and B cannot confirm a member of A.
  EXPECT_TRUE(is_refused(run(w, ConfirmMember{b.org, quinn_in_b, kOrgKey}, b.founder),
                         ErrorKind::kFailedPrecondition, msg::kOtherOrganizationForbidsIt));
  EXPECT_EQ(w.organization(b.org)->member(quinn_in_b)->status, OrganizationUserStatus::kAccepted);
  // Once Quinn leaves B, A confirms Quinn.
  run_ok(w, RemoveMember{b.org, quinn_in_b}, b.founder);
  EXPECT_TRUE(has_events(run(w, ConfirmMember{a.org, quinn_in_a, kOrgKey}, a.founder),
                         {{organization_stream(a.org), "OrganizationUserConfirmed", 1501}}));
}

// Restoring is joining too.
TEST(SingleOrg, RestoreIsChecked) {
  World w;
  OwnOrg a = own_org(w, "founder@a.test", "A");
  OwnOrg b = own_org(w, "founder@b.test", "B");
  Actor pat = register_user(w, "pat@example.test", "Pat");
  Actor quinn = register_user(w, "quinn@example.test", "Quinn");
  // Pat: revoked in A (which then gets the policy), meanwhile a member of B.
  const OrganizationUserId pat_in_a = join(w, a.founder, a.org, pat, "pat@example.test");
  run_ok(w, RevokeMember{a.org, pat_in_a}, a.founder);
  join(w, b.founder, b.org, pat, "pat@example.test");
  enable_single_org(w, a.founder, a.org);
  EXPECT_TRUE(is_refused(run(w, RestoreMember{a.org, pat_in_a}, a.founder), ErrorKind::kFailedPrecondition,
                         msg::kLeaveOtherOrganizationsFirst));
  EXPECT_EQ(w.organization(a.org)->member(pat_in_a)->status, OrganizationUserStatus::kRevoked);
  // Quinn: revoked in B, meanwhile a member of A, which has the policy.
  const OrganizationUserId quinn_in_b = join(w, b.founder, b.org, quinn, "quinn@example.test");
  run_ok(w, RevokeMember{b.org, quinn_in_b}, b.founder);
  join(w, a.founder, a.org, quinn, "quinn@example.test");
  EXPECT_TRUE(is_refused(run(w, RestoreMember{b.org, quinn_in_b}, b.founder), ErrorKind::kFailedPrecondition,
                         msg::kOtherOrganizationForbidsIt));
  EXPECT_EQ(w.organization(b.org)->member(quinn_in_b)->status, OrganizationUserStatus::kRevoked);
  // Without A's policy both are restored.
  run_ok(w, policy_cmd(a.org, PolicyType::kSingleOrg, false), a.founder);
  EXPECT_TRUE(has_events(run(w, RestoreMember{a.org, pat_in_a}, a.founder),
                         {{organization_stream(a.org), "OrganizationUserRestored", 1512}}));
  EXPECT_TRUE(has_events(run(w, RestoreMember{b.org, quinn_in_b}, b.founder),
                         {{organization_stream(b.org), "OrganizationUserRestored", 1512}}));
}

TEST(SingleOrg, AMemberOfASingleOrgOrganizationCannotCreateAnother) {
  EXPECT_STREQ(msg::kSingleOrgForbidsCreating,
               "You may not create an organization. You belong to an organization which has a policy that "
               "prohibits you from being a member of any other organization.");
  World w;
  OwnOrg a = own_org(w, "founder@a.test", "A");
  Actor pat = register_user(w, "pat@example.test", "Pat");
  join(w, a.founder, a.org, pat, "pat@example.test");
  // Without the policy a member creates an organization and joins it as its Owner.
  auto first = run(w, CreateOrganization{"Pat's", PlanType::kFree, 1, "pat@example.test"}, pat);
  ASSERT_TRUE(is_ok(first));
  const OrganizationId pats = first->created_ids.at(0);
  EXPECT_TRUE(has_events(first, {{organization_stream(pats), "OrganizationCreated", 0},
                                 {user_stream(pat.user_id), "UserJoinedOrganization", 0}}));
  EXPECT_EQ(first->events[1].payload.AsUserJoinedOrganization()->organization_id, pats);
  EXPECT_EQ(first->events[1].payload.AsUserJoinedOrganization()->organization_user_id,
            w.organization(pats)->member_by_user_id(pat.user_id)->id);
  EXPECT_EQ(w.user(pat.user_id)->organizations, (std::vector<OrganizationId>{a.org, pats}));
  // With A's policy on, no more.
  enable_single_org(w, a.founder, a.org);
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(
      is_refused(run(w, CreateOrganization{"Pat's second", PlanType::kFree, 1, "pat@example.test"}, pat),
                 ErrorKind::kFailedPrecondition,
                 "You may not create an organization. You belong to an organization which has a policy "
                 "that prohibits you from being a member of any other organization."));
  EXPECT_EQ(w.log().size(), logged);
  EXPECT_EQ(w.user(pat.user_id)->organizations, (std::vector<OrganizationId>{a.org, pats}));
  // A member who only accepted is bound as well.
  Actor quinn = register_user(w, "quinn@example.test", "Quinn");
  join(w, a.founder, a.org, quinn, "quinn@example.test", false);
  EXPECT_TRUE(
      is_refused(run(w, CreateOrganization{"Quinn's", PlanType::kFree, 1, "quinn@example.test"}, quinn),
                 ErrorKind::kFailedPrecondition, msg::kSingleOrgForbidsCreating));
  // Policy off: allowed again.
  run_ok(w, policy_cmd(a.org, PolicyType::kSingleOrg, false), a.founder);
  EXPECT_TRUE(is_ok(run(w, CreateOrganization{"Pat's second", PlanType::kFree, 1, "pat@example.test"}, pat)));
}

// A revoked membership binds nothing, neither the revoked member nor the organization.
TEST(SingleOrg, ARevokedMembershipBindsNothing) {
  World w;
  OwnOrg a = own_org(w, "founder@a.test", "A");
  OwnOrg b = own_org(w, "founder@b.test", "B");
  OwnOrg s = own_org(w, "founder@s.test", "S");
  enable_single_org(w, a.founder, a.org);
  enable_single_org(w, s.founder, s.org);
  Actor pat = register_user(w, "pat@example.test", "Pat");
  const OrganizationUserId pat_in_a = join(w, a.founder, a.org, pat, "pat@example.test");
  run_ok(w, RevokeMember{a.org, pat_in_a}, a.founder);
  // Revoked in A (SingleOrg): joins B and creates an organization.
  MemberInvitation inv = invite_member(w, b.founder, b.org, "pat@example.test");
  EXPECT_TRUE(has_events(run(w, AcceptMember{b.org, inv.id, inv.token}, pat),
                         {{organization_stream(b.org), "OrganizationUserAccepted", 0},
                          {user_stream(pat.user_id), "UserJoinedOrganization", 0}}));
  EXPECT_TRUE(is_ok(run(w, ConfirmMember{b.org, inv.id, kOrgKey}, b.founder)));
  // Revoked in B too now: joins S, which has the policy, though still listed in A and B.
  run_ok(w, RevokeMember{b.org, inv.id}, b.founder);
  EXPECT_EQ(w.user(pat.user_id)->organizations, (std::vector<OrganizationId>{a.org, b.org}));
  MemberInvitation to_s = invite_member(w, s.founder, s.org, "pat@example.test");
  EXPECT_TRUE(is_ok(run(w, AcceptMember{s.org, to_s.id, to_s.token}, pat)));
  EXPECT_TRUE(is_ok(run(w, ConfirmMember{s.org, to_s.id, kOrgKey}, s.founder)));
  // Quinn, revoked in A, creates an organization.
  Actor quinn = register_user(w, "quinn@example.test", "Quinn");
  const OrganizationUserId quinn_in_a = join(w, a.founder, a.org, quinn, "quinn@example.test");
  EXPECT_TRUE(
      is_refused(run(w, CreateOrganization{"Quinn's", PlanType::kFree, 1, "quinn@example.test"}, quinn),
                 ErrorKind::kFailedPrecondition, msg::kSingleOrgForbidsCreating));
  run_ok(w, RevokeMember{a.org, quinn_in_a}, a.founder);
  EXPECT_TRUE(is_ok(run(w, CreateOrganization{"Quinn's", PlanType::kFree, 1, "quinn@example.test"}, quinn)));
}

// An invitation not yet accepted makes nobody a member: it binds nothing.
TEST(SingleOrg, AnInvitationAloneBindsNothing) {
  World w;
  OwnOrg a = own_org(w, "founder@a.test", "A");
  OwnOrg b = own_org(w, "founder@b.test", "B");
  enable_single_org(w, a.founder, a.org);
  Actor pat = register_user(w, "pat@example.test", "Pat");
  MemberInvitation to_a = invite_member(w, a.founder, a.org, "pat@example.test");
  // Only invited to A: joins B and creates an organization.
  join(w, b.founder, b.org, pat, "pat@example.test");
  EXPECT_TRUE(is_ok(run(w, CreateOrganization{"Pat's", PlanType::kFree, 1, "pat@example.test"}, pat)));
  // But now accepting A's invitation is refused.
  EXPECT_TRUE(is_refused(run(w, AcceptMember{a.org, to_a.id, to_a.token}, pat),
                         ErrorKind::kFailedPrecondition, msg::kLeaveOtherOrganizationsFirst));
}

// Provider membership is not organization membership: provider users administer a
// SingleOrg client while members of other organizations, and a client's SingleOrg
// never binds them.
TEST(SingleOrg, ProviderUsersAreNotBoundAsMembers) {
  World w;
  Cast c = build_cast(w);
  // The provider's owner belongs to an organization of their own, with SingleOrg on.
  const OrganizationId northwind =
      create_organization(w, c.owner, "Northwind internal", PlanType::kTeamsMonthly, 5, "it@northwind.test");
  run_ok(w, policy_cmd(northwind, PolicyType::kSingleOrg, true), c.owner);
  // Contoso, a client, has SingleOrg on too (enabled by a provider user).
  auto policy = run(w, policy_cmd(c.adopted_org, PolicyType::kSingleOrg, true), c.service_user);
  EXPECT_TRUE(has_events(policy, {{organization_stream(c.adopted_org), "PolicyUpdated", kPolicyUpdated}}));
  EXPECT_TRUE(recorded_as(policy, c.service_user, ActingAs::kProviderUser, c.provider));
  // The owner still administers Contoso: collections, policies, members.
  auto coll = run(w, create_cmd(c.adopted_org, kCollName), c.owner);
  EXPECT_TRUE(
      has_events(coll, {{organization_stream(c.adopted_org), "CollectionCreated", kCollectionCreated}}));
  EXPECT_TRUE(recorded_as(coll, c.owner, ActingAs::kProviderUser, c.provider));
  EXPECT_TRUE(is_ok(run(w, policy_cmd(c.adopted_org, PolicyType::kRequireSso, true), c.owner)));
  EXPECT_TRUE(is_ok(
      run(w, InviteMembers{c.adopted_org, {"new@contoso.test"}, OrganizationUserType::kUser, {}, {}, {}},
          c.owner)));
  // Contoso's SingleOrg does not bind the service user, who is no member of it:
  // they join another organization and create one.
  OwnOrg b = own_org(w, "founder@b.test", "B");
  join(w, b.founder, b.org, c.service_user, std::string(kServiceUserEmail));
  EXPECT_TRUE(is_ok(
      run(w, CreateOrganization{"Sam's", PlanType::kFree, 1, "service@northwind.test"}, c.service_user)));
  // And still administer Contoso.
  EXPECT_TRUE(is_ok(run(w, policy_cmd(c.adopted_org, PolicyType::kDisableSend, true), c.service_user)));
  EXPECT_EQ(w.user(c.owner.user_id)->organizations, (std::vector<OrganizationId>{northwind}));
  // Contoso's members are bound as usual.
  Member contoso_user =
      add_member(w, c.client_owner, c.adopted_org, "user@contoso.test", OrganizationUserType::kUser);
  EXPECT_TRUE(is_refused(
      run(w, CreateOrganization{"User's", PlanType::kFree, 1, "user@contoso.test"}, contoso_user.actor),
      ErrorKind::kFailedPrecondition, msg::kSingleOrgForbidsCreating));
}

// ================================================================================================
// OrganizationDataOwnership
// ================================================================================================

void enable_data_ownership(World& w, const Actor& by, const OrganizationId& org) {
  run_ok(w, policy_cmd(org, PolicyType::kOrganizationDataOwnership, true), by);
}

TEST(DataOwnership, AMemberCannotCreateAPersonalItem) {
  EXPECT_STREQ(
      msg::kPersonalOwnershipPolicy,
      "Due to an Enterprise Policy, you are restricted from saving items to your personal vault. Change "
      "the ownership option to an organization and choose from available collections.");
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  // Before the policy a User keeps personal items.
  auto before = run(w, personal_item(), t.user.actor);
  ASSERT_TRUE(is_ok(before));
  EXPECT_TRUE(
      has_events(before, {{item_stream(before->created_ids.at(0)), "CipherCreated", kCipherCreated}}));
  enable_data_ownership(w, c.client_owner, t.org);
  const std::size_t logged = w.log().size();
  // Confirmed Users and Custom members, and accepted members.
  for (const Member* m : {&t.user, &t.creator, &t.policy_manager, &t.accepted}) {
    SCOPED_TRACE(m->actor.user_id.to_string());
    EXPECT_TRUE(
        is_refused(run(w, personal_item(), m->actor), ErrorKind::kFailedPrecondition,
                   "Due to an Enterprise Policy, you are restricted from saving items to your personal "
                   "vault. Change the ownership option to an organization and choose from available "
                   "collections."));
  }
  EXPECT_EQ(w.log().size(), logged);
  // The item created before stays.
  EXPECT_TRUE(w.item(before->created_ids.at(0))->exists);
}

TEST(DataOwnership, OwnersAndAdminsAreExempt) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  enable_data_ownership(w, c.client_owner, t.org);
  for (const Actor* a : {&c.client_owner, &t.admin.actor}) {
    SCOPED_TRACE(a->user_id.to_string());
    auto r = run(w, personal_item(), *a);
    ASSERT_TRUE(is_ok(r));
    const ItemId id = r->created_ids.at(0);
    EXPECT_TRUE(has_events(r, {{item_stream(id), "CipherCreated", kCipherCreated}}));
    EXPECT_TRUE(recorded_as(r, *a, ActingAs::kDirect));
    EXPECT_EQ(w.item(id)->owner, a->user_id);
    EXPECT_FALSE(w.item(id)->organization_id.has_value());
  }
  // Provider users are no members of their clients: their own vault is theirs.
  EXPECT_TRUE(is_ok(run(w, personal_item(), c.owner)));
  EXPECT_TRUE(is_ok(run(w, personal_item(), c.service_user)));
}

TEST(DataOwnership, InvitedRevokedAndRemovedMembersAreNotBound) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  enable_data_ownership(w, c.client_owner, t.org);
  // Registered and invited only.
  Actor invitee = register_user(w, "invitee@contoso.test");
  invite_member(w, c.client_owner, t.org, "invitee@contoso.test");
  EXPECT_TRUE(is_ok(run(w, personal_item(), invitee)));
  // Revoked.
  EXPECT_TRUE(is_ok(run(w, personal_item(), t.revoked.actor)));
  // Removed.
  run_ok(w, RemoveMember{t.org, t.user2.id}, c.client_owner);
  EXPECT_TRUE(is_ok(run(w, personal_item(), t.user2.actor)));
  // Anyone else.
  EXPECT_TRUE(is_ok(run(w, personal_item(), c.unrelated)));
}

TEST(DataOwnership, AfterThePolicyIsDisabledAnyoneCan) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  enable_data_ownership(w, c.client_owner, t.org);
  ASSERT_TRUE(is_refused(run(w, personal_item(), t.user.actor), ErrorKind::kFailedPrecondition,
                         msg::kPersonalOwnershipPolicy));
  auto off = run(w, policy_cmd(t.org, PolicyType::kOrganizationDataOwnership, false), c.owner);
  EXPECT_TRUE(has_events(off, {{organization_stream(t.org), "PolicyUpdated", kPolicyUpdated}}));
  for (const Member* m : {&t.user, &t.creator, &t.accepted}) {
    SCOPED_TRACE(m->actor.user_id.to_string());
    auto r = run(w, personal_item(), m->actor);
    ASSERT_TRUE(is_ok(r));
    EXPECT_EQ(w.item(r->created_ids.at(0))->owner, m->actor.user_id);
  }
}

// Only the organizations with the policy bind; another organization's members are free.
TEST(DataOwnership, OnlyMembersOfAnOrganizationWithThePolicyAreBound) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  enable_data_ownership(w, c.owner, c.new_client_org);
  EXPECT_TRUE(is_ok(run(w, personal_item(), t.user.actor)));
  // A member of two organizations is bound by the one that has it.
  OwnOrg other = own_org(w, "founder@other.test", "Other");
  join(w, other.founder, other.org, t.user.actor, "user@contoso.test");
  enable_data_ownership(w, other.founder, other.org);
  EXPECT_TRUE(is_refused(run(w, personal_item(), t.user.actor), ErrorKind::kFailedPrecondition,
                         msg::kPersonalOwnershipPolicy));
  // Being an Admin of Contoso does not exempt them from Other's policy.
  run_ok(w, UpdateMember{t.org, t.user.id, OrganizationUserType::kAdmin, {}}, c.client_owner);
  EXPECT_TRUE(is_refused(run(w, personal_item(), t.user.actor), ErrorKind::kFailedPrecondition,
                         msg::kPersonalOwnershipPolicy));
}

TEST(DataOwnership, OrganizationItemsAreStillAllowed) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const CollectionId coll =
      create_collection(w, c.client_owner, t.org, kCollName, {}, {grant(t.user.id, false, false, false)});
  enable_data_ownership(w, c.client_owner, t.org);
  auto r = run(w, org_item(t.org, {coll}), t.user.actor);
  ASSERT_TRUE(is_ok(r));
  const ItemId id = r->created_ids.at(0);
  EXPECT_TRUE(has_events(r, {{item_stream(id), "CipherCreated", kCipherCreated}}));
  EXPECT_TRUE(recorded_as(r, t.user.actor, ActingAs::kDirect));
  const auto& e = *r->events[0].payload.AsCipherCreated();
  EXPECT_EQ(e.organization_id, t.org);
  EXPECT_EQ(e.collection_ids, (std::vector<CollectionId>{coll}));
  EXPECT_EQ(w.item(id)->organization_id, t.org);
  EXPECT_FALSE(w.item(id)->owner.has_value());
}
}  // namespace
}  // namespace portal::domain::test
