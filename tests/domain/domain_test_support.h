// An in-memory world for decide(): aggregates are folded from the events of the
// decisions the tests apply, exactly as the engine folds them from the log, so every
// scenario starts from states that real commands produced (no hand-built states).
//
// Pieces:
//   World       a StateReader over in-memory aggregates plus a deterministic
//               Environment (counter ids, counter tokens, a settable clock)
//   run/run_ok  decide a command and, when accepted, apply its events
//   build_cast  the standard provider with every kind of actor the rules talk about
//   assertions  is_refused, has_events, recorded_as (AssertionResults, so a failure
//               points at the calling line)
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "portal/domain/commands.h"
#include "portal/domain/decide.h"
#include "portal/domain/events.h"
#include "portal/domain/state.h"

namespace portal::domain::test {

// A fixed start for the test clock (2023-11-14T22:13:20Z) so expiries are reproducible.
inline constexpr Timestamp kStart = 1'700'000'000'000'000LL;

// Ids are 7e57xxxx-...-<counter>: recognisable in failure output and never nil.
inline Uuid test_id(std::uint64_t n) {
  Uuid id;
  id.bytes[0] = 0x7e;
  id.bytes[1] = 0x57;
  for (int i = 0; i < 8; ++i) id.bytes[15 - i] = static_cast<std::uint8_t>(n >> (8 * i));
  return id;
}

// One event as the engine would have appended it.
struct LoggedEvent {
  std::string stream;
  EventPayload payload;
  RecordedActor actor;
  Timestamp at = 0;
};

class World : public StateReader {
 public:
  World() {
    env_.now = kStart;
    env_.new_id = [this] { return test_id(++ids_); };
    env_.new_token = [this] {
      std::string token = "test-token-" + std::to_string(++tokens_) + "-d41d8cd98f00b204";
      issued_tokens_.push_back(token);
      return token;
    };
  }
  // The Environment's functions capture this world.
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const UserState* user(const UserId& id) override { return find(users_, id); }
  const EmailState* email(std::string_view lower_email) override {
    return find(emails_, email_stream(lower_email));
  }
  const ProviderState* provider(const ProviderId& id) override { return find(providers_, id); }
  const OrganizationState* organization(const OrganizationId& id) override {
    return find(organizations_, id);
  }
  const ItemState* item(const ItemId& id) override { return find(items_, id); }

  const Environment& env() const { return env_; }
  Timestamp now() const { return env_.now; }
  void set_now(Timestamp t) { env_.now = t; }
  void advance_hours(int hours) { env_.now += hours * kMicrosPerHour; }
  // An id for things the tests make up (a user registering, an unknown id).
  Uuid new_id() { return env_.new_id(); }

  // Records one event as if appended: the stream name's category says which
  // aggregate it folds into, as it does for the engine's loader.
  void apply(const std::string& stream, const EventPayload& payload, const RecordedActor& actor = {}) {
    auto uuid_after = [&](std::string_view prefix) {
      auto id = Uuid::parse(std::string_view(stream).substr(prefix.size()));
      if (!id) throw std::runtime_error("bad stream name: " + stream);
      return *id;
    };
    if (stream.starts_with("user-")) {
      evolve(users_[uuid_after("user-")], payload, env_.now);
    } else if (stream.starts_with("email-")) {
      evolve(emails_[stream], payload, env_.now);
    } else if (stream.starts_with("provider-")) {
      evolve(providers_[uuid_after("provider-")], payload, env_.now);
    } else if (stream.starts_with("org-")) {
      evolve(organizations_[uuid_after("org-")], payload, env_.now);
    } else if (stream.starts_with("item-")) {
      evolve(items_[uuid_after("item-")], payload, env_.now);
    } else {
      throw std::runtime_error("stream of no known category: " + stream);
    }
    log_.push_back(LoggedEvent{stream, payload, actor, env_.now});
  }
  void apply(const Decision& decision, const Actor& actor) {
    const RecordedActor recorded = recorded_actor(actor, decision);
    for (const auto& e : decision.events) apply(e.stream, e.payload, recorded);
  }

  const std::vector<LoggedEvent>& log() const { return log_; }
  const std::vector<std::string>& issued_tokens() const { return issued_tokens_; }

 private:
  template <class Map, class Key>
  static auto find(Map& map, const Key& key) -> const typename Map::mapped_type* {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  }

  Environment env_;
  std::uint64_t ids_ = 0;
  std::uint64_t tokens_ = 0;
  std::map<Uuid, UserState> users_;
  std::map<std::string, EmailState> emails_;  // by stream name: email-<sha256 of the lower-cased email>
  std::map<Uuid, ProviderState> providers_;
  std::map<Uuid, OrganizationState> organizations_;
  std::map<Uuid, ItemState> items_;
  std::vector<LoggedEvent> log_;
  std::vector<std::string> issued_tokens_;
};

// --- running commands ----------------------------------------------------------------------------

// Decides; on success applies the events (what a successful append does).
inline Expected<Decision> run(World& world, const Command& command, const Actor& actor) {
  Expected<Decision> result = decide(command, actor, world, world.env());
  if (result.ok()) world.apply(result.value(), actor);
  return result;
}

// For fixture steps that must succeed: a refusal aborts the test (gtest reports
// the exception) naming the step, instead of letting later assertions mislead.
inline Decision run_ok(World& world, const Command& command, const Actor& actor) {
  Expected<Decision> result = run(world, command, actor);
  if (!result.ok()) {
    throw std::runtime_error(std::string("fixture step ") + command_name(command) +
                             " refused: " + to_string(result.error().kind) + ": " + result.error().message);
  }
  return std::move(result.value());
}

// Actors carry a device type and an address so tests can see they are recorded.
inline Actor user_actor(const UserId& id) {
  Actor a;
  a.user_id = id;
  a.device_type = 9;  // Bitwarden's DeviceType.ChromeBrowser
  a.ip_address = "203.0.113.7";
  return a;
}

inline Actor staff_actor(const UserId& id) {
  Actor a = user_actor(id);
  a.staff = true;
  a.ip_address = "198.51.100.1";
  return a;
}

// Registers a user under a new id, by themselves.
inline Actor register_user(World& world, const std::string& email, const std::string& name = "Test User") {
  Actor a = user_actor(world.new_id());
  run_ok(world, RegisterUser{a.user_id, email, name}, a);
  return a;
}

// --- organization members ------------------------------------------------------

inline constexpr const char* kOrgKey = "2.orgkey|aXY=|bWFj";

struct MemberInvitation {
  OrganizationUserId id;
  std::string token;
};

inline MemberInvitation invite_member(World& w, const Actor& by, const OrganizationId& org,
                                      const std::string& email,
                                      OrganizationUserType type = OrganizationUserType::kUser,
                                      Permissions permissions = {}) {
  InviteMembers c;
  c.organization_id = org;
  c.emails = {email};
  c.type = type;
  c.permissions = permissions;
  Decision d = run_ok(w, c, by);
  if (d.created_ids.size() != 1) throw std::runtime_error("invitation of " + email + " was skipped");
  return MemberInvitation{d.created_ids[0], d.tokens.at(0)};
}

struct Member {
  Actor actor;
  OrganizationUserId id;
};

// Registers `email`, has `by` invite it, lets the invitee accept and `by` confirm:
// a confirmed member of `type`.
inline Member add_member(World& w, const Actor& by, const OrganizationId& org, const std::string& email,
                         OrganizationUserType type, Permissions permissions = {}) {
  Actor a = register_user(w, email);
  MemberInvitation inv = invite_member(w, by, org, email, type, permissions);
  run_ok(w, AcceptMember{org, inv.id, inv.token}, a);
  run_ok(w, ConfirmMember{org, inv.id, kOrgKey}, by);
  return Member{a, inv.id};
}

struct InvitedProvider {
  ProviderId id;
  ProviderUserId owner_provider_user_id;  // nil for a Reseller
  std::string setup_token;                // empty for a Reseller
};

inline InvitedProvider invite_provider(World& world, const Actor& staff, ProviderType type,
                                       const std::string& owner_email,
                                       std::vector<SeatMinimum> minimums = {}) {
  Decision d = run_ok(world, InviteProvider{type, owner_email, std::move(minimums)}, staff);
  InvitedProvider p;
  p.id = d.created_ids.at(0);
  if (d.created_ids.size() > 1) p.owner_provider_user_id = d.created_ids[1];
  if (!d.tokens.empty()) p.setup_token = d.tokens[0];
  return p;
}

inline SetupProvider setup_command(const ProviderId& id, const std::string& token,
                                   const std::string& billing_email = "billing@northwind.test") {
  return SetupProvider{id, token, "Northwind MSP", "Northwind Ltd", billing_email, "2.providerkey|aXY=|bWFj"};
}

// A set-up (Billable) provider with `owner` as its confirmed ProviderAdmin.
inline ProviderId set_up_provider(World& world, const Actor& staff, const Actor& owner,
                                  const std::string& owner_email, ProviderType type = ProviderType::kMsp,
                                  std::vector<SeatMinimum> minimums = {}) {
  InvitedProvider p = invite_provider(world, staff, type, owner_email, std::move(minimums));
  run_ok(world, setup_command(p.id, p.setup_token), owner);
  return p.id;
}

struct Invitation {
  ProviderUserId id;
  std::string token;
};

inline Invitation invite_provider_user(World& world, const Actor& admin, const ProviderId& provider,
                                       const std::string& email, ProviderUserType type) {
  Decision d = run_ok(world, InviteProviderUsers{provider, {email}, type}, admin);
  if (d.created_ids.size() != 1) throw std::runtime_error("invitation of " + email + " was skipped");
  return Invitation{d.created_ids[0], d.tokens.at(0)};
}

// Invites `member` (registered with `email`), lets them accept and confirms them:
// a confirmed provider user of `type`.
inline ProviderUserId add_provider_user(World& world, const Actor& admin, const ProviderId& provider,
                                        const Actor& member, const std::string& email,
                                        ProviderUserType type) {
  Invitation inv = invite_provider_user(world, admin, provider, email, type);
  run_ok(world, AcceptProviderInvite{provider, inv.id, inv.token}, member);
  run_ok(world, ConfirmProviderUsers{provider, {{inv.id, "2.userkey|aXY=|bWFj"}}}, admin);
  return inv.id;
}

inline OrganizationId create_organization(World& world, const Actor& creator, const std::string& name,
                                          PlanType plan, int seats = 5,
                                          const std::string& billing_email = "billing@org.test") {
  return run_ok(world, CreateOrganization{name, plan, seats, billing_email}, creator).created_ids.at(0);
}

struct NewClient {
  OrganizationId organization_id;
  ProviderOrganizationId provider_organization_id;
  OrganizationUserId owner_organization_user_id;
  CollectionId collection_id;
  std::string owner_token;
};

inline AddClientOrg new_client_command(const ProviderId& provider, const std::string& name,
                                       const std::string& owner_email, PlanType plan, int seats) {
  AddClientOrg c;
  c.provider_id = provider;
  c.name = name;
  c.owner_email = owner_email;
  c.plan = plan;
  c.seats = seats;
  c.collection_name = "Default Collection";
  return c;
}

inline NewClient add_new_client(World& world, const Actor& admin, const ProviderId& provider,
                                const std::string& name, const std::string& owner_email,
                                PlanType plan = PlanType::kTeamsMonthly, int seats = 10) {
  Decision d = run_ok(world, new_client_command(provider, name, owner_email, plan, seats), admin);
  return NewClient{d.created_ids.at(0), d.created_ids.at(1), d.created_ids.at(2), d.created_ids.at(3),
                   d.tokens.at(0)};
}

inline AddClientOrg existing_client_command(const ProviderId& provider, const OrganizationId& organization) {
  AddClientOrg c;
  c.provider_id = provider;
  c.existing_organization_id = organization;
  return c;
}

// AddClientOrg existing form; `admin` must also be the organization's confirmed Owner.
inline ProviderOrganizationId adopt_organization(World& world, const Actor& admin, const ProviderId& provider,
                                                 const OrganizationId& organization) {
  return run_ok(world, existing_client_command(provider, organization), admin).created_ids.at(0);
}

// --- the standard cast ---------------------------------------------------------------------------

inline constexpr std::string_view kOwnerEmail = "owner@northwind.test";
inline constexpr std::string_view kProviderBillingEmail = "billing@northwind.test";
inline constexpr std::string_view kInvitedAdminEmail = "invited-admin@northwind.test";
inline constexpr std::string_view kAcceptedAdminEmail = "accepted-admin@northwind.test";
inline constexpr std::string_view kServiceUserEmail = "service@northwind.test";
inline constexpr std::string_view kClientOwnerEmail = "owner@contoso.test";
inline constexpr std::string_view kNewClientOwnerEmail = "owner@globex.test";  // invited, never registered
inline constexpr std::string_view kUnrelatedEmail = "someone@elsewhere.test";
inline constexpr int kTeamsMonthlyMinimum = 100;
inline constexpr int kNewClientSeats = 10;
inline constexpr int kAdoptedOrgSeats = 5;

struct Cast {
  ProviderId provider;
  std::string setup_token;  // already spent when the cast is set up

  Actor staff;  // Bitwarden staff, registered as a user but a member of nothing
  Actor owner;  // the invited owner: the provider's first confirmed ProviderAdmin
  ProviderUserId owner_pu;
  Actor invited_admin;  // registered; invited as ProviderAdmin, has not accepted
  ProviderUserId invited_admin_pu;
  std::string invited_admin_token;
  Actor accepted_admin;  // accepted, not yet confirmed
  ProviderUserId accepted_admin_pu;
  Actor service_user;  // confirmed ServiceUser
  ProviderUserId service_user_pu;
  Actor client_owner;  // confirmed Owner of adopted_org (Contoso), not a provider user
  Actor unrelated;     // registered, related to nothing

  // Only when set up (a Pending provider cannot have clients):
  // Globex, added with AddClientOrg new (TeamsMonthly, 10 seats); its owner is only invited.
  OrganizationId new_client_org;
  ProviderOrganizationId new_client;
  // Contoso, created by client_owner and added with AddClientOrg existing (TeamsMonthly, 5 seats).
  OrganizationId adopted_org;
  ProviderOrganizationId adopted_client;
};

struct CastOptions {
  bool set_up = true;  // false: the provider stays Pending, with no clients
};

// An Msp provider (seat minimum: TeamsMonthly 100) with every kind of actor.
inline Cast build_cast(World& world, CastOptions options = {}) {
  Cast c;
  c.staff = staff_actor(world.new_id());
  run_ok(world, RegisterUser{c.staff.user_id, "staff@portal.test", "Staff"}, c.staff);
  c.owner = register_user(world, std::string(kOwnerEmail), "Olivia Owner");
  c.invited_admin = register_user(world, std::string(kInvitedAdminEmail), "Ivan Invited");
  c.accepted_admin = register_user(world, std::string(kAcceptedAdminEmail), "Ada Accepted");
  c.service_user = register_user(world, std::string(kServiceUserEmail), "Sam Service");
  c.client_owner = register_user(world, std::string(kClientOwnerEmail), "Carla Client");
  c.unrelated = register_user(world, std::string(kUnrelatedEmail), "Uma Unrelated");

  InvitedProvider p = invite_provider(world, c.staff, ProviderType::kMsp, std::string(kOwnerEmail),
                                      {{PlanType::kTeamsMonthly, kTeamsMonthlyMinimum}});
  c.provider = p.id;
  c.owner_pu = p.owner_provider_user_id;
  c.setup_token = p.setup_token;
  if (options.set_up) run_ok(world, setup_command(c.provider, c.setup_token), c.owner);

  Invitation invited = invite_provider_user(world, c.owner, c.provider, std::string(kInvitedAdminEmail),
                                            ProviderUserType::kProviderAdmin);
  c.invited_admin_pu = invited.id;
  c.invited_admin_token = invited.token;
  Invitation accepted = invite_provider_user(world, c.owner, c.provider, std::string(kAcceptedAdminEmail),
                                             ProviderUserType::kProviderAdmin);
  run_ok(world, AcceptProviderInvite{c.provider, accepted.id, accepted.token}, c.accepted_admin);
  c.accepted_admin_pu = accepted.id;
  c.service_user_pu = add_provider_user(world, c.owner, c.provider, c.service_user,
                                        std::string(kServiceUserEmail), ProviderUserType::kServiceUser);

  c.adopted_org = create_organization(world, c.client_owner, "Contoso", PlanType::kTeamsMonthly,
                                      kAdoptedOrgSeats, std::string(kClientOwnerEmail));
  if (!options.set_up) return c;

  NewClient globex = add_new_client(world, c.owner, c.provider, "Globex", std::string(kNewClientOwnerEmail),
                                    PlanType::kTeamsMonthly, kNewClientSeats);
  c.new_client_org = globex.organization_id;
  c.new_client = globex.provider_organization_id;
  // Only someone who is both a provider admin and the organization's confirmed Owner
  // can adopt it, and no command adds a confirmed member to an existing organization
  // yet. So the client's owner joins the provider as an admin, adopts Contoso, and is
  // removed again: afterwards a confirmed Owner of a client who is no provider user.
  ProviderUserId temporary =
      add_provider_user(world, c.owner, c.provider, c.client_owner, std::string(kClientOwnerEmail),
                        ProviderUserType::kProviderAdmin);
  c.adopted_client = adopt_organization(world, c.client_owner, c.provider, c.adopted_org);
  run_ok(world, RemoveProviderUsers{c.provider, {temporary}}, c.owner);
  return c;
}

// --- assertions ----------------------------------------------------------------------------------

inline std::string describe(const Error& e) {
  std::ostringstream out;
  out << to_string(e.kind) << " \"" << e.message << "\"";
  if (!e.field.empty()) out << " (field " << e.field << ")";
  return out.str();
}

inline std::string describe(const Decision& d) {
  std::ostringstream out;
  out << d.events.size() << " event(s):";
  for (const auto& e : d.events) out << " " << e.stream << "/" << event_name(e.payload);
  return out.str();
}

// Refused with this kind (and, when given, exactly this message).
inline ::testing::AssertionResult is_refused(const Expected<Decision>& result, ErrorKind kind,
                                             std::optional<std::string_view> message = std::nullopt) {
  if (result.ok()) {
    return ::testing::AssertionFailure()
           << "expected refusal " << to_string(kind) << ", got success with " << describe(result.value());
  }
  const Error& e = result.error();
  if (e.kind != kind || (message && e.message != *message)) {
    return ::testing::AssertionFailure()
           << "expected " << to_string(kind)
           << (message ? " \"" + std::string(*message) + "\"" : std::string()) << ", got " << describe(e);
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult is_ok(const Expected<Decision>& result) {
  if (!result.ok()) return ::testing::AssertionFailure() << "refused: " << describe(result.error());
  return ::testing::AssertionSuccess();
}

struct ExpectedEvent {
  std::string stream;
  std::string name;
  std::uint32_t code = 0;
};

// Exactly these events, in this order: stream, type name and Bitwarden code.
inline ::testing::AssertionResult has_events(const Expected<Decision>& result,
                                             const std::vector<ExpectedEvent>& expected) {
  if (!result.ok()) return ::testing::AssertionFailure() << "refused: " << describe(result.error());
  const auto& events = result.value().events;
  auto failure = [&] {
    auto f = ::testing::AssertionFailure();
    f << "expected " << expected.size() << " event(s):";
    for (const auto& e : expected) f << " " << e.stream << "/" << e.name << "(" << e.code << ")";
    f << "\n     got " << events.size() << " event(s):";
    for (const auto& e : events)
      f << " " << e.stream << "/" << event_name(e.payload) << "(" << event_code(e.payload.type) << ")";
    return f;
  };
  if (events.size() != expected.size()) return failure();
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].stream != expected[i].stream || event_name(events[i].payload) != expected[i].name ||
        event_code(events[i].payload.type) != expected[i].code) {
      return failure() << "\n  first difference at event " << i;
    }
  }
  return ::testing::AssertionSuccess();
}

// The actor recorded on the decision's events: who, as what, through which provider,
// from which device and address.
inline ::testing::AssertionResult recorded_as(const Expected<Decision>& result, const Actor& actor,
                                              ActingAs acting_as,
                                              std::optional<ProviderId> via = std::nullopt) {
  if (!result.ok()) return ::testing::AssertionFailure() << "refused: " << describe(result.error());
  RecordedActor r = recorded_actor(actor, result.value());
  const Uuid expected_provider = via.value_or(Uuid{});
  if (r.user_id != actor.user_id || r.acting_as != static_cast<std::int8_t>(acting_as) ||
      r.provider_id != expected_provider || r.device_type != actor.device_type ||
      r.ip_address != actor.ip_address) {
    return ::testing::AssertionFailure()
           << "recorded actor user " << r.user_id.to_string() << " acting_as " << int(r.acting_as)
           << " provider " << r.provider_id.to_string() << " device " << r.device_type << " ip "
           << r.ip_address << "; expected user " << actor.user_id.to_string() << " acting_as "
           << int(acting_as) << " provider " << expected_provider.to_string() << " device "
           << actor.device_type << " ip " << actor.ip_address;
  }
  return ::testing::AssertionSuccess();
}

inline const ItemResult* item_for(const Decision& d, std::string_view email) {
  for (const auto& i : d.items)
    if (i.email == email) return &i;
  return nullptr;
}

}  // namespace portal::domain::test
