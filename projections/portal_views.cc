#include "portal/projections/portal_views.h"

#include <algorithm>
#include <map>
#include <set>

#include "keys.h"
#include "subjects.h"

namespace portal::projections {

namespace d = portal::domain;
using T = d::fb::EventPayload;

d::Uuid to_uuid(const fb::Id& id) {
  d::Uuid out;
  std::copy_n(id.b()->Data(), 16, out.bytes.begin());
  return out;
}

fb::Id to_id(const d::Uuid& id) {
  return fb::Id(flatbuffers::span<const std::uint8_t, 16>(id.bytes));
}

namespace {

std::string key(char tag, std::initializer_list<d::Uuid> ids) {
  std::string k(1, tag);
  for (const d::Uuid& id : ids) keys::put_id(k, id);
  return k;
}

std::string policy_key(const d::OrganizationId& org, std::int16_t type) {
  std::string k = key('Y', {org});
  k.push_back(static_cast<char>(static_cast<std::uint16_t>(type) >> 8));
  k.push_back(static_cast<char>(type));
  return k;
}

template <class Obj>
std::string pack(const Obj& obj) {
  flatbuffers::FlatBufferBuilder fbb(256);
  fbb.Finish(Obj::TableType::Pack(fbb, &obj));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

template <class Obj>
std::optional<Obj> unpack(std::string_view bytes) {
  std::string aligned(bytes);
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(aligned.data()), aligned.size());
  if (!verifier.VerifyBuffer<typename Obj::TableType>(nullptr)) return std::nullopt;
  Obj out;
  flatbuffers::GetRoot<typename Obj::TableType>(aligned.data())->UnPackTo(&out);
  return out;
}

template <class Obj>
std::optional<Obj> load(Rows& rows, const std::string& k) {
  auto v = rows.get(k);
  if (!v) return std::nullopt;
  return unpack<Obj>(*v);
}

template <class Obj>
void save(Rows& rows, const std::string& k, const Obj& obj) {
  rows.put(k, pack(obj));
}

std::vector<fb::Access> access_of(const std::vector<d::fb::CollectionAccess>& in) {
  std::vector<fb::Access> out;
  for (const auto& a : in)
    out.emplace_back(to_id(flatbuffers::UnPack(a.id())), a.read_only(), a.hide_passwords(), a.manage());
  return out;
}

std::vector<fb::Id> ids_of(const std::vector<d::Uuid>& in) {
  std::vector<fb::Id> out;
  for (const auto& id : in) out.push_back(to_id(id));
  return out;
}

// Deletes every row under a prefix.
void drop_prefix(Rows& rows, const std::string& prefix) {
  std::vector<std::string> doomed;
  rows.scan(prefix, [&](std::string_view k, std::string_view) {
    doomed.emplace_back(k);
    return true;
  });
  for (const auto& k : doomed) rows.del(k);
}

// --- directory -----------------------------------------------------------------------

void apply_directory(const ProjectedEvent& e, const d::ProviderId& p, Rows& rows) {
  const d::EventPayload& x = *e.payload;
  const std::string pk = key('P', {p});
  auto provider = [&](auto&& change) {
    auto row = load<fb::ProviderRowT>(rows, pk);
    if (!row) return;
    change(*row);
    save(rows, pk, *row);
  };
  auto user = [&](const d::ProviderUserId& id, auto&& change) {
    const std::string uk = key('U', {p, id});
    auto row = load<fb::ProviderUserRowT>(rows, uk);
    if (!row) return;
    change(*row);
    save(rows, uk, *row);
  };
  auto client = [&](const d::OrganizationId& org, const d::ProviderOrganizationId& link,
                    const std::string& name, std::int16_t plan, std::int32_t seats) {
    fb::ClientRowT c;
    if (auto existing = load<fb::ClientRowT>(rows, key('C', {p, org}))) c = *existing;
    c.provider_organization_id = std::make_unique<fb::Id>(to_id(link));
    c.organization_id = std::make_unique<fb::Id>(to_id(org));
    c.name = name;
    if (plan >= 0) c.plan = plan;
    c.seats = seats;
    if (c.creation_date == 0) c.creation_date = e.at;
    save(rows, key('C', {p, org}), c);
  };
  switch (x.type) {
    case T::ProviderInvited: {
      const auto& v = *x.AsProviderInvited();
      fb::ProviderRowT row;
      row.id = std::make_unique<fb::Id>(to_id(p));
      row.type = v.type;
      row.status = v.status;
      row.creation_date = e.at;
      save(rows, pk, row);
      if (!v.owner_user_id.is_nil()) {
        fb::ProviderUserRowT u;
        u.id = std::make_unique<fb::Id>(to_id(v.owner_provider_user_id));
        u.user_id = std::make_unique<fb::Id>(to_id(v.owner_user_id));
        u.email = d::lower(v.owner_email);
        u.type = static_cast<std::int8_t>(d::ProviderUserType::kProviderAdmin);
        u.status = static_cast<std::int8_t>(d::ProviderUserStatus::kConfirmed);
        save(rows, key('U', {p, v.owner_provider_user_id}), u);
      }
      break;
    }
    case T::ProviderSetUp: {
      const auto& v = *x.AsProviderSetUp();
      provider([&](fb::ProviderRowT& r) {
        r.name = v.name;
        r.business_name = v.business_name;
        r.billing_email = v.billing_email;
        r.status = v.status;
      });
      break;
    }
    case T::ProviderUpdated: {
      const auto& v = *x.AsProviderUpdated();
      provider([&](fb::ProviderRowT& r) {
        r.name = v.name;
        r.business_name = v.business_name;
        r.billing_email = v.billing_email;
      });
      break;
    }
    case T::ProviderEnabled: provider([](fb::ProviderRowT& r) { r.enabled = true; }); break;
    case T::ProviderDisabled: provider([](fb::ProviderRowT& r) { r.enabled = false; }); break;
    case T::ProviderDeleted:
      rows.del(pk);
      drop_prefix(rows, key('U', {p}));
      drop_prefix(rows, key('C', {p}));
      break;
    case T::ProviderUserInvited: {
      const auto& v = *x.AsProviderUserInvited();
      fb::ProviderUserRowT u;
      u.id = std::make_unique<fb::Id>(to_id(v.provider_user_id));
      u.user_id = std::make_unique<fb::Id>(to_id(d::Uuid{}));
      u.email = v.email;
      u.type = v.type;
      u.status = static_cast<std::int8_t>(d::ProviderUserStatus::kInvited);
      save(rows, key('U', {p, v.provider_user_id}), u);
      break;
    }
    case T::ProviderUserAccepted: {
      const auto& v = *x.AsProviderUserAccepted();
      user(v.provider_user_id, [&](fb::ProviderUserRowT& u) {
        u.user_id = std::make_unique<fb::Id>(to_id(v.user_id));
        u.status = static_cast<std::int8_t>(d::ProviderUserStatus::kAccepted);
      });
      break;
    }
    case T::ProviderUserConfirmed:
      user(x.AsProviderUserConfirmed()->provider_user_id, [](fb::ProviderUserRowT& u) {
        u.status = static_cast<std::int8_t>(d::ProviderUserStatus::kConfirmed);
      });
      break;
    case T::ProviderUserUpdated: {
      const auto& v = *x.AsProviderUserUpdated();
      user(v.provider_user_id, [&](fb::ProviderUserRowT& u) { u.type = v.type; });
      break;
    }
    case T::ProviderUserRemoved: rows.del(key('U', {p, x.AsProviderUserRemoved()->provider_user_id})); break;
    case T::ProviderOrganizationCreated: {
      const auto& v = *x.AsProviderOrganizationCreated();
      client(v.organization_id, v.provider_organization_id, v.name, v.plan, v.seats);
      break;
    }
    case T::ProviderOrganizationAdded: {
      const auto& v = *x.AsProviderOrganizationAdded();
      client(v.organization_id, v.provider_organization_id, v.name, v.plan, v.seats);
      break;
    }
    case T::ProviderOrganizationUpdated: {
      const auto& v = *x.AsProviderOrganizationUpdated();
      client(v.organization_id, v.provider_organization_id, v.name, -1, v.seats);
      break;
    }
    case T::ProviderOrganizationRemoved:
      rows.del(key('C', {p, x.AsProviderOrganizationRemoved()->organization_id}));
      break;
    default: break;
  }
}

// --- console ----------------------------------------------------------------------------

class Console {
 public:
  Console(const ProjectedEvent& e, Rows& rows) : e_(e), rows_(rows) {}

  void organization_event(const d::OrganizationId& org) {
    const d::EventPayload& x = *e_.payload;
    switch (x.type) {
      case T::OrganizationCreated: {
        const auto& v = *x.AsOrganizationCreated();
        fb::OrganizationRowT o;
        o.id = id(org);
        o.name = v.name;
        o.plan = v.plan;
        o.seats = v.seats;
        o.status = v.status;
        o.billing_email = v.billing_email;
        o.provider_id = id(v.provider_id);
        o.provider_organization_id = id(v.provider_organization_id);
        o.creation_date = e_.at;
        save(rows_, key('O', {org}), o);
        if (!v.owner_user_id.is_nil()) {
          fb::MemberRowT m;
          m.id = id(v.owner_organization_user_id);
          m.user_id = id(v.owner_user_id);
          m.email = d::lower(v.owner_email);
          m.type = static_cast<std::int8_t>(d::OrganizationUserType::kOwner);
          m.status = static_cast<std::int8_t>(d::OrganizationUserStatus::kConfirmed);
          save(rows_, key('M', {org, v.owner_organization_user_id}), m);
          recount(org);
        }
        break;
      }
      case T::OrganizationUpdated: {
        const auto& v = *x.AsOrganizationUpdated();
        org_row(org, [&](fb::OrganizationRowT& o) {
          o.name = v.name;
          o.seats = v.seats;
        });
        break;
      }
      case T::OrganizationProviderLinked: {
        const auto& v = *x.AsOrganizationProviderLinked();
        org_row(org, [&](fb::OrganizationRowT& o) {
          o.provider_id = id(v.provider_id);
          o.provider_organization_id = id(v.provider_organization_id);
          o.billing_email = v.billing_email;
          o.status = static_cast<std::int8_t>(d::OrganizationStatus::kManaged);
        });
        break;
      }
      case T::OrganizationProviderUnlinked: {
        const auto& v = *x.AsOrganizationProviderUnlinked();
        org_row(org, [&](fb::OrganizationRowT& o) {
          o.provider_id = id(d::Uuid{});
          o.provider_organization_id = id(d::Uuid{});
          o.billing_email = v.billing_email;
          o.status = static_cast<std::int8_t>(d::OrganizationStatus::kCreated);
        });
        break;
      }
      case T::OrganizationEnabled: org_row(org, [](fb::OrganizationRowT& o) { o.enabled = true; }); break;
      case T::OrganizationDisabled: org_row(org, [](fb::OrganizationRowT& o) { o.enabled = false; }); break;
      case T::OrganizationUserInvited: {
        const auto& v = *x.AsOrganizationUserInvited();
        fb::MemberRowT m;
        m.id = id(v.organization_user_id);
        m.user_id = id(d::Uuid{});
        m.email = v.email;
        m.type = v.type;
        m.status = static_cast<std::int8_t>(d::OrganizationUserStatus::kInvited);
        set_permissions(m, v.permissions);
        save(rows_, key('M', {org, v.organization_user_id}), m);
        for (const auto& a : v.collections) {
          const d::CollectionId cid = flatbuffers::UnPack(a.id());
          collection(org, cid, [&](fb::CollectionRowT& c) {
            c.users.emplace_back(to_id(v.organization_user_id), a.read_only(), a.hide_passwords(),
                                 a.manage());
          });
        }
        for (const auto& g : v.groups)
          group(org, g, [&](fb::GroupRowT& row) { row.members.push_back(to_id(v.organization_user_id)); });
        recount(org);
        break;
      }
      case T::OrganizationUserAccepted: {
        const auto& v = *x.AsOrganizationUserAccepted();
        member(org, v.organization_user_id, [&](fb::MemberRowT& m) {
          m.user_id = id(v.user_id);
          m.status = static_cast<std::int8_t>(d::OrganizationUserStatus::kAccepted);
        });
        break;
      }
      case T::OrganizationUserConfirmed:
        member(org, x.AsOrganizationUserConfirmed()->organization_user_id, [](fb::MemberRowT& m) {
          m.status = static_cast<std::int8_t>(d::OrganizationUserStatus::kConfirmed);
        });
        recount(org);
        break;
      case T::OrganizationUserUpdated: {
        const auto& v = *x.AsOrganizationUserUpdated();
        member(org, v.organization_user_id, [&](fb::MemberRowT& m) {
          m.type = v.type;
          set_permissions(m, v.permissions);
        });
        break;
      }
      case T::OrganizationUserRevoked:
        member(org, x.AsOrganizationUserRevoked()->organization_user_id, [](fb::MemberRowT& m) {
          m.status = static_cast<std::int8_t>(d::OrganizationUserStatus::kRevoked);
        });
        recount(org);
        break;
      case T::OrganizationUserRestored: {
        const auto& v = *x.AsOrganizationUserRestored();
        member(org, v.organization_user_id, [&](fb::MemberRowT& m) { m.status = v.status; });
        recount(org);
        break;
      }
      case T::OrganizationUserRemoved: {
        const d::OrganizationUserId gone = x.AsOrganizationUserRemoved()->organization_user_id;
        rows_.del(key('M', {org, gone}));
        for_each<fb::GroupRowT>(key('G', {org}), [&](const std::string& k, fb::GroupRowT& g) {
          const auto before = g.members.size();
          std::erase_if(g.members, [&](const fb::Id& m) { return to_uuid(m) == gone; });
          if (g.members.size() != before) save(rows_, k, g);
        });
        for_each<fb::CollectionRowT>(key('K', {org}), [&](const std::string& k, fb::CollectionRowT& c) {
          const auto before = c.users.size();
          std::erase_if(c.users, [&](const fb::Access& a) { return to_uuid(a.id()) == gone; });
          if (c.users.size() != before) save(rows_, k, c);
        });
        recount(org);
        break;
      }
      case T::GroupCreated: {
        const auto& v = *x.AsGroupCreated();
        fb::GroupRowT g;
        g.id = id(v.group_id);
        g.name = v.name;
        save(rows_, key('G', {org, v.group_id}), g);
        break;
      }
      case T::GroupUpdated: {
        const auto& v = *x.AsGroupUpdated();
        group(org, v.group_id, [&](fb::GroupRowT& g) { g.name = v.name; });
        break;
      }
      case T::GroupMembersSet: {
        const auto& v = *x.AsGroupMembersSet();
        group(org, v.group_id, [&](fb::GroupRowT& g) { g.members = ids_of(v.members); });
        break;
      }
      case T::GroupDeleted: {
        const d::GroupId gone = x.AsGroupDeleted()->group_id;
        rows_.del(key('G', {org, gone}));
        for_each<fb::CollectionRowT>(key('K', {org}), [&](const std::string& k, fb::CollectionRowT& c) {
          const auto before = c.groups.size();
          std::erase_if(c.groups, [&](const fb::Access& a) { return to_uuid(a.id()) == gone; });
          if (c.groups.size() != before) save(rows_, k, c);
        });
        break;
      }
      case T::CollectionCreated: {
        const auto& v = *x.AsCollectionCreated();
        fb::CollectionRowT c;
        c.id = id(v.collection_id);
        c.name = v.name;
        c.groups = access_of(v.groups);
        c.users = access_of(v.users);
        save(rows_, key('K', {org, v.collection_id}), c);
        break;
      }
      case T::CollectionUpdated: {
        const auto& v = *x.AsCollectionUpdated();
        collection(org, v.collection_id, [&](fb::CollectionRowT& c) {
          c.name = v.name;
          c.groups = access_of(v.groups);
          c.users = access_of(v.users);
        });
        break;
      }
      case T::CollectionDeleted: rows_.del(key('K', {org, x.AsCollectionDeleted()->collection_id})); break;
      case T::PolicyUpdated: {
        const auto& v = *x.AsPolicyUpdated();
        fb::PolicyRowT row;
        row.type = v.type;
        row.enabled = v.enabled;
        row.data = v.data;
        save(rows_, policy_key(org, v.type), row);
        break;
      }
      default: break;
    }
  }

  void user_event(const d::UserId& user) {
    const d::EventPayload& x = *e_.payload;
    if (const auto* j = x.AsUserJoinedOrganization()) rows_.put(key('J', {user, j->organization_id}), "");
    if (const auto* l = x.AsUserLeftOrganization()) rows_.del(key('J', {user, l->organization_id}));
  }

  void item_event(const d::ItemId& item) {
    const d::EventPayload& x = *e_.payload;
    const std::string ik = key('I', {item});
    if (x.type == T::CipherCreated) {
      const auto& v = *x.AsCipherCreated();
      fb::ItemRowT row;
      row.id = id(item);
      row.type = v.type;
      row.owner = id(v.user_id);
      row.organization_id = id(v.organization_id);
      row.collection_ids = ids_of(v.collection_ids);
      row.name = v.name;
      row.notes = v.notes;
      set_fields(row, v.fields);
      row.creation_date = row.revision_date = e_.at;
      save(rows_, ik, row);
      index_item(row, true);
      return;
    }
    auto row = load<fb::ItemRowT>(rows_, ik);
    if (!row) return;
    switch (x.type) {
      case T::CipherUpdated: {
        const auto& v = *x.AsCipherUpdated();
        row->name = v.name;
        row->notes = v.notes;
        set_fields(*row, v.fields);
        break;
      }
      case T::CipherSoftDeleted: row->deleted_at = e_.at; break;
      case T::CipherRestored: row->deleted_at = 0; break;
      case T::CipherDeleted:
        index_item(*row, false);
        rows_.del(ik);
        return;
      case T::CipherShared: {
        const auto& v = *x.AsCipherShared();
        index_item(*row, false);
        row->owner = id(d::Uuid{});
        row->organization_id = id(v.organization_id);
        row->collection_ids = ids_of(v.collection_ids);
        row->name = v.name;
        row->notes = v.notes;
        set_fields(*row, v.fields);
        index_item(*row, true);
        break;
      }
      case T::CipherCollectionsUpdated:
        index_item(*row, false);
        row->collection_ids = ids_of(x.AsCipherCollectionsUpdated()->collection_ids);
        index_item(*row, true);
        break;
      default: return;
    }
    row->revision_date = e_.at;
    save(rows_, ik, *row);
  }

 private:
  static std::unique_ptr<fb::Id> id(const d::Uuid& u) { return std::make_unique<fb::Id>(to_id(u)); }

  static void set_permissions(fb::MemberRowT& m, const d::fb::Permissions& p) {
    m.manage_users = p.manage_users();
    m.manage_groups = p.manage_groups();
    m.manage_policies = p.manage_policies();
    m.create_new_collections = p.create_new_collections();
    m.edit_any_collection = p.edit_any_collection();
    m.delete_any_collection = p.delete_any_collection();
    m.access_event_logs = p.access_event_logs();
  }

  static void set_fields(fb::ItemRowT& row, const std::vector<std::unique_ptr<d::fb::CipherFieldT>>& fields) {
    row.field_names.clear();
    row.field_values.clear();
    for (const auto& f : fields) {
      if (!f) continue;
      row.field_names.push_back(f->name);
      row.field_values.push_back(f->value);
    }
  }

  void index_item(const fb::ItemRowT& row, bool add) {
    const d::Uuid item = to_uuid(*row.id), org = to_uuid(*row.organization_id), owner = to_uuid(*row.owner);
    auto set = [&](const std::string& k) { add ? rows_.put(k, "") : rows_.del(k); };
    if (!org.is_nil()) {
      set(key('B', {org, item}));
      for (const auto& c : row.collection_ids) set(key('X', {org, to_uuid(c), item}));
    } else if (!owner.is_nil()) {
      set(key('Q', {owner, item}));
    }
  }

  template <class Obj, class F>
  void for_each(const std::string& prefix, F f) {
    std::vector<std::pair<std::string, std::string>> found;
    rows_.scan(prefix, [&](std::string_view k, std::string_view v) {
      found.emplace_back(k, v);
      return true;
    });
    for (auto& [k, v] : found) {
      if (auto obj = unpack<Obj>(v)) f(k, *obj);
    }
  }

  template <class Obj, class F>
  void change(const std::string& k, F f) {
    auto row = load<Obj>(rows_, k);
    if (!row) return;
    f(*row);
    save(rows_, k, *row);
  }
  template <class F>
  void org_row(const d::OrganizationId& org, F f) {
    change<fb::OrganizationRowT>(key('O', {org}), f);
  }
  template <class F>
  void member(const d::OrganizationId& org, const d::OrganizationUserId& m, F f) {
    change<fb::MemberRowT>(key('M', {org, m}), f);
  }
  template <class F>
  void group(const d::OrganizationId& org, const d::GroupId& g, F f) {
    change<fb::GroupRowT>(key('G', {org, g}), f);
  }
  template <class F>
  void collection(const d::OrganizationId& org, const d::CollectionId& c, F f) {
    change<fb::CollectionRowT>(key('K', {org, c}), f);
  }

  // Occupied seats (invited, accepted, confirmed) and confirmed members.
  void recount(const d::OrganizationId& org) {
    int occupied = 0, confirmed = 0;
    for_each<fb::MemberRowT>(key('M', {org}), [&](const std::string&, fb::MemberRowT& m) {
      const auto status = static_cast<d::OrganizationUserStatus>(m.status);
      if (status != d::OrganizationUserStatus::kRevoked) ++occupied;
      if (status == d::OrganizationUserStatus::kConfirmed) ++confirmed;
    });
    org_row(org, [&](fb::OrganizationRowT& o) {
      o.occupied_seats = occupied;
      o.user_count = confirmed;
    });
  }

  const ProjectedEvent& e_;
  Rows& rows_;
};

// --- queries --------------------------------------------------------------------------------

template <class Obj>
std::vector<Obj> rows_under(const ProjectionDb& db, const char* name, const std::string& prefix) {
  std::vector<Obj> out;
  db.read_serving(name, [&](std::uint64_t gen) {
    out.clear();
    db.scan(name, gen, prefix, [&](std::string_view, std::string_view v) {
      if (auto obj = unpack<Obj>(v)) out.push_back(std::move(*obj));
      return true;
    });
  });
  return out;
}

template <class Obj>
std::optional<Obj> row_at(const ProjectionDb& db, const char* name, const std::string& k) {
  std::optional<std::string> v;
  db.read_serving(name, [&](std::uint64_t gen) { v = db.get(name, gen, k); });
  if (!v) return std::nullopt;
  return unpack<Obj>(*v);
}

std::vector<d::Uuid> trailing_ids(const ProjectionDb& db, const char* name, const std::string& prefix) {
  std::vector<d::Uuid> out;
  db.read_serving(name, [&](std::uint64_t gen) {
    out.clear();
    db.scan(name, gen, prefix, [&](std::string_view k, std::string_view) {
      out.push_back(keys::get_id(k.substr(k.size() - 16)));
      return true;
    });
  });
  return out;
}

}  // namespace

std::optional<std::string> DirectoryProjection::apply(const ProjectedEvent& event, Rows& rows) {
  if (auto p = stream_id(event, "provider-")) apply_directory(event, *p, rows);
  return std::nullopt;
}

std::optional<std::string> ConsoleProjection::apply(const ProjectedEvent& event, Rows& rows) {
  Console console(event, rows);
  if (auto org = stream_id(event, "org-")) {
    console.organization_event(*org);
  } else if (auto item = stream_id(event, "item-")) {
    console.item_event(*item);
  } else if (auto user = stream_id(event, "user-")) {
    console.user_event(*user);
  }
  return std::nullopt;
}

std::optional<fb::ProviderRowT> provider_row(const ProjectionDb& db, const d::ProviderId& id) {
  return row_at<fb::ProviderRowT>(db, DirectoryProjection::kName, key('P', {id}));
}

std::vector<fb::ProviderUserRowT> provider_users(const ProjectionDb& db, const d::ProviderId& id) {
  return rows_under<fb::ProviderUserRowT>(db, DirectoryProjection::kName, key('U', {id}));
}

std::vector<ClientView> provider_clients(const ProjectionDb& db, const d::ProviderId& id) {
  std::vector<ClientView> out;
  for (auto& c : rows_under<fb::ClientRowT>(db, DirectoryProjection::kName, key('C', {id}))) {
    ClientView v;
    v.organization = organization_row(db, to_uuid(*c.organization_id));
    v.client = std::move(c);
    out.push_back(std::move(v));
  }
  return out;
}

std::optional<fb::OrganizationRowT> organization_row(const ProjectionDb& db, const d::OrganizationId& id) {
  return row_at<fb::OrganizationRowT>(db, ConsoleProjection::kName, key('O', {id}));
}
std::vector<fb::MemberRowT> organization_members(const ProjectionDb& db, const d::OrganizationId& id) {
  return rows_under<fb::MemberRowT>(db, ConsoleProjection::kName, key('M', {id}));
}
std::vector<fb::GroupRowT> organization_groups(const ProjectionDb& db, const d::OrganizationId& id) {
  return rows_under<fb::GroupRowT>(db, ConsoleProjection::kName, key('G', {id}));
}
std::vector<fb::CollectionRowT> organization_collections(const ProjectionDb& db,
                                                         const d::OrganizationId& id) {
  return rows_under<fb::CollectionRowT>(db, ConsoleProjection::kName, key('K', {id}));
}
std::vector<fb::PolicyRowT> organization_policies(const ProjectionDb& db, const d::OrganizationId& id) {
  return rows_under<fb::PolicyRowT>(db, ConsoleProjection::kName, key('Y', {id}));
}

std::vector<VaultItem> vault_for_user(const ProjectionDb& db, const d::UserId& user) {
  const char* name = ConsoleProjection::kName;
  std::vector<VaultItem> out;
  for (const d::ItemId& item : trailing_ids(db, name, key('Q', {user}))) {
    if (auto row = row_at<fb::ItemRowT>(db, name, key('I', {item})))
      out.push_back({std::move(*row), true, true, false});
  }
  // Organization items: the rights of domain::item_rights, from the console rows.
  for (const d::OrganizationId& org : trailing_ids(db, name, key('J', {user}))) {
    auto o = organization_row(db, org);
    if (!o || !o->enabled) continue;
    std::optional<fb::MemberRowT> me;
    for (auto& m : organization_members(db, org)) {
      if (m.user_id && to_uuid(*m.user_id) == user) me = std::move(m);
    }
    if (!me || me->status != static_cast<std::int8_t>(d::OrganizationUserStatus::kConfirmed)) continue;
    const auto type = static_cast<d::OrganizationUserType>(me->type);
    const bool all = type == d::OrganizationUserType::kOwner || type == d::OrganizationUserType::kAdmin ||
                     (type == d::OrganizationUserType::kCustom && me->edit_any_collection);
    // fb::Id's generated == compares array addresses, not bytes: compare as Uuids.
    const d::Uuid my_id = to_uuid(*me->id);
    std::map<d::ItemId, VaultItem> seen;
    if (all) {
      for (const d::ItemId& item : trailing_ids(db, name, key('B', {org})))
        seen[item] = {{}, true, true, false};
    } else {
      std::set<d::Uuid> my_groups;
      for (const auto& g : organization_groups(db, org)) {
        if (std::any_of(g.members.begin(), g.members.end(),
                        [&](const fb::Id& m) { return to_uuid(m) == my_id; }))
          my_groups.insert(to_uuid(*g.id));
      }
      for (const auto& c : organization_collections(db, org)) {
        std::optional<VaultItem> grant;
        auto add = [&](const fb::Access& a) {
          if (!grant) {
            grant = VaultItem{{}, !a.read_only(), a.manage(), a.hide_passwords()};
            return;
          }
          grant->edit = grant->edit || !a.read_only();
          grant->manage = grant->manage || a.manage();
          grant->hide_passwords = grant->hide_passwords && a.hide_passwords();
        };
        for (const auto& a : c.users)
          if (to_uuid(a.id()) == my_id) add(a);
        for (const auto& a : c.groups)
          if (my_groups.count(to_uuid(a.id()))) add(a);
        if (!grant) continue;
        for (const d::ItemId& item : trailing_ids(db, name, key('X', {org, to_uuid(*c.id)}))) {
          auto [it, fresh] = seen.try_emplace(item, *grant);
          if (!fresh) {
            it->second.edit = it->second.edit || grant->edit;
            it->second.manage = it->second.manage || grant->manage;
            it->second.hide_passwords = it->second.hide_passwords && grant->hide_passwords;
          }
        }
      }
    }
    for (auto& [item, rights] : seen) {
      if (auto row = row_at<fb::ItemRowT>(db, name, key('I', {item}))) {
        rights.item = std::move(*row);
        out.push_back(std::move(rights));
      }
    }
  }
  return out;
}

}  // namespace portal::projections
