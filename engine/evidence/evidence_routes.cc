#include "engine/evidence/evidence_routes.h"

#include <fmt/format.h>

#include <cstdio>

#include "engine/common/json_out.h"
#include "engine/common/ids.h"
#include "engine/common/json.h"
#include "engine/evidence/create_record_cmd.h"
#include "engine/evidence/event.h"
#include "engine/evidence/evidence_recovery.h"
#include "engine/evidence/list_page.h"
#include "engine/evidence/query.h"
#include "engine/idempotency/canonical_json.h"
#include "engine/idempotency/command.h"
#include "engine/idempotency/key.h"
#include "engine/idempotency/test_routes.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

using net::request_context;
using storage::apply_status;
using storage::table;

// The idempotency scope's route: one for /v1/events and its unprefixed alias, so a key used
// on one is a key used on the other.
constexpr std::string_view events_scope = "/v1/events";

struct event_traits {
  using record = event_record;
  static constexpr table where = table::events;
  static constexpr storage::record_type type = storage::record_type::event;
  static constexpr std::string_view clash_message = "an event with this id exists";
  static std::optional<std::string> key(const event_record& e) { return inverted_id_key(e.workspace_id, e.id); }
  static std::string encode(const event_record& e) { return encode_event(e); }
  static void render(net::byte_buffer& out, const event_record& e) { render_event(out, e); }
  static void index(entity_index& i, const event_record& e) { index_event(i, e); }
};
using create_event_cmd = create_record_cmd<event_traits>;

void create_event(evidence_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  idempotency::parsed_key client_key;
  const idempotency::key_presence presence = idempotency::read_key(ctx.req, client_key);
  if (presence == idempotency::key_presence::invalid) return idempotency::answer_invalid_key(ctx.res);
  const std::int64_t now = unix_now_ms();
  event_request request;
  json_error err;
  if (!parse_event_request(ctx.req.body, now, request, err)) return answer_json_error(err, ctx.res);
  if (!admit_agent_event(who, presence == idempotency::key_presence::valid, request.type, ctx.res)) return;
  std::string canonical;
  const idempotency::canonical_result c = idempotency::canonicalize(ctx.req.body, canonical);
  if (!c.ok()) return answer_canonical_error(c.offset, idempotency::canonical_errc_message(c.error), ctx.res);

  event_record e;
  e.workspace_id = who.workspace_id();
  idempotency::request_identity id{e.workspace_id, "POST", events_scope, canonical, idempotency::key_kind::client,
                                   client_key.view()};
  std::optional<std::string> auto_key;
  // Auto-dedup only when occurredAt was given: an omitted one is the receipt time, which
  // would make every retry a new event anyway (spec/evidence.md).
  if (presence == idempotency::key_presence::absent && request.occurred_at_ms) {
    auto_key = idempotency::automatic_event_key(e.workspace_id, ctx.req.body);
    if (auto_key) {
      id.kind = idempotency::key_kind::automatic;
      id.key = *auto_key;
    }
  }
  idempotency::ticket t;
  if (!api.idempotency.admit(id, ctx.owner.index(), now, ctx.res, t)) return;
  e.id = new_uuid_v7(now);
  e.entity = compute_entity_id(who.ws.identity_namespace, request.user_external_id);
  e.type = request.type;
  e.occurred_at_ms = request.occurred_at_ms.value_or(now);
  e.received_at_ms = now;
  e.level = request.level;
  e.actor = request.actor;
  e.batch = request.batch;
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx, std::make_unique<create_event_cmd>(ctx.owner, token, std::move(t), api.entities, std::move(e)));
}

// GET /v1/events filters, validated.
struct event_filter {
  std::optional<entity_id> entity;
  std::optional<event_type_id> type;
  std::int64_t since_ms = std::numeric_limits<std::int64_t>::min();  // occurredAt >= since
  std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();  // occurredAt < until
  bool matches(const event_record& e) const {
    return (!entity || e.entity == *entity) && (!type || e.type == *type) && e.occurred_at_ms >= since_ms &&
           e.occurred_at_ms < until_ms;
  }
};

bool parse_event_filter(request_context& ctx, const principal& who, event_filter& f) {
  std::string text;
  bool present = false;
  if (!decoded_param(ctx.req.query, "userExternalId", text, present, ctx.res)) return false;
  if (present) {
    if (text.empty() || text.size() > user_external_id_bytes_max) {
      ctx.res.set_error(400, "VALIDATION_ERROR", "userExternalId must be 1 to 255 bytes");
      return false;
    }
    f.entity = compute_entity_id(who.ws.identity_namespace, text);
  }
  if (!decoded_param(ctx.req.query, "eventType", text, present, ctx.res)) return false;
  if (present) {
    f.type = find_event_type(text);
    if (!f.type) {
      ctx.res.set_error(400, "INVALID_EVENT_TYPE", "eventType is not an event type",
                        "GET /v1/events/types lists the catalogue");
      return false;
    }
  }
  return parse_time_param(ctx.req.query, "since", f.since_ms, ctx.res) &&
         parse_time_param(ctx.req.query, "until", f.until_ms, ctx.res);
}

void list_events(evidence_api& api, request_context& ctx, const principal& who) {
  std::size_t limit = 0;
  event_filter filter;
  std::string from;
  if (!parse_limit(ctx.req.query, limit, ctx.res) || !parse_event_filter(ctx, who, filter) ||
      !parse_page_start(ctx.req.query, who.workspace_id(), from, ctx.res)) {
    return;
  }
  list_page<event_record> page;
  try {
    storage::lmdb_store::reader r(api.store);
    page = read_page<event_record>(
        r, table::events, storage::record_type::event, who.workspace_id(), from, limit, list_scan_records_max,
        [](std::string_view payload) { return decode_event(payload); },
        [&filter](const event_record& e) { return filter.matches(e); });
  } catch (const std::exception& e) {
    return answer_read_failure(ctx.res, "listing events", e);
  }
  write_page(ctx.res.body(), "events", page, render_event);
}

// The history route is the hot read path: its scratch strings are per thread and keep their
// storage, so a request allocates nothing once they have grown (the shared_ptr copy of the
// policy is a reference count, not an allocation).
std::string& scratch(int which) {
  thread_local std::string strings[2];
  strings[which].clear();
  return strings[which];
}

void put_time_or_null(net::byte_buffer& out, bool present, std::int64_t ms) {
  if (!present) return out.append("null");
  std::string& t = scratch(1);
  append_time_ms(t, ms);
  out.push_back('"');
  out.append(t);
  out.push_back('"');
}

// GET /v1/history/{userExternalId}: from the index alone. An entity nobody has reported is
// tier 0 with zero counts (200, not 404): "no history yet" is an answer, and a 404 would
// tell a caller nothing a zero does not.
void get_history(evidence_api& api, request_context& ctx, const principal& who) {
  std::string& user = scratch(0);
  if (!percent_decode(ctx.params.get("userExternalId"), false, user) || user.empty() ||
      user.size() > user_external_id_bytes_max) {
    return ctx.res.set_error(400, "VALIDATION_ERROR", "userExternalId must be 1 to 255 bytes, percent-encoded");
  }
  const entity_id id = compute_entity_id(who.ws.identity_namespace, user);
  entity_facts facts;
  api.entities.lookup(id, facts);  // unknown: the zeros `facts` starts with
  const policy* p = &api.policies.on_shard(ctx.owner.index());
  const std::int64_t now = unix_now_ms();
  const tier_signals signals = tier_signals_at(facts.history, now);
  const int tier = tier_of(signals, p->thresholds(), p->mode_for(who.ws.identity_namespace));

  net::byte_buffer& out = ctx.res.body();
  std::string& hex = scratch(0);  // `user` is no longer needed
  append_entity_id_hex(hex, id);
  out.append(R"({"entityId":")");
  out.append(hex);
  out.append(R"(","tier":)");
  put_number(out, static_cast<std::uint64_t>(tier));
  out.append(R"(,"eventCount":)");
  put_number(out, facts.event_count);
  out.append(R"(,"countedEventCount":)");
  put_number(out, facts.history.counted_events);
  out.append(R"(,"platformCount":)");
  put_number(out, facts.history.partners);
  out.append(R"(,"firstEventAt":)");
  put_time_or_null(out, facts.event_count > 0, facts.first_event_ms);
  out.append(R"(,"lastEventAt":)");
  put_time_or_null(out, facts.event_count > 0, facts.last_event_ms);
  out.append(R"(,"historyAgeDays":)");
  put_number(out, signals.age_days);
  out.append(R"(,"claimStatus":")");
  out.append(claim_status_name(claim_status_at(facts.claims, now)));
  out.append(R"(","claims":{)");
  for (std::size_t i = 0; i < claim_state_count; ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    out.append(claim_state_name(static_cast<claim_state>(i)));
    out.append("\":");
    put_number(out, facts.claims.in_state[i]);
  }
  out.append("}}");
}

}  // namespace

bool admit_agent_write(const principal& who, bool has_idempotency_key, net::http_response& res) {
  if (who.agent == nullptr || !who.agent->rec.require_idempotency || has_idempotency_key) return true;
  res.set_error(400, "AGENT_IDEMPOTENCY_REQUIRED", "this agent's key must send an Idempotency-Key on every write",
                "add an Idempotency-Key header (1-255 printable ASCII characters)");
  return false;
}

bool admit_agent_event(const principal& who, bool has_idempotency_key, event_type_id type, net::http_response& res) {
  if (!admit_agent_write(who, has_idempotency_key, res)) return false;
  if (who.agent == nullptr) return true;
  const agent_record& a = who.agent->rec;
  // AI agents always have a non-empty allowlist; a service account without one may send any type.
  if (a.allowed_event_types != 0 && (a.allowed_event_types & (std::uint64_t{1} << static_cast<unsigned>(type))) == 0) {
    res.set_error(403, "EVENT_TYPE_NOT_ALLOWED",
                  fmt::format("event type '{}' is not in this agent's allowedEventTypes", event_type(type).name),
                  "GET /v1/agents/{id} lists the agent's allowlist");
    return false;
  }
  return true;
}

void answer_index_full(net::http_response& res) {
  res.set_error(503, "ENTITY_INDEX_FULL", "the entity index is at its limit; nothing was written",
                "the operator must shard the namespace across nodes");
}

void answer_canonical_error(std::size_t offset, std::string_view reason, net::http_response& res) {
  res.set_error(400, "INVALID_JSON", fmt::format("the request body is not acceptable JSON at byte {}: {}", offset, reason),
                "send one JSON object, UTF-8 encoded");
}

void answer_read_failure(net::http_response& res, const char* what, const std::exception& e) {
  std::fprintf(stderr, "warrantd: %s: %s\n", what, e.what());
  res.set_error(503, "STORAGE_UNAVAILABLE", "storage is unavailable", "retry later");
  res.add_header("Retry-After", "1");
}

void register_event_routes(net::router& routes, guard& g, evidence_api& api) {
  for (std::string_view base : {"/v1/events", "/events"}) {
    const std::string types = std::string(base) + "/types";
    g.route(routes, net::http_method::get, types,
            [](request_context& ctx, const principal&) { ctx.res.body().append(event_types_json()); });
    // Appends, ordered by the writer: a client's pipelined events share its commits (net/shard.h).
    routes.allow_pipelining(g.route(routes, net::http_method::post, base, [&api](request_context& ctx, const principal& who) {
      create_event(api, ctx, who);
    }));
    g.route(routes, net::http_method::get, base,
            [&api](request_context& ctx, const principal& who) { list_events(api, ctx, who); });
  }
  g.route(routes, net::http_method::get, "/v1/history/{userExternalId}",
          [&api](request_context& ctx, const principal& who) { get_history(api, ctx, who); });
}

void register_evidence_routes(net::router& routes, guard& g, evidence_api& api) {
  register_event_routes(routes, g, api);
  register_claim_routes(routes, g, api);
}

}  // namespace warrant::engine::evidence
