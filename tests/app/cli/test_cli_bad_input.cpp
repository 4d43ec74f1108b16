// Bad input, everywhere: one table of command lines a user might type, for every command, each
// with the exit status it must end with (2: the command line is wrong; 1: a file or the run it
// names cannot be used) and a piece of the one line it must print on stderr. Each row runs in a
// sandbox of the user's own files (a note, empty, binary, truncated and huge files, finished runs,
// runs from another task and a newer lstm-lab), and after each row every one of those files must
// be exactly as it was: a refused command loses, changes and adds nothing.

#include "app/train/checkpoint.h"
#include "tests/cli_run.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using lstmlab::test::lstm_lab;

const std::string kFixtures =
    (fs::path(__FILE__).parent_path().parent_path().parent_path() / "data/fixtures").string();

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

struct Row {
  std::string args;    ///< after "lstm-lab"; {u} is the user's folder, {r} the runs, {fx} fixtures
  int status;          ///< 2 usage, 1 runtime
  std::string says;    ///< a piece of the one line on stderr
};

// ctest names a group by its size, not by every row.
void PrintTo(const std::vector<Row>& rows, std::ostream* out) { *out << rows.size() << " rows"; }

/// What a file is, for "nothing changed": its size, and its bytes when it is small enough to read.
using Snapshot = std::map<std::string, std::string>;

Snapshot snapshot(const std::string& root) {
  Snapshot s;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto path = entry.path().string();
    if (entry.is_directory()) {
      s[path] = "dir";
    } else {
      const auto size = entry.file_size();
      s[path] = std::to_string(size) + ":" + (size < (1 << 20) ? read_file(path) : "");
    }
  }
  return s;
}

/// The sandbox: made once for the whole table (it trains two tiny runs).
class Sandbox {
 public:
  static Sandbox& get() {
    static Sandbox box;
    return box;
  }
  std::string root, user, runs;
  bool sparse_ok = false;

  ~Sandbox() {
    std::error_code ignored;
    if (::testing::UnitTest::GetInstance()->Passed()) fs::remove_all(root, ignored);
  }

 private:
  Sandbox() {
    root = ::testing::TempDir() + "lstmlab_bad_input_" + std::to_string(getpid());
    fs::remove_all(root);
    user = root + "/user";
    runs = root + "/runs";
    fs::create_directories(user);
    fs::create_directories(runs);
    write_file(user + "/notes.txt", "a file of the user's, never to be written over\n");
    write_file(user + "/empty.csv", "");
    write_file(user + "/empty.txt", "");
    write_file(user + "/empty.json", "");
    std::string binary;
    for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 37 + 11) & 0xff);
    write_file(user + "/binary.bin", binary);
    write_file(user + "/header_only.csv", "a,b\n");
    write_file(user + "/truncated.csv", "a,b\n1,2\n3,\"4");
    write_file(user + "/truncated.json", "{\"lstm\": {\"kernel\": [[0.1, 0.2");
    write_file(user + "/latin1.txt", "caf\xe9 cr\xe8me\n");
    write_file(user + "/weights_nan.json",
               "{\"weight_ih_l0\": [[NaN]], \"weight_hh_l0\": [[1]], \"bias_ih_l0\": [1], "
               "\"bias_hh_l0\": [1]}");
    write_file(user + "/short.txt", "abc abc\n");
    std::string corpus;
    for (int i = 0; i < 8; ++i) corpus += "the time traveller held his glass. ";
    write_file(user + "/corpus.txt", corpus);
    // 4 TB that take no disk: a file too large for any memory.
    {
      std::ofstream(user + "/huge.csv") << "a,b\n";
      std::error_code ec;
      fs::resize_file(user + "/huge.csv", uint64_t{1} << 42, ec);
      sparse_ok = !ec;
      if (!sparse_ok) fs::remove(user + "/huge.csv");
    }
    fs::create_directories(user + "/a_folder");

    const std::string tiny = " --quiet --no-plots --threads 1 --epochs 1 --hidden 4";
    train("train --points 60 --seq-len 5" + tiny + " --out " + runs + "/sine");
    train("train --task text --text " + user + "/corpus.txt --seq-len 6" + tiny + " --out " +
          runs + "/text");
    // A sine run's config beside a text run's checkpoint: a checkpoint of another task.
    fs::create_directories(runs + "/mixed");
    fs::copy_file(runs + "/sine/config.json", runs + "/mixed/config.json");
    fs::copy_file(runs + "/text/checkpoint.pt", runs + "/mixed/checkpoint.pt");
    // A run of a newer lstm-lab: its config.json, then its checkpoint, in a newer format.
    fs::copy(runs + "/sine", runs + "/newer_config", fs::copy_options::recursive);
    auto config = read_file(runs + "/sine/config.json");
    config.replace(config.find("\"format\": 1"), 11, "\"format\": 7");
    write_file(runs + "/newer_config/config.json", config);
    fs::copy(runs + "/sine", runs + "/newer_checkpoint", fs::copy_options::recursive);
    rewrite_format(runs + "/newer_checkpoint/checkpoint.pt", 3);
    // A checkpoint cut in half (a copy that stopped), and a config.json that is not JSON.
    fs::copy(runs + "/sine", runs + "/cut_checkpoint", fs::copy_options::recursive);
    const auto ckpt = read_file(runs + "/sine/checkpoint.pt");
    write_file(runs + "/cut_checkpoint/checkpoint.pt", ckpt.substr(0, ckpt.size() / 2));
    fs::copy(runs + "/sine", runs + "/binary_config", fs::copy_options::recursive);
    fs::copy_file(user + "/binary.bin", runs + "/binary_config/config.json",
                  fs::copy_options::overwrite_existing);
    fs::create_directories(runs + "/empty_dir");
  }

  static void train(const std::string& args) {
    const auto o = lstm_lab(args);
    if (o.status != 0) ADD_FAILURE() << args << " failed:\n" << o.output;
  }

  /// The checkpoint at `path`, its format number set to `format`: checkpoint.h's layout, a magic
  /// line of 20 bytes, then the format as 8 bytes little-endian.
  static void rewrite_format(const std::string& path, uint64_t format) {
    auto bytes = read_file(path);
    ASSERT_EQ(bytes.compare(0, 20, "lstm-lab checkpoint\n"), 0) << path;
    for (int i = 0; i < 8; ++i) bytes[20 + i] = static_cast<char>((format >> (8 * i)) & 0xff);
    write_file(path, bytes);
  }
};

std::string expand(std::string text) {
  const auto& box = Sandbox::get();
  const std::pair<std::string, std::string> marks[] = {
      {"{u}", box.user}, {"{r}", box.runs}, {"{fx}", kFixtures}};
  for (const auto& [mark, value] : marks) {
    for (size_t at; (at = text.find(mark)) != std::string::npos;) text.replace(at, mark.size(), value);
  }
  return text;
}

size_t line_count(const std::string& text) {
  size_t n = 0;
  for (char ch : text) n += ch == '\n';
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

class BadInput : public ::testing::TestWithParam<std::vector<Row>> {};

TEST_P(BadInput, IsOneLineTheRightExitStatusAndLeavesTheUsersFilesAlone) {
  auto& box = Sandbox::get();
  for (const auto& row : GetParam()) {
    if (row.args.find("huge") != std::string::npos && !box.sparse_ok) continue;
    const auto args = expand(row.args);
    SCOPED_TRACE(args);
    const auto before = snapshot(box.root);
    const auto o = lstm_lab(args, true);
    EXPECT_EQ(o.status, row.status) << o.output;
    EXPECT_EQ(line_count(o.output), 1u) << o.output;
    EXPECT_NE(o.output.find(expand(row.says)), std::string::npos)
        << "lacks \"" << expand(row.says) << "\": " << o.output;
    const auto after = snapshot(box.root);
    for (const auto& [path, was] : before) {
      const auto it = after.find(path);
      if (it == after.end()) {
        ADD_FAILURE() << path << " was removed";
      } else if (it->second != was) {
        ADD_FAILURE() << path << " was changed";
      }
    }
    for (const auto& [path, now] : after) {
      if (!before.count(path)) ADD_FAILURE() << path << " was left behind";
    }
  }
}

const std::string kSine = "train --quiet --no-plots --points 60 --seq-len 5 --hidden 4 --epochs 1 --out {u}/new_run ";
const std::string kCsv = "train --quiet --no-plots --task csv --target pollution --ignore date "
                         "--categorical wnd_dir --hidden 4 --epochs 1 --out {u}/new_run ";
const std::string kText = "train --quiet --no-plots --task text --seq-len 6 --hidden 4 --epochs 1 --out {u}/new_run ";

std::string group_name(const ::testing::TestParamInfo<std::vector<Row>>& group) {
  static const std::vector<std::string> names = {"train_flags", "train_files_and_out",
                                                 "train_resume", "compare_parity_bench_trace",
                                                 "corpus_generate_export_predict"};
  return names.at(group.index);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadInput,
    ::testing::Values(
        // train: flags and values
        std::vector<Row>{
            {kSine + "--no-such-flag", 2, "no-such-flag"},
            {kSine + "--hidden 0", 2, "--hidden must be positive, got 0"},
            {kSine + "--hidden -4", 2, "--hidden must be positive"},
            {kSine + "--hidden four", 2, "hidden"},
            {kSine + "--hidden 99999999999999999999", 2, "hidden"},
            {kSine + "--hidden 3000000000", 2, "--hidden 3000000000 --layers 1: the model would have"},
            {kSine + "--hidden 100000 --layers 100", 2, "of memory"},
            {kSine + "--layers 0", 2, "--layers"},
            {kSine + "--epochs 0", 2, "--epochs"},
            {kSine + "--epochs -3", 2, "--epochs"},
            {kSine + "--batch-size -1", 2, "--batch-size"},
            {kSine + "--lr 0", 2, "--lr must be positive"},
            {kSine + "--lr -0.1", 2, "--lr"},
            {kSine + "--lr nan", 2, "--lr 'nan': not a value this flag takes"},
            {kSine + "--lr inf", 2, "--lr 'inf'"},
            {kSine + "--dropout 1.5", 2, "--dropout must be in [0, 1)"},
            {kSine + "--dropout nan", 2, "--dropout 'nan'"},
            {kSine + "--clip nan", 2, "--clip"},
            {kSine + "--clip -1", 2, "--clip"},
            {kSine + "--seq-len 500", 2, "--seq-len"},
            {kSine + "--seq-len 0", 2, "--seq-len"},
            {kSine + "--points -10", 2, "--points"},
            {kSine + "--test-fraction 1.5", 2, "--test-fraction"},
            {kSine + "--test-fraction -0.1", 2, "--test-fraction"},
            {kSine + "--test-fraction nan", 2, "--test-fraction"},
            {kSine + "--noise nan", 2, "--noise"},
            {kSine + "--x-end inf", 2, "--x-end"},
            {kSine + "--threads -1", 2, "--threads"},
            {kSine + "--threads 100000", 2, "--threads"},
            {kSine + "--seed -1", 2, "seed"},
            {kSine + "--dtype float16", 2, "--dtype"},
            {kSine + "--lr-schedule sometimes", 2, "--lr-schedule"},
            {kSine + "--lr-factor 2", 2, "--lr-factor"},
            {kSine + "--early-stopping -1", 2, "--early-stopping"},
            {"train --quiet extra_word", 2, "extra_word"},
        },
        // train: --out, and files a flag names
        std::vector<Row>{
            {kSine + "--out {u}/notes.txt", 2, "a file of that name exists"},
            {kSine + "--out {u}/notes.txt/run", 2, "--out {u}/notes.txt/run"},
            {kSine + "--out /proc/lstmlab_run", 2, "--out /proc/lstmlab_run"},
            {kSine + "--out {u}", 2, "not an lstm-lab run"},
            {kSine + "--out {r}/sine", 2, "--overwrite"},
            {kCsv + "--csv {u}/missing.csv", 1, "{u}/missing.csv"},
            {kCsv + "--csv {u}/empty.csv", 1, "{u}/empty.csv"},
            {kCsv + "--csv {u}/binary.bin", 1, "{u}/binary.bin"},
            {kCsv + "--csv {u}/truncated.csv", 1, "{u}/truncated.csv"},
            {kCsv + "--csv {u}/header_only.csv", 1, "{u}/header_only.csv"},
            {kCsv + "--csv {u}/a_folder", 1, "{u}/a_folder: a directory"},
            {kCsv + "--csv {u}/huge.csv", 1, "{u}/huge.csv: the file is 4.4 TB"},
            {kCsv + "--csv {fx}/pollution_head300.csv --train-fraction 1.5", 2, "--train-fraction"},
            {kCsv + "--csv {fx}/pollution_head300.csv --train-fraction nan", 2, "--train-fraction"},
            {kCsv + "--csv {fx}/pollution_head300.csv --val-fraction -0.5", 2, "--val-fraction"},
            {kCsv + "--csv {fx}/pollution_head300.csv --n-in 0", 2, "--n-in"},
            {kCsv + "--csv {fx}/pollution_head300.csv --n-in 100000", 2, "--n-in"},
            {kCsv + "--csv {fx}/pollution_head300.csv --target nope", 2, "--target 'nope'"},
            {kText + "--text {u}/missing.txt", 1, "{u}/missing.txt"},
            {kText + "--text {u}/empty.txt", 1, "{u}/empty.txt"},
            {kText + "--text {u}/binary.bin", 1, "{u}/binary.bin"},
            {kText + "--text {u}/latin1.txt", 1, "UTF-8"},
            {kText + "--text {u}/a_folder", 1, "{u}/a_folder: a directory"},
            {kText + "--text {u}/huge.csv", 1, "{u}/huge.csv: the file is 4.4 TB"},
            {kText + "--text {u}/short.txt --seq-len 50", 2, "--seq-len"},
            {kText + "--text {u}/corpus.txt --val-fraction 2", 2, "--val-fraction"},
            {kSine + "--init-weights {u}/missing.json", 1, "{u}/missing.json"},
            {kSine + "--init-weights {u}/empty.json", 1, "{u}/empty.json"},
            {kSine + "--init-weights {u}/binary.bin", 1, "{u}/binary.bin"},
            {kSine + "--init-weights {u}/truncated.json", 1, "{u}/truncated.json"},
            {kSine + "--init-weights {u}/huge.csv", 1, "the file is 4.4 TB"},
        },
        // train --resume
        std::vector<Row>{
            {"train --resume {u}/nowhere", 1, "{u}/nowhere/config.json"},
            {"train --resume {r}/empty_dir", 1, "{r}/empty_dir/config.json"},
            {"train --resume {u}/notes.txt", 1, "{u}/notes.txt"},
            {"train --resume {r}/mixed --epochs 2", 1, "{r}/mixed/checkpoint.pt"},
            {"train --resume {r}/newer_config --epochs 2", 1, "newer lstm-lab (run format 7"},
            {"train --resume {r}/newer_checkpoint --epochs 2", 1, "newer lstm-lab (checkpoint format 3"},
            {"train --resume {r}/cut_checkpoint --epochs 2", 1, "{r}/cut_checkpoint/checkpoint.pt"},
            {"train --resume {r}/binary_config --epochs 2", 1, "{r}/binary_config/config.json"},
            {"train --resume {r}/sine --hidden 8", 2, "--hidden cannot change"},
            {"train --resume {r}/sine --epochs 0", 2, "--epochs"},
        },
        // compare, parity, bench, trace
        std::vector<Row>{
            {"compare --quiet --no-such-flag", 2, "no-such-flag"},
            {"compare --quiet --hidden 0 --out {u}/new_run", 2, "--hidden"},
            {"compare --quiet --lr nan --out {u}/new_run", 2, "--lr"},
            {"compare --quiet --seq-len 5000 --out {u}/new_run", 2, "--seq-len"},
            {"compare --quiet --points 60 --seq-len 5 --out {u}/notes.txt", 2, "a file of that name exists"},
            {"compare --quiet --points 60 --seq-len 5 --out {r}/sine", 2, "--overwrite"},
            {"parity --no-such-flag", 2, "no-such-flag"},
            {"parity --dtype float16", 2, "--dtype"},
            {"parity --steps -1", 2, "--steps"},
            {"parity --cell rnn", 2, "--cell"},
            {"parity --json {u}/notes.txt/report.json", 2, "--json"},
            {"bench --size 0,1,1,1", 2, "--size '0,1,1,1'"},
            {"bench --size 1,2,3", 2, "--size"},
            {"bench --size 1,2,3,4x", 2, "--size '1,2,3,4x'"},
            {"bench --size 1,2,3,4.5", 2, "--size"},
            {"bench --size 1,2,3,-4", 2, "--size"},
            {"bench --size 100000,100000,100000,100000", 2, "--size 100000,100000,100000,100000 with --layers 1: its tensors need about"},
            {"bench --size 2,3,1,4 --repeats 0", 2, "--repeats"},
            {"bench --size 2,3,1,4 --layers 0", 2, "--layers"},
            {"bench --size 2,3,1,4 --variants fast", 2, "--variants"},
            {"bench --size 2,3,1,4 --json {u}/notes.txt/b.json", 2, "--json"},
            {"trace --sequence ''", 2, "--sequence"},
            {"trace --sequence 1,nan", 2, "--sequence"},
            {"trace --sequence 1,inf", 2, "--sequence"},
            {"trace --sequence '1,2;3'", 2, "--sequence"},
            {"trace --sequence 1,x", 2, "--sequence"},
            {"trace --h0 1,2", 2, "--h0"},
            {"trace --c0 nan", 2, "--c0"},
            {"trace --cell gru --c0 1", 2, "--c0"},
            {"trace --cell gru --hidden 0", 2, "--hidden"},
            {"trace --cell gru --hidden 2000000000", 2, "--hidden 2000000000: the model would have"},
            {"trace --target nan", 2, "--target"},
            {"trace --lr -1 --target 1", 2, "--lr"},
            {"trace --weights {u}/missing.json", 1, "{u}/missing.json"},
            {"trace --weights {u}/empty.json", 1, "{u}/empty.json"},
            {"trace --weights {u}/binary.bin", 1, "{u}/binary.bin"},
            {"trace --weights {u}/truncated.json", 1, "{u}/truncated.json"},
            {"trace --weights {u}/weights_nan.json", 1, "{u}/weights_nan.json"},
        },
        // corpus, generate, export, predict
        std::vector<Row>{
            {"corpus --out {u}/corpus_out", 2, "--text"},
            {"corpus --text {u}/corpus.txt", 2, "--out"},
            {"corpus --text {u}/missing.txt --out {u}/corpus_out", 1, "{u}/missing.txt"},
            {"corpus --text {u}/binary.bin --out {u}/corpus_out", 1, "{u}/binary.bin"},
            {"corpus --text {u}/empty.txt --out {u}/corpus_out", 1, "{u}/empty.txt"},
            {"corpus --text {u}/huge.csv --out {u}/corpus_out", 1, "the file is 4.4 TB"},
            {"corpus --text {u}/corpus.txt --out {u}/notes.txt", 2, "--out {u}/notes.txt"},
            {"corpus --text {u}/corpus.txt --min-count -1 --out {u}/corpus_out", 2, "--min-count"},
            {"generate --prompt 'the '", 2, "run directory"},
            {"generate {r}/text", 2, "--prompt"},
            {"generate {r}/text --prompt ''", 2, "--prompt"},
            {"generate {r}/text --prompt 'the ' --length -1", 2, "--length"},
            {"generate {r}/text --prompt 'the ' --temperature nan", 2, "--temperature"},
            {"generate {r}/text --prompt 'the ' --temperature -1", 2, "--temperature"},
            {"generate {r}/text --prompt 'the ' --top-k -2", 2, "--top-k"},
            {"generate {r}/text --prompt 'the ' --unknown guess", 2, "--unknown"},
            {"generate {r}/text --prompt 'zzz#'", 2, "--prompt"},
            {"generate {r}/sine --prompt 'the '", 1, "generate needs a run of --task text"},
            {"generate {u}/nowhere --prompt 'the '", 1, "{u}/nowhere"},
            {"export {r}/sine --format onnx --out {u}/w.json", 2, "--format"},
            {"export {r}/sine --format keras", 2, "--out"},
            {"export {r}/sine --format keras --out {u}/notes.txt", 2, "--overwrite"},
            {"export {r}/sine --format keras --out {u}/notes.txt/w.json", 1, "{u}/notes.txt/w.json"},
            {"export {u}/nowhere --format keras --out {u}/w.json", 1, "{u}/nowhere"},
            {"export {r}/cut_checkpoint --format keras --out {u}/w.json", 1, "{r}/cut_checkpoint/checkpoint.pt"},
            {"export {r}/newer_config --format keras --out {u}/w.json", 1, "newer lstm-lab"},
            {"predict", 2, "--checkpoint"},
            {"predict --checkpoint {r}/sine --steps 0", 2, "--steps"},
            {"predict --checkpoint {r}/sine --steps -5", 2, "--steps"},
            {"predict --checkpoint {u}/nowhere", 1, "{u}/nowhere"},
            {"predict --checkpoint {r}/text", 1, "the text task writes no predictions"},
            {"predict --checkpoint {r}/cut_checkpoint", 1, "{r}/cut_checkpoint/checkpoint.pt"},
            {"frobnicate", 2, "unknown command 'frobnicate'"},
        }),
    group_name);

}  // namespace
