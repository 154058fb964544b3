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

// Small chunks in small blocks (4 elements a chunk, 2 chunks a block): chunk and
// block boundaries are crossed often.
using Strings = SharedChunks<std::string, 4, 2>;

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

TEST(SharedChunks, ACopySharesWhatNeitherSideChanged) {
  Strings original = numbered(20);  // blocks [0, 8), [8, 16), [16, 20)
  Strings copy = original;
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(&copy[i], &original[i]) << i;
  copy.mutable_at(9) = "changed";  // the chunk [8, 12) of the second block
  for (std::size_t i = 0; i < 20; ++i) {
    if (i >= 8 && i < 12) {
      EXPECT_NE(&copy[i], &original[i]) << i;
    } else {
      EXPECT_EQ(&copy[i], &original[i]) << i << ": an unchanged chunk was copied";
    }
  }
  EXPECT_EQ(original[9], "v9");
  copy.push_back("v20");  // the last chunk [16, 20) is full: a new chunk, the block's others shared
  for (std::size_t i = 16; i < 20; ++i) EXPECT_EQ(&copy[i], &original[i]) << i;
  EXPECT_EQ(copy.size(), 21u);
  EXPECT_EQ(original.size(), 20u);
  EXPECT_EQ(copy.back(), "v20");
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
