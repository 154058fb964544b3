// The routes' JSON on the wire, in process (a real Engine and Router, no socket):
// dates are ISO 8601 UTC with microseconds at calendar edges (leap days, century
// years, the last microsecond of a day), and strings with quotes, backslashes and
// control characters come back as they were sent.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "portal/api/engine.h"
#include "portal/api/http.h"
#include "portal/api/routes.h"
#include "temp_dir.h"

namespace portal {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// 2000-01-01T00:00:00Z in microseconds since the epoch.
constexpr std::int64_t kY2k = 946'684'800'000'000;
constexpr std::int64_t kDay = 86'400'000'000;

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty()) << "could not create a temporary directory";
    EngineOptions o;
    o.durability = eventstore::Durability::kBuffered;
    o.clock = [this] { return now_.load(); };
    auto opened = Engine::open((fs::path(dir_) / "data").string(), o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    engine_ = std::move(opened.value());
    api::add_routes(router_, *engine_, api::RoutesOptions{});
  }
  void TearDown() override {
    engine_.reset();  // before temp_dir_ removes its directory
  }

  // As the named user ("staff" is staff); registered on their first request.
  http::Response call(const std::string& who, const std::string& method, const std::string& path,
                      const std::string& body = {}, std::map<std::string, std::string> query = {}) {
    http::Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.query = std::move(query);
    r.headers = {{"authorization", "Bearer " + who}};
    http::Authenticator auth = [](std::string_view token, std::string*) {
      http::AuthContext ctx;
      ctx.user = *domain::Uuid::parse(token == "staff" ? "00000000-0000-4000-8000-000000000001"
                                                       : "00000000-0000-4000-8000-000000000002");
      ctx.staff = token == "staff";
      ctx.email = std::string(token) + "@wire.example";
      ctx.name = std::string(token);
      return std::optional<http::AuthContext>(ctx);
    };
    std::string route, failure;
    return router_.dispatch(r, auth, &route, &failure);
  }

  static json::object object(const http::Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).as_object();
  }

  // An invited and set-up provider, owned by "owner"; its id.
  std::string provider(const std::string& name) {
    // The owner registers on their first request (any route); the invitation needs that.
    call("owner", "GET", "/providers/00000000-0000-4000-8000-0000000000ff");
    auto invited = object(call("staff", "POST", "/admin/providers", R"({"type":0,"ownerEmail":"owner@wire.example"})"));
    const std::string id(invited.at("id").as_string());
    json::object setup{{"token", invited.at("token")},
                       {"name", name},
                       {"businessName", "B"},
                       {"billingEmail", "billing@wire.example"},
                       {"key", "2.AAAA|BBBB|CCCC"}};
    object(call("owner", "POST", "/providers/" + id + "/setup", json::serialize(setup)));
    return id;
  }

  test::TempDir temp_dir_{"wire-test"};
  const std::string& dir_ = temp_dir_.path();
  std::atomic<std::int64_t> now_{kY2k};
  std::unique_ptr<Engine> engine_;
  http::Router router_;
};

TEST_F(WireTest, DatesAreIsoUtcWithMicrosecondsAtCalendarEdges) {
  struct Case {
    std::int64_t at;
    const char* text;
    const char* next_day;  // the end of the event query (exclusive)
  };
  const Case cases[] = {
      {kY2k + 1, "2000-01-01T00:00:00.000001Z", "2000-01-02"},
      {kY2k + 59 * kDay + 1'000'000, "2000-02-29T00:00:01.000000Z", "2000-03-01"},  // 2000 is a leap year
      {kY2k + 366 * kDay - 1, "2000-12-31T23:59:59.999999Z", "2001-01-01"},
      {1'709'251'199'999'999, "2024-02-29T23:59:59.999999Z", "2024-03-01"},
      {1'795'395'723'456'789, "2026-11-23T01:02:03.456789Z", "2026-11-24"},
      {4'107'542'400'000'000, "2100-03-01T00:00:00.000000Z", "2100-03-02"},  // 2100 is not a leap year
  };
  for (const Case& c : cases) {
    now_ = c.at;
    const std::string id = provider("At " + std::string(c.text));
    const auto got = object(call("owner", "GET", "/providers/" + id));
    EXPECT_EQ(got.at("creationDate").as_string(), c.text);
    ASSERT_TRUE(engine_->wait_for_projections(engine_->store().last_position(), std::chrono::seconds(10)).ok());
    const auto page = object(call("owner", "GET", "/providers/" + id + "/events", {},
                                  {{"start", std::string(c.text).substr(0, 10)}, {"end", c.next_day}}));
    const auto& events = page.at("data").as_array();
    ASSERT_FALSE(events.empty()) << c.text;
    for (const auto& e : events) EXPECT_EQ(e.at("date").as_string(), c.text);
  }
}

TEST_F(WireTest, StringsWithQuotesBackslashesAndControlCharactersRoundTrip) {
  const std::string name = "Quote \" back\\slash \t tab \x01 control / slash \xC3\xA9";
  const std::string id = provider("Plain");
  json::object update{{"name", name}, {"businessName", "B"}, {"billingEmail", "billing@wire.example"}};
  object(call("owner", "PUT", "/providers/" + id, json::serialize(update)));
  EXPECT_EQ(object(call("owner", "GET", "/providers/" + id)).at("name").as_string(), name);

  // A client organization's name, through the client list written as text.
  json::object client{{"name", name},
                      {"ownerEmail", "client-owner@wire.example"},
                      {"planType", 17},
                      {"seats", 1},
                      {"collectionName", "Default"}};
  object(call("owner", "POST", "/providers/" + id + "/clients", json::serialize(client)));
  ASSERT_TRUE(engine_->wait_for_projections(engine_->store().last_position(), std::chrono::seconds(10)).ok());
  const auto list = object(call("owner", "GET", "/providers/" + id + "/organizations"));
  ASSERT_EQ(list.at("data").as_array().size(), 1u);
  EXPECT_EQ(list.at("data").as_array()[0].at("organizationName").as_string(), name);
  EXPECT_TRUE(list.at("continuationToken").is_null());
}

// Views are answered from a response cache while the read models are unchanged: a
// write must show in the next read that asks for its position, never a stale copy.
TEST_F(WireTest, CachedViewsShowEveryWriteReadAfterIt) {
  now_ = 1'795'395'723'000'000;
  const std::string id = provider("Cached");
  auto position_of = [](const http::Response& r) {
    for (const auto& [name, value] : r.headers)
      if (name == "X-Portal-Position") return value;
    ADD_FAILURE() << "no X-Portal-Position";
    return std::string("0");
  };
  const std::map<std::string, std::string> window{{"start", "2026-11-01"}, {"end", "2026-12-01"}};
  std::size_t events_before = 0;
  for (int i = 0; i < 3; ++i) {
    // The read models first catch up with every write so far (the provider's setup
    // included): a read without minPosition may otherwise see them still moving.
    ASSERT_TRUE(
        engine_->wait_for_projections(engine_->store().last_position(), std::chrono::seconds(10)).ok());
    // Twice each, so the second read comes from the cache.
    EXPECT_EQ(object(call("owner", "GET", "/providers/" + id + "/organizations")).at("data").as_array().size(),
              static_cast<std::size_t>(i));
    EXPECT_EQ(object(call("owner", "GET", "/providers/" + id + "/organizations")).at("data").as_array().size(),
              static_cast<std::size_t>(i));
    const auto page = object(call("owner", "GET", "/providers/" + id + "/events", {}, window));
    EXPECT_EQ(object(call("owner", "GET", "/providers/" + id + "/events", {}, window)), page);
    const std::size_t events = page.at("data").as_array().size();
    if (i > 0) {
      EXPECT_GT(events, events_before);
    }
    events_before = events;

    json::object client{{"name", "Client " + std::to_string(i)},
                        {"ownerEmail", "client" + std::to_string(i) + "@wire.example"},
                        {"planType", 17},
                        {"seats", 1},
                        {"collectionName", "Default"}};
    const http::Response added = call("owner", "POST", "/providers/" + id + "/clients", json::serialize(client));
    ASSERT_EQ(added.status, 200) << added.body;
    const std::map<std::string, std::string> after{{"minPosition", position_of(added)}};
    EXPECT_EQ(object(call("owner", "GET", "/providers/" + id + "/organizations", {}, after))
                  .at("data")
                  .as_array()
                  .size(),
              static_cast<std::size_t>(i + 1));
    auto with_window = after;
    with_window.insert(window.begin(), window.end());
    EXPECT_GT(object(call("owner", "GET", "/providers/" + id + "/events", {}, with_window)).at("data").as_array().size(),
              events);
  }
}

}  // namespace
}  // namespace portal
