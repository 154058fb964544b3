// Aggregate snapshots: every field of a provider and an organization survives
// encode/decode, and bytes that are not a snapshot of the asked-for kind are
// refused (the engine then replays the stream).
#include "portal/domain/snapshot.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "portal/domain/events.h"

namespace portal::domain {
namespace {

Uuid id_of(std::uint8_t n) {
  Uuid id;
  for (std::size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<std::uint8_t>(n + i);
  return id;
}

// Field by field, so that a field missing from the snapshot shows up by name.
void expect_same(const ProviderState& a, const ProviderState& b) {
  EXPECT_EQ(a.exists, b.exists);
  EXPECT_EQ(a.deleted, b.deleted);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.business_name, b.business_name);
  EXPECT_EQ(a.billing_email, b.billing_email);
  EXPECT_EQ(a.setup_token_sha256, b.setup_token_sha256);
  EXPECT_EQ(a.setup_token_expires_at, b.setup_token_expires_at);
  EXPECT_EQ(a.seat_minimums, b.seat_minimums);
  EXPECT_EQ(a.creation_date, b.creation_date);
  ASSERT_EQ(a.users.size(), b.users.size());
  for (std::size_t i = 0; i < a.users.size(); ++i) {
    const ProviderUser& x = a.users[i];
    const ProviderUser& y = b.users[i];
    EXPECT_EQ(std::tie(x.id, x.user_id, x.email, x.type, x.status, x.token_sha256, x.token_expires_at, x.key),
              std::tie(y.id, y.user_id, y.email, y.type, y.status, y.token_sha256, y.token_expires_at, y.key))
        << "provider user " << i;
  }
  ASSERT_EQ(a.clients.size(), b.clients.size());
  for (std::size_t i = 0; i < a.clients.size(); ++i) {
    const ClientLink& x = a.clients[i];
    const ClientLink& y = b.clients[i];
    EXPECT_EQ(std::tie(x.id, x.organization_id, x.name, x.plan, x.seats, x.creation_date),
              std::tie(y.id, y.organization_id, y.name, y.plan, y.seats, y.creation_date))
        << "client " << i;
  }
}

void expect_same(const OrganizationState& a, const OrganizationState& b) {
  EXPECT_EQ(a.exists, b.exists);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.plan, b.plan);
  EXPECT_EQ(a.seats, b.seats);
  EXPECT_EQ(a.billing_email, b.billing_email);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.provider_id, b.provider_id);
  EXPECT_EQ(a.provider_organization_id, b.provider_organization_id);
  EXPECT_EQ(a.creation_date, b.creation_date);
  ASSERT_EQ(a.members.size(), b.members.size());
  for (std::size_t i = 0; i < a.members.size(); ++i) {
    const OrganizationMember& x = a.members[i];
    const OrganizationMember& y = b.members[i];
    EXPECT_EQ(std::tie(x.id, x.user_id, x.email, x.type, x.status, x.permissions, x.token_sha256,
                       x.token_expires_at, x.key, x.status_before_revoke),
              std::tie(y.id, y.user_id, y.email, y.type, y.status, y.permissions, y.token_sha256,
                       y.token_expires_at, y.key, y.status_before_revoke))
        << "member " << i;
  }
  ASSERT_EQ(a.groups.size(), b.groups.size());
  for (std::size_t i = 0; i < a.groups.size(); ++i) {
    EXPECT_EQ(std::tie(a.groups[i].id, a.groups[i].name, a.groups[i].members),
              std::tie(b.groups[i].id, b.groups[i].name, b.groups[i].members))
        << "group " << i;
  }
  EXPECT_EQ(a.policies, b.policies);
  ASSERT_EQ(a.collections.size(), b.collections.size());
  for (std::size_t i = 0; i < a.collections.size(); ++i) {
    EXPECT_EQ(a.collections[i].id, b.collections[i].id) << "collection " << i;
    EXPECT_EQ(a.collections[i].name, b.collections[i].name) << "collection " << i;
    EXPECT_EQ(a.collections[i].groups, b.collections[i].groups) << "collection " << i;
    EXPECT_EQ(a.collections[i].users, b.collections[i].users) << "collection " << i;
  }
}

// Every field set, and none at its default, so that a dropped field cannot pass.
ProviderState full_provider() {
  ProviderState s;
  s.exists = true;
  s.deleted = true;
  s.id = id_of(1);
  s.type = ProviderType::kBusinessUnit;
  s.status = ProviderStatus::kBillable;
  s.enabled = false;
  s.name = "Acme MSP";
  s.business_name = "Acme Managed Services Ltd";
  s.billing_email = "billing@acme.example";
  s.setup_token_sha256 = token_hash("setup-token");
  s.setup_token_expires_at = 1'767'225'600'000'000;
  s.seat_minimums = {{PlanType::kTeamsMonthly, 10}, {PlanType::kEnterpriseMonthly, 25}};
  s.users.push_back({id_of(10), id_of(11), "admin@acme.example", ProviderUserType::kProviderAdmin,
                     ProviderUserStatus::kConfirmed, token_hash("t1"), 42, "2.key|for|admin"});
  s.users.push_back({id_of(20), std::nullopt, "invited@acme.example", ProviderUserType::kServiceUser,
                     ProviderUserStatus::kInvited, token_hash("t2"), 43, ""});
  s.clients.push_back({id_of(30), id_of(31), "Client One", PlanType::kEnterpriseMonthly, 12, 1000});
  s.clients.push_back({id_of(40), id_of(41), "Client Two", PlanType::kTeamsMonthly, 3, 2000});
  s.creation_date = 999;
  return s;
}

OrganizationState full_organization() {
  OrganizationState s;
  s.exists = true;
  s.id = id_of(50);
  s.name = "Client One";
  s.plan = PlanType::kEnterpriseAnnually;
  s.seats = 12;
  s.billing_email = "billing@acme.example";
  s.status = OrganizationStatus::kManaged;
  s.enabled = false;
  s.provider_id = id_of(1);
  s.provider_organization_id = id_of(30);
  OrganizationMember owner;
  owner.id = id_of(60);
  owner.user_id = id_of(61);
  owner.email = "owner@client.example";
  owner.type = OrganizationUserType::kOwner;
  owner.status = OrganizationUserStatus::kConfirmed;
  owner.key = "4.ownerkey";
  s.members.push_back(owner);
  OrganizationMember revoked;
  revoked.id = id_of(70);
  revoked.email = "revoked@client.example";
  revoked.type = OrganizationUserType::kCustom;
  revoked.status = OrganizationUserStatus::kRevoked;
  revoked.status_before_revoke = OrganizationUserStatus::kInvited;
  revoked.permissions.manage_users = true;
  revoked.permissions.access_event_logs = true;
  revoked.token_sha256 = {1, 2, 3};
  revoked.token_expires_at = 987;
  s.members.push_back(revoked);
  s.groups.push_back(Group{id_of(100), "Accounting", {id_of(60), id_of(70)}});
  s.groups.push_back(Group{id_of(110), "Empty", {}});
  s.collections.push_back({id_of(80), "Default", {{id_of(100), true, false, false}}, {{id_of(60), false, true, true}}});
  s.collections.push_back({id_of(90), "2.enc|name|bytes", {}, {}});
  s.policies[PolicyType::kSingleOrg] = Policy{PolicyType::kSingleOrg, true, ""};
  s.policies[PolicyType::kPasswordGenerator] = Policy{PolicyType::kPasswordGenerator, false, R"({"minLength":12})"};
  s.creation_date = 1234;
  return s;
}

TEST(Snapshot, FullyPopulatedProviderRoundTrips) {
  const ProviderState original = full_provider();
  auto decoded = decode_provider_snapshot(encode_snapshot(original));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_same(decoded.value(), original);
}

TEST(Snapshot, FullyPopulatedOrganizationRoundTrips) {
  const OrganizationState original = full_organization();
  auto decoded = decode_organization_snapshot(encode_snapshot(original));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_same(decoded.value(), original);
}

// Defaults that differ from FlatBuffers' own (enabled is true) survive too.
TEST(Snapshot, DefaultStatesRoundTrip) {
  auto provider = decode_provider_snapshot(encode_snapshot(ProviderState{}));
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  expect_same(provider.value(), ProviderState{});
  auto organization = decode_organization_snapshot(encode_snapshot(OrganizationState{}));
  ASSERT_TRUE(organization.ok()) << organization.error().message;
  expect_same(organization.value(), OrganizationState{});
}

// Decoding must not depend on where the caller's bytes happen to sit.
TEST(Snapshot, MisalignedBytesDecode) {
  const std::string bytes = encode_snapshot(full_provider());
  const std::string shifted = "x" + bytes;
  auto decoded = decode_provider_snapshot(std::string_view(shifted).substr(1));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_same(decoded.value(), full_provider());
}

TEST(Snapshot, GarbageIsRefused) {
  for (const std::string& garbage : {std::string(), std::string("not a snapshot"), std::string(64, '\0')}) {
    auto provider = decode_provider_snapshot(garbage);
    ASSERT_FALSE(provider.ok());
    EXPECT_EQ(provider.error().kind, ErrorKind::kValidation);
    EXPECT_FALSE(decode_organization_snapshot(garbage).ok());
  }
  std::string truncated = encode_snapshot(full_provider());
  truncated.resize(truncated.size() / 2);
  EXPECT_FALSE(decode_provider_snapshot(truncated).ok());
}

TEST(Snapshot, WrongFileIdentifierIsRefused) {
  std::string bytes = encode_snapshot(full_provider());
  bytes[4] = 'X';  // the identifier follows the 4-byte root offset
  EXPECT_FALSE(decode_provider_snapshot(bytes).ok());
  // An event payload is a valid FlatBuffer, but not a snapshot.
  EventPayload payload;
  payload.Set(fb::ProviderEnabledT());
  EXPECT_FALSE(decode_provider_snapshot(encode_payload(payload)).ok());
}

TEST(Snapshot, OneKindIsNotDecodedAsTheOther) {
  auto as_organization = decode_organization_snapshot(encode_snapshot(full_provider()));
  ASSERT_FALSE(as_organization.ok());
  EXPECT_EQ(as_organization.error().kind, ErrorKind::kValidation);
  EXPECT_FALSE(decode_provider_snapshot(encode_snapshot(full_organization())).ok());
}

}  // namespace
}  // namespace portal::domain
