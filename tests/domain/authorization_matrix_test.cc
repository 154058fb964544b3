// Authorization matrix: every command x every kind of actor, each cell allowed or
// refused exactly as decide.h documents ("Who may run what"):
//   - outsiders (unrelated users, the client's own Owner, and invited or accepted
//     provider users, who are not members yet) get kNotFound: the provider is
//     invisible to them;
//   - members lacking the role, and staff where staff is not named, get
//     kPermissionDenied;
//   - staff-only commands refuse everyone else with kPermissionDenied;
//   - in a client's vault, the provider's confirmed users are refused with
//     kPermissionDenied (msg::kProviderUsersHaveNoVault): they run the console as
//     Owners but have no vault there; personal items are the actor's own.
// Each cell builds a fresh world, so cells are independent and a failing cell
// names its command and actor in the test name.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain_test_support.h"
#include "portal/domain/messages.h"

namespace portal::domain::test {
namespace {

enum class Role { kStaff, kAdmin, kInvitedAdmin, kAcceptedAdmin, kServiceUser, kClientOwner, kUnrelated };
constexpr std::array kRoles = {Role::kStaff,         Role::kAdmin,       Role::kInvitedAdmin,
                               Role::kAcceptedAdmin, Role::kServiceUser, Role::kClientOwner,
                               Role::kUnrelated};

const char* role_name(Role role) {
  switch (role) {
    case Role::kStaff: return "staff";
    case Role::kAdmin: return "confirmed_admin";
    case Role::kInvitedAdmin: return "invited_admin";
    case Role::kAcceptedAdmin: return "accepted_admin";
    case Role::kServiceUser: return "service_user";
    case Role::kClientOwner: return "client_owner";
    case Role::kUnrelated: return "unrelated_user";
  }
  return "?";
}

const Actor& actor_for(const Cast& cast, Role role) {
  switch (role) {
    case Role::kStaff: return cast.staff;
    case Role::kAdmin: return cast.owner;
    case Role::kInvitedAdmin: return cast.invited_admin;
    case Role::kAcceptedAdmin: return cast.accepted_admin;
    case Role::kServiceUser: return cast.service_user;
    case Role::kClientOwner: return cast.client_owner;
    case Role::kUnrelated: return cast.unrelated;
  }
  return cast.unrelated;
}

// What one cell expects. kind empty: allowed (the command succeeds and records events).
struct Outcome {
  std::optional<ErrorKind> kind;
  std::optional<std::string> message;
  std::string why;  // for refusals that are not about authorization: the reason
};

Outcome allowed() {
  return {};
}
Outcome not_found() {
  return {ErrorKind::kNotFound, std::nullopt, {}};
}
Outcome denied() {
  return {ErrorKind::kPermissionDenied, std::nullopt, {}};
}

using Expectations = std::array<Outcome, kRoles.size()>;  // indexed like kRoles

// decide.h: "Staff-only commands refuse everyone else with kPermissionDenied."
Expectations staff_only() {
  return {allowed(), denied(), denied(), denied(), denied(), denied(), denied()};
}
// "admin": a Confirmed ProviderAdmin. Staff is not named (denied); the service user
// is a member without the role (denied); invited and accepted admins are not members
// yet, the client's Owner and the unrelated user never were (not found).
Expectations admin_only() {
  return {denied(), allowed(), not_found(), not_found(), denied(), not_found(), not_found()};
}
Expectations admin_or_staff() {
  return {allowed(), allowed(), not_found(), not_found(), denied(), not_found(), not_found()};
}
// "provider user": a Confirmed provider user of either type.
Expectations provider_user() {
  return {denied(), allowed(), not_found(), not_found(), allowed(), not_found(), not_found()};
}
Expectations anyone_registered() {
  return {allowed(), allowed(), allowed(), allowed(), allowed(), allowed(), allowed()};
}

// Member management in a client organization (DESIGN.md: Organizations, Rights of
// provider users): its Owners (and Admins, Custom with manage_users) and the
// confirmed users of its provider, who act as Owners. Staff is not named (denied);
// provider users who are not confirmed and the unrelated user never see it.
Expectations client_managers() {
  return {denied(), allowed(), not_found(), not_found(), allowed(), allowed(), not_found()};
}

// A member of Contoso invited by its Owner: accepted, then optionally confirmed
// and revoked. Returns the organization user id.
// Contoso is provider-managed with few seats; rows that invite someone first buy
// a seat (as the provider's admin) so that they never trip over the seat limit.
void add_contoso_seat(World& w, const Cast& c) {
  const OrganizationState* org = w.organization(c.adopted_org);
  run_ok(w, UpdateClientOrg{c.provider, c.adopted_client, org->name, org->seats + 1}, c.owner);
}

OrganizationUserId contoso_member(World& w, const Cast& c, bool confirm, bool revoke) {
  add_contoso_seat(w, c);
  // A fresh address each time: CoversEveryCommand builds every row in one world.
  const std::string email = "mia-" + w.new_id().to_string().substr(24) + "@contoso.test";
  Actor member = register_user(w, email, "Mia Member");
  Decision invited = run_ok(w, InviteMembers{c.adopted_org, {email}, OrganizationUserType::kUser, {}, {}, {}},
                            c.client_owner);
  const OrganizationUserId id = invited.created_ids.at(0);
  run_ok(w, AcceptMember{c.adopted_org, id, invited.tokens.at(0)}, member);
  if (confirm) run_ok(w, ConfirmMember{c.adopted_org, id, "2.aXY=|Y3Q=|bWFj"}, c.client_owner);
  if (revoke) run_ok(w, RevokeMember{c.adopted_org, id}, c.client_owner);
  return id;
}

// A group of Contoso, made by its Owner.
GroupId contoso_group(World& w, const Cast& c) {
  return run_ok(w, CreateGroup{c.adopted_org, "Accounting", {}}, c.client_owner).created_ids.at(0);
}

// A collection of Contoso, made by its Owner (no member or group access: Owners,
// and the provider users acting as Owners, reach every collection anyway).
CollectionId contoso_collection(World& w, const Cast& c, const std::string& name = "2.aXY=|Y3Q=|bWFj") {
  return run_ok(w, CreateCollection{c.adopted_org, name, {}, {}}, c.client_owner).created_ids.at(0);
}

constexpr const char* kItemName = "2.aXY=|Y3Q=|bWFj";

ItemContent item_content() {
  return ItemContent{kItemName, "", {}};
}

// An item of Contoso's vault in `collection`, made by its Owner; optionally in the trash.
ItemId contoso_item(World& w, const Cast& c, const CollectionId& collection, bool trashed = false) {
  ItemId id =
      run_ok(w, CreateItem{CipherType::kLogin, c.adopted_org, {collection}, item_content()}, c.client_owner)
          .created_ids.at(0);
  if (trashed) run_ok(w, SoftDeleteItem{id}, c.client_owner);
  return id;
}

// A personal item of `owner` (any registered user may keep one).
ItemId personal_item(World& w, const Actor& owner) {
  return run_ok(w, CreateItem{CipherType::kLogin, std::nullopt, {}, item_content()}, owner).created_ids.at(0);
}

struct Row {
  std::string command;
  // The cast's provider stays Pending (SetupProvider needs one; DeleteProvider then
  // goes at once instead of tripping over the clients rule).
  bool pending = false;
  // Builds the command for the cell's actor; may prepare the world first (as staff,
  // the admin or the client's Owner) so that the allowed cells have something to do.
  // Most rows ignore the actor; personal-item rows address the actor's own item.
  std::function<Command(World&, const Cast&, const Actor&)> make;
  Expectations expected;
};

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = [] {
    std::vector<Row> r;
    // "staff, or the user registering their own id": everyone in the cast is already
    // registered, so the cell registers a newcomer's id, which only staff may do.
    // (Self-registration is in provider_rules_test.)
    r.push_back({"RegisterUser", false,
                 [](World& w, const Cast&, const Actor&) -> Command {
                   return RegisterUser{w.new_id(), "newcomer@elsewhere.test", "Newcomer"};
                 },
                 staff_only()});
    r.push_back({"InviteProvider", false,
                 [](World&, const Cast&, const Actor&) -> Command {
                   return InviteProvider{ProviderType::kMsp, std::string(kUnrelatedEmail), {}};
                 },
                 staff_only()});
    // "the invited owner (a Confirmed ProviderAdmin), with the setup token": the cast's
    // confirmed admin is that owner; the service user is a member who is not.
    r.push_back({"SetupProvider", true,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return setup_command(c.provider, c.setup_token);
                 },
                 admin_only()});
    r.push_back({"UpdateProvider", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return UpdateProvider{c.provider, "Northwind Managed Services", "Northwind Ltd",
                                         "accounts@northwind.test"};
                 },
                 admin_only()});
    // The provider is disabled first so that enabling it records something.
    r.push_back({"EnableProvider", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   run_ok(w, DisableProvider{c.provider}, c.staff);
                   return EnableProvider{c.provider};
                 },
                 staff_only()});
    r.push_back({"DisableProvider", false,
                 [](World&, const Cast& c, const Actor&) -> Command { return DisableProvider{c.provider}; },
                 staff_only()});
    r.push_back({"SetProviderPlan", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return SetProviderPlan{c.provider, {{PlanType::kTeamsMonthly, 200}}};
                 },
                 staff_only()});
    r.push_back({"DeleteProvider", true,
                 [](World&, const Cast& c, const Actor&) -> Command { return DeleteProvider{c.provider}; },
                 admin_or_staff()});
    r.push_back({"InviteProviderUsers", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return InviteProviderUsers{
                       c.provider, {"new-tech@northwind.test"}, ProviderUserType::kServiceUser};
                 },
                 admin_only()});
    r.push_back({"ReinviteProviderUser", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return ReinviteProviderUser{c.provider, c.invited_admin_pu};
                 },
                 admin_only()});
    {
      // "the invitee: a registered user whose email is the invite's, with the token".
      // Every cell holds the invitee's token; everyone but the invitee is refused by
      // the email rule (DESIGN.md: "User email does not match invite.").
      Outcome mismatch{ErrorKind::kFailedPrecondition, msg::kEmailMismatch,
                       "holds the token, but the invite was issued to another email"};
      Expectations e;
      e.fill(mismatch);
      e[static_cast<int>(Role::kInvitedAdmin)] = allowed();
      r.push_back({"AcceptProviderInvite", false,
                   [](World&, const Cast& c, const Actor&) -> Command {
                     return AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token};
                   },
                   e});
    }
    r.push_back({"ConfirmProviderUsers", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return ConfirmProviderUsers{c.provider, {{c.accepted_admin_pu, "2.userkey|aXY=|bWFj"}}};
                 },
                 admin_only()});
    r.push_back(
        {"UpdateProviderUserType", false,
         [](World&, const Cast& c, const Actor&) -> Command {
           return UpdateProviderUserType{c.provider, c.service_user_pu, ProviderUserType::kProviderAdmin};
         },
         admin_only()});
    r.push_back({"RemoveProviderUsers", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return RemoveProviderUsers{c.provider, {c.invited_admin_pu}};
                 },
                 admin_only()});
    r.push_back({"CreateOrganization", false,
                 [](World&, const Cast&, const Actor&) -> Command {
                   return CreateOrganization{"Initech", PlanType::kTeamsMonthly, 3, "it@initech.test"};
                 },
                 anyone_registered()});
    r.push_back({"AddClientOrg_new", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return new_client_command(c.provider, "Initech", "owner@initech.test",
                                             PlanType::kTeamsMonthly, 5);
                 },
                 admin_only()});
    // Existing form: the admin creates an organization of their own first, so they are
    // its confirmed Owner; for everyone else the provider check comes first.
    r.push_back({"AddClientOrg_existing", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   OrganizationId own = create_organization(w, c.owner, "Initech", PlanType::kTeamsMonthly);
                   return existing_client_command(c.provider, own);
                 },
                 admin_only()});
    // Contoso: it has its own confirmed Owner, so it can be unlinked.
    r.push_back({"RemoveClientOrg", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return RemoveClientOrg{c.provider, c.adopted_client};
                 },
                 admin_only()});
    // Same seat count, new name: the service users' seat rule does not apply.
    r.push_back({"UpdateClientOrg", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return UpdateClientOrg{c.provider, c.new_client, "Globex Corporation", kNewClientSeats};
                 },
                 provider_user()});
    r.push_back({"OpenClientOrg", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return OpenClientOrg{c.provider, c.new_client};
                 },
                 provider_user()});
    r.push_back({"InviteMembers", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return InviteMembers{
                       c.adopted_org, {"new@contoso.test"}, OrganizationUserType::kUser, {}, {}, {}};
                 },
                 client_managers()});
    {
      // The invitee is the unrelated user; everyone else holds the token but is
      // refused by the email rule.
      Outcome mismatch{ErrorKind::kFailedPrecondition, msg::kEmailMismatch,
                       "holds the token, but the invite was issued to another email"};
      Expectations e;
      e.fill(mismatch);
      e[static_cast<int>(Role::kUnrelated)] = allowed();
      r.push_back(
          {"AcceptMember", false,
           [](World& w, const Cast& c, const Actor&) -> Command {
             add_contoso_seat(w, c);
             Decision invited = run_ok(
                 w,
                 InviteMembers{
                     c.adopted_org, {std::string(kUnrelatedEmail)}, OrganizationUserType::kUser, {}, {}, {}},
                 c.client_owner);
             return AcceptMember{c.adopted_org, invited.created_ids.at(0), invited.tokens.at(0)};
           },
           e});
    }
    r.push_back(
        {"ConfirmMember", false,
         [](World& w, const Cast& c, const Actor&) -> Command {
           return ConfirmMember{c.adopted_org, contoso_member(w, c, false, false), "2.aXY=|Y3Q=|bWFj"};
         },
         client_managers()});
    r.push_back({"UpdateMember", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   return UpdateMember{
                       c.adopted_org, contoso_member(w, c, true, false), OrganizationUserType::kAdmin, {}};
                 },
                 client_managers()});
    r.push_back({"RemoveMember", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   return RemoveMember{c.adopted_org, contoso_member(w, c, true, false)};
                 },
                 client_managers()});
    r.push_back({"RevokeMember", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   return RevokeMember{c.adopted_org, contoso_member(w, c, true, false)};
                 },
                 client_managers()});
    // Groups: the same managers as members (Custom needs manage_groups instead).
    r.push_back({"CreateGroup", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return CreateGroup{c.adopted_org, "Accounting", {}};
                 },
                 client_managers()});
    r.push_back({"UpdateGroup", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   return UpdateGroup{c.adopted_org, contoso_group(w, c), "Finance"};
                 },
                 client_managers()});
    r.push_back({"DeleteGroup", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   return DeleteGroup{c.adopted_org, contoso_group(w, c)};
                 },
                 client_managers()});
    r.push_back(
        {"SetGroupMembers", false,
         [](World& w, const Cast& c, const Actor&) -> Command {
           return SetGroupMembers{c.adopted_org, contoso_group(w, c), {contoso_member(w, c, true, false)}};
         },
         client_managers()});
    r.push_back({"RestoreMember", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   return RestoreMember{c.adopted_org, contoso_member(w, c, true, true)};
                 },
                 client_managers()});
    // Collections and policies: the console's managers, as for members and groups;
    // the provider's confirmed users act as Owners (decide.h: "owner level").
    r.push_back({"CreateCollection", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return CreateCollection{c.adopted_org, "2.aXY=|Y3Q=|bWFj", {}, {}};
                 },
                 client_managers()});
    r.push_back(
        {"UpdateCollection", false,
         [](World& w, const Cast& c, const Actor&) -> Command {
           return UpdateCollection{c.adopted_org, contoso_collection(w, c), "2.bmV3|Y3Q=|bWFj", {}, {}};
         },
         client_managers()});
    r.push_back({"DeleteCollection", false,
                 [](World& w, const Cast& c, const Actor&) -> Command {
                   return DeleteCollection{c.adopted_org, contoso_collection(w, c)};
                 },
                 client_managers()});
    r.push_back({"SavePolicy", false,
                 [](World&, const Cast& c, const Actor&) -> Command {
                   return SavePolicy{c.adopted_org, PolicyType::kTwoFactorAuthentication, true, ""};
                 },
                 client_managers()});
    // Vault items of Contoso, the client organization. Provider users run its console
    // as Owners but have no vault there (kPermissionDenied with its own message);
    // staff is not a member (kPermissionDenied); invited and accepted provider users
    // and the unrelated user are nobody to it (kNotFound); its confirmed Owner may.
    {
      Outcome no_vault{ErrorKind::kPermissionDenied, msg::kProviderUsersHaveNoVault, {}};
      const Expectations client_vault = {denied(), no_vault,  not_found(), not_found(),
                                         no_vault, allowed(), not_found()};
      r.push_back(
          {"CreateItem_organization", false,
           [](World& w, const Cast& c, const Actor&) -> Command {
             return CreateItem{CipherType::kLogin, c.adopted_org, {contoso_collection(w, c)}, item_content()};
           },
           client_vault});
      r.push_back({"UpdateItem", false,
                   [](World& w, const Cast& c, const Actor&) -> Command {
                     return UpdateItem{contoso_item(w, c, contoso_collection(w, c)),
                                       ItemContent{"2.bmV3|Y3Q=|bWFj", "", {}}};
                   },
                   client_vault});
      r.push_back({"SoftDeleteItem", false,
                   [](World& w, const Cast& c, const Actor&) -> Command {
                     return SoftDeleteItem{contoso_item(w, c, contoso_collection(w, c))};
                   },
                   client_vault});
      r.push_back({"RestoreItem", false,
                   [](World& w, const Cast& c, const Actor&) -> Command {
                     return RestoreItem{contoso_item(w, c, contoso_collection(w, c), true)};
                   },
                   client_vault});
      r.push_back({"PurgeItem", false,
                   [](World& w, const Cast& c, const Actor&) -> Command {
                     return PurgeItem{contoso_item(w, c, contoso_collection(w, c))};
                   },
                   client_vault});
      // The item moves from one collection to two.
      r.push_back({"UpdateItemCollections", false,
                   [](World& w, const Cast& c, const Actor&) -> Command {
                     const CollectionId first = contoso_collection(w, c);
                     const CollectionId second = contoso_collection(w, c, "2.dHdv|Y3Q=|bWFj");
                     return UpdateItemCollections{contoso_item(w, c, first), {first, second}};
                   },
                   client_vault});
      // Personal items are about the actor's own: each actor shares an item of their
      // own into Contoso, and the organization's side decides (as for CreateItem).
      r.push_back({"ShareItem", false,
                   [](World& w, const Cast& c, const Actor& actor) -> Command {
                     return ShareItem{
                         personal_item(w, actor), c.adopted_org, {contoso_collection(w, c)}, item_content()};
                   },
                   client_vault});
    }
    // "personal: any registered user": each actor creates an item in their own vault.
    r.push_back({"CreateItem_personal", false,
                 [](World&, const Cast&, const Actor&) -> Command {
                   return CreateItem{CipherType::kLogin, std::nullopt, {}, item_content()};
                 },
                 anyone_registered()});
    return r;
  }();
  return kRows;
}

using Cell = std::tuple<std::size_t, std::size_t>;  // (row, role index)

class AuthorizationMatrix : public ::testing::TestWithParam<Cell> {};

TEST_P(AuthorizationMatrix, Cell) {
  const Row& row = rows()[std::get<0>(GetParam())];
  const Role role = kRoles[std::get<1>(GetParam())];
  const Outcome& expected = row.expected[std::get<1>(GetParam())];
  SCOPED_TRACE(row.command + " x " + role_name(role));

  World world;
  Cast cast = build_cast(world, {.set_up = !row.pending});
  const Actor& actor = actor_for(cast, role);
  Command command = row.make(world, cast, actor);
  Expected<Decision> result = run(world, command, actor);

  if (!expected.kind) {
    ASSERT_TRUE(is_ok(result));
    EXPECT_FALSE(result->events.empty()) << "allowed cells must record what was done";
    EXPECT_EQ(recorded_actor(actor, result.value()).user_id, actor.user_id);
    return;
  }
  SCOPED_TRACE(expected.why.empty() ? std::string("authorization refusal")
                                    : "not authorization: " + expected.why);
  if (expected.message) {
    EXPECT_TRUE(is_refused(result, *expected.kind, *expected.message));
  } else {
    EXPECT_TRUE(is_refused(result, *expected.kind));
  }
}

// The matrix covers every alternative of domain::Command (AddClientOrg twice, one row
// per form).
TEST(AuthorizationMatrixTable, CoversEveryCommand) {
  std::vector<bool> seen(std::variant_size_v<Command>, false);
  for (const auto& row : rows()) {
    // A world per row, as in the cells: a row's preparation may change the cast.
    World world;
    Cast cast = build_cast(world, CastOptions{!row.pending});
    seen[row.make(world, cast, cast.unrelated).index()] = true;
  }
  for (std::size_t i = 0; i < seen.size(); ++i)
    EXPECT_TRUE(seen[i]) << "no row for command alternative " << i;
}

INSTANTIATE_TEST_SUITE_P(AllCommands, AuthorizationMatrix,
                         ::testing::Combine(::testing::Range<std::size_t>(0, rows().size()),
                                            ::testing::Range<std::size_t>(0, kRoles.size())),
                         [](const ::testing::TestParamInfo<Cell>& info) {
                           return rows()[std::get<0>(info.param)].command + "_by_" +
                                  role_name(kRoles[std::get<1>(info.param)]);
                         });

}  // namespace
}  // namespace portal::domain::test
