// The deterministic command sequence of the Engine crash test, shared by the child
// that runs it (engine_crash_child) and the test that checks it: command i of a
// seed has a fixed command id and fixed content, given the outcomes of the commands
// before it (the ids and tokens they created, which the Engine derives from the
// command id, so they come out the same on a re-submission).
//
//   0  RegisterUser: the owner
//   1  InviteProvider (staff): the provider and its setup token
//   2  SetupProvider (the owner)
//   then, for client k = 0, 1, ...:
//   3k + 3  AddClientOrg, new form: an organization and its link (two streams)
//   3k + 4  UpdateClientOrg: client k renamed, 12 seats
//   3k + 5  InviteProviderUsers: one service user
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "derived_ids.h"
#include "portal/api/engine.h"

namespace portal::engine_crash {

namespace d = portal::domain;
namespace es = portal::eventstore;

// A version-4-shaped UUID from (seed, what, i).
inline d::Uuid derived_uuid(std::uint64_t seed, std::uint64_t what, std::uint64_t i) {
  using test_support::splitmix64;
  d::Uuid id;
  id.bytes = test_support::bytes_from(seed ^ splitmix64(what) ^ splitmix64(i + 1));
  id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0f) | 0x40);
  id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3f) | 0x80);
  return id;
}

inline constexpr std::uint64_t kSetupCommands = 3;
inline constexpr const char* kKey = "2.AAAA|BBBB|CCCC";

enum class Kind { kRegister, kInviteProvider, kSetupProvider, kAddClient, kUpdateClient, kInviteUser };

inline Kind kind_of(std::uint64_t i) {
  if (i < kSetupCommands) return static_cast<Kind>(i);
  switch ((i - kSetupCommands) % 3) {
    case 0: return Kind::kAddClient;
    case 1: return Kind::kUpdateClient;
    default: return Kind::kInviteUser;
  }
}

// The client a command after the set-up is about.
inline std::uint64_t client_of(std::uint64_t i) {
  return (i - kSetupCommands) / 3;
}

class Workload {
 public:
  explicit Workload(std::uint64_t seed) : seed_(seed), owner_(derived_uuid(seed, 1, 0)) {}

  es::CommandId command_id(std::uint64_t i) const {
    es::CommandId id;
    id.bytes = derived_uuid(seed_, 2, i).bytes;
    return id;
  }

  // Command i and its actor. The outcomes of commands 0 .. i-1 must have been
  // learned (they were acknowledged, or re-submitted and answered).
  std::pair<d::Command, d::Actor> at(std::uint64_t i) const {
    const std::string n = kind_of(i) >= Kind::kAddClient ? std::to_string(client_of(i)) : "";
    switch (kind_of(i)) {
      case Kind::kRegister: return {d::RegisterUser{owner_, owner_email(), "Crash Owner"}, as_owner()};
      case Kind::kInviteProvider:
        return {d::InviteProvider{d::ProviderType::kMsp, owner_email(), {}},
                d::Actor{derived_uuid(seed_, 3, 0), true, 0, "192.0.2.9"}};
      case Kind::kSetupProvider:
        return {d::SetupProvider{provider_, setup_token_, "Crash IT", "Crash IT Ltd", "billing@crash.example",
                                 kKey},
                as_owner()};
      case Kind::kAddClient:
        return {d::AddClientOrg{provider_, std::nullopt, "Client " + n, "boss-" + n + "@client.example",
                                d::PlanType::kTeamsMonthly, 10, "Default"},
                as_owner()};
      case Kind::kUpdateClient:
        return {d::UpdateClientOrg{provider_, links_.at(client_of(i)), renamed(client_of(i)), 12},
                as_owner()};
      case Kind::kInviteUser:
        return {d::InviteProviderUsers{
                    provider_, {invitee_email(client_of(i))}, d::ProviderUserType::kServiceUser},
                as_owner()};
    }
    return {};
  }

  // What command i's outcome tells the commands after it.
  void learn(std::uint64_t i, const CommandResult& r) {
    switch (kind_of(i)) {
      case Kind::kInviteProvider:
        provider_ = r.created_ids.at(0);
        setup_token_ = r.tokens.at(0);
        break;
      case Kind::kAddClient:
        organizations_.push_back(r.created_ids.at(0));
        links_.push_back(r.created_ids.at(1));
        break;
      default: break;
    }
  }

  std::string owner_email() const { return "owner-" + std::to_string(seed_ % 100000) + "@crash.example"; }
  static std::string renamed(std::uint64_t k) { return "Client " + std::to_string(k) + " (renamed)"; }
  static std::string invitee_email(std::uint64_t k) { return "user-" + std::to_string(k) + "@crash.example"; }

  const d::UserId& owner() const { return owner_; }
  const d::ProviderId& provider() const { return provider_; }
  const std::vector<d::OrganizationId>& organizations() const { return organizations_; }
  const std::vector<d::ProviderOrganizationId>& links() const { return links_; }

 private:
  d::Actor as_owner() const { return d::Actor{owner_, false, 0, "192.0.2.10"}; }

  std::uint64_t seed_;
  d::UserId owner_;
  d::ProviderId provider_;
  std::string setup_token_;
  std::vector<d::OrganizationId> organizations_;
  std::vector<d::ProviderOrganizationId> links_;
};

// One line per outcome: "ACK i first last dedup ids=... tokens=...". The test
// compares these between the first answer and every later one.
inline std::string describe(const CommandResult& r) {
  std::string out = std::to_string(r.first_position) + " " + std::to_string(r.last_position) + " ids=";
  for (const d::Uuid& id : r.created_ids) out += id.to_string() + ",";
  out += " tokens=";
  for (const std::string& t : r.tokens) out += t + ",";
  return out;
}

}  // namespace portal::engine_crash
