// Bearer tokens: only a current HS256 token signed with the server's secret, for
// the right issuer and audience, is accepted; everything else is 401
// "Unauthorized." with the error envelope, on every route.
#include <ctime>

#include "e2e.h"

namespace portal::e2e {
namespace {

class TokensTest : public PortaldTest {
 protected:
  void expect_refused(const std::string& token, const std::string& what) {
    SCOPED_TRACE(what);
    for (const auto& [method, target, body] :
         {std::tuple<std::string, std::string, std::optional<std::string>>{"GET", "/ciphers", std::nullopt},
          {"GET", "/providers/" + provider_.id, std::nullopt},
          {"GET", "/providers/" + provider_.id + "/users", std::nullopt},
          {"POST", "/providers/" + provider_.id + "/users/invite",
           std::string(R"({"emails":["forged@x.example"],"type":0})")},
          {"POST", "/admin/providers", std::string(R"({"type":0,"ownerEmail":"x@x.example"})")}}) {
      const HttpResponse r = raw(method, target, token, body);
      expect_error(r, 401, "Unauthorized.");
      if (r.status == 401) {
        EXPECT_TRUE(r.json().at("validationErrors").is_null()) << r.body;
        EXPECT_EQ(r.header("WWW-Authenticate").rfind("Bearer", 0), 0u);
      }
    }
  }

  void SetUp() override {
    PortaldTest::SetUp();
    if (HasFatalFailure()) return;
    provider_ = make_provider("tokens-" + random_hex(2));
  }

  Provider provider_;
};

TEST_F(TokensTest, AValidTokenIsAccepted) {
  ok(get("/providers/" + provider_.id, provider_.owner), "a valid token");
  // The scheme name is case-insensitive.
  const HttpResponse r = raw("GET", "/providers/" + provider_.id, {}, std::nullopt,
                             {{"Authorization", "bearer " + token(provider_.owner)}});
  EXPECT_EQ(r.status, 200) << r.describe();
}

TEST_F(TokensTest, ExpiredTokenIs401) {
  Claims c = provider_.owner.claims();
  c.iat = c.nbf = 1'600'000'000;
  c.exp = 1'600'003'600;  // 2020
  expect_refused(mint_hs256(c, server()->secret()), "expired long ago");
  Claims recent = provider_.owner.claims();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  recent.iat = recent.nbf = now - 7200;
  recent.exp = now - 3600;  // an hour ago, beyond any clock leeway
  expect_refused(mint_hs256(recent, server()->secret()), "expired an hour ago");
}

TEST_F(TokensTest, NotYetValidTokenIs401) {
  Claims c = provider_.owner.claims();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  c.nbf = now + 3600;
  c.exp = now + 7200;
  expect_refused(mint_hs256(c, server()->secret()), "nbf in an hour");
}

TEST_F(TokensTest, ForgedTokenIs401) {
  // Signed with another secret.
  expect_refused(mint_hs256(provider_.owner.claims(), random_hex(32)), "another secret");
  // A valid token whose claims were altered after signing (staff: true).
  const std::string good = token(provider_.owner);
  Claims staff = provider_.owner.claims();
  staff.staff = true;
  const auto dot1 = good.find('.'), dot2 = good.rfind('.');
  const std::string tampered = good.substr(0, dot1) + "." + base64url(claims_json(staff)) + good.substr(dot2);
  expect_refused(tampered, "claims altered after signing");
  // Signature bytes changed.
  std::string flipped = good;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  expect_refused(flipped, "signature altered");
  // The same claims signed with the secret plus a newline or a prefix of it.
  expect_refused(mint_hs256(provider_.owner.claims(), server()->secret().substr(0, 32)), "a prefix of the secret");
}

TEST_F(TokensTest, AlgNoneIs401) {
  expect_refused(mint_alg_none(provider_.owner.claims()), "alg none");
  // Also with a staff claim, as an attacker would.
  Claims staff = provider_.owner.claims();
  staff.staff = true;
  expect_refused(mint_alg_none(staff), "alg none, staff");
  // "None" spelled otherwise, and a stray signature after alg none.
  const std::string body = base64url(claims_json(provider_.owner.claims()));
  expect_refused(base64url(R"({"alg":"NONE","typ":"JWT"})") + "." + body + ".", "alg NONE");
  expect_refused(base64url(R"({"alg":"none"})") + "." + body + "." + base64url("sig"), "alg none with a signature");
}

TEST_F(TokensTest, WrongAudienceOrIssuerIs401) {
  Claims aud = provider_.owner.claims();
  aud.aud = "someone-else";
  expect_refused(mint_hs256(aud, server()->secret()), "wrong audience");
  Claims iss = provider_.owner.claims();
  iss.iss = "evil-issuer";
  expect_refused(mint_hs256(iss, server()->secret()), "wrong issuer");
}

TEST_F(TokensTest, GarbageAndMissingTokensAre401) {
  expect_refused("", "no token");
  expect_refused("not-a-jwt", "one part");
  expect_refused("a.b.c", "three parts of garbage");
  Claims no_sub = provider_.owner.claims();
  no_sub.sub = "not-a-uuid";
  expect_refused(mint_hs256(no_sub, server()->secret()), "sub is not a UUID");
}

}  // namespace
}  // namespace portal::e2e
