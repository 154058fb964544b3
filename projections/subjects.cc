#include "subjects.h"

namespace portal::projections {

using T = domain::fb::EventPayload;

std::optional<domain::Uuid> stream_id(const ProjectedEvent& event, std::string_view prefix) {
  if (!event.stream.starts_with(prefix)) return std::nullopt;
  return event.stream_uuid;
}

namespace {
std::optional<domain::Uuid> non_nil(const domain::Uuid& id) {
  if (id.is_nil()) return std::nullopt;
  return id;
}
}  // namespace

Subjects subjects_of(const ProjectedEvent& event) {
  Subjects s;
  s.organization = stream_id(event, "org-");
  s.provider = stream_id(event, "provider-");
  s.item = stream_id(event, "item-");
  s.user = stream_id(event, "user-");
  const domain::EventPayload& p = *event.payload;
  switch (p.type) {
    case T::ProviderUserInvited: s.provider_user = p.AsProviderUserInvited()->provider_user_id; break;
    case T::ProviderUserReinvited: s.provider_user = p.AsProviderUserReinvited()->provider_user_id; break;
    case T::ProviderUserAccepted: s.provider_user = p.AsProviderUserAccepted()->provider_user_id; break;
    case T::ProviderUserConfirmed: s.provider_user = p.AsProviderUserConfirmed()->provider_user_id; break;
    case T::ProviderUserUpdated: s.provider_user = p.AsProviderUserUpdated()->provider_user_id; break;
    case T::ProviderUserRemoved: s.provider_user = p.AsProviderUserRemoved()->provider_user_id; break;
    case T::ProviderOrganizationCreated:
      s.provider_organization = p.AsProviderOrganizationCreated()->provider_organization_id;
      s.organization = p.AsProviderOrganizationCreated()->organization_id;
      break;
    case T::ProviderOrganizationAdded:
      s.provider_organization = p.AsProviderOrganizationAdded()->provider_organization_id;
      s.organization = p.AsProviderOrganizationAdded()->organization_id;
      break;
    case T::ProviderOrganizationRemoved:
      s.provider_organization = p.AsProviderOrganizationRemoved()->provider_organization_id;
      s.organization = p.AsProviderOrganizationRemoved()->organization_id;
      break;
    case T::ProviderOrganizationUpdated:
      s.provider_organization = p.AsProviderOrganizationUpdated()->provider_organization_id;
      s.organization = p.AsProviderOrganizationUpdated()->organization_id;
      break;
    case T::ProviderOrganizationVaultAccessed:
      s.provider_organization = p.AsProviderOrganizationVaultAccessed()->provider_organization_id;
      s.organization = p.AsProviderOrganizationVaultAccessed()->organization_id;
      break;
    case T::OrganizationUserInvited:
      s.organization_user = p.AsOrganizationUserInvited()->organization_user_id;
      break;
    case T::OrganizationUserAccepted:
      s.organization_user = p.AsOrganizationUserAccepted()->organization_user_id;
      break;
    case T::OrganizationUserConfirmed:
      s.organization_user = p.AsOrganizationUserConfirmed()->organization_user_id;
      break;
    case T::OrganizationUserUpdated:
      s.organization_user = p.AsOrganizationUserUpdated()->organization_user_id;
      break;
    case T::OrganizationUserRemoved:
      s.organization_user = p.AsOrganizationUserRemoved()->organization_user_id;
      break;
    case T::OrganizationUserRevoked:
      s.organization_user = p.AsOrganizationUserRevoked()->organization_user_id;
      break;
    case T::OrganizationUserRestored:
      s.organization_user = p.AsOrganizationUserRestored()->organization_user_id;
      break;
    case T::OrganizationUserUpdatedGroups:
      s.organization_user = p.AsOrganizationUserUpdatedGroups()->organization_user_id;
      s.group = p.AsOrganizationUserUpdatedGroups()->group_id;
      break;
    case T::GroupCreated: s.group = p.AsGroupCreated()->group_id; break;
    case T::GroupUpdated: s.group = p.AsGroupUpdated()->group_id; break;
    case T::GroupDeleted: s.group = p.AsGroupDeleted()->group_id; break;
    case T::GroupMembersSet: s.group = p.AsGroupMembersSet()->group_id; break;
    case T::CollectionCreated: s.collection = p.AsCollectionCreated()->collection_id; break;
    case T::CollectionUpdated: s.collection = p.AsCollectionUpdated()->collection_id; break;
    case T::CollectionDeleted: s.collection = p.AsCollectionDeleted()->collection_id; break;
    case T::PolicyUpdated: s.policy_type = p.AsPolicyUpdated()->type; break;
    case T::UserJoinedOrganization: s.organization = p.AsUserJoinedOrganization()->organization_id; break;
    case T::UserLeftOrganization: s.organization = p.AsUserLeftOrganization()->organization_id; break;
    case T::CipherCreated: s.organization = non_nil(p.AsCipherCreated()->organization_id); break;
    case T::CipherUpdated: s.organization = non_nil(p.AsCipherUpdated()->organization_id); break;
    case T::CipherSoftDeleted: s.organization = non_nil(p.AsCipherSoftDeleted()->organization_id); break;
    case T::CipherRestored: s.organization = non_nil(p.AsCipherRestored()->organization_id); break;
    case T::CipherDeleted: s.organization = non_nil(p.AsCipherDeleted()->organization_id); break;
    case T::CipherShared: s.organization = non_nil(p.AsCipherShared()->organization_id); break;
    case T::CipherCollectionsUpdated:
      s.organization = non_nil(p.AsCipherCollectionsUpdated()->organization_id);
      break;
    default: break;
  }
  // An organization's event done through a provider: the provider's log rolls it up.
  if (!s.provider && event.actor != nullptr && !event.actor->provider_id.is_nil())
    s.provider = event.actor->provider_id;
  return s;
}

}  // namespace portal::projections
