#include "core/options.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace chronicle {
namespace {

const std::vector<std::string_view> kKeys{"ignore", "record_id"};

// Runs f, expecting a chronicle::Error; returns it for inspection.
template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no chronicle::Error was thrown";
  return Error("00000", "");
}

TEST(ParseOptions, SplitsAtTheFirstEqualsSign) {
  const auto options = parse_options({"record_id=post_id", "ignore=a=b"}, kKeys, "trigger t");
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(options[0].key, "record_id");
  EXPECT_EQ(options[0].value, "post_id");
  EXPECT_EQ(options[1].key, "ignore");
  EXPECT_EQ(options[1].value, "a=b");
}

TEST(ParseOptions, TrimsBlanksAroundKeyAndValue) {
  const auto options = parse_options({"  ignore =  updated_at "}, kKeys, "trigger t");
  ASSERT_EQ(options.size(), 1u);
  EXPECT_EQ(options[0].key, "ignore");
  EXPECT_EQ(options[0].value, "updated_at");
}

TEST(ParseOptions, NoArgumentsIsNoOptions) { EXPECT_TRUE(parse_options({}, kKeys, "trigger t").empty()); }

TEST(ParseOptions, RejectsAnArgumentWithoutEquals) {
  const Error e = error_of([] { parse_options({"ignore"}, kKeys, "trigger \"t\""); });
  EXPECT_EQ(e.sqlstate(), "22023");
  EXPECT_STREQ(e.what(), "invalid option for trigger \"t\": \"ignore\" is not of the form key=value");
  EXPECT_EQ(e.hint(), "Accepted keys: ignore, record_id.");
}

TEST(ParseOptions, RejectsAnUnknownKeyAndNamesTheAcceptedOnes) {
  const Error e = error_of([] { parse_options({"ignroe=x"}, kKeys, "trigger \"t\""); });
  EXPECT_EQ(e.sqlstate(), "22023");
  EXPECT_STREQ(e.what(), "invalid option for trigger \"t\": unknown key \"ignroe\"");
  EXPECT_EQ(e.hint(), "Accepted keys: ignore, record_id.");
}

TEST(ParseOptions, KeysAreCaseSensitive) {
  EXPECT_EQ(error_of([] { parse_options({"IGNORE=x"}, kKeys, "t"); }).sqlstate(), "22023");
}

TEST(ParseOptions, RejectsAnEmptyKey) {
  const Error e = error_of([] { parse_options({"=x"}, kKeys, "t"); });
  EXPECT_STREQ(e.what(), "invalid option for t: \"=x\" has an empty key");
}

TEST(ParseOptions, RejectsARepeatedKey) {
  const Error e = error_of([] { parse_options({"ignore=a", "ignore=b"}, kKeys, "t"); });
  EXPECT_EQ(e.sqlstate(), "22023");
  EXPECT_STREQ(e.what(), "invalid option for t: key \"ignore\" is given more than once");
}

TEST(SplitIdentifierList, SplitsAndTrims) {
  EXPECT_EQ(split_identifier_list("a, b ,c", "t"), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SplitIdentifierList, KeepsCaseOfPlainNames) {
  EXPECT_EQ(split_identifier_list("UpdatedAt", "t"), (std::vector<std::string>{"UpdatedAt"}));
}

TEST(SplitIdentifierList, QuotedNamesKeepCommasBlanksAndQuotes) {
  EXPECT_EQ(split_identifier_list(R"("a,b" , " c ","d""e")", "t"), (std::vector<std::string>{"a,b", " c ", "d\"e"}));
}

TEST(SplitIdentifierList, RejectsEmptyLists) {
  EXPECT_STREQ(error_of([] { split_identifier_list("  ", "t"); }).what(), "invalid option for t: empty column list");
}

TEST(SplitIdentifierList, RejectsEmptyNames) {
  const Error e = error_of([] { split_identifier_list("a,,b", "t"); });
  EXPECT_EQ(e.sqlstate(), "22023");
  EXPECT_STREQ(e.what(), "invalid option for t: empty column name in \"a,,b\"");
  EXPECT_EQ(error_of([] { split_identifier_list("a,", "t"); }).sqlstate(), "22023");
  EXPECT_EQ(error_of([] { split_identifier_list("\"\"", "t"); }).sqlstate(), "22023");
}

TEST(SplitIdentifierList, RejectsAnUnterminatedQuote) {
  EXPECT_STREQ(error_of([] { split_identifier_list("\"abc", "t"); }).what(),
               "invalid option for t: unterminated quoted name in \"\"abc\"");
}

TEST(SplitIdentifierList, RejectsTextAfterAQuotedName) {
  EXPECT_EQ(error_of([] { split_identifier_list("\"a\"b", "t"); }).sqlstate(), "22023");
}

}  // namespace
}  // namespace chronicle
