// engine/tenancy/key_table.*: the request path's key table, built with each published tenancy
// snapshot — lookups of present and absent hashes, colliding home slots, growth, revocation,
// expiry and limit changes visible after the next publish, the resolved workspace and limiter
// cells, and the pre-rendered /api/me answer.
#include "engine/tenancy/key_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/guard/rate_limit.h"
#include "engine/tenancy/index.h"

namespace warrant::engine {
namespace {

// A hash whose home slot (first 8 bytes) is `home` and whose tail is `tail`.
key_hash hash_of(std::uint64_t home, std::uint8_t tail) {
  key_hash h{};
  for (std::size_t i = 0; i < 8; ++i) h[i] = static_cast<unsigned char>(home >> (56 - 8 * i));
  h[31] = tail;
  return h;
}

api_key_record key_record(std::string id, std::string ws, const key_hash& h) {
  api_key_record k;
  k.id = std::move(id);
  k.workspace_id = std::move(ws);
  k.hash = h;
  k.prefix = "wrnt_abcd";
  k.last4 = "wxyz";
  k.roles = role_platform_viewer;
  return k;
}

TEST(KeyTable, EmptyTableFindsNothing) {
  key_table t;
  EXPECT_EQ(t.find(hash_of(1, 1)), nullptr);
  tenancy_index idx;
  idx.publish();
  EXPECT_EQ(idx.current().usable_keys.find(hash_of(1, 1)), nullptr);
}

TEST(KeyTable, CollidingHomeSlotsAreAllFoundAndAbsentHashesAreNot) {
  tenancy_index idx;
  idx.stage_workspace(workspace{"w", "w", "w", 100, 1});
  // Eight hashes with the same home slot, differing only in the last byte (the full compare
  // tells them apart), plus neighbours whose home slots are taken by that run.
  for (std::uint8_t i = 0; i < 8; ++i) idx.stage_key(key_record("same" + std::to_string(i), "w", hash_of(5, i)));
  for (std::uint8_t i = 0; i < 3; ++i) idx.stage_key(key_record("next" + std::to_string(i), "w", hash_of(6 + i, 0)));
  idx.publish();
  const key_table& t = idx.current().usable_keys;
  EXPECT_EQ(t.size(), 11u);
  EXPECT_GE(t.probe_max(), 8u);
  for (std::uint8_t i = 0; i < 8; ++i) {
    const key_admission* k = t.find(hash_of(5, i));
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->key->id, "same" + std::to_string(i));
    EXPECT_EQ(k->hash, hash_of(5, i));
  }
  for (std::uint8_t i = 0; i < 3; ++i) {
    ASSERT_NE(t.find(hash_of(6 + i, 0)), nullptr);
    EXPECT_EQ(t.find(hash_of(6 + i, 0))->key->id, "next" + std::to_string(i));
  }
  // Absent: same home, other tail (walks the whole run); an empty home; a differing first byte.
  EXPECT_EQ(t.find(hash_of(5, 200)), nullptr);
  EXPECT_EQ(t.find(hash_of(12, 0)), nullptr);
  key_hash other = hash_of(5, 1);
  other[16] ^= 1;
  EXPECT_EQ(t.find(other), nullptr) << "the whole hash is compared, not only the home bytes";
}

TEST(KeyTable, PrefetchingNamesTheEntryWhoseTagMatches) {
  key_table empty;
  empty.prefetch_slot(hash_of(5, 0));
  EXPECT_EQ(empty.prefetch_entry(hash_of(5, 0)), nullptr);
  tenancy_index idx;
  idx.stage_workspace(workspace{"w", "w", "w", 100, 1});
  idx.stage_key(key_record("a", "w", hash_of(5, 0)));
  key_hash other_tag = hash_of(5, 0);
  other_tag[8] ^= 1;  // same home slot, another tag
  idx.stage_key(key_record("b", "w", other_tag));
  idx.publish();
  const key_table& t = idx.current().usable_keys;
  t.prefetch_slot(hash_of(5, 0));
  EXPECT_EQ(t.prefetch_entry(hash_of(5, 0)), t.find(hash_of(5, 0)));
  EXPECT_EQ(t.prefetch_entry(other_tag), t.find(other_tag)) << "the colliding key's slot is walked past";
  EXPECT_EQ(t.prefetch_entry(hash_of(12, 0)), nullptr);
  // Same home and tag, another hash: the candidate is named, not compared (find refuses it).
  key_hash same_tag = hash_of(5, 0);
  same_tag[31] ^= 1;
  EXPECT_EQ(t.prefetch_entry(same_tag), t.find(hash_of(5, 0)));
  EXPECT_EQ(t.find(same_tag), nullptr);
}

TEST(KeyTable, GrowsWithTheKeysAndKeepsTheLoadAtMostOneHalf) {
  tenancy_index idx;
  idx.stage_workspace(workspace{"w", "w", "w", 100, 1});
  std::map<std::string, key_hash> keys;
  std::size_t slots_before = 0;
  for (std::size_t n = 1; n <= 5000; ++n) {
    const generated_key g = generate_api_key();
    const std::string id = "k" + std::to_string(n);
    idx.stage_key(key_record(id, "w", g.hash));
    keys[id] = g.hash;
    if (n == 10 || n == 1000 || n == 5000) {
      idx.publish();
      const key_table& t = idx.current().usable_keys;
      EXPECT_EQ(t.size(), n);
      EXPECT_LE(2 * t.size(), t.slots());
      EXPECT_EQ(t.slots() & (t.slots() - 1), 0u) << "a power of two";
      EXPECT_GT(t.slots(), slots_before);
      slots_before = t.slots();
      for (const auto& [kid, h] : keys) {
        const key_admission* k = t.find(h);
        ASSERT_NE(k, nullptr) << kid;
        ASSERT_EQ(k->key->id, kid);
      }
      for (int i = 0; i < 100; ++i) EXPECT_EQ(t.find(generate_api_key().hash), nullptr);
    }
  }
}

TEST(KeyTable, SlotsResolveTheWorkspaceLimitsAndCells) {
  tenancy_index idx;
  idx.stage_workspace(workspace{"default", "default", "default", 0, 1});  // 0: the default limit
  idx.stage_workspace(workspace{"w", "w", "w", 50, 1});
  api_key_record own = key_record("own", "w", hash_of(1, 1));
  own.requests_per_minute = 80;  // above its workspace's: capped at 50
  own.expires_at_ms = 9000;
  own.roles = role_platform_admin | role_governance_reviewer;
  idx.stage_key(own);
  idx.stage_key(key_record("op", "default", hash_of(2, 2)));
  idx.stage_key(key_record("orphan", "missing", hash_of(3, 3)));  // its workspace is not known
  idx.publish();
  const tenancy_snapshot& s = idx.current();
  const key_admission* k = s.usable_keys.find(hash_of(1, 1));
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->ws, s.find_workspace("w"));
  EXPECT_EQ(k->key, s.find_key("w", "own"));
  EXPECT_EQ(k->workspace_limiter, s.find_workspace("w")->limiter);
  EXPECT_EQ(k->key_limiter, s.find_key("w", "own")->limiter);
  EXPECT_EQ(k->workspace_limit, 50u);
  EXPECT_EQ(k->key_limit, key_requests_per_minute(*k->ws, *k->key));
  EXPECT_EQ(k->key_limit, 50u);
  EXPECT_EQ(k->roles, own.roles);
  EXPECT_FALSE(k->in_default_workspace);
  EXPECT_TRUE(k->usable_at(8999));
  EXPECT_FALSE(k->usable_at(9000)) << "expires_at is the first instant it no longer works";

  const key_admission* op = s.usable_keys.find(hash_of(2, 2));
  ASSERT_NE(op, nullptr);
  EXPECT_TRUE(op->in_default_workspace);
  EXPECT_EQ(op->workspace_limit, default_requests_per_minute);
  EXPECT_EQ(op->key_limiter, nullptr);
  EXPECT_EQ(op->key_limit, 0u);
  EXPECT_TRUE(op->usable_at(std::numeric_limits<std::int64_t>::max() - 1)) << "never expires";

  EXPECT_EQ(s.usable_keys.find(hash_of(3, 3)), nullptr) << "a key without its workspace is refused, as before";
}

TEST(KeyTable, RevocationExpiryAndLimitChangesShowAfterTheNextPublish) {
  tenancy_index idx;
  workspace w{"w", "w", "w", 50, 1};
  idx.stage_workspace(w);
  api_key_record k = key_record("k", "w", hash_of(7, 7));
  idx.stage_key(k);
  idx.publish();
  const tenancy_snapshot& first = idx.current();
  ASSERT_NE(first.usable_keys.find(k.hash), nullptr);
  limiter_cell* cell = first.usable_keys.find(k.hash)->workspace_limiter;

  w.requests_per_minute = 7;
  idx.stage_workspace(w);
  k.expires_at_ms = 1234;
  k.roles = role_platform_admin;
  idx.stage_key(k);
  idx.publish();
  const key_admission* changed = idx.current().usable_keys.find(k.hash);
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->workspace_limit, 7u);
  EXPECT_EQ(changed->workspace_limiter, cell) << "the limiter state outlives the snapshot";
  EXPECT_EQ(changed->usable_before_ms, 1234);
  EXPECT_EQ(changed->roles, role_platform_admin);
  EXPECT_NE(changed->identity().find(R"("roles":["platform.admin"])"), std::string_view::npos);

  k.revoked_at_ms = 99;
  idx.stage_key(k);
  idx.publish();
  EXPECT_EQ(idx.current().usable_keys.find(k.hash), nullptr) << "revoked: gone from the table";
  EXPECT_NE(idx.current().find_key(k.hash), nullptr) << "the record stays for the admin API";
}

TEST(KeyTable, IdentityIsTheApiMeAnswer) {
  tenancy_index idx;
  idx.stage_workspace(workspace{"w1", "one", "", 50, 1});        // no namespace: org_id is the id
  idx.stage_workspace(workspace{"w2", "two", "org\"x\\", 50, 1});  // escaped like any JSON string
  api_key_record a = key_record("ka", "w1", hash_of(1, 0));
  a.roles = role_platform_viewer | role_governance_approver;
  api_key_record b = key_record("kb", "w2", hash_of(2, 0));
  b.roles = 0;
  idx.stage_key(a);
  idx.stage_key(b);
  idx.publish();
  const key_table& t = idx.current().usable_keys;
  EXPECT_EQ(t.find(a.hash)->identity(),
            R"({"user_id":"ka","workspace_id":"w1","org_id":"w1","key_prefix":"wrnt_abcd",)"
            R"("roles":["platform.viewer","governance.approver"]})");
  EXPECT_EQ(t.find(b.hash)->identity(),
            R"({"user_id":"kb","workspace_id":"w2","org_id":"org\"x\\","key_prefix":"wrnt_abcd","roles":[]})");
}

TEST(KeyTable, ACopyIsEmptyAndPublishedSnapshotsBuildTheirOwn) {
  tenancy_index idx;
  idx.stage_workspace(workspace{"w", "w", "w", 50, 1});
  idx.stage_key(key_record("k", "w", hash_of(1, 1)));
  idx.publish();
  const tenancy_snapshot copy = idx.current();
  EXPECT_EQ(copy.usable_keys.size(), 0u) << "its slots would point into the original";
  EXPECT_EQ(copy.usable_keys.find(hash_of(1, 1)), nullptr);
  EXPECT_NE(copy.find_key(hash_of(1, 1)), nullptr);
  EXPECT_EQ(idx.staged().usable_keys.size(), 0u) << "only published snapshots have one";
  EXPECT_EQ(idx.current().usable_keys.size(), 1u);
}

}  // namespace
}  // namespace warrant::engine
