#include "portal/domain/enums.h"

namespace portal::domain {

std::optional<ProviderType> provider_type_from(int v) {
  if (v < 0 || v > 2) return std::nullopt;
  return static_cast<ProviderType>(v);
}

std::optional<ProviderUserType> provider_user_type_from(int v) {
  if (v < 0 || v > 1) return std::nullopt;
  return static_cast<ProviderUserType>(v);
}

std::optional<PlanType> plan_type_from(int v) {
  if (v == 0 || (v >= 17 && v <= 22)) return static_cast<PlanType>(v);
  return std::nullopt;
}

std::optional<PolicyType> policy_type_from(int v) {
  if (v < 0 || v > 11) return std::nullopt;
  return static_cast<PolicyType>(v);
}

std::optional<CipherType> cipher_type_from(int v) {
  if (v < 1 || v > 5) return std::nullopt;
  return static_cast<CipherType>(v);
}

const char* plan_name(PlanType plan) {
  switch (plan) {
    case PlanType::kFree: return "Free";
    case PlanType::kTeamsMonthly: return "Teams (Monthly)";
    case PlanType::kTeamsAnnually: return "Teams (Annually)";
    case PlanType::kEnterpriseMonthly: return "Enterprise (Monthly)";
    case PlanType::kEnterpriseAnnually: return "Enterprise (Annually)";
    case PlanType::kTeamsStarter: return "Teams Starter";
    case PlanType::kFamiliesAnnually: return "Families";
  }
  return "Unknown";
}

}  // namespace portal::domain
