#include "net/router.h"

#include <stdexcept>

namespace warrant::net {

struct router::node {
  std::vector<std::pair<std::string, std::unique_ptr<node>>> literals;
  std::unique_ptr<node> param;  // at most one parameter child per node
  std::string param_name;
  std::array<const route*, http_method_count> by_method{};

  const route* for_method(http_method method) const {
    const route* r = by_method[static_cast<std::size_t>(method)];
    if (r == nullptr && method == http_method::head) r = by_method[static_cast<std::size_t>(http_method::get)];
    return r;
  }
  const node* literal(std::string_view seg) const {
    for (const auto& [name, child] : literals) {
      if (name == seg) return child.get();
    }
    return nullptr;
  }
};

namespace {

// Splits "/a/b/c" into {"a","b","c"}; "/" is one empty segment. Returns false when there are
// more than route_segments_max segments or the path does not start with '/'.
bool split_path(std::string_view path, std::array<std::string_view, route_segments_max>& segs,
                std::size_t& count) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  count = 0;
  while (true) {
    if (count == route_segments_max) return false;
    std::size_t slash = path.find('/');
    segs[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool is_param(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

}  // namespace

router::router() : _root(std::make_unique<node>()) {}
router::~router() = default;

const route& router::add(http_method method, std::string_view pattern, route_handler handler) {
  std::array<std::string_view, route_segments_max> segs;
  std::size_t count = 0;
  if (method == http_method::other || !split_path(pattern, segs, count)) {
    throw std::invalid_argument("router: bad route pattern " + std::string(pattern));
  }
  // Validate the whole pattern before touching the trie.
  std::array<std::string_view, route_params_max> names;
  std::size_t params = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view seg = segs[i];
    const std::string_view inner = is_param(seg) ? seg.substr(1, seg.size() - 2) : seg;
    if (inner.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument("router: malformed segment in " + std::string(pattern));
    }
    if (!is_param(seg)) continue;
    if (params == route_params_max) throw std::invalid_argument("router: too many parameters");
    for (std::size_t j = 0; j < params; ++j) {
      if (names[j] == inner) throw std::invalid_argument("router: repeated parameter in " + std::string(pattern));
    }
    names[params++] = inner;
  }
  node* n = _root.get();
  for (std::size_t i = 0; i < count; ++i) {
    std::string_view seg = segs[i];
    if (is_param(seg)) {
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (!n->param) {
        n->param = std::make_unique<node>();
        n->param_name = name;
      } else if (n->param_name != name) {
        throw std::invalid_argument("router: conflicting parameter names at " + std::string(pattern));
      }
      n = n->param.get();
      continue;
    }
    node* next = const_cast<node*>(n->literal(seg));
    if (next == nullptr) {
      n->literals.emplace_back(std::string(seg), std::make_unique<node>());
      next = n->literals.back().second.get();
    }
    n = next;
  }
  auto& slot = n->by_method[static_cast<std::size_t>(method)];
  if (slot != nullptr) throw std::invalid_argument("router: duplicate route " + std::string(pattern));
  auto r = std::make_unique<route>(route{method, std::string(pattern), std::move(handler),
                                         static_cast<std::uint32_t>(_routes.size())});
  slot = r.get();
  _routes.push_back(std::move(r));
  return *_routes.back();
}

void router::allow_pipelining(const route& r) {
  if (r.id >= _routes.size() || _routes[r.id].get() != &r) throw std::invalid_argument("router: not one of this router's routes");
  _routes[r.id]->pipelines = true;
}

route_match router::match(http_method method, std::string_view path) const {
  route_match m;
  std::array<std::string_view, route_segments_max> segs;
  std::size_t count = 0;
  if (!split_path(path, segs, count)) return m;

  // Depth-first, a literal segment before a parameter, backtracking so that "/a/{x}/c"
  // still matches "/a/b/c" when "/a/b" exists without a "c" below it. The first node that
  // has a route for this method wins; failing that, every node the path reaches with some
  // route gives 405, and their methods together are the Allow list.
  struct frame {
    const node* n;
    std::size_t depth;
    std::uint8_t next;  // 0: try the literal child, 1: try the parameter child, 2: exhausted
  };
  std::array<frame, route_segments_max + 1> stack;
  std::size_t top = 0;
  stack[top++] = {_root.get(), 0, 0};
  std::uint32_t allowed_mask = 0;
  const route* hit = nullptr;
  while (top > 0) {
    frame& f = stack[top - 1];
    if (f.depth == count) {
      hit = f.n->for_method(method);
      if (hit != nullptr) break;
      for (std::size_t i = 0; i < http_method_count; ++i) {
        if (f.n->by_method[i] != nullptr) allowed_mask |= 1u << i;
      }
      --top;
      continue;
    }
    if (f.next == 0) {
      f.next = 1;
      if (const node* lit = f.n->literal(segs[f.depth])) stack[top++] = {lit, f.depth + 1, 0};
      continue;
    }
    if (f.next == 1) {
      f.next = 2;
      if (f.n->param && !segs[f.depth].empty()) stack[top++] = {f.n->param.get(), f.depth + 1, 0};
      continue;
    }
    --top;
  }
  if (hit != nullptr) {
    // The frames on the stack are the matched path; collect its parameters.
    for (std::size_t i = 0; i + 1 < top; ++i) {
      if (stack[i].n->param.get() != stack[i + 1].n) continue;
      m.params.names[m.params.count] = stack[i].n->param_name;
      m.params.values[m.params.count] = segs[stack[i].depth];
      ++m.params.count;
    }
    m.status = match_status::found;
    m.matched = hit;
    return m;
  }
  if (allowed_mask == 0) return m;
  m.status = match_status::method_not_allowed;
  m.allowed_mask = allowed_mask;
  if (m.allowed_mask & (1u << static_cast<unsigned>(http_method::get))) {
    m.allowed_mask |= 1u << static_cast<unsigned>(http_method::head);
  }
  return m;
}

std::string_view router::allow_header(std::uint32_t allowed_mask, std::array<char, allow_header_bytes_max>& buf) {
  // "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" is 44 bytes: always fits.
  static_assert(allow_header_bytes_max >= 48);
  std::size_t n = 0;
  for (std::size_t i = 0; i < http_method_count; ++i) {
    if (!(allowed_mask & (1u << i))) continue;
    const std::string_view name = http_method_name(static_cast<http_method>(i));
    if (name == "OTHER") continue;
    if (n > 0) {
      buf[n++] = ',';
      buf[n++] = ' ';
    }
    for (char ch : name) buf[n++] = ch;
  }
  return {buf.data(), n};
}

}  // namespace warrant::net
