// Every rule of the provider domain (DESIGN.md section 4) that commands enforce.
#include "portal/domain/decide.h"

#include <algorithm>
#include <set>

#include "decide_support.h"
#include "portal/domain/messages.h"

namespace portal::domain {

namespace detail {

Expected<OrgAccess> org_access(StateReader& states, const OrganizationId& id, const Actor& actor) {
  OrgAccess a;
  a.org = states.organization(id);
  if (a.org == nullptr || !a.org->exists) return Error::not_found();
  if (!actor.user_id.is_nil()) a.member = a.org->member_by_user_id(actor.user_id);
  if (a.org->provider_id) {
    // Read even when the actor is a member: the append then checks the provider's
    // version, so rights granted through it can never be used after a removal.
    a.provider = states.provider(*a.org->provider_id);
    if (a.provider != nullptr && a.provider->exists && !a.provider->deleted && !actor.user_id.is_nil()) {
      const ProviderUser* pu = a.provider->user_by_user_id(actor.user_id);
      a.as_provider_user = pu != nullptr && pu->status == ProviderUserStatus::kConfirmed;
      // A disabled provider's users keep no rights in its clients; they are told why.
      if (a.as_provider_user && !a.provider->enabled) {
        a.as_provider_user = false;
        if (a.member == nullptr) return Error::failed_precondition(msg::kProviderDisabled);
      }
    }
  }
  if (a.member == nullptr && !a.as_provider_user) {
    return actor.staff ? Error::permission_denied() : Error::not_found();
  }
  return a;
}

void emit_joined(Builder& b, const UserId& user, const OrganizationId& org,
                 const OrganizationUserId& member) {
  fb::UserJoinedOrganizationT joined;
  joined.organization_id = org;
  joined.organization_user_id = member;
  b.emit(user_stream(user), std::move(joined));
}

void emit_left(Builder& b, const UserId& user, const OrganizationId& org) {
  fb::UserLeftOrganizationT left;
  left.organization_id = org;
  b.emit(user_stream(user), std::move(left));
}

// A revoked membership binds no policy; provider membership is not organization
// membership, so a provider user is never bound by a client's SingleOrg.
std::optional<Error> single_org_refusal(StateReader& states, const UserId& user,
                                        const OrganizationState& joining) {
  const UserState* u = states.user(user);
  if (u == nullptr) return std::nullopt;
  for (const OrganizationId& other_id : u->organizations) {
    if (other_id == joining.id) continue;
    const OrganizationState* other = states.organization(other_id);
    if (other == nullptr || !other->exists) continue;
    const OrganizationMember* m = other->member_by_user_id(user);
    if (m == nullptr || m->status == OrganizationUserStatus::kRevoked) continue;
    if (joining.policy_enabled(PolicyType::kSingleOrg))
      return Error::failed_precondition(msg::kLeaveOtherOrganizationsFirst);
    if (other->policy_enabled(PolicyType::kSingleOrg))
      return Error::failed_precondition(msg::kOtherOrganizationForbidsIt);
  }
  return std::nullopt;
}

}  // namespace detail

namespace {

using namespace detail;

using P = fb::EventPayload;

// --- input rules -------------------------------------------------------------

constexpr std::size_t kMaxName = 50;
constexpr std::size_t kMaxEmail = 256;
constexpr std::size_t kMaxInviteEmails = 20;

std::optional<Error> check_name(std::string_view field, std::string_view value, bool required = true) {
  if (required && value.empty())
    return Error::validation(std::string(field), "The " + std::string(field) + " field is required.");
  if (value.size() > kMaxName) {
    return Error::validation(std::string(field), "The field " + std::string(field) +
                                                     " must be a string with a maximum length of 50.");
  }
  return std::nullopt;
}

std::optional<Error> check_email(std::string_view field, std::string_view value) {
  if (value.empty())
    return Error::validation(std::string(field), "The " + std::string(field) + " field is required.");
  if (!is_valid_email(value)) {
    return Error::validation(
        std::string(field), "The " + std::string(field) + " field is not a supported e-mail address format.");
  }
  return std::nullopt;
}

std::optional<Error> check_seat_minimums(const std::vector<SeatMinimum>& minimums) {
  std::set<PlanType> seen;
  for (const auto& m : minimums) {
    if (!plan_type_from(static_cast<int>(m.plan)))
      return Error::validation("seatMinimums", "Unknown plan type.");
    if (m.seat_minimum < 0) return Error::validation("seatMinimums", "Seat minimums cannot be negative.");
    if (!seen.insert(m.plan).second)
      return Error::validation("seatMinimums", "A plan appears more than once.");
  }
  return std::nullopt;
}

// Provider and organization invitations take 1 to 20 valid addresses at a time.
std::optional<Error> check_invite_emails(const std::vector<std::string>& emails) {
  if (emails.empty() || emails.size() > kMaxInviteEmails) {
    return Error::validation("emails", "You can invite between 1 and 20 users at a time.");
  }
  for (const auto& email : emails) {
    if (email.size() > kMaxEmail || !is_valid_email(email)) {
      return Error::validation("emails", "'" + email.substr(0, 64) + "' is not a valid email address.");
    }
  }
  return std::nullopt;
}

std::vector<fb::PlanSeatMinimum> to_fb(const std::vector<SeatMinimum>& minimums) {
  std::vector<fb::PlanSeatMinimum> out;
  for (const auto& m : minimums) out.emplace_back(static_cast<std::int16_t>(m.plan), m.seat_minimum);
  return out;
}

// Which plans a provider type may manage (DESIGN.md: AddClientOrg).
bool plan_fits_provider(ProviderType type, PlanType plan) {
  switch (type) {
    case ProviderType::kMsp: return plan == PlanType::kTeamsMonthly || plan == PlanType::kEnterpriseMonthly;
    case ProviderType::kBusinessUnit:
      return plan == PlanType::kEnterpriseMonthly || plan == PlanType::kEnterpriseAnnually;
    case ProviderType::kReseller: return plan != PlanType::kFree && plan != PlanType::kFamiliesAnnually;
  }
  return false;
}

bool token_matches(const std::vector<std::uint8_t>& stored_hash, std::string_view token) {
  return !stored_hash.empty() && !token.empty() && token_hash(token) == stored_hash;
}

// --- who is acting --------------------------------------------------------------

// The provider a command addresses and the actor's confirmed membership in it.
struct ProviderAccess {
  const ProviderState* provider = nullptr;
  const ProviderUser* member = nullptr;  // confirmed provider user, or nullptr
};

Expected<ProviderAccess> access(StateReader& states, const ProviderId& id, const Actor& actor) {
  const ProviderState* p = states.provider(id);
  if (p == nullptr || !p->exists || p->deleted) return Error::not_found();
  ProviderAccess a{p, nullptr};
  if (!actor.user_id.is_nil()) {
    const ProviderUser* u = p->user_by_user_id(actor.user_id);
    if (u != nullptr && u->status == ProviderUserStatus::kConfirmed) a.member = u;
  }
  return a;
}

// Outsiders never learn that a provider exists; staff and members who lack the
// role are refused openly.
Error refuse(const Actor& actor, const ProviderAccess& a) {
  if (a.member != nullptr || actor.staff) return Error::permission_denied();
  return Error::not_found();
}

Expected<ProviderAccess> require_provider_user(StateReader& states, const ProviderId& id,
                                               const Actor& actor) {
  auto a = access(states, id, actor);
  if (!a.ok()) return a;
  if (a->member == nullptr) return refuse(actor, a.value());
  if (!a->provider->enabled) return Error::failed_precondition(msg::kProviderDisabled);
  return a;
}

Expected<ProviderAccess> require_admin(StateReader& states, const ProviderId& id, const Actor& actor) {
  auto a = require_provider_user(states, id, actor);
  if (!a.ok()) {
    // A disabled provider is still invisible to outsiders and closed to service users.
    return a;
  }
  if (a->member->type != ProviderUserType::kProviderAdmin) return Error::permission_denied();
  return a;
}

Expected<ProviderAccess> require_staff(StateReader& states, const ProviderId& id, const Actor& actor) {
  if (!actor.staff) return Error::permission_denied();
  return access(states, id, actor);
}

Builder as_member(const ProviderAccess& a) {
  return Builder::via_provider(a.provider->id);
}

// --- accounts ---------------------------------------------------------------------

Expected<Decision> run(const RegisterUser& c, const Actor& actor, StateReader& states, const Environment&) {
  if (!actor.staff && actor.user_id != c.user_id) return Error::permission_denied();
  if (c.user_id.is_nil()) return Error::validation("userId", "The userId field is required.");
  if (auto e = check_email("email", c.email)) return *e;
  if (auto e = check_name("name", c.name)) return *e;
  if (const auto* u = states.user(c.user_id); u != nullptr && u->exists)
    return Error::failed_precondition(msg::kUserExists);
  if (const auto* r = states.email(lower(c.email)); r != nullptr && r->exists) {
    return Error::failed_precondition(msg::kEmailTaken);
  }
  Builder b(actor.staff ? ActingAs::kStaff : ActingAs::kDirect, std::nullopt);
  fb::UserRegisteredT registered;
  registered.user_id = c.user_id;
  registered.email = c.email;
  registered.name = c.name;
  fb::EmailReservedT reserved;
  reserved.user_id = c.user_id;
  reserved.email = lower(c.email);
  b.emit(user_stream(c.user_id), std::move(registered)).emit(email_stream(c.email), std::move(reserved));
  b.decision().created_ids.push_back(c.user_id);
  return b.done();
}

// --- provider lifecycle -----------------------------------------------------------------

Expected<Decision> run(const InviteProvider& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  if (!actor.staff) return Error::permission_denied();
  if (!provider_type_from(static_cast<int>(c.type)))
    return Error::validation("type", "Unknown provider type.");
  if (auto e = check_seat_minimums(c.seat_minimums)) return *e;
  fb::ProviderInvitedT invited;
  invited.provider_id = env.new_id();
  invited.type = static_cast<std::int8_t>(c.type);
  invited.seat_minimums = to_fb(c.seat_minimums);
  Builder b(ActingAs::kStaff, std::nullopt);
  b.decision().created_ids.push_back(invited.provider_id);
  if (c.type == ProviderType::kReseller) {
    if (!c.owner_email.empty()) return Error::validation("ownerEmail", msg::kResellerHasNoOwner);
    invited.status = static_cast<std::int8_t>(ProviderStatus::kCreated);
  } else {
    if (auto e = check_email("ownerEmail", c.owner_email)) return *e;
    const EmailState* owner = states.email(lower(c.owner_email));
    if (owner == nullptr || !owner->exists) return Error::failed_precondition(msg::kOwnerNotRegistered);
    std::string token = env.new_token();
    invited.status = static_cast<std::int8_t>(ProviderStatus::kPending);
    invited.owner_user_id = owner->user_id;
    invited.owner_provider_user_id = env.new_id();
    invited.owner_email = lower(c.owner_email);
    invited.setup_token_sha256 = token_hash(token);
    invited.setup_token_expires_at = env.now + kTokenLifetime;
    b.decision().created_ids.push_back(invited.owner_provider_user_id);
    b.decision().tokens.push_back(std::move(token));
  }
  std::string stream = provider_stream(invited.provider_id);
  b.emit(std::move(stream), std::move(invited));
  return b.done();
}

Expected<Decision> run(const SetupProvider& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  auto a = access(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  const ProviderState& p = *a->provider;
  // Only the invited owner (the provider's first admin) sets it up.
  if (a->member == nullptr || p.users.empty() || a->member->id != p.users.front().id)
    return refuse(actor, a.value());
  if (p.status != ProviderStatus::kPending) return Error::failed_precondition(msg::kProviderAlreadySetup);
  if (!token_matches(p.setup_token_sha256, c.token)) return Error::validation("token", msg::kInvalidToken);
  if (env.now > p.setup_token_expires_at) return Error::validation("token", msg::kTokenExpired);
  if (auto e = check_name("name", c.name)) return *e;
  if (auto e = check_name("businessName", c.business_name, false)) return *e;
  if (auto e = check_email("billingEmail", c.billing_email)) return *e;
  if (c.key.empty()) return Error::validation("key", "The key field is required.");
  fb::ProviderSetUpT setup;
  setup.name = c.name;
  setup.business_name = c.business_name;
  setup.billing_email = c.billing_email;
  setup.key = c.key;
  setup.status = static_cast<std::int8_t>(ProviderStatus::kBillable);
  return as_member(a.value()).emit(provider_stream(p.id), std::move(setup)).done();
}

Expected<Decision> run(const UpdateProvider& c, const Actor& actor, StateReader& states, const Environment&) {
  auto a = require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  if (auto e = check_name("name", c.name)) return *e;
  if (auto e = check_name("businessName", c.business_name, false)) return *e;
  if (auto e = check_email("billingEmail", c.billing_email)) return *e;
  fb::ProviderUpdatedT updated;
  updated.name = c.name;
  updated.business_name = c.business_name;
  updated.billing_email = c.billing_email;
  return as_member(a.value()).emit(provider_stream(c.provider_id), std::move(updated)).done();
}

// Disabling a provider disables every client; enabling re-enables them.
template <class ProviderEvent, class OrganizationEvent>
Expected<Decision> set_enabled(const ProviderId& id, bool enable, const Actor& actor, StateReader& states) {
  auto a = require_staff(states, id, actor);
  if (!a.ok()) return a.error();
  Builder b(ActingAs::kStaff, std::nullopt);
  if (a->provider->enabled == enable) return b.done();  // already so: nothing to record
  b.emit(provider_stream(id), ProviderEvent{});
  for (const auto& client : a->provider->clients)
    b.emit(organization_stream(client.organization_id), OrganizationEvent{});
  return b.done();
}

Expected<Decision> run(const EnableProvider& c, const Actor& actor, StateReader& states, const Environment&) {
  return set_enabled<fb::ProviderEnabledT, fb::OrganizationEnabledT>(c.provider_id, true, actor, states);
}

Expected<Decision> run(const DisableProvider& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  return set_enabled<fb::ProviderDisabledT, fb::OrganizationDisabledT>(c.provider_id, false, actor, states);
}

Expected<Decision> run(const SetProviderPlan& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = require_staff(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  if (auto e = check_seat_minimums(c.seat_minimums)) return *e;
  fb::ProviderPlanSetT plan;
  plan.seat_minimums = to_fb(c.seat_minimums);
  return Builder(ActingAs::kStaff, std::nullopt).emit(provider_stream(c.provider_id), std::move(plan)).done();
}

Expected<Decision> run(const DeleteProvider& c, const Actor& actor, StateReader& states, const Environment&) {
  Expected<ProviderAccess> a =
      actor.staff ? access(states, c.provider_id, actor) : require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  // A Pending provider goes at once; any other must have unlinked its clients.
  if (a->provider->status != ProviderStatus::kPending && !a->provider->clients.empty()) {
    return Error::failed_precondition(msg::kUnlinkClientsFirst);
  }
  Builder b =
      actor.staff && a->member == nullptr ? Builder(ActingAs::kStaff, std::nullopt) : as_member(a.value());
  return b.emit(provider_stream(c.provider_id), fb::ProviderDeletedT{}).done();
}

// --- provider users ----------------------------------------------------------------------

Expected<Decision> run(const InviteProviderUsers& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  auto a = require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  if (!provider_user_type_from(static_cast<int>(c.type)))
    return Error::validation("type", "Unknown provider user type.");
  if (auto e = check_invite_emails(c.emails)) return *e;
  Builder b = as_member(a.value());
  std::set<std::string> seen;
  for (const auto& raw : c.emails) {
    std::string email = lower(raw);
    if (a->provider->user_by_email(email) != nullptr || !seen.insert(email).second) {
      b.decision().items.push_back(ItemResult{Uuid{}, email, msg::kAlreadyInvited});
      continue;
    }
    std::string token = env.new_token();
    fb::ProviderUserInvitedT invited;
    invited.provider_user_id = env.new_id();
    invited.email = email;
    invited.type = static_cast<std::int8_t>(c.type);
    invited.token_sha256 = token_hash(token);
    invited.token_expires_at = env.now + kTokenLifetime;
    b.decision().items.push_back(ItemResult{invited.provider_user_id, email, ""});
    b.decision().created_ids.push_back(invited.provider_user_id);
    b.decision().tokens.push_back(std::move(token));
    b.emit(provider_stream(c.provider_id), std::move(invited));
  }
  return b.done();
}

Expected<Decision> run(const ReinviteProviderUser& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  auto a = require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  const ProviderUser* u = a->provider->user(c.provider_user_id);
  if (u == nullptr) return Error::not_found();
  if (u->status != ProviderUserStatus::kInvited)
    return Error::failed_precondition(msg::kOnlyInvitedCanBeReinvited);
  std::string token = env.new_token();
  fb::ProviderUserReinvitedT reinvited;
  reinvited.provider_user_id = u->id;
  reinvited.token_sha256 = token_hash(token);
  reinvited.token_expires_at = env.now + kTokenLifetime;
  Builder b = as_member(a.value());
  b.decision().tokens.push_back(std::move(token));
  return b.emit(provider_stream(c.provider_id), std::move(reinvited)).done();
}

Expected<Decision> run(const AcceptProviderInvite& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  const UserState* me = actor.user_id.is_nil() ? nullptr : states.user(actor.user_id);
  if (me == nullptr || !me->exists) return Error::not_found("User not found.");
  auto a = access(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  const ProviderUser* u = a->provider->user(c.provider_user_id);
  if (u == nullptr) return Error::not_found();
  if (u->status != ProviderUserStatus::kInvited) return Error::failed_precondition(msg::kAlreadyAccepted);
  if (!token_matches(u->token_sha256, c.token)) return Error::validation("token", msg::kInvalidToken);
  if (env.now > u->token_expires_at) return Error::validation("token", msg::kTokenExpired);
  if (lower(me->email) != u->email) return Error::failed_precondition(msg::kEmailMismatch);
  if (a->provider->user_by_user_id(actor.user_id) != nullptr)
    return Error::failed_precondition(msg::kAlreadyAccepted);
  fb::ProviderUserAcceptedT accepted;
  accepted.provider_user_id = u->id;
  accepted.user_id = actor.user_id;
  return Builder::direct().emit(provider_stream(c.provider_id), std::move(accepted)).done();
}

Expected<Decision> run(const ConfirmProviderUsers& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  if (c.keys.empty()) return Error::validation("keys", "The keys field is required.");
  Builder b = as_member(a.value());
  std::set<ProviderUserId> seen;
  for (const auto& k : c.keys) {
    const ProviderUser* u = a->provider->user(k.provider_user_id);
    std::string error;
    if (u == nullptr || !seen.insert(k.provider_user_id).second) {
      error = msg::kInvalidUser;
    } else if (u->status != ProviderUserStatus::kAccepted || !u->user_id) {
      error = u->status == ProviderUserStatus::kInvited ? msg::kNotAccepted : msg::kInvalidUser;
    } else if (k.key.empty()) {
      error = "The key field is required.";
    }
    b.decision().items.push_back(ItemResult{k.provider_user_id, u != nullptr ? u->email : "", error});
    if (!error.empty()) continue;
    fb::ProviderUserConfirmedT confirmed;
    confirmed.provider_user_id = u->id;
    confirmed.user_id = *u->user_id;
    confirmed.key = k.key;
    b.emit(provider_stream(c.provider_id), std::move(confirmed));
  }
  return b.done();
}

Expected<Decision> run(const UpdateProviderUserType& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  if (!provider_user_type_from(static_cast<int>(c.type)))
    return Error::validation("type", "Unknown provider user type.");
  const ProviderUser* u = a->provider->user(c.provider_user_id);
  if (u == nullptr) return Error::not_found();
  Builder b = as_member(a.value());
  if (u->type == c.type) return b.done();
  const bool demotes_last_admin = u->type == ProviderUserType::kProviderAdmin &&
                                  u->status == ProviderUserStatus::kConfirmed &&
                                  a->provider->confirmed_admins() <= 1;
  if (demotes_last_admin) return Error::failed_precondition(msg::kAtLeastOneAdmin);
  fb::ProviderUserUpdatedT updated;
  updated.provider_user_id = u->id;
  updated.type = static_cast<std::int8_t>(c.type);
  return b.emit(provider_stream(c.provider_id), std::move(updated)).done();
}

Expected<Decision> run(const RemoveProviderUsers& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  if (c.provider_user_ids.empty()) return Error::validation("ids", "The ids field is required.");
  const ProviderState& p = *a->provider;
  Builder b = as_member(a.value());
  std::set<ProviderUserId> removing;
  int admins_left = p.confirmed_admins();
  for (const auto& id : c.provider_user_ids) {
    const ProviderUser* u = p.user(id);
    std::string error;
    if (u == nullptr || removing.count(id) > 0) {
      error = msg::kInvalidUser;
    } else if (u->id == a->member->id) {
      error = msg::kCannotRemoveYourself;
    }
    b.decision().items.push_back(ItemResult{id, u != nullptr ? u->email : "", error});
    if (!error.empty()) continue;
    removing.insert(id);
    if (u->type == ProviderUserType::kProviderAdmin && u->status == ProviderUserStatus::kConfirmed)
      --admins_left;
    fb::ProviderUserRemovedT removed;
    removed.provider_user_id = u->id;
    removed.user_id = u->user_id.value_or(Uuid{});
    b.emit(provider_stream(c.provider_id), std::move(removed));
  }
  // The actor stays, so this holds in one decision; the append's check on the
  // provider stream keeps it under concurrent removals.
  if (admins_left < 1) return Error::failed_precondition(msg::kAtLeastOneAdmin);
  return b.done();
}

// --- organizations and clients ----------------------------------------------------------------

Expected<Decision> run(const CreateOrganization& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  const UserState* me = actor.user_id.is_nil() ? nullptr : states.user(actor.user_id);
  if (me == nullptr || !me->exists)
    return Error::permission_denied("Only registered users can create organizations.");
  if (auto e = check_name("name", c.name)) return *e;
  if (!plan_type_from(static_cast<int>(c.plan))) return Error::validation("planType", "Unknown plan type.");
  if (c.seats < 1) return Error::validation("seats", "Seats must be at least 1.");
  if (auto e = check_email("billingEmail", c.billing_email)) return *e;
  for (const OrganizationId& id : me->organizations) {
    const OrganizationState* other = states.organization(id);
    const OrganizationMember* m = other == nullptr ? nullptr : other->member_by_user_id(actor.user_id);
    if (m != nullptr && m->status != OrganizationUserStatus::kRevoked &&
        other->policy_enabled(PolicyType::kSingleOrg)) {
      return Error::failed_precondition(msg::kSingleOrgForbidsCreating);
    }
  }
  fb::OrganizationCreatedT created;
  created.organization_id = env.new_id();
  created.name = c.name;
  created.plan = static_cast<std::int16_t>(c.plan);
  created.seats = c.seats;
  created.billing_email = c.billing_email;
  created.status = static_cast<std::int8_t>(OrganizationStatus::kCreated);
  created.owner_user_id = actor.user_id;
  created.owner_organization_user_id = env.new_id();
  created.owner_email = lower(me->email);
  const OrganizationId org_id = created.organization_id;
  const OrganizationUserId owner_id = created.owner_organization_user_id;
  Builder b = Builder::direct();
  b.decision().created_ids.push_back(org_id);
  b.emit(organization_stream(org_id), std::move(created));
  emit_joined(b, actor.user_id, org_id, owner_id);
  return b.done();
}

Expected<Decision> add_new_client(const AddClientOrg& c, const ProviderAccess& a, const Environment& env) {
  const ProviderState& p = *a.provider;
  if (auto e = check_name("name", c.name)) return *e;
  if (auto e = check_email("ownerEmail", c.owner_email)) return *e;
  if (!plan_type_from(static_cast<int>(c.plan)) || !plan_fits_provider(p.type, c.plan)) {
    return Error::validation("planType", msg::kPlanNotAllowedForProvider);
  }
  if (c.seats < 1) return Error::validation("seats", "Seats must be at least 1.");
  if (c.collection_name.empty())
    return Error::validation("collectionName", "The collectionName field is required.");

  Builder b = as_member(a);
  fb::OrganizationCreatedT org;
  org.organization_id = env.new_id();
  org.name = c.name;
  org.plan = static_cast<std::int16_t>(c.plan);
  org.seats = c.seats;
  org.billing_email = p.billing_email;
  org.status = static_cast<std::int8_t>(OrganizationStatus::kManaged);
  org.provider_id = p.id;
  org.provider_organization_id = env.new_id();
  fb::ProviderOrganizationCreatedT link;
  link.provider_organization_id = org.provider_organization_id;
  link.organization_id = org.organization_id;
  link.name = c.name;
  link.plan = org.plan;
  link.seats = c.seats;
  std::string token = env.new_token();
  fb::OrganizationUserInvitedT owner;
  owner.organization_user_id = env.new_id();
  owner.email = lower(c.owner_email);
  owner.type = static_cast<std::int8_t>(OrganizationUserType::kOwner);
  owner.token_sha256 = token_hash(token);
  owner.token_expires_at = env.now + kTokenLifetime;
  fb::CollectionCreatedT collection;
  collection.collection_id = env.new_id();
  collection.name = c.collection_name;

  auto& d = b.decision();
  d.created_ids = {org.organization_id, org.provider_organization_id, owner.organization_user_id,
                   collection.collection_id};
  d.tokens.push_back(std::move(token));
  std::string org_stream = organization_stream(org.organization_id);
  b.emit(provider_stream(p.id), std::move(link))
      .emit(org_stream, std::move(org))
      .emit(org_stream, std::move(owner))
      .emit(org_stream, std::move(collection));
  return b.done();
}

Expected<Decision> add_existing_client(const AddClientOrg& c, const Actor& actor, const ProviderAccess& a,
                                       StateReader& states, const Environment& env) {
  const ProviderState& p = *a.provider;
  const OrganizationState* org = states.organization(*c.existing_organization_id);
  if (org == nullptr || !org->exists) return Error::not_found();
  if (!org->is_confirmed_owner(actor.user_id)) {
    // Organization members who are not owners may know it exists; others may not.
    if (org->member_by_user_id(actor.user_id) == nullptr) return Error::not_found();
    return Error::permission_denied(msg::kMustBeOwnerToAdd);
  }
  if (org->provider_id) return Error::failed_precondition(msg::kAlreadyBelongsToProvider);
  if (!plan_fits_provider(p.type, org->plan))
    return Error::failed_precondition(msg::kPlanNotAllowedForProvider);

  fb::ProviderOrganizationAddedT link;
  link.provider_organization_id = env.new_id();
  link.organization_id = org->id;
  link.name = org->name;
  link.plan = static_cast<std::int16_t>(org->plan);
  link.seats = org->seats;
  fb::OrganizationProviderLinkedT linked;
  linked.provider_id = p.id;
  linked.provider_organization_id = link.provider_organization_id;
  linked.billing_email = p.billing_email;
  Builder b = as_member(a);
  b.decision().created_ids.push_back(link.provider_organization_id);
  b.emit(provider_stream(p.id), std::move(link)).emit(organization_stream(org->id), std::move(linked));
  return b.done();
}

Expected<Decision> run(const AddClientOrg& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  auto a = require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  if (a->provider->status == ProviderStatus::kPending)
    return Error::failed_precondition(msg::kProviderNotSetUp);
  if (c.existing_organization_id) return add_existing_client(c, actor, a.value(), states, env);
  return add_new_client(c, a.value(), env);
}

// The client a provider-organization id names, with its organization.
struct ClientAccess {
  const ClientLink* link = nullptr;
  const OrganizationState* organization = nullptr;
};

Expected<ClientAccess> client_of(const ProviderAccess& a, const ProviderOrganizationId& id,
                                 StateReader& states) {
  const ClientLink* link = a.provider->client(id);
  if (link == nullptr) return Error::not_found();
  const OrganizationState* org = states.organization(link->organization_id);
  if (org == nullptr || !org->exists) return Error::not_found();
  return ClientAccess{link, org};
}

Expected<Decision> run(const RemoveClientOrg& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = require_admin(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  auto client = client_of(a.value(), c.provider_organization_id, states);
  if (!client.ok()) return client.error();
  // Provider users do not count as owners when the organization is being unlinked.
  const OrganizationState& org = *client->organization;
  auto first_owner = std::find_if(org.members.begin(), org.members.end(), [](const OrganizationMember& m) {
    return m.type == OrganizationUserType::kOwner && m.status == OrganizationUserStatus::kConfirmed;
  });
  if (first_owner == org.members.end()) return Error::failed_precondition(msg::kNeedsOwnConfirmedOwner);
  fb::ProviderOrganizationRemovedT removed;
  removed.provider_organization_id = c.provider_organization_id;
  removed.organization_id = org.id;
  fb::OrganizationProviderUnlinkedT unlinked;
  unlinked.provider_id = c.provider_id;
  unlinked.billing_email = first_owner->email;
  return as_member(a.value())
      .emit(provider_stream(c.provider_id), std::move(removed))
      .emit(organization_stream(org.id), std::move(unlinked))
      .done();
}

Expected<Decision> run(const UpdateClientOrg& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = require_provider_user(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  auto client = client_of(a.value(), c.provider_organization_id, states);
  if (!client.ok()) return client.error();
  if (auto e = check_name("name", c.name)) return *e;
  if (c.assigned_seats < 0) return Error::validation("assignedSeats", "Assigned seats cannot be negative.");
  const ClientLink& link = *client->link;
  if (a->member->type == ProviderUserType::kServiceUser && c.assigned_seats > link.seats) {
    const ProviderState& p = *a->provider;
    auto minimum = p.seat_minimums.find(link.plan);
    int total_after = p.assigned_seats(link.plan) - link.seats + c.assigned_seats;
    if (total_after > (minimum == p.seat_minimums.end() ? 0 : minimum->second)) {
      return Error::failed_precondition(msg::kServiceUsersCannotPurchaseSeats);
    }
  }
  fb::ProviderOrganizationUpdatedT link_updated;
  link_updated.provider_organization_id = link.id;
  link_updated.organization_id = link.organization_id;
  link_updated.name = c.name;
  link_updated.seats = c.assigned_seats;
  fb::OrganizationUpdatedT org_updated;
  org_updated.name = c.name;
  org_updated.seats = c.assigned_seats;
  return as_member(a.value())
      .emit(provider_stream(c.provider_id), std::move(link_updated))
      .emit(organization_stream(link.organization_id), std::move(org_updated))
      .done();
}

Expected<Decision> run(const OpenClientOrg& c, const Actor& actor, StateReader& states, const Environment&) {
  auto a = require_provider_user(states, c.provider_id, actor);
  if (!a.ok()) return a.error();
  auto client = client_of(a.value(), c.provider_organization_id, states);
  if (!client.ok()) return client.error();
  fb::ProviderOrganizationVaultAccessedT accessed;
  accessed.provider_organization_id = client->link->id;
  accessed.organization_id = client->link->organization_id;
  return as_member(a.value())
      .emit(provider_stream(c.provider_id), std::move(accessed))
      .emit(organization_stream(client->link->organization_id), fb::OrganizationVaultAccessedT{})
      .done();
}

// --- organization members ---------------------------------------------------------------

// Someone who may manage members, and the member a command targets.
struct MemberTarget {
  OrgAccess access;
  const OrganizationMember* target = nullptr;
};

Expected<MemberTarget> managed_member(StateReader& states, const OrganizationId& org_id,
                                      const OrganizationUserId& member_id, const Actor& actor) {
  auto a = org_access(states, org_id, actor);
  if (!a.ok()) return a.error();
  if (!a->manages_users()) return Error::permission_denied();
  const OrganizationMember* target = a->org->member(member_id);
  if (target == nullptr) return Error::not_found();
  return MemberTarget{a.value(), target};
}

bool is_self(const Actor& actor, const OrganizationMember& m) {
  return m.user_id && *m.user_id == actor.user_id;
}

// An organization keeps at least one Confirmed Owner besides `leaving`; provider
// users count as owners of a client their provider manages.
bool owners_remain_without(const OrgAccess& a, const OrganizationMember& leaving) {
  for (const auto& m : a.org->members) {
    if (m.id != leaving.id && m.type == OrganizationUserType::kOwner &&
        m.status == OrganizationUserStatus::kConfirmed) {
      return true;
    }
  }
  if (a.provider == nullptr || a.org->status != OrganizationStatus::kManaged) return false;
  return std::any_of(a.provider->users.begin(), a.provider->users.end(),
                     [](const ProviderUser& u) { return u.status == ProviderUserStatus::kConfirmed; });
}

bool is_confirmed_owner(const OrganizationMember& m) {
  return m.type == OrganizationUserType::kOwner && m.status == OrganizationUserStatus::kConfirmed;
}

bool valid_member_type(OrganizationUserType t) {
  return t == OrganizationUserType::kOwner || t == OrganizationUserType::kAdmin ||
         t == OrganizationUserType::kUser || t == OrganizationUserType::kCustom;
}

// Provider-managed organizations are billed by seat: a full seat count is an error.
bool seats_available(const OrganizationState& org, int more) {
  return org.status != OrganizationStatus::kManaged || org.occupied_seats() + more <= org.seats;
}

Expected<Decision> run(const InviteMembers& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  auto a = org_access(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  if (!a->manages_users()) return Error::permission_denied();
  if (!valid_member_type(c.type)) return Error::validation("type", "Unknown organization user type.");
  if (c.type == OrganizationUserType::kOwner && !a->owner_level()) {
    return Error::permission_denied(msg::kOnlyOwnersManageOwners);
  }
  if (auto e = check_invite_emails(c.emails)) return *e;
  std::set<Uuid> seen_ids;
  for (const auto& access : c.collections) {
    if (a->org->collection(access.id) == nullptr)
      return Error::validation("collections", msg::kCollectionNotFound);
    if (!seen_ids.insert(access.id).second) return Error::validation("collections", msg::kRepeatedId);
  }
  seen_ids.clear();
  for (const auto& group : c.groups) {
    if (a->org->group(group) == nullptr) return Error::validation("groups", msg::kGroupNotFound);
    if (!seen_ids.insert(group).second) return Error::validation("groups", msg::kRepeatedId);
  }
  // Per-item results follow the input order; members already there are skipped.
  std::set<std::string> seen;
  std::vector<std::pair<std::string, bool>> emails;  // lower-cased, and whether to invite
  int inviting = 0;
  for (const auto& raw : c.emails) {
    std::string email = lower(raw);
    const bool invite = a->org->member_by_email(email) == nullptr && seen.insert(email).second;
    inviting += invite ? 1 : 0;
    emails.emplace_back(std::move(email), invite);
  }
  if (!seats_available(*a->org, inviting)) return Error::failed_precondition(msg::kSeatLimitReached);
  Builder b = a->builder();
  for (auto& [email, invite] : emails) {
    if (!invite) {
      b.decision().items.push_back(ItemResult{Uuid{}, email, msg::kAlreadyInvited});
      continue;
    }
    std::string token = env.new_token();
    fb::OrganizationUserInvitedT invited;
    invited.organization_user_id = env.new_id();
    invited.email = email;
    invited.type = static_cast<std::int8_t>(c.type);
    invited.token_sha256 = token_hash(token);
    invited.token_expires_at = env.now + kTokenLifetime;
    invited.permissions = to_fb(c.permissions);
    invited.collections = to_fb(c.collections);
    invited.groups = c.groups;
    b.decision().items.push_back(ItemResult{invited.organization_user_id, email, ""});
    b.decision().created_ids.push_back(invited.organization_user_id);
    b.decision().tokens.push_back(std::move(token));
    b.emit(organization_stream(c.organization_id), std::move(invited));
  }
  return b.done();
}

Expected<Decision> run(const AcceptMember& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  const UserState* me = actor.user_id.is_nil() ? nullptr : states.user(actor.user_id);
  if (me == nullptr || !me->exists) return Error::not_found("User not found.");
  const OrganizationState* org = states.organization(c.organization_id);
  if (org == nullptr || !org->exists) return Error::not_found();
  const OrganizationMember* m = org->member(c.organization_user_id);
  if (m == nullptr) return Error::not_found();
  if (m->status != OrganizationUserStatus::kInvited)
    return Error::failed_precondition(msg::kInvitationAlreadyAccepted);
  if (!token_matches(m->token_sha256, c.token)) return Error::validation("token", msg::kInvalidToken);
  if (env.now > m->token_expires_at) return Error::validation("token", msg::kTokenExpired);
  if (lower(me->email) != m->email) return Error::failed_precondition(msg::kEmailMismatch);
  if (org->member_by_user_id(actor.user_id) != nullptr)
    return Error::failed_precondition(msg::kAlreadyMember);
  if (auto e = single_org_refusal(states, actor.user_id, *org)) return *e;
  fb::OrganizationUserAcceptedT accepted;
  accepted.organization_user_id = m->id;
  accepted.user_id = actor.user_id;
  Builder b = Builder::direct();
  b.emit(organization_stream(c.organization_id), std::move(accepted));
  emit_joined(b, actor.user_id, c.organization_id, m->id);
  return b.done();
}

Expected<Decision> run(const ConfirmMember& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t = managed_member(states, c.organization_id, c.organization_user_id, actor);
  if (!t.ok()) return t.error();
  const OrganizationMember& m = *t->target;
  if (m.type == OrganizationUserType::kOwner && !t->access.owner_level()) {
    return Error::permission_denied(msg::kOnlyOwnersManageOwners);
  }
  if (m.status != OrganizationUserStatus::kAccepted || !m.user_id)
    return Error::failed_precondition(msg::kNotAccepted);
  if (c.key.empty()) return Error::validation("key", "The key field is required.");
  if (auto e = single_org_refusal(states, *m.user_id, *t->access.org)) return *e;
  fb::OrganizationUserConfirmedT confirmed;
  confirmed.organization_user_id = m.id;
  confirmed.user_id = *m.user_id;
  confirmed.key = c.key;
  return t->access.builder().emit(organization_stream(c.organization_id), std::move(confirmed)).done();
}

Expected<Decision> run(const UpdateMember& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t = managed_member(states, c.organization_id, c.organization_user_id, actor);
  if (!t.ok()) return t.error();
  const OrganizationMember& m = *t->target;
  if (!valid_member_type(c.type)) return Error::validation("type", "Unknown organization user type.");
  if (is_self(actor, m)) return Error::failed_precondition(msg::kCannotChangeOwnType);
  const bool touches_owner = m.type == OrganizationUserType::kOwner || c.type == OrganizationUserType::kOwner;
  if (touches_owner && !t->access.owner_level())
    return Error::permission_denied(msg::kOnlyOwnersManageOwners);
  Builder b = t->access.builder();
  if (m.type == c.type && m.permissions == c.permissions) return b.done();
  if (is_confirmed_owner(m) && c.type != OrganizationUserType::kOwner &&
      !owners_remain_without(t->access, m)) {
    return Error::failed_precondition(msg::kNeedsOwnConfirmedOwner);
  }
  fb::OrganizationUserUpdatedT updated;
  updated.organization_user_id = m.id;
  updated.type = static_cast<std::int8_t>(c.type);
  updated.permissions = to_fb(c.permissions);
  return b.emit(organization_stream(c.organization_id), std::move(updated)).done();
}

// Remove and revoke share their refusals; only their own messages differ.
Expected<MemberTarget> leaving_member(StateReader& states, const OrganizationId& org_id,
                                      const OrganizationUserId& member_id, const Actor& actor,
                                      const char* not_yourself) {
  auto t = managed_member(states, org_id, member_id, actor);
  if (!t.ok()) return t;
  const OrganizationMember& m = *t->target;
  if (is_self(actor, m)) return Error::failed_precondition(not_yourself);
  if (m.type == OrganizationUserType::kOwner && !t->access.owner_level()) {
    return Error::permission_denied(msg::kOnlyOwnersManageOwners);
  }
  if (is_confirmed_owner(m) && !owners_remain_without(t->access, m)) {
    return Error::failed_precondition(msg::kNeedsOwnConfirmedOwner);
  }
  return t;
}

Expected<Decision> run(const RemoveMember& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t =
      leaving_member(states, c.organization_id, c.organization_user_id, actor, msg::kCannotRemoveYourself);
  if (!t.ok()) return t.error();
  fb::OrganizationUserRemovedT removed;
  removed.organization_user_id = t->target->id;
  removed.user_id = t->target->user_id.value_or(Uuid{});
  Builder b = t->access.builder();
  b.emit(organization_stream(c.organization_id), std::move(removed));
  if (t->target->user_id) emit_left(b, *t->target->user_id, c.organization_id);
  return b.done();
}

Expected<Decision> run(const RevokeMember& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t =
      leaving_member(states, c.organization_id, c.organization_user_id, actor, msg::kCannotRevokeYourself);
  if (!t.ok()) return t.error();
  if (t->target->status == OrganizationUserStatus::kRevoked)
    return Error::failed_precondition(msg::kAlreadyRevoked);
  fb::OrganizationUserRevokedT revoked;
  revoked.organization_user_id = t->target->id;
  return t->access.builder().emit(organization_stream(c.organization_id), std::move(revoked)).done();
}

Expected<Decision> run(const RestoreMember& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t = managed_member(states, c.organization_id, c.organization_user_id, actor);
  if (!t.ok()) return t.error();
  const OrganizationMember& m = *t->target;
  if (m.type == OrganizationUserType::kOwner && !t->access.owner_level()) {
    return Error::permission_denied(msg::kOnlyOwnersManageOwners);
  }
  if (m.status != OrganizationUserStatus::kRevoked) return Error::failed_precondition(msg::kAlreadyActive);
  if (!seats_available(*t->access.org, 1)) return Error::failed_precondition(msg::kSeatLimitReached);
  if (m.user_id) {
    if (auto e = single_org_refusal(states, *m.user_id, *t->access.org)) return *e;
  }
  fb::OrganizationUserRestoredT restored;
  restored.organization_user_id = m.id;
  restored.status = static_cast<std::int8_t>(m.status_before_revoke);
  return t->access.builder().emit(organization_stream(c.organization_id), std::move(restored)).done();
}

// --- groups ------------------------------------------------------------------------------

constexpr std::size_t kMaxGroupName = 100;

Expected<OrgAccess> group_manager(StateReader& states, const OrganizationId& org_id, const Actor& actor) {
  auto a = org_access(states, org_id, actor);
  if (!a.ok()) return a;
  if (!a->manages_groups()) return Error::permission_denied();
  return a;
}

std::optional<Error> check_group_name(std::string_view name) {
  if (name.empty()) return Error::validation("name", "The name field is required.");
  if (name.size() > kMaxGroupName) {
    return Error::validation("name", "The field name must be a string with a maximum length of 100.");
  }
  return std::nullopt;
}

// The requested members without repeats, each a member of the organization.
Expected<std::vector<OrganizationUserId>> group_members(const OrganizationState& org,
                                                        const std::vector<OrganizationUserId>& requested) {
  std::vector<OrganizationUserId> out;
  for (const auto& id : requested) {
    if (org.member(id) == nullptr)
      return Error::validation("members", "User is not a member of this organization.");
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

// GroupMembersSet with the whole list, then 1504 for each member who joined (in the
// order given) or left (in the group's previous order).
void emit_group_members(Builder& b, const OrganizationId& org_id, const GroupId& group_id,
                        const std::vector<OrganizationUserId>& before,
                        const std::vector<OrganizationUserId>& after) {
  const std::string stream = organization_stream(org_id);
  fb::GroupMembersSetT set;
  set.group_id = group_id;
  set.members = after;
  b.emit(stream, std::move(set));
  auto changed = [&](const OrganizationUserId& member) {
    fb::OrganizationUserUpdatedGroupsT updated;
    updated.organization_user_id = member;
    updated.group_id = group_id;
    b.emit(stream, std::move(updated));
  };
  for (const auto& m : after)
    if (std::find(before.begin(), before.end(), m) == before.end()) changed(m);
  for (const auto& m : before)
    if (std::find(after.begin(), after.end(), m) == after.end()) changed(m);
}

Expected<Decision> run(const CreateGroup& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  auto a = group_manager(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  if (auto e = check_group_name(c.name)) return *e;
  auto members = group_members(*a->org, c.members);
  if (!members.ok()) return members.error();
  fb::GroupCreatedT created;
  created.group_id = env.new_id();
  created.name = c.name;
  const GroupId id = created.group_id;
  Builder b = a->builder();
  b.decision().created_ids.push_back(id);
  b.emit(organization_stream(c.organization_id), std::move(created));
  if (!members->empty()) emit_group_members(b, c.organization_id, id, {}, members.value());
  return b.done();
}

Expected<Decision> run(const UpdateGroup& c, const Actor& actor, StateReader& states, const Environment&) {
  auto a = group_manager(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  if (a->org->group(c.group_id) == nullptr) return Error::not_found();
  if (auto e = check_group_name(c.name)) return *e;
  fb::GroupUpdatedT updated;
  updated.group_id = c.group_id;
  updated.name = c.name;
  return a->builder().emit(organization_stream(c.organization_id), std::move(updated)).done();
}

Expected<Decision> run(const DeleteGroup& c, const Actor& actor, StateReader& states, const Environment&) {
  auto a = group_manager(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  if (a->org->group(c.group_id) == nullptr) return Error::not_found();
  fb::GroupDeletedT deleted;
  deleted.group_id = c.group_id;
  return a->builder().emit(organization_stream(c.organization_id), std::move(deleted)).done();
}

Expected<Decision> run(const SetGroupMembers& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = group_manager(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  const Group* group = a->org->group(c.group_id);
  if (group == nullptr) return Error::not_found();
  auto members = group_members(*a->org, c.members);
  if (!members.ok()) return members.error();
  Builder b = a->builder();
  // The same members in another order are the same group: nothing to record.
  auto sorted = [](std::vector<OrganizationUserId> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  if (sorted(members.value()) == sorted(group->members)) return b.done();
  emit_group_members(b, c.organization_id, c.group_id, group->members, members.value());
  return b.done();
}

}  // namespace

Expected<bool> may_view_provider(const ProviderId& id, const Actor& actor, StateReader& states) {
  auto a = access(states, id, actor);
  if (!a.ok()) return a.error();
  if (a->member != nullptr || actor.staff) return true;
  return Error::not_found();
}

bool is_valid_email(std::string_view email) {
  if (email.size() > kMaxEmail) return false;
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos)
    return false;
  std::string_view domain = email.substr(at + 1);
  auto dot = domain.find('.');
  if (domain.empty() || dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  return std::none_of(email.begin(), email.end(), [](char ch) {
    return static_cast<unsigned char>(ch) <= 0x20 || ch == '<' || ch == '>' || ch == ',' || ch == ';';
  });
}

Expected<Decision> decide(const Command& command, const Actor& actor, StateReader& states,
                          const Environment& env) {
  return std::visit([&](const auto& c) { return run(c, actor, states, env); }, command);
}

RecordedActor recorded_actor(const Actor& actor, const Decision& decision) {
  RecordedActor r;
  r.user_id = actor.user_id;
  r.acting_as = static_cast<std::int8_t>(decision.acting_as);
  r.provider_id = decision.via_provider.value_or(Uuid{});
  r.device_type = actor.device_type;
  r.ip_address = actor.ip_address;
  return r;
}

const char* command_name(const Command& command) {
  static constexpr const char* kNames[] = {"RegisterUser",
                                           "InviteProvider",
                                           "SetupProvider",
                                           "UpdateProvider",
                                           "EnableProvider",
                                           "DisableProvider",
                                           "SetProviderPlan",
                                           "DeleteProvider",
                                           "InviteProviderUsers",
                                           "ReinviteProviderUser",
                                           "AcceptProviderInvite",
                                           "ConfirmProviderUsers",
                                           "UpdateProviderUserType",
                                           "RemoveProviderUsers",
                                           "CreateOrganization",
                                           "AddClientOrg",
                                           "RemoveClientOrg",
                                           "UpdateClientOrg",
                                           "OpenClientOrg",
                                           "InviteMembers",
                                           "AcceptMember",
                                           "ConfirmMember",
                                           "UpdateMember",
                                           "RemoveMember",
                                           "RevokeMember",
                                           "RestoreMember",
                                           "CreateGroup",
                                           "UpdateGroup",
                                           "DeleteGroup",
                                           "SetGroupMembers",
                                           "CreateCollection",
                                           "UpdateCollection",
                                           "DeleteCollection",
                                           "SavePolicy",
                                           "CreateItem",
                                           "UpdateItem",
                                           "SoftDeleteItem",
                                           "RestoreItem",
                                           "PurgeItem",
                                           "ShareItem",
                                           "UpdateItemCollections"};
  static_assert(std::size(kNames) == std::variant_size_v<Command>);
  return kNames[command.index()];
}

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kValidation: return "validation";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kPermissionDenied: return "permission denied";
    case ErrorKind::kFailedPrecondition: return "failed precondition";
    case ErrorKind::kAborted: return "aborted";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kDataLoss: return "data loss";
  }
  return "unknown";
}

}  // namespace portal::domain
