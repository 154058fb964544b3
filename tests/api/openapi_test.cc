// GET /openapi.json (issue 6): the document of the real routes on a real Engine is
// valid OpenAPI 3.1 by an independent validator from npm
// (@seriousme/openapi-schema-validator, installed by scripts/setup.sh), lists every
// route of the router, and a deliberately broken copy is reported invalid, so the
// check can fail.
#include "portal/api/openapi.h"

#include <gtest/gtest.h>
#include <sys/wait.h>  // WEXITSTATUS

#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
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

struct CommandRun {
  int exit_code = -1;
  std::string output;
};

CommandRun run(const std::string& command) {
  CommandRun r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty()) << "could not create a temporary directory";
    EngineOptions o;
    o.durability = eventstore::Durability::kBuffered;
    auto opened = Engine::open((fs::path(dir_) / "data").string(), o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    engine_ = std::move(opened.value());
    // As portald registers them: the built-in routes, the API, then /openapi.json.
    auto text = [](const http::Request&) {
      http::Response r;
      r.body = "{}";
      return r;
    };
    router_.add("GET", "/healthz", text, http::Auth::kNone);
    router_.add("GET", "/metrics", text, http::Auth::kNone);
    api::add_routes(router_, *engine_, api::RoutesOptions{});
    api::add_openapi_route(router_);
  }
  void TearDown() override {
    engine_.reset();  // before temp_dir_ removes its directory
  }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (fs::path(dir_) / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The validator's CLI: exit 0 and {"valid": true} for a valid document.
  CommandRun validate(const std::string& path) {
    return run("'" NODE_PATH "' '" OPENAPI_VALIDATOR "' '" + path + "'");
  }

  test::TempDir temp_dir_{"openapi-test"};
  const std::string& dir_ = temp_dir_.path();
  std::unique_ptr<Engine> engine_;
  http::Router router_;
};

TEST_F(OpenApiTest, ServedDocumentIsTheGeneratedOneAndListsEveryRoute) {
  http::Request req;
  req.method = "GET";
  req.path = "/openapi.json";
  std::string route_name;
  const http::Response r = router_.dispatch(
      req, [](std::string_view, std::string*) { return std::optional<http::AuthContext>(); }, &route_name);
  ASSERT_EQ(r.status, 200) << r.body;  // no token needed
  EXPECT_EQ(r.body, api::openapi_document(router_));

  const json::object doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  EXPECT_EQ(doc.at("info").at("title"), "Provider Portal API");
  EXPECT_TRUE(doc.at("components").at("securitySchemes").as_object().contains("bearerAuth"));
  for (const char* schema :
       {"error", "list", "provider", "providerUserUserDetails", "providerOrganizationOrganizationDetail",
        "organizationUserUserDetails", "collection", "group", "policy", "cipher", "event"}) {
    EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains(schema)) << schema;
  }

  const json::object& paths = doc.at("paths").as_object();
  ASSERT_GT(router_.routes().size(), 60u);
  std::size_t operations = 0;
  for (const auto& route : router_.routes()) {
    SCOPED_TRACE(route.name);
    ASSERT_TRUE(paths.contains(route.pattern));
    const json::object& item = paths.at(route.pattern).as_object();
    ASSERT_TRUE(item.contains(lower(route.method)));
    const json::object& op = item.at(lower(route.method)).as_object();
    ++operations;
    EXPECT_EQ(op.contains("security"), route.auth == http::Auth::kRequired);
    EXPECT_TRUE(op.at("responses").as_object().contains("200"));
    if (route.auth == http::Auth::kRequired) {
      for (const char* status : {"400", "401", "403", "404"}) {
        EXPECT_EQ(op.at("responses").at(status).at("content").at("application/json").at("schema").at("$ref"),
                  "#/components/schemas/error");
      }
    }
    // Every "{name}" segment is a required path parameter.
    std::size_t captures = 0, path_parameters = 0;
    for (const auto& s : route.segments) captures += !s.empty() && s.front() == '{';
    if (const json::value* ps = op.if_contains("parameters")) {
      for (const auto& p : ps->as_array()) {
        if (p.at("in") != "path") continue;
        ++path_parameters;
        EXPECT_EQ(p.at("required"), true);
        EXPECT_NE(route.pattern.find("{" + std::string(p.at("name").as_string()) + "}"), std::string::npos);
      }
    }
    EXPECT_EQ(path_parameters, captures);
    if (route.method == "POST" || route.method == "PUT") {
      EXPECT_TRUE(op.at("responses").as_object().contains("413"));
    }
  }
  std::size_t documented = 0;
  for (const auto& kv : paths) documented += kv.value().as_object().size();
  EXPECT_EQ(documented, operations);  // nothing documented that the router lacks

  // Spot checks against routes.cc.
  const json::object& setup = paths.at("/providers/{id}/setup").at("post").as_object();
  const json::array& required =
      setup.at("requestBody").at("content").at("application/json").at("schema").at("required").as_array();
  EXPECT_EQ(required.size(), 4u);  // token, name, billingEmail, key
  const json::array& policy_params =
      paths.at("/organizations/{id}/policies/{type}").at("put").at("parameters").as_array();
  for (const auto& p : policy_params) {
    if (p.at("name") == "type") {
      EXPECT_EQ(p.at("schema").at("type"), "integer");
    } else {
      EXPECT_EQ(p.at("schema").at("format"), "uuid");
    }
  }
  bool continuation = false;
  for (const auto& p : paths.at("/organizations/{id}/events").at("get").at("parameters").as_array())
    continuation = continuation || p.at("name") == "continuationToken";
  EXPECT_TRUE(continuation);
}

TEST_F(OpenApiTest, ValidOpenApi31ByTheNpmValidatorAndABrokenCopyIsNot) {
  ASSERT_TRUE(fs::exists(OPENAPI_VALIDATOR))
      << OPENAPI_VALIDATOR << " is missing: run scripts/setup.sh (it installs "
      << "@seriousme/openapi-schema-validator with npm)";
  const std::string text = api::openapi_document(router_);
  const CommandRun good = validate(write("openapi.json", text));
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("\"valid\": true"), std::string::npos) << good.output;

  json::object broken = json::parse(text).as_object();
  broken.erase("openapi");
  const CommandRun bad = validate(write("broken.json", json::serialize(broken)));
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("\"valid\": false"), std::string::npos) << bad.output;

  // A path parameter that is not required is invalid OpenAPI too.
  json::object broken_param = json::parse(text).as_object();
  broken_param.at("paths")
      .at("/providers/{id}")
      .at("get")
      .at("parameters")
      .as_array()[0]
      .as_object()["required"] = false;
  const CommandRun bad_param = validate(write("broken-param.json", json::serialize(broken_param)));
  EXPECT_NE(bad_param.exit_code, 0) << bad_param.output;
}

}  // namespace
}  // namespace portal
