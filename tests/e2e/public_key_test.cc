// Bearer tokens with --jwt-public-key: portald verifies with a PEM public key, RS256
// for an RSA key and ES256 for a P-256 key. Only tokens signed with the matching
// private key in that one algorithm are accepted; another key's signature, the other
// asymmetric algorithm, HS256 keyed with the public PEM text (algorithm confusion)
// and "alg":"none" are 401 "Unauthorized.".
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>

#include "e2e.h"

namespace portal::e2e {
namespace {

// A new key pair as PEM text: RSA 2048 for RS256, P-256 for ES256.
KeyPair generate(const std::string& alg) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      alg == "RS256" ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"), &EVP_PKEY_free);
  if (!key) throw std::runtime_error("cannot generate a key for " + alg);
  auto pem = [&](bool private_key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    const int written =
        private_key ? PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)
                    : PEM_write_bio_PUBKEY(bio.get(), key.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    if (written != 1 || size <= 0) throw std::runtime_error("cannot write a PEM key for " + alg);
    return std::string(data, static_cast<std::size_t>(size));
  };
  return {alg, pem(true), pem(false)};
}

struct Rs256 {
  static constexpr const char* kAlg = "RS256";
  static constexpr const char* kOther = "ES256";
};
struct Es256 {
  static constexpr const char* kAlg = "ES256";
  static constexpr const char* kOther = "RS256";
};

// One portald per algorithm, started with the public half of a fresh key pair; the
// fixture's own requests carry tokens signed with the private half.
template <typename Alg>
class PublicKeyTest : public PortaldTest {
 protected:
  static void SetUpTestSuite() {
    key_ = generate(Alg::kAlg);
    start_server(key_);
  }

  // `forged` (claims of `u`) is refused as a client sees it, while the same request by
  // `u` with a token signed with the server's key succeeds.
  void expect_refused(const User& u, const std::string& forged) {
    expect_error(raw("GET", "/ciphers", forged), 401, "Unauthorized.");
    const HttpResponse signed_right = get("/ciphers", u);
    EXPECT_EQ(signed_right.status, 200) << signed_right.describe();
  }

  static inline KeyPair key_;
};

struct AlgName {
  template <typename T>
  static std::string GetName(int) {
    return T::kAlg;
  }
};
using Algorithms = ::testing::Types<Rs256, Es256>;
TYPED_TEST_SUITE(PublicKeyTest, Algorithms, AlgName);

TYPED_TEST(PublicKeyTest, TokensSignedWithThePrivateKeyAreAccepted) {
  // The owner registers on their first request, staff invites them, they set the
  // provider up and read it back: every request signed with the private key.
  const auto p = this->make_provider("pk");
  const json::value provider = this->ok(this->get("/providers/" + p.id, p.owner), "GET /providers/{id}");
  EXPECT_EQ(str(provider, "id"), p.id);
  EXPECT_EQ(str(provider, "name"), "pk IT");
}

TYPED_TEST(PublicKeyTest, AnotherKeysSignatureIs401) {
  const User u = this->person("other-key");
  const KeyPair other = generate(TypeParam::kAlg);
  this->expect_refused(u, mint(u.claims(), other.alg, other.private_pem));
}

TYPED_TEST(PublicKeyTest, Hs256KeyedWithThePublicKeyIs401) {
  const User u = this->person("confusion");
  this->expect_refused(u, mint_hs256(u.claims(), TestFixture::key_.public_pem));
}

TYPED_TEST(PublicKeyTest, AlgNoneIs401) {
  const User u = this->person("alg-none");
  this->expect_refused(u, mint_alg_none(u.claims()));
}

TYPED_TEST(PublicKeyTest, TheOtherAlgorithmIs401) {
  const User u = this->person("other-alg");
  const KeyPair other = generate(TypeParam::kOther);
  this->expect_refused(u, mint(u.claims(), other.alg, other.private_pem));
}

}  // namespace
}  // namespace portal::e2e
