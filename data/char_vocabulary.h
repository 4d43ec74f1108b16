#pragma once
// A vocabulary of characters (code points) and one `<unk>` token for what it leaves out.

#include <cstdint>
#include <string>
#include <vector>

namespace lstmlab {

enum class VocabularyOrder {
  Frequency,  ///< most frequent first, ties by code point; `<unk>` first
  D2l,        ///< d2l's: the tokens sorted as strings, `<unk>` among them (" " < "<unk>" < "a")
};

class CharVocabulary {
 public:
  static constexpr int32_t kUnknown = -1;  ///< the code point that stands for `<unk>`

  /// Characters seen fewer than `min_count` times map to `<unk>` (whose count is theirs).
  static CharVocabulary build(const std::u32string& corpus, int64_t min_count, VocabularyOrder order);
  /// From vocab.tsv (to_tsv()'s format). Throws std::runtime_error naming the file and line.
  static CharVocabulary load(const std::string& path);
  /// From code points in index order (kUnknown for `<unk>`), counts unknown (0).
  static CharVocabulary from_code_points(const std::vector<int32_t>& code_points);

  int64_t size() const { return static_cast<int64_t>(code_points_.size()); }
  int64_t unknown_index() const { return unknown_; }
  const std::vector<int32_t>& code_points() const { return code_points_; }
  const std::vector<int64_t>& counts() const { return counts_; }
  bool contains(char32_t c) const;
  /// The index of `c`, `<unk>`'s when it is not in the vocabulary.
  int64_t index_of(char32_t c) const;
  std::vector<int64_t> encode(const std::u32string& text) const;
  /// UTF-8; `<unk>` written as "<unk>".
  std::string decode(const std::vector<int64_t>& ids) const;
  /// vocab.tsv: "index\tcode_point\ttoken\tcount" with a header; the token escaped (\n, \t,
  /// \\) so that every row is one line. load() reads the code points, not the tokens.
  std::string to_tsv() const;

  bool operator==(const CharVocabulary& other) const {
    return code_points_ == other.code_points_ && counts_ == other.counts_;
  }

 private:
  void index();
  std::vector<int32_t> code_points_;
  std::vector<int64_t> counts_;
  std::vector<int64_t> lookup_;  ///< code point -> index, for the Basic Multilingual Plane
  int64_t unknown_ = -1;
};

}  // namespace lstmlab
