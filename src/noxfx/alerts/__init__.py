"""Alerts: rules evaluated on the live feed (:mod:`noxfx.alerts.engine`, pure) and the signed
webhook payloads they send (:mod:`noxfx.alerts.webhooks`)."""
