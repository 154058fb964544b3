// A whole MSP story through the API, from InviteProvider to RemoveClientOrg, and
// read-your-writes with X-Portal-Position and ?minPosition=.
#include <algorithm>
#include <tuple>

#include "e2e.h"

namespace portal::e2e {
namespace {

class StoryTest : public PortaldTest {};

// Whether `want` occurs in `seen` in order (other codes may come between).
bool in_order(const std::vector<std::int64_t>& seen, const std::vector<std::int64_t>& want, std::string* missing) {
  std::size_t k = 0;
  for (std::int64_t code : seen)
    if (k < want.size() && code == want[k]) ++k;
  if (k < want.size()) *missing = "code " + std::to_string(want[k]) + " (#" + std::to_string(k) + ")";
  return k == want.size();
}

std::string codes_text(const std::vector<std::int64_t>& codes) {
  std::string out;
  for (auto c : codes) out += (out.empty() ? "" : " ") + std::to_string(c);
  return out;
}

const json::object* find_by(const json::value& list, const char* key, const std::string& value) {
  for (const auto& e : list.at("data").as_array())
    if (e.as_object().contains(key) && e.at(key).is_string() && e.at(key).as_string() == value) return &e.as_object();
  return nullptr;
}

TEST_F(StoryTest, MspFromInvitationToClientRemoval) {
  // Staff invite an MSP provider for a registered owner.
  const User owner = person("owner");
  enroll(owner);
  const json::value invited =
      ok(post("/admin/providers", staff_, json::object{{"type", 0}, {"ownerEmail", owner.email}}),
         "POST /admin/providers");
  EXPECT_EQ(str(invited, "object"), "providerInvitation");
  const std::string pid = str(invited, "id");
  ASSERT_FALSE(pid.empty());
  ASSERT_FALSE(str(invited, "token").empty());
  ASSERT_FALSE(str(invited, "ownerProviderUserId").empty());
  const std::string base = "/providers/" + pid;

  // The owner sets it up with the token.
  const json::value provider = ok(post(base + "/setup", owner,
                                       json::object{{"token", str(invited, "token")},
                                                    {"name", "Acme IT"},
                                                    {"businessName", "Acme IT Ltd"},
                                                    {"billingEmail", "billing@acme.example"},
                                                    {"key", kKey}}),
                                  "setup");
  EXPECT_EQ(str(provider, "object"), "provider");
  EXPECT_EQ(str(provider, "id"), pid);
  EXPECT_EQ(str(provider, "name"), "Acme IT");
  EXPECT_EQ(str(provider, "businessName"), "Acme IT Ltd");
  EXPECT_EQ(str(provider, "billingEmail"), "billing@acme.example");
  EXPECT_EQ(num(provider, "type"), 0);
  const json::value read_back = ok(get(base, owner), "GET /providers/{id}");
  EXPECT_EQ(str(read_back, "name"), "Acme IT");

  // A second admin and a service user are invited, accept and are confirmed in bulk.
  const User admin = person("admin");
  const User tech = person("tech");
  const json::value admin_inv = ok(post(base + "/users/invite", owner,
                                        json::object{{"emails", json::array{json::value(admin.email)}}, {"type", 0}}),
                                   "invite admin");
  const json::value tech_inv = ok(post(base + "/users/invite", owner,
                                       json::object{{"emails", json::array{json::value(tech.email)}}, {"type", 1}}),
                                  "invite service user");
  ASSERT_EQ(admin_inv.at("data").as_array().size(), 1u);
  const json::value& ai = admin_inv.at("data").at(0);
  const json::value& ti = tech_inv.at("data").at(0);
  EXPECT_EQ(str(ai, "email"), admin.email);
  EXPECT_EQ(str(ai, "error"), "");
  EXPECT_EQ(str(ti, "error"), "");
  const std::string admin_puid = str(ai, "id"), tech_puid = str(ti, "id");
  enroll(admin);
  enroll(tech);
  ok(post(base + "/users/" + admin_puid + "/accept", admin, json::object{{"token", str(ai, "token")}}),
     "admin accepts");
  ok(post(base + "/users/" + tech_puid + "/accept", tech, json::object{{"token", str(ti, "token")}}),
     "service user accepts");
  const HttpResponse confirm = post(base + "/users/confirm", owner,
                                    json::object{{"keys", json::array{json::object{{"id", admin_puid}, {"key", kKey}},
                                                                      json::object{{"id", tech_puid}, {"key", kKey}}}}});
  const json::value confirmed = ok(confirm, "bulk confirm");
  ASSERT_EQ(confirmed.at("data").as_array().size(), 2u) << confirm.body;
  for (const auto& r : confirmed.at("data").as_array()) EXPECT_EQ(str(r, "error"), "") << confirm.body;
  ASSERT_GT(confirm.position(), 0u) << "no X-Portal-Position on a command";

  const json::value users =
      ok(get(base + "/users?minPosition=" + std::to_string(confirm.position()), owner), "GET users");
  EXPECT_EQ(str(users, "object"), "list");
  EXPECT_TRUE(users.at("continuationToken").is_null());
  ASSERT_EQ(users.at("data").as_array().size(), 3u) << json::serialize(users);
  for (const auto& [puid, who, type] : {std::tuple{str(invited, "ownerProviderUserId"), owner, 0},
                                        std::tuple{admin_puid, admin, 0}, std::tuple{tech_puid, tech, 1}}) {
    const json::object* u = find_by(users, "id", puid);
    ASSERT_NE(u, nullptr) << puid << " missing from " << json::serialize(users);
    EXPECT_EQ(u->at("object").as_string(), "providerUserUserDetails");
    EXPECT_EQ(u->at("status").to_number<int>(), 2) << json::serialize(*u);
    EXPECT_EQ(u->at("type").to_number<int>(), type) << json::serialize(*u);
    EXPECT_EQ(u->at("email").as_string(), who.email) << json::serialize(*u);
    EXPECT_EQ(u->at("userId").as_string(), who.id) << json::serialize(*u);
    EXPECT_EQ(u->at("name").as_string(), who.name) << json::serialize(*u);
  }

  // The second admin creates a client.
  const User boss = person("boss");
  const HttpResponse created = post(base + "/clients", admin,
                                    json::object{{"name", "Client One"},
                                                 {"ownerEmail", boss.email},
                                                 {"planType", 17},
                                                 {"seats", 10},
                                                 {"collectionName", "Default collection"}});
  const json::value client = ok(created, "create client");
  const std::string poid = str(client, "id"), org = str(client, "organizationId");
  const std::string boss_ouid = str(client, "ownerOrganizationUserId");
  ASSERT_FALSE(str(client, "ownerInviteToken").empty());
  const json::value listed =
      ok(get(base + "/organizations?minPosition=" + std::to_string(created.position()), admin), "GET clients");
  ASSERT_EQ(listed.at("data").as_array().size(), 1u) << json::serialize(listed);
  {
    const json::value& c = listed.at("data").at(0);
    EXPECT_EQ(str(c, "object"), "providerOrganizationOrganizationDetail");
    EXPECT_EQ(str(c, "id"), poid);
    EXPECT_EQ(str(c, "organizationId"), org);
    EXPECT_EQ(str(c, "providerId"), pid);
    EXPECT_EQ(str(c, "organizationName"), "Client One");
    EXPECT_EQ(num(c, "seats"), 10);
    EXPECT_EQ(num(c, "occupiedSeats"), 1);  // the invited owner
    EXPECT_EQ(num(c, "remainingSeats"), 9);
    EXPECT_EQ(num(c, "userCount"), 0);  // nobody confirmed yet
    EXPECT_EQ(str(c, "plan"), "Teams (Monthly)");
  }

  // The client's owner accepts; the provider admin confirms them.
  enroll(boss);
  ok(post("/organizations/" + org + "/users/" + boss_ouid + "/accept", boss,
          json::object{{"token", str(client, "ownerInviteToken")}}),
     "client owner accepts");
  const HttpResponse boss_confirmed =
      post("/organizations/" + org + "/users/" + boss_ouid + "/confirm", admin, json::object{{"key", kKey}});
  ok(boss_confirmed, "client owner confirmed");
  const json::value members = ok(
      get("/organizations/" + org + "/users?minPosition=" + std::to_string(boss_confirmed.position()), boss),
      "GET members");
  const json::object* boss_row = find_by(members, "id", boss_ouid);
  ASSERT_NE(boss_row, nullptr) << json::serialize(members);
  EXPECT_EQ(boss_row->at("status").to_number<int>(), 2);
  EXPECT_EQ(boss_row->at("type").to_number<int>(), 0);
  EXPECT_EQ(boss_row->at("userId").as_string(), boss.id);

  // The service user updates the client.
  const HttpResponse updated =
      put(base + "/clients/" + poid, tech, json::object{{"assignedSeats", 8}, {"name", "Client One Renamed"}});
  ok(updated, "service user updates the client");
  {
    const json::value after =
        ok(get(base + "/organizations?minPosition=" + std::to_string(updated.position()), tech), "GET clients");
    ASSERT_EQ(after.at("data").as_array().size(), 1u);
    const json::value& c = after.at("data").at(0);
    EXPECT_EQ(str(c, "organizationName"), "Client One Renamed");
    EXPECT_EQ(num(c, "seats"), 8);
    EXPECT_EQ(num(c, "occupiedSeats"), 1);
    EXPECT_EQ(num(c, "remainingSeats"), 7);
    EXPECT_EQ(num(c, "userCount"), 1);
  }

  // Members, a collection, a group, a policy and an item go in.
  const std::string orgs = "/organizations/" + org;
  const User m1 = person("member1"), m2 = person("member2");
  const json::value invitations =
      ok(post(orgs + "/users/invite", admin,
              json::object{{"emails", json::array{json::value(m1.email), json::value(m2.email)}}, {"type", 2}}),
         "invite members");
  ASSERT_EQ(invitations.at("data").as_array().size(), 2u);
  for (const auto& i : invitations.at("data").as_array()) EXPECT_EQ(str(i, "error"), "") << json::serialize(i);
  const json::value collection =
      ok(post(orgs + "/collections", admin, json::object{{"name", "2.AAAA|BBBB|CCCC"}}), "create collection");
  const std::string collection_id = str(collection, "id");
  const json::value group = ok(post(orgs + "/groups", admin, json::object{{"name", "Engineers"}}), "create group");
  EXPECT_EQ(str(group, "name"), "Engineers");
  ok(put(orgs + "/policies/1", admin,
         json::object{{"policy", json::object{{"enabled", true}, {"data", json::object{{"minLength", 12}}}}}}),
     "save policy");
  const HttpResponse item = post("/ciphers/create", boss,
                                 json::object{{"cipher", json::object{{"type", 1},
                                                                      {"organizationId", org},
                                                                      {"name", "2.AAAA|BBBB|CCCC"},
                                                                      {"login", json::object{{"username", "2.AAAA|BBBB|CCCC"}}}}},
                                              {"collectionIds", json::array{json::value(collection_id)}}});
  const json::value cipher = ok(item, "create item");
  EXPECT_EQ(str(cipher, "object"), "cipher");
  EXPECT_EQ(str(cipher, "organizationId"), org);

  const std::string after_item = "?minPosition=" + std::to_string(item.position());
  const json::value collections = ok(get(orgs + "/collections" + after_item, admin), "GET collections");
  EXPECT_NE(find_by(collections, "id", collection_id), nullptr) << json::serialize(collections);
  EXPECT_EQ(collections.at("data").as_array().size(), 2u) << "default + new: " << json::serialize(collections);
  const json::value groups = ok(get(orgs + "/groups" + after_item, admin), "GET groups");
  EXPECT_NE(find_by(groups, "id", str(group, "id")), nullptr) << json::serialize(groups);
  const json::value policies = ok(get(orgs + "/policies" + after_item, admin), "GET policies");
  ASSERT_EQ(policies.at("data").as_array().size(), 1u) << json::serialize(policies);
  EXPECT_EQ(num(policies.at("data").at(0), "type"), 1);
  EXPECT_TRUE(policies.at("data").at(0).at("enabled").as_bool());
  const json::value vault = ok(get("/ciphers" + after_item, boss), "GET /ciphers");
  EXPECT_NE(find_by(vault, "id", str(cipher, "id")), nullptr) << json::serialize(vault);

  // The organization's event log, newest first as Bitwarden lists it, in
  // Bitwarden's codes (`codes` is put back in the order things happened).
  const std::vector<json::object> events = all_events(orgs + "/events", admin, item.position());
  std::vector<std::int64_t> codes;
  for (const auto& e : events) {
    EXPECT_EQ(e.at("object").as_string(), "event");
    EXPECT_EQ(e.at("organizationId").as_string(), org) << json::serialize(e);
    EXPECT_FALSE(e.at("date").as_string().empty());
    if (e.at("type").to_number<std::int64_t>() != 0) codes.push_back(e.at("type").to_number<std::int64_t>());
  }
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_GE(events[i - 1].at("date").as_string(), events[i].at("date").as_string())
        << "events not newest first";
    EXPECT_GT(events[i - 1].at("position").to_number<std::int64_t>(), events[i].at("position").to_number<std::int64_t>())
        << "events not newest first";
  }
  std::reverse(codes.begin(), codes.end());
  std::string missing;
  EXPECT_TRUE(in_order(codes,
                       {1900,  // ProviderOrganizationCreated
                        1500,  // the owner invited
                        1300,  // the default collection
                        1501,  // the owner confirmed
                        1600,  // the service user renamed the client
                        1500, 1500,  // two members invited
                        1300,  // a collection
                        1400,  // a group
                        1700,  // a policy
                        1100},  // an item
                       &missing))
      << "missing " << missing << " in order; codes: " << codes_text(codes);
  // Who did what: the service user's update names them as the acting user.
  bool tech_acted = false;
  for (const auto& e : events)
    if (e.at("type").to_number<int>() == 1600 && e.at("actingUserId").is_string() &&
        e.at("actingUserId").as_string() == tech.id)
      tech_acted = true;
  EXPECT_TRUE(tech_acted) << "no 1600 event by the service user";

  // The provider's log rolls up what its users did in the client.
  const std::vector<json::object> provider_events = all_events(base + "/events", owner, item.position());
  std::vector<std::int64_t> provider_codes;
  for (const auto& e : provider_events)
    if (e.at("type").to_number<std::int64_t>() != 0) provider_codes.push_back(e.at("type").to_number<std::int64_t>());
  std::reverse(provider_codes.begin(), provider_codes.end());
  EXPECT_TRUE(in_order(provider_codes, {1800, 1800, 1801, 1801, 1900, 1600}, &missing))
      << "missing " << missing << "; codes: " << codes_text(provider_codes);
  // One provider user's events: what the service user did, not what the owner did.
  const std::vector<json::object> tech_events =
      all_events(base + "/users/" + tech_puid + "/events", owner, item.position());
  bool tech_update = false;
  for (const auto& e : tech_events) {
    const bool by_tech = e.at("actingUserId").is_string() && e.at("actingUserId").as_string() == tech.id;
    const bool about_tech = e.at("providerUserId").is_string() && e.at("providerUserId").as_string() == tech_puid;
    EXPECT_TRUE(by_tech || about_tech) << json::serialize(e);
    tech_update = tech_update || (by_tech && e.at("type").to_number<int>() == 1600);
  }
  EXPECT_TRUE(tech_update) << "the service user's client update is not in their events";

  // Finally the client leaves the provider.
  const HttpResponse removed = del(base + "/organizations/" + poid, admin);
  ok(removed, "RemoveClientOrg");
  const json::value remaining =
      ok(get(base + "/organizations?minPosition=" + std::to_string(removed.position()), admin), "GET clients");
  EXPECT_TRUE(remaining.at("data").as_array().empty()) << json::serialize(remaining);
  const std::vector<json::object> provider_after = all_events(base + "/events", owner, removed.position());
  bool removal_logged = false;
  for (const auto& e : provider_after) removal_logged = removal_logged || e.at("type").to_number<int>() == 1902;
  EXPECT_TRUE(removal_logged) << "no 1902 (ProviderOrganizationRemoved) in the provider's log";
  // The provider's users lose the client; its owner keeps it.
  expect_error(get(orgs + "/users", admin), 404);
  ok(get(orgs + "/users", boss), "the owner still reads the organization");

  // The admin opened the client's console (collections, groups, policies) within
  // ten minutes: recorded once as OpenClientOrg (1603 in the client's log).
  const std::vector<json::object> final_events = all_events(orgs + "/events", boss, removed.position());
  int admin_opened = 0;
  for (const auto& e : final_events)
    if (e.at("type").to_number<int>() == 1603 && e.at("actingUserId").is_string() &&
        e.at("actingUserId").as_string() == admin.id)
      ++admin_opened;
  EXPECT_EQ(admin_opened, 1) << "OpenClientOrg by the admin, expected once";
}

// A write's X-Portal-Position, given as ?minPosition= to the next read, shows the write.
TEST_F(StoryTest, ReadYourWritesWithMinPosition) {
  const Provider p = make_provider("ryw");
  for (int i = 0; i < 5; ++i) {
    const User u = person("ryw-invitee" + std::to_string(i));
    const HttpResponse invited = post("/providers/" + p.id + "/users/invite", p.owner,
                                      json::object{{"emails", json::array{json::value(u.email)}}, {"type", 1}});
    ok(invited, "invite");
    const std::uint64_t position = invited.position();
    ASSERT_GT(position, 0u) << "X-Portal-Position missing: " << invited.describe();
    const json::value users =
        ok(get("/providers/" + p.id + "/users?minPosition=" + std::to_string(position), p.owner), "GET users");
    EXPECT_NE(find_by(users, "email", u.email), nullptr) << "write at " << position << " not visible";
    EXPECT_EQ(users.at("data").as_array().size(), static_cast<std::size_t>(i + 2));
  }
  // Positions only grow.
  const HttpResponse a = put("/providers/" + p.id, p.owner,
                             json::object{{"name", "Renamed"}, {"billingEmail", "b@ryw.example"}});
  const HttpResponse b = put("/providers/" + p.id, p.owner,
                             json::object{{"name", "Renamed Again"}, {"billingEmail", "b@ryw.example"}});
  ok(a, "update provider");
  ok(b, "update provider");
  EXPECT_LT(a.position(), b.position());
  const Client c = make_client(p, p.owner, "ryw", false);
  const json::value clients =
      ok(get("/providers/" + p.id + "/organizations?minPosition=" + std::to_string(c.position), p.owner), "GET");
  EXPECT_NE(find_by(clients, "id", c.poid), nullptr) << json::serialize(clients);
  // A position that is not a number is refused.
  expect_validation(get("/providers/" + p.id + "/users?minPosition=soon", p.owner), "minPosition");
}

// An Idempotency-Key makes a command exactly-once: the retry answers the same
// result and adds nothing.
TEST_F(StoryTest, IdempotencyKeyMakesARetryHarmless) {
  const Provider p = make_provider("idem");
  const User u = person("idem-invitee");
  const std::string key = random_uuid();
  const json::value body = json::object{{"emails", json::array{json::value(u.email)}}, {"type", 1}};
  const HttpResponse first = call("POST", "/providers/" + p.id + "/users/invite", p.owner, body,
                                  {{"Idempotency-Key", key}});
  const HttpResponse second = call("POST", "/providers/" + p.id + "/users/invite", p.owner, body,
                                   {{"Idempotency-Key", key}});
  const json::value a = ok(first, "first"), b = ok(second, "retry");
  EXPECT_EQ(str(a.at("data").at(0), "id"), str(b.at("data").at(0), "id"));
  EXPECT_EQ(first.position(), second.position());
  const json::value users =
      ok(get("/providers/" + p.id + "/users?minPosition=" + std::to_string(second.position()), p.owner), "GET");
  EXPECT_EQ(users.at("data").as_array().size(), 2u) << json::serialize(users);
}

}  // namespace
}  // namespace portal::e2e
