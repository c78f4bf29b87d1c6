#include "engine/evidence/evaluate_request.h"

#include <fmt/format.h>

#include <cassert>

#include "net/http_response.h"

namespace warrant::engine::evidence {

std::string_view actor_type_name(actor_type t) { return t == actor_type::service ? "service" : "human"; }

namespace {

using simdjson::ondemand::json_type;

constexpr std::string_view fields_hint = "the body takes actor, action, resource and context";

bool validation_error(json_error& err, std::string message, std::string_view hint = {}) {
  err = {400, "VALIDATION_ERROR", std::move(message), std::string(hint)};
  return false;
}

// Makes `out` a fresh request for `p`'s parser. Only the context fields `p` has are reset:
// its rules read no other (a rule's field_index < context_fields().size()), and zeroing the
// whole 16-field array per item was a tenth of a bulk request's parse.
void reset_request(evaluate_request& out, const policy& p) {
  out.actor = actor_type::human;
  out.actor_id = {};
  out.action = nullptr;
  const std::size_t fields = p.context_fields().size();
  assert(fields <= out.context.by_field.size());
  for (std::size_t i = 0; i < fields; ++i) out.context.by_field[i] = context_value{};
}

// Reads the members of one evaluate object; `finish` checks what must be there.
class request_reader {
 public:
  request_reader(const policy& p, evaluate_request& out, json_error& err, std::string_view body = {},
                 const char* input_base = nullptr)
      : _policy(p), _out(out), _err(err), _body(body), _input_base(input_base) {
    reset_request(_out, p);
  }

  // The padded copy of the body the values point into (error offsets); none: no offsets.
  void locate_in(const char* input_base) { _input_base = input_base; }
  bool member(std::string_view key, simdjson::ondemand::value& v);
  bool finish();

 private:
  enum seen_bit : std::uint32_t { seen_actor = 1, seen_actor_id = 2, seen_action = 4, seen_resource = 8, seen_context = 16 };

  bool once(seen_bit bit, std::string_view key) {
    if (_seen & bit) return validation_error(_err, fmt::format("field '{}' is given twice", key));
    _seen |= bit;
    return true;
  }
  bool malformed(simdjson::ondemand::value& v, simdjson::error_code code) {
    const char* where = nullptr;
    if (_input_base != nullptr) {
      const char* at = nullptr;
      if (v.current_location().get(at) == simdjson::SUCCESS && at != nullptr) where = at - _input_base + _body.data();
    }
    if (_input_base != nullptr) {
      json_detail::malformed(_err, _body, where, code);
    } else {
      _err = {400, "INVALID_JSON", fmt::format("malformed JSON: {}", simdjson::error_message(code)),
              "send one JSON object, UTF-8 encoded"};
    }
    return false;
  }
  bool id_string(simdjson::ondemand::value& v, std::string_view field, std::string_view& out);
  bool actor(simdjson::ondemand::value& v);
  bool context(simdjson::ondemand::value& v);
  bool context_member(std::string_view key, simdjson::ondemand::value& v);
  bool well_formed(simdjson::ondemand::value& v, std::size_t depth);

  const policy& _policy;
  evaluate_request& _out;
  json_error& _err;
  std::string_view _body;
  const char* _input_base;
  std::uint32_t _seen = 0;
  std::uint32_t _context_seen = 0;  // bit per policy context field
  std::string_view _nested_id;      // actor.id
  std::string_view _flat_id;        // actor_id
  std::string_view _action;
};

// Every member is optional as far as JSON goes, and null means absent; finish() then asks
// for what is required.
bool request_reader::member(std::string_view key, simdjson::ondemand::value& v) {
  seen_bit bit{};
  if (key == "action") {
    bit = seen_action;
  } else if (key == "actor") {
    bit = seen_actor;
  } else if (key == "actor_id") {
    bit = seen_actor_id;
  } else if (key == "context") {
    bit = seen_context;
  } else if (key == "resource") {
    bit = seen_resource;
  } else {
    _err = {400, "UNKNOWN_FIELD", fmt::format("unknown field '{}'", utf8_clip(key)), std::string(fields_hint)};
    return false;
  }
  if (!once(bit, key)) return false;
  json_type t{};
  if (auto e = v.type().get(t); e) return malformed(v, e);
  if (t == json_type::null) return true;
  switch (bit) {
    case seen_action:
      if (t != json_type::string || read_string(v, _action)) {
        return validation_error(_err, "field 'action' must be a string");
      }
      return true;
    case seen_actor: return actor(v);
    case seen_actor_id: return id_string(v, "actor_id", _flat_id);
    case seen_context: return context(v);
    case seen_resource:
      if (t != json_type::object) return validation_error(_err, "field 'resource' must be an object");
      return well_formed(v, 1);
  }
  return false;
}

// A string identifier, or null (= absent).
bool request_reader::id_string(simdjson::ondemand::value& v, std::string_view field, std::string_view& out) {
  json_type t{};
  if (auto e = v.type().get(t); e) return malformed(v, e);
  if (t == json_type::null) return true;
  if (t != json_type::string || read_string(v, out)) {
    return validation_error(_err, fmt::format("field '{}' must be a string", field));
  }
  if (out.size() > identifier_bytes_max) {
    return validation_error(_err, fmt::format("field '{}' is longer than {} bytes", field, identifier_bytes_max));
  }
  return true;
}

bool request_reader::actor(simdjson::ondemand::value& v) {
  simdjson::ondemand::object obj;
  if (v.get_object().get(obj)) return validation_error(_err, "field 'actor' must be an object");
  bool have_type = false;
  bool have_id = false;
  for (auto field : obj) {
    std::string_view key;
    if (auto e = read_key(field, key); e) return malformed(v, e);
    simdjson::ondemand::value value;
    if (auto e = field.value().get(value); e) return malformed(v, e);
    if (key == "type") {
      if (have_type) return validation_error(_err, "field 'actor.type' is given twice");
      have_type = true;
      std::string_view type;
      if (read_string(value, type) || (type != "human" && type != "service")) {
        return validation_error(_err, R"(field 'actor.type' must be "human" or "service")");
      }
      _out.actor = type == "service" ? actor_type::service : actor_type::human;
    } else if (key == "id") {
      if (have_id) return validation_error(_err, "field 'actor.id' is given twice");
      have_id = true;
      if (!id_string(value, "actor.id", _nested_id)) return false;
    } else {
      _err = {400, "UNKNOWN_FIELD", fmt::format("unknown field 'actor.{}'", utf8_clip(key)),
              "actor takes type and id"};
      return false;
    }
  }
  return true;
}

bool request_reader::context(simdjson::ondemand::value& v) {
  simdjson::ondemand::object obj;
  if (v.get_object().get(obj)) return validation_error(_err, "field 'context' must be an object");
  for (auto field : obj) {
    std::string_view key;
    if (auto e = read_key(field, key); e) return malformed(v, e);
    simdjson::ondemand::value value;
    if (auto e = field.value().get(value); e) return malformed(v, e);
    if (!context_member(key, value)) return false;
  }
  return true;
}

bool request_reader::context_member(std::string_view key, simdjson::ondemand::value& v) {
  const std::optional<std::size_t> index = _policy.find_context_field(key);
  if (!index) return well_formed(v, 2);  // no rule reads it
  const std::uint32_t bit = 1u << *index;
  if (_context_seen & bit) return validation_error(_err, fmt::format("context field '{}' is given twice", key));
  _context_seen |= bit;
  json_type t{};
  if (auto e = v.type().get(t); e) return malformed(v, e);
  if (t == json_type::null) return true;
  const value_kind kind = _policy.context_fields()[*index].kind;
  context_value& out = _out.context.by_field[*index];
  bool bad = false;
  switch (kind) {
    case value_kind::number: bad = t != json_type::number || v.get_double().get(out.number); break;
    case value_kind::string: bad = t != json_type::string || read_string(v, out.text); break;
    case value_kind::boolean: bad = t != json_type::boolean || v.get_bool().get(out.flag); break;
  }
  if (bad) {
    return validation_error(_err, fmt::format("context field '{}' must be a {}", key, value_kind_name(kind)),
                            "the policy's rules compare this field; GET /v1/policy/actions shows them");
  }
  out.present = true;
  out.kind = kind;
  return true;
}

// Reads a value the request does not use, only to refuse malformed JSON inside it.
bool request_reader::well_formed(simdjson::ondemand::value& v, std::size_t depth) {
  if (depth > json_depth_max) return malformed(v, simdjson::DEPTH_ERROR);
  json_type t{};
  if (auto e = v.type().get(t); e) return malformed(v, e);
  switch (t) {
    case json_type::object: {
      simdjson::ondemand::object obj;
      if (auto e = v.get_object().get(obj); e) return malformed(v, e);
      for (auto field : obj) {
        std::string_view key;
        simdjson::ondemand::value inner;
        if (auto e = field.unescaped_key().get(key); e) return malformed(v, e);
        if (auto e = field.value().get(inner); e) return malformed(v, e);
        if (!well_formed(inner, depth + 1)) return false;
      }
      return true;
    }
    case json_type::array: {
      simdjson::ondemand::array arr;
      if (auto e = v.get_array().get(arr); e) return malformed(v, e);
      for (auto item : arr) {
        simdjson::ondemand::value inner;
        if (auto e = item.get(inner); e) return malformed(v, e);
        if (!well_formed(inner, depth + 1)) return false;
      }
      return true;
    }
    case json_type::number: {
      simdjson::ondemand::number n;
      if (auto e = v.get_number().get(n); e) return malformed(v, e);
      return true;
    }
    case json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s); e) return malformed(v, e);
      return true;
    }
    case json_type::boolean: {
      bool b = false;
      if (auto e = v.get_bool().get(b); e) return malformed(v, e);
      return true;
    }
    case json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null); e || !is_null) return malformed(v, e ? e : simdjson::N_ATOM_ERROR);
      return true;
    }
  }
  return malformed(v, simdjson::INCORRECT_TYPE);
}

bool request_reader::finish() {
  if (!_nested_id.empty() && !_flat_id.empty() && _nested_id != _flat_id) {
    return validation_error(_err, "actor.id and actor_id differ", "give the actor's id once, as actor.id");
  }
  _out.actor_id = _nested_id.empty() ? _flat_id : _nested_id;
  if (_out.actor_id.empty()) {
    _err = {400, "", std::string(missing_actor_id_message), std::string(missing_actor_id_hint)};
    return false;
  }
  if (!(_seen & seen_action) || _action.empty()) {
    return validation_error(_err, "Missing required field: action", "name one of the actions GET /v1/policy/actions lists");
  }
  _out.action = _policy.find_action(_action);
  if (_out.action == nullptr) {
    std::string message = _action.size() <= action_name_bytes_max ? fmt::format("Unknown action: {}", _action)
                                                                   : std::string("Unknown action");
    _err = {400, "UNKNOWN_ACTION", std::move(message), "GET /v1/policy/actions lists the registered actions"};
    return false;
  }
  return true;
}

}  // namespace

bool parse_evaluate_request(std::string_view body, const policy& p, evaluate_request& out, json_error& err) {
  request_reader reader(p, out, err, body);
  const bool read = for_each_member(body, err, [&](std::string_view key, simdjson::ondemand::value& value,
                                                   const char* input_base) {
    reader.locate_in(input_base);
    return reader.member(key, value);
  });
  return read && reader.finish();
}

bool parse_evaluate_object(simdjson::ondemand::object& obj, const policy& p, evaluate_request& out, json_error& err) {
  request_reader reader(p, out, err);
  for (auto field : obj) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (auto e = read_key(field, key); e) {
      err = {400, "INVALID_JSON", fmt::format("malformed JSON: {}", simdjson::error_message(e)), ""};
      return false;
    }
    if (auto e = field.value().get(value); e) {
      err = {400, "INVALID_JSON", fmt::format("malformed JSON: {}", simdjson::error_message(e)), ""};
      return false;
    }
    if (!reader.member(key, value)) return false;
  }
  return reader.finish();
}

void append_error_json(net::byte_buffer& out, const json_error& err) {
  out.append("{\"error\":");
  net::append_json_string(out, err.message);
  if (!err.code.empty()) {
    out.append(",\"code\":");
    net::append_json_string(out, err.code);
  }
  if (!err.hint.empty()) {
    out.append(",\"hint\":");
    net::append_json_string(out, err.hint);
  }
  out.push_back('}');
}

}  // namespace warrant::engine::evidence
