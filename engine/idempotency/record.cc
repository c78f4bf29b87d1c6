#include "engine/idempotency/record.h"

#include <array>

#include "storage/record.h"

namespace warrant::engine::idempotency {

using storage::field_reader;
using storage::field_writer;

namespace {

// Field tags (on disk, never reused).
enum : std::uint8_t {
  tag_workspace_id = 1,
  tag_method = 2,
  tag_route_pattern = 3,
  tag_key_kind = 4,
  tag_key = 5,
  tag_fingerprint = 6,
  tag_status = 7,
  tag_content_type = 8,
  tag_header = 9,  // repeated: name 0x00 value
  tag_body = 10,
  tag_created_at = 11,
  tag_expires_at = 12,
};

constexpr std::size_t time_key_bytes = 8;

// http_response keeps a view of its content type, so a replay must point it at storage that
// outlives the response: one of these, chosen by value. Routes answer JSON today.
constexpr std::array<std::string_view, 3> known_content_types = {
    "application/json", "application/problem+json", "text/plain; charset=utf-8"};

bool read_number(std::string_view v, std::uint64_t& out) {
  const auto n = field_reader::as_u64(v);
  if (n) out = *n;
  return n.has_value();
}

}  // namespace

void write_response(const stored_response& r, net::http_response& res) {
  res.set_status(r.status);
  std::string_view type = known_content_types[0];
  for (const std::string_view t : known_content_types) {
    if (t == r.content_type) type = t;
  }
  res.set_content_type(type);
  for (const auto& [name, value] : r.headers) res.add_header(name, value);
  res.body().clear();
  res.body().append(r.body);
}

std::string encode_record(const record& r) {
  field_writer f;
  f.bytes(tag_workspace_id, r.workspace_id).bytes(tag_method, r.method).bytes(tag_route_pattern, r.route_pattern);
  f.u64(tag_key_kind, static_cast<std::uint64_t>(r.kind)).bytes(tag_key, r.key);
  f.bytes(tag_fingerprint, std::string_view(reinterpret_cast<const char*>(r.fingerprint.data()), r.fingerprint.size()));
  f.u64(tag_status, static_cast<std::uint64_t>(r.response.status)).bytes(tag_content_type, r.response.content_type);
  std::string header;
  for (const auto& [name, value] : r.response.headers) {
    header.assign(name).push_back('\0');
    header.append(value);
    f.bytes(tag_header, header);
  }
  f.bytes(tag_body, r.response.body).i64(tag_created_at, r.created_at_ms).i64(tag_expires_at, r.expires_at_ms);
  return f.take();
}

std::optional<record> decode_record(std::string_view payload) {
  record r;
  field_reader reader(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  std::uint64_t n = 0;
  bool have_fingerprint = false;
  bool have_status = false;
  bool have_expiry = false;
  while (reader.next(tag, v)) {
    switch (tag) {
      case tag_workspace_id: r.workspace_id = v; break;
      case tag_method: r.method = v; break;
      case tag_route_pattern: r.route_pattern = v; break;
      case tag_key_kind:
        if (!read_number(v, n) || (n != 1 && n != 2)) return std::nullopt;
        r.kind = static_cast<key_kind>(n);
        break;
      case tag_key: r.key = v; break;
      case tag_fingerprint:
        if (v.size() != r.fingerprint.size()) return std::nullopt;
        std::copy(v.begin(), v.end(), reinterpret_cast<char*>(r.fingerprint.data()));
        have_fingerprint = true;
        break;
      case tag_status:
        if (!read_number(v, n) || n < 100 || n > 599) return std::nullopt;
        r.response.status = static_cast<int>(n);
        have_status = true;
        break;
      case tag_content_type: r.response.content_type = v; break;
      case tag_header: {
        const std::size_t nul = v.find('\0');
        if (nul == std::string_view::npos) return std::nullopt;
        r.response.headers.emplace_back(v.substr(0, nul), v.substr(nul + 1));
        break;
      }
      case tag_body: r.response.body = v; break;
      case tag_created_at:
        if (!read_number(v, n)) return std::nullopt;
        r.created_at_ms = static_cast<std::int64_t>(n);
        break;
      case tag_expires_at:
        if (!read_number(v, n)) return std::nullopt;
        r.expires_at_ms = static_cast<std::int64_t>(n);
        have_expiry = true;
        break;
      default: break;  // a newer writer's field
    }
  }
  if (reader.malformed() || !have_fingerprint || !have_status || !have_expiry || r.workspace_id.empty()) {
    return std::nullopt;
  }
  return r;
}

std::string record_key(std::string_view workspace_id, const digest& scope) {
  std::string key(workspace_id);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(scope.data()), scope.size());
  return key;
}

std::string expiry_key(std::int64_t expires_at_ms, std::string_view record_key) {
  std::string key = storage::be64_key(static_cast<std::uint64_t>(expires_at_ms));
  key.append(record_key);
  return key;
}

bool split_expiry_key(std::string_view key, std::int64_t& expires_at_ms, std::string_view& record_key) {
  if (key.size() <= time_key_bytes) return false;
  expires_at_ms = static_cast<std::int64_t>(storage::be64_value(key.substr(0, time_key_bytes)));
  record_key = key.substr(time_key_bytes);
  return true;
}

}  // namespace warrant::engine::idempotency
