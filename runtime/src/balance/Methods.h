// Methods.h: the pure math of multi-task loss balancing, on Gram matrices and loss values.
//
// Gradient-based methods never see a gradient. The caller computes the Gram
// matrix of the T task gradients of the shared parameters, G[i*T+j] = g_i·g_j
// in double precision, calls a method, and makes one pass over the gradients to
// form Σ_t c_t g_t from the returned coefficients c. Every function here is
// therefore O(T^3) at most, independent of the model's size, and a step can
// afford exact solvers. A Gram matrix is read symmetrised, (G_ij + G_ji) / 2,
// and must be finite and positive semidefinite up to rounding.
//
// Every function answers a single task (tasks == 1) with {1}: there is nothing
// to balance, the gradient is used as it is (CAGrad's formula would give
// (1 + c) / (1 + c²) and Nash-MTL's 1/||g||; LibMTL's Nash-MTL gives 1 too). No function returns
// NaN for a zero task gradient, identical gradients or exactly opposite gradients.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mtlrt::balance {

/// c^T G c = ||Σ_t c_t g_t||², the squared norm of a combined gradient.
double combinedNormSquared(std::span<const double> gram, int tasks, std::span<const double> coeff);

/// The T×T matrix (row-major) of pairwise cosines g_i·g_j / (||g_i|| ||g_j||);
/// 0 wherever either norm is 0, so a zero gradient conflicts with nothing;
/// clamped to [-1, 1] against rounding.
std::vector<double> cosines(std::span<const double> gram, int tasks);

/// PCGrad, "gradient surgery" (Yu et al. 2020, Algorithm 1). For each task i in
/// order 0..T-1, g_i^pc starts as g_i and is projected, for each other task j
/// in a random order, onto the normal plane of the ORIGINAL g_j whenever they
/// conflict: if g_i^pc·g_j < 0, g_i^pc -= (g_i^pc·g_j / ||g_j||²) g_j (j with
/// ||g_j|| = 0 is skipped). Returns the coefficients of Σ_i g_i^pc.
/// The order is drawn from Rng(seed, step): for each i, the other tasks in
/// ascending order get a Fisher–Yates shuffle (for k from T-2 down to 1, swap
/// k with below(k + 1)), all i drawing from the one generator in turn. As in
/// the paper and unlike LibMTL's loop, a task is never projected on itself.
/// No conflict at all gives coefficients all 1 (the plain sum).
std::vector<double> pcgrad(std::span<const double> gram, int tasks, uint64_t seed, uint64_t step);

/// The minimum-norm point of the convex hull of the task gradients, MGDA-UB's
/// common descent direction (Sener & Koltun 2018): α on the simplex minimising
/// ||Σ α_t g_t||². Returns α (α ≥ 0, Σα = 1).
/// T = 2: the closed form α_1 = clamp((g2·g2 - g1·g2) / ||g1 - g2||², 0, 1), and
/// α = (1/2, 1/2) for identical gradients (the authors' code, and LibMTL's copy,
/// return 0.999 / 0.001 where the clamp gives 1 / 0). T > 2: like the authors'
/// MinNormSolver, start from the best pair's solution and repeatedly add the
/// Frank–Wolfe vertex argmin_t g_t·d; where their Algorithm 2 then line-searches
/// on the segment to the vertex (O(1/k) convergence, still ~1e-3 off after its
/// 250 iterations; LibMTL uses their projected-gradient variant instead), we
/// minimise exactly over the affine hull of the active vertices (Wolfe's 1976
/// minimum-norm-point algorithm, a fully corrective Frank–Wolfe), which ends at
/// the exact minimiser: g_t·d ≥ ||d||² for all t. At most 250 vertex additions.
/// Ties (e.g. identical gradients) go to the lower task index. A zero gradient
/// makes d = 0.
std::vector<double> minNorm(std::span<const double> gram, int tasks);

/// How MGDA scales each gradient before the min-norm solve, as in the authors'
/// code and LibMTL's `mgda_gn` (whose default is None): g_t / n_t with n_t =
/// ||g_t|| (L2), L_t (Loss), L_t ||g_t|| (LossPlus) or 1 (None).
enum class MgdaNormalization { None, L2, Loss, LossPlus };

/// MGDA with gradient normalisation: the min-norm α of the scaled gradients
/// g_t / n_t, returned as coefficients over the caller's unscaled gradients,
/// c_t = α_t / n_t (LibMTL combines the scaled gradients with α, the same
/// vector). A task whose n_t is 0 or not finite counts as a zero gradient (so
/// d = 0), where the reference code would divide by zero. `losses` is read only
/// by Loss and LossPlus.
std::vector<double> mgda(std::span<const double> gram, int tasks, std::span<const double> losses,
                         MgdaNormalization normalization);

/// How CAGrad scales its result: LibMTL's `rescale` 0, 1 (its default) or 2.
enum class CagradRescale { None, OnePlusCSquared, OnePlusC };

/// CAGrad, conflict-averse gradient descent (Liu et al. 2021), as LibMTL
/// implements it. With g0 = mean_t g_t and g_w = Σ w_t g_t, minimise over w on
/// the simplex F(w) = g_w·g0 + sqrt(φ) ||g_w||, φ = c² ||g0||²; then
/// λ = sqrt(φ) / ||g_w|| and d = (g0 + λ g_w) / r with r = 1 + c² (default), 1
/// or 1 + c. Returns the coefficients (1/T + λ w_t) / r.
/// F is convex; it is minimised by projected gradient descent from the uniform
/// w, with a Euclidean projection onto the simplex (sort-based) and a
/// backtracking step (the proximal-gradient sufficient-decrease test), so every
/// step lowers F, a vertex or edge solution is reached exactly, and the result
/// is deterministic; at most 2000 steps, stopping when a step moves w by less
/// than 1e-13 (L1). LibMTL uses scipy's SLSQP.
/// ||g_w|| is smoothed to sqrt(||g_w||² + ε²), ε² = 1e-10 max_t ||g_t||², in F
/// and in λ (LibMTL adds 1e-8 to both): where the optimum has g_w = 0 (0 in the
/// hull of conflicting gradients and c large, typically c ≥ 1) the exact λ g_w
/// has no direction, while the smoothed d still maximises min_t g_t·d over the
/// ball ||d - g0|| ≤ c ||g0|| (to O(ε)); e.g. d = 0 for two opposite gradients.
/// There λ reaches ~1e5 and the coefficients cancel in the combination. Where
/// g_w ≠ 0 at the optimum, smoothing changes λ by a relative ε² / (2 ||g_w||²).
/// g0 = 0 gives λ = 0 and d = 0; c < 0 counts as 0.
std::vector<double> cagrad(std::span<const double> gram, int tasks, double c,
                           CagradRescale rescale = CagradRescale::OnePlusCSquared);

/// IMTL-G, the gradient half of impartial multi-task learning (Liu et al.
/// 2021), as LibMTL computes it. With u_t = g_t / ||g_t||, D the rows
/// g_1 - g_t and U the rows u_1 - u_t (t = 2..T): α_{2..T} = g_1 U^T (D U^T)^-1
/// and α_1 = 1 - Σ α_{2..T}, so that d = Σ α_t g_t has equal projections
/// d·u_t on every unit task gradient, and Σα = 1. The (T-1)² system is solved by
/// Gaussian elimination with partial pivoting. Equal weights 1/T where a task
/// gradient is zero or the system is singular (a pivot below 1e-12 of its
/// largest entry: e.g. identical gradients). The loss-scaling half, IMTL-L, is
/// not here: it is a learned weight the generated code owns.
std::vector<double> imtl(std::span<const double> gram, int tasks);

/// Aligned-MTL (Senushkin et al. 2023), as in the authors' ProcrustesSolver
/// with scale_mode 'min' and in LibMTL. The Gram matrix M = G^T G has
/// eigenpairs (λ_k, v_k) (cyclic Jacobi); those with λ_k ≤ λ_max · T · 2^-23 are
/// dropped (LibMTL's tolerance, float32 epsilon; a double epsilon would keep
/// rounding noise of a rank-deficient Gram matrix), and λ_R is the smallest kept.
/// B = sqrt(λ_R) Σ_{kept} v_k v_k^T / sqrt(λ_k), so the aligned gradients G B
/// are orthogonal with equal norms sqrt(λ_R) on the span of the gradients.
/// Returns α = B · 1: d = Σ_t α_t g_t is the SUM of the aligned gradients, as
/// the authors' `grads[0].sum(-1)` and LibMTL's `alpha = B.sum(0)` both do (a
/// caller that wants their mean divides by T). All gradients zero: α = 0.
std::vector<double> alignedMtl(std::span<const double> gram, int tasks);

/// The scale of Nash-MTL's α: Exact solves G α = 1/α as the paper states;
/// LibMtl is LibMTL's, which solves it for G / ||G||_F, i.e. returns
/// sqrt(||G||_F) times the exact α; that α does not change when every gradient
/// is scaled alike, so d scales with the gradients as a plain sum does.
enum class NashScale { Exact, LibMtl };

/// Nash-MTL, the Nash bargaining solution (Navon et al. 2022): α > 0 with
/// (G α)_i = 1/α_i for every task, d = Σ α_t g_t. The system is the stationarity
/// condition of the strictly convex φ(α) = ½ α^T G α - Σ log α_i, minimised by
/// damped Newton (Hessian G + diag(1/α²); the step is halved until α stays
/// positive and φ falls enough, and taken whole once the Newton decrement is
/// below 1/4, φ being self-concordant) from α_i = 1/||g_i||, the exact answer
/// for orthogonal gradients, until max_i |α_i (Gα)_i - 1| < 1e-12 or the
/// decrement² < 1e-20, at most 100 steps. LibMTL instead runs up to 20 ECOS
/// solves of a linearised convex program, warm-started from the last step's α,
/// to a residual of 1e-3; the solution, where one exists, is the same.
/// A task with a zero gradient gets α = 0 and the others are solved alone (its
/// utility d·g_i is 0 for every d). A solution exists iff 0 is not in the
/// convex hull of the (nonzero) gradients; where it is (e.g. two exactly
/// opposite gradients) φ is unbounded below, and we solve the regularised
/// (G + ε I) α = 1/α, ε = 1e-8 max_t ||g_t||², instead: it always has a solution,
/// and α^T (G + ε I) α = T bounds ||α|| by sqrt(T / ε); for two opposite
/// gradients α_1 = α_2 and d = 0.
/// LibMTL's optional `max_norm` clipping is the caller's business.
std::vector<double> nashMtl(std::span<const double> gram, int tasks,
                            NashScale scale = NashScale::Exact);

// ---- Loss-based methods: these return task weights λ_t on the losses. ----

/// DWA, dynamic weight average (Liu, Johns & Davison 2019), as LibMTL: with
/// r_t = L_t(e-1) / L_t(e-2), the epoch-mean training losses of the last two
/// epochs, λ_t = T exp(r_t / temperature) / Σ_k exp(r_k / temperature), so
/// Σλ = T. The caller uses λ = 1 for the first two epochs, which have no such
/// history. r_t = 1 where L_t(e-2) is 0 or either loss is not finite.
std::vector<double> dwa(std::span<const double> lossPrev, std::span<const double> lossPrevPrev,
                        double temperature = 2.0);

/// RLW, random loss weighting (Lin et al. 2022): λ = softmax(z), z_t ~ N(0,1)
/// drawn in task order from Rng(seed, step), so one (seed, step) always gives
/// the same weights. Σλ = 1, as LibMTL's `F.softmax(torch.randn(T))` (not
/// multiplied by T: the expected weight is 1/T).
std::vector<double> rlw(int tasks, uint64_t seed, uint64_t step);

/// FAMO's settings; the defaults are LibMTL's (famo_w_lr 0.025, famo_gamma 1e-3).
struct FamoOptions {
  double lr = 0.025;          ///< the logits' learning rate β
  double weightDecay = 0.001; ///< γ, added to the logits' gradient as γ ξ
  /// true: torch.optim.Adam(betas (0.9, 0.999), eps 1e-8, weight_decay γ), as
  /// LibMTL and the authors' code; false: the paper's Algorithm 1 plain step
  /// ξ -= β (J^T δ + γ ξ).
  bool adam = true;
  double eps = 1e-8;             ///< added to L_t - m_t before each log
  std::vector<double> minLosses; ///< m_t, the losses' lower bounds; empty: all 0
};

/// FAMO, fast adaptive multitask optimisation (Liu et al. 2023), as LibMTL.
/// Logits ξ (0 at the start) give z = softmax(ξ). A step minimises
/// Σ_t z_t log(D_t) / c with D_t = L_t - m_t + eps and c = Σ_t z_t / D_t held
/// constant, i.e. weights λ_t = z_t / (D_t c) on the losses (Σλ = 1). After the
/// parameter update, with δ_t = log(D_t before) - log(D_t after) (how much each
/// task's log loss fell), the logits' gradient is J^T δ, J the softmax
/// Jacobian: grad_t = z_t (δ_t - Σ_k z_k δ_k); a task whose loss fell less than
/// the others' sees its logit rise. D_t is floored at eps (LibMTL would take
/// the log of a negative number when L_t < m_t). A task whose loss is not
/// finite (NaN: no labels in the batch) gets weight 0 and is left out of c,
/// and its δ is 0.
class Famo {
public:
  /// State a checkpoint saves; restoring it continues the sequence exactly.
  struct State {
    std::vector<double> logits, adamM, adamV; ///< ξ and Adam's two moments
    int64_t steps = 0;                        ///< updates so far (Adam's t)
  };

  explicit Famo(int tasks, FamoOptions options = {});
  /// λ_t = z_t / (D_t c) for this step's losses.
  std::vector<double> weights(std::span<const double> losses) const;
  /// One update of ξ from the losses before and after a parameter step (the
  /// same batch's losses, or consecutive batches', as the caller defines).
  void update(std::span<const double> before, std::span<const double> after);
  /// z = softmax(ξ).
  std::vector<double> taskShares() const;
  const State &state() const { return st; }
  /// Sizes must match the task count; a mismatched state is ignored.
  void setState(State state);

private:
  FamoOptions opt;
  State st;
  double dShift(std::span<const double> losses, size_t t) const;
};

/// GradNorm's settings. α is the paper's asymmetry (1.5 is LibMTL's default
/// and among the paper's); lr is the weights' own step size.
struct GradNormOptions {
  double alpha = 1.5;
  double lr = 0.025;
  double minWeight = 1e-4; ///< weights are floored here before renormalising
};

/// GradNorm (Chen et al. 2018), the paper's form: weights w (1 at the start)
/// learned by gradient descent on L_grad = Σ_t |G_t - target_t| with
/// G_t = w_t ||∇_W L_t|| (W the last shared layer), Ḡ = mean_t G_t,
/// r_t = (L_t / L_t(0)) / mean_k(L_k / L_k(0)), target_t = Ḡ r_t^α held
/// constant, so ∂L_grad/∂w_t = sign(G_t - target_t) ||∇_W L_t||; then w is
/// floored at minWeight and renormalised to Σw = T. L(0) are the losses of the
/// first update (the paper's step 0; a ratio with L_t(0) = 0 counts as 1).
/// LibMTL differs: it parametrises w = T softmax(s), moves s by L_grad's
/// gradient, keeps w = 1 through epoch 0 and takes L(0) as epoch 0's mean loss.
class GradNorm {
public:
  struct State {
    std::vector<double> weights;
    std::vector<double> initialLosses; ///< empty until the first update
  };

  explicit GradNorm(int tasks, GradNormOptions options = {});
  /// gradNorms: ||∇_W L_t|| of each UNWEIGHTED task loss; losses: this step's.
  void update(std::span<const double> gradNorms, std::span<const double> losses);
  const std::vector<double> &weights() const { return st.weights; }
  const State &state() const { return st; }
  /// Sizes must match the task count; a mismatched state is ignored.
  void setState(State state);

private:
  GradNormOptions opt;
  State st;
};

} // namespace mtlrt::balance
