"""`python -m pixelpilot.model.tiny OUT`: build a tiny random-weight Qwen2.5-VL checkpoint.

The builder lives in `pixelpilot.model.qwen.tiny`; this module is the short command name that
the README and the tests use.
"""

from __future__ import annotations

from pixelpilot.model.qwen.tiny import main

if __name__ == "__main__":
    raise SystemExit(main())
