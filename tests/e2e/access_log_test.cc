// The access log: portald writes one JSON line per request to stderr (here the
// fixture's portald.log). Lines are written in blocks, so a test reads the file
// until its lines appear: they must, within seconds, even when the server then
// sits idle, and none of a burst may be missing.
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "e2e.h"

namespace portal::e2e {
namespace {

std::string text(const json::object& line, const char* key) {
  const json::value* v = line.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string())
                                        : "(no string " + std::string(key) + ")";
}

class AccessLogTest : public PortaldTest {
 protected:
  // The log's request lines whose path contains `marker`, parsed, once `count` of
  // them are there (or what there is after `patience`).
  std::vector<json::object> request_lines(const std::string& marker, std::size_t count,
                                          std::chrono::seconds patience = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    std::vector<json::object> found;
    while (true) {
      found.clear();
      // Complete lines only: the log may be caught in the middle of a block's write.
      std::string tail = server()->log_tail(64 << 20);
      tail.erase(tail.rfind('\n') == std::string::npos ? 0 : tail.rfind('\n') + 1);
      std::istringstream log(tail);
      for (std::string line; std::getline(log, line);) {
        if (line.find(marker) == std::string::npos) continue;
        boost::system::error_code ec;
        json::value v = json::parse(line, ec);
        EXPECT_FALSE(ec) << "not a JSON line: " << line;
        if (!ec && v.is_object()) found.push_back(v.as_object());
      }
      if (found.size() >= count || std::chrono::steady_clock::now() > deadline) return found;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
};

TEST_F(AccessLogTest, ARequestIsOneJsonLineWrittenSoonEvenWhenTheServerThenIdles) {
  const User u = person("log");
  enroll(u);
  const std::string missing = random_uuid();
  const HttpResponse r = get("/providers/" + missing + "/organizations", u);
  ASSERT_EQ(r.status, 404) << r.describe();

  const auto lines = request_lines(missing, 1);
  ASSERT_EQ(lines.size(), 1u) << "no access line for the request within 15 s; log:\n" << server()->log_tail();
  const json::object& line = lines.front();
  EXPECT_EQ(text(line, "level"), "info");
  EXPECT_EQ(text(line, "msg"), "request");
  EXPECT_EQ(text(line, "method"), "GET");
  EXPECT_EQ(text(line, "path"), "/providers/" + missing + "/organizations");
  EXPECT_EQ(text(line, "route"), "GET /providers/{id}/organizations");
  EXPECT_EQ(line.at("status").as_int64(), 404);
  EXPECT_EQ(text(line, "user"), u.id);
  EXPECT_TRUE(line.at("duration_ms").is_number());
  EXPECT_FALSE(line.at("time").as_string().empty());
}

TEST_F(AccessLogTest, EveryRequestOfABurstIsLoggedOnce) {
  const User u = person("burst");
  enroll(u);
  const std::string marker = random_uuid();
  constexpr std::size_t kRequests = 300;
  for (std::size_t i = 0; i < kRequests; ++i) {
    const HttpResponse r = get("/providers/" + marker + "/organizations?n=" + std::to_string(i), u);
    ASSERT_EQ(r.status, 404) << r.describe();
  }
  const auto lines = request_lines(marker, kRequests);
  ASSERT_EQ(lines.size(), kRequests) << "lines of the burst missing or doubled";
  std::set<std::string> paths;
  for (const auto& line : lines) paths.insert(std::string(line.at("path").as_string()));
  EXPECT_EQ(paths.size(), kRequests) << "each request's line once";
}

}  // namespace
}  // namespace portal::e2e
