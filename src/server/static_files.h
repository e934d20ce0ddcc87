// Static files of the dashboard (GET /, GET /static/<path> and the sign-in
// page GET /login = login.html): where the web root is, which file a
// request path names, its Content-Type, and the file as a response.
// Functions over the file system; no sockets, no threads; safe from any thread.
#pragma once

#include <string>

#include "core/error.h"
#include "server/api_response.h"

namespace vigil {

// The web root to serve: `configured` when non-empty (it must be a
// directory), else the first existing directory of
// `<directory of /proc/self/exe>/../web` and `VIGIL_SOURCE_DIR "/web"`.
// Empty when none exists (static routes then answer 404).
std::string resolve_web_dir(const std::string& configured);

// The file that `relative` (already %-decoded, e.g. "js/app.js") names
// inside `web_root` (a canonical directory). kInvalidArgument for a path
// with a ".." or empty segment, a backslash, a NUL or a leading '/'
// (-> 400); kNotFound when the file does not exist, is not a regular file,
// or resolves (symlinks followed) outside the web root (-> 404).
Result<std::string> resolve_static_path(const std::string& web_root, const std::string& relative);

// Content-Type by extension: html, js, mjs, css, svg, png, jpg, ico, json,
// map, txt, woff2; anything else application/octet-stream.
std::string static_content_type(const std::string& path);

// The Content-Security-Policy of every HTML page served from the web root:
// code, styles, pictures and connections from this server only; no page
// may frame it.
extern const char* const kDashboardCsp;

// The file `relative` names in `web_root` as a 200 response with its
// Content-Type (HTML with kDashboardCsp); errors as resolve_static_path
// (400, 404), and 404 for a file that cannot be read.
ApiResponse static_file_response(const std::string& web_root, const std::string& relative);

// `html` with `<base href="/static/">` as the first element of its <head>,
// so a page served at "/" finds its relative assets under /static/ before
// the parser (or a browser's preload scanner) requests any of them; `html`
// unchanged when it has no <head> or already has a <base>.
std::string with_static_base(std::string html);

}  // namespace vigil
