#include "portal/domain/snapshot.h"

#include <cstdint>

#include "portal/domain/events.h"
#include "portal/domain/state_generated.h"

namespace portal::domain {

namespace {

// Bumped whenever a state gains a field or a field changes meaning: snapshots of
// another format are refused and the stream replayed.
constexpr std::uint16_t kFormat = 4;

using Builder = flatbuffers::FlatBufferBuilder;

std::string finish(Builder& fbb, fb::AggregateSnapshot type, flatbuffers::Offset<void> aggregate) {
  fb::StateSnapshotBuilder root(fbb);
  root.add_format(kFormat);
  root.add_aggregate_type(type);
  root.add_aggregate(aggregate);
  fb::FinishStateSnapshotBuffer(fbb, root.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// The verified root, or why there is none. `aligned` keeps a copy when `bytes`
// is not aligned for in-place reads.
Expected<const fb::StateSnapshot*> verified_root(std::string_view bytes, std::string& aligned,
                                                 fb::AggregateSnapshot expected) {
  const char* data = bytes.data();
  if (reinterpret_cast<std::uintptr_t>(data) % alignof(std::uint64_t) != 0) {
    aligned.assign(bytes);
    data = aligned.data();
  }
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(data), bytes.size());
  if (!fb::VerifyStateSnapshotBuffer(verifier)) {
    return Error::validation("snapshot", "snapshot bytes are not a valid aggregate snapshot");
  }
  const fb::StateSnapshot* root = fb::GetStateSnapshot(data);
  if (root->format() != kFormat) {
    return Error::validation("snapshot", "snapshot is in format " + std::to_string(root->format()) +
                                             ", not the current " + std::to_string(kFormat));
  }
  if (root->aggregate_type() != expected) {
    return Error::validation("snapshot", std::string("snapshot holds ") +
                                             fb::EnumNameAggregateSnapshot(root->aggregate_type()) +
                                             ", not " + fb::EnumNameAggregateSnapshot(expected));
  }
  return root;
}

std::string str(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

std::vector<CollectionAccess> access_of(const flatbuffers::Vector<const fb::CollectionAccess*>* v) {
  std::vector<CollectionAccess> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const fb::CollectionAccess* a : *v)
    out.push_back(
        CollectionAccess{flatbuffers::UnPack(a->id()), a->read_only(), a->hide_passwords(), a->manage()});
  return out;
}

std::vector<std::uint8_t> bytes_of(const flatbuffers::Vector<std::uint8_t>* v) {
  return v == nullptr ? std::vector<std::uint8_t>() : std::vector<std::uint8_t>(v->begin(), v->end());
}

Uuid uuid(const fb::Uuid* id) {
  return id == nullptr ? Uuid{} : flatbuffers::UnPack(*id);
}

std::optional<Uuid> optional_uuid(const fb::Uuid* id) {
  return id == nullptr ? std::nullopt : std::optional<Uuid>(flatbuffers::UnPack(*id));
}

}  // namespace

std::string encode_snapshot(const ProviderState& s) {
  Builder fbb(1024);
  std::vector<flatbuffers::Offset<fb::ProviderUserSnapshot>> users;
  users.reserve(s.users.size());
  for (const ProviderUser& u : s.users) {
    const auto email = fbb.CreateString(u.email);
    const auto token = fbb.CreateVector(u.token_sha256);
    const auto key = fbb.CreateString(u.key);
    const fb::Uuid id = flatbuffers::Pack(u.id);
    std::optional<fb::Uuid> user_id;
    if (u.user_id) user_id = flatbuffers::Pack(*u.user_id);
    fb::ProviderUserSnapshotBuilder b(fbb);
    b.add_id(&id);
    if (user_id) b.add_user_id(&*user_id);
    b.add_email(email);
    b.add_type(static_cast<std::int8_t>(u.type));
    b.add_status(static_cast<std::int8_t>(u.status));
    b.add_token_sha256(token);
    b.add_token_expires_at(u.token_expires_at);
    b.add_key(key);
    users.push_back(b.Finish());
  }
  std::vector<flatbuffers::Offset<fb::ClientLinkSnapshot>> clients;
  clients.reserve(s.clients.size());
  for (const ClientLink& c : s.clients) {
    const auto name = fbb.CreateString(c.name);
    const fb::Uuid id = flatbuffers::Pack(c.id);
    const fb::Uuid organization_id = flatbuffers::Pack(c.organization_id);
    fb::ClientLinkSnapshotBuilder b(fbb);
    b.add_id(&id);
    b.add_organization_id(&organization_id);
    b.add_name(name);
    b.add_plan(static_cast<std::int16_t>(c.plan));
    b.add_seats(c.seats);
    b.add_creation_date(c.creation_date);
    clients.push_back(b.Finish());
  }
  std::vector<fb::PlanSeatMinimum> minimums;
  minimums.reserve(s.seat_minimums.size());
  for (const auto& [plan, minimum] : s.seat_minimums)
    minimums.emplace_back(static_cast<std::int16_t>(plan), minimum);

  const auto users_offset = fbb.CreateVector(users);
  const auto clients_offset = fbb.CreateVector(clients);
  const auto minimums_offset = fbb.CreateVectorOfStructs(minimums);
  const auto name = fbb.CreateString(s.name);
  const auto business_name = fbb.CreateString(s.business_name);
  const auto billing_email = fbb.CreateString(s.billing_email);
  const auto setup_token = fbb.CreateVector(s.setup_token_sha256);
  const fb::Uuid id = flatbuffers::Pack(s.id);
  fb::ProviderSnapshotBuilder b(fbb);
  b.add_exists(s.exists);
  b.add_deleted(s.deleted);
  b.add_id(&id);
  b.add_type(static_cast<std::int8_t>(s.type));
  b.add_status(static_cast<std::int8_t>(s.status));
  b.add_enabled(s.enabled);
  b.add_name(name);
  b.add_business_name(business_name);
  b.add_billing_email(billing_email);
  b.add_setup_token_sha256(setup_token);
  b.add_setup_token_expires_at(s.setup_token_expires_at);
  b.add_seat_minimums(minimums_offset);
  b.add_users(users_offset);
  b.add_clients(clients_offset);
  b.add_creation_date(s.creation_date);
  return finish(fbb, fb::AggregateSnapshot::ProviderSnapshot, b.Finish().Union());
}

std::string encode_snapshot(const OrganizationState& s) {
  Builder fbb(1024);
  std::vector<flatbuffers::Offset<fb::OrganizationMemberSnapshot>> members;
  members.reserve(s.members.size());
  for (const OrganizationMember& m : s.members) {
    const auto email = fbb.CreateString(m.email);
    const auto token = fbb.CreateVector(m.token_sha256);
    const auto key = fbb.CreateString(m.key);
    const fb::Uuid id = flatbuffers::Pack(m.id);
    const fb::Permissions permissions = to_fb(m.permissions);
    std::optional<fb::Uuid> user_id;
    if (m.user_id) user_id = flatbuffers::Pack(*m.user_id);
    fb::OrganizationMemberSnapshotBuilder b(fbb);
    b.add_id(&id);
    if (user_id) b.add_user_id(&*user_id);
    b.add_email(email);
    b.add_type(static_cast<std::int8_t>(m.type));
    b.add_status(static_cast<std::int8_t>(m.status));
    b.add_permissions(&permissions);
    b.add_token_sha256(token);
    b.add_token_expires_at(m.token_expires_at);
    b.add_key(key);
    b.add_status_before_revoke(static_cast<std::int8_t>(m.status_before_revoke));
    members.push_back(b.Finish());
  }
  std::vector<flatbuffers::Offset<fb::CollectionSnapshot>> collections;
  collections.reserve(s.collections.size());
  for (const Collection& c : s.collections) {
    const auto name = fbb.CreateString(c.name);
    const auto group_access = fbb.CreateVectorOfStructs(to_fb(c.groups));
    const auto user_access = fbb.CreateVectorOfStructs(to_fb(c.users));
    const fb::Uuid id = flatbuffers::Pack(c.id);
    fb::CollectionSnapshotBuilder b(fbb);
    b.add_id(&id);
    b.add_name(name);
    b.add_groups(group_access);
    b.add_users(user_access);
    collections.push_back(b.Finish());
  }
  std::vector<flatbuffers::Offset<fb::PolicySnapshot>> policies;
  for (const auto& [type, policy] : s.policies) {
    const auto data = fbb.CreateString(policy.data);
    fb::PolicySnapshotBuilder b(fbb);
    b.add_type(static_cast<std::int16_t>(type));
    b.add_enabled(policy.enabled);
    b.add_data(data);
    policies.push_back(b.Finish());
  }
  std::vector<flatbuffers::Offset<fb::GroupSnapshot>> groups;
  groups.reserve(s.groups.size());
  for (const Group& g : s.groups) {
    const auto name = fbb.CreateString(g.name);
    std::vector<fb::Uuid> group_members;
    group_members.reserve(g.members.size());
    for (const auto& m : g.members) group_members.push_back(flatbuffers::Pack(m));
    const auto members_of_group = fbb.CreateVectorOfStructs(group_members);
    const fb::Uuid id = flatbuffers::Pack(g.id);
    fb::GroupSnapshotBuilder b(fbb);
    b.add_id(&id);
    b.add_name(name);
    b.add_members(members_of_group);
    groups.push_back(b.Finish());
  }
  const auto members_offset = fbb.CreateVector(members);
  const auto collections_offset = fbb.CreateVector(collections);
  const auto groups_offset = fbb.CreateVector(groups);
  const auto policies_offset = fbb.CreateVector(policies);
  const auto name = fbb.CreateString(s.name);
  const auto billing_email = fbb.CreateString(s.billing_email);
  const fb::Uuid id = flatbuffers::Pack(s.id);
  std::optional<fb::Uuid> provider_id, provider_organization_id;
  if (s.provider_id) provider_id = flatbuffers::Pack(*s.provider_id);
  if (s.provider_organization_id) provider_organization_id = flatbuffers::Pack(*s.provider_organization_id);
  fb::OrganizationSnapshotBuilder b(fbb);
  b.add_exists(s.exists);
  b.add_id(&id);
  b.add_name(name);
  b.add_plan(static_cast<std::int16_t>(s.plan));
  b.add_seats(s.seats);
  b.add_billing_email(billing_email);
  b.add_status(static_cast<std::int8_t>(s.status));
  b.add_enabled(s.enabled);
  if (provider_id) b.add_provider_id(&*provider_id);
  if (provider_organization_id) b.add_provider_organization_id(&*provider_organization_id);
  b.add_members(members_offset);
  b.add_collections(collections_offset);
  b.add_groups(groups_offset);
  b.add_policies(policies_offset);
  b.add_creation_date(s.creation_date);
  return finish(fbb, fb::AggregateSnapshot::OrganizationSnapshot, b.Finish().Union());
}

Expected<ProviderState> decode_provider_snapshot(std::string_view bytes) {
  std::string aligned;
  auto root = verified_root(bytes, aligned, fb::AggregateSnapshot::ProviderSnapshot);
  if (!root.ok()) return root.error();
  const fb::ProviderSnapshot& p = *root.value()->aggregate_as_ProviderSnapshot();
  ProviderState s;
  s.exists = p.exists();
  s.deleted = p.deleted();
  s.id = uuid(p.id());
  s.type = static_cast<ProviderType>(p.type());
  s.status = static_cast<ProviderStatus>(p.status());
  s.enabled = p.enabled();
  s.name = str(p.name());
  s.business_name = str(p.business_name());
  s.billing_email = str(p.billing_email());
  s.setup_token_sha256 = bytes_of(p.setup_token_sha256());
  s.setup_token_expires_at = p.setup_token_expires_at();
  if (const auto* minimums = p.seat_minimums()) {
    for (const fb::PlanSeatMinimum* m : *minimums)
      s.seat_minimums[static_cast<PlanType>(m->plan())] = m->seat_minimum();
  }
  if (const auto* users = p.users()) {
    s.users.reserve(users->size());
    for (const fb::ProviderUserSnapshot* u : *users) {
      ProviderUser& out = s.users.emplace_back();
      out.id = uuid(u->id());
      out.user_id = optional_uuid(u->user_id());
      out.email = str(u->email());
      out.type = static_cast<ProviderUserType>(u->type());
      out.status = static_cast<ProviderUserStatus>(u->status());
      out.token_sha256 = bytes_of(u->token_sha256());
      out.token_expires_at = u->token_expires_at();
      out.key = str(u->key());
    }
  }
  if (const auto* clients = p.clients()) {
    s.clients.reserve(clients->size());
    for (const fb::ClientLinkSnapshot* c : *clients) {
      ClientLink& out = s.clients.emplace_back();
      out.id = uuid(c->id());
      out.organization_id = uuid(c->organization_id());
      out.name = str(c->name());
      out.plan = static_cast<PlanType>(c->plan());
      out.seats = c->seats();
      out.creation_date = c->creation_date();
    }
  }
  s.index();
  s.creation_date = p.creation_date();
  return s;
}

Expected<OrganizationState> decode_organization_snapshot(std::string_view bytes) {
  std::string aligned;
  auto root = verified_root(bytes, aligned, fb::AggregateSnapshot::OrganizationSnapshot);
  if (!root.ok()) return root.error();
  const fb::OrganizationSnapshot& o = *root.value()->aggregate_as_OrganizationSnapshot();
  OrganizationState s;
  s.exists = o.exists();
  s.id = uuid(o.id());
  s.name = str(o.name());
  s.plan = static_cast<PlanType>(o.plan());
  s.seats = o.seats();
  s.billing_email = str(o.billing_email());
  s.status = static_cast<OrganizationStatus>(o.status());
  s.enabled = o.enabled();
  s.provider_id = optional_uuid(o.provider_id());
  s.provider_organization_id = optional_uuid(o.provider_organization_id());
  if (const auto* members = o.members()) {
    s.members.reserve(members->size());
    for (const fb::OrganizationMemberSnapshot* m : *members) {
      OrganizationMember& out = s.members.emplace_back();
      out.id = uuid(m->id());
      out.user_id = optional_uuid(m->user_id());
      out.email = str(m->email());
      out.type = static_cast<OrganizationUserType>(m->type());
      out.status = static_cast<OrganizationUserStatus>(m->status());
      if (m->permissions() != nullptr) out.permissions = from_fb(*m->permissions());
      out.token_sha256 = bytes_of(m->token_sha256());
      out.token_expires_at = m->token_expires_at();
      out.key = str(m->key());
      out.status_before_revoke = static_cast<OrganizationUserStatus>(m->status_before_revoke());
    }
  }
  if (const auto* collections = o.collections()) {
    s.collections.reserve(collections->size());
    for (const fb::CollectionSnapshot* c : *collections) {
      Collection& out = s.collections.emplace_back();
      out.id = uuid(c->id());
      out.name = str(c->name());
      out.groups = access_of(c->groups());
      out.users = access_of(c->users());
    }
  }
  if (const auto* policies = o.policies()) {
    for (const fb::PolicySnapshot* p : *policies) {
      const auto type = static_cast<PolicyType>(p->type());
      s.policies[type] = Policy{type, p->enabled(), str(p->data())};
    }
  }
  if (const auto* groups = o.groups()) {
    s.groups.reserve(groups->size());
    for (const fb::GroupSnapshot* g : *groups) {
      Group& out = s.groups.emplace_back();
      out.id = uuid(g->id());
      out.name = str(g->name());
      if (const auto* members = g->members()) {
        for (const fb::Uuid* m : *members) out.members.push_back(uuid(m));
      }
    }
  }
  s.creation_date = o.creation_date();
  return s;
}

}  // namespace portal::domain
