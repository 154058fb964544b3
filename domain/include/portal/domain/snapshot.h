// Aggregate snapshots: a provider's or an organization's state as bytes (the
// StateSnapshot FlatBuffer of domain/state.fbs, file identifier PST1), so that a
// cold load starts from a snapshot and folds only the events after it. Pure: the
// engine decides when to take them and where they are kept.
#pragma once

#include <string>
#include <string_view>

#include "portal/domain/error.h"
#include "portal/domain/state.h"

namespace portal::domain {

std::string encode_snapshot(const ProviderState& state);
std::string encode_snapshot(const OrganizationState& state);

// Verify the bytes and decode them into the state they hold; a validation-kind
// Error when they are not a snapshot of this kind of aggregate in the current
// format (the caller then replays the stream instead).
Expected<ProviderState> decode_provider_snapshot(std::string_view bytes);
Expected<OrganizationState> decode_organization_snapshot(std::string_view bytes);

}  // namespace portal::domain
