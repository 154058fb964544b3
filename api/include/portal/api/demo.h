// Demo data for a fresh data directory (scripts/run.sh, `portalctl demo`): a staff
// user; the MSP provider "Northwind IT" with two ProviderAdmins and three service
// users; 25 client organizations added by the provider, each with its owner,
// members (Admin, User, Custom), groups, collections with access, policies and
// vault items; and a history of administration (provider users opening client
// consoles, updating seats, inviting members).
//
// Everything goes through Engine::execute, in order: the order is the history.
// User ids and command ids derive from the seed, so loading the same seed into the
// same data directory again is a no-op (the store's exactly-once command ids
// return the original outcomes, ids and tokens included) and an interrupted load
// resumes where it stopped (within the 120 hours its invitation tokens are valid).
// Ids the engine creates (providers, organizations, members, ...) derive from the
// data directory's engine.key and the command ids.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "portal/api/engine.h"
#include "portal/domain/error.h"
#include "portal/domain/ids.h"

namespace portal::api {

// The clock of the demo's history: the engine reads it (EngineOptions::clock) and
// the demo moves it forward as the story unfolds, so that the history spans days
// (the provider set up first, its clients added over the following two weeks, the
// administration after) instead of the seconds the load takes. Thread-safe.
class DemoClock {
 public:
  // The history runs from `end - span` to `end` (UTC microseconds) and never
  // passes `end`.
  DemoClock(std::int64_t end, std::int64_t span);
  std::int64_t now() const { return now_.load(std::memory_order_acquire); }
  // Moves to `fraction` (0..1) of the way from start to end, unless already later.
  void move_to(double fraction);
  // Moves on by `micros`.
  void tick(std::int64_t micros);

 private:
  void move_at_least_to(std::int64_t t);

  const std::int64_t start_;
  const std::int64_t end_;
  std::atomic<std::int64_t> now_;
};

struct DemoOptions {
  // Derives user ids, command ids, names of members and the shape of each client.
  // Emails carry the seed unless it is 1, so two seeds can share a data directory.
  std::uint64_t seed = 1;
  int clients = 25;  // 1..25
  // When set, the clock the engine was opened with: the demo moves it along its
  // story. Null: every event carries the time it was loaded.
  DemoClock* history = nullptr;
};

struct DemoUser {
  domain::UserId id;
  std::string email;
  std::string name;
  // The provider user id (provider team) or organization user id (members); nil
  // for the staff user.
  domain::Uuid membership_id;
};

struct DemoClient {
  domain::OrganizationId organization_id;
  domain::ProviderOrganizationId provider_organization_id;
  std::string name;
  DemoUser owner;
  std::vector<DemoUser> members;  // confirmed members besides the owner
  int items = 0;
};

struct DemoSummary {
  DemoUser staff;
  domain::ProviderId provider_id;
  std::string provider_name;
  std::vector<DemoUser> admins;         // confirmed ProviderAdmins; the first set the provider up
  std::vector<DemoUser> service_users;  // confirmed ServiceUsers
  std::vector<DemoClient> clients;
  std::size_t commands = 0;         // commands executed (or re-submitted)
  std::size_t recorded = 0;         // of which recorded new events in this load (0 on a re-load)
  std::uint64_t last_position = 0;  // the highest position of the demo's events
};

// Loads the demo into the engine. Errors: the first refused command, named, with
// the engine's error kind (kUnavailable for a store problem).
domain::Expected<DemoSummary> load_demo(Engine& engine, const DemoOptions& options = {});

// The summary as a JSON object (camelCase keys): providerId, providerName, staff,
// admins, serviceUsers (each {id, email, name, providerUserId}) and clients (each
// {organizationId, providerOrganizationId, name, owner, members, items}).
std::string demo_summary_json(const DemoSummary& summary);

// Shell variable assignments for scripts, one a line, values single-quoted:
// PROVIDER_ID, PROVIDER_NAME, STAFF_USER_ID, STAFF_EMAIL, ADMIN_USER_ID,
// ADMIN_EMAIL, ADMIN_NAME, ADMIN_PROVIDER_USER_ID, SERVICE_USER_ID,
// SERVICE_USER_EMAIL, ORG_ID, ORG_NAME, PROVIDER_ORG_ID, OWNER_USER_ID,
// OWNER_EMAIL, MEMBER_USER_ID, MEMBER_EMAIL, CLIENT_COUNT.
std::string demo_summary_env(const DemoSummary& summary);

}  // namespace portal::api
