#pragma once
// The text task of seed 001: a character language model on a corpus from a text file (or, once
// the CSV reader is here, one column of a CSV), cleaned; cross-entropy over every token, perplexity
// on validation; random (d2l) or sequential (state-carrying) windows; greedy samples while it
// trains. Its vocabulary goes to vocab.tsv in the run directory and into the model's checkpoint.

#include "app/tasks/registry.h"
#include "app/tasks/text_options.h"

namespace lstmlab {

TaskEntry text_task_entry();

TextOptions text_options(const RunConfig& config);

/// The model the text task builds for `vocabulary` (so that generate can rebuild it).
SequenceModelPtr make_char_model(const ModelConfig& model, const TextOptions& options,
                                 const std::vector<int32_t>& code_points);

}  // namespace lstmlab
