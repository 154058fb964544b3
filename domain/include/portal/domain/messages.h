// Every refusal message of the domain, in one place. Where DESIGN.md quotes
// Bitwarden's wording, it is used verbatim.
#pragma once

namespace portal::domain::msg {

// Provider lifecycle
inline constexpr const char* kProviderAlreadySetup = "Provider is already setup.";
inline constexpr const char* kUnlinkClientsFirst =
    "You must unlink all clients before you can delete a provider.";
inline constexpr const char* kInvalidToken = "Invalid token.";
inline constexpr const char* kTokenExpired = "Token has expired. Ask for a new invitation.";
inline constexpr const char* kOwnerNotRegistered = "The owner must be a registered user.";
inline constexpr const char* kResellerHasNoOwner = "A Reseller provider is created without an owner.";
inline constexpr const char* kProviderNotSetUp = "Provider is not set up yet.";
inline constexpr const char* kProviderDisabled = "Provider is disabled.";

// Provider users
inline constexpr const char* kAlreadyAccepted = "Already accepted.";
inline constexpr const char* kEmailMismatch = "User email does not match invite.";
inline constexpr const char* kAtLeastOneAdmin = "Provider must have at least one confirmed ProviderAdmin.";
inline constexpr const char* kCannotRemoveYourself = "You cannot remove yourself.";
inline constexpr const char* kInvalidUser = "Invalid user.";
inline constexpr const char* kAlreadyInvited = "User already invited.";
inline constexpr const char* kOnlyInvitedCanBeReinvited = "Only invited users can be reinvited.";
inline constexpr const char* kNotAccepted = "User must accept the invitation before being confirmed.";

// Client organizations
inline constexpr const char* kAlreadyBelongsToProvider = "Organization already belongs to a provider.";
inline constexpr const char* kNeedsOwnConfirmedOwner = "Organization must have at least one confirmed owner.";
inline constexpr const char* kServiceUsersCannotPurchaseSeats =
    "Service users cannot purchase additional seats.";
inline constexpr const char* kPlanNotAllowedForProvider =
    "This organization's plan cannot be managed by this provider type.";
inline constexpr const char* kMustBeOwnerToAdd =
    "You must be a confirmed owner of the organization to add it.";

// Organization members
inline constexpr const char* kSeatLimitReached =
    "Seat limit has been reached. Please contact your provider to add more seats.";
inline constexpr const char* kInvitationAlreadyAccepted = "Invitation already accepted.";
inline constexpr const char* kOnlyOwnersManageOwners = "Only an Owner can manage another Owner.";
inline constexpr const char* kCannotRevokeYourself = "You cannot revoke yourself.";
inline constexpr const char* kCannotChangeOwnType = "You cannot change your own type.";
inline constexpr const char* kAlreadyRevoked = "Already revoked.";
inline constexpr const char* kAlreadyActive = "Already active.";
inline constexpr const char* kAlreadyMember = "You are already a member of this organization.";

// Policies (Bitwarden's wording)
inline constexpr const char* kLeaveOtherOrganizationsFirst =
    "You may not join this organization until you leave or remove all other organizations.";
inline constexpr const char* kOtherOrganizationForbidsIt =
    "You cannot join this organization because you are a member of another organization which forbids it.";
inline constexpr const char* kSingleOrgForbidsCreating =
    "You may not create an organization. You belong to an organization which has a policy that prohibits you "
    "from being a member of any other organization.";
inline constexpr const char* kPersonalOwnershipPolicy =
    "Due to an Enterprise Policy, you are restricted from saving items to your personal vault. Change the "
    "ownership option to an organization and choose from available collections.";
inline constexpr const char* kSingleOrgNotEnabled = "Single Organization policy not enabled.";
inline constexpr const char* kRequiredBySso = "Single Sign-On Authentication policy is enabled.";
inline constexpr const char* kRequiredByVaultTimeout = "Maximum Vault Timeout policy is enabled.";
inline constexpr const char* kInvalidPolicyData = "The policy data must be a JSON object.";

// Collections
inline constexpr const char* kCollectionNotFound = "Collection not found.";
inline constexpr const char* kGroupNotFound = "Group not found.";
inline constexpr const char* kUserNotFound = "User is not a member of this organization.";
inline constexpr const char* kRepeatedId = "The same id appears more than once.";

// Vault items
inline constexpr const char* kProviderUsersHaveNoVault =
    "Provider users cannot view, create or edit items in a client organization's vault.";
inline constexpr const char* kNoEditPermission = "You do not have permissions to edit this.";
inline constexpr const char* kNoDeletePermission = "You do not have permissions to delete this.";
inline constexpr const char* kSelectCollection = "You must select at least one collection.";
inline constexpr const char* kItemInTrash = "The item is in the trash. Restore it before editing it.";
inline constexpr const char* kItemNotInTrash = "The item is not in the trash.";
inline constexpr const char* kItemAlreadyInTrash = "The item is already in the trash.";
inline constexpr const char* kItemAlreadyShared = "The item already belongs to an organization.";
inline constexpr const char* kPersonalItemHasNoCollections =
    "Only items of an organization have collections.";
inline constexpr const char* kOrganizationDisabled = "This organization is disabled.";

// Accounts
inline constexpr const char* kEmailTaken = "Email is already taken.";
inline constexpr const char* kUserExists = "User already exists.";

}  // namespace portal::domain::msg
