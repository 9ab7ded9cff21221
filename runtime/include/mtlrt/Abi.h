/* Abi.h: the one C interface between generated model code and the runtime.
 *
 * The compiler generates, for each model, a constant `mtl_model` descriptor
 * and the functions it points to. The runtime (data, the epoch loop, metrics,
 * checkpoints) knows a model only through this descriptor, which is why the
 * JIT and an ahead-of-time binary give bit-identical results: the same runtime
 * drives the same generated code through the same interface.
 *
 * Memory: the runtime owns four float arenas whose sizes the descriptor
 * gives, planned at compile time: parameters, optimizer state, gradients, and
 * a workspace for activations (a fixed part plus a part per batch row). A
 * step allocates nothing.
 *
 * A training step is two calls, so that the runtime sees the gradients in
 * between (loss balancing, gradient surgery, telemetry): grad_step (or
 * task_grad_step) writes the gradient arena, then update applies the
 * optimizer to it.
 */
#ifndef MTLRT_ABI_H
#define MTLRT_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTL_ABI_VERSION 11u
#define MTL_MAX_RANK 4

enum mtl_dtype { MTL_F32 = 0, MTL_I32 = 1 };
enum mtl_task_kind { MTL_REGRESS = 0, MTL_BINARY = 1, MTL_CLASSIFY = 2, MTL_MULTILABEL = 3 };
enum mtl_loss { MTL_MSE = 0, MTL_MAE = 1, MTL_HUBER = 2, MTL_BCE = 3, MTL_CROSS_ENTROPY = 4 };
/* Metric bits of mtl_task_desc.metrics. */
enum mtl_metric {
  MTL_ACCURACY = 1u << 0,
  MTL_PRECISION = 1u << 1,
  MTL_RECALL = 1u << 2,
  MTL_F1 = 1u << 3,
  MTL_MACRO_F1 = 1u << 4,
  MTL_AUC = 1u << 5,
  MTL_METRIC_MSE = 1u << 6,
  MTL_METRIC_MAE = 1u << 7,
  MTL_R2 = 1u << 8
};
/* How the runtime initialises a parameter tensor (PyTorch's defaults). */
enum mtl_init {
  MTL_INIT_ZEROS = 0,
  MTL_INIT_ONES = 1,
  MTL_INIT_UNIFORM = 2, /* U(-scale, scale); dense weight and bias: scale = 1/sqrt(in) */
  MTL_INIT_NORMAL = 3,  /* N(0, scale^2); embedding: scale = 1 */
  MTL_INIT_VALUES = 4   /* the tensor's init_values, given in the model (learned(...)) */
};

/** One model input: `elements` values per row. */
typedef struct mtl_input_desc {
  const char *name;
  int32_t dtype; /* enum mtl_dtype */
  int32_t rank;
  int64_t dims[MTL_MAX_RANK];
  int64_t elements;
} mtl_input_desc;

/** One task: what its head predicts and how it is scored. */
typedef struct mtl_task_desc {
  const char *name;
  int32_t kind;      /* enum mtl_task_kind */
  int32_t loss;      /* enum mtl_loss */
  int64_t width;     /* head outputs per row; also target values per row, except
                        classify, whose target is one class id per row */
  int64_t classes;   /* classify: k; else 0 */
  double weight;     /* the weight written in the model; the runtime may override */
  int32_t auxiliary; /* 1: trained, reported apart from the headline score */
  uint32_t metrics;  /* enum mtl_metric bits */
} mtl_task_desc;

/** A named tensor inside one of the arenas, PyTorch layout (dense weight [out, in]). */
typedef struct mtl_tensor_desc {
  const char *name;
  int32_t rank;
  int64_t dims[MTL_MAX_RANK];
  int64_t offset; /* in floats, from the start of its arena */
  int64_t size;   /* in floats */
  int32_t init;   /* enum mtl_init (parameters only) */
  float init_scale;
  const float *init_values; /* MTL_INIT_VALUES: `size` floats; else null */
  /* 1: a buffer, not trained (batch_norm's running statistics): after the
   * parameters in `params`; a training step writes its next value at its
   * place in the gradient arena, and the update copies it over. 0 else. */
  int32_t buffer;
} mtl_tensor_desc;

/** A mix's gate (`mix(gate, e1, ..., ek)`): its weights on the experts,
 * which the steps sum for telemetry (mtl_result.gate_sums). */
typedef struct mtl_gate_desc {
  const char *name;                /* the gate as written; unique among the model's gates */
  int32_t task;                    /* the one task whose loss reads the mix; -1: several */
  int32_t experts;                 /* k */
  const char *const *expert_names; /* k names, as written */
} mtl_gate_desc;

/** The runtime's thread pool, handed to generated code. `parallel_for` calls
 * body(ctx, begin, end) on disjoint chunks covering [0, n) and returns when all
 * are done. Generated code splits only work whose result does not depend on
 * the split, so results do not change with the number of threads. */
typedef struct mtl_parallel {
  void (*parallel_for)(void *pool, int64_t n, void (*body)(void *ctx, int64_t begin, int64_t end),
                       void *ctx);
  void *pool;
} mtl_parallel;

/** A batch of rows. Inputs are row-major `rows x elements` (f32 or i32 per
 * the input's dtype); targets are row-major f32 (class ids as floats), NaN
 * where a row has no label for that task. */
typedef struct mtl_batch {
  int64_t rows;
  const void *const *inputs;
  const float *const *targets;
} mtl_batch;

/** Settings that may change between steps without recompiling. */
typedef struct mtl_hyper {
  float lr;
  const float *task_weights; /* one per task */
  int64_t step;              /* 1-based optimizer step (Adam's bias correction) */
  uint64_t seed;             /* the run's seed: dropout masks are a hash of
                                (the op's seed ^ mix64(seed), step, element) */
  const float *lr_scales;    /* one per parameter tensor, multiplying lr in update;
                                0 leaves the tensor and its optimizer state as they
                                are (frozen). NULL: every scale is 1 */
} mtl_hyper;

/** What a step reports. Arrays are the caller's, sized by the descriptor. */
typedef struct mtl_result {
  float total_loss;      /* Σ_t w_t L_t + penalty */
  float *task_losses;    /* per task: mean loss over labelled rows, 0 if none */
  float *task_counts;    /* per task: labelled rows in the batch, a row with only
                            some of its target values counting the fraction it
                            has (the losses' mean is over labelled values) */
  float *const *outputs; /* per task, rows x width head outputs; NULL: not wanted */
  float penalty;         /* regularisers + soft-sharing penalties; 0 if the model has none */
  int32_t skipped;       /* update: 1 when the total loss was not finite, or a gradient
                            or the learning rate was 2^60 or more, so the update was not
                            made: parameters and optimizer state are unchanged; 2 when
                            the update was made and stored a non-finite value (they are
                            changed and not finite). 0 otherwise, and in the other steps. */
  /* Each step that runs the forward writes, for each gate g and expert j
   * (gate g's block starts after the earlier gates' experts), the sum over
   * the batch's rows of the gate's weight on expert j: over the rows
   * labelled for the gate's task, each weighted as task_counts counts it,
   * or every row when the task is -1. NULL: not
   * wanted, and nothing is computed. */
  float *gate_sums;
  /* The batch's rows: each step writes them, and update reads those of the
   * gradient step before it. It splits a tensor over the threads only where
   * that step split the tensor's gradient (rows x elements of at least the
   * code's threshold), so each thread updates the part it wrote: at batch 1
   * the gradient is one thread's, and moving half of it to the other costs
   * more than the update. Results do not depend on it. */
  int64_t rows;
} mtl_result;

/** The descriptor of one compiled model. */
typedef struct mtl_model {
  uint32_t abi_version; /* MTL_ABI_VERSION */
  const char *name;
  const char *source_hash; /* hex digest of the .mtl source */
  const char *mtlc_version;
  const char *target_cpu;
  int32_t num_inputs;
  const mtl_input_desc *inputs;
  int32_t num_tasks;
  const mtl_task_desc *tasks;
  int32_t num_params;
  const mtl_tensor_desc *params; /* in the parameter arena */
  int32_t num_state;
  const mtl_tensor_desc *state; /* in the optimizer-state arena: "<param>.exp_avg", ... */
  int64_t params_size;
  int64_t state_size;
  int64_t workspace_fixed;   /* floats */
  int64_t workspace_per_row; /* floats per batch row */
  /* The gradient arena: grads_size floats. Its first params_size floats are
   * laid out as the parameter arena; when the model has task_grad_step, one
   * block of shared_size floats per task follows, holding the shared
   * parameters as `shared` places them (offsets within a block). */
  int64_t grads_size;
  int32_t num_shared;            /* also when task_grad_step was not generated */
  const mtl_tensor_desc *shared; /* parameters that more than one task's loss depends on */
  const int32_t *shared_params;  /* per shared tensor: its index into params */
  int64_t shared_size;
  /* Forward and backward: d total_loss / d params into grads[0, params_size). */
  void (*grad_step)(const mtl_batch *batch, const mtl_hyper *hyper, const float *params,
                    float *workspace, float *grads, mtl_result *result,
                    const mtl_parallel *parallel);
  /* As grad_step, with each task's term apart on the shared parameters: task t's
   * block gets d (w_t L_t) / d p for each shared p, and grads[0, params_size)
   * gets d total_loss / d p for the other parameters but only the penalty's
   * gradient for the shared ones, so that adding every task's block to it gives
   * grad_step's arena. Without a penalty (has_penalty 0) the shared
   * parameters' place in grads[0, params_size) is not written at all. NULL
   * when fewer than two tasks share a parameter, or when the model's
   * balancing method does not need it and the compiler was not asked for it
   * (mtlc train --balance/--grad-stats); `mtlc build` always generates it. */
  void (*task_grad_step)(const mtl_batch *batch, const mtl_hyper *hyper, const float *params,
                         float *workspace, float *grads, mtl_result *result,
                         const mtl_parallel *parallel);
  /* The optimizer's step with the gradients grads[0, params_size), after a
   * gradient step filled `result` (its total_loss); sets result->skipped.
   * Large tensors are split over `parallel`'s threads (may be NULL), with
   * the same values for any split. */
  void (*update)(const mtl_hyper *hyper, float *params, float *state, const float *grads,
                 mtl_result *result, const mtl_parallel *parallel);
  /* Forward only (dropout off): losses, and head outputs where asked. */
  void (*eval_step)(const mtl_batch *batch, const mtl_hyper *hyper, const float *params,
                    float *workspace, mtl_result *result, const mtl_parallel *parallel);
  /* How to run the model: its data sets and train settings as JSON
   * (runtime/include/mtlrt/RunConfig.h), so a built program trains on what
   * `mtlc train` would. */
  const char *config;
  /* 1: the total loss has a penalty term (regularisers, soft sharing), which
   * mtl_result.penalty reports; 0: it is always 0. */
  int32_t has_penalty;
  /* Forward, and each head's backward down to the representation every task
   * shares (the values all task losses depend on that feed the heads: a
   * trunk's output), but not into the trunk: grads[rep_gram_offset +
   * i * num_tasks + j] gets sum(dZ_i * dZ_j) summed over those values, dZ_t =
   * d (w_t L_t) / d Z, the tasks' Gram matrix on the representation (for
   * mgda(rep)); then, in the params_size floats from rep_gram_offset +
   * num_tasks^2 (laid out as the parameter arena), d total_loss / d p for
   * every parameter p that is not shared (the heads'). Writes nothing else of
   * grads. NULL where task_grad_step is, or when the tasks share no
   * representation. */
  void (*rep_grad_step)(const mtl_batch *batch, const mtl_hyper *hyper, const float *params,
                        float *workspace, float *grads, mtl_result *result,
                        const mtl_parallel *parallel);
  int64_t rep_gram_offset;
  /* Every mix's gate, in the order the model's heads reach them. */
  int32_t num_gates;
  const mtl_gate_desc *gates;
} mtl_model;

#ifdef __cplusplus
}
#endif

#endif /* MTLRT_ABI_H */
