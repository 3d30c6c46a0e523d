// VideoWriter: H.264 in an MP4 container (plays in browsers) through OpenCV's FFmpeg backend.
//
//   WP_ASSIGN_OR_RETURN(auto video, VideoWriter::Open(path, {.width = 640, .height = 480,
//                                                           .fps = 30}, SceneLimits{}));
//   for (const cv::Mat& frame : frames) WP_RETURN_IF_ERROR(video->Write(frame));
//   WP_RETURN_IF_ERROR(video->Close());
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_VIDEO_WRITER_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_VIDEO_WRITER_H_

#include <cstdint>
#include <filesystem>
#include <memory>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/scene/scene_limits.h"

namespace workerpair::heavy::render {

struct VideoFormat {
  int width = 640;
  int height = 480;
  int fps = 30;
};

// INVALID_ARGUMENT unless width and height are even (H.264 4:2:0), at least 16 and at most the
// limits' max_width x max_height, and 1 <= fps <= max_fps; the message names the value and cap.
absl::Status ValidateVideoFormat(const VideoFormat& format, const SceneLimits& limits);

class VideoWriter {
 public:
  // Opens `path` (.mp4) for H.264 ('avc1', cv::CAP_FFMPEG). INVALID_ARGUMENT for a format
  // outside the limits; UNAVAILABLE when the encoder cannot be opened (no H.264 encoder in
  // this FFmpeg, or the file cannot be created). Error messages name the file, not its folder.
  static absl::StatusOr<std::unique_ptr<VideoWriter>> Open(const std::filesystem::path& path,
                                                           const VideoFormat& format,
                                                           const SceneLimits& limits);
  ~VideoWriter();

  // Appends one frame: BGR 8-bit of exactly the format's size. INVALID_ARGUMENT otherwise;
  // FAILED_PRECONDITION after Close.
  absl::Status Write(const cv::Mat& bgr);
  // Finishes the file. Idempotent.
  absl::Status Close();

  const VideoFormat& format() const { return format_; }
  std::int64_t frames_written() const { return frames_written_; }

 private:
  VideoWriter() = default;
  cv::VideoWriter writer_;
  VideoFormat format_;
  std::int64_t frames_written_ = 0;
  bool closed_ = false;
};

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_VIDEO_WRITER_H_
