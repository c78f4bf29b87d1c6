#include "engine/agents/agent_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "engine/agents/agent_request.h"
#include "engine/agents/commands.h"
#include "engine/common/ids.h"
#include "engine/common/json.h"
#include "engine/evidence/evidence_routes.h"
#include "engine/evidence/list_page.h"
#include "engine/evidence/query.h"
#include "engine/idempotency/canonical_json.h"
#include "engine/idempotency/key.h"

namespace warrant::engine {
namespace {

using net::request_context;
using evidence::decoded_param;
using evidence::query_param;

// Idempotency scopes: one per route pattern.
constexpr std::string_view create_scope = "/v1/agents";
constexpr std::string_view spawn_scope = "/v1/agents/{id}/spawn";

audit_actor actor_of(const principal& who) {
  return {std::string(who.key_id()), who.agent != nullptr ? who.agent->rec.id : std::string(who.key_id())};
}

// ---- request bodies -----------------------------------------------------------------------

// Enumerations and the allowlist, with their 400s. `a` has the parent's values for a spawn.
bool apply_body(const agent_body& b, agent_record& a, net::http_response& res) {
  a.name = *b.name;
  if (b.type) {
    auto t = agent_type_from_name(*b.type);
    if (!t) return res.set_error(400, "VALIDATION_ERROR", "type must be AI_AGENT or SERVICE_ACCOUNT"), false;
    a.type = *t;
  }
  if (b.preset) {
    auto p = agent_preset_from_name(*b.preset);
    if (!p) return res.set_error(400, "VALIDATION_ERROR", "preset must be read_only, standard, operator or admin"), false;
    a.preset = *p;
  }
  if (b.allowed) {
    std::string unknown;
    if (!event_types_mask(*b.allowed, a.allowed_event_types, unknown)) {
      res.set_error(400, "INVALID_EVENT_TYPE",
                    fmt::format("allowedEventTypes: '{}' is not an event type", utf8_clip(unknown)),
                    "GET /v1/events/types lists the catalogue");
      return false;
    }
  }
  if (b.require_idempotency) a.require_idempotency = *b.require_idempotency;
  if (b.rate_limit) a.requests_per_minute = *b.rate_limit;
  if (b.owner) a.owner = *b.owner;
  if (b.model_version) a.model_version = *b.model_version;
  if (b.endpoint) a.endpoint = *b.endpoint;
  if (b.root_authorizer) a.root_authorizer = *b.root_authorizer;
  if (b.operational_state) a.operational_state = *b.operational_state;
  return true;
}

// The AI_AGENT guardrails (spec/evidence.md): an allowlist, and never the admin preset.
bool check_guardrails(const agent_record& a, net::http_response& res) {
  if (a.type != agent_type::ai_agent) return true;
  if (a.allowed_event_types == 0) {
    res.set_error(400, "AGENT_ALLOWLIST_REQUIRED", "an AI_AGENT needs a non-empty allowedEventTypes",
                  "list the event types this agent may submit");
    return false;
  }
  if (a.preset == agent_preset::admin) {
    res.set_error(400, "AGENT_ADMIN_PRESET_FORBIDDEN", "an AI_AGENT may not have the admin preset",
                  "use read_only, standard or operator");
    return false;
  }
  return true;
}

// Key material for agent `a` (made on the shard; the secret is shown once).
void issue_key(agent_record& a, api_key_record& k, std::string& secret, std::int64_t now) {
  generated_key g = generate_api_key();
  k.id = new_uuid_v7(now);
  k.workspace_id = a.workspace_id;
  k.name = "agent:" + a.id;
  k.hash = g.hash;
  k.prefix = g.prefix;
  k.last4 = g.last4;
  k.created_at_ms = now;
  k.requests_per_minute = a.requests_per_minute;
  k.agent_id = a.id;
  a.key_id = k.id;
  a.key_prefix = g.prefix;
  a.key_last4 = g.last4;
  secret = std::move(g.text);
}

// Idempotency-Key, canonical body and admission; false when answered.
bool admit_idempotent(idempotency::service& svc, request_context& ctx, const principal& who, std::string_view scope,
                      std::int64_t now, idempotency::ticket& t) {
  idempotency::parsed_key client_key;
  const idempotency::key_presence presence = idempotency::read_key(ctx.req, client_key);
  if (presence == idempotency::key_presence::invalid) return idempotency::answer_invalid_key(ctx.res), false;
  if (!evidence::admit_agent_write(who, presence == idempotency::key_presence::valid, ctx.res)) return false;
  std::string canonical;
  const idempotency::canonical_result c = idempotency::canonicalize(ctx.req.body, canonical);
  if (!c.ok()) {
    evidence::answer_canonical_error(c.offset, idempotency::canonical_errc_message(c.error), ctx.res);
    return false;
  }
  // Spawn's scope is per parent: the same key on two parents is two requests.
  std::string route(scope);
  if (scope == spawn_scope) route.append(":").append(ctx.params.get("id"));
  idempotency::request_identity id{who.workspace_id(), "POST", route, canonical, idempotency::key_kind::client,
                                   client_key.view()};
  return svc.admit(id, ctx.owner.index(), now, ctx.res, t);
}

// ---- registry -----------------------------------------------------------------------------

void create_agent(agents_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  agent_body b;
  json_error err;
  if (!parse_agent_body(ctx.req.body, b, err)) return answer_json_error(err, ctx.res);
  if (!b.type) return ctx.res.set_error(400, "VALIDATION_ERROR", "missing required field: type");
  if (!b.preset) return ctx.res.set_error(400, "VALIDATION_ERROR", "missing required field: preset");
  new_agent n;
  agent_record& a = n.agent;
  a.workspace_id = who.workspace_id();
  if (!apply_body(b, a, ctx.res)) return;
  // AI agents require idempotency unless told otherwise; service accounts do not.
  if (!b.require_idempotency) a.require_idempotency = a.type == agent_type::ai_agent;
  if (!check_guardrails(a, ctx.res)) return;
  const std::uint32_t ws_limit = workspace_requests_per_minute(who.ws);
  if (a.requests_per_minute > ws_limit) {
    return ctx.res.set_error(400, "RATE_LIMIT_ABOVE_WORKSPACE",
                             fmt::format("rateLimitPerMinute {} is above the workspace's {}", a.requests_per_minute,
                                         ws_limit),
                             "an agent's limit is never above its workspace's");
  }
  const std::int64_t now = unix_now_ms();
  idempotency::ticket t;
  if (!admit_idempotent(api.idempotency, ctx, who, create_scope, now, t)) return;
  a.id = new_uuid_v7(now);
  a.root_id = a.id;
  a.source = membership_source::registered;
  a.status = agent_state::active;
  a.created_at_ms = now;
  a.updated_at_ms = now;
  issue_key(a, n.key, n.secret, now);
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx, make_create_agent(ctx.owner, token, std::move(t), api.index, actor_of(who), std::move(n)));
}

void answer_agent_missing(net::http_response& res) {
  res.set_error(404, "NOT_FOUND", "agent not found", "GET /v1/agents lists the workspace's agents");
}

const indexed_agent* find_or_404(request_context& ctx, const principal& who) {
  const indexed_agent* a = who.snapshot.find_agent(who.workspace_id(), ctx.params.get("id"));
  if (a == nullptr) answer_agent_missing(ctx.res);
  return a;
}

void get_agent(agents_api&, request_context& ctx, const principal& who) {
  if (const indexed_agent* a = find_or_404(ctx, who)) render_agent(ctx.res.body(), *a);
}

struct agent_filter {
  std::optional<agent_state> status, effective;
  std::optional<agent_type> type;
  std::optional<agent_preset> preset;
  std::optional<membership_source> source;
  std::optional<std::string> parent, root;
  std::optional<std::uint32_t> depth;
  std::optional<std::int64_t> active_since;
  bool auth_mode_other = false;  // authMode other than api_key: nothing matches

  bool matches(const indexed_agent& x) const {
    const agent_record& a = x.rec;
    return !auth_mode_other && (!status || a.status == *status) && (!effective || x.effective == *effective) &&
           (!type || a.type == *type) && (!preset || a.preset == *preset) && (!source || a.source == *source) &&
           (!parent || a.parent_id == *parent) && (!root || a.root_id == *root) && (!depth || a.depth == *depth) &&
           (!active_since || x.last_activity_at_ms() >= *active_since);
  }
};

template <typename T, typename Parse>
bool enum_param(request_context& ctx, std::string_view name, std::optional<T>& out, Parse&& parse, std::string_view ok) {
  std::string text;
  bool present = false;
  if (!decoded_param(ctx.req.query, name, text, present, ctx.res)) return false;
  if (!present) return true;
  out = parse(text);
  if (!out) {
    ctx.res.set_error(400, "VALIDATION_ERROR", fmt::format("query parameter '{}' must be one of {}", name, ok));
    return false;
  }
  return true;
}

// `?depth=N`, 0 to spawn_depth_max (400 VALIDATION_ERROR otherwise); `present` says whether given.
bool depth_param(request_context& ctx, std::uint32_t& depth, bool& present) {
  std::string text;
  if (!decoded_param(ctx.req.query, "depth", text, present, ctx.res)) return false;
  if (!present) return true;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), depth);
  if (ec != std::errc() || end != text.data() + text.size() || depth > spawn_depth_max) {
    ctx.res.set_error(400, "VALIDATION_ERROR", fmt::format("depth must be an integer from 0 to {}", spawn_depth_max));
    return false;
  }
  return true;
}

bool parse_filter(request_context& ctx, agent_filter& f) {
  if (!enum_param(ctx, "status", f.status, agent_state_from_name, "ACTIVE, SUSPENDED, REVOKED, PENDING_APPROVAL") ||
      !enum_param(ctx, "effectiveStatus", f.effective, agent_state_from_name,
                  "ACTIVE, SUSPENDED, REVOKED, PENDING_APPROVAL") ||
      !enum_param(ctx, "type", f.type, agent_type_from_name, "AI_AGENT, SERVICE_ACCOUNT") ||
      !enum_param(ctx, "preset", f.preset, agent_preset_from_name, "read_only, standard, operator, admin") ||
      !enum_param(ctx, "membershipSource", f.source, membership_source_from_name, "registered, spawned")) {
    return false;
  }
  std::string text;
  bool present = false;
  for (std::string_view name : {"parentId", "parent"}) {
    if (!decoded_param(ctx.req.query, name, text, present, ctx.res)) return false;
    if (present) f.parent = text;
  }
  if (!decoded_param(ctx.req.query, "rootId", text, present, ctx.res)) return false;
  if (present) f.root = text;
  std::uint32_t depth = 0;
  if (!depth_param(ctx, depth, present)) return false;
  if (present) f.depth = depth;
  if (!decoded_param(ctx.req.query, "authMode", text, present, ctx.res)) return false;
  if (present) f.auth_mode_other = text != "api_key";
  if (!decoded_param(ctx.req.query, "lastActivityAt", text, present, ctx.res)) return false;
  if (present) {
    f.active_since = parse_time_ms(text);
    if (!f.active_since) {
      ctx.res.set_error(400, "VALIDATION_ERROR", "lastActivityAt must be an RFC 3339 time (active at or after it)");
      return false;
    }
  }
  return true;
}

void list_agents(agents_api&, request_context& ctx, const principal& who) {
  agent_filter f;
  std::size_t limit = 0;
  if (!parse_filter(ctx, f) || !evidence::parse_limit(ctx.req.query, limit, ctx.res)) return;
  std::vector<const indexed_agent*> all = who.snapshot.agents_of(who.workspace_id());  // oldest first
  std::size_t end = all.size();  // exclusive; the page walks down from here (newest first)
  std::string_view cursor;
  if (query_param(ctx.req.query, "cursor", cursor)) {
    auto it = std::find_if(all.begin(), all.end(), [&](const indexed_agent* a) { return a->rec.id == cursor; });
    if (it == all.end()) return ctx.res.set_error(400, "VALIDATION_ERROR", "cursor is not one this list gave");
    end = static_cast<std::size_t>(it - all.begin());
  }
  evidence::list_page<const indexed_agent*> page;
  for (std::size_t i = end; i-- > 0;) {
    if (!f.matches(*all[i])) continue;
    if (page.records.size() == limit) {  // one more matches: the next page starts after the last kept
      page.next_cursor = page.records.back()->rec.id;
      break;
    }
    page.records.push_back(all[i]);
  }
  evidence::write_page(ctx.res.body(), "agents", page,
                       [](net::byte_buffer& out, const indexed_agent* a) { render_agent(out, *a); });
}

// ---- lifecycle ----------------------------------------------------------------------------

void transition(agents_api& api, request_context& ctx, const principal& who, agent_action action) {
  const indexed_agent* a = find_or_404(ctx, who);
  if (a == nullptr) return;
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx,
         make_agent_transition(ctx.owner, token, api.index, actor_of(who), a->rec.workspace_id, a->rec.id, action));
}

void rotate_key(agents_api& api, request_context& ctx, const principal& who) {
  const indexed_agent* found = find_or_404(ctx, who);
  if (found == nullptr) return;
  agent_record a = found->rec;
  api_key_record k;
  std::string secret;
  issue_key(a, k, secret, unix_now_ms());
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx,
         make_rotate_agent_key(ctx.owner, token, api.index, actor_of(who), a.workspace_id, a.id, std::move(k),
                               std::move(secret)));
}

void revoke_descendants(agents_api& api, request_context& ctx, const principal& who) {
  const indexed_agent* a = find_or_404(ctx, who);
  if (a == nullptr) return;
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx,
         make_revoke_descendants(ctx.owner, token, api.index, actor_of(who), a->rec.workspace_id, a->rec.id));
}

// ---- genealogy ----------------------------------------------------------------------------

void answer_escalation(net::http_response& res, std::string_view what) {
  res.set_error(403, "SCOPE_ESCALATION", fmt::format("a child may not exceed its parent: {}", what),
                "ask for the parent's permissions or fewer; nothing is narrowed silently");
}

// The child's rights against the parent's: preset, allowlist, rate limit, idempotency, type.
bool check_inheritance(const agent_record& child, const agent_record& parent, std::uint32_t parent_limit,
                       net::http_response& res) {
  if (child.preset > parent.preset) {
    answer_escalation(res, fmt::format("preset {} is above the parent's {}", agent_preset_name(child.preset),
                                       agent_preset_name(parent.preset)));
    return false;
  }
  if (parent.allowed_event_types != 0 && (child.allowed_event_types & ~parent.allowed_event_types) != 0) {
    std::string extra;
    for (std::string_view t : event_type_names(child.allowed_event_types & ~parent.allowed_event_types)) {
      if (!extra.empty()) extra.append(", ");
      extra.append(t);
    }
    answer_escalation(res, fmt::format("allowedEventTypes outside the parent's: {}", extra));
    return false;
  }
  if (parent.allowed_event_types != 0 && child.allowed_event_types == 0) {
    answer_escalation(res, "an empty allowedEventTypes (every type) under a parent with an allowlist");
    return false;
  }
  const std::uint32_t child_limit = child.requests_per_minute == 0 ? parent_limit : child.requests_per_minute;
  if (child_limit > parent_limit) {
    answer_escalation(res, fmt::format("rateLimitPerMinute {} is above the parent's {}", child_limit, parent_limit));
    return false;
  }
  if (parent.require_idempotency && !child.require_idempotency) {
    answer_escalation(res, "requireIdempotency false under a parent that requires it");
    return false;
  }
  if (parent.type == agent_type::ai_agent && child.type != agent_type::ai_agent) {
    answer_escalation(res, "type SERVICE_ACCOUNT under an AI_AGENT parent");
    return false;
  }
  return true;
}

// The spawn policy, checked here for an early answer and again in the writer's transaction.
bool check_spawn_policy(const spawn_policy& p, const indexed_agent& parent, net::http_response& res) {
  if (!p.enabled) {
    res.set_error(403, "SPAWN_DISABLED", "the workspace's spawn policy does not allow spawning",
                  "an operator enables it with PUT /v1/agents/spawn-policy");
    return false;
  }
  if (parent.rec.depth + 1 > p.max_depth) {
    res.set_error(403, "SPAWN_DEPTH_EXCEEDED",
                  fmt::format("a child of this agent would be at depth {}, past the spawn policy's maxDepth {}",
                              parent.rec.depth + 1, p.max_depth));
    return false;
  }
  if (parent.rec.children.size() >= p.max_children) {
    res.set_error(403, "SPAWN_CHILDREN_EXCEEDED",
                  fmt::format("this agent already has {} children, the spawn policy's maxChildren",
                              p.max_children));
    return false;
  }
  return true;
}

void spawn(agents_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  const indexed_agent* parent = find_or_404(ctx, who);
  if (parent == nullptr) return;
  if (who.agent != nullptr && who.agent != parent && !who.has_scope(scope_agents_write)) {
    return ctx.res.set_error(403, "FORBIDDEN", "an agent key may spawn only children of its own agent",
                             "use the parent agent's own key, or a key with agents:write");
  }
  if (parent->effective != agent_state::active) {
    return answer_invalid_transition(ctx.res, "the parent agent is not active: it cannot spawn", parent->effective);
  }
  agent_body b;
  json_error err;
  if (!parse_agent_body(ctx.req.body, b, err)) return answer_json_error(err, ctx.res);
  if (!check_spawn_policy(who.snapshot.spawn_policy_of(who.workspace_id()), *parent, ctx.res)) return;
  new_agent n;
  agent_record& a = n.agent;
  // Inherited unless asked for (and then never more than the parent's).
  a = parent->rec;
  a.children.clear();
  a.owner = parent->rec.owner;
  a.requests_per_minute = parent->rec.requests_per_minute;
  if (!apply_body(b, a, ctx.res)) return;
  a.root_authorizer = parent->rec.root_authorizer;
  if (!check_guardrails(a, ctx.res)) return;
  const std::uint32_t ws_limit = workspace_requests_per_minute(who.ws);
  const std::uint32_t parent_limit =
      parent->rec.requests_per_minute == 0 ? ws_limit : std::min(parent->rec.requests_per_minute, ws_limit);
  if (!check_inheritance(a, parent->rec, parent_limit, ctx.res)) return;
  const std::int64_t now = unix_now_ms();
  idempotency::ticket t;
  if (!admit_idempotent(api.idempotency, ctx, who, spawn_scope, now, t)) return;
  a.id = new_uuid_v7(now);
  a.parent_id = parent->rec.id;
  a.root_id = parent->rec.root_id;
  a.depth = parent->rec.depth + 1;
  a.source = membership_source::spawned;
  a.status = agent_state::active;  // or PENDING_APPROVAL: decided in the transaction
  a.created_at_ms = now;
  a.updated_at_ms = now;
  a.last_activity_at_ms = 0;
  issue_key(a, n.key, n.secret, now);
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx, make_spawn_agent(ctx.owner, token, std::move(t), api.index, actor_of(who), std::move(n)));
}

void render_brief(net::byte_buffer& out, const indexed_agent& a) { render_agent(out, a); }

void lineage(agents_api&, request_context& ctx, const principal& who) {
  const indexed_agent* self = find_or_404(ctx, who);
  if (self == nullptr) return;
  std::vector<const indexed_agent*> ancestors;
  for (const indexed_agent* at = self; !at->rec.parent_id.empty();) {
    at = who.snapshot.find_agent(who.workspace_id(), at->rec.parent_id);
    if (at == nullptr || ancestors.size() > spawn_depth_max) break;
    ancestors.push_back(at);
  }
  std::reverse(ancestors.begin(), ancestors.end());  // root first
  net::byte_buffer& out = ctx.res.body();
  out.append(R"({"ancestors":[)");
  for (std::size_t i = 0; i < ancestors.size(); ++i) {
    if (i) out.push_back(',');
    render_brief(out, *ancestors[i]);
  }
  out.append(R"(],"self":)");
  render_agent(out, *self);
  out.append(R"(,"children":[)");
  bool first = true;
  for (const std::string& c : self->rec.children) {
    const indexed_agent* child = who.snapshot.find_agent(who.workspace_id(), c);
    if (child == nullptr) continue;
    if (!first) out.push_back(',');
    first = false;
    render_brief(out, *child);
  }
  out.append("]}");
}

// Tree filters: a node is shown when it or a descendant within the depth matches, so the path
// to every match stays visible; "match" says which nodes matched themselves.
struct tree_walk {
  const tenancy_snapshot& snap;
  std::string_view ws;
  const agent_filter& filter;
  std::uint32_t depth_max;  // relative to the tree's root

  bool shown(const indexed_agent& a, std::uint32_t rel) const {
    if (filter.matches(a)) return true;
    if (rel >= depth_max) return false;
    for (const std::string& c : a.rec.children) {
      const indexed_agent* child = snap.find_agent(ws, c);
      if (child != nullptr && shown(*child, rel + 1)) return true;
    }
    return false;
  }

  void render(net::byte_buffer& out, const indexed_agent& a, std::uint32_t rel) const {
    out.append(R"({"id":)");
    net::append_json_string(out, a.rec.id);
    out.append(R"(,"name":)");
    net::append_json_string(out, a.rec.name);
    out.append(fmt::format(R"(,"type":"{}","preset":"{}","depth":{},"membershipSource":"{}","status":"{}",)"
                           R"("effectiveStatus":"{}","match":{},"children":[)",
                           agent_type_name(a.rec.type), agent_preset_name(a.rec.preset), a.rec.depth,
                           membership_source_name(a.rec.source), agent_state_name(a.rec.status),
                           agent_state_name(a.effective), filter.matches(a) ? "true" : "false"));
    bool first = true;
    if (rel < depth_max) {
      for (const std::string& c : a.rec.children) {
        const indexed_agent* child = snap.find_agent(ws, c);
        if (child == nullptr || !shown(*child, rel + 1)) continue;
        if (!first) out.push_back(',');
        first = false;
        render(out, *child, rel + 1);
      }
    }
    out.append("]}");
  }
};

void tree(agents_api&, request_context& ctx, const principal& who) {
  // Only the node filters apply here; rootId picks the tree, depth bounds it.
  agent_filter f;
  if (!enum_param(ctx, "status", f.status, agent_state_from_name, "ACTIVE, SUSPENDED, REVOKED, PENDING_APPROVAL") ||
      !enum_param(ctx, "effectiveStatus", f.effective, agent_state_from_name,
                  "ACTIVE, SUSPENDED, REVOKED, PENDING_APPROVAL") ||
      !enum_param(ctx, "membershipSource", f.source, membership_source_from_name, "registered, spawned")) {
    return;
  }
  std::string text;
  bool present = false;
  std::uint32_t depth_max = 0;
  if (!depth_param(ctx, depth_max, present)) return;
  if (!present) depth_max = spawn_depth_max;
  std::vector<const indexed_agent*> roots;
  if (!decoded_param(ctx.req.query, "rootId", text, present, ctx.res)) return;
  if (present) {
    const indexed_agent* r = who.snapshot.find_agent(who.workspace_id(), text);
    if (r == nullptr) return answer_agent_missing(ctx.res);
    roots.push_back(r);
  } else {
    for (const indexed_agent* a : who.snapshot.agents_of(who.workspace_id())) {
      if (a->rec.depth == 0) roots.push_back(a);
    }
  }
  const tree_walk walk{who.snapshot, who.workspace_id(), f, depth_max};
  net::byte_buffer& out = ctx.res.body();
  out.append(R"({"nodes":[)");
  bool first = true;
  for (const indexed_agent* r : roots) {
    if (!walk.shown(*r, 0)) continue;
    if (!first) out.push_back(',');
    first = false;
    walk.render(out, *r, 0);
  }
  out.append("]}");
}

// ---- spawn policy -------------------------------------------------------------------------

void put_spawn_policy(agents_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  spawn_policy p;
  p.workspace_id = who.workspace_id();
  json_error err;
  if (!parse_spawn_policy_body(ctx.req.body, p, err)) return answer_json_error(err, ctx.res);
  p.updated_at_ms = unix_now_ms();
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx, make_set_spawn_policy(ctx.owner, token, api.index, actor_of(who), std::move(p)));
}

void get_spawn_policy(agents_api&, request_context& ctx, const principal& who) {
  render_spawn_policy(ctx.res.body(), who.snapshot.spawn_policy_of(who.workspace_id()));
}

}  // namespace

void register_agent_routes(net::router& routes, guard& g, agents_api& api) {
  using net::http_method;
  auto bind = [&api](void (*fn)(agents_api&, request_context&, const principal&)) {
    return [&api, fn](request_context& ctx, const principal& who) { fn(api, ctx, who); };
  };
  auto act = [&api](agent_action action) {
    return [&api, action](request_context& ctx, const principal& who) { transition(api, ctx, who, action); };
  };
  g.route(routes, http_method::post, "/v1/agents", bind(create_agent));
  g.route(routes, http_method::get, "/v1/agents", bind(list_agents));
  g.route(routes, http_method::get, "/v1/agents/tree", bind(tree));
  g.route(routes, http_method::get, "/v1/agents/spawn-policy", bind(get_spawn_policy));
  g.route(routes, http_method::put, "/v1/agents/spawn-policy", bind(put_spawn_policy));
  g.route(routes, http_method::get, "/v1/agents/{id}", bind(get_agent));
  g.route(routes, http_method::get, "/v1/agents/{id}/lineage", bind(lineage));
  g.route(routes, http_method::post, "/v1/agents/{id}/suspend", act(agent_action::suspend));
  g.route(routes, http_method::post, "/v1/agents/{id}/reactivate", act(agent_action::reactivate));
  g.route(routes, http_method::post, "/v1/agents/{id}/revoke", act(agent_action::revoke));
  g.route(routes, http_method::post, "/v1/agents/{id}/approve", act(agent_action::approve));
  g.route(routes, http_method::post, "/v1/agents/{id}/key/rotate", bind(rotate_key));
  g.route(routes, http_method::post, "/v1/agents/{id}/revoke-descendants", bind(revoke_descendants));
  g.route(routes, http_method::post, "/v1/agents/{id}/spawn", bind(spawn));
}

}  // namespace warrant::engine
