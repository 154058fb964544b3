// The audit log read model (DESIGN.md section 5): every event of the log as an
// audit entry with Bitwarden's event fields and codes, indexed by organization,
// provider, acting user and item. The provider's index also rolls up the
// client-organization events its users performed (the actor acted through the
// provider); an organization's index also holds the provider-side events about it
// (1900-1903).
//
// Rows: 'o'|'p'|'a'|'i' id time position -> the entry (one copy per index, so that
// a page is one range scan).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "portal/domain/ids.h"
#include "portal/projections/projection.h"
#include "portal/projections/projection_db.h"

namespace portal::projections {

struct AuditEntry {
  std::uint64_t position = 0;
  std::int64_t date = 0;   // recorded-at, UTC microseconds
  std::uint32_t type = 0;  // Bitwarden's event code, 0 when there is none
  std::string name;        // the event's own name ("ProviderUserInvited", ...)
  std::string stream;
  domain::UserId acting_user_id;   // nil: the system
  std::int8_t acting_as = 0;       // domain::ActingAs
  domain::ProviderId provider_id;  // the provider the event concerns or was acted through
  domain::OrganizationId organization_id;
  domain::ProviderOrganizationId provider_organization_id;
  domain::ProviderUserId provider_user_id;
  domain::OrganizationUserId organization_user_id;
  domain::ItemId cipher_id;
  domain::CollectionId collection_id;
  domain::GroupId group_id;
  std::int16_t policy_type = -1;  // -1: none
  std::int16_t device_type = 0;
  std::string ip_address;

  std::string encode() const;
  static std::optional<AuditEntry> decode(std::string_view bytes);
  friend bool operator==(const AuditEntry&, const AuditEntry&) = default;
};

class AuditLogProjection final : public Projection {
 public:
  static constexpr const char* kName = "audit";
  std::string_view name() const override { return kName; }
  std::uint32_t version() const override { return 4; }
  bool reads_rows() const override { return false; }
  std::optional<std::string> apply(const ProjectedEvent& event, Rows& rows) override;

  // The entry an event becomes (also used by verification and tests).
  static AuditEntry entry_of(const ProjectedEvent& event);
};

enum class AuditBy : char { kOrganization = 'o', kProvider = 'p', kActor = 'a', kItem = 'i' };

struct AuditQuery {
  AuditBy by = AuditBy::kOrganization;
  domain::Uuid id;
  std::int64_t from = 0;                                       // inclusive, UTC microseconds
  std::int64_t to = std::numeric_limits<std::int64_t>::max();  // exclusive
  std::size_t limit = 50;                                      // 0: no limit
  std::string continuation;                                    // from a previous page; empty: first page
  // Newest first, as Bitwarden's event pages are. A token carries its order: one
  // issued for the other order is refused.
  bool newest_first = false;
};

struct AuditPage {
  std::vector<AuditEntry> entries;  // oldest first, or newest first when asked
  std::string continuation;         // empty: no more
};

// One page of the serving generation of the audit log. An invalid continuation
// token is a kInvalidArgument error.
eventstore::Result<AuditPage> query_audit(const ProjectionDb& db, const AuditQuery& query);

}  // namespace portal::projections
