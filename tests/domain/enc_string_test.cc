// EncString shapes (BITWARDEN-WIRE.md): what the engine accepts as an encrypted
// field and what it refuses as plaintext.
#include "portal/domain/enc_string.h"

#include <gtest/gtest.h>

namespace portal::domain {
namespace {

TEST(EncString, AcceptsEveryTypeWithItsNumberOfParts) {
  EXPECT_TRUE(is_valid_enc_string("0.aXY=|Y3Q="));
  EXPECT_TRUE(is_valid_enc_string("1.aXY=|Y3Q=|bWFj"));
  EXPECT_TRUE(is_valid_enc_string("2.aXZpdml2aXZpdg==|Y2lwaGVydGV4dA==|bWFjbWFjbWFj"));
  EXPECT_TRUE(is_valid_enc_string("3.cnNhY2lwaGVy"));
  EXPECT_TRUE(is_valid_enc_string("4.cnNhY2lwaGVy"));
  EXPECT_TRUE(is_valid_enc_string("5.cnNh|bWFj"));
  EXPECT_TRUE(is_valid_enc_string("6.cnNh|bWFj"));
  EXPECT_TRUE(is_valid_enc_string("7.cnNhY2lwaGVy"));
}

TEST(EncString, WithoutHeaderTwoOrThreePartsAreTheLegacyForms) {
  EXPECT_TRUE(is_valid_enc_string("aXY=|Y3Q="));
  EXPECT_TRUE(is_valid_enc_string("aXY=|Y3Q=|bWFj"));
  EXPECT_FALSE(is_valid_enc_string("aXY="));
  EXPECT_FALSE(is_valid_enc_string("aXY=|Y3Q=|bWFj|bWFj"));
}

TEST(EncString, RefusesPlaintextAndMalformedValues) {
  EXPECT_FALSE(is_valid_enc_string(""));
  EXPECT_FALSE(is_valid_enc_string("My bank password"));
  EXPECT_FALSE(is_valid_enc_string("hunter22"));           // looks like base64, but one part
  EXPECT_FALSE(is_valid_enc_string("2.aXY=|Y3Q="));        // type 2 needs 3 parts
  EXPECT_FALSE(is_valid_enc_string("3.aXY=|Y3Q="));        // type 3 has 1 part
  EXPECT_FALSE(is_valid_enc_string("8.aXY=|Y3Q="));        // unknown type
  EXPECT_FALSE(is_valid_enc_string("12.aXY=|Y3Q="));       // not a one-digit type
  EXPECT_FALSE(is_valid_enc_string("x.aXY=|Y3Q="));        // not a number
  EXPECT_FALSE(is_valid_enc_string("2.aXY=||bWFj"));       // empty part
  EXPECT_FALSE(is_valid_enc_string("2.aXY|Y3Q=|bWFj"));    // length not a multiple of 4
  EXPECT_FALSE(is_valid_enc_string("2.a=XY|Y3Q=|bWFj"));   // padding inside
  EXPECT_FALSE(is_valid_enc_string("2.aXY=|Y3Q=|bW-j"));   // base64url is not standard base64
  EXPECT_FALSE(is_valid_enc_string("2.a===|Y3Q=|bWFj"));   // three padding characters
  EXPECT_FALSE(is_valid_enc_string("2.aXY=|Y3Q=|bWFj "));  // trailing space
}

TEST(EncString, RefusalNamesTheFieldAndNeverEchoesTheValue) {
  EXPECT_EQ(check_enc_string("name", "Name", "2.aXY=|Y3Q=|bWFj"), std::nullopt);
  auto refused = check_enc_string("name", "Name", "My bank password");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->kind, ErrorKind::kValidation);
  EXPECT_EQ(refused->field, "name");
  EXPECT_EQ(refused->message, "Name is not a valid encrypted string.");
  EXPECT_EQ(refused->message.find("bank"), std::string::npos);
}

}  // namespace
}  // namespace portal::domain
