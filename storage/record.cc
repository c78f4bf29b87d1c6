#include "storage/record.h"

#include <xxhash.h>

#include <cstring>

namespace warrant::storage {
namespace {

void put_le(char* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_le(const char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// XXH3-64 of the payload, seeded with header bytes [0, 8) read as a little-endian u64, so
// the version, type and length are covered too.
std::uint64_t checksum(const char* head8, std::string_view payload) {
  return XXH3_64bits_withSeed(payload.data(), payload.size(), get_le(head8, 8));
}

}  // namespace

void encode_record(std::string& out, record_type type, std::string_view payload) {
  char head[record_header_bytes] = {};
  head[0] = static_cast<char>(record_format_version);
  head[1] = static_cast<char>(type);
  put_le(head + 4, payload.size(), 4);
  put_le(head + 8, checksum(head, payload), 8);
  out.append(head, sizeof head);
  out.append(payload);
}

std::string encode_record(record_type type, std::string_view payload) {
  std::string out;
  out.reserve(record_header_bytes + payload.size());
  encode_record(out, type, payload);
  return out;
}

decode_errc decode_record(std::string_view bytes, decoded_record& out) {
  if (bytes.size() < record_header_bytes) return decode_errc::truncated;
  if (static_cast<std::uint8_t>(bytes[0]) != record_format_version) return decode_errc::bad_version;
  const std::uint64_t length = get_le(bytes.data() + 4, 4);
  if (length != bytes.size() - record_header_bytes || length > record_payload_bytes_max) {
    return decode_errc::bad_length;
  }
  const std::string_view payload = bytes.substr(record_header_bytes);
  if (get_le(bytes.data() + 8, 8) != checksum(bytes.data(), payload)) return decode_errc::bad_checksum;
  out.type = static_cast<record_type>(static_cast<std::uint8_t>(bytes[1]));
  out.payload = payload;
  return decode_errc::ok;
}

std::string_view decode_errc_name(decode_errc e) {
  switch (e) {
    case decode_errc::ok: return "ok";
    case decode_errc::truncated: return "truncated";
    case decode_errc::bad_version: return "unknown format version";
    case decode_errc::bad_length: return "length mismatch";
    case decode_errc::bad_checksum: return "checksum mismatch";
  }
  return "unknown";
}

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool read_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int i = 0; i < 10; ++i) {
    if (in.empty()) return false;
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    if (i == 9 && b > 1) return false;  // the tenth byte holds bit 63 only: more would overflow
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

field_writer& field_writer::bytes(std::uint8_t tag, std::string_view v) {
  _out.push_back(static_cast<char>(tag));
  append_varint(_out, v.size());
  _out.append(v);
  return *this;
}

field_writer& field_writer::u64(std::uint8_t tag, std::uint64_t v) {
  std::string tmp;
  append_varint(tmp, v);
  return bytes(tag, tmp);
}

bool field_reader::next(std::uint8_t& tag, std::string_view& value) {
  if (_rest.empty()) return false;
  tag = static_cast<std::uint8_t>(_rest.front());
  _rest.remove_prefix(1);
  std::uint64_t len = 0;
  if (!read_varint(_rest, len) || len > _rest.size()) {
    _malformed = true;
    _rest = {};
    return false;
  }
  value = _rest.substr(0, len);
  _rest.remove_prefix(len);
  return true;
}

std::optional<std::uint64_t> field_reader::as_u64(std::string_view value) {
  std::uint64_t v = 0;
  if (!read_varint(value, v) || !value.empty()) return std::nullopt;
  return v;
}

std::string be64_key(std::uint64_t v) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
  return k;
}

std::uint64_t be64_value(std::string_view key) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < key.size(); ++i) v = (v << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

}  // namespace warrant::storage
