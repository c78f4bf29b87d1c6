// engine/evidence/bulk_request.*: the bulk body: item isolation (one bad item never fails the
// batch), the cap counted before any item is read, and the whole-body errors.
#include "engine/evidence/bulk_request.h"

#include <gtest/gtest.h>

#include "engine/evidence/default_policy.h"

namespace warrant::engine::evidence {
namespace {

class BulkRequest : public ::testing::Test {
 protected:
  bool parse(std::string_view body, std::size_t cap = 100) { return parse_bulk_request(body, *_p, cap, items, err); }
  std::shared_ptr<const policy> _p = default_policy();
  std::vector<bulk_item> items;
  json_error err;
};

TEST_F(BulkRequest, EachItemStandsAlone) {
  ASSERT_TRUE(parse(R"({"evaluations":[
      {"actor":{"type":"human","id":"a"},"action":"account.login"},
      {"actor":{"id":"b"},"action":"no.such.action"},
      {"action":"data.export"},
      42,
      {"actor_id":"e","action":"data.export_pii","bogus":1},
      {"actor_id":"f","action":"payout.request","context":{"x":[1,2,{"y":null}]}}]})"))
      << err.message;
  ASSERT_EQ(items.size(), 6u);
  EXPECT_TRUE(items[0].ok);
  EXPECT_EQ(items[0].request.actor_id, "a");
  EXPECT_EQ(items[0].request.action->name, "account.login");
  EXPECT_FALSE(items[1].ok);
  EXPECT_EQ(items[1].error.code, "UNKNOWN_ACTION");
  EXPECT_NE(items[1].error.hint.find("GET /v1/policy/actions"), std::string::npos);
  EXPECT_FALSE(items[2].ok);
  EXPECT_EQ(items[2].error.code, "") << "the seed's missing-actor error has no code";
  EXPECT_EQ(items[2].error.message, missing_actor_id_message);
  EXPECT_FALSE(items[3].ok);
  EXPECT_EQ(items[3].error.code, "VALIDATION_ERROR");
  EXPECT_FALSE(items[4].ok);
  EXPECT_EQ(items[4].error.code, "UNKNOWN_FIELD");
  EXPECT_TRUE(items[5].ok) << items[5].error.message;
  EXPECT_EQ(items[5].request.actor_id, "f");
}

TEST_F(BulkRequest, TheCapIsCheckedBeforeAnyItem) {
  std::string body = R"({"evaluations":[)";
  for (int i = 0; i < 4; ++i) body += std::string(i ? "," : "") + R"({"actor_id":"x","action":"nope"})";
  body += "]}";
  EXPECT_TRUE(parse(body, 4));
  EXPECT_FALSE(parse(body, 3));
  EXPECT_EQ(err.code, "BULK_LIMIT_EXCEEDED");
  EXPECT_NE(err.message.find("at most 3"), std::string::npos) << err.message;
  EXPECT_TRUE(items.empty());
}

// Items are read as the array is walked, into the caller's vector as the last request left
// it: a shorter or different request must see none of the longer one's items.
TEST_F(BulkRequest, ReusedItemsKeepNothingOfTheLastRequest) {
  ASSERT_TRUE(parse(R"({"evaluations":[{"actor_id":"a","action":"account.login"},
      {"actor_id":"b","action":"data.export_pii"},{"actor_id":"c","action":"account.login"}]})"))
      << err.message;
  ASSERT_EQ(items.size(), 3u);
  ASSERT_TRUE(parse(R"({"evaluations":[7,{"actor":{"type":"service","id":"z"},"action":"data.export_pii"}]})"))
      << err.message;
  ASSERT_EQ(items.size(), 2u);
  EXPECT_FALSE(items[0].ok);
  EXPECT_EQ(items[0].error.code, "VALIDATION_ERROR");
  ASSERT_TRUE(items[1].ok);
  EXPECT_EQ(items[1].request.actor, actor_type::service);
  EXPECT_EQ(items[1].request.actor_id, "z");
  EXPECT_EQ(items[1].request.action->name, "data.export_pii");
  ASSERT_TRUE(parse(R"({"evaluations":[{"actor_id":"y","action":"account.login"}]})")) << err.message;
  ASSERT_EQ(items.size(), 1u);
  EXPECT_TRUE(items[0].ok);
  EXPECT_EQ(items[0].request.actor, actor_type::human);
}

// The count comes first even when an item before the cap is malformed or refused: a body over
// the cap is BULK_LIMIT_EXCEEDED whatever its items hold, and the count names all of them.
TEST_F(BulkRequest, TheCapWinsOverAnItemError) {
  const std::string over = R"({"evaluations":[{"actor_id":"a","action":1},{"actor_id":"b","action":"account.login"},)"
                           R"({"actor_id":"c","action":"account.login"},{"actor_id":"d","action":"account.login"}]})";
  EXPECT_FALSE(parse(over, 2));
  EXPECT_EQ(err.code, "BULK_LIMIT_EXCEEDED");
  EXPECT_NE(err.message.find("this one has 4"), std::string::npos) << err.message;
  EXPECT_TRUE(items.empty());
  const std::string bad_then_over = R"({"evaluations":[{"actor_id":"a","action":tru},{},{}]})";
  EXPECT_FALSE(parse(bad_then_over, 2));
  EXPECT_EQ(err.code, "BULK_LIMIT_EXCEEDED") << err.message;
  EXPECT_TRUE(parse(over, 4)) << err.message;
  EXPECT_FALSE(items[0].ok);
  EXPECT_EQ(items.size(), 4u);
}

TEST_F(BulkRequest, WholeBodyErrors) {
  EXPECT_FALSE(parse(R"({"evaluations":[]})"));
  EXPECT_EQ(err.code, "VALIDATION_ERROR");
  EXPECT_FALSE(parse(R"({})"));
  EXPECT_EQ(err.code, "VALIDATION_ERROR");
  EXPECT_FALSE(parse(R"({"evaluations":null})"));
  EXPECT_EQ(err.code, "VALIDATION_ERROR");
  EXPECT_FALSE(parse(R"({"evaluations":{}})"));
  EXPECT_EQ(err.code, "VALIDATION_ERROR");
  EXPECT_FALSE(parse(R"({"evaluations":[{"actor_id":"a","action":"account.login"}],"extra":1})"));
  EXPECT_EQ(err.code, "UNKNOWN_FIELD");
  EXPECT_FALSE(parse(R"({"evaluations":[{"actor_id":"a","action":"account.login"}],"evaluations":[]})"));
  EXPECT_EQ(err.code, "VALIDATION_ERROR");
  EXPECT_FALSE(parse(R"({"evaluations":[{"actor_id":"a","action":"account.login"},{"actor_id":]})"));
  EXPECT_EQ(err.code, "INVALID_JSON");
  EXPECT_FALSE(parse(R"([1,2])"));
  EXPECT_EQ(err.code, "INVALID_JSON");
  EXPECT_FALSE(parse(R"({"evaluations":[{"actor_id":"a","action":"account.login"}]} trailing)"));
  EXPECT_EQ(err.code, "INVALID_JSON");
}

}  // namespace
}  // namespace warrant::engine::evidence
