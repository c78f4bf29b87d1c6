// The tenancy side of the limits: a key's own requests_per_minute on disk (field tag 13,
// docs/storage-format.md), and the limiter cells the index gives records, which must survive
// every republished snapshot.
#include <gtest/gtest.h>

#include "engine/guard/rate_limit.h"
#include "engine/tenancy/index.h"
#include "engine/tenancy/model.h"
#include "storage/record.h"

namespace warrant::engine {
namespace {

api_key_record sample_key(std::uint32_t rpm) {
  api_key_record k;
  k.id = "k1";
  k.workspace_id = "w1";
  k.hash[0] = 7;
  k.prefix = "wrnt_abcd";
  k.last4 = "wxyz";
  k.roles = role_platform_viewer;
  k.created_at_ms = 1000;
  k.requests_per_minute = rpm;
  return k;
}

TEST(KeyRecord, RequestsPerMinuteRoundTrips) {
  const auto k = decode_api_key(encode_api_key(sample_key(750)));
  ASSERT_TRUE(k);
  EXPECT_EQ(k->requests_per_minute, 750u);
  EXPECT_EQ(k->limiter, nullptr) << "never stored";
}

TEST(KeyRecord, WithoutALimitEncodesAsBefore) {
  const std::string payload = encode_api_key(sample_key(0));
  storage::field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  while (r.next(tag, v)) EXPECT_NE(tag, 13) << "tag 13 is written only when set";
  const auto k = decode_api_key(payload);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->requests_per_minute, 0u);
}

TEST(KeyRecord, OutOfRangeLimitIsRefused) {
  storage::field_writer f;
  f.bytes(1, "k").bytes(6, "w").bytes(7, std::string(32, 'h')).u64(13, 0);
  EXPECT_FALSE(decode_api_key(f.take()));
  storage::field_writer g;
  g.bytes(1, "k").bytes(6, "w").bytes(7, std::string(32, 'h')).u64(13, requests_per_minute_max + 1);
  EXPECT_FALSE(decode_api_key(g.take()));
}

TEST(TenancyIndex, RecordsKeepTheirLimiterCellAcrossUpdatesAndPublishes) {
  tenancy_index idx;
  workspace w{"w1", "one", "w1", 5, 1};
  idx.stage_workspace(w);
  api_key_record own = sample_key(3);
  api_key_record plain = sample_key(0);
  plain.id = "k2";
  plain.hash[0] = 8;
  idx.stage_key(own);
  idx.stage_key(plain);
  idx.publish();
  const tenancy_snapshot& first = idx.current();
  limiter_cell* ws_cell = first.find_workspace("w1")->limiter;
  limiter_cell* key_cell = first.find_key("w1", "k1")->limiter;
  ASSERT_NE(ws_cell, nullptr);
  ASSERT_NE(key_cell, nullptr);
  EXPECT_NE(ws_cell, key_cell);
  EXPECT_EQ(first.find_key("w1", "k2")->limiter, nullptr) << "no limit of its own, no cell";

  // Spend from the workspace, then change it (a limits update) and add another workspace.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(gcra_admit(ws_cell->tat_ns, 1'000'000'000, 5).allowed);
  w.requests_per_minute = 6;
  idx.stage_workspace(w);
  idx.stage_workspace(workspace{"w2", "two", "w2", 5, 2});
  own.revoked_at_ms = 5;  // a revocation re-stages the key
  idx.stage_key(own);
  idx.publish();
  const tenancy_snapshot& second = idx.current();
  ASSERT_NE(&second, &first);
  EXPECT_EQ(second.find_workspace("w1")->limiter, ws_cell);
  EXPECT_EQ(second.find_workspace("w1")->requests_per_minute, 6u);
  EXPECT_EQ(second.find_key("w1", "k1")->limiter, key_cell);
  EXPECT_NE(second.find_workspace("w2")->limiter, ws_cell);
  // The state the first snapshot's record built up is what the second one sees.
  const rate_decision d = admit_request(*second.find_workspace("w1"), *second.find_key("w1", "k2"), 1'000'000'000);
  EXPECT_TRUE(d.allowed()) << "4 × 12 s = 48 s of debt leave one 10 s unit at the new rate";
  EXPECT_FALSE(admit_request(*second.find_workspace("w1"), *second.find_key("w1", "k2"), 1'000'000'000).allowed());
}

}  // namespace
}  // namespace warrant::engine
