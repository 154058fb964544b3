// Aggregate states and their evolve functions: pure folds over events.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "portal/domain/commands.h"
#include "portal/domain/enums.h"
#include "portal/domain/events.h"
#include "portal/domain/ids.h"
#include "portal/domain/shared_chunks.h"

namespace portal::domain {

struct UserState {
  bool exists = false;
  UserId id;
  std::string email;  // as registered
  std::string name;
  // Organizations the user has joined (accepted an invitation to, or created), in
  // order of joining; left on removal. Revoked memberships stay listed.
  std::vector<OrganizationId> organizations;
};

// An email reservation: which user owns an email address.
struct EmailState {
  bool exists = false;
  UserId user_id;
};

struct ProviderUser {
  ProviderUserId id;
  std::optional<UserId> user_id;  // set once accepted (or at once for the owner)
  std::string email;              // lower-cased
  ProviderUserType type = ProviderUserType::kServiceUser;
  ProviderUserStatus status = ProviderUserStatus::kInvited;
  std::vector<std::uint8_t> token_sha256;
  Timestamp token_expires_at = 0;
  std::string key;
};

struct ClientLink {
  ProviderOrganizationId id;
  OrganizationId organization_id;
  std::string name;
  PlanType plan = PlanType::kTeamsMonthly;
  int seats = 0;
  Timestamp creation_date = 0;
};

// Where the elements of a SharedChunks sit, by keys that never change, for the
// first covered() elements: levels of immutable maps, shared by copies of the
// state, each covering the elements after the level before it. The elements added
// after the last level (fewer than kTail) are looked up one by one; once kTail of
// them have gathered they become a level, and a level is merged into the one before
// it once it holds an eighth as many elements (as in a log-structured merge tree).
// An added element is thus indexed a bounded number of times, however large the
// provider, and a lookup checks one map per level (a few) and at most kTail
// elements. A removal moves elements: the index is then built again.
template <class LevelT>
struct LeveledIndex {
  using Level = LevelT;
  static constexpr std::size_t kTail = 256;
  static constexpr std::size_t kMergeRatio = 8;
  std::vector<std::shared_ptr<const Level>> levels;  // oldest elements first

  std::size_t covered() const { return levels.empty() ? 0 : levels.back()->to; }
};

struct StringKeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A provider's users by email and by id (a user's email and id never change).
struct ProviderUserLevel {
  std::size_t from = 0, to = 0;  // users [from, to)
  std::unordered_map<std::string, std::uint32_t, StringKeyHash, std::equal_to<>> by_email;
  std::unordered_map<ProviderUserId, std::uint32_t> by_id;

  void reserve(std::size_t n) {
    by_email.reserve(n);
    by_id.reserve(n);
  }
  // The first one wins, as in a scan.
  void add(const ProviderUser& u, std::uint32_t position);
};
using ProviderUserIndex = LeveledIndex<ProviderUserLevel>;

// A provider's client links by link id and by organization id.
struct ClientLinkLevel {
  std::size_t from = 0, to = 0;  // clients [from, to)
  std::unordered_map<ProviderOrganizationId, std::uint32_t> by_id;
  std::unordered_map<OrganizationId, std::uint32_t> by_organization;

  void reserve(std::size_t n) {
    by_id.reserve(n);
    by_organization.reserve(n);
  }
  void add(const ClientLink& c, std::uint32_t position);
};
using ClientLinkIndex = LeveledIndex<ClientLinkLevel>;

struct ProviderState {
  bool exists = false;
  bool deleted = false;
  ProviderId id;
  ProviderType type = ProviderType::kMsp;
  ProviderStatus status = ProviderStatus::kPending;
  bool enabled = true;
  std::string name, business_name, billing_email;
  std::vector<std::uint8_t> setup_token_sha256;  // cleared once used
  Timestamp setup_token_expires_at = 0;
  std::map<PlanType, int> seat_minimums;
  SharedChunks<ProviderUser> users;  // grows with the provider: copies share it
  std::shared_ptr<const ProviderUserIndex> user_index;  // see index_users()
  SharedChunks<ClientLink> clients;                     // copies share it too
  std::shared_ptr<const ClientLinkIndex> client_index;  // see index()
  Timestamp creation_date = 0;

  // Brings user_index and client_index up to date after `users` or `clients`
  // changed (evolve and snapshot decoding call it): a level for every kTail
  // elements added, all of it again after a removal.
  void index();
  std::optional<std::size_t> user_position(const ProviderUserId& id) const;
  std::optional<std::size_t> client_position(const ProviderOrganizationId& id) const;
  const ProviderUser* user(const ProviderUserId& id) const;
  const ProviderUser* user_by_user_id(const UserId& user_id) const;
  const ProviderUser* user_by_email(std::string_view lower_email) const;
  const ClientLink* client(const ProviderOrganizationId& id) const;
  const ClientLink* client_by_organization(const OrganizationId& id) const;
  int confirmed_admins() const;
  // Seats assigned to clients on a plan, in total.
  int assigned_seats(PlanType plan) const;
};

struct OrganizationMember {
  OrganizationUserId id;
  std::optional<UserId> user_id;
  std::string email;
  OrganizationUserType type = OrganizationUserType::kUser;
  OrganizationUserStatus status = OrganizationUserStatus::kInvited;
  Permissions permissions;
  std::vector<std::uint8_t> token_sha256;  // cleared once accepted
  Timestamp token_expires_at = 0;
  std::string key;
  // While revoked: the status to restore.
  OrganizationUserStatus status_before_revoke = OrganizationUserStatus::kInvited;
};

struct Group {
  GroupId id;
  std::string name;
  std::vector<OrganizationUserId> members;
};

struct Collection {
  CollectionId id;
  std::string name;
  std::vector<CollectionAccess> groups;  // id: a group
  std::vector<CollectionAccess> users;   // id: an organization user
};

struct Policy {
  PolicyType type = PolicyType::kTwoFactorAuthentication;
  bool enabled = false;
  std::string data;
  friend bool operator==(const Policy&, const Policy&) = default;
};

struct OrganizationState {
  bool exists = false;
  OrganizationId id;
  std::string name;
  PlanType plan = PlanType::kFree;
  int seats = 0;
  std::string billing_email;
  OrganizationStatus status = OrganizationStatus::kCreated;
  bool enabled = true;
  std::optional<ProviderId> provider_id;
  std::optional<ProviderOrganizationId> provider_organization_id;
  std::vector<OrganizationMember> members;
  std::vector<Collection> collections;
  std::vector<Group> groups;
  std::map<PolicyType, Policy> policies;  // saved at least once
  Timestamp creation_date = 0;

  const Group* group(const GroupId& id) const;
  const Collection* collection(const CollectionId& id) const;
  bool policy_enabled(PolicyType type) const;
  // A member's access to a collection, direct and through their groups combined:
  // writable if any grant is, passwords hidden only if every grant hides them,
  // manage if any grant manages. nullopt: no access.
  std::optional<CollectionAccess> access_to(const CollectionId& collection,
                                            const OrganizationUserId& member) const;

  const OrganizationMember* member_by_user_id(const UserId& user_id) const;
  const OrganizationMember* member(const OrganizationUserId& id) const;
  const OrganizationMember* member_by_email(std::string_view lower_email) const;
  bool is_confirmed_owner(const UserId& user_id) const;
  int confirmed_owners() const;
  // Invited, accepted and confirmed members (revoked ones hold no seat).
  int occupied_seats() const;
};

// A vault item (Bitwarden's cipher), in its own stream item-<id>.
struct ItemState {
  bool exists = false;  // false again once purged
  bool purged = false;
  ItemId id;
  CipherType type = CipherType::kLogin;
  std::optional<UserId> owner;  // a personal item's owner
  std::optional<OrganizationId> organization_id;
  std::vector<CollectionId> collection_ids;
  std::string name, notes;
  std::vector<ItemField> fields;
  Timestamp deleted_at = 0;  // in the trash since; 0: not deleted
  Timestamp creation_date = 0, revision_date = 0;
};

// Permissions as recorded in events.
fb::Permissions to_fb(const Permissions& p);
Permissions from_fb(const fb::Permissions& p);

// evolve: the state after one more event. `at` is the event's recorded-at.
void evolve(UserState& state, const EventPayload& event, Timestamp at);
void evolve(EmailState& state, const EventPayload& event, Timestamp at);
void evolve(ProviderState& state, const EventPayload& event, Timestamp at);
void evolve(OrganizationState& state, const EventPayload& event, Timestamp at);
void evolve(ItemState& state, const EventPayload& event, Timestamp at);

// Collection access as recorded in events.
std::vector<fb::CollectionAccess> to_fb(const std::vector<CollectionAccess>& access);
std::vector<CollectionAccess> from_fb(const std::vector<fb::CollectionAccess>& access);

}  // namespace portal::domain
