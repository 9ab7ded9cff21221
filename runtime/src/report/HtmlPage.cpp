// HtmlPage.cpp: the report's HTML: a plain page, its style inline, every element closed.
#include "report/HtmlPage.h"

#include "mtlrt/Plot.h"
#include "mtlrt/Version.h"

#include <algorithm>
#include <fmt/format.h>

namespace mtlrt::report {
namespace {

// No '<' or '&' in here: the page stays well-formed XML.
constexpr const char *kStyle = R"(
body { font-family: Helvetica, Arial, sans-serif; color: #222; background: #fafafa;
       margin: 0 auto; padding: 16px 24px 40px; max-width: 1240px; line-height: 1.4; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #ddd; }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.lead { color: #555; margin: 0 0 12px; }
p.warning { background: #fff4c2; border: 1px solid #e0c040; padding: 8px 12px; }
nav { font-size: 14px; margin-bottom: 8px; }
nav a { margin-right: 14px; color: #0060a0; }
div.figures { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 4px; }
figure svg { display: block; }
table { border-collapse: collapse; background: #fff; font-size: 13px; margin: 6px 0 12px; }
th, td { border: 1px solid #e2e2e2; padding: 3px 9px; }
th { background: #f0f0f0; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.marked td { background: #fde8d8; font-weight: bold; }
table.facts th { background: none; font-weight: normal; color: #555; }
details { margin: 8px 0; }
summary { cursor: pointer; color: #0060a0; }
div.scroll { overflow-x: auto; }
footer { margin-top: 32px; color: #888; font-size: 12px; }
)";

} // namespace

HtmlPage::HtmlPage(std::string title) : title(std::move(title)) {}

void HtmlPage::lead(const std::string &text) {
  leadHtml += fmt::format("<p class=\"lead\">{}</p>\n", escapeXml(text));
}

void HtmlPage::section(const std::string &heading) {
  std::string id = fmt::format("s{}", contents.size() + 1);
  body += fmt::format("<h2 id=\"{}\">{}</h2>\n", id, escapeXml(heading));
  contents.emplace_back(id, heading);
}

void HtmlPage::subsection(const std::string &heading) {
  body += fmt::format("<h3>{}</h3>\n", escapeXml(heading));
}

void HtmlPage::paragraph(const std::string &text) {
  body += fmt::format("<p>{}</p>\n", escapeXml(text));
}

void HtmlPage::warning(const std::string &text) {
  body += fmt::format("<p class=\"warning\">{}</p>\n", escapeXml(text));
}

void HtmlPage::facts(const std::vector<std::pair<std::string, std::string>> &facts) {
  body += "<table class=\"facts\">\n";
  for (const auto &[name, value] : facts)
    body += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escapeXml(name), escapeXml(value));
  body += "</table>\n";
}

void HtmlPage::table(const HtmlTable &t) {
  body += "<div class=\"scroll\"><table>\n<tr>";
  for (const std::string &cell : t.header)
    body += fmt::format("<th>{}</th>", escapeXml(cell));
  body += "</tr>\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    bool marked = std::find(t.highlighted.begin(), t.highlighted.end(), r) != t.highlighted.end();
    body += marked ? "<tr class=\"marked\">" : "<tr>";
    for (size_t c = 0; c < t.rows[r].size(); ++c)
      body += fmt::format("<td{}>{}</td>", c < t.textColumns ? "" : " class=\"n\"",
                          escapeXml(t.rows[r][c]));
    body += "</tr>\n";
  }
  body += "</table></div>\n";
}

void HtmlPage::beginFigures() { body += "<div class=\"figures\">\n"; }

void HtmlPage::endFigures() { body += "</div>\n"; }

void HtmlPage::figure(const std::string &svg) {
  ++figureCount;
  body += fmt::format("<figure id=\"plot{}\">{}</figure>\n", figureCount, svg);
}

void HtmlPage::beginFolded(const std::string &summary) {
  body += fmt::format("<details><summary>{}</summary>\n", escapeXml(summary));
}

void HtmlPage::endFolded() { body += "</details>\n"; }

std::string HtmlPage::html() const {
  std::string nav;
  for (const auto &[id, heading] : contents)
    nav += fmt::format("<a href=\"#{}\">{}</a>", id, escapeXml(heading));
  return fmt::format("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                     "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n<h1>{0}</h1>\n"
                     "{2}<nav>{3}</nav>\n{4}<footer>Written by mtlc {5} (mtlc report).</footer>\n"
                     "</body>\n</html>\n",
                     escapeXml(title), kStyle, leadHtml, nav, body, runtimeVersion());
}

} // namespace mtlrt::report
