// The read models the portal runs, in one list shared by the Engine and portalctl
// (rebuild, verify), so that both always fold the same projections.
#pragma once

#include <memory>
#include <vector>

#include "portal/projections/admin_history.h"
#include "portal/projections/audit_log.h"
#include "portal/projections/portal_views.h"
#include "portal/projections/projection.h"

namespace portal::projections {

inline std::vector<std::unique_ptr<Projection>> portal_projections() {
  std::vector<std::unique_ptr<Projection>> all;
  all.push_back(std::make_unique<DirectoryProjection>());
  all.push_back(std::make_unique<ConsoleProjection>());
  all.push_back(std::make_unique<AuditLogProjection>());
  all.push_back(std::make_unique<AdminHistoryProjection>());
  return all;
}

}  // namespace portal::projections
