// Model.h: the checked model, sema's output and the input of lowering.
//
// Everything here is resolved: names are indices, block calls are expanded
// into layers, every shape is known (per row; the batch dimension is implied)
// and every setting has its value, defaults included.
#pragma once

#include "support/Source.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mtl::sema {

using Shape = std::vector<int64_t>;

/// Number of elements of a per-row shape (1 for a scalar).
int64_t elementCount(const Shape &shape);
/// "[4]", "[1, 28, 28]", "[]".
std::string formatShape(const Shape &shape);

enum class DType { F32, I32 };

/// `input x : f32[4]`
struct Input {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  SourceLoc loc;
};

enum class LayerKind {
  Dense, ///< y = x W^T + b, W is [units, in]
  Relu,
  LeakyRelu, ///< slope `alpha` for x < 0
  Gelu,      ///< the tanh approximation
  Tanh,
  Sigmoid,
  Softmax,   ///< over the last dimension
  Dropout,   ///< inverted dropout with drop probability `rate`; identity in eval
  LayerNorm, ///< over the last dimension, with learned gain and bias
  BatchNorm, ///< per channel ([C] or [C, H, W]) over the batch; running statistics for eval
  Embedding, ///< i32 ids [n] -> [n, units], table [vocab, units]
  Flatten,   ///< any shape -> [elements]
  Conv2d,    ///< [C, H, W] -> [units, OH, OW], weight [units, C, kernel, kernel]
  MaxPool,   ///< [C, H, W] -> [C, OH, OW], each window's maximum
  AvgPool,   ///< [C, H, W] -> [C, OH, OW], each window's mean
  Gru,       ///< f32 [steps, features] -> [units]: the last hidden state of torch.nn.GRU
  Learned,   ///< no input: a learned vector `weight`, starting at `values` (learned(...))
  Attention, ///< attend(...)'s projections: query [units] over experts `inShape`, `heads`
};

/// Lower-case layer name as written in .mtl ("dense", "leaky_relu", ...).
const char *layerName(LayerKind kind);

/// One layer with its hyper-parameters and shapes resolved.
struct Layer {
  LayerKind kind = LayerKind::Relu;
  SourceLoc loc;    ///< the layer as written (inside a block body, if it came from one)
  SourceLoc useLoc; ///< the outermost place that caused it (the block call in a chain)
  Shape inShape, outShape;
  /// Dense: output features; Embedding: vector width; Conv2d: channels; Gru: hidden size
  int64_t units = 0;
  int64_t vocab = 0;          ///< Embedding: number of ids
  bool bias = true;           ///< Dense, Conv2d
  double alpha = 0.01;        ///< LeakyRelu
  double rate = 0.0;          ///< Dropout
  double eps = 1e-5;          ///< LayerNorm, BatchNorm
  double momentum = 0.1;      ///< BatchNorm: the running statistics' update factor
  int64_t kernel = 1;         ///< Conv2d, MaxPool, AvgPool: the window's side
  int64_t stride = 1;         ///< Conv2d (default 1), pools (default: the kernel)
  int64_t padding = 0;        ///< Conv2d: zeros on each side of the image
  std::vector<double> values; ///< Learned: the starting values, one per element
  int64_t heads = 1;          ///< Attention
  /// Checkpoint prefix, PyTorch nn.Sequential style: "<module>.<position>",
  /// where the position counts every layer of the module, activations included.
  std::string paramPrefix;

  /// Number of trainable scalars this layer owns.
  int64_t paramCount() const;
};

/// A sequence of layers whose parameters belong together: a shared block, or
/// the part of a task's head that the task owns.
struct Module {
  std::string name; ///< "trunk", "species", or "trunk.species" for a soft copy
  std::vector<Layer> layers;
  SourceLoc loc;
  bool shared = false; ///< declared with `shared`
  int softGroup = -1;  ///< index into Model::softGroups for soft-shared copies
  int64_t paramCount() const;
};

/// A tensor flowing through the model: an input, or a module applied to a value.
/// Values form a DAG; a value with several consumers is where gradients add up.
struct Value {
  enum Kind {
    InputRef,
    Apply,
    Add,     ///< args[0] + args[1], element-wise, equal shapes
    Sub,     ///< args[0] - args[1]
    Mul,     ///< args[0] * args[1]
    Scale,   ///< factor * args[0]
    Concat,  ///< args along the last dimension
    Mix,     ///< Σ_j gate[j] * expert_j: args[0] is the gate, the rest the experts, each
             ///< of shape [n] or a stack [k, n] of k experts
    Stack,   ///< args (of one shape s) stacked: [count, s...]
    Select,  ///< row `index` of args[0], a stack [k, s...]: [s...]
    Learned, ///< a Learned layer's weight (module's only layer): the same for every row
    Attend,  ///< args[0] (the query) attends over the experts args[1..] (vectors or stacks)
             ///< through the module's only layer, an Attention
  } kind = InputRef;
  int input = -1;        ///< InputRef: index into Model::inputs
  int module = -1;       ///< Apply, Learned, Attend: index into Model::modules
  int arg = -1;          ///< Apply: the value the module is applied to
  std::vector<int> args; ///< the values the combining kinds read
  double factor = 1;     ///< Scale
  int64_t index = 0;     ///< Select
  /// Mix, Attend: the gate's name, then each expert's (a stack's as
  /// `NAME[j]`), which gate telemetry reports them by.
  std::vector<std::string> argTexts;
  /// The shared value this value is (the first that computes it), which
  /// `mtlc shapes` names a combination by; empty for the others.
  std::string sharedName;
  /// It differs by the task that reads it: made by each_task or ple, or
  /// computed from such a value.
  bool perReader = false;
  SourceLoc loc; ///< the combining kinds: where the combination is written
  Shape shape;
};

/// Soft parameter sharing: each task has its own copy of a block, and the loss
/// gains `lambda * Σ_t ||θ_t − θ_mean||²` over the copies in `modules`.
struct SoftGroup {
  std::string block;
  double lambda = 0;
  std::vector<int> modules;
  SourceLoc loc;
};

enum class TaskKind { Regress, Binary, Classify, Multilabel };
enum class Loss { Mse, Mae, Huber, Bce, CrossEntropy };
enum class Metric { Accuracy, Precision, Recall, F1, MacroF1, Auc, Mse, Mae, R2 };

const char *taskKindName(TaskKind kind);
const char *lossName(Loss loss);
const char *metricName(Metric metric);
/// Whether a larger value of a monitored quantity is better: "loss", mse and
/// mae are minimised, every other metric is maximised.
bool higherIsBetter(std::string_view monitored);

/// A task: its head, what it predicts, how it is scored and weighted.
/// Heads produce raw outputs: logits for `bce` and `cross_entropy` (the loss
/// applies the sigmoid or softmax), values for regression losses.
struct Task {
  std::string name;
  SourceLoc loc;
  TaskKind kind = TaskKind::Regress;
  int64_t width = 1;   ///< head output width: n, 1, k, k for the four kinds
  int64_t classes = 0; ///< Classify: k
  /// `classes = [..]`: the class names in id order (k for classify(k), 2 for
  /// binary); empty: the training data's labels decide.
  std::vector<std::string> classNames;
  int head = -1; ///< value id of the head output
  Loss loss = Loss::Mse;
  double huberDelta = 1.0;
  double weight = 1.0;
  std::vector<Metric> metrics;
  bool auxiliary = false;
};

/// The kind as written in .mtl: "regress(2)", "binary", "classify(3)", "multilabel(5)".
std::string taskKindText(const Task &task);

/// How the task losses are balanced (docs/balancing.md). Every method but
/// `static` runs in the runtime between the gradient step and the update.
enum class BalanceKind {
  Static,
  Dwa,
  Rlw,
  Uncertainty, ///< learned log-variances: lowering adds them to the loss
  Famo,
  GradNorm,
  PcGrad,
  Mgda,
  MgdaRep, ///< mgda(rep): on the tasks' gradients on the shared representation
  CaGrad,
  Imtl,
  AlignedMtl,
  NashMtl
};

struct Balance {
  BalanceKind kind = BalanceKind::Static;
  /// Whether the method combines each task's gradient on the shared
  /// parameters, so the step must compute them apart (task_grad_step).
  bool combinesGradients() const {
    return kind != BalanceKind::Static && kind != BalanceKind::Dwa && kind != BalanceKind::Rlw &&
           kind != BalanceKind::Uncertainty && kind != BalanceKind::Famo;
  }
  double param = 0; ///< Dwa: temperature; GradNorm: alpha; CaGrad: c
  /// As the runtime reads it (TrainOptions::balance): "static", "dwa(temperature = 2)", ...
  std::string text = "static";
  SourceLoc loc;
};

/// `l1(λ)` or `l2(λ)` over every parameter of `modules` (all modules if empty).
/// Biases and layer-norm parameters are included, as in PyTorch's weight_decay.
struct Regularizer {
  enum Kind { L1, L2 } kind = L2;
  double lambda = 0;
  std::vector<int> modules;
  SourceLoc loc;
};

enum class OptimizerKind { Sgd, Adam, AdamW };

struct Optimizer {
  OptimizerKind kind = OptimizerKind::Adam;
  double lr = 1e-3;
  double momentum = 0;    ///< Sgd
  double beta1 = 0.9;     ///< Adam, AdamW
  double beta2 = 0.999;   ///< Adam, AdamW
  double eps = 1e-8;      ///< Adam, AdamW
  double weightDecay = 0; ///< AdamW (decoupled); default 0.01 for adamw
  SourceLoc loc;
};

/// Early stopping on a validation quantity: "loss" (the total validation loss)
/// or "<task>.<metric>".
struct EarlyStop {
  bool enabled = false;
  int64_t patience = 5;
  std::string monitor = "loss";
  bool maximize = false; ///< true for metrics where larger is better
  double minDelta = 0;
};

struct TrainConfig {
  int64_t epochs = 10;
  int64_t batch = 32;
  uint64_t seed = 0;
  bool shuffle = true;
  /// Indices into Model::data: the data sets to train on (several train
  /// together, their batches drawn by `sampling`), or validate on, or test
  /// on (evaluated once after training).
  std::vector<int> trainData, validateData, testData;
  SourceLoc dataLoc;                     ///< where `data` names them (the train item's, by default)
  double validateFraction = 0;           ///< hold out this fraction of each training data set
  double testFraction = 0;               ///< hold out this fraction of each for the test
  std::string sampling = "proportional"; ///< canonical: round_robin, proportional, temperature(T)
  EarlyStop earlyStop;
  // Transfer (docs/transfer.md): parameters to start from, and what to train.
  std::string init;                 ///< a checkpoint's path, resolved; empty: none
  SourceLoc initLoc;                ///< where `init` names it
  std::vector<std::string> initMap; ///< "trunk.* <- encoder.*" rules
  std::vector<std::string> freeze;  ///< parameter groups not trained
  int64_t unfreezeAfter = 0;        ///< > 0: frozen groups train after this many epochs
  std::vector<std::pair<std::string, double>> lrScales; ///< learning-rate multipliers per group
  std::string schedule = "constant"; ///< as the runtime parses it: "cosine(warmup = 5)"
  double clipNorm = 0;               ///< > 0: clip each step's gradient norm
  SourceLoc loc;
};

/// A column of a CSV file, by header name or by 0-based number.
struct ColumnRef {
  std::string name; ///< empty when selected by number
  int64_t index = -1;
  SourceLoc loc;
};

/// Where one input or one task's target comes from, and how it is prepared.
struct DataBinding {
  std::string target;
  bool isTask = false;
  int index = -1; ///< into Model::inputs or Model::tasks
  enum From { Columns, Images, Labels, Array } from = Columns;
  std::string array; ///< Array: the NumPy array's name (columns: its elements, all if none)
  std::vector<ColumnRef> columns; ///< CSV sources
  bool standardize = false;       ///< with mean and std of the training split
  double scale = 1.0;
  bool asClass = false;      ///< string (or integer) labels become class ids
  bool asCategory = false;   ///< (i32 inputs) values become ids by a vocabulary per column
  std::vector<double> inSet; ///< `in [..]`: 1 where the value is listed, else 0
  SourceLoc loc;
};

enum class DataKind { Csv, Idx, Synthetic, Npy, Npz };

/// A data set: its file(s), format options and bindings.
struct DataSet {
  std::string name;
  DataKind kind = DataKind::Csv;
  SourceLoc loc;
  std::string path;           ///< Csv: resolved against the model file's folder
  bool header = true;         ///< Csv
  char separator = ',';       ///< Csv; ' ' means runs of blanks
  std::string na = "";        ///< Csv: the missing-value marker (empty cells are always missing)
  int64_t skip = 0;           ///< Csv: lines to skip before the header or data
  std::string images, labels; ///< Idx: resolved paths
  /// Npy: each array's name and resolved path (Npz: `path` is the archive).
  std::vector<std::pair<std::string, std::string>> arrays;
  int64_t rows = 0;  ///< Synthetic
  uint64_t seed = 0; ///< Synthetic
  std::vector<DataBinding> bindings;
};

/// One task's candidate weights in an experiment's search: `grid(sex = [0.5,
/// 1, 2])` lists them; `random(n, sex = [0.1, 10])` gives the range [lo, hi]
/// that each of n points draws from, log-uniformly.
struct WeightChoice {
  std::string task;
  std::vector<double> values;
};

/// `experiment { ... }` (docs/experiments.md): what `mtlc experiment` runs.
struct Experiment {
  bool declared = false;
  SourceLoc loc;
  bool singleTaskBaselines = false; ///< `baselines = single_task`
  int64_t seeds = 1;                ///< runs of each configuration, with seeds seed, seed + 1, ...
  bool search = false;              ///< a `search { ... }` block
  std::vector<WeightChoice> weights;
  int64_t randomPoints = 0;         ///< > 0: `random(n, ...)`; else the grid of `weights`
  std::vector<std::string> balance; ///< canonical texts (Balance::text); empty: the model's
  std::vector<double> lr;           ///< empty: the optimizer's
  int64_t folds = 3;                ///< k of the search's cross-validation
  /// How the search chooses: "loss", "TASK.loss" or "TASK.METRIC", on the
  /// held-out fold; maximised for metrics other than mse and mae.
  std::string metric = "loss";
  bool maximize = false;
};

/// A whole checked model.
struct Model {
  std::string name;
  SourceLoc loc;
  std::string sourcePath;
  std::vector<Input> inputs;
  std::vector<Module> modules;
  std::vector<Value> values;
  std::vector<Task> tasks;
  std::vector<SoftGroup> softGroups;
  Balance balance;
  std::vector<Regularizer> regularizers;
  Optimizer optimizer;
  TrainConfig train;
  std::vector<DataSet> data;
  Experiment experiment;

  int64_t paramCount() const;
};

} // namespace mtl::sema
