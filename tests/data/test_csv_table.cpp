// The CSV reader on what real files hold (quoted fields with commas, quotes and newlines; CRLF; no
// final newline; a UTF-8 byte-order mark) and on each malformed case, whose error must name the
// file and the line.

#include "data/csv_table.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using lstmlab::CsvTable;
using lstmlab::parse_csv_table;

using Rows = std::vector<std::vector<std::string>>;

// The message parse_csv_table throws for `text`, or "" when it does not throw.
std::string error_of(const std::string& text) {
  try {
    parse_csv_table(text, "in.csv");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(CsvTable, QuotedFieldsHoldCommasQuotesAndNewlines) {
  const auto t = parse_csv_table(
      "name,note,value\n"
      "a,\"x, y\",1\n"
      "b,\"say \"\"hi\"\"\",2\n"
      "c,\"two\nlines\",3\n"
      "d,plain,4\n",
      "in.csv");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"name", "note", "value"}));
  EXPECT_EQ(t.rows, (Rows{{"a", "x, y", "1"}, {"b", "say \"hi\"", "2"}, {"c", "two\nlines", "3"},
                          {"d", "plain", "4"}}));
  // Each row's first line: the multi-line row starts on line 4, so the next one is on line 6.
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 3, 4, 6}));
}

TEST(CsvTable, CrlfNoFinalNewlineAndByteOrderMarkReadAsPlainLf) {
  const Rows expected{{"1949-01", "112"}, {"1949-02", "118"}};
  const auto lf = parse_csv_table("\"Month\",\"Passengers\"\n\"1949-01\",112\n\"1949-02\",118\n", "a");
  const auto crlf = parse_csv_table("\"Month\",\"Passengers\"\r\n\"1949-01\",112\r\n\"1949-02\",118", "b");
  const auto bom = parse_csv_table("\xEF\xBB\xBFMonth,Passengers\r\n1949-01,112\r\n1949-02,118\r\n", "c");
  for (const CsvTable* t : {&lf, &crlf, &bom}) {
    EXPECT_EQ(t->columns, (std::vector<std::string>{"Month", "Passengers"})) << t->path;
    EXPECT_EQ(t->rows, expected) << t->path;
    EXPECT_EQ(t->lines, (std::vector<int64_t>{2, 3})) << t->path;
  }
}

// Found by fuzzing: a lone CR ends a row (old Mac files), and each such row is on a line of its
// own, not the header's line 1.
TEST(CsvTable, LoneCarriageReturnsEndLinesAndCountInLineNumbers) {
  const auto t = parse_csv_table("a,b\r1,2\r3,4\r\n5,6\n", "in.csv");
  EXPECT_EQ(t.rows, (Rows{{"1", "2"}, {"3", "4"}, {"5", "6"}}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 3, 4}));
  const auto ragged = error_of("a,b\r1,2\r3\r");
  EXPECT_NE(ragged.find("in.csv line 3: 1 field where the header (line 1) has 2"), std::string::npos)
      << ragged;
}

TEST(CsvTable, BlankLinesAreSkippedAndCountedInLineNumbers) {
  const auto t = parse_csv_table("a,b\n1,2\n\n3,4\n", "in.csv");
  EXPECT_EQ(t.rows, (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(t.column_index("b"), 1);
  EXPECT_EQ(t.column_index("c"), -1);
}

TEST(CsvTable, AnUnterminatedQuoteNamesTheLineItStartsOn) {
  const auto e = error_of("a,b\n1,2\n3,\"open\nstill open\n");
  EXPECT_NE(e.find("in.csv line 3"), std::string::npos) << e;
  EXPECT_NE(e.find("never closed"), std::string::npos) << e;
}

TEST(CsvTable, AStrayQuoteNamesTheLineAndColumn) {
  const auto e = error_of("a,b,c\n1,2,3\n4,\"5\"x,6\n");
  EXPECT_NE(e.find("in.csv line 3, column 2"), std::string::npos) << e;
}

TEST(CsvTable, ARaggedRowNamesItsLineAndBothCounts) {
  const auto e = error_of("a,b,c\n1,2,3\n4,5\n");
  EXPECT_NE(e.find("in.csv line 3: 2 fields where the header (line 1) has 3"), std::string::npos) << e;
  const auto longer = error_of("a,b\r\n1,2\r\n3,4\r\n5,6,7");
  EXPECT_NE(longer.find("in.csv line 4: 3 fields"), std::string::npos) << longer;
}

TEST(CsvTable, AnEmptyFileOrAHeaderAloneIsRefused) {
  for (const std::string text : {"", "\n\r\n", "\xEF\xBB\xBF"}) {
    const auto e = error_of(text);
    EXPECT_NE(e.find("in.csv: the file is empty"), std::string::npos) << e;
  }
  const auto header_only = error_of("a,b\n");
  EXPECT_NE(header_only.find("in.csv: line 1 is a header with no data rows"), std::string::npos)
      << header_only;
}

TEST(CsvTable, HeaderNamesMustBePresentAndDistinct) {
  EXPECT_NE(error_of("a,,c\n1,2,3\n").find("line 1: column 2 of the header has no name"),
            std::string::npos);
  EXPECT_NE(error_of("a,b,a\n1,2,3\n").find("line 1: column 3 of the header repeats the name 'a'"),
            std::string::npos);
}

TEST(CsvTable, AMissingFileIsNamed) {
  try {
    lstmlab::read_csv_table("/no/such/dir/x.csv");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/dir/x.csv: cannot open"), std::string::npos) << e.what();
  }
}

}  // namespace
