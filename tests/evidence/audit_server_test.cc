// tests/evidence/audit_server_test.cc: the audit trail's codec and GET /v1/audit end to end
// (engine/audit/audit.h, audit_routes.h; docs/api-evidence.md "Audit"): entries written by
// append_audit in a storage transaction are listed newest first, filtered, paged, and kept
// apart by workspace; bad parameters are clear 400s; keys without a reader role get 403.
//
// The registry that writes entries in production comes with the agent routes; here entries
// are written into the server's data directory while it is stopped, through the same
// append_audit a command calls, so the read path is tested on its own.
#include <gtest/gtest.h>

#include "engine/audit/audit.h"
#include "engine/common/ids.h"
#include "storage/lmdb_store.h"
#include "storage/record.h"
#include "tests/admin/admin_fixture.h"

namespace warrant::test {
namespace {

using engine::audit_entry;

audit_entry entry(std::string ws, std::string action, std::string target, std::int64_t at_ms) {
  audit_entry e;
  e.id = engine::new_uuid_v7(at_ms);
  e.workspace_id = std::move(ws);
  e.actor_key_id = "key-1";
  e.actor_id = "agent-parent";
  e.target_type = "agent";
  e.target_id = std::move(target);
  e.action = std::move(action);
  e.before_status = "ACTIVE";
  e.after_status = "SUSPENDED";
  e.at_ms = at_ms;
  return e;
}

TEST(audit_codec, RoundTripsEveryField) {
  const audit_entry e = entry("ws", "agent.suspended", "agent-7", 1'770'000'000'123);
  const auto back = engine::decode_audit_entry(engine::encode_audit_entry(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, e.id);
  EXPECT_EQ(back->workspace_id, "ws");
  EXPECT_EQ(back->actor_key_id, "key-1");
  EXPECT_EQ(back->actor_id, "agent-parent");
  EXPECT_EQ(back->target_type, "agent");
  EXPECT_EQ(back->target_id, "agent-7");
  EXPECT_EQ(back->action, "agent.suspended");
  EXPECT_EQ(back->before_status, "ACTIVE");
  EXPECT_EQ(back->after_status, "SUSPENDED");
  EXPECT_EQ(back->at_ms, e.at_ms);
}

TEST(audit_codec, AbsentStatusesStayAbsentAndGarbageIsRefused) {
  audit_entry e = entry("ws", "agent.created", "a", 5);
  e.before_status.clear();
  const auto back = engine::decode_audit_entry(engine::encode_audit_entry(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->before_status, "");
  EXPECT_EQ(back->after_status, "SUSPENDED");
  EXPECT_FALSE(engine::decode_audit_entry("\xff\xff\xff"));
  EXPECT_FALSE(engine::decode_audit_entry(""));  // no id, workspace, action or time
}

TEST(audit_codec, StorageKeysAreWorkspacePrefixedAndNewestFirst) {
  const std::string older = engine::new_uuid_v7(1000), newer = engine::new_uuid_v7(2000);
  const auto k_old = engine::audit_storage_key("ws", older), k_new = engine::audit_storage_key("ws", newer);
  ASSERT_TRUE(k_old && k_new);
  EXPECT_TRUE(k_old->starts_with(std::string("ws") + '\0'));
  EXPECT_LT(*k_new, *k_old);  // a forward scan meets the newer first
  EXPECT_FALSE(engine::audit_storage_key("ws", "not-a-uuid"));
}

class audit_server : public admin_fixture {
 public:
  // Stops the server, writes `entries` through append_audit in one transaction, restarts.
  void seed(const std::vector<audit_entry>& entries) {
    stop();
    {
      storage::lmdb_options options;
      options.path = data_dir() + "/db";
      auto store = storage::lmdb_store::open(options);
      storage::write_txn* txn = nullptr;
      ASSERT_EQ(store->begin_write(txn), storage::errc::ok);
      for (const audit_entry& e : entries) engine::append_audit(*txn, e);
      ASSERT_EQ(store->commit(), storage::errc::ok);
    }
    start();
  }
  std::string key_of(const std::string& ws, std::string_view roles) {
    return create_key(ws, roles)["key"].string;
  }
};

TEST_F(audit_server, ListsNewestFirstWithFiltersAndPaging) {
  const std::string a = create_workspace("a")["id"].string;
  const std::string b = create_workspace("b")["id"].string;
  const std::string key_a = key_of(a, R"(["platform.viewer"])");
  const std::string key_b = key_of(b, R"(["platform.operator"])");
  const std::int64_t t0 = now_unix_ms() - 60'000;
  std::vector<audit_entry> entries;
  for (int i = 0; i < 7; ++i) {
    entries.push_back(entry(a, i % 2 ? "agent.suspended" : "agent.created", "agent-" + std::to_string(i % 3),
                            t0 + i * 1000));
  }
  entries.push_back(entry(b, "agent.revoked", "agent-0", t0 + 500));
  entries[0].before_status.clear();
  seed(entries);

  // Everything of workspace a, newest first, and nothing of b.
  http_response r = call("GET", "/v1/audit", {}, key_a);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = body_json(r);
  EXPECT_EQ(j.keys(), (std::vector<std::string>{"entries", "nextCursor"}));
  ASSERT_EQ(j["entries"].items.size(), 7u);
  EXPECT_TRUE(j["nextCursor"].is_null());
  for (std::size_t i = 0; i < 7; ++i) EXPECT_EQ(j["entries"].items[i]["id"].string, entries[6 - i].id);
  const json& oldest = j["entries"].items[6];
  EXPECT_EQ(oldest.keys(), (std::vector<std::string>{"id", "at", "action", "actorKeyId", "actorId", "targetType",
                                                      "targetId", "beforeStatus", "afterStatus"}));
  EXPECT_EQ(oldest["at"].string, rfc3339_ms(t0));
  EXPECT_EQ(oldest["action"].string, "agent.created");
  EXPECT_EQ(oldest["actorKeyId"].string, "key-1");
  EXPECT_EQ(oldest["actorId"].string, "agent-parent");
  EXPECT_EQ(oldest["targetType"].string, "agent");
  EXPECT_EQ(oldest["targetId"].string, "agent-0");
  EXPECT_TRUE(oldest["beforeStatus"].is_null());
  EXPECT_EQ(oldest["afterStatus"].string, "SUSPENDED");

  // Workspace b sees its one entry only.
  r = call("GET", "/v1/audit", {}, key_b);
  ASSERT_EQ(r.status, 200) << r.body;
  j = body_json(r);
  ASSERT_EQ(j["entries"].items.size(), 1u);
  EXPECT_EQ(j["entries"].items[0]["action"].string, "agent.revoked");

  // Filters.
  auto count = [&](std::string_view query) {
    const http_response got = call("GET", "/v1/audit?" + std::string(query), {}, key_a);
    EXPECT_EQ(got.status, 200) << query << ": " << got.body;
    return body_json(got)["entries"].items.size();
  };
  EXPECT_EQ(count("action=agent.suspended"), 3u);
  EXPECT_EQ(count("target_id=agent-1"), 2u);
  EXPECT_EQ(count("target_id=agent-1&action=agent.created"), 1u);
  EXPECT_EQ(count("actor_id=agent-parent"), 7u);
  EXPECT_EQ(count("actor_id=someone-else"), 0u);
  EXPECT_EQ(count("since=" + rfc3339_ms(t0 + 2000)), 5u);
  EXPECT_EQ(count("until=" + rfc3339_ms(t0 + 2000)), 2u);
  EXPECT_EQ(count("since=" + rfc3339_ms(t0 + 1000) + "&until=" + rfc3339_ms(t0 + 3000)), 2u);

  // Paging: 3 + 3 + 1, the same entries in the same order, no repeats.
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 3; ++page) {
    const std::string q = "/v1/audit?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor);
    r = call("GET", q, {}, key_a);
    ASSERT_EQ(r.status, 200) << r.body;
    j = body_json(r);
    for (const json& e : j["entries"].items) seen.push_back(e["id"].string);
    cursor = j["nextCursor"].is_null() ? "" : j["nextCursor"].string;
    EXPECT_EQ(cursor.empty(), page == 2);
  }
  ASSERT_EQ(seen.size(), 7u);
  for (std::size_t i = 0; i < 7; ++i) EXPECT_EQ(seen[i], entries[6 - i].id);
}

TEST_F(audit_server, RefusesBadParametersAndUnentitledKeys) {
  const std::string a = create_workspace("a")["id"].string;
  const std::string viewer = key_of(a, R"(["platform.viewer"])");
  const std::string reviewer = key_of(a, R"(["governance.reviewer"])");
  EXPECT_TRUE(is_error(call("GET", "/v1/audit?limit=0", {}, viewer), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("GET", "/v1/audit?limit=501", {}, viewer), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("GET", "/v1/audit?since=yesterday", {}, viewer), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("GET", "/v1/audit?cursor=nope", {}, viewer), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("GET", "/v1/audit?target_id=", {}, viewer), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("GET", "/v1/audit?action=" + std::string(256, 'x'), {}, viewer), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("GET", "/v1/audit?actor_id=%zz", {}, viewer), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("GET", "/v1/audit", {}, reviewer), 403, "FORBIDDEN"));
  EXPECT_TRUE(is_error(call("GET", "/v1/audit"), 401, "UNAUTHORIZED"));
  const http_response empty = call("GET", "/v1/audit", {}, viewer);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(empty.body, R"({"entries":[],"nextCursor":null})");
}

}  // namespace
}  // namespace warrant::test
