// JsonReader.cpp: JSON and JSON-lines files read with nlohmann-json, problems located for people.
#include "report/JsonReader.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace mtlrt::report {
namespace {

const char *typeName(const Json &j) {
  if (j.is_number())
    return "a number";
  if (j.is_string())
    return "text";
  if (j.is_boolean())
    return "true or false";
  if (j.is_array())
    return "a list";
  if (j.is_object())
    return "an object";
  return "null";
}

// Parses `text`; on failure says where, as "not valid JSON (at byte N)", or
// which number no double holds (JSON's grammar allows 1e999).
Result<Json> parse(const std::string &text) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error &e) {
    return fail(fmt::format("not valid JSON (at byte {})", e.byte));
  } catch (const Json::out_of_range &e) {
    const std::string what = e.what();
    const size_t quote = what.find('\'');
    return fail(fmt::format("not valid JSON (the number {} is beyond the range of a double)",
                            quote == std::string::npos ? "" : what.substr(quote)));
  }
}

} // namespace

Result<Json> readJsonFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  Result<Json> j = parse(text.str());
  if (!j)
    return fail(fmt::format("{}: {}", path, j.error()));
  return j;
}

Status forEachJsonLine(const std::string &path, const std::string &skipPrefix,
                       const std::function<Status(const Json &, int64_t)> &each) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos ||
        (!skipPrefix.empty() && line.starts_with(skipPrefix)))
      continue;
    Result<Json> record = parse(line);
    if (!record && in.eof())
      break; // a last line without its newline: a record still being written, or cut short
    if (!record)
      return fail(fmt::format("{}:{}: {}", path, number, record.error()));
    if (!record->is_object())
      return fail(
          fmt::format("{}:{}: a record is a JSON object, not {}", path, number, typeName(*record)));
    if (Status s = each(*record, number); !s)
      return s;
  }
  if (in.bad())
    return fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  return Ok{};
}

JsonReader::JsonReader(const Json &value, std::string where)
    : JsonReader(value, "", std::make_shared<std::string>(), std::move(where)) {}

JsonReader::JsonReader(const Json &value, std::string path,
                       std::shared_ptr<std::string> firstProblem, std::string where)
    : value(&value), path(std::move(path)), where(std::move(where)),
      firstProblem(std::move(firstProblem)) {}

JsonReader JsonReader::child(std::string_view key, const Json &v) const {
  return JsonReader(v, path.empty() ? std::string(key) : fmt::format("{}.{}", path, key),
                    firstProblem, where);
}

const Json *JsonReader::member(std::string_view key) const {
  if (!value->is_object())
    return nullptr;
  auto it = value->find(key);
  return it == value->end() || it->is_null() ? nullptr : &*it;
}

void JsonReader::problem(const std::string &what) const {
  if (firstProblem->empty())
    *firstProblem = fmt::format("{}: {}{}", where, path.empty() ? "" : path + " ", what);
}

Status JsonReader::status() const {
  if (firstProblem->empty())
    return Ok{};
  return fail(*firstProblem);
}

bool JsonReader::has(std::string_view key) const { return member(key) != nullptr; }

double JsonReader::asNumber() const {
  if (value->is_null())
    return NAN;
  if (!value->is_number()) {
    problem(fmt::format("is {}, not a number", typeName(*value)));
    return NAN;
  }
  return value->get<double>();
}

double JsonReader::number(std::string_view key) const {
  const Json *m = member(key);
  return m ? child(key, *m).asNumber() : NAN;
}

int64_t JsonReader::integer(std::string_view key, int64_t fallback) const {
  const Json *m = member(key);
  if (!m)
    return fallback;
  if (!m->is_number_integer()) {
    child(key, *m).problem(fmt::format("is {}, not a whole number", typeName(*m)));
    return fallback;
  }
  return m->get<int64_t>();
}

std::string JsonReader::text(std::string_view key) const {
  const Json *m = member(key);
  if (!m)
    return "";
  if (!m->is_string()) {
    child(key, *m).problem(fmt::format("is {}, not text", typeName(*m)));
    return "";
  }
  return m->get<std::string>();
}

bool JsonReader::flag(std::string_view key, bool fallback) const {
  const Json *m = member(key);
  if (!m)
    return fallback;
  if (!m->is_boolean()) {
    child(key, *m).problem(fmt::format("is {}, not true or false", typeName(*m)));
    return fallback;
  }
  return m->get<bool>();
}

std::optional<JsonReader> JsonReader::object(std::string_view key) const {
  const Json *m = member(key);
  if (!m)
    return std::nullopt;
  if (!m->is_object()) {
    child(key, *m).problem(fmt::format("is {}, not an object", typeName(*m)));
    return std::nullopt;
  }
  return child(key, *m);
}

std::vector<JsonReader> JsonReader::array(std::string_view key) const {
  const Json *m = member(key);
  std::vector<JsonReader> out;
  if (!m)
    return out;
  if (!m->is_array()) {
    child(key, *m).problem(fmt::format("is {}, not a list", typeName(*m)));
    return out;
  }
  for (size_t i = 0; i < m->size(); ++i)
    out.push_back(child(fmt::format("{}[{}]", key, i), (*m)[i]));
  return out;
}

std::vector<std::pair<std::string, JsonReader>> JsonReader::members() const {
  std::vector<std::pair<std::string, JsonReader>> out;
  if (value->is_object())
    for (auto it = value->begin(); it != value->end(); ++it)
      out.emplace_back(it.key(), child(it.key(), it.value()));
  return out;
}

} // namespace mtlrt::report
