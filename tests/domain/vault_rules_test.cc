// Scenario tests for vault items (DESIGN.md section 4, "Organizations" and "Rights
// of provider users in client organizations"): CreateItem, UpdateItem,
// SoftDeleteItem, RestoreItem, PurgeItem, ShareItem, UpdateItemCollections, and the
// two read rules item_rights and may_view_organization. Each scenario runs real
// commands against the in-memory world and checks, on success, the exact events
// (stream item-<id>, type name, Bitwarden code), their fields and the folded item,
// and on refusal the Error kind, field and exact message, and that nothing was
// recorded.
//
// Events (all on the item's stream): CipherCreated 1100, CipherUpdated 1101,
// CipherDeleted 1102 (purge), CipherShared 1105, CipherCollectionsUpdated 1106,
// CipherSoftDeleted 1115, CipherRestored 1116.
//
// Every suite name starts with "Vault" (run them with --gtest_filter='Vault*:Item*').
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain_test_support.h"
#include "portal/domain/messages.h"

namespace portal::domain::test {
namespace {

constexpr std::uint32_t kCreated = 1100;
constexpr std::uint32_t kUpdated = 1101;
constexpr std::uint32_t kPurged = 1102;
constexpr std::uint32_t kShared = 1105;
constexpr std::uint32_t kCollectionsUpdated = 1106;
constexpr std::uint32_t kSoftDeleted = 1115;
constexpr std::uint32_t kRestored = 1116;

// Well-formed EncStrings (type 2: iv|ct|mac, each part base64 of a length divisible by 4).
constexpr const char* kName = "2.bmFtZQ==|Y3Q=|bWFj";
constexpr const char* kNewName = "2.bmV3|bmFtZQ==|bWFj";
constexpr const char* kNotes = "2.bm90ZXM=|Y3Q=|bWFj";
constexpr const char* kUsername = "2.dXNlcg==|Y3Q=|bWFj";
constexpr const char* kPassword = "2.cGFzcw==|Y3Q=|bWFj";
constexpr const char* kSharedName = "2.c2hhcmVk|b3Jna2V5|bWFj";  // re-encrypted with the organization key

// What a careless client might send instead of ciphertext.
constexpr const char* kPlaintext = "correct horse battery staple";

constexpr const char* kNameNotEncrypted = "Name is not a valid encrypted string.";
constexpr const char* kNotesNotEncrypted = "Notes is not a valid encrypted string.";

// --- commands ------------------------------------------------------------------------------------

ItemContent content(std::string name = kName) {
  return ItemContent{std::move(name), kNotes, {{"login.username", kUsername}, {"login.password", kPassword}}};
}

CreateItem personal_item(ItemContent c = content()) {
  return CreateItem{CipherType::kLogin, std::nullopt, {}, std::move(c)};
}

CreateItem org_item(const OrganizationId& org, std::vector<CollectionId> collections,
                    ItemContent c = content()) {
  return CreateItem{CipherType::kLogin, org, std::move(collections), std::move(c)};
}

ItemId create_item(World& w, const Actor& by, const CreateItem& c) {
  Decision d = run_ok(w, c, by);
  if (d.created_ids.size() != 1)
    throw std::runtime_error("CreateItem created " + std::to_string(d.created_ids.size()));
  return d.created_ids[0];
}

Expected<ItemRights> rights(World& w, const ItemId& id, const Actor& actor) {
  const ItemState* item = w.item(id);
  if (item == nullptr) throw std::runtime_error("no item stream " + id.to_string());
  return item_rights(*item, actor, w);
}

// --- assertions ----------------------------------------------------------------------------------

template <class T>
::testing::AssertionResult is_denied(const Expected<T>& r, ErrorKind kind,
                                     std::optional<std::string_view> message = std::nullopt) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected " << to_string(kind) << ", got access";
  if (r.error().kind != kind || (message && r.error().message != *message)) {
    return ::testing::AssertionFailure() << "expected " << to_string(kind)
                                         << (message ? " \"" + std::string(*message) + "\"" : std::string())
                                         << ", got " << describe(r.error());
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult has_rights(const Expected<ItemRights>& r, bool edit, bool manage,
                                      bool hide_passwords) {
  if (!r.ok()) return ::testing::AssertionFailure() << "refused: " << describe(r.error());
  if (r->edit != edit || r->manage != manage || r->hide_passwords != hide_passwords) {
    return ::testing::AssertionFailure()
           << "rights edit=" << r->edit << " manage=" << r->manage << " hide_passwords=" << r->hide_passwords
           << "; expected edit=" << edit << " manage=" << manage << " hide_passwords=" << hide_passwords;
  }
  return ::testing::AssertionSuccess();
}

// Whether any recorded event (payload or actor) contains `text`.
bool log_mentions(const World& w, std::string_view text) {
  for (const LoggedEvent& e : w.log()) {
    if (encode_payload(e.payload).find(text) != std::string::npos) return true;
    if (encode_actor(e.actor).find(text) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> field_values(const std::vector<std::unique_ptr<fb::CipherFieldT>>& fields) {
  std::vector<std::string> out;
  for (const auto& f : fields) out.push_back(f->name + "=" + f->value);
  return out;
}

const std::vector<std::string> kContentFields = {std::string("login.username=") + kUsername,
                                                 std::string("login.password=") + kPassword};

// --- the vault world -----------------------------------------------------------------------------

// Contoso (the cast's adopted client of the cast's provider, seats raised to 30)
// with collections granting every kind of access, members of every kind and
// status, and a second client of the same provider (Initech) with its own
// confirmed owner, collection and item.
struct Vault {
  OrganizationId org;  // Contoso
  Actor owner;         // the cast's client_owner: a confirmed Owner
  Member admin;        // confirmed Admin
  Member editor;       // confirmed Custom with edit_any_collection
  Member custom;       // confirmed Custom with manage_users only: reaches items through collections
  Member user;         // confirmed User: rw, ro, manage, hidden, mixed (hidden directly)
  Member grouped;      // confirmed User: in the group; direct grant on mixed hides passwords
  Member bystander;    // confirmed User with no grant at all
  Member revoked;      // had rw, then revoked
  Actor invited;       // registered; invited with rw, not accepted
  OrganizationUserId invited_id;
  Actor accepted;  // invited with rw and accepted, not confirmed
  OrganizationUserId accepted_id;
  GroupId group;
  CollectionId rw;        // user: read-write; custom: read-write; revoked: read-write
  CollectionId ro;        // user: read-only
  CollectionId manage;    // user: manage
  CollectionId hidden;    // user: read-write, passwords hidden
  CollectionId by_group;  // group: read-write
  CollectionId mixed;     // grouped: hidden directly, shown by the group
  CollectionId none;      // nobody granted

  // The other client.
  OrganizationId other_org;  // Initech
  Actor other_owner;         // its confirmed Owner
  CollectionId other_collection;
  ItemId other_item;
};

constexpr Permissions kEditAny{.manage_users = false,
                               .manage_groups = false,
                               .manage_policies = false,
                               .create_new_collections = false,
                               .edit_any_collection = true,
                               .delete_any_collection = false,
                               .access_event_logs = false};
constexpr Permissions kManageUsersOnly{.manage_users = true,
                                       .manage_groups = false,
                                       .manage_policies = false,
                                       .create_new_collections = false,
                                       .edit_any_collection = false,
                                       .delete_any_collection = false,
                                       .access_event_logs = false};

CollectionId create_collection(World& w, const Actor& by, const OrganizationId& org, const std::string& name,
                               std::vector<CollectionAccess> users,
                               std::vector<CollectionAccess> groups = {}) {
  return run_ok(w, CreateCollection{org, name, std::move(groups), std::move(users)}, by).created_ids.at(0);
}

Vault build_vault(World& w, const Cast& c) {
  run_ok(w, UpdateClientOrg{c.provider, c.adopted_client, "Contoso", 30}, c.owner);
  Vault v;
  v.org = c.adopted_org;
  v.owner = c.client_owner;
  v.admin = add_member(w, v.owner, v.org, "admin@contoso.test", OrganizationUserType::kAdmin);
  v.editor = add_member(w, v.owner, v.org, "editor@contoso.test", OrganizationUserType::kCustom, kEditAny);
  v.custom =
      add_member(w, v.owner, v.org, "custom@contoso.test", OrganizationUserType::kCustom, kManageUsersOnly);
  v.user = add_member(w, v.owner, v.org, "user@contoso.test", OrganizationUserType::kUser);
  v.grouped = add_member(w, v.owner, v.org, "grouped@contoso.test", OrganizationUserType::kUser);
  v.bystander = add_member(w, v.owner, v.org, "bystander@contoso.test", OrganizationUserType::kUser);
  v.revoked = add_member(w, v.owner, v.org, "revoked@contoso.test", OrganizationUserType::kUser);

  v.group = run_ok(w, CreateGroup{v.org, "Engineering", {v.grouped.id}}, v.owner).created_ids.at(0);
  const auto rw = [](const OrganizationUserId& id) { return CollectionAccess{id, false, false, false}; };
  v.rw = create_collection(w, v.owner, v.org, "2.cnc=|Y3Q=|bWFj",
                           {rw(v.user.id), rw(v.custom.id), rw(v.revoked.id)});
  v.ro = create_collection(w, v.owner, v.org, "ro", {CollectionAccess{v.user.id, true, false, false}});
  v.manage =
      create_collection(w, v.owner, v.org, "manage", {CollectionAccess{v.user.id, false, false, true}});
  v.hidden =
      create_collection(w, v.owner, v.org, "hidden", {CollectionAccess{v.user.id, false, true, false}});
  v.by_group =
      create_collection(w, v.owner, v.org, "by group", {}, {CollectionAccess{v.group, false, false, false}});
  v.mixed =
      create_collection(w, v.owner, v.org, "mixed", {CollectionAccess{v.grouped.id, false, true, false}},
                        {CollectionAccess{v.group, false, false, false}});
  v.none = create_collection(w, v.owner, v.org, "none", {});

  run_ok(w, RevokeMember{v.org, v.revoked.id}, v.owner);

  InviteMembers invite;
  invite.organization_id = v.org;
  invite.type = OrganizationUserType::kUser;
  invite.collections = {rw(v.rw)};
  invite.emails = {"invited@contoso.test"};
  v.invited = register_user(w, "invited@contoso.test");
  v.invited_id = run_ok(w, invite, v.owner).created_ids.at(0);
  invite.emails = {"accepted@contoso.test"};
  v.accepted = register_user(w, "accepted@contoso.test");
  Decision accepted = run_ok(w, invite, v.owner);
  v.accepted_id = accepted.created_ids.at(0);
  run_ok(w, AcceptMember{v.org, v.accepted_id, accepted.tokens.at(0)}, v.accepted);

  NewClient initech = add_new_client(w, c.owner, c.provider, "Initech", "owner@initech.test");
  v.other_org = initech.organization_id;
  v.other_collection = initech.collection_id;
  v.other_owner = register_user(w, "owner@initech.test");
  run_ok(w, AcceptMember{v.other_org, initech.owner_organization_user_id, initech.owner_token},
         v.other_owner);
  run_ok(w, ConfirmMember{v.other_org, initech.owner_organization_user_id, kOrgKey}, c.owner);
  v.other_item = create_item(w, v.other_owner, org_item(v.other_org, {v.other_collection}));
  return v;
}

// An item of Contoso in these collections, created by its Owner.
ItemId item_in(World& w, const Vault& v, std::vector<CollectionId> collections) {
  return create_item(w, v.owner, org_item(v.org, std::move(collections)));
}

// ===== personal items ============================================================================

TEST(VaultPersonal, AnyRegisteredUserCreatesAPersonalItem) {
  World w;
  Cast c = build_cast(w);
  auto r = run(w, personal_item(), c.unrelated);
  ASSERT_TRUE(is_ok(r));
  ASSERT_EQ(r->created_ids.size(), 1u);
  const ItemId id = r->created_ids[0];
  EXPECT_TRUE(has_events(r, {{item_stream(id), "CipherCreated", kCreated}}));
  EXPECT_TRUE(recorded_as(r, c.unrelated, ActingAs::kDirect));
  const auto& e = *r->events[0].payload.AsCipherCreated();
  EXPECT_EQ(e.cipher_id, id);
  EXPECT_EQ(e.type, static_cast<std::int8_t>(CipherType::kLogin));
  EXPECT_EQ(e.user_id, c.unrelated.user_id);
  EXPECT_TRUE(e.organization_id.is_nil());
  EXPECT_TRUE(e.collection_ids.empty());
  EXPECT_EQ(e.name, kName);
  EXPECT_EQ(e.notes, kNotes);
  EXPECT_EQ(field_values(e.fields), kContentFields);

  const ItemState& item = *w.item(id);
  EXPECT_TRUE(item.exists);
  EXPECT_EQ(item.owner, c.unrelated.user_id);
  EXPECT_FALSE(item.organization_id.has_value());
  EXPECT_EQ(item.name, kName);
  EXPECT_EQ(item.deleted_at, 0);
  EXPECT_TRUE(has_rights(rights(w, id, c.unrelated), true, true, false));
}

TEST(VaultPersonal, ItsOwnerUpdatesTrashesRestoresAndPurgesIt) {
  World w;
  Cast c = build_cast(w);
  const Actor& me = c.client_owner;
  const ItemId id = create_item(w, me, personal_item());
  const std::string stream = item_stream(id);

  ItemContent changed{kNewName, "", {{"login.uris.0", kUsername}}};
  auto updated = run(w, UpdateItem{id, changed}, me);
  EXPECT_TRUE(has_events(updated, {{stream, "CipherUpdated", kUpdated}}));
  EXPECT_TRUE(recorded_as(updated, me, ActingAs::kDirect));
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->events[0].payload.AsCipherUpdated()->organization_id.is_nil());
  EXPECT_EQ(updated->events[0].payload.AsCipherUpdated()->name, kNewName);
  EXPECT_EQ(w.item(id)->name, kNewName);
  EXPECT_EQ(w.item(id)->notes, "");
  EXPECT_EQ(w.item(id)->fields, (std::vector<ItemField>{{"login.uris.0", kUsername}}));

  w.advance_hours(1);
  auto trashed = run(w, SoftDeleteItem{id}, me);
  EXPECT_TRUE(has_events(trashed, {{stream, "CipherSoftDeleted", kSoftDeleted}}));
  EXPECT_EQ(w.item(id)->deleted_at, w.now());
  EXPECT_TRUE(w.item(id)->exists) << "the trash keeps the item";

  auto restored = run(w, RestoreItem{id}, me);
  EXPECT_TRUE(has_events(restored, {{stream, "CipherRestored", kRestored}}));
  EXPECT_EQ(w.item(id)->deleted_at, 0);

  auto purged = run(w, PurgeItem{id}, me);
  EXPECT_TRUE(has_events(purged, {{stream, "CipherDeleted", kPurged}}));
  EXPECT_TRUE(recorded_as(purged, me, ActingAs::kDirect));
  EXPECT_FALSE(w.item(id)->exists);
  EXPECT_TRUE(w.item(id)->name.empty()) << "a purged item keeps no content";
}

TEST(VaultPersonal, APurgedItemIsGoneForEveryCommand) {
  World w;
  Cast c = build_cast(w);
  const Actor& me = c.unrelated;
  const ItemId id = create_item(w, me, personal_item());
  run_ok(w, PurgeItem{id}, me);
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(is_denied(rights(w, id, me), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, UpdateItem{id, content()}, me), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, SoftDeleteItem{id}, me), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, RestoreItem{id}, me), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, PurgeItem{id}, me), ErrorKind::kNotFound));
  EXPECT_EQ(w.log().size(), logged);
}

TEST(VaultPersonal, AnUnknownItemIsNotFound) {
  World w;
  Cast c = build_cast(w);
  const ItemId nobody = w.new_id();
  EXPECT_TRUE(is_refused(run(w, UpdateItem{nobody, content()}, c.unrelated), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, PurgeItem{nobody}, c.staff), ErrorKind::kNotFound));
}

// NEGATIVE: a personal item does not exist for anyone but its owner.
TEST(VaultPersonal, NobodyButItsOwnerReachesAPersonalItem) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = create_item(w, v.user.actor, personal_item());
  const std::size_t logged = w.log().size();
  // Another member, the Owner and an Admin of an organization the owner belongs to,
  // staff, the provider's users, someone unrelated.
  const std::vector<std::pair<std::string, Actor>> others = {
      {"another member", v.grouped.actor}, {"an Owner of the user's organization", v.owner},
      {"an Admin of it", v.admin.actor},   {"staff", c.staff},
      {"the provider admin", c.owner},     {"a service user", c.service_user},
      {"someone unrelated", c.unrelated},
  };
  for (const auto& [who, actor] : others) {
    SCOPED_TRACE(who);
    EXPECT_TRUE(is_denied(rights(w, id, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, UpdateItem{id, content(kNewName)}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, SoftDeleteItem{id}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, RestoreItem{id}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, PurgeItem{id}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(
        is_refused(run(w, ShareItem{id, v.org, {v.rw}, content(kSharedName)}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{id, {v.rw}}, actor), ErrorKind::kNotFound));
  }
  EXPECT_EQ(w.log().size(), logged) << "nothing recorded";
  EXPECT_TRUE(w.item(id)->exists);
  EXPECT_EQ(w.item(id)->name, kName);
  EXPECT_EQ(w.item(id)->owner, v.user.actor.user_id);
}

TEST(VaultPersonal, APersonalItemHasNoCollections) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  CreateItem with_collections = personal_item();
  with_collections.collection_ids = {v.rw};
  auto r = run(w, with_collections, v.user.actor);
  ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, msg::kPersonalItemHasNoCollections));
  EXPECT_EQ(r.error().field, "collectionIds");

  const ItemId id = create_item(w, v.user.actor, personal_item());
  const std::size_t logged = w.log().size();
  auto moved = run(w, UpdateItemCollections{id, {v.rw}}, v.user.actor);
  ASSERT_TRUE(is_refused(moved, ErrorKind::kValidation, msg::kPersonalItemHasNoCollections));
  EXPECT_EQ(moved.error().field, "collectionIds");
  EXPECT_EQ(w.log().size(), logged);
  EXPECT_TRUE(w.item(id)->collection_ids.empty());
}

// OrganizationDataOwnership: members (not Owners or Admins) keep no personal items.
TEST(VaultPersonal, DataOwnershipPolicyRefusesPersonalItemsToMembers) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  run_ok(w, SavePolicy{v.org, PolicyType::kOrganizationDataOwnership, true, ""}, v.owner);
  EXPECT_TRUE(is_refused(run(w, personal_item(), v.user.actor), ErrorKind::kFailedPrecondition,
                         msg::kPersonalOwnershipPolicy));
  EXPECT_TRUE(is_ok(run(w, personal_item(), v.owner)));
  EXPECT_TRUE(is_ok(run(w, personal_item(), v.admin.actor)));
  // Organization items remain possible for the member.
  EXPECT_TRUE(is_ok(run(w, org_item(v.org, {v.rw}), v.user.actor)));
}

// ===== organization items: creating =============================================================

TEST(VaultOrgItem, AMemberCreatesAnItemInCollectionsTheyCanWrite) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  // Repeats are dropped.
  auto r = run(w, org_item(v.org, {v.rw, v.manage, v.rw}), v.user.actor);
  ASSERT_TRUE(is_ok(r));
  const ItemId id = r->created_ids.at(0);
  EXPECT_TRUE(has_events(r, {{item_stream(id), "CipherCreated", kCreated}}));
  EXPECT_TRUE(recorded_as(r, v.user.actor, ActingAs::kDirect));
  const auto& e = *r->events[0].payload.AsCipherCreated();
  EXPECT_EQ(e.cipher_id, id);
  EXPECT_TRUE(e.user_id.is_nil()) << "an organization item has no personal owner";
  EXPECT_EQ(e.organization_id, v.org);
  EXPECT_EQ(e.collection_ids, (std::vector<CollectionId>{v.rw, v.manage}));
  EXPECT_EQ(e.name, kName);
  EXPECT_EQ(field_values(e.fields), kContentFields);
  const ItemState& item = *w.item(id);
  EXPECT_EQ(item.organization_id, v.org);
  EXPECT_FALSE(item.owner.has_value());
  EXPECT_EQ(item.collection_ids, (std::vector<CollectionId>{v.rw, v.manage}));
  // The creator reaches it through the collections: edit (rw), manage (manage).
  EXPECT_TRUE(has_rights(rights(w, id, v.user.actor), true, true, false));
  EXPECT_TRUE(has_rights(rights(w, id, v.owner), true, true, false));
  EXPECT_TRUE(is_denied(rights(w, id, v.bystander.actor), ErrorKind::kNotFound));
}

TEST(VaultOrgItem, AtLeastOneCollectionIsRequired) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const std::size_t logged = w.log().size();
  for (const Actor& actor : {v.owner, v.user.actor}) {
    auto r = run(w, org_item(v.org, {}), actor);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, msg::kSelectCollection));
    EXPECT_EQ(r.error().field, "collectionIds");
  }
  EXPECT_EQ(w.log().size(), logged);
}

TEST(VaultOrgItem, CollectionsMustBeTheOrganizations) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const std::size_t logged = w.log().size();
  // An id nobody has, and a collection of the provider's other client.
  for (const CollectionId& foreign : {w.new_id(), v.other_collection}) {
    SCOPED_TRACE(foreign.to_string());
    auto r = run(w, org_item(v.org, {v.rw, foreign}), v.owner);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, msg::kCollectionNotFound));
    EXPECT_EQ(r.error().field, "collectionIds");
  }
  // A deleted collection is no longer one.
  run_ok(w, DeleteCollection{v.org, v.none}, v.owner);
  EXPECT_TRUE(is_refused(run(w, org_item(v.org, {v.none}), v.owner), ErrorKind::kValidation,
                         msg::kCollectionNotFound));
  EXPECT_EQ(w.log().size(), logged + 1) << "only the deletion is recorded";
}

TEST(VaultOrgItem, EveryChosenCollectionMustBeWritable) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const std::size_t logged = w.log().size();
  // Read-only, read-only among writable ones, not granted at all.
  for (const auto& collections :
       std::vector<std::vector<CollectionId>>{{v.ro}, {v.rw, v.ro}, {v.none}, {v.rw, v.by_group}}) {
    auto r = run(w, org_item(v.org, collections), v.user.actor);
    EXPECT_TRUE(is_refused(r, ErrorKind::kPermissionDenied, msg::kNoEditPermission));
  }
  EXPECT_EQ(w.log().size(), logged);
  // Hidden passwords do not prevent writing.
  EXPECT_TRUE(is_ok(run(w, org_item(v.org, {v.hidden}), v.user.actor)));
}

TEST(VaultOrgItem, OwnersAdminsAndEditAnyCollectionReachEveryItem) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId nobodys = item_in(w, v, {v.none});
  for (const auto& [who, actor] : std::vector<std::pair<std::string, Actor>>{
           {"Owner", v.owner}, {"Admin", v.admin.actor}, {"Custom edit_any_collection", v.editor.actor}}) {
    SCOPED_TRACE(who);
    EXPECT_TRUE(has_rights(rights(w, nobodys, actor), true, true, false));
    // They create in a collection nobody is granted, edit and purge there.
    auto created = run(w, org_item(v.org, {v.none}), actor);
    ASSERT_TRUE(is_ok(created));
    const ItemId id = created->created_ids.at(0);
    EXPECT_TRUE(has_events(run(w, UpdateItem{nobodys, content(kNewName)}, actor),
                           {{item_stream(nobodys), "CipherUpdated", kUpdated}}));
    EXPECT_TRUE(has_events(run(w, PurgeItem{id}, actor), {{item_stream(id), "CipherDeleted", kPurged}}));
    // Even an item in a read-only (for others) collection.
    EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.ro}), actor), true, true, false));
  }
}

TEST(VaultOrgItem, CustomWithoutEditAnyCollectionReachesOnlyThroughCollections) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId granted = item_in(w, v, {v.rw});
  const ItemId elsewhere = item_in(w, v, {v.none});
  EXPECT_TRUE(has_rights(rights(w, granted, v.custom.actor), true, false, false));
  EXPECT_TRUE(is_denied(rights(w, elsewhere, v.custom.actor), ErrorKind::kNotFound));
  EXPECT_TRUE(
      is_refused(run(w, UpdateItem{elsewhere, content(kNewName)}, v.custom.actor), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, org_item(v.org, {v.none}), v.custom.actor), ErrorKind::kPermissionDenied,
                         msg::kNoEditPermission));
}

// ===== organization items: what a User may do ====================================================

TEST(VaultUserRights, AUserReachesItemsOnlyThroughCollections) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const Actor& u = v.user.actor;
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.rw}), u), true, false, false));
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.ro}), u), false, false, false));
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.manage}), u), true, true, false));
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.hidden}), u), true, false, true));
  EXPECT_TRUE(is_denied(rights(w, item_in(w, v, {v.none}), u), ErrorKind::kNotFound));
  EXPECT_TRUE(is_denied(rights(w, item_in(w, v, {v.by_group}), u), ErrorKind::kNotFound));
  // The best grant wins: read-only plus read-write edits; one shown grant shows passwords.
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.ro, v.rw}), u), true, false, false));
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.hidden, v.rw}), u), true, false, false));
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.ro, v.manage}), u), true, true, false));
}

TEST(VaultUserRights, GroupGrantsCountLikeDirectOnes) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const Actor& g = v.grouped.actor;
  const ItemId item = item_in(w, v, {v.by_group});
  EXPECT_TRUE(has_rights(rights(w, item, g), true, false, false));
  EXPECT_TRUE(has_events(run(w, UpdateItem{item, content(kNewName)}, g),
                         {{item_stream(item), "CipherUpdated", kUpdated}}));
  EXPECT_TRUE(is_denied(rights(w, item_in(w, v, {v.rw}), g), ErrorKind::kNotFound));
  // Hidden directly but shown through the group: passwords are shown.
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.mixed}), g), true, false, false));
  // Out of the group, the group's collection no longer reaches the item.
  run_ok(w, SetGroupMembers{v.org, v.group, {}}, v.owner);
  EXPECT_TRUE(is_denied(rights(w, item, g), ErrorKind::kNotFound));
  EXPECT_TRUE(has_rights(rights(w, item_in(w, v, {v.mixed}), g), true, false, true));
}

TEST(VaultUserRights, ReadOnlySeesButCannotEdit) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const Actor& u = v.user.actor;
  const ItemId item = item_in(w, v, {v.ro});
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(is_refused(run(w, UpdateItem{item, content(kNewName)}, u), ErrorKind::kPermissionDenied,
                         msg::kNoEditPermission));
  EXPECT_TRUE(
      is_refused(run(w, SoftDeleteItem{item}, u), ErrorKind::kPermissionDenied, msg::kNoEditPermission));
  EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{item, {v.ro, v.rw}}, u), ErrorKind::kPermissionDenied,
                         msg::kNoEditPermission));
  EXPECT_TRUE(is_refused(run(w, PurgeItem{item}, u), ErrorKind::kPermissionDenied, msg::kNoDeletePermission));
  run_ok(w, SoftDeleteItem{item}, v.owner);
  EXPECT_TRUE(is_refused(run(w, RestoreItem{item}, u), ErrorKind::kPermissionDenied, msg::kNoEditPermission));
  EXPECT_EQ(w.log().size(), logged + 1) << "only the Owner's soft delete is recorded";
  EXPECT_EQ(w.item(item)->name, kName);
}

TEST(VaultUserRights, AWritableGrantEditsTrashesAndRestores) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const Actor& u = v.user.actor;
  const ItemId item = item_in(w, v, {v.rw});
  const std::string stream = item_stream(item);
  auto updated = run(w, UpdateItem{item, content(kNewName)}, u);
  ASSERT_TRUE(has_events(updated, {{stream, "CipherUpdated", kUpdated}}));
  EXPECT_TRUE(recorded_as(updated, u, ActingAs::kDirect));
  EXPECT_EQ(updated->events[0].payload.AsCipherUpdated()->organization_id, v.org);
  EXPECT_EQ(updated->events[0].payload.AsCipherUpdated()->name, kNewName);
  EXPECT_EQ(field_values(updated->events[0].payload.AsCipherUpdated()->fields), kContentFields);
  EXPECT_EQ(w.item(item)->name, kNewName);
  EXPECT_EQ(w.item(item)->collection_ids, std::vector<CollectionId>{v.rw})
      << "an update keeps the collections";

  auto trashed = run(w, SoftDeleteItem{item}, u);
  ASSERT_TRUE(has_events(trashed, {{stream, "CipherSoftDeleted", kSoftDeleted}}));
  EXPECT_EQ(trashed->events[0].payload.AsCipherSoftDeleted()->organization_id, v.org);
  auto restored = run(w, RestoreItem{item}, u);
  ASSERT_TRUE(has_events(restored, {{stream, "CipherRestored", kRestored}}));
  EXPECT_EQ(restored->events[0].payload.AsCipherRestored()->organization_id, v.org);
  EXPECT_EQ(w.item(item)->deleted_at, 0);
}

TEST(VaultUserRights, ManageCanPurgeAndWithoutItPurgeIsRefused) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const Actor& u = v.user.actor;
  const ItemId editable = item_in(w, v, {v.rw});
  EXPECT_TRUE(
      is_refused(run(w, PurgeItem{editable}, u), ErrorKind::kPermissionDenied, msg::kNoDeletePermission));
  EXPECT_TRUE(w.item(editable)->exists);

  const ItemId managed = item_in(w, v, {v.manage});
  auto purged = run(w, PurgeItem{managed}, u);
  ASSERT_TRUE(has_events(purged, {{item_stream(managed), "CipherDeleted", kPurged}}));
  EXPECT_TRUE(recorded_as(purged, u, ActingAs::kDirect));
  EXPECT_EQ(purged->events[0].payload.AsCipherDeleted()->organization_id, v.org);
  // Gone for everyone, the Owner included.
  EXPECT_FALSE(w.item(managed)->exists);
  for (const Actor& actor : {u, v.owner}) {
    EXPECT_TRUE(is_denied(rights(w, managed, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, UpdateItem{managed, content()}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, RestoreItem{managed}, actor), ErrorKind::kNotFound));
  }
}

TEST(VaultUserRights, HidePasswordsIsReportedWhenEveryGrantHidesThem) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId hidden = item_in(w, v, {v.hidden});
  EXPECT_TRUE(has_rights(rights(w, hidden, v.user.actor), true, false, true));
  // Owners never have passwords hidden.
  EXPECT_TRUE(has_rights(rights(w, hidden, v.owner), true, true, false));
  // Showing them in the collection changes what the user gets at once.
  run_ok(w,
         UpdateCollection{v.org, v.hidden, "hidden", {}, {CollectionAccess{v.user.id, false, false, false}}},
         v.owner);
  EXPECT_TRUE(has_rights(rights(w, hidden, v.user.actor), true, false, false));
}

// ===== the trash ==================================================================================

TEST(VaultTrash, EditsInTheTrashAreRefused) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId org_one = item_in(w, v, {v.rw});
  const ItemId personal = create_item(w, v.user.actor, personal_item());
  run_ok(w, SoftDeleteItem{org_one}, v.user.actor);
  run_ok(w, SoftDeleteItem{personal}, v.user.actor);
  const std::size_t logged = w.log().size();
  for (const ItemId& id : {org_one, personal}) {
    EXPECT_TRUE(is_refused(run(w, UpdateItem{id, content(kNewName)}, v.user.actor),
                           ErrorKind::kFailedPrecondition, msg::kItemInTrash));
    EXPECT_EQ(w.item(id)->name, kName);
  }
  EXPECT_TRUE(is_refused(run(w, ShareItem{personal, v.org, {v.rw}, content(kSharedName)}, v.user.actor),
                         ErrorKind::kFailedPrecondition, msg::kItemInTrash));
  EXPECT_EQ(w.log().size(), logged);
  // Restored, it can be edited again.
  run_ok(w, RestoreItem{org_one}, v.user.actor);
  EXPECT_TRUE(is_ok(run(w, UpdateItem{org_one, content(kNewName)}, v.user.actor)));
}

TEST(VaultTrash, SoftDeletingTwiceIsRefused) {
  World w;
  Cast c = build_cast(w);
  const ItemId id = create_item(w, c.unrelated, personal_item());
  run_ok(w, SoftDeleteItem{id}, c.unrelated);
  const Timestamp trashed_at = w.item(id)->deleted_at;
  w.advance_hours(2);
  EXPECT_TRUE(is_refused(run(w, SoftDeleteItem{id}, c.unrelated), ErrorKind::kFailedPrecondition,
                         msg::kItemAlreadyInTrash));
  EXPECT_EQ(w.item(id)->deleted_at, trashed_at) << "the time it went to the trash is kept";
}

TEST(VaultTrash, RestoringAnItemNotInTheTrashIsRefused) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  for (const ItemId& id : {create_item(w, c.unrelated, personal_item()), item_in(w, v, {v.rw})}) {
    const Actor& by = w.item(id)->owner ? c.unrelated : v.user.actor;
    EXPECT_TRUE(
        is_refused(run(w, RestoreItem{id}, by), ErrorKind::kFailedPrecondition, msg::kItemNotInTrash));
  }
}

TEST(VaultTrash, AnItemInTheTrashCanBePurged) {
  World w;
  Cast c = build_cast(w);
  const ItemId id = create_item(w, c.unrelated, personal_item());
  run_ok(w, SoftDeleteItem{id}, c.unrelated);
  EXPECT_TRUE(has_events(run(w, PurgeItem{id}, c.unrelated), {{item_stream(id), "CipherDeleted", kPurged}}));
  EXPECT_FALSE(w.item(id)->exists);
}

// ===== sharing a personal item into an organization ===============================================

TEST(VaultShare, TheOwnerMovesAPersonalItemIntoTheOrganization) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = create_item(w, v.user.actor, personal_item());
  ItemContent reencrypted{kSharedName, kNotes, {{"login.password", kNewName}}};
  auto r = run(w, ShareItem{id, v.org, {v.rw, v.rw}, reencrypted}, v.user.actor);
  ASSERT_TRUE(has_events(r, {{item_stream(id), "CipherShared", kShared}}));
  EXPECT_TRUE(recorded_as(r, v.user.actor, ActingAs::kDirect));
  const auto& e = *r->events[0].payload.AsCipherShared();
  EXPECT_EQ(e.organization_id, v.org);
  EXPECT_EQ(e.collection_ids, std::vector<CollectionId>{v.rw});
  EXPECT_EQ(e.name, kSharedName);
  EXPECT_EQ(e.notes, kNotes);
  EXPECT_EQ(field_values(e.fields), (std::vector<std::string>{std::string("login.password=") + kNewName}));

  const ItemState& item = *w.item(id);
  EXPECT_FALSE(item.owner.has_value()) << "the organization owns it now";
  EXPECT_EQ(item.organization_id, v.org);
  EXPECT_EQ(item.collection_ids, std::vector<CollectionId>{v.rw});
  EXPECT_EQ(item.name, kSharedName);
  // The organization's rules apply from now on: the former owner edits through rw,
  // but no longer manages it; the Owner reaches it; a member without grant does not.
  EXPECT_TRUE(has_rights(rights(w, id, v.user.actor), true, false, false));
  EXPECT_TRUE(is_refused(run(w, PurgeItem{id}, v.user.actor), ErrorKind::kPermissionDenied,
                         msg::kNoDeletePermission));
  EXPECT_TRUE(has_rights(rights(w, id, v.owner), true, true, false));
  EXPECT_TRUE(is_denied(rights(w, id, v.bystander.actor), ErrorKind::kNotFound));
}

TEST(VaultShare, AnOrganizationItemIsNotSharedAgain) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw});
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(is_refused(run(w, ShareItem{id, v.org, {v.manage}, content(kSharedName)}, v.owner),
                         ErrorKind::kFailedPrecondition, msg::kItemAlreadyShared));
  // Not even into another organization the actor belongs to.
  const OrganizationId own = create_organization(w, v.owner, "Side", PlanType::kTeamsMonthly);
  const CollectionId side = create_collection(w, v.owner, own, "side", {});
  const std::size_t before_share = w.log().size();
  EXPECT_TRUE(is_refused(run(w, ShareItem{id, own, {side}, content(kSharedName)}, v.owner),
                         ErrorKind::kFailedPrecondition, msg::kItemAlreadyShared));
  EXPECT_EQ(w.log().size(), before_share);
  EXPECT_GT(before_share, logged);
  EXPECT_EQ(w.item(id)->organization_id, v.org);
}

TEST(VaultShare, TheChosenCollectionsMustBeWritableByTheOwner) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = create_item(w, v.user.actor, personal_item());
  const std::size_t logged = w.log().size();
  auto none = run(w, ShareItem{id, v.org, {}, content(kSharedName)}, v.user.actor);
  ASSERT_TRUE(is_refused(none, ErrorKind::kValidation, msg::kSelectCollection));
  EXPECT_EQ(none.error().field, "collectionIds");
  EXPECT_TRUE(is_refused(run(w, ShareItem{id, v.org, {v.ro}, content(kSharedName)}, v.user.actor),
                         ErrorKind::kPermissionDenied, msg::kNoEditPermission));
  EXPECT_TRUE(is_refused(run(w, ShareItem{id, v.org, {v.rw, v.none}, content(kSharedName)}, v.user.actor),
                         ErrorKind::kPermissionDenied, msg::kNoEditPermission));
  EXPECT_TRUE(
      is_refused(run(w, ShareItem{id, v.org, {v.other_collection}, content(kSharedName)}, v.user.actor),
                 ErrorKind::kValidation, msg::kCollectionNotFound));
  // Into an organization the owner is no member of.
  EXPECT_TRUE(
      is_refused(run(w, ShareItem{id, v.other_org, {v.other_collection}, content(kSharedName)}, v.user.actor),
                 ErrorKind::kNotFound));
  EXPECT_EQ(w.log().size(), logged);
  EXPECT_FALSE(w.item(id)->organization_id.has_value());
  EXPECT_EQ(w.item(id)->owner, v.user.actor.user_id);
}

// ===== UpdateItemCollections =====================================================================

TEST(VaultItemCollections, AnEditorAddsAndRemovesWritableCollections) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw});
  auto added = run(w, UpdateItemCollections{id, {v.rw, v.manage}}, v.user.actor);
  ASSERT_TRUE(has_events(added, {{item_stream(id), "CipherCollectionsUpdated", kCollectionsUpdated}}));
  EXPECT_TRUE(recorded_as(added, v.user.actor, ActingAs::kDirect));
  const auto& e = *added->events[0].payload.AsCipherCollectionsUpdated();
  EXPECT_EQ(e.organization_id, v.org);
  EXPECT_EQ(e.collection_ids, (std::vector<CollectionId>{v.rw, v.manage}));
  EXPECT_EQ(w.item(id)->collection_ids, (std::vector<CollectionId>{v.rw, v.manage}));
  EXPECT_TRUE(has_rights(rights(w, id, v.user.actor), true, true, false)) << "manage now reaches it";

  auto removed = run(w, UpdateItemCollections{id, {v.manage}}, v.user.actor);
  ASSERT_TRUE(has_events(removed, {{item_stream(id), "CipherCollectionsUpdated", kCollectionsUpdated}}));
  EXPECT_EQ(w.item(id)->collection_ids, std::vector<CollectionId>{v.manage});
  EXPECT_TRUE(is_denied(rights(w, id, v.custom.actor), ErrorKind::kNotFound))
      << "custom reached it through rw";
}

TEST(VaultItemCollections, RemovingOrAddingACollectionTheActorCannotWriteIsRefused) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw, v.ro});
  const std::size_t logged = w.log().size();
  EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{id, {v.rw}}, v.user.actor),
                         ErrorKind::kPermissionDenied, msg::kNoEditPermission));
  EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{id, {v.rw, v.ro, v.none}}, v.user.actor),
                         ErrorKind::kPermissionDenied, msg::kNoEditPermission));
  EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{id, {v.rw, v.by_group}}, v.user.actor),
                         ErrorKind::kPermissionDenied, msg::kNoEditPermission));
  EXPECT_EQ(w.log().size(), logged);
  EXPECT_EQ(w.item(id)->collection_ids, (std::vector<CollectionId>{v.rw, v.ro}));
  // The Owner may.
  EXPECT_TRUE(has_events(run(w, UpdateItemCollections{id, {v.rw}}, v.owner),
                         {{item_stream(id), "CipherCollectionsUpdated", kCollectionsUpdated}}));
}

TEST(VaultItemCollections, TheSameSetRecordsNothing) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw, v.manage});
  const std::size_t logged = w.log().size();
  auto r = run(w, UpdateItemCollections{id, {v.manage, v.rw, v.manage}}, v.user.actor);
  EXPECT_TRUE(has_events(r, {}));
  EXPECT_EQ(w.log().size(), logged);
}

TEST(VaultItemCollections, AnEmptyOrUnknownSetIsRefused) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw});
  auto empty = run(w, UpdateItemCollections{id, {}}, v.owner);
  ASSERT_TRUE(is_refused(empty, ErrorKind::kValidation, msg::kSelectCollection));
  EXPECT_EQ(empty.error().field, "collectionIds");
  EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{id, {v.other_collection}}, v.owner),
                         ErrorKind::kValidation, msg::kCollectionNotFound));
  EXPECT_EQ(w.item(id)->collection_ids, std::vector<CollectionId>{v.rw});
}

// ===== encrypted fields ===========================================================================

// Each command that carries content refuses plaintext in each field, with a message
// that never repeats the value, and records nothing.
TEST(VaultEncryption, PlaintextIsRefusedInEveryFieldAndNeverRecorded) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId org_one = item_in(w, v, {v.rw});
  const ItemId personal = create_item(w, v.user.actor, personal_item());

  struct Case {
    std::string what;
    ItemContent content;
    std::string field;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"name", ItemContent{kPlaintext, kNotes, {}}, "name", kNameNotEncrypted},
      {"notes", ItemContent{kName, kPlaintext, {}}, "notes", kNotesNotEncrypted},
      {"a field value",
       ItemContent{kName, kNotes, {{"login.username", kUsername}, {"login.password", kPlaintext}}}, "fields",
       "login.password is not a valid encrypted string."},
      {"a card number", ItemContent{kName, "", {{"card.number", kPlaintext}}}, "fields",
       "card.number is not a valid encrypted string."},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    std::vector<std::pair<std::string, Expected<Decision>>> results;
    results.emplace_back("create personal", run(w, personal_item(k.content), v.user.actor));
    results.emplace_back("create in organization", run(w, org_item(v.org, {v.rw}, k.content), v.user.actor));
    results.emplace_back("update organization item", run(w, UpdateItem{org_one, k.content}, v.user.actor));
    results.emplace_back("update personal item", run(w, UpdateItem{personal, k.content}, v.user.actor));
    results.emplace_back("share", run(w, ShareItem{personal, v.org, {v.rw}, k.content}, v.user.actor));
    for (const auto& [command, r] : results) {
      SCOPED_TRACE(command);
      ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, k.message));
      EXPECT_EQ(r.error().field, k.field);
      EXPECT_EQ(r.error().message.find(kPlaintext), std::string::npos);
    }
  }
  EXPECT_FALSE(log_mentions(w, kPlaintext)) << "plaintext reached the log";
  EXPECT_FALSE(log_mentions(w, "horse")) << "part of the plaintext reached the log";
  EXPECT_EQ(w.item(org_one)->name, kName);
  EXPECT_EQ(w.item(personal)->name, kName);
  EXPECT_FALSE(w.item(personal)->organization_id.has_value());
}

TEST(VaultEncryption, MalformedEncStringsAreRefused) {
  World w;
  Cast c = build_cast(w);
  for (const std::string bad : {
           "2.aXY=|Y3Q=",            // type 2 needs three parts
           "2.aXY|Y3Q=|bWFj",        // a part whose length is no multiple of 4
           "2.aXY=||bWFj",           // an empty part
           "8.aXY=",                 // no such type
           "2.aXY=|Y3Q=|bW F",       // not base64
           "aXY=",                   // legacy form with one part
           "2.aXY=|Y3Q=|bWFj|bWFj",  // one part too many
       }) {
    SCOPED_TRACE(bad);
    auto r = run(w, personal_item(content(bad)), c.unrelated);
    ASSERT_TRUE(is_refused(r, ErrorKind::kValidation, kNameNotEncrypted));
    EXPECT_EQ(r.error().field, "name");
  }
  auto empty = run(w, personal_item(content("")), c.unrelated);
  ASSERT_TRUE(is_refused(empty, ErrorKind::kValidation, "The Name field is required."));
  EXPECT_EQ(empty.error().field, "name");
  // Every known type with its part count, and the legacy forms, are accepted.
  for (const std::string good : {"0.aXY=|Y3Q=", "1.aXY=|Y3Q=|bWFj", "2.aXY=|Y3Q=|bWFj", "3.Y3Q=", "4.Y3Q=",
                                 "5.aXY=|Y3Q=", "6.aXY=|Y3Q=", "7.Y3Q=", "aXY=|Y3Q=|bWFj", "aXY=|Y3Q="}) {
    SCOPED_TRACE(good);
    EXPECT_TRUE(is_ok(run(w, personal_item(content(good)), c.unrelated)));
  }
}

// ===== a disabled organization ====================================================================

TEST(VaultDisabled, ADisabledOrganizationRefusesItsVault) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw, v.manage});
  const ItemId personal = create_item(w, v.user.actor, personal_item());
  run_ok(w, DisableProvider{c.provider}, c.staff);
  ASSERT_FALSE(w.organization(v.org)->enabled);
  const std::size_t logged = w.log().size();
  for (const Actor& actor : {v.owner, v.user.actor}) {
    EXPECT_TRUE(is_denied(rights(w, id, actor), ErrorKind::kFailedPrecondition, msg::kOrganizationDisabled));
    EXPECT_TRUE(is_refused(run(w, org_item(v.org, {v.rw}), actor), ErrorKind::kFailedPrecondition,
                           msg::kOrganizationDisabled));
    EXPECT_TRUE(is_refused(run(w, UpdateItem{id, content(kNewName)}, actor), ErrorKind::kFailedPrecondition,
                           msg::kOrganizationDisabled));
    EXPECT_TRUE(is_refused(run(w, SoftDeleteItem{id}, actor), ErrorKind::kFailedPrecondition,
                           msg::kOrganizationDisabled));
    EXPECT_TRUE(
        is_refused(run(w, PurgeItem{id}, actor), ErrorKind::kFailedPrecondition, msg::kOrganizationDisabled));
    EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{id, {v.rw}}, actor), ErrorKind::kFailedPrecondition,
                           msg::kOrganizationDisabled));
  }
  EXPECT_TRUE(is_refused(run(w, ShareItem{personal, v.org, {v.rw}, content(kSharedName)}, v.user.actor),
                         ErrorKind::kFailedPrecondition, msg::kOrganizationDisabled));
  EXPECT_EQ(w.log().size(), logged);
  // Personal items do not depend on the organization.
  EXPECT_TRUE(is_ok(run(w, UpdateItem{personal, content(kNewName)}, v.user.actor)));
  // Enabled again, the vault is back.
  run_ok(w, EnableProvider{c.provider}, c.staff);
  EXPECT_TRUE(is_ok(run(w, UpdateItem{id, content(kNewName)}, v.user.actor)));
}

// ===== NEGATIVE: provider users have no vault in their clients ====================================

TEST(VaultProviderUsers, ConfirmedProviderUsersCannotCreateInAClientVault) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const std::size_t logged = w.log().size();
  for (const auto& [who, actor] : std::vector<std::pair<std::string, Actor>>{
           {"provider admin", c.owner}, {"service user", c.service_user}}) {
    SCOPED_TRACE(who);
    for (const auto& [org, collection] : std::vector<std::pair<OrganizationId, CollectionId>>{
             {v.org, v.rw}, {v.org, v.none}, {v.other_org, v.other_collection}}) {
      EXPECT_TRUE(is_refused(run(w, org_item(org, {collection}), actor), ErrorKind::kPermissionDenied,
                             msg::kProviderUsersHaveNoVault));
    }
    // Nor share their own personal items into it.
    const ItemId own = create_item(w, actor, personal_item());
    EXPECT_TRUE(is_refused(run(w, ShareItem{own, v.org, {v.rw}, content(kSharedName)}, actor),
                           ErrorKind::kPermissionDenied, msg::kProviderUsersHaveNoVault));
    EXPECT_EQ(w.item(own)->owner, actor.user_id);
  }
  EXPECT_EQ(w.log().size(), logged + 2) << "only the two personal items are recorded";
}

TEST(VaultProviderUsers, ConfirmedProviderUsersCannotReadOrEditAClientsItems) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw});
  const ItemId trashed = item_in(w, v, {v.rw});
  run_ok(w, SoftDeleteItem{trashed}, v.owner);
  const std::size_t logged = w.log().size();
  for (const auto& [who, actor] : std::vector<std::pair<std::string, Actor>>{
           {"provider admin", c.owner}, {"service user", c.service_user}}) {
    SCOPED_TRACE(who);
    const auto denied = [](const auto& r) {
      return is_denied(r, ErrorKind::kPermissionDenied, msg::kProviderUsersHaveNoVault);
    };
    EXPECT_TRUE(denied(rights(w, id, actor)));
    EXPECT_TRUE(denied(rights(w, v.other_item, actor)));
    EXPECT_TRUE(denied(run(w, UpdateItem{id, content(kNewName)}, actor)));
    EXPECT_TRUE(denied(run(w, SoftDeleteItem{id}, actor)));
    EXPECT_TRUE(denied(run(w, RestoreItem{trashed}, actor)));
    EXPECT_TRUE(denied(run(w, PurgeItem{id}, actor)));
    EXPECT_TRUE(denied(run(w, UpdateItemCollections{id, {v.rw, v.manage}}, actor)));
    EXPECT_TRUE(denied(run(w, ShareItem{id, v.org, {v.rw}, content(kSharedName)}, actor)));
    // They still run the client's console.
    auto console = may_view_organization(v.org, actor, w);
    ASSERT_TRUE(console.ok()) << describe(console.error());
    EXPECT_TRUE(console.value());
  }
  EXPECT_EQ(w.log().size(), logged);
  EXPECT_EQ(w.item(id)->name, kName);
  EXPECT_TRUE(w.item(id)->exists);
}

// Even acting as Owners of the console, a provider admin who makes themselves a
// collection manager gets no vault.
TEST(VaultProviderUsers, ConsoleRightsGiveProviderUsersNoVault) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const CollectionId mine =
      run_ok(w, CreateCollection{v.org, "provider's", {}, {}}, c.owner).created_ids.at(0);
  EXPECT_TRUE(is_refused(run(w, org_item(v.org, {mine}), c.owner), ErrorKind::kPermissionDenied,
                         msg::kProviderUsersHaveNoVault));
  const ItemId id = item_in(w, v, {mine});
  EXPECT_TRUE(
      is_denied(rights(w, id, c.owner), ErrorKind::kPermissionDenied, msg::kProviderUsersHaveNoVault));
}

TEST(VaultProviderUsers, UnconfirmedOrRemovedProviderUsersFindNothing) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw});
  run_ok(w, RemoveProviderUsers{c.provider, {c.service_user_pu}}, c.owner);
  for (const auto& [who, actor] :
       std::vector<std::pair<std::string, Actor>>{{"invited admin", c.invited_admin},
                                                  {"accepted admin", c.accepted_admin},
                                                  {"removed", c.service_user}}) {
    SCOPED_TRACE(who);
    EXPECT_TRUE(is_denied(rights(w, id, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, org_item(v.org, {v.rw}), actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, UpdateItem{id, content(kNewName)}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_denied(may_view_organization(v.org, actor, w), ErrorKind::kNotFound));
  }
}

// "... unless they are also confirmed members themselves": then the member's own
// grants decide, as for any member.
TEST(VaultProviderUsers, AProviderUserWhoIsAConfirmedMemberActsAsThatMember) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  MemberInvitation inv = invite_member(w, v.owner, v.org, std::string(kServiceUserEmail));
  run_ok(w, AcceptMember{v.org, inv.id, inv.token}, c.service_user);
  run_ok(w, ConfirmMember{v.org, inv.id, kOrgKey}, v.owner);
  run_ok(w, UpdateCollection{v.org, v.rw, "rw", {}, {CollectionAccess{inv.id, false, false, false}}},
         v.owner);
  const ItemId granted = item_in(w, v, {v.rw});
  const ItemId elsewhere = item_in(w, v, {v.none});
  EXPECT_TRUE(has_rights(rights(w, granted, c.service_user), true, false, false));
  EXPECT_TRUE(is_ok(run(w, UpdateItem{granted, content(kNewName)}, c.service_user)));
  EXPECT_TRUE(is_denied(rights(w, elsewhere, c.service_user), ErrorKind::kNotFound));
  // In the other client they are still only a provider user.
  EXPECT_TRUE(is_denied(rights(w, v.other_item, c.service_user), ErrorKind::kPermissionDenied,
                        msg::kProviderUsersHaveNoVault));
}

// decide.h: "a confirmed user of the managing provider who is not a confirmed
// member: kPermissionDenied (msg::kProviderUsersHaveNoVault)" — also when they are an
// accepted (not yet confirmed) member.
TEST(VaultProviderUsers, AProviderUserWhoIsAnUnconfirmedMemberIsToldProviderUsersHaveNoVault) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  MemberInvitation inv = invite_member(w, v.owner, v.org, std::string(kServiceUserEmail));
  run_ok(w, AcceptMember{v.org, inv.id, inv.token}, c.service_user);
  const ItemId id = item_in(w, v, {v.rw});
  // Whatever the message, there is no access.
  EXPECT_FALSE(rights(w, id, c.service_user).ok());
  EXPECT_FALSE(run(w, UpdateItem{id, content(kNewName)}, c.service_user).ok());
  EXPECT_TRUE(
      is_denied(rights(w, id, c.service_user), ErrorKind::kPermissionDenied, msg::kProviderUsersHaveNoVault));
}

// ===== NEGATIVE: one client sees nothing of another ===============================================

TEST(VaultClients, AMemberOfOneClientCannotSeeOrTouchAnotherClient) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId contoso_item = item_in(w, v, {v.rw});
  const ItemId own = create_item(w, v.owner, personal_item());
  const std::size_t logged = w.log().size();
  // Contoso's Owner, Admin and User against Initech.
  for (const auto& [who, actor] : std::vector<std::pair<std::string, Actor>>{
           {"Contoso Owner", v.owner}, {"Contoso Admin", v.admin.actor}, {"Contoso User", v.user.actor}}) {
    SCOPED_TRACE(who);
    EXPECT_TRUE(is_denied(rights(w, v.other_item, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, UpdateItem{v.other_item, content(kNewName)}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, SoftDeleteItem{v.other_item}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, PurgeItem{v.other_item}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{v.other_item, {v.other_collection}}, actor),
                           ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, org_item(v.other_org, {v.other_collection}), actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_denied(may_view_organization(v.other_org, actor, w), ErrorKind::kNotFound));
    EXPECT_TRUE(
        is_refused(run(w, CreateCollection{v.other_org, "mine", {}, {}}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(
        is_refused(run(w, UpdateCollection{v.other_org, v.other_collection, "renamed", {}, {}}, actor),
                   ErrorKind::kNotFound));
    EXPECT_TRUE(
        is_refused(run(w, DeleteCollection{v.other_org, v.other_collection}, actor), ErrorKind::kNotFound));
  }
  EXPECT_TRUE(
      is_refused(run(w, ShareItem{own, v.other_org, {v.other_collection}, content(kSharedName)}, v.owner),
                 ErrorKind::kNotFound));
  // And the other way round.
  EXPECT_TRUE(is_denied(rights(w, contoso_item, v.other_owner), ErrorKind::kNotFound));
  EXPECT_TRUE(
      is_refused(run(w, UpdateItem{contoso_item, content(kNewName)}, v.other_owner), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, org_item(v.org, {v.rw}), v.other_owner), ErrorKind::kNotFound));
  EXPECT_TRUE(is_denied(may_view_organization(v.org, v.other_owner, w), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, UpdateCollection{v.org, v.rw, "renamed", {}, {}}, v.other_owner),
                         ErrorKind::kNotFound));
  EXPECT_EQ(w.log().size(), logged);
  EXPECT_EQ(w.item(v.other_item)->name, kName);
  // A Contoso item cannot be moved into Initech's collection either.
  EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{contoso_item, {v.rw, v.other_collection}}, v.owner),
                         ErrorKind::kValidation, msg::kCollectionNotFound));
}

TEST(VaultClients, MayViewOrganizationShowsTheConsoleToMembersAndProviderUsersOnly) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  for (const auto& [who, actor] :
       std::vector<std::pair<std::string, Actor>>{{"Owner", v.owner},
                                                  {"User", v.user.actor},
                                                  {"User without grants", v.bystander.actor},
                                                  {"provider admin", c.owner},
                                                  {"service user", c.service_user}}) {
    SCOPED_TRACE(who);
    auto r = may_view_organization(v.org, actor, w);
    ASSERT_TRUE(r.ok()) << describe(r.error());
    EXPECT_TRUE(r.value());
  }
  for (const auto& [who, actor] :
       std::vector<std::pair<std::string, Actor>>{{"revoked", v.revoked.actor},
                                                  {"invited", v.invited},
                                                  {"accepted", v.accepted},
                                                  {"unrelated", c.unrelated},
                                                  {"other client's owner", v.other_owner},
                                                  {"accepted admin", c.accepted_admin}}) {
    SCOPED_TRACE(who);
    EXPECT_TRUE(is_denied(may_view_organization(v.org, actor, w), ErrorKind::kNotFound));
  }
  EXPECT_TRUE(is_denied(may_view_organization(v.org, c.staff, w), ErrorKind::kPermissionDenied));
  EXPECT_TRUE(is_denied(may_view_organization(w.new_id(), v.owner, w), ErrorKind::kNotFound));
}

// ===== NEGATIVE: members who are not confirmed have no vault =====================================

TEST(VaultMemberStatus, RevokedInvitedAndAcceptedMembersHaveNoVault) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw});
  const ItemId trashed = item_in(w, v, {v.rw});
  run_ok(w, SoftDeleteItem{trashed}, v.owner);
  const std::size_t logged = w.log().size();
  // Each was granted rw on the item's collection.
  for (const auto& [who, actor] : std::vector<std::pair<std::string, Actor>>{
           {"revoked", v.revoked.actor}, {"invited", v.invited}, {"accepted", v.accepted}}) {
    SCOPED_TRACE(who);
    EXPECT_TRUE(is_denied(rights(w, id, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, org_item(v.org, {v.rw}), actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, UpdateItem{id, content(kNewName)}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, SoftDeleteItem{id}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, RestoreItem{trashed}, actor), ErrorKind::kNotFound));
    EXPECT_TRUE(is_refused(run(w, UpdateItemCollections{id, {v.rw}}, actor), ErrorKind::kNotFound));
  }
  EXPECT_EQ(w.log().size(), logged);
  // Restored and confirmed, the same grants work again.
  run_ok(w, RestoreMember{v.org, v.revoked.id}, v.owner);
  EXPECT_TRUE(has_rights(rights(w, id, v.revoked.actor), true, false, false));
  run_ok(w, ConfirmMember{v.org, v.accepted_id, kOrgKey}, v.owner);
  EXPECT_TRUE(has_rights(rights(w, id, v.accepted), true, false, false));
}

TEST(VaultMemberStatus, ARemovedMemberLosesTheVaultAtOnce) {
  World w;
  Cast c = build_cast(w);
  Vault v = build_vault(w, c);
  const ItemId id = item_in(w, v, {v.rw});
  ASSERT_TRUE(has_rights(rights(w, id, v.user.actor), true, false, false));
  run_ok(w, RemoveMember{v.org, v.user.id}, v.owner);
  EXPECT_TRUE(is_denied(rights(w, id, v.user.actor), ErrorKind::kNotFound));
  EXPECT_TRUE(is_refused(run(w, UpdateItem{id, content(kNewName)}, v.user.actor), ErrorKind::kNotFound));
}

}  // namespace
}  // namespace portal::domain::test
