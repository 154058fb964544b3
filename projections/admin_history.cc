#include "portal/projections/admin_history.h"

#include <limits>

#include "keys.h"
#include "subjects.h"

namespace portal::projections {

namespace d = portal::domain;
using T = d::fb::EventPayload;

const char* to_string(AccessKind kind) {
  switch (kind) {
    case AccessKind::kProviderUser: return "provider user";
    case AccessKind::kOwner: return "owner";
    case AccessKind::kAdmin: return "admin";
  }
  return "unknown";
}

namespace {

constexpr std::int64_t kOpen = std::numeric_limits<std::int64_t>::max();

std::string key(char tag, std::initializer_list<d::Uuid> ids) {
  std::string k(1, tag);
  for (const d::Uuid& id : ids) keys::put_id(k, id);
  return k;
}

// Acted rows: commands, first, last, the last command's id, the last action.
std::string encode_acted(const Acted& a, const eventstore::CommandId& last_command) {
  std::string out;
  keys::put_u64(out, a.commands);
  keys::put_time(out, a.first);
  keys::put_time(out, a.last);
  out.append(reinterpret_cast<const char*>(last_command.bytes.data()), last_command.bytes.size());
  out.append(a.last_action);
  return out;
}

bool decode_acted(std::string_view v, Acted& a, eventstore::CommandId& last_command) {
  if (v.size() < 8 + 8 + 8 + 16) return false;
  a.commands = keys::get_u64(v);
  a.first = keys::get_time(v.substr(8));
  a.last = keys::get_time(v.substr(16));
  for (std::size_t i = 0; i < 16; ++i) last_command.bytes[i] = static_cast<std::uint8_t>(v[24 + i]);
  a.last_action = std::string(v.substr(40));
  return true;
}

// A member's row: user (nil until accepted), type, status.
struct MemberRow {
  d::UserId user;
  d::OrganizationUserType type = d::OrganizationUserType::kUser;
  d::OrganizationUserStatus status = d::OrganizationUserStatus::kInvited;
};

std::string encode_member(const MemberRow& m) {
  std::string out;
  keys::put_id(out, m.user);
  out.push_back(static_cast<char>(m.type));
  out.push_back(static_cast<char>(m.status));
  return out;
}

std::optional<MemberRow> decode_member(const std::optional<std::string>& v) {
  if (!v || v->size() != 18) return std::nullopt;
  MemberRow m;
  m.user = keys::get_id(*v);
  m.type = static_cast<d::OrganizationUserType>(static_cast<std::int8_t>((*v)[16]));
  m.status = static_cast<d::OrganizationUserStatus>(static_cast<std::int8_t>((*v)[17]));
  return m;
}

std::optional<AccessKind> admin_kind(const MemberRow& m) {
  if (m.status != d::OrganizationUserStatus::kConfirmed || m.user.is_nil()) return std::nullopt;
  if (m.type == d::OrganizationUserType::kOwner) return AccessKind::kOwner;
  if (m.type == d::OrganizationUserType::kAdmin) return AccessKind::kAdmin;
  return std::nullopt;
}

class Folder {
 public:
  Folder(const ProjectedEvent& e, Rows& rows) : e_(e), rows_(rows) {}

  void open(const d::OrganizationId& org, const d::UserId& user, AccessKind kind) {
    std::string marker = key('G', {org, user});
    marker.push_back(static_cast<char>(kind));
    if (rows_.get(marker)) return;
    std::string from;
    keys::put_time(from, e_.at);
    rows_.put(marker, from);
    std::string interval = key('g', {org, user});
    interval.push_back(static_cast<char>(kind));
    interval.append(from);
    std::string until;
    keys::put_time(until, kOpen);
    rows_.put(interval, until);
  }

  void close(const d::OrganizationId& org, const d::UserId& user, AccessKind kind) {
    std::string marker = key('G', {org, user});
    marker.push_back(static_cast<char>(kind));
    auto from = rows_.get(marker);
    if (!from) return;
    rows_.del(marker);
    std::string interval = key('g', {org, user});
    interval.push_back(static_cast<char>(kind));
    interval.append(*from);
    std::string until;
    keys::put_time(until, e_.at);
    rows_.put(interval, until);
  }

  // Every id under a 1+16-byte prefix (the second id of 'P' and 'L' rows).
  std::vector<d::Uuid> ids_under(char tag, const d::Uuid& first) {
    std::vector<d::Uuid> out;
    rows_.scan(key(tag, {first}), [&](std::string_view k, std::string_view) {
      out.push_back(keys::get_id(k.substr(17)));
      return true;
    });
    return out;
  }

  void provider_user_confirmed(const d::ProviderId& p, const d::UserId& user) {
    rows_.put(key('P', {p, user}), "");
    for (const auto& org : ids_under('L', p)) open(org, user, AccessKind::kProviderUser);
  }
  void provider_user_removed(const d::ProviderId& p, const d::UserId& user) {
    if (!rows_.get(key('P', {p, user}))) return;
    rows_.del(key('P', {p, user}));
    for (const auto& org : ids_under('L', p)) close(org, user, AccessKind::kProviderUser);
  }
  void client_linked(const d::ProviderId& p, const d::OrganizationId& org) {
    rows_.put(key('L', {p, org}), "");
    for (const auto& user : ids_under('P', p)) open(org, user, AccessKind::kProviderUser);
  }
  void client_unlinked(const d::ProviderId& p, const d::OrganizationId& org) {
    rows_.del(key('L', {p, org}));
    for (const auto& user : ids_under('P', p)) close(org, user, AccessKind::kProviderUser);
  }

  // A member row changes: access follows the kind before and after.
  void member_changed(const d::OrganizationId& org, const d::OrganizationUserId& id,
                      const std::optional<MemberRow>& after) {
    const std::string k = key('m', {org, id});
    const std::optional<MemberRow> before = decode_member(rows_.get(k));
    // As ints (-1: none): GCC's optional<enum> comparisons trip -Wmaybe-uninitialized.
    const int kind_before = before && admin_kind(*before) ? static_cast<int>(*admin_kind(*before)) : -1;
    const int kind_after = after && admin_kind(*after) ? static_cast<int>(*admin_kind(*after)) : -1;
    if (kind_before >= 0 && kind_before != kind_after)
      close(org, before->user, static_cast<AccessKind>(kind_before));
    if (kind_after >= 0 && kind_after != kind_before)
      open(org, after->user, static_cast<AccessKind>(kind_after));
    if (after) {
      rows_.put(k, encode_member(*after));
    } else {
      rows_.del(k);
    }
  }
  std::optional<MemberRow> member(const d::OrganizationId& org, const d::OrganizationUserId& id) {
    return decode_member(rows_.get(key('m', {org, id})));
  }

  void acted(const d::ProviderId& p, const d::OrganizationId& org, const d::UserId& user) {
    const std::string hk = key('h', {p, org, user});
    Acted a{p, org, user, 0, e_.at, e_.at, {}};
    eventstore::CommandId last_command;
    if (auto v = rows_.get(hk)) {
      if (!decode_acted(*v, a, last_command)) a = Acted{p, org, user, 0, e_.at, e_.at, {}};
    }
    // A command is one action, however many events it records.
    if (a.commands == 0 || last_command != e_.command_id) ++a.commands;
    a.last = e_.at;
    a.last_action = std::string(e_.type);
    const std::string value = encode_acted(a, e_.command_id);
    rows_.put(hk, value);
    rows_.put(key('u', {user, p, org}), value);
  }

 private:
  const ProjectedEvent& e_;
  Rows& rows_;
};

}  // namespace

std::optional<std::string> AdminHistoryProjection::apply(const ProjectedEvent& e, Rows& rows) {
  Folder f(e, rows);
  const d::EventPayload& p = *e.payload;
  const Subjects s = subjects_of(e);
  const auto provider_stream = stream_id(e, "provider-");
  const auto org_stream = stream_id(e, "org-");

  switch (p.type) {
    case T::ProviderInvited: {
      const auto& x = *p.AsProviderInvited();
      if (!x.owner_user_id.is_nil()) f.provider_user_confirmed(x.provider_id, x.owner_user_id);
      break;
    }
    case T::ProviderUserConfirmed:
      if (provider_stream) f.provider_user_confirmed(*provider_stream, p.AsProviderUserConfirmed()->user_id);
      break;
    case T::ProviderUserRemoved: {
      const auto& x = *p.AsProviderUserRemoved();
      if (provider_stream && !x.user_id.is_nil()) f.provider_user_removed(*provider_stream, x.user_id);
      break;
    }
    case T::ProviderOrganizationCreated:
      if (provider_stream)
        f.client_linked(*provider_stream, p.AsProviderOrganizationCreated()->organization_id);
      break;
    case T::ProviderOrganizationAdded:
      if (provider_stream)
        f.client_linked(*provider_stream, p.AsProviderOrganizationAdded()->organization_id);
      break;
    case T::ProviderOrganizationRemoved:
      if (provider_stream)
        f.client_unlinked(*provider_stream, p.AsProviderOrganizationRemoved()->organization_id);
      break;
    case T::OrganizationCreated: {
      const auto& x = *p.AsOrganizationCreated();
      if (!x.owner_user_id.is_nil()) {
        f.member_changed(x.organization_id, x.owner_organization_user_id,
                         MemberRow{x.owner_user_id, d::OrganizationUserType::kOwner,
                                   d::OrganizationUserStatus::kConfirmed});
      } else if (!x.owner_organization_user_id.is_nil()) {
        f.member_changed(x.organization_id, x.owner_organization_user_id,
                         MemberRow{{}, d::OrganizationUserType::kOwner, d::OrganizationUserStatus::kInvited});
      }
      break;
    }
    case T::OrganizationUserInvited:
      if (org_stream) {
        const auto& x = *p.AsOrganizationUserInvited();
        f.member_changed(
            *org_stream, x.organization_user_id,
            MemberRow{{}, static_cast<d::OrganizationUserType>(x.type), d::OrganizationUserStatus::kInvited});
      }
      break;
    case T::OrganizationUserAccepted:
      if (org_stream) {
        const auto& x = *p.AsOrganizationUserAccepted();
        if (auto m = f.member(*org_stream, x.organization_user_id)) {
          m->user = x.user_id;
          m->status = d::OrganizationUserStatus::kAccepted;
          f.member_changed(*org_stream, x.organization_user_id, m);
        }
      }
      break;
    case T::OrganizationUserConfirmed:
      if (org_stream) {
        const auto& x = *p.AsOrganizationUserConfirmed();
        if (auto m = f.member(*org_stream, x.organization_user_id)) {
          m->status = d::OrganizationUserStatus::kConfirmed;
          f.member_changed(*org_stream, x.organization_user_id, m);
        }
      }
      break;
    case T::OrganizationUserUpdated:
      if (org_stream) {
        const auto& x = *p.AsOrganizationUserUpdated();
        if (auto m = f.member(*org_stream, x.organization_user_id)) {
          m->type = static_cast<d::OrganizationUserType>(x.type);
          f.member_changed(*org_stream, x.organization_user_id, m);
        }
      }
      break;
    case T::OrganizationUserRevoked:
      if (org_stream) {
        const auto id = p.AsOrganizationUserRevoked()->organization_user_id;
        if (auto m = f.member(*org_stream, id)) {
          m->status = d::OrganizationUserStatus::kRevoked;
          f.member_changed(*org_stream, id, m);
        }
      }
      break;
    case T::OrganizationUserRestored:
      if (org_stream) {
        const auto& x = *p.AsOrganizationUserRestored();
        if (auto m = f.member(*org_stream, x.organization_user_id)) {
          m->status = static_cast<d::OrganizationUserStatus>(x.status);
          f.member_changed(*org_stream, x.organization_user_id, m);
        }
      }
      break;
    case T::OrganizationUserRemoved:
      if (org_stream)
        f.member_changed(*org_stream, p.AsOrganizationUserRemoved()->organization_user_id, std::nullopt);
      break;
    default: break;
  }

  // Acting on a client through the provider: an organization's event (or an item's)
  // whose actor acted as a provider user.
  const d::RecordedActor& actor = *e.actor;
  if (actor.acting_as == static_cast<std::int8_t>(d::ActingAs::kProviderUser) &&
      !actor.provider_id.is_nil() && !actor.user_id.is_nil() && s.organization && !provider_stream) {
    f.acted(actor.provider_id, *s.organization, actor.user_id);
  }
  return std::nullopt;
}

namespace {
std::vector<Acted> acted_rows(const ProjectionDb& db, char tag, const d::Uuid& id) {
  std::vector<Acted> out;
  db.read_serving(AdminHistoryProjection::kName, [&](std::uint64_t gen) {
    out.clear();
    db.scan(AdminHistoryProjection::kName, gen, key(tag, {id}), [&](std::string_view k, std::string_view v) {
      Acted a;
      eventstore::CommandId ignored;
      if (!decode_acted(v, a, ignored)) return true;
      const d::Uuid second = keys::get_id(k.substr(17)), third = keys::get_id(k.substr(33));
      if (tag == 'h') {
        a.provider_id = id;
        a.organization_id = second;
        a.user_id = third;
      } else {
        a.user_id = id;
        a.provider_id = second;
        a.organization_id = third;
      }
      out.push_back(std::move(a));
      return true;
    });
  });
  return out;
}
}  // namespace

std::vector<Acted> acted_for_provider(const ProjectionDb& db, const d::ProviderId& provider) {
  return acted_rows(db, 'h', provider);
}

std::vector<Acted> acted_by_user(const ProjectionDb& db, const d::UserId& user) {
  return acted_rows(db, 'u', user);
}

std::vector<AccessInterval> access_history(const ProjectionDb& db, const d::OrganizationId& org) {
  std::vector<AccessInterval> out;
  db.read_serving(AdminHistoryProjection::kName, [&](std::uint64_t gen) {
    out.clear();
    db.scan(AdminHistoryProjection::kName, gen, key('g', {org}), [&](std::string_view k, std::string_view v) {
      if (k.size() != 1 + 16 + 16 + 1 + 8 || v.size() != 8) return true;
      AccessInterval i;
      i.user_id = keys::get_id(k.substr(17));
      i.kind = static_cast<AccessKind>(static_cast<std::uint8_t>(k[33]));
      i.from = keys::get_time(k.substr(34));
      i.until = keys::get_time(v);
      out.push_back(i);
      return true;
    });
  });
  return out;
}

std::vector<AccessInterval> administrators_at(const ProjectionDb& db, const d::OrganizationId& org,
                                              std::int64_t at) {
  std::vector<AccessInterval> out;
  for (const auto& i : access_history(db, org))
    if (i.from <= at && at < i.until) out.push_back(i);
  return out;
}

}  // namespace portal::projections
