// RunConfig.h: how to run a compiled model (its data sets and train settings), carried as JSON in
// the descriptor.
//
// The compiler writes this configuration into every model it generates
// (mtl_model.config), and every way of running a model reads it back from
// there: `mtlc train` after the JIT, a built program, the C library. So a
// built program trains on exactly the data, split and settings that
// `mtlc train` would, and both take the same command-line overrides.
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Result.h"
#include "mtlrt/Trainer.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mtlrt {

/// What the model's `data` and `train` items say.
struct RunConfig {
  std::vector<InputSpec> inputs;
  std::vector<TaskSpec> tasks;
  std::vector<DataSpec> data; ///< paths absolute, so a program runs from any folder
  /// Indices into data: the data sets to train on (several train together,
  /// see mergeDatasets and TrainOptions::sampling; none: the model names no
  /// training data), to validate on (else on train.validate), and to test
  /// on once after training.
  std::vector<int> trainData, validateData, testData;
  /// The model's settings: epochs, batch, seed, shuffle, lr, validate and
  /// earlyStop are read from and written to JSON; the other fields keep their defaults.
  TrainOptions train;
};

/// The JSON text of `config` (the format is internal to one mtlc version).
std::string runConfigJson(const RunConfig &config);

/// Parses what runConfigJson wrote. Fails with a message on malformed text.
Result<RunConfig> parseRunConfig(std::string_view json);

/// The configuration of a compiled model: parsed from model.config, checked
/// against the descriptor (the inputs' and tasks' names and widths).
Result<RunConfig> modelRunConfig(const mtl_model &model);

/// Per input (`tasks` false) or task (`tasks` true) of `model`: the
/// `scale(x)` its values are read with by the first training data set that
/// binds it, 1 where none scales them (or the model carries no configuration).
/// Predictions of a regression task divide by its scale; the C library
/// multiplies the rows it is given by them, as the data reader does.
std::vector<double> slotScales(const mtl_model &model, bool tasks);

/// Loads the data sets `indices` of `config` and merges them
/// (mergeDatasets) when there are several; the notes of each are in the
/// result's. Labels read 'as class' and values read 'as category' are
/// numbered by the vocabularies of config.tasks and config.inputs (the
/// training data's, see withClasses and withCategories); only the training
/// data may leave a vocabulary empty, and then the first of its data sets
/// that binds a slot makes its vocabulary, which the later ones follow.
Result<Dataset> loadDataSets(const RunConfig &config, std::span<const int> indices);

/// The columns that the first training data set of `config` binding input
/// `input` 'as category' reads, in order (a name, or the index of an
/// unnamed column); empty where none does. A vocabulary holds one list per
/// column, and the embedding one range of rows per column, in this order.
std::vector<std::string> categoryColumnNames(const RunConfig &config, size_t input);

/// `config` with the vocabularies of training (a training Dataset's, or a
/// Trainer's) wherever the model declares none.
RunConfig withVocabularies(RunConfig config, const std::vector<std::vector<std::string>> &classes,
                           const std::vector<Categories> &categories);

/// Fails when a task of `config` declares its classes (`classes = [..]`)
/// other than, or in another order than, the checkpoint `from` that gave
/// `classes` (a Trainer's or Predictor's classNames) trained its head with:
/// each output would be read as another class.
Status sameDeclaredClasses(const RunConfig &config,
                           const std::vector<std::vector<std::string>> &classes,
                           const std::string &from);

} // namespace mtlrt
