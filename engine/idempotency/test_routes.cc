#include "engine/idempotency/test_routes.h"

#include <fmt/format.h>

#include <cstdio>

#include "engine/common/ids.h"
#include "engine/common/json.h"
#include "engine/idempotency/canonical_json.h"
#include "engine/idempotency/command.h"
#include "engine/idempotency/key.h"
#include "storage/record.h"

namespace warrant::engine::idempotency {
namespace {

using net::request_context;
using storage::apply_status;
using storage::field_reader;
using storage::field_writer;
using storage::table;

constexpr std::string_view auto_event_tag = "warrant.idempotency.auto.event.v1";

// Field tags of a test write (on disk, never reused).
enum : std::uint8_t { tag_id = 1, tag_workspace_id = 2, tag_body = 3, tag_created_at = 4 };

void render(std::string& out, const test_write& w) {
  net::byte_buffer b;
  b.append(R"({"id":)");
  net::append_json_string(b, w.id);
  b.append(R"(,"workspace_id":)");
  net::append_json_string(b, w.workspace_id);
  b.append(R"(,"body":)");
  b.append(w.body);
  std::string created_at;
  append_time_ms(created_at, w.created_at_ms);
  b.append(R"(,"created_at":")");
  b.append(created_at);
  b.append("\"}");
  out.assign(b.view());
}

class create_test_write_cmd final : public idempotent_command {
 public:
  create_test_write_cmd(net::shard& s, net::deferred_response t, ticket tk, test_write w)
      : idempotent_command(s, t, std::move(tk)), _w(std::move(w)) {}

 protected:
  apply_status apply_write(storage::write_txn& txn, storage::log_appender&, stored_response& answer) override {
    const std::string key = test_write_key(_w.workspace_id, _w.id);
    if (txn.get(table::test_writes, key)) return apply_status::rejected;  // ids are unique: never
    txn.put(table::test_writes, key, storage::encode_record(storage::record_type::test_write, encode_test_write(_w)));
    answer.status = 201;
    answer.content_type = "application/json";
    answer.headers = {{"Location", fmt::format("{}/{}", test_writes_pattern, _w.id)}};
    render(answer.body, _w);
    return apply_status::applied;
  }
  void respond_rejected(net::http_response& res) override {
    res.set_error(409, "CONFLICT", "a test write with this id exists");
  }

 private:
  test_write _w;
};

void answer_canonical_error(const canonical_result& r, net::http_response& res) {
  res.set_error(400, "INVALID_JSON",
                fmt::format("the request body is not acceptable JSON at byte {}: {}", r.offset,
                            canonical_errc_message(r.error)),
                "send one JSON object, UTF-8 encoded");
}

void create_test_write(test_routes& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  parsed_key client_key;
  const key_presence presence = read_key(ctx.req, client_key);
  if (presence == key_presence::invalid) return answer_invalid_key(ctx.res);
  test_write w;
  const canonical_result canonical = canonicalize(ctx.req.body, w.body);
  if (!canonical.ok()) return answer_canonical_error(canonical, ctx.res);
  if (w.body.empty() || w.body.front() != '{') {
    return ctx.res.set_error(400, "INVALID_JSON", "the request body must be a JSON object",
                             "send one JSON object, UTF-8 encoded");
  }
  w.workspace_id = who.workspace_id();
  request_identity id{w.workspace_id, "POST", test_writes_pattern, w.body, key_kind::client, client_key.view()};
  std::optional<std::string> auto_key;
  if (presence == key_presence::absent) {
    auto_key = automatic_event_key(w.workspace_id, ctx.req.body);
    if (auto_key) {
      id.kind = key_kind::automatic;
      id.key = *auto_key;
    }
  }
  const std::int64_t now = unix_now_ms();
  ticket t;
  if (!api.idempotency.admit(id, ctx.owner.index(), now, ctx.res, t)) return;
  w.id = new_uuid_v7(now);
  w.created_at_ms = now;
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx, std::make_unique<create_test_write_cmd>(ctx.owner, token, std::move(t), std::move(w)));
}

void get_test_write(test_routes& api, request_context& ctx, const principal& who) {
  std::optional<test_write> found;
  try {
    storage::lmdb_store::reader r(api.store);
    if (const auto raw = r.get(table::test_writes, test_write_key(who.workspace_id(), ctx.params.get("id")))) {
      storage::decoded_record rec;
      if (storage::decode_record(*raw, rec) == storage::decode_errc::ok && rec.type == storage::record_type::test_write) {
        found = decode_test_write(rec.payload);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warrantd: reading a test write: %s\n", e.what());
    ctx.res.set_error(503, "STORAGE_UNAVAILABLE", "storage is unavailable", "retry later");
    return ctx.res.add_header("Retry-After", "1");
  }
  if (!found) return ctx.res.set_error(404, "NOT_FOUND", "test write not found");
  std::string body;
  render(body, *found);
  ctx.res.body().append(body);
}

}  // namespace

std::optional<std::string> automatic_event_key(std::string_view workspace_id, std::string_view body) {
  std::string fields[3];  // userExternalId, eventType, occurredAt
  bool present[3] = {false, false, false};
  json_error err;
  const bool ok = for_each_member(body, err, [&](std::string_view name, simdjson::ondemand::value& v) {
    const int i = name == "userExternalId" ? 0 : name == "eventType" ? 1 : name == "occurredAt" ? 2 : -1;
    std::string_view s;
    if (i >= 0 && v.get_string().get(s) == simdjson::SUCCESS) {
      fields[i].assign(s);
      present[i] = true;
    }
    return true;
  });
  if (!ok || !present[0] || !present[1] || !present[2]) return std::nullopt;
  return hex(hash_fields({auto_event_tag, workspace_id, fields[0], fields[1], fields[2]}));
}

std::string encode_test_write(const test_write& w) {
  field_writer f;
  f.bytes(tag_id, w.id).bytes(tag_workspace_id, w.workspace_id).bytes(tag_body, w.body);
  f.i64(tag_created_at, w.created_at_ms);
  return f.take();
}

std::optional<test_write> decode_test_write(std::string_view payload) {
  test_write w;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  while (r.next(tag, v)) {
    switch (tag) {
      case tag_id: w.id = v; break;
      case tag_workspace_id: w.workspace_id = v; break;
      case tag_body: w.body = v; break;
      case tag_created_at: {
        const auto n = field_reader::as_u64(v);
        if (!n) return std::nullopt;
        w.created_at_ms = static_cast<std::int64_t>(*n);
        break;
      }
      default: break;
    }
  }
  if (r.malformed() || w.id.empty()) return std::nullopt;
  return w;
}

std::string test_write_key(std::string_view workspace_id, std::string_view id) {
  std::string key(workspace_id);
  key.push_back('\0');
  key.append(id);
  return key;
}

void register_test_routes(net::router& routes, guard& g, test_routes& api) {
  g.route(routes, net::http_method::post, test_writes_pattern, any_valid_key,
          [&api](request_context& ctx, const principal& who) { create_test_write(api, ctx, who); });
  g.route(routes, net::http_method::get, test_write_pattern, any_valid_key,
          [&api](request_context& ctx, const principal& who) { get_test_write(api, ctx, who); });
}

}  // namespace warrant::engine::idempotency
