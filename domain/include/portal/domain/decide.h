// decide: what a command does, as events, or why it is refused. Authorization is
// part of it: who may do what is a rule of the domain.
//
// decide reads the aggregates it needs through a StateReader. It performs no I/O
// itself; the engine behind the reader loads streams (cache, snapshot, tail) and
// remembers the version of every stream it served, so that the append checks
// each of them: a decision is never committed on state that changed meanwhile.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "portal/domain/commands.h"
#include "portal/domain/error.h"
#include "portal/domain/events.h"
#include "portal/domain/state.h"

namespace portal::domain {

// Who asks. Whether they act as a member, a provider user or staff is decided
// per command and recorded on the events.
struct Actor {
  UserId user_id;  // nil: the system
  bool staff = false;
  std::int16_t device_type = 0;
  std::string ip_address;
};

class StateReader {
 public:
  virtual ~StateReader() = default;
  // nullptr when the stream has no events.
  virtual const UserState* user(const UserId& id) = 0;
  virtual const EmailState* email(std::string_view lower_email) = 0;
  virtual const ProviderState* provider(const ProviderId& id) = 0;
  virtual const OrganizationState* organization(const OrganizationId& id) = 0;
};

// What decide may not compute itself: the time, new ids, new secret tokens.
struct Environment {
  Timestamp now = 0;
  std::function<Uuid()> new_id;
  std::function<std::string()> new_token;
};

inline constexpr Timestamp kTokenLifetime = 120 * kMicrosPerHour;

struct ItemResult {
  Uuid id;            // the item (a provider user id), nil for an email item
  std::string email;  // the item, for invitations
  std::string error;  // empty: done
  friend bool operator==(const ItemResult&, const ItemResult&) = default;
};

struct Emitted {
  std::string stream;
  EventPayload payload;
};

struct Decision {
  std::vector<Emitted> events;  // may be empty: nothing to record (all items refused)
  ActingAs acting_as = ActingAs::kDirect;
  std::optional<ProviderId> via_provider;  // set when acting as a provider user
  std::vector<Uuid> created_ids;           // what the command created, in a documented order
  std::vector<ItemResult> items;           // per-item results of bulk commands
  std::vector<std::string> tokens;         // setup/invite tokens, shown once to the caller
};

// Who may run what (DESIGN.md section 4). "Admin" is a Confirmed ProviderAdmin of
// the provider, "provider user" a Confirmed provider user of either type.
// Invited or accepted provider users are not yet members: to them the provider is
// invisible, like to anyone unrelated (kNotFound, never revealing it exists).
// A member who lacks the role gets kPermissionDenied; so does staff where staff
// is not named. Staff-only commands refuse everyone else with kPermissionDenied.
// A deleted provider is kNotFound to everyone; a disabled one refuses its users'
// commands (kFailedPrecondition, msg::kProviderDisabled) but not staff's.
//
//   RegisterUser            staff, or the user registering their own id
//   InviteProvider          staff
//   SetupProvider           the invited owner (a Confirmed ProviderAdmin), with the setup token
//   UpdateProvider          admin
//   Enable/DisableProvider  staff (cascades to every client organization)
//   SetProviderPlan         staff
//   DeleteProvider          admin or staff
//   InviteProviderUsers     admin
//   ReinviteProviderUser    admin
//   AcceptProviderInvite    the invitee: a registered user whose email is the invite's, with the token
//   ConfirmProviderUsers    admin
//   UpdateProviderUserType  admin
//   RemoveProviderUsers     admin
//   CreateOrganization      any registered user
//   AddClientOrg            admin (existing form: also a Confirmed Owner of the organization)
//   RemoveClientOrg         admin
//   UpdateClientOrg         provider user
//   OpenClientOrg           provider user
//   InviteMembers, ConfirmMember, UpdateMember, RemoveMember, RevokeMember,
//   RestoreMember           a member manager of the organization: a Confirmed Owner,
//                           Admin or Custom member with manage_users, or a provider user
//                           of its provider (who acts as an Owner); only Owners and
//                           provider users manage Owners. Others who are members (any
//                           status) get kPermissionDenied; everyone else kNotFound.
//   AcceptMember            the invitee: a registered user whose email is the invite's, with the token
//   CreateGroup, UpdateGroup, DeleteGroup, SetGroupMembers
//                           a group manager: as a member manager, with Custom members
//                           needing manage_groups (not manage_users)
//
// Organization rules: a provider-managed organization refuses invitations and
// restores beyond its seats (msg::kSeatLimitReached); an organization keeps at
// least one Confirmed Owner, where a managed organization's confirmed provider
// users count as owners (msg::kNeedsOwnConfirmedOwner); nobody removes, revokes or
// changes the type of their own membership.
//
// created_ids, in order: RegisterUser [user]; InviteProvider [provider, owner's
// provider user (Msp, BusinessUnit)]; InviteProviderUsers [one provider user per
// invited email, in input order]; CreateOrganization [organization]; AddClientOrg
// new [organization, provider organization, owner's organization user,
// collection], existing [provider organization]. tokens: InviteProvider [setup
// token]; InviteProviderUsers [one per invited email]; ReinviteProviderUser [the
// new token]; AddClientOrg new [the owner's invite token]. InviteMembers: created_ids
// and tokens one per invited email, in input order. CreateGroup: [group].
Expected<Decision> decide(const Command& command, const Actor& actor, StateReader& states,
                          const Environment& env);

// The recorded actor for a decision's events.
RecordedActor recorded_actor(const Actor& actor, const Decision& decision);

// Shared input rules.
bool is_valid_email(std::string_view email);

}  // namespace portal::domain
