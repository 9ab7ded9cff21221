// CheckpointFormat.cpp: the safetensors file format: serializing, validating parsing, atomic
// writes.
#include "mtlrt/Checkpoint.h"

#include "mtlrt/AtomicFile.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace mtlrt {

// Tensor bytes are copied to and from memory as they are: the format is little-endian.
static_assert(std::endian::native == std::endian::little,
              "checkpoints assume a little-endian host");

namespace {
using Json = nlohmann::json;

/// Headers larger than this are refused before parsing (safetensors uses the same bound).
constexpr uint64_t kMaxHeader = 100u << 20;

/// The product of a shape, or -1 on a negative dimension or overflow past `limit`.
int64_t product(std::span<const int64_t> shape, int64_t limit) {
  int64_t n = 1;
  if (std::find(shape.begin(), shape.end(), 0) != shape.end() &&
      std::none_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; }))
    return 0; // however large the other dimensions
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > limit)
      return -1;
  }
  return n;
}

template <typename T> std::vector<unsigned char> bytesOf(std::span<const T> values) {
  std::vector<unsigned char> out(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <typename T> std::vector<T> valuesOf(const std::vector<unsigned char> &data) {
  std::vector<T> out(data.size() / sizeof(T));
  if (!out.empty())
    std::memcpy(out.data(), data.data(), out.size() * sizeof(T));
  return out;
}

std::string errnoText() { return std::strerror(errno); }

} // namespace

const char *dtypeName(Dtype dtype) {
  switch (dtype) {
  case Dtype::F32:
    return "F32";
  case Dtype::F64:
    return "F64";
  case Dtype::I64:
    return "I64";
  }
  return "?";
}

int64_t dtypeSize(Dtype dtype) { return dtype == Dtype::F32 ? 4 : 8; }

CheckpointTensor CheckpointTensor::f32(std::string name, std::vector<int64_t> shape,
                                       std::span<const float> values) {
  return {std::move(name), Dtype::F32, std::move(shape), bytesOf(values)};
}

CheckpointTensor CheckpointTensor::f64(std::string name, std::vector<int64_t> shape,
                                       std::span<const double> values) {
  return {std::move(name), Dtype::F64, std::move(shape), bytesOf(values)};
}

int64_t CheckpointTensor::elements() const { return product(shape, INT64_MAX); }

std::vector<float> CheckpointTensor::floats() const {
  return dtype == Dtype::F32 ? valuesOf<float>(data) : std::vector<float>{};
}

std::vector<double> CheckpointTensor::doubles() const {
  return dtype == Dtype::F64 ? valuesOf<double>(data) : std::vector<double>{};
}

std::string CheckpointTensor::nonFinite() const {
  auto first = [&](const auto &values) -> std::string {
    for (size_t k = 0; k < values.size(); ++k)
      if (!std::isfinite(values[k]))
        return fmt::format("{}[{}] is {}", name, k, double(values[k]));
    return "";
  };
  return dtype == Dtype::F32 ? first(floats()) : dtype == Dtype::F64 ? first(doubles()) : "";
}

std::string CheckpointTensor::negativeSecondMoment() const {
  if (!name.ends_with(".exp_avg_sq"))
    return "";
  std::vector<float> values = floats();
  for (size_t k = 0; k < values.size(); ++k)
    if (values[k] < 0)
      return fmt::format("negative: {}[{}] is {} (Adam's second moment, an average of squares, "
                         "is never below 0)",
                         name, k, values[k]);
  return "";
}

const CheckpointTensor *Checkpoint::find(const std::string &name) const {
  for (const CheckpointTensor &t : tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}

const std::string *Checkpoint::meta(const std::string &key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

std::string shapeString(std::span<const int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

Result<std::vector<unsigned char>> serializeCheckpoint(const Checkpoint &checkpoint) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = checkpoint.metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const CheckpointTensor &t : checkpoint.tensors) {
    int64_t elements = t.elements();
    if (t.name.empty() || t.name == "__metadata__" || !names.insert(t.name).second)
      return fail(
          fmt::format("checkpoint: tensor name '{}' is empty, reserved or repeated", t.name));
    if (elements < 0 || uint64_t(elements) * uint64_t(dtypeSize(t.dtype)) != t.data.size())
      return fail(fmt::format("checkpoint: tensor '{}' of shape {} has {} bytes of data", t.name,
                              shapeString(t.shape), t.data.size()));
    header[t.name] = {{"dtype", dtypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  // Invalid UTF-8 in a name becomes U+FFFD rather than an exception.
  std::string text = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<unsigned char> out(8 + text.size() + offset);
  uint64_t length = text.size();
  std::memcpy(out.data(), &length, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  unsigned char *data = out.data() + 8 + text.size();
  for (const CheckpointTensor &t : checkpoint.tensors) {
    if (!t.data.empty())
      std::memcpy(data, t.data.data(), t.data.size());
    data += t.data.size();
  }
  return out;
}

namespace {
/// Validates one tensor entry of the header; fills `tensor` and its [begin, end).
Status parseEntry(const std::string &name, const Json &entry, uint64_t dataSize,
                  CheckpointTensor &tensor, uint64_t &begin, uint64_t &end) {
  auto bad = [&](const std::string &what) {
    return fail(fmt::format("tensor '{}': {}", name, what));
  };
  if (!entry.is_object())
    return bad("its entry is not a JSON object");
  for (const auto &[key, value] : entry.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      return bad(fmt::format("unknown field '{}'", key));
  auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string())
    return bad("no \"dtype\" string");
  const std::string &dt = dtype->get_ref<const std::string &>();
  if (dt == "F32")
    tensor.dtype = Dtype::F32;
  else if (dt == "F64")
    tensor.dtype = Dtype::F64;
  else if (dt == "I64")
    tensor.dtype = Dtype::I64;
  else
    return bad(fmt::format("unsupported dtype '{}' (expected F32, F64 or I64)", dt));
  auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array() || shape->size() > 8)
    return bad("no \"shape\" array of at most 8 dimensions");
  for (const Json &d : *shape) {
    if (!d.is_number_unsigned())
      return bad(
          fmt::format("shape {} has an entry that is not a non-negative integer", shape->dump()));
    uint64_t v = d.get<uint64_t>();
    if (v > uint64_t(INT64_MAX))
      return bad(fmt::format("shape dimension {} is too large", v));
    tensor.shape.push_back(int64_t(v));
  }
  auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
    return bad("no \"data_offsets\" pair of non-negative integers");
  begin = (*offsets)[0].get<uint64_t>();
  end = (*offsets)[1].get<uint64_t>();
  if (begin > end || end > dataSize)
    return bad(fmt::format("data_offsets [{}, {}] are outside the {} bytes of tensor data", begin,
                           end, dataSize));
  int64_t elements = product(tensor.shape, int64_t(dataSize));
  if (elements < 0 || uint64_t(elements) * uint64_t(dtypeSize(tensor.dtype)) != end - begin)
    return bad(fmt::format("shape {} of {} needs {} bytes, data_offsets [{}, {}] give {}",
                           shapeString(tensor.shape), dt,
                           elements < 0 ? std::string("too many")
                                        : std::to_string(elements * dtypeSize(tensor.dtype)),
                           begin, end, end - begin));
  return Ok{};
}

Result<Checkpoint> parseImage(std::span<const unsigned char> bytes) {
  if (bytes.size() < 8)
    return fail(fmt::format("the file has {} bytes, fewer than the 8 of the header length; it is "
                            "empty or truncated",
                            bytes.size()));
  uint64_t length = 0;
  std::memcpy(&length, bytes.data(), 8);
  if (length > bytes.size() - 8)
    return fail(fmt::format("the header length {} is larger than the rest of the file ({} bytes); "
                            "the file is truncated or not a safetensors file",
                            length, bytes.size() - 8));
  if (length > kMaxHeader)
    return fail(
        fmt::format("the header length {} is over the limit of {} bytes", length, kMaxHeader));
  const char *text = reinterpret_cast<const char *>(bytes.data() + 8);
  Json header = Json::parse(text, text + length, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded())
    return fail("the header is not valid JSON");
  if (!header.is_object())
    return fail("the header is not a JSON object");
  Checkpoint ck;
  const uint64_t dataSize = bytes.size() - 8 - length;
  const unsigned char *data = bytes.data() + 8 + length;
  struct Range {
    uint64_t begin, end;
    size_t tensor;
  };
  std::vector<Range> ranges;
  std::vector<CheckpointTensor> entries; // in the header's (sorted) key order
  for (const auto &[name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        return fail("\"__metadata__\" is not a JSON object");
      for (const auto &[key, value] : entry.items()) {
        if (!value.is_string())
          return fail(fmt::format("metadata '{}' is not a string", key));
        ck.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    CheckpointTensor tensor;
    tensor.name = name;
    uint64_t begin = 0, end = 0;
    if (Status s = parseEntry(name, entry, dataSize, tensor, begin, end); !s)
      return s.takeError();
    ranges.push_back({begin, end, entries.size()});
    entries.push_back(std::move(tensor));
  }
  // The entries must tile the data section: sorted by offset, each starts where the last ended.
  std::sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  for (const Range &r : ranges) {
    const std::string &name = entries[r.tensor].name;
    if (r.begin < covered)
      return fail(fmt::format("tensor '{}': data_offsets [{}, {}] overlap another tensor's data "
                              "(which ends at {})",
                              name, r.begin, r.end, covered));
    if (r.begin > covered)
      return fail(fmt::format("tensor '{}': data_offsets [{}, {}] leave bytes [{}, {}) unused",
                              name, r.begin, r.end, covered, r.begin));
    covered = r.end;
    entries[r.tensor].data.assign(data + r.begin, data + r.end);
    ck.tensors.push_back(std::move(entries[r.tensor])); // file order
  }
  if (covered != dataSize)
    return fail(
        fmt::format("the tensors cover {} bytes of data, but the file has {}", covered, dataSize));
  return ck;
}
} // namespace

Result<Checkpoint> parseCheckpoint(std::span<const unsigned char> bytes,
                                   const std::string &source) {
  // nlohmann-json is asked not to throw, and every value's type is checked
  // before it is read; the catch only keeps a missed case from escaping the API.
  try {
    Result<Checkpoint> ck = parseImage(bytes);
    if (!ck)
      return fail(fmt::format("{}: not a valid checkpoint: {}", source, ck.error()));
    ck->source = source;
    return ck;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: not a valid checkpoint: {}", source, e.what()));
  }
}

Result<Checkpoint> readCheckpoint(const std::string &path) {
  // Non-blocking, so that a FIFO is refused as not a regular file instead of
  // waiting for a writer; reads of a regular file block as ever.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return fail(fmt::format("{}: cannot open checkpoint: {}", path, errnoText()));
  struct stat st {};
  std::vector<unsigned char> bytes;
  errno = 0;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (ok) {
    bytes.resize(size_t(st.st_size));
    size_t done = 0;
    while (ok && done < bytes.size()) {
      ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      ok = n > 0;
      done += ok ? size_t(n) : 0;
    }
  }
  std::string why = ok                     ? ""
                    : errno                ? errnoText()
                    : S_ISDIR(st.st_mode)  ? "a directory, not a file"
                    : !S_ISREG(st.st_mode) ? "not a regular file (a FIFO, a device or a socket)"
                                           : "it shrank while read";
  ::close(fd);
  if (!ok)
    return fail(fmt::format("{}: cannot read checkpoint: {}", path, why));
  return parseCheckpoint(bytes, path);
}

Status writeCheckpoint(const std::string &path, const Checkpoint &checkpoint) {
  Result<std::vector<unsigned char>> bytes = serializeCheckpoint(checkpoint);
  if (!bytes)
    return fail(fmt::format("{}: {}", path, bytes.error()));
  return writeFileAtomic(
      path, std::string_view(reinterpret_cast<const char *>(bytes->data()), bytes->size()),
      "checkpoint");
}

} // namespace mtlrt
