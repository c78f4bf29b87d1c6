#include "engine/evidence/policy_routes.h"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "engine/common/ids.h"
#include "engine/common/json.h"
#include "engine/evidence/bulk_request.h"
#include "engine/evidence/evaluate_response.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

using net::http_method;
using net::request_context;

// ---- shared pieces ------------------------------------------------------------------------

void answer_request_error(const json_error& err, net::http_response& res) {
  // append_error_json leaves "code" out when empty: the seed's missing-actor error, verbatim.
  res.set_status(err.status);
  res.set_content_type("application/json");
  res.body().clear();
  append_error_json(res.body(), err);
}

void answer_overloaded(net::http_response& res) {
  res.set_error(503, "OVERLOADED", "the decision log is behind; nothing was decided", "retry after the Retry-After delay");
  res.add_header("Retry-After", "1");
}

// One decision for `req` at `now_ms`, with the actor's facts: looked up, or `known` (the
// same actor's facts, looked up earlier in the same request).
void decide_one(const policy_api& api, const policy& p, const principal& who, const evaluate_request& req,
                std::int64_t now_ms, decision_result& out, const evaluation_facts* known = nullptr) {
  evaluation_facts facts;
  facts.as_of_ms = now_ms;
  const std::string_view identity_namespace = who.ws.identity_namespace;
  if (known != nullptr) {
    facts.history = known->history;
    facts.claims = known->claims;
  } else {
    api.facts.lookup(identity_namespace, req.actor_id, facts.history, facts.claims);
  }
  facts.mode = p.mode_for(identity_namespace);
  facts.agent = agent_status_for(who, req.actor, req.actor_id);
  decide(p, *req.action, facts, req.context, out);
}

// The bulk route's memo of actors already looked up in this request (items often repeat an
// actor): open addressing over item indices, sized for the item cap. Saves the SHA-256 and
// the index probe of a repeated actor; all items are decided at one instant anyway.
class actor_memo {
 public:
  static constexpr std::size_t slots = 2048;  // a power of two, >= 2 x bulk_items_hard_max
  static_assert(slots >= 2 * bulk_items_hard_max && (slots & (slots - 1)) == 0);

  void clear() { _used.fill(0); }
  // The index of an earlier item with this actor id, or records `item` and returns `none`.
  static constexpr std::uint32_t none = UINT32_MAX;
  std::uint32_t find_or_add(std::string_view actor_id, std::uint32_t item, const std::vector<bulk_item>& items) {
    std::size_t at = policy_name_hash(actor_id) & (slots - 1);
    while (_used[at] != 0) {
      const std::uint32_t other = _item[at];
      if (items[other].request.actor_id == actor_id) return other;
      at = (at + 1) & (slots - 1);
    }
    _used[at] = 1;
    _item[at] = item;
    return none;
  }

 private:
  std::array<std::uint8_t, slots> _used{};
  std::array<std::uint32_t, slots> _item{};
};


// Per-shard-thread scratch of the evaluate and bulk routes, grown once and reused (no
// allocation in steady state).
struct route_scratch {
  std::vector<bulk_item> items;
  std::vector<decision_result> decisions;
  std::string group;  // one request's decision_group payload
  actor_memo actors;
};
route_scratch& thread_scratch() {
  thread_local route_scratch s;
  return s;
}

// ---- POST /v1/policy/evaluate -------------------------------------------------------------

void evaluate(policy_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  const std::size_t shard = ctx.owner.index();
  const policy& p = api.policies.on_shard(shard);
  evaluate_request req;
  json_error err;
  if (!parse_evaluate_request(ctx.req.body, p, req, err)) return answer_request_error(err, ctx.res);
  if (!api.decisions.reserve(shard, 1)) return answer_overloaded(ctx.res);

  // The shard's wall clock of this loop turn (read once per turn, after the request arrived):
  // evaluatedAt, the decision's group and the tier windows all use it.
  const std::int64_t now_ms = ctx.owner.now_unix_ms();
  decision_result r;
  decide_one(api, p, who, req, now_ms, r);
  char id[uuid_text_bytes];
  api.decisions.append_one(shard, who.workspace_id(), now_ms, p.version(), decision_item_of(req, r), id);
  const std::string_view id_view(id, uuid_text_bytes);
  evaluation_response resp{&r, id_view, req.actor, req.actor_id, p.version(), now_ms, debug_requested(ctx.req.query)};
  net::byte_buffer& body = ctx.res.body();
  body.clear();
  append_evaluation_json(body, resp);
}

// ---- POST /v1/policy/evaluate/bulk --------------------------------------------------------

struct bulk_summary {
  std::size_t by_decision[4] = {0, 0, 0, 0};  // allow, step_up, limit, deny
  std::size_t errors = 0;
};

void append_uint(net::byte_buffer& out, std::uint64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(std::string_view(buf, static_cast<std::size_t>(res.ptr - buf)));
}

void evaluate_bulk(policy_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  const std::size_t shard = ctx.owner.index();
  const policy& p = api.policies.on_shard(shard);
  route_scratch& s = thread_scratch();
  json_error err;
  const std::size_t cap = bulk_cap(api.options, p, is_ai_agent_key(who));
  if (!parse_bulk_request(ctx.req.body, p, cap, s.items, err)) return answer_request_error(err, ctx.res);
  const std::size_t n = s.items.size();
  assert(n <= decision_group_items_max);
  const std::size_t evaluated =
      static_cast<std::size_t>(std::count_if(s.items.begin(), s.items.end(), [](const bulk_item& i) { return i.ok; }));
  if (evaluated > 0 && !api.decisions.reserve(shard, evaluated)) return answer_overloaded(ctx.res);

  // Pass 1: decide every item at one instant; the request's decisions are one log record
  // under one group id, and item i's id is that id with i in its last 3 hex digits.
  const std::int64_t now_ms = ctx.owner.now_unix_ms();  // the turn's clock, as for one evaluate
  if (s.decisions.size() < n) s.decisions.resize(n);
  char group_id[uuid_text_bytes];
  new_uuid_v7_into(group_id, now_ms);
  make_bulk_group_id(group_id);
  decision_group_writer group(s.group, now_ms, p.version(), who.workspace_id());
  s.actors.clear();
  bulk_summary summary;
  for (std::size_t i = 0; i < n; ++i) {
    const bulk_item& item = s.items[i];
    if (!item.ok) {
      ++summary.errors;
      group.skip();
      continue;
    }
    decision_result& r = s.decisions[i];
    const std::uint32_t earlier = s.actors.find_or_add(item.request.actor_id, static_cast<std::uint32_t>(i), s.items);
    decide_one(api, p, who, item.request, now_ms, r, earlier == actor_memo::none ? nullptr : &s.decisions[earlier].facts);
    ++summary.by_decision[static_cast<std::size_t>(r.outcome)];
    group.add(decision_item_of(item.request, r));
  }
  if (evaluated > 0) {
    api.decisions.append(shard, std::string_view(group_id, uuid_text_bytes), s.group, evaluated);
  }

  // Pass 2: the answer, straight into the response's buffer, with room for the head in
  // front so that the shard sends it without copying it (write_response_moving_body).
  const bool debug = debug_requested(ctx.req.query);
  ctx.res.clear_body_leaving_head_room();
  net::byte_buffer& body = ctx.res.body();
  body.append(R"({"summary":{"total":)");
  append_uint(body, n);
  constexpr std::string_view names[4] = {R"(,"allow":)", R"(,"step_up":)", R"(,"limit":)", R"(,"deny":)"};
  for (std::size_t d = 0; d < 4; ++d) {
    body.append(names[d]);
    append_uint(body, summary.by_decision[d]);
  }
  body.append(R"(,"errors":)");
  append_uint(body, summary.errors);
  body.append(R"(},"results":[)");
  for (std::size_t i = 0; i < n; ++i) {
    const bulk_item& item = s.items[i];
    if (i > 0) body.push_back(',');
    body.append(R"({"index":)");
    append_uint(body, i);
    if (item.ok) {
      body.append(R"(,"status":"evaluated",)");
      char id[uuid_text_bytes];
      bulk_item_id(group_id, i, id);
      append_decision_fields(body, {&s.decisions[i], std::string_view(id, uuid_text_bytes), item.request.actor,
                                    item.request.actor_id, p.version(), now_ms, debug});
    } else {
      body.append(R"(,"status":"error","error":)");
      append_error_json(body, item.error);
    }
    body.push_back('}');
  }
  body.append("]}");
}

// ---- GET /v1/policy/actions[/{action}] ----------------------------------------------------

// Percent-decodes a path segment into `buf` (action names are short); false when malformed or
// too long.
bool decode_segment(std::string_view raw, char (&buf)[action_name_bytes_max], std::string_view& out) {
  std::size_t n = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (n == sizeof buf) return false;
    if (raw[i] != '%') {
      buf[n++] = raw[i];
      continue;
    }
    if (i + 2 >= raw.size()) return false;
    const int hi = hex(raw[i + 1]);
    const int lo = hex(raw[i + 2]);
    if (hi < 0 || lo < 0) return false;
    buf[n++] = static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  out = {buf, n};
  return true;
}

void list_actions(policy_api& api, request_context& ctx) {
  ctx.res.set_json(api.policies.on_shard(ctx.owner.index()).actions_json());
}

void get_action(policy_api& api, request_context& ctx) {
  const policy& p = api.policies.on_shard(ctx.owner.index());
  char buf[action_name_bytes_max];
  std::string_view name;
  const action_policy* a = decode_segment(ctx.params.get("action"), buf, name) ? p.find_action(name) : nullptr;
  if (a == nullptr) {
    return ctx.res.set_error(404, "UNKNOWN_ACTION", "no such action in the policy in force",
                             "GET /v1/policy/actions lists the registered actions");
  }
  ctx.res.set_json(p.action_json(*a));
}

// ---- GET /v1/policy/decisions/{id} --------------------------------------------------------

// Looks `id` up: under its group's key (the group id itself, or the id with its last 3 digits
// zeroed for an item past the first), then under the keys of records written before groups
// were keyed by group id: `<workspace> 0x00 <id>`, then `<workspace> 0x00 <group id>`.
// Renders the answer into `res`; false: not found, or another workspace's. Throws when storage
// cannot be read.
bool find_decision(storage::lmdb_store& store, std::string_view workspace_id, std::string_view id,
                   net::http_response& res) {
  storage::lmdb_store::reader reader(store);
  std::string group_id;
  std::size_t item_index = 0;
  const bool is_item = group_of(id, group_id, item_index);
  std::string key;
  std::optional<std::string_view> raw;
  std::size_t index = 0;
  bool keyed_by_group = false;
  if (append_decision_group_key(key, is_item ? std::string_view(group_id) : id)) {
    raw = reader.get(storage::table::decisions, key);
    keyed_by_group = raw.has_value();
    index = is_item ? item_index : 0;
  }
  if (!raw) {  // written before groups were keyed by group id
    key = decision_key(workspace_id, id);
    index = 0;
    raw = reader.get(storage::table::decisions, key);
    if (!raw && is_item) {
      key = decision_key(workspace_id, group_id);
      index = item_index;
      raw = reader.get(storage::table::decisions, key);
    }
    if (!raw) return false;
  }
  storage::decoded_record rec;
  if (storage::decode_record(*raw, rec) != storage::decode_errc::ok) {
    std::fprintf(stderr, "warrantd: decision %.*s: record fails its check\n", static_cast<int>(id.size()), id.data());
    return false;
  }
  if (rec.type == storage::record_type::policy_decision && index == 0) {  // written before groups
    const auto old = decode_decision_payload(rec.payload);
    if (!old || old->workspace_id != workspace_id || old->correlation_id != id) return false;
    res.set_json(old->answer);
    return true;
  }
  if (rec.type != storage::record_type::policy_decision_group) return false;
  decision_group_header h;
  stored_decision d;
  if (!decode_decision_group(rec.payload, index, h, d)) {
    std::fprintf(stderr, "warrantd: decision %.*s: undecodable group\n", static_cast<int>(id.size()), id.data());
    return false;
  }
  // A group found by its id alone answers only its own workspace (tenancy: another
  // workspace's decision is not found, exactly as an id nobody made).
  if (keyed_by_group && h.workspace_id != workspace_id) return false;
  if (!d.decided) return false;  // past the group's end, or a refused bulk item
  decision_fields f;
  f.outcome = d.outcome;
  f.correlation_id = id;
  f.tier = d.tier;
  f.required_tier = d.required_tier;
  f.claims = d.claims;
  f.why_json = d.why_json;
  f.reasons = d.reasons.data();
  f.reason_count = d.reason_count;
  f.action = d.action;
  f.actor = d.actor;
  f.actor_id = d.actor_id;
  f.policy_version = h.policy_version;
  f.evaluated_at_ms = h.evaluated_at_ms;
  net::byte_buffer& body = res.body();
  body.clear();
  body.push_back('{');
  append_decision_fields(body, f);
  body.push_back('}');
  res.set_status(200);
  res.set_content_type("application/json");
  return true;
}

void get_decision(policy_api& api, request_context& ctx, const principal& who) {
  const std::string_view id = ctx.params.get("id");
  bool found = false;
  if (is_uuid(id)) {
    try {
      found = find_decision(api.store, who.workspace_id(), id, ctx.res);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warrantd: reading a decision: %s\n", e.what());
      ctx.res.set_error(503, "STORAGE_UNAVAILABLE", "storage is unavailable", "retry later");
      return ctx.res.add_header("Retry-After", "1");
    }
  }
  // Another workspace's decision is not found either (its group names the other workspace,
  // or, written before 2026-12-07, its key does).
  if (!found) {
    return ctx.res.set_error(404, "NOT_FOUND", "no such decision",
                             "decisions are readable once logged (normally within milliseconds); retry shortly");
  }
}

// ---- POST /v1/admin/policy/reload ---------------------------------------------------------

struct reload_job {
  net::shard* owner;
  net::deferred_response token;
  std::string carried_headers;
  policy_reload_result result;
};

void answer_reload(const policy_reload_result& r, net::http_response& res) {
  net::byte_buffer& body = res.body();
  body.clear();
  if (r.ok) {
    res.set_status(200);
    body.append(R"({"policyVersion":)");
    net::append_json_string(body, r.version);
    body.append(R"(,"previousPolicyVersion":)");
    net::append_json_string(body, r.previous_version);
    body.append(R"(,"source":)");
    net::append_json_string(body, r.source);
    body.push_back('}');
    return;
  }
  res.set_status(422);
  body.append(R"({"error":)");
  net::append_json_string(body, "the policy file was rejected: " + r.error.to_string());
  body.append(R"(,"code":"POLICY_INVALID","hint":)");
  net::append_json_string(body, "fix the file and reload again; policy " + r.version + " stays in force");
  body.append(R"(,"line":)");
  append_uint(body, static_cast<std::uint64_t>(std::max(0, r.error.line)));
  body.append(R"(,"column":)");
  append_uint(body, static_cast<std::uint64_t>(std::max(0, r.error.column)));
  body.append(R"(,"policyVersion":)");
  net::append_json_string(body, r.version);
  body.push_back('}');
}

void reload_answer_on_shard(net::shard& s, void* arg) {
  std::unique_ptr<reload_job> job(static_cast<reload_job*>(arg));
  net::http_response& res = s.scratch_response();
  res.reset();
  res.add_header_lines(job->carried_headers);
  answer_reload(job->result, res);
  s.complete(job->token, res);
}

// Reload worker thread.
void reload_done(void* arg, const policy_reload_result& result) {
  auto* job = static_cast<reload_job*>(arg);
  job->result = result;
  std::fprintf(stderr, "warrantd: policy reload (admin route): %s\n",
               result.ok ? ("version " + result.version + " in force (was " + result.previous_version + ")").c_str()
                         : ("rejected, keeping " + result.version + ": " + result.error.to_string()).c_str());
  for (int attempt = 0; attempt < 100'000; ++attempt) {
    if (job->owner->post({&reload_answer_on_shard, job})) return;
    sched_yield();
  }
  std::fprintf(stderr, "warrantd: shard %zu is not taking completions; a reload answer was dropped\n",
               job->owner->index());
  delete job;
}

void reload_policy(policy_api& api, request_context& ctx) {
  auto job = std::make_unique<reload_job>();
  job->owner = &ctx.owner;
  job->carried_headers.assign(ctx.res.extra_headers());
  job->token = ctx.defer();
  if (api.reloader.request(&reload_done, job.get())) {
    job.release();  // the worker owns it until reload_answer_on_shard
    return;
  }
  ctx.deferred = false;
  ctx.res.set_error(503, "OVERLOADED", "too many policy reloads are waiting", "retry later");
  ctx.res.add_header("Retry-After", "1");
}

}  // namespace

// One hash lookup in the snapshot the request authenticated against; the effective status was
// derived at publish (engine/tenancy/index.h), ancestors included. PENDING_APPROVAL counts as
// suspended: the agent may not act until approved.
agent_status agent_status_for(const principal& who, actor_type type, std::string_view actor_id) {
  if (type != actor_type::service) return agent_status::none;
  const indexed_agent* a = who.snapshot.find_agent(who.workspace_id(), actor_id);
  if (a == nullptr) return agent_status::none;
  switch (a->effective) {
    case agent_state::revoked: return agent_status::revoked;
    case agent_state::suspended:
    case agent_state::pending_approval: return agent_status::suspended;
    case agent_state::active: return agent_status::none;
  }
  return agent_status::none;
}

bool is_ai_agent_key(const principal& who) { return who.agent != nullptr && who.agent->rec.type == agent_type::ai_agent; }

std::size_t bulk_cap(const policy_routes_options& options, const policy& p, bool ai_agent) {
  std::size_t cap = std::min<std::size_t>(options.bulk_max, p.caps().bulk_max);
  if (ai_agent) cap = std::min<std::size_t>(cap, p.caps().agent_bulk_max);
  return std::max<std::size_t>(cap, 1);
}

bool debug_requested(std::string_view query) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    if (param == "debug=true") return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

void register_policy_routes(net::router& routes, guard& g, policy_api& api) {
  for (std::string_view prefix : {std::string_view("/v1"), std::string_view("")}) {
    const std::string base = std::string(prefix) + "/policy";
    g.route(routes, http_method::post, base + "/evaluate",
            [&api](request_context& ctx, const principal& who) { evaluate(api, ctx, who); });
    g.route(routes, http_method::post, base + "/evaluate/bulk",
            [&api](request_context& ctx, const principal& who) { evaluate_bulk(api, ctx, who); });
    g.route(routes, http_method::get, base + "/actions",
            [&api](request_context& ctx, const principal&) { list_actions(api, ctx); });
  }
  g.route(routes, http_method::get, "/v1/policy/actions/{action}",
          [&api](request_context& ctx, const principal&) { get_action(api, ctx); });
  g.route(routes, http_method::get, "/v1/policy/decisions/{id}",
          [&api](request_context& ctx, const principal& who) { get_decision(api, ctx, who); });
  g.route(routes, http_method::post, "/v1/admin/policy/reload",
          [&api](request_context& ctx, const principal&) { reload_policy(api, ctx); });
}

}  // namespace warrant::engine::evidence
