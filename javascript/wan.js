// Client-side helpers of the WAN tab. The tab itself is not registered yet (see scripts/wan_deforum.py).
