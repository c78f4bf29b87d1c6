// engine/evidence/policy_load.h: reading and validating a policy file (docs/policy-file.md).
//
// What it is for: turning the text of a policy file (YAML; JSON is accepted, being YAML)
// into an immutable `policy`, or into the first problem found, with its line and column, so
// an operator can fix the file. Nothing is partially applied: either the whole file is valid
// and a new policy exists, or the caller keeps the one it had.
//
// Loading runs at start-up and on reload, never on a request's path; it may allocate freely.
// yaml-cpp reports syntax errors by exception; they are caught here and returned as values.
// Any thread; no shared state.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/evidence/policy.h"

namespace warrant::engine::evidence {

struct policy_error {
  int line = 0;    // 1-based; 0 when the problem has no place (file unreadable, too big)
  int column = 0;  // 1-based; 0 when unknown
  std::string message;
  // "line 12, column 5: <message>" (or just the message when there is no place).
  std::string to_string() const;
};

struct policy_load_result {
  std::shared_ptr<const policy> loaded;  // null on error
  policy_error error;
  bool ok() const { return loaded != nullptr; }
};

// `text` is the whole file. A file without `version` is named "sha256:<16 hex>" after the
// first 8 bytes of the SHA-256 of its text.
policy_load_result load_policy(std::string_view text);
policy_load_result load_policy_file(const std::string& path);

}  // namespace warrant::engine::evidence
