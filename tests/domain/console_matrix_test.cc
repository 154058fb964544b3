// Console and vault matrix (issue 4): every command of a client organization's admin
// console and vault, plus reading an item (domain::item_rights) and seeing the console
// (domain::may_view_organization), x every kind of actor a client organization knows.
// Each cell is allowed, or refused with exactly the ErrorKind (and, where the rules
// give one, the message) of decide.h:
//   - console commands (members, groups, collections, policies): a confirmed Owner,
//     an Admin, a Custom member holding the one permission the command needs, a
//     member who manages the collection (collection updates and deletes), and the
//     confirmed users of the managing provider, who act as Owners. Other members, of
//     any status, get kPermissionDenied; everyone else kNotFound;
//   - vault commands: item_rights. Owners, Admins and Custom members with
//     edit_any_collection edit and manage every item; other members reach an item
//     through its collections (or it does not exist for them: kNotFound), edit it with
//     a grant that is not read-only, manage it with a managing grant; the provider's
//     confirmed users have no vault there (kPermissionDenied,
//     msg::kProviderUsersHaveNoVault); revoked members and outsiders get kNotFound.
// The organization under test is Contoso, a client of the cast's provider. Each cell
// builds a fresh world, so cells are independent and a failing cell names its row and
// actor in the test name (CreateCollection_by_custom_create_new_collections).
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "domain_test_support.h"
#include "portal/domain/messages.h"

namespace portal::domain::test {
namespace {

enum class Role {
  kOwner,
  kAdmin,
  kUserNoAccess,  // a confirmed User in no collection
  kUserReadOnly,  // a confirmed User with read-only access to the item's collection
  kUserManage,    // a confirmed User who manages the item's collections
  kCustomManageUsers,
  kCustomManageGroups,
  kCustomManagePolicies,
  kCustomCreateNewCollections,
  kCustomEditAnyCollection,
  kCustomDeleteAnyCollection,
  kCustomAccessEventLogs,
  kProviderAdmin,      // a confirmed ProviderAdmin of Contoso's provider
  kServiceUser,        // a confirmed ServiceUser of Contoso's provider
  kOtherProviderUser,  // a confirmed ProviderAdmin of another provider
  kOtherClientMember,  // the confirmed Owner of another client of the same provider
  kRevokedMember,      // an Admin of Contoso, revoked
};
constexpr std::array kRoles = {Role::kOwner,
                               Role::kAdmin,
                               Role::kUserNoAccess,
                               Role::kUserReadOnly,
                               Role::kUserManage,
                               Role::kCustomManageUsers,
                               Role::kCustomManageGroups,
                               Role::kCustomManagePolicies,
                               Role::kCustomCreateNewCollections,
                               Role::kCustomEditAnyCollection,
                               Role::kCustomDeleteAnyCollection,
                               Role::kCustomAccessEventLogs,
                               Role::kProviderAdmin,
                               Role::kServiceUser,
                               Role::kOtherProviderUser,
                               Role::kOtherClientMember,
                               Role::kRevokedMember};

const char* role_name(Role role) {
  switch (role) {
    case Role::kOwner: return "owner";
    case Role::kAdmin: return "admin";
    case Role::kUserNoAccess: return "user_without_access";
    case Role::kUserReadOnly: return "user_read_only";
    case Role::kUserManage: return "user_manage";
    case Role::kCustomManageUsers: return "custom_manage_users";
    case Role::kCustomManageGroups: return "custom_manage_groups";
    case Role::kCustomManagePolicies: return "custom_manage_policies";
    case Role::kCustomCreateNewCollections: return "custom_create_new_collections";
    case Role::kCustomEditAnyCollection: return "custom_edit_any_collection";
    case Role::kCustomDeleteAnyCollection: return "custom_delete_any_collection";
    case Role::kCustomAccessEventLogs: return "custom_access_event_logs";
    case Role::kProviderAdmin: return "provider_admin";
    case Role::kServiceUser: return "service_user";
    case Role::kOtherProviderUser: return "other_provider_user";
    case Role::kOtherClientMember: return "other_client_member";
    case Role::kRevokedMember: return "revoked_member";
  }
  return "?";
}

bool is_provider_user(Role role) {
  return role == Role::kProviderAdmin || role == Role::kServiceUser;
}

// Custom members, each holding exactly one permission.
const std::map<Role, bool Permissions::*>& custom_permissions() {
  static const std::map<Role, bool Permissions::*> kCustoms = {
      {Role::kCustomManageUsers, &Permissions::manage_users},
      {Role::kCustomManageGroups, &Permissions::manage_groups},
      {Role::kCustomManagePolicies, &Permissions::manage_policies},
      {Role::kCustomCreateNewCollections, &Permissions::create_new_collections},
      {Role::kCustomEditAnyCollection, &Permissions::edit_any_collection},
      {Role::kCustomDeleteAnyCollection, &Permissions::delete_any_collection},
      {Role::kCustomAccessEventLogs, &Permissions::access_event_logs},
  };
  return kCustoms;
}

constexpr const char* kEnc = "2.aXY=|Y3Q=|bWFj";
constexpr const char* kOtherEnc = "2.bmV3|Y3Q=|bWFj";
constexpr int kContosoSeats = 40;  // room for every member and every row's newcomer

ItemContent content(const char* name = kEnc) {
  return ItemContent{name, "", {}};
}

// --- the console's world --------------------------------------------------------------------------

struct Console {
  Cast cast;
  OrganizationId org;  // Contoso: a client of cast.provider, owned by cast.client_owner
  std::map<Role, Actor> actors;
  std::map<Role, OrganizationUserId> members;  // Contoso memberships of the roles that have one
  CollectionId shared;                         // the item's collection
  std::vector<CollectionAccess> shared_users;  // its member access, as made
  CollectionId second;                         // a second collection the manager also manages
  GroupId group;                               // a group of Contoso, no members, no access
  ItemId item;                                 // an item of Contoso in `shared`
};

Console build_console(World& w) {
  Console c;
  c.cast = build_cast(w);
  c.org = c.cast.adopted_org;
  const Actor owner = c.cast.client_owner;
  // Contoso starts with 5 seats: its provider's admin buys room for everyone.
  run_ok(w,
         UpdateClientOrg{c.cast.provider, c.cast.adopted_client, w.organization(c.org)->name, kContosoSeats},
         c.cast.owner);
  c.actors[Role::kOwner] = owner;
  c.members[Role::kOwner] = w.organization(c.org)->member_by_user_id(owner.user_id)->id;

  auto join = [&](Role role, const std::string& email, OrganizationUserType type,
                  Permissions permissions = {}) {
    Member m = add_member(w, owner, c.org, email, type, permissions);
    c.actors[role] = m.actor;
    c.members[role] = m.id;
  };
  join(Role::kAdmin, "admin@contoso.test", OrganizationUserType::kAdmin);
  join(Role::kUserNoAccess, "user-none@contoso.test", OrganizationUserType::kUser);
  join(Role::kUserReadOnly, "user-ro@contoso.test", OrganizationUserType::kUser);
  join(Role::kUserManage, "user-manage@contoso.test", OrganizationUserType::kUser);
  for (const auto& [role, permission] : custom_permissions()) {
    Permissions p;
    p.*permission = true;
    join(role, std::string(role_name(role)) + "@contoso.test", OrganizationUserType::kCustom, p);
  }
  join(Role::kRevokedMember, "revoked@contoso.test", OrganizationUserType::kAdmin);
  run_ok(w, RevokeMember{c.org, c.members[Role::kRevokedMember]}, owner);

  c.actors[Role::kProviderAdmin] = c.cast.owner;
  c.actors[Role::kServiceUser] = c.cast.service_user;

  // Another provider, with its own confirmed admin.
  const std::string other_admin_email = "admin@fabrikam-msp.test";
  c.actors[Role::kOtherProviderUser] = register_user(w, other_admin_email, "Fiona Fabrikam");
  set_up_provider(w, c.cast.staff, c.actors[Role::kOtherProviderUser], other_admin_email);

  // Another client of the same provider, with its own confirmed Owner (confirmed by
  // the provider's admin, who acts as an Owner there).
  const std::string initech_owner_email = "owner@initech.test";
  Actor initech_owner = register_user(w, initech_owner_email, "Ines Initech");
  NewClient initech = add_new_client(w, c.cast.owner, c.cast.provider, "Initech", initech_owner_email);
  run_ok(w, AcceptMember{initech.organization_id, initech.owner_organization_user_id, initech.owner_token},
         initech_owner);
  run_ok(w, ConfirmMember{initech.organization_id, initech.owner_organization_user_id, kOrgKey},
         c.cast.owner);
  c.actors[Role::kOtherClientMember] = initech_owner;

  // Collections: the read-only user reads `shared`; the manager manages both.
  c.shared_users = {CollectionAccess{c.members[Role::kUserReadOnly], true, false, false},
                    CollectionAccess{c.members[Role::kUserManage], false, false, true}};
  c.shared = run_ok(w, CreateCollection{c.org, kEnc, {}, c.shared_users}, owner).created_ids.at(0);
  c.second =
      run_ok(w,
             CreateCollection{
                 c.org, kOtherEnc, {}, {CollectionAccess{c.members[Role::kUserManage], false, false, true}}},
             owner)
          .created_ids.at(0);
  c.group = run_ok(w, CreateGroup{c.org, "Accounting", {}}, owner).created_ids.at(0);
  c.item = run_ok(w, CreateItem{CipherType::kLogin, c.org, {c.shared}, content()}, owner).created_ids.at(0);
  return c;
}

// A member of Contoso for member-management rows to act on, made by its Owner: a User,
// accepted, then optionally confirmed and revoked.
OrganizationUserId target_member(World& w, const Console& c, bool confirm, bool revoke) {
  const std::string email = "target@contoso.test";
  Actor target = register_user(w, email, "Tara Target");
  MemberInvitation inv = invite_member(w, c.cast.client_owner, c.org, email);
  run_ok(w, AcceptMember{c.org, inv.id, inv.token}, target);
  if (confirm) run_ok(w, ConfirmMember{c.org, inv.id, kOrgKey}, c.cast.client_owner);
  if (revoke) run_ok(w, RevokeMember{c.org, inv.id}, c.cast.client_owner);
  return inv.id;
}

// --- what a row does ------------------------------------------------------------------------------

// The two reads the matrix covers besides commands.
struct ReadItem {
  ItemId item_id;
};
struct ViewConsole {
  OrganizationId organization_id;
};
using Probe = std::variant<Command, ReadItem, ViewConsole>;

// What one cell expects. kind empty: allowed (a command records events; a read
// succeeds, with these rights for ReadItem).
struct Outcome {
  std::optional<ErrorKind> kind;
  std::optional<std::string> message;
  std::optional<ItemRights> rights;
};

Outcome allowed() {
  return {};
}
Outcome allowed_with(ItemRights rights) {
  return {std::nullopt, std::nullopt, rights};
}
Outcome not_found() {
  return {ErrorKind::kNotFound, std::nullopt, std::nullopt};
}
Outcome denied(std::optional<std::string> message = std::nullopt) {
  return {ErrorKind::kPermissionDenied, std::move(message), std::nullopt};
}
Outcome no_vault() {
  return denied(msg::kProviderUsersHaveNoVault);
}

using Expectations = std::map<Role, Outcome>;

// Console commands: `managers` may; every other member of Contoso (of any status:
// the revoked one too) is refused openly; everyone else never learns Contoso exists.
Expectations console(const std::set<Role>& managers) {
  Expectations e;
  for (Role role : kRoles) {
    if (managers.count(role) > 0) {
      e[role] = allowed();
    } else if (role == Role::kOtherProviderUser || role == Role::kOtherClientMember) {
      e[role] = not_found();
    } else {
      e[role] = denied();
    }
  }
  return e;
}

// Who manages whom: Owners, Admins, provider users and the one Custom permission.
std::set<Role> console_managers(Role custom) {
  return {Role::kOwner, Role::kAdmin, custom, Role::kProviderAdmin, Role::kServiceUser};
}

// Vault rows are written out role by role.
const Outcome kNoEdit = denied(msg::kNoEditPermission);
const Outcome kNoDelete = denied(msg::kNoDeletePermission);

// An item command on Contoso's item in `shared`: whoever can edit it (Owner, Admin,
// Custom edit_any_collection, the manager); the read-only user sees it but may not;
// the rest of the members reach it through no collection (kNotFound).
Expectations edit_item(const Outcome& read_only) {
  return {
      {Role::kOwner, allowed()},
      {Role::kAdmin, allowed()},
      {Role::kUserNoAccess, not_found()},
      {Role::kUserReadOnly, read_only},
      {Role::kUserManage, allowed()},
      {Role::kCustomManageUsers, not_found()},
      {Role::kCustomManageGroups, not_found()},
      {Role::kCustomManagePolicies, not_found()},
      {Role::kCustomCreateNewCollections, not_found()},
      {Role::kCustomEditAnyCollection, allowed()},
      {Role::kCustomDeleteAnyCollection, not_found()},
      {Role::kCustomAccessEventLogs, not_found()},
      {Role::kProviderAdmin, no_vault()},
      {Role::kServiceUser, no_vault()},
      {Role::kOtherProviderUser, not_found()},
      {Role::kOtherClientMember, not_found()},
      {Role::kRevokedMember, not_found()},
  };
}

struct Row {
  std::string name;
  std::function<Probe(World&, const Console&)> make;
  Expectations expected;
};

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = [] {
    std::vector<Row> r;
    // --- members: "a member manager" (Custom: manage_users) ---
    const Expectations members = console(console_managers(Role::kCustomManageUsers));
    r.push_back({"InviteMembers",
                 [](World&, const Console& c) -> Probe {
                   return Command{
                       InviteMembers{c.org, {"new@contoso.test"}, OrganizationUserType::kUser, {}, {}, {}}};
                 },
                 members});
    r.push_back({"ConfirmMember",
                 [](World& w, const Console& c) -> Probe {
                   return Command{ConfirmMember{c.org, target_member(w, c, false, false), kOrgKey}};
                 },
                 members});
    r.push_back({"UpdateMember",
                 [](World& w, const Console& c) -> Probe {
                   return Command{UpdateMember{
                       c.org, target_member(w, c, true, false), OrganizationUserType::kAdmin, {}}};
                 },
                 members});
    r.push_back({"RemoveMember",
                 [](World& w, const Console& c) -> Probe {
                   return Command{RemoveMember{c.org, target_member(w, c, true, false)}};
                 },
                 members});
    r.push_back({"RevokeMember",
                 [](World& w, const Console& c) -> Probe {
                   return Command{RevokeMember{c.org, target_member(w, c, true, false)}};
                 },
                 members});
    r.push_back({"RestoreMember",
                 [](World& w, const Console& c) -> Probe {
                   return Command{RestoreMember{c.org, target_member(w, c, true, true)}};
                 },
                 members});

    // --- groups: "a group manager" (Custom: manage_groups, not manage_users) ---
    const Expectations groups = console(console_managers(Role::kCustomManageGroups));
    r.push_back({"CreateGroup",
                 [](World&, const Console& c) -> Probe {
                   return Command{CreateGroup{c.org, "Finance", {}}};
                 },
                 groups});
    r.push_back({"UpdateGroup",
                 [](World&, const Console& c) -> Probe {
                   return Command{UpdateGroup{c.org, c.group, "Finance"}};
                 },
                 groups});
    r.push_back({"DeleteGroup",
                 [](World&, const Console& c) -> Probe {
                   return Command{DeleteGroup{c.org, c.group}};
                 },
                 groups});
    r.push_back({"SetGroupMembers",
                 [](World&, const Console& c) -> Probe {
                   return Command{SetGroupMembers{c.org, c.group, {c.members.at(Role::kUserNoAccess)}}};
                 },
                 groups});

    // --- collections ---
    r.push_back({"CreateCollection",
                 [](World&, const Console& c) -> Probe {
                   return Command{CreateCollection{c.org, kOtherEnc, {}, {}}};
                 },
                 console(console_managers(Role::kCustomCreateNewCollections))});
    // "or a member who manages that collection": the manager of `shared` may too. The
    // access list is kept as it is; only the name changes.
    {
      std::set<Role> editors = console_managers(Role::kCustomEditAnyCollection);
      editors.insert(Role::kUserManage);
      r.push_back({"UpdateCollection",
                   [](World&, const Console& c) -> Probe {
                     return Command{UpdateCollection{c.org, c.shared, kOtherEnc, {}, c.shared_users}};
                   },
                   console(editors)});
      std::set<Role> deleters = console_managers(Role::kCustomDeleteAnyCollection);
      deleters.insert(Role::kUserManage);
      r.push_back({"DeleteCollection",
                   [](World&, const Console& c) -> Probe {
                     return Command{DeleteCollection{c.org, c.shared}};
                   },
                   console(deleters)});
    }

    // --- policies ---
    r.push_back({"SavePolicy",
                 [](World&, const Console& c) -> Probe {
                   return Command{SavePolicy{c.org, PolicyType::kTwoFactorAuthentication, true, ""}};
                 },
                 console(console_managers(Role::kCustomManagePolicies))});

    // --- the vault ---
    // An organization item in `shared`: "a confirmed member who can edit every chosen
    // collection". The collection exists, so members who cannot write it are refused
    // openly (kNoEditPermission), not told it is missing.
    {
      Expectations e = edit_item(kNoEdit);
      for (Role role : {Role::kUserNoAccess, Role::kCustomManageUsers, Role::kCustomManageGroups,
                        Role::kCustomManagePolicies, Role::kCustomCreateNewCollections,
                        Role::kCustomDeleteAnyCollection, Role::kCustomAccessEventLogs}) {
        e[role] = kNoEdit;
      }
      r.push_back({"CreateItem",
                   [](World&, const Console& c) -> Probe {
                     return Command{CreateItem{CipherType::kLogin, c.org, {c.shared}, content(kOtherEnc)}};
                   },
                   e});
    }
    r.push_back({"UpdateItem",
                 [](World&, const Console& c) -> Probe {
                   return Command{UpdateItem{c.item, content(kOtherEnc)}};
                 },
                 edit_item(kNoEdit)});
    r.push_back({"SoftDeleteItem",
                 [](World&, const Console& c) -> Probe { return Command{SoftDeleteItem{c.item}}; },
                 edit_item(kNoEdit)});
    r.push_back({"RestoreItem",
                 [](World& w, const Console& c) -> Probe {
                   run_ok(w, SoftDeleteItem{c.item}, c.cast.client_owner);
                   return Command{RestoreItem{c.item}};
                 },
                 edit_item(kNoEdit)});
    // "whoever manages the item"; the read-only user sees it but may not.
    r.push_back({"PurgeItem", [](World&, const Console& c) -> Probe { return Command{PurgeItem{c.item}}; },
                 edit_item(kNoDelete)});
    // The item goes from `shared` into `shared` and `second`: the manager writes both.
    r.push_back({"UpdateItemCollections",
                 [](World&, const Console& c) -> Probe {
                   return Command{UpdateItemCollections{c.item, {c.shared, c.second}}};
                 },
                 edit_item(kNoEdit)});
    // Reading the item: item_rights, with the rights each reader gets.
    {
      Expectations e = edit_item(allowed());
      const ItemRights full{true, true, false};
      for (Role role : {Role::kOwner, Role::kAdmin, Role::kCustomEditAnyCollection, Role::kUserManage})
        e[role] = allowed_with(full);
      e[Role::kUserReadOnly] = allowed_with(ItemRights{false, false, false});
      r.push_back({"ReadItem", [](World&, const Console& c) -> Probe { return ReadItem{c.item}; }, e});
    }
    // The console itself: any confirmed member, or a confirmed user of its provider.
    {
      Expectations e;
      for (Role role : kRoles) e[role] = allowed();
      e[Role::kOtherProviderUser] = not_found();
      e[Role::kOtherClientMember] = not_found();
      e[Role::kRevokedMember] = not_found();
      r.push_back({"ViewConsole", [](World&, const Console& c) -> Probe { return ViewConsole{c.org}; }, e});
    }
    return r;
  }();
  return kRows;
}

// --- the cells --------------------------------------------------------------------------------------

::testing::AssertionResult matches(const Error& e, const Outcome& expected) {
  if (e.kind != *expected.kind || (expected.message && e.message != *expected.message)) {
    return ::testing::AssertionFailure()
           << "expected " << to_string(*expected.kind)
           << (expected.message ? " \"" + *expected.message + "\"" : std::string()) << ", got "
           << describe(e);
  }
  return ::testing::AssertionSuccess();
}

using Cell = std::tuple<std::size_t, std::size_t>;  // (row, role index)

class ConsoleMatrix : public ::testing::TestWithParam<Cell> {};

TEST_P(ConsoleMatrix, Cell) {
  const Row& row = rows()[std::get<0>(GetParam())];
  const Role role = kRoles[std::get<1>(GetParam())];
  SCOPED_TRACE(row.name + " x " + role_name(role));
  const auto it = row.expected.find(role);
  ASSERT_NE(it, row.expected.end()) << "the row has no cell for this role";
  const Outcome& expected = it->second;

  World world;
  Console console = build_console(world);
  Probe probe = row.make(world, console);
  const Actor& actor = console.actors.at(role);

  if (const auto* command = std::get_if<Command>(&probe)) {
    Expected<Decision> result = run(world, *command, actor);
    if (!expected.kind) {
      ASSERT_TRUE(is_ok(result));
      EXPECT_FALSE(result->events.empty()) << "allowed cells must record what was done";
      // Provider users act as such, and the events name their provider; members act directly.
      if (is_provider_user(role)) {
        EXPECT_TRUE(recorded_as(result, actor, ActingAs::kProviderUser, console.cast.provider));
      } else {
        EXPECT_TRUE(recorded_as(result, actor, ActingAs::kDirect));
      }
      return;
    }
    ASSERT_FALSE(result.ok()) << "expected a refusal, got " << describe(result.value());
    EXPECT_TRUE(matches(result.error(), expected));
    return;
  }
  if (const auto* read = std::get_if<ReadItem>(&probe)) {
    const ItemState* item = world.item(read->item_id);
    ASSERT_NE(item, nullptr);
    Expected<ItemRights> rights = item_rights(*item, actor, world);
    if (!expected.kind) {
      ASSERT_TRUE(rights.ok()) << "refused: " << describe(rights.error());
      ASSERT_TRUE(expected.rights.has_value());
      EXPECT_EQ(rights->edit, expected.rights->edit);
      EXPECT_EQ(rights->manage, expected.rights->manage);
      EXPECT_EQ(rights->hide_passwords, expected.rights->hide_passwords);
      return;
    }
    ASSERT_FALSE(rights.ok()) << "expected a refusal, got rights";
    EXPECT_TRUE(matches(rights.error(), expected));
    return;
  }
  const auto& view = std::get<ViewConsole>(probe);
  Expected<bool> may = may_view_organization(view.organization_id, actor, world);
  if (!expected.kind) {
    ASSERT_TRUE(may.ok()) << "refused: " << describe(may.error());
    EXPECT_TRUE(may.value());
    return;
  }
  ASSERT_FALSE(may.ok()) << "expected a refusal, got " << may.value();
  EXPECT_TRUE(matches(may.error(), expected));
}

INSTANTIATE_TEST_SUITE_P(AllRows, ConsoleMatrix,
                         ::testing::Combine(::testing::Range<std::size_t>(0, rows().size()),
                                            ::testing::Range<std::size_t>(0, kRoles.size())),
                         [](const ::testing::TestParamInfo<Cell>& info) {
                           return rows()[std::get<0>(info.param)].name + "_by_" +
                                  role_name(kRoles[std::get<1>(info.param)]);
                         });

// --- the table itself ---------------------------------------------------------------------------------

// Every row says what happens to every role, and to nothing else.
TEST(ConsoleMatrixTable, CoversEveryRoleForEveryRow) {
  ASSERT_EQ(custom_permissions().size(), 7u) << "one Custom role per permission";
  for (const Row& row : rows()) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(row.expected.size(), kRoles.size());
    for (Role role : kRoles) EXPECT_EQ(row.expected.count(role), 1u) << "no cell for " << role_name(role);
    for (const auto& [role, outcome] : row.expected) {
      EXPECT_TRUE(std::find(kRoles.begin(), kRoles.end(), role) != kRoles.end());
      if (outcome.rights) {
        EXPECT_EQ(row.name, "ReadItem") << "only reads of an item expect rights";
      }
    }
  }
}

// Every console and vault command of issue 4 has a row (AcceptMember is the invitee's
// own, ShareItem starts from a personal item: both are in authorization_matrix_test),
// and so do the two reads.
TEST(ConsoleMatrixTable, CoversEveryConsoleCommand) {
  const std::vector<Command> required = {
      InviteMembers{},    ConfirmMember{},    UpdateMember{},     RemoveMember{}, RevokeMember{},
      RestoreMember{},    CreateGroup{},      UpdateGroup{},      DeleteGroup{},  SetGroupMembers{},
      CreateCollection{}, UpdateCollection{}, DeleteCollection{}, SavePolicy{},   CreateItem{},
      UpdateItem{},       SoftDeleteItem{},   RestoreItem{},      PurgeItem{},    UpdateItemCollections{},
  };
  std::set<std::size_t> seen_commands;
  bool reads_item = false;
  bool views_console = false;
  std::set<std::string> names;
  for (const Row& row : rows()) {
    EXPECT_TRUE(names.insert(row.name).second) << "two rows named " << row.name;
    World world;
    Console console = build_console(world);
    Probe probe = row.make(world, console);
    if (const auto* command = std::get_if<Command>(&probe)) {
      EXPECT_EQ(row.name, command_name(*command)) << "a row is named after its command";
      seen_commands.insert(command->index());
    }
    reads_item = reads_item || std::holds_alternative<ReadItem>(probe);
    views_console = views_console || std::holds_alternative<ViewConsole>(probe);
  }
  for (const Command& c : required)
    EXPECT_EQ(seen_commands.count(c.index()), 1u) << "no row for " << command_name(c);
  EXPECT_EQ(seen_commands.size(), required.size());
  EXPECT_TRUE(reads_item) << "no row reads an item (item_rights)";
  EXPECT_TRUE(views_console) << "no row views the console (may_view_organization)";
}

}  // namespace
}  // namespace portal::domain::test
