// tests/tools/ctl_records_test.cc: log records rendered for `warrantctl export`
// (tools/ctl_records.h).
#include "tools/ctl_records.h"

#include <gtest/gtest.h>

#include "engine/tenancy/model.h"
#include "tests/tools/ctl_test_support.h"

namespace warrant::tools {
namespace {

using storage::record_type;
using testing::json_doc;

std::string render(std::uint64_t seq, record_type type, const std::string& payload) {
  std::string out;
  std::string error;
  EXPECT_TRUE(append_log_record_json(out, seq, storage::decoded_record{type, payload}, error)) << error;
  return out;
}

TEST(append_log_record_json, workspace_created) {
  engine::workspace w{"ws-1", "acme", "acme-users", 300, 1'700'000'000'000};
  const json_doc j(render(7, record_type::log_workspace_created, engine::encode_workspace(w)));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j.uint({"seq"}), 7u);
  EXPECT_EQ(j.str({"type"}), "workspace_created");
  EXPECT_EQ(j.str({"id"}), "ws-1");
  EXPECT_EQ(j.str({"name"}), "acme");
  EXPECT_EQ(j.str({"identity_namespace"}), "acme-users");
  EXPECT_EQ(j.uint({"requests_per_minute"}), 300u);
  EXPECT_EQ(j.str({"created_at"}), "2023-11-14T22:13:20.000Z");
}

TEST(append_log_record_json, key_created_shows_the_hash_never_a_secret) {
  const engine::generated_key g = engine::generate_api_key();
  engine::api_key_record k;
  k.id = "key-1";
  k.workspace_id = "ws-1";
  k.name = "ci";
  k.hash = g.hash;
  k.prefix = g.prefix;
  k.last4 = g.last4;
  k.roles = engine::role_platform_viewer | engine::role_governance_approver;
  k.created_at_ms = 1'700'000'000'000;
  k.expires_at_ms = 1'800'000'000'000;
  const std::string text = render(2, record_type::log_key_created, engine::encode_api_key(k));
  const json_doc j(text);
  EXPECT_EQ(j.str({"type"}), "key_created");
  EXPECT_EQ(j.str({"workspace_id"}), "ws-1");
  EXPECT_EQ(j.str({"prefix"}), g.prefix);
  EXPECT_EQ(j.str({"last4"}), g.last4);
  EXPECT_EQ(j.str({"sha256"}), engine::hex(g.hash));
  EXPECT_EQ(j.str({"expires_at"}), "2027-01-15T08:00:00.000Z");
  EXPECT_TRUE(j.is_null({"revoked_at"}));
  EXPECT_NE(text.find(R"("roles":["platform.viewer","governance.approver"])"), std::string::npos) << text;
  EXPECT_EQ(text.find(g.text), std::string::npos);
  EXPECT_EQ(text.find("requests_per_minute"), std::string::npos) << "no limit of its own, no field";
}

TEST(append_log_record_json, key_created_shows_its_own_limit_when_it_has_one) {
  engine::api_key_record k;
  k.id = "key-2";
  k.workspace_id = "ws-1";
  k.hash[0] = 1;
  k.requests_per_minute = 120;
  const json_doc j(render(3, record_type::log_key_created, engine::encode_api_key(k)));
  EXPECT_EQ(j.uint({"requests_per_minute"}), 120u);
}

TEST(append_log_record_json, revocations_limits_and_unknown_types) {
  const json_doc revoked(render(3, record_type::log_key_revoked, engine::encode_key_revocation({"ws-1", "key-1", 1'700'000'000'000})));
  EXPECT_EQ(revoked.str({"type"}), "key_revoked");
  EXPECT_EQ(revoked.str({"key_id"}), "key-1");
  EXPECT_EQ(revoked.str({"revoked_at"}), "2023-11-14T22:13:20.000Z");

  const json_doc limits(render(4, record_type::log_limits_set, engine::encode_limits_change({"ws-1", 5000})));
  EXPECT_EQ(limits.str({"type"}), "limits_set");
  EXPECT_EQ(limits.uint({"requests_per_minute"}), 5000u);

  const json_doc unknown(render(5, static_cast<record_type>(20), "abc"));
  EXPECT_EQ(unknown.str({"type"}), "unknown");
  EXPECT_EQ(unknown.uint({"record_type"}), 20u);
  EXPECT_EQ(unknown.uint({"payload_bytes"}), 3u);
}

TEST(append_log_record_json, an_undecodable_payload_is_an_error) {
  std::string out;
  std::string error;
  EXPECT_FALSE(append_log_record_json(out, 1, storage::decoded_record{record_type::log_key_created, "\x01"}, error));
  EXPECT_NE(error.find("key_created"), std::string::npos) << error;
}

}  // namespace
}  // namespace warrant::tools
