#include "portal/domain/events.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace flatbuffers {
portal::domain::fb::Uuid Pack(const portal::domain::Uuid& id) {
  return portal::domain::fb::Uuid(flatbuffers::span<const std::uint8_t, 16>(id.bytes));
}
portal::domain::Uuid UnPack(const portal::domain::fb::Uuid& id) {
  portal::domain::Uuid out;
  std::memcpy(out.bytes.data(), id.b()->Data(), 16);
  return out;
}
}  // namespace flatbuffers

namespace portal::domain {

using T = fb::EventPayload;

const char* event_name(T type) {
  const char* name = fb::EnumNameEventPayload(type);
  return name == nullptr || *name == '\0' ? "Unknown" : name;
}

const char* event_name(const EventPayload& payload) { return event_name(payload.type); }

std::uint32_t event_code(T type) {
  switch (type) {
    case T::ProviderUserInvited: return 1800;
    case T::ProviderUserConfirmed: return 1801;
    case T::ProviderUserUpdated: return 1802;
    case T::ProviderUserRemoved: return 1803;
    case T::ProviderOrganizationCreated: return 1900;
    case T::ProviderOrganizationAdded: return 1901;
    case T::ProviderOrganizationRemoved: return 1902;
    case T::ProviderOrganizationVaultAccessed: return 1903;
    case T::OrganizationUpdated: return 1600;
    case T::OrganizationVaultAccessed: return 1603;
    case T::OrganizationUserInvited: return 1500;
    case T::CollectionCreated: return 1300;
    case T::OrganizationUserConfirmed: return 1501;
    case T::OrganizationUserUpdated: return 1502;
    case T::OrganizationUserRemoved: return 1503;
    case T::OrganizationUserRevoked: return 1511;
    case T::OrganizationUserRestored: return 1512;
    case T::GroupCreated: return 1400;
    case T::GroupUpdated: return 1401;
    case T::GroupDeleted: return 1402;
    case T::OrganizationUserUpdatedGroups: return 1504;
    case T::CollectionUpdated: return 1301;
    case T::CollectionDeleted: return 1302;
    case T::PolicyUpdated: return 1700;
    case T::CipherCreated: return 1100;
    case T::CipherUpdated: return 1101;
    case T::CipherDeleted: return 1102;
    case T::CipherShared: return 1105;
    case T::CipherCollectionsUpdated: return 1106;
    case T::CipherSoftDeleted: return 1115;
    case T::CipherRestored: return 1116;
    default: return 0;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

namespace {
// SHA-256 through a digest fetched once and a context kept per thread: OpenSSL 3's
// one-shot EVP_Digest(..., EVP_sha256(), ...) looks the algorithm up and builds a
// context on every call, several times the cost of hashing a token.
std::vector<std::uint8_t> sha256(std::string_view data) {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free);
  std::vector<std::uint8_t> digest(32);
  unsigned int len = 0;
  if (kSha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx.get(), kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest.data(), &len) != 1 || len != digest.size()) {
    // Only when OpenSSL cannot run SHA-256 at all (a broken installation): no token
    // or email could be checked, and a zero digest would match every token.
    std::fputs("portal: OpenSSL cannot compute SHA-256; check the OpenSSL installation\n", stderr);
    std::abort();
  }
  return digest;
}

std::string prefixed(std::string_view prefix, const Uuid& id) {
  std::string out;
  out.reserve(prefix.size() + 36);
  out.append(prefix);
  id.append_to(out);
  return out;
}
}  // namespace

std::vector<std::uint8_t> token_hash(std::string_view token) { return sha256(token); }

std::string provider_stream(const ProviderId& id) {
  return prefixed("provider-", id);
}
std::string organization_stream(const OrganizationId& id) {
  return prefixed("org-", id);
}
std::string user_stream(const UserId& id) {
  return prefixed("user-", id);
}
std::string item_stream(const ItemId& id) {
  return prefixed("item-", id);
}

std::string email_stream(std::string_view email) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(6 + 64);
  out += "email-";
  for (auto b : sha256(lower(email))) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string encode_payload(const EventPayload& payload) {
  flatbuffers::FlatBufferBuilder fbb(256);
  fb::EventT event;
  event.payload = payload;
  fb::FinishEventBuffer(fbb, fb::Event::Pack(fbb, &event));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Expected<EventPayload> decode_payload(std::string_view bytes) {
  // Copy into an aligned buffer: object-API unpacking reads scalars in place.
  std::string copy(bytes);
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(copy.data()), copy.size());
  if (!fb::VerifyEventBuffer(verifier)) {
    return Error::validation("payload", "event payload is not a valid domain event");
  }
  const auto* event = fb::GetEvent(copy.data());
  if (event->payload_type() == T::NONE) return Error::validation("payload", "event payload has no type");
  std::unique_ptr<fb::EventT> unpacked(event->UnPack());
  return std::move(unpacked->payload);
}

std::string encode_actor(const RecordedActor& actor) {
  flatbuffers::FlatBufferBuilder fbb(128);
  fb::FinishActorBuffer(fbb, fb::Actor::Pack(fbb, &actor));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Expected<RecordedActor> decode_actor(std::string_view bytes) {
  std::string copy(bytes);
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(copy.data()), copy.size());
  if (!fb::VerifyActorBuffer(verifier)) return Error::validation("metadata", "event metadata is not a valid actor");
  RecordedActor actor;
  fb::GetActor(copy.data())->UnPackTo(&actor);
  return actor;
}

}  // namespace portal::domain
