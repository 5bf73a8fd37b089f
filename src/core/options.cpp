#include "core/options.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"

namespace chronicle {
namespace {

Error bad_option(std::string_view owner, std::string message) {
  return Error(sqlstate::kInvalidParameterValue, fmt::format("invalid option for {}: {}", owner, message));
}

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<Option> parse_options(const std::vector<std::string>& args, const std::vector<std::string_view>& allowed,
                                  std::string_view owner) {
  std::vector<Option> options;
  options.reserve(args.size());
  for (const std::string& arg : args) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos) {
      throw bad_option(owner, fmt::format("\"{}\" is not of the form key=value", arg))
          .hint(fmt::format("Accepted keys: {}.", fmt::join(allowed, ", ")));
    }
    std::string key(trim(std::string_view(arg).substr(0, eq)));
    if (key.empty()) throw bad_option(owner, fmt::format("\"{}\" has an empty key", arg));
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw bad_option(owner, fmt::format("unknown key \"{}\"", key))
          .hint(fmt::format("Accepted keys: {}.", fmt::join(allowed, ", ")));
    }
    const bool repeated = std::any_of(options.begin(), options.end(), [&](const Option& o) { return o.key == key; });
    if (repeated) throw bad_option(owner, fmt::format("key \"{}\" is given more than once", key));
    options.push_back(Option{std::move(key), std::string(trim(std::string_view(arg).substr(eq + 1)))});
  }
  return options;
}

std::vector<std::string> split_identifier_list(std::string_view list, std::string_view owner) {
  std::vector<std::string> names;
  std::size_t i = 0;
  const auto skip_blanks = [&] {
    while (i < list.size() && (list[i] == ' ' || list[i] == '\t')) ++i;
  };
  if (trim(list).empty()) throw bad_option(owner, "empty column list");
  for (;;) {
    skip_blanks();
    std::string name;
    if (i < list.size() && list[i] == '"') {
      ++i;
      bool closed = false;
      while (i < list.size()) {
        if (list[i] == '"') {
          if (i + 1 < list.size() && list[i + 1] == '"') {
            name += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        name += list[i++];
      }
      if (!closed) throw bad_option(owner, fmt::format("unterminated quoted name in \"{}\"", list));
      skip_blanks();
      if (i < list.size() && list[i] != ',') {
        throw bad_option(owner, fmt::format("unexpected text after quoted name in \"{}\"", list));
      }
    } else {
      const auto comma = list.find(',', i);
      const auto end = comma == std::string_view::npos ? list.size() : comma;
      name = std::string(trim(list.substr(i, end - i)));
      i = end;
    }
    if (name.empty()) throw bad_option(owner, fmt::format("empty column name in \"{}\"", list));
    names.push_back(std::move(name));
    if (i >= list.size()) break;
    ++i;  // the comma
  }
  return names;
}

}  // namespace chronicle
