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

// Accounts
inline constexpr const char* kEmailTaken = "Email is already taken.";
inline constexpr const char* kUserExists = "User already exists.";

}  // namespace portal::domain::msg
