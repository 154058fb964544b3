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
  virtual const ItemState* item(const ItemId& id) = 0;
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
// commands (kFailedPrecondition, msg::kProviderDisabled) but not staff's, also on
// its clients, where its users act only as what they are themselves (members or not).
// A disabled organization keeps its admin console (its Owners may still manage it)
// but closes its vault (msg::kOrganizationDisabled).
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
//   CreateCollection        owner level, Admin, Custom with create_new_collections
//   UpdateCollection        owner level, Admin, Custom with edit_any_collection, or a
//                           member who manages that collection (directly or by group)
//   DeleteCollection        owner level, Admin, Custom with delete_any_collection, or a
//                           member who manages that collection
//   SavePolicy              owner level, Admin, Custom with manage_policies
//   Vault items             see item_rights below. Provider users act as Owners of
//                           their clients' consoles but have no vault there
//                           (kPermissionDenied, msg::kProviderUsersHaveNoVault), unless
//                           they are also confirmed members themselves.
//     CreateItem            personal: any registered user (OrganizationDataOwnership
//                           permitting); organization: a confirmed member who can edit
//                           every chosen collection
//     UpdateItem, SoftDeleteItem, RestoreItem
//                           whoever can edit the item
//     PurgeItem             whoever manages the item
//     ShareItem             the owner of the personal item, who can edit every chosen
//                           collection of the organization
//     UpdateItemCollections whoever can edit the item and every collection added or removed
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
// CreateCollection: [collection]. CreateItem: [item].
Expected<Decision> decide(const Command& command, const Actor& actor, StateReader& states,
                          const Environment& env);

// What an actor may do with a vault item, the rule every item command and every read
// of an item goes through:
// - a personal item: its owner may do everything; to anyone else it does not exist
//   (kNotFound), staff and provider users included;
// - an organization item: confirmed members only (revoked, invited and accepted
//   members have no vault), in an enabled organization. Owners, Admins and Custom
//   members with edit_any_collection edit and manage every item; other members
//   reach an item through its collections, directly or by group: they see it with
//   any access, edit it when one grant is not read-only, manage it when one grant
//   manages, and have passwords hidden when every grant hides them. An item they
//   reach through no collection does not exist for them (kNotFound).
// - a confirmed user of the managing provider who is not a confirmed member:
//   kPermissionDenied (msg::kProviderUsersHaveNoVault).
struct ItemRights {
  bool edit = false;
  bool manage = false;
  bool hide_passwords = false;
};
Expected<ItemRights> item_rights(const ItemState& item, const Actor& actor, StateReader& states);

// Whether the actor may see an organization's admin console (members, groups,
// collections, policies): any confirmed member, or a confirmed user of its
// provider. Anyone else gets kNotFound, never learning the organization exists;
// staff gets kPermissionDenied.
Expected<bool> may_view_organization(const OrganizationId& id, const Actor& actor, StateReader& states);

// Whether the actor may read an organization's event log: Owners and provider users
// (owner level), Admins, Custom members with access_event_logs (other members:
// kPermissionDenied; outsiders kNotFound).
Expected<bool> may_read_organization_events(const OrganizationId& id, const Actor& actor, StateReader& states);

// Whether the actor may see a provider (its users, clients and events): its
// confirmed users and staff. Anyone else gets kNotFound, never learning it exists.
Expected<bool> may_view_provider(const ProviderId& id, const Actor& actor, StateReader& states);

// The recorded actor for a decision's events.
RecordedActor recorded_actor(const Actor& actor, const Decision& decision);

// Shared input rules.
bool is_valid_email(std::string_view email);

}  // namespace portal::domain
