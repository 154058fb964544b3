// The HTTP routes of portald (DESIGN.md section 6): Bitwarden's paths and wire
// shapes over the Engine and the read models. Every route turns the request into a
// domain command or query, runs it as the token's user, and answers with
// Bitwarden's objects and error envelope. Authorization is the domain's: a route
// only asks it (decide for commands, the may_* rules and the read models for
// reads) and maps its error kinds to statuses.
#include "portal/api/routes.h"
#include "text/text.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <unordered_map>

#include "portal/domain/enc_string.h"
#include "portal/projections/admin_history.h"
#include "portal/projections/audit_log.h"
#include "portal/projections/portal_views.h"

namespace portal::api {

namespace {

namespace d = domain;
namespace pj = projections;
namespace json = boost::json;
using http::Request;
using http::Response;

constexpr std::chrono::milliseconds kReadWait{5000};
constexpr std::size_t kEventsPage = 50;

// --- errors ----------------------------------------------------------------------------

int status_of(d::ErrorKind kind) {
  switch (kind) {
    case d::ErrorKind::kValidation: return 400;
    case d::ErrorKind::kNotFound: return 404;
    case d::ErrorKind::kPermissionDenied: return 403;
    case d::ErrorKind::kFailedPrecondition: return 400;
    case d::ErrorKind::kAborted: return 409;
    case d::ErrorKind::kUnavailable: return 503;
    case d::ErrorKind::kDataLoss: return 500;
  }
  return 500;
}

Response error(const d::Error& e) {
  std::map<std::string, std::vector<std::string>> validation;
  if (e.kind == d::ErrorKind::kValidation) validation[e.field] = {e.message};
  return http::error_response(status_of(e.kind), e.message, validation);
}

Response not_found() {
  return http::error_response(404, "Resource not found.");
}

Response json_response(const json::value& v, int status = 200) {
  Response r;
  r.status = status;
  r.body = json::serialize(v);
  return r;
}

json::object list(json::array data, std::string continuation = {}) {
  json::object o;
  o["object"] = "list";
  o["data"] = std::move(data);
  if (continuation.empty()) {
    o["continuationToken"] = nullptr;
  } else {
    o["continuationToken"] = continuation;
  }
  return o;
}

// The list envelope written as text around items written by `items` (the views
// served most).
Response list_response(const std::function<void(text::JsonWriter&)>& items, std::string_view continuation = {}) {
  text::JsonWriter w;
  w.reserve(16 * 1024);
  w.begin_object().field("object", "list").key("data").begin_array();
  items(w);
  w.end_array();
  if (continuation.empty()) {
    w.field("continuationToken", nullptr);
  } else {
    w.field("continuationToken", continuation);
  }
  w.end_object();
  Response r;
  r.status = 200;
  r.body = w.take();
  return r;
}

// --- values on the wire ------------------------------------------------------------------

// "2026-11-22T10:00:00.123456Z"; empty for 0 (no date).
std::string iso(std::int64_t micros) {
  if (micros <= 0) return {};
  return text::format_instant(micros, 6);
}

json::value date(std::int64_t micros) {
  if (micros <= 0) return nullptr;
  return json::value(iso(micros));
}

json::value id_or_null(const d::Uuid& id) {
  if (id.is_nil()) return nullptr;
  return json::value(id.to_string());
}

using text::now_micros;

// --- request bodies ----------------------------------------------------------------------

// A JSON object body read the way Bitwarden's model binding reads it: keys
// case-insensitively, unknown keys ignored, a wrong type or a missing required
// value recorded against its field (camelCase, as in the request) and answered
// with 400 "The model state is invalid." listing every problem.
class Body {
 public:
  static std::variant<Body, Response> parse(const Request& req, bool allow_empty = false) {
    Body b;
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
      if (allow_empty) return b;
      return http::error_response(400, "The model state is invalid.", {{"", {"Body is empty."}}});
    }
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = 32;
    b.doc_ = json::parse(req.body, ec, {}, options);
    if (ec) {
      return http::error_response(400, "The model state is invalid.",
                                  {{"", {"The body is not valid JSON: " + ec.message() + "."}}});
    }
    if (!b.doc_.is_object()) {
      return http::error_response(400, "The model state is invalid.",
                                  {{"", {"The body must be a JSON object."}}});
    }
    b.index(b.doc_.as_object());
    return b;
  }

  // A nested object's fields, read the same way (`policy` of a policy request).
  Body nested(const char* key) {
    Body inner;
    if (const json::value* v = find(key)) {
      if (v->is_object()) {
        inner.index(v->as_object());
      } else if (!v->is_null()) {
        wrong(key, "an object");
      }
    }
    return inner;
  }
  void absorb(const Body& inner, const char* prefix) {
    for (const auto& [k, v] : inner.errors_) errors_[std::string(prefix) + "." + k] = v;
  }

  const json::value* find(const char* key) const {
    auto it = fields_.find(lower(key));
    if (it == fields_.end() || it->second->is_null()) return nullptr;
    return it->second;
  }

  std::string str(const char* key, bool required = false) {
    const json::value* v = find(key);
    if (v == nullptr) {
      if (required) missing(key);
      return {};
    }
    if (!v->is_string()) {
      wrong(key, "a string");
      return {};
    }
    return std::string(v->as_string());
  }
  std::int64_t integer(const char* key, bool required = false, std::int64_t fallback = 0) {
    const json::value* v = find(key);
    if (v == nullptr) {
      if (required) missing(key);
      return fallback;
    }
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
      return static_cast<std::int64_t>(v->as_uint64());
    wrong(key, "an integer");
    return fallback;
  }
  bool boolean(const char* key, bool fallback = false) {
    const json::value* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_bool()) {
      wrong(key, "true or false");
      return fallback;
    }
    return v->as_bool();
  }
  std::vector<std::string> strings(const char* key, bool required = false) {
    std::vector<std::string> out;
    const json::value* v = find(key);
    if (v == nullptr) {
      if (required) missing(key);
      return out;
    }
    if (!v->is_array()) {
      wrong(key, "an array of strings");
      return out;
    }
    for (const auto& e : v->as_array()) {
      if (!e.is_string()) {
        wrong(key, "an array of strings");
        return {};
      }
      out.emplace_back(e.as_string());
    }
    return out;
  }
  std::optional<d::Uuid> uuid(const char* key, bool required = false) {
    const std::string s = str(key, required);
    if (s.empty()) return std::nullopt;
    auto id = d::Uuid::parse(s);
    if (!id) error(key, "The " + std::string(key) + " field is not a valid id.");
    return id;
  }
  std::vector<d::Uuid> uuids(const char* key, bool required = false) {
    std::vector<d::Uuid> out;
    for (const auto& s : strings(key, required)) {
      auto id = d::Uuid::parse(s);
      if (!id) {
        error(key, "The " + std::string(key) + " field holds an invalid id.");
        return {};
      }
      out.push_back(*id);
    }
    return out;
  }
  // [{id, readOnly, hidePasswords, manage}]
  std::vector<d::CollectionAccess> access(const char* key) {
    std::vector<d::CollectionAccess> out;
    const json::value* v = find(key);
    if (v == nullptr) return out;
    if (!v->is_array()) {
      wrong(key, "an array of {id, readOnly, hidePasswords, manage}");
      return out;
    }
    for (const auto& e : v->as_array()) {
      if (!e.is_object()) {
        wrong(key, "an array of {id, readOnly, hidePasswords, manage}");
        return {};
      }
      Body item;
      item.index(e.as_object());
      auto id = item.uuid("id", true);
      d::CollectionAccess a;
      a.read_only = item.boolean("readOnly");
      a.hide_passwords = item.boolean("hidePasswords");
      a.manage = item.boolean("manage");
      if (!item.ok() || !id) {
        error(key, "Each entry needs an id and boolean readOnly, hidePasswords and manage.");
        return {};
      }
      a.id = *id;
      out.push_back(a);
    }
    return out;
  }
  d::Permissions permissions(const char* key) {
    d::Permissions p;
    const json::value* v = find(key);
    if (v == nullptr) return p;
    if (!v->is_object()) {
      wrong(key, "an object");
      return p;
    }
    Body inner;
    inner.index(v->as_object());
    p.manage_users = inner.boolean("manageUsers");
    p.manage_groups = inner.boolean("manageGroups");
    p.manage_policies = inner.boolean("managePolicies");
    p.create_new_collections = inner.boolean("createNewCollections");
    p.edit_any_collection = inner.boolean("editAnyCollection");
    p.delete_any_collection = inner.boolean("deleteAnyCollection");
    p.access_event_logs = inner.boolean("accessEventLogs");
    absorb(inner, key);
    return p;
  }
  // The raw JSON text of an object field (policy data), or "" when absent.
  std::string object_text(const char* key) {
    const json::value* v = find(key);
    if (v == nullptr) return {};
    if (!v->is_object()) {
      wrong(key, "an object");
      return {};
    }
    return json::serialize(*v);
  }

  void error(const std::string& field, std::string message) { errors_[field].push_back(std::move(message)); }
  bool ok() const { return errors_.empty(); }
  Response invalid() const { return http::error_response(400, "The model state is invalid.", errors_); }

 private:
  static std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  void index(const json::object& o) {
    for (const auto& kv : o) fields_[lower(kv.key())] = &kv.value();
  }
  void missing(const char* key) { error(key, "The " + std::string(key) + " field is required."); }
  void wrong(const char* key, const char* what) {
    error(key, "The " + std::string(key) + " field must be " + what + ".");
  }

  json::value doc_;
  std::map<std::string, const json::value*> fields_;
  std::map<std::string, std::vector<std::string>> errors_;
};

// --- wire objects ------------------------------------------------------------------------

json::object provider_json(const d::ProviderState& p) {
  json::object o;
  o["object"] = "provider";
  o["id"] = p.id.to_string();
  o["name"] = p.name;
  o["businessName"] = p.business_name;
  o["businessAddress1"] = nullptr;
  o["businessAddress2"] = nullptr;
  o["businessAddress3"] = nullptr;
  o["businessCountry"] = nullptr;
  o["businessTaxNumber"] = nullptr;
  o["billingEmail"] = p.billing_email;
  o["creationDate"] = date(p.creation_date);
  o["type"] = static_cast<int>(p.type);
  o["status"] = static_cast<int>(p.status);
  o["enabled"] = p.enabled;
  return o;
}

json::object provider_user_json(const pj::fb::ProviderUserRowT& u, const std::string& name) {
  json::object o;
  o["object"] = "providerUserUserDetails";
  o["id"] = pj::to_uuid(*u.id).to_string();
  o["userId"] = u.user_id ? id_or_null(pj::to_uuid(*u.user_id)) : json::value(nullptr);
  o["type"] = u.type;
  o["status"] = u.status;
  o["permissions"] = nullptr;
  o["name"] = name.empty() ? json::value(nullptr) : json::value(name);
  o["email"] = u.email;
  return o;
}

void id_or_null(text::JsonWriter& w, std::string_view key, const d::Uuid& id) {
  if (id.is_nil()) {
    w.field(key, nullptr);
  } else {
    w.field(key, id.to_string());
  }
}

void date(text::JsonWriter& w, std::string_view key, std::int64_t micros) {
  if (micros <= 0) {
    w.field(key, nullptr);
  } else {
    w.field(key, iso(micros));
  }
}

void client_json(text::JsonWriter& w, const pj::ClientView& c, const std::string& provider) {
  w.begin_object();
  w.field("object", "providerOrganizationOrganizationDetail");
  w.field("id", pj::to_uuid(*c.client.provider_organization_id).to_string());
  w.field("providerId", provider);
  w.field("organizationId", pj::to_uuid(*c.client.organization_id).to_string());
  w.field("organizationName", c.organization ? c.organization->name : c.client.name);
  w.field("key", nullptr);
  w.field("settings", nullptr);
  date(w, "creationDate", c.client.creation_date);
  date(w, "revisionDate", c.client.creation_date);
  const int seats = c.organization ? c.organization->seats : c.client.seats;
  const int occupied = c.organization ? c.organization->occupied_seats : 0;
  w.field("userCount", c.organization ? c.organization->user_count : 0);
  w.field("seats", seats);
  w.field("occupiedSeats", occupied);
  w.field("remainingSeats", seats - occupied);
  w.field("plan", d::plan_name(static_cast<d::PlanType>(c.organization ? c.organization->plan : c.client.plan)));
  w.field("planType", c.organization ? c.organization->plan : c.client.plan);
  w.field("status", c.organization ? c.organization->status : 2);
  w.field("enabled", c.organization ? c.organization->enabled : true);
  w.end_object();
}

json::object permissions_json(const pj::fb::MemberRowT& m) {
  json::object p;
  p["manageUsers"] = m.manage_users;
  p["manageGroups"] = m.manage_groups;
  p["managePolicies"] = m.manage_policies;
  p["createNewCollections"] = m.create_new_collections;
  p["editAnyCollection"] = m.edit_any_collection;
  p["deleteAnyCollection"] = m.delete_any_collection;
  p["accessEventLogs"] = m.access_event_logs;
  return p;
}

json::array access_json(const std::vector<pj::fb::Access>& list) {
  json::array a;
  for (const auto& x : list) {
    json::object o;
    o["id"] = pj::to_uuid(x.id()).to_string();
    o["readOnly"] = x.read_only();
    o["hidePasswords"] = x.hide_passwords();
    o["manage"] = x.manage();
    a.push_back(std::move(o));
  }
  return a;
}

json::object organization_json(const pj::fb::OrganizationRowT& o) {
  json::object j;
  j["object"] = "organization";
  j["id"] = pj::to_uuid(*o.id).to_string();
  j["name"] = o.name;
  j["planType"] = o.plan;
  j["plan"] = d::plan_name(static_cast<d::PlanType>(o.plan));
  j["seats"] = o.seats;
  j["occupiedSeats"] = o.occupied_seats;
  j["userCount"] = o.user_count;
  j["status"] = o.status;
  j["enabled"] = o.enabled;
  j["billingEmail"] = o.billing_email;
  j["providerId"] = id_or_null(pj::to_uuid(*o.provider_id));
  j["creationDate"] = date(o.creation_date);
  return j;
}

json::object cipher_json(const pj::fb::ItemRowT& i, const d::ItemRights& rights) {
  json::object o;
  o["object"] = "cipher";
  o["id"] = pj::to_uuid(*i.id).to_string();
  o["type"] = i.type;
  o["organizationId"] = id_or_null(pj::to_uuid(*i.organization_id));
  json::array collections;
  for (const auto& c : i.collection_ids) collections.push_back(json::value(pj::to_uuid(c).to_string()));
  o["collectionIds"] = std::move(collections);
  o["name"] = i.name;
  o["notes"] = i.notes.empty() ? json::value(nullptr) : json::value(i.notes);
  json::array fields;
  for (std::size_t k = 0; k < i.field_names.size() && k < i.field_values.size(); ++k) {
    json::object f;
    f["name"] = i.field_names[k];
    f["value"] = (rights.hide_passwords && i.field_names[k].find("password") != std::string::npos)
                     ? json::value(nullptr)
                     : json::value(i.field_values[k]);
    fields.push_back(std::move(f));
  }
  o["fields"] = std::move(fields);
  o["edit"] = rights.edit;
  o["viewPassword"] = !rights.hide_passwords;
  o["manage"] = rights.manage;
  o["creationDate"] = date(i.creation_date);
  o["revisionDate"] = date(i.revision_date);
  o["deletedDate"] = date(i.deleted_at);
  return o;
}

void event_json(text::JsonWriter& w, const pj::AuditEntry& e) {
  w.begin_object();
  w.field("object", "event");
  w.field("type", static_cast<std::int64_t>(e.type));
  w.field("name", e.name);
  id_or_null(w, "userId", e.acting_user_id);
  id_or_null(w, "organizationId", e.organization_id);
  id_or_null(w, "providerId", e.provider_id);
  id_or_null(w, "cipherId", e.cipher_id);
  id_or_null(w, "collectionId", e.collection_id);
  id_or_null(w, "groupId", e.group_id);
  w.field("policyId", nullptr);
  if (e.policy_type < 0) {
    w.field("policyType", nullptr);
  } else {
    w.field("policyType", e.policy_type);
  }
  id_or_null(w, "organizationUserId", e.organization_user_id);
  id_or_null(w, "providerUserId", e.provider_user_id);
  id_or_null(w, "providerOrganizationId", e.provider_organization_id);
  id_or_null(w, "actingUserId", e.acting_user_id);
  w.field("actingAs", e.acting_as);
  w.field("installationId", nullptr);
  w.field("date", iso(e.date));
  w.field("deviceType", e.device_type);
  w.field("ipAddress", e.ip_address);
  w.field("systemUser", nullptr);
  w.field("position", static_cast<std::int64_t>(e.position));
  w.end_object();
}

// Rendered answers of the most requested views, served again while the read
// models have not changed since they were built (Runner::changes()) and they are
// younger than their maximum age: the same bytes as building them again, without
// the reads and the JSON. Bounded; when full it starts again.
class ResponseCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kEntries = 1024;

  std::optional<std::string> get(const std::string& key, std::uint64_t changes, Clock::time_point now,
                                 Clock::duration max_age) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.changes != changes || now - it->second.built_at > max_age) {
      return std::nullopt;
    }
    return it->second.body;
  }

  void put(const std::string& key, std::uint64_t changes, Clock::time_point built_at, const std::string& body) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= kEntries && !entries_.count(key)) entries_.clear();
    entries_[key] = Entry{changes, built_at, body};
  }

 private:
  struct Entry {
    std::uint64_t changes = 0;
    Clock::time_point built_at;
    std::string body;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// --- the routes ------------------------------------------------------------------------------

class Routes {
 public:
  Routes(Engine& engine, const RoutesOptions& options) : engine_(engine), options_(options) {}

  // The handlers share ownership of the routes: they live as long as the router.
  static void add(http::Router& r, const std::shared_ptr<Routes>& self) {
    auto bind = [self](Response (Routes::*fn)(const Request&)) {
      return [self, fn](const Request& req) { return self->guarded(req, fn); };
    };
    r.add("POST", "/accounts/register", bind(&Routes::register_user));
    // Staff
    r.add("POST", "/admin/providers", bind(&Routes::invite_provider));
    r.add("POST", "/admin/providers/{id}/enable", bind(&Routes::enable_provider));
    r.add("POST", "/admin/providers/{id}/disable", bind(&Routes::disable_provider));
    r.add("PUT", "/admin/providers/{id}/plan", bind(&Routes::set_provider_plan));
    // Providers
    r.add("POST", "/providers/{id}/setup", bind(&Routes::setup_provider));
    r.add("GET", "/providers/{id}", bind(&Routes::get_provider));
    r.add("PUT", "/providers/{id}", bind(&Routes::update_provider));
    r.add("DELETE", "/providers/{id}", bind(&Routes::delete_provider));
    r.add("GET", "/providers/{id}/users", bind(&Routes::provider_users));
    r.add("POST", "/providers/{id}/users/invite", bind(&Routes::invite_provider_users));
    r.add("POST", "/providers/{id}/users/confirm", bind(&Routes::bulk_confirm));
    r.add("POST", "/providers/{id}/users/{puid}/reinvite", bind(&Routes::reinvite));
    r.add("POST", "/providers/{id}/users/{puid}/accept", bind(&Routes::accept_provider_invite));
    r.add("POST", "/providers/{id}/users/{puid}/confirm", bind(&Routes::confirm_one));
    r.add("PUT", "/providers/{id}/users/{puid}", bind(&Routes::update_provider_user));
    r.add("DELETE", "/providers/{id}/users/{puid}", bind(&Routes::remove_provider_user));
    r.add("GET", "/providers/{id}/organizations", bind(&Routes::clients));
    r.add("POST", "/providers/{id}/clients", bind(&Routes::add_new_client));
    r.add("POST", "/providers/{id}/clients/existing", bind(&Routes::add_existing_client));
    r.add("GET", "/providers/{id}/clients/addable", bind(&Routes::addable));
    r.add("PUT", "/providers/{id}/clients/{poid}", bind(&Routes::update_client));
    r.add("DELETE", "/providers/{id}/organizations/{poid}", bind(&Routes::remove_client));
    r.add("GET", "/providers/{id}/events", bind(&Routes::provider_events));
    r.add("GET", "/providers/{id}/users/{puid}/events", bind(&Routes::provider_user_events));
    // Organizations
    r.add("POST", "/organizations", bind(&Routes::create_organization));
    r.add("GET", "/organizations/{id}", bind(&Routes::get_organization));
    r.add("GET", "/organizations/{id}/events", bind(&Routes::organization_events));
    r.add("GET", "/organizations/{id}/users", bind(&Routes::members));
    r.add("POST", "/organizations/{id}/users/invite", bind(&Routes::invite_members));
    r.add("POST", "/organizations/{id}/users/{ouid}/accept", bind(&Routes::accept_member));
    r.add("POST", "/organizations/{id}/users/{ouid}/confirm", bind(&Routes::confirm_member));
    r.add("PUT", "/organizations/{id}/users/{ouid}", bind(&Routes::update_member));
    r.add("DELETE", "/organizations/{id}/users/{ouid}", bind(&Routes::remove_member));
    r.add("PUT", "/organizations/{id}/users/{ouid}/revoke", bind(&Routes::revoke_member));
    r.add("PUT", "/organizations/{id}/users/{ouid}/restore", bind(&Routes::restore_member));
    r.add("GET", "/organizations/{id}/groups", bind(&Routes::groups));
    r.add("POST", "/organizations/{id}/groups", bind(&Routes::create_group));
    r.add("PUT", "/organizations/{id}/groups/{gid}", bind(&Routes::update_group));
    r.add("DELETE", "/organizations/{id}/groups/{gid}", bind(&Routes::delete_group));
    r.add("PUT", "/organizations/{id}/groups/{gid}/users", bind(&Routes::set_group_users));
    r.add("GET", "/organizations/{id}/collections", bind(&Routes::collections));
    r.add("POST", "/organizations/{id}/collections", bind(&Routes::create_collection));
    r.add("PUT", "/organizations/{id}/collections/{cid}", bind(&Routes::update_collection));
    r.add("DELETE", "/organizations/{id}/collections/{cid}", bind(&Routes::delete_collection));
    r.add("GET", "/organizations/{id}/policies", bind(&Routes::policies));
    r.add("PUT", "/organizations/{id}/policies/{type}", bind(&Routes::save_policy));
    // Vault
    r.add("GET", "/ciphers", bind(&Routes::vault));
    r.add("POST", "/ciphers", bind(&Routes::create_personal_cipher));
    r.add("POST", "/ciphers/create", bind(&Routes::create_org_cipher));
    r.add("GET", "/ciphers/{cid}", bind(&Routes::get_cipher));
    r.add("PUT", "/ciphers/{cid}", bind(&Routes::update_cipher));
    r.add("PUT", "/ciphers/{cid}/delete", bind(&Routes::soft_delete_cipher));
    r.add("PUT", "/ciphers/{cid}/restore", bind(&Routes::restore_cipher));
    r.add("DELETE", "/ciphers/{cid}", bind(&Routes::purge_cipher));
    r.add("PUT", "/ciphers/{cid}/share", bind(&Routes::share_cipher));
    r.add("PUT", "/ciphers/{cid}/collections", bind(&Routes::cipher_collections));
    // Audit and administration history (our additions)
    r.add("GET", "/audit/organizations/{id}/administrators", bind(&Routes::administrators));
    r.add("GET", "/audit/providers/{id}/activity", bind(&Routes::provider_activity));
    r.add("GET", "/audit/users/{id}/activity", bind(&Routes::user_activity));
  }

 private:
  using Method = Response (Routes::*)(const Request&);

  Response guarded(const Request& req, Method fn) {
    if (!req.auth) return http::error_response(401, "Unauthorized.");
    if (auto e = ensure_registered(req)) return *e;
    if (auto it = req.query.find("minPosition"); it != req.query.end()) {
      if (auto e = wait_for_reads(it->second)) return *e;
    }
    return (this->*fn)(req);
  }

  d::Actor actor(const Request& req) const {
    return d::Actor{req.auth->user, req.auth->staff, 0, req.remote_address};
  }

  // A user whose verified token names them is registered on their first request.
  std::optional<Response> ensure_registered(const Request& req) {
    const auto& a = *req.auth;
    {
      std::lock_guard lock(mu_);
      if (known_users_.count(a.user)) return std::nullopt;
    }
    auto existing = engine_.user(a.user);
    if (!existing.ok()) return error(existing.error());
    if (!existing.value() && !a.email.empty() && !a.name.empty()) {
      eventstore::CommandId id;
      id.bytes = a.user.bytes;  // one registration per user id, however many first requests race
      auto r = engine_.execute(d::RegisterUser{a.user, a.email, a.name},
                               d::Actor{a.user, false, 0, req.remote_address}, id);
      if (!r.ok() && r.error().kind != d::ErrorKind::kFailedPrecondition) return error(r.error());
    }
    std::lock_guard lock(mu_);
    known_users_.insert(a.user);
    return std::nullopt;
  }

  std::optional<Response> wait_for_reads(const std::string& value) {
    char* end = nullptr;
    const unsigned long long position = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0') {
      return http::error_response(400, "The model state is invalid.",
                                  {{"minPosition", {"minPosition must be a log position (a number)."}}});
    }
    auto w = engine_.wait_for_projections(position, kReadWait);
    if (!w.ok()) return error(w.error());
    return std::nullopt;
  }

  // A command's answer carries its log position in X-Portal-Position, for
  // read-your-writes (?minPosition=).
  static Response positioned(Response out, const CommandResult& r) {
    out.headers.emplace_back("X-Portal-Position", std::to_string(r.last_position));
    return out;
  }

  // Runs a command; on success answers with `ok` (or 200 {}).
  Response run(const Request& req, const d::Command& command,
               const std::function<json::value(const CommandResult&)>& ok = {}) {
    auto r = engine_.execute(command, actor(req), command_id(req));
    if (!r.ok()) return error(r.error());
    return positioned(json_response(ok ? ok(r.value()) : json::value(json::object{})), r.value());
  }

  // A bulk command for one item (confirm or remove one provider user): the item's
  // refusal is the request's refusal.
  Response run_one_item(const Request& req, const d::Command& command) {
    auto r = engine_.execute(command, actor(req), command_id(req));
    if (!r.ok()) return error(r.error());
    if (!r->items.empty() && !r->items[0].error.empty()) return http::error_response(400, r->items[0].error);
    return positioned(json_response(json::object{}), r.value());
  }

  // An Idempotency-Key header (a UUID) makes a request exactly-once.
  static std::optional<eventstore::CommandId> command_id(const Request& req) {
    const std::string key = req.header("Idempotency-Key");
    if (key.empty()) return std::nullopt;
    auto id = d::Uuid::parse(key);
    if (!id) return std::nullopt;
    eventstore::CommandId c;
    c.bytes = id->bytes;
    return c;
  }

  std::optional<d::Uuid> param(const Request& req, const char* name) const {
    auto it = req.params.find(name);
    if (it == req.params.end()) return std::nullopt;
    return d::Uuid::parse(it->second);
  }

  // Reads the body as a JSON object and answers with fn(body); a body that is not
  // one is answered here (400 naming the problem).
  template <class F>
  static Response with_body(const Request& req, F fn) {
    auto parsed = Body::parse(req);
    if (auto* r = std::get_if<Response>(&parsed)) return *r;
    return fn(std::get<Body>(parsed));
  }

  // --- accounts ---------------------------------------------------------------------------

  Response register_user(const Request& req) {
    return with_body(req, [&](Body& b) -> Response {
      auto user = b.uuid("userId");
      const std::string email = b.str("email", true), name = b.str("name", true);
      if (!b.ok()) return b.invalid();
      const d::UserId id = user.value_or(req.auth->user);
      if (!req.auth->staff && !options_.self_registration) {
        return http::error_response(403, "Registration is open to staff only on this server.");
      }
      return run(req, d::RegisterUser{id, email, name}, [&](const CommandResult&) {
        json::object o;
        o["object"] = "user";
        o["id"] = id.to_string();
        o["email"] = email;
        o["name"] = name;
        return o;
      });
    });
  }

  // --- staff ------------------------------------------------------------------------------

  Response invite_provider(const Request& req) {
    return with_body(req, [&](Body& b) -> Response {
      d::InviteProvider c;
      c.type = static_cast<d::ProviderType>(b.integer("type", false, 0));
      c.owner_email = b.str("ownerEmail");
      c.seat_minimums = seat_minimums(b);
      if (!b.ok()) return b.invalid();
      return run(req, c, [](const CommandResult& r) {
        json::object o;
        o["object"] = "providerInvitation";
        o["id"] = r.created_ids.at(0).to_string();
        o["token"] = r.tokens.empty() ? json::value(nullptr) : json::value(r.tokens.at(0));
        o["ownerProviderUserId"] =
            r.created_ids.size() > 1 ? json::value(r.created_ids[1].to_string()) : json::value(nullptr);
        return o;
      });
    });
  }

  static std::vector<d::SeatMinimum> seat_minimums(Body& b) {
    std::vector<d::SeatMinimum> out;
    const json::value* v = b.find("seatMinimums");
    if (v == nullptr) return out;
    if (!v->is_array()) {
      b.error("seatMinimums", "The seatMinimums field must be an array of {planType, seatMinimum}.");
      return out;
    }
    for (const auto& e : v->as_array()) {
      if (!e.is_object() || !e.as_object().contains("planType") || !e.as_object().contains("seatMinimum") ||
          !e.as_object().at("planType").is_int64() || !e.as_object().at("seatMinimum").is_int64()) {
        b.error("seatMinimums", "The seatMinimums field must be an array of {planType, seatMinimum}.");
        return {};
      }
      out.push_back({static_cast<d::PlanType>(e.as_object().at("planType").as_int64()),
                     static_cast<int>(e.as_object().at("seatMinimum").as_int64())});
    }
    return out;
  }

  Response enable_provider(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return run(req, d::EnableProvider{*id});
  }
  Response disable_provider(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return run(req, d::DisableProvider{*id});
  }
  Response set_provider_plan(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      auto minimums = seat_minimums(b);
      if (!b.ok()) return b.invalid();
      return run(req, d::SetProviderPlan{*id, minimums});
    });
  }

  // --- providers --------------------------------------------------------------------------

  Response setup_provider(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::SetupProvider c{*id,
                         b.str("token", true),
                         b.str("name", true),
                         b.str("businessName"),
                         b.str("billingEmail", true),
                         b.str("key", true)};
      if (!b.ok()) return b.invalid();
      return run(req, c, [&](const CommandResult&) { return provider_now(*id, req); });
    });
  }

  json::value provider_now(const d::ProviderId& id, const Request& req) {
    auto p = engine_.read_provider(id, actor(req));
    if (!p.ok()) return json::object{};
    return provider_json(p.value());
  }

  Response get_provider(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    auto p = engine_.read_provider(*id, actor(req));
    if (!p.ok()) return error(p.error());
    return json_response(provider_json(p.value()));
  }

  Response update_provider(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::UpdateProvider c{*id, b.str("name", true), b.str("businessName"), b.str("billingEmail", true)};
      if (!b.ok()) return b.invalid();
      return run(req, c, [&](const CommandResult&) { return provider_now(*id, req); });
    });
  }

  Response delete_provider(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return run(req, d::DeleteProvider{*id});
  }

  // Reads of a provider's lists: the domain decides visibility, the read models answer.
  std::optional<Response> may_view_provider(const Request& req, const d::ProviderId& id) {
    const d::Actor a = actor(req);
    auto allowed = engine_.authorize([&](d::StateReader& s) { return d::may_view_provider(id, a, s); });
    if (!allowed.ok()) return error(allowed.error());
    return std::nullopt;
  }

  std::string user_name(const d::UserId& id) {
    auto u = engine_.user(id);
    if (!u.ok() || !u.value()) return {};
    return u.value()->name;
  }

  Response provider_users(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = may_view_provider(req, *id)) return *e;
    json::array data;
    for (const auto& u : pj::provider_users(engine_.projection_db(), *id)) {
      const d::UserId user = u.user_id ? pj::to_uuid(*u.user_id) : d::Uuid{};
      data.push_back(provider_user_json(u, user.is_nil() ? std::string() : user_name(user)));
    }
    return json_response(list(std::move(data)));
  }

  Response invite_provider_users(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::InviteProviderUsers c{*id, b.strings("emails", true),
                               static_cast<d::ProviderUserType>(b.integer("type", false, 1))};
      if (!b.ok()) return b.invalid();
      return run(req, c, [](const CommandResult& r) { return invitations(r, "providerUserInvitation"); });
    });
  }

  // Per-email results of an invitation; tokens are shown once, here.
  static json::value invitations(const CommandResult& r, const char* object) {
    json::array data;
    std::size_t token = 0;
    for (const auto& item : r.items) {
      json::object o;
      o["object"] = object;
      o["email"] = item.email;
      o["id"] = id_or_null(item.id);
      o["token"] = item.error.empty() && token < r.tokens.size() ? json::value(r.tokens[token++])
                                                                 : json::value(nullptr);
      o["error"] = item.error;
      data.push_back(std::move(o));
    }
    return list(std::move(data));
  }

  Response reinvite(const Request& req) {
    auto id = param(req, "id"), pu = param(req, "puid");
    if (!id || !pu) return not_found();
    return run(req, d::ReinviteProviderUser{*id, *pu}, [](const CommandResult& r) {
      json::object o;
      o["object"] = "providerUserInvitation";
      o["token"] = r.tokens.empty() ? json::value(nullptr) : json::value(r.tokens.at(0));
      return o;
    });
  }

  Response accept_provider_invite(const Request& req) {
    auto id = param(req, "id"), pu = param(req, "puid");
    if (!id || !pu) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::AcceptProviderInvite c{*id, *pu, b.str("token", true)};
      if (!b.ok()) return b.invalid();
      return run(req, c);
    });
  }

  static json::value bulk(const CommandResult& r, const char* object) {
    json::array data;
    for (const auto& item : r.items) {
      json::object o;
      o["object"] = object;
      o["id"] = item.id.to_string();
      o["error"] = item.error;
      data.push_back(std::move(o));
    }
    return list(std::move(data));
  }

  Response confirm_one(const Request& req) {
    auto id = param(req, "id"), pu = param(req, "puid");
    if (!id || !pu) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      const std::string key = b.str("key", true);
      if (!b.ok()) return b.invalid();
      return run_one_item(req, d::ConfirmProviderUsers{*id, {{*pu, key}}});
    });
  }

  Response bulk_confirm(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::ConfirmProviderUsers c{*id, {}};
      const json::value* keys = b.find("keys");
      if (keys == nullptr || !keys->is_array()) {
        b.error("keys", "The keys field must be an array of {id, key}.");
      } else {
        for (const auto& e : keys->as_array()) {
          const json::object* o = e.if_object();
          const json::value* pid = o ? o->if_contains("id") : nullptr;
          const json::value* key = o ? o->if_contains("key") : nullptr;
          auto uid = pid && pid->is_string() ? d::Uuid::parse(pid->as_string()) : std::nullopt;
          if (!uid || !key || !key->is_string()) {
            b.error("keys", "The keys field must be an array of {id, key}.");
            break;
          }
          c.keys.push_back({*uid, std::string(key->as_string())});
        }
      }
      if (!b.ok()) return b.invalid();
      return run(req, c, [](const CommandResult& r) { return bulk(r, "providerBulkConfirmResponseModel"); });
    });
  }

  Response update_provider_user(const Request& req) {
    auto id = param(req, "id"), pu = param(req, "puid");
    if (!id || !pu) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      const auto type = b.integer("type", true);
      if (!b.ok()) return b.invalid();
      if (!d::provider_user_type_from(static_cast<int>(type))) {
        return http::error_response(400, "The model state is invalid.",
                                    {{"type", {"Unknown provider user type."}}});
      }
      return run(req, d::UpdateProviderUserType{*id, *pu, static_cast<d::ProviderUserType>(type)});
    });
  }

  Response remove_provider_user(const Request& req) {
    auto id = param(req, "id"), pu = param(req, "puid");
    if (!id || !pu) return not_found();
    return run_one_item(req, d::RemoveProviderUsers{*id, {*pu}});
  }

  Response clients(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = may_view_provider(req, *id)) return *e;
    const std::string provider = id->to_string();
    return cached("clients " + provider, ResponseCache::Clock::duration::max(), [&] {
      const auto clients = pj::provider_clients(engine_.projection_db(), *id);
      return list_response([&](text::JsonWriter& w) {
        for (const auto& c : clients) client_json(w, c, provider);
      });
    });
  }

  Response add_new_client(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::AddClientOrg c;
      c.provider_id = *id;
      c.name = b.str("name", true);
      c.owner_email = b.str("ownerEmail", true);
      c.plan = static_cast<d::PlanType>(b.integer("planType", true));
      c.seats = static_cast<int>(b.integer("seats", true));
      c.collection_name = b.str("collectionName", true);
      if (!b.ok()) return b.invalid();
      return run(req, c, [&](const CommandResult& r) {
        json::object o;
        o["object"] = "providerOrganization";
        o["id"] = r.created_ids.at(1).to_string();
        o["providerId"] = id->to_string();
        o["organizationId"] = r.created_ids.at(0).to_string();
        o["ownerOrganizationUserId"] = r.created_ids.at(2).to_string();
        o["ownerInviteToken"] = r.tokens.empty() ? json::value(nullptr) : json::value(r.tokens.at(0));
        return o;
      });
    });
  }

  Response add_existing_client(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      auto org = b.uuid("organizationId", true);
      if (!b.ok()) return b.invalid();
      d::AddClientOrg c;
      c.provider_id = *id;
      c.existing_organization_id = *org;
      return run(req, c, [&](const CommandResult& r) {
        json::object o;
        o["object"] = "providerOrganization";
        o["id"] = r.created_ids.at(0).to_string();
        o["providerId"] = id->to_string();
        o["organizationId"] = org->to_string();
        return o;
      });
    });
  }

  // Organizations the actor owns that no provider manages yet.
  Response addable(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = may_view_provider(req, *id)) return *e;
    auto me = engine_.user(req.auth->user);
    if (!me.ok()) return error(me.error());
    json::array data;
    if (me.value()) {
      for (const d::OrganizationId& org_id : me.value()->organizations) {
        auto org = engine_.organization(org_id);
        if (!org.ok() || !org.value()) continue;
        const d::OrganizationState& o = *org.value();
        if (o.provider_id || !o.is_confirmed_owner(req.auth->user)) continue;
        json::object j;
        j["id"] = o.id.to_string();
        j["name"] = o.name;
        j["plan"] = d::plan_name(o.plan);
        j["seats"] = o.seats;
        j["disabled"] = !o.enabled;
        data.push_back(std::move(j));
      }
    }
    return json_response(list(std::move(data)));
  }

  Response update_client(const Request& req) {
    auto id = param(req, "id"), po = param(req, "poid");
    if (!id || !po) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::UpdateClientOrg c{*id, *po, b.str("name", true), static_cast<int>(b.integer("assignedSeats", true))};
      if (!b.ok()) return b.invalid();
      return run(req, c);
    });
  }

  Response remove_client(const Request& req) {
    auto id = param(req, "id"), po = param(req, "poid");
    if (!id || !po) return not_found();
    return run(req, d::RemoveClientOrg{*id, *po});
  }

  // --- events -----------------------------------------------------------------------------

  // Bitwarden's event paging: start/end (default the last 30 days, at most 367
  // days), 50 a page, newest first, continuationToken.
  // A page of events, kept in the response cache for a second at most: the default
  // window moves with the clock. `view` names the filter `keep` applies.
  Response events(const Request& req, pj::AuditBy by, const d::Uuid& id,
                  const std::function<bool(const pj::AuditEntry&)>& keep = {}, const std::string& view = {}) {
    std::string key = "events " + std::to_string(static_cast<int>(by)) + " " + id.to_string() + " " + view;
    for (const char* name : {"start", "end", "continuationToken"}) {
      auto it = req.query.find(name);
      const std::string value = it == req.query.end() ? std::string() : it->second;
      key += " " + std::to_string(value.size()) + ":" + value;
    }
    return cached(key, std::chrono::seconds(1), [&] { return event_page(req, by, id, keep); });
  }

  Response event_page(const Request& req, pj::AuditBy by, const d::Uuid& id,
                      const std::function<bool(const pj::AuditEntry&)>& keep) {
    pj::AuditQuery q;
    q.by = by;
    q.id = id;
    const std::int64_t now = now_micros();
    q.to = now + 1;
    q.from = now - 30 * text::kMicrosPerDay;
    auto time_param = [&](const char* name, std::int64_t& out) -> std::optional<Response> {
      auto it = req.query.find(name);
      if (it == req.query.end() || it->second.empty()) return std::nullopt;
      auto t = text::parse_instant(it->second);
      if (!t) {
        return http::error_response(
            400, "The model state is invalid.",
            {{name, {std::string("The ") + name + " parameter is not an ISO 8601 date."}}});
      }
      out = *t;
      return std::nullopt;
    };
    if (auto e = time_param("start", q.from)) return *e;
    if (auto e = time_param("end", q.to)) return *e;
    if (q.to < q.from)
      return http::error_response(400, "The model state is invalid.", {{"end", {"end is before start."}}});
    if (q.to - q.from > 367 * text::kMicrosPerDay) return http::error_response(400, "Range too large.");
    if (auto it = req.query.find("continuationToken"); it != req.query.end()) q.continuation = it->second;
    q.limit = kEventsPage;
    q.newest_first = true;  // as Bitwarden lists them
    std::vector<pj::AuditEntry> entries;
    std::string continuation;
    // A filtered view (a provider user's own events) pages over the index until a
    // page is full or the index ends.
    while (true) {
      auto page = pj::query_audit(engine_.projection_db(), q);
      if (!page.ok()) {
        if (page.status().code() == eventstore::StatusCode::kInvalidArgument) {
          return http::error_response(400, "The model state is invalid.",
                                      {{"continuationToken", {page.status().message()}}});
        }
        return http::error_response(500, "An unhandled server error has occurred.");
      }
      for (auto& e : page->entries)
        if (!keep || keep(e)) entries.push_back(std::move(e));
      continuation = page->continuation;
      if (!keep || entries.size() >= kEventsPage || continuation.empty()) break;
      q.continuation = continuation;
    }
    return list_response(
        [&](text::JsonWriter& w) {
          for (const auto& e : entries) event_json(w, e);
        },
        continuation);
  }

  Response provider_events(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = may_view_provider(req, *id)) return *e;
    return events(req, pj::AuditBy::kProvider, *id);
  }

  Response provider_user_events(const Request& req) {
    auto id = param(req, "id"), pu = param(req, "puid");
    if (!id || !pu) return not_found();
    if (auto e = may_view_provider(req, *id)) return *e;
    auto p = engine_.read_provider(*id, actor(req));
    if (!p.ok()) return error(p.error());
    const d::ProviderUser* u = p->user(*pu);
    if (u == nullptr) return not_found();
    const std::optional<d::UserId> user = u->user_id;
    const d::ProviderUserId puid = *pu;
    // The events of the provider's log done by that user, or about them.
    return events(
        req, pj::AuditBy::kProvider, *id,
        [user, puid](const pj::AuditEntry& e) {
          return (user && e.acting_user_id == *user) || e.provider_user_id == puid;
        },
        "by " + puid.to_string());
  }

  Response organization_events(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    const d::Actor a = actor(req);
    auto allowed =
        engine_.authorize([&](d::StateReader& s) { return d::may_read_organization_events(*id, a, s); });
    if (!allowed.ok()) return error(allowed.error());
    return events(req, pj::AuditBy::kOrganization, *id);
  }

  // --- organizations ------------------------------------------------------------------------

  Response create_organization(const Request& req) {
    return with_body(req, [&](Body& b) -> Response {
      d::CreateOrganization c{b.str("name", true), static_cast<d::PlanType>(b.integer("planType", false, 0)),
                              static_cast<int>(b.integer("seats", false, 1)), b.str("billingEmail", true)};
      if (!b.ok()) return b.invalid();
      return run(req, c, [](const CommandResult& r) {
        json::object o;
        o["object"] = "organization";
        o["id"] = r.created_ids.at(0).to_string();
        return o;
      });
    });
  }

  // A console read: visible to members and the provider's users; a provider user's
  // read is recorded as OpenClientOrg (1903/1603), at most once per user, client
  // and 10 minutes.
  std::optional<Response> open_console(const Request& req, const d::OrganizationId& org) {
    auto state = engine_.read_organization(org, actor(req));
    if (!state.ok()) return error(state.error());
    const d::OrganizationState& o = state.value();
    const bool member = o.member_by_user_id(req.auth->user) != nullptr;
    if (!member && o.provider_id && o.provider_organization_id) {
      const auto key = std::make_pair(req.auth->user, org);
      const auto now = std::chrono::steady_clock::now();
      bool record = false;
      {
        std::lock_guard lock(mu_);
        auto it = opened_.find(key);
        if (it == opened_.end() || now - it->second >= std::chrono::minutes(10)) {
          opened_[key] = now;
          record = true;
        }
      }
      if (record)
        (void)engine_.execute(d::OpenClientOrg{*o.provider_id, *o.provider_organization_id}, actor(req));
    }
    return std::nullopt;
  }

  Response get_organization(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = open_console(req, *id)) return *e;
    auto row = pj::organization_row(engine_.projection_db(), *id);
    if (!row) return not_found();
    return json_response(organization_json(*row));
  }

  Response members(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = open_console(req, *id)) return *e;
    const auto& db = engine_.projection_db();
    auto groups = pj::organization_groups(db, *id);
    auto collections = pj::organization_collections(db, *id);
    json::array data;
    for (const auto& m : pj::organization_members(db, *id)) {
      const d::Uuid mid = pj::to_uuid(*m.id);
      json::object o;
      o["object"] = "organizationUserUserDetails";
      o["id"] = mid.to_string();
      const d::UserId user = m.user_id ? pj::to_uuid(*m.user_id) : d::Uuid{};
      o["userId"] = id_or_null(user);
      o["type"] = m.type;
      o["status"] = m.status;
      o["email"] = m.email;
      const std::string name = user.is_nil() ? std::string() : user_name(user);
      o["name"] = name.empty() ? json::value(nullptr) : json::value(name);
      o["permissions"] = permissions_json(m);
      json::array member_groups;
      for (const auto& g : groups) {
        if (std::any_of(g.members.begin(), g.members.end(),
                        [&](const auto& x) { return pj::to_uuid(x) == mid; }))
          member_groups.push_back(json::value(pj::to_uuid(*g.id).to_string()));
      }
      o["groups"] = std::move(member_groups);
      json::array member_collections;
      for (const auto& c : collections) {
        for (const auto& a : c.users) {
          if (pj::to_uuid(a.id()) != mid) continue;
          json::object x;
          x["id"] = pj::to_uuid(*c.id).to_string();
          x["readOnly"] = a.read_only();
          x["hidePasswords"] = a.hide_passwords();
          x["manage"] = a.manage();
          member_collections.push_back(std::move(x));
        }
      }
      o["collections"] = std::move(member_collections);
      data.push_back(std::move(o));
    }
    return json_response(list(std::move(data)));
  }

  Response invite_members(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::InviteMembers c{*id,
                         b.strings("emails", true),
                         static_cast<d::OrganizationUserType>(b.integer("type", false, 2)),
                         b.permissions("permissions"),
                         b.access("collections"),
                         b.uuids("groups")};
      if (!b.ok()) return b.invalid();
      return run(req, c, [](const CommandResult& r) { return invitations(r, "organizationUserInvitation"); });
    });
  }

  Response accept_member(const Request& req) {
    auto id = param(req, "id"), m = param(req, "ouid");
    if (!id || !m) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::AcceptMember c{*id, *m, b.str("token", true)};
      if (!b.ok()) return b.invalid();
      return run(req, c);
    });
  }

  Response confirm_member(const Request& req) {
    auto id = param(req, "id"), m = param(req, "ouid");
    if (!id || !m) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::ConfirmMember c{*id, *m, b.str("key", true)};
      if (!b.ok()) return b.invalid();
      return run(req, c);
    });
  }

  Response update_member(const Request& req) {
    auto id = param(req, "id"), m = param(req, "ouid");
    if (!id || !m) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::UpdateMember c{*id, *m, static_cast<d::OrganizationUserType>(b.integer("type", true)),
                        b.permissions("permissions")};
      if (!b.ok()) return b.invalid();
      return run(req, c);
    });
  }

  Response remove_member(const Request& req) {
    auto id = param(req, "id"), m = param(req, "ouid");
    if (!id || !m) return not_found();
    return run(req, d::RemoveMember{*id, *m});
  }
  Response revoke_member(const Request& req) {
    auto id = param(req, "id"), m = param(req, "ouid");
    if (!id || !m) return not_found();
    return run(req, d::RevokeMember{*id, *m});
  }
  Response restore_member(const Request& req) {
    auto id = param(req, "id"), m = param(req, "ouid");
    if (!id || !m) return not_found();
    return run(req, d::RestoreMember{*id, *m});
  }

  Response groups(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = open_console(req, *id)) return *e;
    json::array data;
    for (const auto& g : pj::organization_groups(engine_.projection_db(), *id)) {
      json::object o;
      o["object"] = "group";
      o["id"] = pj::to_uuid(*g.id).to_string();
      o["organizationId"] = id->to_string();
      o["name"] = g.name;
      json::array users;
      for (const auto& m : g.members) users.push_back(json::value(pj::to_uuid(m).to_string()));
      o["users"] = std::move(users);
      data.push_back(std::move(o));
    }
    return json_response(list(std::move(data)));
  }

  Response create_group(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::CreateGroup c{*id, b.str("name", true), b.uuids("users")};
      if (!b.ok()) return b.invalid();
      return run(req, c, [&](const CommandResult& r) {
        json::object o;
        o["object"] = "group";
        o["id"] = r.created_ids.at(0).to_string();
        o["organizationId"] = id->to_string();
        o["name"] = c.name;
        return o;
      });
    });
  }

  Response update_group(const Request& req) {
    auto id = param(req, "id"), g = param(req, "gid");
    if (!id || !g) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      const std::string name = b.str("name", true);
      const bool with_users = b.find("users") != nullptr;
      const auto users = b.uuids("users");
      if (!b.ok()) return b.invalid();
      if (!with_users) return run(req, d::UpdateGroup{*id, *g, name});
      auto renamed = engine_.execute(d::UpdateGroup{*id, *g, name}, actor(req));
      if (!renamed.ok()) return error(renamed.error());
      return run(req, d::SetGroupMembers{*id, *g, users});
    });
  }

  Response delete_group(const Request& req) {
    auto id = param(req, "id"), g = param(req, "gid");
    if (!id || !g) return not_found();
    return run(req, d::DeleteGroup{*id, *g});
  }

  Response set_group_users(const Request& req) {
    auto id = param(req, "id"), g = param(req, "gid");
    if (!id || !g) return not_found();
    boost::system::error_code ec;
    json::value v = json::parse(req.body, ec);
    if (ec || !v.is_array()) {
      return http::error_response(400, "The model state is invalid.",
                                  {{"", {"The body must be an array of ids."}}});
    }
    std::vector<d::OrganizationUserId> users;
    for (const auto& e : v.as_array()) {
      auto u = e.is_string() ? d::Uuid::parse(e.as_string()) : std::nullopt;
      if (!u)
        return http::error_response(400, "The model state is invalid.",
                                    {{"", {"The body must be an array of ids."}}});
      users.push_back(*u);
    }
    return run(req, d::SetGroupMembers{*id, *g, users});
  }

  Response collections(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = open_console(req, *id)) return *e;
    json::array data;
    for (const auto& c : pj::organization_collections(engine_.projection_db(), *id)) {
      json::object o;
      o["object"] = "collectionAccessDetails";
      o["id"] = pj::to_uuid(*c.id).to_string();
      o["organizationId"] = id->to_string();
      o["name"] = c.name;
      o["externalId"] = nullptr;
      o["groups"] = access_json(c.groups);
      o["users"] = access_json(c.users);
      data.push_back(std::move(o));
    }
    return json_response(list(std::move(data)));
  }

  Response create_collection(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::CreateCollection c{*id, b.str("name", true), b.access("groups"), b.access("users")};
      if (!b.ok()) return b.invalid();
      return run(req, c, [&](const CommandResult& r) {
        json::object o;
        o["object"] = "collection";
        o["id"] = r.created_ids.at(0).to_string();
        o["organizationId"] = id->to_string();
        o["name"] = c.name;
        return o;
      });
    });
  }

  Response update_collection(const Request& req) {
    auto id = param(req, "id"), cid = param(req, "cid");
    if (!id || !cid) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::UpdateCollection c{*id, *cid, b.str("name", true), b.access("groups"), b.access("users")};
      if (!b.ok()) return b.invalid();
      return run(req, c);
    });
  }

  Response delete_collection(const Request& req) {
    auto id = param(req, "id"), cid = param(req, "cid");
    if (!id || !cid) return not_found();
    return run(req, d::DeleteCollection{*id, *cid});
  }

  Response policies(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = open_console(req, *id)) return *e;
    json::array data;
    for (const auto& p : pj::organization_policies(engine_.projection_db(), *id)) {
      json::object o;
      o["object"] = "policy";
      o["id"] = nullptr;
      o["organizationId"] = id->to_string();
      o["type"] = p.type;
      o["enabled"] = p.enabled;
      boost::system::error_code ec;
      json::value data_json = p.data.empty() ? json::value(nullptr) : json::parse(p.data, ec);
      o["data"] = ec ? json::value(nullptr) : data_json;
      data.push_back(std::move(o));
    }
    return json_response(list(std::move(data)));
  }

  // PUT /organizations/{id}/policies/{type}: {policy: {enabled, data}} (Bitwarden's
  // current shape) or {enabled, data}.
  Response save_policy(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    const std::string type_text = req.params.at("type");
    char* end = nullptr;
    const long type = std::strtol(type_text.c_str(), &end, 10);
    if (type_text.empty() || *end != '\0' || !d::policy_type_from(static_cast<int>(type))) {
      return http::error_response(400, "The model state is invalid.", {{"type", {"Unknown policy type."}}});
    }
    return with_body(req, [&](Body& outer) -> Response {
      Body policy = outer.find("policy") != nullptr ? outer.nested("policy") : outer;
      const bool enabled = policy.boolean("enabled");
      const std::string data = policy.object_text("data");
      outer.absorb(policy, "policy");
      if (!outer.ok()) return outer.invalid();
      return run(req, d::SavePolicy{*id, static_cast<d::PolicyType>(type), enabled, data});
    });
  }

  // --- vault ----------------------------------------------------------------------------------

  // Bitwarden's cipher request, as our item content: name, notes, and every other
  // encrypted string as a named field (login.username, login.password,
  // login.totp, login.uris.N, card.*, identity.*, fields.N.name|value, ...).
  static d::ItemContent content_of(Body& b) {
    d::ItemContent c;
    c.name = b.str("name", true);
    c.notes = b.str("notes");
    auto add_object = [&](const char* key) {
      const json::value* v = b.find(key);
      if (v == nullptr) return;
      if (!v->is_object()) {
        b.error(key, std::string("The ") + key + " field must be an object.");
        return;
      }
      for (const auto& kv : v->as_object()) {
        const std::string name = std::string(key) + "." + std::string(kv.key());
        if (kv.value().is_string()) {
          c.fields.push_back({name, std::string(kv.value().as_string())});
        } else if (kv.value().is_array()) {  // login.uris: [{uri, match}]
          int i = 0;
          for (const auto& e : kv.value().as_array()) {
            if (e.is_object() && e.as_object().contains("uri") && e.as_object().at("uri").is_string())
              c.fields.push_back(
                  {name + "." + std::to_string(i), std::string(e.as_object().at("uri").as_string())});
            ++i;
          }
        }
      }
    };
    for (const char* key : {"login", "card", "identity", "secureNote", "sshKey"}) add_object(key);
    if (const json::value* f = b.find("fields"); f != nullptr && f->is_array()) {
      int i = 0;
      for (const auto& e : f->as_array()) {
        if (!e.is_object()) continue;
        for (const char* part : {"name", "value"}) {
          const json::value* x = e.as_object().if_contains(part);
          if (x != nullptr && x->is_string())
            c.fields.push_back({"fields." + std::to_string(i) + "." + part, std::string(x->as_string())});
        }
        ++i;
      }
    }
    return c;
  }

  Response cipher_response(const Request& req, const d::ItemId& id) {
    auto view = engine_.read_item(id, actor(req));
    if (!view.ok()) return error(view.error());
    pj::fb::ItemRowT row;
    row.id = std::make_unique<pj::fb::Id>(pj::to_id(id));
    row.type = static_cast<std::int8_t>(view->item.type);
    row.owner = std::make_unique<pj::fb::Id>(pj::to_id(view->item.owner.value_or(d::Uuid{})));
    row.organization_id =
        std::make_unique<pj::fb::Id>(pj::to_id(view->item.organization_id.value_or(d::Uuid{})));
    for (const auto& c : view->item.collection_ids) row.collection_ids.push_back(pj::to_id(c));
    row.name = view->item.name;
    row.notes = view->item.notes;
    for (const auto& f : view->item.fields) {
      row.field_names.push_back(f.name);
      row.field_values.push_back(f.value);
    }
    row.deleted_at = view->item.deleted_at;
    row.creation_date = view->item.creation_date;
    row.revision_date = view->item.revision_date;
    return json_response(cipher_json(row, view->rights));
  }

  Response vault(const Request& req) {
    json::array data;
    for (const auto& v : pj::vault_for_user(engine_.projection_db(), req.auth->user)) {
      data.push_back(cipher_json(v.item, d::ItemRights{v.edit, v.manage, v.hide_passwords}));
    }
    return json_response(list(std::move(data)));
  }

  Response created_cipher(const Request& req, const d::CreateItem& c) {
    auto r = engine_.execute(c, actor(req), command_id(req));
    if (!r.ok()) return error(r.error());
    return positioned(cipher_response(req, r->created_ids.at(0)), r.value());
  }

  Response create_personal_cipher(const Request& req) {
    return with_body(req, [&](Body& b) -> Response {
      d::CreateItem c;
      c.type = static_cast<d::CipherType>(b.integer("type", true));
      c.organization_id = b.uuid("organizationId");
      c.content = content_of(b);
      if (!b.ok()) return b.invalid();
      if (c.organization_id) {
        return http::error_response(
            400, "The model state is invalid.",
            {{"organizationId", {"Use POST /ciphers/create with collectionIds for an organization item."}}});
      }
      return created_cipher(req, c);
    });
  }

  Response create_org_cipher(const Request& req) {
    return with_body(req, [&](Body& outer) -> Response {
      Body b = outer.nested("cipher");
      d::CreateItem c;
      c.type = static_cast<d::CipherType>(b.integer("type", true));
      c.organization_id = b.uuid("organizationId", true);
      c.content = content_of(b);
      c.collection_ids = outer.uuids("collectionIds", true);
      outer.absorb(b, "cipher");
      if (!outer.ok()) return outer.invalid();
      return created_cipher(req, c);
    });
  }

  Response get_cipher(const Request& req) {
    auto id = param(req, "cid");
    if (!id) return not_found();
    return cipher_response(req, *id);
  }

  Response update_cipher(const Request& req) {
    auto id = param(req, "cid");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::UpdateItem c{*id, content_of(b)};
      if (!b.ok()) return b.invalid();
      auto r = engine_.execute(c, actor(req), command_id(req));
      if (!r.ok()) return error(r.error());
      return positioned(cipher_response(req, *id), r.value());
    });
  }

  Response soft_delete_cipher(const Request& req) {
    auto id = param(req, "cid");
    if (!id) return not_found();
    return run(req, d::SoftDeleteItem{*id});
  }
  Response restore_cipher(const Request& req) {
    auto id = param(req, "cid");
    if (!id) return not_found();
    return run(req, d::RestoreItem{*id});
  }
  Response purge_cipher(const Request& req) {
    auto id = param(req, "cid");
    if (!id) return not_found();
    return run(req, d::PurgeItem{*id});
  }

  Response share_cipher(const Request& req) {
    auto id = param(req, "cid");
    if (!id) return not_found();
    return with_body(req, [&](Body& outer) -> Response {
      Body b = outer.nested("cipher");
      d::ShareItem c;
      c.item_id = *id;
      auto org = b.uuid("organizationId", true);
      c.content = content_of(b);
      c.collection_ids = outer.uuids("collectionIds", true);
      outer.absorb(b, "cipher");
      if (!outer.ok()) return outer.invalid();
      c.organization_id = *org;
      return run(req, c);
    });
  }

  Response cipher_collections(const Request& req) {
    auto id = param(req, "cid");
    if (!id) return not_found();
    return with_body(req, [&](Body& b) -> Response {
      d::UpdateItemCollections c{*id, b.uuids("collectionIds", true)};
      if (!b.ok()) return b.invalid();
      return run(req, c);
    });
  }

  // --- administration history -------------------------------------------------------------

  static json::object acted_json(const pj::Acted& a) {
    json::object o;
    o["object"] = "administration";
    o["providerId"] = a.provider_id.to_string();
    o["organizationId"] = a.organization_id.to_string();
    o["userId"] = a.user_id.to_string();
    o["commands"] = a.commands;
    o["firstDate"] = iso(a.first);
    o["lastDate"] = iso(a.last);
    o["lastAction"] = a.last_action;
    return o;
  }

  Response administrators(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    const d::Actor a = actor(req);
    auto allowed =
        engine_.authorize([&](d::StateReader& s) { return d::may_read_organization_events(*id, a, s); });
    if (!allowed.ok()) return error(allowed.error());
    std::vector<pj::AccessInterval> intervals;
    if (auto it = req.query.find("at"); it != req.query.end()) {
      auto at = text::parse_instant(it->second);
      if (!at)
        return http::error_response(400, "The model state is invalid.",
                                    {{"at", {"at is not an ISO 8601 date."}}});
      intervals = pj::administrators_at(engine_.projection_db(), *id, *at);
    } else {
      intervals = pj::access_history(engine_.projection_db(), *id);
    }
    json::array data;
    for (const auto& i : intervals) {
      json::object o;
      o["object"] = "administratorAccess";
      o["userId"] = i.user_id.to_string();
      o["as"] = pj::to_string(i.kind);
      o["from"] = iso(i.from);
      o["until"] = i.until == INT64_MAX ? json::value(nullptr) : json::value(iso(i.until));
      data.push_back(std::move(o));
    }
    return json_response(list(std::move(data)));
  }

  Response provider_activity(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (auto e = may_view_provider(req, *id)) return *e;
    json::array data;
    for (const auto& a : pj::acted_for_provider(engine_.projection_db(), *id)) data.push_back(acted_json(a));
    return json_response(list(std::move(data)));
  }

  // A user's own activity, or anyone's for staff.
  Response user_activity(const Request& req) {
    auto id = param(req, "id");
    if (!id) return not_found();
    if (*id != req.auth->user && !req.auth->staff) return not_found();
    json::array data;
    for (const auto& a : pj::acted_by_user(engine_.projection_db(), *id)) data.push_back(acted_json(a));
    return json_response(list(std::move(data)));
  }

  // A view's 200 answer from the cache, or built now (and kept when it is a 200).
  // Authorization is the caller's, before this: the cache only saves the reads.
  Response cached(const std::string& key, ResponseCache::Clock::duration max_age,
                  const std::function<Response()>& build) {
    const projections::Runner* runner = engine_.runner();
    if (runner == nullptr) return build();
    const std::uint64_t changes = runner->changes();
    const auto now = ResponseCache::Clock::now();
    if (auto body = responses_.get(key, changes, now, max_age)) {
      Response r;
      r.status = 200;
      r.body = *std::move(body);
      return r;
    }
    Response r = build();
    if (r.status == 200) responses_.put(key, changes, now, r.body);
    return r;
  }

  Engine& engine_;
  RoutesOptions options_;
  ResponseCache responses_;
  std::mutex mu_;
  std::set<d::UserId> known_users_;
  std::map<std::pair<d::UserId, d::OrganizationId>, std::chrono::steady_clock::time_point> opened_;
};

}  // namespace

void add_routes(http::Router& router, Engine& engine, const RoutesOptions& options) {
  Routes::add(router, std::make_shared<Routes>(engine, options));
}

}  // namespace portal::api
