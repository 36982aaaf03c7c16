"""Bureau alerts (issue 6): weather warnings, pest alerts, market information and notices.

`model` (the domain), `texts` (templates and budgets), `targeting` (regions, scope, crops),
`costs` (preview and cost), `budgets` (each county's month, holds for an admin),
`service` (create, preview, confirm, approve, cancel, monitor),
`fanout` (due alerts into the outbox, in SQL), `scheduler` (APScheduler jobs), `warnings` and
`qweather` (official warning feeds), `intake` (warnings into alerts), `forecast` and `digest`
(next-day forecasts), `pests` (the pest calendar), `forms` (staff input and JSON views, shared
by the CLI and the API), `system` (all of it wired for the Runtime).
Import the submodules directly; this package imports nothing, so the store may use `model`.
"""
