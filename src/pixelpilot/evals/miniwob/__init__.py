"""MiniWoB++ (online episodes in Chromium): `benchmark` (samples and scores), `env` (the episode
protocol around BrowserEnv), `run` (episodes through the agent loop), `pages` (finding the task
pages), `server` (an HTTP origin for the flight tasks).

May import: `pixelpilot.agent`, `pixelpilot.env.browser`, `pixelpilot.model` (online benchmark).
"""
