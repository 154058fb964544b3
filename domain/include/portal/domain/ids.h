// Identifiers of the domain: 16-byte UUIDs written in their canonical dashed form.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace portal::domain {

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  // "8-4-4-4-12" hex digits; also accepts 32 digits without dashes, any case.
  static std::optional<Uuid> parse(std::string_view text);
  std::string to_string() const;  // lower-case, dashed
  void append_to(std::string& out) const;  // to_string() appended to out (36 characters)
  bool is_nil() const;

  friend bool operator==(const Uuid&, const Uuid&) = default;
  friend auto operator<=>(const Uuid&, const Uuid&) = default;
};

using UserId = Uuid;
using ProviderId = Uuid;
using ProviderUserId = Uuid;
using OrganizationId = Uuid;
using OrganizationUserId = Uuid;
using ProviderOrganizationId = Uuid;
using CollectionId = Uuid;
using GroupId = Uuid;
using ItemId = Uuid;  // a vault item (Bitwarden's cipher)

// Microseconds since the Unix epoch, UTC.
using Timestamp = std::int64_t;
inline constexpr Timestamp kMicrosPerHour = 3'600'000'000LL;

}  // namespace portal::domain

template <>
struct std::hash<portal::domain::Uuid> {
  std::size_t operator()(const portal::domain::Uuid& id) const noexcept {
    std::size_t h = 0;
    for (int i = 0; i < 8; ++i) h = (h << 8) | id.bytes[i];
    return h ^ (static_cast<std::size_t>(id.bytes[15]) << 3);
  }
};
