// Event paging with continuation tokens: every event exactly once, pages of at
// most 50, the last page's continuationToken null; bad tokens and ranges are 400.
#include <limits>
#include <set>

#include "e2e.h"

namespace portal::e2e {
namespace {

class PagingTest : public PortaldTest {};

TEST_F(PagingTest, ContinuationTokensReturnEveryEventExactlyOnce) {
  const Provider p = make_provider("paging");
  const Client c = make_client(p, p.owner, "paging", true, 500);
  const std::string orgs = "/organizations/" + c.org;

  // 100 member invitations in batches of 20, and 30 collections: over 120 events.
  std::uint64_t last = 0;
  std::set<std::string> invited_ids;
  for (int batch = 0; batch < 5; ++batch) {
    json::array emails;
    for (int i = 0; i < 20; ++i) emails.push_back(json::value(person("paged" + std::to_string(batch * 20 + i)).email));
    const HttpResponse r = post(orgs + "/users/invite", p.owner, json::object{{"emails", emails}, {"type", 2}});
    const json::value v = ok(r, "invite batch");
    for (const auto& i : v.at("data").as_array()) {
      EXPECT_EQ(str(i, "error"), "") << json::serialize(i);
      invited_ids.insert(str(i, "id"));
    }
    last = r.position();
  }
  std::set<std::string> collection_ids;
  for (int i = 0; i < 30; ++i) {
    const HttpResponse r = post(orgs + "/collections", p.owner, json::object{{"name", "2.AAAA|BBBB|CCCC"}});
    collection_ids.insert(str(ok(r, "collection"), "id"));
    last = r.position();
  }
  ASSERT_EQ(invited_ids.size(), 100u);

  std::vector<std::size_t> sizes;
  const std::vector<json::object> events = all_events(orgs + "/events", p.owner, last, &sizes);
  // Setup events (1900, 1500, 1300, accept, 1501) plus the 130 above.
  ASSERT_GE(events.size(), 135u);
  ASSERT_GE(sizes.size(), 3u);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_LE(sizes[i], 50u) << "page " << i;
    if (i + 1 < sizes.size()) {
      EXPECT_EQ(sizes[i], 50u) << "a page before the last is not full: page " << i;
    }
  }
  // Exactly once, newest first: positions are unique and decreasing.
  std::set<std::int64_t> positions;
  std::int64_t previous = std::numeric_limits<std::int64_t>::max();
  std::size_t invitations = 0, collections = 0;
  std::set<std::string> seen_members, seen_collections;
  for (const auto& e : events) {
    const std::int64_t pos = e.at("position").to_number<std::int64_t>();
    EXPECT_TRUE(positions.insert(pos).second) << "event at position " << pos << " returned twice";
    EXPECT_LT(pos, previous) << "events not newest first";
    previous = pos;
    const int type = e.at("type").to_number<int>();
    if (type == 1500 && e.at("organizationUserId").is_string()) {
      const std::string id(e.at("organizationUserId").as_string());
      if (invited_ids.count(id)) {
        ++invitations;
        EXPECT_TRUE(seen_members.insert(id).second) << "invitation of " << id << " twice";
      }
    }
    if (type == 1300 && e.at("collectionId").is_string()) {
      const std::string id(e.at("collectionId").as_string());
      if (collection_ids.count(id)) {
        ++collections;
        EXPECT_TRUE(seen_collections.insert(id).second);
      }
    }
  }
  EXPECT_EQ(invitations, 100u);
  EXPECT_EQ(collections, 30u);

  // The first page alone says there is more, and starts with the newest event.
  const json::value first = ok(get(orgs + "/events", p.owner), "first page");
  EXPECT_EQ(first.at("data").as_array().size(), 50u);
  EXPECT_EQ(first.at("data").at(0).at("position").to_number<std::uint64_t>(), last)
      << "the first page does not start with the newest event";
  EXPECT_TRUE(first.at("continuationToken").is_string());
  EXPECT_EQ(str(first, "object"), "list");

  // A bad continuation token is 400, naming the parameter.
  for (const std::string& bad : {std::string("garbage"), std::string("AAAA"), std::string("%00%01")}) {
    const HttpResponse r = get(orgs + "/events?continuationToken=" + bad, p.owner);
    expect_error(r, 400);
    expect_validation(r, "continuationToken");
  }
  // A time range over 367 days is refused; a narrow window in the past is empty.
  expect_error(get(orgs + "/events?start=2024-01-01T00:00:00Z&end=2025-06-01T00:00:00Z", p.owner), 400,
               "Range too large.");
  const json::value old = ok(get(orgs + "/events?start=2020-01-01T00:00:00Z&end=2020-02-01T00:00:00Z", p.owner),
                             "an empty window");
  EXPECT_TRUE(old.at("data").as_array().empty());
  EXPECT_TRUE(old.at("continuationToken").is_null());
  expect_validation(get(orgs + "/events?start=yesterday", p.owner), "start");
}

TEST_F(PagingTest, ProviderEventsPageTheSameWay) {
  const Provider p = make_provider("ppaging");
  std::uint64_t last = 0;
  for (int batch = 0; batch < 4; ++batch) {
    json::array emails;
    for (int i = 0; i < 20; ++i) emails.push_back(json::value(person("pp" + std::to_string(batch * 20 + i)).email));
    const HttpResponse r =
        post("/providers/" + p.id + "/users/invite", p.owner, json::object{{"emails", emails}, {"type", 1}});
    ok(r, "invite batch");
    last = r.position();
  }
  std::vector<std::size_t> sizes;
  const auto events = all_events("/providers/" + p.id + "/events", p.owner, last, &sizes);
  std::size_t invites = 0;
  std::set<std::int64_t> positions;
  for (const auto& e : events) {
    EXPECT_TRUE(positions.insert(e.at("position").to_number<std::int64_t>()).second);
    if (e.at("type").to_number<int>() == 1800) ++invites;
  }
  EXPECT_EQ(invites, 80u);
  ASSERT_GE(sizes.size(), 2u);
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_EQ(sizes[i], 50u);
  EXPECT_LE(sizes.back(), 50u);
}

}  // namespace
}  // namespace portal::e2e
