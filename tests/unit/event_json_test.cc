#include "store/event_json.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil {
namespace {

// One event of every kind, each with the fields that apply to it; times are
// whole milliseconds so they survive the 1e-3 rounding unchanged.
std::vector<Event> one_of_each_kind() {
  const auto base = [](EventKind k, std::int64_t track_id = -1, int class_id = -1, const char* class_name = "") {
    Event e;
    e.kind = k;
    e.stream = "cam-1";
    e.pts = 12.345;
    e.wall_time = 1712345678.125;
    e.track_id = track_id;
    e.class_id = class_id;
    e.class_name = class_name;
    return e;
  };
  std::vector<Event> out;
  out.push_back(base(EventKind::kTrackNew, 7, 0, "person"));
  out.push_back(base(EventKind::kTrackLost, 7, 0, "person"));
  Event e = base(EventKind::kZoneEnter, 8, 2, "car");
  e.zone = "driveway";
  out.push_back(e);
  e = base(EventKind::kZoneExit, 8, 2, "car");
  e.zone = "driveway";
  e.dwell_s = 4.5;
  out.push_back(e);
  e = base(EventKind::kDwell, 9, 0, "person");
  e.zone = "door";
  e.dwell_s = 30.001;
  out.push_back(e);
  e = base(EventKind::kLineCross, 10, 1, "bicycle");
  e.line = "gate";
  e.direction = "in";
  out.push_back(e);
  out.push_back(base(EventKind::kStreamUp));
  e = base(EventKind::kStreamDown);
  e.text = "connection refused";
  out.push_back(e);
  e = base(EventKind::kCaption);
  e.text = "Two people talk near a \"red\" car.\nÜnïcödé too.";
  out.push_back(e);
  return out;
}

void expect_same(const Event& a, const Event& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_DOUBLE_EQ(a.pts, b.pts);
  EXPECT_DOUBLE_EQ(a.wall_time, b.wall_time);
  EXPECT_EQ(a.track_id, b.track_id);
  EXPECT_EQ(a.class_id, b.class_id);
  EXPECT_EQ(a.class_name, b.class_name);
  EXPECT_EQ(a.zone, b.zone);
  EXPECT_EQ(a.line, b.line);
  EXPECT_EQ(a.direction, b.direction);
  EXPECT_DOUBLE_EQ(a.dwell_s, b.dwell_s);
  EXPECT_EQ(a.text, b.text);
}

TEST(EventJson, EveryKindRoundTripsThroughText) {
  const auto events = one_of_each_kind();
  ASSERT_EQ(events.size(), 9U);
  for (const Event& e : events) {
    SCOPED_TRACE(to_string(e.kind));
    const std::string text = to_json(e).dump();
    const auto back = event_from_json(nlohmann::json::parse(text));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    expect_same(*back, e);
    EXPECT_EQ(to_json(*back).dump(), text);
  }
}

TEST(EventJson, FieldsAppearOnlyWhereTheyApply) {
  Event up;
  up.kind = EventKind::kStreamUp;
  up.stream = "s";
  const auto j = to_json(up);
  EXPECT_EQ(j.dump(), R"({"kind":"stream_up","pts":0.0,"stream":"s","wall_time":0.0})");

  const auto events = one_of_each_kind();
  const auto& enter = to_json(events[2]);
  EXPECT_EQ(enter.at("zone"), "driveway");
  EXPECT_EQ(enter.at("class"), "car");
  EXPECT_EQ(enter.at("class_id"), 2);
  EXPECT_EQ(enter.at("track_id"), 8);
  EXPECT_FALSE(enter.contains("dwell_s"));
  EXPECT_FALSE(enter.contains("line"));
  EXPECT_FALSE(enter.contains("text"));
  EXPECT_DOUBLE_EQ(to_json(events[3]).at("dwell_s").get<double>(), 4.5);
  const auto cross = to_json(events[5]);
  EXPECT_EQ(cross.at("line"), "gate");
  EXPECT_EQ(cross.at("direction"), "in");
  EXPECT_FALSE(cross.contains("zone"));
  EXPECT_EQ(to_json(events[7]).at("text"), "connection refused");
}

TEST(EventJson, KeyOrderIsDeterministic) {
  const auto e = one_of_each_kind()[3];
  EXPECT_EQ(to_json(e).dump(),
            R"({"class":"car","class_id":2,"dwell_s":4.5,"kind":"zone_exit","pts":12.345,)"
            R"("stream":"cam-1","track_id":8,"wall_time":1712345678.125,"zone":"driveway"})");
}

TEST(EventJson, TimesAreRoundedToMilliseconds) {
  Event e;
  e.kind = EventKind::kDwell;
  e.pts = 1.23456;
  e.wall_time = 1712345678.12345;
  e.dwell_s = 2.0004;
  const auto j = to_json(e);
  EXPECT_DOUBLE_EQ(j.at("pts").get<double>(), 1.235);
  EXPECT_DOUBLE_EQ(j.at("wall_time").get<double>(), 1712345678.123);
  EXPECT_DOUBLE_EQ(j.at("dwell_s").get<double>(), 2.0);
  EXPECT_EQ(j.at("wall_time").dump(), "1712345678.123");
}

TEST(EventJson, IdAppearsWhenSetAndRoundTrips) {
  Event e;
  e.kind = EventKind::kZoneEnter;
  e.stream = "cam1";
  e.zone = "door";
  EXPECT_FALSE(to_json(e).contains("id")) << "no id: no key (vigil analyze's events)";
  e.id = "cam1-42";
  const auto j = to_json(e);
  EXPECT_EQ(j.at("id"), "cam1-42");
  const auto back = event_from_json(j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->id, "cam1-42");
}

TEST(EventJson, UnknownKeysAreIgnored) {
  const auto j = nlohmann::json::parse(R"({"kind":"stream_up","stream":"a","pts":1,"wall_time":2,"future":[1]})");
  const auto e = event_from_json(j);
  ASSERT_TRUE(e.has_value()) << e.error().message;
  EXPECT_EQ(e->kind, EventKind::kStreamUp);
  EXPECT_DOUBLE_EQ(e->pts, 1.0);
  EXPECT_DOUBLE_EQ(e->wall_time, 2.0);
  EXPECT_EQ(e->track_id, -1);
  EXPECT_EQ(e->class_id, -1);
}

TEST(EventJson, BadInputNamesTheField) {
  struct Case {
    const char* json;
    const char* expect_in_message;
  };
  const Case cases[] = {
      {R"([1,2])", "expected an object"},
      {R"({"stream":"a","pts":1,"wall_time":2})", "'kind' is missing"},
      {R"({"kind":"explosion","stream":"a","pts":1,"wall_time":2})", "unknown kind 'explosion'"},
      {R"({"kind":"dwell","stream":5,"pts":1,"wall_time":2})", "'stream' must be a string"},
      {R"({"kind":"dwell","stream":"a","pts":"1","wall_time":2})", "'pts' must be a number"},
      {R"({"kind":"dwell","stream":"a","pts":1})", "'wall_time' is missing"},
      {R"({"kind":"dwell","stream":"a","pts":1,"wall_time":2,"track_id":1.5})", "'track_id' must be an integer"},
      {R"({"kind":"dwell","stream":"a","pts":1,"wall_time":2,"class_id":99999999999})", "'class_id' is out of range"},
      {R"({"kind":"dwell","stream":"a","pts":1,"wall_time":2,"zone":null})", "'zone' must be a string"},
      {R"({"kind":"dwell","stream":"a","pts":1,"wall_time":2,"id":7})", "'id' must be a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const auto r = event_from_json(nlohmann::json::parse(c.json));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kBadInput);
    EXPECT_NE(r.error().message.find(c.expect_in_message), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace vigil
