// Domain events: the FlatBuffers object-API types generated from events.fbs and
// actor.fbs, their names and Bitwarden codes, streams, and their byte encoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "portal/domain/enums.h"
#include "portal/domain/error.h"
#include "portal/domain/ids.h"

// native_type hooks for fb::Uuid <-> portal::domain::Uuid (must precede the
// generated headers).
namespace portal::domain::fb {
struct Uuid;
}
namespace flatbuffers {
portal::domain::fb::Uuid Pack(const portal::domain::Uuid& id);
portal::domain::Uuid UnPack(const portal::domain::fb::Uuid& id);
}  // namespace flatbuffers

#include "portal/domain/actor_generated.h"
#include "portal/domain/events_generated.h"

namespace portal::domain {

using EventPayload = fb::EventPayloadUnion;

// The table name ("ProviderUserInvited"), the event type stored in the log.
const char* event_name(const EventPayload& payload);
const char* event_name(fb::EventPayload type);
// Bitwarden's event code (1800, ...), or 0 when the event has none.
std::uint32_t event_code(fb::EventPayload type);

// Stream names: provider-<uuid>, org-<uuid>, user-<uuid>, email-<sha256 hex>,
// item-<uuid>.
std::string provider_stream(const ProviderId& id);
std::string organization_stream(const OrganizationId& id);
std::string user_stream(const UserId& id);
std::string item_stream(const ItemId& id);
std::string email_stream(std::string_view email);  // email is lower-cased first

std::string encode_payload(const EventPayload& payload);
// Verifies and decodes payload bytes; a validation-kind Error names what is wrong.
Expected<EventPayload> decode_payload(std::string_view bytes);

// The actor recorded on every event (and the outcome, on a command's first event).
using RecordedActor = fb::ActorT;
std::string encode_actor(const RecordedActor& actor);
Expected<RecordedActor> decode_actor(std::string_view bytes);

// Lower-cases ASCII; emails compare case-insensitively.
std::string lower(std::string_view s);
// SHA-256 of a token, as stored in events.
std::vector<std::uint8_t> token_hash(std::string_view token);

}  // namespace portal::domain
