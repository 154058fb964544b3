// The commands of the Provider Portal (DESIGN.md section 4). Ids of things a
// command creates are not in the command: decide() draws them from the
// Environment, so the engine can derive them from the command id.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "portal/domain/enums.h"
#include "portal/domain/ids.h"

namespace portal::domain {

struct SeatMinimum {
  PlanType plan;
  int seat_minimum = 0;
  friend bool operator==(const SeatMinimum&, const SeatMinimum&) = default;
};

// Accounts
struct RegisterUser {
  UserId user_id;
  std::string email;
  std::string name;
};

// Provider lifecycle
struct InviteProvider {  // staff
  ProviderType type = ProviderType::kMsp;
  std::string owner_email;  // required for Msp and BusinessUnit
  std::vector<SeatMinimum> seat_minimums;
};
struct SetupProvider {  // the invited owner
  ProviderId provider_id;
  std::string token;
  std::string name;
  std::string business_name;
  std::string billing_email;
  std::string key;
};
struct UpdateProvider {
  ProviderId provider_id;
  std::string name;
  std::string business_name;
  std::string billing_email;
};
struct EnableProvider {  // staff
  ProviderId provider_id;
};
struct DisableProvider {  // staff
  ProviderId provider_id;
};
struct SetProviderPlan {  // staff
  ProviderId provider_id;
  std::vector<SeatMinimum> seat_minimums;
};
struct DeleteProvider {
  ProviderId provider_id;
};

// Provider users
struct InviteProviderUsers {  // AddServiceUser is this with type kServiceUser
  ProviderId provider_id;
  std::vector<std::string> emails;
  ProviderUserType type = ProviderUserType::kServiceUser;
};
struct ReinviteProviderUser {
  ProviderId provider_id;
  ProviderUserId provider_user_id;
};
struct AcceptProviderInvite {
  ProviderId provider_id;
  ProviderUserId provider_user_id;
  std::string token;
};
struct ProviderUserKey {
  ProviderUserId provider_user_id;
  std::string key;
};
struct ConfirmProviderUsers {
  ProviderId provider_id;
  std::vector<ProviderUserKey> keys;
};
struct UpdateProviderUserType {
  ProviderId provider_id;
  ProviderUserId provider_user_id;
  ProviderUserType type = ProviderUserType::kServiceUser;
};
struct RemoveProviderUsers {
  ProviderId provider_id;
  std::vector<ProviderUserId> provider_user_ids;
};

// Organizations and clients
struct CreateOrganization {
  std::string name;
  PlanType plan = PlanType::kFree;
  int seats = 1;
  std::string billing_email;
};
struct AddClientOrg {
  ProviderId provider_id;
  // Existing form: the organization to adopt. Otherwise the new form's fields.
  std::optional<OrganizationId> existing_organization_id;
  std::string name;
  std::string owner_email;
  PlanType plan = PlanType::kTeamsMonthly;
  int seats = 0;
  std::string collection_name;
};
struct RemoveClientOrg {
  ProviderId provider_id;
  ProviderOrganizationId provider_organization_id;
};
struct UpdateClientOrg {
  ProviderId provider_id;
  ProviderOrganizationId provider_organization_id;
  std::string name;
  int assigned_seats = 0;
};
struct OpenClientOrg {
  ProviderId provider_id;
  ProviderOrganizationId provider_organization_id;
};

// Organization members (the client's admin console)
struct Permissions {  // what a Custom member may do
  bool manage_users = false;
  bool manage_groups = false;
  bool manage_policies = false;
  bool create_new_collections = false;
  bool edit_any_collection = false;
  bool delete_any_collection = false;
  bool access_event_logs = false;
  friend bool operator==(const Permissions&, const Permissions&) = default;
};
// A member's or a group's access to a collection; in an invitation, id is the
// collection the invited member gets.
struct CollectionAccess {
  Uuid id;
  bool read_only = false;
  bool hide_passwords = false;
  bool manage = false;
  friend bool operator==(const CollectionAccess&, const CollectionAccess&) = default;
};
struct InviteMembers {
  OrganizationId organization_id;
  std::vector<std::string> emails;
  OrganizationUserType type = OrganizationUserType::kUser;
  Permissions permissions;
  std::vector<CollectionAccess> collections;  // id: a collection of the organization
  std::vector<GroupId> groups;
};
struct AcceptMember {
  OrganizationId organization_id;
  OrganizationUserId organization_user_id;
  std::string token;
};
struct ConfirmMember {
  OrganizationId organization_id;
  OrganizationUserId organization_user_id;
  std::string key;
};
struct UpdateMember {
  OrganizationId organization_id;
  OrganizationUserId organization_user_id;
  OrganizationUserType type = OrganizationUserType::kUser;
  Permissions permissions;
};
struct RemoveMember {
  OrganizationId organization_id;
  OrganizationUserId organization_user_id;
};
struct RevokeMember {
  OrganizationId organization_id;
  OrganizationUserId organization_user_id;
};
struct RestoreMember {
  OrganizationId organization_id;
  OrganizationUserId organization_user_id;
};

// Groups of organization members
struct CreateGroup {
  OrganizationId organization_id;
  std::string name;  // plain text, at most 100 characters
  std::vector<OrganizationUserId> members;
};
struct UpdateGroup {
  OrganizationId organization_id;
  GroupId group_id;
  std::string name;
};
struct DeleteGroup {
  OrganizationId organization_id;
  GroupId group_id;
};
struct SetGroupMembers {
  OrganizationId organization_id;
  GroupId group_id;
  std::vector<OrganizationUserId> members;
};

// Collections
struct CreateCollection {
  OrganizationId organization_id;
  std::string name;  // as the client sends it (normally an EncString), at most 1000 characters
  std::vector<CollectionAccess> groups;  // id: a group
  std::vector<CollectionAccess> users;   // id: an organization user
};
struct UpdateCollection {  // name and both access lists are replaced
  OrganizationId organization_id;
  CollectionId collection_id;
  std::string name;
  std::vector<CollectionAccess> groups;
  std::vector<CollectionAccess> users;
};
struct DeleteCollection {
  OrganizationId organization_id;
  CollectionId collection_id;
};

// Policies
struct SavePolicy {
  OrganizationId organization_id;
  PolicyType type = PolicyType::kTwoFactorAuthentication;
  bool enabled = false;
  std::string data;  // the policy's options as a JSON object, stored as given; empty: none
};

// Vault items. Every text is an EncString, encrypted by the client.
struct ItemField {
  std::string name;   // "login.username", "login.uris.0", "card.number", ...
  std::string value;  // EncString
  friend bool operator==(const ItemField&, const ItemField&) = default;
};
struct ItemContent {
  std::string name;   // EncString, required
  std::string notes;  // EncString, or empty
  std::vector<ItemField> fields;
};
struct CreateItem {
  CipherType type = CipherType::kLogin;
  std::optional<OrganizationId> organization_id;  // none: a personal item of the actor
  std::vector<CollectionId> collection_ids;       // at least one for an organization item
  ItemContent content;
};
struct UpdateItem {
  ItemId item_id;
  ItemContent content;
};
struct SoftDeleteItem {  // to the trash
  ItemId item_id;
};
struct RestoreItem {  // out of the trash
  ItemId item_id;
};
struct PurgeItem {  // gone for good
  ItemId item_id;
};
struct ShareItem {  // a personal item moves into an organization, re-encrypted with its key
  ItemId item_id;
  OrganizationId organization_id;
  std::vector<CollectionId> collection_ids;
  ItemContent content;
};
struct UpdateItemCollections {
  ItemId item_id;
  std::vector<CollectionId> collection_ids;
};

using Command =
    std::variant<RegisterUser, InviteProvider, SetupProvider, UpdateProvider, EnableProvider, DisableProvider,
                 SetProviderPlan, DeleteProvider, InviteProviderUsers, ReinviteProviderUser,
                 AcceptProviderInvite, ConfirmProviderUsers, UpdateProviderUserType, RemoveProviderUsers,
                 CreateOrganization, AddClientOrg, RemoveClientOrg, UpdateClientOrg, OpenClientOrg,
                 InviteMembers, AcceptMember, ConfirmMember, UpdateMember, RemoveMember, RevokeMember,
                 RestoreMember, CreateGroup, UpdateGroup, DeleteGroup, SetGroupMembers, CreateCollection,
                 UpdateCollection, DeleteCollection, SavePolicy, CreateItem, UpdateItem, SoftDeleteItem,
                 RestoreItem, PurgeItem, ShareItem, UpdateItemCollections>;

// "InviteProvider", ... for logs and metrics.
const char* command_name(const Command& command);

}  // namespace portal::domain
