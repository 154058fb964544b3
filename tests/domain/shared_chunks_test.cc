// SharedChunks, the copy-on-write sequence a provider's users live in: copies are
// independent values whatever is changed afterwards, across chunk boundaries.
#include "portal/domain/shared_chunks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace portal::domain {
namespace {

using Strings = SharedChunks<std::string, 4>;  // small chunks: boundaries are crossed often

std::vector<std::string> values(const Strings& s) { return std::vector<std::string>(s.begin(), s.end()); }

Strings numbered(int n) {
  Strings s;
  for (int i = 0; i < n; ++i) s.push_back("v" + std::to_string(i));
  return s;
}

TEST(SharedChunks, KeepsOrderAndIndexesAcrossChunks) {
  const Strings s = numbered(10);
  ASSERT_EQ(s.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s[static_cast<std::size_t>(i)], "v" + std::to_string(i));
  EXPECT_EQ(s.front(), "v0");
  EXPECT_EQ(s.back(), "v9");
  EXPECT_EQ(std::count_if(s.begin(), s.end(), [](const std::string& v) { return v.size() == 2; }), 10);
  EXPECT_THROW((void)s.at(10), std::out_of_range);
  EXPECT_TRUE(Strings().empty());
}

TEST(SharedChunks, ACopyIsUnaffectedByChangesToEitherSide) {
  Strings original = numbered(9);
  Strings copy = original;
  copy.mutable_at(5) = "changed";
  copy.push_back("added");
  original.mutable_at(0) = "first";
  original.push_back("other");

  std::vector<std::string> expected_original, expected_copy;
  for (int i = 0; i < 9; ++i) expected_original.push_back("v" + std::to_string(i));
  expected_copy = expected_original;
  expected_original[0] = "first";
  expected_original.push_back("other");
  expected_copy[5] = "changed";
  expected_copy.push_back("added");
  EXPECT_EQ(values(original), expected_original);
  EXPECT_EQ(values(copy), expected_copy);

  // A copy of a copy, and the source going away.
  Strings third = copy;
  copy = Strings();
  third.mutable_at(8) = "last";
  expected_copy[8] = "last";
  EXPECT_EQ(values(third), expected_copy);
}

TEST(SharedChunks, EraseIfRemovesMatchesAndLeavesCopiesAlone) {
  Strings s = numbered(11);
  const Strings before = s;
  EXPECT_EQ(s.erase_if([](const std::string& v) { return v == "v3" || v == "v10"; }), 2u);
  EXPECT_EQ(values(s), (std::vector<std::string>{"v0", "v1", "v2", "v4", "v5", "v6", "v7", "v8", "v9"}));
  EXPECT_EQ(before.size(), 11u);
  EXPECT_EQ(before[3], "v3");
  EXPECT_EQ(s.erase_if([](const std::string&) { return false; }), 0u);
  s.push_back("v11");
  EXPECT_EQ(s.back(), "v11");
  EXPECT_EQ(s.size(), 10u);
}

}  // namespace
}  // namespace portal::domain
