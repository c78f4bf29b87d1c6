// net/router.h: maps (method, path) to a handler, with `{name}` path parameters.
//
// Routes are added at start-up, before any shard runs; afterwards the router is immutable
// and shared read-only by every shard. Matching walks a trie of path segments (static
// segments before parameters), allocates nothing, and reports "no such path" (404) apart
// from "path exists, wrong method" (405, with the methods for `Allow`). A GET route also
// answers HEAD.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_parser.h"

namespace warrant::net {

inline constexpr std::size_t route_params_max = 8;
inline constexpr std::size_t route_segments_max = 32;

struct route_params {
  std::array<std::string_view, route_params_max> names{};
  std::array<std::string_view, route_params_max> values{};
  std::size_t count = 0;

  // The raw (still percent-encoded) value of parameter `name`, or an empty view.
  std::string_view get(std::string_view name) const {
    for (std::size_t i = 0; i < count; ++i) {
      if (names[i] == name) return values[i];
    }
    return {};
  }
};

struct request_context;
using route_handler = std::function<void(request_context&)>;

struct route {
  http_method method;
  std::string pattern;  // as registered, used as the metrics label
  route_handler handler;
  std::uint32_t id;     // dense index, for per-route metrics
  // A connection may go on handling its later pipelined requests to this route while earlier
  // ones (to routes that also allow it) wait for their deferred answers (net/shard.h,
  // "Pipelined writes"). Only for routes whose requests do not read what an earlier request of
  // the same pipeline may still be writing: appends ordered by the storage writer.
  bool pipelines = false;
};

enum class match_status : std::uint8_t { found, not_found, method_not_allowed };

struct route_match {
  match_status status = match_status::not_found;
  const route* matched = nullptr;
  std::uint32_t allowed_mask = 0;  // bit per http_method, for 405
  route_params params;
};

class router {
 public:
  router();
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  // Registers a route; throws std::invalid_argument on a malformed or duplicate pattern
  // (start-up only). Pattern segments are literals or `{name}`.
  const route& add(http_method method, std::string_view pattern, route_handler handler);

  route_match match(http_method method, std::string_view path) const;

  // Marks a registered route as `pipelines` (start-up only, before the shards run).
  void allow_pipelining(const route& r);

  const std::vector<std::unique_ptr<route>>& routes() const { return _routes; }

  // "GET, HEAD, POST" for an allowed mask, written into `buf`.
  static constexpr std::size_t allow_header_bytes_max = 64;
  static std::string_view allow_header(std::uint32_t allowed_mask, std::array<char, allow_header_bytes_max>& buf);

 private:
  struct node;
  std::unique_ptr<node> _root;
  std::vector<std::unique_ptr<route>> _routes;
};

}  // namespace warrant::net
