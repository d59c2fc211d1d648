"""Rendering: a GenerationPlan becomes one continuous Wan video in a run folder.

- `options`: RenderOptions, the one definition of what a render can be given (CLI flags, the
  API's `wan` body and the tab come from it); `prompt_syntax`: WebUI prompt syntax to plain text
  and LoRA tags; `sizes`: Deforum's W x H to a size the model supports.
- `frames`: pure image work on uint8 RGB arrays (T, H, W, 3): colour matching in Lab, joins,
  frame-rate resampling with optical flow, camera warps for motion-guided continuation.
- `video`: mp4 writing and reading (imageio-ffmpeg), soundtrack muxing, subtitles, atomic clip
  checkpoints.
- `generate`: one clip through the diffusers pipelines (text, image, VACE known frames,
  video-to-video), LoRAs, the per-step cancel and progress callback.
- `depth`: the 3D warp's depth estimator (load once, a depth map per frame, close) and its
  maps in the convention Deforum's warp reads.
- `runner`: `Runner.run(plan, options, host, cancel, progress)`, the one entry point: loads the
  model once, generates and checkpoints clip by clip, resumes, assembles and saves.
"""
