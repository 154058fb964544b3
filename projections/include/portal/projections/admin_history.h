// The administration history (DESIGN.md section 5): who administered which client.
//
// - per (provider, client): the provider users who acted on the client through the
//   provider, with the number of commands, the first and last time and the last
//   action (the last event's name);
// - per user: the clients they touched, the same figures;
// - who had administrative access to an organization at any past instant: the
//   provider's confirmed users while the organization was its client, and the
//   organization's own confirmed Owners and Admins.
//
// Rows: 'h' provider org user and 'u' user provider org -> Acted;
//       'g' org user kind from -> until (intervals of access; kind 0 provider user,
//       1 Owner, 2 Admin; until = max while open), 'G' org user kind -> from (open);
//       state: 'P' provider user (confirmed provider users), 'L' provider org
//       (clients), 'm' org member -> user, type, status.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "portal/domain/ids.h"
#include "portal/projections/projection.h"
#include "portal/projections/projection_db.h"

namespace portal::projections {

class AdminHistoryProjection final : public Projection {
 public:
  static constexpr const char* kName = "admin-history";
  std::string_view name() const override { return kName; }
  std::uint32_t version() const override { return 1; }
  std::optional<std::string> apply(const ProjectedEvent& event, Rows& rows) override;
};

struct Acted {
  domain::ProviderId provider_id;
  domain::OrganizationId organization_id;
  domain::UserId user_id;
  std::uint64_t commands = 0;
  std::int64_t first = 0, last = 0;  // UTC microseconds
  std::string last_action;
  friend bool operator==(const Acted&, const Acted&) = default;
};

enum class AccessKind : std::uint8_t { kProviderUser = 0, kOwner = 1, kAdmin = 2 };
const char* to_string(AccessKind kind);

struct AccessInterval {
  domain::UserId user_id;
  AccessKind kind = AccessKind::kProviderUser;
  std::int64_t from = 0;
  std::int64_t until = 0;  // exclusive; INT64_MAX while open
};

// Provider users who acted on the provider's clients, by client then user.
std::vector<Acted> acted_for_provider(const ProjectionDb& db, const domain::ProviderId& provider);
// The clients a user acted on, by provider then client.
std::vector<Acted> acted_by_user(const ProjectionDb& db, const domain::UserId& user);
// Every interval of administrative access to an organization.
std::vector<AccessInterval> access_history(const ProjectionDb& db, const domain::OrganizationId& org);
// Who had administrative access at an instant.
std::vector<AccessInterval> administrators_at(const ProjectionDb& db, const domain::OrganizationId& org,
                                              std::int64_t at);

}  // namespace portal::projections
