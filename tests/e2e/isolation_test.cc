// Isolation: a provider admin of provider A gets 404 (never 403) on every route
// of provider B and of B's clients; a client member gets 404 on provider routes
// and on other clients.
#include "e2e.h"

namespace portal::e2e {
namespace {

class IsolationTest : public PortaldTest {
 protected:
  struct Probe {
    std::string method, target;
    std::optional<json::value> body;
  };

  // Every provider route of provider p, with the ids of its user puid and client c.
  static std::vector<Probe> provider_routes(const Provider& p, const std::string& puid, const Client& c) {
    const std::string b = "/providers/" + p.id;
    const json::value invite = json::object{{"emails", json::array{json::value("intruder@x.example")}}, {"type", 0}};
    return {
        {"GET", b, std::nullopt},
        {"PUT", b, json::object{{"name", "Taken"}, {"billingEmail", "taken@x.example"}}},
        {"DELETE", b, std::nullopt},
        {"POST", b + "/setup",
         json::object{{"token", "t"}, {"name", "n"}, {"billingEmail", "b@x.example"}, {"key", kKey}}},
        {"GET", b + "/users", std::nullopt},
        {"POST", b + "/users/invite", invite},
        {"POST", b + "/users/confirm",
         json::object{{"keys", json::array{json::object{{"id", puid}, {"key", kKey}}}}}},
        {"POST", b + "/users/" + puid + "/reinvite", std::nullopt},
        {"POST", b + "/users/" + puid + "/confirm", json::object{{"key", kKey}}},
        {"PUT", b + "/users/" + puid, json::object{{"type", 1}}},
        {"DELETE", b + "/users/" + puid, std::nullopt},
        {"GET", b + "/users/" + puid + "/events", std::nullopt},
        {"GET", b + "/organizations", std::nullopt},
        {"POST", b + "/clients",
         json::object{{"name", "Mine"}, {"ownerEmail", "o@x.example"}, {"planType", 17}, {"seats", 1},
                      {"collectionName", "D"}}},
        {"POST", b + "/clients/existing", json::object{{"organizationId", c.org}}},
        {"GET", b + "/clients/addable", std::nullopt},
        {"PUT", b + "/clients/" + c.poid, json::object{{"assignedSeats", 1}, {"name", "Mine"}}},
        {"PUT", b + "/clients/x", json::object{{"assignedSeats", 1}, {"name", "Mine"}}},
        {"DELETE", b + "/organizations/" + c.poid, std::nullopt},
        {"GET", b + "/events", std::nullopt},
        {"GET", "/audit/providers/" + p.id + "/activity", std::nullopt},
    };
  }

  // Every organization route of client organization org.
  static std::vector<Probe> organization_routes(const Client& c) {
    const std::string o = "/organizations/" + c.org;
    const std::string someone = random_uuid();
    return {
        {"GET", o, std::nullopt},
        {"GET", o + "/events", std::nullopt},
        {"GET", o + "/users", std::nullopt},
        {"POST", o + "/users/invite",
         json::object{{"emails", json::array{json::value("intruder@x.example")}}, {"type", 0}}},
        {"POST", o + "/users/" + c.owner_ouid + "/confirm", json::object{{"key", kKey}}},
        {"PUT", o + "/users/" + c.owner_ouid, json::object{{"type", 2}}},
        {"DELETE", o + "/users/" + c.owner_ouid, std::nullopt},
        {"PUT", o + "/users/" + c.owner_ouid + "/revoke", std::nullopt},
        {"GET", o + "/groups", std::nullopt},
        {"POST", o + "/groups", json::object{{"name", "Intruders"}}},
        {"GET", o + "/collections", std::nullopt},
        {"POST", o + "/collections", json::object{{"name", "2.AAAA|BBBB|CCCC"}}},
        {"GET", o + "/policies", std::nullopt},
        {"PUT", o + "/policies/1", json::object{{"policy", json::object{{"enabled", true}}}}},
        {"GET", "/audit/organizations/" + c.org + "/administrators", std::nullopt},
        {"POST", "/ciphers/create",
         json::object{{"cipher", json::object{{"type", 1}, {"organizationId", c.org}, {"name", "2.AAAA|BBBB|CCCC"}}},
                      {"collectionIds", json::array{json::value(someone)}}}},
    };
  }

  void expect_all_404(const std::vector<Probe>& probes, const User& as, const std::string& who) {
    for (const Probe& p : probes) {
      const HttpResponse r = call(p.method, p.target, as, p.body);
      EXPECT_EQ(r.status, 404) << who << ": " << p.method << " " << p.target << " -> " << r.describe();
      if (r.status == 404) expect_error(r, 404, "Resource not found.");
    }
  }
};

TEST_F(IsolationTest, ProviderAdminOfASeesNothingOfBOrItsClients) {
  const Provider a = make_provider("isoA");
  const Provider b = make_provider("isoB");
  const User b_tech = person("isoB-tech");
  const std::string b_tech_puid = add_provider_user(b, b.owner, b_tech, 1);
  const Client a_client = make_client(a, a.owner, "isoA", true);
  const Client b_client = make_client(b, b.owner, "isoB", true);
  const Client b_client2 = make_client(b, b.owner, "isoB2", false);

  // A's admin reaches A ...
  ok(get("/providers/" + a.id + "/organizations", a.owner), "A's admin lists A's clients");
  ok(get("/organizations/" + a_client.org + "/users", a.owner), "A's admin reads A's client");

  // ... and nothing of B.
  expect_all_404(provider_routes(b, b_tech_puid, b_client), a.owner, "A's admin on B");
  expect_all_404(provider_routes(b, b.owner_puid, b_client2), a.owner, "A's admin on B");
  expect_all_404(organization_routes(b_client), a.owner, "A's admin on B's client");
  expect_all_404(organization_routes(b_client2), a.owner, "A's admin on B's pending client");
  // B's link ids through A's own routes.
  expect_error(put("/providers/" + a.id + "/clients/" + b_client.poid, a.owner,
                   json::object{{"assignedSeats", 1}, {"name", "Mine"}}),
               404);
  expect_error(del("/providers/" + a.id + "/organizations/" + b_client.poid, a.owner), 404);
  // B's own admin still sees all of it unchanged (once the read models hold B's
  // last write: the lists are read models).
  const std::string after = "?minPosition=" + std::to_string(std::max(b_client.position, b_client2.position));
  const json::value users = ok(get("/providers/" + b.id + "/users" + after, b.owner), "B's users");
  EXPECT_EQ(users.at("data").as_array().size(), 2u) << json::serialize(users);
  const json::value clients =
      ok(get("/providers/" + b.id + "/organizations" + after, b.owner), "B's clients");
  EXPECT_EQ(clients.at("data").as_array().size(), 2u) << json::serialize(clients);
  const json::value provider = ok(get("/providers/" + b.id, b.owner), "B");
  EXPECT_EQ(str(provider, "name"), "isoB IT");
}

TEST_F(IsolationTest, ServiceUserOfASeesNothingOfB) {
  const Provider a = make_provider("isoSA");
  const Provider b = make_provider("isoSB");
  const User a_tech = person("isoSA-tech");
  add_provider_user(a, a.owner, a_tech, 1);
  const Client b_client = make_client(b, b.owner, "isoSB", true);
  expect_all_404(provider_routes(b, b.owner_puid, b_client), a_tech, "A's service user on B");
  expect_all_404(organization_routes(b_client), a_tech, "A's service user on B's client");
}

TEST_F(IsolationTest, ClientMemberSeesNoProviderRoutesAndNoOtherClient) {
  const Provider p = make_provider("isoM");
  const Provider other = make_provider("isoMO");
  const Client mine = make_client(p, p.owner, "isoM-mine", true);
  const Client sibling = make_client(p, p.owner, "isoM-sibling", true);
  const Client foreign = make_client(other, other.owner, "isoM-foreign", true);

  // The member's own organization answers.
  ok(get("/organizations/" + mine.org + "/users", mine.owner), "own organization");
  ok(get("/organizations/" + mine.org + "/events", mine.owner), "own organization's events");

  // Its provider's routes do not exist for them.
  expect_all_404(provider_routes(p, p.owner_puid, mine), mine.owner, "client owner on its provider");
  // Nor do other clients, of the same provider or another.
  expect_all_404(organization_routes(sibling), mine.owner, "client owner on a sibling client");
  expect_all_404(organization_routes(foreign), mine.owner, "client owner on another provider's client");
  expect_all_404(provider_routes(other, other.owner_puid, foreign), mine.owner, "client owner on another provider");
}

}  // namespace
}  // namespace portal::e2e
