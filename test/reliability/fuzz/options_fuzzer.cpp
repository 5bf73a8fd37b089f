// libFuzzer target for src/core/options.h: parse_options and split_identifier_list.
// The input is split at '\n' into trigger arguments. Besides "no crash, no
// sanitizer report, no exception but chronicle::Error", it checks the parsers'
// promises: parsed keys are allowed and unique, values are trimmed, and a column
// list re-quoted from its parsed names parses back to the same names.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/options.h"

namespace {

const std::vector<std::string_view> kKeys{"ignore", "record_id"};

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void require(bool ok) {
  if (!ok) std::abort();  // libFuzzer reports the input as a crash
}

std::string quote(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void check_identifier_list(std::string_view list) {
  std::vector<std::string> names;
  try {
    names = chronicle::split_identifier_list(list, "fuzz");
  } catch (const chronicle::Error& e) {
    require(std::string_view(e.sqlstate()) == "22023");
    return;
  }
  require(!names.empty());
  std::string requoted;
  for (const auto& n : names) {
    require(!n.empty());
    if (!requoted.empty()) requoted += ", ";
    requoted += quote(n);
  }
  require(chronicle::split_identifier_list(requoted, "fuzz") == names);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  std::size_t start = 0;
  for (;;) {
    const auto nl = input.find('\n', start);
    args.push_back(input.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  try {
    const auto options = chronicle::parse_options(args, kKeys, "trigger \"fuzz\"");
    require(options.size() == args.size());
    for (std::size_t i = 0; i < options.size(); ++i) {
      const auto& o = options[i];
      require(o.key == "ignore" || o.key == "record_id");
      for (std::size_t j = 0; j < i; ++j) require(options[j].key != o.key);
      require(o.value.empty() || (!blank(o.value.front()) && !blank(o.value.back())));
      if (o.key == "ignore") check_identifier_list(o.value);
    }
  } catch (const chronicle::Error& e) {
    require(std::string_view(e.sqlstate()) == "22023");
    require(std::string_view(e.what()).find("trigger \"fuzz\"") != std::string_view::npos);
  }
  // Every argument is also a column list on its own (the parser must hold for any text).
  for (const auto& a : args) check_identifier_list(a);
  return 0;
}
