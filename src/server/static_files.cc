#include "server/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>

namespace vigil {
namespace {

namespace fs = std::filesystem;

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

std::string canonical_dir(const fs::path& p) {
  std::error_code ec;
  const fs::path c = fs::canonical(p, ec);
  return ec ? std::string() : c.string();
}

}  // namespace

std::string resolve_web_dir(const std::string& configured) {
  if (!configured.empty()) return is_dir(configured) ? canonical_dir(configured) : std::string();
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = exe.parent_path() / ".." / "web";
    if (is_dir(beside)) return canonical_dir(beside);
  }
  const fs::path source = fs::path(VIGIL_SOURCE_DIR) / "web";
  if (is_dir(source)) return canonical_dir(source);
  return {};
}

Result<std::string> resolve_static_path(const std::string& web_root, const std::string& relative) {
  const std::string what = "static path '" + relative + "' ";
  if (relative.empty() || relative.front() == '/' || relative.find('\\') != std::string::npos ||
      relative.find('\0') != std::string::npos)
    return fail(ErrorCode::kInvalidArgument, what + "is not a relative path inside the web root");
  std::size_t pos = 0;
  while (pos <= relative.size()) {
    const std::size_t slash = relative.find('/', pos);
    const std::string segment = relative.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (segment.empty() || segment == "..")
      return fail(ErrorCode::kInvalidArgument, what + "has an empty or '..' segment");
    // Dotfiles (.git, .env, .htpasswd...) are never part of the dashboard.
    if (segment.front() == '.') return fail(ErrorCode::kNotFound, what + "does not exist");
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  if (web_root.empty()) return fail(ErrorCode::kNotFound, "no web root: the dashboard files are not installed");
  std::error_code ec;
  const fs::path file = fs::canonical(fs::path(web_root) / relative, ec);
  if (ec) return fail(ErrorCode::kNotFound, what + "does not exist");
  // Prefix check on whole components, after symlinks were followed.
  const fs::path root(web_root);
  auto r = root.begin();
  auto f = file.begin();
  for (; r != root.end(); ++r, ++f)
    if (f == file.end() || *f != *r) return fail(ErrorCode::kNotFound, what + "does not exist");
  if (!fs::is_regular_file(file, ec)) return fail(ErrorCode::kNotFound, what + "does not exist");
  return file.string();
}

std::string static_content_type(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".woff2") return "font/woff2";
  return "application/octet-stream";
}

const char* const kDashboardCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

ApiResponse static_file_response(const std::string& web_root, const std::string& relative) {
  auto file = resolve_static_path(web_root, relative);
  if (!file) return error_response(file.error());
  std::ifstream in(*file, std::ios::binary);
  if (!in) return json_error(404, "static path '" + relative + "' cannot be read");
  std::ostringstream body;
  body << in.rdbuf();
  ApiResponse r;
  r.content_type = static_content_type(*file);
  r.body = body.str();
  if (r.content_type.rfind("text/html", 0) == 0) r.headers.emplace_back("Content-Security-Policy", kDashboardCsp);
  return r;
}

std::string with_static_base(std::string html) {
  if (html.find("<base") != std::string::npos) return html;
  const std::size_t head = html.find("<head>");
  if (head == std::string::npos) return html;
  html.insert(head + std::string_view("<head>").size(), "\n<base href=\"/static/\">");
  return html;
}

}  // namespace vigil
