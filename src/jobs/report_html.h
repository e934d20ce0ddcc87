// report.html for an offline analysis: one self-contained page (inline CSS,
// inline SVG chart, thumbnails as data: URLs; no script, no network).
// Sections: the video and options, totals, counts over time (one line per
// class, the 6 most detected), the busiest moments with thumbnails, totals per
// zone and line, failed time ranges, stitch points and the longest tracks.
// Pure: builds the text from merge_results()' output.
#pragma once

#include <string>

#include "jobs/results_merge.h"

namespace vigil {

std::string render_report_html(const MergedResults& merged);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(const std::string& s);

}  // namespace vigil
