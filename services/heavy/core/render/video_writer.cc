#include "services/heavy/core/render/video_writer.h"

#include <exception>
#include <string>

#include "libs/common/str_cat.h"
#include "libs/scene/scene_names.h"

namespace workerpair::heavy::render {

absl::Status ValidateVideoFormat(const VideoFormat& format, const SceneLimits& limits) {
  if (format.width < 16 || format.height < 16 || !scene::IsEvenVideoSize(format.width) ||
      !scene::IsEvenVideoSize(format.height)) {
    return absl::InvalidArgumentError(StrCat("video size ", format.width, "x", format.height,
                                             " must be even and at least 16x16"));
  }
  if (format.width > limits.max_width || format.height > limits.max_height) {
    return absl::InvalidArgumentError(StrCat("video size ", format.width, "x", format.height,
                                             " exceeds the cap ", limits.max_width, "x",
                                             limits.max_height));
  }
  if (format.fps < 1 || format.fps > limits.max_fps) {
    return absl::InvalidArgumentError(
        StrCat("video fps ", format.fps, " is outside 1..", limits.max_fps));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<VideoWriter>> VideoWriter::Open(const std::filesystem::path& path,
                                                               const VideoFormat& format,
                                                               const SceneLimits& limits) {
  if (absl::Status s = ValidateVideoFormat(format, limits); !s.ok()) return s;
  std::unique_ptr<VideoWriter> video(new VideoWriter());
  video->format_ = format;
  const std::string name = path.filename().string();
  try {
    video->writer_.open(path.string(), cv::CAP_FFMPEG, cv::VideoWriter::fourcc('a', 'v', 'c', '1'),
                        static_cast<double>(format.fps), cv::Size(format.width, format.height),
                        /*isColor=*/true);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        StrCat("H.264 encoder (avc1, FFmpeg) failed to open '", name, "': ", e.what()));
  }
  if (!video->writer_.isOpened()) {
    return absl::UnavailableError(StrCat("H.264 encoder (avc1, FFmpeg) could not open '", name,
                                         "' at ", format.width, "x", format.height, " ",
                                         format.fps, " fps"));
  }
  return video;
}

VideoWriter::~VideoWriter() { (void)Close(); }

absl::Status VideoWriter::Write(const cv::Mat& bgr) {
  if (closed_) return absl::FailedPreconditionError("video already closed");
  if (bgr.type() != CV_8UC3 || bgr.cols != format_.width || bgr.rows != format_.height) {
    return absl::InvalidArgumentError(StrCat("frame ", frames_written_, " is ", bgr.cols, "x",
                                             bgr.rows, " type ", bgr.type(), "; expected ",
                                             format_.width, "x", format_.height, " BGR"));
  }
  writer_.write(bgr);
  ++frames_written_;
  return absl::OkStatus();
}

absl::Status VideoWriter::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  writer_.release();
  return absl::OkStatus();
}

}  // namespace workerpair::heavy::render
