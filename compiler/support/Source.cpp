// Source.cpp: line tables for source buffers.
#include "support/Source.h"

namespace mtl {

SourceLoc SourceLoc::to(const SourceLoc &end) const {
  if (end.file != file || end.line != line || end.col < col)
    return *this;
  SourceLoc r = *this;
  r.length = end.col + end.length - col;
  return r;
}

int SourceManager::add(std::string name, std::string text) {
  File f{std::move(name), std::move(text), {0}};
  for (size_t i = 0; i < f.text.size(); ++i)
    if (f.text[i] == '\n')
      f.lineStarts.push_back(i + 1);
  files_.push_back(std::move(f));
  return static_cast<int>(files_.size()) - 1;
}

std::string_view SourceManager::line(int file, int line) const {
  if (file < 0 || file >= fileCount() || line < 1)
    return {};
  const File &f = files_[file];
  if (static_cast<size_t>(line) > f.lineStarts.size())
    return {};
  size_t begin = f.lineStarts[line - 1];
  size_t end = f.text.find('\n', begin);
  if (end == std::string::npos)
    end = f.text.size();
  if (end > begin && f.text[end - 1] == '\r')
    --end;
  return std::string_view(f.text).substr(begin, end - begin);
}

} // namespace mtl
