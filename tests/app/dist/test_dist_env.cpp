// torchrun's environment contract and Slurm's, read into a rank's place in the run.

#include "app/dist/dist_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

namespace {

using lstmlab::dist_env_from_environment;

// Sets the variables for one test and restores the environment after it.
class Env {
 public:
  explicit Env(const std::map<std::string, std::string>& vars) {
    for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                             "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NNODES"}) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      unsetenv(name);
    }
    for (const auto& [k, v] : vars) setenv(k.c_str(), v.c_str(), 1);
  }
  ~Env() {
    for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                             "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NNODES"}) {
      unsetenv(name);
    }
    for (const auto& [k, v] : saved_) setenv(k.c_str(), v.c_str(), 1);
  }

 private:
  std::map<std::string, std::string> saved_;
};

std::string refusal(const std::map<std::string, std::string>& vars) {
  Env env(vars);
  try {
    dist_env_from_environment();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(DistEnv, NoVariablesIsOneProcess) {
  Env env({});
  EXPECT_FALSE(dist_env_from_environment().has_value());
}

TEST(DistEnv, TorchrunsVariables) {
  Env env({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"},
           {"MASTER_PORT", "29512"}});
  const auto e = dist_env_from_environment();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->rank, 3);
  EXPECT_EQ(e->world_size, 4);
  EXPECT_EQ(e->local_rank, 1);
  EXPECT_EQ(e->master_addr, "node7");
  EXPECT_EQ(e->master_port, 29512);
  EXPECT_EQ(lstmlab::describe(*e), "rank 3 of 4 (local rank 1), master node7:29512");
}

TEST(DistEnv, SlurmsVariablesStandInForTorchruns) {
  {
    Env env({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "1"}, {"SLURM_NNODES", "1"}});
    const auto e = dist_env_from_environment();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->rank, 1);
    EXPECT_EQ(e->world_size, 2);
    EXPECT_EQ(e->local_rank, 1);
    EXPECT_EQ(e->master_addr, "127.0.0.1");
    EXPECT_EQ(e->master_port, 29500);
  }
  EXPECT_NE(refusal({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "8"}, {"SLURM_NNODES", "2"}})
                .find("export MASTER_ADDR=$(scontrol show hostnames"),
            std::string::npos);
  // torchrun's win where both are set (torchrun started under srun).
  Env env({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"RANK", "0"}, {"WORLD_SIZE", "2"},
           {"MASTER_ADDR", "127.0.0.1"}});
  EXPECT_EQ(dist_env_from_environment()->world_size, 2);
}

TEST(DistEnv, BadValuesAreOneLineNamingTheVariable) {
  EXPECT_EQ(refusal({{"RANK", "0"}}),
            "RANK is set but WORLD_SIZE is not: a rank needs both (torchrun sets RANK, WORLD_SIZE, "
            "LOCAL_RANK, MASTER_ADDR and MASTER_PORT)");
  EXPECT_EQ(refusal({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}),
            "RANK='x': expected a whole number in [0, 1]");
  EXPECT_EQ(refusal({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}),
            "MASTER_PORT='70000': expected a whole number in [1, 65535]");
  EXPECT_NE(refusal({{"RANK", "0"}, {"WORLD_SIZE", "2"}}).find("MASTER_ADDR is not"), std::string::npos);
}

}  // namespace
