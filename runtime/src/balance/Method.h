// Method.h: the loss-balancing methods a run can use, as written in .mtl and on the command line.
#pragma once

#include "mtlrt/Result.h"

#include <string>
#include <string_view>
#include <vector>

namespace mtlrt::balance {

/// A balancing method and its argument (docs/balancing.md gives each formula).
struct Method {
  enum class Kind {
    Static,      ///< the task weights as written
    Dwa,         ///< dynamic weight average; arg: temperature
    Rlw,         ///< random loss weighting
    Uncertainty, ///< learned log-variances, compiled into the loss
    Famo,        ///< fast adaptive multitask optimisation
    GradNorm,    ///< learned weights that equalise gradient norms; arg: alpha
    PcGrad,      ///< projecting conflicting gradients
    Mgda,        ///< the min-norm point of the task gradients
    MgdaRep,     ///< mgda(rep): MGDA-UB, the min-norm point on the shared representation
    CaGrad,      ///< conflict-averse gradient; arg: c
    Imtl,        ///< impartial MTL (IMTL-G)
    AlignedMtl,  ///< aligned MTL
    NashMtl,     ///< Nash bargaining
  };
  Kind kind = Kind::Static;
  double arg = 0;

  /// Whether the method combines the tasks' gradients on the shared
  /// parameters (and so needs each task's gradient apart).
  bool combinesGradients() const;
  /// The canonical text: "static", "dwa(temperature = 2)", ...
  std::string text() const;
};

/// Whether the method's argument may be 0 (else it must be positive).
bool argMayBeZero(Method::Kind kind);

/// The method names, in the order docs and errors list them.
const std::vector<std::string> &methodNames();

/// Parses "NAME" or "NAME(VALUE)" or "NAME(ARG = VALUE)" (spaces allowed),
/// filling a missing argument with its default. Fails naming what is wrong
/// and what would be right.
Result<Method> parseMethod(std::string_view text);

} // namespace mtlrt::balance
