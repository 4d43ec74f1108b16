#include "data/char_vocabulary.h"

#include "data/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace lstmlab {
namespace {

const std::u32string kUnknownToken = U"<unk>";

std::u32string token_text(int32_t cp) {
  return cp == CharVocabulary::kUnknown ? kUnknownToken : std::u32string(1, static_cast<char32_t>(cp));
}

std::string escaped(int32_t cp) {
  switch (cp) {
    case '\n': return "\\n";
    case '\t': return "\\t";
    case '\r': return "\\r";
    case '\\': return "\\\\";
    default: return encode_utf8(token_text(cp));
  }
}

}  // namespace

CharVocabulary CharVocabulary::build(const std::u32string& corpus, int64_t min_count,
                                     VocabularyOrder order) {
  std::map<int32_t, int64_t> freq;
  for (const char32_t c : corpus) ++freq[static_cast<int32_t>(c)];
  std::vector<std::pair<int32_t, int64_t>> kept;
  int64_t unknown = 0;
  for (const auto& [cp, n] : freq) {
    if (n >= min_count) {
      kept.emplace_back(cp, n);
    } else {
      unknown += n;
    }
  }
  if (order == VocabularyOrder::Frequency) {
    std::stable_sort(kept.begin(), kept.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    kept.insert(kept.begin(), std::make_pair(kUnknown, unknown));
  } else {
    kept.emplace_back(kUnknown, unknown);
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
      return token_text(a.first) < token_text(b.first);
    });
  }
  CharVocabulary v;
  for (const auto& [cp, n] : kept) {
    v.code_points_.push_back(cp);
    v.counts_.push_back(n);
  }
  v.index();
  return v;
}

CharVocabulary CharVocabulary::from_code_points(const std::vector<int32_t>& code_points) {
  CharVocabulary v;
  v.code_points_ = code_points;
  v.counts_.assign(code_points.size(), 0);
  v.index();
  return v;
}

void CharVocabulary::index() {
  lookup_.assign(0x10000, -1);
  unknown_ = -1;
  for (size_t i = 0; i < code_points_.size(); ++i) {
    const int32_t cp = code_points_[i];
    if (cp == kUnknown) {
      unknown_ = static_cast<int64_t>(i);
    } else if (cp < 0x10000) {
      lookup_[static_cast<size_t>(cp)] = static_cast<int64_t>(i);
    }
  }
  if (unknown_ < 0) throw std::invalid_argument("a character vocabulary needs its <unk> token");
}

bool CharVocabulary::contains(char32_t c) const {
  if (c < 0x10000) return lookup_[c] >= 0;
  return std::find(code_points_.begin(), code_points_.end(), static_cast<int32_t>(c)) !=
         code_points_.end();
}

int64_t CharVocabulary::index_of(char32_t c) const {
  if (c < 0x10000) return lookup_[c] >= 0 ? lookup_[c] : unknown_;
  const auto it = std::find(code_points_.begin(), code_points_.end(), static_cast<int32_t>(c));
  return it == code_points_.end() ? unknown_ : static_cast<int64_t>(it - code_points_.begin());
}

std::vector<int64_t> CharVocabulary::encode(const std::u32string& text) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  for (const char32_t c : text) ids.push_back(index_of(c));
  return ids;
}

std::string CharVocabulary::decode(const std::vector<int64_t>& ids) const {
  std::u32string text;
  for (const int64_t id : ids) {
    if (id < 0 || id >= size()) {
      throw std::out_of_range(fmt::format("token {} is outside the vocabulary of {}", id, size()));
    }
    text += token_text(code_points_[static_cast<size_t>(id)]);
  }
  return encode_utf8(text);
}

std::string CharVocabulary::to_tsv() const {
  std::string tsv = "index\tcode_point\ttoken\tcount\n";
  for (size_t i = 0; i < code_points_.size(); ++i) {
    const int32_t cp = code_points_[i];
    tsv += fmt::format("{}\t{}\t{}\t{}\n", i, cp == kUnknown ? "<unk>" : fmt::format("U+{:04X}", cp),
                       escaped(cp), counts_[i]);
  }
  return tsv;
}

CharVocabulary CharVocabulary::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the vocabulary");
  CharVocabulary v;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no == 1) {
      if (line != "index\tcode_point\ttoken\tcount") {
        throw std::runtime_error(fmt::format("{}:1: not a vocabulary (expected the header "
                                             "index, code_point, token, count)", path));
      }
      continue;
    }
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string f; std::getline(row, f, '\t');) fields.push_back(f);
    const auto bad = [&](const std::string& why) {
      return std::runtime_error(fmt::format("{}:{}: {}", path, line_no, why));
    };
    if (fields.size() != 4) throw bad(fmt::format("expected 4 tab-separated fields, found {}", fields.size()));
    if (fields[0] != std::to_string(line_no - 2)) throw bad("expected index " + std::to_string(line_no - 2));
    int32_t cp;
    if (fields[1] == "<unk>") {
      cp = kUnknown;
    } else if (fields[1].size() > 2 && fields[1].compare(0, 2, "U+") == 0) {
      try {
        size_t used = 0;
        cp = static_cast<int32_t>(std::stol(fields[1].substr(2), &used, 16));
        if (used != fields[1].size() - 2 || cp < 0 || cp > 0x10FFFF) throw std::invalid_argument("");
      } catch (const std::exception&) {
        throw bad("'" + fields[1] + "' is not a code point");
      }
    } else {
      throw bad("'" + fields[1] + "' is not a code point (U+XXXX) or <unk>");
    }
    int64_t count;
    try {
      count = std::stoll(fields[3]);
    } catch (const std::exception&) {
      throw bad("'" + fields[3] + "' is not a count");
    }
    v.code_points_.push_back(cp);
    v.counts_.push_back(count);
  }
  if (v.code_points_.empty()) throw std::runtime_error(path + ": the vocabulary is empty");
  try {
    v.index();
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  return v;
}

}  // namespace lstmlab
