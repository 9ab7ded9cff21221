// data_fuzz.cpp: mutates valid CSV, gzip and IDX files and checks that loadDataset survives them.
//
// Usage: data_fuzz [--count N] [--seed S] [--first I] [--out DIR] [--source DIR]
//
// With a fixed seed it derives N cases (I, I+1, ... from --first) from a few
// valid data sets: the corpus and penguins CSV files (comma-separated, with
// an NA marker), wine (no header, a line skipped), linnerud (blank-separated),
// the corpus file gzipped, and a tiny IDX pair, plain and gzipped. Case i
// depends only on the seed and i, so `--first i --count 1` replays it. Each
// case applies one to three mutations (bytes flipped, replaced, inserted,
// deleted or repeated; cells replaced by nasty tokens such as nan, inf, 1e39
// or a quote, deleted or repeated; lines repeated, deleted or swapped; header
// names repeated; a BOM, CRLF endings or quotes added; the file truncated),
// writes the file and loads it with loadDataset. Every case of the corpus
// set shaped for the hand-written test model that loads also trains it for
// an epoch.
//
// A case fails when loading (or training) crashes, takes over 10 s, lets an
// exception escape, fails without naming the file, or succeeds with data a
// model cannot take: a non-finite input, an id outside its vocabulary, a
// target that is neither missing (NaN) nor valid for its task, or sizes that
// disagree. Failing cases are copied to --out (default ./data_fuzz_failures)
// as case-I.EXT with the reason in case-I.txt. A crash or a hang names the
// case on stderr before the process dies.
#include "DataMutator.h"
#include "TrainerTestModel.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Trainer.h"

#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

namespace fs = std::filesystem;
using namespace mtlrt;
using datafuzz::gzipBytes;

namespace {

constexpr int kCaseSeconds = 10;

/// One valid data set to mutate: the bytes of the file that is mutated and
/// how the runtime is told to read it.
struct Seed {
  std::string name, ext;  ///< ext: the mutated file's extension (".csv", ".csv.gz", ...)
  std::string bytes;      ///< the valid file
  bool text = true;       ///< mutate as CSV text (then gzip when ext ends in .gz)
  bool idxLabels = false; ///< an IDX seed whose labels file is the one mutated
  bool trains = false;    ///< inputs and tasks fit testmodel::kModel
  DataSpec spec;          ///< paths are filled in per case
  std::vector<InputSpec> inputs;
  std::vector<TaskSpec> tasks;
};

std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const fs::path &p, const std::string &bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

/// The first `lines` lines of a file.
std::string head(const std::string &text, int lines) {
  size_t at = 0;
  for (int i = 0; i < lines && at != std::string::npos; ++i)
    at = text.find('\n', at + 1);
  return at == std::string::npos ? text : text.substr(0, at + 1);
}

BindingSpec bind(std::string target, bool isTask, int slot, std::vector<ColumnSel> columns) {
  BindingSpec b;
  b.target = std::move(target);
  b.isTask = isTask;
  b.slot = slot;
  b.width = static_cast<int64_t>(columns.size());
  b.columns = std::move(columns);
  return b;
}

std::string idxBytes(std::vector<uint32_t> dims, const std::string &data) {
  std::string h = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      h.push_back(static_cast<char>((d >> shift) & 0xFF));
  return h + data;
}

std::vector<Seed> makeSeeds(const fs::path &source) {
  std::vector<Seed> seeds;
  const std::string corpus = readFile(source / "tests/e2e/corpus/train.csv");
  auto csvSeed = [&](std::string name, std::string bytes, char sep, std::string na, int skip,
                     bool header) {
    Seed s;
    s.name = std::move(name);
    s.ext = ".csv";
    s.bytes = std::move(bytes);
    s.spec.name = "train";
    s.spec.csv.separator = sep;
    s.spec.csv.na = std::move(na);
    s.spec.csv.skip = skip;
    s.spec.csv.header = header;
    return s;
  };
  // The corpus set in the shape of the test model: it loads, and it trains.
  Seed trains = csvSeed("corpus-trains", corpus, ',', "", 0, true);
  trains.trains = true;
  trains.inputs = {{"x", testmodel::kFeatures, 0, {}}};
  trains.tasks = {{"y", TaskSpec::Regress, 1, {}},
                  {"pos", TaskSpec::Binary, 1, {}},
                  {"aux", TaskSpec::Regress, 1, {}}};
  trains.spec.bindings = {bind("x", false, 0, {{"a", -1}, {"b", -1}, {"c", -1}}),
                          bind("y", true, 0, {{"size", -1}}), bind("pos", true, 1, {{"flag", -1}}),
                          bind("aux", true, 2, {{"level", -1}})};
  seeds.push_back(trains);
  // Every kind of label: as class, numeric ids, regression, binary; an id input.
  Seed kinds = csvSeed("corpus-kinds", corpus, ',', "NA", 0, true);
  kinds.inputs = {{"x", 3, 0, {}}, {"id", 1, 3, {}}};
  kinds.tasks = {{"kind", TaskSpec::Classify, 3, {}},
                 {"level", TaskSpec::Classify, 3, {}},
                 {"size", TaskSpec::Regress, 1, {}},
                 {"flag", TaskSpec::Binary, 1, {}}};
  kinds.spec.bindings = {bind("x", false, 0, {{"a", -1}, {"b", -1}, {"c", -1}}),
                         bind("id", false, 1, {{"level", -1}}),
                         bind("kind", true, 0, {{"kind", -1}}),
                         bind("level", true, 1, {{"level", -1}}),
                         bind("size", true, 2, {{"size", -1}}),
                         bind("flag", true, 3, {{"flag", -1}})};
  kinds.spec.bindings[0].standardize = true;
  kinds.spec.bindings[2].asClass = true;
  kinds.spec.bindings[4].scale = 0.5;
  seeds.push_back(kinds);
  Seed gz = kinds;
  gz.name = "corpus-gzip";
  gz.ext = ".csv.gz";
  seeds.push_back(gz);
  Seed binary = gz;
  binary.name = "corpus-gzip-bytes";
  binary.text = false; // the compressed bytes themselves are mutated
  binary.bytes = gzipBytes(corpus);
  seeds.push_back(binary);
  // Penguins: NA markers, string classes, a binary class column.
  const fs::path data = source / "tests/runtime/data";
  Seed penguins =
      csvSeed("penguins", head(readFile(data / "penguins.csv"), 40), ',', "NA", 0, true);
  penguins.inputs = {{"x", 4, 0, {}}};
  penguins.tasks = {{"species", TaskSpec::Classify, 3, {}},
                    {"sex", TaskSpec::Binary, 1, {}},
                    {"mass", TaskSpec::Regress, 1, {}}};
  penguins.spec.bindings = {bind("x", false, 0,
                                 {{"bill_length_mm", -1},
                                  {"bill_depth_mm", -1},
                                  {"flipper_length_mm", -1},
                                  {"body_mass_g", -1}}),
                            bind("species", true, 0, {{"species", -1}}),
                            bind("sex", true, 1, {{"sex", -1}}),
                            bind("mass", true, 2, {{"body_mass_g", -1}})};
  penguins.spec.bindings[1].asClass = penguins.spec.bindings[2].asClass = true;
  seeds.push_back(penguins);
  // Wine: a line to skip, no header, columns by number, integer classes.
  Seed wine = csvSeed("wine", head(readFile(data / "wine_data.csv"), 30), ',', "", 1, false);
  wine.inputs = {{"x", 12, 0, {}}};
  wine.tasks = {{"class", TaskSpec::Classify, 3, {}}, {"alcohol", TaskSpec::Regress, 1, {}}};
  std::vector<ColumnSel> measures;
  for (int64_t c = 1; c < 13; ++c)
    measures.push_back({"", c});
  wine.spec.bindings = {bind("x", false, 0, measures), bind("class", true, 0, {{"", 13}}),
                        bind("alcohol", true, 1, {{"", 0}})};
  wine.spec.bindings[1].asClass = true;
  seeds.push_back(wine);
  // Linnerud: blank-separated; a binary target made with `in [..]`.
  Seed linnerud = csvSeed("linnerud", readFile(data / "linnerud_exercise.csv"), ' ', "", 0, true);
  linnerud.inputs = {{"x", 2, 0, {}}};
  linnerud.tasks = {{"high", TaskSpec::Binary, 1, {}}};
  linnerud.spec.bindings = {bind("x", false, 0, {{"Chins", -1}, {"Situps", -1}}),
                            bind("high", true, 0, {{"Jumps", -1}})};
  linnerud.spec.bindings[1].inSet = {60, 101};
  seeds.push_back(linnerud);
  // IDX: four 2x2 images and their labels; each file mutated, plain and gzipped.
  std::string pixels;
  for (int i = 0; i < 16; ++i)
    pixels.push_back(static_cast<char>(i * 16));
  for (int variant = 0; variant < 4; ++variant) {
    Seed idx;
    idx.idxLabels = variant % 2 == 1;
    idx.text = false;
    idx.ext = variant < 2 ? ".idx" : ".idx.gz";
    idx.name = std::string(idx.idxLabels ? "idx-labels" : "idx-images") + idx.ext;
    idx.bytes =
        idx.idxLabels ? idxBytes({4}, std::string("\0\1\0\1", 4)) : idxBytes({4, 2, 2}, pixels);
    if (variant >= 2)
      idx.bytes = gzipBytes(idx.bytes);
    idx.spec.name = "train";
    idx.spec.kind = DataSpec::Idx;
    idx.inputs = {{"x", 4, 0, {}}};
    idx.tasks = {{"class", TaskSpec::Classify, 2, {}}};
    BindingSpec x = bind("x", false, 0, {}), y = bind("class", true, 0, {});
    x.from = BindingSpec::Images;
    x.width = 4;
    x.scale = 1.0 / 255;
    y.from = BindingSpec::Labels;
    y.width = 1;
    idx.spec.bindings = {x, y};
    seeds.push_back(idx);
  }
  return seeds;
}

/// The file of case `index`: one to three mutations of a seed's bytes.
std::string mutant(const Seed &seed, datafuzz::Rng &rng) {
  std::string s = seed.bytes;
  // Mostly one mutation, so that many cases still load and reach the checks.
  for (size_t k = rng.chance(60) ? 1 : 2 + rng.below(2); k > 0; --k) {
    if (seed.text && rng.chance(70))
      datafuzz::mutateTable(s, seed.spec.csv.separator, rng);
    else
      datafuzz::mutateBytes(s, rng);
  }
  return seed.text && seed.ext.ends_with(".gz") ? gzipBytes(s) : s;
}

std::string describe(const std::string &what, size_t row, float v) {
  std::ostringstream ss;
  ss << what << ", row " << row << ": " << v;
  return ss.str();
}

/// Why a loaded data set is unfit for its model; empty when it is fit.
std::string checkLoaded(const Dataset &ds, const Seed &seed) {
  const size_t rows = static_cast<size_t>(ds.rows);
  if (ds.rows < 1 || ds.sourceRows.size() != rows)
    return "loaded " + std::to_string(ds.rows) + " rows, " + std::to_string(ds.sourceRows.size()) +
           " source rows";
  if (ds.inputs.size() != seed.inputs.size() || ds.targets.size() != seed.tasks.size())
    return "loaded the wrong number of inputs or tasks";
  for (size_t i = 0; i < seed.inputs.size(); ++i) {
    const InputSpec &in = seed.inputs[i];
    const Values &values = ds.inputs[i];
    if (values.size() != rows * static_cast<size_t>(in.width))
      return "input '" + in.name + "' has " + std::to_string(values.size()) + " values";
    for (size_t k = 0; k < values.size(); ++k) {
      float v = values[k];
      if (!std::isfinite(v))
        return describe("input '" + in.name + "'", k / in.width, v) + " is not finite";
      if (in.vocab > 0 && (v < 0 || v >= float(in.vocab) || v != std::floor(v)))
        return describe("input '" + in.name + "'", k / in.width, v) + " is not an id";
    }
  }
  for (size_t t = 0; t < seed.tasks.size(); ++t) {
    const TaskSpec &task = seed.tasks[t];
    const int64_t width = targetWidth(task);
    const std::vector<float> &values = ds.targets[t];
    if (values.size() != rows * static_cast<size_t>(width))
      return "task '" + task.name + "' has " + std::to_string(values.size()) + " targets";
    for (size_t k = 0; k < values.size(); ++k) {
      float v = values[k];
      bool ok = std::isnan(v) || (task.kind == TaskSpec::Classify
                                      ? v >= 0 && v < float(task.width) && v == std::floor(v)
                                  : task.kind == TaskSpec::Regress ? std::isfinite(v)
                                                                   : v >= 0 && v <= 1);
      if (!ok)
        return describe("task '" + task.name + "'", k / width, v) + " is not a valid target";
    }
    if (task.kind == TaskSpec::Classify && ds.classNames[t].size() > size_t(task.width))
      return "task '" + task.name + "' has " + std::to_string(ds.classNames[t].size()) +
             " class names";
  }
  return "";
}

/// One epoch of the test model on a loaded set: a refusal is fine, a
/// non-finite loss after a success is not.
std::string trainBriefly(const Dataset &ds) {
  TrainOptions options;
  options.epochs = 1;
  options.batch = 8;
  options.threads = 1;
  options.quiet = true;
  options.lr = 0.01f;
  auto trainer = Trainer::create(&testmodel::kModel, options);
  if (!trainer)
    return "cannot create the trainer: " + trainer.error();
  auto result = trainer->fit(ds);
  if (!result)
    return result.error().empty() ? "training failed without a message" : "";
  for (const EpochRecord &epoch : result->epochs)
    if (!std::isfinite(epoch.train.loss))
      return "trained to a total loss of " + std::to_string(epoch.train.loss);
  return "";
}

// What a crash or a hang says about the case being run: prepared before
// each case, written by a signal handler or the watchdog, which may not
// allocate.
char fatalNote[1024];
std::atomic<bool> running{false};
std::atomic<int64_t> startedAt{0};

int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void writeFatalNote() {
  if (write(2, fatalNote, std::strlen(fatalNote)) < 0)
    return;
}

#ifndef __SANITIZE_ADDRESS__
void onFatalSignal(int sig) {
  writeFatalNote();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
#endif

void watchdog() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (running && nowMs() - startedAt > kCaseSeconds * 1000) {
      const char hang[] = "data_fuzz: hang: no answer within 10 s\n";
      if (write(2, hang, sizeof hang - 1) < 0)
        _exit(1);
      writeFatalNote();
      _exit(1);
    }
  }
}

int usage() {
  std::cerr << "usage: data_fuzz [--count N] [--seed S] [--first I] [--out DIR] [--source DIR]\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  uint64_t count = 3000, seed = 20240607, first = 0;
  fs::path outDir = fs::absolute("data_fuzz_failures"), source = MTL_SOURCE_DIR;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      return usage();
    std::string v = argv[++i];
    if (a == "--count")
      count = std::stoull(v);
    else if (a == "--seed")
      seed = std::stoull(v);
    else if (a == "--first")
      first = std::stoull(v);
    else if (a == "--out")
      outDir = fs::absolute(v);
    else if (a == "--source")
      source = v;
    else
      return usage();
  }
  const std::vector<Seed> seeds = makeSeeds(source);
  for (const Seed &s : seeds)
    if (s.bytes.empty()) {
      std::cerr << "data_fuzz: cannot read the seed files under " << source << "\n";
      return 2;
    }
  // Every case writes a file: in memory (/dev/shm) where there is one, since
  // opening files on a busy disk takes milliseconds and thousands of cases.
  std::error_code ec;
  std::string scratch = fs::is_directory("/dev/shm", ec) ? "/dev/shm" : "/tmp";
  if (const char *tmp = std::getenv("TMPDIR"); tmp && *tmp)
    scratch = tmp;
  std::string tmpl = scratch + "/mtl-data-fuzz-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 2;
  }
  const fs::path work = tmpl;
  const std::string images = (work / "valid-images.idx").string();
  const std::string labels = (work / "valid-labels.idx").string();
  for (const Seed &s : seeds)
    if (s.spec.kind == DataSpec::Idx && s.ext == ".idx")
      writeFile(s.idxLabels ? labels : images, s.bytes);

#ifdef __SANITIZE_ADDRESS__
  __sanitizer_set_death_callback(writeFatalNote);
#else
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    std::signal(sig, onFatalSignal);
#endif
  std::thread(watchdog).detach();

  size_t loaded = 0, refused = 0, trained = 0, failures = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t index = first; index < first + count; ++index) {
    datafuzz::Rng rng(seed ^ (index * 0xD1B54A32D192ED03ULL));
    const Seed &base = seeds[rng.below(seeds.size())];
    const std::string bytes = mutant(base, rng);
    const std::string path = (work / ("case" + base.ext)).string();
    writeFile(path, bytes);
    DataSpec spec = base.spec;
    spec.csv.path = path;
    if (spec.kind == DataSpec::Idx) {
      spec.images = base.idxLabels ? images : path;
      spec.labels = base.idxLabels ? path : labels;
    }
    std::snprintf(fatalNote, sizeof fatalNote,
                  "data_fuzz: case %llu (from %s) died; its file: %s; replay it with "
                  "`data_fuzz --seed %llu --first %llu --count 1`\n",
                  static_cast<unsigned long long>(index), base.name.c_str(), path.c_str(),
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(index));
    startedAt = nowMs();
    running = true;
    std::string why, error;
    try {
      auto data = loadDataset(spec, base.inputs, base.tasks);
      if (data) {
        ++loaded;
        why = checkLoaded(*data, base);
        if (why.empty() && base.trains) {
          ++trained;
          why = trainBriefly(*data);
        }
      } else {
        ++refused;
        error = data.error();
        if (error.find(work.string()) == std::string::npos)
          why = "the error names no file";
      }
    } catch (const std::exception &e) {
      why = std::string("an exception escaped: ") + e.what();
    } catch (...) {
      why = "an unknown exception escaped";
    }
    running = false;
    if (why.empty())
      continue;
    ++failures;
    fs::create_directories(outDir, ec);
    const std::string stem = "case-" + std::to_string(index);
    writeFile(outDir / (stem + base.ext), bytes);
    writeFile(outDir / (stem + ".txt"), "from " + base.name + ": " + why + "\n" +
                                            (error.empty() ? "" : "error: " + error + "\n"));
    if (failures <= 20)
      std::cout << "FAIL " << stem << " (from " << base.name << "): " << why << "\n";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::remove_all(work, ec);
  std::cout << count << " cases from " << seeds.size() << " seeds (seed " << seed << ", first "
            << first << ") in " << seconds << " s: " << refused << " refused, " << loaded
            << " loaded (" << trained << " trained), " << failures << " failed\n";
  if (failures)
    std::cout << "failing cases are in " << outDir.string() << "\n";
  return failures ? 1 : 0;
}
