// A provider's users looked up by email and by id (ProviderState::user_by_email,
// user, user_position), and its clients by link id and by organization id
// (client, client_by_organization, client_position), through the indexes that
// copies of the state share: every user and client is found whatever its place
// (covered by the index or added after it), a removal moves them and is still
// answered right, a copy taken earlier answers for its own only, and a
// snapshot's state answers the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "portal/domain/events.h"
#include "portal/domain/snapshot.h"
#include "portal/domain/state.h"

namespace portal::domain {
namespace {

Uuid id_of(std::uint64_t n) {
  Uuid id;
  for (int i = 0; i < 8; ++i) id.bytes[15 - i] = static_cast<std::uint8_t>(n >> (8 * i));
  id.bytes[0] = 0x42;
  return id;
}

std::string email_of(std::uint64_t n) { return "user" + std::to_string(n) + "@msp.example"; }

template <class Event>
void apply(ProviderState& s, Event event) {
  EventPayload e;
  e.Set(std::move(event));
  evolve(s, e, 1000);
}

void invite(ProviderState& s, std::uint64_t n) {
  fb::ProviderUserInvitedT invited;
  invited.provider_user_id = id_of(n);
  invited.email = email_of(n);
  invited.type = static_cast<std::int8_t>(ProviderUserType::kServiceUser);
  apply(s, std::move(invited));
}

void remove(ProviderState& s, std::uint64_t n) {
  fb::ProviderUserRemovedT removed;
  removed.provider_user_id = id_of(n);
  apply(s, std::move(removed));
}

void accept(ProviderState& s, std::uint64_t n) {
  fb::ProviderUserAcceptedT accepted;
  accepted.provider_user_id = id_of(n);
  accepted.user_id = id_of(1'000'000 + n);
  apply(s, std::move(accepted));
}

// Every user 1..n except `gone` is found by email and by id, and is the right one;
// the absent ones are not found.
void expect_exactly(const ProviderState& s, std::uint64_t n, const std::vector<std::uint64_t>& gone = {}) {
  for (std::uint64_t i = 1; i <= n; ++i) {
    const bool present = std::find(gone.begin(), gone.end(), i) == gone.end();
    const ProviderUser* by_email = s.user_by_email(email_of(i));
    const ProviderUser* by_id = s.user(id_of(i));
    if (!present) {
      EXPECT_EQ(by_email, nullptr) << "removed user " << i << " found by email";
      EXPECT_EQ(by_id, nullptr) << "removed user " << i << " found by id";
      continue;
    }
    ASSERT_NE(by_email, nullptr) << "user " << i << " not found by email";
    ASSERT_NE(by_id, nullptr) << "user " << i << " not found by id";
    EXPECT_EQ(by_email->id, id_of(i));
    EXPECT_EQ(by_id->email, email_of(i));
    EXPECT_EQ(by_email, by_id);
  }
  EXPECT_EQ(s.user_by_email(email_of(n + 1)), nullptr);
  EXPECT_EQ(s.user(id_of(n + 1)), nullptr);
}

TEST(ProviderUsers, EveryUserIsFoundByEmailAndIdAsTheProviderGrows) {
  ProviderState s;
  s.exists = true;
  constexpr std::uint64_t kUsers = 3 * ProviderUserIndex::kTail + 17;  // several rebuilds and a tail
  for (std::uint64_t i = 1; i <= kUsers; ++i) {
    invite(s, i);
    if (i % 97 == 0) expect_exactly(s, i);
  }
  expect_exactly(s, kUsers);
  ASSERT_NE(s.user_index, nullptr);
  EXPECT_GT(s.user_index->covered(), kUsers - ProviderUserIndex::kTail) << "the index was not kept up";
  EXPECT_LT(s.user_index->covered(), kUsers) << "the last users are meant to be in the tail here";
}

// However large the provider, its index is a few levels and a short tail, and a
// copy of the state (each command makes one) shares them.
TEST(ProviderUsers, ALargeProviderIsIndexedInAFewLevelsThatCopiesShare) {
  ProviderState s;
  s.exists = true;
  constexpr std::uint64_t kUsers = 40'000;
  std::size_t most_levels = 0;
  for (std::uint64_t i = 1; i <= kUsers; ++i) {
    invite(s, i);
    ASSERT_NE(s.user_index, nullptr);
    most_levels = std::max(most_levels, s.user_index->levels.size());
    ASSERT_LT(s.users.size() - s.user_index->covered(), ProviderUserIndex::kTail) << "after user " << i;
  }
  // Each level holds less than an eighth of the one before it.
  EXPECT_LE(most_levels, 6u);
  for (std::size_t l = 1; l < s.user_index->levels.size(); ++l) {
    const auto& a = *s.user_index->levels[l - 1];
    const auto& b = *s.user_index->levels[l];
    EXPECT_EQ(b.from, a.to) << "level " << l << " does not follow the one before it";
    EXPECT_LT((b.to - b.from) * ProviderUserIndex::kMergeRatio, a.to - a.from) << "level " << l;
  }
  for (std::uint64_t i = 1; i <= kUsers; i += 997) {
    ASSERT_NE(s.user_by_email(email_of(i)), nullptr) << i;
    EXPECT_EQ(s.user(id_of(i)), s.user_by_email(email_of(i))) << i;
  }

  ProviderState copy = s;
  for (std::uint64_t i = kUsers + 1; i <= kUsers + ProviderUserIndex::kTail; ++i) invite(copy, i);
  ASSERT_NE(copy.user_index, s.user_index);
  EXPECT_EQ(copy.user_index->levels.front(), s.user_index->levels.front())
      << "the copy re-indexed the users it shares with the original";
  expect_exactly(copy, kUsers + ProviderUserIndex::kTail);
  EXPECT_EQ(s.user_by_email(email_of(kUsers + 1)), nullptr);
}

TEST(ProviderUsers, RemovalsAndCopiesAnswerForTheirOwnUsers) {
  ProviderState s;
  s.exists = true;
  constexpr std::uint64_t kUsers = 2 * ProviderUserIndex::kTail;
  for (std::uint64_t i = 1; i <= kUsers; ++i) invite(s, i);
  const ProviderState before = s;  // shares its users and index with s

  // Removing users moves every user after them.
  remove(s, 3);
  remove(s, kUsers / 2);
  remove(s, kUsers);
  expect_exactly(s, kUsers, {3, kUsers / 2, kUsers});
  for (std::uint64_t i = kUsers + 1; i <= kUsers + 40; ++i) invite(s, i);
  expect_exactly(s, kUsers + 40, {3, kUsers / 2, kUsers});

  // A change through the index reaches the right user only.
  accept(s, 10);
  ASSERT_NE(s.user(id_of(10)), nullptr);
  EXPECT_EQ(s.user(id_of(10))->user_id, id_of(1'000'010));
  EXPECT_EQ(s.user(id_of(11))->user_id, std::nullopt);

  // The copy taken before is untouched.
  expect_exactly(before, kUsers);
  EXPECT_EQ(before.user(id_of(10))->user_id, std::nullopt);
}

void add_client(ProviderState& s, std::uint64_t n, int seats) {
  fb::ProviderOrganizationCreatedT created;
  created.provider_organization_id = id_of(2'000'000 + n);
  created.organization_id = id_of(3'000'000 + n);
  created.name = "Client " + std::to_string(n);
  created.plan = static_cast<std::int16_t>(PlanType::kTeamsMonthly);
  created.seats = seats;
  apply(s, std::move(created));
}

// A provider's clients are shared by copies of its state, like its users: a copy
// that adds, renames or removes clients leaves the state it was taken from as it was.
TEST(ProviderUsers, ClientsChangedInACopyStayAsTheyWereInTheOriginal) {
  ProviderState s;
  s.exists = true;
  constexpr std::uint64_t kClients = 40;  // more than one chunk
  for (std::uint64_t i = 1; i <= kClients; ++i) add_client(s, i, 10);
  const ProviderState before = s;

  fb::ProviderOrganizationUpdatedT updated;
  updated.provider_organization_id = id_of(2'000'000 + 5);
  updated.organization_id = id_of(3'000'000 + 5);
  updated.name = "Client 5 (renamed)";
  updated.seats = 12;
  apply(s, std::move(updated));
  fb::ProviderOrganizationRemovedT removed;
  removed.provider_organization_id = id_of(2'000'000 + 30);
  removed.organization_id = id_of(3'000'000 + 30);
  apply(s, std::move(removed));
  add_client(s, kClients + 1, 3);

  ASSERT_EQ(s.clients.size(), kClients);
  const ClientLink* renamed = s.client(id_of(2'000'000 + 5));
  ASSERT_NE(renamed, nullptr);
  EXPECT_EQ(renamed->name, "Client 5 (renamed)");
  EXPECT_EQ(renamed->seats, 12);
  EXPECT_EQ(s.client(id_of(2'000'000 + 30)), nullptr);
  ASSERT_NE(s.client_by_organization(id_of(3'000'000 + kClients + 1)), nullptr);
  EXPECT_EQ(s.client_by_organization(id_of(3'000'000 + kClients + 1))->seats, 3);

  ASSERT_EQ(before.clients.size(), kClients);
  for (std::uint64_t i = 1; i <= kClients; ++i) {
    const ClientLink* c = before.client(id_of(2'000'000 + i));
    ASSERT_NE(c, nullptr) << i;
    EXPECT_EQ(c->name, "Client " + std::to_string(i));
    EXPECT_EQ(c->seats, 10);
  }
  EXPECT_EQ(before.client_by_organization(id_of(3'000'000 + kClients + 1)), nullptr);
}

void remove_client(ProviderState& s, std::uint64_t n) {
  fb::ProviderOrganizationRemovedT removed;
  removed.provider_organization_id = id_of(2'000'000 + n);
  removed.organization_id = id_of(3'000'000 + n);
  apply(s, std::move(removed));
}

void rename_client(ProviderState& s, std::uint64_t n, const std::string& name) {
  fb::ProviderOrganizationUpdatedT updated;
  updated.provider_organization_id = id_of(2'000'000 + n);
  updated.organization_id = id_of(3'000'000 + n);
  updated.name = name;
  updated.seats = 12;
  apply(s, std::move(updated));
}

// Every client 1..n except `gone` is found by link id and by organization id, and
// is the right one; the absent ones are not found.
void expect_clients(const ProviderState& s, std::uint64_t n, const std::vector<std::uint64_t>& gone = {}) {
  for (std::uint64_t i = 1; i <= n; ++i) {
    const bool present = std::find(gone.begin(), gone.end(), i) == gone.end();
    const ClientLink* by_id = s.client(id_of(2'000'000 + i));
    const ClientLink* by_org = s.client_by_organization(id_of(3'000'000 + i));
    if (!present) {
      EXPECT_EQ(by_id, nullptr) << "removed client " << i << " found by id";
      EXPECT_EQ(by_org, nullptr) << "removed client " << i << " found by organization";
      continue;
    }
    ASSERT_NE(by_id, nullptr) << "client " << i << " not found by id";
    ASSERT_EQ(by_id, by_org) << "client " << i;
    EXPECT_EQ(by_id->organization_id, id_of(3'000'000 + i));
  }
  EXPECT_EQ(s.client(id_of(2'000'000 + n + 1)), nullptr);
  EXPECT_EQ(s.client_by_organization(id_of(3'000'000 + n + 1)), nullptr);
}

TEST(ProviderUsers, ALargeProvidersClientsAreIndexedAndFoundThroughRemovalsRenamesAndCopies) {
  ProviderState s;
  s.exists = true;
  constexpr std::uint64_t kClients = 12 * ClientLinkIndex::kTail + 31;  // two levels and a tail
  std::size_t most_levels = 0;
  for (std::uint64_t i = 1; i <= kClients; ++i) {
    add_client(s, i, 10);
    ASSERT_NE(s.client_index, nullptr);
    most_levels = std::max(most_levels, s.client_index->levels.size());
    ASSERT_LT(s.clients.size() - s.client_index->covered(), ClientLinkIndex::kTail) << "after client " << i;
    if (i % 211 == 0) expect_clients(s, i);
  }
  EXPECT_GE(most_levels, 2u);
  expect_clients(s, kClients);
  const ProviderState before = s;  // shares its clients and index with s

  // A rename through the index reaches the right client only.
  rename_client(s, 700, "Client 700 (renamed)");
  EXPECT_EQ(s.client(id_of(2'000'000 + 700))->name, "Client 700 (renamed)");
  EXPECT_EQ(s.client(id_of(2'000'000 + 701))->name, "Client 701");
  // Removals move every client after them.
  remove_client(s, 2);
  remove_client(s, 2900);
  remove_client(s, kClients);
  expect_clients(s, kClients, {2, 2900, kClients});
  for (std::uint64_t i = kClients + 1; i <= kClients + 300; ++i) add_client(s, i, 5);
  expect_clients(s, kClients + 300, {2, 2900, kClients});
  EXPECT_EQ(s.client(id_of(2'000'000 + 700))->name, "Client 700 (renamed)");

  // The copy taken before is untouched.
  expect_clients(before, kClients);
  EXPECT_EQ(before.client(id_of(2'000'000 + 700))->name, "Client 700");

  // A snapshot's state answers the same, and keeps growing from there.
  auto decoded = decode_provider_snapshot(encode_snapshot(s));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_clients(decoded.value(), kClients + 300, {2, 2900, kClients});
  ASSERT_NE(decoded.value().client_index, nullptr);
  ProviderState grown = decoded.value();
  for (std::uint64_t i = kClients + 301; i <= kClients + 600; ++i) add_client(grown, i, 5);
  expect_clients(grown, kClients + 600, {2, 2900, kClients});
}

TEST(ProviderUsers, ASnapshotsStateFindsEveryUser) {
  ProviderState s;
  s.exists = true;
  constexpr std::uint64_t kUsers = ProviderUserIndex::kTail + 50;
  for (std::uint64_t i = 1; i <= kUsers; ++i) invite(s, i);
  remove(s, 7);
  auto decoded = decode_provider_snapshot(encode_snapshot(s));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_exactly(decoded.value(), kUsers, {7});
  ASSERT_NE(decoded.value().user_index, nullptr);
  EXPECT_EQ(decoded.value().user_index->covered(), kUsers - 1);
  // And it keeps growing from there.
  ProviderState grown = decoded.value();
  for (std::uint64_t i = kUsers + 1; i <= kUsers + 300; ++i) invite(grown, i);
  expect_exactly(grown, kUsers + 300, {7});
}

}  // namespace
}  // namespace portal::domain
