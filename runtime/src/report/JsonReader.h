// JsonReader.h: reading the JSON files a run or an experiment wrote, with errors that name the
// spot.
#pragma once

#include "mtlrt/Result.h"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mtlrt::report {

using Json = nlohmann::ordered_json;

/// The JSON document in the file at `path`. Fails with "PATH: cannot read:
/// REASON" or "PATH: not valid JSON (at byte N)".
Result<Json> readJsonFile(const std::string &path);

/// Calls `each(record, line)` for every line of the JSON-lines file at
/// `path` that holds a JSON object, in order; blank lines are skipped, and
/// lines that start with `skipPrefix` (when not empty) are not even parsed.
/// A line that is not a JSON object fails with "PATH:LINE: ...", and so does
/// a failure of `each`, which is returned as it is; only a last line that
/// does not parse and lacks its newline (a record being written, or cut
/// short when a process was killed) is left out.
Status forEachJsonLine(const std::string &path, const std::string &skipPrefix,
                       const std::function<Status(const Json &, int64_t)> &each);

/// Typed access to a JSON value that records the first problem met instead
/// of failing at once, so that parsing code reads straight and reports
/// "WHERE: val.tasks.species.accuracy is text, not a number". Readers made
/// from one another share the problem; an absent member is not a problem.
class JsonReader {
public:
  /// A reader of `value`, whose problems start with `where` ("log.jsonl:7").
  JsonReader(const Json &value, std::string where);

  /// The member as a number: NaN when absent or null (how a log writes NaN).
  double number(std::string_view key) const;
  /// The member as a whole number; `fallback` when absent or null.
  int64_t integer(std::string_view key, int64_t fallback) const;
  /// The member as text; "" when absent.
  std::string text(std::string_view key) const;
  /// The member as true or false; `fallback` when absent.
  bool flag(std::string_view key, bool fallback) const;
  /// The member when it is present and not null (a problem when it is not an object).
  std::optional<JsonReader> object(std::string_view key) const;
  /// The elements of the member; none when absent (a problem when it is not an array).
  std::vector<JsonReader> array(std::string_view key) const;
  /// This object's members in order, each with its reader.
  std::vector<std::pair<std::string, JsonReader>> members() const;
  /// This value as a number: NaN when null, a problem when not a number.
  double asNumber() const;
  bool has(std::string_view key) const;

  /// Records "WHERE: PATH what" unless a problem was recorded before.
  void problem(const std::string &what) const;
  /// Ok, or the first problem.
  Status status() const;

private:
  JsonReader(const Json &value, std::string path, std::shared_ptr<std::string> firstProblem,
             std::string where);
  JsonReader child(std::string_view key, const Json &value) const;
  const Json *member(std::string_view key) const;
  const Json *value;
  std::string path, where;
  std::shared_ptr<std::string> firstProblem;
};

} // namespace mtlrt::report
