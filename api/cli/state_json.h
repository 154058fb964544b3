// Aggregate states as JSON for `portalctl state`: camelCase keys, enums as their
// numbers (Bitwarden's wire values), instants in ISO 8601 UTC, EncStrings and keys
// as stored. Token hashes are left out: they are secrets' fingerprints, of no use to
// an auditor.
#pragma once

#include "format.h"
#include "portal/domain/state.h"

namespace portal::cli {

void write_state(JsonWriter& j, const domain::UserState& s);
void write_state(JsonWriter& j, const domain::EmailState& s);
void write_state(JsonWriter& j, const domain::ProviderState& s);
void write_state(JsonWriter& j, const domain::OrganizationState& s);
void write_state(JsonWriter& j, const domain::ItemState& s);

}  // namespace portal::cli
