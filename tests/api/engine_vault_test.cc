// Vault items through the real Engine on a temporary store: reads on behalf of an
// actor (read_item, read_organization) follow the domain's rules; edits of
// different items of one organization never conflict; an edit racing the revocation
// of its editor is either before the revocation in the log or refused; a command id
// creates an item exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <latch>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "portal/api/engine.h"
#include "portal/domain/messages.h"
#include "temp_dir.h"

namespace portal {
namespace {

namespace d = domain;
namespace es = eventstore;
namespace fs = std::filesystem;

constexpr d::Timestamp kStart = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr const char* kKey = "2.AAAA|BBBB|CCCC";        // an encrypted key, opaque to the engine

constexpr const char* kName = "2.bmFtZQ==|Y3Q=|bWFj";
constexpr const char* kNewName = "2.bmV3|bmFtZQ==|bWFj";
constexpr const char* kNotes = "2.bm90ZXM=|Y3Q=|bWFj";
constexpr const char* kPassword = "2.cGFzcw==|Y3Q=|bWFj";

d::Uuid random_uuid() {
  d::Uuid id;
  id.bytes = es::Id16::random().bytes;
  return id;
}

std::string describe(const d::Error& e) {
  return std::string(d::to_string(e.kind)) + ": " + e.message;
}

d::ItemContent content(std::string name = kName) {
  return d::ItemContent{std::move(name), kNotes, {{"login.password", kPassword}}};
}

// A distinct, well-formed EncString per (a, b): "2.<4 letters>|Y3Q=|bWFj".
std::string numbered_name(int a, int b) {
  std::string part = {static_cast<char>('A' + a % 26), static_cast<char>('A' + (b / 26) % 26),
                      static_cast<char>('a' + b % 26), 'Q'};
  return "2." + part + "|Y3Q=|bWFj";
}

class EngineVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty()) << "could not create a temporary directory";
    open();
  }

  void TearDown() override {
    engine_.reset();  // before temp_dir_ removes its directory
  }

  void open() {
    EngineOptions o;
    o.durability = es::Durability::kBuffered;
    o.clock = [this] { return now_.fetch_add(1); };
    o.max_attempts = max_attempts_;
    auto opened = Engine::open(dir_, o);
    ASSERT_TRUE(opened.ok()) << describe(opened.error());
    engine_ = std::move(opened.value());
  }

  void reopen() {
    engine_.reset();
    open();
  }

  d::Actor staff() const { return d::Actor{staff_id_, true, 0, "10.0.0.1"}; }
  static d::Actor as(const d::UserId& id) { return d::Actor{id, false, 9, "192.0.2.7"}; }

  CommandResult must(const d::Command& command, const d::Actor& actor,
                     std::optional<es::CommandId> id = std::nullopt) {
    auto r = engine_->execute(command, actor, id);
    if (!r.ok()) throw std::runtime_error(std::string(d::command_name(command)) + ": " + describe(r.error()));
    return std::move(r.value());
  }

  d::UserId register_user(const std::string& address) {
    const d::UserId id = random_uuid();
    must(d::RegisterUser{id, address, "User " + address}, as(id));
    return id;
  }

  // Staff, an Msp provider with its admin and a confirmed service user.
  void set_up_provider() {
    staff_id_ = register_user("staff@portal.example");
    admin_ = register_user("admin@acme.example");
    auto invited = must(d::InviteProvider{d::ProviderType::kMsp, "admin@acme.example", {}}, staff());
    provider_ = invited.created_ids.at(0);
    must(d::SetupProvider{provider_, invited.tokens.at(0), "Acme IT", "Acme IT Ltd", "billing@acme.example",
                          kKey},
         as(admin_));
    service_ = register_user("service@acme.example");
    auto pu =
        must(d::InviteProviderUsers{provider_, {"service@acme.example"}, d::ProviderUserType::kServiceUser},
             as(admin_));
    must(d::AcceptProviderInvite{provider_, pu.created_ids.at(0), pu.tokens.at(0)}, as(service_));
    must(d::ConfirmProviderUsers{provider_, {{pu.created_ids.at(0), kKey}}}, as(admin_));
  }

  struct Client {
    d::OrganizationId org;
    d::UserId boss;  // its confirmed Owner
    d::CollectionId collection;
  };

  // A client added with AddClientOrg new, its owner registered, accepted and confirmed.
  Client add_client(const std::string& name, const std::string& boss_email, int seats = 20) {
    auto r = must(d::AddClientOrg{provider_, std::nullopt, name, boss_email, d::PlanType::kTeamsMonthly,
                                  seats, "Default"},
                  as(admin_));
    Client c{r.created_ids.at(0), register_user(boss_email), r.created_ids.at(3)};
    must(d::AcceptMember{c.org, r.created_ids.at(2), r.tokens.at(0)}, as(c.boss));
    must(d::ConfirmMember{c.org, r.created_ids.at(2), kKey}, as(admin_));
    return c;
  }

  struct Member {
    d::UserId user;
    d::OrganizationUserId id;
  };

  Member add_member(const Client& c, const std::string& address,
                    std::vector<d::CollectionAccess> collections) {
    Member m{register_user(address), {}};
    auto r = must(
        d::InviteMembers{c.org, {address}, d::OrganizationUserType::kUser, {}, std::move(collections), {}},
        as(c.boss));
    m.id = r.created_ids.at(0);
    must(d::AcceptMember{c.org, m.id, r.tokens.at(0)}, as(m.user));
    must(d::ConfirmMember{c.org, m.id, kKey}, as(c.boss));
    return m;
  }

  d::ItemId create_item(const d::Actor& by, std::optional<d::OrganizationId> org,
                        std::vector<d::CollectionId> collections) {
    return must(d::CreateItem{d::CipherType::kLogin, org, std::move(collections), content()}, by)
        .created_ids.at(0);
  }

  std::vector<es::RecordedEvent> read(std::uint64_t from, std::uint64_t to) {
    if (from == 0 || to < from) return {};
    auto events = engine_->store().read_all(from, to - from + 1);
    if (!events.ok()) throw std::runtime_error("read_all: " + events.status().to_string());
    return std::move(events).value();
  }

  std::vector<es::RecordedEvent> whole_log() { return read(1, engine_->store().last_position()); }

  std::uint64_t head(const d::ItemId& id) {
    auto h = engine_->store().stream_head(d::item_stream(id));
    if (!h.ok() || !h.value()) throw std::runtime_error("no item stream " + id.to_string());
    return *h.value();
  }

  static ::testing::AssertionResult refused(const d::Expected<ItemView>& r, d::ErrorKind kind,
                                            std::optional<std::string> message = std::nullopt) {
    if (r.ok()) return ::testing::AssertionFailure() << "the item was shown";
    if (r.error().kind != kind || (message && r.error().message != *message))
      return ::testing::AssertionFailure() << "got " << describe(r.error());
    return ::testing::AssertionSuccess();
  }
  static ::testing::AssertionResult refused(const d::Expected<d::OrganizationState>& r, d::ErrorKind kind) {
    if (r.ok()) return ::testing::AssertionFailure() << "the organization was shown";
    if (r.error().kind != kind) return ::testing::AssertionFailure() << "got " << describe(r.error());
    return ::testing::AssertionSuccess();
  }

  test::TempDir temp_dir_{"engine-vault-test"};
  const std::string& dir_ = temp_dir_.path();
  std::unique_ptr<Engine> engine_;
  std::atomic<d::Timestamp> now_{kStart};
  int max_attempts_ = 10;
  d::UserId staff_id_;
  d::UserId admin_;
  d::ProviderId provider_;
  d::UserId service_;
};

// ---------------------------------------------------------------------------
// read_item

TEST_F(EngineVaultTest, ReadItemAppliesTheVaultRules) {
  set_up_provider();
  const Client contoso = add_client("Contoso", "boss@contoso.example");
  const Client initech = add_client("Initech", "boss@initech.example");
  const Member hidden = add_member(contoso, "hidden@contoso.example",
                                   {d::CollectionAccess{contoso.collection, false, true, false}});
  const Member reader = add_member(contoso, "reader@contoso.example",
                                   {d::CollectionAccess{contoso.collection, true, false, false}});
  const d::ItemId item = create_item(as(contoso.boss), contoso.org, {contoso.collection});

  // The Owner: everything, passwords shown, the stored content.
  auto owner_view = engine_->read_item(item, as(contoso.boss));
  ASSERT_TRUE(owner_view.ok()) << describe(owner_view.error());
  EXPECT_EQ(owner_view->item.id, item);
  EXPECT_EQ(owner_view->item.name, kName);
  EXPECT_EQ(owner_view->item.organization_id, contoso.org);
  EXPECT_EQ(owner_view->item.collection_ids, std::vector<d::CollectionId>{contoso.collection});
  EXPECT_TRUE(owner_view->rights.edit);
  EXPECT_TRUE(owner_view->rights.manage);
  EXPECT_FALSE(owner_view->rights.hide_passwords);

  // A member whose grant hides passwords.
  auto hidden_view = engine_->read_item(item, as(hidden.user));
  ASSERT_TRUE(hidden_view.ok()) << describe(hidden_view.error());
  EXPECT_TRUE(hidden_view->rights.edit);
  EXPECT_FALSE(hidden_view->rights.manage);
  EXPECT_TRUE(hidden_view->rights.hide_passwords);

  // A read-only member sees it and is refused an edit.
  auto reader_view = engine_->read_item(item, as(reader.user));
  ASSERT_TRUE(reader_view.ok()) << describe(reader_view.error());
  EXPECT_FALSE(reader_view->rights.edit);
  EXPECT_FALSE(reader_view->rights.hide_passwords);
  auto edit = engine_->execute(d::UpdateItem{item, content(kNewName)}, as(reader.user));
  ASSERT_FALSE(edit.ok());
  EXPECT_EQ(edit.error().kind, d::ErrorKind::kPermissionDenied);
  EXPECT_EQ(edit.error().message, d::msg::kNoEditPermission);

  // NEGATIVE: the provider's users act as Owners of the console but read no item.
  for (const d::UserId& pu : {admin_, service_}) {
    EXPECT_TRUE(refused(engine_->read_item(item, as(pu)), d::ErrorKind::kPermissionDenied,
                        d::msg::kProviderUsersHaveNoVault));
  }
  // NEGATIVE: the other client's Owner does not learn the item exists; nor does staff.
  EXPECT_TRUE(refused(engine_->read_item(item, as(initech.boss)), d::ErrorKind::kNotFound));
  EXPECT_TRUE(refused(engine_->read_item(item, staff()), d::ErrorKind::kPermissionDenied));
  EXPECT_TRUE(refused(engine_->read_item(random_uuid(), as(contoso.boss)), d::ErrorKind::kNotFound));
  EXPECT_EQ(engine_->item(item).value()->name, kName) << "the refused edit changed nothing";
}

TEST_F(EngineVaultTest, APersonalItemIsReadByItsOwnerOnly) {
  set_up_provider();
  const Client contoso = add_client("Contoso", "boss@contoso.example");
  const Member member = add_member(contoso, "member@contoso.example", {});
  const d::ItemId mine = create_item(as(member.user), std::nullopt, {});

  auto view = engine_->read_item(mine, as(member.user));
  ASSERT_TRUE(view.ok()) << describe(view.error());
  EXPECT_EQ(view->item.owner, member.user);
  EXPECT_FALSE(view->item.organization_id.has_value());
  EXPECT_EQ(view->item.name, kName);
  EXPECT_TRUE(view->rights.edit);
  EXPECT_TRUE(view->rights.manage);
  EXPECT_FALSE(view->rights.hide_passwords);

  // NEGATIVE: the Owner of the member's organization, the provider's users, staff,
  // another user: no such item.
  for (const d::Actor& other :
       {as(contoso.boss), as(admin_), as(service_), staff(), as(register_user("other@elsewhere.example"))}) {
    EXPECT_TRUE(refused(engine_->read_item(mine, other), d::ErrorKind::kNotFound))
        << other.user_id.to_string();
  }

  // Purged, it is gone for its owner too.
  must(d::PurgeItem{mine}, as(member.user));
  EXPECT_TRUE(refused(engine_->read_item(mine, as(member.user)), d::ErrorKind::kNotFound));
}

// ---------------------------------------------------------------------------
// read_organization

TEST_F(EngineVaultTest, ReadOrganizationShowsTheConsoleToMembersAndProviderUsersOnly) {
  set_up_provider();
  const Client contoso = add_client("Contoso", "boss@contoso.example");
  const Client initech = add_client("Initech", "boss@initech.example");
  const Member member = add_member(contoso, "member@contoso.example", {});
  const Member other_member = add_member(initech, "member@initech.example", {});

  for (const d::UserId& who : {contoso.boss, member.user, admin_, service_}) {
    auto r = engine_->read_organization(contoso.org, as(who));
    ASSERT_TRUE(r.ok()) << describe(r.error());
    EXPECT_EQ(r->id, contoso.org);
    EXPECT_EQ(r->name, "Contoso");
    EXPECT_EQ(r->provider_id, provider_);
    EXPECT_NE(r->member_by_user_id(member.user), nullptr);
  }
  // NEGATIVE: members of the provider's other client, strangers: no such organization.
  for (const d::UserId& who : {initech.boss, other_member.user, register_user("x@elsewhere.example")}) {
    EXPECT_TRUE(refused(engine_->read_organization(contoso.org, as(who)), d::ErrorKind::kNotFound));
  }
  EXPECT_TRUE(refused(engine_->read_organization(contoso.org, staff()), d::ErrorKind::kPermissionDenied));
  EXPECT_TRUE(refused(engine_->read_organization(random_uuid(), as(contoso.boss)), d::ErrorKind::kNotFound));

  // A revoked member loses the console at once.
  must(d::RevokeMember{contoso.org, member.id}, as(contoso.boss));
  EXPECT_TRUE(refused(engine_->read_organization(contoso.org, as(member.user)), d::ErrorKind::kNotFound));
}

// ---------------------------------------------------------------------------
// Concurrency

// Items are separate streams; the organization is only checked, not written, by an
// item edit. With a single attempt, any conflict would surface as kAborted.
TEST_F(EngineVaultTest, EditsOfDifferentItemsOfOneOrganizationNeverConflict) {
  max_attempts_ = 1;
  reopen();
  set_up_provider();
  constexpr int kThreads = 8;
  constexpr int kEdits = 50;
  const Client contoso = add_client("Contoso", "boss@contoso.example");
  std::vector<Member> editors;
  std::vector<d::ItemId> items;
  std::vector<std::uint64_t> heads;
  for (int t = 0; t < kThreads; ++t) {
    editors.push_back(add_member(contoso, "editor" + std::to_string(t) + "@contoso.example",
                                 {d::CollectionAccess{contoso.collection, false, false, false}}));
    items.push_back(create_item(as(contoso.boss), contoso.org, {contoso.collection}));
    heads.push_back(head(items.back()));
  }

  std::vector<std::vector<std::string>> failures(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEdits; ++i) {
        auto r = engine_->execute(d::UpdateItem{items[t], content(numbered_name(t, i))}, as(editors[t].user));
        if (!r.ok()) failures[t].push_back("edit " + std::to_string(i) + ": " + describe(r.error()));
      }
    });
  }
  for (auto& th : threads) th.join();

  for (int t = 0; t < kThreads; ++t) {
    SCOPED_TRACE("thread " + std::to_string(t));
    EXPECT_TRUE(failures[t].empty()) << failures[t].size() << " failed, first: " << failures[t].front();
    EXPECT_EQ(head(items[t]), heads[t] + kEdits) << "one event per edit";
    auto item = engine_->item(items[t]);
    ASSERT_TRUE(item.ok() && item.value());
    EXPECT_EQ(item.value()->name, numbered_name(t, kEdits - 1)) << "the last edit is the item's content";
  }
}

// An edit racing the revocation of its editor: once the revocation is committed, no
// edit of that member succeeds. The edit's append checks the organization stream's
// version, so an edit decided before the revocation but appended after it retries
// and is refused. In the log, every CipherUpdated by the member precedes the
// OrganizationUserRevoked event.
TEST_F(EngineVaultTest, AnEditRacingTheRevocationOfItsEditorNeverLandsAfterIt) {
  set_up_provider();
  constexpr int kRounds = 40;
  const Client contoso = add_client("Contoso", "boss@contoso.example", 100);
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Member m = add_member(contoso, "editor" + std::to_string(round) + "@contoso.example",
                                {d::CollectionAccess{contoso.collection, false, false, false}});
    const d::ItemId item = create_item(as(contoso.boss), contoso.org, {contoso.collection});
    const std::uint64_t created_at = head(item);

    std::atomic<int> edits{0};
    std::vector<std::uint64_t> edit_positions;
    std::optional<d::Error> edit_refusal;
    std::optional<d::Expected<CommandResult>> revoke;
    std::thread editor([&] {
      // Edits until refused; bounded only so that a broken rule cannot hang the test.
      for (int i = 0; i < 1'000'000; ++i) {
        auto r = engine_->execute(d::UpdateItem{item, content(numbered_name(round, i % 600))}, as(m.user));
        if (!r.ok()) {
          edit_refusal = r.error();
          return;
        }
        edit_positions.push_back(r->last_position);
        edits.fetch_add(1);
      }
    });
    std::thread revoker([&] {
      while (edits.load() < 1 + round % 3) std::this_thread::yield();
      revoke.emplace(engine_->execute(d::RevokeMember{contoso.org, m.id}, as(contoso.boss)));
    });
    revoker.join();
    editor.join();

    ASSERT_TRUE(revoke.has_value() && revoke->ok()) << describe(revoke->error());
    const std::uint64_t revoked_at = (*revoke)->first_position;
    ASSERT_TRUE(edit_refusal.has_value()) << "the member kept editing after the revocation";
    EXPECT_EQ(edit_refusal->kind, d::ErrorKind::kNotFound) << describe(*edit_refusal);
    for (std::uint64_t p : edit_positions) EXPECT_LT(p, revoked_at);

    // The log agrees: the revocation, then nothing by the member.
    const auto revocation = read(revoked_at, revoked_at);
    ASSERT_EQ(revocation.size(), 1u);
    EXPECT_EQ(revocation[0].type, "OrganizationUserRevoked");
    EXPECT_EQ(revocation[0].type_code, 1511u);
    for (const auto& e : read(revoked_at, engine_->store().last_position())) {
      auto recorded = d::decode_actor(e.metadata);
      ASSERT_TRUE(recorded.ok());
      EXPECT_NE(recorded->user_id, m.user) << e.type << " at " << e.position << " after the revocation";
    }
    EXPECT_EQ(head(item), created_at + edit_positions.size()) << "exactly the successful edits are recorded";
    // And afterwards, every edit is refused.
    auto late = engine_->execute(d::UpdateItem{item, content(kNewName)}, as(m.user));
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().kind, d::ErrorKind::kNotFound);
  }
}

// ---------------------------------------------------------------------------
// Exactly once

TEST_F(EngineVaultTest, TheSameCommandIdCreatesAnItemOnce) {
  set_up_provider();
  const Client contoso = add_client("Contoso", "boss@contoso.example");
  const es::CommandId id = es::Id16::random();
  const d::CreateItem create{d::CipherType::kLogin, contoso.org, {contoso.collection}, content()};
  const CommandResult first = must(create, as(contoso.boss), id);
  const CommandResult again = must(create, as(contoso.boss), id);
  ASSERT_EQ(first.created_ids.size(), 1u);
  EXPECT_FALSE(first.deduplicated);
  EXPECT_TRUE(again.deduplicated);
  EXPECT_EQ(again.created_ids, first.created_ids);
  EXPECT_EQ(again.first_position, first.first_position);
  EXPECT_EQ(again.last_position, first.last_position);

  int created = 0;
  for (const auto& e : whole_log()) {
    if (e.type == "CipherCreated") {
      ++created;
      EXPECT_EQ(e.stream, d::item_stream(first.created_ids[0]));
      EXPECT_EQ(e.type_code, 1100u);
      EXPECT_EQ(e.command_id, id);
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(read(first.first_position, first.last_position).size(), 1u);

  // Still once after a restart; another command id creates another item.
  reopen();
  const CommandResult after_restart = must(create, as(contoso.boss), id);
  EXPECT_TRUE(after_restart.deduplicated);
  EXPECT_EQ(after_restart.created_ids, first.created_ids);
  const CommandResult other = must(create, as(contoso.boss));
  EXPECT_NE(other.created_ids.at(0), first.created_ids[0]);
  auto view = engine_->read_item(first.created_ids[0], as(contoso.boss));
  ASSERT_TRUE(view.ok()) << describe(view.error());
  EXPECT_EQ(view->item.name, kName);
}

}  // namespace
}  // namespace portal
