// match_detections: the agreement figures of `vigil bench agreement` and of
// the model-variant tests (rectangular input, INT8 vs fp32).
#include "models/detection_match.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

Detection det(float x1, float y1, float x2, float y2, int cls, float score) { return {Box{x1, y1, x2, y2}, cls, score}; }

TEST(DetectionMatch, IdenticalAnswersAgreeFully) {
  const std::vector<Detection> a = {det(0, 0, 10, 10, 0, 0.9F), det(20, 20, 40, 40, 1, 0.8F)};
  const MatchCounts m = match_detections(a, a);
  EXPECT_EQ(m.matched, 2);
  EXPECT_DOUBLE_EQ(m.recall(), 1.0);
  EXPECT_DOUBLE_EQ(m.precision(), 1.0);
}

TEST(DetectionMatch, ClassAndOverlapMustBothAgree) {
  const std::vector<Detection> ref = {det(0, 0, 10, 10, 0, 0.9F), det(100, 100, 110, 110, 0, 0.9F)};
  // Same place, other class; and the right class 60% shifted (IoU 0.25).
  const std::vector<Detection> cand = {det(0, 0, 10, 10, 1, 0.9F), det(106, 100, 116, 110, 0, 0.9F)};
  const MatchCounts m = match_detections(ref, cand);
  EXPECT_EQ(m.matched, 0);
  EXPECT_DOUBLE_EQ(m.recall(), 0.0);
  EXPECT_DOUBLE_EQ(m.precision(), 0.0);
}

TEST(DetectionMatch, OneReferenceMatchesOneCandidate) {
  // Two candidates on one object: the higher-scoring one matches, the other is a false positive.
  const std::vector<Detection> ref = {det(0, 0, 10, 10, 0, 0.9F)};
  const std::vector<Detection> cand = {det(1, 0, 11, 10, 0, 0.5F), det(0, 0, 10, 10, 0, 0.7F)};
  const MatchCounts m = match_detections(ref, cand);
  EXPECT_EQ(m.matched, 1);
  EXPECT_DOUBLE_EQ(m.recall(), 1.0);
  EXPECT_DOUBLE_EQ(m.precision(), 0.5);
}

TEST(DetectionMatch, ScoresBelowTheThresholdAreIgnoredOnBothSides) {
  const std::vector<Detection> ref = {det(0, 0, 10, 10, 0, 0.9F), det(50, 50, 60, 60, 0, 0.2F)};
  const std::vector<Detection> cand = {det(0, 0, 10, 10, 0, 0.8F), det(80, 80, 90, 90, 0, 0.3F)};
  const MatchCounts m = match_detections(ref, cand, 0.5F, 0.35F);
  EXPECT_EQ(m.reference, 1);
  EXPECT_EQ(m.candidate, 1);
  EXPECT_EQ(m.matched, 1);
}

TEST(DetectionMatch, NothingToFindCountsAsFullAgreementAndSumsAdd) {
  MatchCounts total = match_detections({}, {});
  EXPECT_DOUBLE_EQ(total.recall(), 1.0);
  EXPECT_DOUBLE_EQ(total.precision(), 1.0);
  total += match_detections({det(0, 0, 10, 10, 0, 0.9F)}, {});
  EXPECT_EQ(total.reference, 1);
  EXPECT_DOUBLE_EQ(total.recall(), 0.0);
}

}  // namespace
}  // namespace vigil
