// The portal's read models (DESIGN.md section 5):
//
// - directory: providers, their users (email, type, status) and their clients
//   (name, plan, seats), for the provider portal's lists;
// - console: each organization's summary (plan, seats, occupied seats, status,
//   enabled), members, groups, collections with access lists and policies; and the
//   vault view: items with their organizations and collections, and per user the
//   organizations they belong to, from which vault_for_user() answers "which items
//   may this user see" with the same rights domain::item_rights grants.
//
// Row keys (each under the projection's generation prefix):
//   directory: 'P' provider, 'U' provider puser, 'C' provider organization
//   console:   'O' org, 'M' org member, 'G' org group, 'K' org collection,
//              'Y' org policy-type, 'J' user org, 'I' item, 'B' org item,
//              'Q' owner item, 'X' org collection item
#pragma once

#include <optional>
#include <vector>

#include "portal/domain/ids.h"
#include "portal/projections/projection.h"
#include "portal/projections/projection_db.h"
#include "portal/projections/rows_generated.h"

namespace portal::projections {

class DirectoryProjection final : public Projection {
 public:
  static constexpr const char* kName = "directory";
  std::string_view name() const override { return kName; }
  std::uint32_t version() const override { return 1; }
  std::optional<std::string> apply(const ProjectedEvent& event, Rows& rows) override;
};

class ConsoleProjection final : public Projection {
 public:
  static constexpr const char* kName = "console";
  std::string_view name() const override { return kName; }
  std::uint32_t version() const override { return 1; }
  std::optional<std::string> apply(const ProjectedEvent& event, Rows& rows) override;
};

domain::Uuid to_uuid(const fb::Id& id);
fb::Id to_id(const domain::Uuid& id);

// Provider directory.
std::optional<fb::ProviderRowT> provider_row(const ProjectionDb& db, const domain::ProviderId& id);
std::vector<fb::ProviderUserRowT> provider_users(const ProjectionDb& db, const domain::ProviderId& id);
struct ClientView {
  fb::ClientRowT client;
  std::optional<fb::OrganizationRowT> organization;  // from the console model
};
std::vector<ClientView> provider_clients(const ProjectionDb& db, const domain::ProviderId& id);

// Organization console.
std::optional<fb::OrganizationRowT> organization_row(const ProjectionDb& db, const domain::OrganizationId& id);
std::vector<fb::MemberRowT> organization_members(const ProjectionDb& db, const domain::OrganizationId& id);
std::vector<fb::GroupRowT> organization_groups(const ProjectionDb& db, const domain::OrganizationId& id);
std::vector<fb::CollectionRowT> organization_collections(const ProjectionDb& db, const domain::OrganizationId& id);
std::vector<fb::PolicyRowT> organization_policies(const ProjectionDb& db, const domain::OrganizationId& id);

// Vault view: the items a user may see, personal ones first, with their rights.
struct VaultItem {
  fb::ItemRowT item;
  bool edit = false;
  bool manage = false;
  bool hide_passwords = false;
};
std::vector<VaultItem> vault_for_user(const ProjectionDb& db, const domain::UserId& user);

}  // namespace portal::projections
