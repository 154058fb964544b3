#include "portal/projections/audit_log.h"

#include <cstring>

#include "keys.h"
#include "subjects.h"

namespace portal::projections {

namespace es = eventstore;

namespace {

void put_string(std::string& out, std::string_view s) {
  keys::put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  std::string_view take(std::size_t n) {
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      return {};
    }
    auto out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  std::uint64_t u64() {
    auto b = take(8);
    return ok_ ? keys::get_u64(b) : 0;
  }
  std::uint32_t u32() {
    auto b = take(4);
    return ok_ ? keys::get_u32(b) : 0;
  }
  std::uint16_t u16() {
    auto b = take(2);
    return ok_ ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(b[0]) << 8) |
                                            static_cast<std::uint8_t>(b[1]))
               : 0;
  }
  std::uint8_t u8() {
    auto b = take(1);
    return ok_ ? static_cast<std::uint8_t>(b[0]) : 0;
  }
  domain::Uuid id() {
    auto b = take(16);
    return ok_ ? keys::get_id(b) : domain::Uuid{};
  }
  std::string str() {
    const std::uint32_t n = u32();
    return std::string(take(n));
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Format 2: ids present are flagged in a 16-bit mask and only they are stored.
constexpr std::uint8_t kEntryFormat = 2;

// Rows: 'E' position -> the entry; and one list per organization, provider,
// acting user and item (AuditBy tag, id) of the entries' (time, position).
std::string entry_key(std::uint64_t position) {
  std::string key(1, 'E');
  keys::put_u64(key, position);
  return key;
}

std::string list_of(AuditBy by, const domain::Uuid& id) {
  std::string list(1, static_cast<char>(by));
  keys::put_id(list, id);
  return list;
}

constexpr std::size_t kListBytes = 1 + 16;
constexpr std::size_t kMemberBytes = 8 + 8;

}  // namespace

std::string AuditEntry::encode() const {
  std::string out;
  out.push_back(static_cast<char>(kEntryFormat));
  keys::put_u64(out, position);
  keys::put_time(out, date);
  keys::put_u32(out, type);
  out.push_back(static_cast<char>(acting_as));
  put_u16(out, static_cast<std::uint16_t>(policy_type));
  put_u16(out, static_cast<std::uint16_t>(device_type));
  const domain::Uuid* ids[] = {
      &acting_user_id,   &provider_id,          &organization_id, &provider_organization_id,
      &provider_user_id, &organization_user_id, &cipher_id,       &collection_id,
      &group_id};
  std::uint16_t present = 0;
  for (std::size_t i = 0; i < std::size(ids); ++i)
    if (!ids[i]->is_nil()) present = static_cast<std::uint16_t>(present | (1u << i));
  put_u16(out, present);
  for (const domain::Uuid* id : ids)
    if (!id->is_nil()) keys::put_id(out, *id);
  put_string(out, name);
  put_string(out, stream);
  put_string(out, ip_address);
  return out;
}

std::optional<AuditEntry> AuditEntry::decode(std::string_view bytes) {
  Reader r(bytes);
  if (r.u8() != kEntryFormat) return std::nullopt;
  AuditEntry e;
  e.position = r.u64();
  e.date = keys::get_time(r.take(8));
  e.type = r.u32();
  e.acting_as = static_cast<std::int8_t>(r.u8());
  e.policy_type = static_cast<std::int16_t>(r.u16());
  e.device_type = static_cast<std::int16_t>(r.u16());
  domain::Uuid* ids[] = {
      &e.acting_user_id,   &e.provider_id,          &e.organization_id, &e.provider_organization_id,
      &e.provider_user_id, &e.organization_user_id, &e.cipher_id,       &e.collection_id,
      &e.group_id};
  const std::uint16_t present = r.u16();
  for (std::size_t i = 0; i < std::size(ids); ++i)
    if (present & (1u << i)) *ids[i] = r.id();
  e.name = r.str();
  e.stream = r.str();
  e.ip_address = r.str();
  if (!r.ok() || !r.done()) return std::nullopt;
  return e;
}

AuditEntry AuditLogProjection::entry_of(const ProjectedEvent& event) {
  const Subjects s = subjects_of(event);
  AuditEntry e;
  e.position = event.position;
  e.date = event.at;
  e.type = event.code;
  e.name = std::string(event.type);
  e.stream = std::string(event.stream);
  e.acting_user_id = event.actor->user_id;
  e.acting_as = event.actor->acting_as;
  e.provider_id = s.provider.value_or(domain::Uuid{});
  e.organization_id = s.organization.value_or(domain::Uuid{});
  e.provider_organization_id = s.provider_organization;
  e.provider_user_id = s.provider_user;
  e.organization_user_id = s.organization_user;
  e.cipher_id = s.item.value_or(domain::Uuid{});
  e.collection_id = s.collection;
  e.group_id = s.group;
  e.policy_type = s.policy_type;
  e.device_type = event.actor->device_type;
  e.ip_address = event.actor->ip_address;
  return e;
}

std::optional<std::string> AuditLogProjection::apply(const ProjectedEvent& event, Rows& rows) {
  const AuditEntry e = entry_of(event);
  // The entry once; each index lists its (time, position): recorded-at never
  // decreases along the log, so every list grows in order.
  rows.put(entry_key(e.position), e.encode());
  std::string member;
  keys::put_time(member, e.date);
  keys::put_u64(member, e.position);
  const std::pair<AuditBy, const domain::Uuid*> indexes[] = {{AuditBy::kOrganization, &e.organization_id},
                                                             {AuditBy::kProvider, &e.provider_id},
                                                             {AuditBy::kActor, &e.acting_user_id},
                                                             {AuditBy::kItem, &e.cipher_id}};
  std::string list(kListBytes, '\0');  // one buffer for the four lists' names
  for (const auto& [by, id] : indexes) {
    if (id->is_nil()) continue;
    list[0] = static_cast<char>(by);
    std::memcpy(list.data() + 1, id->bytes.data(), 16);
    rows.append(list, member);
  }
  return std::nullopt;
}

es::Result<AuditPage> query_audit(const ProjectionDb& db, const AuditQuery& q) {
  AuditPage page;
  const std::string list = list_of(q.by, q.id);
  // A newest-first token starts with 'n'; both orders' tokens are then the hex of
  // the list and the member to resume at (inclusive).
  const std::string_view marker = q.newest_first ? "n" : "";
  std::string start;
  if (!q.continuation.empty()) {
    const std::string_view token = std::string_view(q.continuation).substr(
        q.continuation.starts_with(marker) ? marker.size() : 0);
    if (!q.continuation.starts_with(marker) || token.size() != 2 * (kListBytes + kMemberBytes)) {
      return es::Status::invalid_argument("the continuation token is not one this server issued");
    }
    std::string raw;
    for (std::size_t i = 0; i < token.size(); i += 2) {
      auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
      };
      const int hi = nibble(token[i]), lo = nibble(token[i + 1]);
      if (hi < 0 || lo < 0)
        return es::Status::invalid_argument("the continuation token is not one this server issued");
      raw.push_back(static_cast<char>(hi << 4 | lo));
    }
    if (!raw.starts_with(list)) {
      return es::Status::invalid_argument("the continuation token belongs to another query");
    }
    start = raw.substr(kListBytes);
  } else {
    keys::put_time(start, q.newest_first ? q.to : q.from);
  }
  // Oldest first: from `start` up to `end` (q.to, exclusive). Newest first: from
  // `start` (q.to, before any member of that instant) down to `end` (q.from, inclusive).
  std::string end;
  keys::put_time(end, q.newest_first ? q.from : q.to);
  std::string resume;
  es::Status status;
  db.read_serving(AuditLogProjection::kName, [&](std::uint64_t gen) {
    page.entries.clear();
    resume.clear();
    std::vector<std::uint64_t> positions;
    status = db.scan_list(AuditLogProjection::kName, gen, list, start, q.newest_first,
                          [&](std::string_view member) {
                            if (q.newest_first ? member < end : member >= end) return false;
                            if (q.limit != 0 && positions.size() == q.limit) {
                              resume = list + std::string(member);
                              return false;
                            }
                            positions.push_back(keys::get_u64(member.substr(8)));
                            return true;
                          });
    if (!status.ok()) return;
    std::vector<std::string> keys;
    keys.reserve(positions.size());
    for (const std::uint64_t p : positions) keys.push_back(entry_key(p));
    const auto found = db.get_many(AuditLogProjection::kName, gen, keys);
    for (std::size_t i = 0; i < positions.size(); ++i) {
      auto entry = found[i] ? AuditEntry::decode(*found[i]) : std::nullopt;
      if (!entry || entry->position != positions[i]) {
        status =
            es::Status::corruption("the audit entry of position " + std::to_string(positions[i]) +
                                   " is damaged or missing; run portalctl verify and rebuild the audit log");
        return;
      }
      page.entries.push_back(std::move(*entry));
    }
  });
  if (!status.ok()) return status;
  if (!resume.empty()) page.continuation = std::string(marker) + keys::hex(resume);
  return page;
}

}  // namespace portal::projections
