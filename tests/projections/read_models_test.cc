// The audit log and the administration history (issue 5, "Read models") against a
// scenario driven through the Engine with a controllable clock: an MSP (Alice, its
// owner; Bob, a service user; Carol, an admin who joins later) manages Client One,
// whose own owner (Boss) and admin (Adam) also act; Bob is removed, Adam is
// removed, and the client is finally unlinked.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "engine_fixture.h"

namespace portal::projections {
namespace {

using namespace portal::projections::testing;

std::vector<std::uint64_t> positions_of(const std::vector<AuditEntry>& entries) {
  std::vector<std::uint64_t> out;
  for (const auto& e : entries) out.push_back(e.position);
  return out;
}

std::vector<std::uint64_t> positions_of(const CommandResult& r) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t p = r.first_position; p != 0 && p <= r.last_position; ++p) out.push_back(p);
  return out;
}

class ReadModelsTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    alice = register_user("alice@msp.example");
    bob = register_user("bob@msp.example");
    carol = register_user("carol@msp.example");
    boss = register_user("boss@client.example");
    adam = register_user("adam@client.example");
    m2 = register_user("m2@client.example");

    t_before_provider = mark();
    auto invited = must(d::InviteProvider{d::ProviderType::kMsp, "alice@msp.example", {}}, staff());
    provider = invited.created_ids.at(0);
    must(d::SetupProvider{provider, invited.tokens.at(0), "Acme IT", "Acme IT Ltd", "billing@acme.example",
                          kKey},
         as(alice));

    auto bob_invite = must(
        d::InviteProviderUsers{provider, {"bob@msp.example"}, d::ProviderUserType::kServiceUser}, as(alice));
    bob_pu = bob_invite.created_ids.at(0);
    must(d::AcceptProviderInvite{provider, bob_pu, bob_invite.tokens.at(0)}, as(bob));
    must(d::ConfirmProviderUsers{provider, {{bob_pu, kKey}}}, as(alice));

    t_before_link = mark();
    added = must(d::AddClientOrg{provider, std::nullopt, "Client One", "boss@client.example",
                                 d::PlanType::kTeamsMonthly, 10, "Default"},
                 as(alice));
    org = added.created_ids.at(0);
    link = added.created_ids.at(1);
    boss_ou = added.created_ids.at(2);
    default_collection = added.created_ids.at(3);
    t_linked = mark();
    added2 = must(d::AddClientOrg{provider, std::nullopt, "Client Two", "boss2@client.example",
                                  d::PlanType::kTeamsMonthly, 10, "Default"},
                  as(alice));
    org2 = added2.created_ids.at(0);
    link2 = added2.created_ids.at(1);

    // Bob administers Client One through the provider.
    invite_adam = must(
        d::InviteMembers{org, {"adam@client.example"}, d::OrganizationUserType::kAdmin, {}, {}, {}}, as(bob));
    adam_ou = invite_adam.created_ids.at(0);
    invite_two = must(
        d::InviteMembers{
            org, {"m2@client.example", "m3@client.example"}, d::OrganizationUserType::kUser, {}, {}, {}},
        as(bob));
    bob_collection = must(d::CreateCollection{org, kEncName, {}, {}}, as(bob));
    bob_group = must(d::CreateGroup{org, "Engineers", {}}, as(bob));
    bob_policy = must(d::SavePolicy{org, d::PolicyType::kTwoFactorAuthentication, true, ""}, as(bob));
    bob_rename = must(d::UpdateClientOrg{provider, link, "Client One Renamed", 10}, as(bob));
    bob_opens_two = must(d::OpenClientOrg{provider, link2}, as(bob));

    // The client's owner accepts; Bob confirms him.
    boss_accept = must(d::AcceptMember{org, boss_ou, added.tokens.at(0)}, as(boss));
    t_before_boss_confirmed = mark();
    bob_confirms_boss = must(d::ConfirmMember{org, boss_ou, kKey}, as(bob));
    t_boss_confirmed = mark();

    // The owner's own actions.
    boss_collection = must(d::CreateCollection{org, kEncNewName, {}, {}}, as(boss));
    item_created = must(
        d::CreateItem{d::CipherType::kLogin, org, {default_collection}, d::ItemContent{kEncName, "", {}}},
        as(boss));
    item = item_created.created_ids.at(0);
    item_updated = must(d::UpdateItem{item, d::ItemContent{kEncNewName, "", {}}}, as(boss));
    adam_accept = must(d::AcceptMember{org, adam_ou, invite_adam.tokens.at(0)}, as(adam));
    t_before_adam_confirmed = mark();
    boss_confirms_adam = must(d::ConfirmMember{org, adam_ou, kKey}, as(boss));
    t_adam_confirmed = mark();

    // Carol joins the provider later and opens the client.
    auto carol_invite =
        must(d::InviteProviderUsers{provider, {"carol@msp.example"}, d::ProviderUserType::kProviderAdmin},
             as(alice));
    carol_pu = carol_invite.created_ids.at(0);
    must(d::AcceptProviderInvite{provider, carol_pu, carol_invite.tokens.at(0)}, as(carol));
    t_before_carol_confirmed = mark();
    must(d::ConfirmProviderUsers{provider, {{carol_pu, kKey}}}, as(alice));
    t_carol_confirmed = mark();
    carol_opens = must(d::OpenClientOrg{provider, link}, as(carol));

    t_before_bob_removed = mark();
    must(d::RemoveProviderUsers{provider, {bob_pu}}, as(alice));
    t_bob_removed = mark();
    boss_removes_adam = must(d::RemoveMember{org, adam_ou}, as(boss));
    t_adam_removed = mark();
    unlinked = must(d::RemoveClientOrg{provider, link}, as(alice));
    t_unlinked = mark();

    wait_for_read_models();
  }

  std::vector<AuditEntry> query(AuditBy by, const d::Uuid& id, std::int64_t from = 0,
                                std::int64_t to = std::numeric_limits<std::int64_t>::max()) {
    AuditQuery q;
    q.by = by;
    q.id = id;
    q.from = from;
    q.to = to;
    q.limit = 0;
    auto page = query_audit(pdb(), q);
    if (!page.ok()) throw std::runtime_error("query_audit: " + page.status().to_string());
    EXPECT_TRUE(page->continuation.empty()) << "an unlimited query has no next page";
    return page->entries;
  }

  // Every page of a query with `limit`, followed by continuation.
  std::vector<AuditEntry> paged(AuditBy by, const d::Uuid& id, std::size_t limit, std::int64_t from = 0,
                                std::int64_t to = std::numeric_limits<std::int64_t>::max(),
                                bool newest_first = false) {
    std::vector<AuditEntry> all;
    AuditQuery q;
    q.by = by;
    q.id = id;
    q.from = from;
    q.to = to;
    q.limit = limit;
    q.newest_first = newest_first;
    for (int pages = 0; pages < 10'000; ++pages) {
      auto page = query_audit(pdb(), q);
      if (!page.ok()) throw std::runtime_error("query_audit: " + page.status().to_string());
      EXPECT_LE(page->entries.size(), limit);
      all.insert(all.end(), page->entries.begin(), page->entries.end());
      if (page->continuation.empty()) return all;
      EXPECT_FALSE(page->entries.empty()) << "a page with nothing but a continuation";
      q.continuation = page->continuation;
    }
    ADD_FAILURE() << "the continuation never ended";
    return all;
  }

  std::set<std::pair<d::UserId, AccessKind>> admins_at(d::Timestamp at) {
    std::set<std::pair<d::UserId, AccessKind>> out;
    for (const auto& i : administrators_at(pdb(), org, at)) out.insert({i.user_id, i.kind});
    return out;
  }

  const Acted* find_acted(const std::vector<Acted>& rows, const d::OrganizationId& o, const d::UserId& u) {
    for (const auto& a : rows)
      if (a.organization_id == o && a.user_id == u) return &a;
    return nullptr;
  }

  d::UserId alice, bob, carol, boss, adam, m2;
  d::ProviderId provider;
  d::ProviderUserId bob_pu, carol_pu;
  d::OrganizationId org, org2;
  d::ProviderOrganizationId link, link2;
  d::OrganizationUserId boss_ou, adam_ou;
  d::CollectionId default_collection;
  d::ItemId item;
  CommandResult added, added2, invite_adam, invite_two, bob_collection, bob_group, bob_policy, bob_rename,
      bob_opens_two, boss_accept, bob_confirms_boss, boss_collection, item_created, item_updated, adam_accept,
      boss_confirms_adam, carol_opens, boss_removes_adam, unlinked;
  d::Timestamp t_before_provider = 0, t_before_link = 0, t_linked = 0, t_before_boss_confirmed = 0,
               t_boss_confirmed = 0, t_before_adam_confirmed = 0, t_adam_confirmed = 0,
               t_before_carol_confirmed = 0, t_carol_confirmed = 0, t_before_bob_removed = 0,
               t_bob_removed = 0, t_adam_removed = 0, t_unlinked = 0;
};

// ---------------------------------------------------------------------------
// Audit log

TEST_F(ReadModelsTest, AnOrganizationsLogHoldsItsEventsInOrderWithBitwardenCodes) {
  const auto entries = query(AuditBy::kOrganization, org);
  ASSERT_GE(entries.size(), 4u);
  for (std::size_t i = 1; i < entries.size(); ++i) {
    EXPECT_LT(entries[i - 1].position, entries[i].position) << "entries out of order at " << i;
    EXPECT_LE(entries[i - 1].date, entries[i].date);
  }

  // AddClientOrg: the provider's 1900 and the organization's creation, invitation, collection.
  struct Want {
    const char* name;
    std::uint32_t code;
  };
  const std::vector<Want> add = {{"ProviderOrganizationCreated", 1900},
                                 {"OrganizationCreated", 0},
                                 {"OrganizationUserInvited", 1500},
                                 {"CollectionCreated", 1300}};
  for (std::size_t i = 0; i < add.size(); ++i) {
    SCOPED_TRACE(add[i].name);
    const AuditEntry& e = entries[i];
    EXPECT_EQ(e.position, added.first_position + i);
    EXPECT_EQ(e.name, add[i].name);
    EXPECT_EQ(e.type, add[i].code);
    EXPECT_EQ(e.acting_user_id, alice);
    EXPECT_EQ(e.acting_as, static_cast<std::int8_t>(d::ActingAs::kProviderUser));
    EXPECT_EQ(e.provider_id, provider);
    EXPECT_EQ(e.organization_id, org);
    EXPECT_EQ(e.device_type, 9);
    EXPECT_EQ(e.ip_address, "192.0.2.7");
  }
  EXPECT_EQ(entries[0].provider_organization_id, link);
  EXPECT_EQ(entries[0].stream, d::provider_stream(provider));
  EXPECT_EQ(entries[2].organization_user_id, boss_ou);
  EXPECT_EQ(entries[3].collection_id, default_collection);

  // Every event of the organization's own stream is there, and nothing of the other client.
  std::set<std::uint64_t> in_log;
  for (const auto& e : entries) in_log.insert(e.position);
  for (const auto& e : log()) {
    if (e.stream == d::organization_stream(org)) {
      EXPECT_TRUE(in_log.count(e.position)) << e.type << " at " << e.position << " is missing";
    }
    if (e.stream == d::organization_stream(org2)) {
      EXPECT_FALSE(in_log.count(e.position)) << e.type << " of the other client is in the log";
    }
  }

  std::map<std::uint64_t, const AuditEntry*> by_position;
  for (const auto& e : entries) by_position[e.position] = &e;
  auto at = [&](std::uint64_t p) -> const AuditEntry& {
    auto it = by_position.find(p);
    if (it == by_position.end())
      throw std::runtime_error("position " + std::to_string(p) + " not in the log");
    return *it->second;
  };
  // Two invitations of one command: two 1500 entries, one per member.
  ASSERT_EQ(invite_two.created_ids.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const AuditEntry& e = at(invite_two.first_position + i);
    EXPECT_EQ(e.type, 1500u);
    EXPECT_EQ(e.organization_user_id, invite_two.created_ids[i]);
    EXPECT_EQ(e.acting_user_id, bob);
  }
  EXPECT_EQ(at(bob_collection.first_position).type, 1300u);
  EXPECT_EQ(at(bob_collection.first_position).collection_id, bob_collection.created_ids.at(0));
  EXPECT_EQ(at(bob_group.first_position).type, 1400u);
  EXPECT_EQ(at(bob_group.first_position).group_id, bob_group.created_ids.at(0));
  EXPECT_EQ(at(bob_policy.first_position).type, 1700u);
  EXPECT_EQ(at(bob_policy.first_position).policy_type, 0);
  EXPECT_EQ(at(bob_confirms_boss.first_position).type, 1501u);
  EXPECT_EQ(at(bob_confirms_boss.first_position).organization_user_id, boss_ou);
  EXPECT_EQ(at(item_created.first_position).type, 1100u);
  EXPECT_EQ(at(item_created.first_position).cipher_id, item);
  EXPECT_EQ(at(item_updated.first_position).type, 1101u);
  EXPECT_EQ(at(boss_removes_adam.first_position).type, 1503u);
  EXPECT_EQ(at(boss_removes_adam.first_position).acting_user_id, boss);
  EXPECT_EQ(at(boss_removes_adam.first_position).acting_as, static_cast<std::int8_t>(d::ActingAs::kDirect));
  EXPECT_EQ(at(unlinked.first_position).type, 1902u);
  EXPECT_EQ(at(unlinked.first_position).name, "ProviderOrganizationRemoved");
}

TEST_F(ReadModelsTest, AProvidersLogRollsUpWhatItsUsersDidOnClientsButNotTheOwnersOwnEvents) {
  const auto entries = query(AuditBy::kProvider, provider);
  std::set<std::uint64_t> in_log;
  for (const auto& e : entries) {
    in_log.insert(e.position);
    EXPECT_EQ(e.provider_id, provider) << e.name << " at " << e.position;
  }
  for (const CommandResult* r :
       {&added, &added2, &invite_adam, &invite_two, &bob_collection, &bob_group, &bob_policy, &bob_rename,
        &bob_opens_two, &bob_confirms_boss, &carol_opens, &unlinked}) {
    for (std::uint64_t p : positions_of(*r)) {
      EXPECT_TRUE(in_log.count(p)) << "position " << p << " (a provider user's command) is not rolled up";
    }
  }
  for (const CommandResult* r : {&boss_accept, &boss_collection, &item_created, &item_updated, &adam_accept,
                                 &boss_confirms_adam, &boss_removes_adam}) {
    for (std::uint64_t p : positions_of(*r)) {
      EXPECT_FALSE(in_log.count(p)) << "position " << p
                                    << " (the client's own event) is in the provider's log";
    }
  }
  // The provider's own stream: the invitations and confirmations of its users.
  std::size_t invitations = 0, confirmations = 0;
  for (const auto& e : entries) {
    invitations += e.type == 1800 ? 1 : 0;
    confirmations += e.type == 1801 ? 1 : 0;
  }
  EXPECT_EQ(invitations, 2u);
  EXPECT_EQ(confirmations, 2u);
}

TEST_F(ReadModelsTest, PagesOfTwoFollowedByContinuationReturnEveryEventOnce) {
  for (const auto& [by, id] : std::vector<std::pair<AuditBy, d::Uuid>>{
           {AuditBy::kOrganization, org}, {AuditBy::kProvider, provider}, {AuditBy::kActor, bob}}) {
    SCOPED_TRACE(std::string(1, static_cast<char>(by)));
    const auto all = query(by, id);
    ASSERT_GT(all.size(), 4u);
    const auto pages = paged(by, id, 2);
    EXPECT_EQ(positions_of(pages), positions_of(all));
    EXPECT_EQ(pages, all);
    EXPECT_EQ(positions_of(paged(by, id, 3)), positions_of(all));
    EXPECT_EQ(positions_of(paged(by, id, all.size())), positions_of(all));
  }

  AuditQuery q;
  q.by = AuditBy::kOrganization;
  q.id = org;
  q.limit = 2;
  auto first = query_audit(pdb(), q);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->continuation.empty());
  AuditQuery bad = q;
  bad.continuation = "not-a-token";
  EXPECT_EQ(query_audit(pdb(), bad).status().code(), es::StatusCode::kInvalidArgument);
  AuditQuery other = q;
  other.by = AuditBy::kProvider;
  other.id = provider;
  other.continuation = first->continuation;
  EXPECT_EQ(query_audit(pdb(), other).status().code(), es::StatusCode::kInvalidArgument)
      << "a token of another query is refused";
}

// Bitwarden's event pages list the newest first: every entry exactly once, in the
// reverse order, whatever the page size and window; a token keeps its order.
TEST_F(ReadModelsTest, NewestFirstPagesReturnEveryEventOnceInReverse) {
  for (const auto& [by, id] : std::vector<std::pair<AuditBy, d::Uuid>>{
           {AuditBy::kOrganization, org}, {AuditBy::kProvider, provider}, {AuditBy::kActor, bob}}) {
    SCOPED_TRACE(std::string(1, static_cast<char>(by)));
    auto reversed = query(by, id);
    ASSERT_GT(reversed.size(), 4u);
    std::reverse(reversed.begin(), reversed.end());
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    for (std::size_t limit : {std::size_t{1}, std::size_t{2}, std::size_t{3}, reversed.size()}) {
      EXPECT_EQ(paged(by, id, limit, 0, max, /*newest_first=*/true), reversed) << "pages of " << limit;
    }
    // A window: from an entry's own instant (inclusive) to another's (exclusive).
    const std::int64_t from = reversed[reversed.size() - 2].date, to = reversed[1].date;
    std::vector<std::uint64_t> expected;
    for (const auto& e : reversed)
      if (from <= e.date && e.date < to) expected.push_back(e.position);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(positions_of(paged(by, id, 2, from, to, true)), expected);
  }

  AuditQuery q;
  q.by = AuditBy::kOrganization;
  q.id = org;
  q.limit = 2;
  auto oldest = query_audit(pdb(), q);
  q.newest_first = true;
  auto newest = query_audit(pdb(), q);
  ASSERT_TRUE(oldest.ok() && newest.ok());
  ASSERT_FALSE(oldest->continuation.empty());
  ASSERT_FALSE(newest->continuation.empty());
  AuditQuery crossed = q;
  crossed.continuation = oldest->continuation;
  EXPECT_EQ(query_audit(pdb(), crossed).status().code(), es::StatusCode::kInvalidArgument)
      << "an oldest-first token is refused by a newest-first query";
  crossed.newest_first = false;
  crossed.continuation = newest->continuation;
  EXPECT_EQ(query_audit(pdb(), crossed).status().code(), es::StatusCode::kInvalidArgument)
      << "a newest-first token is refused by an oldest-first query";
}

TEST_F(ReadModelsTest, FromAndToWindowsSelectByTime) {
  const auto all = query(AuditBy::kOrganization, org);
  auto within = [&](d::Timestamp from, d::Timestamp to) {
    std::vector<std::uint64_t> out;
    for (const auto& e : all)
      if (from <= e.date && e.date < to) out.push_back(e.position);
    return out;
  };
  const std::vector<std::pair<d::Timestamp, d::Timestamp>> windows = {
      {t_linked, t_boss_confirmed},
      {t_before_boss_confirmed, t_boss_confirmed},
      {t_boss_confirmed, t_unlinked},
      {0, t_linked},
      {t_unlinked, std::numeric_limits<std::int64_t>::max()},
      {all[3].date, all[6].date},  // from an entry's own instant (inclusive) to another's (exclusive)
  };
  for (const auto& [from, to] : windows) {
    SCOPED_TRACE(std::to_string(from) + ".." + std::to_string(to));
    const auto expected = within(from, to);
    EXPECT_EQ(positions_of(query(AuditBy::kOrganization, org, from, to)), expected);
    EXPECT_EQ(positions_of(paged(AuditBy::kOrganization, org, 2, from, to)), expected);
  }
  EXPECT_EQ(positions_of(query(AuditBy::kOrganization, org, t_before_boss_confirmed, t_boss_confirmed)),
            positions_of(bob_confirms_boss))
      << "the window around one command holds its events";
  EXPECT_TRUE(query(AuditBy::kOrganization, org, t_before_provider, t_before_link).empty());
}

TEST_F(ReadModelsTest, AnItemsAndAnActorsIndexes) {
  const auto item_log = query(AuditBy::kItem, item);
  std::vector<std::uint64_t> expected = positions_of(item_created);
  for (auto p : positions_of(item_updated)) expected.push_back(p);
  std::vector<std::uint64_t> item_events;  // only the item's own events (not, e.g., a user stream's)
  for (const auto& e : item_log) {
    EXPECT_EQ(e.cipher_id, item);
    item_events.push_back(e.position);
  }
  EXPECT_EQ(item_events, expected);
  ASSERT_EQ(item_log.size(), 2u);
  EXPECT_EQ(item_log[0].name, "CipherCreated");
  EXPECT_EQ(item_log[0].type, 1100u);
  EXPECT_EQ(item_log[1].name, "CipherUpdated");
  EXPECT_EQ(item_log[1].type, 1101u);
  EXPECT_EQ(item_log[1].organization_id, org);

  // The actor's index: every event the actor recorded, from the log's own metadata.
  for (const d::UserId& who : {boss, bob, alice}) {
    std::vector<std::uint64_t> recorded;
    for (const auto& e : log()) {
      auto actor = d::decode_actor(e.metadata);
      ASSERT_TRUE(actor.ok());
      if (actor->user_id == who) recorded.push_back(e.position);
    }
    EXPECT_EQ(positions_of(query(AuditBy::kActor, who)), recorded) << who.to_string();
  }
}

// ---------------------------------------------------------------------------
// Administration history

TEST_F(ReadModelsTest, ProviderUsersActionsOnAClientCountCommandsWithFirstLastAndLastAction) {
  const auto rows = acted_for_provider(pdb(), provider);
  const auto events = log();
  auto date_of = [&](std::uint64_t p) { return events.at(p - 1).recorded_at_us; };
  auto type_of = [&](std::uint64_t p) { return events.at(p - 1).type; };

  // Bob: two invitations (one with two events), a collection, a group, a policy, a
  // rename (its organization event) and the confirmation (two events): 7 commands.
  const Acted* b = find_acted(rows, org, bob);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->provider_id, provider);
  EXPECT_EQ(b->commands, 7u) << "a command with several events counts once";
  EXPECT_EQ(b->first, date_of(invite_adam.first_position));
  EXPECT_EQ(b->last, date_of(bob_confirms_boss.last_position));
  EXPECT_EQ(b->last_action, type_of(bob_confirms_boss.last_position));

  // Alice: the client's creation (three organization events) and its removal.
  const Acted* a = find_acted(rows, org, alice);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->commands, 2u);
  EXPECT_EQ(a->first, date_of(added.first_position + 1));
  EXPECT_EQ(a->last, date_of(unlinked.last_position));
  EXPECT_EQ(a->last_action, type_of(unlinked.last_position));

  const Acted* c = find_acted(rows, org, carol);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->commands, 1u);
  EXPECT_EQ(c->last_action, "OrganizationVaultAccessed");

  EXPECT_EQ(find_acted(rows, org, boss), nullptr) << "the client's owner did not act through the provider";
  EXPECT_EQ(find_acted(rows, org, adam), nullptr);
  const Acted* b2 = find_acted(rows, org2, bob);
  ASSERT_NE(b2, nullptr);
  EXPECT_EQ(b2->commands, 1u);

  // Per user: the clients Bob touched.
  std::set<d::OrganizationId> touched;
  for (const auto& r : acted_by_user(pdb(), bob)) {
    EXPECT_EQ(r.user_id, bob);
    EXPECT_EQ(r.provider_id, provider);
    touched.insert(r.organization_id);
    if (r.organization_id == org) {
      EXPECT_EQ(r, *b);
    }
  }
  EXPECT_EQ(touched, (std::set<d::OrganizationId>{org, org2}));
  EXPECT_TRUE(acted_by_user(pdb(), boss).empty());
}

TEST_F(ReadModelsTest, WhoHadAdministrativeAccessAtAnInstant) {
  using K = AccessKind;
  using Set = std::set<std::pair<d::UserId, AccessKind>>;
  EXPECT_EQ(admins_at(t_before_link), Set{}) << "before the organization existed";
  EXPECT_EQ(admins_at(t_linked), (Set{{alice, K::kProviderUser}, {bob, K::kProviderUser}}))
      << "the provider's confirmed users once it is a client; the owner is only invited";
  EXPECT_EQ(admins_at(t_before_boss_confirmed), (Set{{alice, K::kProviderUser}, {bob, K::kProviderUser}}))
      << "an accepted but unconfirmed owner has no access";
  EXPECT_EQ(admins_at(t_boss_confirmed),
            (Set{{alice, K::kProviderUser}, {bob, K::kProviderUser}, {boss, K::kOwner}}));
  EXPECT_EQ(admins_at(t_before_adam_confirmed),
            (Set{{alice, K::kProviderUser}, {bob, K::kProviderUser}, {boss, K::kOwner}}));
  EXPECT_EQ(admins_at(t_adam_confirmed),
            (Set{{alice, K::kProviderUser}, {bob, K::kProviderUser}, {boss, K::kOwner}, {adam, K::kAdmin}}));
  EXPECT_EQ(admins_at(t_before_carol_confirmed),
            (Set{{alice, K::kProviderUser}, {bob, K::kProviderUser}, {boss, K::kOwner}, {adam, K::kAdmin}}))
      << "not a provider user before their confirmation";
  EXPECT_EQ(admins_at(t_carol_confirmed), (Set{{alice, K::kProviderUser},
                                               {bob, K::kProviderUser},
                                               {carol, K::kProviderUser},
                                               {boss, K::kOwner},
                                               {adam, K::kAdmin}}));
  EXPECT_EQ(admins_at(t_bob_removed),
            (Set{{alice, K::kProviderUser}, {carol, K::kProviderUser}, {boss, K::kOwner}, {adam, K::kAdmin}}))
      << "not a provider user after their removal";
  EXPECT_EQ(admins_at(t_adam_removed),
            (Set{{alice, K::kProviderUser}, {carol, K::kProviderUser}, {boss, K::kOwner}}));
  EXPECT_EQ(admins_at(t_unlinked), (Set{{boss, K::kOwner}}))
      << "no provider user after the client is unlinked";

  // Bob's interval runs from the link to his removal.
  std::size_t bobs = 0;
  for (const auto& i : access_history(pdb(), org)) {
    if (i.user_id != bob) continue;
    ++bobs;
    EXPECT_EQ(i.kind, K::kProviderUser);
    EXPECT_GT(i.from, t_before_link);
    EXPECT_LT(i.from, t_linked);
    EXPECT_GT(i.until, t_before_bob_removed);
    EXPECT_LT(i.until, t_bob_removed);
  }
  EXPECT_EQ(bobs, 1u);
  // The other client's history is its own.
  for (const auto& i : administrators_at(pdb(), org2, t_unlinked)) EXPECT_NE(i.user_id, boss);
}

TEST_F(ReadModelsTest, ReadYourWritesWaitsForTheCommandsPosition) {
  const auto r = must(d::CreateGroup{org, "Later", {}}, as(boss));
  auto waited =
      engine_->wait_for_projection(AuditLogProjection::kName, r.last_position, std::chrono::seconds(30));
  ASSERT_TRUE(waited.ok()) << describe(waited.error());
  const auto entries = query(AuditBy::kOrganization, org);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().position, r.last_position);
  EXPECT_EQ(entries.back().type, 1400u);

  auto beyond = engine_->wait_for_projection(AuditLogProjection::kName, r.last_position + 1000,
                                             std::chrono::milliseconds(50));
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().kind, d::ErrorKind::kUnavailable);
  auto unknown = engine_->wait_for_projection("no-such-model", 1, std::chrono::milliseconds(50));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, d::ErrorKind::kNotFound);
}

}  // namespace
}  // namespace portal::projections
