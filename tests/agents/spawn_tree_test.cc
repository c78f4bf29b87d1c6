// tests/agents/spawn_tree_test.cc: genealogy end to end (spec/evidence.md "Agents and
// genealogy"): a tree of depth 5 with fan-out 2 built by each parent's own key, escalation
// attempts at every level, a suspension in the middle that disables exactly its subtree for
// authentication and for policy decisions, and revoke-descendants at the root; plus a
// revocation seen by every shard on the next request, and the tree route's filters.
#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wrestrict"

#include <map>
#include <set>

#include "tests/agents/agents_fixture.h"

namespace warrant::test {
namespace {

using spawn_tree = agents_fixture;

struct node {
  agent_handle h;
  std::string parent;
  int depth = 0;
};

bool has_reason(const json& decision, std::string_view code) {
  for (const json& r : decision["reasons"].items) {
    if (r.string == code) return true;
  }
  return false;
}

constexpr int depth_max = 5;
constexpr int fan_out = 2;

class tree_builder {
 public:
  explicit tree_builder(spawn_tree& t) : _t(t) {}

  // Builds the tree under `root`, trying every escalation at every level first.
  void grow(const node& parent) {
    _nodes.push_back(parent);
    if (parent.depth == depth_max) {
      EXPECT_TRUE(is_error(_t.spawn_raw(parent.h.id, R"({"name":"too-deep"})", parent.h.key), 403,
                           "SPAWN_DEPTH_EXCEEDED"))
          << "depth " << parent.depth;
      return;
    }
    try_escalations(parent);
    for (int i = 0; i < fan_out; ++i) {
      node child;
      child.h = _t.spawn(parent.h.id, R"({"name":"n)" + std::to_string(_nodes.size()) + "-" + std::to_string(i) + "\"}",
                         parent.h.key);
      child.parent = parent.h.id;
      child.depth = parent.depth + 1;
      EXPECT_EQ(child.h.agent["depth"].integer, child.depth);
      EXPECT_EQ(child.h.agent["parentId"].string, parent.h.id);
      EXPECT_EQ(child.h.agent["rootId"].string, _nodes.front().h.id);
      EXPECT_EQ(child.h.agent["preset"].string, "operator");  // inherited
      EXPECT_EQ(child.h.agent["rateLimitPerMinute"].integer, 1000);
      EXPECT_EQ(child.h.agent["allowedEventTypes"].items.size(), 2u);
      grow(child);
    }
    EXPECT_TRUE(is_error(_t.spawn_raw(parent.h.id, R"({"name":"one-too-many"})", parent.h.key), 403,
                         "SPAWN_CHILDREN_EXCEEDED"));
  }

  void try_escalations(const node& parent) {
    const std::string& id = parent.h.id;
    const std::string& key = parent.h.key;
    const char* attempts[] = {
        R"({"name":"x","type":"SERVICE_ACCOUNT","preset":"admin"})",          // preset above operator
        R"({"name":"x","allowedEventTypes":["ai.task.completed","ai.escalated"]})",  // a type the parent lacks
        R"({"name":"x","rateLimitPerMinute":1001})",                           // above the parent's limit
        R"({"name":"x","requireIdempotency":false})",                          // drops a rule
        R"({"name":"x","type":"SERVICE_ACCOUNT"})",                            // sheds the AI guardrails
    };
    for (const char* body : attempts) {
      const http_response r = _t.spawn_raw(id, body, key);
      EXPECT_TRUE(is_error(r, 403, "SCOPE_ESCALATION")) << "depth " << parent.depth << " " << body << " " << r.body;
    }
    // Asking for the parent's rights or fewer is fine (and is checked by the children below).
    EXPECT_TRUE(is_error(_t.spawn_raw(id, R"({"name":"x","preset":"admin"})", key), 400,
                         "AGENT_ADMIN_PRESET_FORBIDDEN"));
  }

  std::vector<node>& nodes() { return _nodes; }

 private:
  spawn_tree& _t;
  std::vector<node> _nodes;
};

// Every node's authentication and policy outcome against `expected` (ACTIVE / SUSPENDED / REVOKED).
void check_all(spawn_tree& t, const std::vector<node>& nodes, const std::map<std::string, std::string>& expected) {
  for (const node& n : nodes) {
    const std::string& want = expected.at(n.h.id);
    const int auth = t.auth_status(n.h.key);
    const json d = t.evaluate_service(n.h.id);
    if (want == "ACTIVE") {
      EXPECT_EQ(auth, 200) << "depth " << n.depth;
      EXPECT_EQ(d["decision"].string, "ALLOW") << d.dump();
    } else {
      EXPECT_EQ(auth, 401) << "depth " << n.depth << " " << want;
      EXPECT_EQ(d["decision"].string, "DENY") << d.dump();
      EXPECT_TRUE(has_reason(d, want == "REVOKED" ? "AGENT_REVOKED" : "AGENT_SUSPENDED")) << d.dump();
    }
    EXPECT_EQ(t.get_agent(n.h.id)["effectiveStatus"].string, want);
  }
}

std::set<std::string> subtree_of(const std::vector<node>& nodes, const std::string& top) {
  std::set<std::string> out{top};
  for (bool grew = true; grew;) {
    grew = false;
    for (const node& n : nodes) {
      if (out.count(n.parent) && out.insert(n.h.id).second) grew = true;
    }
  }
  return out;
}

TEST_F(spawn_tree, DepthFiveFanOutEscalationsSuspendInTheMiddleRevokeAtTheRoot) {
  set_spawn_policy(R"({"enabled":true,"maxDepth":5,"maxChildren":2})");
  node root;
  root.h = create_ai("root", "operator", R"(["ai.task.completed","ai.tool.invoked"])", R"("rateLimitPerMinute":1000)");
  tree_builder b(*this);
  b.grow(root);
  std::vector<node>& nodes = b.nodes();
  ASSERT_EQ(nodes.size(), 63u);  // 1 + 2 + 4 + 8 + 16 + 32

  std::map<std::string, std::string> expected;
  for (const node& n : nodes) expected[n.h.id] = "ACTIVE";
  check_all(*this, nodes, expected);

  // The tree route: nested, with depth, membership source and status.
  json tree = body_json(req("GET", "/v1/agents/tree?rootId=" + root.h.id));
  ASSERT_EQ(tree["nodes"].items.size(), 1u);
  const json* at = &tree["nodes"].items[0];
  for (int d = 0; d <= depth_max; ++d) {
    EXPECT_EQ((*at)["depth"].integer, d);
    EXPECT_EQ((*at)["membershipSource"].string, d == 0 ? "registered" : "spawned");
    if (d < depth_max) {
      ASSERT_EQ((*at)["children"].items.size(), 2u);
      at = &(*at)["children"].items[0];
    }
  }
  json shallow = body_json(req("GET", "/v1/agents/tree?rootId=" + root.h.id + "&depth=1"));
  EXPECT_EQ(shallow["nodes"].items[0]["children"].items.size(), 2u);
  EXPECT_EQ(shallow["nodes"].items[0]["children"].items[0]["children"].items.size(), 0u);

  // Suspend a node in the middle (depth 2): exactly its subtree is disabled, without a write
  // to any child.
  const node* middle = nullptr;
  for (const node& n : nodes) {
    if (n.depth == 2) {
      middle = &n;
      break;
    }
  }
  ASSERT_NE(middle, nullptr);
  ASSERT_EQ(req("POST", "/v1/agents/" + middle->h.id + "/suspend").status, 200);
  const std::set<std::string> sub = subtree_of(nodes, middle->h.id);
  EXPECT_EQ(sub.size(), 15u);  // 1 + 2 + 4 + 8
  for (const std::string& id : sub) expected[id] = "SUSPENDED";
  check_all(*this, nodes, expected);
  for (const std::string& id : sub) {
    if (id != middle->h.id) {
      EXPECT_EQ(get_agent(id)["status"].string, "ACTIVE");  // own status untouched
    }
  }
  // A disabled parent cannot spawn, even through a workspace key.
  const std::string below = *std::next(sub.begin()) == middle->h.id ? *sub.begin() : *std::next(sub.begin());
  EXPECT_TRUE(is_error(spawn_raw(below, R"({"name":"x"})", ws_key), 409, "INVALID_AGENT_TRANSITION"));
  // The tree filter by status shows the path to each match.
  json suspended = body_json(req("GET", "/v1/agents/tree?rootId=" + root.h.id + "&status=SUSPENDED"));
  ASSERT_EQ(suspended["nodes"].items.size(), 1u);
  EXPECT_EQ(suspended["nodes"].items[0]["match"].boolean, false);

  // Reactivate: everything back; suspend again, then revoke-descendants at the root.
  ASSERT_EQ(req("POST", "/v1/agents/" + middle->h.id + "/reactivate").status, 200);
  for (const std::string& id : sub) expected[id] = "ACTIVE";
  check_all(*this, nodes, expected);
  ASSERT_EQ(req("POST", "/v1/agents/" + middle->h.id + "/suspend").status, 200);

  const http_response r = req("POST", "/v1/agents/" + root.h.id + "/revoke-descendants");
  ASSERT_EQ(r.status, 200) << r.body;
  const json rv = body_json(r);
  EXPECT_EQ(rv["revoked"].integer, 63);
  std::set<std::string> ids;
  for (const json& id : rv["ids"].items) ids.insert(id.string);
  EXPECT_EQ(ids.size(), 63u);
  for (const node& n : nodes) {
    EXPECT_TRUE(ids.count(n.h.id));
    expected[n.h.id] = "REVOKED";
  }
  check_all(*this, nodes, expected);
  for (const node& n : nodes) EXPECT_EQ(get_agent(n.h.id)["status"].string, "REVOKED");
  // Nothing left to revoke.
  EXPECT_EQ(body_json(req("POST", "/v1/agents/" + root.h.id + "/revoke-descendants"))["revoked"].integer, 0);
}

TEST_F(spawn_tree, RevocationIsSeenByEveryShardOnTheNextRequest) {
  const agent_handle a = create_ai("everywhere");
  // Many connections: SO_REUSEPORT spreads them over both shards.
  std::vector<std::unique_ptr<http_client>> clients;
  for (int i = 0; i < 24; ++i) {
    clients.push_back(std::make_unique<http_client>(port()));
    ASSERT_TRUE(clients.back()->connect());
  }
  auto status_on = [&](http_client& c, const std::string& key) {
    auto r = c.request("GET", "/api/me", {}, {{"x-api-key", key}});
    return r ? r->status : -1;
  };
  for (auto& c : clients) ASSERT_EQ(status_on(*c, a.key), 200);
  ASSERT_EQ(req("POST", "/v1/agents/" + a.id + "/suspend").status, 200);
  for (auto& c : clients) EXPECT_EQ(status_on(*c, a.key), 401);
  ASSERT_EQ(req("POST", "/v1/agents/" + a.id + "/reactivate").status, 200);
  for (auto& c : clients) EXPECT_EQ(status_on(*c, a.key), 200);
  const http_response rot = req("POST", "/v1/agents/" + a.id + "/key/rotate");
  ASSERT_EQ(rot.status, 200);
  const std::string fresh = body_json(rot)["apiKey"].string;
  for (auto& c : clients) {
    EXPECT_EQ(status_on(*c, a.key), 401);
    EXPECT_EQ(status_on(*c, fresh), 200);
  }
  ASSERT_EQ(req("POST", "/v1/agents/" + a.id + "/revoke").status, 200);
  for (auto& c : clients) EXPECT_EQ(status_on(*c, fresh), 401);
  // Both shards held some of the connections (the metrics count them per shard).
  const std::string metrics = req("GET", "/metrics").body;
  EXPECT_GT(metric_value(metrics, "warrant_connections_open{shard=\"0\"}").value_or(0), 0) << metrics;
  EXPECT_GT(metric_value(metrics, "warrant_connections_open{shard=\"1\"}").value_or(0), 0) << metrics;
}

}  // namespace
}  // namespace warrant::test
