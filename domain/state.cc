#include "portal/domain/state.h"

#include <algorithm>

namespace portal::domain {

using T = fb::EventPayload;

namespace {

template <class Vec, class Pred>
auto find_in(Vec& v, Pred pred) -> decltype(&v.front()) {
  auto it = std::find_if(v.begin(), v.end(), pred);
  return it == v.end() ? nullptr : &*it;
}

std::map<PlanType, int> seat_map(const std::vector<fb::PlanSeatMinimum>& minimums) {
  std::map<PlanType, int> out;
  for (const auto& m : minimums) out[static_cast<PlanType>(m.plan())] = m.seat_minimum();
  return out;
}

template <class Level, class Elements>
std::shared_ptr<const Level> index_level(const Elements& elements, std::size_t from, std::size_t to) {
  auto level = std::make_shared<Level>();
  level->from = from;
  level->to = to;
  level->reserve(to - from);
  for (std::size_t i = from; i < to; ++i) level->add(elements[i], static_cast<std::uint32_t>(i));
  return level;
}

// Brings `index` up to date with `elements` (see LeveledIndex).
template <class Level, class Elements>
void update_index(std::shared_ptr<const LeveledIndex<Level>>& index, const Elements& elements) {
  using Index = LeveledIndex<Level>;
  if (index != nullptr && index->covered() > elements.size()) index = nullptr;  // elements removed
  const std::size_t covered = index != nullptr ? index->covered() : 0;
  if (elements.size() == covered || (index != nullptr && elements.size() - covered < Index::kTail)) return;
  auto updated = std::make_shared<Index>();
  if (index != nullptr) updated->levels = index->levels;
  auto& levels = updated->levels;
  levels.push_back(index_level<Level>(elements, covered, elements.size()));
  auto size = [](const auto& level) { return level->to - level->from; };
  while (levels.size() >= 2 && size(levels.back()) * Index::kMergeRatio >= size(levels[levels.size() - 2])) {
    const std::size_t from = levels[levels.size() - 2]->from, to = levels.back()->to;
    levels.pop_back();
    levels.back() = index_level<Level>(elements, from, to);
  }
  index = std::move(updated);
}

// The index's answer if it is one (checked against the element it names), else a
// scan of the elements it does not cover (all of them without an index).
template <class Level, class Elements, class Map, class Key, class Match>
std::optional<std::size_t> indexed_position(const std::shared_ptr<const LeveledIndex<Level>>& index,
                                            const Elements& elements, const Map Level::*map, const Key& key,
                                            Match match) {
  std::size_t from = 0;
  if (index != nullptr && index->covered() <= elements.size()) {
    for (const auto& level : index->levels) {
      const Map& m = (*level).*map;
      if (auto it = m.find(key);
          it != m.end() && it->second < elements.size() && match(elements[it->second])) {
        return it->second;
      }
    }
    from = index->covered();
  }
  for (std::size_t i = from; i < elements.size(); ++i)
    if (match(elements[i])) return i;
  return std::nullopt;
}

}  // namespace

void ProviderUserLevel::add(const ProviderUser& u, std::uint32_t position) {
  by_email.emplace(u.email, position);
  by_id.emplace(u.id, position);
}

void ClientLinkLevel::add(const ClientLink& c, std::uint32_t position) {
  by_id.emplace(c.id, position);
  by_organization.emplace(c.organization_id, position);
}

void ProviderState::index() {
  update_index(user_index, users);
  update_index(client_index, clients);
}

std::optional<std::size_t> ProviderState::user_position(const ProviderUserId& id) const {
  return indexed_position(user_index, users, &ProviderUserLevel::by_id, id,
                          [&](const ProviderUser& u) { return u.id == id; });
}
std::optional<std::size_t> ProviderState::client_position(const ProviderOrganizationId& id) const {
  return indexed_position(client_index, clients, &ClientLinkLevel::by_id, id,
                          [&](const ClientLink& c) { return c.id == id; });
}

const ProviderUser* ProviderState::user(const ProviderUserId& id) const {
  const auto i = user_position(id);
  return i ? &users[*i] : nullptr;
}
const ProviderUser* ProviderState::user_by_user_id(const UserId& user_id) const {
  return find_in(users, [&](const ProviderUser& u) { return u.user_id == user_id; });
}
const ProviderUser* ProviderState::user_by_email(std::string_view lower_email) const {
  const auto i = indexed_position(user_index, users, &ProviderUserLevel::by_email, lower_email,
                                  [&](const ProviderUser& u) { return u.email == lower_email; });
  return i ? &users[*i] : nullptr;
}
const ClientLink* ProviderState::client(const ProviderOrganizationId& id) const {
  const auto i = client_position(id);
  return i ? &clients[*i] : nullptr;
}
const ClientLink* ProviderState::client_by_organization(const OrganizationId& id) const {
  const auto i = indexed_position(client_index, clients, &ClientLinkLevel::by_organization, id,
                                  [&](const ClientLink& c) { return c.organization_id == id; });
  return i ? &clients[*i] : nullptr;
}
int ProviderState::confirmed_admins() const {
  return static_cast<int>(std::count_if(users.begin(), users.end(), [](const ProviderUser& u) {
    return u.type == ProviderUserType::kProviderAdmin && u.status == ProviderUserStatus::kConfirmed;
  }));
}
int ProviderState::assigned_seats(PlanType plan) const {
  int total = 0;
  for (const auto& c : clients)
    if (c.plan == plan) total += c.seats;
  return total;
}

const OrganizationMember* OrganizationState::member_by_user_id(const UserId& user_id) const {
  return find_in(members, [&](const OrganizationMember& m) { return m.user_id == user_id; });
}
bool OrganizationState::is_confirmed_owner(const UserId& user_id) const {
  const auto* m = member_by_user_id(user_id);
  return m != nullptr && m->type == OrganizationUserType::kOwner &&
         m->status == OrganizationUserStatus::kConfirmed;
}
const Group* OrganizationState::group(const GroupId& id) const {
  return find_in(groups, [&](const Group& g) { return g.id == id; });
}

const Collection* OrganizationState::collection(const CollectionId& id) const {
  return find_in(collections, [&](const Collection& c) { return c.id == id; });
}
bool OrganizationState::policy_enabled(PolicyType type) const {
  auto it = policies.find(type);
  return it != policies.end() && it->second.enabled;
}

std::optional<CollectionAccess> OrganizationState::access_to(const CollectionId& collection_id,
                                                             const OrganizationUserId& member_id) const {
  const Collection* c = collection(collection_id);
  if (c == nullptr) return std::nullopt;
  std::optional<CollectionAccess> out;
  auto grant = [&](const CollectionAccess& a) {
    if (!out) {
      out = CollectionAccess{collection_id, a.read_only, a.hide_passwords, a.manage};
      return;
    }
    out->read_only = out->read_only && a.read_only;
    out->hide_passwords = out->hide_passwords && a.hide_passwords;
    out->manage = out->manage || a.manage;
  };
  for (const auto& a : c->users)
    if (a.id == member_id) grant(a);
  for (const auto& a : c->groups) {
    const Group* g = group(a.id);
    if (g != nullptr && std::find(g->members.begin(), g->members.end(), member_id) != g->members.end())
      grant(a);
  }
  return out;
}

std::vector<fb::CollectionAccess> to_fb(const std::vector<CollectionAccess>& access) {
  std::vector<fb::CollectionAccess> out;
  out.reserve(access.size());
  for (const auto& a : access)
    out.emplace_back(flatbuffers::Pack(a.id), a.read_only, a.hide_passwords, a.manage);
  return out;
}

std::vector<CollectionAccess> from_fb(const std::vector<fb::CollectionAccess>& access) {
  std::vector<CollectionAccess> out;
  out.reserve(access.size());
  for (const auto& a : access)
    out.push_back(
        CollectionAccess{flatbuffers::UnPack(a.id()), a.read_only(), a.hide_passwords(), a.manage()});
  return out;
}

const OrganizationMember* OrganizationState::member(const OrganizationUserId& id) const {
  return find_in(members, [&](const OrganizationMember& m) { return m.id == id; });
}
const OrganizationMember* OrganizationState::member_by_email(std::string_view lower_email) const {
  return find_in(members, [&](const OrganizationMember& m) { return m.email == lower_email; });
}

fb::Permissions to_fb(const Permissions& p) {
  return fb::Permissions(p.manage_users, p.manage_groups, p.manage_policies, p.create_new_collections,
                         p.edit_any_collection, p.delete_any_collection, p.access_event_logs);
}

Permissions from_fb(const fb::Permissions& p) {
  return Permissions{p.manage_users(),           p.manage_groups(),       p.manage_policies(),
                     p.create_new_collections(), p.edit_any_collection(), p.delete_any_collection(),
                     p.access_event_logs()};
}

int OrganizationState::confirmed_owners() const {
  return static_cast<int>(std::count_if(members.begin(), members.end(), [](const OrganizationMember& m) {
    return m.type == OrganizationUserType::kOwner && m.status == OrganizationUserStatus::kConfirmed;
  }));
}
int OrganizationState::occupied_seats() const {
  return static_cast<int>(std::count_if(members.begin(), members.end(), [](const OrganizationMember& m) {
    return m.status != OrganizationUserStatus::kRevoked;
  }));
}

void evolve(UserState& s, const EventPayload& e, Timestamp) {
  if (const auto* r = e.AsUserRegistered()) {
    s.exists = true;
    s.id = r->user_id;
    s.email = r->email;
    s.name = r->name;
  } else if (const auto* j = e.AsUserJoinedOrganization()) {
    if (std::find(s.organizations.begin(), s.organizations.end(), j->organization_id) ==
        s.organizations.end())
      s.organizations.push_back(j->organization_id);
  } else if (const auto* l = e.AsUserLeftOrganization()) {
    std::erase(s.organizations, l->organization_id);
  }
}

void evolve(EmailState& s, const EventPayload& e, Timestamp) {
  if (const auto* r = e.AsEmailReserved()) {
    s.exists = true;
    s.user_id = r->user_id;
  }
}

void evolve(ProviderState& s, const EventPayload& e, Timestamp at) {
  auto user = [&](const ProviderUserId& id) -> ProviderUser* {
    const auto i = s.user_position(id);
    return i ? &s.users.mutable_at(*i) : nullptr;
  };
  struct Reindex {
    ProviderState& s;
    ~Reindex() { s.index(); }
  } reindex{s};
  auto client = [&](const ProviderOrganizationId& id) -> ClientLink* {
    const auto i = s.client_position(id);
    return i ? &s.clients.mutable_at(*i) : nullptr;
  };
  switch (e.type) {
    case T::ProviderInvited: {
      const auto& p = *e.AsProviderInvited();
      s.exists = true;
      s.id = p.provider_id;
      s.type = static_cast<ProviderType>(p.type);
      s.status = static_cast<ProviderStatus>(p.status);
      s.setup_token_sha256 = p.setup_token_sha256;
      s.setup_token_expires_at = p.setup_token_expires_at;
      s.seat_minimums = seat_map(p.seat_minimums);
      s.creation_date = at;
      if (!p.owner_provider_user_id.is_nil()) {
        s.users.push_back(ProviderUser{p.owner_provider_user_id,
                                       p.owner_user_id,
                                       p.owner_email,
                                       ProviderUserType::kProviderAdmin,
                                       ProviderUserStatus::kConfirmed,
                                       {},
                                       0,
                                       {}});
      }
      break;
    }
    case T::ProviderSetUp: {
      const auto& p = *e.AsProviderSetUp();
      s.name = p.name;
      s.business_name = p.business_name;
      s.billing_email = p.billing_email;
      s.status = static_cast<ProviderStatus>(p.status);
      s.setup_token_sha256.clear();  // single use
      if (!s.users.empty()) s.users.mutable_at(0).key = p.key;
      break;
    }
    case T::ProviderUpdated: {
      const auto& p = *e.AsProviderUpdated();
      s.name = p.name;
      s.business_name = p.business_name;
      s.billing_email = p.billing_email;
      break;
    }
    case T::ProviderEnabled: s.enabled = true; break;
    case T::ProviderDisabled: s.enabled = false; break;
    case T::ProviderPlanSet: s.seat_minimums = seat_map(e.AsProviderPlanSet()->seat_minimums); break;
    case T::ProviderDeleted: s.deleted = true; break;
    case T::ProviderUserInvited: {
      const auto& p = *e.AsProviderUserInvited();
      s.users.push_back(ProviderUser{p.provider_user_id,
                                     std::nullopt,
                                     p.email,
                                     static_cast<ProviderUserType>(p.type),
                                     ProviderUserStatus::kInvited,
                                     p.token_sha256,
                                     p.token_expires_at,
                                     {}});
      break;
    }
    case T::ProviderUserReinvited: {
      const auto& p = *e.AsProviderUserReinvited();
      if (auto* u = user(p.provider_user_id)) {
        u->token_sha256 = p.token_sha256;
        u->token_expires_at = p.token_expires_at;
      }
      break;
    }
    case T::ProviderUserAccepted: {
      const auto& p = *e.AsProviderUserAccepted();
      if (auto* u = user(p.provider_user_id)) {
        u->user_id = p.user_id;
        u->status = ProviderUserStatus::kAccepted;
        u->token_sha256.clear();  // single use
      }
      break;
    }
    case T::ProviderUserConfirmed: {
      const auto& p = *e.AsProviderUserConfirmed();
      if (auto* u = user(p.provider_user_id)) {
        u->status = ProviderUserStatus::kConfirmed;
        u->key = p.key;
      }
      break;
    }
    case T::ProviderUserUpdated: {
      const auto& p = *e.AsProviderUserUpdated();
      if (auto* u = user(p.provider_user_id)) u->type = static_cast<ProviderUserType>(p.type);
      break;
    }
    case T::ProviderUserRemoved: {
      const auto id = e.AsProviderUserRemoved()->provider_user_id;
      if (s.users.erase_if([&](const ProviderUser& u) { return u.id == id; }) > 0) s.user_index = nullptr;
      break;
    }
    case T::ProviderOrganizationCreated: {
      const auto& p = *e.AsProviderOrganizationCreated();
      s.clients.push_back(ClientLink{p.provider_organization_id, p.organization_id, p.name,
                                     static_cast<PlanType>(p.plan), p.seats, at});
      break;
    }
    case T::ProviderOrganizationAdded: {
      const auto& p = *e.AsProviderOrganizationAdded();
      s.clients.push_back(ClientLink{p.provider_organization_id, p.organization_id, p.name,
                                     static_cast<PlanType>(p.plan), p.seats, at});
      break;
    }
    case T::ProviderOrganizationRemoved: {
      const auto id = e.AsProviderOrganizationRemoved()->provider_organization_id;
      if (s.clients.erase_if([&](const ClientLink& c) { return c.id == id; }) > 0) s.client_index = nullptr;
      break;
    }
    case T::ProviderOrganizationUpdated: {
      const auto& p = *e.AsProviderOrganizationUpdated();
      if (auto* c = client(p.provider_organization_id)) {
        c->name = p.name;
        c->seats = p.seats;
      }
      break;
    }
    default: break;
  }
}

void evolve(OrganizationState& s, const EventPayload& e, Timestamp at) {
  auto member = [&](const OrganizationUserId& id) {
    return find_in(s.members, [&](const OrganizationMember& m) { return m.id == id; });
  };
  switch (e.type) {
    case T::OrganizationCreated: {
      const auto& p = *e.AsOrganizationCreated();
      s.exists = true;
      s.id = p.organization_id;
      s.name = p.name;
      s.plan = static_cast<PlanType>(p.plan);
      s.seats = p.seats;
      s.billing_email = p.billing_email;
      s.status = static_cast<OrganizationStatus>(p.status);
      if (!p.provider_id.is_nil()) s.provider_id = p.provider_id;
      if (!p.provider_organization_id.is_nil()) s.provider_organization_id = p.provider_organization_id;
      s.creation_date = at;
      if (!p.owner_user_id.is_nil()) {
        OrganizationMember owner;
        owner.id = p.owner_organization_user_id;
        owner.user_id = p.owner_user_id;
        owner.email = lower(p.owner_email);
        owner.type = OrganizationUserType::kOwner;
        owner.status = OrganizationUserStatus::kConfirmed;
        s.members.push_back(std::move(owner));
      }
      break;
    }
    case T::OrganizationUpdated: {
      const auto& p = *e.AsOrganizationUpdated();
      s.name = p.name;
      s.seats = p.seats;
      break;
    }
    case T::OrganizationProviderLinked: {
      const auto& p = *e.AsOrganizationProviderLinked();
      s.provider_id = p.provider_id;
      s.provider_organization_id = p.provider_organization_id;
      s.billing_email = p.billing_email;
      s.status = OrganizationStatus::kManaged;
      break;
    }
    case T::OrganizationProviderUnlinked: {
      s.provider_id.reset();
      s.provider_organization_id.reset();
      s.billing_email = e.AsOrganizationProviderUnlinked()->billing_email;
      s.status = OrganizationStatus::kCreated;
      break;
    }
    case T::OrganizationEnabled: s.enabled = true; break;
    case T::OrganizationDisabled: s.enabled = false; break;
    case T::OrganizationUserInvited: {
      const auto& p = *e.AsOrganizationUserInvited();
      OrganizationMember m;
      m.id = p.organization_user_id;
      m.email = p.email;
      m.type = static_cast<OrganizationUserType>(p.type);
      m.status = OrganizationUserStatus::kInvited;
      m.permissions = from_fb(p.permissions);
      m.token_sha256 = p.token_sha256;
      m.token_expires_at = p.token_expires_at;
      for (const auto& a : from_fb(p.collections)) {
        if (auto* c = find_in(s.collections, [&](const Collection& x) { return x.id == a.id; }))
          c->users.push_back(CollectionAccess{m.id, a.read_only, a.hide_passwords, a.manage});
      }
      for (const auto& g : p.groups) {
        if (auto* group = find_in(s.groups, [&](const Group& x) { return x.id == g; }))
          group->members.push_back(m.id);
      }
      s.members.push_back(std::move(m));
      break;
    }
    case T::OrganizationUserAccepted: {
      const auto& p = *e.AsOrganizationUserAccepted();
      if (auto* m = member(p.organization_user_id)) {
        m->user_id = p.user_id;
        m->status = OrganizationUserStatus::kAccepted;
        m->token_sha256.clear();  // single use
      }
      break;
    }
    case T::OrganizationUserConfirmed: {
      const auto& p = *e.AsOrganizationUserConfirmed();
      if (auto* m = member(p.organization_user_id)) {
        m->status = OrganizationUserStatus::kConfirmed;
        m->key = p.key;
      }
      break;
    }
    case T::OrganizationUserUpdated: {
      const auto& p = *e.AsOrganizationUserUpdated();
      if (auto* m = member(p.organization_user_id)) {
        m->type = static_cast<OrganizationUserType>(p.type);
        m->permissions = from_fb(p.permissions);
      }
      break;
    }
    case T::OrganizationUserRemoved: {
      const auto id = e.AsOrganizationUserRemoved()->organization_user_id;
      std::erase_if(s.members, [&](const OrganizationMember& m) { return m.id == id; });
      for (auto& g : s.groups) std::erase(g.members, id);
      for (auto& c : s.collections)
        std::erase_if(c.users, [&](const CollectionAccess& a) { return a.id == id; });
      break;
    }
    case T::GroupCreated: {
      const auto& p = *e.AsGroupCreated();
      s.groups.push_back(Group{p.group_id, p.name, {}});
      break;
    }
    case T::GroupUpdated: {
      const auto& p = *e.AsGroupUpdated();
      if (auto* g = find_in(s.groups, [&](const Group& x) { return x.id == p.group_id; })) g->name = p.name;
      break;
    }
    case T::GroupDeleted: {
      const auto id = e.AsGroupDeleted()->group_id;
      std::erase_if(s.groups, [&](const Group& g) { return g.id == id; });
      for (auto& c : s.collections)
        std::erase_if(c.groups, [&](const CollectionAccess& a) { return a.id == id; });
      break;
    }
    case T::GroupMembersSet: {
      const auto& p = *e.AsGroupMembersSet();
      if (auto* g = find_in(s.groups, [&](const Group& x) { return x.id == p.group_id; }))
        g->members = p.members;
      break;
    }
    case T::OrganizationUserRevoked: {
      if (auto* m = member(e.AsOrganizationUserRevoked()->organization_user_id)) {
        m->status_before_revoke = m->status;
        m->status = OrganizationUserStatus::kRevoked;
      }
      break;
    }
    case T::OrganizationUserRestored: {
      const auto& p = *e.AsOrganizationUserRestored();
      if (auto* m = member(p.organization_user_id)) m->status = static_cast<OrganizationUserStatus>(p.status);
      break;
    }
    case T::CollectionCreated: {
      const auto& p = *e.AsCollectionCreated();
      s.collections.push_back(Collection{p.collection_id, p.name, from_fb(p.groups), from_fb(p.users)});
      break;
    }
    case T::CollectionUpdated: {
      const auto& p = *e.AsCollectionUpdated();
      if (auto* c = find_in(s.collections, [&](const Collection& x) { return x.id == p.collection_id; })) {
        c->name = p.name;
        c->groups = from_fb(p.groups);
        c->users = from_fb(p.users);
      }
      break;
    }
    case T::CollectionDeleted: {
      const auto id = e.AsCollectionDeleted()->collection_id;
      std::erase_if(s.collections, [&](const Collection& c) { return c.id == id; });
      break;
    }
    case T::PolicyUpdated: {
      const auto& p = *e.AsPolicyUpdated();
      const auto type = static_cast<PolicyType>(p.type);
      s.policies[type] = Policy{type, p.enabled, p.data};
      break;
    }
    default: break;
  }
}

namespace {
std::vector<ItemField> item_fields(const std::vector<std::unique_ptr<fb::CipherFieldT>>& fields) {
  std::vector<ItemField> out;
  out.reserve(fields.size());
  for (const auto& f : fields)
    if (f) out.push_back(ItemField{f->name, f->value});
  return out;
}
}  // namespace

void evolve(ItemState& s, const EventPayload& e, Timestamp at) {
  switch (e.type) {
    case T::CipherCreated: {
      const auto& p = *e.AsCipherCreated();
      s.exists = true;
      s.id = p.cipher_id;
      s.type = static_cast<CipherType>(p.type);
      if (!p.user_id.is_nil()) s.owner = p.user_id;
      if (!p.organization_id.is_nil()) s.organization_id = p.organization_id;
      s.collection_ids = p.collection_ids;
      s.name = p.name;
      s.notes = p.notes;
      s.fields = item_fields(p.fields);
      s.creation_date = s.revision_date = at;
      break;
    }
    case T::CipherUpdated: {
      const auto& p = *e.AsCipherUpdated();
      s.name = p.name;
      s.notes = p.notes;
      s.fields = item_fields(p.fields);
      s.revision_date = at;
      break;
    }
    case T::CipherSoftDeleted:
      s.deleted_at = at;
      s.revision_date = at;
      break;
    case T::CipherRestored:
      s.deleted_at = 0;
      s.revision_date = at;
      break;
    case T::CipherDeleted:
      s.exists = false;
      s.purged = true;
      s.name.clear();
      s.notes.clear();
      s.fields.clear();
      break;
    case T::CipherShared: {
      const auto& p = *e.AsCipherShared();
      s.owner.reset();
      s.organization_id = p.organization_id;
      s.collection_ids = p.collection_ids;
      s.name = p.name;
      s.notes = p.notes;
      s.fields = item_fields(p.fields);
      s.revision_date = at;
      break;
    }
    case T::CipherCollectionsUpdated:
      s.collection_ids = e.AsCipherCollectionsUpdated()->collection_ids;
      s.revision_date = at;
      break;
    default: break;
  }
}

}  // namespace portal::domain
