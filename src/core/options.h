// Trigger options of the form key=value (README.md, "The audit log").
// Parsing is pure C++: it knows nothing of relations, only of syntax and of the
// keys a caller accepts. Checking that a named column exists is the caller's job.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chronicle {

struct Option {
  std::string key;
  std::string value;
};

// Splits each argument at its first '='. Keys are case-sensitive and must be one
// of `allowed`; a key may appear once. Throws chronicle::Error 22023 naming
// `owner` (e.g. the trigger) for an empty key, a missing '=', an unknown or a
// repeated key.
std::vector<Option> parse_options(const std::vector<std::string>& args, const std::vector<std::string_view>& allowed,
                                  std::string_view owner);

// Splits a comma-separated list of column names ("a,b, c"): surrounding blanks
// are trimmed, a name may be double-quoted to keep blanks, commas or case
// ("\"Mixed Case\""), and "" inside quotes stands for one quote. An empty list,
// an empty name or an unterminated quote throws chronicle::Error 22023.
std::vector<std::string> split_identifier_list(std::string_view list, std::string_view owner);

}  // namespace chronicle
