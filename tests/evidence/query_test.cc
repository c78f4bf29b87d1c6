// tests/evidence/query_test.cc: engine/evidence/query.* — query parameters, percent-decoding,
// the list limit.
#include "engine/evidence/query.h"

#include <gtest/gtest.h>

namespace warrant::engine::evidence {
namespace {

TEST(query, FindsParametersRaw) {
  std::string_view raw;
  EXPECT_TRUE(query_param("a=1&limit=20&b", "limit", raw));
  EXPECT_EQ(raw, "20");
  EXPECT_TRUE(query_param("a=1&b", "b", raw));
  EXPECT_EQ(raw, "");
  EXPECT_FALSE(query_param("ab=1", "a", raw));
  EXPECT_FALSE(query_param("", "a", raw));
}

TEST(query, PercentDecodes) {
  std::string out;
  EXPECT_TRUE(percent_decode("user%3A1+x%2By", true, out));
  EXPECT_EQ(out, "user:1 x+y");
  EXPECT_TRUE(percent_decode("a+b", false, out));
  EXPECT_EQ(out, "a+b");
  EXPECT_TRUE(percent_decode("%e2%82%AC", false, out));
  EXPECT_EQ(out, "\xe2\x82\xac");
  EXPECT_FALSE(percent_decode("%", false, out));
  EXPECT_FALSE(percent_decode("%4", false, out));
  EXPECT_FALSE(percent_decode("%zz", false, out));
}

TEST(query, Limit) {
  net::http_response res;
  std::size_t limit = 0;
  EXPECT_TRUE(parse_limit("", limit, res));
  EXPECT_EQ(limit, list_limit_default);
  EXPECT_TRUE(parse_limit("limit=500", limit, res));
  EXPECT_EQ(limit, 500u);
  for (std::string_view bad : {"limit=0", "limit=501", "limit=", "limit=1x", "limit=-1"}) {
    res.reset();
    EXPECT_FALSE(parse_limit(bad, limit, res)) << bad;
    EXPECT_EQ(res.status(), 400);
  }
}

}  // namespace
}  // namespace warrant::engine::evidence
