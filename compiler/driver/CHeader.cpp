// CHeader.cpp: writes NAME.h for a model library, in plain C.
#include "driver/CHeader.h"

#include "driver/EmbedHeader.h"

#include <cctype>
#include <fmt/format.h>
#include <map>
#include <set>

namespace mtl::driver {
namespace {

/// NAME in upper case with every other character than a letter or digit as '_'.
std::string macroName(const std::string &name) {
  std::string out;
  for (char ch : name)
    out += std::isalnum(static_cast<unsigned char>(ch))
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch)))
               : '_';
  return out;
}

std::string inputMacro(const std::string &up, const sema::Input &in) {
  return up + "_INPUT_" + macroName(in.name);
}

std::string taskMacro(const std::string &up, const sema::Task &task) {
  return up + "_TASK_" + macroName(task.name);
}

std::string shapeText(const sema::Shape &shape) {
  std::string text;
  for (int64_t d : shape)
    text += (text.empty() ? "" : ", ") + std::to_string(d);
  return "[" + text + "]";
}

std::string outputsText(const sema::Task &t) {
  switch (t.kind) {
  case sema::TaskKind::Classify:
    return fmt::format("{} class probabilities", t.width);
  case sema::TaskKind::Binary:
    return "the probability of 1";
  case sema::TaskKind::Multilabel:
    return fmt::format("{} label probabilities", t.width);
  case sema::TaskKind::Regress:
    break;
  }
  return t.width == 1 ? "the value" : fmt::format("{} values", t.width);
}

// `text` as it may stand inside a C comment: no "*/" to end it, no control
// characters (a newline in a path) to break its lines.
std::string commentSafe(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += '?';
    else if (c == '/' && !out.empty() && out.back() == '*')
      out += "\\/";
    else
      out += c;
  }
  return out;
}

} // namespace

std::vector<HeaderName> headerNames(const sema::Model &model) {
  const std::string up = macroName(model.name), self = fmt::format("model '{}'", model.name);
  std::vector<HeaderName> names = {{"MTL_MODEL_" + up + "_H", self, "include guard", model.loc},
                                   {up + "_NUM_INPUTS", self, "number of inputs", model.loc}};
  for (const sema::Input &in : model.inputs) {
    std::string m = inputMacro(up, in), owner = fmt::format("input '{}'", in.name);
    names.push_back({m, owner, "slot", in.loc});
    names.push_back({m + "_SIZE", owner, "values per row", in.loc});
  }
  names.push_back({up + "_NUM_TASKS", self, "number of tasks", model.loc});
  for (const sema::Task &task : model.tasks) {
    std::string m = taskMacro(up, task), owner = fmt::format("task '{}'", task.name);
    names.push_back({m, owner, "slot", task.loc});
    names.push_back({m + "_SIZE", owner, "outputs per row", task.loc});
    names.push_back({m + "_TARGET_SIZE", owner, "labels per row", task.loc});
  }
  return names;
}

bool checkHeaderNames(const sema::Model &model, DiagnosticEngine &diags) {
  const std::vector<HeaderName> names = headerNames(model);
  std::map<std::string, size_t> first; // identifier -> its first owner in `names`
  std::set<std::pair<std::string, std::string>> reported; // one error per pair of owners
  bool ok = true;
  if (!model.name.empty() && model.name[0] == '_') {
    // C reserves identifiers that begin with an underscore at file scope,
    // and with an underscore and a capital letter everywhere.
    ok = false;
    diags.error(model.loc,
                fmt::format("model '{}' would give its library's header C names that begin with "
                            "an underscore ({}_model, {}_NUM_TASKS), which C reserves; rename the "
                            "model to begin with a letter (a program or object file, built "
                            "without --lib, uses no such names)",
                            model.name, model.name, macroName(model.name)));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto [at, fresh] = first.emplace(names[i].identifier, i);
    if (fresh)
      continue;
    ok = false;
    const HeaderName &earlier = names[at->second], &later = names[i];
    if (!reported.insert({earlier.owner, later.owner}).second)
      continue;
    std::string roles = earlier.role == later.role
                            ? ""
                            : fmt::format(" (the {} of {}, and the {} of {})", later.role,
                                          later.owner, earlier.role, earlier.owner);
    diags
        .error(later.loc,
               fmt::format("{} and {} both become the C constant {}{} in the library's header "
                           "{}.h, whose constants are names in upper case; rename one of them",
                           later.owner, earlier.owner, later.identifier, roles, model.name))
        .note(earlier.loc, fmt::format("{} is declared here", earlier.owner));
  }
  return ok;
}

std::string modelHeader(const sema::Model &model, const std::string &getter,
                        const std::string &sourcePath, const std::string &sourceHash,
                        const std::string &targetCpu) {
  const std::string up = macroName(model.name);
  std::string h = fmt::format(
      "/* {name}.h: the C interface of model '{name}', generated by mtlc {version} from {source}\n"
      " * (source hash {hash}, target CPU {cpu}). Do not edit; rebuild with mtlc build --lib.\n"
      " *\n"
      " * Link a program with the library beside this header:\n"
      " *   cc app.c -I DIR DIR/lib{name}.a -lstdc++ -lz -lm -lpthread\n"
      " * docs/embedding.md describes the interface.\n"
      " */\n"
      "#ifndef MTL_MODEL_{up}_H\n"
      "#define MTL_MODEL_{up}_H\n\n",
      fmt::arg("name", model.name), fmt::arg("version", MTLC_VERSION),
      fmt::arg("source", commentSafe(sourcePath)), fmt::arg("hash", sourceHash),
      fmt::arg("cpu", targetCpu), fmt::arg("up", up));
  h += kEmbedHeaderText;
  h += fmt::format("\n#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n"
                   "/** The descriptor of model '{}': pass it to mtl_session_create. */\n"
                   "const struct mtl_model *{}(void);\n\n"
                   "#ifdef __cplusplus\n}}\n#endif\n\n",
                   model.name, getter);
  h += fmt::format("/* Inputs: slots of the `inputs` arrays, values per row. */\n"
                   "#define {}_NUM_INPUTS {}\n",
                   up, model.inputs.size());
  for (size_t i = 0; i < model.inputs.size(); ++i) {
    const sema::Input &in = model.inputs[i];
    std::string m = inputMacro(up, in);
    h += fmt::format("#define {} {} /* {} : {}{} */\n#define {}_SIZE {}\n", m, i, in.name,
                     in.dtype == sema::DType::I32 ? "i32" : "f32", shapeText(in.shape), m,
                     sema::elementCount(in.shape));
  }
  h += fmt::format("\n/* Tasks: slots of the `outputs` and `targets` arrays; outputs (SIZE) and\n"
                   " * labels (TARGET_SIZE) per row. */\n"
                   "#define {}_NUM_TASKS {}\n",
                   up, model.tasks.size());
  for (size_t t = 0; t < model.tasks.size(); ++t) {
    const sema::Task &task = model.tasks[t];
    std::string m = taskMacro(up, task);
    int64_t targetWidth = task.kind == sema::TaskKind::Classify ? 1 : task.width;
    h += fmt::format("#define {} {} /* {} : {}: {} */\n#define {}_SIZE {}\n"
                     "#define {}_TARGET_SIZE {}\n",
                     m, t, task.name, sema::taskKindText(task), outputsText(task), m, task.width, m,
                     targetWidth);
  }
  h += fmt::format("\n#endif /* MTL_MODEL_{}_H */\n", up);
  return h;
}

} // namespace mtl::driver
