// tools/config_file.h: the optional configuration file of warrantd and warrantctl.
//
// Format: one `key = value` per line, `#` starts a comment, keys are long flag names
// without dashes in front (`listen = 127.0.0.1:8080`, `shards = 4`). Precedence is flags,
// then WARRANT_* environment variables, then the file: each file entry is exported as the
// option's environment variable unless that variable is already set, and the command-line
// parser then applies flags over environment. Unknown keys are an error naming the line.
// Start-up only.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace warrant::tools {

// Finds --config FILE / --config=FILE in argv (or `<prefix>CONFIG` in the environment) and,
// when given, exports its entries. Throws std::runtime_error with file and line on errors.
void apply_config_file_as_env(int argc, char** argv, const std::string& env_prefix, const CLI::App& app);

}  // namespace warrant::tools
