// tests/storage/record_test.cc: the record envelope, the TLV field codec, varints, be64 keys.
#include "storage/record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace warrant::storage {
namespace {

constexpr record_type all_record_types[] = {
    record_type::workspace,           record_type::api_key,         record_type::log_workspace_created,
    record_type::log_key_created,     record_type::log_key_revoked, record_type::log_limits_set,
    record_type::idempotent_response,
};

std::string sample_payload(std::size_t bytes) {
  std::string p(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) p[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return p;
}

std::string varint(std::uint64_t v) {
  std::string out;
  append_varint(out, v);
  return out;
}

// ---- envelope ------------------------------------------------------------------------------

TEST(RecordEnvelope, RoundTripsEveryTypeAndSize) {
  for (const record_type type : all_record_types) {
    for (const std::size_t bytes : {0u, 1u, 15u, 16u, 100u, 4096u, 70000u}) {
      const std::string payload = sample_payload(bytes);
      const std::string encoded = encode_record(type, payload);
      ASSERT_EQ(encoded.size(), record_header_bytes + bytes);
      decoded_record out;
      ASSERT_EQ(decode_record(encoded, out), decode_errc::ok) << static_cast<int>(type) << " " << bytes;
      EXPECT_EQ(out.type, type);
      EXPECT_EQ(out.payload, payload);
      // The payload view points into the input, not a copy.
      EXPECT_EQ(out.payload.data(), encoded.data() + record_header_bytes);
    }
  }
}

TEST(RecordEnvelope, HeaderLayoutIsAsDocumented) {
  const std::string encoded = encode_record(record_type::log_key_created, "abc");
  EXPECT_EQ(static_cast<std::uint8_t>(encoded[0]), record_format_version);
  EXPECT_EQ(static_cast<std::uint8_t>(encoded[1]), static_cast<std::uint8_t>(record_type::log_key_created));
  EXPECT_EQ(encoded[2], '\0');
  EXPECT_EQ(encoded[3], '\0');
  EXPECT_EQ(static_cast<std::uint8_t>(encoded[4]), 3);
  EXPECT_EQ(encoded.substr(5, 3), std::string(3, '\0'));
  EXPECT_EQ(encoded.substr(record_header_bytes), "abc");
}

TEST(RecordEnvelope, EncodeAppendsToExistingBuffer) {
  std::string out = "prefix";
  encode_record(out, record_type::api_key, "payload");
  ASSERT_EQ(out.substr(0, 6), "prefix");
  decoded_record rec;
  ASSERT_EQ(decode_record(std::string_view(out).substr(6), rec), decode_errc::ok);
  EXPECT_EQ(rec.payload, "payload");
}

TEST(RecordEnvelope, TruncatedHeaderIsTruncated) {
  const std::string encoded = encode_record(record_type::workspace, "");
  for (std::size_t n = 0; n < record_header_bytes; ++n) {
    decoded_record out;
    EXPECT_EQ(decode_record(std::string_view(encoded).substr(0, n), out), decode_errc::truncated) << n;
  }
}

TEST(RecordEnvelope, UnknownVersionIsRejected) {
  for (const int version : {0, 2, 0x7f, 0xff}) {
    std::string encoded = encode_record(record_type::workspace, "x");
    encoded[0] = static_cast<char>(version);
    decoded_record out;
    EXPECT_EQ(decode_record(encoded, out), decode_errc::bad_version) << version;
  }
}

TEST(RecordEnvelope, LengthMismatchIsRejected) {
  const std::string encoded = encode_record(record_type::workspace, sample_payload(32));
  decoded_record out;
  EXPECT_EQ(decode_record(encoded + "x", out), decode_errc::bad_length);
  EXPECT_EQ(decode_record(std::string_view(encoded).substr(0, encoded.size() - 1), out), decode_errc::bad_length);
  EXPECT_EQ(decode_record(std::string_view(encoded).substr(0, record_header_bytes), out), decode_errc::bad_length);
}

TEST(RecordEnvelope, PayloadOverTheMaximumIsRejected) {
  const std::string encoded =
      encode_record(record_type::idempotent_response, std::string(record_payload_bytes_max + 1, 'z'));
  decoded_record out;
  EXPECT_EQ(decode_record(encoded, out), decode_errc::bad_length);
}

TEST(RecordEnvelope, EverySingleBitFlipIsDetected) {
  for (const std::size_t bytes : {0u, 1u, 8u, 100u}) {
    const std::string encoded = encode_record(record_type::log_limits_set, sample_payload(bytes));
    for (std::size_t byte = 0; byte < encoded.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string damaged = encoded;
        damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
        decoded_record out;
        EXPECT_NE(decode_record(damaged, out), decode_errc::ok)
            << "payload " << bytes << " byte " << byte << " bit " << bit;
      }
    }
  }
}

TEST(RecordEnvelope, FlipsOutsideVersionAndLengthAreChecksumErrors) {
  const std::string encoded = encode_record(record_type::log_key_revoked, sample_payload(64));
  for (std::size_t byte = 0; byte < encoded.size(); ++byte) {
    if (byte == 0 || (byte >= 4 && byte < 8)) continue;  // version and length have their own errors
    std::string damaged = encoded;
    damaged[byte] = static_cast<char>(damaged[byte] ^ 0x10);
    decoded_record out;
    EXPECT_EQ(decode_record(damaged, out), decode_errc::bad_checksum) << byte;
  }
}

TEST(RecordEnvelope, ErrorNamesAreDistinct) {
  const decode_errc all[] = {decode_errc::ok, decode_errc::truncated, decode_errc::bad_version, decode_errc::bad_length,
                             decode_errc::bad_checksum};
  std::vector<std::string_view> names;
  for (const decode_errc e : all) names.push_back(decode_errc_name(e));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
}

// ---- varints -------------------------------------------------------------------------------

TEST(Varint, BoundariesRoundTripWithExpectedLengths) {
  struct sample {
    std::uint64_t value;
    std::size_t bytes;
  };
  const sample samples[] = {
      {0, 1},
      {1, 1},
      {127, 1},
      {128, 2},
      {16383, 2},
      {16384, 3},
      {(1ull << 56) - 1, 8},
      {1ull << 56, 9},
      {(1ull << 63) - 1, 9},
      {1ull << 63, 10},
      {std::numeric_limits<std::uint64_t>::max(), 10},
  };
  for (const auto& s : samples) {
    const std::string encoded = varint(s.value);
    EXPECT_EQ(encoded.size(), s.bytes) << s.value;
    std::string_view in = encoded;
    std::uint64_t v = 0;
    ASSERT_TRUE(read_varint(in, v)) << s.value;
    EXPECT_EQ(v, s.value);
    EXPECT_TRUE(in.empty());
  }
}

TEST(Varint, ReadAdvancesOnlyPastTheVarint) {
  const std::string buffer = varint(300) + "rest";
  std::string_view in = buffer;
  std::uint64_t v = 0;
  ASSERT_TRUE(read_varint(in, v));
  EXPECT_EQ(v, 300u);
  EXPECT_EQ(in, "rest");
}

TEST(Varint, TruncatedIsRejected) {
  std::uint64_t v = 0;
  std::string_view empty;
  EXPECT_FALSE(read_varint(empty, v));
  for (const std::uint64_t value : {std::uint64_t{128}, std::uint64_t{1} << 35, std::uint64_t{1} << 63,
                                    std::numeric_limits<std::uint64_t>::max()}) {
    const std::string encoded = varint(value);
    for (std::size_t n = 0; n < encoded.size(); ++n) {
      std::string_view in = std::string_view(encoded).substr(0, n);
      EXPECT_FALSE(read_varint(in, v)) << value << " cut at " << n;
    }
  }
}

TEST(Varint, MoreThanTenBytesIsRejected) {
  const std::string eleven = std::string(10, '\x80') + '\x01';
  std::string_view in = eleven;
  std::uint64_t v = 0;
  EXPECT_FALSE(read_varint(in, v));
}

// The tenth byte carries bit 63 only; anything more would overflow 64 bits. Such a varint
// must not silently decode to a different value.
TEST(Varint, TenthByteOverflowIsRejected) {
  for (const int last : {0x02, 0x03, 0x7f}) {
    const std::string encoded = std::string(9, '\xff') + static_cast<char>(last);
    std::string_view in = encoded;
    std::uint64_t v = 0;
    EXPECT_FALSE(read_varint(in, v)) << last;
  }
  const std::string max = std::string(9, '\xff') + '\x01';
  std::string_view in = max;
  std::uint64_t v = 0;
  ASSERT_TRUE(read_varint(in, v));
  EXPECT_EQ(v, std::numeric_limits<std::uint64_t>::max());
}

// ---- fields --------------------------------------------------------------------------------

TEST(Fields, RoundTripAllKinds) {
  field_writer w;
  w.bytes(1, "hello")
      .u64(2, 0)
      .u64(3, std::numeric_limits<std::uint64_t>::max())
      .i64(4, -5)
      .boolean(5, true)
      .boolean(6, false)
      .bytes(7, "")
      .bytes(8, std::string(300, 'q'));
  field_reader r(w.str());
  std::uint8_t tag = 0;
  std::string_view value;

  ASSERT_TRUE(r.next(tag, value));
  EXPECT_EQ(tag, 1);
  EXPECT_EQ(value, "hello");
  ASSERT_TRUE(r.next(tag, value));
  EXPECT_EQ(tag, 2);
  EXPECT_EQ(field_reader::as_u64(value), 0u);
  ASSERT_TRUE(r.next(tag, value));
  EXPECT_EQ(tag, 3);
  EXPECT_EQ(field_reader::as_u64(value), std::numeric_limits<std::uint64_t>::max());
  ASSERT_TRUE(r.next(tag, value));
  EXPECT_EQ(tag, 4);
  EXPECT_EQ(static_cast<std::int64_t>(*field_reader::as_u64(value)), -5);
  ASSERT_TRUE(r.next(tag, value));
  EXPECT_EQ(tag, 5);
  EXPECT_EQ(field_reader::as_u64(value), 1u);
  ASSERT_TRUE(r.next(tag, value));
  EXPECT_EQ(tag, 6);
  EXPECT_EQ(field_reader::as_u64(value), 0u);
  ASSERT_TRUE(r.next(tag, value));
  EXPECT_EQ(tag, 7);
  EXPECT_TRUE(value.empty());
  ASSERT_TRUE(r.next(tag, value));
  EXPECT_EQ(tag, 8);
  EXPECT_EQ(value, std::string(300, 'q'));
  EXPECT_FALSE(r.next(tag, value));
  EXPECT_FALSE(r.malformed());
}

TEST(Fields, EmptyPayloadHasNoFields) {
  field_reader r("");
  std::uint8_t tag = 0;
  std::string_view value;
  EXPECT_FALSE(r.next(tag, value));
  EXPECT_FALSE(r.malformed());
}

TEST(Fields, TakeMovesTheBuffer) {
  field_writer w;
  w.u64(9, 42);
  const std::string copy = w.str();
  EXPECT_EQ(w.take(), copy);
}

// A newer writer's extra field, whatever its content, is stepped over by its length.
TEST(Fields, UnknownTagsAreSkipped) {
  field_writer w;
  w.u64(1, 7).bytes(200, std::string("\x01\xff\x80garbage", 10)).bytes(201, "").bytes(2, "name");
  field_reader r(w.str());
  std::uint8_t tag = 0;
  std::string_view value;
  std::optional<std::uint64_t> id;
  std::string_view name;
  int unknown = 0;
  while (r.next(tag, value)) {
    switch (tag) {
      case 1: id = field_reader::as_u64(value); break;
      case 2: name = value; break;
      default: ++unknown; break;
    }
  }
  EXPECT_FALSE(r.malformed());
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(name, "name");
  EXPECT_EQ(unknown, 2);
}

void expect_malformed_after(const std::string& payload, int good_fields) {
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view value;
  for (int i = 0; i < good_fields; ++i) ASSERT_TRUE(r.next(tag, value)) << i;
  EXPECT_FALSE(r.next(tag, value));
  EXPECT_TRUE(r.malformed());
  EXPECT_FALSE(r.next(tag, value));  // stays at the end
  EXPECT_TRUE(r.malformed());
}

TEST(Fields, MalformedPayloadsAreReported) {
  const std::string good = field_writer().bytes(1, "ok").str();
  expect_malformed_after(std::string("\x01", 1), 0);  // tag without a length
  expect_malformed_after(std::string("\x01\x05"
                                     "abc",
                                     5),
                         0);                                                     // length beyond the payload
  expect_malformed_after(std::string("\x01\x80", 2), 0);                         // truncated length varint
  expect_malformed_after(std::string("\x01") + std::string(11, '\x80'), 0);      // over-long length
  expect_malformed_after(good + "\x02", 1);                                      // a good field, then a torn one
  expect_malformed_after(good + std::string("\x02\xff\xff\xff\xff\x0f", 6), 1);  // 4 GiB length
  // A length that only fits 64 bits (UINT64_MAX) must not wrap around the bound check.
  expect_malformed_after(std::string("\x01") + varint(std::numeric_limits<std::uint64_t>::max()) + "ab", 0);
}

TEST(Fields, AsU64RejectsBadValues) {
  EXPECT_FALSE(field_reader::as_u64("").has_value());
  EXPECT_FALSE(field_reader::as_u64("\x80").has_value());                   // truncated
  EXPECT_FALSE(field_reader::as_u64(varint(5) + "x").has_value());          // trailing bytes
  EXPECT_FALSE(field_reader::as_u64(std::string(11, '\x80')).has_value());  // over-long
  EXPECT_EQ(field_reader::as_u64(varint(128)), 128u);
}

// ---- be64 keys -----------------------------------------------------------------------------

TEST(Be64Key, RoundTripsAndIsEightBytes) {
  for (const std::uint64_t v : std::initializer_list<std::uint64_t>{0, 1, 255, 256, 0x0102030405060708ull, 1ull << 63,
                                                                    std::numeric_limits<std::uint64_t>::max()}) {
    const std::string key = be64_key(v);
    ASSERT_EQ(key.size(), 8u);
    EXPECT_EQ(be64_value(key), v);
  }
  EXPECT_EQ(be64_key(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(Be64Key, ByteOrderMatchesNumericOrder) {
  std::vector<std::uint64_t> values = {0,
                                       1,
                                       2,
                                       127,
                                       128,
                                       255,
                                       256,
                                       65535,
                                       65536,
                                       1ull << 32,
                                       (1ull << 32) + 1,
                                       1ull << 56,
                                       (1ull << 63) - 1,
                                       1ull << 63,
                                       std::numeric_limits<std::uint64_t>::max()};
  for (std::uint64_t v = 1; v < (1ull << 62); v = v * 3 + 1) values.push_back(v);
  for (const std::uint64_t a : values) {
    for (const std::uint64_t b : values) {
      const std::string ka = be64_key(a);
      const std::string kb = be64_key(b);
      // memcmp order, as LMDB's default comparison uses.
      const int c = std::memcmp(ka.data(), kb.data(), 8);
      EXPECT_EQ(c < 0, a < b) << a << " " << b;
      EXPECT_EQ(c == 0, a == b) << a << " " << b;
    }
  }
}

}  // namespace
}  // namespace warrant::storage
