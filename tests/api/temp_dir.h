// A fresh directory under the system's temporary directory, removed with all it
// holds when the object goes. A test fixture keeps one as a member and closes
// what lives in it (an Engine) first, in TearDown.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <string>
#include <system_error>

namespace portal::test {

class TempDir {
 public:
  // `prefix` names the directory (prefix-XXXXXX); path() is empty if it could not
  // be created.
  explicit TempDir(const std::string& prefix) {
    std::string templ = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace portal::test
