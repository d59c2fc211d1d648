"""The engine's view of where it runs: one small protocol, one adapter per host.

The renderer never asks which host it is in. It asks the Host to free the GPU held by the host's
own model, to hold the host's GPU lock while generating, where outputs and LoRAs live, and it
reports progress to it and reads its interrupt flag. `standalone` is the adapter without a
WebUI; the AUTOMATIC1111 and Forge adapters live beside it.
"""
