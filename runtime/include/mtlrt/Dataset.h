// Dataset.h: assembling a model's inputs and task targets from CSV, IDX or synthetic data.
//
// The compiler's driver fills these plain descriptions from its checked model;
// the runtime never sees compiler types.
#pragma once

#include "mtlrt/Csv.h"
#include "mtlrt/Result.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mtlrt {

/// A CSV column, by header name or by 0-based number (name empty).
struct ColumnSel {
  std::string name;
  int64_t index = -1;
};

/// Where one input's values or one task's targets come from, and how they
/// are prepared. Order of preparation: read, `as class` or `in [..]`, `scale`.
struct BindingSpec {
  std::string target; ///< the input's or task's name, for messages
  bool isTask = false;
  int slot = -1; ///< index of the input or task
  enum From { Columns, Images, Labels, Array } from = Columns;
  std::vector<ColumnSel> columns; ///< Columns: the CSV columns, in order; Array: elements (by
                                  ///< index) of each row, all if empty
  std::string array;              ///< Array: the NumPy array's name
  bool standardize = false;       ///< recorded in the Dataset; applied by the loop
  double scale = 1.0;
  bool asClass = false;      ///< labels become class ids (see classColumn)
  bool asCategory = false;   ///< values become category ids (see categoryColumns)
  std::vector<double> inSet; ///< non-empty: 1 where the value is listed, else 0
  int64_t width = 1;         ///< values per row this binding must produce
};

/// One data set of a model.
struct DataSpec {
  std::string name;
  enum Kind { Csv, Idx, Synthetic, Npy, Npz } kind = Csv;
  CsvOptions csv;             ///< Csv; Npz: csv.path is the archive
  std::string images, labels; ///< Idx: paths; either may be empty if unbound
  /// Npy: each array's name and path (.npy, plain or gzip).
  std::vector<std::pair<std::string, std::string>> arrays;
  int64_t rows = 0;                  ///< Synthetic
  uint64_t seed = 0;                 ///< Synthetic
  std::vector<BindingSpec> bindings; ///< ignored for Synthetic
};

/// The vocabulary of an input read 'as category': per element of its row
/// (one CSV column each), the names of that column's values, with
/// kUnknownCategory (id 0 of the column) first. Ids run on from one column to the next: value v of
/// element j has id (sizes of the vocabularies before j) + (v's index in
/// vocabulary j), so one embedding table holds every column's rows.
using Categories = std::vector<std::vector<std::string>>;

/// How many ids a vocabulary uses: the sum of its columns' sizes.
int64_t categoryCount(const Categories &categories);

/// One input of the model, as far as data is concerned.
struct InputSpec {
  std::string name;
  int64_t width = 1; ///< elements per row
  int64_t vocab = 0; ///< > 0: integer ids in [0, vocab) (embedding inputs)
  /// Empty: a data set that reads the input 'as category' makes its
  /// vocabulary from its values, and only the training data may do that.
  /// Non-empty: values are looked up by name; unknown ones read as <unk>.
  Categories categories;
};

/// One task of the model, as far as data is concerned.
struct TaskSpec {
  std::string name;
  enum Kind { Regress, Binary, Classify, Multilabel } kind = Regress;
  int64_t width = 1; ///< head width: n, 1, k, k for the four kinds (k = classes)
  /// The task's class vocabulary, names[id]: from the model's `classes = [..]`,
  /// or the training data's labels (see withClasses). Empty: a data set that
  /// reads the task 'as class' makes its own from its labels, and only the
  /// training data may do that. Non-empty: every label is looked up by name.
  std::vector<std::string> classes;
};

/// Values per row of a task's target: 1 class id for Classify, else its width.
int64_t targetWidth(const TaskSpec &task);

/// `tasks` with every empty class vocabulary filled from `names` (per task:
/// the training data's Dataset::classNames, or a checkpoint's), so that
/// validation, test and evaluation files number their labels exactly as
/// training did (a label training never saw is an error).
std::vector<TaskSpec> withClasses(std::vector<TaskSpec> tasks,
                                  const std::vector<std::vector<std::string>> &names);

/// `inputs` with every empty category vocabulary filled from `names` (per
/// input: the training data's Dataset::categories, or a checkpoint's).
std::vector<InputSpec> withCategories(std::vector<InputSpec> inputs,
                                      const std::vector<Categories> &names);

/// The values of one input slot, rows x width, row-major. Copies share one
/// array, which is read-only until write(): the models of an experiment,
/// which each load the same images, hold them once (shareEqualInputs).
class Values {
public:
  Values() = default;
  /// Implicit: a loader's vector becomes a slot's values.
  Values(std::vector<float> values) : v_(std::make_shared<std::vector<float>>(std::move(values))) {}
  size_t size() const { return v_ ? v_->size() : 0; }
  bool empty() const { return size() == 0; }
  const float *data() const { return v_ ? v_->data() : nullptr; }
  const float *begin() const { return data(); }
  const float *end() const { return data() + size(); }
  float operator[](size_t i) const { return (*v_)[i]; }
  operator std::span<const float>() const { return {data(), size()}; }
  /// The values to change in place; copied first while another Values shares them.
  std::vector<float> &write() {
    if (!v_)
      v_ = std::make_shared<std::vector<float>>();
    else if (v_.use_count() > 1)
      v_ = std::make_shared<std::vector<float>>(*v_);
    return *v_;
  }
  /// Equal values, element by element, as std::vector's ==.
  friend bool operator==(const Values &a, std::span<const float> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  /// Whether `other` holds this very array (not merely equal values).
  bool sharesWith(const Values &other) const { return v_ && v_ == other.v_; }

private:
  std::shared_ptr<std::vector<float>> v_;
};

/// A loaded data set, ready for batching. Matrices are row-major, rows x width.
struct Dataset {
  std::string name;
  int64_t rows = 0;
  std::vector<int64_t> inputWidths, targetWidths;
  std::vector<Values> inputs; ///< per input slot
  /// Per task slot. Classify: the class id; Binary and Multilabel: 0/1;
  /// NaN marks a missing label (the task's loss skips it). A task that no
  /// binding feeds is all NaN.
  std::vector<std::vector<float>> targets;
  /// Per task slot: names[id] for `as class` targets, "0".."k-1" for other
  /// classify(k) targets, empty otherwise.
  std::vector<std::vector<std::string>> classNames;
  /// Per input slot: the vocabulary of an 'as category' input, else empty.
  std::vector<Categories> categories;
  std::vector<uint8_t> standardizeInputs, standardizeTargets; ///< per slot: 1 if asked
  /// Per input slot: 1 when some rows lack the input (NaN there: the data
  /// set binds no column to it, or rows merged from one that does not, see
  /// mergeDatasets). The model reads those values as 0; standardisation
  /// statistics skip them. Only the tasks whose heads do not read the input
  /// may be trained or scored on such rows, which `mtlc check` verifies.
  std::vector<uint8_t> inputGaps;
  /// Several data sets merged into one (mergeDatasets): their names, and per
  /// row the index of the one it came from. Empty: one data set, `name`.
  std::vector<std::string> sourceNames;
  std::vector<int32_t> sources;
  /// Where each row came from: the 1-based line for CSV, the 0-based item for
  /// IDX and synthetic data.
  std::vector<int64_t> sourceRows;
  /// Things a person should know, e.g. "penguins.csv: dropped 2 rows with
  /// missing input values (lines 5, 273)".
  std::vector<std::string> notes;
};

/// Loads `spec` for a model with these inputs and tasks.
///
/// Csv and Idx: an input or task is bound at most once; one without a
/// binding is missing on every row (inputs are marked in inputGaps). Rows where any input value is
/// missing are dropped (a model cannot consume NaN) and reported in `notes`. Checks, with messages
/// naming the file and line: columns exist, each binding yields `width` values per row, class
/// counts fit the task (at most k for classify(k), 2 for binary), Classify targets are integers in
/// [0, k), Binary and Multilabel targets lie in [0, 1], embedding ids lie in [0, vocab).
///
/// Synthetic: `rows` rows of inputs drawn from N(0,1) (ids uniform in
/// [0, vocab)), and targets from a fixed random teacher per task: a random
/// linear map of the concatenated inputs (entries N(0, 1/D)), then tanh; then
/// regress: the values plus N(0, 0.05²) noise; binary: value > 0;
/// classify(k): argmax of k values; multilabel(k): each value > 0. Inputs,
/// teachers and noise use separate Rng streams of `seed`, so changing `rows`
/// leaves the teacher unchanged.
Result<Dataset> loadDataset(const DataSpec &spec, const std::vector<InputSpec> &inputs,
                            const std::vector<TaskSpec> &tasks);

/// The data sets a run trains (validates, tests) on together, as one
/// Dataset: the rows of each in turn, with Dataset::sources saying which
/// each came from. A task or input that a part does not bind is missing
/// (NaN) on its rows. Fails when two parts number one task's classes or
/// one input's categories differently, or standardise one slot differently.
/// One part is returned as it is.
Result<Dataset> mergeDatasets(std::vector<Dataset> parts, const std::vector<InputSpec> &inputs,
                              const std::vector<TaskSpec> &tasks);

/// Makes each input of `data` whose values equal the same input's in `like`
/// share `like`'s array, and frees its own: data sets that several models
/// load from the same files are held once. Returns the bytes freed.
size_t shareEqualInputs(Dataset &data, const Dataset &like);

/// The listed rows of `data` (each in [0, data.rows)), in that order.
Dataset subsetRows(const Dataset &data, std::span<const int64_t> rows);

/// The rows of each source of `data` (one list, of every row, for a
/// Dataset that is not merged), ascending.
std::vector<std::vector<int64_t>> sourceRowLists(const Dataset &data);

/// A fingerprint of the values of `data`, bit for bit: its rows, every
/// input and target value, and each row's source. Data sets of equal values
/// give equal fingerprints; a changed value (or row order, or source) gives
/// another, but for a chance of about 2^-64. A resumed run compares it
/// (RunState::dataValues).
uint64_t valuesFingerprint(const Dataset &data);

/// Per-feature standardisation, fitted on one split and applied to all rows.
struct Standardizer {
  std::vector<double> mean;   ///< per feature
  std::vector<double> stddev; ///< population std; 1 where it is 0 or undefined

  /// Mean and population standard deviation of each of the `width` features
  /// over the listed rows of a row-major matrix, ignoring NaN. A feature with
  /// no values gets mean 0, std 1.
  static Standardizer fit(std::span<const float> data, int64_t width,
                          std::span<const int64_t> rows);
  /// x := (x - mean) / std for every row; NaN stays NaN.
  void apply(std::span<float> data) const;
};

/// xoshiro256** 1.0 (Blackman & Vigna), seeded by running splitmix64 from
/// `seed ^ (stream * 0x9E3779B97F4A7C15)` to fill the four state words. Fixed
/// and documented so that runs repeat on every platform and standard library.
class Rng {
public:
  explicit Rng(uint64_t seed, uint64_t stream = 0);
  /// The next 64 random bits.
  uint64_t next();
  /// Uniform in [0, 1): the top 53 bits of next() times 2^-53.
  double uniform();
  /// Uniform integer in [0, bound) for bound > 0, unbiased: draws below
  /// 2^64 mod bound are rejected, then the draw is taken mod bound.
  uint64_t below(uint64_t bound);
  /// N(0,1) by Box–Muller on u1 in (0,1] and u2 in [0,1): returns
  /// sqrt(-2 ln u1) cos(2π u2), then the matching sine variate on the next call.
  double normal();

  /// The full state, for checkpoints; restoring it continues the stream exactly.
  struct State {
    uint64_t s[4];
    bool hasSpare;
    double spare;
  };
  State state() const;
  void setState(const State &state);

  /// One step of splitmix64 (Steele, Lea & Flood), as used for seeding.
  static uint64_t splitmix64(uint64_t &x);

private:
  uint64_t s[4];
  bool hasSpare = false;
  double spare = 0;
};

/// Training, validation and test rows of a hold-out split.
struct Split {
  std::vector<int64_t> train, validation, test; ///< each sorted ascending
};

/// Holds out ceil(rows * validateFraction) rows for validation (as
/// scikit-learn's train_test_split does), then ceil(rows * testFraction)
/// for the test, chosen by a Fisher–Yates shuffle with Rng(seed, 1):
/// for i from rows-1 down to 1, swap i with below(i + 1); the last rows of
/// the shuffled order are the validation rows, the rows before them the test
/// rows (so adding a test fraction leaves the validation rows unchanged).
/// Fractions are clamped to [0, 1); a positive one holds out at least one
/// row while the training part keeps at least one.
Split splitRows(int64_t rows, double validateFraction, uint64_t seed, double testFraction = 0,
                uint64_t stream = 1);

/// splitRows on each source of `data` (sourceRowLists) on its own, the
/// first with Rng(seed, 1), source s > 0 with Rng(seed, splitStream(s)),
/// so that every data set of a merged one keeps its share of validation
/// and test rows; the rows of the Split are rows of `data`, each list
/// sorted ascending. For a Dataset that is not merged, splitRows itself.
Split splitSources(const Dataset &data, double validateFraction, uint64_t seed,
                   double testFraction = 0);
uint64_t splitStream(int64_t source);

} // namespace mtlrt
