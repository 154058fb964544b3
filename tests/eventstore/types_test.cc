// Tests of the event store's vocabulary: ids, expected versions and the request
// validation every backend runs before touching storage.
#include "portal/eventstore/types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

namespace portal::eventstore {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

// ----------------------------------------------------------------------------------
// Id16

TEST(Id16Test, RandomIsVersionFourWithTheRfc4122Variant) {
  for (int i = 0; i < 100; ++i) {
    const Id16 id = Id16::random();
    EXPECT_EQ(id.bytes[6] >> 4, 4) << id.to_hex();
    EXPECT_EQ(id.bytes[8] & 0xC0, 0x80) << id.to_hex();
    EXPECT_FALSE(id.is_nil());
  }
}

TEST(Id16Test, RandomIdsAreUnique) {
  std::set<Id16> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(Id16::random());
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(Id16Test, HexRoundTrip) {
  for (int i = 0; i < 100; ++i) {
    const Id16 id = Id16::random();
    const std::string hex = id.to_hex();
    ASSERT_EQ(hex.size(), 32u);
    EXPECT_THAT(hex, ::testing::MatchesRegex("[0-9a-f]+"));
    EXPECT_EQ(Id16::from_hex(hex), id);
  }
}

TEST(Id16Test, HexHasTheBytesInOrder) {
  Id16 id;
  for (std::size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<std::uint8_t>(i * 17);
  EXPECT_EQ(id.to_hex(), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(Id16{}.to_hex(), "00000000000000000000000000000000");
}

TEST(Id16Test, FromHexAcceptsDashedUuids) {
  const auto id = Id16::from_hex("123e4567-e89b-12d3-a456-426614174000");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->to_hex(), "123e4567e89b12d3a456426614174000");
}

TEST(Id16Test, FromHexRejectsBadInput) {
  for (const std::string& bad : {
           std::string(""),
           std::string("123e4567e89b12d3a45642661417400"),    // 31 digits
           std::string("123e4567e89b12d3a4564266141740001"),  // 33 digits
           std::string("123e4567e89b12d3a45642661417400g"),   // not hex
           std::string("123e4567e89b12d3a4564266141740 0"),   // space
           std::string("0x3e4567e89b12d3a456426614174000"),   // prefix
           std::string("123e4567e89b12d3a456426614174000\0", 33),
       }) {
    EXPECT_EQ(Id16::from_hex(bad), std::nullopt) << "accepted \"" << bad << "\"";
  }
}

TEST(Id16Test, IsNil) {
  EXPECT_TRUE(Id16{}.is_nil());
  Id16 id;
  id.bytes[15] = 1;
  EXPECT_FALSE(id.is_nil());
  id = Id16{};
  id.bytes[0] = 0x80;
  EXPECT_FALSE(id.is_nil());
}

// ----------------------------------------------------------------------------------
// ExpectedVersion

TEST(ExpectedVersionTest, AnyMatchesEveryHead) {
  const auto any = ExpectedVersion::any();
  EXPECT_TRUE(any.matches(std::nullopt));
  EXPECT_TRUE(any.matches(0));
  EXPECT_TRUE(any.matches(5));
}

TEST(ExpectedVersionTest, NoStreamMatchesOnlyAMissingStream) {
  const auto no_stream = ExpectedVersion::no_stream();
  EXPECT_TRUE(no_stream.matches(std::nullopt));
  EXPECT_FALSE(no_stream.matches(0));
  EXPECT_FALSE(no_stream.matches(5));
}

TEST(ExpectedVersionTest, StreamExistsMatchesEveryExistingStream) {
  const auto exists = ExpectedVersion::stream_exists();
  EXPECT_FALSE(exists.matches(std::nullopt));
  EXPECT_TRUE(exists.matches(0));
  EXPECT_TRUE(exists.matches(5));
}

TEST(ExpectedVersionTest, ExactMatchesOnlyThatHead) {
  EXPECT_FALSE(ExpectedVersion::exact(0).matches(std::nullopt));
  EXPECT_TRUE(ExpectedVersion::exact(0).matches(0));
  EXPECT_FALSE(ExpectedVersion::exact(0).matches(5));
  EXPECT_FALSE(ExpectedVersion::exact(5).matches(std::nullopt));
  EXPECT_FALSE(ExpectedVersion::exact(5).matches(0));
  EXPECT_TRUE(ExpectedVersion::exact(5).matches(5));
  EXPECT_FALSE(ExpectedVersion::exact(4).matches(5));
  EXPECT_FALSE(ExpectedVersion::exact(6).matches(5));
}

TEST(ExpectedVersionTest, AtBuildsTheExpectationOfAHeadReadEarlier) {
  EXPECT_EQ(ExpectedVersion::at(std::nullopt), ExpectedVersion::no_stream());
  EXPECT_EQ(ExpectedVersion::at(3), ExpectedVersion::exact(3));
  EXPECT_TRUE(ExpectedVersion::at(std::nullopt).matches(std::nullopt));
  EXPECT_TRUE(ExpectedVersion::at(0).matches(0));
}

TEST(ExpectedVersionTest, ToString) {
  EXPECT_EQ(ExpectedVersion::any().to_string(), "any");
  EXPECT_EQ(ExpectedVersion::no_stream().to_string(), "no stream");
  EXPECT_EQ(ExpectedVersion::stream_exists().to_string(), "stream exists");
  EXPECT_EQ(ExpectedVersion::exact(0).to_string(), "0");
  EXPECT_EQ(ExpectedVersion::exact(3).to_string(), "3");
  EXPECT_EQ(ExpectedVersion::exact(18446744073709551614u).to_string(), "18446744073709551614");
}

// ----------------------------------------------------------------------------------
// validate_stream_name

TEST(ValidateStreamNameTest, AcceptsCategoryDashId) {
  for (const std::string& good : {
           std::string("provider-0123abcd-4567-89ef-0123-456789abcdef"),
           std::string("provider-0123abcd456789ef0123456789abcdef"), std::string("org-x"),
           std::string("user-X"), std::string("item_log2-a.b:c-D9"), std::string("e-1"),
           "org-" + std::string(kMaxStreamNameBytes - 4, 'a'),  // exactly the limit
       }) {
    Status status = validate_stream_name(good);
    EXPECT_TRUE(status.ok()) << good << ": " << status.to_string();
  }
}

void expect_invalid_stream_name(const std::string& stream, const std::string& named) {
  SCOPED_TRACE("stream \"" + stream + "\"");
  Status status = validate_stream_name(stream);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  EXPECT_FALSE(status.message().empty());
  EXPECT_THAT(status.message(), HasSubstr(named));
}

TEST(ValidateStreamNameTest, RejectsEmpty) {
  Status status = validate_stream_name("");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  EXPECT_THAT(status.message(), ContainsRegex("[Ss]tream"));
}

TEST(ValidateStreamNameTest, RejectsNameWithoutDash) {
  expect_invalid_stream_name("provider", "provider");
}

TEST(ValidateStreamNameTest, RejectsEmptyId) {
  expect_invalid_stream_name("provider-", "provider-");
}

TEST(ValidateStreamNameTest, RejectsEmptyCategory) {
  expect_invalid_stream_name("-abc", "-abc");
}

TEST(ValidateStreamNameTest, RejectsUppercaseCategory) {
  expect_invalid_stream_name("Provider-abc", "Provider-abc");
  expect_invalid_stream_name("proVider-abc", "proVider-abc");
}

TEST(ValidateStreamNameTest, RejectsCategoryNotStartingWithALetter) {
  expect_invalid_stream_name("1org-abc", "1org-abc");
  expect_invalid_stream_name("_org-abc", "_org-abc");
}

TEST(ValidateStreamNameTest, RejectsEmbeddedNul) {
  // NUL separates the stream name from the version in index keys.
  Status status = validate_stream_name(std::string("org-a\0b", 7));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  status = validate_stream_name(std::string("org-ab\0", 7));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
}

TEST(ValidateStreamNameTest, RejectsNamesOverTheLimit) {
  const std::string too_long = "org-" + std::string(kMaxStreamNameBytes - 3, 'a');
  ASSERT_EQ(too_long.size(), kMaxStreamNameBytes + 1);
  Status status = validate_stream_name(too_long);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr(std::to_string(kMaxStreamNameBytes)));
}

TEST(ValidateStreamNameTest, RejectsCharactersOutsideTheAlphabet) {
  for (const std::string& bad :
       {std::string("org-a b"), std::string("org-a/b"), std::string("org-a_b"), std::string("or g-ab"),
        std::string("org-a+b"), std::string("org.x-ab"), std::string(" org-ab")}) {
    expect_invalid_stream_name(bad, bad);
  }
  // Non-printable and non-ASCII bytes: a message may escape them, so only the code is checked.
  for (const std::string& bad :
       {std::string("org-a\xc3\xa9"), std::string("org-ab\n"), std::string("org-a\x7f")}) {
    Status status = validate_stream_name(bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  }
}

// ----------------------------------------------------------------------------------
// validate_request

NewEvent small_event() {
  NewEvent event;
  event.type = "ProviderInvited";
  event.type_code = 1800;
  event.metadata = "actor";
  event.payload = "payload";
  return event;
}

AppendRequest valid_request() {
  AppendRequest request;
  request.command_id = Id16::random();
  request.writes.push_back({"provider-aa", ExpectedVersion::no_stream(), {small_event(), small_event()}});
  request.writes.push_back({"org-bb", ExpectedVersion::exact(3), {small_event()}});
  request.checks.push_back({"user-cc", ExpectedVersion::stream_exists()});
  return request;
}

void expect_invalid(const AppendRequest& request, const std::string& named) {
  Status status = validate_request(request);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  EXPECT_FALSE(status.retryable());
  EXPECT_THAT(status.message(), HasSubstr(named));
}

TEST(ValidateRequestTest, AcceptsAValidRequest) {
  Status status = validate_request(valid_request());
  EXPECT_TRUE(status.ok()) << status.to_string();
}

TEST(ValidateRequestTest, RejectsNilCommandId) {
  AppendRequest request = valid_request();
  request.command_id = Id16{};
  Status status = validate_request(request);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  EXPECT_THAT(status.message(), ContainsRegex("[Cc]ommand[ _]?[Ii][Dd]"));
}

TEST(ValidateRequestTest, RejectsARequestWithNothingInIt) {
  AppendRequest request;
  request.command_id = Id16::random();
  Status status = validate_request(request);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  EXPECT_FALSE(status.message().empty());
}

TEST(ValidateRequestTest, RejectsAWriteWithoutEvents) {
  AppendRequest request = valid_request();
  request.writes[1].events.clear();
  expect_invalid(request, "org-bb");
}

TEST(ValidateRequestTest, RejectsTheSameStreamWrittenTwice) {
  AppendRequest request = valid_request();
  request.writes.push_back({"provider-aa", ExpectedVersion::any(), {small_event()}});
  expect_invalid(request, "provider-aa");
}

TEST(ValidateRequestTest, RejectsAStreamBothWrittenAndChecked) {
  AppendRequest request = valid_request();
  request.checks.push_back({"org-bb", ExpectedVersion::exact(3)});
  expect_invalid(request, "org-bb");
}

TEST(ValidateRequestTest, RejectsTheSameStreamCheckedTwice) {
  AppendRequest request = valid_request();
  request.checks.push_back({"user-cc", ExpectedVersion::any()});
  expect_invalid(request, "user-cc");
}

TEST(ValidateRequestTest, FindsARepeatedStreamAmongManyStreams) {
  // A request may name many streams (bulk commands touch one per item): a repeat
  // is found wherever it stands, and as many distinct streams are accepted.
  AppendRequest request;
  request.command_id = Id16::random();
  for (int i = 0; i < 20; ++i) {
    request.writes.push_back({"item-" + std::to_string(i), ExpectedVersion::any(), {small_event()}});
  }
  for (int i = 0; i < 5; ++i) request.checks.push_back({"org-" + std::to_string(i), ExpectedVersion::any()});
  Status status = validate_request(request);
  EXPECT_TRUE(status.ok()) << status.to_string();

  for (const std::string& repeated :
       {std::string("item-0"), std::string("item-7"), std::string("item-15"), std::string("org-4")}) {
    SCOPED_TRACE(repeated);
    AppendRequest twice = request;
    twice.checks.push_back({repeated, ExpectedVersion::any()});
    expect_invalid(twice, repeated);
  }
  AppendRequest late_twice = request;
  late_twice.writes.push_back({"item-12", ExpectedVersion::any(), {small_event()}});
  expect_invalid(late_twice, "item-12");
}

TEST(ValidateRequestTest, RejectsInvalidStreamNamesInWritesAndChecks) {
  AppendRequest bad_write = valid_request();
  bad_write.writes[1].stream = "Org-bb";
  expect_invalid(bad_write, "Org-bb");

  AppendRequest empty_write = valid_request();
  empty_write.writes[0].stream.clear();
  Status status = validate_request(empty_write);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();

  AppendRequest bad_check = valid_request();
  bad_check.checks[0].stream = "user cc";
  expect_invalid(bad_check, "user cc");
}

TEST(ValidateRequestTest, EventSizeCountsMetadataAndPayload) {
  AppendRequest at_limit = valid_request();
  at_limit.writes[1].events[0].metadata = std::string(kMaxEventBytes / 2, 'm');
  at_limit.writes[1].events[0].payload = std::string(kMaxEventBytes / 2, 'p');
  Status status = validate_request(at_limit);
  EXPECT_TRUE(status.ok()) << status.to_string();

  AppendRequest over = at_limit;
  over.writes[1].events[0].payload.push_back('p');
  expect_invalid(over, "org-bb");

  AppendRequest payload_only = valid_request();
  payload_only.writes[1].events[0].metadata.clear();
  payload_only.writes[1].events[0].payload = std::string(kMaxEventBytes + 1, 'p');
  expect_invalid(payload_only, "org-bb");

  AppendRequest metadata_only = valid_request();
  metadata_only.writes[1].events[0].payload.clear();
  metadata_only.writes[1].events[0].metadata = std::string(kMaxEventBytes + 1, 'm');
  expect_invalid(metadata_only, "org-bb");
}

TEST(ValidateRequestTest, RejectsEmptyEventType) {
  AppendRequest request = valid_request();
  request.writes[0].events[1].type.clear();
  expect_invalid(request, "provider-aa");
}

TEST(ValidateRequestTest, EventTypeIsLimitedTo128Bytes) {
  AppendRequest at_limit = valid_request();
  at_limit.writes[0].events[0].type = std::string(kMaxEventTypeBytes, 'T');
  Status status = validate_request(at_limit);
  EXPECT_TRUE(status.ok()) << status.to_string();

  AppendRequest over = valid_request();
  over.writes[0].events[0].type = std::string(kMaxEventTypeBytes + 1, 'T');
  expect_invalid(over, "provider-aa");
}

}  // namespace
}  // namespace portal::eventstore
