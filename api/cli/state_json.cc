#include "state_json.h"

namespace portal::cli {

namespace d = domain;

namespace {

JsonWriter& id_field(JsonWriter& j, std::string_view key, const d::Uuid& id) {
  j.key(key);
  return id.is_nil() ? j.null() : j.string(id.to_string());
}

template <class T>
JsonWriter& optional_id_field(JsonWriter& j, std::string_view key, const std::optional<T>& id) {
  j.key(key);
  return id ? j.string(id->to_string()) : j.null();
}

// An instant, or null for 0 (never).
JsonWriter& instant_field(JsonWriter& j, std::string_view key, d::Timestamp at) {
  j.key(key);
  return at == 0 ? j.null() : j.string(format_instant(at));
}

template <class E>
JsonWriter& enum_field(JsonWriter& j, std::string_view key, E value) {
  return j.field(key, static_cast<std::int64_t>(value));
}

void write_permissions(JsonWriter& j, const d::Permissions& p) {
  j.begin_object()
      .field("manageUsers", p.manage_users)
      .field("manageGroups", p.manage_groups)
      .field("managePolicies", p.manage_policies)
      .field("createNewCollections", p.create_new_collections)
      .field("editAnyCollection", p.edit_any_collection)
      .field("deleteAnyCollection", p.delete_any_collection)
      .field("accessEventLogs", p.access_event_logs)
      .end_object();
}

void write_access(JsonWriter& j, const std::vector<d::CollectionAccess>& access) {
  j.begin_array();
  for (const auto& a : access) {
    j.begin_object();
    id_field(j, "id", a.id);
    j.field("readOnly", a.read_only).field("hidePasswords", a.hide_passwords).field("manage", a.manage);
    j.end_object();
  }
  j.end_array();
}

}  // namespace

void write_state(JsonWriter& j, const d::UserState& s) {
  j.begin_object().field("object", "user");
  id_field(j, "id", s.id);
  j.field("email", s.email).field("name", s.name);
  j.key("organizations").begin_array();
  for (const auto& o : s.organizations) j.string(o.to_string());
  j.end_array().end_object();
}

void write_state(JsonWriter& j, const d::EmailState& s) {
  j.begin_object().field("object", "emailReservation");
  id_field(j, "userId", s.user_id);
  j.end_object();
}

void write_state(JsonWriter& j, const d::ProviderState& s) {
  j.begin_object().field("object", "provider");
  id_field(j, "id", s.id);
  enum_field(j, "type", s.type);
  enum_field(j, "status", s.status);
  j.field("enabled", s.enabled).field("deleted", s.deleted);
  j.field("name", s.name).field("businessName", s.business_name).field("billingEmail", s.billing_email);
  j.field("setupPending", !s.setup_token_sha256.empty());
  instant_field(j, "setupTokenExpiresAt", s.setup_token_sha256.empty() ? 0 : s.setup_token_expires_at);
  instant_field(j, "creationDate", s.creation_date);
  j.key("seatMinimums").begin_array();
  for (const auto& [plan, seats] : s.seat_minimums) {
    j.begin_object();
    enum_field(j, "planType", plan);
    j.field("seatMinimum", static_cast<std::int64_t>(seats));
    j.end_object();
  }
  j.end_array();
  j.key("users").begin_array();
  for (const auto& u : s.users) {
    j.begin_object().field("object", "providerUser");
    id_field(j, "id", u.id);
    optional_id_field(j, "userId", u.user_id);
    j.field("email", u.email);
    enum_field(j, "type", u.type);
    enum_field(j, "status", u.status);
    instant_field(j, "inviteExpiresAt", u.token_sha256.empty() ? 0 : u.token_expires_at);
    j.key("key");
    if (u.key.empty()) {
      j.null();
    } else {
      j.string(u.key);
    }
    j.end_object();
  }
  j.end_array();
  j.key("clients").begin_array();
  for (const auto& c : s.clients) {
    j.begin_object().field("object", "providerOrganization");
    id_field(j, "id", c.id);
    id_field(j, "organizationId", c.organization_id);
    j.field("name", c.name);
    enum_field(j, "planType", c.plan);
    j.field("seats", static_cast<std::int64_t>(c.seats));
    instant_field(j, "creationDate", c.creation_date);
    j.end_object();
  }
  j.end_array().end_object();
}

void write_state(JsonWriter& j, const d::OrganizationState& s) {
  j.begin_object().field("object", "organization");
  id_field(j, "id", s.id);
  j.field("name", s.name);
  enum_field(j, "planType", s.plan);
  j.field("seats", static_cast<std::int64_t>(s.seats)).field("billingEmail", s.billing_email);
  enum_field(j, "status", s.status);
  j.field("enabled", s.enabled);
  optional_id_field(j, "providerId", s.provider_id);
  optional_id_field(j, "providerOrganizationId", s.provider_organization_id);
  instant_field(j, "creationDate", s.creation_date);
  j.key("members").begin_array();
  for (const auto& m : s.members) {
    j.begin_object().field("object", "organizationUser");
    id_field(j, "id", m.id);
    optional_id_field(j, "userId", m.user_id);
    j.field("email", m.email);
    enum_field(j, "type", m.type);
    enum_field(j, "status", m.status);
    if (m.status == d::OrganizationUserStatus::kRevoked)
      enum_field(j, "statusBeforeRevoke", m.status_before_revoke);
    instant_field(j, "inviteExpiresAt", m.token_sha256.empty() ? 0 : m.token_expires_at);
    j.key("key");
    if (m.key.empty()) {
      j.null();
    } else {
      j.string(m.key);
    }
    if (m.type == d::OrganizationUserType::kCustom) {
      j.key("permissions");
      write_permissions(j, m.permissions);
    }
    j.end_object();
  }
  j.end_array();
  j.key("groups").begin_array();
  for (const auto& g : s.groups) {
    j.begin_object().field("object", "group");
    id_field(j, "id", g.id);
    j.field("name", g.name);
    j.key("members").begin_array();
    for (const auto& m : g.members) j.string(m.to_string());
    j.end_array().end_object();
  }
  j.end_array();
  j.key("collections").begin_array();
  for (const auto& c : s.collections) {
    j.begin_object().field("object", "collection");
    id_field(j, "id", c.id);
    j.field("name", c.name);
    j.key("groups");
    write_access(j, c.groups);
    j.key("users");
    write_access(j, c.users);
    j.end_object();
  }
  j.end_array();
  j.key("policies").begin_array();
  for (const auto& [type, p] : s.policies) {
    j.begin_object().field("object", "policy");
    enum_field(j, "type", type);
    j.field("enabled", p.enabled);
    j.key("data");
    if (p.data.empty()) {
      j.null();
    } else {
      j.string(p.data);
    }
    j.end_object();
  }
  j.end_array().end_object();
}

void write_state(JsonWriter& j, const d::ItemState& s) {
  j.begin_object().field("object", "cipher");
  id_field(j, "id", s.id);
  j.field("exists", s.exists).field("purged", s.purged);
  enum_field(j, "type", s.type);
  optional_id_field(j, "userId", s.owner);
  optional_id_field(j, "organizationId", s.organization_id);
  j.key("collectionIds").begin_array();
  for (const auto& c : s.collection_ids) j.string(c.to_string());
  j.end_array();
  j.field("name", s.name);
  j.key("notes");
  if (s.notes.empty()) {
    j.null();
  } else {
    j.string(s.notes);
  }
  j.key("fields").begin_array();
  for (const auto& f : s.fields) j.begin_object().field("name", f.name).field("value", f.value).end_object();
  j.end_array();
  instant_field(j, "deletedDate", s.deleted_at);
  instant_field(j, "creationDate", s.creation_date);
  instant_field(j, "revisionDate", s.revision_date);
  j.end_object();
}

}  // namespace portal::cli
