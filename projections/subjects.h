// Internal to projections/: what an event is about, read from its stream and its
// payload, shared by the read models.
#pragma once

#include <optional>

#include "portal/domain/enums.h"
#include "portal/projections/projection.h"

namespace portal::projections {

struct Subjects {
  std::optional<domain::OrganizationId> organization;
  std::optional<domain::ProviderId> provider;  // the stream's, or the one the actor acted through
  std::optional<domain::ItemId> item;
  std::optional<domain::UserId> user;  // a user stream's user
  domain::ProviderOrganizationId provider_organization;
  domain::ProviderUserId provider_user;
  domain::OrganizationUserId organization_user;
  domain::CollectionId collection;
  domain::GroupId group;
  std::int16_t policy_type = -1;
};

// The id after the event's stream's category prefix ("org-<uuid>"), if the stream has it.
std::optional<domain::Uuid> stream_id(const ProjectedEvent& event, std::string_view prefix);

Subjects subjects_of(const ProjectedEvent& event);

}  // namespace portal::projections
