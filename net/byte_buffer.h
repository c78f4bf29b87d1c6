// net/byte_buffer.h: a growable byte buffer that keeps its capacity across uses.
//
// Connections use one for bytes received but not yet consumed and one for bytes to send.
// `consume(n)` drops bytes from the front in O(1); the gap is reclaimed by the next
// `prepare()` that needs the room, or when the buffer empties. Capacity is only ever given
// back by `release()`, so a connection in steady state allocates nothing per request.
// Owned by one shard thread; not thread-safe.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace warrant::net {

class byte_buffer {
 public:
  byte_buffer() = default;
  byte_buffer(const byte_buffer&) = delete;
  byte_buffer& operator=(const byte_buffer&) = delete;
  byte_buffer(byte_buffer&& o) noexcept { swap(o); }
  byte_buffer& operator=(byte_buffer&& o) noexcept {
    swap(o);
    return *this;
  }
  ~byte_buffer() { std::free(_data); }

  const char* data() const { return _data + _begin; }
  char* data() { return _data + _begin; }
  std::size_t size() const { return _end - _begin; }
  bool empty() const { return _end == _begin; }
  std::size_t capacity() const { return _capacity; }
  std::string_view view() const { return {data(), size()}; }

  void append(const void* p, std::size_t n) {
    if (n == 0) return;
    std::memcpy(prepare(n), p, n);
    _end += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void push_back(char c) {
    *prepare(1) = c;
    ++_end;
  }

  // Room for at least `n` more bytes at `data() + size()`; commit them with `commit(n)`.
  char* prepare(std::size_t n) {
    if (_capacity - _end < n) grow(n);
    return _data + _end;
  }
  void commit(std::size_t n) {
    assert(_end + n <= _capacity);
    _end += n;
  }

  void consume(std::size_t n) {
    assert(n <= size());
    _begin += n;
    if (_begin == _end) _begin = _end = 0;
  }
  void clear() { _begin = _end = 0; }

  // Empties the buffer and leaves `n` bytes of room before data(), so that a prefix known
  // only once the contents are written (an HTTP head's Content-Length) can be put in front
  // with `prepend` instead of the contents being copied behind it. Growing the buffer may
  // give the room back (front_room() then says how much is left).
  void clear_leaving_front_room(std::size_t n) {
    _begin = _end = 0;
    if (_capacity < n) grow(n);
    _begin = _end = n;
  }
  std::size_t front_room() const { return _begin; }
  // Puts `n` bytes in front of the contents; needs front_room() >= n.
  void prepend(const void* p, std::size_t n) {
    assert(n <= _begin);
    _begin -= n;
    if (n > 0) std::memcpy(_data + _begin, p, n);
  }
  void release() {
    std::free(_data);
    _data = nullptr;
    _begin = _end = _capacity = 0;
  }

 private:
  void swap(byte_buffer& o) noexcept {
    std::swap(_data, o._data);
    std::swap(_begin, o._begin);
    std::swap(_end, o._end);
    std::swap(_capacity, o._capacity);
  }
  void grow(std::size_t n) {
    const std::size_t used = size();
    if (_begin > 0 && _capacity - used >= n) {
      // Enough room once the consumed front is reclaimed.
      std::memmove(_data, _data + _begin, used);
      _begin = 0;
      _end = used;
      return;
    }
    std::size_t want = _capacity ? _capacity * 2 : 512;
    while (want - used < n) want *= 2;
    char* fresh = static_cast<char*>(std::malloc(want));
    if (fresh == nullptr) throw std::bad_alloc();
    if (used) std::memcpy(fresh, _data + _begin, used);
    std::free(_data);
    _data = fresh;
    _begin = 0;
    _end = used;
    _capacity = want;
  }

  char* _data = nullptr;
  std::size_t _begin = 0;
  std::size_t _end = 0;
  std::size_t _capacity = 0;
};

}  // namespace warrant::net
