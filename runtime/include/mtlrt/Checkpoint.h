// Checkpoint.h: safetensors checkpoints of a training run, written atomically and read defensively.
//
// A checkpoint is one safetensors file (docs/checkpoints.md): an 8-byte
// little-endian header length N, N bytes of JSON padded with spaces to a
// multiple of 8, then the tensors' raw little-endian bytes, back to back. The
// JSON maps each tensor name to {"dtype", "shape", "data_offsets"} and holds
// string-to-string "__metadata__". Parameters and optimizer state keep their
// descriptor names (PyTorch nn.Sequential names, dense weights [out, in]), so
// a trunk loads into PyTorch with load_state_dict; the run's position (step,
// epoch, seed, early-stopping state) is metadata, and standardisation
// statistics are F64 tensors under "__standardize__.".
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Result.h"

#include <charconv>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace mtlrt {

class Trainer;

/// The value of metadata "format" in every checkpoint this runtime writes.
inline constexpr const char *kCheckpointFormat = "mtlc-checkpoint-1";

/// The element types a checkpoint may hold (safetensors spellings "F32", "F64", "I64").
enum class Dtype { F32, F64, I64 };

/// "F32", "F64" or "I64".
const char *dtypeName(Dtype dtype);
/// Bytes per element: 4 or 8.
int64_t dtypeSize(Dtype dtype);

/// One named tensor with its bytes (little-endian, row-major).
struct CheckpointTensor {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape; ///< empty: a scalar (one element)
  std::vector<unsigned char> data;

  /// An F32 tensor holding `values`, which must have product(shape) elements.
  static CheckpointTensor f32(std::string name, std::vector<int64_t> shape,
                              std::span<const float> values);
  /// An F64 tensor holding `values`, which must have product(shape) elements.
  static CheckpointTensor f64(std::string name, std::vector<int64_t> shape,
                              std::span<const double> values);
  /// Elements: the product of the shape.
  int64_t elements() const;
  /// The values as floats; only for F32 tensors (others give an empty vector).
  std::vector<float> floats() const;
  /// The values as doubles; only for F64 tensors (others give an empty vector).
  std::vector<double> doubles() const;
  /// "NAME[k] is nan" for the first element of an F32 or F64 tensor that is
  /// not finite (no training step writes one), or empty when there is none.
  std::string nonFinite() const;
  /// For Adam's second moment ("*.exp_avg_sq", an average of squares): a
  /// message naming its first value below 0, which would make the next
  /// update's square root NaN; empty for other tensors and when there is none.
  std::string negativeSecondMoment() const;
};

/// The contents of a checkpoint file, tensors in file order.
struct Checkpoint {
  std::string source; ///< the file it was read from (for messages); empty if built in memory
  std::map<std::string, std::string> metadata;
  std::vector<CheckpointTensor> tensors;

  /// The tensor named `name`, or null.
  const CheckpointTensor *find(const std::string &name) const;
  /// The metadata value of `key`, or null.
  const std::string *meta(const std::string &key) const;
  /// Reads metadata `key`, all of it, as a number (independent of the C
  /// locale) into `out`; false, leaving `out` as it was, when the key is
  /// absent or its value is not such a number.
  template <typename T> bool metaNumber(const std::string &key, T &out) const {
    const std::string *text = meta(key);
    T value{};
    if (!text)
      return false;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || ptr != text->data() + text->size())
      return false;
    out = value;
    return true;
  }
};

/// "[3, 32]": a shape as messages and docs print it.
std::string shapeString(std::span<const int64_t> shape);

/// The file's bytes. Tensors are laid out in the order given, with no gaps;
/// the JSON header lists "__metadata__" first. Names must be unique and not
/// "__metadata__", and each tensor's data must be elements() * dtypeSize() bytes.
Result<std::vector<unsigned char>> serializeCheckpoint(const Checkpoint &checkpoint);

/// Parses and validates a whole checkpoint image; `source` names it in
/// messages ("FILE: what is wrong"). Checks the header length against the
/// size, that the header is a JSON object of string metadata and tensor
/// entries with a supported dtype, a shape of non-negative integers, and
/// data_offsets that are in bounds, sized product(shape) * dtype size, and
/// that tile the data section exactly (no overlap, no gap, nothing after).
/// Never crashes on malformed input: every failure is an Error.
Result<Checkpoint> parseCheckpoint(std::span<const unsigned char> bytes, const std::string &source);

/// Reads and parses the file at `path` (see parseCheckpoint).
Result<Checkpoint> readCheckpoint(const std::string &path);

/// Writes `checkpoint` to `path` atomically: to "<path>.tmp-<pid>", flushed
/// and fsync'ed, renamed over `path`, then the directory fsync'ed. A process
/// killed at any moment leaves either the previous file or the new one, both
/// whole (at worst a stale .tmp file remains beside them).
Status writeCheckpoint(const std::string &path, const Checkpoint &checkpoint);

/// A checkpoint of `trainer` as it stands: every parameter and optimizer
/// state tensor under its descriptor name, the standardisation statistics,
/// and metadata for the model (name, source_hash, mtlc_version), the run's
/// settings (seed, batch, shuffle, validate, lr, task weights) and its
/// position (step, epoch, rows, early-stopping state). docs/checkpoints.md
/// lists every key.
Result<Checkpoint> captureCheckpoint(const Trainer &trainer);

/// What applyCheckpoint restores.
enum class Restore {
  Everything, ///< resume: parameters, optimizer state, step, statistics, run position
  /// evaluate or predict: parameters and standardisation statistics (refused
  /// when the model's run configuration reads category columns or declares
  /// classes otherwise than the checkpoint was trained with)
  Trained,
  ParamsOnly ///< initialise from: parameters only; optimizer and run start fresh
};

/// Loads `checkpoint` into `trainer`, or changes nothing and fails. Always
/// checks the format and that the parameter names and shapes match the model,
/// listing every difference ("missing in checkpoint: trunk.2.weight [32, 64];
/// unexpected: trunk.2.bias [16]; shape differs: species.0.weight: checkpoint
/// [3, 32], model [4, 32]"). Everything also checks the optimizer state, the
/// model's source hash and the settings that decide the run's course (seed,
/// batch, shuffle, validate, lr, task weights, monitor), since an exact resume needs
/// them equal, and makes the next fit() continue after the checkpoint's epoch.
Status applyCheckpoint(const Checkpoint &checkpoint, Trainer &trainer,
                       Restore what = Restore::Everything);

/// A note for eval and predict when `checkpoint` (read from `path`) was
/// written by a model of another name than `model`: its tensors may fit by
/// name and shape (applyCheckpoint checks that), but it was trained as
/// another model, on that model's data. Empty when the names agree or the
/// checkpoint names no model.
std::string otherModelNote(const Checkpoint &checkpoint, const mtl_model &model,
                           const std::string &path);

/// What initialising a model from a checkpoint by name did.
struct InitReport {
  std::string source;               ///< the checkpoint's file
  std::vector<std::string> loaded;  ///< "trunk.0.weight", or "trunk.0.weight <- encoder.0.weight"
  std::vector<std::string> fresh;   ///< model tensors left at their initial values, and why
  std::vector<std::string> ignored; ///< checkpoint parameters the model does not take
  /// Model tensors that a freeze group names and the checkpoint did not give:
  /// they keep their random initial values for as long as they are frozen.
  std::vector<std::string> frozenFresh;
  /// "warning: ..." about frozenFresh, or empty.
  std::string frozenWarning() const;
  /// Category vocabularies too large for their input's embedding (checkpointCategories).
  std::vector<std::string> vocabularies;
  /// "init from ae.safetensors: loaded 4 tensors (...); new: ...; ignored: ...".
  std::string summary() const;
};

/// Initialises `trainer`'s parameters from `checkpoint` by name: each model
/// parameter takes the checkpoint tensor of its name, or, where a rule of
/// `map` ("trunk.* <- encoder.*", see InitRule) applies, of the name the
/// first such rule gives. A tensor the checkpoint lacks, or has in another
/// shape, keeps its initial value and is reported; a shape mismatch of a
/// tensor that a rule maps, a rule that maps no parameter of the model, and
/// a checkpoint that gives no tensor at all are errors, and nothing is
/// changed. The category vocabularies of inputs
/// of the same name are taken too (their embedding rows mean those values).
/// The optimizer state, step and statistics start afresh.
Result<InitReport> initFromCheckpoint(const Checkpoint &checkpoint, Trainer &trainer,
                                      const std::vector<std::string> &map);

struct RunConfig;

/// Per input of `inputs`: the category vocabulary that `checkpoint` records
/// for an input of its name (metadata categories.NAME), empty where none,
/// and empty where it holds more categories than the input's embedding has
/// rows (`vocab`), which is then described in `left` when given. With
/// `config`, the columns an input reads 'as category' in its training data
/// (categoryColumnNames) must be those the checkpoint records for the
/// vocabulary (metadata category_columns.NAME), in the same order: a
/// vocabulary is matched to columns by name, never by position.
Result<std::vector<Categories>> checkpointCategories(const Checkpoint &checkpoint,
                                                     const std::vector<InputSpec> &inputs,
                                                     std::vector<std::string> *left = nullptr,
                                                     const RunConfig *config = nullptr);

/// Per task of `tasks`: the class vocabulary that `checkpoint` records for
/// the task named `sources[t]` (metadata classes.NAME; `tasks[t].name` where
/// `sources` is empty), empty where none. A vocabulary that is not a JSON
/// array of strings is an error.
Result<std::vector<std::vector<std::string>>>
checkpointClasses(const Checkpoint &checkpoint, const std::vector<TaskSpec> &tasks,
                  const std::vector<std::string> &sources = {});

} // namespace mtlrt
