// Demo data (demo.h): one scripted history of an MSP and its clients, run command
// by command through the Engine with command ids derived from the seed.
#include "portal/api/demo.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "portal/domain/commands.h"
#include "portal/domain/decide.h"
#include "text/text.h"

namespace portal::api {
namespace {

namespace d = domain;
namespace es = eventstore;

using d::OrganizationUserType;

// Bitwarden device types: the web vault in Chrome and in Firefox.
constexpr std::int16_t kChromeBrowser = 9;
constexpr std::int16_t kFirefoxBrowser = 10;

constexpr const char* kProviderName = "Northwind IT";
constexpr const char* kProviderBusinessName = "Northwind IT Services Ltd";
constexpr const char* kDefaultCollection = "Default collection";

struct Person {
  const char* first;
  const char* last;
};

// The provider's team: two admins (the first sets the provider up), three service users.
constexpr std::array<Person, 2> kAdmins = {{{"Olivia", "Bennett"}, {"Marcus", "Chen"}}};
constexpr std::array<Person, 3> kServiceUsers = {
    {{"Priya", "Natarajan"}, {"Tom", "Okafor"}, {"Sofia", "Lindqvist"}}};

constexpr std::array<const char*, 25> kClients = {
    "Contoso Dental",
    "Fabrikam Logistics",
    "Adventure Works Cycles",
    "Tailspin Toys",
    "Wide World Importers",
    "Litware Legal",
    "Proseware Labs",
    "Woodgrove Credit Union",
    "Alpine Ski House",
    "Coho Winery",
    "Fourth Coffee",
    "Graphic Design Institute",
    "Humongous Insurance",
    "Lamna Healthcare",
    "Margie's Travel",
    "Blue Yonder Airlines",
    "Relecloud",
    "Southridge Video",
    "Trey Research",
    "VanArsdel Ltd",
    "Wingtip Toys",
    "A. Datum Corporation",
    "Bellows College",
    "City Power & Light",
    "Consolidated Messenger",
};

constexpr std::array<const char*, 24> kFirstNames = {"Amelia", "Noah",   "Isla",   "Liam",  "Mia",  "Lucas",
                                                     "Chloe",  "Ethan",  "Ava",    "Mateo", "Zara", "Oscar",
                                                     "Leah",   "Jonas",  "Hana",   "Felix", "Nora", "Ravi",
                                                     "Elena",  "Samuel", "Ingrid", "Kofi",  "Yuki", "Daniel"};
constexpr std::array<const char*, 24> kLastNames = {
    "Alvarez", "Brooks",   "Dubois", "Eriksen", "Fischer",  "Garcia",  "Haddad", "Ito",
    "Jansen",  "Kowalski", "Larsen", "Moreau",  "Nakamura", "O'Neill", "Patel",  "Quinn",
    "Rossi",   "Schmidt",  "Tanaka", "Usman",   "Varga",    "Weber",   "Young",  "Zhang"};

constexpr std::array<const char*, 8> kCollections = {
    "Finance",       "IT Infrastructure", "Marketing",       "Operations",
    "Shared Logins", "Customer Accounts", "Human Resources", "Engineering"};
constexpr std::array<const char*, 5> kGroups = {"Staff", "Management", "IT Team", "Contractors",
                                                "Finance Team"};

// Member roles in invitation order; a client has the first 3 to 6.
constexpr std::array<OrganizationUserType, 6> kMemberTypes = {
    OrganizationUserType::kAdmin, OrganizationUserType::kUser, OrganizationUserType::kCustom,
    OrganizationUserType::kUser,  OrganizationUserType::kUser, OrganizationUserType::kAdmin};

constexpr const char* kPasswordGeneratorData =
    R"({"minLength":14,"useUpper":true,"useLower":true,"useNumbers":true,"useSpecial":true,)"
    R"("minNumbers":2,"minSpecial":1})";
constexpr const char* kMasterPasswordData =
    R"({"minComplexity":3,"minLength":12,"requireUpper":true,"requireLower":true,)"
    R"("requireNumbers":true,"requireSpecial":false,"enforceOnLogin":true})";

// splitmix64: a small, well-mixed generator; the demo's shape follows the seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int between(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }

 private:
  std::uint64_t state_;
};

std::string slug(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c == ' ' && !out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string base64(const std::vector<std::uint8_t>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// One load: derives ids, runs commands, keeps the summary.
// Minutes between two commands of the history, and where each part of the story
// sits in the history's span.
constexpr std::int64_t kMicrosPerCommand = 3 * 60 * 1'000'000LL;
constexpr double kClientsFrom = 0.02, kClientsTo = 0.72, kAdministrationFrom = 0.75;

class Loader {
 public:
  Loader(Engine& engine, const DemoOptions& options)
      : engine_(engine), options_(options), rng_(options.seed) {
    suffix_ = options.seed == 1 ? std::string() : "-s" + std::to_string(options.seed);
  }

  d::Expected<DemoSummary> load() {
    if (options_.clients < 1 || options_.clients > static_cast<int>(kClients.size())) {
      return d::Error::validation(
          "clients", "The demo has 1 to " + std::to_string(kClients.size()) + " client organizations.");
    }
    if (!provider_team() || !clients() || !administration()) return *error_;
    return std::move(summary_);
  }

 private:
  struct ClientPlan {
    DemoClient client;
    d::PlanType plan = d::PlanType::kTeamsMonthly;
    int seats = 10;
    d::CollectionId default_collection;
    std::vector<d::CollectionId> collections;  // the default one first
    std::vector<d::GroupId> groups;
    std::vector<OrganizationUserType> member_types;
    std::string domain;
    std::set<std::string> emails;
  };

  // A 16-byte id from the seed and a label (SHA-256, truncated).
  std::array<std::uint8_t, 16> derive(const std::string& label) const {
    const std::string input = "portal-demo/v1/" + std::to_string(options_.seed) + "/" + label;
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_Digest(input.data(), input.size(), md.data(), &len, EVP_sha256(), nullptr);
    std::array<std::uint8_t, 16> out{};
    std::copy_n(md.begin(), out.size(), out.begin());
    out[6] = static_cast<std::uint8_t>((out[6] & 0x0f) | 0x40);  // RFC 4122 version 4
    out[8] = static_cast<std::uint8_t>((out[8] & 0x3f) | 0x80);
    return out;
  }

  d::UserId user_id(const std::string& label) const {
    d::UserId id;
    id.bytes = derive("user/" + label);
    return id;
  }

  // A client-side encrypted value: type 2 (AES-CBC-256, HMAC-SHA256), iv|ct|mac.
  std::string enc_string(std::size_t plaintext_bytes) {
    auto bytes = [&](std::size_t n) {
      std::vector<std::uint8_t> b(n);
      for (auto& x : b) x = static_cast<std::uint8_t>(rng_.next());
      return b;
    };
    const std::size_t ct = (plaintext_bytes / 16 + 1) * 16;  // PKCS#7-padded
    return "2." + base64(bytes(16)) + "|" + base64(bytes(ct)) + "|" + base64(bytes(32));
  }

  d::Actor actor(const DemoUser& user, bool staff = false) const {
    // Staff and the provider's team work from the provider's office, clients from theirs.
    const bool team = staff || user.email.ends_with("@" + client_domain_of_provider());
    return d::Actor{user.id, staff, team ? kFirefoxBrowser : kChromeBrowser,
                    team ? "198.51.100.20" : "192.0.2." + std::to_string(10 + (user.id.bytes[15] % 200))};
  }

  std::string client_domain_of_provider() const { return "northwind-it" + suffix_ + ".example"; }

  // Runs one command of the script; nullopt after a refusal (kept in error_).
  std::optional<CommandResult> run(const std::string& label, const d::Command& command, const d::Actor& who) {
    es::CommandId id;
    id.bytes = derive("cmd/" + label);
    ++summary_.commands;
    if (options_.history != nullptr) options_.history->tick(kMicrosPerCommand);
    auto r = engine_.execute(command, who, id);
    if (!r.ok()) {
      error_ = d::Error{r.error().kind,
                        "Loading the demo failed at step " + label + " (" + d::command_name(command) +
                            "): " + r.error().message,
                        r.error().field};
      return std::nullopt;
    }
    for (const auto& item : r->items) {
      if (!item.error.empty()) {
        error_ = d::Error::failed_precondition(
            "Loading the demo failed at step " + label + " (" + d::command_name(command) + ") for " +
            (item.email.empty() ? item.id.to_string() : item.email) + ": " + item.error);
        return std::nullopt;
      }
    }
    if (!r->deduplicated && r->last_position > 0) ++summary_.recorded;
    summary_.last_position = std::max(summary_.last_position, r->last_position);
    return std::move(r.value());
  }

  bool register_user(const std::string& label, DemoUser& user) {
    user.id = user_id(label);
    return run(label + "/register", d::RegisterUser{user.id, user.email, user.name}, actor(user)).has_value();
  }

  DemoUser team_member(const Person& p) const {
    DemoUser u;
    u.name = std::string(p.first) + " " + p.last;
    u.email = slug(p.first) + "." + slug(p.last) + "@" + client_domain_of_provider();
    return u;
  }

  std::string key() { return enc_string(64); }

  // The staff user, the provider and its team.
  void history_at(double fraction) {
    if (options_.history != nullptr) options_.history->move_to(fraction);
  }

  bool provider_team() {
    DemoUser& staff = summary_.staff;
    staff.name = "Portal Staff";
    staff.email = "staff@portal" + suffix_ + ".example";
    staff.id = user_id("staff");
    if (!run("staff/register", d::RegisterUser{staff.id, staff.email, staff.name}, actor(staff, true)))
      return false;
    for (std::size_t i = 0; i < kAdmins.size(); ++i) {
      summary_.admins.push_back(team_member(kAdmins[i]));
      if (!register_user("admin" + std::to_string(i), summary_.admins.back())) return false;
    }
    for (std::size_t i = 0; i < kServiceUsers.size(); ++i) {
      summary_.service_users.push_back(team_member(kServiceUsers[i]));
      if (!register_user("service" + std::to_string(i), summary_.service_users.back())) return false;
    }
    DemoUser& owner = summary_.admins[0];
    DemoUser& second = summary_.admins[1];

    auto invited =
        run("provider/invite",
            d::InviteProvider{d::ProviderType::kMsp,
                              owner.email,
                              {{d::PlanType::kTeamsMonthly, 250}, {d::PlanType::kEnterpriseMonthly, 200}}},
            actor(staff, true));
    if (!invited) return false;
    summary_.provider_id = invited->created_ids.at(0);
    summary_.provider_name = kProviderName;
    owner.membership_id = invited->created_ids.at(1);
    const d::ProviderId provider = summary_.provider_id;
    if (!run("provider/setup",
             d::SetupProvider{provider, invited->tokens.at(0), kProviderName, kProviderBusinessName,
                              "billing@" + client_domain_of_provider(), key()},
             actor(owner)))
      return false;

    auto admin = run("provider/invite-admin",
                     d::InviteProviderUsers{provider, {second.email}, d::ProviderUserType::kProviderAdmin},
                     actor(owner));
    if (!admin) return false;
    second.membership_id = admin->created_ids.at(0);
    if (!run("provider/accept-admin",
             d::AcceptProviderInvite{provider, second.membership_id, admin->tokens.at(0)}, actor(second)) ||
        !run("provider/confirm-admin", d::ConfirmProviderUsers{provider, {{second.membership_id, key()}}},
             actor(owner)))
      return false;

    std::vector<std::string> emails;
    for (const auto& u : summary_.service_users) emails.push_back(u.email);
    auto team =
        run("provider/invite-service-users",
            d::InviteProviderUsers{provider, emails, d::ProviderUserType::kServiceUser}, actor(second));
    if (!team) return false;
    std::vector<d::ProviderUserKey> keys;
    for (std::size_t i = 0; i < summary_.service_users.size(); ++i) {
      DemoUser& u = summary_.service_users[i];
      u.membership_id = team->created_ids.at(i);
      if (!run("provider/accept-service-user" + std::to_string(i),
               d::AcceptProviderInvite{provider, u.membership_id, team->tokens.at(i)}, actor(u)))
        return false;
      keys.push_back({u.membership_id, key()});
    }
    return run("provider/confirm-service-users", d::ConfirmProviderUsers{provider, keys}, actor(owner))
        .has_value();
  }

  DemoUser person(ClientPlan& c) {
    for (int attempt = 0;; ++attempt) {
      const char* first = kFirstNames[rng_.next() % kFirstNames.size()];
      const char* last = kLastNames[rng_.next() % kLastNames.size()];
      DemoUser u;
      u.name = std::string(first) + " " + last;
      u.email =
          slug(first) + "." + slug(last) + (attempt > 8 ? std::to_string(attempt) : "") + "@" + c.domain;
      if (c.emails.insert(u.email).second) return u;
    }
  }

  const DemoUser& team(std::size_t i) const {
    return summary_.service_users[i % summary_.service_users.size()];
  }
  const DemoUser& admin(std::size_t i) const { return summary_.admins[i % summary_.admins.size()]; }

  bool clients() {
    for (int i = 0; i < options_.clients; ++i) {
      ClientPlan c;
      c.client.name = kClients[static_cast<std::size_t>(i)];
      c.domain = slug(c.client.name) + suffix_ + ".example";
      c.plan = i % 3 == 0 ? d::PlanType::kEnterpriseMonthly : d::PlanType::kTeamsMonthly;
      c.seats = rng_.between(10, 30);
      history_at(kClientsFrom + (kClientsTo - kClientsFrom) * i / options_.clients);
      if (!client(static_cast<std::size_t>(i), c)) return false;
      plans_.push_back(std::move(c));
      summary_.clients.push_back(plans_.back().client);
    }
    return true;
  }

  // One client organization, from its addition by the provider to its members' items.
  bool client(std::size_t i, ClientPlan& c) {
    const std::string p = "client" + std::to_string(i) + "/";
    const d::ProviderId provider = summary_.provider_id;
    const DemoUser& adder = admin(i);
    const DemoUser& helper = team(i);
    DemoUser& owner = c.client.owner;
    owner = person(c);
    if (!register_user(p + "owner", owner)) return false;

    auto added = run(p + "add",
                     d::AddClientOrg{provider, std::nullopt, c.client.name, owner.email, c.plan, c.seats,
                                     kDefaultCollection},
                     actor(adder));
    if (!added) return false;
    c.client.organization_id = added->created_ids.at(0);
    const d::OrganizationId org = c.client.organization_id;
    c.client.provider_organization_id = added->created_ids.at(1);
    owner.membership_id = added->created_ids.at(2);
    c.default_collection = added->created_ids.at(3);
    c.collections.push_back(c.default_collection);
    if (!run(p + "owner/accept", d::AcceptMember{org, owner.membership_id, added->tokens.at(0)},
             actor(owner)) ||
        !run(p + "owner/confirm", d::ConfirmMember{org, owner.membership_id, key()}, actor(adder)) ||
        !run(p + "open0", d::OpenClientOrg{provider, c.client.provider_organization_id}, actor(helper)))
      return false;

    // Members: half invited by the provider's service user, half by the owner.
    const int members = rng_.between(3, 6);
    for (int j = 0; j < members; ++j) {
      const std::string m = p + "member" + std::to_string(j);
      const OrganizationUserType type = kMemberTypes[static_cast<std::size_t>(j)];
      DemoUser u = person(c);
      if (!register_user(m, u)) return false;
      d::Permissions permissions;
      if (type == OrganizationUserType::kCustom) {
        permissions.manage_users = true;
        permissions.access_event_logs = true;
        permissions.create_new_collections = i % 2 == 0;
      }
      d::CollectionAccess access{c.default_collection};
      access.manage = type == OrganizationUserType::kAdmin;
      access.read_only = type == OrganizationUserType::kUser && j != 1;
      access.hide_passwords = j == 4;
      const DemoUser& inviter = j % 2 == 0 ? helper : owner;
      auto invited = run(m + "/invite", d::InviteMembers{org, {u.email}, type, permissions, {access}, {}},
                         actor(inviter));
      if (!invited) return false;
      u.membership_id = invited->created_ids.at(0);
      if (!run(m + "/accept", d::AcceptMember{org, u.membership_id, invited->tokens.at(0)}, actor(u)) ||
          !run(m + "/confirm", d::ConfirmMember{org, u.membership_id, key()}, actor(owner)))
        return false;
      c.client.members.push_back(u);
      c.member_types.push_back(type);
    }

    // Groups: the Users, then (for some) the Admins and Custom members.
    const int groups = rng_.between(1, 2);
    for (int g = 0; g < groups; ++g) {
      std::vector<d::OrganizationUserId> in;
      for (std::size_t j = 0; j < c.client.members.size(); ++j) {
        const bool user = c.member_types[j] == OrganizationUserType::kUser;
        if (user == (g == 0)) in.push_back(c.client.members[j].membership_id);
      }
      const char* name = g == 0 ? kGroups[0] : kGroups[1 + i % (kGroups.size() - 1)];
      auto group = run(p + "group" + std::to_string(g), d::CreateGroup{org, name, in}, actor(helper));
      if (!group) return false;
      c.groups.push_back(group->created_ids.at(0));
    }

    // Collections beyond the default one, shared with the groups and the first Admin.
    const int extra = rng_.between(1, 2);
    for (int k = 0; k < extra; ++k) {
      const char* name = kCollections[(i + static_cast<std::size_t>(k) * 3) % kCollections.size()];
      d::CreateCollection create{org, name, {}, {}};
      d::CollectionAccess group_access{c.groups[static_cast<std::size_t>(k) % c.groups.size()]};
      group_access.read_only = k == 1;
      group_access.hide_passwords = k == 1;
      create.groups.push_back(group_access);
      d::CollectionAccess admin_access{c.client.members[0].membership_id};
      admin_access.manage = true;
      create.users.push_back(admin_access);
      const DemoUser& creator = k == 0 ? helper : owner;
      auto created = run(p + "collection" + std::to_string(k), create, actor(creator));
      if (!created) return false;
      c.collections.push_back(created->created_ids.at(0));
    }

    // Policies: two-step login everywhere, a password generator and master password
    // rules for some, and one client that keeps its members to itself.
    if (!run(p + "policy/2fa", d::SavePolicy{org, d::PolicyType::kTwoFactorAuthentication, true, ""},
             actor(helper)))
      return false;
    if (i % 2 == 0 &&
        !run(p + "policy/generator",
             d::SavePolicy{org, d::PolicyType::kPasswordGenerator, true, kPasswordGeneratorData},
             actor(adder)))
      return false;
    if (i % 3 == 1 &&
        !run(p + "policy/master-password",
             d::SavePolicy{org, d::PolicyType::kMasterPassword, true, kMasterPasswordData}, actor(owner)))
      return false;
    if (i == 4 &&
        !run(p + "policy/single-org", d::SavePolicy{org, d::PolicyType::kSingleOrg, true, ""}, actor(owner)))
      return false;

    // Items, created by members who can write to the collection.
    const int items = rng_.between(2, 5);
    for (int k = 0; k < items; ++k) {
      const DemoUser* creator = &owner;
      d::CollectionId collection = c.default_collection;
      switch (k % 4) {
        case 1: creator = &c.client.members[1]; break;  // a User with write access
        case 2:                                         // an Admin, in a collection it manages
          creator = &c.client.members[0];
          collection = c.collections[1];
          break;
        case 3: creator = &c.client.members[2]; break;  // the Custom member
        default: break;
      }
      d::CreateItem item;
      item.organization_id = org;
      item.collection_ids = {collection};
      item.content.name = enc_string(12);
      switch (k % 3) {
        case 0:
          item.type = d::CipherType::kLogin;
          item.content.fields = {{"login.username", enc_string(20)},
                                 {"login.password", enc_string(24)},
                                 {"login.uris.0", enc_string(32)}};
          break;
        case 1:
          item.type = d::CipherType::kSecureNote;
          item.content.notes = enc_string(200);
          break;
        default:
          item.type = d::CipherType::kCard;
          item.content.fields = {{"card.cardholderName", enc_string(16)},
                                 {"card.number", enc_string(16)},
                                 {"card.expMonth", enc_string(2)},
                                 {"card.expYear", enc_string(4)},
                                 {"card.code", enc_string(3)}};
          break;
      }
      if (!run(p + "item" + std::to_string(k), item, actor(*creator))) return false;
      ++c.client.items;
    }
    return true;
  }

  // Later: the provider's team at work across its clients.
  bool administration() {
    const d::ProviderId provider = summary_.provider_id;
    for (std::size_t i = 0; i < plans_.size(); ++i) {
      ClientPlan& c = plans_[i];
      history_at(kAdministrationFrom + (1 - kAdministrationFrom) * static_cast<double>(i) /
                                           static_cast<double>(plans_.size()));
      const std::string p = "history/client" + std::to_string(i) + "/";
      const d::ProviderOrganizationId link = c.client.provider_organization_id;
      if (i % 2 == 0 && !run(p + "open", d::OpenClientOrg{provider, link}, actor(team(i + 1)))) return false;
      if (i % 3 == 0) {
        c.seats += 5;
        if (!run(p + "open-admin", d::OpenClientOrg{provider, link}, actor(admin(i + 1))) ||
            !run(p + "seats", d::UpdateClientOrg{provider, link, c.client.name, c.seats},
                 actor(admin(i + 1))))
          return false;
      }
      if (i % 4 == 1) {
        // An invitation still waiting for its answer.
        const DemoUser newcomer = person(c);
        if (!run(p + "invite",
                 d::InviteMembers{c.client.organization_id,
                                  {newcomer.email},
                                  OrganizationUserType::kUser,
                                  {},
                                  {{c.default_collection, true, false, false}},
                                  {c.groups[0]}},
                 actor(team(i + 2))))
          return false;
      }
      if (i % 5 == 2) {
        d::Permissions more;
        more.manage_users = true;
        more.manage_groups = true;
        more.access_event_logs = true;
        more.create_new_collections = true;
        if (!run(p + "custom-permissions",
                 d::UpdateMember{c.client.organization_id, c.client.members[2].membership_id,
                                 OrganizationUserType::kCustom, more},
                 actor(admin(i))))
          return false;
      }
    }
    for (std::size_t i = 0; i < summary_.clients.size(); ++i) summary_.clients[i] = plans_[i].client;
    return true;
  }

  Engine& engine_;
  DemoOptions options_;
  Rng rng_;
  std::string suffix_;
  DemoSummary summary_;
  std::vector<ClientPlan> plans_;
  std::optional<d::Error> error_;
};

void user_json(std::string& out, const DemoUser& u, const char* membership_key) {
  out += "{\"id\":\"" + u.id.to_string() + "\",\"email\":" + text::json_quote(u.email) +
         ",\"name\":" + text::json_quote(u.name);
  if (membership_key != nullptr)
    out += ",\"" + std::string(membership_key) + "\":\"" + u.membership_id.to_string() + "\"";
  out += "}";
}

void users_json(std::string& out, const std::vector<DemoUser>& users, const char* membership_key) {
  out += "[";
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (i > 0) out += ",";
    user_json(out, users[i], membership_key);
  }
  out += "]";
}

}  // namespace

DemoClock::DemoClock(std::int64_t end, std::int64_t span) : start_(end - span), end_(end), now_(end - span) {}

void DemoClock::move_at_least_to(std::int64_t t) {
  t = std::min(t, end_);
  std::int64_t seen = now_.load(std::memory_order_acquire);
  while (seen < t && !now_.compare_exchange_weak(seen, t, std::memory_order_acq_rel)) {
  }
}

void DemoClock::move_to(double fraction) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  move_at_least_to(start_ + static_cast<std::int64_t>(static_cast<double>(end_ - start_) * fraction));
}

void DemoClock::tick(std::int64_t micros) {
  move_at_least_to(now() + micros);
}

d::Expected<DemoSummary> load_demo(Engine& engine, const DemoOptions& options) {
  return Loader(engine, options).load();
}

std::string demo_summary_json(const DemoSummary& s) {
  std::string out = "{\n  \"providerId\": \"" + s.provider_id.to_string() + "\",\n  \"providerName\": " +
                    text::json_quote(s.provider_name) + ",\n  \"staff\": ";
  user_json(out, s.staff, nullptr);
  out += ",\n  \"admins\": ";
  users_json(out, s.admins, "providerUserId");
  out += ",\n  \"serviceUsers\": ";
  users_json(out, s.service_users, "providerUserId");
  out += ",\n  \"clients\": [";
  for (std::size_t i = 0; i < s.clients.size(); ++i) {
    const DemoClient& c = s.clients[i];
    out += i > 0 ? ",\n    " : "\n    ";
    out += "{\"organizationId\":\"" + c.organization_id.to_string() + "\",\"providerOrganizationId\":\"" +
           c.provider_organization_id.to_string() + "\",\"name\":" + text::json_quote(c.name) + ",\"owner\":";
    user_json(out, c.owner, "organizationUserId");
    out += ",\"members\":";
    users_json(out, c.members, "organizationUserId");
    out += ",\"items\":" + std::to_string(c.items) + "}";
  }
  out += s.clients.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string demo_summary_env(const DemoSummary& s) {
  std::string out = "# The demo's ids for scripts (written by portalctl demo): . data/demo.env\n";
  auto line = [&](const char* name, const std::string& value) {
    out += std::string(name) + "=" + shell_quote(value) + "\n";
  };
  line("PROVIDER_ID", s.provider_id.to_string());
  line("PROVIDER_NAME", s.provider_name);
  line("STAFF_USER_ID", s.staff.id.to_string());
  line("STAFF_EMAIL", s.staff.email);
  if (!s.admins.empty()) {
    line("ADMIN_USER_ID", s.admins[0].id.to_string());
    line("ADMIN_EMAIL", s.admins[0].email);
    line("ADMIN_NAME", s.admins[0].name);
    line("ADMIN_PROVIDER_USER_ID", s.admins[0].membership_id.to_string());
  }
  if (!s.service_users.empty()) {
    line("SERVICE_USER_ID", s.service_users[0].id.to_string());
    line("SERVICE_USER_EMAIL", s.service_users[0].email);
    line("SERVICE_USER_NAME", s.service_users[0].name);
  }
  if (!s.clients.empty()) {
    const DemoClient& c = s.clients[0];
    line("ORG_ID", c.organization_id.to_string());
    line("ORG_NAME", c.name);
    line("PROVIDER_ORG_ID", c.provider_organization_id.to_string());
    line("OWNER_USER_ID", c.owner.id.to_string());
    line("OWNER_EMAIL", c.owner.email);
    if (!c.members.empty()) {
      line("MEMBER_USER_ID", c.members.back().id.to_string());
      line("MEMBER_EMAIL", c.members.back().email);
    }
  }
  line("CLIENT_COUNT", std::to_string(s.clients.size()));
  return out;
}

}  // namespace portal::api
