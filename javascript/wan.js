// The WAN tab inside the WebUI: keep the Queue tab's job table and machine figures fresh by
// clicking its Refresh button every few seconds while that tab is on screen. A gradio `every=`
// timer would do the same but keeps a connection open per page, and the WebUI's "Reload UI" then
// waits for ever for it to close. `python -m wan ui` has no such reload and uses gradio's timer.
(function () {
    const PERIOD_MS = 3000; // wan/ui/queue.py LIVE_SECONDS
    function root() {
        return typeof gradioApp === "function" ? gradioApp() : document;
    }
    setInterval(function () {
        if (document.hidden) return;
        const button = root().querySelector("#wan_jobs_refresh");
        // offsetParent is null while the button (its tab, or the WAN tab) is hidden
        if (button && button.offsetParent !== null) button.click();
    }, PERIOD_MS);
})();
