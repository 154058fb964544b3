// 409 Conflict through the real server: a command whose streams other commands
// changed while it was decided is tried again, at most --command-attempts times,
// and then answered 409 with the error envelope. Here portald tries once, and
// concurrent invitations into a provider nobody has written to yet (its stream is
// not queued behind a lane) race on its version: some lose. Whatever is answered
// 200 is there afterwards, and whatever is answered 409 is not.
#include <mutex>
#include <set>
#include <thread>

#include "e2e.h"

namespace portal::e2e {
namespace {

class ConflictTest : public PortaldTest {
 protected:
  static void SetUpTestSuite() { start_server(std::nullopt, {"--command-attempts", "1"}); }
};

TEST_F(ConflictTest, ACommandThatKeepsLosingARaceIs409AndChangesNothing) {
  constexpr int kCallers = 32;
  constexpr int kRounds = 20;
  bool saw_conflict = false;
  for (int round = 0; round < kRounds && !saw_conflict; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Provider p = make_provider("race" + std::to_string(round) + "-" + random_hex(2));
    std::mutex mu;
    std::set<std::string> invited, refused;
    std::uint64_t last_position = p.position;
    std::vector<std::thread> callers;
    for (int c = 0; c < kCallers; ++c) {
      callers.emplace_back([&, c] {
        const std::string email = "r" + std::to_string(c) + "-" + random_hex(3) + "@race.example";
        const HttpResponse r = http_request(
            server()->port(), "POST", "/providers/" + p.id + "/users/invite", token(p.owner),
            json::serialize(json::object{{"emails", json::array{json::value(email)}}, {"type", 1}}));
        std::lock_guard lock(mu);
        if (r.status == 200) {
          invited.insert(email);
          last_position = std::max(last_position, r.position());
        } else {
          refused.insert(email);
          expect_error(r, 409, "Concurrent changes kept conflicting; try again.");
        }
      });
    }
    for (auto& t : callers) t.join();
    ASSERT_FALSE(invited.empty()) << "every invitation lost: the race has no winner";
    saw_conflict = !refused.empty();

    const json::value users =
        ok(get("/providers/" + p.id + "/users?minPosition=" + std::to_string(last_position), p.owner),
           "GET users");
    std::set<std::string> listed;
    for (const auto& u : users.at("data").as_array()) listed.insert(str(u, "email"));
    for (const auto& email : invited)
      EXPECT_TRUE(listed.count(email)) << email << " was answered 200 but is missing";
    for (const auto& email : refused)
      EXPECT_FALSE(listed.count(email)) << email << " was answered 409 but is there";
    EXPECT_EQ(listed.size(), invited.size() + 1) << "the owner and the invited, nobody else";
  }
  EXPECT_TRUE(saw_conflict) << "no invitation lost a race in " << kRounds << " rounds of " << kCallers;
}

}  // namespace
}  // namespace portal::e2e
