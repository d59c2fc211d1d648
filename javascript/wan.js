// Client-side code of the WAN tab: none is needed. Polling, progress and every control are
// gradio's own, so the tab works the same in AUTOMATIC1111 (gradio 3.41), Forge (gradio 4) and
// `python -m wan ui`. The WebUI loads every file in javascript/; this one stays empty on purpose.
