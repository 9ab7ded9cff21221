// HtmlPage.h: one self-contained HTML page (inline CSS, no scripts) built section by section.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mtlrt::report {

/// A table: header cells, rows of cells (text, escaped when written), and
/// which rows to highlight. The first `textColumns` columns are left-aligned
/// text; the others are numbers, right-aligned in even figures.
struct HtmlTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> highlighted;
  size_t textColumns = 1;
};

/// The page. Every element it writes is closed (void ones as `<meta ... />`)
/// and only the XML entities are used, so an XML parser reads it too.
class HtmlPage {
public:
  /// `title` heads the page and names it in the browser.
  explicit HtmlPage(std::string title);

  /// A line under the title, above the contents (what the page is about, in a few words).
  void lead(const std::string &text);
  /// An <h2> section, listed in the contents at the top of the page.
  void section(const std::string &title);
  /// An <h3> heading within a section.
  void subsection(const std::string &title);
  /// A paragraph of text.
  void paragraph(const std::string &text);
  /// A paragraph in a yellow box: something the reader must not miss.
  void warning(const std::string &text);
  /// Name–value pairs as a compact two-column table.
  void facts(const std::vector<std::pair<std::string, std::string>> &facts);
  void table(const HtmlTable &table);

  /// Figures between these two calls flow side by side, as wide as the page allows.
  void beginFigures();
  void endFigures();
  /// One plot: an <svg> element (Plot.h) in a <figure>, numbered in order.
  void figure(const std::string &svg);

  /// A part shown folded, opened by clicking `summary` (<details>).
  void beginFolded(const std::string &summary);
  void endFolded();

  /// The whole document.
  std::string html() const;

private:
  std::string title, leadHtml, body;
  std::vector<std::pair<std::string, std::string>> contents; ///< section id, title
  int figureCount = 0;
};

} // namespace mtlrt::report
