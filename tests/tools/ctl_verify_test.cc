// tests/tools/ctl_verify_test.cc: `warrantctl verify`'s checks (tools/ctl_verify.h) on
// environments written record by record, healthy and damaged in one way each.
#include "tools/ctl_verify.h"

#include <fmt/format.h>
#include <array>
#include <gtest/gtest.h>

#include "engine/common/ids.h"
#include "engine/evidence/claim.h"
#include "engine/evidence/decision_record.h"
#include "engine/evidence/event.h"
#include "engine/tenancy/model.h"
#include "storage/record.h"
#include "tests/tools/ctl_test_support.h"

namespace warrant::tools {
namespace {

using storage::record_type;
using storage::table;

class verify_test : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::lmdb_options lo;
    lo.path = tmp.sub("db");
    lo.map_size_bytes = 64 << 20;
    store = storage::lmdb_store::open(lo);
    workspace = {"default", "default", "default", 2000, 1'700'000'000'000};
    key.id = "key-1";
    key.workspace_id = "default";
    key.hash = engine::generate_api_key().hash;
    key.prefix = "wrnt_abcd";
    key.last4 = "wxyz";
    key.roles = engine::role_platform_admin;
    key.created_at_ms = 1'700'000'000'000;
    // What the writer does: each log record with the materialised record it changes.
    put(table::log, storage::be64_key(1), record_type::log_workspace_created, engine::encode_workspace(workspace));
    put(table::workspaces, workspace.id, record_type::workspace, engine::encode_workspace(workspace));
    put(table::log, storage::be64_key(2), record_type::log_key_created, engine::encode_api_key(key));
    put(table::api_keys, engine::api_key_storage_key(key.workspace_id, key.id), record_type::api_key,
        engine::encode_api_key(key));
  }

  void put_raw(table t, std::string_view k, std::string_view value) {
    storage::write_txn* txn = nullptr;
    ASSERT_EQ(store->begin_write(txn), storage::errc::ok);
    ASSERT_EQ(txn->put(t, k, value), storage::errc::ok);
    ASSERT_EQ(store->commit(), storage::errc::ok);
  }
  void put(table t, std::string_view k, record_type type, std::string_view payload) {
    put_raw(t, k, storage::encode_record(type, payload));
  }
  // The first problem of `check`, or nullptr.
  static const verify_problem* find(const verify_report& r, std::string_view check) {
    for (const verify_problem& p : r.problems) {
      if (p.check == check) return &p;
    }
    return nullptr;
  }

  testing::temp_dir tmp;
  std::unique_ptr<storage::lmdb_store> store;
  engine::workspace workspace;
  engine::api_key_record key;
};

TEST_F(verify_test, a_healthy_environment_is_consistent) {
  const verify_report r = verify_store(*store);
  EXPECT_TRUE(r.consistent()) << render_verify_report(r, "x");
  EXPECT_EQ(r.entries[static_cast<std::size_t>(table::log)], 2u);
  EXPECT_EQ(r.first_sequence, 1u);
  EXPECT_EQ(r.last_sequence, 2u);
  EXPECT_TRUE(r.sequences_dense);
  EXPECT_EQ(r.workspaces, 1u);
  EXPECT_EQ(r.replayed_keys, 1u);
  const testing::json_doc j(render_verify_report(r, "/data"));
  EXPECT_TRUE(j.boolean({"consistent"}));
  EXPECT_EQ(j.str({"data_dir"}), "/data");
  EXPECT_EQ(j.uint({"tables", "api_keys", "entries"}), 1u);
}

TEST_F(verify_test, a_flipped_byte_is_a_checksum_mismatch_naming_table_and_key) {
  std::string bytes = storage::encode_record(record_type::api_key, engine::encode_api_key(key));
  bytes[storage::record_header_bytes + 3] ^= 0x01;
  put_raw(table::api_keys, engine::api_key_storage_key("default", "key-1"), bytes);
  const verify_report r = verify_store(*store);
  EXPECT_FALSE(r.consistent());
  EXPECT_EQ(r.bad_records[static_cast<std::size_t>(table::api_keys)], 1u);
  const verify_problem* p = find(r, "record");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->table, "api_keys");
  EXPECT_EQ(p->key, "default/key-1");
  EXPECT_EQ(p->detail, "checksum mismatch");
  EXPECT_NE(find(r, "recovery"), nullptr);
}

TEST_F(verify_test, a_gap_in_the_log_is_reported) {
  put(table::log, storage::be64_key(4), record_type::log_limits_set, engine::encode_limits_change({"default", 2000}));
  const verify_report r = verify_store(*store);
  EXPECT_FALSE(r.consistent());
  EXPECT_FALSE(r.sequences_dense);
  const verify_problem* p = find(r, "sequence");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->key, "4");
  EXPECT_EQ(p->detail, "expected sequence 3");
}

TEST_F(verify_test, tables_that_disagree_with_the_log_are_reported) {
  engine::workspace renamed = workspace;
  renamed.name = "renamed without a log record";
  put(table::workspaces, workspace.id, record_type::workspace, engine::encode_workspace(renamed));
  const verify_report r = verify_store(*store);
  const verify_problem* p = find(r, "compare");
  ASSERT_NE(p, nullptr) << render_verify_report(r, "x");
  EXPECT_NE(p->detail.find("workspace default differs"), std::string::npos) << p->detail;
}

TEST_F(verify_test, records_under_the_wrong_key_or_of_the_wrong_type_are_reported) {
  put(table::workspaces, "elsewhere", record_type::workspace, engine::encode_workspace(workspace));
  put(table::idempotency, "k", record_type::api_key, engine::encode_api_key(key));
  const verify_report r = verify_store(*store);
  ASSERT_GE(r.problems.size(), 2u);
  bool wrong_key = false;
  bool wrong_type = false;
  for (const verify_problem& p : r.problems) {
    wrong_key |= p.table == "workspaces" && p.key == "elsewhere" && p.detail.find("key other than its id") != std::string::npos;
    wrong_type |= p.table == "idempotency" && p.detail.find("does not belong") != std::string::npos;
  }
  EXPECT_TRUE(wrong_key) << render_verify_report(r, "x");
  EXPECT_TRUE(wrong_type) << render_verify_report(r, "x");
}

TEST_F(verify_test, evidence_events_and_claims_are_checked_against_their_keys) {
  namespace ev = engine::evidence;
  ev::event_record e;
  e.id = engine::new_uuid_v7();
  e.workspace_id = "default";
  e.entity = ev::compute_entity_id("default", "u");
  e.type = *ev::find_event_type("gig.paid");
  e.occurred_at_ms = e.received_at_ms = 1'700'000'000'000;
  put(table::events, *ev::inverted_id_key(e.workspace_id, e.id), record_type::event, ev::encode_event(e));
  ev::claim_record c;
  c.id = engine::new_uuid_v7();
  c.workspace_id = "default";
  c.identity_namespace = "default";
  c.entity = e.entity;
  c.filed_at_ms = c.updated_at_ms = 1'700'000'000'000;
  put(table::claims, *ev::claim_key(c.identity_namespace, c.id), record_type::claim, ev::encode_claim(c));
  EXPECT_TRUE(verify_store(*store).consistent()) << render_verify_report(verify_store(*store), "x");
  // The same event under another workspace's key, a claim under another namespace.
  put(table::events, *ev::inverted_id_key("other", e.id), record_type::event, ev::encode_event(e));
  put(table::claims, *ev::claim_key("other", c.id), record_type::claim, ev::encode_claim(c));
  const verify_report r = verify_store(*store);
  bool event_key = false;
  bool claim_key = false;
  for (const verify_problem& p : r.problems) {
    event_key |= p.table == "events" && p.detail.find("key other than event") != std::string::npos;
    claim_key |= p.table == "claims" && p.detail.find("key other than claim") != std::string::npos;
  }
  EXPECT_TRUE(event_key) << render_verify_report(r, "x");
  EXPECT_TRUE(claim_key) << render_verify_report(r, "x");
}

TEST_F(verify_test, decision_records_of_both_forms_are_decoded) {
  namespace ev = engine::evidence;
  const std::array<std::string_view, 1> reasons = {"TIER_SUFFICIENT"};
  ev::decision_item_view d;
  d.action = "account.login";
  d.actor_id = "u";
  d.why_json = R"("Tier 0 meets the tier 0 required for account.login.")";
  d.reasons = reasons.data();
  d.reason_count = reasons.size();
  auto group_of_workspace = [&](std::string_view workspace) {
    std::string group;
    ev::decision_group_writer w(group, 1'700'000'000'000, "v1", workspace);
    w.add(d);
    w.skip();
    return group;
  };
  const std::string group = group_of_workspace("default");
  auto group_key = [](std::string_view group_id) {
    std::string key;
    EXPECT_TRUE(ev::append_decision_group_key(key, group_id));
    return key;
  };
  // Written now: keyed by group id. Written before: keyed by workspace (no workspace field).
  put(table::decisions, group_key("01890f4e-8a6b-7cc3-9d2e-4b5a69788000"), record_type::policy_decision_group, group);
  const std::string id = "01890f4e-8a6b-7cc3-9d2e-4b5a69789000";
  put(table::decisions, ev::decision_key("default", id), record_type::policy_decision_group, group_of_workspace(""));
  ev::decision_record_view old;
  old.correlation_id = "01890f4e-8a6b-7cc3-9d2e-4b5a69788a9b";
  old.workspace_id = "default";
  old.answer = R"({"decision":"ALLOW"})";
  std::string single;
  ev::encode_decision_payload(single, old);
  put(table::decisions, ev::decision_key("default", old.correlation_id), record_type::policy_decision, single);
  EXPECT_TRUE(verify_store(*store).consistent()) << render_verify_report(verify_store(*store), "x");

  put(table::decisions, ev::decision_key("default", "01890f4e-8a6b-7cc3-9d2e-4b5a69788001"),
      record_type::policy_decision_group, group.substr(0, group.size() - 3));
  put(table::decisions, ev::decision_key("other", old.correlation_id), record_type::policy_decision, single);
  put(table::decisions, group_key("01890f4e-8a6b-7cc3-9d2e-4b5a6978a000"), record_type::policy_decision_group,
      group_of_workspace(""));
  const verify_report r = verify_store(*store);
  bool undecodable = false;
  bool wrong_key = false;
  bool no_workspace = false;
  for (const verify_problem& p : r.problems) {
    undecodable |= p.table == "decisions" && p.detail.find("undecodable decision group") != std::string::npos;
    wrong_key |= p.table == "decisions" && p.detail.find("key other than decision") != std::string::npos;
    no_workspace |= p.table == "decisions" && p.detail.find("names no workspace") != std::string::npos;
  }
  EXPECT_TRUE(no_workspace) << render_verify_report(r, "x");
  EXPECT_TRUE(undecodable) << render_verify_report(r, "x");
  EXPECT_TRUE(wrong_key) << render_verify_report(r, "x");
}

TEST_F(verify_test, the_problem_list_is_bounded) {
  for (int i = 0; i < 150; ++i) put_raw(table::idempotency, fmt::format("k{}", i), "not a record");
  const verify_report r = verify_store(*store);
  EXPECT_EQ(r.problems.size(), verify_problems_max);
  EXPECT_EQ(r.problems_total, 150u);
  EXPECT_EQ(r.problems.front().detail, "truncated");
}

}  // namespace
}  // namespace warrant::tools
