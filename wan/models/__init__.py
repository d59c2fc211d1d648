"""Knowing, finding, checking, fetching and fitting Wan models.

- `catalog`: every known model as data (`catalog.json`): Wan models, the prompt enhancers and
  the depth models of the 3D warp.
- `signature`: what a model folder or checkpoint is, as one comparable value.
- `detect` / `single_file` / `validate`: read configs and safetensors headers (no weights loaded);
  `safetensors_header` parses those headers, `params` counts parameters from a shape, `match`
  names the catalog model a signature is (or is compatible with).
- `single_file_load`: a single-file checkpoint loaded into a pipeline from a base folder.
- `store`: where installed models are, and downloads through huggingface_hub.
- `depth_folder` / `depth_model`: a depth estimator's folder checked, and the one a
  `--depth-model` names found.
- `memory_estimate`: peak VRAM and RAM of one generation, before loading anything; `memory`
  the options it takes and the estimate it gives (units, plain data).
- `optimize` (with `plan_knobs`, `plan_overrides`): the optimisation plan that fits this machine;
  `pipeline_calls` the calls it makes on a pipeline; `apply_plan` makes them (the shell).
- `smoke`: tiny randomly initialised models of every architecture, built locally
  (`smoke_qwen` and `smoke_depth` build the prompt and depth ones).
"""
