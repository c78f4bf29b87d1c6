// tests/agents/agent_model_test.cc: engine/agents/model.h and the tenancy index's agent rules,
// in-process: codecs, the lifecycle table, effective status through ancestors, presets as
// nested scope sets, and the key table leaving out every key of a disabled subtree.
#include <gtest/gtest.h>

#include "engine/agents/model.h"
#include "engine/guard/access.h"
#include "engine/tenancy/index.h"

namespace warrant::engine {
namespace {

agent_record sample() {
  agent_record a;
  a.id = "0190a0b0-0000-7000-8000-000000000001";
  a.workspace_id = "ws";
  a.name = "bot";
  a.type = agent_type::ai_agent;
  a.preset = agent_preset::operator_;
  std::string unknown;
  EXPECT_TRUE(event_types_mask({"ai.task.completed", "gig.paid"}, a.allowed_event_types, unknown));
  a.require_idempotency = true;
  a.requests_per_minute = 42;
  a.owner = "o";
  a.model_version = "m";
  a.endpoint = "https://e";
  a.operational_state = "running";
  a.root_authorizer = "alice";
  a.status = agent_state::suspended;
  a.parent_id = "0190a0b0-0000-7000-8000-000000000000";
  a.root_id = a.parent_id;
  a.depth = 1;
  a.source = membership_source::spawned;
  a.key_id = "k";
  a.key_prefix = "wrnt_abcd";
  a.key_last4 = "wxyz";
  a.children = {"c1", "c2"};
  a.created_at_ms = 1;
  a.updated_at_ms = 2;
  a.last_activity_at_ms = 3;
  return a;
}

TEST(agent_model, RecordRoundTrips) {
  const agent_record a = sample();
  auto back = decode_agent(encode_agent(a));
  ASSERT_TRUE(back);
  EXPECT_EQ(encode_agent(*back), encode_agent(a));
  EXPECT_EQ(back->children, a.children);
  EXPECT_EQ(back->allowed_event_types, a.allowed_event_types);
  EXPECT_EQ(event_type_names(back->allowed_event_types).size(), 2u);
  EXPECT_EQ(back->status, agent_state::suspended);
}

TEST(agent_model, DecodeRefusesBrokenRecords) {
  agent_record a = sample();
  a.parent_id.clear();  // depth 1 without a parent
  EXPECT_FALSE(decode_agent(encode_agent(a)));
  EXPECT_FALSE(decode_agent("garbage"));
  a = sample();
  a.id.clear();
  EXPECT_FALSE(decode_agent(encode_agent(a)));
}

TEST(agent_model, SpawnPolicyRoundTrips) {
  spawn_policy p{"ws", true, 5, 3, 7, 99};
  auto back = decode_spawn_policy(encode_spawn_policy(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(encode_spawn_policy(*back), encode_spawn_policy(p));
  p.max_depth = spawn_depth_max + 1;
  EXPECT_FALSE(decode_spawn_policy(encode_spawn_policy(p)));
}

TEST(agent_model, LifecycleTable) {
  using s = agent_state;
  using a = agent_action;
  EXPECT_EQ(agent_transition(s::active, a::suspend), s::suspended);
  EXPECT_FALSE(agent_transition(s::suspended, a::suspend));
  EXPECT_FALSE(agent_transition(s::pending_approval, a::suspend));
  EXPECT_EQ(agent_transition(s::suspended, a::reactivate), s::active);
  EXPECT_FALSE(agent_transition(s::active, a::reactivate));
  EXPECT_FALSE(agent_transition(s::pending_approval, a::reactivate));
  for (s from : {s::active, s::suspended, s::pending_approval}) EXPECT_EQ(agent_transition(from, a::revoke), s::revoked);
  for (a act : {a::suspend, a::reactivate, a::revoke, a::approve}) EXPECT_FALSE(agent_transition(s::revoked, act));
  EXPECT_EQ(agent_transition(s::pending_approval, a::approve), s::active);
  EXPECT_FALSE(agent_transition(s::active, a::approve));
}

// A chain root → ... of `n` agents in a snapshot.
tenancy_snapshot chain(std::size_t n) {
  tenancy_snapshot s;
  std::string parent;
  for (std::size_t i = 0; i < n; ++i) {
    agent_record a;
    a.id = "a" + std::to_string(i);
    a.workspace_id = "ws";
    a.parent_id = parent;
    a.root_id = "a0";
    a.depth = static_cast<std::uint32_t>(i);
    s.agents[a.id].rec = a;
    s.agent_keys.insert(agent_storage_key("ws", a.id));
    parent = a.id;
  }
  return s;
}

TEST(agent_model, EffectiveStatusFoldsInEveryAncestor) {
  tenancy_snapshot s = chain(6);
  derive_effective_statuses(s);
  for (const auto& [id, a] : s.agents) EXPECT_EQ(a.effective, agent_state::active) << id;
  s.agents["a2"].rec.status = agent_state::suspended;
  derive_effective_statuses(s);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(s.agents["a" + std::to_string(i)].effective, i >= 2 ? agent_state::suspended : agent_state::active) << i;
  }
  s.agents["a4"].rec.status = agent_state::pending_approval;
  s.agents["a1"].rec.status = agent_state::revoked;  // revoked beats suspended beats pending
  derive_effective_statuses(s);
  EXPECT_EQ(s.agents["a0"].effective, agent_state::active);
  for (int i = 1; i < 6; ++i) EXPECT_EQ(s.agents["a" + std::to_string(i)].effective, agent_state::revoked) << i;
  // A missing parent (never written) counts as revoked.
  s.agents["a1"].rec.status = agent_state::active;
  s.agents["a2"].rec.status = agent_state::active;
  s.agents["a4"].rec.status = agent_state::active;
  s.agents.erase("a3");
  derive_effective_statuses(s);
  EXPECT_EQ(s.agents["a2"].effective, agent_state::active);
  EXPECT_EQ(s.agents["a4"].effective, agent_state::revoked);
}

TEST(agent_model, PresetsNestAndHoldOnlyEvidenceScopes) {
  scope_set previous = 0;
  for (const preset_scopes& p : preset_scope_bundles()) {
    EXPECT_EQ(p.scopes & previous, previous) << agent_preset_name(p.preset);
    EXPECT_NE(p.scopes, previous);
    EXPECT_EQ(p.scopes & ~evidence_scopes, 0u);
    previous = p.scopes;
  }
  EXPECT_EQ(scopes_of_preset(agent_preset::read_only) & scope_events_write, 0u);
  EXPECT_NE(scopes_of_preset(agent_preset::standard) & scope_events_write, 0u);
  EXPECT_NE(scopes_of_preset(agent_preset::operator_) & scope_agents_spawn, 0u);
  EXPECT_EQ(scopes_of_preset(agent_preset::operator_) & scope_agents_write, 0u);
  agent_record a;
  a.preset = agent_preset::read_only;
  EXPECT_EQ(key_scopes(role_platform_admin, &a), scopes_of_preset(agent_preset::read_only));
  EXPECT_EQ(key_scopes(role_platform_viewer, nullptr) & evidence_scopes, evidence_scopes);
  EXPECT_EQ(scope_name(scope_agents_spawn), "agents:spawn");
}

TEST(agent_model, KeyTableLeavesOutKeysOfDisabledAgents) {
  tenancy_index idx;
  workspace w{"ws", "ws", "ws", 2000, 1};
  idx.stage_workspace(w);
  std::vector<key_hash> hashes;
  std::string parent;
  for (int i = 0; i < 5; ++i) {
    agent_record a;
    a.id = "a" + std::to_string(i);
    a.workspace_id = "ws";
    a.parent_id = parent;
    a.root_id = "a0";
    a.depth = static_cast<std::uint32_t>(i);
    a.preset = agent_preset::standard;
    a.key_id = "k" + std::to_string(i);
    api_key_record k;
    k.id = a.key_id;
    k.workspace_id = "ws";
    k.hash = hash_api_key("key-" + std::to_string(i));
    k.agent_id = a.id;
    hashes.push_back(k.hash);
    idx.stage_key(k);
    idx.stage_agent(a);
    parent = a.id;
  }
  api_key_record ws_key;
  ws_key.id = "wk";
  ws_key.workspace_id = "ws";
  ws_key.roles = role_platform_viewer;
  ws_key.hash = hash_api_key("workspace-key");
  idx.stage_key(ws_key);
  idx.publish();
  EXPECT_EQ(idx.current().usable_keys.size(), 6u);
  const key_admission* e = idx.current().usable_keys.find(hashes[3]);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->scopes, scopes_of_preset(agent_preset::standard));
  ASSERT_NE(e->agent, nullptr);
  EXPECT_EQ(e->agent->rec.id, "a3");
  EXPECT_NE(e->activity, nullptr);
  const key_admission* w_entry = idx.current().usable_keys.find(ws_key.hash);
  ASSERT_NE(w_entry, nullptr);
  EXPECT_EQ(w_entry->agent, nullptr);
  EXPECT_EQ(w_entry->scopes & evidence_scopes, evidence_scopes);

  // Suspending a2 takes a2, a3 and a4 out of the table with one publish; no child rewritten.
  agent_record a2 = idx.staged().find_agent("a2")->rec;
  a2.status = agent_state::suspended;
  idx.stage_agent(a2);
  idx.publish();
  const tenancy_snapshot& snap = idx.current();
  EXPECT_EQ(snap.usable_keys.size(), 3u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(snap.usable_keys.find(hashes[static_cast<std::size_t>(i)]) != nullptr, i < 2) << i;
  EXPECT_EQ(snap.find_agent("ws", "a4")->effective, agent_state::suspended);
  EXPECT_EQ(snap.find_agent("other", "a4"), nullptr);

  // An erased key is gone entirely; the activity cell survives republishing.
  const activity_cell* cell = snap.find_agent("a0")->activity;
  const_cast<activity_cell*>(cell)->touch(5000);
  idx.erase_key("ws", "k0");
  idx.publish();
  EXPECT_EQ(idx.current().find_key(hashes[0]), nullptr);
  EXPECT_EQ(idx.current().usable_keys.find(hashes[0]), nullptr);
  EXPECT_EQ(idx.current().find_agent("a0")->last_activity_at_ms(), 5000);
}

}  // namespace
}  // namespace warrant::engine
