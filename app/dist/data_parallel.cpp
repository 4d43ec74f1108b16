#include "app/dist/data_parallel.h"

#include <torch/torch.h>

#include <map>

namespace lstmlab {

RowRange shard_rows(int64_t rows, int rank, int world) {
  const int64_t base = rows / world, extra = rows % world;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

Batch shard(const Batch& batch, RowRange range) {
  return {batch.input.narrow(0, range.begin, range.size()),
          batch.target.narrow(0, range.begin, range.size())};
}

RecurrentState shard(const RecurrentState& state, RowRange range) {
  const auto rows = [&](const torch::Tensor& t) {
    return t.defined() ? t.narrow(1, range.begin, range.size()) : t;
  };
  return {rows(state.h), rows(state.c)};
}

void broadcast_from_rank0(Communicator& comm, const std::vector<torch::Tensor>& tensors,
                          const std::string& what) {
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[t.scalar_type()].push_back(t);
  torch::NoGradGuard no_grad;
  for (auto& [dtype, group] : by_dtype) {
    std::vector<torch::Tensor> flat;
    for (const auto& t : group) flat.push_back(t.detach().reshape({-1}));
    auto buffer = torch::cat(flat);
    comm.broadcast(buffer, 0, what);
    int64_t at = 0;
    for (auto& t : group) {
      t.copy_(buffer.narrow(0, at, t.numel()).view_as(t));
      at += t.numel();
    }
  }
}

void all_reduce_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters,
                          const std::string& what) {
  if (parameters.empty()) return;
  std::vector<torch::Tensor> flat;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    flat.push_back(p.grad().reshape({-1}));
  }
  auto buffer = torch::cat(flat);
  comm.all_reduce_sum(buffer, what);
  int64_t at = 0;
  torch::NoGradGuard no_grad;
  for (const auto& p : parameters) {
    p.mutable_grad().copy_(buffer.narrow(0, at, p.numel()).view_as(p));
    at += p.numel();
  }
}

torch::Tensor gather_rows(Communicator& comm, const torch::Tensor& local, int64_t total_rows,
                          const std::string& what) {
  const int world = comm.size();
  const int64_t widest = shard_rows(total_rows, 0, world).size();
  auto padded = torch::zeros({local.size(0), widest, local.size(2)}, local.options());
  padded.narrow(1, 0, local.size(1)).copy_(local);
  const auto parts = comm.all_gather(padded, what);
  std::vector<torch::Tensor> rows;
  for (int r = 0; r < world; ++r) {
    rows.push_back(parts[static_cast<size_t>(r)].narrow(1, 0, shard_rows(total_rows, r, world).size()));
  }
  return torch::cat(rows, 1);
}

}  // namespace lstmlab
