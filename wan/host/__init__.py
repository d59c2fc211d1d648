"""The engine's view of where it runs: one small protocol, one adapter per host.

The renderer never asks which host it is in. It asks the Host to free the GPU held by the host's
own model, to hold the host's GPU lock while generating, where outputs and LoRAs live, and it
reports progress to it and reads its interrupt flag. Adapters: `standalone` (no WebUI: the CLI,
`serve`, `ui`), `webui` (AUTOMATIC1111 1.10 and Forge, built from the host's modules by
`scripts/wan_deforum.py` through `webui_extension`). `locks` is the GPU file lock every adapter
holds; `deps`, `host_requirements` and `torch_check` are the install-time and load-time
environment checks; `kornia_compat` and `transformers_compat` keep the WebUI's older packages and
our newer ones working side by side; `torch_settings` gives a render in a WebUI process torch's
settings of its own.
"""
