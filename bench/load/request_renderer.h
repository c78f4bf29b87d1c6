// bench/load/request_renderer.h: request templates compiled for the hot path.
//
// What it is for: turning `request_spec`s into segment lists (literal bytes and the
// placeholders `{{seq}}`, `{{rand:N}}`, `{{zipf:N:S}}`) once at start-up, so that writing a
// request into a connection's send buffer costs a few memcpys, number formats and random
// draws, and never allocates. Content-Length is written after substitution; a Host header is
// added when the template has none.
//
// Ownership: a `request_set` is built on the main thread and then only read, by every load
// thread at once. Each load thread owns one `request_renderer` (its random generator, its
// `{{seq}}` counter and its body scratch buffer).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench/load/request_spec.h"

namespace warrant::bench {

// Zipf distribution over 0..n-1: P(k) proportional to 1 / (k + 1)^exponent, sampled by binary
// search in a cumulative table built once.
class zipf_table {
 public:
  static constexpr std::uint64_t n_max = 10'000'000;
  zipf_table(std::uint64_t n, double exponent);
  std::uint64_t sample(double uniform_0_1) const;
  std::uint64_t n() const { return _cdf.size(); }
  double exponent() const { return _exponent; }

 private:
  std::vector<double> _cdf;
  double _exponent;
};

enum class segment_kind : std::uint8_t { literal, seq, rand, zipf };

struct template_segment {
  segment_kind kind = segment_kind::literal;
  std::uint32_t offset = 0;  // literal: bytes [offset, offset + length) of compiled_template::text
  std::uint32_t length = 0;
  std::uint64_t n = 0;       // rand: exclusive bound
  const zipf_table* zipf = nullptr;
};

struct compiled_template {
  std::string text;                     // literal bytes the segments point into
  std::vector<template_segment> head;   // request line and headers, each ending in CRLF
  std::vector<template_segment> body;
  bool send_length = false;             // write Content-Length (body or a method that has one)
  bool no_response_body = false;        // HEAD
  std::size_t head_bytes_max = 0;
  std::size_t body_bytes_max = 0;
};

class request_set {
 public:
  // `host_header` is the value used when a template has no Host header.
  request_set(const std::vector<request_spec>& specs, std::string_view host_header);
  request_set(const request_set&) = delete;
  request_set& operator=(const request_set&) = delete;

  const compiled_template& at(std::size_t i) const { return _templates[i]; }
  std::size_t size() const { return _templates.size(); }
  std::uint64_t weight_total() const { return _weight_ends.back(); }
  std::size_t pick(std::uint64_t draw_below_total) const;
  // Upper bound of one rendered request, headers and body.
  std::size_t request_bytes_max() const { return _request_bytes_max; }
  std::size_t body_bytes_max() const { return _body_bytes_max; }

 private:
  void compile(const request_spec& spec, std::string_view host_header, compiled_template& out);
  std::vector<template_segment> compile_text(std::string_view raw, std::string& pool, std::size_t& bytes_max);
  template_segment compile_placeholder(std::string_view inner);
  const zipf_table* zipf_for(std::uint64_t n, double exponent);

  std::vector<compiled_template> _templates;
  std::vector<std::uint64_t> _weight_ends;  // cumulative weights
  std::vector<std::unique_ptr<zipf_table>> _zipf_tables;
  std::size_t _request_bytes_max = 0;
  std::size_t _body_bytes_max = 0;
};

struct rendered_request {
  std::size_t bytes = 0;
  bool no_response_body = false;
};

class request_renderer {
 public:
  // `{{seq}}` yields seq_first, seq_first + seq_step, ...: threads use disjoint sequences.
  request_renderer(const request_set& set, std::uint64_t seq_first, std::uint64_t seq_step,
                   std::uint64_t seed);
  // Writes one request at `out`, which must have request_bytes_max() bytes of room.
  rendered_request render(char* out);

 private:
  char* write_segments(const compiled_template& t, const std::vector<template_segment>& segments, char* out);
  double uniform_0_1();

  const request_set& _set;
  std::uint64_t _seq;
  std::uint64_t _seq_step;
  std::mt19937_64 _random;
  std::vector<char> _body_scratch;
};

}  // namespace warrant::bench
