// Scenario tests for the organization-member commands (DESIGN.md section 4,
// "Organizations" and "Rights of provider users in client organizations"):
// InviteMembers, AcceptMember, ConfirmMember, UpdateMember, RemoveMember,
// RevokeMember, RestoreMember. As in provider_rules_test.cc, each scenario runs
// real commands against the in-memory world and checks, on success, the exact
// events (stream, type name, Bitwarden code) and the recorded actor, and on refusal
// the Error kind and the exact message. Messages are compared with their literal
// text (once per rule, with EXPECT_STREQ on the constant), so a reworded constant
// fails here.
//
// Every suite name starts with "Member" (run them with --gtest_filter='Member*').
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain_test_support.h"
#include "portal/domain/messages.h"

namespace portal::domain::test {
namespace {

constexpr Timestamp kLifetime = 120 * kMicrosPerHour;

// The literal texts the spec fixes (Bitwarden's wording where it has one).
constexpr const char* kSeatLimitText =
    "Seat limit has been reached. Please contact your provider to add more seats.";
constexpr const char* kOnlyOwnersText = "Only an Owner can manage another Owner.";
constexpr const char* kNeedsOwnerText = "Organization must have at least one confirmed owner.";

// --- helpers -------------------------------------------------------------------------------------

const OrganizationMember& member_of(World& w, const OrganizationId& org, const OrganizationUserId& id) {
  const OrganizationMember* m = w.organization(org)->member(id);
  if (m == nullptr) throw std::runtime_error("no organization user " + id.to_string());
  return *m;
}

InviteMembers invite_cmd(const OrganizationId& org, std::vector<std::string> emails,
                         OrganizationUserType type = OrganizationUserType::kUser,
                         Permissions permissions = {}) {
  InviteMembers c;
  c.organization_id = org;
  c.emails = std::move(emails);
  c.type = type;
  c.permissions = permissions;
  return c;
}

UpdateMember update_cmd(const OrganizationId& org, const OrganizationUserId& id, OrganizationUserType type,
                        Permissions permissions = {}) {
  UpdateMember c;
  c.organization_id = org;
  c.organization_user_id = id;
  c.type = type;
  c.permissions = permissions;
  return c;
}

// Invites `email` (registered here) and lets them accept: an accepted member.
Member accepted_member(World& w, const Actor& by, const OrganizationId& org, const std::string& email,
                       OrganizationUserType type = OrganizationUserType::kUser) {
  Actor a = register_user(w, email);
  MemberInvitation inv = invite_member(w, by, org, email, type);
  run_ok(w, AcceptMember{org, inv.id, inv.token}, a);
  return Member{a, inv.id};
}

std::vector<std::string> numbered_emails(const std::string& prefix, int n) {
  std::vector<std::string> emails;
  for (int i = 0; i < n; ++i) emails.push_back(prefix + std::to_string(i) + "@contoso.test");
  return emails;
}

constexpr Permissions kEverythingButManageUsers{.manage_users = false,
                                                .manage_groups = true,
                                                .manage_policies = true,
                                                .create_new_collections = true,
                                                .edit_any_collection = true,
                                                .delete_any_collection = true,
                                                .access_event_logs = true};

// Contoso (the cast's adopted client, managed by the cast's provider) with a
// confirmed member of every kind. Its seats are raised to 20 first, so the
// authorization scenarios never meet the seat limit.
struct Team {
  OrganizationId org;
  OrganizationUserId client_owner;  // the cast's client_owner: the first confirmed Owner
  Member second_owner;              // a second confirmed Owner
  Member admin;                     // confirmed Admin
  Member manager;                   // confirmed Custom with manage_users
  Member custom;                    // confirmed Custom with every permission but manage_users
  Member user;                      // confirmed User
};

Team build_team(World& w, const Cast& c) {
  run_ok(w, UpdateClientOrg{c.provider, c.adopted_client, "Contoso", 20}, c.owner);
  Team t;
  t.org = c.adopted_org;
  t.client_owner = w.organization(t.org)->member_by_user_id(c.client_owner.user_id)->id;
  t.second_owner = add_member(w, c.client_owner, t.org, "owner2@contoso.test", OrganizationUserType::kOwner);
  t.admin = add_member(w, c.client_owner, t.org, "admin@contoso.test", OrganizationUserType::kAdmin);
  t.manager = add_member(w, c.client_owner, t.org, "manager@contoso.test", OrganizationUserType::kCustom,
                         Permissions{.manage_users = true});
  t.custom = add_member(w, c.client_owner, t.org, "custom@contoso.test", OrganizationUserType::kCustom,
                        kEverythingButManageUsers);
  t.user = add_member(w, c.client_owner, t.org, "user@contoso.test", OrganizationUserType::kUser);
  return t;
}

// An organization no provider manages: `founder` is its confirmed Owner.
struct OwnOrg {
  Actor founder;
  OrganizationId org;
  OrganizationUserId founder_id;
};

OwnOrg own_org(World& w, int seats = 1) {
  OwnOrg o;
  o.founder = register_user(w, "founder@initech.test", "Fiona Founder");
  o.org = create_organization(w, o.founder, "Initech", PlanType::kTeamsMonthly, seats, "it@initech.test");
  o.founder_id = w.organization(o.org)->member_by_user_id(o.founder.user_id)->id;
  return o;
}

// --- InviteMembers -------------------------------------------------------------------------------

TEST(MemberInvite, LowerCasesEmailsSkipsMembersAndIssuesATokenEach) {
  EXPECT_STREQ(msg::kAlreadyInvited, "User already invited.");
  World w;
  Cast c = build_cast(w);
  auto r = run(w,
               invite_cmd(c.adopted_org, {"New.One@Contoso.TEST", "OWNER@contoso.test",
                                          "new.one@contoso.test", "Two@Contoso.test"}),
               c.client_owner);
  const std::string stream = organization_stream(c.adopted_org);
  EXPECT_TRUE(
      has_events(r, {{stream, "OrganizationUserInvited", 1500}, {stream, "OrganizationUserInvited", 1500}}));
  EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->created_ids.size(), 2u);
  ASSERT_EQ(r->tokens.size(), 2u);
  EXPECT_NE(r->tokens[0], r->tokens[1]);
  const std::vector<ItemResult> expected_items = {
      {r->created_ids[0], "new.one@contoso.test", ""},
      {Uuid{}, "owner@contoso.test", "User already invited."},    // already a member
      {Uuid{}, "new.one@contoso.test", "User already invited."},  // earlier in this same request
      {r->created_ids[1], "two@contoso.test", ""},
  };
  EXPECT_EQ(r->items, expected_items);

  const std::vector<std::string> emails = {"new.one@contoso.test", "two@contoso.test"};
  for (int i = 0; i < 2; ++i) {
    const auto& e = *r->events[i].payload.AsOrganizationUserInvited();
    EXPECT_EQ(e.organization_user_id, r->created_ids[i]);
    EXPECT_EQ(e.email, emails[i]);
    EXPECT_EQ(e.type, static_cast<std::int8_t>(OrganizationUserType::kUser));
    EXPECT_EQ(e.token_sha256, token_hash(r->tokens[i]));
    EXPECT_EQ(e.token_expires_at, w.now() + kLifetime);
    EXPECT_EQ(from_fb(e.permissions), Permissions{});
    const OrganizationMember& m = member_of(w, c.adopted_org, r->created_ids[i]);
    EXPECT_EQ(m.status, OrganizationUserStatus::kInvited);
    EXPECT_EQ(m.type, OrganizationUserType::kUser);
    EXPECT_EQ(m.email, emails[i]);
    EXPECT_FALSE(m.user_id.has_value());
  }
  EXPECT_EQ(w.organization(c.adopted_org)->occupied_seats(), 3);
}

TEST(MemberInvite, ACustomMemberCarriesItsPermissions) {
  World w;
  Cast c = build_cast(w);
  const Permissions perms{.manage_users = true, .access_event_logs = true};
  auto r = run(w, invite_cmd(c.adopted_org, {"custom@contoso.test"}, OrganizationUserType::kCustom, perms),
               c.client_owner);
  ASSERT_TRUE(has_events(r, {{organization_stream(c.adopted_org), "OrganizationUserInvited", 1500}}));
  const auto& e = *r->events[0].payload.AsOrganizationUserInvited();
  EXPECT_EQ(e.type, static_cast<std::int8_t>(OrganizationUserType::kCustom));
  EXPECT_EQ(from_fb(e.permissions), perms);
  const OrganizationMember& m = member_of(w, c.adopted_org, r->created_ids.at(0));
  EXPECT_EQ(m.type, OrganizationUserType::kCustom);
  EXPECT_EQ(m.permissions, perms);
}

TEST(MemberInvite, OnlyExistingEmailsRecordsNothingButReportsEach) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, invite_cmd(c.adopted_org, {"Owner@Contoso.TEST"}), c.client_owner);
  EXPECT_TRUE(has_events(r, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items, (std::vector<ItemResult>{{Uuid{}, "owner@contoso.test", msg::kAlreadyInvited}}));
  EXPECT_TRUE(r->created_ids.empty());
  EXPECT_TRUE(r->tokens.empty());
}

// An organization of no provider (so that no seat limit interferes): 1..20 valid emails.
TEST(MemberInvite, ValidatesTheEmails) {
  World w;
  OwnOrg o = own_org(w, 50);
  auto none = run(w, invite_cmd(o.org, {}), o.founder);
  ASSERT_TRUE(is_refused(none, ErrorKind::kValidation));
  EXPECT_EQ(none.error().field, "emails");
  auto many = run(w, invite_cmd(o.org, numbered_emails("tech", 21)), o.founder);
  ASSERT_TRUE(is_refused(many, ErrorKind::kValidation));
  EXPECT_EQ(many.error().field, "emails");
  auto bad = run(w, invite_cmd(o.org, {"ok@initech.test", "not an email"}), o.founder);
  ASSERT_TRUE(is_refused(bad, ErrorKind::kValidation));
  EXPECT_EQ(bad.error().field, "emails");
  EXPECT_EQ(w.organization(o.org)->member_by_email("ok@initech.test"), nullptr)
      << "all or nothing on bad input";
  EXPECT_EQ(w.organization(o.org)->members.size(), 1u);
  // Twenty is the most.
  auto twenty = run(w, invite_cmd(o.org, numbered_emails("tech", 20)), o.founder);
  ASSERT_TRUE(is_ok(twenty));
  EXPECT_EQ(twenty->created_ids.size(), 20u);
  EXPECT_EQ(twenty->tokens.size(), 20u);
}

// Invite tokens are returned once; only their SHA-256 hash is stored in an event.
TEST(MemberInvite, OnlyTheTokensHashIsEverStoredInAnEvent) {
  World w;
  Cast c = build_cast(w);
  const std::size_t before = w.issued_tokens().size();
  Decision d = run_ok(w, invite_cmd(c.adopted_org, {"a@contoso.test", "b@contoso.test"}), c.client_owner);
  ASSERT_EQ(w.issued_tokens().size(), before + 2);
  for (const auto& e : w.log()) {
    const std::string bytes = encode_payload(e.payload);
    for (const auto& token : d.tokens) {
      EXPECT_EQ(bytes.find(token), std::string::npos)
          << event_name(e.payload) << " in " << e.stream << " holds a token";
    }
  }
}

// --- seat limit ----------------------------------------------------------------------------------

// Contoso: managed, 5 seats, its confirmed Owner holds one.
TEST(MemberSeats, AManagedOrganizationRefusesInvitesBeyondItsSeats) {
  EXPECT_STREQ(msg::kSeatLimitReached, kSeatLimitText);
  World w;
  Cast c = build_cast(w);
  ASSERT_EQ(w.organization(c.adopted_org)->seats, kAdoptedOrgSeats);
  ASSERT_EQ(w.organization(c.adopted_org)->occupied_seats(), 1);
  // 1 + 5 > 5: refused as a whole.
  auto five = run(w, invite_cmd(c.adopted_org, numbered_emails("m", 5)), c.client_owner);
  EXPECT_TRUE(is_refused(five, ErrorKind::kFailedPrecondition, kSeatLimitText));
  EXPECT_EQ(w.organization(c.adopted_org)->occupied_seats(), 1);
  // 1 + 4 = 5: exactly full.
  EXPECT_TRUE(is_ok(run(w, invite_cmd(c.adopted_org, numbered_emails("m", 4)), c.client_owner)));
  EXPECT_EQ(w.organization(c.adopted_org)->occupied_seats(), 5);
  // Full: one more is refused, for members and provider users alike.
  for (const Actor* actor : {&c.client_owner, &c.owner, &c.service_user}) {
    EXPECT_TRUE(is_refused(run(w, invite_cmd(c.adopted_org, {"one.more@contoso.test"}), *actor),
                           ErrorKind::kFailedPrecondition, kSeatLimitText));
  }
  EXPECT_EQ(w.organization(c.adopted_org)->member_by_email("one.more@contoso.test"), nullptr);
}

// Globex: created by AddClientOrg with 10 seats; its invited Owner holds one.
TEST(MemberSeats, InvitedMembersHoldSeatsInANewClient) {
  World w;
  Cast c = build_cast(w);
  ASSERT_EQ(w.organization(c.new_client_org)->occupied_seats(), 1);
  auto r = run(w, invite_cmd(c.new_client_org, numbered_emails("g", 9)), c.service_user);
  EXPECT_TRUE(recorded_as(r, c.service_user, ActingAs::kProviderUser, c.provider));
  EXPECT_TRUE(is_refused(run(w, invite_cmd(c.new_client_org, {"ten@globex.test"}), c.owner),
                         ErrorKind::kFailedPrecondition, msg::kSeatLimitReached));
}

// Only the emails actually invited take seats; skipped ones do not.
TEST(MemberSeats, SkippedEmailsTakeNoSeat) {
  World w;
  Cast c = build_cast(w);
  run_ok(w, invite_cmd(c.adopted_org, numbered_emails("m", 3)), c.client_owner);  // 4 of 5
  auto r = run(w, invite_cmd(c.adopted_org, {"owner@contoso.test", "m0@contoso.test", "last@contoso.test"}),
               c.client_owner);
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->created_ids.size(), 1u);
  EXPECT_EQ(w.organization(c.adopted_org)->occupied_seats(), 5);
}

TEST(MemberSeats, RevokedMembersFreeTheirSeatAndRestoringOneNeedsASeat) {
  World w;
  Cast c = build_cast(w);
  Decision d = run_ok(w, invite_cmd(c.adopted_org, numbered_emails("m", 4)), c.client_owner);  // full
  const OrganizationUserId revoked = d.created_ids.at(0);
  run_ok(w, RevokeMember{c.adopted_org, revoked}, c.client_owner);
  EXPECT_EQ(w.organization(c.adopted_org)->occupied_seats(), 4);
  EXPECT_TRUE(is_ok(run(w, invite_cmd(c.adopted_org, {"late@contoso.test"}), c.client_owner)));
  EXPECT_EQ(w.organization(c.adopted_org)->occupied_seats(), 5);
  // Full again: the revoked member cannot come back.
  EXPECT_TRUE(is_refused(run(w, RestoreMember{c.adopted_org, revoked}, c.client_owner),
                         ErrorKind::kFailedPrecondition, kSeatLimitText));
  EXPECT_EQ(member_of(w, c.adopted_org, revoked).status, OrganizationUserStatus::kRevoked);
  // Once the provider adds a seat, they can.
  run_ok(w, UpdateClientOrg{c.provider, c.adopted_client, "Contoso", kAdoptedOrgSeats + 1}, c.owner);
  EXPECT_TRUE(is_ok(run(w, RestoreMember{c.adopted_org, revoked}, c.client_owner)));
  EXPECT_EQ(member_of(w, c.adopted_org, revoked).status, OrganizationUserStatus::kInvited);
  EXPECT_EQ(w.organization(c.adopted_org)->occupied_seats(), 6);
}

TEST(MemberSeats, OrganizationsNotManagedByAProviderHaveNoLimitHere) {
  World w;
  OwnOrg o = own_org(w, 1);  // one seat, held by the founder
  auto r = run(w, invite_cmd(o.org, numbered_emails("tech", 20)), o.founder);
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->created_ids.size(), 20u);
  EXPECT_EQ(w.organization(o.org)->occupied_seats(), 21);
  const OrganizationUserId revoked = r->created_ids[0];
  run_ok(w, RevokeMember{o.org, revoked}, o.founder);
  EXPECT_TRUE(is_ok(run(w, RestoreMember{o.org, revoked}, o.founder)));
}

// --- AcceptMember --------------------------------------------------------------------------------

TEST(MemberAccept, TheInviteeAccepts) {
  World w;
  Cast c = build_cast(w);
  MemberInvitation inv = invite_member(w, c.client_owner, c.adopted_org, "new@contoso.test");
  Actor invitee = register_user(w, "new@contoso.test");
  auto r = run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, invitee);
  EXPECT_TRUE(has_events(r, {{organization_stream(c.adopted_org), "OrganizationUserAccepted", 0},
                             {user_stream(invitee.user_id), "UserJoinedOrganization", 0}}));
  EXPECT_EQ(w.user(invitee.user_id)->organizations, (std::vector<OrganizationId>{c.adopted_org}));
  EXPECT_TRUE(recorded_as(r, invitee, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  const auto& e = *r->events[0].payload.AsOrganizationUserAccepted();
  EXPECT_EQ(e.organization_user_id, inv.id);
  EXPECT_EQ(e.user_id, invitee.user_id);
  const OrganizationMember& m = member_of(w, c.adopted_org, inv.id);
  EXPECT_EQ(m.status, OrganizationUserStatus::kAccepted);
  EXPECT_EQ(m.user_id, invitee.user_id);
  EXPECT_TRUE(m.token_sha256.empty()) << "the token is single-use";
}

TEST(MemberAccept, OnlyInvitedMembers) {
  EXPECT_STREQ(msg::kInvitationAlreadyAccepted, "Invitation already accepted.");
  World w;
  Cast c = build_cast(w);
  MemberInvitation inv = invite_member(w, c.client_owner, c.adopted_org, "new@contoso.test");
  Actor invitee = register_user(w, "new@contoso.test");
  run_ok(w, AcceptMember{c.adopted_org, inv.id, inv.token}, invitee);
  EXPECT_TRUE(is_refused(run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, invitee),
                         ErrorKind::kFailedPrecondition, "Invitation already accepted."));
  run_ok(w, ConfirmMember{c.adopted_org, inv.id, kOrgKey}, c.client_owner);
  EXPECT_TRUE(is_refused(run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, invitee),
                         ErrorKind::kFailedPrecondition, "Invitation already accepted."));
  EXPECT_EQ(member_of(w, c.adopted_org, inv.id).status, OrganizationUserStatus::kConfirmed);
}

TEST(MemberAccept, AWrongTokenIsRefused) {
  World w;
  Cast c = build_cast(w);
  MemberInvitation inv = invite_member(w, c.client_owner, c.adopted_org, "new@contoso.test");
  MemberInvitation other = invite_member(w, c.client_owner, c.adopted_org, "other@contoso.test");
  Actor invitee = register_user(w, "new@contoso.test");
  for (const std::string& token : {std::string("guess"), std::string(), other.token}) {
    EXPECT_TRUE(is_refused(run(w, AcceptMember{c.adopted_org, inv.id, token}, invitee),
                           ErrorKind::kValidation, "Invalid token."))
        << "token '" << token << "'";
  }
  EXPECT_EQ(member_of(w, c.adopted_org, inv.id).status, OrganizationUserStatus::kInvited);
  EXPECT_TRUE(is_ok(run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, invitee)));
}

TEST(MemberAccept, TheInvitesEmailMustBeTheAcceptingUsersEmail) {
  World w;
  Cast c = build_cast(w);
  MemberInvitation inv = invite_member(w, c.client_owner, c.adopted_org, "new@contoso.test");
  auto r = run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, c.unrelated);
  EXPECT_TRUE(is_refused(r, ErrorKind::kFailedPrecondition, "User email does not match invite."));
  EXPECT_EQ(member_of(w, c.adopted_org, inv.id).status, OrganizationUserStatus::kInvited);
  // The invitation is still good for its invitee.
  Actor invitee = register_user(w, "new@contoso.test");
  EXPECT_TRUE(is_ok(run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, invitee)));
}

TEST(MemberAccept, EmailsMatchCaseInsensitively) {
  World w;
  Cast c = build_cast(w);
  Actor mixed = register_user(w, "Mixed.Case@Contoso.TEST");
  MemberInvitation inv = invite_member(w, c.client_owner, c.adopted_org, "MIXED.case@contoso.test");
  EXPECT_TRUE(is_ok(run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, mixed)));
}

TEST(MemberAccept, InviteTokensAreValidFor120Hours) {
  {
    World w;
    Cast c = build_cast(w);
    MemberInvitation inv = invite_member(w, c.client_owner, c.adopted_org, "new@contoso.test");
    Actor invitee = register_user(w, "new@contoso.test");
    w.advance_hours(121);
    EXPECT_TRUE(is_refused(run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, invitee),
                           ErrorKind::kValidation, msg::kTokenExpired));
    EXPECT_EQ(member_of(w, c.adopted_org, inv.id).status, OrganizationUserStatus::kInvited);
  }
  {
    World w;
    Cast c = build_cast(w);
    MemberInvitation inv = invite_member(w, c.client_owner, c.adopted_org, "new@contoso.test");
    Actor invitee = register_user(w, "new@contoso.test");
    w.advance_hours(119);
    EXPECT_TRUE(is_ok(run(w, AcceptMember{c.adopted_org, inv.id, inv.token}, invitee)));
  }
}

// --- ConfirmMember -------------------------------------------------------------------------------

TEST(MemberConfirm, AnOwnerConfirmsAnAcceptedMember) {
  World w;
  Cast c = build_cast(w);
  Member m = accepted_member(w, c.client_owner, c.adopted_org, "new@contoso.test");
  auto r = run(w, ConfirmMember{c.adopted_org, m.id, kOrgKey}, c.client_owner);
  EXPECT_TRUE(has_events(r, {{organization_stream(c.adopted_org), "OrganizationUserConfirmed", 1501}}));
  EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  const auto& e = *r->events[0].payload.AsOrganizationUserConfirmed();
  EXPECT_EQ(e.organization_user_id, m.id);
  EXPECT_EQ(e.user_id, m.actor.user_id);
  EXPECT_EQ(e.key, kOrgKey);
  const OrganizationMember& s = member_of(w, c.adopted_org, m.id);
  EXPECT_EQ(s.status, OrganizationUserStatus::kConfirmed);
  EXPECT_EQ(s.key, kOrgKey);
}

TEST(MemberConfirm, OnlyAcceptedMembers) {
  EXPECT_STREQ(msg::kNotAccepted, "User must accept the invitation before being confirmed.");
  World w;
  Cast c = build_cast(w);
  MemberInvitation invited = invite_member(w, c.client_owner, c.adopted_org, "invited@contoso.test");
  EXPECT_TRUE(is_refused(run(w, ConfirmMember{c.adopted_org, invited.id, kOrgKey}, c.client_owner),
                         ErrorKind::kFailedPrecondition,
                         "User must accept the invitation before being confirmed."));
  EXPECT_EQ(member_of(w, c.adopted_org, invited.id).status, OrganizationUserStatus::kInvited);
  Member confirmed =
      add_member(w, c.client_owner, c.adopted_org, "confirmed@contoso.test", OrganizationUserType::kUser);
  EXPECT_TRUE(is_refused(run(w, ConfirmMember{c.adopted_org, confirmed.id, kOrgKey}, c.client_owner),
                         ErrorKind::kFailedPrecondition,
                         "User must accept the invitation before being confirmed."));
}

TEST(MemberConfirm, AKeyIsRequired) {
  World w;
  Cast c = build_cast(w);
  Member m = accepted_member(w, c.client_owner, c.adopted_org, "new@contoso.test");
  EXPECT_TRUE(
      is_refused(run(w, ConfirmMember{c.adopted_org, m.id, ""}, c.client_owner), ErrorKind::kValidation));
  EXPECT_EQ(member_of(w, c.adopted_org, m.id).status, OrganizationUserStatus::kAccepted);
}

// --- who manages members -------------------------------------------------------------------------

TEST(MemberManagers, OwnersAdminsAndCustomMembersWithManageUsers) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  int n = 0;
  for (const Actor* actor : {&c.client_owner, &t.second_owner.actor, &t.admin.actor, &t.manager.actor}) {
    SCOPED_TRACE("actor " + actor->user_id.to_string());
    const std::string email = "by" + std::to_string(n++) + "@contoso.test";
    auto invite = run(w, invite_cmd(t.org, {email}), *actor);
    EXPECT_TRUE(has_events(invite, {{organization_stream(t.org), "OrganizationUserInvited", 1500}}));
    EXPECT_TRUE(recorded_as(invite, *actor, ActingAs::kDirect));
    ASSERT_TRUE(invite.ok());
    const OrganizationUserId id = invite->created_ids.at(0);
    Actor invitee = register_user(w, email);
    run_ok(w, AcceptMember{t.org, id, invite->tokens.at(0)}, invitee);
    EXPECT_TRUE(recorded_as(run(w, ConfirmMember{t.org, id, kOrgKey}, *actor), *actor, ActingAs::kDirect));
    EXPECT_TRUE(recorded_as(
        run(w, update_cmd(t.org, id, OrganizationUserType::kCustom, {.manage_groups = true}), *actor), *actor,
        ActingAs::kDirect));
    EXPECT_TRUE(recorded_as(run(w, RevokeMember{t.org, id}, *actor), *actor, ActingAs::kDirect));
    EXPECT_TRUE(recorded_as(run(w, RestoreMember{t.org, id}, *actor), *actor, ActingAs::kDirect));
    EXPECT_TRUE(recorded_as(run(w, RemoveMember{t.org, id}, *actor), *actor, ActingAs::kDirect));
    EXPECT_EQ(w.organization(t.org)->member(id), nullptr);
  }
}

// Confirmed provider users of the organization's provider act as its Owners; their
// events record the provider through which they acted.
TEST(MemberManagers, ConfirmedProviderUsersActAsOwners) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  int n = 0;
  for (const Actor* actor : {&c.owner, &c.service_user}) {
    SCOPED_TRACE("actor " + actor->user_id.to_string());
    const std::string email = "boss" + std::to_string(n++) + "@contoso.test";
    // They may invite an Owner ...
    auto invite = run(w, invite_cmd(t.org, {email}, OrganizationUserType::kOwner), *actor);
    EXPECT_TRUE(has_events(invite, {{organization_stream(t.org), "OrganizationUserInvited", 1500}}));
    EXPECT_TRUE(recorded_as(invite, *actor, ActingAs::kProviderUser, c.provider));
    ASSERT_TRUE(invite.ok());
    const OrganizationUserId id = invite->created_ids.at(0);
    Actor invitee = register_user(w, email);
    run_ok(w, AcceptMember{t.org, id, invite->tokens.at(0)}, invitee);
    auto confirm = run(w, ConfirmMember{t.org, id, kOrgKey}, *actor);
    EXPECT_TRUE(has_events(confirm, {{organization_stream(t.org), "OrganizationUserConfirmed", 1501}}));
    EXPECT_TRUE(recorded_as(confirm, *actor, ActingAs::kProviderUser, c.provider));
    EXPECT_EQ(member_of(w, t.org, id).status, OrganizationUserStatus::kConfirmed);
    // ... revoke, restore and demote an Owner, promote someone to Owner and back ...
    auto revoke = run(w, RevokeMember{t.org, id}, *actor);
    EXPECT_TRUE(has_events(revoke, {{organization_stream(t.org), "OrganizationUserRevoked", 1511}}));
    EXPECT_TRUE(recorded_as(revoke, *actor, ActingAs::kProviderUser, c.provider));
    auto restore = run(w, RestoreMember{t.org, id}, *actor);
    EXPECT_TRUE(has_events(restore, {{organization_stream(t.org), "OrganizationUserRestored", 1512}}));
    EXPECT_TRUE(recorded_as(restore, *actor, ActingAs::kProviderUser, c.provider));
    auto demote = run(w, update_cmd(t.org, id, OrganizationUserType::kAdmin), *actor);
    EXPECT_TRUE(has_events(demote, {{organization_stream(t.org), "OrganizationUserUpdated", 1502}}));
    EXPECT_TRUE(recorded_as(demote, *actor, ActingAs::kProviderUser, c.provider));
    EXPECT_EQ(member_of(w, t.org, id).type, OrganizationUserType::kAdmin);
    auto promote = run(w, update_cmd(t.org, t.user.id, OrganizationUserType::kOwner), *actor);
    EXPECT_TRUE(recorded_as(promote, *actor, ActingAs::kProviderUser, c.provider));
    EXPECT_EQ(member_of(w, t.org, t.user.id).type, OrganizationUserType::kOwner);
    EXPECT_TRUE(is_ok(run(w, update_cmd(t.org, t.user.id, OrganizationUserType::kUser), *actor)));
    // ... and remove one.
    ASSERT_TRUE(is_ok(run(w, update_cmd(t.org, id, OrganizationUserType::kOwner), *actor)));
    auto remove = run(w, RemoveMember{t.org, id}, *actor);
    EXPECT_TRUE(has_events(remove, {{organization_stream(t.org), "OrganizationUserRemoved", 1503},
                                    {user_stream(invitee.user_id), "UserLeftOrganization", 0}}));
    EXPECT_TRUE(w.user(invitee.user_id)->organizations.empty());
    EXPECT_TRUE(recorded_as(remove, *actor, ActingAs::kProviderUser, c.provider));
    EXPECT_EQ(w.organization(t.org)->member(id), nullptr);
  }
}

// Members without the right (a User, a Custom member with every permission but
// manageUsers) are refused with kPermissionDenied, whatever the target.
TEST(MemberManagers, MembersLackingTheRightAreDenied) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  Member accepted = accepted_member(w, c.client_owner, t.org, "accepted@contoso.test");
  const OrganizationUserId target = t.admin.id;
  for (const Member* m : {&t.user, &t.custom}) {
    SCOPED_TRACE("actor " + m->actor.user_id.to_string());
    const Actor& a = m->actor;
    EXPECT_TRUE(is_refused(run(w, invite_cmd(t.org, {"x@contoso.test"}), a), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(
        is_refused(run(w, ConfirmMember{t.org, accepted.id, kOrgKey}, a), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, target, OrganizationUserType::kUser), a),
                           ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, RemoveMember{t.org, target}, a), ErrorKind::kPermissionDenied));
    EXPECT_TRUE(is_refused(run(w, RevokeMember{t.org, target}, a), ErrorKind::kPermissionDenied));
  }
  run_ok(w, RevokeMember{t.org, target}, c.client_owner);
  for (const Member* m : {&t.user, &t.custom}) {
    EXPECT_TRUE(is_refused(run(w, RestoreMember{t.org, target}, m->actor), ErrorKind::kPermissionDenied));
  }
  EXPECT_EQ(member_of(w, t.org, target).status, OrganizationUserStatus::kRevoked);
  EXPECT_EQ(member_of(w, t.org, accepted.id).status, OrganizationUserStatus::kAccepted);
}

// Anyone who is neither a member nor a confirmed provider user of the organization's
// provider does not see the organization at all.
TEST(MemberManagers, OutsidersAreNotFound) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  Member accepted = accepted_member(w, c.client_owner, t.org, "accepted@contoso.test");
  run_ok(w, RevokeMember{t.org, t.custom.id}, c.client_owner);
  // A provider user of another provider.
  Actor other_owner = register_user(w, "owner@fabrikam.test");
  set_up_provider(w, c.staff, other_owner, "owner@fabrikam.test");
  // A confirmed Owner of another client of the same provider.
  Member globex_owner =
      add_member(w, c.owner, c.new_client_org, "boss@globex.test", OrganizationUserType::kOwner);
  struct Outsider {
    const char* name;
    const Actor* actor;
  };
  for (const Outsider& o :
       {Outsider{"unrelated user", &c.unrelated}, Outsider{"provider user of another provider", &other_owner},
        Outsider{"owner of another client", &globex_owner.actor},
        Outsider{"invited provider admin", &c.invited_admin},
        Outsider{"accepted provider admin", &c.accepted_admin}}) {
    SCOPED_TRACE(o.name);
    const Actor& a = *o.actor;
    EXPECT_TRUE(is_refused(run(w, invite_cmd(t.org, {"x@contoso.test"}), a), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, ConfirmMember{t.org, accepted.id, kOrgKey}, a), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, t.user.id, OrganizationUserType::kAdmin), a),
                           ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, RemoveMember{t.org, t.user.id}, a), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, RevokeMember{t.org, t.user.id}, a), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, RestoreMember{t.org, t.custom.id}, a), ErrorKind::kNotFound));
  }
  // An organization that does not exist.
  EXPECT_TRUE(
      is_refused(run(w, invite_cmd(w.new_id(), {"x@contoso.test"}), c.client_owner), ErrorKind::kNotFound));
  EXPECT_EQ(w.organization(t.org)->member_by_email("x@contoso.test"), nullptr);
  EXPECT_EQ(member_of(w, t.org, t.user.id).type, OrganizationUserType::kUser);
}

// Rights through the provider end with the provider membership: a provider user
// removed from the provider is an outsider to its clients at once.
TEST(MemberManagers, ARemovedProviderUserLosesTheRightsAtOnce) {
  World w;
  Cast c = build_cast(w);
  ASSERT_TRUE(is_ok(run(w, invite_cmd(c.adopted_org, {"a@contoso.test"}), c.service_user)));
  run_ok(w, RemoveProviderUsers{c.provider, {c.service_user_pu}}, c.owner);
  EXPECT_TRUE(is_refused(run(w, invite_cmd(c.adopted_org, {"b@contoso.test"}), c.service_user),
                         ErrorKind::kNotFound));
  const OrganizationUserId invited = w.organization(c.adopted_org)->member_by_email("a@contoso.test")->id;
  EXPECT_TRUE(is_refused(run(w, RemoveMember{c.adopted_org, invited}, c.service_user), ErrorKind::kNotFound));
  EXPECT_NE(w.organization(c.adopted_org)->member(invited), nullptr);
}

// --- only Owners manage Owners -------------------------------------------------------------------

TEST(MemberOwners, OnlyOwnersAndProviderUsersManageOwners) {
  EXPECT_STREQ(msg::kOnlyOwnersManageOwners, kOnlyOwnersText);
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  for (const Member* m : {&t.admin, &t.manager}) {
    SCOPED_TRACE("actor " + m->actor.user_id.to_string());
    const Actor& a = m->actor;
    auto owner_invite =
        run(w, invite_cmd(t.org, {"new.owner@contoso.test"}, OrganizationUserType::kOwner), a);
    EXPECT_TRUE(is_refused(owner_invite, ErrorKind::kPermissionDenied, kOnlyOwnersText));
    // To Owner, and from Owner.
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, t.user.id, OrganizationUserType::kOwner), a),
                           ErrorKind::kPermissionDenied, kOnlyOwnersText));
    EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, t.second_owner.id, OrganizationUserType::kAdmin), a),
                           ErrorKind::kPermissionDenied, kOnlyOwnersText));
    EXPECT_TRUE(is_refused(run(w, RemoveMember{t.org, t.second_owner.id}, a), ErrorKind::kPermissionDenied,
                           kOnlyOwnersText));
    EXPECT_TRUE(is_refused(run(w, RevokeMember{t.org, t.second_owner.id}, a), ErrorKind::kPermissionDenied,
                           kOnlyOwnersText));
  }
  EXPECT_EQ(w.organization(t.org)->member_by_email("new.owner@contoso.test"), nullptr);
  EXPECT_EQ(member_of(w, t.org, t.user.id).type, OrganizationUserType::kUser);
  EXPECT_EQ(member_of(w, t.org, t.second_owner.id).type, OrganizationUserType::kOwner);
  EXPECT_EQ(member_of(w, t.org, t.second_owner.id).status, OrganizationUserStatus::kConfirmed);

  // A revoked Owner is still an Owner: restoring one is an Owner's business too.
  run_ok(w, RevokeMember{t.org, t.second_owner.id}, c.client_owner);
  for (const Member* m : {&t.admin, &t.manager}) {
    EXPECT_TRUE(is_refused(run(w, RestoreMember{t.org, t.second_owner.id}, m->actor),
                           ErrorKind::kPermissionDenied, kOnlyOwnersText));
  }
  EXPECT_EQ(member_of(w, t.org, t.second_owner.id).status, OrganizationUserStatus::kRevoked);

  // An Owner does all of it.
  EXPECT_TRUE(is_ok(run(w, RestoreMember{t.org, t.second_owner.id}, c.client_owner)));
  EXPECT_TRUE(is_ok(
      run(w, invite_cmd(t.org, {"new.owner@contoso.test"}, OrganizationUserType::kOwner), c.client_owner)));
  EXPECT_TRUE(is_ok(run(w, update_cmd(t.org, t.user.id, OrganizationUserType::kOwner), c.client_owner)));
  EXPECT_TRUE(
      is_ok(run(w, update_cmd(t.org, t.second_owner.id, OrganizationUserType::kAdmin), c.client_owner)));
  EXPECT_TRUE(
      is_ok(run(w, update_cmd(t.org, t.second_owner.id, OrganizationUserType::kOwner), c.client_owner)));
  EXPECT_TRUE(is_ok(run(w, RevokeMember{t.org, t.second_owner.id}, c.client_owner)));
  EXPECT_TRUE(is_ok(run(w, RemoveMember{t.org, t.second_owner.id}, c.client_owner)));
}

// An Admin (or a Custom member with manageUsers) manages everyone but Owners.
TEST(MemberOwners, AnAdminManagesEveryoneElse) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  EXPECT_TRUE(is_ok(
      run(w, invite_cmd(t.org, {"new.admin@contoso.test"}, OrganizationUserType::kAdmin), t.admin.actor)));
  EXPECT_TRUE(is_ok(run(w, update_cmd(t.org, t.user.id, OrganizationUserType::kAdmin), t.admin.actor)));
  EXPECT_TRUE(is_ok(run(w, RevokeMember{t.org, t.custom.id}, t.manager.actor)));
  EXPECT_TRUE(is_ok(run(w, RestoreMember{t.org, t.custom.id}, t.admin.actor)));
  EXPECT_TRUE(is_ok(run(w, RemoveMember{t.org, t.custom.id}, t.admin.actor)));
  // Demoted to User, the manager loses the right with the type.
  EXPECT_TRUE(is_ok(run(w, update_cmd(t.org, t.manager.id, OrganizationUserType::kUser), t.admin.actor)));
  EXPECT_TRUE(is_refused(run(w, invite_cmd(t.org, {"y@contoso.test"}), t.manager.actor),
                         ErrorKind::kPermissionDenied));
}

// "At least one Confirmed Owner": the only confirmed Owner of an organization no
// provider manages cannot remove, revoke or demote themselves (and only Owners can
// touch an Owner, so nobody else can either).
TEST(MemberOwners, TheOnlyConfirmedOwnerOfAnOrganizationStays) {
  World w;
  OwnOrg o = own_org(w, 10);
  EXPECT_TRUE(is_refused(run(w, update_cmd(o.org, o.founder_id, OrganizationUserType::kAdmin), o.founder),
                         ErrorKind::kFailedPrecondition));
  EXPECT_TRUE(
      is_refused(run(w, RemoveMember{o.org, o.founder_id}, o.founder), ErrorKind::kFailedPrecondition));
  EXPECT_TRUE(
      is_refused(run(w, RevokeMember{o.org, o.founder_id}, o.founder), ErrorKind::kFailedPrecondition));
  Member admin = add_member(w, o.founder, o.org, "admin@initech.test", OrganizationUserType::kAdmin);
  EXPECT_TRUE(is_refused(run(w, RemoveMember{o.org, o.founder_id}, admin.actor), ErrorKind::kPermissionDenied,
                         kOnlyOwnersText));
  EXPECT_EQ(w.organization(o.org)->confirmed_owners(), 1);
  // With a second confirmed Owner, either may go.
  Member second = add_member(w, o.founder, o.org, "owner2@initech.test", OrganizationUserType::kOwner);
  EXPECT_TRUE(is_ok(run(w, update_cmd(o.org, o.founder_id, OrganizationUserType::kAdmin), second.actor)));
  EXPECT_EQ(w.organization(o.org)->confirmed_owners(), 1);
}

// In a provider-managed organization whose provider has a confirmed provider user,
// provider users count as owners: they may take away its last confirmed Owner.
// Unlinking it then needs a confirmed Owner of its own again.
TEST(MemberOwners, ProviderUsersCountAsOwnersOfAManagedOrganization) {
  EXPECT_STREQ(msg::kNeedsOwnConfirmedOwner, kNeedsOwnerText);
  enum class How { kDemote, kRevoke, kRemove };
  for (How how : {How::kDemote, How::kRevoke, How::kRemove}) {
    SCOPED_TRACE("how " + std::to_string(static_cast<int>(how)));
    World w;
    Cast c = build_cast(w);
    const OrganizationUserId last =
        w.organization(c.adopted_org)->member_by_user_id(c.client_owner.user_id)->id;
    ASSERT_EQ(w.organization(c.adopted_org)->confirmed_owners(), 1);
    Expected<Decision> r =
        how == How::kDemote   ? run(w, update_cmd(c.adopted_org, last, OrganizationUserType::kAdmin), c.owner)
        : how == How::kRevoke ? run(w, RevokeMember{c.adopted_org, last}, c.owner)
                              : run(w, RemoveMember{c.adopted_org, last}, c.owner);
    EXPECT_TRUE(is_ok(r));
    EXPECT_TRUE(recorded_as(r, c.owner, ActingAs::kProviderUser, c.provider));
    EXPECT_EQ(w.organization(c.adopted_org)->confirmed_owners(), 0);
    EXPECT_TRUE(is_refused(run(w, RemoveClientOrg{c.provider, c.adopted_client}, c.owner),
                           ErrorKind::kFailedPrecondition, kNeedsOwnerText));
  }
}

// --- UpdateMember --------------------------------------------------------------------------------

TEST(MemberUpdate, ChangesTypeAndPermissions) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const Permissions perms{.manage_groups = true, .edit_any_collection = true};
  auto r = run(w, update_cmd(t.org, t.user.id, OrganizationUserType::kCustom, perms), c.client_owner);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "OrganizationUserUpdated", 1502}}));
  EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  const auto& e = *r->events[0].payload.AsOrganizationUserUpdated();
  EXPECT_EQ(e.organization_user_id, t.user.id);
  EXPECT_EQ(e.type, static_cast<std::int8_t>(OrganizationUserType::kCustom));
  EXPECT_EQ(from_fb(e.permissions), perms);
  const OrganizationMember& m = member_of(w, t.org, t.user.id);
  EXPECT_EQ(m.type, OrganizationUserType::kCustom);
  EXPECT_EQ(m.permissions, perms);
  EXPECT_EQ(m.status, OrganizationUserStatus::kConfirmed);
}

// Granting manageUsers to a Custom member gives them the right at once.
TEST(MemberUpdate, ManageUsersIsTheRightToManageMembers) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  EXPECT_TRUE(is_refused(run(w, invite_cmd(t.org, {"a@contoso.test"}), t.custom.actor),
                         ErrorKind::kPermissionDenied));
  Permissions with = kEverythingButManageUsers;
  with.manage_users = true;
  run_ok(w, update_cmd(t.org, t.custom.id, OrganizationUserType::kCustom, with), t.admin.actor);
  EXPECT_TRUE(is_ok(run(w, invite_cmd(t.org, {"a@contoso.test"}), t.custom.actor)));
  run_ok(w, update_cmd(t.org, t.manager.id, OrganizationUserType::kCustom, {}), t.admin.actor);
  EXPECT_TRUE(is_refused(run(w, invite_cmd(t.org, {"b@contoso.test"}), t.manager.actor),
                         ErrorKind::kPermissionDenied));
}

TEST(MemberUpdate, NobodyChangesTheirOwnType) {
  EXPECT_STREQ(msg::kCannotChangeOwnType, "You cannot change your own type.");
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  EXPECT_TRUE(
      is_refused(run(w, update_cmd(t.org, t.client_owner, OrganizationUserType::kAdmin), c.client_owner),
                 ErrorKind::kFailedPrecondition, "You cannot change your own type."));
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, t.admin.id, OrganizationUserType::kUser), t.admin.actor),
                         ErrorKind::kFailedPrecondition, "You cannot change your own type."));
  EXPECT_TRUE(is_refused(run(w, update_cmd(t.org, t.admin.id, OrganizationUserType::kOwner), t.admin.actor),
                         ErrorKind::kFailedPrecondition));
  EXPECT_EQ(member_of(w, t.org, t.client_owner).type, OrganizationUserType::kOwner);
  EXPECT_EQ(member_of(w, t.org, t.admin.id).type, OrganizationUserType::kAdmin);
}

// --- RemoveMember --------------------------------------------------------------------------------

TEST(MemberRemove, AnOwnerRemovesMembersAndTheirSeatsFree) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  MemberInvitation invited = invite_member(w, c.client_owner, t.org, "invited@contoso.test");
  const int seats_before = w.organization(t.org)->occupied_seats();
  auto r = run(w, RemoveMember{t.org, t.user.id}, c.client_owner);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "OrganizationUserRemoved", 1503},
                             {user_stream(t.user.actor.user_id), "UserLeftOrganization", 0}}));
  EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0].payload.AsOrganizationUserRemoved()->organization_user_id, t.user.id);
  EXPECT_EQ(r->events[0].payload.AsOrganizationUserRemoved()->user_id, t.user.actor.user_id);
  EXPECT_EQ(w.organization(t.org)->member(t.user.id), nullptr);
  auto only_invited = run(w, RemoveMember{t.org, invited.id}, c.client_owner);
  ASSERT_TRUE(has_events(only_invited, {{organization_stream(t.org), "OrganizationUserRemoved", 1503}}));
  EXPECT_TRUE(only_invited->events[0].payload.AsOrganizationUserRemoved()->user_id.is_nil())
      << "had not accepted";
  EXPECT_EQ(w.organization(t.org)->occupied_seats(), seats_before - 2);
  // A removed member is no member: the organization is invisible to them.
  EXPECT_TRUE(is_refused(run(w, invite_cmd(t.org, {"z@contoso.test"}), t.user.actor), ErrorKind::kNotFound));
}

TEST(MemberRemove, NeverYourself) {
  EXPECT_STREQ(msg::kCannotRemoveYourself, "You cannot remove yourself.");
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  for (const auto& [actor, id] :
       {std::pair{&c.client_owner, t.client_owner}, std::pair{&t.admin.actor, t.admin.id},
        std::pair{&t.manager.actor, t.manager.id}}) {
    EXPECT_TRUE(is_refused(run(w, RemoveMember{t.org, id}, *actor), ErrorKind::kFailedPrecondition,
                           "You cannot remove yourself."));
    EXPECT_NE(w.organization(t.org)->member(id), nullptr);
  }
}

// --- RevokeMember --------------------------------------------------------------------------------

TEST(MemberRevoke, RevokesOnceAndFreesTheSeat) {
  EXPECT_STREQ(msg::kAlreadyRevoked, "Already revoked.");
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  const int seats_before = w.organization(t.org)->occupied_seats();
  auto r = run(w, RevokeMember{t.org, t.user.id}, c.client_owner);
  EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "OrganizationUserRevoked", 1511}}));
  EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0].payload.AsOrganizationUserRevoked()->organization_user_id, t.user.id);
  EXPECT_EQ(member_of(w, t.org, t.user.id).status, OrganizationUserStatus::kRevoked);
  EXPECT_EQ(static_cast<int>(member_of(w, t.org, t.user.id).status), -1);
  EXPECT_EQ(w.organization(t.org)->occupied_seats(), seats_before - 1);
  EXPECT_TRUE(is_refused(run(w, RevokeMember{t.org, t.user.id}, c.client_owner),
                         ErrorKind::kFailedPrecondition, "Already revoked."));
  EXPECT_EQ(w.organization(t.org)->occupied_seats(), seats_before - 1);
}

TEST(MemberRevoke, NeverYourself) {
  EXPECT_STREQ(msg::kCannotRevokeYourself, "You cannot revoke yourself.");
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  for (const auto& [actor, id] :
       {std::pair{&c.client_owner, t.client_owner}, std::pair{&t.admin.actor, t.admin.id},
        std::pair{&t.manager.actor, t.manager.id}}) {
    EXPECT_TRUE(is_refused(run(w, RevokeMember{t.org, id}, *actor), ErrorKind::kFailedPrecondition,
                           "You cannot revoke yourself."));
    EXPECT_EQ(member_of(w, t.org, id).status, OrganizationUserStatus::kConfirmed);
  }
}

// --- RestoreMember -------------------------------------------------------------------------------

TEST(MemberRestore, RestoresTheStatusBeforeRevocation) {
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  MemberInvitation invited = invite_member(w, c.client_owner, t.org, "invited@contoso.test");
  Member accepted = accepted_member(w, c.client_owner, t.org, "accepted@contoso.test");
  struct Case {
    OrganizationUserId id;
    OrganizationUserStatus status;
  };
  for (const Case& k : {Case{invited.id, OrganizationUserStatus::kInvited},
                        Case{accepted.id, OrganizationUserStatus::kAccepted},
                        Case{t.user.id, OrganizationUserStatus::kConfirmed}}) {
    SCOPED_TRACE("status " + std::to_string(static_cast<int>(k.status)));
    run_ok(w, RevokeMember{t.org, k.id}, c.client_owner);
    ASSERT_EQ(member_of(w, t.org, k.id).status, OrganizationUserStatus::kRevoked);
    auto r = run(w, RestoreMember{t.org, k.id}, c.client_owner);
    EXPECT_TRUE(has_events(r, {{organization_stream(t.org), "OrganizationUserRestored", 1512}}));
    EXPECT_TRUE(recorded_as(r, c.client_owner, ActingAs::kDirect));
    ASSERT_TRUE(r.ok());
    const auto& e = *r->events[0].payload.AsOrganizationUserRestored();
    EXPECT_EQ(e.organization_user_id, k.id);
    EXPECT_EQ(e.status, static_cast<std::int8_t>(k.status));
    EXPECT_EQ(member_of(w, t.org, k.id).status, k.status);
  }
  // A restored invitee can still accept, and a restored accepted member be confirmed.
  Actor invitee = register_user(w, "invited@contoso.test");
  EXPECT_TRUE(is_ok(run(w, AcceptMember{t.org, invited.id, invited.token}, invitee)));
  EXPECT_TRUE(is_ok(run(w, ConfirmMember{t.org, accepted.id, kOrgKey}, c.client_owner)));
}

TEST(MemberRestore, OnlyRevokedMembers) {
  EXPECT_STREQ(msg::kAlreadyActive, "Already active.");
  World w;
  Cast c = build_cast(w);
  Team t = build_team(w, c);
  MemberInvitation invited = invite_member(w, c.client_owner, t.org, "invited@contoso.test");
  for (const OrganizationUserId& id : {t.user.id, invited.id, t.second_owner.id}) {
    EXPECT_TRUE(is_refused(run(w, RestoreMember{t.org, id}, c.client_owner), ErrorKind::kFailedPrecondition,
                           "Already active."));
  }
  run_ok(w, RevokeMember{t.org, t.user.id}, c.client_owner);
  run_ok(w, RestoreMember{t.org, t.user.id}, c.client_owner);
  EXPECT_TRUE(is_refused(run(w, RestoreMember{t.org, t.user.id}, c.client_owner),
                         ErrorKind::kFailedPrecondition, msg::kAlreadyActive));
}

// --- end to end ----------------------------------------------------------------------------------

// A client created by AddClientOrg (new) has only an invited Owner, so the provider
// cannot unlink it. Once that Owner accepts and is confirmed, it can.
TEST(MemberLifecycle, ANewClientsOwnerJoinsAndThenTheProviderCanUnlinkIt) {
  World w;
  Cast c = build_cast(w);
  NewClient initech =
      add_new_client(w, c.owner, c.provider, "Initech", "owner@initech.test", PlanType::kTeamsMonthly, 5);
  const OrganizationId org = initech.organization_id;
  EXPECT_TRUE(is_refused(run(w, RemoveClientOrg{c.provider, initech.provider_organization_id}, c.owner),
                         ErrorKind::kFailedPrecondition, kNeedsOwnerText));

  Actor owner = register_user(w, "owner@initech.test", "Ines Initech");
  auto accept = run(w, AcceptMember{org, initech.owner_organization_user_id, initech.owner_token}, owner);
  EXPECT_TRUE(has_events(accept, {{organization_stream(org), "OrganizationUserAccepted", 0},
                                  {user_stream(owner.user_id), "UserJoinedOrganization", 0}}));
  EXPECT_TRUE(recorded_as(accept, owner, ActingAs::kDirect));
  // Accepted is not yet confirmed.
  EXPECT_TRUE(is_refused(run(w, RemoveClientOrg{c.provider, initech.provider_organization_id}, c.owner),
                         ErrorKind::kFailedPrecondition, kNeedsOwnerText));

  auto confirm = run(w, ConfirmMember{org, initech.owner_organization_user_id, kOrgKey}, c.owner);
  EXPECT_TRUE(has_events(confirm, {{organization_stream(org), "OrganizationUserConfirmed", 1501}}));
  EXPECT_TRUE(recorded_as(confirm, c.owner, ActingAs::kProviderUser, c.provider));
  EXPECT_TRUE(w.organization(org)->is_confirmed_owner(owner.user_id));

  auto unlink = run(w, RemoveClientOrg{c.provider, initech.provider_organization_id}, c.owner);
  EXPECT_TRUE(has_events(unlink, {{provider_stream(c.provider), "ProviderOrganizationRemoved", 1902},
                                  {organization_stream(org), "OrganizationProviderUnlinked", 0}}));
  EXPECT_TRUE(recorded_as(unlink, c.owner, ActingAs::kProviderUser, c.provider));
  const OrganizationState& s = *w.organization(org);
  EXPECT_EQ(s.status, OrganizationStatus::kCreated);
  EXPECT_FALSE(s.provider_id.has_value());
  EXPECT_EQ(s.billing_email, "owner@initech.test");
  // Unlinked, the provider's users are outsiders; its own Owner still manages it.
  EXPECT_TRUE(is_refused(run(w, invite_cmd(org, {"x@initech.test"}), c.owner), ErrorKind::kNotFound));
  EXPECT_TRUE(is_ok(run(w, invite_cmd(org, {"x@initech.test"}), owner)));
}

}  // namespace
}  // namespace portal::domain::test
