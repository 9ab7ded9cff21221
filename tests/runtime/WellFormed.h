// WellFormed.h: a strict little XML checker for the reports' HTML and SVG (tests only).
//
// The reports promise pages that an XML parser reads: every element closed
// (void ones written `<meta ... />`), attribute values quoted, and no
// entity but the XML ones. This checks exactly that, and counts elements.
#pragma once

#include <cctype>
#include <map>
#include <string>
#include <vector>

namespace mtltest {

struct XmlCheck {
  std::string error;                 ///< empty when the text is well-formed
  std::map<std::string, int> counts; ///< elements by name
};

inline XmlCheck checkXml(const std::string &text) {
  XmlCheck out;
  std::vector<std::string> open;
  auto failAt = [&](size_t at, const std::string &what) {
    out.error = what + " at byte " + std::to_string(at) + ": '" + text.substr(at, 40) + "'";
    return out;
  };
  auto entityOk = [&](size_t at) {
    for (const char *e : {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"})
      if (text.compare(at, std::string(e).size(), e) == 0)
        return true;
    return false;
  };
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '&' && !entityOk(i))
      return failAt(i, "an entity XML does not know");
    if (c != '<') {
      ++i;
      continue;
    }
    if (text.compare(i, 9, "<!DOCTYPE") == 0 || text.compare(i, 5, "<?xml") == 0) {
      i = text.find('>', i);
      if (i == std::string::npos)
        return failAt(text.size(), "an unclosed declaration");
      ++i;
      continue;
    }
    if (text.compare(i, 4, "<!--") == 0) {
      size_t end = text.find("-->", i);
      if (end == std::string::npos)
        return failAt(i, "an unclosed comment");
      i = end + 3;
      continue;
    }
    bool closing = i + 1 < text.size() && text[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    size_t nameStart = j;
    while (j < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '-' || text[j] == ':'))
      ++j;
    std::string name = text.substr(nameStart, j - nameStart);
    if (name.empty())
      return failAt(i, "a '<' that starts no tag");
    if (closing) {
      if (j >= text.size() || text[j] != '>')
        return failAt(i, "a malformed end tag");
      if (open.empty() || open.back() != name)
        return failAt(i, "</" + name + "> closes " + (open.empty() ? "nothing" : open.back()));
      open.pop_back();
      i = j + 1;
      continue;
    }
    // Attributes: name="value" (no '<' inside), then '>' or '/>'.
    while (true) {
      while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j])))
        ++j;
      if (j >= text.size())
        return failAt(i, "an unclosed tag");
      if (text[j] == '>' || text.compare(j, 2, "/>") == 0)
        break;
      size_t attr = j;
      while (j < text.size() && text[j] != '=' && text[j] != '>' &&
             !std::isspace(static_cast<unsigned char>(text[j])))
        ++j;
      if (j == attr || j + 1 >= text.size() || text[j] != '=' || text[j + 1] != '"')
        return failAt(attr, "an attribute without a quoted value");
      size_t end = text.find('"', j + 2);
      if (end == std::string::npos)
        return failAt(attr, "an unclosed attribute value");
      for (size_t k = j + 2; k < end; ++k) {
        if (text[k] == '<')
          return failAt(k, "a '<' in an attribute value");
        if (text[k] == '&' && !entityOk(k))
          return failAt(k, "an entity XML does not know");
      }
      j = end + 1;
    }
    ++out.counts[name];
    if (text[j] == '>') {
      open.push_back(name);
      i = j + 1;
    } else {
      i = j + 2;
    }
  }
  if (!open.empty())
    out.error = "<" + open.back() + "> is never closed";
  return out;
}

} // namespace mtltest
