// imports_test.cpp: import resolution relative to the importing file, missing files and cycles.
#include "frontend/Imports.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace mtl {
namespace {

namespace fs = std::filesystem;

// A scratch directory of .mtl files, removed when the test ends.
class ImportsTest : public testing::Test {
protected:
  void SetUp() override {
    const auto *info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("mtl_imports_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string &relative, const std::string &text) {
    fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  std::vector<std::string> names(const std::vector<ast::File> &files) const {
    std::vector<std::string> out;
    for (const ast::File &f : files)
      out.push_back(fs::path(sources_.name(f.fileId)).lexically_relative(dir_).string());
    return out;
  }

  fs::path dir_;
  SourceManager sources_;
  DiagnosticEngine diags_{sources_};
};

TEST_F(ImportsTest, PathsAreRelativeToTheImportingFile) {
  std::string main = write("main.mtl", "import \"lib/blocks.mtl\"\nmodel m {}\n");
  write("lib/blocks.mtl", "import \"../common.mtl\"\nblock a { dense(1) }\n");
  write("common.mtl", "block c { relu }\n");
  std::vector<ast::File> files = loadWithImports(main, sources_, diags_);
  EXPECT_EQ(diags_.errorCount(), 0u) << diags_.render(false);
  EXPECT_EQ(names(files), (std::vector<std::string>{"main.mtl", "lib/blocks.mtl", "common.mtl"}));
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(std::get<ast::BlockDecl>(files[2].items.at(0)).name.text, "c");
}

TEST_F(ImportsTest, SharedImportIsLoadedOnce) {
  std::string main = write("main.mtl", "import \"a.mtl\"\nimport \"b.mtl\"\n");
  write("a.mtl", "import \"common.mtl\"\n");
  write("b.mtl", "import \"./common.mtl\"\n");
  write("common.mtl", "block c { relu }\n");
  std::vector<ast::File> files = loadWithImports(main, sources_, diags_);
  EXPECT_EQ(diags_.errorCount(), 0u) << diags_.render(false);
  EXPECT_EQ(names(files), (std::vector<std::string>{"main.mtl", "a.mtl", "common.mtl", "b.mtl"}));
}

TEST_F(ImportsTest, MissingFileIsReportedAtTheImport) {
  std::string main = write("main.mtl", "\nimport \"nope.mtl\"\nmodel m {}\n");
  std::vector<ast::File> files = loadWithImports(main, sources_, diags_);
  EXPECT_EQ(files.size(), 1u);
  ASSERT_EQ(diags_.errorCount(), 1u);
  const Diagnostic &d = diags_.diagnostics().at(0);
  EXPECT_EQ(d.loc.line, 2);
  EXPECT_EQ(d.loc.col, 1);
  EXPECT_EQ(d.message,
            "cannot read '" + (dir_ / "nope.mtl").string() + "': No such file or directory");
}

TEST_F(ImportsTest, MissingMainFile) {
  std::vector<ast::File> files = loadWithImports((dir_ / "absent.mtl").string(), sources_, diags_);
  EXPECT_TRUE(files.empty());
  ASSERT_EQ(diags_.errorCount(), 1u);
  EXPECT_NE(diags_.render(false).find("cannot read"), std::string::npos);
}

TEST_F(ImportsTest, CycleIsReportedWhereItCloses) {
  std::string a = write("a.mtl", "import \"b.mtl\"\nblock a { relu }\n");
  write("b.mtl", "// b imports a back\nimport \"a.mtl\"\n");
  std::vector<ast::File> files = loadWithImports(a, sources_, diags_);
  EXPECT_EQ(files.size(), 2u);
  ASSERT_EQ(diags_.errorCount(), 1u);
  const Diagnostic &d = diags_.diagnostics().at(0);
  EXPECT_EQ(fs::path(sources_.name(d.loc.file)).filename(), "b.mtl");
  EXPECT_EQ(d.loc.line, 2);
  EXPECT_EQ(d.message, "import cycle: 'a.mtl' imports itself, directly or through other files");
}

TEST_F(ImportsTest, SelfImportIsACycle) {
  std::string a = write("a.mtl", "import \"a.mtl\"\n");
  loadWithImports(a, sources_, diags_);
  EXPECT_EQ(diags_.errorCount(), 1u);
  EXPECT_NE(diags_.render(false).find("import cycle"), std::string::npos);
}

TEST_F(ImportsTest, SyntaxErrorInImportedFileIsReportedInThatFile) {
  std::string main = write("main.mtl", "import \"broken.mtl\"\nmodel m {}\n");
  // The missing '}' loses nothing: the file is kept, and can be checked.
  write("broken.mtl", "block b { relu \n");
  bool whole = false;
  std::vector<ast::File> files = loadWithImports(main, sources_, diags_, &whole);
  EXPECT_EQ(files.size(), 2u);
  EXPECT_TRUE(whole);
  ASSERT_EQ(diags_.errorCount(), 1u);
  EXPECT_EQ(fs::path(sources_.name(diags_.diagnostics()[0].loc.file)).filename(), "broken.mtl");
}

TEST_F(ImportsTest, ImportedFileThatLostTopLevelTextIsNotWhole) {
  std::string main = write("main.mtl", "import \"broken.mtl\"\nmodel m {}\n");
  write("broken.mtl", "blk b { relu }\n");
  bool whole = true;
  std::vector<ast::File> files = loadWithImports(main, sources_, diags_, &whole);
  EXPECT_EQ(files.size(), 1u);
  EXPECT_FALSE(whole);
  EXPECT_EQ(diags_.errorCount(), 1u) << diags_.render(false);
}

TEST_F(ImportsTest, BufferImportsResolveAgainstBaseDir) {
  write("lib.mtl", "block c { relu }\n");
  std::vector<ast::File> files = loadBufferWithImports("<repl>", "import \"lib.mtl\"\nmodel m {}\n",
                                                       dir_.string(), sources_, diags_);
  EXPECT_EQ(diags_.errorCount(), 0u) << diags_.render(false);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(sources_.name(files[0].fileId), "<repl>");
}

TEST_F(ImportsTest, DirectoryIsNotAFile) {
  fs::create_directories(dir_ / "sub.mtl");
  std::string main = write("main.mtl", "import \"sub.mtl\"\n");
  loadWithImports(main, sources_, diags_);
  ASSERT_EQ(diags_.errorCount(), 1u);
  EXPECT_NE(diags_.diagnostics()[0].message.find("is a directory"), std::string::npos);
}

// A file that never ends is read up to a bound, then refused at the import.
TEST_F(ImportsTest, AnEndlessFileIsAnError) {
  std::string main = write("main.mtl", "import \"/dev/zero\"\n");
  loadWithImports(main, sources_, diags_);
  ASSERT_EQ(diags_.errorCount(), 1u);
  EXPECT_EQ(diags_.diagnostics()[0].message,
            "cannot read '/dev/zero': is larger than 16 MB, more than a model file can be");
}

} // namespace
} // namespace mtl
