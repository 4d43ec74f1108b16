#include "models/input_checks.h"

#include <c10/util/Exception.h>

namespace lstmlab {
namespace {

std::string input_layout(const RecurrentOptions& options) {
  return options.batch_first() ? "(batch, seq_len, input_size)" : "(seq_len, batch, input_size)";
}

void check_like_weights(const std::string& layer, const char* what, const torch::Tensor& t,
                        const torch::Tensor& weight) {
  TORCH_CHECK(t.is_floating_point(), layer, ": ", what, " must be a floating-point tensor, got ",
              t.scalar_type());
  TORCH_CHECK(t.scalar_type() == weight.scalar_type(), layer, ": ", what, " has dtype ",
              t.scalar_type(), " but the layer's weights are ", weight.scalar_type(),
              "; convert one of them with .to(", weight.scalar_type(), ") or .to(",
              t.scalar_type(), ")");
  TORCH_CHECK(t.device() == weight.device(), layer, ": ", what, " is on ", t.device(),
              " but the layer's weights are on ", weight.device(), "; move one with .to(device)");
}

torch::Tensor check_state_part(const std::string& layer, const char* name, const torch::Tensor& t,
                               const TimeMajorInput& input, const RecurrentOptions& options,
                               const torch::Tensor& weight) {
  const int64_t L = options.num_layers();
  const int64_t B = input.x.size(1);
  const int64_t H = options.hidden_size();
  TORCH_CHECK(t.defined(), layer, ": the initial state has no ", name);
  std::vector<int64_t> expected = input.unbatched ? std::vector<int64_t>{L, H}
                                                  : std::vector<int64_t>{L, B, H};
  TORCH_CHECK(t.sizes() == torch::IntArrayRef(expected), layer, ": expected ", name, " of size ",
              torch::IntArrayRef(expected), " (num_layers, ", input.unbatched ? "" : "batch, ",
              "hidden_size), got ", t.sizes());
  check_like_weights(layer, name, t, weight);
  return input.unbatched ? t.unsqueeze(1) : t;
}

}  // namespace

TimeMajorInput check_input(const std::string& layer, const torch::Tensor& input,
                           const RecurrentOptions& options, const torch::Tensor& weight) {
  TORCH_CHECK(input.defined(), layer, ": the input tensor is undefined");
  const int64_t rank = input.dim();
  if (rank != 2 && rank != 3) {
    std::string hint;
    if (rank > 3) {
      hint = ". Its sizes hold " + std::to_string(rank - 3) +
             " extra dimension(s) beyond 3: a cell that calls unsqueeze() on the same tensor each "
             "time it is re-run adds one per run; build the input once, or squeeze() the extra "
             "size-1 dimensions";
    }
    TORCH_CHECK(false, layer, ": expected input with 3 dimensions ", input_layout(options),
                " or 2 dimensions (seq_len, input_size) for one unbatched sequence, got ", rank,
                " dimensions of size ", input.sizes(), hint);
  }
  TORCH_CHECK(input.size(-1) == options.input_size(), layer, ": expected input_size ",
              options.input_size(), " as the last dimension of the input ", input_layout(options),
              ", got input of size ", input.sizes());
  check_like_weights(layer, "input", input, weight);

  TimeMajorInput result{input, rank == 2};
  if (result.unbatched) {
    result.x = input.unsqueeze(1);
  } else if (options.batch_first()) {
    result.x = input.transpose(0, 1);
  }
  TORCH_CHECK(result.x.size(0) > 0 && result.x.size(1) > 0, layer,
              ": expected at least one time step and one sequence, got input of size ",
              input.sizes());
  return result;
}

RecurrentState check_state(const std::string& layer, const std::optional<RecurrentState>& state,
                           const TimeMajorInput& input, const RecurrentOptions& options,
                           bool has_cell, const torch::Tensor& weight) {
  if (!state) {
    auto zeros = torch::zeros({options.num_layers(), input.x.size(1), options.hidden_size()},
                              weight.options());
    return {zeros, has_cell ? torch::zeros_like(zeros) : torch::Tensor()};
  }
  RecurrentState result;
  result.h = check_state_part(layer, "h0", state->h, input, options, weight);
  if (has_cell) {
    result.c = check_state_part(layer, "c0", state->c, input, options, weight);
  } else {
    TORCH_CHECK(!state->c.defined(), layer, ": this cell has no cell state, but c0 was given");
  }
  return result;
}

torch::Tensor restore_output(const torch::Tensor& output, const TimeMajorInput& input,
                             const RecurrentOptions& options) {
  if (input.unbatched) return output.squeeze(1);
  return options.batch_first() ? output.transpose(0, 1) : output;
}

RecurrentState restore_state(const RecurrentState& state, const TimeMajorInput& input) {
  if (!input.unbatched) return state;
  return {state.h.squeeze(1), state.c.defined() ? state.c.squeeze(1) : state.c};
}

}  // namespace lstmlab
