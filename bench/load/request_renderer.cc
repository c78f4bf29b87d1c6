// bench/load/request_renderer.cc: placeholder compilation, Zipf tables and request rendering.
#include "bench/load/request_renderer.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace warrant::bench {

namespace {

constexpr std::size_t number_chars_max = 20;  // digits of a uint64
constexpr std::string_view length_name = "Content-Length: ";

std::uint64_t parse_count(std::string_view text, std::string_view placeholder) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n == 0) {
    throw std::runtime_error(fmt::format("placeholder {{{{{}}}}}: N must be a positive integer", placeholder));
  }
  return n;
}

double parse_exponent(std::string_view text, std::string_view placeholder) {
  double s = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
  if (ec != std::errc{} || end != text.data() + text.size() || !(s >= 0) || s > 100) {
    throw std::runtime_error(fmt::format("placeholder {{{{{}}}}}: S must be a number in 0..100", placeholder));
  }
  return s;
}

bool method_has_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

char* write_number(char* out, std::uint64_t value) {
  return std::to_chars(out, out + number_chars_max, value).ptr;
}

}  // namespace

zipf_table::zipf_table(std::uint64_t n, double exponent) : _exponent(exponent) {
  if (n == 0 || n > n_max) throw std::runtime_error(fmt::format("zipf N must be 1..{}", n_max));
  _cdf.resize(n);
  double sum = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    sum += 1.0 / std::pow(static_cast<double>(k + 1), exponent);
    _cdf[k] = sum;
  }
  for (double& c : _cdf) c /= sum;
  _cdf.back() = 1.0;
}

std::uint64_t zipf_table::sample(double uniform_0_1) const {
  const auto it = std::upper_bound(_cdf.begin(), _cdf.end(), uniform_0_1);
  return static_cast<std::uint64_t>(std::min<std::ptrdiff_t>(it - _cdf.begin(), static_cast<std::ptrdiff_t>(_cdf.size()) - 1));
}

request_set::request_set(const std::vector<request_spec>& specs, std::string_view host_header) {
  assert(!specs.empty());
  _templates.resize(specs.size());
  std::uint64_t weight_sum = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    compile(specs[i], host_header, _templates[i]);
    weight_sum += specs[i].weight;
    _weight_ends.push_back(weight_sum);
    const compiled_template& t = _templates[i];
    _request_bytes_max = std::max(_request_bytes_max, t.head_bytes_max + t.body_bytes_max);
    _body_bytes_max = std::max(_body_bytes_max, t.body_bytes_max);
  }
}

std::size_t request_set::pick(std::uint64_t draw_below_total) const {
  const auto it = std::upper_bound(_weight_ends.begin(), _weight_ends.end(), draw_below_total);
  return static_cast<std::size_t>(it - _weight_ends.begin());
}

void request_set::compile(const request_spec& spec, std::string_view host_header, compiled_template& out) {
  std::string head = fmt::format("{} {} HTTP/1.1\r\n", spec.method, spec.path);
  bool has_host = false;
  for (const request_header& h : spec.headers) {
    has_host = has_host || iequals_ascii(h.name, "host");
    head += fmt::format("{}: {}\r\n", h.name, h.value);
  }
  if (!has_host) head += fmt::format("Host: {}\r\n", host_header);
  out.head = compile_text(head, out.text, out.head_bytes_max);
  out.body = compile_text(spec.body, out.text, out.body_bytes_max);
  out.send_length = !spec.body.empty() || method_has_body(spec.method);
  out.no_response_body = spec.method == "HEAD";
  // Content-Length line (or none) and the blank line that ends the head.
  out.head_bytes_max += length_name.size() + number_chars_max + 4;
}

// Splits `raw` at its placeholders; literal bytes are appended to `pool`.
std::vector<template_segment> request_set::compile_text(std::string_view raw, std::string& pool,
                                                        std::size_t& bytes_max) {
  std::vector<template_segment> segments;
  bytes_max = 0;
  while (!raw.empty()) {
    const std::size_t open = raw.find("{{");
    const std::string_view literal = raw.substr(0, open);
    if (!literal.empty()) {
      segments.push_back({segment_kind::literal, static_cast<std::uint32_t>(pool.size()),
                          static_cast<std::uint32_t>(literal.size())});
      pool += literal;
      bytes_max += literal.size();
    }
    if (open == std::string_view::npos) break;
    const std::size_t close = raw.find("}}", open + 2);
    if (close == std::string_view::npos) throw std::runtime_error("unterminated `{{` in template");
    const std::string_view inner = raw.substr(open + 2, close - open - 2);
    segments.push_back(compile_placeholder(inner));
    bytes_max += number_chars_max;
    raw.remove_prefix(close + 2);
  }
  return segments;
}

template_segment request_set::compile_placeholder(std::string_view inner) {
  if (inner == "seq") return {segment_kind::seq};
  if (inner.starts_with("rand:")) {
    return {segment_kind::rand, 0, 0, parse_count(inner.substr(5), inner)};
  }
  if (inner.starts_with("zipf:")) {
    const std::string_view args = inner.substr(5);
    const std::size_t colon = args.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("expected {{zipf:N:S}}");
    const std::uint64_t n = parse_count(args.substr(0, colon), inner);
    const double exponent = parse_exponent(args.substr(colon + 1), inner);
    return {segment_kind::zipf, 0, 0, n, zipf_for(n, exponent)};
  }
  throw std::runtime_error(fmt::format("unknown placeholder {{{{{}}}}}", inner));
}

const zipf_table* request_set::zipf_for(std::uint64_t n, double exponent) {
  for (const auto& table : _zipf_tables) {
    if (table->n() == n && table->exponent() == exponent) return table.get();
  }
  _zipf_tables.push_back(std::make_unique<zipf_table>(n, exponent));
  return _zipf_tables.back().get();
}

request_renderer::request_renderer(const request_set& set, std::uint64_t seq_first, std::uint64_t seq_step,
                                   std::uint64_t seed)
    : _set(set), _seq(seq_first), _seq_step(seq_step), _random(seed), _body_scratch(set.body_bytes_max() + 1) {}

double request_renderer::uniform_0_1() {
  return static_cast<double>(_random() >> 11) * 0x1.0p-53;
}

rendered_request request_renderer::render(char* out) {
  const std::size_t index = _set.size() == 1 ? 0 : _set.pick(_random() % _set.weight_total());
  const compiled_template& t = _set.at(index);
  char* end = write_segments(t, t.head, out);
  if (t.send_length) {
    char* const body_end = write_segments(t, t.body, _body_scratch.data());
    const auto body_bytes = static_cast<std::size_t>(body_end - _body_scratch.data());
    std::memcpy(end, length_name.data(), length_name.size());
    end = write_number(end + length_name.size(), body_bytes);
    std::memcpy(end, "\r\n\r\n", 4);
    std::memcpy(end + 4, _body_scratch.data(), body_bytes);
    end += 4 + body_bytes;
  } else {
    std::memcpy(end, "\r\n", 2);
    end += 2;
  }
  const auto bytes = static_cast<std::size_t>(end - out);
  assert(bytes <= _set.request_bytes_max());
  return {bytes, t.no_response_body};
}

char* request_renderer::write_segments(const compiled_template& t, const std::vector<template_segment>& segments,
                                       char* out) {
  for (const template_segment& s : segments) {
    switch (s.kind) {
      case segment_kind::literal:
        std::memcpy(out, t.text.data() + s.offset, s.length);
        out += s.length;
        break;
      case segment_kind::seq:
        out = write_number(out, _seq);
        _seq += _seq_step;
        break;
      case segment_kind::rand:
        out = write_number(out, static_cast<std::uint64_t>((static_cast<unsigned __int128>(_random()) * s.n) >> 64));
        break;
      case segment_kind::zipf:
        out = write_number(out, s.zipf->sample(uniform_0_1()));
        break;
    }
  }
  return out;
}

}  // namespace warrant::bench
