// Ast.h: the abstract syntax tree of a .mtl file; every node has a source location.
//
// Values (arguments, settings, task kinds, losses...) are kept as generic
// expressions: the parser accepts any well-formed expression and sema decides
// what it means, which lets sema give specific messages and suggestions.
#pragma once

#include "support/Source.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mtl::ast {

/// A name as written, with where it was written.
struct Ident {
  std::string text;
  SourceLoc loc;
};

struct Arg;

enum class ExprKind {
  Number, ///< a literal with a fraction or exponent: 0.5, 1e-3
  Int,    ///< an integer literal: 3
  String, ///< "text" (escapes resolved)
  Bool,   ///< true / false
  Name,   ///< a name, possibly dotted: relu, species.accuracy
  Call,   ///< a name with arguments: dense(64), adam(lr = 1e-3)
  List,   ///< [a, b, c]
  Neg,    ///< -operand
  Chain,  ///< `a -> b(1)` inside a call or parentheses: operands are the steps
  Binary, ///< lhs op rhs, op in + - * /
};

/// A value expression. A fat node rather than a class hierarchy: the language
/// has few expression forms and value semantics make copies (block expansion,
/// the REPL) trivial.
struct Expr {
  ExprKind kind = ExprKind::Int;
  SourceLoc loc;
  double number = 0;          ///< Number and Int
  std::string text;           ///< String value, or Name/Call name (dotted)
  bool boolean = false;       ///< Bool
  char op = 0;                ///< Binary: one of + - * /
  std::vector<Expr> operands; ///< Neg: 1, Binary: 2, List: the elements
  std::vector<Arg> args;      ///< Call

  bool isName() const { return kind == ExprKind::Name; }
  bool isCall() const { return kind == ExprKind::Call; }
  /// Name or Call: something with a callee name.
  bool isNamed() const { return isName() || isCall(); }
};

/// A call argument: positional (`64`), named (`lr = 1e-3`) or a range
/// (`0..64`, a half-open range of column numbers).
struct Arg {
  Ident name; ///< empty text for positional arguments
  Expr value;
  std::optional<Expr> rangeEnd;
  SourceLoc loc;
};

/// `a -> b(1) -> c`: a left-to-right chain of steps (names and calls).
struct Chain {
  std::vector<Expr> steps;
  SourceLoc loc;
};

/// `input x : f32[4]`
struct InputDecl {
  Ident name;
  Ident dtype;
  std::vector<int64_t> dims; ///< empty: a scalar per row
  SourceLoc shapeLoc;
  SourceLoc loc;
};

/// A postfix modifier of a data binding.
struct Modifier {
  /// Unknown: another word where a modifier may stand (`standardise`,
  /// `sa class`, `scal(0.5)`), which sema reports with a suggestion.
  enum Kind { Standardize, As, Scale, In, Unknown } kind = Standardize;
  Ident asName;             ///< As: `as class`; Unknown: a name after the word
  std::vector<Expr> values; ///< Scale: 1 value; In: the listed values; Unknown: those in () or []
  Ident word;               ///< Unknown: the word as written
  char open = 0;            ///< Unknown: '(' or '[' when values follow the word, else 0
  SourceLoc loc;
};

/// `species = column(species) as class` inside a data block.
struct Binding {
  Ident target;
  Expr source;
  std::vector<Modifier> modifiers;
  SourceLoc loc;
};

/// `data train = csv("file.csv", na = "NA") { ... }`
struct DataDecl {
  Ident name;
  Expr source;
  std::vector<Binding> bindings;
  SourceLoc loc;
};

/// A block parameter, optionally with a default value.
struct Param {
  Ident name;
  std::optional<Expr> defaultValue;
};

/// `block mlp(width) { dense(width) -> relu }`
struct BlockDecl {
  Ident name;
  std::vector<Param> params;
  bool hasParens = false;
  Chain body;
  SourceLoc loc;
};

/// `shared trunk = x -> mlp(64)` or `shared soft(1e-3) tower = trunk -> dense(8)`
struct SharedDecl {
  Ident name;
  std::optional<Expr> sharing;
  Chain chain;
  SourceLoc loc;
};

/// `key = value, value` or a bare `key` (a flag such as `auxiliary`).
struct TaskField {
  Ident key;
  std::vector<Chain> values; ///< empty for a bare flag
  SourceLoc loc;
};

/// `task species : classify(3) { head = ... loss = ... }`
struct TaskDecl {
  Ident name;
  Expr kind;
  std::vector<TaskField> fields;
  SourceLoc loc;
};

/// `balance static`
struct BalanceDecl {
  Expr method;
  SourceLoc loc;
};

/// One term of `regularize l2(1e-4) on trunk, l1(1e-6)`.
struct RegTerm {
  Expr penalty;
  std::vector<Ident> targets; ///< empty: every parameter of the model
  SourceLoc loc;
};

struct RegularizeDecl {
  std::vector<RegTerm> terms;
  SourceLoc loc;
};

/// `optimizer adam(lr = 1e-3)`
struct OptimizerDecl {
  Expr optimizer;
  SourceLoc loc;
};

/// `key = value` inside `train { ... }`.
struct Setting {
  Ident key;
  Expr value;
  SourceLoc loc;
};

struct TrainDecl {
  std::vector<Setting> settings;
  SourceLoc loc;
};

/// `search { weights = grid(...), lr = [...] }` inside `experiment { ... }`.
struct SearchDecl {
  std::vector<Setting> settings;
  SourceLoc loc;
};

/// `experiment { baselines = single_task, seeds = 5  search { ... } }`
struct ExperimentDecl {
  std::vector<Setting> settings;
  std::vector<SearchDecl> searches; ///< sema accepts one
  SourceLoc loc;
};

using ModelItem = std::variant<InputDecl, DataDecl, BlockDecl, SharedDecl, TaskDecl, BalanceDecl,
                               RegularizeDecl, OptimizerDecl, TrainDecl, ExperimentDecl>;

/// `model name { ... }` with its items in source order.
struct ModelDecl {
  Ident name;
  std::vector<ModelItem> items;
  SourceLoc loc;
  SourceLoc closeLoc; ///< the closing brace
};

/// `import "blocks.mtl"`
struct ImportDecl {
  std::string path;
  SourceLoc loc;
};

/// A comment kept for the formatter: `//` or `/* */` text as written.
struct Comment {
  std::string text;
  SourceLoc loc;
};

using TopItem = std::variant<BlockDecl, ModelDecl>;

/// A whole parsed file.
struct File {
  int fileId = -1;
  std::vector<ImportDecl> imports;
  std::vector<TopItem> items;
  std::vector<Comment> comments;
};

} // namespace mtl::ast
