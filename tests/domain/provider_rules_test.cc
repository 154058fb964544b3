// Scenario tests: one (or a few) per rule of DESIGN.md section 4 that the provider
// commands touch. Each runs real commands against the in-memory world and checks,
// on success, the exact events (stream, type name, Bitwarden code) and the recorded
// actor (acting-as and provider attribution), and on refusal the Error kind and the
// exact message from messages.h. Where DESIGN.md quotes Bitwarden's wording, the
// message is also compared with the literal text, so a reworded constant fails here.
#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain_test_support.h"
#include "portal/domain/messages.h"

namespace portal::domain::test {
namespace {

constexpr Timestamp kLifetime = 120 * kMicrosPerHour;

const ProviderUser& provider_user(World& w, const ProviderId& provider, const ProviderUserId& id) {
  const ProviderUser* u = w.provider(provider)->user(id);
  if (u == nullptr) throw std::runtime_error("no provider user " + id.to_string());
  return *u;
}

// --- the cast itself -----------------------------------------------------------------------------

// The matrix and many scenarios rely on these roles meaning what their names say.
TEST(Cast, EveryActorIsWhatItsNameSays) {
  World w;
  Cast c = build_cast(w);
  const ProviderState& p = *w.provider(c.provider);
  EXPECT_EQ(p.status, ProviderStatus::kBillable);
  EXPECT_EQ(p.type, ProviderType::kMsp);
  EXPECT_EQ(p.confirmed_admins(), 1);
  EXPECT_EQ(p.user_by_user_id(c.owner.user_id)->status, ProviderUserStatus::kConfirmed);
  EXPECT_EQ(p.user(c.invited_admin_pu)->status, ProviderUserStatus::kInvited);
  EXPECT_EQ(p.user(c.invited_admin_pu)->type, ProviderUserType::kProviderAdmin);
  EXPECT_EQ(p.user(c.accepted_admin_pu)->status, ProviderUserStatus::kAccepted);
  EXPECT_EQ(p.user(c.accepted_admin_pu)->type, ProviderUserType::kProviderAdmin);
  EXPECT_EQ(p.user(c.service_user_pu)->status, ProviderUserStatus::kConfirmed);
  EXPECT_EQ(p.user(c.service_user_pu)->type, ProviderUserType::kServiceUser);
  EXPECT_EQ(p.user_by_user_id(c.client_owner.user_id), nullptr);
  EXPECT_EQ(p.user_by_user_id(c.unrelated.user_id), nullptr);
  EXPECT_EQ(p.user_by_user_id(c.staff.user_id), nullptr);
  ASSERT_EQ(p.clients.size(), 2u);
  const OrganizationState& contoso = *w.organization(c.adopted_org);
  EXPECT_TRUE(contoso.is_confirmed_owner(c.client_owner.user_id));
  EXPECT_EQ(contoso.provider_id, c.provider);
  EXPECT_EQ(w.organization(c.new_client_org)->confirmed_owners(), 0);
}

// --- accounts ------------------------------------------------------------------------------------

TEST(RegisterUser, RecordsTheUserAndReservesTheLowerCasedEmail) {
  World w;
  Actor alice = user_actor(w.new_id());
  auto r = run(w, RegisterUser{alice.user_id, "Alice@Example.TEST", "Alice"}, alice);
  EXPECT_TRUE(has_events(r, {{user_stream(alice.user_id), "UserRegistered", 0},
                             {email_stream("alice@example.test"), "EmailReserved", 0}}));
  EXPECT_TRUE(recorded_as(r, alice, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->created_ids, std::vector<Uuid>{alice.user_id});
  EXPECT_EQ(r->events[1].payload.AsEmailReserved()->email, "alice@example.test");
  ASSERT_NE(w.email("alice@example.test"), nullptr);
  EXPECT_EQ(w.email("alice@example.test")->user_id, alice.user_id);
  EXPECT_EQ(w.user(alice.user_id)->email, "Alice@Example.TEST");
}

TEST(RegisterUser, EmailsAreUniqueCaseInsensitively) {
  World w;
  register_user(w, "alice@example.test");
  Actor other = user_actor(w.new_id());
  auto r = run(w, RegisterUser{other.user_id, "ALICE@Example.Test", "Not Alice"}, other);
  EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, msg::kEmailTaken));
  EXPECT_EQ(w.user(other.user_id), nullptr);
}

TEST(RegisterUser, AnIdIsRegisteredOnce) {
  World w;
  Actor alice = register_user(w, "alice@example.test");
  auto r = run(w, RegisterUser{alice.user_id, "alice2@example.test", "Alice"}, alice);
  EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, msg::kUserExists));
}

TEST(RegisterUser, StaffOrTheUserThemself) {
  World w;
  Actor mallory = register_user(w, "mallory@example.test");
  const UserId victim = w.new_id();
  EXPECT_TRUE(is_refused(run(w, RegisterUser{victim, "victim@example.test", "Victim"}, mallory),
                         ErrorKind::kPermissionDenied));
  Actor staff = staff_actor(w.new_id());
  auto r = run(w, RegisterUser{victim, "victim@example.test", "Victim"}, staff);
  EXPECT_TRUE(recorded_as(r, staff, ActingAs::kStaff));
}

TEST(RegisterUser, ValidatesTheEmail) {
  World w;
  Actor a = user_actor(w.new_id());
  auto r = run(w, RegisterUser{a.user_id, "not-an-email", "A"}, a);
  ASSERT_TRUE(is_refused(r, ErrorKind::kValidation));
  EXPECT_EQ(r.error().field, "email");
}

// --- InviteProvider ------------------------------------------------------------------------------

TEST(InviteProvider, MspStartsPendingWithTheOwnerAsConfirmedAdminAndASetupToken) {
  World w;
  Actor staff = staff_actor(w.new_id());
  Actor owner = register_user(w, "Owner@Northwind.test");
  auto r = run(
      w, InviteProvider{ProviderType::kMsp, "OWNER@northwind.TEST", {{PlanType::kTeamsMonthly, 100}}}, staff);
  ASSERT_TRUE(is_ok(r));
  ASSERT_EQ(r->created_ids.size(), 2u);  // [provider, owner's provider user]
  ASSERT_EQ(r->tokens.size(), 1u);
  const ProviderId id = r->created_ids[0];
  EXPECT_TRUE(has_events(r, {{provider_stream(id), "ProviderInvited", 0}}));
  EXPECT_TRUE(recorded_as(r, staff, ActingAs::kStaff));

  const auto& e = *r->events[0].payload.AsProviderInvited();
  EXPECT_EQ(e.status, static_cast<std::int8_t>(ProviderStatus::kPending));
  EXPECT_EQ(e.owner_user_id, owner.user_id);
  EXPECT_EQ(e.owner_provider_user_id, r->created_ids[1]);
  EXPECT_EQ(e.owner_email, "owner@northwind.test");
  EXPECT_EQ(e.setup_token_sha256, token_hash(r->tokens[0]));
  EXPECT_EQ(e.setup_token_expires_at, kStart + kLifetime);

  const ProviderState& p = *w.provider(id);
  EXPECT_EQ(p.status, ProviderStatus::kPending);
  ASSERT_EQ(p.users.size(), 1u);
  EXPECT_EQ(p.users[0].user_id, owner.user_id);
  EXPECT_EQ(p.users[0].type, ProviderUserType::kProviderAdmin);
  EXPECT_EQ(p.users[0].status, ProviderUserStatus::kConfirmed);
  EXPECT_EQ(p.seat_minimums, (std::map<PlanType, int>{{PlanType::kTeamsMonthly, 100}}));
}

TEST(InviteProvider, BusinessUnitAlsoStartsPendingWithItsOwner) {
  World w;
  Actor staff = staff_actor(w.new_id());
  Actor owner = register_user(w, "bu-owner@corp.test");
  InvitedProvider p = invite_provider(w, staff, ProviderType::kBusinessUnit, "bu-owner@corp.test");
  EXPECT_EQ(w.provider(p.id)->status, ProviderStatus::kPending);
  EXPECT_EQ(w.provider(p.id)->type, ProviderType::kBusinessUnit);
  EXPECT_EQ(w.provider(p.id)->confirmed_admins(), 1);
  EXPECT_FALSE(p.setup_token.empty());
}

TEST(InviteProvider, TheOwnerMustBeARegisteredUser) {
  World w;
  Actor staff = staff_actor(w.new_id());
  for (ProviderType type : {ProviderType::kMsp, ProviderType::kBusinessUnit}) {
    auto r = run(w, InviteProvider{type, "nobody@northwind.test", {}}, staff);
    EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, msg::kOwnerNotRegistered));
  }
}

TEST(InviteProvider, AResellerStartsCreatedWithoutOwner) {
  World w;
  Actor staff = staff_actor(w.new_id());
  auto r = run(w, InviteProvider{ProviderType::kReseller, "", {}}, staff);
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->created_ids.size(), 1u);
  EXPECT_TRUE(r->tokens.empty());
  const ProviderId id = r->created_ids[0];
  EXPECT_TRUE(has_events(r, {{provider_stream(id), "ProviderInvited", 0}}));
  const auto& e = *r->events[0].payload.AsProviderInvited();
  EXPECT_TRUE(e.owner_user_id.is_nil());
  EXPECT_TRUE(e.setup_token_sha256.empty());
  EXPECT_EQ(w.provider(id)->status, ProviderStatus::kCreated);
  EXPECT_TRUE(w.provider(id)->users.empty());

  register_user(w, "reseller-owner@resell.test");
  auto with_owner = run(w, InviteProvider{ProviderType::kReseller, "reseller-owner@resell.test", {}}, staff);
  ASSERT_TRUE(is_refused(with_owner, ErrorKind::kValidation, msg::kResellerHasNoOwner));
  EXPECT_EQ(with_owner.error().field, "ownerEmail");
}

TEST(InviteProvider, SeatMinimumsAreValidated) {
  World w;
  Actor staff = staff_actor(w.new_id());
  register_user(w, std::string(kOwnerEmail));
  auto dup = run(w,
                 InviteProvider{ProviderType::kMsp,
                                std::string(kOwnerEmail),
                                {{PlanType::kTeamsMonthly, 10}, {PlanType::kTeamsMonthly, 20}}},
                 staff);
  EXPECT_TRUE(is_refused(dup, ErrorKind::kValidation));
  auto negative =
      run(w, InviteProvider{ProviderType::kMsp, std::string(kOwnerEmail), {{PlanType::kTeamsMonthly, -1}}},
          staff);
  EXPECT_TRUE(is_refused(negative, ErrorKind::kValidation));
}

// --- SetupProvider -------------------------------------------------------------------------------

TEST(SetupProvider, TheInvitedOwnerSetsItUpAndAnMspBecomesBillable) {
  World w;
  Actor staff = staff_actor(w.new_id());
  Actor owner = register_user(w, std::string(kOwnerEmail));
  InvitedProvider p = invite_provider(w, staff, ProviderType::kMsp, std::string(kOwnerEmail));
  auto r = run(w, setup_command(p.id, p.setup_token), owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(p.id), "ProviderSetUp", 0}}));
  EXPECT_TRUE(recorded_as(r, owner, ActingAs::kProviderUser, p.id));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0].payload.AsProviderSetUp()->status,
            static_cast<std::int8_t>(ProviderStatus::kBillable));
  const ProviderState& s = *w.provider(p.id);
  EXPECT_EQ(s.status, ProviderStatus::kBillable);
  EXPECT_EQ(s.name, "Northwind MSP");
  EXPECT_EQ(s.business_name, "Northwind Ltd");
  EXPECT_EQ(s.billing_email, kProviderBillingEmail);
  EXPECT_TRUE(s.setup_token_sha256.empty()) << "the setup token is single-use";
}

TEST(SetupProvider, ABusinessUnitBecomesBillable) {
  World w;
  Actor staff = staff_actor(w.new_id());
  Actor owner = register_user(w, "bu-owner@corp.test");
  InvitedProvider p = invite_provider(w, staff, ProviderType::kBusinessUnit, "bu-owner@corp.test");
  ASSERT_TRUE(is_ok(run(w, setup_command(p.id, p.setup_token), owner)));
  EXPECT_EQ(w.provider(p.id)->status, ProviderStatus::kBillable);
}

TEST(SetupProvider, OnlyAPendingProvider) {
  EXPECT_STREQ(msg::kProviderAlreadySetup, "Provider is already setup.");
  World w;
  Cast c = build_cast(w);  // set up once already, with the same token
  auto r = run(w, setup_command(c.provider, c.setup_token), c.owner);
  EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, "Provider is already setup."));
}

TEST(SetupProvider, AWrongTokenIsRefused) {
  World w;
  Cast c = build_cast(w, {.set_up = false});
  for (const std::string& token : {std::string("not-the-token"), std::string(), c.invited_admin_token}) {
    auto r = run(w, setup_command(c.provider, token), c.owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, msg::kInvalidToken)) << "token '" << token << "'";
    EXPECT_EQ(r.error().field, "token");
  }
  EXPECT_EQ(w.provider(c.provider)->status, ProviderStatus::kPending);
}

TEST(SetupProvider, TheTokenIsValidFor120Hours) {
  {
    World w;
    Cast c = build_cast(w, {.set_up = false});
    w.advance_hours(121);
    auto r = run(w, setup_command(c.provider, c.setup_token), c.owner);
    EXPECT_TRUE(is_refused(r, ErrorKind::kValidation, msg::kTokenExpired));
    EXPECT_EQ(w.provider(c.provider)->status, ProviderStatus::kPending);
  }
  {
    World w;
    Cast c = build_cast(w, {.set_up = false});
    w.advance_hours(119);
    EXPECT_TRUE(is_ok(run(w, setup_command(c.provider, c.setup_token), c.owner)));
  }
}

TEST(SetupProvider, OnlyTheInvitedOwner) {
  World w;
  Cast c = build_cast(w, {.set_up = false});
  // A second confirmed admin holding the token is still not the invited owner.
  ProviderUserId second = c.accepted_admin_pu;
  run_ok(w, ConfirmProviderUsers{c.provider, {{second, "2.k|aXY=|bWFj"}}}, c.owner);
  EXPECT_TRUE(is_refused(run(w, setup_command(c.provider, c.setup_token), c.accepted_admin),
                         ErrorKind::kPermissionDenied));
  EXPECT_TRUE(
      is_refused(run(w, setup_command(c.provider, c.setup_token), c.unrelated), ErrorKind::kNotFound));
}

// --- UpdateProvider ------------------------------------------------------------------------------

TEST(UpdateProvider, AnAdminUpdatesNameBusinessNameAndBillingEmail) {
  World w;
  Cast c = build_cast(w);
  auto r =
      run(w, UpdateProvider{c.provider, "Northwind 2", "Northwind Two Ltd", "ap@northwind.test"}, c.owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderUpdated", 0}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  EXPECT_EQ(w.provider(c.provider)->name, "Northwind 2");
  EXPECT_EQ(w.provider(c.provider)->business_name, "Northwind Two Ltd");
  EXPECT_EQ(w.provider(c.provider)->billing_email, "ap@northwind.test");
  auto bad = run(w, UpdateProvider{c.provider, "", "", "ap@northwind.test"}, c.owner);
  ASSERT_TRUE(is_refused(bad, ErrorKind::kValidation));
  EXPECT_EQ(bad.error().field, "name");
}

// --- DeleteProvider ------------------------------------------------------------------------------

TEST(DeleteProvider, APendingProviderGoesAtOnceAndIsThenNotFoundToEveryone) {
  World w;
  Cast c = build_cast(w, {.set_up = false});
  auto r = run(w, DeleteProvider{c.provider}, c.owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderDeleted", 0}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  EXPECT_TRUE(
      is_refused(run(w, UpdateProvider{c.provider, "X", "", "x@x.test"}, c.owner), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, EnableProvider{c.provider}, c.staff), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, DeleteProvider{c.provider}, c.staff), ErrorKind::kNotFound));
}

TEST(DeleteProvider, StaffMayDeleteAndIsRecordedAsStaff) {
  World w;
  Cast c = build_cast(w, {.set_up = false});
  auto r = run(w, DeleteProvider{c.provider}, c.staff);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderDeleted", 0}}));
  EXPECT_TRUE(recorded_as(r, c.staff, ActingAs::kStaff));
}

TEST(DeleteProvider, AnyOtherProviderMustUnlinkAllClientsFirst) {
  EXPECT_STREQ(msg::kUnlinkClientsFirst, "You must unlink all clients before you can delete a provider.");
  World w;
  Cast c = build_cast(w);
  for (const Actor* actor : {&c.owner, &c.staff}) {
    EXPECT_TRUE(is_refused(run(w, DeleteProvider{c.provider}, *actor), ErrorKind::kFailedPrecondition,
                           "You must unlink all clients before you can delete a provider."));
  }
  EXPECT_FALSE(w.provider(c.provider)->deleted);
}

TEST(DeleteProvider, ABillableProviderGoesOnceItsClientsAreUnlinked) {
  World w;
  Actor staff = staff_actor(w.new_id());
  Actor owner = register_user(w, std::string(kOwnerEmail));
  ProviderId provider = set_up_provider(w, staff, owner, std::string(kOwnerEmail));
  OrganizationId own = create_organization(w, owner, "Initech", PlanType::kTeamsMonthly);
  ProviderOrganizationId client = adopt_organization(w, owner, provider, own);
  EXPECT_TRUE(is_refused(run(w, DeleteProvider{provider}, owner), ErrorKind::kFailedPrecondition,
                         msg::kUnlinkClientsFirst));
  run_ok(w, RemoveClientOrg{provider, client}, owner);
  auto r = run(w, DeleteProvider{provider}, owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(provider), "ProviderDeleted", 0}}));
  EXPECT_TRUE(w.provider(provider)->deleted);
}

// --- Enable/DisableProvider ----------------------------------------------------------------------

TEST(EnableDisableProvider, DisablingDisablesEveryClientAndEnablingReEnablesThem) {
  World w;
  Cast c = build_cast(w);
  auto off = run(w, DisableProvider{c.provider}, c.staff);
  EXPECT_TRUE(has_events(off, {{provider_stream(c.provider), "ProviderDisabled", 0},
                               {organization_stream(c.new_client_org), "OrganizationDisabled", 0},
                               {organization_stream(c.adopted_org), "OrganizationDisabled", 0}}));
  EXPECT_TRUE(recorded_as(off, c.staff, ActingAs::kStaff));
  EXPECT_FALSE(w.provider(c.provider)->enabled);
  EXPECT_FALSE(w.organization(c.new_client_org)->enabled);
  EXPECT_FALSE(w.organization(c.adopted_org)->enabled);

  auto on = run(w, EnableProvider{c.provider}, c.staff);
  EXPECT_TRUE(has_events(on, {{provider_stream(c.provider), "ProviderEnabled", 0},
                              {organization_stream(c.new_client_org), "OrganizationEnabled", 0},
                              {organization_stream(c.adopted_org), "OrganizationEnabled", 0}}));
  EXPECT_TRUE(recorded_as(on, c.staff, ActingAs::kStaff));
  EXPECT_TRUE(w.provider(c.provider)->enabled);
  EXPECT_TRUE(w.organization(c.new_client_org)->enabled);
  EXPECT_TRUE(w.organization(c.adopted_org)->enabled);
}

TEST(EnableDisableProvider, NoChangeRecordsNothing) {
  World w;
  Cast c = build_cast(w);
  EXPECT_TRUE(has_events(run(w, EnableProvider{c.provider}, c.staff), {}));
  run_ok(w, DisableProvider{c.provider}, c.staff);
  EXPECT_TRUE(has_events(run(w, DisableProvider{c.provider}, c.staff), {}));
}

// decide.h: a disabled provider refuses its users' commands (kFailedPrecondition) but
// not staff's, and stays invisible to outsiders.
TEST(EnableDisableProvider, ADisabledProviderRefusesItsUsersButNotStaff) {
  World w;
  Cast c = build_cast(w);
  run_ok(w, DisableProvider{c.provider}, c.staff);
  EXPECT_TRUE(is_refused(run(w, UpdateProvider{c.provider, "X", "", "x@x.test"}, c.owner),
                         ErrorKind::kFailedPrecondition, msg::kProviderDisabled));
  EXPECT_TRUE(is_refused(run(w, OpenClientOrg{c.provider, c.new_client}, c.service_user),
                         ErrorKind::kFailedPrecondition, msg::kProviderDisabled));
  EXPECT_TRUE(is_refused(run(w, OpenClientOrg{c.provider, c.new_client}, c.unrelated), ErrorKind::kNotFound));
  EXPECT_TRUE(is_ok(run(w, SetProviderPlan{c.provider, {{PlanType::kTeamsMonthly, 10}}}, c.staff)));
}

// --- SetProviderPlan -----------------------------------------------------------------------------

TEST(SetProviderPlan, StaffSetsTheSeatMinimums) {
  World w;
  Cast c = build_cast(w);
  auto r =
      run(w, SetProviderPlan{c.provider, {{PlanType::kTeamsMonthly, 30}, {PlanType::kEnterpriseMonthly, 20}}},
          c.staff);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderPlanSet", 0}}));
  EXPECT_TRUE(recorded_as(r, c.staff, ActingAs::kStaff));
  EXPECT_EQ(w.provider(c.provider)->seat_minimums,
            (std::map<PlanType, int>{{PlanType::kTeamsMonthly, 30}, {PlanType::kEnterpriseMonthly, 20}}));
  EXPECT_TRUE(is_refused(run(w, SetProviderPlan{c.provider, {{PlanType::kTeamsMonthly, -5}}}, c.staff),
                         ErrorKind::kValidation));
  EXPECT_TRUE(is_refused(run(w, SetProviderPlan{c.provider, {{PlanType::kTeamsMonthly, 500}}}, c.owner),
                         ErrorKind::kPermissionDenied));
}

// --- InviteProviderUsers (AddServiceUser) --------------------------------------------------------

TEST(InviteProviderUsers, LowerCasesEmailsAndSkipsExistingOnesPerEmail) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w,
               InviteProviderUsers{c.provider,
                                   {"New.Tech@Northwind.TEST", "SERVICE@northwind.test",
                                    "new.tech@northwind.test", "Second@Northwind.test"},
                                   ProviderUserType::kServiceUser},
               c.owner);
  const std::string stream = provider_stream(c.provider);
  EXPECT_TRUE(has_events(r, {{stream, "ProviderUserInvited", 1800}, {stream, "ProviderUserInvited", 1800}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->created_ids.size(), 2u);
  ASSERT_EQ(r->tokens.size(), 2u);
  const std::vector<ItemResult> expected_items = {
      {r->created_ids[0], "new.tech@northwind.test", ""},
      {Uuid{}, "service@northwind.test", msg::kAlreadyInvited},   // already in the provider
      {Uuid{}, "new.tech@northwind.test", msg::kAlreadyInvited},  // earlier in this same request
      {r->created_ids[1], "second@northwind.test", ""},
  };
  EXPECT_EQ(r->items, expected_items);

  for (int i = 0; i < 2; ++i) {
    const auto& e = *r->events[i].payload.AsProviderUserInvited();
    EXPECT_EQ(e.provider_user_id, r->created_ids[i]);
    EXPECT_EQ(e.type, static_cast<std::int8_t>(ProviderUserType::kServiceUser));
    EXPECT_EQ(e.token_sha256, token_hash(r->tokens[i]));
    EXPECT_EQ(e.token_expires_at, w.now() + kLifetime);
    const ProviderUser& u = provider_user(w, c.provider, r->created_ids[i]);
    EXPECT_EQ(u.status, ProviderUserStatus::kInvited);
    EXPECT_EQ(u.email, e.email);
  }
  EXPECT_EQ(r->events[0].payload.AsProviderUserInvited()->email, "new.tech@northwind.test");
  EXPECT_EQ(r->events[1].payload.AsProviderUserInvited()->email, "second@northwind.test");
}

TEST(InviteProviderUsers, InvitesAdminsWithTheGivenType) {
  World w;
  Cast c = build_cast(w);
  Invitation inv =
      invite_provider_user(w, c.owner, c.provider, "admin2@northwind.test", ProviderUserType::kProviderAdmin);
  EXPECT_EQ(provider_user(w, c.provider, inv.id).type, ProviderUserType::kProviderAdmin);
}

TEST(InviteProviderUsers, OnlyExistingEmailsRecordsNothingButReportsEach) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, InviteProviderUsers{c.provider, {"OWNER@Northwind.test"}, ProviderUserType::kServiceUser},
               c.owner);
  EXPECT_TRUE(has_events(r, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items, (std::vector<ItemResult>{{Uuid{}, "owner@northwind.test", msg::kAlreadyInvited}}));
  EXPECT_TRUE(r->tokens.empty());
}

TEST(InviteProviderUsers, ValidatesTheEmails) {
  World w;
  Cast c = build_cast(w);
  auto none = run(w, InviteProviderUsers{c.provider, {}, ProviderUserType::kServiceUser}, c.owner);
  EXPECT_TRUE(is_refused(none, ErrorKind::kValidation));
  std::vector<std::string> many;
  for (int i = 0; i < 21; ++i) many.push_back("tech" + std::to_string(i) + "@northwind.test");
  EXPECT_TRUE(
      is_refused(run(w, InviteProviderUsers{c.provider, many, ProviderUserType::kServiceUser}, c.owner),
                 ErrorKind::kValidation));
  auto bad = run(
      w,
      InviteProviderUsers{c.provider, {"ok@northwind.test", "not an email"}, ProviderUserType::kServiceUser},
      c.owner);
  ASSERT_TRUE(is_refused(bad, ErrorKind::kValidation));
  EXPECT_EQ(bad.error().field, "emails");
  EXPECT_EQ(w.provider(c.provider)->user_by_email("ok@northwind.test"), nullptr)
      << "all or nothing on bad input";
}

// --- AcceptProviderInvite ------------------------------------------------------------------------

TEST(AcceptProviderInvite, TheInviteeAccepts) {
  World w;
  Cast c = build_cast(w);
  auto r =
      run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token}, c.invited_admin);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderUserAccepted", 0}}));
  // Not a member yet: the invitee acts directly, not as a provider user.
  EXPECT_TRUE(recorded_as(r, c.invited_admin, ActingAs::kDirect));
  const ProviderUser& u = provider_user(w, c.provider, c.invited_admin_pu);
  EXPECT_EQ(u.status, ProviderUserStatus::kAccepted);
  EXPECT_EQ(u.user_id, c.invited_admin.user_id);
}

TEST(AcceptProviderInvite, OnlyInvitedUsersAndTheTokenIsSingleUse) {
  EXPECT_STREQ(msg::kAlreadyAccepted, "Already accepted.");
  World w;
  Cast c = build_cast(w);
  run_ok(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token}, c.invited_admin);
  auto again =
      run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token}, c.invited_admin);
  EXPECT_TRUE(is_refused(again, ErrorKind::kFailedPrecondition, "Already accepted."));
  EXPECT_TRUE(provider_user(w, c.provider, c.invited_admin_pu).token_sha256.empty())
      << "hash dropped once used";
  // A confirmed user is not Invited either.
  auto confirmed = run(w, AcceptProviderInvite{c.provider, c.service_user_pu, "whatever"}, c.service_user);
  EXPECT_TRUE(is_refused(confirmed, ErrorKind::kFailedPrecondition, "Already accepted."));
}

TEST(AcceptProviderInvite, TheInvitesEmailMustBeTheAcceptingUsersEmail) {
  EXPECT_STREQ(msg::kEmailMismatch, "User email does not match invite.");
  World w;
  Cast c = build_cast(w);
  auto r = run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token}, c.unrelated);
  EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, "User email does not match invite."));
  EXPECT_EQ(provider_user(w, c.provider, c.invited_admin_pu).status, ProviderUserStatus::kInvited);
  // The invitation is still good for its invitee.
  EXPECT_TRUE(is_ok(
      run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token}, c.invited_admin)));
}

TEST(AcceptProviderInvite, EmailsMatchCaseInsensitively) {
  World w;
  Cast c = build_cast(w);
  Actor mixed = register_user(w, "Mixed.Case@Northwind.TEST");
  Invitation inv = invite_provider_user(w, c.owner, c.provider, "MIXED.case@northwind.test",
                                        ProviderUserType::kServiceUser);
  EXPECT_TRUE(is_ok(run(w, AcceptProviderInvite{c.provider, inv.id, inv.token}, mixed)));
}

TEST(AcceptProviderInvite, AWrongTokenIsRefused) {
  World w;
  Cast c = build_cast(w);
  Invitation other =
      invite_provider_user(w, c.owner, c.provider, "other@northwind.test", ProviderUserType::kServiceUser);
  for (const std::string& token : {std::string("guess"), other.token}) {
    auto r = run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, token}, c.invited_admin);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, msg::kInvalidToken));
    EXPECT_EQ(r.error().field, "token");
  }
}

TEST(AcceptProviderInvite, InviteTokensExpireAfter120Hours) {
  World w;
  Cast c = build_cast(w);
  w.advance_hours(121);
  auto r =
      run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token}, c.invited_admin);
  EXPECT_TRUE(is_refused(r, ErrorKind::kValidation, msg::kTokenExpired));
}

TEST(AcceptProviderInvite, AnUnregisteredUserIsNotFound) {
  World w;
  Cast c = build_cast(w);
  Actor ghost = user_actor(w.new_id());
  EXPECT_TRUE(
      is_refused(run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token}, ghost),
                 ErrorKind::kNotFound));
}

// --- ConfirmProviderUsers ------------------------------------------------------------------------

TEST(ConfirmProviderUsers, ConfirmsOnlyAcceptedUsersWithPerUserResults) {
  World w;
  Cast c = build_cast(w);
  const ProviderUserId unknown = w.new_id();
  auto r = run(w,
               ConfirmProviderUsers{c.provider,
                                    {{c.accepted_admin_pu, "2.key-a|aXY=|bWFj"},
                                     {c.invited_admin_pu, "2.key-i|aXY=|bWFj"},
                                     {c.service_user_pu, "2.key-s|aXY=|bWFj"},
                                     {unknown, "2.key-u|aXY=|bWFj"},
                                     {c.accepted_admin_pu, "2.key-a|aXY=|bWFj"}}},
               c.owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderUserConfirmed", 1801}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  ASSERT_TRUE(r.ok());
  const std::vector<ItemResult> expected_items = {
      {c.accepted_admin_pu, std::string(kAcceptedAdminEmail), ""},
      {c.invited_admin_pu, std::string(kInvitedAdminEmail), msg::kNotAccepted},
      {c.service_user_pu, std::string(kServiceUserEmail), msg::kInvalidUser},  // already confirmed
      {unknown, "", msg::kInvalidUser},
      {c.accepted_admin_pu, std::string(kAcceptedAdminEmail), msg::kInvalidUser},  // twice in one request
  };
  EXPECT_EQ(r->items, expected_items);
  const auto& e = *r->events[0].payload.AsProviderUserConfirmed();
  EXPECT_EQ(e.provider_user_id, c.accepted_admin_pu);
  EXPECT_EQ(e.user_id, c.accepted_admin.user_id);
  EXPECT_EQ(e.key, "2.key-a|aXY=|bWFj");
  EXPECT_EQ(provider_user(w, c.provider, c.accepted_admin_pu).status, ProviderUserStatus::kConfirmed);
  EXPECT_EQ(w.provider(c.provider)->confirmed_admins(), 2);
}

TEST(ConfirmProviderUsers, AKeyIsRequiredPerUser) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, ConfirmProviderUsers{c.provider, {{c.accepted_admin_pu, ""}}}, c.owner);
  EXPECT_TRUE(has_events(r, {}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->items.size(), 1u);
  EXPECT_FALSE(r->items[0].error.empty());
  EXPECT_EQ(provider_user(w, c.provider, c.accepted_admin_pu).status, ProviderUserStatus::kAccepted);
}

// --- UpdateProviderUserType ----------------------------------------------------------------------

TEST(UpdateProviderUserType, AnAdminChangesAUsersType) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, UpdateProviderUserType{c.provider, c.service_user_pu, ProviderUserType::kProviderAdmin},
               c.owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderUserUpdated", 1802}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  EXPECT_EQ(provider_user(w, c.provider, c.service_user_pu).type, ProviderUserType::kProviderAdmin);
  EXPECT_EQ(w.provider(c.provider)->confirmed_admins(), 2);
  // The same type again records nothing.
  EXPECT_TRUE(has_events(
      run(w, UpdateProviderUserType{c.provider, c.service_user_pu, ProviderUserType::kProviderAdmin},
          c.owner),
      {}));
}

TEST(UpdateProviderUserType, TheLastConfirmedAdminCannotBeDemoted) {
  EXPECT_STREQ(msg::kAtLeastOneAdmin, "Provider must have at least one confirmed ProviderAdmin.");
  World w;
  Cast c = build_cast(w);
  auto r = run(w, UpdateProviderUserType{c.provider, c.owner_pu, ProviderUserType::kServiceUser}, c.owner);
  EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition,
                         "Provider must have at least one confirmed ProviderAdmin."));
  EXPECT_EQ(w.provider(c.provider)->confirmed_admins(), 1);
}

TEST(UpdateProviderUserType, WithTwoConfirmedAdminsOneMayStepDownButNotTheLast) {
  World w;
  Cast c = build_cast(w);
  run_ok(w, UpdateProviderUserType{c.provider, c.service_user_pu, ProviderUserType::kProviderAdmin}, c.owner);
  EXPECT_TRUE(
      is_ok(run(w, UpdateProviderUserType{c.provider, c.owner_pu, ProviderUserType::kServiceUser}, c.owner)));
  EXPECT_TRUE(
      is_refused(run(w, UpdateProviderUserType{c.provider, c.service_user_pu, ProviderUserType::kServiceUser},
                     c.service_user),
                 ErrorKind::kFailedPrecondition, msg::kAtLeastOneAdmin));
  EXPECT_EQ(w.provider(c.provider)->confirmed_admins(), 1);
}

// Invited and accepted admins are not confirmed: they neither count nor protect.
TEST(UpdateProviderUserType, UnconfirmedAdminsMayBeDemotedFreely) {
  World w;
  Cast c = build_cast(w);
  EXPECT_TRUE(is_ok(run(
      w, UpdateProviderUserType{c.provider, c.accepted_admin_pu, ProviderUserType::kServiceUser}, c.owner)));
  EXPECT_TRUE(is_ok(run(
      w, UpdateProviderUserType{c.provider, c.invited_admin_pu, ProviderUserType::kServiceUser}, c.owner)));
  EXPECT_TRUE(is_refused(
      run(w, UpdateProviderUserType{c.provider, w.new_id(), ProviderUserType::kServiceUser}, c.owner),
      ErrorKind::kNotFound));
}

// --- RemoveProviderUsers -------------------------------------------------------------------------

TEST(RemoveProviderUsers, RemovesWithPerUserResultsAndNeverYourself) {
  EXPECT_STREQ(msg::kCannotRemoveYourself, "You cannot remove yourself.");
  World w;
  Cast c = build_cast(w);
  const ProviderUserId unknown = w.new_id();
  auto r =
      run(w, RemoveProviderUsers{c.provider, {c.service_user_pu, c.invited_admin_pu, c.owner_pu, unknown}},
          c.owner);
  const std::string stream = provider_stream(c.provider);
  EXPECT_TRUE(has_events(r, {{stream, "ProviderUserRemoved", 1803}, {stream, "ProviderUserRemoved", 1803}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  ASSERT_TRUE(r.ok());
  const std::vector<ItemResult> expected_items = {
      {c.service_user_pu, std::string(kServiceUserEmail), ""},
      {c.invited_admin_pu, std::string(kInvitedAdminEmail), ""},
      {c.owner_pu, std::string(kOwnerEmail), msg::kCannotRemoveYourself},
      {unknown, "", msg::kInvalidUser},
  };
  EXPECT_EQ(r->items, expected_items);
  EXPECT_EQ(r->events[0].payload.AsProviderUserRemoved()->user_id, c.service_user.user_id);
  EXPECT_TRUE(r->events[1].payload.AsProviderUserRemoved()->user_id.is_nil()) << "had not accepted";
  const ProviderState& p = *w.provider(c.provider);
  EXPECT_EQ(p.user(c.service_user_pu), nullptr);
  EXPECT_EQ(p.user(c.invited_admin_pu), nullptr);
  EXPECT_EQ(p.confirmed_admins(), 1);
}

TEST(RemoveProviderUsers, RemovingOnlyYourselfRecordsNothing) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, RemoveProviderUsers{c.provider, {c.owner_pu}}, c.owner);
  EXPECT_TRUE(has_events(r, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items,
            (std::vector<ItemResult>{{c.owner_pu, std::string(kOwnerEmail), "You cannot remove yourself."}}));
  EXPECT_EQ(w.provider(c.provider)->confirmed_admins(), 1);
}

// With two confirmed admins, one removes the other; the removed one can no longer
// act, so the provider never drops to zero confirmed admins in sequence. (Concurrent
// removals are the engine's concern: its append checks the provider stream.)
TEST(RemoveProviderUsers, AtLeastOneConfirmedAdminRemains) {
  World w;
  Cast c = build_cast(w);
  run_ok(w, UpdateProviderUserType{c.provider, c.service_user_pu, ProviderUserType::kProviderAdmin}, c.owner);
  ASSERT_EQ(w.provider(c.provider)->confirmed_admins(), 2);
  EXPECT_TRUE(is_ok(run(w, RemoveProviderUsers{c.provider, {c.owner_pu}}, c.service_user)));
  EXPECT_TRUE(is_refused(run(w, RemoveProviderUsers{c.provider, {c.service_user_pu}}, c.owner),
                         ErrorKind::kNotFound));
  EXPECT_EQ(w.provider(c.provider)->confirmed_admins(), 1);
}

TEST(RemoveProviderUsers, ARemovedUserLosesClientRightsAtOnce) {
  World w;
  Cast c = build_cast(w);
  ASSERT_TRUE(is_ok(run(w, OpenClientOrg{c.provider, c.new_client}, c.service_user)));
  run_ok(w, RemoveProviderUsers{c.provider, {c.service_user_pu}}, c.owner);
  EXPECT_TRUE(
      is_refused(run(w, OpenClientOrg{c.provider, c.new_client}, c.service_user), ErrorKind::kNotFound));
  EXPECT_TRUE(
      is_refused(run(w, UpdateClientOrg{c.provider, c.new_client, "Globex", kNewClientSeats}, c.service_user),
                 ErrorKind::kNotFound));
}

// --- ReinviteProviderUser ------------------------------------------------------------------------

TEST(ReinviteProviderUser, IssuesANewTokenThatWorksWhileTheOldOneDoesNot) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, ReinviteProviderUser{c.provider, c.invited_admin_pu}, c.owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderUserReinvited", 0}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->tokens.size(), 1u);
  const std::string fresh = r->tokens[0];
  EXPECT_NE(fresh, c.invited_admin_token);
  EXPECT_EQ(r->events[0].payload.AsProviderUserReinvited()->token_sha256, token_hash(fresh));

  EXPECT_TRUE(is_refused(
      run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, c.invited_admin_token}, c.invited_admin),
      ErrorKind::kValidation, msg::kInvalidToken));
  EXPECT_TRUE(is_ok(run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, fresh}, c.invited_admin)));
}

TEST(ReinviteProviderUser, RenewsAnExpiredInvitation) {
  World w;
  Cast c = build_cast(w);
  w.advance_hours(200);
  Decision d = run_ok(w, ReinviteProviderUser{c.provider, c.invited_admin_pu}, c.owner);
  EXPECT_EQ(d.events.at(0).payload.AsProviderUserReinvited()->token_expires_at, w.now() + kLifetime);
  EXPECT_TRUE(
      is_ok(run(w, AcceptProviderInvite{c.provider, c.invited_admin_pu, d.tokens.at(0)}, c.invited_admin)));
}

TEST(ReinviteProviderUser, OnlyInvitedUsers) {
  World w;
  Cast c = build_cast(w);
  for (const ProviderUserId& id : {c.accepted_admin_pu, c.service_user_pu}) {
    EXPECT_TRUE(is_refused(run(w, ReinviteProviderUser{c.provider, id}, c.owner),
                           ErrorKind::kFailedPrecondition, msg::kOnlyInvitedCanBeReinvited));
  }
  EXPECT_TRUE(
      is_refused(run(w, ReinviteProviderUser{c.provider, w.new_id()}, c.owner), ErrorKind::kNotFound));
}

// --- CreateOrganization --------------------------------------------------------------------------

TEST(CreateOrganization, TheCreatorBecomesItsConfirmedOwner) {
  World w;
  Actor creator = register_user(w, "Founder@Initech.test");
  auto r = run(w, CreateOrganization{"Initech", PlanType::kTeamsMonthly, 3, "it@initech.test"}, creator);
  ASSERT_TRUE(is_ok(r));
  const OrganizationId id = r->created_ids.at(0);
  EXPECT_TRUE(has_events(r, {{organization_stream(id), "OrganizationCreated", 0},
                             {user_stream(creator.user_id), "UserJoinedOrganization", 0}}));
  EXPECT_EQ(w.user(creator.user_id)->organizations, (std::vector<OrganizationId>{id}));
  EXPECT_TRUE(recorded_as(r, creator, ActingAs::kDirect));
  const OrganizationState& org = *w.organization(id);
  EXPECT_EQ(org.status, OrganizationStatus::kCreated);
  EXPECT_FALSE(org.provider_id.has_value());
  EXPECT_TRUE(org.is_confirmed_owner(creator.user_id));
  EXPECT_EQ(org.members.at(0).email, "founder@initech.test");

  Actor ghost = user_actor(w.new_id());
  EXPECT_TRUE(is_refused(run(w, CreateOrganization{"X", PlanType::kFree, 1, "x@x.test"}, ghost),
                         ErrorKind::kPermissionDenied));
}

// --- AddClientOrg, new form ----------------------------------------------------------------------

TEST(AddClientOrg, NewCreatesAManagedOrganizationWithItsOwnerInvitedAndADefaultCollection) {
  World w;
  Cast c = build_cast(w);
  auto r = run(
      w, new_client_command(c.provider, "Initech", "Owner@Initech.TEST", PlanType::kEnterpriseMonthly, 25),
      c.owner);
  ASSERT_TRUE(is_ok(r));
  ASSERT_EQ(r->created_ids.size(),
            4u);  // [organization, provider organization, owner's org user, collection]
  ASSERT_EQ(r->tokens.size(), 1u);
  const OrganizationId org_id = r->created_ids[0];
  const ProviderOrganizationId link_id = r->created_ids[1];
  const std::string org = organization_stream(org_id);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderOrganizationCreated", 1900},
                             {org, "OrganizationCreated", 0},
                             {org, "OrganizationUserInvited", 1500},
                             {org, "CollectionCreated", 1300}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));

  const auto& created = *r->events[1].payload.AsOrganizationCreated();
  EXPECT_EQ(created.status, static_cast<std::int8_t>(OrganizationStatus::kManaged));
  EXPECT_EQ(created.billing_email, kProviderBillingEmail);
  EXPECT_EQ(created.provider_id, c.provider);
  const auto& invited = *r->events[2].payload.AsOrganizationUserInvited();
  EXPECT_EQ(invited.organization_user_id, r->created_ids[2]);
  EXPECT_EQ(invited.email, "owner@initech.test");
  EXPECT_EQ(invited.type, static_cast<std::int8_t>(OrganizationUserType::kOwner));
  EXPECT_EQ(invited.token_sha256, token_hash(r->tokens[0]));
  const auto& collection = *r->events[3].payload.AsCollectionCreated();
  EXPECT_EQ(collection.collection_id, r->created_ids[3]);
  EXPECT_EQ(collection.name, "Default Collection");

  const OrganizationState& s = *w.organization(org_id);
  EXPECT_EQ(s.status, OrganizationStatus::kManaged);
  EXPECT_EQ(s.billing_email, kProviderBillingEmail);
  EXPECT_EQ(s.provider_id, c.provider);
  EXPECT_EQ(s.provider_organization_id, link_id);
  EXPECT_EQ(s.seats, 25);
  ASSERT_EQ(s.members.size(), 1u);
  EXPECT_EQ(s.members[0].type, OrganizationUserType::kOwner);
  EXPECT_EQ(s.members[0].status, OrganizationUserStatus::kInvited);
  ASSERT_EQ(s.collections.size(), 1u);
  const ClientLink* link = w.provider(c.provider)->client(link_id);
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->organization_id, org_id);
  EXPECT_EQ(link->plan, PlanType::kEnterpriseMonthly);
  EXPECT_EQ(link->seats, 25);
}

TEST(AddClientOrg, NewValidatesItsInput) {
  World w;
  Cast c = build_cast(w);
  auto field_of = [&](AddClientOrg cmd) {
    auto r = run(w, cmd, c.owner);
    return r.ok()                                     ? std::string("<accepted>")
           : r.error().kind == ErrorKind::kValidation ? r.error().field
                                                      : describe(r.error());
  };
  auto base = [&] {
    return new_client_command(c.provider, "Initech", "owner@initech.test", PlanType::kTeamsMonthly, 5);
  };
  AddClientOrg no_seats = base();
  no_seats.seats = 0;
  EXPECT_EQ(field_of(no_seats), "seats");
  AddClientOrg no_collection = base();
  no_collection.collection_name.clear();
  EXPECT_EQ(field_of(no_collection), "collectionName");
  AddClientOrg bad_owner = base();
  bad_owner.owner_email = "nobody";
  EXPECT_EQ(field_of(bad_owner), "ownerEmail");
  AddClientOrg no_name = base();
  no_name.name.clear();
  EXPECT_EQ(field_of(no_name), "name");
  AddClientOrg wrong_plan = base();  // not a plan an Msp manages
  wrong_plan.plan = PlanType::kEnterpriseAnnually;
  EXPECT_EQ(field_of(wrong_plan), "planType");
}

TEST(AddClientOrg, APendingProviderCannotAddClients) {
  World w;
  Cast c = build_cast(w, {.set_up = false});
  auto r = run(w, new_client_command(c.provider, "Initech", "owner@initech.test", PlanType::kTeamsMonthly, 5),
               c.owner);
  EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, msg::kProviderNotSetUp));
}

// --- AddClientOrg, existing form -----------------------------------------------------------------

TEST(AddClientOrg, AnExistingOrganizationBecomesManagedAndBilledToTheProvider) {
  World w;
  Cast c = build_cast(w);
  OrganizationId own =
      create_organization(w, c.owner, "Initech", PlanType::kTeamsMonthly, 7, "it@initech.test");
  auto r = run(w, existing_client_command(c.provider, own), c.owner);
  ASSERT_TRUE(is_ok(r));
  ASSERT_EQ(r->created_ids.size(), 1u);  // [provider organization]
  const ProviderOrganizationId link_id = r->created_ids[0];
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderOrganizationAdded", 1901},
                             {organization_stream(own), "OrganizationProviderLinked", 0}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  const OrganizationState& s = *w.organization(own);
  EXPECT_EQ(s.status, OrganizationStatus::kManaged);
  EXPECT_EQ(s.billing_email, kProviderBillingEmail);
  EXPECT_EQ(s.provider_id, c.provider);
  EXPECT_EQ(s.provider_organization_id, link_id);
  const ClientLink* link = w.provider(c.provider)->client(link_id);
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->name, "Initech");
  EXPECT_EQ(link->plan, PlanType::kTeamsMonthly);
  EXPECT_EQ(link->seats, 7);
}

TEST(AddClientOrg, AnOrganizationBelongsToAtMostOneProvider) {
  EXPECT_STREQ(msg::kAlreadyBelongsToProvider, "Organization already belongs to a provider.");
  World w;
  Cast c = build_cast(w);
  OrganizationId own = create_organization(w, c.owner, "Initech", PlanType::kTeamsMonthly);
  adopt_organization(w, c.owner, c.provider, own);
  // The same owner runs a second Msp.
  ProviderId second = set_up_provider(w, c.staff, c.owner, std::string(kOwnerEmail));
  for (const ProviderId& target : {second, c.provider}) {
    EXPECT_TRUE(is_refused(run(w, existing_client_command(target, own), c.owner),
                           ErrorKind::kFailedPrecondition, "Organization already belongs to a provider."));
  }
  EXPECT_EQ(w.organization(own)->provider_id, c.provider);
  EXPECT_TRUE(w.provider(second)->clients.empty());
}

// The first admin of a Reseller: no command can make one (InviteProvider creates a
// Reseller without owner and only admins invite provider users), so the membership
// is appended as events, the way it would arrive from a future staff tool.
void give_reseller_an_admin(World& w, const ProviderId& provider, const Actor& admin,
                            const std::string& email) {
  const std::string stream = provider_stream(provider);
  const ProviderUserId pu = w.new_id();
  fb::ProviderUserInvitedT invited;
  invited.provider_user_id = pu;
  invited.email = email;
  invited.type = static_cast<std::int8_t>(ProviderUserType::kProviderAdmin);
  EventPayload e1;
  e1.Set(std::move(invited));
  w.apply(stream, e1);
  fb::ProviderUserAcceptedT accepted;
  accepted.provider_user_id = pu;
  accepted.user_id = admin.user_id;
  EventPayload e2;
  e2.Set(std::move(accepted));
  w.apply(stream, e2);
  fb::ProviderUserConfirmedT confirmed;
  confirmed.provider_user_id = pu;
  confirmed.user_id = admin.user_id;
  confirmed.key = "2.k|aXY=|bWFj";
  EventPayload e3;
  e3.Set(std::move(confirmed));
  w.apply(stream, e3);
}

// DESIGN.md: Msp: TeamsMonthly or EnterpriseMonthly; BusinessUnit: EnterpriseMonthly
// or EnterpriseAnnually; Reseller: anything but Free and Families.
TEST(AddClientOrg, AnExistingOrganizationsPlanMustFitTheProviderType) {
  const std::vector<PlanType> plans = {PlanType::kFree,
                                       PlanType::kTeamsMonthly,
                                       PlanType::kTeamsAnnually,
                                       PlanType::kEnterpriseMonthly,
                                       PlanType::kEnterpriseAnnually,
                                       PlanType::kTeamsStarter,
                                       PlanType::kFamiliesAnnually};
  struct Case {
    ProviderType type;
    std::vector<PlanType> fitting;
  };
  const std::vector<Case> cases = {
      {ProviderType::kMsp, {PlanType::kTeamsMonthly, PlanType::kEnterpriseMonthly}},
      {ProviderType::kBusinessUnit, {PlanType::kEnterpriseMonthly, PlanType::kEnterpriseAnnually}},
      {ProviderType::kReseller,
       {PlanType::kTeamsMonthly, PlanType::kTeamsAnnually, PlanType::kEnterpriseMonthly,
        PlanType::kEnterpriseAnnually, PlanType::kTeamsStarter}},
  };
  for (const auto& k : cases) {
    for (PlanType plan : plans) {
      SCOPED_TRACE("provider type " + std::to_string(static_cast<int>(k.type)) + ", plan " + plan_name(plan));
      World w;
      Actor staff = staff_actor(w.new_id());
      Actor owner = register_user(w, std::string(kOwnerEmail));
      ProviderId provider;
      if (k.type == ProviderType::kReseller) {
        provider = invite_provider(w, staff, k.type, "").id;
        give_reseller_an_admin(w, provider, owner, std::string(kOwnerEmail));
      } else {
        provider = set_up_provider(w, staff, owner, std::string(kOwnerEmail), k.type);
      }
      OrganizationId own = create_organization(w, owner, "Initech", plan);
      auto r = run(w, existing_client_command(provider, own), owner);
      if (std::find(k.fitting.begin(), k.fitting.end(), plan) != k.fitting.end()) {
        EXPECT_TRUE(has_events(r, {{provider_stream(provider), "ProviderOrganizationAdded", 1901},
                                   {organization_stream(own), "OrganizationProviderLinked", 0}}));
      } else {
        EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, msg::kPlanNotAllowedForProvider));
        EXPECT_FALSE(w.organization(own)->provider_id.has_value());
      }
    }
  }
}

// The actor must also be a Confirmed Owner of the organization. Organizations the
// admin is no member of stay invisible (kNotFound).
TEST(AddClientOrg, TheAdminMustBeAConfirmedOwnerOfTheExistingOrganization) {
  World w;
  Cast c = build_cast(w);
  OrganizationId hooli = create_organization(w, c.unrelated, "Hooli", PlanType::kTeamsMonthly);
  EXPECT_TRUE(is_refused(run(w, existing_client_command(c.provider, hooli), c.owner), ErrorKind::kNotFound));
  EXPECT_FALSE(w.organization(hooli)->provider_id.has_value());
  EXPECT_TRUE(
      is_refused(run(w, existing_client_command(c.provider, w.new_id()), c.owner), ErrorKind::kNotFound));
  // An organization owned by one of the provider's service users is still not the admin's.
  OrganizationId own = create_organization(w, c.service_user, "Initech", PlanType::kTeamsMonthly);
  EXPECT_TRUE(is_refused(run(w, existing_client_command(c.provider, own), c.owner), ErrorKind::kNotFound));
  // The organization's owner who is only a service user of the provider lacks the role.
  EXPECT_TRUE(is_refused(run(w, existing_client_command(c.provider, own), c.service_user),
                         ErrorKind::kPermissionDenied));
}

// --- RemoveClientOrg -----------------------------------------------------------------------------

TEST(RemoveClientOrg, TheOrganizationBecomesCreatedAndBilledToItsFirstOwner) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, RemoveClientOrg{c.provider, c.adopted_client}, c.owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderOrganizationRemoved", 1902},
                             {organization_stream(c.adopted_org), "OrganizationProviderUnlinked", 0}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[1].payload.AsOrganizationProviderUnlinked()->billing_email, kClientOwnerEmail);
  const OrganizationState& s = *w.organization(c.adopted_org);
  EXPECT_EQ(s.status, OrganizationStatus::kCreated);
  EXPECT_EQ(s.billing_email, kClientOwnerEmail);
  EXPECT_FALSE(s.provider_id.has_value());
  EXPECT_FALSE(s.provider_organization_id.has_value());
  EXPECT_EQ(w.provider(c.provider)->client(c.adopted_client), nullptr);
  // Unlinked, the organization is no longer the provider's to open.
  EXPECT_TRUE(is_refused(run(w, OpenClientOrg{c.provider, c.adopted_client}, c.owner), ErrorKind::kNotFound));
}

// Provider users count as owners elsewhere, but not when the organization is unlinked:
// Globex's only owner is invited, not confirmed.
TEST(RemoveClientOrg, TheOrganizationNeedsAConfirmedOwnerOfItsOwn) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, RemoveClientOrg{c.provider, c.new_client}, c.owner);
  EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, msg::kNeedsOwnConfirmedOwner));
  EXPECT_EQ(w.organization(c.new_client_org)->provider_id, c.provider);
  EXPECT_TRUE(is_refused(run(w, RemoveClientOrg{c.provider, w.new_id()}, c.owner), ErrorKind::kNotFound));
}

// --- UpdateClientOrg -----------------------------------------------------------------------------

TEST(UpdateClientOrg, AProviderUserUpdatesNameAndSeats) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, UpdateClientOrg{c.provider, c.new_client, "Globex Corporation", 12}, c.owner);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderOrganizationUpdated", 0},
                             {organization_stream(c.new_client_org), "OrganizationUpdated", 1600}}));
  EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
  EXPECT_EQ(w.organization(c.new_client_org)->name, "Globex Corporation");
  EXPECT_EQ(w.organization(c.new_client_org)->seats, 12);
  EXPECT_EQ(w.provider(c.provider)->client(c.new_client)->seats, 12);
  EXPECT_EQ(w.provider(c.provider)->client(c.new_client)->name, "Globex Corporation");

  auto svc = run(w, UpdateClientOrg{c.provider, c.new_client, "Globex Corp", 12}, c.service_user);
  EXPECT_TRUE(recorded_as(svc, c.service_user, ActingAs::kProviderUser, c.provider));

  auto no_name = run(w, UpdateClientOrg{c.provider, c.new_client, "", 12}, c.owner);
  EXPECT_TRUE(is_refused(no_name, ErrorKind::kValidation));
  EXPECT_TRUE(is_refused(run(w, UpdateClientOrg{c.provider, c.new_client, "Globex", -1}, c.owner),
                         ErrorKind::kValidation));
  EXPECT_TRUE(is_refused(run(w, UpdateClientOrg{c.provider, w.new_id(), "Globex", 1}, c.owner),
                         ErrorKind::kNotFound));
}

// The cast's TeamsMonthly seat minimum is 100; Globex has 10 and Contoso 5 assigned.
TEST(UpdateClientOrg, ServiceUsersCannotTakeThePlansTotalAboveTheSeatMinimum) {
  EXPECT_STREQ(msg::kServiceUsersCannotPurchaseSeats, "Service users cannot purchase additional seats.");
  World w;
  Cast c = build_cast(w);
  ASSERT_EQ(w.provider(c.provider)->assigned_seats(PlanType::kTeamsMonthly),
            kNewClientSeats + kAdoptedOrgSeats);
  // Up to the minimum exactly: 95 + 5 = 100.
  EXPECT_TRUE(is_ok(run(w, UpdateClientOrg{c.provider, c.new_client, "Globex", 95}, c.service_user)));
  // One more would be a purchase.
  EXPECT_TRUE(is_refused(run(w, UpdateClientOrg{c.provider, c.new_client, "Globex", 96}, c.service_user),
                         ErrorKind::kFailedPrecondition, "Service users cannot purchase additional seats."));
  EXPECT_EQ(w.provider(c.provider)->client(c.new_client)->seats, 95);
  // An admin may buy seats beyond the minimum.
  EXPECT_TRUE(is_ok(run(w, UpdateClientOrg{c.provider, c.new_client, "Globex", 120}, c.owner)));
  // Above the minimum, a service user may still give seats back, or rename.
  EXPECT_TRUE(is_ok(run(w, UpdateClientOrg{c.provider, c.new_client, "Globex", 110}, c.service_user)));
  EXPECT_TRUE(is_ok(run(w, UpdateClientOrg{c.provider, c.new_client, "Globex Inc", 110}, c.service_user)));
  EXPECT_TRUE(is_refused(run(w, UpdateClientOrg{c.provider, c.adopted_client, "Contoso", 6}, c.service_user),
                         ErrorKind::kFailedPrecondition, msg::kServiceUsersCannotPurchaseSeats));
}

// A plan without a seat minimum has a minimum of zero: any increase is a purchase.
TEST(UpdateClientOrg, WithoutASeatMinimumServiceUsersCannotAddSeats) {
  World w;
  Cast c = build_cast(w);
  NewClient initech = add_new_client(w, c.owner, c.provider, "Initech", "owner@initech.test",
                                     PlanType::kEnterpriseMonthly, 5);
  const ProviderOrganizationId id = initech.provider_organization_id;
  EXPECT_TRUE(is_refused(run(w, UpdateClientOrg{c.provider, id, "Initech", 6}, c.service_user),
                         ErrorKind::kFailedPrecondition, msg::kServiceUsersCannotPurchaseSeats));
  EXPECT_TRUE(is_ok(run(w, UpdateClientOrg{c.provider, id, "Initech", 4}, c.service_user)));
  EXPECT_TRUE(is_ok(run(w, UpdateClientOrg{c.provider, id, "Initech", 6}, c.owner)));
}

// --- OpenClientOrg -------------------------------------------------------------------------------

TEST(OpenClientOrg, RecordsVaultAccessOnTheProviderAndTheOrganization) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, OpenClientOrg{c.provider, c.new_client}, c.service_user);
  EXPECT_TRUE(has_events(r, {{provider_stream(c.provider), "ProviderOrganizationVaultAccessed", 1903},
                             {organization_stream(c.new_client_org), "OrganizationVaultAccessed", 1603}}));
  // The organization event is done by a non-member of the organization: it records
  // the provider through which they acted.
  EXPECT_TRUE(recorded_as(r, c.service_user, ActingAs::kProviderUser, c.provider));
  ASSERT_TRUE(r.ok());
  const auto& e = *r->events[0].payload.AsProviderOrganizationVaultAccessed();
  EXPECT_EQ(e.provider_organization_id, c.new_client);
  EXPECT_EQ(e.organization_id, c.new_client_org);
}

// Another provider's client is invisible (404, never 403).
TEST(OpenClientOrg, AnotherProvidersClientIsNotFound) {
  World w;
  Cast c = build_cast(w);
  Actor other_owner = register_user(w, "owner@fabrikam.test");
  ProviderId fabrikam = set_up_provider(w, c.staff, other_owner, "owner@fabrikam.test");
  EXPECT_TRUE(is_refused(run(w, OpenClientOrg{fabrikam, c.new_client}, other_owner), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, OpenClientOrg{c.provider, c.new_client}, other_owner), ErrorKind::kNotFound));
  EXPECT_TRUE(
      is_refused(run(w, UpdateProvider{c.provider, "X", "", "x@x.test"}, other_owner), ErrorKind::kNotFound));
}

// --- tokens --------------------------------------------------------------------------------------

// Setup and invite tokens are returned once to the caller; only their SHA-256 hash is
// ever stored in an event.
TEST(Tokens, OnlyTheirHashIsEverStoredInAnEvent) {
  World w;
  Cast c = build_cast(w);
  run_ok(w, ReinviteProviderUser{c.provider, c.invited_admin_pu}, c.owner);
  add_new_client(w, c.owner, c.provider, "Initech", "owner@initech.test");
  ASSERT_GE(w.issued_tokens().size(), 6u);
  for (const auto& e : w.log()) {
    const std::string bytes = encode_payload(e.payload);
    for (const auto& token : w.issued_tokens()) {
      EXPECT_EQ(bytes.find(token), std::string::npos)
          << event_name(e.payload) << " in " << e.stream << " holds a token";
    }
  }
}

}  // namespace
}  // namespace portal::domain::test
