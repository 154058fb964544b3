// Bitwarden's enum values (DESIGN.md section 4). They travel as these numbers in
// events and on the wire; never renumber.
#pragma once

#include <cstdint>
#include <optional>

namespace portal::domain {

enum class ProviderType : std::int8_t { kMsp = 0, kReseller = 1, kBusinessUnit = 2 };
enum class ProviderStatus : std::int8_t { kPending = 0, kCreated = 1, kBillable = 2 };
enum class ProviderUserType : std::int8_t { kProviderAdmin = 0, kServiceUser = 1 };
enum class ProviderUserStatus : std::int8_t { kInvited = 0, kAccepted = 1, kConfirmed = 2 };
enum class OrganizationStatus : std::int8_t { kPending = 0, kCreated = 1, kManaged = 2 };
enum class OrganizationUserType : std::int8_t { kOwner = 0, kAdmin = 1, kUser = 2, kCustom = 4 };
enum class OrganizationUserStatus : std::int8_t {
  kRevoked = -1,
  kInvited = 0,
  kAccepted = 1,
  kConfirmed = 2
};
enum class PlanType : std::int16_t {
  kFree = 0,
  kTeamsMonthly = 17,
  kTeamsAnnually = 18,
  kEnterpriseMonthly = 19,
  kEnterpriseAnnually = 20,
  kTeamsStarter = 21,
  kFamiliesAnnually = 22,
};

enum class PolicyType : std::int16_t {
  kTwoFactorAuthentication = 0,
  kMasterPassword = 1,
  kPasswordGenerator = 2,
  kSingleOrg = 3,
  kRequireSso = 4,
  kOrganizationDataOwnership = 5,
  kDisableSend = 6,
  kSendOptions = 7,
  kResetPassword = 8,
  kMaximumVaultTimeout = 9,
  kDisablePersonalVaultExport = 10,
  kActivateAutofill = 11,
};
enum class CipherType : std::int8_t { kLogin = 1, kSecureNote = 2, kCard = 3, kIdentity = 4, kSshKey = 5 };

// How the acting user relates to what they act on; recorded on every event.
enum class ActingAs : std::int8_t { kDirect = 0, kProviderUser = 1, kStaff = 2, kSystem = 3 };

// Checked conversions from wire numbers.
std::optional<ProviderType> provider_type_from(int v);
std::optional<ProviderUserType> provider_user_type_from(int v);
std::optional<PlanType> plan_type_from(int v);
std::optional<PolicyType> policy_type_from(int v);
std::optional<CipherType> cipher_type_from(int v);
const char* plan_name(PlanType plan);  // "Teams (Monthly)", ...

}  // namespace portal::domain
