#include "config/config_table.h"

#include <cctype>
#include <charconv>
#include <sstream>

namespace vigil {

const char* to_string(FieldType t) {
  switch (t) {
    case FieldType::kBool: return "bool";
    case FieldType::kInteger: return "integer";
    case FieldType::kNumber: return "number";
    case FieldType::kString: return "string";
    case FieldType::kChoice: return "choice";
    case FieldType::kNames: return "names";
    case FieldType::kPoint: return "point";
    case FieldType::kPoints: return "points";
    case FieldType::kSection: return "section";
    case FieldType::kList: return "list";
  }
  return "?";
}

// ---- Range ---------------------------------------------------------------------

bool Range::contains(double v) const {
  if (zero_off && v == 0) return true;
  const bool low = min_open ? v > min : v >= min;
  const bool high = max_open ? v < max : v <= max;
  return low && high;  // NaN: false
}

namespace {

// Whole numbers as integers ("100000", not "1e+05"): bounds are written by people.
std::string num(double v) {
  constexpr double kExactInteger = 1e15;  // whole doubles below this print exactly as integers
  if (v == std::floor(v) && std::fabs(v) < kExactInteger) return std::to_string(static_cast<long long>(v));
  return shortest_number(v);
}

// The interval alone: "1..1000" / "between 1 and 1000", "(0, 1]", ">= 0".
std::string interval(const Range& r, bool integral, bool prose) {
  const bool has_min = std::isfinite(r.min), has_max = std::isfinite(r.max);
  if (has_min && has_max) {
    if (integral || (!r.min_open && !r.max_open && !prose)) {
      const double lo = r.min_open ? r.min + 1 : r.min, hi = r.max_open ? r.max - 1 : r.max;
      return prose ? "between " + num(lo) + " and " + num(hi) : num(lo) + ".." + num(hi);
    }
    return std::string(prose ? "in " : "") + (r.min_open ? "(" : "[") + num(r.min) + ", " + num(r.max) +
           (r.max_open ? ")" : "]");
  }
  if (has_min) return (r.min_open ? "> " : ">= ") + num(r.min);
  if (has_max) return (r.max_open ? "< " : "<= ") + num(r.max);
  return "";
}

}  // namespace

std::string Range::text(bool integral) const {
  const std::string i = interval(*this, integral, false);
  return zero_off ? "0 or " + i : i;
}

std::string Range::message(bool integral) const {
  return "must be " + interval(*this, integral, true) + (zero_off ? ", or 0 for off" : "");
}

// ---- scalars -------------------------------------------------------------------

namespace {

// yaml-cpp's spellings: lower case, Capitalised or UPPER CASE.
bool flexible_case_is(const std::string& s, const char* word) {
  std::string lower, cap, upper;
  for (const char* c = word; *c; ++c) {
    lower += *c;
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
  }
  cap = lower;
  if (!cap.empty()) cap[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(cap[0])));
  return s == lower || s == cap || s == upper;
}

}  // namespace

std::optional<bool> node_bool(const ConfigNode& n) {
  if (n.kind == ConfigNode::Kind::kBool) return n.boolean;
  if (n.kind != ConfigNode::Kind::kText) return std::nullopt;
  for (const char* t : {"true", "yes", "on", "y"})
    if (flexible_case_is(n.text, t)) return true;
  for (const char* f : {"false", "no", "off", "n"})
    if (flexible_case_is(n.text, f)) return false;
  return std::nullopt;
}

std::optional<std::int64_t> node_integer(const ConfigNode& n) {
  if (n.kind == ConfigNode::Kind::kInteger) return n.integer;
  if (n.kind != ConfigNode::Kind::kText) return std::nullopt;
  std::string_view s = n.text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> node_number(const ConfigNode& n) {
  if (n.kind == ConfigNode::Kind::kInteger) return static_cast<double>(n.integer);
  if (n.kind == ConfigNode::Kind::kNumber) return std::isfinite(n.number) ? std::optional<double>(n.number) : std::nullopt;
  if (n.kind != ConfigNode::Kind::kText) return std::nullopt;
  std::string_view s = n.text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::string> node_string(const ConfigNode& n) {
  if (n.kind == ConfigNode::Kind::kText || n.kind == ConfigNode::Kind::kString) return n.text;
  return std::nullopt;
}

std::string shortest_number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string shortest_number(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string default_text_of(const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Kind::kBool: return n.boolean ? "true" : "false";
    case ConfigNode::Kind::kInteger: return std::to_string(n.integer);
    case ConfigNode::Kind::kNumber: return n.text.empty() ? shortest_number(n.number) : n.text;
    case ConfigNode::Kind::kString:
    case ConfigNode::Kind::kText: return n.text.empty() ? "(none)" : n.text;
    case ConfigNode::Kind::kList: {
      std::string s;
      for (const auto& item : n.items) s += (s.empty() ? "" : ", ") + default_text_of(item);
      return "[" + s + "]";
    }
    case ConfigNode::Kind::kMap: return "(see keys)";
    case ConfigNode::Kind::kNull: return "(none)";
  }
  return "";
}

void issue_expected(const ConfigNode& n, const std::string& path, const std::string& what, ConfigIssues& issues) {
  issues.add(path, "expected " + what + ", got " + n.describe(), n.mark);
}

void read_names(const ConfigNode& n, std::vector<std::string>& out, const std::string& path, ConfigIssues& issues) {
  if (auto text = node_string(n)) {  // "person,car" is accepted too
    out.clear();
    std::istringstream is(*text);
    std::string item;
    while (std::getline(is, item, ','))
      if (auto b = item.find_first_not_of(' '); b != std::string::npos)
        out.push_back(item.substr(b, item.find_last_not_of(' ') - b + 1));
    return;
  }
  if (n.kind != ConfigNode::Kind::kList) return issue_expected(n, path, "a list of names", issues);
  out.clear();
  for (std::size_t i = 0; i < n.items.size(); ++i) {
    if (auto s = node_string(n.items[i])) out.push_back(std::move(*s));
    else issue_expected(n.items[i], index_path(path, i), "a name", issues);
  }
}

std::optional<PointF> read_point(const ConfigNode& n, const std::string& path, ConfigIssues& issues) {
  if (n.kind != ConfigNode::Kind::kList || n.items.size() != 2) {
    issue_expected(n, path, "a point [x, y]", issues);
    return std::nullopt;
  }
  const auto x = node_number(n.items[0]), y = node_number(n.items[1]);
  if (!x || !y) {
    issues.add(path, "point coordinates must be numbers", n.mark);
    return std::nullopt;
  }
  return PointF{static_cast<float>(*x), static_cast<float>(*y)};
}

ConfigNode write_point(PointF p) {
  ConfigNode l = ConfigNode::list();
  l.items.push_back(ConfigNode::of_number(p.x, shortest_number(p.x)));
  l.items.push_back(ConfigNode::of_number(p.y, shortest_number(p.y)));
  return l;
}

}  // namespace vigil
