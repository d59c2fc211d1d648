"""The AUTOMATIC1111 / Forge adapter: the host built from the WebUI's modules, its settings
section, progress and the extension's registration; the only package scripts/ calls."""
