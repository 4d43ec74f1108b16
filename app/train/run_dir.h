#pragma once
// Where a run writes. A run never lands on top of another without being asked to: an explicit
// --out must be new or empty (or hold an lstm-lab run and come with --overwrite, which clears it),
// and a default name is made unique by claiming the directory itself, so two runs started in the
// same second get two directories.

#include <optional>
#include <string>

namespace lstmlab {

/// True when `dir` holds what lstm-lab writes: a run (config.json) or a comparison (compare.csv,
/// or builtin/ and scratch/ runs).
bool holds_a_run(const std::string& dir);

/// Claims the directory a command writes into. With `out`: creates it, or accepts it empty; a
/// directory that holds a run is cleared when `overwrite` and refused otherwise, and one that holds
/// anything else is always refused (lstm-lab deletes only what it wrote). Without: claims
/// runs/<prefix>-YYYYmmdd-HHMMSS, or the first free of ...-2, ...-3, ... Throws
/// std::invalid_argument naming --out. The directory the claim made is removed again if the command
/// ends with nothing written into it (a data error found after the claim leaves no empty run
/// behind); a directory that existed before is never removed.
class RunDirClaim {
 public:
  RunDirClaim(const std::optional<std::string>& out, const std::string& prefix, bool overwrite);
  ~RunDirClaim();
  RunDirClaim(const RunDirClaim&) = delete;
  RunDirClaim& operator=(const RunDirClaim&) = delete;
  const std::string& dir() const { return dir_; }

 private:
  bool created_ = false;
  std::string dir_;
};

}  // namespace lstmlab
