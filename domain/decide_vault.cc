// The rules of collections, policies and vault items (DESIGN.md section 4,
// "Organizations" and "Rights of provider users in client organizations").
#include <algorithm>
#include <cctype>
#include <set>

#include "decide_support.h"
#include "portal/domain/enc_string.h"
#include "portal/domain/messages.h"

namespace portal::domain {

namespace {

using detail::Builder;
using detail::org_access;
using detail::OrgAccess;

// --- input rules -------------------------------------------------------------------

constexpr std::size_t kMaxCollectionName = 1000;
constexpr std::size_t kMaxItemName = 1000;
constexpr std::size_t kMaxEncryptedText = 10000;  // notes and each field
constexpr std::size_t kMaxFields = 200;
constexpr std::size_t kMaxFieldName = 100;
constexpr std::size_t kMaxPolicyData = 10000;

Error too_long(std::string_view field, std::string_view label, std::size_t limit) {
  return Error::validation(std::string(field), "The field " + std::string(label) +
                                                   " exceeds the maximum encrypted value length of " +
                                                   std::to_string(limit) + " characters.");
}

// A required or optional EncString field; the value never appears in a message.
std::optional<Error> check_encrypted(std::string_view field, std::string_view label, std::string_view value,
                                     std::size_t limit, bool required) {
  if (value.empty()) {
    if (!required) return std::nullopt;
    return Error::validation(std::string(field), "The " + std::string(label) + " field is required.");
  }
  if (value.size() > limit) return too_long(field, label, limit);
  return check_enc_string(field, label, value);
}

bool valid_field_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxFieldName && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
           ch == '_' || ch == '-';
  });
}

// Every text of an item is an EncString: plaintext is refused before anything is
// recorded, and no message repeats a value.
std::optional<Error> check_content(const ItemContent& c) {
  if (auto e = check_encrypted("name", "Name", c.name, kMaxItemName, true)) return e;
  if (auto e = check_encrypted("notes", "Notes", c.notes, kMaxEncryptedText, false)) return e;
  if (c.fields.size() > kMaxFields) {
    return Error::validation("fields", "An item has at most " + std::to_string(kMaxFields) + " fields.");
  }
  std::set<std::string_view> names;
  for (const ItemField& f : c.fields) {
    if (!valid_field_name(f.name)) {
      return Error::validation("fields", "Field names are 1 to 100 letters, digits, '.', '_' or '-'.");
    }
    if (!names.insert(f.name).second)
      return Error::validation("fields", "Field " + f.name + " appears more than once.");
    if (auto e = check_encrypted("fields", f.name, f.value, kMaxEncryptedText, true)) return e;
  }
  return std::nullopt;
}

std::vector<std::unique_ptr<fb::CipherFieldT>> to_fb(const std::vector<ItemField>& fields) {
  std::vector<std::unique_ptr<fb::CipherFieldT>> out;
  out.reserve(fields.size());
  for (const ItemField& f : fields) {
    auto field = std::make_unique<fb::CipherFieldT>();
    field->name = f.name;
    field->value = f.value;
    out.push_back(std::move(field));
  }
  return out;
}

// The requested access list, each id a group (or member) of the organization, none twice.
template <class Exists>
std::optional<Error> check_access_list(std::string_view field, const std::vector<CollectionAccess>& list,
                                       Exists exists, const char* not_found) {
  std::set<Uuid> seen;
  for (const CollectionAccess& a : list) {
    if (!exists(a.id)) return Error::validation(std::string(field), not_found);
    if (!seen.insert(a.id).second) return Error::validation(std::string(field), msg::kRepeatedId);
  }
  return std::nullopt;
}

std::optional<Error> check_access(const OrganizationState& org, const std::vector<CollectionAccess>& groups,
                                  const std::vector<CollectionAccess>& users) {
  if (auto e = check_access_list(
          "groups", groups, [&](const Uuid& id) { return org.group(id) != nullptr; }, msg::kGroupNotFound)) {
    return e;
  }
  return check_access_list(
      "users", users, [&](const Uuid& id) { return org.member(id) != nullptr; }, msg::kUserNotFound);
}

// The same grants, in any order.
bool same_access(std::vector<CollectionAccess> a, std::vector<CollectionAccess> b) {
  auto by_id = [](const CollectionAccess& x, const CollectionAccess& y) { return x.id < y.id; };
  std::sort(a.begin(), a.end(), by_id);
  std::sort(b.begin(), b.end(), by_id);
  return a == b;
}

// --- policy data: a JSON object (RFC 8259), checked without a JSON library ------------

class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}
  bool object_document() {
    space();
    if (peek() != '{' || !value(0)) return false;
    space();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 64;
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool string() {
    if (peek() != '"') return false;
    for (++i_; i_ < s_.size(); ++i_) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        const char e = s_[i_];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (++i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_]))) return false;
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool digits() {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }
  bool number() {
    if (peek() == '-') ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (peek() == '.') {
      ++i_;
      if (!digits()) return false;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!digits()) return false;
    }
    return true;
  }
  bool value(int depth) {
    if (depth > kMaxDepth) return false;
    space();
    switch (peek()) {
      case '{': {
        ++i_;
        space();
        if (peek() == '}') return ++i_, true;
        while (true) {
          space();
          if (!string()) return false;
          space();
          if (peek() != ':') return false;
          ++i_;
          if (!value(depth + 1)) return false;
          space();
          if (peek() == ',') {
            ++i_;
            continue;
          }
          if (peek() != '}') return false;
          ++i_;
          return true;
        }
      }
      case '[': {
        ++i_;
        space();
        if (peek() == ']') return ++i_, true;
        while (true) {
          if (!value(depth + 1)) return false;
          space();
          if (peek() == ',') {
            ++i_;
            continue;
          }
          if (peek() != ']') return false;
          ++i_;
          return true;
        }
      }
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

bool is_json_object(std::string_view text) {
  return JsonChecker(text).object_document();
}

// --- collections -----------------------------------------------------------------------

bool manages_collection(const OrgAccess& a, const CollectionId& id) {
  if (!a.confirmed()) return false;
  auto access = a.org->access_to(id, a.member->id);
  return access && access->manage;
}

}  // namespace

namespace detail {

Expected<Decision> run(const CreateCollection& c, const Actor& actor, StateReader& states,
                       const Environment& env) {
  auto a = org_access(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  if (!a->holds(&Permissions::create_new_collections)) return Error::permission_denied();
  if (c.name.empty()) return Error::validation("name", "The Name field is required.");
  if (c.name.size() > kMaxCollectionName) return too_long("name", "Name", kMaxCollectionName);
  if (auto e = check_access(*a->org, c.groups, c.users)) return *e;
  fb::CollectionCreatedT created;
  created.collection_id = env.new_id();
  created.name = c.name;
  created.groups = to_fb(c.groups);
  std::vector<CollectionAccess> users = c.users;
  // A Custom member who creates a collection manages it, or could not reach it again.
  const bool sees_all = a->owner_level() || a->confirmed_as(OrganizationUserType::kAdmin) ||
                        a->holds(&Permissions::edit_any_collection);
  if (!sees_all && std::none_of(users.begin(), users.end(),
                                [&](const CollectionAccess& u) { return u.id == a->member->id; })) {
    users.push_back(CollectionAccess{a->member->id, false, false, true});
  }
  created.users = to_fb(users);
  Builder b = a->builder();
  b.decision().created_ids.push_back(created.collection_id);
  b.emit(organization_stream(c.organization_id), std::move(created));
  return b.done();
}

Expected<Decision> run(const UpdateCollection& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = org_access(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  const Collection* collection = a->org->collection(c.collection_id);
  if (collection == nullptr) return Error::not_found(msg::kCollectionNotFound);
  if (!a->holds(&Permissions::edit_any_collection) && !manages_collection(a.value(), c.collection_id)) {
    return Error::permission_denied();
  }
  if (c.name.empty()) return Error::validation("name", "The Name field is required.");
  if (c.name.size() > kMaxCollectionName) return too_long("name", "Name", kMaxCollectionName);
  if (auto e = check_access(*a->org, c.groups, c.users)) return *e;
  Builder b = a->builder();
  if (collection->name == c.name && same_access(collection->groups, c.groups) &&
      same_access(collection->users, c.users)) {
    return b.done();
  }
  fb::CollectionUpdatedT updated;
  updated.collection_id = c.collection_id;
  updated.name = c.name;
  updated.groups = to_fb(c.groups);
  updated.users = to_fb(c.users);
  return b.emit(organization_stream(c.organization_id), std::move(updated)).done();
}

Expected<Decision> run(const DeleteCollection& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto a = org_access(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  if (a->org->collection(c.collection_id) == nullptr) return Error::not_found(msg::kCollectionNotFound);
  if (!a->holds(&Permissions::delete_any_collection) && !manages_collection(a.value(), c.collection_id)) {
    return Error::permission_denied();
  }
  fb::CollectionDeletedT deleted;
  deleted.collection_id = c.collection_id;
  return a->builder().emit(organization_stream(c.organization_id), std::move(deleted)).done();
}

// --- policies ------------------------------------------------------------------------------

Expected<Decision> run(const SavePolicy& c, const Actor& actor, StateReader& states, const Environment&) {
  auto a = org_access(states, c.organization_id, actor);
  if (!a.ok()) return a.error();
  if (!a->holds(&Permissions::manage_policies)) return Error::permission_denied();
  if (!policy_type_from(static_cast<int>(c.type))) return Error::validation("type", "Unknown policy type.");
  if (c.data.size() > kMaxPolicyData)
    return Error::validation("data", "The policy data is longer than 10000 characters.");
  if (!c.data.empty() && !is_json_object(c.data)) return Error::validation("data", msg::kInvalidPolicyData);
  const OrganizationState& org = *a->org;
  // Policies that only make sense under SingleOrg, as Bitwarden has them.
  const bool needs_single_org =
      c.type == PolicyType::kRequireSso || c.type == PolicyType::kMaximumVaultTimeout;
  if (c.enabled && needs_single_org && !org.policy_enabled(PolicyType::kSingleOrg))
    return Error::failed_precondition(msg::kSingleOrgNotEnabled);
  if (!c.enabled && c.type == PolicyType::kSingleOrg) {
    if (org.policy_enabled(PolicyType::kRequireSso)) return Error::failed_precondition(msg::kRequiredBySso);
    if (org.policy_enabled(PolicyType::kMaximumVaultTimeout))
      return Error::failed_precondition(msg::kRequiredByVaultTimeout);
  }
  Builder b = a->builder();
  auto it = org.policies.find(c.type);
  if (it != org.policies.end() && it->second == Policy{c.type, c.enabled, c.data}) return b.done();
  fb::PolicyUpdatedT updated;
  updated.type = static_cast<std::int16_t>(c.type);
  updated.enabled = c.enabled;
  updated.data = c.data;
  return b.emit(organization_stream(c.organization_id), std::move(updated)).done();
}

}  // namespace detail

// --- vault access ---------------------------------------------------------------------------

namespace {

// A confirmed member's reach into an organization's vault.
struct VaultAccess {
  const OrganizationState* org = nullptr;
  const OrganizationMember* member = nullptr;
  bool all_items = false;  // Owner, Admin, Custom with edit_any_collection

  bool can_write(const CollectionId& id) const {
    if (all_items) return org->collection(id) != nullptr;
    auto access = org->access_to(id, member->id);
    return access && !access->read_only;
  }
};

Expected<VaultAccess> vault_access(StateReader& states, const OrganizationId& org_id, const Actor& actor) {
  const OrganizationState* org = states.organization(org_id);
  if (org == nullptr || !org->exists) return Error::not_found();
  const OrganizationMember* m = actor.user_id.is_nil() ? nullptr : org->member_by_user_id(actor.user_id);
  if (m == nullptr || m->status != OrganizationUserStatus::kConfirmed) {
    // Provider users run the console but never the vault; they are told so. The
    // provider is only read on this refusal path: members' writes never depend on it.
    if (org->provider_id && !actor.user_id.is_nil()) {
      const ProviderState* p = states.provider(*org->provider_id);
      const ProviderUser* pu = p == nullptr ? nullptr : p->user_by_user_id(actor.user_id);
      if (pu != nullptr && pu->status == ProviderUserStatus::kConfirmed)
        return Error::permission_denied(msg::kProviderUsersHaveNoVault);
    }
    if (m == nullptr && actor.staff) return Error::permission_denied();
    return Error::not_found();
  }
  if (!org->enabled) return Error::failed_precondition(msg::kOrganizationDisabled);
  VaultAccess v{org, m, false};
  v.all_items = m->type == OrganizationUserType::kOwner || m->type == OrganizationUserType::kAdmin ||
                (m->type == OrganizationUserType::kCustom && m->permissions.edit_any_collection);
  return v;
}

// The chosen collections of an organization item: at least one, each of the
// organization and writable by the actor; repeats dropped.
Expected<std::vector<CollectionId>> writable_collections(const VaultAccess& v,
                                                         const std::vector<CollectionId>& requested) {
  if (requested.empty()) return Error::validation("collectionIds", msg::kSelectCollection);
  std::vector<CollectionId> out;
  for (const CollectionId& id : requested) {
    if (v.org->collection(id) == nullptr) return Error::validation("collectionIds", msg::kCollectionNotFound);
    if (!v.can_write(id)) return Error::permission_denied(msg::kNoEditPermission);
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

// OrganizationDataOwnership: a member (accepted or confirmed, not an Owner or
// Admin) of an organization with the policy on keeps no personal items.
std::optional<Error> personal_ownership_refusal(StateReader& states, const UserState& me) {
  for (const OrganizationId& id : me.organizations) {
    const OrganizationState* org = states.organization(id);
    if (org == nullptr || !org->policy_enabled(PolicyType::kOrganizationDataOwnership)) continue;
    const OrganizationMember* m = org->member_by_user_id(me.id);
    if (m == nullptr || m->status == OrganizationUserStatus::kRevoked ||
        m->status == OrganizationUserStatus::kInvited || m->type == OrganizationUserType::kOwner ||
        m->type == OrganizationUserType::kAdmin) {
      continue;
    }
    return Error::failed_precondition(msg::kPersonalOwnershipPolicy);
  }
  return std::nullopt;
}

// The item a command addresses, with the actor's rights to it.
struct ItemTarget {
  const ItemState* item = nullptr;
  ItemRights rights;
};

Expected<ItemTarget> target_item(StateReader& states, const ItemId& id, const Actor& actor) {
  const ItemState* item = states.item(id);
  if (item == nullptr || !item->exists) return Error::not_found();
  auto rights = item_rights(*item, actor, states);
  if (!rights.ok()) return rights.error();
  return ItemTarget{item, rights.value()};
}

Expected<ItemTarget> editable_item(StateReader& states, const ItemId& id, const Actor& actor) {
  auto t = target_item(states, id, actor);
  if (!t.ok()) return t;
  if (!t->rights.edit) return Error::permission_denied(msg::kNoEditPermission);
  return t;
}

Uuid org_of(const ItemState& item) {
  return item.organization_id.value_or(Uuid{});
}

}  // namespace

Expected<ItemRights> item_rights(const ItemState& item, const Actor& actor, StateReader& states) {
  if (!item.exists) return Error::not_found();
  if (!item.organization_id) {
    if (item.owner && !actor.user_id.is_nil() && *item.owner == actor.user_id)
      return ItemRights{true, true, false};
    return Error::not_found();
  }
  auto v = vault_access(states, *item.organization_id, actor);
  if (!v.ok()) return v.error();
  if (v->all_items) return ItemRights{true, true, false};
  std::optional<ItemRights> rights;
  for (const CollectionId& id : item.collection_ids) {
    auto access = v->org->access_to(id, v->member->id);
    if (!access) continue;
    if (!rights) rights = ItemRights{false, false, true};
    rights->edit = rights->edit || !access->read_only;
    rights->manage = rights->manage || access->manage;
    rights->hide_passwords = rights->hide_passwords && access->hide_passwords;
  }
  if (!rights) return Error::not_found();
  return *rights;
}

Expected<bool> may_view_organization(const OrganizationId& id, const Actor& actor, StateReader& states) {
  auto a = detail::org_access(states, id, actor);
  if (!a.ok()) return a.error();
  if (a->as_provider_user || a->confirmed()) return true;
  return Error::not_found();
}

Expected<bool> may_read_organization_events(const OrganizationId& id, const Actor& actor, StateReader& states) {
  auto a = detail::org_access(states, id, actor);
  if (!a.ok()) return a.error();
  if (a->holds(&Permissions::access_event_logs)) return true;
  return Error::permission_denied();
}

namespace detail {

Expected<Decision> run(const CreateItem& c, const Actor& actor, StateReader& states, const Environment& env) {
  if (!cipher_type_from(static_cast<int>(c.type))) return Error::validation("type", "Unknown item type.");
  fb::CipherCreatedT created;
  Builder b = Builder::direct();
  if (c.organization_id) {
    auto v = vault_access(states, *c.organization_id, actor);
    if (!v.ok()) return v.error();
    auto collections = writable_collections(v.value(), c.collection_ids);
    if (!collections.ok()) return collections.error();
    if (auto e = check_content(c.content)) return *e;
    created.organization_id = *c.organization_id;
    created.collection_ids = std::move(collections.value());
  } else {
    const UserState* me = actor.user_id.is_nil() ? nullptr : states.user(actor.user_id);
    if (me == nullptr || !me->exists) return Error::not_found("User not found.");
    if (!c.collection_ids.empty())
      return Error::validation("collectionIds", msg::kPersonalItemHasNoCollections);
    if (auto e = check_content(c.content)) return *e;
    if (auto e = personal_ownership_refusal(states, *me)) return *e;
    created.user_id = actor.user_id;
  }
  created.cipher_id = env.new_id();
  created.type = static_cast<std::int8_t>(c.type);
  created.name = c.content.name;
  created.notes = c.content.notes;
  created.fields = to_fb(c.content.fields);
  const ItemId id = created.cipher_id;
  b.decision().created_ids.push_back(id);
  return b.emit(item_stream(id), std::move(created)).done();
}

Expected<Decision> run(const UpdateItem& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t = editable_item(states, c.item_id, actor);
  if (!t.ok()) return t.error();
  if (t->item->deleted_at != 0) return Error::failed_precondition(msg::kItemInTrash);
  if (auto e = check_content(c.content)) return *e;
  fb::CipherUpdatedT updated;
  updated.organization_id = org_of(*t->item);
  updated.name = c.content.name;
  updated.notes = c.content.notes;
  updated.fields = to_fb(c.content.fields);
  return Builder::direct().emit(item_stream(c.item_id), std::move(updated)).done();
}

Expected<Decision> run(const SoftDeleteItem& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t = editable_item(states, c.item_id, actor);
  if (!t.ok()) return t.error();
  if (t->item->deleted_at != 0) return Error::failed_precondition(msg::kItemAlreadyInTrash);
  fb::CipherSoftDeletedT deleted;
  deleted.organization_id = org_of(*t->item);
  return Builder::direct().emit(item_stream(c.item_id), std::move(deleted)).done();
}

Expected<Decision> run(const RestoreItem& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t = editable_item(states, c.item_id, actor);
  if (!t.ok()) return t.error();
  if (t->item->deleted_at == 0) return Error::failed_precondition(msg::kItemNotInTrash);
  fb::CipherRestoredT restored;
  restored.organization_id = org_of(*t->item);
  return Builder::direct().emit(item_stream(c.item_id), std::move(restored)).done();
}

Expected<Decision> run(const PurgeItem& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t = target_item(states, c.item_id, actor);
  if (!t.ok()) return t.error();
  if (!t->rights.manage) return Error::permission_denied(msg::kNoDeletePermission);
  fb::CipherDeletedT purged;
  purged.organization_id = org_of(*t->item);
  return Builder::direct().emit(item_stream(c.item_id), std::move(purged)).done();
}

Expected<Decision> run(const ShareItem& c, const Actor& actor, StateReader& states, const Environment&) {
  auto t = target_item(states, c.item_id, actor);
  if (!t.ok()) return t.error();
  if (t->item->organization_id) return Error::failed_precondition(msg::kItemAlreadyShared);
  if (t->item->deleted_at != 0) return Error::failed_precondition(msg::kItemInTrash);
  auto v = vault_access(states, c.organization_id, actor);
  if (!v.ok()) return v.error();
  auto collections = writable_collections(v.value(), c.collection_ids);
  if (!collections.ok()) return collections.error();
  if (auto e = check_content(c.content)) return *e;
  fb::CipherSharedT shared;
  shared.organization_id = c.organization_id;
  shared.collection_ids = std::move(collections.value());
  shared.name = c.content.name;
  shared.notes = c.content.notes;
  shared.fields = to_fb(c.content.fields);
  return Builder::direct().emit(item_stream(c.item_id), std::move(shared)).done();
}

Expected<Decision> run(const UpdateItemCollections& c, const Actor& actor, StateReader& states,
                       const Environment&) {
  auto t = target_item(states, c.item_id, actor);
  if (!t.ok()) return t.error();
  const ItemState& item = *t->item;
  if (!item.organization_id) return Error::validation("collectionIds", msg::kPersonalItemHasNoCollections);
  if (!t->rights.edit) return Error::permission_denied(msg::kNoEditPermission);
  auto v = vault_access(states, *item.organization_id, actor);
  if (!v.ok()) return v.error();
  auto collections = writable_collections(v.value(), c.collection_ids);
  if (!collections.ok()) return collections.error();
  // Taking an item out of a collection is an edit of that collection too.
  for (const CollectionId& id : item.collection_ids) {
    const bool removed = std::find(collections->begin(), collections->end(), id) == collections->end();
    if (removed && v->org->collection(id) != nullptr && !v->can_write(id))
      return Error::permission_denied(msg::kNoEditPermission);
  }
  Builder b = Builder::direct();
  auto sorted = [](std::vector<CollectionId> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  if (sorted(collections.value()) == sorted(item.collection_ids)) return b.done();
  fb::CipherCollectionsUpdatedT updated;
  updated.organization_id = *item.organization_id;
  updated.collection_ids = std::move(collections.value());
  return b.emit(item_stream(c.item_id), std::move(updated)).done();
}

}  // namespace detail

}  // namespace portal::domain
