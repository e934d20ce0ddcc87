// The pure parts of live capture: the burst gate (LiveRateGate) and the
// watchdog settings a capture opens its source with.
#include <gtest/gtest.h>

#include "pipeline/live_rate_gate.h"
#include "pipeline/stream_capture.h"

namespace vigil {
namespace {

// Frames at `fps` of media time arriving at `arrival_fps` of wall time; how many pass.
int admitted(LiveRateGate& gate, double& now, double& pts, int n, double fps, double arrival_fps) {
  int passed = 0;
  for (int i = 0; i < n; ++i) {
    passed += gate.admit(now, pts) ? 1 : 0;
    now += 1.0 / arrival_fps;
    pts += 1.0 / fps;
  }
  return passed;
}

TEST(LiveRateGate, AStreamAtItsOwnRateLosesNothing) {
  LiveRateGate gate(25);
  double now = 100, pts = 0;
  EXPECT_EQ(admitted(gate, now, pts, 1000, 25, 25), 1000);
}

TEST(LiveRateGate, AClockThatRunsSlightlyFastIsNotThinned) {
  LiveRateGate gate(25);
  double now = 100, pts = 0;
  EXPECT_EQ(admitted(gate, now, pts, 5000, 25, 25 * 1.02), 5000);
}

TEST(LiveRateGate, TheFirstFramesAfterTheStartComeAtTheSourceRate) {
  LiveRateGate gate(25);
  double now = 100, pts = 0;
  // A server that sends its first second at once (GStreamer's preroll does).
  EXPECT_EQ(admitted(gate, now, pts, 25, 25, 1000), 1);
}

TEST(LiveRateGate, ASlowCameraLosesNothing) {
  LiveRateGate gate(0);  // rate unknown
  double now = 100, pts = 0;
  EXPECT_EQ(admitted(gate, now, pts, 50, 1, 1), 50);
}

TEST(LiveRateGate, JitterWithinABurstOfAFewFramesPasses) {
  LiveRateGate gate(25);
  double now = 100, pts = 0;
  admitted(gate, now, pts, 100, 25, 25);
  // Three frames late by two frame times, then all at once.
  int passed = 0;
  now += 2 * 0.04;
  for (int i = 0; i < 3; ++i, pts += 0.04) passed += gate.admit(now, pts) ? 1 : 0;
  EXPECT_EQ(passed, 3);
}

TEST(LiveRateGate, ABacklogAfterAStallPassesAtTheSourceRateAtMost) {
  LiveRateGate gate(25);
  double now = 100, pts = 0;
  admitted(gate, now, pts, 250, 25, 25);
  // 20 s stall, then the 500 frames it held arrive at 200 fps (2.5 s).
  now += 20;
  double t0 = now;
  int first = 0;  // in the first 200 ms: no burst at all after the stall
  while (now < t0 + 0.2) first += admitted(gate, now, pts, 1, 25, 200);
  EXPECT_LE(first, 1 + 0.2 * 25 * LiveRateGate::kHeadroom + 1e-9);
  const int passed = first + admitted(gate, now, pts, 460, 25, 200);
  EXPECT_LE(passed, 1 + 2.5 * 25 * LiveRateGate::kHeadroom + 1);
  EXPECT_GE(passed, 2.5 * 25 * 0.9) << "the gate thins a burst, it does not freeze the picture";
  // Then real time again: nothing lost.
  now += 1.0 / 25;
  EXPECT_EQ(admitted(gate, now, pts, 100, 25, 25), 100);
}

TEST(LiveRateGate, TheRateComesFromThePtsWhenTheNominalRateIsWrong) {
  LiveRateGate gate(10);  // says 10 fps, sends 30
  double now = 100, pts = 0;
  admitted(gate, now, pts, 30, 30, 30);
  EXPECT_NEAR(gate.frame_duration_s(), 1.0 / 30, 1e-6);
  EXPECT_EQ(admitted(gate, now, pts, 300, 30, 30), 300);
  // And pts jumps (a reconnect, a loop) do not teach it anything.
  EXPECT_TRUE(gate.admit(now, pts + 50));
  EXPECT_NEAR(gate.frame_duration_s(), 1.0 / 30, 1e-6);
}

TEST(CaptureSourceOptions, LiveSourcesGetTheFrameWatchdogByDefault) {
  CaptureOptions c;
  c.source.url = "rtsp://127.0.0.1:8554/cam";
  const auto so = capture_source_options(c);
  EXPECT_EQ(c.watchdog_s, 10);
  EXPECT_EQ(so.frame_timeout_ms, 10000) << "default watchdog_s is 10 s";
  EXPECT_EQ(so.timeout_ms, 10000);
  c.source.url = "http://127.0.0.1/live.ts";
  c.watchdog_s = 3;
  EXPECT_EQ(capture_source_options(c).frame_timeout_ms, 3000);
  EXPECT_EQ(capture_source_options(c).timeout_ms, 3000) << "I/O waits are capped at the watchdog too";
}

TEST(CaptureSourceOptions, FilesHaveNoFrameWatchdog) {
  CaptureOptions c;
  c.source.url = "/videos/cam.mp4";
  EXPECT_EQ(capture_source_options(c).frame_timeout_ms, 0);
}

}  // namespace
}  // namespace vigil
